/* Payloads in the verdict (verdict_int.h): the payload (start, stop) and
 * payload_metrics records per payload copy, the checks payload_exit,
 * payload_hang, payload_output and payload_metric, and the payloads'
 * part of the verdict record and of the report. */
#include "verdict_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Metric lines shown per copy in the report. */
#define METRIC_LINES_MAX 40
/* How long the guest waits after SIGINT before it kills a copy. */
#define STOP_GRACE_MS 3000

/* ---- intake ------------------------------------------------------------- */

/* A number field, NAN when missing, null or not a number (warned). */
static double num(struct verdict *v, const json_t *rec, const char *type, const char *key)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return NAN;
	if (!json_is_number(j) || !isfinite(json_number_value(j))) {
		verdict_warn_field(v, type, key, "a number");
		return NAN;
	}
	return json_number_value(j);
}

static char *str(struct verdict *v, const json_t *rec, const char *type, const char *key)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return NULL;
	if (!json_is_string(j)) {
		verdict_warn_field(v, type, key, "a string");
		return NULL;
	}
	return vd_one_line(json_string_value(j));
}

static void lines(const json_t *rec, const char *key, struct strvec *sv)
{
	json_t *j = json_object_get(rec, key), *e;
	size_t i;

	strvec_clear(sv);
	json_array_foreach(j, i, e)
		if (json_is_string(e))
			strvec_push(sv, json_string_value(e));
}

/* The copy a record is about, made on first sight; NULL when the record
 * names none. */
static struct verdict_payload *copy_of(struct verdict *v, const json_t *rec,
				       const char *type)
{
	const char *name = json_get_str(rec, "name");
	json_t *cj = json_object_get(rec, "copy");
	struct verdict_payload *p;
	int copy = 0;

	if (!name) {
		verdict_warn_field(v, type, "name", "a payload name");
		return NULL;
	}
	if (json_is_integer(cj) && json_integer_value(cj) >= 0 &&
	    json_integer_value(cj) < 1 << 20)
		copy = (int)json_integer_value(cj);
	else if (cj)
		verdict_warn_field(v, type, "copy", "a copy index (0, 1, ...)");
	for (size_t i = 0; i < v->n_payloads; i++)
		if (v->payloads[i].copy == copy && !strcmp(v->payloads[i].name, name))
			return &v->payloads[i];
	if (v->n_payloads == v->alloc_payloads) {
		v->alloc_payloads = v->alloc_payloads ? 2 * v->alloc_payloads : 4;
		v->payloads = xrealloc(v->payloads, v->alloc_payloads * sizeof(*p));
	}
	p = &v->payloads[v->n_payloads++];
	memset(p, 0, sizeof(*p));
	p->name = vd_one_line(name);
	p->copy = copy;
	p->timeout_ms = p->at_ms = p->wall_ms = p->exit_code = NAN;
	p->metrics = json_object();
	return p;
}

static void feed_start(struct verdict *v, struct verdict_payload *p, const json_t *rec)
{
	static const char T[] = "payload";
	json_t *checks = json_object_get(rec, "checks");

	p->started = true;
	free(p->program);
	p->program = str(v, rec, T, "program");
	free(p->form);
	p->form = str(v, rec, T, "metrics");
	p->timeout_ms = num(v, rec, T, "timeout_ms");
	json_decref(p->checks);
	p->checks = NULL;
	if (json_is_object(checks))
		p->checks = json_deep_copy(checks);
	else if (checks && !json_is_null(checks))
		verdict_warn_field(v, T, "checks", "an object");
}

static void feed_stop(struct verdict *v, struct verdict_payload *p, const json_t *rec)
{
	static const char T[] = "payload";
	double sig = num(v, rec, T, "signal");

	p->stopped = true;
	free(p->stopped_by);
	p->stopped_by = str(v, rec, T, "stopped_by");
	p->at_ms = num(v, rec, T, "at_ms");
	p->wall_ms = num(v, rec, T, "wall_ms");
	p->exit_code = num(v, rec, T, "exit_code");
	p->signal = sig > 0 && sig < 1024 ? (int)sig : 0;
	p->killed = json_is_true(json_object_get(rec, "killed"));
	free(p->error);
	p->error = str(v, rec, T, "error");
	lines(rec, "output_tail", &p->output_tail);
}

void vd_feed_payload(struct verdict *v, const json_t *rec)
{
	const char *ev = json_get_str(rec, "event");
	struct verdict_payload *p;

	if (!ev || (strcmp(ev, "start") && strcmp(ev, "stop"))) {
		verdict_warn_field(v, "payload", "event", "\"start\" or \"stop\"");
		return;
	}
	if (!(p = copy_of(v, rec, "payload")))
		return;
	if (!strcmp(ev, "start"))
		feed_start(v, p, rec);
	else
		feed_stop(v, p, rec);
}

void vd_feed_payload_metrics(struct verdict *v, const json_t *rec)
{
	static const char T[] = "payload_metrics";
	struct verdict_payload *p = copy_of(v, rec, T);
	json_t *m = json_object_get(rec, "metrics"), *e;
	const char *key;

	if (!p)
		return;
	p->have_metrics = true;
	if (!p->form)
		p->form = str(v, rec, T, "form");
	free(p->metrics_error);
	p->metrics_error = str(v, rec, T, "error");
	lines(rec, "output_tail", &p->metrics_tail);
	if (m && !json_is_object(m) && !json_is_null(m))
		verdict_warn_field(v, T, "metrics", "an object of {\"value\", \"unit\", \"better\"}");
	json_object_foreach(m, key, e) {
		json_t *val = json_object_get(e, "value");

		if (!json_is_number(val) || !isfinite(json_number_value(val))) {
			verdict_warn_field(v, T, "metrics.*.value", "a number");
			continue;
		}
		json_object_set(p->metrics, key, e);
	}
}

void vd_payloads_release(struct verdict *v)
{
	for (size_t i = 0; i < v->n_payloads; i++) {
		struct verdict_payload *p = &v->payloads[i];

		free(p->name);
		free(p->program);
		free(p->form);
		json_decref(p->checks);
		free(p->stopped_by);
		free(p->error);
		strvec_clear(&p->output_tail);
		json_decref(p->metrics);
		free(p->metrics_error);
		strvec_clear(&p->metrics_tail);
	}
	free(v->payloads);
	v->payloads = NULL;
	v->n_payloads = v->alloc_payloads = 0;
	json_decref(v->payload_overlay);
	v->payload_overlay = NULL;
}

/* ---- the overlay -------------------------------------------------------- */

static int bad(struct strbuf *err, const char *name, const char *where, const char *want,
	       const json_t *got)
{
	strbuf_addf(err, "$.%s%s: expected %s, got %s", name, where, want,
		    json_kind_name(got));
	return -1;
}

static int check_bounds(const char *name, const char *bound, const json_t *b,
			struct strbuf *err)
{
	const char *metric;
	json_t *x;
	char where[80];

	snprintf(where, sizeof(where), ".%s", bound);
	if (!json_is_object(b))
		return bad(err, name, where, "an object {\"METRIC\": NUMBER}", b);
	json_object_foreach((json_t *)b, metric, x)
		if (!json_is_number(x) || !isfinite(json_number_value(x))) {
			strbuf_addf(err, "$.%s.%s.%s: expected a number, got %s", name, bound,
				    metric, json_kind_name(x));
			return -1;
		}
	return 0;
}

/* One payload's entry: {"max", "min", "exit_code"}. */
static int check_entry(const char *name, const json_t *e, struct strbuf *err)
{
	const char *key;
	json_t *x;

	if (!json_is_object(e))
		return bad(err, name, "", "an object with max, min or exit_code", e);
	json_object_foreach((json_t *)e, key, x) {
		if (!strcmp(key, "max") || !strcmp(key, "min")) {
			if (check_bounds(name, key, x, err))
				return -1;
		} else if (!strcmp(key, "exit_code")) {
			if (!json_is_null(x) && !json_is_integer(x))
				return bad(err, name, ".exit_code", "an integer or null", x);
		} else {
			strbuf_addf(err, "$.%s.%s: unknown key; expected max, min or exit_code",
				    name, key);
			return -1;
		}
	}
	return 0;
}

/* The overlay's shape, checked before anything is merged. */
static int check_overlay(const json_t *overlay, struct strbuf *err)
{
	const char *name;
	json_t *e;

	if (!json_is_object(overlay)) {
		strbuf_addf(err, "$: expected an object {\"PAYLOAD\": {...}}, got %s",
			    json_kind_name(overlay));
		return -1;
	}
	json_object_foreach((json_t *)overlay, name, e)
		if (check_entry(name, e, err))
			return -1;
	return 0;
}

int verdict_payload_overlay(struct verdict *v, const json_t *overlay, struct strbuf *err)
{
	struct strbuf scratch = STRBUF_INIT;
	const char *name, *key;
	json_t *e, *x;
	int rc = check_overlay(overlay, err ? err : &scratch);

	strbuf_release(&scratch);
	if (rc || !v)
		return rc;
	if (!v->payload_overlay)
		v->payload_overlay = json_object();
	json_object_foreach((json_t *)overlay, name, e) {
		json_t *dst = json_object_get(v->payload_overlay, name);

		if (!dst)
			json_object_set_new(v->payload_overlay, name, dst = json_object());
		json_object_foreach(e, key, x) {
			json_t *d2 = json_object_get(dst, key);

			if (json_is_object(x) && json_is_object(d2))
				json_object_update(d2, x);
			else
				json_object_set_new(dst, key, json_deep_copy(x));
		}
	}
	return 0;
}

int verdict_metric_flag(json_t **overlay, const char *bound, const char *arg,
			struct strbuf *err)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	char *name, *metric, *end;
	json_t *e, *b;
	double x;

	if (!dot || !eq || dot == arg || eq < dot + 2 || !eq[1]) {
		strbuf_addstr(err, "expected PAYLOAD.METRIC=NUMBER such as"
			      " cyclictest.p99_us=100");
		return -1;
	}
	x = strtod(eq + 1, &end);
	if (*end || !isfinite(x)) {
		strbuf_addf(err, "'%s' is not a number; expected PAYLOAD.METRIC=NUMBER"
			    " such as cyclictest.p99_us=100", eq + 1);
		return -1;
	}
	name = xstrndup(arg, (size_t)(dot - arg));
	metric = xstrndup(dot + 1, (size_t)(eq - dot - 1));
	if (!*overlay)
		*overlay = json_object();
	if (!(e = json_object_get(*overlay, name)))
		json_object_set_new(*overlay, name, e = json_object());
	if (!(b = json_object_get(e, bound)))
		json_object_set_new(e, bound, b = json_object());
	json_object_set_new(b, metric, json_real(x));
	free(name);
	free(metric);
	return 0;
}

/* The effective checks of a copy: its start record's (or, when the
 * stream lost it, another copy's of that payload), with the overlay's
 * entry for its name over them (a new reference). */
static json_t *effective_checks(const struct verdict *v, const struct verdict_payload *p)
{
	const json_t *own = p->checks;
	json_t *c, *o = json_object_get(v->payload_overlay, p->name), *x;
	const char *key;

	for (size_t i = 0; i < v->n_payloads && !own; i++)
		if (!strcmp(v->payloads[i].name, p->name))
			own = v->payloads[i].checks;
	c = own ? json_deep_copy(own) : json_object();

	json_object_foreach(o, key, x) {
		json_t *d = json_object_get(c, key);

		if (json_is_object(x) && json_is_object(d))
			json_object_update(d, x);
		else
			json_object_set_new(c, key, json_deep_copy(x));
	}
	return c;
}

/* ---- checks ------------------------------------------------------------- */

static struct verdict_check *add(struct verdict *v, const char *check,
				 const struct verdict_payload *p, double value,
				 double limit, enum verdict_bound bound)
{
	struct verdict_check *c = vd_add_check(v, check, NULL, value, limit, bound);

	c->payload = xstrdup(p->name);
	c->copy = p->copy;
	return c;
}

static void add_id(struct strbuf *msg, const struct verdict_payload *p)
{
	strbuf_addf(msg, "payload %s copy %d", p->name, p->copy);
}

/* Stopped by us (a stop op, the end of the run, the scheduler's death)
 * rather than ending on its own. */
static bool stopped_by_us(const struct verdict_payload *p)
{
	return p->stopped_by && (!strcmp(p->stopped_by, "stop_op") ||
				 !strcmp(p->stopped_by, "end") ||
				 !strcmp(p->stopped_by, "abort"));
}

static void fail_with_tail(struct verdict *v, struct verdict_check *c, struct strbuf *msg,
			   const struct strvec *tail)
{
	vd_fail_check(v, c, msg);
	for (size_t i = 0; i < tail->n; i++)
		strvec_push(&c->output, tail->v[i]);
}

/* payload_exit: the exit status against checks.exit_code (null: not
 * checked, but a copy that could not run at all still fails).  A copy we
 * stopped that died of our SIGINT, or exited 0, 128 or 130 after it,
 * passes (130 is the shell's 128+SIGINT; fio exits 128 when a signal cut
 * its job short, and still writes its report); a killed or timed-out
 * copy is payload_hang's. */
static void eval_exit(struct verdict *v, const struct verdict_payload *p,
		      const json_t *checks, struct strbuf *msg)
{
	json_t *ej = json_object_get(checks, "exit_code");
	double want = ej ? (json_is_integer(ej) ? (double)json_integer_value(ej) : NAN) : 0;
	const char *abbrev = p->signal ? sigabbrev_np(p->signal) : NULL;
	struct verdict_check *c;
	bool ok;

	if (p->error) {
		c = add(v, "payload_exit", p, p->exit_code, want, VERDICT_NONE);
		add_id(msg, p);
		strbuf_addf(msg, " could not run: %s", p->error);
		fail_with_tail(v, c, msg, &p->output_tail);
		return;
	}
	if (isnan(want) || p->killed || (p->stopped_by && !strcmp(p->stopped_by, "timeout")))
		return;
	/* value: the exit code, null (NAN) when a signal ended it */
	c = add(v, "payload_exit", p, p->exit_code, want, VERDICT_NONE);
	if (p->signal)
		ok = p->signal == SIGINT && stopped_by_us(p);
	else
		ok = p->exit_code == want ||
		     (stopped_by_us(p) && (p->exit_code == 0 || p->exit_code == 128 ||
					p->exit_code == 130));
	if (ok)
		return;
	add_id(msg, p);
	if (p->signal)
		strbuf_addf(msg, " crashed with signal %d (SIG%s)", p->signal,
			    abbrev ? abbrev : "?");
	else if (isnan(p->exit_code))
		strbuf_addf(msg, " ended with no exit status in its record, expected %.0f", want);
	else
		strbuf_addf(msg, " exited with %.0f, expected %.0f", p->exit_code, want);
	fail_with_tail(v, c, msg, &p->output_tail);
}

/* payload_hang: stopped for running past its timeout, or killed after
 * the grace that follows SIGINT. */
static void eval_hang(struct verdict *v, const struct verdict_payload *p,
		      struct strbuf *msg)
{
	bool timeout = p->stopped_by && !strcmp(p->stopped_by, "timeout");
	struct verdict_check *c = add(v, "payload_hang", p, timeout || p->killed, 0,
				      VERDICT_AT_MOST);

	if (c->pass)
		return;
	add_id(msg, p);
	if (timeout && !isnan(p->timeout_ms))
		strbuf_addf(msg, " ran past its timeout of %.0f ms and was stopped",
			    p->timeout_ms);
	else if (timeout)
		strbuf_addf(msg, " ran past its timeout and was stopped after %.0f ms",
			    p->wall_ms);
	if (timeout && p->killed)
		strbuf_addf(msg, "; it did not stop within %d ms of SIGINT and was killed",
			    STOP_GRACE_MS);
	else if (p->killed)
		strbuf_addf(msg, " did not stop within %d ms of SIGINT and was killed",
			    STOP_GRACE_MS);
	fail_with_tail(v, c, msg, &p->output_tail);
}

/* payload_output: true when the output parsed (or there was none to). */
static bool eval_output(struct verdict *v, const struct verdict_payload *p,
			struct strbuf *msg)
{
	struct verdict_check *c;

	if (!p->have_metrics || (p->form && !strcmp(p->form, "exit_code")))
		return true;
	c = add(v, "payload_output", p, p->metrics_error != NULL, 0, VERDICT_AT_MOST);
	if (c->pass)
		return true;
	add_id(msg, p);
	strbuf_addf(msg, ": output did not parse: %s", p->metrics_error);
	fail_with_tail(v, c, msg, p->metrics_tail.n ? &p->metrics_tail : &p->output_tail);
	return false;
}

static void add_value(struct strbuf *sb, double x, const char *unit)
{
	vd_add_num(sb, x);
	if (unit && *unit)
		strbuf_addf(sb, " %s", unit);
}

/* payload_metric: each bound of checks.max / checks.min; a checked
 * metric the copy did not report fails. */
static void eval_bounds(struct verdict *v, const struct verdict_payload *p,
			const json_t *checks, bool at_most, struct strbuf *msg)
{
	json_t *b = json_object_get(checks, at_most ? "max" : "min"), *lim;
	const char *metric;

	json_object_foreach(b, metric, lim) {
		json_t *m = json_object_get(p->metrics, metric);
		double limit = json_number_value(lim);
		double x = m ? json_number_value(json_object_get(m, "value")) : NAN;
		const char *unit = json_get_str(m, "unit");
		struct verdict_check *c;

		if (!json_is_number(lim))
			continue;
		c = add(v, "payload_metric", p, x, limit,
			at_most ? VERDICT_AT_MOST : VERDICT_AT_LEAST);
		if (c->pass)
			continue;
		add_id(msg, p);
		strbuf_addf(msg, ": %s = ", metric);
		if (m)
			add_value(msg, x, unit);
		else
			strbuf_addstr(msg, "missing");
		strbuf_addf(msg, ", limit at %s ", at_most ? "most" : "least");
		add_value(msg, limit, unit);
		vd_fail_check(v, c, msg);
	}
}

/* An overlay naming a payload the run never started is most likely a
 * typo: said, since its limits judged nothing. */
static void warn_unknown_overlay(struct verdict *v)
{
	const char *name;
	json_t *e;

	json_object_foreach(v->payload_overlay, name, e) {
		bool seen = false;

		(void)e;
		for (size_t i = 0; i < v->n_payloads && !seen; i++)
			seen = !strcmp(v->payloads[i].name, name);
		if (!seen) {
			char *k = xasprintf("payload_overlay.%s", name);

			if (strvec_push_unique(&v->warned, k))
				verdict_warn(v, "payload checks for '%s': the run started no"
					     " payload of that name; they judged nothing", name);
			free(k);
		}
	}
}

void vd_eval_payloads(struct verdict *v, struct strbuf *msg)
{
	for (size_t i = 0; i < v->n_payloads; i++) {
		const struct verdict_payload *p = &v->payloads[i];
		json_t *checks;

		/* A copy still running when the stream ended: the run is
		 * inconclusive anyway. */
		if (!p->stopped)
			continue;
		checks = effective_checks(v, p);
		eval_exit(v, p, checks, msg);
		eval_hang(v, p, msg);
		/* Metrics of a copy that could not run or whose output did not
		 * parse are missing for that reason, already failed. */
		if (eval_output(v, p, msg) && !p->error) {
			eval_bounds(v, p, checks, true, msg);
			eval_bounds(v, p, checks, false, msg);
		}
		json_decref(checks);
	}
	warn_unknown_overlay(v);
}

/* ---- the verdict record ------------------------------------------------- */

static json_t *lines_json(const struct strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

json_t *verdict_payloads_json(const struct verdict *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n_payloads; i++) {
		const struct verdict_payload *p = &v->payloads[i];
		json_t *o = json_object();

		json_set_str(o, "name", p->name);
		json_object_set_new(o, "copy", json_integer(p->copy));
		json_set_str(o, "program", p->program);
		json_set_str(o, "form", p->form);
		json_set_str(o, "stopped_by", p->stopped_by);
		json_object_set_new(o, "exit_code", vd_json_num(p->exit_code));
		json_object_set_new(o, "signal", p->signal ? json_integer(p->signal)
							    : json_null());
		json_object_set_new(o, "killed", json_boolean(p->killed));
		json_object_set_new(o, "wall_ms", vd_json_num(p->wall_ms));
		json_set_str(o, "error", p->error);
		json_set_str(o, "metrics_error", p->metrics_error);
		json_object_set_new(o, "metrics", json_deep_copy(p->metrics));
		if (p->output_tail.n || p->metrics_tail.n)
			json_object_set_new(o, "output_tail",
					    lines_json(p->metrics_tail.n ? &p->metrics_tail
									 : &p->output_tail));
		json_array_append_new(a, o);
	}
	return a;
}

/* ---- the report --------------------------------------------------------- */

static const char *arrow(const char *better)
{
	if (better && !strcmp(better, "lower"))
		return " \u2193";
	if (better && !strcmp(better, "higher"))
		return " \u2191";
	return "";
}

/* "cyc copy 0 (cyclictest): signal 2 (SIGINT), stopped by end after
 * 10000ms"; "hb copy 0 (hackbench): exit 0 after 1200ms". */
static void format_copy_head(const struct verdict_payload *p, struct strbuf *out)
{
	const char *abbrev = p->signal ? sigabbrev_np(p->signal) : NULL;

	strbuf_addf(out, "%s copy %d", p->name, p->copy);
	if (p->program)
		strbuf_addf(out, " (%s)", p->program);
	strbuf_addstr(out, ": ");
	if (!p->stopped)
		strbuf_addstr(out, "no stop record");
	else if (p->error)
		strbuf_addf(out, "could not run: %s", p->error);
	else if (p->signal)
		strbuf_addf(out, "signal %d (SIG%s)", p->signal, abbrev ? abbrev : "?");
	else if (!isnan(p->exit_code))
		strbuf_addf(out, "exit %.0f", p->exit_code);
	else
		strbuf_addstr(out, "exit ?");
	/* "exit" is no stop of ours: it ended on its own */
	if (p->stopped_by && strcmp(p->stopped_by, "exit"))
		strbuf_addf(out, ", stopped by %s", p->stopped_by);
	if (!isnan(p->wall_ms)) {
		strbuf_addstr(out, " after ");
		vd_add_stat(out, p->wall_ms, "ms");
	}
	if (p->killed)
		strbuf_addstr(out, " (killed)");
	strbuf_addch(out, '\n');
}

void vd_format_payloads(const struct verdict *v, struct strbuf *out)
{
	if (!v->n_payloads)
		return;
	strbuf_addstr(out, "payloads:\n");
	for (size_t i = 0; i < v->n_payloads; i++) {
		const struct verdict_payload *p = &v->payloads[i];
		size_t n = 0;
		const char *key;
		json_t *m;

		strbuf_addstr(out, "  ");
		format_copy_head(p, out);
		if (p->metrics_error)
			strbuf_addf(out, "    output did not parse: %s\n", p->metrics_error);
		json_object_foreach(p->metrics, key, m) {
			if (n++ == METRIC_LINES_MAX) {
				strbuf_addf(out, "    [... %zu more metrics; all of them are in"
					    " the records]\n",
					    json_object_size(p->metrics) - METRIC_LINES_MAX);
				break;
			}
			strbuf_addf(out, "    %s = ", key);
			add_value(out, json_number_value(json_object_get(m, "value")),
				  json_get_str(m, "unit"));
			strbuf_addf(out, "%s\n", arrow(json_get_str(m, "better")));
		}
	}
}
