/* The per-cgroup and machine checks, and the outcome (verdict.h). */
#include "verdict_int.h"
#include "checktab.h"
#include "diag.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verdict_check *vd_add_check(struct verdict *v, const char *check,
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

void vd_fail_check(struct verdict *v, struct verdict_check *c, struct strbuf *msg)
{
	c->pass = false;
	c->message = vd_one_line(msg->buf);
	strbuf_reset(msg);
	v->n_failures++;
}

void vd_add_worker_id(struct strbuf *sb, const struct verdict_worker *w)
{
	strbuf_addstr(sb, "worker ");
	vd_add_num(sb, w->index);
	if (!isnan(w->pid)) {
		strbuf_addstr(sb, " (pid ");
		vd_add_num(sb, w->pid);
		strbuf_addch(sb, ')');
	}
}

/* "starved: cg_0 worker 1 (pid 80), worker 2 did no work". */
static void explain_starved(const struct verdict *v, const struct verdict_group *gr,
			    double n, struct strbuf *msg)
{
	size_t n_listed = 0;

	strbuf_addf(msg, "starved: %s ", gr->name);
	for (size_t i = 0; i < gr->n_workers; i++) {
		const struct verdict_worker *w = vd_group_worker(v, gr, i);

		if (w->iterations != 0)
			continue;
		if (n_listed++)
			strbuf_addstr(msg, ", ");
		vd_add_worker_id(msg, w);
	}
	if (!n_listed) {
		vd_add_num(msg, n);
		strbuf_addstr(msg, n == 1 ? " worker" : " workers");
	}
	strbuf_addstr(msg, " did no work");
	if (n_listed && n > n_listed) {
		strbuf_addstr(msg, " (");
		vd_add_num(msg, n);
		strbuf_addstr(msg, " workers starved in all)");
	}
}

/* Starvation, from worker records and cgroup_stats counts (the larger). */
static void eval_starvation(struct verdict *v, const struct verdict_group *gr,
			    struct strbuf *msg)
{
	double starved = 0, reported = NAN, n;
	struct verdict_check *c;
	size_t i;

	for (i = 0; i < gr->n_cgroups; i++)
		reported = vd_nan_max(reported, vd_group_cgroup(v, gr, i)->starved_workers);
	for (i = 0; i < gr->n_workers; i++)
		starved += vd_group_worker(v, gr, i)->iterations == 0;
	if (!v->limits.starvation || (!gr->n_workers && isnan(reported)))
		return;
	n = isnan(reported) ? starved : vd_max2(starved, reported);
	c = vd_add_check(v, "starvation", gr->name, n, 0, VERDICT_AT_MOST);
	if (c->pass)
		return;
	explain_starved(v, gr, n, msg);
	vd_fail_check(v, c, msg);
}

/* Crashed workers, each with the signal that killed it. */
static void eval_crash(struct verdict *v, const struct verdict_group *gr,
		       struct strbuf *msg)
{
	double crashed = 0;
	size_t i, n_listed = 0;
	struct verdict_check *c;

	if (!gr->n_workers)
		return;
	for (i = 0; i < gr->n_workers; i++)
		crashed += vd_group_worker(v, gr, i)->crashed;
	c = vd_add_check(v, "crash", gr->name, crashed, 0, VERDICT_AT_MOST);
	if (c->pass)
		return;
	strbuf_addf(msg, "worker crashed: %s ", gr->name);
	for (i = 0; i < gr->n_workers; i++) {
		const struct verdict_worker *w = vd_group_worker(v, gr, i);
		const char *abbrev = w->signal ? sigabbrev_np(w->signal) : NULL;

		if (!w->crashed)
			continue;
		if (n_listed++)
			strbuf_addstr(msg, ", ");
		vd_add_worker_id(msg, w);
		if (abbrev)
			strbuf_addf(msg, " killed by SIG%s", abbrev);
		else if (w->signal)
			strbuf_addf(msg, " killed by signal %d", w->signal);
	}
	vd_fail_check(v, c, msg);
}

/* ---- the per-cgroup checks, one row each -------------------------------- */

static double spread_value(const struct verdict_cgroup *g) { return g->spread_pct; }
static double gap_value(const struct verdict_cgroup *g) { return g->worst_gap_ms; }
static double isolation_value(const struct verdict_cgroup *g) { return g->isolation_violations; }
static double p99_value(const struct verdict_cgroup *g) { return g->p99_wake_latency_us; }
static double rate_value(const struct verdict_cgroup *g) { return g->iterations_per_sec; }

static double migration_value(const struct verdict_cgroup *g)
{
	if (isnan(g->migrations) || isnan(g->iterations) || !(g->iterations > 0))
		return NAN;
	return g->migrations / g->iterations;
}

/* When the worst gap closed (run time), for mark_secondary. */
static double gap_ended_at(const struct verdict_cgroup *g)
{
	if (g->never_ran || isnan(g->worst_gap_at_ms))
		return NAN;
	return g->worst_gap_at_ms + g->worst_gap_ms;
}

static void explain_spread(const struct verdict *v, const struct verdict_cgroup *g,
			   double limit, struct strbuf *msg)
{
	(void)v;
	strbuf_addf(msg, "unfair: %s spread %.1f%% > ", g->name, g->spread_pct);
	vd_add_num(msg, limit);
	strbuf_addch(msg, '%');
}

static void explain_gap(const struct verdict *v, const struct verdict_cgroup *g,
			double limit, struct strbuf *msg)
{
	(void)v, (void)limit;
	strbuf_addstr(msg, "stuck ");
	vd_add_num(msg, g->worst_gap_ms);
	strbuf_addstr(msg, "ms");
	if (g->never_ran) {
		strbuf_addf(msg, " (%s never ran: the whole run)", g->name);
		return;
	}
	if (!isnan(g->worst_gap_cpu)) {
		strbuf_addstr(msg, " on cpu");
		vd_add_num(msg, g->worst_gap_cpu);
	}
	if (!isnan(g->worst_gap_at_ms)) {
		strbuf_addstr(msg, " at +");
		vd_add_num(msg, g->worst_gap_at_ms);
		strbuf_addstr(msg, "ms");
	}
	strbuf_addf(msg, " (%s)", g->name);
}

static void explain_isolation(const struct verdict *v, const struct verdict_cgroup *g,
			      double limit, struct strbuf *msg)
{
	(void)v, (void)limit;
	strbuf_addf(msg, "cpuset violated: %s ran", g->name);
	if (g->violating_cpus)
		strbuf_addf(msg, " on cpu%s %s", strpbrk(g->violating_cpus, ",-") ? "s" : "",
			    g->violating_cpus);
	if (g->cpuset)
		strbuf_addf(msg, " outside %s", g->cpuset);
	else
		strbuf_addstr(msg, " outside its cpuset");
	if (!g->violating_cpus) {
		strbuf_addstr(msg, " (");
		vd_add_num(msg, g->isolation_violations);
		strbuf_addstr(msg, g->isolation_violations == 1 ? " violation)" : " violations)");
	}
}

static void explain_p99(const struct verdict *v, const struct verdict_cgroup *g,
			double limit, struct strbuf *msg)
{
	(void)v;
	strbuf_addf(msg, "slow wakeups: %s p99 wake latency ", g->name);
	vd_add_num(msg, g->p99_wake_latency_us);
	strbuf_addstr(msg, "us > ");
	vd_add_num(msg, limit);
	strbuf_addstr(msg, "us");
}

static void explain_rate(const struct verdict *v, const struct verdict_cgroup *g,
			 double limit, struct strbuf *msg)
{
	strbuf_addf(msg, "too little progress: %s ", g->name);
	vd_add_num(msg, g->iterations_per_sec);
	strbuf_addstr(msg, " iterations/s < ");
	vd_add_num(msg, limit);
	if (v->accel && !strncmp(v->accel, "tcg", 3))
		strbuf_addstr(msg, " (under TCG: see the note on rates)");
}

static void explain_migration(const struct verdict *v, const struct verdict_cgroup *g,
			      double limit, struct strbuf *msg)
{
	(void)v;
	strbuf_addf(msg, "migrating too much: %s ", g->name);
	vd_add_num(msg, g->migrations);
	strbuf_addstr(msg, " migrations in ");
	vd_add_num(msg, g->iterations);
	strbuf_addf(msg, " iterations (%.4g per iteration) > ", migration_value(g));
	vd_add_num(msg, limit);
}

/* A check of one cgroup_stats record: its threshold (and direction) is
 * the check table's row of that name; value NAN means not evaluated. */
static const struct cgroup_check {
	const char *check;
	double (*value)(const struct verdict_cgroup *g);
	void (*explain)(const struct verdict *v, const struct verdict_cgroup *g,
			double limit, struct strbuf *msg);
	double (*ended_at)(const struct verdict_cgroup *g);	/* or NULL */
} cgroup_checks[] = {
	{ "spread", spread_value, explain_spread, NULL },
	{ "gap", gap_value, explain_gap, gap_ended_at },
	{ "isolation", isolation_value, explain_isolation, NULL },
	{ "p99_wake_latency", p99_value, explain_p99, NULL },
	{ "iteration_rate", rate_value, explain_rate, NULL },
	{ "migration_ratio", migration_value, explain_migration, NULL },
};

/* A row's effective limit: a switch that is on checks for none (0);
 * NAN when the check is off. */
static double row_limit(const struct checks *L, const struct check_def *d)
{
	if (d->kind == CHECK_SWITCH)
		return check_switch_get(L, d) != 0 ? 0 : NAN;
	return check_limit_get(L, d);
}

static void eval_cgroup(struct verdict *v, const struct verdict_cgroup *g,
			struct strbuf *msg)
{
	for (size_t i = 0; i < ARRAY_SIZE(cgroup_checks); i++) {
		const struct cgroup_check *k = &cgroup_checks[i];
		const struct check_def *d = checktab_by_name(k->check);
		double limit = row_limit(&v->limits, d), value = k->value(g);
		struct verdict_check *c;

		if (isnan(limit) || isnan(value))
			continue;
		c = vd_add_check(v, k->check, g->name, value, limit,
				 d->dir == CHECK_AT_LEAST ? VERDICT_AT_LEAST : VERDICT_AT_MOST);
		if (k->ended_at)
			c->ended_at_ms = k->ended_at(g);
		if (c->pass)
			continue;
		k->explain(v, g, limit, msg);
		vd_fail_check(v, c, msg);
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
	v->reason = vd_one_line(s);
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
		c = vd_add_check(v, m->name, NULL, m->value, m->limit, VERDICT_AT_MOST);
		if (!m->pass) {
			strbuf_addstr(msg, m->message ? m->message : m->name);
			vd_fail_check(v, c, msg);
		}
	}
}

/* Why a run without scenario_end is inconclusive (or, when the VM ran no
 * scenario at all, an error). */
static void decide_unfinished(struct verdict *v)
{
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
}

/* An input that says nothing about the scheduler: no records, none of
 * ours, or the VM or the host failed.  True with the result set. */
static bool decide_no_run(struct verdict *v)
{
	v->result = VERDICT_ERROR;
	if (!v->records) {
		if (v->bad_lines)
			set_reason(v, "no records: none of the %lu input line%s is a JSON record",
				   v->bad_lines, v->bad_lines == 1 ? "" : "s");
		else
			set_reason(v, "no records (empty input)");
	} else if (!v->known) {
		set_reason(v, "no ktstr records in the input (is it the output of"
			   " ktstr-vm --scenario?)");
	} else if (v->infra_reason) {
		set_reason(v, "%s", v->infra_reason);
	} else if (v->saw_vm_start && !v->saw_agent_ready && !v->saw_start && !v->saw_skip &&
		   !v->vm_exit_reason && !v->interrupted) {
		/* ktstr-vm dies without vm_exit when the host fails it after
		 * vm_start (QEMU cannot be started, no channels). */
		set_reason(v, "host-side error: the stream ends after vm_start, before the"
			   " guest agent came up and without vm_exit (ktstr-vm's standard"
			   " error says why)");
	} else {
		return false;
	}
	return true;
}

/* The outcome, in the precedence verdict.h gives. */
static void decide(struct verdict *v)
{
	if (v->next_run) {
		v->result = VERDICT_ERROR;
		set_reason(v, "line %lu starts a second run (%s): one input is one run;"
			   " give each run its own file", v->next_run_line, v->next_run);
	} else if (decide_no_run(v)) {
		return;
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
		decide_unfinished(v);
	} else if (v->interrupted && v->saw_vm_start && !v->vm_exit_reason) {
		v->result = VERDICT_INCONCLUSIVE;
		set_reason(v, "interrupted: the input ended without vm_exit, so the run"
			   " was cut short");
	} else if (v->host_reason) {
		v->result = VERDICT_INCONCLUSIVE;
		set_reason(v, "%s", v->host_reason);
	} else {
		v->result = VERDICT_PASS;
	}
}

void verdict_finish(struct verdict *v, const struct checks *flags)
{
	struct strbuf msg = STRBUF_INIT;
	size_t i, j;

	vd_checks_clear(v);
	verdict_thresholds(&v->scenario_checks, flags, &v->limits);
	vd_group_records(v);
	vd_derive_groups(v);

	vd_eval_vm(v, &msg);
	vd_eval_scheduler(v, &msg);
	for (i = 0; i < v->n_groups; i++) {
		struct verdict_group *gr = &v->groups[i];
		size_t before = v->n_failures;

		if (!gr->checked)
			continue;
		eval_starvation(v, gr, &msg);
		eval_crash(v, gr, &msg);
		for (j = 0; j < gr->n_cgroups; j++) {
			const struct verdict_cgroup *g = vd_group_cgroup(v, gr, j);

			/* A cgroup only a payload runs in has no worker
			 * numbers to judge: the payload checks judge it. */
			if (!g->background && g->workers != 0)
				eval_cgroup(v, g, &msg);
		}
		gr->failed = v->n_failures > before;
	}
	vd_eval_payloads(v, &msg);
	eval_machine(v, &msg);
	strbuf_release(&msg);
	vd_mark_secondary(v);
	vd_mark_host(v);
	if (v->accel && !strcmp(v->accel, "tcg"))
		strvec_push(&v->notes, "accel=tcg: QEMU runs every vCPU on one host thread"
			    " (-accel tcg,thread=single), taking turns, so iterations/s,"
			    " wake latencies and gaps measure the emulator as much as the"
			    " scheduler; compare them only with other TCG runs");
	else if (v->accel && !strcmp(v->accel, "tcg-mt"))
		strvec_push(&v->notes, "accel=tcg-mt: QEMU emulates each vCPU on its own host"
			    " thread (-accel tcg,thread=multi), so iterations/s, wake latencies"
			    " and gaps measure the emulator and the host's free cores as much as"
			    " the scheduler; compare them only with other tcg-mt runs");
	decide(v);
	if (v->result == VERDICT_ERROR || vd_vm_failed(v))
		vd_read_console_tail(v);
}
