/* The verdict record (verdict_to_json, ktstr-records(7)). */
#include "verdict_int.h"
#include "checktab.h"
#include "jsonl.h"

#include <math.h>
#include <string.h>

/* To one decimal. */
static double round1(double x)
{
	double r;

	if (!(x > -1e15 && x < 1e15))
		return x;
	r = (double)(long long)(x * 10 + (x < 0 ? -0.5 : 0.5)) / 10;
	return r == 0 ? 0 : r;	/* no "-0.0" */
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- output ------------------------------------------------------------- */

static json_t *check_json(const struct verdict_check *c, bool failure)
{
	json_t *o = json_object();
	double m = verdict_margin_pct(c);

	json_object_set_new(o, "check", json_string(c->check));
	json_object_set_new(o, "cgroup", json_str_or_null(c->cgroup));
	if (c->payload) {
		json_object_set_new(o, "payload", json_string(c->payload));
		json_object_set_new(o, "copy", json_integer(c->copy));
	}
	if (failure) {
		json_object_set_new(o, "message", json_string(c->message));
		json_object_set_new(o, "secondary", json_boolean(c->secondary));
		json_object_set_new(o, "by_host", json_boolean(c->by_host));
		if (c->by_host)
			json_object_set_new(o, "host_lost_ms", vd_json_num(round(c->host_lost_ms)));
	}
	json_object_set_new(o, "value", vd_json_num(c->value));
	json_object_set_new(o, "limit", vd_json_num(c->limit));
	if (!failure) {
		json_object_set_new(o, "margin_pct",
				    isnan(m) ? json_null() : json_real(round1(m)));
		json_object_set_new(o, "pass", json_boolean(c->pass));
	}
	if (failure && c->payload && c->output.n) {
		json_t *out = json_array();

		for (size_t i = 0; i < c->output.n; i++)
			json_array_append_new(out, json_string(c->output.v[i]));
		json_object_set_new(o, "output_tail", out);
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


void vd_totals(const struct verdict *v, struct vd_totals *t)
{
	struct vd_totals sum = { NAN, NAN, NAN, NAN, NAN };

	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		sum.workers = vd_nan_add(sum.workers, g->workers);
		sum.migrations = vd_nan_add(sum.migrations, g->migrations);
		if (!g->background) {
			sum.worst_spread_pct = vd_nan_max(sum.worst_spread_pct, g->spread_pct);
			sum.worst_gap_ms = vd_nan_max(sum.worst_gap_ms, g->worst_gap_ms);
		}
	}
	t->workers = !isnan(v->end_workers) ? v->end_workers : sum.workers;
	t->cpus = !isnan(v->end_cpus) ? v->end_cpus : v->start_cpus;
	t->migrations = !isnan(v->end_migrations) ? v->end_migrations : sum.migrations;
	t->worst_spread_pct = !isnan(v->end_worst_spread_pct) ? v->end_worst_spread_pct
							       : sum.worst_spread_pct;
	/* A cgroup that never ran has the whole run as its gap, which the
	 * guest's own total does not count. */
	t->worst_gap_ms = vd_nan_max(v->end_worst_gap_ms, sum.worst_gap_ms);
}

static json_t *stats_json(const struct verdict *v)
{
	json_t *o = json_object(), *cgs = json_array(), *ev = json_object(), *val;
	struct vd_totals t;
	const char *key;

	vd_totals(v, &t);
	json_object_set_new(o, "workers", vd_json_num(t.workers));
	json_object_set_new(o, "cpus", vd_json_num(t.cpus));
	json_object_set_new(o, "migrations", vd_json_num(t.migrations));
	json_object_set_new(o, "worst_spread_pct", vd_json_num(t.worst_spread_pct));
	json_object_set_new(o, "worst_gap_ms", vd_json_num(t.worst_gap_ms));
	json_object_set_new(o, "elapsed_ms", vd_json_num(v->end_elapsed_ms));
	json_object_set_new(o, "agent_cpu_ms", vd_json_num(v->end_agent_cpu_ms));
	json_object_set_new(o, "agent_cpu_pct", vd_json_num(v->end_agent_cpu_pct));
	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];
		json_t *c = json_object();

		json_object_set_new(c, "cgroup", json_string(g->name));
		json_object_set_new(c, "background", json_boolean(g->background));
		json_object_set_new(c, "workers", vd_json_num(g->workers));
		json_object_set_new(c, "cpus", vd_json_num(g->cpus));
		json_object_set_new(c, "cpuset", json_str_or_null(g->cpuset));
		json_object_set_new(c, "spread_pct", vd_json_num(g->spread_pct));
		json_object_set_new(c, "worst_gap_ms", vd_json_num(g->worst_gap_ms));
		json_object_set_new(c, "worst_gap_cpu", vd_json_num(g->worst_gap_cpu));
		json_object_set_new(c, "worst_gap_at_ms", vd_json_num(g->worst_gap_at_ms));
		json_object_set_new(c, "migrations", vd_json_num(g->migrations));
		json_object_set_new(c, "iterations", vd_json_num(g->iterations));
		json_object_set_new(c, "iterations_per_sec", vd_json_num(g->iterations_per_sec));
		json_object_set_new(c, "p50_wake_latency_us", vd_json_num(g->p50_wake_latency_us));
		json_object_set_new(c, "p99_wake_latency_us", vd_json_num(g->p99_wake_latency_us));
		/* what the percentiles rest on (0: null percentiles) */
		json_object_set_new(c, "wake_samples", vd_json_num(g->wake_samples));
		json_object_set_new(c, "isolation_violations", vd_json_num(g->isolation_violations));
		json_object_set_new(c, "violating_cpus", json_str_or_null(g->violating_cpus));
		json_object_set_new(c, "starved_workers", vd_json_num(g->starved_workers));
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
		json_object_set_new(o, "index", vd_json_num(w->index));
		json_object_set_new(o, "pid", vd_json_num(w->pid));
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
		if (!v->checks[i].pass && !v->checks[i].by_host)
			json_array_append_new(fails, check_json(&v->checks[i], true));
		json_array_append_new(checks, check_json(&v->checks[i], false));
	}
	/* The host's come last: the first failure is the run's own. */
	for (i = 0; i < v->n_checks; i++)
		if (!v->checks[i].pass && v->checks[i].by_host)
			json_array_append_new(fails, check_json(&v->checks[i], true));
	json_object_set_new(o, "failures", fails);
	json_object_set_new(o, "checks", checks);
	json_object_set_new(o, "stop_timeout_workers", stop_timeouts_json(v));
	json_object_set_new(o, "console_log", json_str_or_null(v->console_log));
	json_object_set_new(o, "console_tail", strvec_json(&v->console_tail));
	json_object_set_new(o, "notes", strvec_json(&v->notes));
	json_object_set_new(o, "thresholds", checks_to_json(&v->limits, false));
	json_object_set_new(o, "stats", stats_json(v));
	json_object_set_new(o, "payloads", verdict_payloads_json(v));
	json_object_set_new(o, "bpf_programs", verdict_bpf_programs_json(v));
	json_object_set_new(o, "machine", machine_json(&v->machine, &v->machine_result));
	json_object_set_new(o, "phases", machine_phases_json(&v->machine_result));
	for (i = 0; i < v->warnings.n; i++)
		json_array_append_new(warns, json_string(v->warnings.v[i]));
	json_object_set_new(o, "warnings", warns);
	return o;
}

