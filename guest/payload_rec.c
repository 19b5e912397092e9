/* The records of a payload's copies (field names are a contract with
 * ktstr-stats; see the list at the top of scenario.c):
 *
 *   payload          event "start": name, copy, copies, pid, at_ms, step,
 *                    cgroup, program, argv, metrics (the form), checks
 *                    {exit_code, max, min}
 *   payload          event "stop": name, copy, pid, at_ms, wall_ms,
 *                    stopped_by, exit_code, signal, killed[, error]
 *                    [, output_tail]
 *   payload_metrics  name, copy, form, metrics {NAME: {value, unit,
 *                    better}}[, error, output_tail]
 *
 * The output tail (the last lines of stdout, then of stderr) goes with a
 * stop that went wrong, so the reader sees why without the guest. */
#include "engine.h"
#include "diag.h"
#include "payload.h"

#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAIL_LINES 20
/* Of each output file, only this much of its end is read for a tail. */
#define TAIL_BYTES 65536

static long long at_of(const struct engine *e, uint64_t ns)
{
	return e->started && ns > e->t0_ns ? (long long)((ns - e->t0_ns) / 1000000) : 0;
}

static const char *form_of(const struct payload_def *d)
{
	return d->form ? d->form : "exit_code";
}

static json_t *limits_json(const struct payload_limit *l, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, l[i].metric, json_real(l[i].value));
	return o;
}

void payload_emit_start(struct engine *e, const struct prun *r, const struct pcopy *c,
			const struct strvec *argv)
{
	const struct payload_def *d = r->def;
	json_t *rec = jsonl_record("payload"), *av = json_array(), *checks = json_object();
	size_t i;

	json_set_str(rec, "event", "start");
	json_set_str(rec, "name", d->name);
	json_set_int(rec, "copy", c->index);
	json_set_int(rec, "copies", r->n);
	if (c->pid > 0)
		json_set_int(rec, "pid", c->pid);
	else
		json_object_set_new(rec, "pid", json_null());
	json_set_int(rec, "at_ms", at_of(e, c->start_ns));
	json_set_int(rec, "step", r->step);
	json_set_str(rec, "cgroup", d->cgroup);
	json_set_str(rec, "program", d->program);
	for (i = 0; i < argv->n; i++)
		json_array_append_new(av, json_string_bytes(argv->v[i], strlen(argv->v[i])));
	json_object_set_new(rec, "argv", av);
	json_set_str(rec, "metrics", form_of(d));
	if (d->expect_exit >= 0)
		json_set_int(checks, "exit_code", d->expect_exit);
	else
		json_object_set_new(checks, "exit_code", json_null());
	json_object_set_new(checks, "max", limits_json(d->max, d->n_max));
	json_object_set_new(checks, "min", limits_json(d->min, d->n_min));
	json_object_set_new(rec, "checks", checks);
	engine_emit(e, rec);
}

/* Append the last TAIL_BYTES of path (nothing when unreadable). */
static void read_end(const char *path, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > TAIL_BYTES)
		lseek(fd, st.st_size - TAIL_BYTES, SEEK_SET);
	strbuf_read_fd(sb, fd);
	close(fd);
	if (sb->len && sb->buf[sb->len - 1] != '\n')
		strbuf_addch(sb, '\n');
}

/* The last lines of the copy's stdout and stderr. */
static json_t *stdio_tail(const struct payload_def *d, unsigned copy)
{
	static const char *const ext[] = { "stdout", "stderr" };
	struct strbuf sb = STRBUF_INIT;
	json_t *tail;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		char *path = payload_file(d, copy, ext[i]);

		read_end(path, &sb);
		free(path);
	}
	tail = payload_output_tail(sb.buf, sb.len, TAIL_LINES);
	strbuf_release(&sb);
	return tail;
}

/* Does the stop need the output shown?  Whatever a check will fail on:
 * it could not run, was killed, ran past its timeout, died of a signal
 * that was not our stop, or exited with a code other than expected (0
 * and 130 after our SIGINT count as a clean stop). */
static bool wants_tail(const struct pcopy *c, int expect)
{
	bool ours = c->stopped_by && strcmp(c->stopped_by, "timeout") != 0;
	int code;

	if (c->error || c->killed || (c->stopped_by && !ours))
		return true;
	if (WIFSIGNALED(c->status))
		return !(ours && WTERMSIG(c->status) == SIGINT);
	code = WEXITSTATUS(c->status);
	if (ours && (code == 0 || code == 130))
		return false;
	return expect >= 0 && code != expect;
}

/* payload_metrics: the copy's output (its {out} file or stdout) through
 * the def's form. */
static void emit_metrics(struct engine *e, const struct prun *r, const struct pcopy *c)
{
	const struct payload_def *d = r->def;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct pmetrics m = { 0 };
	char *path = c->uses_out ? xstrdup(c->out) : payload_file(d, c->index, "stdout");
	json_t *rec = jsonl_record("payload_metrics");
	int rc = -1;

	if (strbuf_read_file(&text, path) < 0)
		strbuf_addf(&err, "cannot read the output %s: %s", path, strerror(errno));
	else
		rc = payload_metrics_parse(d, text.buf, text.len, &m, &err);
	json_set_str(rec, "name", d->name);
	json_set_int(rec, "copy", c->index);
	json_set_str(rec, "form", form_of(d));
	json_object_set_new(rec, "metrics", pmetrics_to_json(&m));
	if (rc < 0) {
		json_set_str(rec, "error", err.len ? err.buf : "the output did not parse");
		/* What was parsed, or where the copy said why there is none. */
		json_object_set_new(rec, "output_tail", text.len ?
				    payload_output_tail(text.buf, text.len, TAIL_LINES) :
				    stdio_tail(d, c->index));
	}
	engine_emit(e, rec);
	pmetrics_release(&m);
	strbuf_release(&text);
	strbuf_release(&err);
	free(path);
}

void payload_emit_stop(struct engine *e, const struct prun *r, const struct pcopy *c)
{
	const struct payload_def *d = r->def;
	json_t *rec = jsonl_record("payload");

	json_set_str(rec, "event", "stop");
	json_set_str(rec, "name", d->name);
	json_set_int(rec, "copy", c->index);
	if (c->pid > 0)
		json_set_int(rec, "pid", c->pid);
	else
		json_object_set_new(rec, "pid", json_null());
	json_set_int(rec, "at_ms", at_of(e, c->exit_ns));
	json_set_int(rec, "wall_ms", c->exit_ns > c->start_ns ?
		     (long long)((c->exit_ns - c->start_ns) / 1000000) : 0);
	json_set_str(rec, "stopped_by", c->stopped_by ? c->stopped_by : "exit");
	if (WIFSIGNALED(c->status)) {
		json_object_set_new(rec, "exit_code", json_null());
		json_set_int(rec, "signal", WTERMSIG(c->status));
	} else {
		json_set_int(rec, "exit_code", WEXITSTATUS(c->status));
		json_object_set_new(rec, "signal", json_null());
	}
	json_set_bool(rec, "killed", c->killed);
	if (c->error)
		json_set_str(rec, "error", c->error);
	if (wants_tail(c, d->expect_exit))
		json_object_set_new(rec, "output_tail", stdio_tail(d, c->index));
	engine_emit(e, rec);
	if (strcmp(form_of(d), "exit_code") && !c->error)
		emit_metrics(e, r, c);
}
