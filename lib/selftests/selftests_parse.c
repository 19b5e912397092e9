/* Reading the selftests runner's output back into results (selftests.h).
 *
 * The runner prints, per test:
 *   ===== START =====
 *   TEST: NAME
 *   OUTPUT:
 *   ... (the test's stdout)
 *   ok N NAME #            | ok N NAME # SKIP  | not ok N NAME #
 *   =====  END  =====
 * and a RESULTS block at the end.  Its stdout is a pipe in the guest, so
 * fully buffered, while the tests' stderr is not: with 2>&1 the stderr
 * lines usually arrive before the block they belong to.  Lines outside
 * any block are therefore kept per invocation and given to the test the
 * invocation ran when it ran one (or to the test its filter names). */
#include "selftests.h"
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *st_result_name(enum st_result r)
{
	return r == ST_PASS ? "pass" : r == ST_SKIP ? "skip" : r == ST_FAIL ? "fail" : "error";
}

void st_parser_init(struct st_parser *p, const struct strvec *tests)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->n = tests->n;
	p->tests = xcalloc(tests->n + 1, sizeof(*p->tests));
	for (i = 0; i < tests->n; i++) {
		p->tests[i].name = xstrdup(tests->v[i]);
		p->tests[i].duration_ms = -1;
	}
	p->cur = -1;
	p->inv_last = -1;
}

static int find_test(const struct st_parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->tests[i].name, name))
			return (int)i;
	return -1;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* "ok 3 NAME # SKIP " / "not ok 3 NAME # ": the test's index (or -1 for
 * one not wanted, -2 for a line that is no result), and its result. */
static int result_line(const struct st_parser *p, const char *line, enum st_result *r)
{
	const char *s = line, *hash;
	char name[256];
	size_t len;

	*r = ST_PASS;
	if (starts(s, "not ok ")) {
		*r = ST_FAIL;
		s += 7;
	} else if (starts(s, "ok ")) {
		s += 3;
	} else {
		return -2;
	}
	if (*s < '0' || *s > '9')
		return -2;
	s += strspn(s, "0123456789");
	if (*s++ != ' ' || !(hash = strstr(s, " #")) || (len = (size_t)(hash - s)) == 0 ||
	    len >= sizeof(name))
		return -2;
	memcpy(name, s, len);
	name[len] = '\0';
	if (*r == ST_PASS && starts(hash + 2, " SKIP"))
		*r = ST_SKIP;
	return find_test(p, name);
}

/* The last non-empty output line, as the reason of a skip or failure. */
static char *last_line(const struct strvec *out)
{
	size_t i;

	for (i = out->n; i > 0; i--) {
		const char *s = out->v[i - 1];

		if (s[strspn(s, " \t")])
			return xstrdup(s + strspn(s, " \t"));
	}
	return NULL;
}

static void set_reason(struct st_test *t)
{
	if (t->result == ST_PASS || t->reason)
		return;
	t->reason = last_line(&t->output);
	if (!t->reason)
		t->reason = xstrdup(t->result == ST_SKIP ? "the test skipped itself" :
				    "the runner reported not ok");
}

static void end_invocation(struct st_parser *p, long rc, double t1)
{
	int target = p->inv_results == 1 ? p->inv_last : find_test(p, p->filter);
	size_t i;

	if (target >= 0) {
		/* Loose lines came first (unbuffered stderr): put them first. */
		struct strvec merged = STRVEC_INIT;
		struct st_test *t = &p->tests[target];

		for (i = 0; i < p->loose.n; i++)
			strvec_push(&merged, p->loose.v[i]);
		for (i = 0; i < t->output.n; i++)
			strvec_push(&merged, t->output.v[i]);
		strvec_clear(&t->output);
		t->output = merged;
	}
	if (p->inv_results == 1 && p->inv_last >= 0 && t1 >= p->t0)
		p->tests[p->inv_last].duration_ms = (long long)((t1 - p->t0) * 1000 + 0.5);
	for (i = 0; i < p->n; i++) {
		struct st_test *t = &p->tests[i];

		if (rc >= 0 && !t->done && strstr(t->name, p->filter)) {
			t->done = true;
			t->result = ST_FAIL;
			t->reason = rc > 128 ? xasprintf("the runner was killed by signal %ld "
							 "before it reported this test", rc - 128)
				  : xasprintf("the runner exited with status %ld before it "
					      "reported this test", rc);
		}
		if (t->done && strstr(t->name, p->filter))
			set_reason(t);
	}
	strvec_clear(&p->loose);
	free(p->filter);
	p->filter = NULL;
	p->in_inv = p->in_test = p->in_summary = false;
	p->cur = -1;
}

/* "@@ktstr-selftest begin F T" / "... end F RC T". */
static void marker(struct st_parser *p, const char *line)
{
	char f[256];
	long rc;
	double t;

	if (sscanf(line, ST_MARK " begin %255s %lf", f, &t) == 2) {
		if (p->in_inv)
			end_invocation(p, -1, -1);
		p->in_inv = true;
		p->filter = xstrdup(f);
		p->t0 = t;
		p->inv_results = 0;
		p->inv_last = -1;
	} else if (p->in_inv && sscanf(line, ST_MARK " end %255s %ld %lf", f, &rc, &t) == 3) {
		end_invocation(p, rc, t);
	}
}

static void block_line(struct st_parser *p, const char *line)
{
	enum st_result r;
	int i;

	if (starts(line, "TEST: ")) {
		p->cur = find_test(p, line + 6);
	} else if (!strcmp(line, "OUTPUT:") || starts(line, "DESCRIPTION: ")) {
		/* framing */
	} else if ((i = result_line(p, line, &r)) != -2) {
		p->inv_results++;
		if (i >= 0 && !p->tests[i].done) {
			p->tests[i].done = true;
			p->tests[i].result = r;
			p->inv_last = i;
		}
	} else if (p->cur >= 0 && !(p->tests[p->cur].done && p->inv_last != p->cur)) {
		strvec_push(&p->tests[p->cur].output, line);
	}
}

void st_parser_line(struct st_parser *p, const char *line)
{
	if (starts(line, ST_MARK " ")) {
		marker(p, line);
		return;
	}
	if (!p->in_inv || p->in_summary)
		return;
	if (!strcmp(line, "===== START =====")) {
		p->in_test = true;
		p->cur = -1;
	} else if (!strcmp(line, "=====  END  =====")) {
		p->in_test = false;
		p->cur = -1;
	} else if (p->in_test) {
		block_line(p, line);
	} else if (starts(line, "=====")) {
		p->in_summary = true;	/* RESULTS, counts, lists: we count ourselves */
	} else if (*line) {
		strvec_push(&p->loose, line);
	}
}

static void finish(struct st_parser *p, enum st_result res, const char *why)
{
	size_t i;

	if (p->in_inv)
		end_invocation(p, -1, -1);
	for (i = 0; i < p->n; i++) {
		struct st_test *t = &p->tests[i];

		if (t->done)
			continue;
		t->done = true;
		t->result = res;
		t->reason = xstrdup(why);
	}
}

void st_parser_finish(struct st_parser *p, const char *why)
{
	finish(p, ST_FAIL, why ? why : "the runner reported no result for it");
}

void st_parser_finish_interrupted(struct st_parser *p)
{
	finish(p, ST_ERROR, "interrupted before it finished");
}

void st_parser_release(struct st_parser *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->tests[i].name);
		free(p->tests[i].reason);
		strvec_clear(&p->tests[i].output);
	}
	free(p->tests);
	free(p->filter);
	strvec_clear(&p->loose);
	memset(p, 0, sizeof(*p));
}
