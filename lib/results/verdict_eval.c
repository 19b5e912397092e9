/* The per-cgroup and machine checks, and the outcome (verdict.h). */
#include "verdict_int.h"
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
		const struct verdict_cgroup *g = vd_group_cgroup(v, gr, i);

		if (!isnan(g->starved_workers))
			reported = isnan(reported) ? g->starved_workers
						   : vd_max2(reported, g->starved_workers);
	}
	for (i = 0; i < gr->n_workers; i++) {
		const struct verdict_worker *w = vd_group_worker(v, gr, i);

		if (w->iterations == 0)
			starved++;
		if (w->crashed)
			crashed++;
	}

	if (v->limits.starvation && (any_worker || !isnan(reported))) {
		double n = isnan(reported) ? starved : vd_max2(starved, reported);

		c = vd_add_check(v, "starvation", cg, n, 0, VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "starved: %s ", cg);
			for (i = 0; i < gr->n_workers; i++) {
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
			vd_fail_check(v, c, msg);
		}
	}

	if (any_worker) {
		c = vd_add_check(v, "crash", cg, crashed, 0, VERDICT_AT_MOST);
		if (!c->pass) {
			n_listed = 0;
			strbuf_addf(msg, "worker crashed: %s ", cg);
			for (i = 0; i < gr->n_workers; i++) {
				const struct verdict_worker *w = vd_group_worker(v, gr, i);
				const char *abbrev;

				if (!w->crashed)
					continue;
				if (n_listed++)
					strbuf_addstr(msg, ", ");
				vd_add_worker_id(msg, w);
				if (w->signal) {
					abbrev = sigabbrev_np(w->signal);
					if (abbrev)
						strbuf_addf(msg, " killed by SIG%s", abbrev);
					else
						strbuf_addf(msg, " killed by signal %d", w->signal);
				}
			}
			vd_fail_check(v, c, msg);
		}
	}
}

static void eval_cgroup(struct verdict *v, const struct verdict_cgroup *g,
			struct strbuf *msg)
{
	const struct checks *L = &v->limits;
	struct verdict_check *c;

	if (!isnan(L->max_spread_pct) && !isnan(g->spread_pct)) {
		c = vd_add_check(v, "spread", g->name, g->spread_pct, L->max_spread_pct,
			      VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "unfair: %s spread %.1f%% > ", g->name, g->spread_pct);
			vd_add_num(msg, L->max_spread_pct);
			strbuf_addch(msg, '%');
			vd_fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_gap_ms) && !isnan(g->worst_gap_ms)) {
		c = vd_add_check(v, "gap", g->name, g->worst_gap_ms, L->max_gap_ms,
			      VERDICT_AT_MOST);
		if (!g->never_ran && !isnan(g->worst_gap_at_ms))
			c->ended_at_ms = g->worst_gap_at_ms + g->worst_gap_ms;
		if (!c->pass) {
			strbuf_addstr(msg, "stuck ");
			vd_add_num(msg, g->worst_gap_ms);
			strbuf_addstr(msg, "ms");
			if (g->never_ran) {
				strbuf_addf(msg, " (%s never ran: the whole run)", g->name);
			} else {
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
			vd_fail_check(v, c, msg);
		}
	}
	if (L->isolation && !isnan(g->isolation_violations)) {
		c = vd_add_check(v, "isolation", g->name, g->isolation_violations, 0,
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
				vd_add_num(msg, g->isolation_violations);
				strbuf_addstr(msg, g->isolation_violations == 1 ? " violation)"
									: " violations)");
			}
			vd_fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_p99_wake_latency_us) && !isnan(g->p99_wake_latency_us)) {
		c = vd_add_check(v, "p99_wake_latency", g->name, g->p99_wake_latency_us,
			      L->max_p99_wake_latency_us, VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "slow wakeups: %s p99 wake latency ", g->name);
			vd_add_num(msg, g->p99_wake_latency_us);
			strbuf_addstr(msg, "us > ");
			vd_add_num(msg, L->max_p99_wake_latency_us);
			strbuf_addstr(msg, "us");
			vd_fail_check(v, c, msg);
		}
	}
	if (!isnan(L->min_iterations_per_sec) && !isnan(g->iterations_per_sec)) {
		c = vd_add_check(v, "iteration_rate", g->name, g->iterations_per_sec,
			      L->min_iterations_per_sec, VERDICT_AT_LEAST);
		if (!c->pass) {
			strbuf_addf(msg, "too little progress: %s ", g->name);
			vd_add_num(msg, g->iterations_per_sec);
			strbuf_addstr(msg, " iterations/s < ");
			vd_add_num(msg, L->min_iterations_per_sec);
			if (v->accel && !strcmp(v->accel, "tcg"))
				strbuf_addstr(msg, " (under TCG: see the note on rates)");
			vd_fail_check(v, c, msg);
		}
	}
	if (!isnan(L->max_migration_ratio) && !isnan(g->migrations) &&
	    !isnan(g->iterations) && g->iterations > 0) {
		double ratio = g->migrations / g->iterations;

		c = vd_add_check(v, "migration_ratio", g->name, ratio, L->max_migration_ratio,
			      VERDICT_AT_MOST);
		if (!c->pass) {
			strbuf_addf(msg, "migrating too much: %s ", g->name);
			vd_add_num(msg, g->migrations);
			strbuf_addstr(msg, " migrations in ");
			vd_add_num(msg, g->iterations);
			strbuf_addf(msg, " iterations (%.4g per iteration) > ", ratio);
			vd_add_num(msg, L->max_migration_ratio);
			vd_fail_check(v, c, msg);
		}
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
		eval_workers(v, gr, &msg);
		for (j = 0; j < gr->n_cgroups; j++)
			if (!vd_group_cgroup(v, gr, j)->background)
				eval_cgroup(v, vd_group_cgroup(v, gr, j), &msg);
		gr->failed = v->n_failures > before;
	}
	eval_machine(v, &msg);
	strbuf_release(&msg);
	vd_mark_secondary(v);
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
	if (v->result == VERDICT_ERROR || vd_vm_failed(v))
		vd_read_console_tail(v);
}

