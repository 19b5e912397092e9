/* The human report (verdict_format). */
#include "verdict_int.h"
#include "agentcpu.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Kernel log / scheduler output lines shown per failure. */
#define DETAIL_LINES_MAX 200

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
		l = vd_one_line(sv->v[i]);
		strbuf_addf(out, "      %s\n", l);
		free(l);
	}
}

static bool have_stats(const struct verdict *v)
{
	return v->saw_end || v->n_cgroups || v->n_payloads || v->n_bpf_progs ||
	       json_object_size(v->scx_events) || v->machine.saw_record;
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
		const struct verdict_worker *w = vd_group_worker(v, gr, i);

		strbuf_addstr(out, "  ");
		vd_add_worker_id(out, w);
		strbuf_addf(out, ": cpus_used=%s off_cpu=", w->cpus_used ? w->cpus_used : "?");
		vd_add_stat(out, w->off_cpu_pct, "%");
		strbuf_addstr(out, " iter=");
		vd_add_num(out, w->iterations);
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
			n += vd_group_worker(v, gr, i)->stop_timeout;
		if (!n)
			continue;
		strbuf_addf(out, "%sstop timeout: %s ", indent, gr->name);
		for (size_t i = 0; i < gr->n_workers && listed < WORKER_LINES_MAX; i++) {
			const struct verdict_worker *w = vd_group_worker(v, gr, i);

			if (!w->stop_timeout)
				continue;
			if (listed++)
				strbuf_addstr(out, ", ");
			vd_add_worker_id(out, w);
		}
		if (n > listed)
			strbuf_addf(out, " and %zu more", n - listed);
		strbuf_addf(out, " did not stop when asked and %s killed\n",
			    n == 1 ? "was" : "were");
	}
}

static void format_stats(const struct verdict *v, struct strbuf *out)
{
	struct vd_totals t;
	const char *key;
	json_t *val;
	bool first = true;

	vd_totals(v, &t);
	strbuf_addstr(out, "--- stats ---\n");
	vd_add_num(out, t.workers);
	strbuf_addstr(out, " workers, ");
	vd_add_num(out, t.cpus);
	strbuf_addstr(out, " cpus, ");
	vd_add_num(out, t.migrations);
	strbuf_addstr(out, " migrations, worst_spread=");
	vd_add_stat(out, t.worst_spread_pct, "%");
	strbuf_addstr(out, ", worst_gap=");
	vd_add_stat(out, t.worst_gap_ms, "ms");
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		strbuf_addf(out, "%s: workers=", g->name);
		vd_add_num(out, g->workers);
		strbuf_addstr(out, " cpus=");
		vd_add_num(out, g->cpus);
		strbuf_addstr(out, " spread=");
		vd_add_stat(out, g->spread_pct, "%");
		strbuf_addstr(out, " gap=");
		vd_add_stat(out, g->worst_gap_ms, "ms");
		strbuf_addstr(out, " migrations=");
		vd_add_num(out, g->migrations);
		strbuf_addstr(out, " iter=");
		vd_add_num(out, g->iterations);
		if (!isnan(g->p99_wake_latency_us)) {
			strbuf_addstr(out, " p99_wake=");
			vd_add_stat(out, g->p99_wake_latency_us, "us");
		}
		if (g->background)
			strbuf_addstr(out, " (background, not checked)");
		strbuf_addch(out, '\n');
		format_workers(v, g, out);
	}
	vd_format_payloads(v, out);
	vd_format_bpf(v, out);
	json_object_foreach(v->scx_events, key, val) {
		if (json_number_value(val) == 0)
			continue;
		strbuf_addstr(out, first ? "sched_ext events:" : "");
		first = false;
		strbuf_addf(out, " %s=", key);
		vd_add_num(out, json_number_value(val));
	}
	if (!first)
		strbuf_addch(out, '\n');
	if (!isnan(v->end_agent_cpu_pct)) {
		strbuf_addstr(out, "agent: cpu=");
		vd_add_stat(out, v->end_agent_cpu_ms, "ms");
		strbuf_addf(out, " (%.2f%% of the guest's CPU over the workload)\n",
			    v->end_agent_cpu_pct);
		/* A warning, not a failure: the workers' numbers are still
		 * what they measured, only perhaps disturbed. */
		if (v->end_agent_cpu_pct > AGENT_CPU_WARN_PCT)
			strbuf_addf(out, "warning: the agent used more than %g%% of the guest's"
				    " CPU during the workload: the measurement may have"
				    " disturbed the run\n", AGENT_CPU_WARN_PCT);
	}
	machine_format(&v->machine, &v->machine_result, out);
	for (size_t i = 0; i < v->notes.n; i++)
		strbuf_addf(out, "note: %s\n", v->notes.v[i]);
}

/* The failures the host caused (verdict_host.c), apart from the run's
 * own; an inconclusive run's reason already quotes a lone one. */
static void format_by_host(const struct verdict *v, struct strbuf *out)
{
	if (!v->n_by_host || (v->result != VERDICT_FAIL && v->n_by_host == 1))
		return;
	strbuf_addstr(out, "  the host did not run the VM (not the scheduler's failures):\n");
	for (size_t i = 0; i < v->n_checks; i++)
		if (v->checks[i].by_host)
			strbuf_addf(out, "    %s\n", v->checks[i].message);
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

			if (c->pass || c->secondary || c->by_host)
				continue;
			strbuf_addf(out, "  %s\n", c->message);
			add_lines(out, "kernel log", &c->kernel_log);
			add_lines(out, c->payload ? "payload output" : "scheduler output",
				  &c->output);
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
	format_by_host(v, out);
	if (!v->n_secondary)
		format_stop_timeouts(v, "  ", out);
	if ((v->result == VERDICT_ERROR || v->result == VERDICT_INCONCLUSIVE) &&
	    v->output_tail.n)
		add_lines(out, "last guest output", &v->output_tail);
	if (v->result == VERDICT_ERROR || vd_vm_failed(v)) {
		if (v->console_log)
			strbuf_addf(out, "  console log: %s\n", v->console_log);
		add_lines(out, "last console lines", &v->console_tail);
	}
	if (have_stats(v))
		format_stats(v, out);
}
