/* The check table (checktab.h).  Only libc and jansson: the static guest
 * agent links this to emit scenario_start.checks. */
#include "checktab.h"
#include "texttable.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LIMIT(field) CHECK_LIMIT, .off = offsetof(struct checks, field)
#define SWITCH(field) CHECK_SWITCH, .off = offsetof(struct checks, field)

static const struct check_def rows[] = {
	/* ---- per cgroup, from the guest's cgroup_stats / worker records ---- */
	{ "spread", "max_spread_pct", { NULL }, LIMIT(max_spread_pct),
	  .unit = "%", .def = 15, .min = 0, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats", .field = "spread_pct",
	  .metric = "worst_spread_pct", .gate_abs = 5, .gate_rel_pct = 25,
	  .help = "spread of the off-CPU shares of a cgroup's workers, in percentage points" },
	{ "gap", "max_gap_ms", { NULL }, LIMIT(max_gap_ms),
	  .unit = "ms", .def = 2000, .min = 0, .min_strict = true, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats", .field = "worst_gap_ms",
	  .metric = "worst_gap_ms", .gate_abs = 500, .gate_rel_pct = 50,
	  .help = "longest time a worker went without running, in ms" },
	{ "p99_wake_latency", "max_p99_wake_latency_us", { "max_p99_wake_us", NULL },
	  LIMIT(max_p99_wake_latency_us),
	  .unit = "us", .def = NAN, .min = 0, .min_strict = true, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats",
	  .field = "p99_wake_latency_us",
	  .metric = "worst_p99_wake_latency_us", .gate_abs = 50, .gate_rel_pct = 25,
	  .help = "99th percentile of a cgroup's wake-up latency, in us" },
	{ "iteration_rate", "min_iterations_per_sec", { "min_iter_rate", NULL },
	  LIMIT(min_iterations_per_sec),
	  .unit = "/s", .def = NAN, .min = 0, .dir = CHECK_AT_LEAST,
	  .scope = CHECK_SCOPE_CGROUP | CHECK_SCOPE_PHASE, .record = "cgroup_stats",
	  .field = "iterations_per_sec",
	  .metric = "min_iterations_per_sec", .higher_is_better = true,
	  .gate_abs = 10, .gate_rel_pct = 10,
	  .help = "iterations per second per worker, the cgroup's mean" },
	{ "migration_ratio", "max_migration_ratio", { NULL }, LIMIT(max_migration_ratio),
	  .unit = "ratio", .def = NAN, .min = 0, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats",
	  .field = "migrations,iterations",
	  .metric = "worst_migration_ratio", .gate_abs = 0.05, .gate_rel_pct = 25,
	  .help = "CPU migrations per iteration" },
	{ "isolation", "isolation", { NULL }, SWITCH(isolation),
	  .unit = "violations", .def = 1, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats",
	  .field = "isolation_violations",
	  .metric = "isolation_violations", .gate_abs = 0, .gate_rel_pct = 0,
	  .help = "workers run only on CPUs their cpuset allows" },
	{ "starvation", "starvation", { NULL }, SWITCH(starvation),
	  .unit = "workers", .def = 1, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_CGROUP, .record = "cgroup_stats",
	  .field = "starved_workers", .also = "worker.iterations",
	  .metric = "starved_workers", .gate_abs = 0, .gate_rel_pct = 0,
	  .help = "every worker gets some work done" },

	/* ---- the machine, from ktstr-vm's monitor records ---- */
	{ "work_conservation", "max_idle_while_runnable_ms", { NULL },
	  LIMIT(max_idle_while_runnable_ms),
	  .unit = "ms", .def = 500, .min = 0, .min_strict = true, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "idle,nr_running,vcpu_run_us,vcpu_wait_us,qemu_stopped_us",
	  .metric = "max_idle_while_runnable_ms", .gate_abs = 100, .gate_rel_pct = 50,
	  .help = "longest time (ms) a CPU stayed idle while one sharing a cpuset with it had 2 or more runnable tasks" },
	{ "imbalance", "max_imbalance_ratio", { NULL }, LIMIT(max_imbalance_ratio),
	  .unit = "ratio", .def = 4, .min = 1, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "nr_running",
	  .metric = "max_imbalance_ratio", .gate_abs = 1, .gate_rel_pct = 50,
	  .help = "sustained max / max(1, min) of the CPUs' nr_running" },
	{ "local_dsq_depth", "max_local_dsq_depth", { NULL }, LIMIT(max_local_dsq_depth),
	  .unit = "tasks", .def = 50, .min = 0, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "local_dsq",
	  .metric = "max_local_dsq_depth", .gate_abs = 10, .gate_rel_pct = 50,
	  .help = "sustained depth of a CPU's local dispatch queue, in tasks" },
	{ "runnable_wait", "max_runnable_wait_ms", { NULL }, LIMIT(max_runnable_wait_ms),
	  .unit = "ms", .def = 2000, .min = 0, .min_strict = true, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE, .record = "monitor",
	  .field = "max_wait_ms,vcpu_wait_us,qemu_stopped_us",
	  .metric = "max_runnable_wait_ms", .gate_abs = 250, .gate_rel_pct = 50,
	  .help = "longest wait (ms) of a runnable sched_ext task" },
	{ "fallback_rate", "max_fallback_per_sec", { NULL }, LIMIT(max_fallback_per_sec),
	  .unit = "/s", .def = 200, .min = 0, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "events.select_cpu_fallback",
	  .metric = "fallback_per_sec", .gate_abs = 20, .gate_rel_pct = 50,
	  .help = "SELECT_CPU_FALLBACK events per second" },
	{ "keep_last_rate", "max_keep_last_per_sec", { NULL }, LIMIT(max_keep_last_per_sec),
	  .unit = "/s", .def = 100, .min = 0, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "events.dispatch_keep_last",
	  .metric = "keep_last_per_sec", .gate_abs = 10, .gate_rel_pct = 50,
	  .help = "DISPATCH_KEEP_LAST events per second while tasks waited" },
	{ "stall", "stall", { NULL }, SWITCH(stall),
	  .unit = "stalls", .def = 1, .dir = CHECK_AT_MOST,
	  .scope = CHECK_SCOPE_MACHINE | CHECK_SCOPE_PHASE, .record = "monitor",
	  .field = "clock_adv_us,idle,vcpu_run_us",
	  .metric = "stall_count", .gate_abs = 0, .gate_rel_pct = 0,
	  .help = "a busy CPU whose runqueue clock stops for 5 samples while the host runs it" },

	/* ---- no threshold: always evaluated ---- */
	{ "crash", NULL, { NULL }, CHECK_ALWAYS,
	  .unit = "workers", .dir = CHECK_AT_MOST, .scope = CHECK_SCOPE_CGROUP,
	  .record = "worker", .field = "crashed,signal",
	  .help = "a worker crashed or was killed by a signal" },
	{ "scheduler", NULL, { NULL }, CHECK_ALWAYS,
	  .dir = CHECK_AT_MOST, .scope = CHECK_SCOPE_RUN,
	  .record = "scheduler", .field = "event", .also = "scenario_end.scheduler_alive",
	  .help = "the sched_ext scheduler attaches and stays attached" },
	{ "vm", NULL, { NULL }, CHECK_ALWAYS,
	  .dir = CHECK_AT_MOST, .scope = CHECK_SCOPE_RUN,
	  .record = "vm_exit", .field = "reason,panic", .also = "scenario_end",
	  .help = "no guest panic, no timeout, the scenario ran to its end" },
};

const struct check_def *checktab(size_t *n)
{
	*n = ARRAY_SIZE(rows);
	return rows;
}

const struct check_def *checktab_find(const char *key)
{
	size_t i, j;

	for (i = 0; key && i < ARRAY_SIZE(rows); i++) {
		if (!rows[i].key)
			continue;
		if (!strcmp(rows[i].key, key))
			return &rows[i];
		for (j = 0; rows[i].aliases[j]; j++)
			if (!strcmp(rows[i].aliases[j], key))
				return &rows[i];
	}
	return NULL;
}

const struct check_def *checktab_by_name(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(rows); i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

const struct check_def *checktab_by_metric(const char *metric)
{
	size_t i;

	for (i = 0; metric && i < ARRAY_SIZE(rows); i++)
		if (rows[i].metric && !strcmp(rows[i].metric, metric))
			return &rows[i];
	return NULL;
}

double *check_limit(struct checks *c, const struct check_def *d)
{
	return (double *)((char *)c + d->off);
}

double check_limit_get(const struct checks *c, const struct check_def *d)
{
	return *(const double *)((const char *)c + d->off);
}

int *check_switch(struct checks *c, const struct check_def *d)
{
	return (int *)((char *)c + d->off);
}

int check_switch_get(const struct checks *c, const struct check_def *d)
{
	return *(const int *)((const char *)c + d->off);
}

bool check_limit_valid(const struct check_def *d, double x)
{
	if (isnan(x))
		return false;
	if (isinf(x))
		return x > 0;
	return d->min_strict ? x > d->min : x >= d->min;
}

void check_limit_expect(const struct check_def *d, struct strbuf *out)
{
	strbuf_addf(out, "a number %s %g", d->min_strict ? "greater than" : "of at least",
		    d->min);
}

void check_scope_format(unsigned scope, struct strbuf *out)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ CHECK_SCOPE_CGROUP, "cgroup" },
		{ CHECK_SCOPE_RUN, "run" },
		{ CHECK_SCOPE_MACHINE, "machine" },
		{ CHECK_SCOPE_PHASE, "per phase" },
	};
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (scope & names[i].bit)
			strbuf_addf(out, "%s%s", n++ ? ", " : "", names[i].name);
}

void checktab_keys_join(struct strbuf *out)
{
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].key)
			strbuf_addf(out, "%s%s", n++ ? ", " : "", rows[i].key);
}

void check_flag_name(const char *key, struct strbuf *out)
{
	for (; *key; key++)
		strbuf_addch(out, *key == '_' ? '-' : *key);
}

void check_default_format(const struct check_def *d, struct strbuf *out)
{
	switch (d->kind) {
	case CHECK_LIMIT:
		if (isnan(d->def))
			strbuf_addstr(out, "off");
		else
			strbuf_addf(out, "%g", d->def);
		break;
	case CHECK_SWITCH:
		strbuf_addstr(out, d->def != 0 ? "on" : "off");
		break;
	case CHECK_ALWAYS:
		strbuf_addstr(out, "always");
		break;
	}
}

void check_reads_format(const struct check_def *d, struct strbuf *out)
{
	if (strchr(d->field, ','))
		strbuf_addf(out, "%s.{%s}", d->record, d->field);
	else
		strbuf_addf(out, "%s.%s", d->record, d->field);
	if (d->also)
		strbuf_addf(out, ", %s", d->also);
}

/* A JSON number, integral ones as integers (15, not 15.0). */
static json_t *num(double x)
{
	if (isnan(x) || isinf(x))
		return json_null();
	if (x == floor(x) && fabs(x) < 9e15)
		return json_integer((json_int_t)x);
	return json_real(x);
}

json_t *checks_to_json(const struct checks *c, bool given_only)
{
	json_t *o = json_object();
	size_t i, n;
	const struct check_def *t = checktab(&n);

	for (i = 0; i < n; i++) {
		double x;
		int b;

		if (t[i].kind == CHECK_LIMIT) {
			x = check_limit_get(c, &t[i]);
			if (!given_only || !isnan(x))
				json_object_set_new(o, t[i].key, num(x));
		} else if (t[i].kind == CHECK_SWITCH) {
			b = check_switch_get(c, &t[i]);
			if (!given_only || b >= 0)
				json_object_set_new(o, t[i].key, json_boolean(b > 0));
		}
	}
	return o;
}

static const char *kind_name(enum check_kind k)
{
	return k == CHECK_LIMIT ? "limit" : k == CHECK_SWITCH ? "switch" : "always";
}

/* "above", "below" or "when": how a value fails the check. */
static const char *fails_word(const struct check_def *d)
{
	if (d->kind != CHECK_LIMIT)
		return "any";
	return d->dir == CHECK_AT_MOST ? "above" : "below";
}

json_t *check_def_json(const struct check_def *d)
{
	json_t *o = jsonl_record("check_def"), *a = json_array(), *flags = json_array();
	struct strbuf sb = STRBUF_INIT;
	size_t j;

	json_set_str(o, "name", d->name);
	json_set_str(o, "key", d->key);
	for (j = 0; d->aliases[j]; j++)
		json_array_append_new(a, json_string(d->aliases[j]));
	json_object_set_new(o, "aliases", a);
	json_set_str(o, "kind", kind_name(d->kind));
	json_set_str(o, "unit", d->unit);
	if (d->kind == CHECK_LIMIT)
		json_object_set_new(o, "default", num(d->def));
	else
		json_set_bool(o, "default", d->kind == CHECK_ALWAYS || d->def != 0);
	if (d->kind == CHECK_LIMIT) {
		json_object_set_new(o, "min", num(d->min));
		json_set_bool(o, "min_strict", d->min_strict);
	}
	json_set_str(o, "direction", d->dir == CHECK_AT_MOST ? "at_most" : "at_least");
	check_scope_format(d->scope, &sb);
	json_set_str(o, "applies", sb.buf);
	json_set_str(o, "record", d->record);
	json_set_str(o, "field", d->field);
	json_set_str(o, "also", d->also);
	json_set_str(o, "metric", d->metric);
	if (d->metric) {
		json_set_bool(o, "higher_is_better", d->higher_is_better);
		json_object_set_new(o, "gate_abs", num(d->gate_abs));
		json_object_set_new(o, "gate_rel_pct", num(d->gate_rel_pct));
	}
	if (d->key) {
		const char *prefix = d->kind == CHECK_SWITCH ? "--no-" : NULL;

		strbuf_reset(&sb);
		strbuf_addstr(&sb, "--");
		check_flag_name(d->key, &sb);
		json_array_append_new(flags, json_string(sb.buf));
		for (j = 0; d->aliases[j]; j++) {
			strbuf_reset(&sb);
			strbuf_addstr(&sb, "--");
			check_flag_name(d->aliases[j], &sb);
			json_array_append_new(flags, json_string(sb.buf));
		}
		if (prefix) {
			strbuf_reset(&sb);
			strbuf_addstr(&sb, prefix);
			check_flag_name(d->key, &sb);
			json_array_append_new(flags, json_string(sb.buf));
		}
	}
	json_object_set_new(o, "flags", flags);
	json_set_str(o, "help", d->help);
	strbuf_release(&sb);
	return o;
}

#define NCOLS 8

void checktab_format(struct strbuf *out)
{
	static const char *const head[NCOLS] = {
		"CHECK", "KEY", "DEFAULT", "FAILS", "UNIT", "APPLIES", "READS", "ALIASES",
	};
	struct text_table t = TEXT_TABLE_INIT(NCOLS);
	struct strbuf c = STRBUF_INIT;
	size_t i, j;

	text_table_add(&t, head);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct check_def *d = &rows[i];

		text_table_cell(&t, d->name);
		text_table_cell(&t, d->key ? d->key : "-");
		check_default_format(d, &c);
		text_table_cell(&t, c.buf);
		strbuf_reset(&c);
		text_table_cell(&t, fails_word(d));
		text_table_cell(&t, d->unit ? d->unit : "-");
		check_scope_format(d->scope, &c);
		text_table_cell(&t, c.buf);
		strbuf_reset(&c);
		check_reads_format(d, &c);
		text_table_cell(&t, c.buf);
		strbuf_reset(&c);
		for (j = 0; d->aliases[j]; j++)
			strbuf_addf(&c, "%s%s", j ? ", " : "", d->aliases[j]);
		text_table_cell(&t, j ? c.buf : "-");
		strbuf_reset(&c);
	}
	text_table_render(&t, NULL, out);
	strbuf_release(&c);
}
