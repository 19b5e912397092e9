/* Record intake (verdict.h): each record type read into struct verdict,
 * every field through a typed accessor that warns once about a value of
 * the wrong type and treats it as missing. */
#include "verdict_int.h"
#include "checktab.h"
#include "diag.h"
#include "jsonl.h"
#include "topo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_TAIL_LINES 10

static void replace_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* Names that go into the report's title line. */
static void replace_name(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? vd_one_line(s) : NULL;
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
		return vd_one_line(json_string_value(j));
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
		v->topology = vd_one_line(topo);
	}
	strbuf_release(&err);
}

/* The scheduler a vm_start or scenario_skip names: a name, or null for
 * the kernel's default; absent (an older record) says nothing. */
static void set_scheduler(struct verdict *v, const json_t *rec)
{
	json_t *sched = json_object_get(rec, "scheduler");

	if (json_is_string(sched) && !v->scheduler)
		replace_name(&v->scheduler, json_string_value(sched));
	else if (json_is_null(sched))
		v->default_sched = true;
}

static void feed_vm_start(struct verdict *v, const json_t *rec)
{
	const char *t = get_str(v, rec, "vm_start", "topology");
	const char *accel = get_str(v, rec, "vm_start", "accel");

	const char *scenario = get_str(v, rec, "vm_start", "scenario");

	v->saw_vm_start = true;
	v->retrying = false;
	/* A scenario run's names, until scenario_start confirms them. */
	if (scenario && !v->scenario)
		replace_name(&v->scenario, scenario);
	set_scheduler(v, rec);
	if (accel)
		replace_name(&v->accel, accel);
	if (t) {	/* ktstr-vm's own word wins over the scenario's */
		free(v->topology);
		v->topology = vd_one_line(t);
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
	set_scheduler(v, rec);
	set_topology(v, get_str(v, rec, "scenario_skip", "topology"));
	if (!v->skip_reason)
		v->skip_reason = vd_one_line(reason ? reason : "no reason given");
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
		json_object_set_new(v->scx_events, key, vd_json_num(d));
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
	w->cgroup = vd_one_line(cg ? cg : "?");
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
	c->name = vd_one_line(name ? name : "?");
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
	set_num(v, rec, T, "wake_samples", true, &c->wake_samples);
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
	set_num(v, rec, T, "agent_cpu_ms", true, &v->end_agent_cpu_ms);
	set_num(v, rec, T, "agent_cpu_pct", true, &v->end_agent_cpu_pct);
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
	line = vd_one_line(msg);
	free(msg);
	v->error_reason = line;
}

/* The VM or the host failed: the run says nothing about the scheduler.
 * The first such problem is the cause, said as "what: msg", or as msg
 * alone when it starts with own: ktstr-vm's own message for the kind,
 * which says it already (not "QEMU failed: QEMU failed: ..."). */
static void set_infra(struct verdict *v, const char *what, const char *own, const char *msg)
{
	char *line;

	if (v->infra_reason)
		return;
	if (msg && own && !strncmp(msg, own, strlen(own)))
		line = xstrdup(msg);
	else
		line = xasprintf("%s: %s", what, msg ? msg : "no message");
	v->infra_reason = vd_one_line(line);
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
	/* own: how lib/vm/vm.c's message for each begins. */
	if (!strcmp(reason, "qemu_error"))
		set_infra(v, "QEMU failed", "QEMU ", msg);
	else if (!strcmp(reason, "boot_timeout"))
		set_infra(v, "the VM did not boot in time",
			  "the guest agent did not start within ", msg);
	else if (!strcmp(reason, "host_error"))
		set_infra(v, "host-side error", NULL, msg);
	else if (!strcmp(reason, "no_agent") && booting)
		set_infra(v, "the guest agent never came up",
			  "the VM stopped before the guest agent started", msg);
	else if (!strcmp(reason, "timeout") && booting)
		set_infra(v, "the VM overran its timeout before the guest agent came up",
			  "the VM overran --timeout ", msg);
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

/* ktstr-vm's KVM run failed before the agent came up: the same run goes
 * on under TCG, with a vm_start of its own. */
static void feed_accel_retry(struct verdict *v, const json_t *rec)
{
	(void)rec;
	v->retrying = true;
}

static void feed_agent_ready(struct verdict *v, const json_t *rec)
{
	(void)rec;
	v->saw_agent_ready = true;
}

static void feed_scenario_error(struct verdict *v, const json_t *rec)
{
	const char *s = get_str(v, rec, "scenario_error", "message");

	set_error(v, "scenario error: %s", s ? s : "no message");
}

static void feed_agent_error(struct verdict *v, const json_t *rec)
{
	const char *s = get_str(v, rec, "agent_error", "message");

	set_error(v, "guest agent error: %s", s ? s : "no message");
}

/* Host mode (ktstr-vm --host, an exported .run) would not run here:
 * nothing was measured, and the reason says what to change. */
static void feed_host_refused(struct verdict *v, const json_t *rec)
{
	const char *check = get_str(v, rec, "host_refused", "check");
	char *what = xasprintf("host mode refused to run (%s)", check ? check : "?");

	set_infra(v, what, NULL, get_str(v, rec, "host_refused", "reason"));
	free(what);
}

static void feed_exit(struct verdict *v, const json_t *rec)
{
	set_num(v, rec, "exit", "exit_code", false, &v->cmd_exit_code);
}

/* The host-side monitor's records go to the machine view. */
static void feed_monitor(struct verdict *v, const json_t *rec)
{
	machine_feed(&v->machine, rec, json_get_str(rec, "type"));
}

/* Every record type the engine knows.  timeline: the record carries
 * host_ms (from ktstr-vm) that lines it up with the monitor's samples,
 * so the machine view reads it first.  feed NULL: known, nothing to
 * check. */
static const struct record_type {
	const char *type;
	void (*feed)(struct verdict *v, const json_t *rec);
	bool timeline;
} record_types[] = {
	{ "vm_start", feed_vm_start, false },
	{ "accel_retry", feed_accel_retry, false },
	{ "agent_ready", feed_agent_ready, false },
	{ "scenario_start", feed_scenario_start, true },
	{ "scheduler", feed_scheduler, false },
	{ "sched_ext_events", feed_sched_ext_events, false },
	{ "worker", feed_worker, false },
	{ "cgroup_stats", feed_cgroup_stats, false },
	{ "scenario_end", feed_scenario_end, true },
	{ "scenario_skip", feed_scenario_skip, false },
	{ "scenario_error", feed_scenario_error, false },
	{ "agent_error", feed_agent_error, false },
	{ "output", feed_output, false },
	{ "exit", feed_exit, false },
	{ "vm_exit", feed_vm_exit, false },
	{ "monitor", feed_monitor, false },
	{ "monitor_start", feed_monitor, false },
	{ "monitor_end", feed_monitor, false },
	{ "monitor_unavailable", feed_monitor, false },
	{ "stimulus", feed_stimulus, true },
	{ "payload", vd_feed_payload, false },
	{ "payload_metrics", vd_feed_payload_metrics, false },
	{ "bpf_prog", vd_feed_bpf_prog, false },
	{ "bpf_prog_stats", vd_feed_bpf_prog_stats, false },
	{ "step", NULL, true },
	{ "guest_topology", NULL, false },
	{ "initramfs", NULL, false },
	{ "host_refused", feed_host_refused, false },
	{ "host_cleanup", NULL, false },
};

/* Whether a record of type begins a run after the one read so far, and
 * how: ktstr-vm writes one vm_start per run (and one more after an
 * accel_retry), at most one scenario_start, or a scenario_skip instead
 * of booting, and vm_exit last.  Two runs in one input (`>>` onto one
 * file, `cat a b |`) must not be judged as one: the second's cgroups
 * would join the first's and one verdict would speak for both. */
static const char *next_run(const struct verdict *v, const char *type)
{
	bool ended = v->vm_exit_reason != NULL;

	if (!strcmp(type, "vm_start")) {
		if (v->saw_skip)
			return "a vm_start after a scenario_skip";
		if (ended)
			return "a vm_start after a vm_exit";
		if (v->saw_vm_start && !v->retrying)
			return "a second vm_start";
	} else if (!strcmp(type, "scenario_start")) {
		if (v->saw_start)
			return "a second scenario_start";
		if (v->saw_skip)
			return "a scenario_start after a scenario_skip";
		if (ended)
			return "a scenario_start after a vm_exit";
	} else if (!strcmp(type, "scenario_skip")) {
		if (v->saw_skip)
			return "a second scenario_skip";
		if (v->saw_start)
			return "a scenario_skip after a scenario_start";
		if (ended)
			return "a scenario_skip after a vm_exit";
	}
	return NULL;
}

void verdict_feed(struct verdict *v, const json_t *rec)
{
	const char *type = json_get_str(rec, "type");
	const struct record_type *t = NULL;

	v->records++;
	/* Past the start of a second run nothing is read: the first run's
	 * records stay as they were, and the verdict is an error. */
	if (!type || v->next_run)
		return;
	if ((v->next_run = next_run(v, type))) {
		v->next_run_line = v->line ? v->line : v->records;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(record_types) && !t; i++)
		if (!strcmp(type, record_types[i].type))
			t = &record_types[i];
	/* Unknown types (and our own verdict records, should a stored stream
	 * carry one) are ignored. */
	if (!t)
		return;
	v->known++;
	if (t->timeline)
		machine_timeline(&v->machine, rec, type);
	if (t->feed)
		t->feed(v, rec);
}

int verdict_feed_line(struct verdict *v, const char *line, size_t len,
		      unsigned long lineno, struct strbuf *err)
{
	size_t i;
	json_t *rec;

	v->line = lineno;
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return 0;
	rec = jsonl_parse_wide(line, len, err);
	if (!rec) {
		v->bad_lines++;
		return -1;
	}
	verdict_feed(v, rec);
	json_decref(rec);
	return 0;
}

