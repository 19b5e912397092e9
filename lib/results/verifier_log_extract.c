/* verifier_log_extract: libbpf's program-load failures in a scheduler's
 * output (lib/results/verifier_log.h).
 *
 * The output is read line by line.  A "-- BEGIN PROG LOAD LOG --" line
 * opens a log for the program it names; everything up to "-- END PROG
 * LOAD LOG --" is that log.  Logs wait in a pending list until a
 * "failed to load" line names their program: libbpf also prints the log
 * of a program that loaded when asked to (debug output at a raised log
 * level), and such a log never becomes a failure. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "utf8.h"
#include "verifier_log.h"

#define BEGIN_MARK "-- BEGIN PROG LOAD LOG --"
#define END_MARK "-- END PROG LOAD LOG --"
#define FAILED_MARK "': failed to load"

struct pending {
	char *program;
	struct strvec log;
};

struct extract {
	struct pending *pend;		/* logs not yet claimed by a failure */
	size_t npend, apend;
	struct pending *open;		/* the log being read, or NULL */
	struct verifier_failure *v;
	size_t n, alloc;
};

/* The program name of "...prog 'NAME'<tail>..." where the name ends just
 * before tail, as a new string; NULL when the line has no such name. */
static char *prog_name(const char *line, const char *tail)
{
	const char *end = strstr(line, tail), *p, *start = NULL;

	if (!end)
		return NULL;
	/* The last "prog '" before the tail: a scheduler may print its own
	 * prefix (a timestamp, its name) in front of libbpf's. */
	for (p = line; (p = strstr(p, "prog '")) && p < end; p++)
		start = p + strlen("prog '");
	if (!start || start > end)
		return NULL;
	return xstrndup(start, (size_t)(end - start));
}

static void open_log(struct extract *x, char *program)
{
	struct pending *p;

	if (x->npend == x->apend) {
		x->apend = x->apend ? 2 * x->apend : 4;
		x->pend = xrealloc(x->pend, x->apend * sizeof(*x->pend));
	}
	p = &x->pend[x->npend++];
	p->program = program;
	memset(&p->log, 0, sizeof(p->log));
	x->open = p;
}

/* A failure for program, taking the newest pending log of that name. */
static void add_failure(struct extract *x, char *program, const char *error)
{
	struct verifier_failure *f;
	size_t i;

	if (x->n == x->alloc) {
		x->alloc = x->alloc ? 2 * x->alloc : 2;
		x->v = xrealloc(x->v, x->alloc * sizeof(*x->v));
	}
	f = &x->v[x->n++];
	f->program = program;
	f->error = xstrdup(error);
	memset(&f->log, 0, sizeof(f->log));
	for (i = x->npend; i-- > 0;) {
		if (strcmp(x->pend[i].program, program))
			continue;
		f->log = x->pend[i].log;
		free(x->pend[i].program);
		memmove(&x->pend[i], &x->pend[i + 1], (x->npend - i - 1) * sizeof(*x->pend));
		x->npend--;
		break;
	}
}

/* One line of output, repaired to UTF-8 and without its '\r'. */
static void take_line(struct extract *x, char *line)
{
	char *mark, *name;

	if (x->open) {
		mark = strstr(line, END_MARK);
		if (!mark) {
			strvec_push(&x->open->log, line);
			return;
		}
		/* A log libbpf got cut short has no final newline, so the
		 * marker ends its last line. */
		if (mark > line) {
			*mark = '\0';
			strvec_push(&x->open->log, line);
		}
		x->open = NULL;
		return;
	}
	if ((name = prog_name(line, "': " BEGIN_MARK))) {
		open_log(x, name);
		return;
	}
	if ((name = prog_name(line, FAILED_MARK))) {
		mark = strstr(line, "libbpf: ");
		if (!mark || mark > strstr(line, FAILED_MARK))
			mark = strstr(line, "prog '");
		add_failure(x, name, mark);
	}
}

static void extract_release(struct extract *x)
{
	size_t i;

	for (i = 0; i < x->npend; i++) {
		free(x->pend[i].program);
		strvec_clear(&x->pend[i].log);
	}
	free(x->pend);
}

int verifier_log_extract(const char *text, size_t len, struct verifier_failure **v,
			 size_t *n, struct strbuf *err)
{
	struct extract x = { 0 };
	struct strbuf line = STRBUF_INIT;
	const char *p = text, *end = text + len, *eol;
	size_t l;

	(void)err;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((eol ? eol : end) - p);
		if (l && p[l - 1] == '\r')
			l--;
		strbuf_reset(&line);
		utf8_repair(&line, p, l);
		take_line(&x, line.buf);
		p = eol ? eol + 1 : end;
	}
	strbuf_release(&line);
	extract_release(&x);
	*v = x.v;
	*n = x.n;
	return 0;
}

void verifier_failures_free(struct verifier_failure *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].program);
		free(v[i].error);
		strvec_clear(&v[i].log);
	}
	free(v);
}
