/* Machine checks, the shared part: the scenario window, the cpuset groups,
 * the phases and the phase rules; the checks themselves are in
 * machine_checks.c. */
#include "machine_eval.h"
#include "diag.h"
#include "checktab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Where the run's clock starts: the workload's start when known, else
 * scenario_start. */
static double run_origin(const struct machine *m)
{
	return !isnan(m->origin_host_ms) ? m->origin_host_ms : m->start_host_ms;
}

/* Where it ends: when the workers were told to stop (scenario_end's
 * elapsed_ms on the workload's clock), else scenario_end itself, which
 * comes after the reports and the scheduler's detach. */
static double run_end(const struct machine *m)
{
	if (!isnan(m->origin_host_ms) && !isnan(m->end_elapsed_ms)) {
		double t = m->origin_host_ms + m->end_elapsed_ms;

		return isnan(m->end_host_ms) || t < m->end_host_ms ? t : m->end_host_ms;
	}
	return m->end_host_ms;
}

/* ---- evaluation: shared state -------------------------------------------- */

/* The checks' names in lib/core/checktab.c, which has their limits and sidecar
 * metrics. */
static const char *const check_names[MCHK_N] = {
	[MCHK_WORK_CONSERVATION] = "work_conservation",
	[MCHK_IMBALANCE] = "imbalance",
	[MCHK_LOCAL_DSQ_DEPTH] = "local_dsq_depth",
	[MCHK_STALL] = "stall",
	[MCHK_RUNNABLE_WAIT] = "runnable_wait",
	[MCHK_FALLBACK_RATE] = "fallback_rate",
	[MCHK_KEEP_LAST_RATE] = "keep_last_rate",
};

/* The phase rules: a metric degraded when it rose by at least abs and
 * (when rel_pct > 0 and the earlier value is above 0) by more than
 * rel_pct percent.  NAN abs: not judged (the max imbalance is the mean's
 * noisier twin). */
static const struct {
	const char *name, *head;
	double abs, rel_pct;
	bool higher_is_better;	/* then "rose" above reads "fell" */
} phase_metrics[PM_N] = {
	[PM_MEAN_IMBALANCE] = { "mean_imbalance_ratio", "IMB_MEAN", 1.0, 50 },
	[PM_MAX_IMBALANCE] = { "max_imbalance_ratio", "IMB_HELD", NAN, 0 },
	[PM_MAX_DSQ] = { "max_local_dsq_depth", "DSQ_MAX", 10, 50 },
	[PM_STALLS] = { "stall_count", "STALLS", 1, 0 },
	[PM_IDLE_MS] = { "idle_while_runnable_ms", "IDLE_MS", 500, 0 },
	[PM_FALLBACK] = { "fallback_per_sec", "FALLBACK/S", 20, 50 },
	[PM_KEEP_LAST] = { "keep_last_per_sec", "KEEP_LAST/S", 10, 50 },
	[PM_ITER_RATE] = { "iterations_per_sec", "ITER/S", 0, 50, true },
};

const char *machine_phase_metric_name(enum machine_phase_metric k)
{
	return k < PM_N ? phase_metrics[k].name : "?";
}

bool machine_degraded(enum machine_phase_metric k, double prev, double cur)
{
	double d = k < PM_N && phase_metrics[k].higher_is_better ? prev - cur : cur - prev;

	if (k >= PM_N || isnan(phase_metrics[k].abs) || isnan(d) || d < phase_metrics[k].abs)
		return false;
	if (phase_metrics[k].rel_pct > 0 && prev > 0)
		return d / prev * 100.0 > phase_metrics[k].rel_pct;
	return d > 0;
}

const char *machine_phase_metric_head(enum machine_phase_metric k)
{
	return k < PM_N ? phase_metrics[k].head : "?";
}

static int by_time(const void *a, const void *b, void *ctx)
{
	const struct machine *m = ctx;
	double x = m->samples[*(const size_t *)a].t_ms, y = m->samples[*(const size_t *)b].t_ms;

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;	/* stable */
}

/* The samples inside the scenario window, in time order. */
static void window(struct ev *e)
{
	const struct machine *m = e->m;
	bool sorted = true;

	e->lo = isnan(run_origin(m)) ? -INFINITY : run_origin(m);
	e->hi = isnan(run_end(m)) ? INFINITY : run_end(m);
	e->pos = xcalloc(m->n_samples + 1, sizeof(*e->pos));
	for (size_t i = 0; i < m->n_samples; i++) {
		double t = m->samples[i].t_ms;

		if (t < e->lo || t > e->hi)
			continue;
		if (e->n && t < m->samples[e->pos[e->n - 1]].t_ms)
			sorted = false;
		e->pos[e->n++] = i;
		if (m->samples[i].ncpu > e->maxc)
			e->maxc = m->samples[i].ncpu;
	}
	if (!sorted)
		qsort_r(e->pos, e->n, sizeof(*e->pos), by_time, (void *)m);
	e->t0 = !isnan(run_origin(m)) ? run_origin(m) : e->n ? S(e, 0)->t_ms : 0;
}

/* One mask per distinct cpuset (NULL or unparsable: every CPU, which
 * makes every pair share one). */
static void groups(struct ev *e, const char *const *cpusets, size_t n)
{
	struct strvec seen = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	bool *tmp = xcalloc(MACHINE_MAX_CPUS, sizeof(bool)), all = n == 0;
	size_t i;

	e->group = xcalloc((size_t)MACHINE_MAX_GROUPS * (e->maxc + 1), sizeof(bool));
	for (i = 0; i < n && !all; i++) {
		bool *g;

		if (!cpusets[i]) {
			all = true;
			break;
		}
		/* Past the cap, more cpusets are ignored; seen stays small, so
		 * a run with very many cgroups costs no more than linear. */
		if (e->ngroups == MACHINE_MAX_GROUPS || !strvec_push_unique(&seen, cpusets[i]))
			continue;
		strbuf_reset(&err);
		if (cpulist_parse(cpusets[i], tmp, MACHINE_MAX_CPUS, &err) < 0) {
			all = true;
			break;
		}
		g = &e->group[(size_t)e->ngroups++ * e->maxc];
		memcpy(g, tmp, e->maxc * sizeof(bool));
	}
	if (all) {
		e->ngroups = 1;
		for (i = 0; i < e->maxc; i++)
			e->group[i] = true;
	}
	e->considered = xcalloc(e->maxc + 1, sizeof(bool));
	for (size_t g = 0; g < e->ngroups; g++)
		for (i = 0; i < e->maxc; i++)
			e->considered[i] |= e->group[g * e->maxc + i];
	e->busy = xcalloc(e->ngroups + 1, sizeof(bool));
	strvec_clear(&seen);
	strbuf_release(&err);
	free(tmp);
}

/* Each phase's worker iterations per second, on the guest's own clock:
 * the step records' running totals at their at_ms, scenario_end's at its
 * elapsed_ms.  Only when every step has a boundary (nb of them) and both
 * figures. */
static void iteration_rates(struct ev *e, size_t nb)
{
	const struct machine *m = e->m;
	double at0 = 0, it0 = 0;
	size_t i;

	if (nb != m->n_steps)
		return;
	for (i = 0; i <= m->n_steps; i++) {
		double at1 = i < m->n_steps ? m->steps[i].at_ms : m->end_elapsed_ms;
		double it1 = i < m->n_steps ? m->steps[i].iterations : m->end_iterations;

		if (!isnan(at1) && !isnan(it1) && !isnan(at0) && !isnan(it0) && at1 > at0 &&
		    it1 >= it0)
			e->r->phases[i].v[PM_ITER_RATE] = (it1 - it0) / ((at1 - at0) / 1000.0);
		at0 = at1;
		it0 = it1;
	}
}

/* Phase boundaries from the steps, and each position's phase. */
static void phases(struct ev *e)
{
	const struct machine *m = e->m;
	double *b = xcalloc(m->n_steps + 1, sizeof(double));
	size_t nb = 0, i, k, p;

	for (i = 0; i < m->n_steps; i++) {
		double x = m->steps[i].host_ms;

		if (isnan(x))
			x = run_origin(m) + m->steps[i].at_ms;
		if (isnan(x) && i + 1 < MACHINE_MAX_PHASES)
			x = m->stim_host_ms[i + 1];
		if (!isnan(x))
			b[nb++] = x;
	}
	/* Steps come in order; a stray one out of order is put in place. */
	for (i = 1; i < nb; i++)
		for (k = i; k > 0 && b[k] < b[k - 1]; k--) {
			double t = b[k];

			b[k] = b[k - 1];
			b[k - 1] = t;
		}
	e->r->n_phases = nb + 1;
	e->r->phases = xcalloc(nb + 1, sizeof(*e->r->phases));
	for (i = 0; i <= nb; i++) {
		struct machine_phase *ph = &e->r->phases[i];

		ph->index = (unsigned)i;
		ph->start_ms = i ? b[i - 1] - e->t0 : 0;
		ph->end_ms = i < nb ? b[i] - e->t0 : isnan(run_end(m)) ? NAN : run_end(m) - e->t0;
		for (k = 0; k < PM_N; k++)
			ph->v[k] = NAN;
	}
	iteration_rates(e, nb);
	e->phase = xcalloc(e->n + 1, sizeof(*e->phase));
	for (p = 0, k = 0; p < e->n; p++) {
		while (k < nb && S(e, p)->t_ms >= b[k])
			k++;
		e->phase[p] = (unsigned)k;
		e->r->phases[k].samples++;
	}
	free(b);
}

static double limit_of(const struct checks *L, const char *name)
{
	const struct check_def *d = checktab_by_name(name);

	if (!d || !L)
		return NAN;
	if (d->kind == CHECK_LIMIT)
		return check_limit_get(L, d);
	if (d->kind == CHECK_SWITCH)
		return check_switch_get(L, d) > 0 ? 0 : NAN;
	return NAN;
}

/* ---- evaluation: the whole ------------------------------------------------ */

static void mark_degraded(struct machine_result *r)
{
	const struct machine_phase *prev = NULL;

	for (size_t i = 0; i < r->n_phases; i++) {
		struct machine_phase *ph = &r->phases[i];

		/* Too short a phase is neither judged nor a baseline: the
		 * setup before step 1 is usually a sample or two. */
		if (ph->samples < MACHINE_SUSTAIN)
			continue;
		for (unsigned k = 0; prev && k < PM_N; k++)
			if (machine_degraded(k, prev->v[k], ph->v[k]))
				ph->degraded |= 1u << k;
		prev = ph;
	}
}

/* The window's host time, counted as work_conservation counts its
 * stretches (pos_ms), and how much of it the host let the VM run.  QEMU's
 * stops by the overlap of each sample's interval with the window: after a
 * Ctrl-Z the one sample that carries the whole stop is taken as QEMU goes
 * on, and the guest, whose clock jumps by the stop, may end the workload
 * a few ms before that sample's time (CI saw it left out). */
static void vm_run(struct ev *e)
{
	double window = 0, run = 0;
	bool known = false;

	for (size_t p = 0; p < e->n; p++) {
		double r;

		window += pos_ms(e, p, 0, &r);
		run += r;
		known |= !isnan(S(e, p)->vm_share);
	}
	e->r->window_ms = e->n ? window : NAN;
	e->r->vm_run_ms = known ? run : NAN;
	e->r->stopped_ms = machine_stopped_ms(e->m, e->lo, e->hi);
}

void machine_eval(const struct machine *m, const char *const *cpusets, size_t n,
		  const struct checks *limits, struct machine_result *r)
{
	struct ev e = { .m = m, .r = r, .L = limits };

	memset(r, 0, sizeof(*r));
	for (unsigned k = 0; k < MCHK_N; k++) {
		r->checks[k].name = check_names[k];
		r->checks[k].metric = checktab_by_name(check_names[k])->metric;
		r->checks[k].value = NAN;
		r->checks[k].limit = limit_of(limits, check_names[k]);
		r->checks[k].pass = true;
		r->checks[k].from_ms = r->checks[k].to_ms = NAN;
	}
	e.iv = isnan(m->interval_ms) ? MACHINE_DEFAULT_INTERVAL_MS : m->interval_ms;
	r->interval_ms = e.iv;
	window(&e);
	r->samples = e.n;
	r->any = e.n > 0;
	vm_run(&e);
	if (r->any) {
		groups(&e, cpusets, n);
		phases(&e);
		for (size_t p = 0; p < r->n_phases; p++)
			r->phases[p].v[PM_IDLE_MS] = 0;
		machine_eval_wc(&e);
		machine_eval_imbalance(&e);
		machine_eval_dsq(&e);
		machine_eval_stall(&e);
		machine_eval_wait(&e);
		machine_eval_rate(&e, false);
		machine_eval_rate(&e, true);
		mark_degraded(r);
	}
	free(e.pos);
	free(e.phase);
	free(e.group);
	free(e.considered);
	free(e.busy);
}

void machine_result_release(struct machine_result *r)
{
	for (unsigned k = 0; k < MCHK_N; k++)
		free(r->checks[k].message);
	free(r->phases);
	memset(r, 0, sizeof(*r));
}
