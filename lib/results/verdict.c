/* The check engine behind ktstr-stats; see verdict.h. */
#include "verdict.h"
#include "checktab.h"
#include "diag.h"
#include "jsonl.h"
#include "scenario.h"
#include "topo.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTPUT_TAIL_LINES 10
/* Console lines kept for an infrastructure failure, and how much of the
 * console log's end is read for them. */
#define CONSOLE_TAIL_LINES 20
#define CONSOLE_TAIL_BYTES 16384
/* Human report: workers listed per cgroup in the worker detail lines. */
#define WORKER_LINES_MAX 8
/* CPUs tracked in a cgroup's cpus_used union. */
#define CPUS_MAX 4096
/* Human report: kernel log / scheduler output lines shown per failure. */
#define DETAIL_LINES_MAX 200

/* ---- small helpers ------------------------------------------------------ */

const char *verdict_result_name(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "fail";
	case VERDICT_SKIP: return "skip";
	case VERDICT_INCONCLUSIVE: return "inconclusive";
	case VERDICT_ERROR: return "error";
	}
	return "error";
}

int verdict_exit_code(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return KTSTR_EXIT_PASS;
	case VERDICT_FAIL: return KTSTR_EXIT_FAIL;
	case VERDICT_SKIP:
	case VERDICT_INCONCLUSIVE: return KTSTR_EXIT_SKIP;
	case VERDICT_ERROR: return KTSTR_EXIT_USAGE;
	}
	return KTSTR_EXIT_USAGE;
}

static int result_rank(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return 0;
	case VERDICT_SKIP:
	case VERDICT_INCONCLUSIVE: return 1;
	case VERDICT_FAIL: return 2;
	case VERDICT_ERROR: return 3;
	}
	return 3;
}

enum verdict_result verdict_worst(enum verdict_result a, enum verdict_result b)
{
	return result_rank(b) > result_rank(a) ? b : a;
}

/* A copy of s fit for one line of text: control characters (newlines
 * included) become spaces, trailing whitespace goes. */
static char *one_line(const char *s)
{
	char *r = xstrdup(s ? s : "");
	size_t n;

	for (char *p = r; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	n = strlen(r);
	while (n && r[n - 1] == ' ')
		r[--n] = '\0';
	return r;
}

static void replace_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* Names that go into the report's title line. */
static void replace_name(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? one_line(s) : NULL;
}

/* No libm here: the programs do not link it. */
static bool integral(double x)
{
	return isfinite(x) && x > -9007199254740992.0 && x < 9007199254740992.0 &&
	       (double)(long long)x == x;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static double nan_add(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a + b; }
static double nan_max(double a, double b) { return isnan(a) ? b : isnan(b) ? a : max2(a, b); }

/* To one decimal. */
static double round1(double x)
{
	double r;

	if (!(x > -1e15 && x < 1e15))
		return x;
	r = (double)(long long)(x * 10 + (x < 0 ? -0.5 : 0.5)) / 10;
	return r == 0 ? 0 : r;	/* no "-0.0" */
}

/* "3500", "5.1", "0.125": integers whole, other values to 6 significant
 * digits, so a value just under a limit does not print as the limit. */
static void add_num(struct strbuf *sb, double x)
{
	if (isnan(x))
		strbuf_addch(sb, '?');
	else if (integral(x))
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, "%.6g", x);
}

/* A stats value with its unit ("12.3%", "890ms"), or "?" when missing.
 * Percentages keep one decimal; other values are rounded to whole units
 * from 10 up, to one decimal below (the JSON keeps them exact). */
static void add_stat(struct strbuf *sb, double x, const char *unit)
{
	if (isnan(x)) {
		strbuf_addch(sb, '?');
		return;
	}
	if (!strcmp(unit, "%") || (!integral(x) && x < 10 && x > -10))
		strbuf_addf(sb, "%.1f", x);
	else
		strbuf_addf(sb, "%.0f", x);
	strbuf_addstr(sb, unit);
}

static json_t *json_num(double x)
{
	if (isnan(x) || isinf(x))
		return json_null();
	if (integral(x))
		return json_integer((json_int_t)x);
	return json_real(x);
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- lifecycle ---------------------------------------------------------- */

/* The machine view's input problems go out as the engine's own. */
static void machine_warn(void *ctx, const char *msg)
{
	verdict_warn(ctx, "%s", msg);
}

void verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	checks_init(&v->scenario_checks);
	checks_init(&v->limits);
	v->duration_ms = v->start_cpus = NAN;
	v->sched_at_ms = v->sched_exit_code = NAN;
	v->end_elapsed_ms = v->end_workers = v->end_cpus = NAN;
	v->end_migrations = v->end_worst_spread_pct = v->end_worst_gap_ms = NAN;
	v->end_scheduler_alive = -1;
	v->cmd_exit_code = NAN;
	v->vm_wall_ms = NAN;
	v->scx_events = json_object();
	v->affinity = json_object();
	machine_init(&v->machine);
	v->machine.warn = machine_warn;
	v->machine.warn_ctx = v;
	v->result = VERDICT_ERROR;
}

/* What verdict_finish derived from the records, so it can run again. */
static void derived_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->n_cgroups; i++) {
		free(v->cgroups[i].cpus_used);
		v->cgroups[i].cpus_used = NULL;
		v->cgroups[i].n_cpus_used = NAN;
		v->cgroups[i].group = SIZE_MAX;
	}
	free(v->groups);
	free(v->group_idx);
	v->groups = NULL;
	v->group_idx = NULL;
	v->n_groups = 0;
	strvec_clear(&v->notes);
	if (v->console_tail_read) {
		strvec_clear(&v->console_tail);
		v->console_tail_read = false;
	}
}

static void check_release(struct verdict_check *c)
{
	free(c->cgroup);
	free(c->message);
	strvec_clear(&c->kernel_log);
	strvec_clear(&c->output);
}

static void checks_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->n_checks; i++)
		check_release(&v->checks[i]);
	free(v->checks);
	v->checks = NULL;
	v->n_checks = v->alloc_checks = v->n_failures = 0;
	machine_result_release(&v->machine_result);
	free(v->reason);
	v->reason = NULL;
	v->n_secondary = 0;
	derived_clear(v);
}

void verdict_release(struct verdict *v)
{
	size_t i;

	checks_clear(v);
	free(v->scenario);
	free(v->topology);
	free(v->scheduler);
	free(v->sched_event);
	free(v->sched_reason);
	strvec_clear(&v->sched_kernel_log);
	strvec_clear(&v->sched_output);
	for (i = 0; i < v->n_cgroups; i++) {
		free(v->cgroups[i].name);
		free(v->cgroups[i].cpuset);
		free(v->cgroups[i].violating_cpus);
	}
	free(v->cgroups);
	for (i = 0; i < v->n_workers; i++) {
		free(v->workers[i].cgroup);
		free(v->workers[i].cpus_used);
	}
	free(v->workers);
	json_decref(v->scx_events);
	json_decref(v->affinity);
	machine_release(&v->machine);
	free(v->skip_reason);
	free(v->error_reason);
	free(v->infra_reason);
	free(v->accel);
	free(v->end_error);
	free(v->vm_exit_reason);
	free(v->vm_exit_message);
	free(v->vm_panic);
	free(v->console_log);
	strvec_clear(&v->output_tail);
	strvec_clear(&v->console_tail);
	strvec_clear(&v->warnings);
	strvec_clear(&v->warned);
	memset(v, 0, sizeof(*v));
}

void verdict_warn(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	strvec_push(&v->warnings, msg);
	if (v->warn)
		v->warn(v->warn_ctx, v->line, msg);
	free(msg);
}

/* ---- typed field access ------------------------------------------------- */

/* Warn about type.key once per run. */
static void weird(struct verdict *v, const char *type, const char *key,
		  const char *want, const char *got)
{
	char *k = xasprintf("%s.%s", type, key);

	if (strvec_push_unique(&v->warned, k))
		verdict_warn(v, "%s: expected %s, got %s; treated as missing"
			     " (said once per field)", k, want, got);
	free(k);
}

/* A number field: true with *out set when present and sane.  Missing and
 * null are quietly false; anything else is false with a warning.  Counts
 * (nonneg) must not be negative. */
static bool get_num(struct verdict *v, const json_t *rec, const char *type,
		    const char *key, bool nonneg, double *out)
{
	json_t *j = json_object_get(rec, key);
	double x;

	if (!j || json_is_null(j))
		return false;
	if (!json_is_number(j)) {
		weird(v, type, key, "a number", json_kind_name(j));
		return false;
	}
	x = json_number_value(j);
	/* Past 2^53 a double no longer counts exactly: no sane telemetry
	 * value is that large. */
	if (!isfinite(x) || x >= 9007199254740992.0 || x <= -9007199254740992.0) {
		weird(v, type, key, "a number below 2^53", "a huge one");
		return false;
	}
	if (nonneg && x < 0) {
		weird(v, type, key, "a number >= 0", "a negative one");
		return false;
	}
	*out = x;
	return true;
}

/* As get_num, into a field left NAN when missing. */
static void set_num(struct verdict *v, const json_t *rec, const char *type,
		    const char *key, bool nonneg, double *field)
{
	double x;

	*field = get_num(v, rec, type, key, nonneg, &x) ? x : NAN;
}

/* A CPU number; the engine writes -1 for "none". */
static void set_cpu(struct verdict *v, const json_t *rec, const char *type,
		    const char *key, double *field)
{
	double x;

	*field = get_num(v, rec, type, key, false, &x) && x >= 0 ? x : NAN;
}

/* A string field, or NULL (with a warning unless missing or null). */
static const char *get_str(struct verdict *v, const json_t *rec, const char *type,
			   const char *key)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return NULL;
	if (!json_is_string(j)) {
		weird(v, type, key, "a string", json_kind_name(j));
		return NULL;
	}
	return json_string_value(j);
}

/* A boolean field: 1, 0, or -1 when missing or not a boolean. */
static int get_bool(struct verdict *v, const json_t *rec, const char *type,
		    const char *key)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return -1;
	if (!json_is_boolean(j)) {
		weird(v, type, key, "true or false", json_kind_name(j));
		return -1;
	}
	return json_is_true(j);
}

/* An array of strings into sv (other elements skipped with a warning). */
static void get_lines(struct verdict *v, const json_t *rec, const char *type,
		      const char *key, struct strvec *sv)
{
	json_t *j = json_object_get(rec, key), *e;
	size_t i;

	if (!j || json_is_null(j))
		return;
	if (json_is_string(j)) {
		/* One string with embedded newlines is fine too. */
		const char *s = json_string_value(j), *nl;

		while (*s) {
			nl = strchr(s, '\n');
			if (!nl) {
				strvec_push(sv, s);
				break;
			}
			strvec_pushf(sv, "%.*s", (int)(nl - s), s);
			s = nl + 1;
		}
		return;
	}
	if (!json_is_array(j)) {
		weird(v, type, key, "an array of strings", json_kind_name(j));
		return;
	}
	json_array_foreach(j, i, e) {
		if (json_is_string(e))
			strvec_push(sv, json_string_value(e));
		else
			weird(v, type, key, "an array of strings",
			      "an array holding something else");
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* CPU list: a cpulist string as is, or an array of CPU numbers written as
 * one ("3,5-7").  NULL when missing or unusable. */
static char *get_cpulist(struct verdict *v, const json_t *rec, const char *type,
			 const char *key)
{
	json_t *j = json_object_get(rec, key), *e;
	struct strbuf sb = STRBUF_INIT;
	long *cpus;
	size_t i, n = 0;

	if (!j || json_is_null(j))
		return NULL;
	if (json_is_string(j))
		return one_line(json_string_value(j));
	if (json_is_integer(j))
		return xasprintf("%lld", (long long)json_integer_value(j));
	if (!json_is_array(j)) {
		weird(v, type, key, "a CPU list", json_kind_name(j));
		return NULL;
	}
	cpus = xcalloc(json_array_size(j) + 1, sizeof(*cpus));
	json_array_foreach(j, i, e) {
		if (json_is_integer(e) && json_integer_value(e) >= 0 &&
		    json_integer_value(e) < (1L << 30))
			cpus[n++] = (long)json_integer_value(e);
		else
			weird(v, type, key, "an array of CPU numbers",
			      "an array holding something else");
	}
	qsort(cpus, n, sizeof(*cpus), cmp_long);
	for (i = 0; i < n;) {
		size_t k = i;

		while (k + 1 < n && cpus[k + 1] <= cpus[k] + 1)
			k++;
		strbuf_addf(&sb, "%s%ld", sb.len ? "," : "", cpus[i]);
		if (cpus[k] != cpus[i])
			strbuf_addf(&sb, "-%ld", cpus[k]);	/* as the kernel writes it */
		i = k + 1;
	}
	free(cpus);
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- records ------------------------------------------------------------ */

/* "1,2,2,1" or "1n2l2c1t" as the short form; anything else as given. */
static void set_topology(struct verdict *v, const char *topo)
{
	struct ktstr_topo t;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;

	if (v->topology || !topo)
		return;
	if (!topo_parse(topo, &t, &err)) {
		topo_format_short(&t, &sb);
		v->topology = strbuf_detach(&sb, NULL);
	} else {
		v->topology = one_line(topo);
	}
	strbuf_release(&err);
}

static void feed_vm_start(struct verdict *v, const json_t *rec)
{
	const char *t = get_str(v, rec, "vm_start", "topology");
	const char *accel = get_str(v, rec, "vm_start", "accel");

	const char *scenario = get_str(v, rec, "vm_start", "scenario");
	json_t *sched = json_object_get(rec, "scheduler");

	v->saw_vm_start = true;
	/* A scenario run's names, until scenario_start confirms them. */
	if (scenario && !v->scenario)
		replace_name(&v->scenario, scenario);
	if (json_is_string(sched) && !v->scheduler)
		replace_name(&v->scheduler, json_string_value(sched));
	else if (json_is_null(sched))
		v->default_sched = true;
	if (accel)
		replace_name(&v->accel, accel);
	if (t) {	/* ktstr-vm's own word wins over the scenario's */
		free(v->topology);
		v->topology = one_line(t);
	}
}

/* One row's value in scenario_start.checks, which carries the scenario's
 * effective thresholds under the check table's keys (an alias is read too,
 * so a stream written under an older name still counts): for a limit, null
 * is "off" (INFINITY) and a missing key is "not set" (the default applies). */
static void scenario_check(struct verdict *v, const json_t *checks,
			   const struct check_def *d, struct checks *c)
{
	const char *key = d->key;
	json_t *j = json_object_get(checks, key);
	double x;
	int b;

	for (size_t i = 0; !j && d->aliases[i]; i++)
		j = json_object_get(checks, key = d->aliases[i]);
	if (!j)
		return;
	if (d->kind == CHECK_SWITCH) {
		if ((b = get_bool(v, checks, "scenario_start.checks", key)) >= 0)
			*check_switch(c, d) = b;
	} else if (json_is_null(j)) {
		*check_limit(c, d) = INFINITY;
	} else if (get_num(v, checks, "scenario_start.checks", key, true, &x)) {
		*check_limit(c, d) = x;
	}
}

static void feed_scenario_start(struct verdict *v, const json_t *rec)
{
	const char *name = get_str(v, rec, "scenario_start", "name");
	const char *topo = get_str(v, rec, "scenario_start", "topo");
	json_t *sched = json_object_get(rec, "scheduler");
	json_t *checks = json_object_get(rec, "checks");
	struct checks *c = &v->scenario_checks;
	const struct check_def *t;
	size_t n;

	if (v->saw_start) {
		verdict_warn(v, "a second scenario_start (one run per input is read);"
			     " its settings are ignored");
		return;
	}
	v->saw_start = true;
	if (name)
		replace_name(&v->scenario, name);
	set_num(v, rec, "scenario_start", "duration_ms", true, &v->duration_ms);
	set_num(v, rec, "scenario_start", "cpus", true, &v->start_cpus);
	if (json_is_string(sched))
		replace_name(&v->scheduler, json_string_value(sched));
	else if (sched && !json_is_null(sched))
		weird(v, "scenario_start", "scheduler", "a name or null", json_kind_name(sched));
	set_topology(v, topo);
	if (!checks || json_is_null(checks))
		return;
	if (!json_is_object(checks)) {
		weird(v, "scenario_start", "checks", "an object", json_kind_name(checks));
		return;
	}
	t = checktab(&n);
	for (size_t i = 0; i < n; i++)
		if (t[i].kind != CHECK_ALWAYS)
			scenario_check(v, checks, &t[i], c);
}

/* ktstr-vm prints this instead of booting when the scenario does not fit
 * the topology, so it may be the only record. */
static void feed_scenario_skip(struct verdict *v, const json_t *rec)
{
	const char *name = get_str(v, rec, "scenario_skip", "name");
	const char *reason = get_str(v, rec, "scenario_skip", "reason");

	v->saw_skip = true;
	if (name && !v->scenario)
		replace_name(&v->scenario, name);
	set_topology(v, get_str(v, rec, "scenario_skip", "topology"));
	if (!v->skip_reason)
		v->skip_reason = one_line(reason ? reason : "no reason given");
}

static void feed_scheduler(struct verdict *v, const json_t *rec)
{
	const char *ev = get_str(v, rec, "scheduler", "event");
	const char *name = get_str(v, rec, "scheduler", "name");

	if (name && !v->scheduler)
		replace_name(&v->scheduler, name);
	if (!ev || (strcmp(ev, "died") && strcmp(ev, "attach_failed")))
		return;
	if (v->sched_event)	/* the first death explains the rest */
		return;
	v->sched_event = xstrdup(ev);
	replace_str(&v->sched_reason, get_str(v, rec, "scheduler", "reason"));
	set_num(v, rec, "scheduler", "at_ms", true, &v->sched_at_ms);
	set_num(v, rec, "scheduler", "exit_code", false, &v->sched_exit_code);
	get_lines(v, rec, "scheduler", "kernel_log", &v->sched_kernel_log);
	get_lines(v, rec, "scheduler", "output", &v->sched_output);
}

static void feed_sched_ext_events(struct verdict *v, const json_t *rec)
{
	json_t *deltas = json_object_get(rec, "deltas"), *val;
	const char *key;

	if (!deltas || json_is_null(deltas))
		return;
	if (!json_is_object(deltas)) {
		weird(v, "sched_ext_events", "deltas", "an object", json_kind_name(deltas));
		return;
	}
	json_object_foreach(deltas, key, val) {
		json_t *sum = json_object_get(v->scx_events, key);
		double d;

		if (!json_is_number(val) || !isfinite(json_number_value(val))) {
			weird(v, "sched_ext_events.deltas", key, "a number", json_kind_name(val));
			continue;
		}
		d = json_number_value(val) + (sum ? json_number_value(sum) : 0);
		json_object_set_new(v->scx_events, key, json_num(d));
	}
}

static void feed_worker(struct verdict *v, const json_t *rec)
{
	struct verdict_worker *w;
	const char *cg = get_str(v, rec, "worker", "cgroup");
	double sig;
	int crashed;

	if (v->n_workers == v->alloc_workers) {
		v->alloc_workers = v->alloc_workers ? 2 * v->alloc_workers : 16;
		v->workers = xrealloc(v->workers, v->alloc_workers * sizeof(*w));
	}
	w = &v->workers[v->n_workers++];
	memset(w, 0, sizeof(*w));
	w->cgroup = one_line(cg ? cg : "?");
	set_num(v, rec, "worker", "index", true, &w->index);
	set_num(v, rec, "worker", "pid", true, &w->pid);
	set_num(v, rec, "worker", "iterations", true, &w->iterations);
	set_num(v, rec, "worker", "off_cpu_pct", true, &w->off_cpu_pct);
	set_num(v, rec, "worker", "wall_time_us", true, &w->wall_time_us);
	w->cpus_used = get_cpulist(v, rec, "worker", "cpus_used");
	w->stop_timeout = get_bool(v, rec, "worker", "stop_timeout") == 1;
	crashed = get_bool(v, rec, "worker", "crashed");
	if (get_num(v, rec, "worker", "signal", true, &sig) && sig > 0 && sig < 1024)
		w->signal = (int)sig;
	w->crashed = crashed == 1 || (crashed < 0 && w->signal);
}

static void feed_cgroup_stats(struct verdict *v, const json_t *rec)
{
	static const char T[] = "cgroup_stats";
	struct verdict_cgroup *c;
	const char *name = get_str(v, rec, T, "cgroup");

	if (v->n_cgroups == v->alloc_cgroups) {
		v->alloc_cgroups = v->alloc_cgroups ? 2 * v->alloc_cgroups : 8;
		v->cgroups = xrealloc(v->cgroups, v->alloc_cgroups * sizeof(*c));
	}
	c = &v->cgroups[v->n_cgroups++];
	memset(c, 0, sizeof(*c));
	c->name = one_line(name ? name : "?");
	c->n_cpus_used = NAN;
	c->group = SIZE_MAX;
	c->background = get_bool(v, rec, T, "background") == 1;
	c->cpuset = get_cpulist(v, rec, T, "cpuset");
	c->violating_cpus = get_cpulist(v, rec, T, "violating_cpus");
	set_num(v, rec, T, "workers", true, &c->workers);
	set_num(v, rec, T, "cpus", true, &c->cpus);
	set_num(v, rec, T, "spread_pct", true, &c->spread_pct);
	set_num(v, rec, T, "worst_gap_ms", true, &c->worst_gap_ms);
	set_cpu(v, rec, T, "worst_gap_cpu", &c->worst_gap_cpu);
	set_num(v, rec, T, "worst_gap_at_ms", true, &c->worst_gap_at_ms);
	set_num(v, rec, T, "migrations", true, &c->migrations);
	set_num(v, rec, T, "iterations", true, &c->iterations);
	set_num(v, rec, T, "iterations_per_sec", true, &c->iterations_per_sec);
	set_num(v, rec, T, "p50_wake_latency_us", true, &c->p50_wake_latency_us);
	set_num(v, rec, T, "p99_wake_latency_us", true, &c->p99_wake_latency_us);
	set_num(v, rec, T, "isolation_violations", true, &c->isolation_violations);
	set_num(v, rec, T, "starved_workers", true, &c->starved_workers);
}

static void feed_scenario_end(struct verdict *v, const json_t *rec)
{
	static const char T[] = "scenario_end";
	int alive;

	v->saw_end = true;
	set_num(v, rec, T, "elapsed_ms", true, &v->end_elapsed_ms);
	set_num(v, rec, T, "workers", true, &v->end_workers);
	set_num(v, rec, T, "cpus", true, &v->end_cpus);
	set_num(v, rec, T, "migrations", true, &v->end_migrations);
	set_num(v, rec, T, "worst_spread_pct", true, &v->end_worst_spread_pct);
	set_num(v, rec, T, "worst_gap_ms", true, &v->end_worst_gap_ms);
	alive = get_bool(v, rec, T, "scheduler_alive");
	if (alive >= 0)
		v->end_scheduler_alive = alive;
	replace_name(&v->end_error, get_str(v, rec, T, "error"));
}

static void set_error(struct verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	if (v->error_reason)	/* the first setup problem is the cause */
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	line = one_line(msg);
	free(msg);
	v->error_reason = line;
}

/* The VM or the host failed: the run says nothing about the scheduler.
 * The first such problem is the cause. */
static void set_infra(struct verdict *v, const char *what, const char *msg)
{
	char *line;

	if (v->infra_reason)
		return;
	line = xasprintf("%s: %s", what, msg ? msg : "no message");
	v->infra_reason = one_line(line);
	free(line);
}

static void feed_vm_exit(struct verdict *v, const json_t *rec)
{
	static const char T[] = "vm_exit";
	const char *reason = get_str(v, rec, T, "reason");
	const char *msg = get_str(v, rec, T, "message");
	/* Before the agent reported, nothing of the scenario ran yet. */
	bool booting = !v->saw_agent_ready && !v->saw_start;

	replace_str(&v->vm_exit_reason, reason ? reason : "?");
	replace_str(&v->vm_exit_message, msg);
	replace_str(&v->vm_panic, get_str(v, rec, T, "panic"));
	replace_str(&v->console_log, get_str(v, rec, T, "console_log"));
	set_num(v, rec, T, "wall_ms", true, &v->vm_wall_ms);
	/* ktstr-vm may carry the console's last lines itself; the file it
	 * names may be gone or on another machine by the time we read. */
	strvec_clear(&v->console_tail);
	v->console_tail_read = false;
	get_lines(v, rec, T, "console_tail", &v->console_tail);
	if (!reason)
		return;
	if (!strcmp(reason, "qemu_error"))
		set_infra(v, "QEMU failed", msg);
	else if (!strcmp(reason, "boot_timeout"))
		set_infra(v, "the VM did not boot in time", msg);
	else if (!strcmp(reason, "host_error"))
		set_infra(v, "host-side error", msg);
	else if (!strcmp(reason, "no_agent") && booting)
		set_infra(v, "the guest agent never came up", msg);
	else if (!strcmp(reason, "timeout") && booting)
		set_infra(v, "the VM overran its timeout before the guest agent came up", msg);
	else if (!strcmp(reason, "agent_error"))
		set_error(v, "guest agent error: %s", msg ? msg : "no message");
}

static void feed_output(struct verdict *v, const json_t *rec)
{
	const char *line = get_str(v, rec, "output", "line");

	if (!line)
		return;
	if (v->output_tail.n == OUTPUT_TAIL_LINES) {
		free(v->output_tail.v[0]);
		memmove(v->output_tail.v, v->output_tail.v + 1,
			(OUTPUT_TAIL_LINES - 1) * sizeof(char *));
		v->output_tail.v[--v->output_tail.n] = NULL;
	}
	strvec_push(&v->output_tail, line);
}

/* A set_affinity op narrows where its cgroup's workers may run: the
 * machine checks judge the cgroup by its last one (cpus), not by its
 * cpuset. */
static void feed_stimulus(struct verdict *v, const json_t *rec)
{
	const char *op = get_str(v, rec, "stimulus", "op");
	const char *cg = get_str(v, rec, "stimulus", "cgroup");
	const char *cpus = get_str(v, rec, "stimulus", "cpus");

	if (op && cg && cpus && !strcmp(op, "set_affinity") && !json_object_get(rec, "error") &&
	    json_object_size(v->affinity) < 4096)
		json_object_set_new(v->affinity, cg, json_string(cpus));
}

void verdict_feed(struct verdict *v, const json_t *rec)
{
	const char *type = json_get_str(rec, "type");
	const char *s;

	v->records++;
	if (!type)
		return;
	v->known++;
	/* The timeline records carry host_ms (from ktstr-vm) that lines them
	 * up with the monitor's samples; they are read below as well. */
	if (!strcmp(type, "scenario_start") || !strcmp(type, "step") ||
	    !strcmp(type, "stimulus") || !strcmp(type, "scenario_end"))
		machine_timeline(&v->machine, rec, type);
	if (!strcmp(type, "vm_start")) {
		feed_vm_start(v, rec);
	} else if (!strcmp(type, "agent_ready")) {
		v->saw_agent_ready = true;
	} else if (!strcmp(type, "scenario_start")) {
		feed_scenario_start(v, rec);
	} else if (!strcmp(type, "scheduler")) {
		feed_scheduler(v, rec);
	} else if (!strcmp(type, "sched_ext_events")) {
		feed_sched_ext_events(v, rec);
	} else if (!strcmp(type, "worker")) {
		feed_worker(v, rec);
	} else if (!strcmp(type, "cgroup_stats")) {
		feed_cgroup_stats(v, rec);
	} else if (!strcmp(type, "scenario_end")) {
		feed_scenario_end(v, rec);
	} else if (!strcmp(type, "scenario_skip")) {
		feed_scenario_skip(v, rec);
	} else if (!strcmp(type, "scenario_error")) {
		s = get_str(v, rec, "scenario_error", "message");
		set_error(v, "scenario error: %s", s ? s : "no message");
	} else if (!strcmp(type, "agent_error")) {
		s = get_str(v, rec, "agent_error", "message");
		set_error(v, "guest agent error: %s", s ? s : "no message");
	} else if (!strcmp(type, "output")) {
		feed_output(v, rec);
	} else if (!strcmp(type, "exit")) {
		set_num(v, rec, "exit", "exit_code", false, &v->cmd_exit_code);
	} else if (!strcmp(type, "vm_exit")) {
		feed_vm_exit(v, rec);
	} else if (!strcmp(type, "monitor") || !strcmp(type, "monitor_start") ||
		   !strcmp(type, "monitor_end") || !strcmp(type, "monitor_unavailable")) {
		machine_feed(&v->machine, rec, type);
	} else if (!strcmp(type, "stimulus")) {
		feed_stimulus(v, rec);
	} else if (!strcmp(type, "step") ||
		   !strcmp(type, "guest_topology") || !strcmp(type, "initramfs")) {
		/* known, nothing to check */
	} else {
		/* Unknown types (and our own verdict records, should a stored
		 * stream carry one) are ignored. */
		v->known--;
	}
}

/* jansson rejects integers beyond 64 bits; read such a line with every
 * integer as a real instead, so one odd counter does not lose a record. */
static json_t *parse_big_ints(const char *line, size_t len)
{
	json_error_t jerr;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	if (rec) {
		json_decref(rec);
		return NULL;
	}
	if (json_error_code(&jerr) != json_error_numeric_overflow)
		return NULL;
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (rec && (!json_is_object(rec) || !json_is_string(json_object_get(rec, "type")))) {
		json_decref(rec);
		rec = NULL;
	}
	return rec;
}

int verdict_feed_line(struct verdict *v, const char *line, size_t len,
		      unsigned long lineno, struct strbuf *err)
{
	size_t i, err_len = err->len;
	json_t *rec;

	v->line = lineno;
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return 0;
	rec = jsonl_parse(line, len, err);
	if (!rec && (rec = parse_big_ints(line, len)))
		strbuf_setlen(err, err_len);
	if (!rec) {
		v->bad_lines++;
		return -1;
	}
	verdict_feed(v, rec);
	json_decref(rec);
	return 0;
}

/* ---- thresholds --------------------------------------------------------- */

static double pick(double flag, double scen, double def)
{
	if (!isnan(flag))
		return isinf(flag) ? NAN : flag;
	if (!isnan(scen))
		return isinf(scen) ? NAN : scen;
	return def;
}

static int pick_switch(int flag, int scen, int def)
{
	return flag >= 0 ? flag : scen >= 0 ? scen : def;
}

void verdict_thresholds(const struct checks *scen, const struct checks *flags,
			struct checks *out)
{
	const struct check_def *t;
	struct checks none;
	size_t i, n;

	checks_init(&none);
	if (!flags)
		flags = &none;
	if (!scen)
		scen = &none;
	checks_init(out);
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT)
			*check_limit(out, &t[i]) = pick(check_limit_get(flags, &t[i]),
							check_limit_get(scen, &t[i]), t[i].def);
		else if (t[i].kind == CHECK_SWITCH)
			*check_switch(out, &t[i]) = pick_switch(check_switch_get(flags, &t[i]),
								check_switch_get(scen, &t[i]),
								t[i].def != 0);
	}
}

/* ---- evaluation --------------------------------------------------------- */

double verdict_margin_pct(const struct verdict_check *c)
{
	if (c->bound == VERDICT_NONE || isnan(c->value) || isnan(c->limit) || c->limit == 0)
		return NAN;
	if (c->bound == VERDICT_AT_MOST)
		return (c->limit - c->value) / c->limit * 100.0;
	return (c->value - c->limit) / c->limit * 100.0;
}

static struct verdict_check *add_check(struct verdict *v, const char *check,
				       const char *cgroup, double value, double limit,
				       enum verdict_bound bound)
{
	struct verdict_check *c;

	if (v->n_checks == v->alloc_checks) {
		v->alloc_checks = v->alloc_checks ? 2 * v->alloc_checks : 16;
		v->checks = xrealloc(v->checks, v->alloc_checks * sizeof(*c));
	}
	c = &v->checks[v->n_checks++];
	memset(c, 0, sizeof(*c));
	c->check = check;
	c->cgroup = cgroup ? xstrdup(cgroup) : NULL;
	c->value = value;
	c->limit = limit;
	c->bound = bound;
	c->ended_at_ms = NAN;
	if (bound == VERDICT_AT_MOST)
		c->pass = value <= limit;
	else if (bound == VERDICT_AT_LEAST)
		c->pass = value >= limit;
	else
		c->pass = true;
	return c;
}

static void fail_check(struct verdict *v, struct verdict_check *c, struct strbuf *msg)
{
	c->pass = false;
	c->message = one_line(msg->buf);
	strbuf_reset(msg);
	v->n_failures++;
}

static void add_worker_id(struct strbuf *sb, const struct verdict_worker *w)
{
	strbuf_addstr(sb, "worker ");
	add_num(sb, w->index);
	if (!isnan(w->pid)) {
		strbuf_addstr(sb, " (pid ");
		add_num(sb, w->pid);
		strbuf_addch(sb, ')');
	}
}

/* The k-th cgroup_stats record and worker of a group. */
static struct verdict_cgroup *group_cgroup(const struct verdict *v,
					   const struct verdict_group *gr, size_t k)
{
	return &v->cgroups[v->group_idx[gr->first + k]];
}

static struct verdict_worker *group_worker(const struct verdict *v,
					   const struct verdict_group *gr, size_t k)
{
	return &v->workers[v->group_idx[gr->first + gr->n_cgroups + k] - v->n_cgroups];
}

/* Starvation and crashes, from worker records and cgroup_stats counts. */
static void eval_workers(struct verdict *v, const struct verdict_group *gr,
			 struct strbuf *msg)
{
	const char *cg = gr->name;
	double starved = 0, reported = NAN, crashed = 0;
	bool any_worker = gr->n_workers > 0;
	size_t i, n_listed = 0;
	struct verdict_check *c;

	for (i = 0; i < gr->n_cgroups; i++) {
		const struct verdict_cgroup *g = group_cgroup(v, gr, i);

		if (!isnan(g->starved_workers))
			reported = isnan(reported) ? g->starved_workers
						   : max2(reported, g->starved_workers);
	}
	for (i = 0; i < gr->n_workers; i++) {
		const struct verdict_worker *w = group_worker(v, gr, i);

		if (w->iterations == 0)
			starved++;
		if (w->crashed)
			crashed++;
	}

	if (v->limits.starvation && (any_worker || !isnan(reported))) {
		double n = isnan(reported) ? starved : max2(starved, reported);

		c = add_check(v, "starvation", cg, n, 0, VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "starved: %s ", cg);
			for (i = 0; i < gr->n_workers; i++) {
				const struct verdict_worker *w = group_worker(v, gr, i);

				if (w->iterations != 0)
					continue;
				if (n_listed++)
					strbuf_addstr(msg, ", ");
				add_worker_id(msg, w);
			}
			if (!n_listed) {
				add_num(msg, n);
				strbuf_addstr(msg, n == 1 ? " worker" : " workers");
			}
			strbuf_addstr(msg, " did no work");
			if (n_listed && n > n_listed) {
				strbuf_addstr(msg, " (");
				add_num(msg, n);
				strbuf_addstr(msg, " workers starved in all)");
			}
			fail_check(v, c, msg);
		}
	}

	if (any_worker) {
		c = add_check(v, "crash", cg, crashed, 0, VERDICT_AT_MOST);
		if (!c->pass) {
			n_listed = 0;
			strbuf_addf(msg, "worker crashed: %s ", cg);
			for (i = 0; i < gr->n_workers; i++) {
				const struct verdict_worker *w = group_worker(v, gr, i);
				const char *abbrev;

				if (!w->crashed)
					continue;
				if (n_listed++)
					strbuf_addstr(msg, ", ");
				add_worker_id(msg, w);
				if (w->signal) {
					abbrev = sigabbrev_np(w->signal);
					if (abbrev)
						strbuf_addf(msg, " killed by SIG%s", abbrev);
					else
						strbuf_addf(msg, " killed by signal %d", w->signal);
				}
			}
			fail_check(v, c, msg);
		}
	}
}

static void eval_cgroup(struct verdict *v, const struct verdict_cgroup *g,
			struct strbuf *msg)
{
	const struct checks *L = &v->limits;
	struct verdict_check *c;

	if (!isnan(L->max_spread_pct) && !isnan(g->spread_pct)) {
		c = add_check(v, "spread", g->name, g->spread_pct, L->max_spread_pct,
			      VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "unfair: %s spread %.1f%% > ", g->name, g->spread_pct);
			add_num(msg, L->max_spread_pct);
			strbuf_addch(msg, '%');
			fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_gap_ms) && !isnan(g->worst_gap_ms)) {
		c = add_check(v, "gap", g->name, g->worst_gap_ms, L->max_gap_ms,
			      VERDICT_AT_MOST);
		if (!g->never_ran && !isnan(g->worst_gap_at_ms))
			c->ended_at_ms = g->worst_gap_at_ms + g->worst_gap_ms;
		if (!c->pass) {
			strbuf_addstr(msg, "stuck ");
			add_num(msg, g->worst_gap_ms);
			strbuf_addstr(msg, "ms");
			if (g->never_ran) {
				strbuf_addf(msg, " (%s never ran: the whole run)", g->name);
			} else {
				if (!isnan(g->worst_gap_cpu)) {
					strbuf_addstr(msg, " on cpu");
					add_num(msg, g->worst_gap_cpu);
				}
				if (!isnan(g->worst_gap_at_ms)) {
					strbuf_addstr(msg, " at +");
					add_num(msg, g->worst_gap_at_ms);
					strbuf_addstr(msg, "ms");
				}
				strbuf_addf(msg, " (%s)", g->name);
			}
			fail_check(v, c, msg);
		}
	}
	if (L->isolation && !isnan(g->isolation_violations)) {
		c = add_check(v, "isolation", g->name, g->isolation_violations, 0,
			      VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "cpuset violated: %s ran", g->name);
			if (g->violating_cpus)
				strbuf_addf(msg, " on cpu%s %s",
					    strpbrk(g->violating_cpus, ",-") ? "s" : "",
					    g->violating_cpus);
			if (g->cpuset)
				strbuf_addf(msg, " outside %s", g->cpuset);
			else
				strbuf_addstr(msg, " outside its cpuset");
			if (!g->violating_cpus) {
				strbuf_addstr(msg, " (");
				add_num(msg, g->isolation_violations);
				strbuf_addstr(msg, g->isolation_violations == 1 ? " violation)"
									: " violations)");
			}
			fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_p99_wake_latency_us) && !isnan(g->p99_wake_latency_us)) {
		c = add_check(v, "p99_wake_latency", g->name, g->p99_wake_latency_us,
			      L->max_p99_wake_latency_us, VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "slow wakeups: %s p99 wake latency ", g->name);
			add_num(msg, g->p99_wake_latency_us);
			strbuf_addstr(msg, "us > ");
			add_num(msg, L->max_p99_wake_latency_us);
			strbuf_addstr(msg, "us");
			fail_check(v, c, msg);
		}
	}
	if (!isnan(L->min_iterations_per_sec) && !isnan(g->iterations_per_sec)) {
		c = add_check(v, "iteration_rate", g->name, g->iterations_per_sec,
			      L->min_iterations_per_sec, VERDICT_AT_LEAST);
		if (!c->pass) {
			strbuf_addf(msg, "too little progress: %s ", g->name);
			add_num(msg, g->iterations_per_sec);
			strbuf_addstr(msg, " iterations/s < ");
			add_num(msg, L->min_iterations_per_sec);
			if (v->accel && !strcmp(v->accel, "tcg"))
				strbuf_addstr(msg, " (under TCG: see the note on rates)");
			fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_migration_ratio) && !isnan(g->migrations) &&
	    !isnan(g->iterations) && g->iterations > 0) {
		double ratio = g->migrations / g->iterations;

		c = add_check(v, "migration_ratio", g->name, ratio, L->max_migration_ratio,
			      VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "migrating too much: %s ", g->name);
			add_num(msg, g->migrations);
			strbuf_addstr(msg, " migrations in ");
			add_num(msg, g->iterations);
			strbuf_addf(msg, " iterations (%.4g per iteration) > ", ratio);
			add_num(msg, L->max_migration_ratio);
			fail_check(v, c, msg);
		}
	}
}

static void eval_scheduler(struct verdict *v, struct strbuf *msg)
{
	struct verdict_check *c;
	bool died = v->sched_event != NULL;
	bool gone = !died && v->scheduler && v->end_scheduler_alive == 0;

	if (!v->scheduler && !died)
		return;
	c = add_check(v, "scheduler", NULL, NAN, NAN, VERDICT_NONE);
	if (!died && !gone)
		return;
	if (gone) {
		if (v->end_error)
			strbuf_addf(msg, "scheduler failed: %s", v->end_error);
		else
			strbuf_addstr(msg, "scheduler died: it was no longer running"
				      " at scenario_end");
		fail_check(v, c, msg);
		return;
	}
	if (!strcmp(v->sched_event, "attach_failed"))
		strbuf_addstr(msg, "scheduler failed to attach");
	else
		strbuf_addstr(msg, "scheduler died");
	if (!isnan(v->sched_at_ms)) {
		strbuf_addstr(msg, " at +");
		add_num(msg, v->sched_at_ms);
		strbuf_addstr(msg, "ms");
	}
	if (v->sched_reason && *v->sched_reason) {
		strbuf_addf(msg, ": %s", v->sched_reason);
	} else if (!isnan(v->sched_exit_code)) {
		strbuf_addstr(msg, ": exited with status ");
		add_num(msg, v->sched_exit_code);
	} else {
		strbuf_addstr(msg, ": no reason given");
	}
	for (size_t i = 0; i < v->sched_kernel_log.n; i++)
		strvec_push(&c->kernel_log, v->sched_kernel_log.v[i]);
	for (size_t i = 0; i < v->sched_output.n; i++)
		strvec_push(&c->output, v->sched_output.v[i]);
	fail_check(v, c, msg);
}

static void eval_vm(struct verdict *v, struct strbuf *msg)
{
	const char *r = v->vm_exit_reason;
	struct verdict_check *c;

	if (!r)
		return;
	c = add_check(v, "vm", NULL, NAN, NAN, VERDICT_NONE);
	if (!strcmp(r, "panic")) {
		strbuf_addstr(msg, "guest kernel panic: ");
		strbuf_addstr(msg, v->vm_panic ? v->vm_panic :
			      v->vm_exit_message ? v->vm_exit_message : "no panic line captured");
		if (v->console_log)
			strbuf_addf(msg, " (console log: %s)", v->console_log);
		fail_check(v, c, msg);
	} else if (!strcmp(r, "timeout") && !v->saw_end && !v->infra_reason) {
		strbuf_addstr(msg, "VM overran its timeout");
		if (!isnan(v->vm_wall_ms)) {
			strbuf_addstr(msg, " after ");
			add_num(msg, v->vm_wall_ms);
			strbuf_addstr(msg, "ms");
		}
		if (v->vm_exit_message)
			strbuf_addf(msg, ": %s", v->vm_exit_message);
		fail_check(v, c, msg);
	} else if (!strcmp(r, "no_agent") && !v->saw_end && !v->error_reason &&
		   !v->infra_reason) {
		strbuf_addstr(msg, "VM stopped before the scenario ended");
		if (v->vm_exit_message)
			strbuf_addf(msg, ": %s", v->vm_exit_message);
		fail_check(v, c, msg);
	}
}

static void set_reason(struct verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_reason(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	free(v->reason);
	v->reason = one_line(s);
	free(s);
}

/* The machine checks, over the host-side monitor's samples (machine.c):
 * work conservation is judged within the cgroups' cpusets, or the CPUs
 * their last set_affinity allowed.  No monitor
 * samples in the run: nothing is evaluated, so older streams keep their
 * verdicts. */
static void eval_machine(struct verdict *v, struct strbuf *msg)
{
	const char **cpusets = xcalloc(v->n_cgroups + 1, sizeof(*cpusets));
	struct machine_result *r = &v->machine_result;
	struct verdict_check *c;

	for (size_t i = 0; i < v->n_cgroups; i++) {
		const char *aff = json_string_value(json_object_get(v->affinity,
								    v->cgroups[i].name));

		cpusets[i] = aff ? aff : v->cgroups[i].cpuset;
	}
	machine_eval(&v->machine, cpusets, v->n_cgroups, &v->limits, r);
	free(cpusets);
	for (unsigned k = 0; k < MCHK_N; k++) {
		const struct machine_check *m = &r->checks[k];

		if (!m->evaluated || isnan(m->limit))
			continue;
		c = add_check(v, m->name, NULL, m->value, m->limit, VERDICT_AT_MOST);
		if (!m->pass) {
			strbuf_addstr(msg, m->message ? m->message : m->name);
			fail_check(v, c, msg);
		}
	}
}

/* ---- grouping by cgroup name ------------------------------------------- */

/* Records are grouped by sorting once (ids: cgroup_stats records first,
 * then workers offset by n_cgroups), so the work stays O(n log n) however
 * many cgroups a stream names: a scan per name would be quadratic. */
static const char *id_name(const struct verdict *v, size_t id)
{
	return id < v->n_cgroups ? v->cgroups[id].name : v->workers[id - v->n_cgroups].cgroup;
}

static int cmp_id(const void *a, const void *b, void *ctx)
{
	const struct verdict *v = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(id_name(v, x), id_name(v, y));

	return c ? c : x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
	size_t x = ((const struct verdict_group *)a)->order;
	size_t y = ((const struct verdict_group *)b)->order;

	return x < y ? -1 : x > y;
}

/* Fill v->groups in order of first appearance (cgroup_stats records
 * first, then names seen only in worker records).  A group is checked
 * when it has a non-background cgroup_stats record, or workers and no
 * background record. */
static void group_records(struct verdict *v)
{
	size_t n = v->n_cgroups + v->n_workers, i, j;

	v->group_idx = xcalloc(n + 1, sizeof(*v->group_idx));
	v->groups = xcalloc(n + 1, sizeof(*v->groups));
	for (i = 0; i < n; i++)
		v->group_idx[i] = i;
	qsort_r(v->group_idx, n, sizeof(*v->group_idx), cmp_id, v);
	for (i = 0; i < n; i = j) {
		struct verdict_group *gr = &v->groups[v->n_groups++];
		bool bg = false, plain = false;
		size_t first_plain = SIZE_MAX;

		gr->name = id_name(v, v->group_idx[i]);
		gr->first = i;
		for (j = i; j < n && !strcmp(id_name(v, v->group_idx[j]), gr->name); j++) {
			size_t id = v->group_idx[j];

			if (id >= v->n_cgroups) {
				gr->n_workers++;
				continue;
			}
			gr->n_cgroups++;
			if (v->cgroups[id].background) {
				bg = true;
			} else if (!plain) {
				plain = true;
				first_plain = id;
			}
		}
		gr->checked = plain || (gr->n_workers && !bg);
		gr->lead = first_plain;
		gr->order = plain ? first_plain : v->group_idx[i + gr->n_cgroups];
		if (!plain && !gr->n_workers)
			gr->order = v->group_idx[i];
	}
	qsort(v->groups, v->n_groups, sizeof(*v->groups), cmp_group);
	for (i = 0; i < v->n_groups; i++)
		for (j = 0; j < v->groups[i].n_cgroups; j++)
			group_cgroup(v, &v->groups[i], j)->group = i;
}

/* Add the CPUs of cpulist s ("0-3,6") below CPUS_MAX to mask; returns how
 * many were new.  *top: one past the highest CPU set so far, so clearing
 * and formatting the mask costs what was used, not CPUS_MAX. */
static size_t mask_add(bool *mask, const char *s, long *top)
{
	size_t added = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			break;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				break;
		}
		for (long c = a; c <= b && c < CPUS_MAX; c++) {
			if (!mask[c]) {
				mask[c] = true;
				added++;
			}
			if (c >= *top)
				*top = c + 1;
		}
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			break;
	}
	return added;
}

/* The length of the run, for a cgroup that never ran: scenario_end's,
 * else the planned duration, else its longest-lived worker's. */
static double run_length_ms(const struct verdict *v, const struct verdict_group *gr)
{
	double wall = NAN;

	if (!isnan(v->end_elapsed_ms))
		return v->end_elapsed_ms;
	if (!isnan(v->duration_ms))
		return v->duration_ms;
	for (size_t i = 0; i < gr->n_workers; i++)
		wall = nan_max(wall, group_worker(v, gr, i)->wall_time_us / 1000);
	return wall;
}

/* Per group: the CPUs its workers used, and the gap of a cgroup that
 * never ran (the guest reports 0 there: no gap ever closed). */
static void derive_groups(struct verdict *v)
{
	bool *mask = xcalloc(CPUS_MAX, sizeof(*mask));
	struct strbuf sb = STRBUF_INIT;

	for (size_t gi = 0; gi < v->n_groups; gi++) {
		const struct verdict_group *gr = &v->groups[gi];
		size_t used = 0, with_list = 0, idle = 0;
		long top = 0;
		double len;

		for (size_t i = 0; i < gr->n_workers; i++) {
			const struct verdict_worker *w = group_worker(v, gr, i);

			if (w->cpus_used) {
				used += mask_add(mask, w->cpus_used, &top);
				with_list++;
			}
			idle += w->iterations == 0;
		}
		strbuf_reset(&sb);
		if (with_list)
			cpulist_format(mask, (unsigned)top, &sb);
		memset(mask, 0, (size_t)top * sizeof(*mask));
		len = run_length_ms(v, gr);
		for (size_t k = 0; k < gr->n_cgroups; k++) {
			struct verdict_cgroup *g = group_cgroup(v, gr, k);
			bool none = g->iterations == 0 ||
				    (isnan(g->iterations) && gr->n_workers && idle == gr->n_workers);

			if (with_list) {
				g->cpus_used = xstrdup(sb.buf);
				g->n_cpus_used = (double)used;
			}
			if (none && !g->background && g->workers != 0 && !isnan(len) &&
			    !(g->worst_gap_ms >= len)) {
				g->never_ran = true;
				g->worst_gap_ms = len;
				g->worst_gap_cpu = NAN;
				g->worst_gap_at_ms = 0;
			}
		}
	}
	strbuf_release(&sb);
	free(mask);
}

/* Failures that follow from a scheduler death (or failed attach): the
 * cgroups' unfairness, gaps, starvation and slow progress, and the machine
 * checks, are what a dead scheduler looks like, not causes of their own.
 * A gap that closed before the death is its own failure. */
static void mark_secondary(struct verdict *v)
{
	static const char *const follow[] = { "starvation", "spread", "gap",
		"p99_wake_latency", "iteration_rate", "migration_ratio" };
	bool died = false;
	size_t i, k;

	for (i = 0; i < v->n_checks; i++)
		if (!strcmp(v->checks[i].check, "scheduler") && !v->checks[i].pass)
			died = true;
	if (!died)
		return;
	for (i = 0; i < v->n_checks; i++) {
		struct verdict_check *c = &v->checks[i];
		bool sec = false;

		if (c->pass)
			continue;
		for (k = 0; k < ARRAY_SIZE(follow); k++)
			sec |= !strcmp(c->check, follow[k]);
		/* machine checks: run-wide, not the scheduler or the VM */
		sec |= !c->cgroup && strcmp(c->check, "scheduler") && strcmp(c->check, "vm");
		if (!isnan(c->ended_at_ms) && c->ended_at_ms < v->sched_at_ms)
			sec = false;
		if (sec) {
			c->secondary = true;
			v->n_secondary++;
		}
	}
}

/* The last lines of the console log file, for a run that failed before
 * or outside the scenario (vm_exit did not carry them). */
static void read_console_tail(struct verdict *v)
{
	char buf[CONSOLE_TAIL_BYTES + 1], *p, *nl;
	struct strvec lines = STRVEC_INIT;
	ssize_t n;
	off_t size;
	int fd;

	if (v->console_tail.n || !v->console_log)
		return;
	fd = open(v->console_log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > CONSOLE_TAIL_BYTES)
		lseek(fd, size - CONSOLE_TAIL_BYTES, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, CONSOLE_TAIL_BYTES);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = buf;
	/* A partial first line is not worth showing. */
	if (size > CONSOLE_TAIL_BYTES && (nl = memchr(p, '\n', (size_t)n)))
		p = nl + 1;
	while (*p) {
		char *l;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		l = one_line(p);
		if (*l)
			strvec_push(&lines, l);
		free(l);
		if (!nl)
			break;
		p = nl + 1;
	}
	for (size_t i = lines.n > CONSOLE_TAIL_LINES ? lines.n - CONSOLE_TAIL_LINES : 0;
	     i < lines.n; i++)
		strvec_push(&v->console_tail, lines.v[i]);
	v->console_tail_read = v->console_tail.n > 0;
	strvec_clear(&lines);
}

static bool vm_failed(const struct verdict *v)
{
	for (size_t i = 0; i < v->n_checks; i++)
		if (!strcmp(v->checks[i].check, "vm") && !v->checks[i].pass)
			return true;
	return false;
}

void verdict_finish(struct verdict *v, const struct checks *flags)
{
	struct strbuf msg = STRBUF_INIT;
	size_t i, j;

	checks_clear(v);
	verdict_thresholds(&v->scenario_checks, flags, &v->limits);
	group_records(v);
	derive_groups(v);

	eval_vm(v, &msg);
	eval_scheduler(v, &msg);
	for (i = 0; i < v->n_groups; i++) {
		struct verdict_group *gr = &v->groups[i];
		size_t before = v->n_failures;

		if (!gr->checked)
			continue;
		eval_workers(v, gr, &msg);
		for (j = 0; j < gr->n_cgroups; j++)
			if (!group_cgroup(v, gr, j)->background)
				eval_cgroup(v, group_cgroup(v, gr, j), &msg);
		gr->failed = v->n_failures > before;
	}
	eval_machine(v, &msg);
	strbuf_release(&msg);
	mark_secondary(v);
	if (v->accel && !strcmp(v->accel, "tcg"))
		strvec_push(&v->notes, "accel=tcg: QEMU runs every vCPU on one host thread"
			    " (-accel tcg,thread=single), taking turns, so iterations/s,"
			    " wake latencies and gaps measure the emulator as much as the"
			    " scheduler; compare them only with other TCG runs");

	if (!v->records) {
		v->result = VERDICT_ERROR;
		if (v->bad_lines)
			set_reason(v, "no records: none of the %lu input line%s is a JSON record",
				   v->bad_lines, v->bad_lines == 1 ? "" : "s");
		else
			set_reason(v, "no records (empty input)");
	} else if (!v->known) {
		v->result = VERDICT_ERROR;
		set_reason(v, "no ktstr records in the input (is it the output of"
			   " ktstr-vm --scenario?)");
	} else if (v->infra_reason) {
		v->result = VERDICT_ERROR;
		set_reason(v, "%s", v->infra_reason);
	} else if (v->saw_vm_start && !v->saw_agent_ready && !v->saw_start && !v->saw_skip &&
		   !v->vm_exit_reason && !v->interrupted) {
		/* ktstr-vm dies without vm_exit when the host fails it after
		 * vm_start (QEMU cannot be started, no channels). */
		v->result = VERDICT_ERROR;
		set_reason(v, "host-side error: the stream ends after vm_start, before the"
			   " guest agent came up and without vm_exit (ktstr-vm's standard"
			   " error says why)");
	} else if (v->n_failures) {
		v->result = VERDICT_FAIL;
	} else if (v->error_reason) {
		v->result = VERDICT_ERROR;
		set_reason(v, "%s", v->error_reason);
	} else if (v->end_error) {
		v->result = VERDICT_ERROR;
		set_reason(v, "scenario error: %s", v->end_error);
	} else if (v->saw_skip) {
		v->result = VERDICT_SKIP;
		set_reason(v, "%s", v->skip_reason);
	} else if (!v->saw_end) {
		const char *r = v->vm_exit_reason;

		v->result = VERDICT_INCONCLUSIVE;
		if (!r && v->interrupted) {
			set_reason(v, "interrupted: the input ended before scenario_end"
				   " and vm_exit, so the run was cut short");
		} else if (!r) {
			set_reason(v, "the record stream ended before scenario_end"
				   " (truncated input?)");
		} else if (!strcmp(r, "interrupted")) {
			set_reason(v, "the run was interrupted before scenario_end%s%s%s",
				   v->vm_exit_message ? " (" : "",
				   v->vm_exit_message ? v->vm_exit_message : "",
				   v->vm_exit_message ? ")" : "");
		} else if (!v->saw_start) {
			v->result = VERDICT_ERROR;
			set_reason(v, "not a scenario run: the VM ran without a"
				   " scenario_start record (use ktstr-vm --scenario)");
		} else if (!isnan(v->cmd_exit_code)) {
			set_reason(v, "the guest scenario engine exited with status %.0f"
				   " before scenario_end", v->cmd_exit_code);
		} else {
			set_reason(v, "the VM ended (%s) before scenario_end", r);
		}
	} else if (v->interrupted && v->saw_vm_start && !v->vm_exit_reason) {
		v->result = VERDICT_INCONCLUSIVE;
		set_reason(v, "interrupted: the input ended without vm_exit, so the run"
			   " was cut short");
	} else {
		v->result = VERDICT_PASS;
	}
	if (v->result == VERDICT_ERROR || vm_failed(v))
		read_console_tail(v);
}

/* ---- output ------------------------------------------------------------- */

static json_t *check_json(const struct verdict_check *c, bool failure)
{
	json_t *o = json_object();
	double m = verdict_margin_pct(c);

	json_object_set_new(o, "check", json_string(c->check));
	json_object_set_new(o, "cgroup", json_str_or_null(c->cgroup));
	if (failure) {
		json_object_set_new(o, "message", json_string(c->message));
		json_object_set_new(o, "secondary", json_boolean(c->secondary));
	}
	json_object_set_new(o, "value", json_num(c->value));
	json_object_set_new(o, "limit", json_num(c->limit));
	if (!failure) {
		json_object_set_new(o, "margin_pct",
				    isnan(m) ? json_null() : json_real(round1(m)));
		json_object_set_new(o, "pass", json_boolean(c->pass));
	}
	if (failure && !strcmp(c->check, "scheduler")) {
		json_t *k = json_array(), *out = json_array();

		for (size_t i = 0; i < c->kernel_log.n; i++)
			json_array_append_new(k, json_string(c->kernel_log.v[i]));
		for (size_t i = 0; i < c->output.n; i++)
			json_array_append_new(out, json_string(c->output.v[i]));
		json_object_set_new(o, "kernel_log", k);
		json_object_set_new(o, "output", out);
	}
	return o;
}

/* Run-wide numbers: scenario_end's, else summed from cgroup_stats. */
struct totals {
	double workers, cpus, migrations, worst_spread_pct, worst_gap_ms;
};


static void totals(const struct verdict *v, struct totals *t)
{
	struct totals sum = { NAN, NAN, NAN, NAN, NAN };

	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		sum.workers = nan_add(sum.workers, g->workers);
		sum.migrations = nan_add(sum.migrations, g->migrations);
		if (!g->background) {
			sum.worst_spread_pct = nan_max(sum.worst_spread_pct, g->spread_pct);
			sum.worst_gap_ms = nan_max(sum.worst_gap_ms, g->worst_gap_ms);
		}
	}
	t->workers = !isnan(v->end_workers) ? v->end_workers : sum.workers;
	t->cpus = !isnan(v->end_cpus) ? v->end_cpus : v->start_cpus;
	t->migrations = !isnan(v->end_migrations) ? v->end_migrations : sum.migrations;
	t->worst_spread_pct = !isnan(v->end_worst_spread_pct) ? v->end_worst_spread_pct
							       : sum.worst_spread_pct;
	/* A cgroup that never ran has the whole run as its gap, which the
	 * guest's own total does not count. */
	t->worst_gap_ms = nan_max(v->end_worst_gap_ms, sum.worst_gap_ms);
}

static json_t *limits_json(const struct checks *L)
{
	json_t *o = json_object();
	const struct check_def *t;
	size_t i, n;

	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT)
			json_object_set_new(o, t[i].key, json_num(check_limit_get(L, &t[i])));
		else if (t[i].kind == CHECK_SWITCH)
			json_object_set_new(o, t[i].key,
					    json_boolean(check_switch_get(L, &t[i]) > 0));
	}
	return o;
}

static json_t *stats_json(const struct verdict *v)
{
	json_t *o = json_object(), *cgs = json_array(), *ev = json_object(), *val;
	struct totals t;
	const char *key;

	totals(v, &t);
	json_object_set_new(o, "workers", json_num(t.workers));
	json_object_set_new(o, "cpus", json_num(t.cpus));
	json_object_set_new(o, "migrations", json_num(t.migrations));
	json_object_set_new(o, "worst_spread_pct", json_num(t.worst_spread_pct));
	json_object_set_new(o, "worst_gap_ms", json_num(t.worst_gap_ms));
	json_object_set_new(o, "elapsed_ms", json_num(v->end_elapsed_ms));
	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];
		json_t *c = json_object();

		json_object_set_new(c, "cgroup", json_string(g->name));
		json_object_set_new(c, "background", json_boolean(g->background));
		json_object_set_new(c, "workers", json_num(g->workers));
		json_object_set_new(c, "cpus", json_num(g->cpus));
		json_object_set_new(c, "cpuset", json_str_or_null(g->cpuset));
		json_object_set_new(c, "spread_pct", json_num(g->spread_pct));
		json_object_set_new(c, "worst_gap_ms", json_num(g->worst_gap_ms));
		json_object_set_new(c, "worst_gap_cpu", json_num(g->worst_gap_cpu));
		json_object_set_new(c, "worst_gap_at_ms", json_num(g->worst_gap_at_ms));
		json_object_set_new(c, "migrations", json_num(g->migrations));
		json_object_set_new(c, "iterations", json_num(g->iterations));
		json_object_set_new(c, "iterations_per_sec", json_num(g->iterations_per_sec));
		json_object_set_new(c, "p50_wake_latency_us", json_num(g->p50_wake_latency_us));
		json_object_set_new(c, "p99_wake_latency_us", json_num(g->p99_wake_latency_us));
		json_object_set_new(c, "isolation_violations", json_num(g->isolation_violations));
		json_object_set_new(c, "violating_cpus", json_str_or_null(g->violating_cpus));
		json_object_set_new(c, "starved_workers", json_num(g->starved_workers));
		json_object_set_new(c, "never_ran", json_boolean(g->never_ran));
		json_object_set_new(c, "cpus_used", json_str_or_null(g->cpus_used));
		json_array_append_new(cgs, c);
	}
	json_object_set_new(o, "cgroups", cgs);
	json_object_foreach(v->scx_events, key, val)
		if (json_number_value(val) != 0)
			json_object_set(ev, key, val);
	json_object_set_new(o, "sched_ext_events", ev);
	return o;
}

static json_t *strvec_json(const struct strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

/* Workers killed because they did not stop when asked. */
static json_t *stop_timeouts_json(const struct verdict *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n_workers; i++) {
		const struct verdict_worker *w = &v->workers[i];
		json_t *o;

		if (!w->stop_timeout)
			continue;
		o = json_object();
		json_object_set_new(o, "cgroup", json_string(w->cgroup));
		json_object_set_new(o, "index", json_num(w->index));
		json_object_set_new(o, "pid", json_num(w->pid));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *verdict_to_json(const struct verdict *v, const char *source)
{
	json_t *o = jsonl_record("verdict");
	json_t *fails = json_array(), *checks = json_array(), *warns = json_array();
	size_t i;

	if (source)
		json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "scenario", json_str_or_null(v->scenario));
	json_object_set_new(o, "topology", json_str_or_null(v->topology));
	json_object_set_new(o, "scheduler", json_str_or_null(v->scheduler));
	json_object_set_new(o, "accel", json_str_or_null(v->accel));
	json_object_set_new(o, "result", json_string(verdict_result_name(v->result)));
	json_object_set_new(o, "reason", json_str_or_null(v->reason));
	for (i = 0; i < v->n_checks; i++) {
		if (!v->checks[i].pass)
			json_array_append_new(fails, check_json(&v->checks[i], true));
		json_array_append_new(checks, check_json(&v->checks[i], false));
	}
	json_object_set_new(o, "failures", fails);
	json_object_set_new(o, "checks", checks);
	json_object_set_new(o, "stop_timeout_workers", stop_timeouts_json(v));
	json_object_set_new(o, "console_log", json_str_or_null(v->console_log));
	json_object_set_new(o, "console_tail", strvec_json(&v->console_tail));
	json_object_set_new(o, "notes", strvec_json(&v->notes));
	json_object_set_new(o, "thresholds", limits_json(&v->limits));
	json_object_set_new(o, "stats", stats_json(v));
	json_object_set_new(o, "machine", machine_json(&v->machine, &v->machine_result));
	json_object_set_new(o, "phases", machine_phases_json(&v->machine_result));
	for (i = 0; i < v->warnings.n; i++)
		json_array_append_new(warns, json_string(v->warnings.v[i]));
	json_object_set_new(o, "warnings", warns);
	return o;
}

void verdict_format_title(const struct verdict *v, struct strbuf *out)
{
	const char *sched = v->scheduler ? v->scheduler
			    : v->saw_start || v->default_sched ? "eevdf" : "?";

	strbuf_addf(out, "ktstr '%s' [topo=%s sched=%s",
		    v->scenario ? v->scenario : "?", v->topology ? v->topology : "?",
		    sched);
	if (v->accel)
		strbuf_addf(out, " accel=%s", v->accel);
	strbuf_addch(out, ']');
}

static void add_lines(struct strbuf *out, const char *title, const struct strvec *sv)
{
	size_t i = 0;
	char *l;

	if (!sv->n)
		return;
	strbuf_addf(out, "    %s:\n", title);
	if (sv->n > DETAIL_LINES_MAX) {
		i = sv->n - DETAIL_LINES_MAX;
		strbuf_addf(out, "      [... %zu earlier lines; all of them are in the"
			    " records]\n", i);
	}
	for (; i < sv->n; i++) {
		l = one_line(sv->v[i]);
		strbuf_addf(out, "      %s\n", l);
		free(l);
	}
}

static bool have_stats(const struct verdict *v)
{
	return v->saw_end || v->n_cgroups || json_object_size(v->scx_events) ||
	       v->machine.saw_record;
}

/* A cgroup's workers ran on fewer CPUs than there were workers and CPUs
 * for them: worth a line even when every check passes. */
static bool packed(const struct verdict *v, const struct verdict_cgroup *g)
{
	const struct verdict_group *gr = &v->groups[g->group];
	double room = (double)gr->n_workers;

	if (!isnan(g->cpus) && g->cpus < room)
		room = g->cpus;
	return !isnan(g->n_cpus_used) && gr->n_workers >= 2 && g->n_cpus_used < room;
}

/* The workers of a cgroup that failed a check or ran packed: where each
 * ran and how much of its time it spent off-CPU. */
static void format_workers(const struct verdict *v, const struct verdict_cgroup *g,
			   struct strbuf *out)
{
	const struct verdict_group *gr;
	size_t i;

	if (g->group == SIZE_MAX || g->background)
		return;
	gr = &v->groups[g->group];
	/* several cgroup_stats records of one name: list the workers once */
	if (gr->lead == SIZE_MAX || &v->cgroups[gr->lead] != g)
		return;
	if (packed(v, g)) {
		strbuf_addf(out, "  %zu workers ran on cpu%s %s only", gr->n_workers,
			    g->n_cpus_used == 1 ? "" : "s", g->cpus_used);
		if (g->cpuset)
			strbuf_addf(out, " (cpuset %s)", g->cpuset);
		strbuf_addch(out, '\n');
	} else if (!gr->failed) {
		return;
	}
	for (i = 0; i < gr->n_workers && i < WORKER_LINES_MAX; i++) {
		const struct verdict_worker *w = group_worker(v, gr, i);

		strbuf_addstr(out, "  ");
		add_worker_id(out, w);
		strbuf_addf(out, ": cpus_used=%s off_cpu=", w->cpus_used ? w->cpus_used : "?");
		add_stat(out, w->off_cpu_pct, "%");
		strbuf_addstr(out, " iter=");
		add_num(out, w->iterations);
		if (w->stop_timeout)
			strbuf_addstr(out, " (stop timeout: killed)");
		strbuf_addch(out, '\n');
	}
	if (gr->n_workers > WORKER_LINES_MAX)
		strbuf_addf(out, "  [... %zu more workers; all of them are in the records]\n",
			    gr->n_workers - WORKER_LINES_MAX);
}

/* "stop timeout: cg_0 worker 1 (pid 80), ... did not stop when asked and
 * were killed", one line per cgroup that had any. */
static void format_stop_timeouts(const struct verdict *v, const char *indent,
				 struct strbuf *out)
{
	for (size_t gi = 0; gi < v->n_groups; gi++) {
		const struct verdict_group *gr = &v->groups[gi];
		size_t listed = 0, n = 0;

		for (size_t i = 0; i < gr->n_workers; i++)
			n += group_worker(v, gr, i)->stop_timeout;
		if (!n)
			continue;
		strbuf_addf(out, "%sstop timeout: %s ", indent, gr->name);
		for (size_t i = 0; i < gr->n_workers && listed < WORKER_LINES_MAX; i++) {
			const struct verdict_worker *w = group_worker(v, gr, i);

			if (!w->stop_timeout)
				continue;
			if (listed++)
				strbuf_addstr(out, ", ");
			add_worker_id(out, w);
		}
		if (n > listed)
			strbuf_addf(out, " and %zu more", n - listed);
		strbuf_addf(out, " did not stop when asked and %s killed\n",
			    n == 1 ? "was" : "were");
	}
}

static void format_stats(const struct verdict *v, struct strbuf *out)
{
	struct totals t;
	const char *key;
	json_t *val;
	bool first = true;

	totals(v, &t);
	strbuf_addstr(out, "--- stats ---\n");
	add_num(out, t.workers);
	strbuf_addstr(out, " workers, ");
	add_num(out, t.cpus);
	strbuf_addstr(out, " cpus, ");
	add_num(out, t.migrations);
	strbuf_addstr(out, " migrations, worst_spread=");
	add_stat(out, t.worst_spread_pct, "%");
	strbuf_addstr(out, ", worst_gap=");
	add_stat(out, t.worst_gap_ms, "ms");
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		strbuf_addf(out, "%s: workers=", g->name);
		add_num(out, g->workers);
		strbuf_addstr(out, " cpus=");
		add_num(out, g->cpus);
		strbuf_addstr(out, " spread=");
		add_stat(out, g->spread_pct, "%");
		strbuf_addstr(out, " gap=");
		add_stat(out, g->worst_gap_ms, "ms");
		strbuf_addstr(out, " migrations=");
		add_num(out, g->migrations);
		strbuf_addstr(out, " iter=");
		add_num(out, g->iterations);
		if (!isnan(g->p99_wake_latency_us)) {
			strbuf_addstr(out, " p99_wake=");
			add_stat(out, g->p99_wake_latency_us, "us");
		}
		if (g->background)
			strbuf_addstr(out, " (background, not checked)");
		strbuf_addch(out, '\n');
		format_workers(v, g, out);
	}
	json_object_foreach(v->scx_events, key, val) {
		if (json_number_value(val) == 0)
			continue;
		strbuf_addstr(out, first ? "sched_ext events:" : "");
		first = false;
		strbuf_addf(out, " %s=", key);
		add_num(out, json_number_value(val));
	}
	if (!first)
		strbuf_addch(out, '\n');
	machine_format(&v->machine, &v->machine_result, out);
	for (size_t i = 0; i < v->notes.n; i++)
		strbuf_addf(out, "note: %s\n", v->notes.v[i]);
}

void verdict_format(const struct verdict *v, struct strbuf *out)
{
	size_t i;

	verdict_format_title(v, out);
	switch (v->result) {
	case VERDICT_PASS:
		strbuf_addstr(out, " passed\n");
		break;
	case VERDICT_FAIL:
		strbuf_addstr(out, " failed:\n");
		for (i = 0; i < v->n_checks; i++) {
			const struct verdict_check *c = &v->checks[i];

			if (c->pass || c->secondary)
				continue;
			strbuf_addf(out, "  %s\n", c->message);
			add_lines(out, "kernel log", &c->kernel_log);
			add_lines(out, "scheduler output", &c->output);
		}
		if (v->n_secondary) {
			strbuf_addf(out, "  after the scheduler %s (consequences, not failures"
				    " of their own):\n",
				    v->sched_event && !strcmp(v->sched_event, "attach_failed") ?
				    "failed to attach" : "died");
			for (i = 0; i < v->n_checks; i++)
				if (!v->checks[i].pass && v->checks[i].secondary)
					strbuf_addf(out, "    %s\n", v->checks[i].message);
			format_stop_timeouts(v, "    ", out);
		}
		break;
	case VERDICT_SKIP:
		strbuf_addf(out, " skipped: %s\n", v->reason);
		break;
	case VERDICT_INCONCLUSIVE:
		strbuf_addf(out, " inconclusive: %s\n", v->reason);
		break;
	case VERDICT_ERROR:
		strbuf_addf(out, " error: %s\n", v->reason);
		break;
	}
	if (!v->n_secondary)
		format_stop_timeouts(v, "  ", out);
	if ((v->result == VERDICT_ERROR || v->result == VERDICT_INCONCLUSIVE) &&
	    v->output_tail.n)
		add_lines(out, "last guest output", &v->output_tail);
	if (v->result == VERDICT_ERROR || vm_failed(v)) {
		if (v->console_log)
			strbuf_addf(out, "  console log: %s\n", v->console_log);
		add_lines(out, "last console lines", &v->console_tail);
	}
	if (have_stats(v))
		format_stats(v, out);
}
