/* The machine view: monitor samples, machine checks, phases (machine.h). */
#include "machine.h"
#include "checktab.h"
#include "texttable.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts past this are stored saturated: no limit comes near it. */
#define COUNT_MAX 65535.0

/* ---- lifecycle ---------------------------------------------------------- */

void machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	m->max_samples = MACHINE_MAX_SAMPLES;
	m->max_cells = MACHINE_MAX_CELLS;
	m->interval_ms = NAN;
	m->end_samples = m->end_skipped = NAN;
	m->start_host_ms = m->end_host_ms = m->origin_host_ms = NAN;
	m->end_elapsed_ms = m->end_iterations = NAN;
	for (size_t i = 0; i < MACHINE_MAX_PHASES; i++)
		m->stim_host_ms[i] = NAN;
}

void machine_release(struct machine *m)
{
	free(m->vcpu_threads);
	free(m->unavailable);
	free(m->samples);
	free(m->cells);
	free(m->steps);
	strvec_clear(&m->warned);
	memset(m, 0, sizeof(*m));
}

/* ---- input -------------------------------------------------------------- */

static void mwarn(struct machine *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mwarn(struct machine *m, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!m->warn)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	m->warn(m->warn_ctx, msg);
	free(msg);
}

/* Warn about type.key once per run, in the check engine's words. */
static void weird(struct machine *m, const char *type, const char *key,
		  const char *want, const char *got)
{
	char *k = xasprintf("%s.%s", type, key);

	if (strvec_push_unique(&m->warned, k))
		mwarn(m, "%s: expected %s, got %s; treated as missing"
		      " (said once per field)", k, want, got);
	free(k);
}

/* A value that is a sane count or time: finite, >= 0, below 2^53. */
static bool sane(const json_t *j, double *out)
{
	double x;

	if (!json_is_number(j))
		return false;
	x = json_number_value(j);
	if (!(x >= 0 && x < 9007199254740992.0))
		return false;
	*out = x;
	return true;
}

/* A number field: true with *out when present and sane; missing and null
 * are quietly false, anything else false with a warning. */
static bool get_num(struct machine *m, const json_t *rec, const char *type,
		    const char *key, double *out)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return false;
	if (sane(j, out))
		return true;
	weird(m, type, key, "a number >= 0", json_is_number(j) ? "a negative or huge one"
							  : json_kind_name(j));
	return false;
}

static void feed_start(struct machine *m, const json_t *rec)
{
	static const char T[] = "monitor_start";
	const char *vt;
	double x;

	m->saw_start = true;
	if (get_num(m, rec, T, "cpus", &x)) {
		if (x >= 1 && x <= MACHINE_MAX_CPUS && x == (double)(unsigned)x)
			m->cpus = (unsigned)x;
		else
			weird(m, T, "cpus", "a CPU count from 1 to 65536", "another number");
	}
	if (get_num(m, rec, T, "interval_ms", &x)) {
		if (x > 0 && x <= 3600000)
			m->interval_ms = x;
		else
			weird(m, T, "interval_ms", "a number of ms from 1 to 3600000",
			      "another number");
	}
	vt = json_string_value(json_object_get(rec, "vcpu_threads"));
	if (vt && !m->vcpu_threads)
		m->vcpu_threads = xstrndup(vt, 32);
}

/* The per-CPU array key of rec if it has ncpu elements; NULL (with a
 * warning unless missing or null) otherwise. */
static const json_t *cpu_array(struct machine *m, const json_t *rec, const char *key,
			       size_t ncpu)
{
	const json_t *j = json_object_get(rec, key);
	char want[64];

	if (!j || json_is_null(j))
		return NULL;
	snprintf(want, sizeof(want), "an array of %zu values (one per CPU)", ncpu);
	if (!json_is_array(j)) {
		weird(m, "monitor", key, want, json_kind_name(j));
		return NULL;
	}
	if (json_array_size(j) != ncpu) {
		weird(m, "monitor", key, want, "one of another length");
		return NULL;
	}
	return j;
}

/* nr_running or local_dsq into the cells: counts >= 0, saturated. */
static bool read_counts(struct machine *m, const json_t *rec, const char *key,
			struct machine_cell *c, size_t ncpu, bool dsq)
{
	const json_t *a = cpu_array(m, rec, key, ncpu);
	double x;

	if (!a)
		return false;
	for (size_t i = 0; i < ncpu; i++) {
		if (!sane(json_array_get(a, i), &x)) {
			weird(m, "monitor", key, "an array of counts >= 0",
			      "an array holding something else");
			return false;
		}
		x = x > COUNT_MAX ? COUNT_MAX : x;
		if (dsq)
			c[i].dsq = (uint16_t)x;
		else
			c[i].nr = (uint16_t)x;
	}
	return true;
}

enum flag_rule { IS_ONE, IS_ZERO, IS_POSITIVE };

/* A per-CPU array turned into one flag bit per cell; on a bad element the
 * bit is cleared again everywhere, so a half-read array leaves no trace. */
static bool read_flags(struct machine *m, const json_t *rec, const char *key,
		       struct machine_cell *c, size_t ncpu, uint8_t bit, enum flag_rule rule)
{
	const json_t *a = cpu_array(m, rec, key, ncpu);
	double x;
	size_t i;

	if (!a)
		return false;
	for (i = 0; i < ncpu; i++) {
		const json_t *e = json_array_get(a, i);
		bool on;

		if (json_is_boolean(e))
			x = json_is_true(e);
		else if (!sane(e, &x))
			break;
		if (rule == IS_ONE && x != 0 && x != 1)
			break;
		on = rule == IS_ONE ? x == 1 : rule == IS_ZERO ? x == 0 : x > 0;
		if (on)
			c[i].flags |= bit;
	}
	if (i == ncpu)
		return true;
	for (i = 0; i < ncpu; i++)
		c[i].flags &= (uint8_t)~bit;
	weird(m, "monitor", key, rule == IS_ONE ? "an array of 0 and 1" : "an array of numbers >= 0",
	      "an array holding something else");
	return false;
}

/* max_wait_ms: numbers >= 0 or null; only the largest is kept. */
static bool read_wait(struct machine *m, const json_t *rec, struct machine_sample *s)
{
	const json_t *a = cpu_array(m, rec, "max_wait_ms", s->ncpu);
	double x, best = NAN;
	uint32_t cpu = 0;

	if (!a)
		return false;
	for (size_t i = 0; i < s->ncpu; i++) {
		const json_t *e = json_array_get(a, i);

		if (json_is_null(e))
			continue;
		if (!sane(e, &x)) {
			weird(m, "monitor", "max_wait_ms", "an array of numbers >= 0 or null",
			      "an array holding something else");
			return false;
		}
		if (isnan(best) || x > best) {
			best = x;
			cpu = (uint32_t)i;
		}
	}
	s->max_wait_ms = best;
	s->wait_cpu = cpu;
	return true;
}

static void read_events(struct machine *m, const json_t *rec, struct machine_sample *s)
{
	const json_t *ev = json_object_get(rec, "events");

	s->fallback = s->keep_last = NAN;
	if (!ev || json_is_null(ev))
		return;
	if (!json_is_object(ev)) {
		weird(m, "monitor", "events", "an object", json_kind_name(ev));
		return;
	}
	if (!get_num(m, ev, "monitor.events", "select_cpu_fallback", &s->fallback))
		s->fallback = NAN;
	if (!get_num(m, ev, "monitor.events", "dispatch_keep_last", &s->keep_last))
		s->keep_last = NAN;
}

/* How many CPUs this sample has: monitor_start's count, else the length of
 * its nr_running (0: unusable, warned). */
static size_t sample_cpus(struct machine *m, const json_t *rec)
{
	const json_t *nr = json_object_get(rec, "nr_running");

	if (m->cpus)
		return m->cpus;
	if (!json_is_array(nr) || !json_array_size(nr)) {
		weird(m, "monitor", "nr_running", "an array of counts, one per CPU",
		      nr ? json_kind_name(nr) : "nothing");
		return 0;
	}
	if (json_array_size(nr) > MACHINE_MAX_CPUS) {
		weird(m, "monitor", "nr_running", "an array of at most 65536 values",
		      "a longer one");
		return 0;
	}
	return json_array_size(nr);
}

/* Room for one more sample of ncpu CPUs, within the caps. */
static bool make_room(struct machine *m, size_t ncpu)
{
	if (m->n_samples >= m->max_samples || m->n_cells + ncpu > m->max_cells) {
		if (!m->dropped++)
			mwarn(m, "monitor: more than %zu samples or %zu per-CPU values;"
			      " later samples are ignored", m->max_samples, m->max_cells);
		return false;
	}
	if (m->n_samples == m->alloc_samples) {
		m->alloc_samples = m->alloc_samples ? 2 * m->alloc_samples : 256;
		m->samples = xrealloc(m->samples, m->alloc_samples * sizeof(*m->samples));
	}
	if (m->n_cells + ncpu > m->alloc_cells) {
		size_t a = m->alloc_cells ? m->alloc_cells : 1024;

		while (a < m->n_cells + ncpu)
			a *= 2;
		m->cells = xrealloc(m->cells, a * sizeof(*m->cells));
		m->alloc_cells = a;
	}
	return true;
}

static void feed_sample(struct machine *m, const json_t *rec)
{
	struct machine_sample *s;
	struct machine_cell *c;
	double t;
	size_t ncpu;

	if (!get_num(m, rec, "monitor", "t_ms", &t)) {
		if (!json_object_get(rec, "t_ms"))
			weird(m, "monitor", "t_ms", "a number >= 0", "nothing");
		return;
	}
	if (!(ncpu = sample_cpus(m, rec)) || !make_room(m, ncpu))
		return;
	s = &m->samples[m->n_samples];
	memset(s, 0, sizeof(*s));
	s->t_ms = t;
	s->cell = m->n_cells;
	s->ncpu = (uint32_t)ncpu;
	s->max_wait_ms = NAN;
	c = &m->cells[s->cell];
	memset(c, 0, ncpu * sizeof(*c));
	if (read_counts(m, rec, "nr_running", c, ncpu, false))
		s->have |= MS_NR;
	if (read_counts(m, rec, "local_dsq", c, ncpu, true))
		s->have |= MS_DSQ;
	if (read_flags(m, rec, "idle", c, ncpu, MC_IDLE, IS_ONE))
		s->have |= MS_IDLE;
	if (read_flags(m, rec, "clock_adv_us", c, ncpu, MC_CLOCK_STILL, IS_ZERO))
		s->have |= MS_CLOCK;
	if (read_flags(m, rec, "vcpu_run_us", c, ncpu, MC_VCPU_RAN, IS_POSITIVE))
		s->have |= MS_VCPU;
	if (read_wait(m, rec, s))
		s->have |= MS_WAIT;
	read_events(m, rec, s);
	if (!s->have && isnan(s->fallback) && isnan(s->keep_last))
		return;		/* nothing usable: not stored */
	m->n_samples++;
	m->n_cells += ncpu;
}

void machine_feed(struct machine *m, const json_t *rec, const char *type)
{
	const char *reason;

	if (strncmp(type, "monitor", 7))
		return;
	m->saw_record = true;
	if (!strcmp(type, "monitor")) {
		feed_sample(m, rec);
	} else if (!strcmp(type, "monitor_start")) {
		feed_start(m, rec);
	} else if (!strcmp(type, "monitor_end")) {
		m->saw_end = true;
		if (!get_num(m, rec, "monitor_end", "samples", &m->end_samples))
			m->end_samples = NAN;
		if (!get_num(m, rec, "monitor_end", "skipped", &m->end_skipped))
			m->end_skipped = NAN;
	} else if (!strcmp(type, "monitor_unavailable")) {
		reason = json_string_value(json_object_get(rec, "reason"));
		if (!m->unavailable) {
			m->unavailable = xstrndup(reason ? reason : "no reason given", 300);
			for (char *p = m->unavailable; *p; p++)
				if ((unsigned char)*p < 0x20)
					*p = ' ';
		}
	}
}

static void add_step(struct machine *m, const json_t *rec)
{
	double idx = NAN, at = NAN, host = NAN, iters = NAN;

	if (get_num(m, rec, "step", "index", &idx) && idx == 0)
		return;		/* step 0 is the initial setup: phase 0 */
	if (!get_num(m, rec, "step", "at_ms", &at))
		at = NAN;
	if (!get_num(m, rec, "step", "host_ms", &host))
		host = NAN;
	if (!get_num(m, rec, "step", "iterations", &iters))
		iters = NAN;
	if (m->n_steps + 1 >= MACHINE_MAX_PHASES) {
		if (strvec_push_unique(&m->warned, "step (too many)"))
			mwarn(m, "step: more than %u phases; later steps are folded into"
			      " the last phase", MACHINE_MAX_PHASES);
		return;
	}
	if (m->n_steps == m->alloc_steps) {
		m->alloc_steps = m->alloc_steps ? 2 * m->alloc_steps : 8;
		m->steps = xrealloc(m->steps, m->alloc_steps * sizeof(*m->steps));
	}
	m->steps[m->n_steps++] = (struct machine_step){ host, at, iters };
}

void machine_timeline(struct machine *m, const json_t *rec, const char *type)
{
	double host, step = NAN, at;

	if (!strcmp(type, "step")) {
		add_step(m, rec);
		return;
	}
	if (!strcmp(type, "scenario_end")) {
		if (!get_num(m, rec, type, "elapsed_ms", &m->end_elapsed_ms))
			m->end_elapsed_ms = NAN;
		if (!get_num(m, rec, type, "iterations", &m->end_iterations))
			m->end_iterations = NAN;
	}
	if (!get_num(m, rec, type, "host_ms", &host))
		return;
	if (!strcmp(type, "scenario_start") && isnan(m->start_host_ms))
		m->start_host_ms = host;
	else if (!strcmp(type, "scenario_end") && isnan(m->end_host_ms))
		m->end_host_ms = host;
	else if (!strcmp(type, "stimulus") &&
		 get_num(m, rec, "stimulus", "step", &step) && step >= 1 &&
		 step < MACHINE_MAX_PHASES && !(m->stim_host_ms[(size_t)step] <= host))
		m->stim_host_ms[(size_t)step] = host;
	else if (!strcmp(type, "stimulus") && step == 0 &&
		 get_num(m, rec, "stimulus", "at_ms", &at) && !(m->origin_host_ms <= host - at))
		m->origin_host_ms = host - at;
}

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

struct ev {
	const struct machine *m;
	struct machine_result *r;
	const struct checks *L;
	size_t *pos;		/* sample indices in the window, by time */
	size_t n;
	unsigned *phase;	/* phase of each position */
	unsigned maxc;		/* most CPUs of any sample */
	bool *considered;	/* maxc: in some cgroup's cpuset */
	bool *group;		/* ngroups * maxc */
	unsigned ngroups;
	bool *busy;		/* ngroups: some CPU with nr_running >= 2 */
	double t0;		/* scenario start, for "s into the run" */
	double iv;
};

static const struct machine_sample *S(const struct ev *e, size_t p)
{
	return &e->m->samples[e->pos[p]];
}

static const struct machine_cell *C(const struct ev *e, size_t p, unsigned cpu)
{
	return &e->m->cells[S(e, p)->cell + cpu];
}

static double since_start(const struct ev *e, size_t p)
{
	double x = S(e, p)->t_ms - e->t0;

	return x > 0 ? x / 1000.0 : 0;
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
	double lo = isnan(run_origin(m)) ? -INFINITY : run_origin(m);
	double hi = isnan(run_end(m)) ? INFINITY : run_end(m);
	bool sorted = true;

	e->pos = xcalloc(m->n_samples + 1, sizeof(*e->pos));
	for (size_t i = 0; i < m->n_samples; i++) {
		double t = m->samples[i].t_ms;

		if (t < lo || t > hi)
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

/* Set check k's value; the caller writes the message when it failed. */
static struct machine_check *judge(struct ev *e, enum machine_check_id k, double value)
{
	struct machine_check *c = &e->r->checks[k];

	c->evaluated = true;
	c->value = value;
	c->pass = isnan(c->limit) || !(value > c->limit);
	return c;
}

static void set_message(struct machine_check *c, struct strbuf *sb)
{
	c->message = strbuf_detach(sb, NULL);
}

static unsigned count_true(const bool *mask, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += mask[i];
	return k;
}

/* "CPU 3" or "CPUs 1-3". */
static void add_cpus(struct strbuf *sb, const bool *mask, unsigned n)
{
	strbuf_addstr(sb, count_true(mask, n) == 1 ? "CPU " : "CPUs ");
	cpulist_format(mask, n, sb);
}

static void add_ms(struct strbuf *sb, double ms)
{
	strbuf_addf(sb, "%.0f ms", ms);
}

static void add_num(struct strbuf *sb, double x)
{
	if (x == (double)(long long)x)
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, "%.3g", x);
}

/* ---- work conservation --------------------------------------------------- */

static void compute_busy(struct ev *e, size_t p)
{
	const struct machine_sample *s = S(e, p);

	for (unsigned g = 0; g < e->ngroups; g++) {
		e->busy[g] = false;
		for (unsigned i = 0; i < s->ncpu && !e->busy[g]; i++)
			e->busy[g] = e->group[(size_t)g * e->maxc + i] && C(e, p, i)->nr >= 2;
	}
}

/* CPU i of position p idles while a CPU it shares a cpuset with has 2+
 * runnable tasks; a vCPU the host did not run does not count (compute_busy
 * first). */
static bool wc_cond(const struct ev *e, size_t p, unsigned i)
{
	const struct machine_sample *s = S(e, p);
	const struct machine_cell *c;

	if ((s->have & (MS_NR | MS_IDLE)) != (MS_NR | MS_IDLE) || i >= s->ncpu ||
	    !e->considered[i])
		return false;
	c = C(e, p, i);
	if (!(c->flags & MC_IDLE) || c->nr)
		return false;
	if ((s->have & MS_VCPU) && !(c->flags & MC_VCPU_RAN))
		return false;
	for (unsigned g = 0; g < e->ngroups; g++)
		if (e->busy[g] && e->group[(size_t)g * e->maxc + i])
			return true;
	return false;
}

struct stretch {
	double ms;
	unsigned cpu;
	size_t a, b;
	bool any;
};

/* Time a stretch of positions a..b covers: the gaps between its samples
 * plus one interval for the first.  Credited to each sample's phase when
 * per_phase (idle-while-runnable). */
static double stretch_ms(struct ev *e, size_t a, size_t b, bool per_phase)
{
	double total = 0;

	for (size_t p = a; p <= b; p++) {
		double d = p == a ? e->iv : S(e, p)->t_ms - S(e, p - 1)->t_ms;

		total += d;
		if (per_phase)
			e->r->phases[e->phase[p]].v[PM_IDLE_MS] += d;
	}
	return total;
}

static void wc_message(struct ev *e, const struct stretch *w, struct strbuf *sb)
{
	bool *idle = xcalloc(e->maxc, sizeof(bool)), *busy = xcalloc(e->maxc, sizeof(bool));
	size_t len = w->b - w->a + 1, *hits = xcalloc(e->maxc, sizeof(size_t));
	size_t *idles = xcalloc(e->maxc, sizeof(size_t));
	unsigned lo = 65535, hi = 0, i, g;
	size_t p;

	for (p = w->a; p <= w->b; p++) {
		compute_busy(e, p);
		for (i = 0; i < e->maxc; i++) {
			idles[i] += wc_cond(e, p, i);
			hits[i] += i < S(e, p)->ncpu && C(e, p, i)->nr >= 2;
		}
	}
	/* Idle: as the busy ones, in at least half the stretch (a kernel
	 * thread's blip on an otherwise idle CPU does not hide it); the
	 * stretch's own CPU always. */
	for (i = 0; i < e->maxc; i++)
		idle[i] = i == w->cpu || 2 * idles[i] >= len;
	/* Busy: shares a cpuset with the idle CPU, 2+ runnable in at least
	 * half the stretch. */
	for (i = 0; i < e->maxc; i++)
		for (g = 0; g < e->ngroups && !busy[i]; g++)
			busy[i] = e->group[(size_t)g * e->maxc + i] &&
				  e->group[(size_t)g * e->maxc + w->cpu] && 2 * hits[i] >= len;
	for (p = w->a; p <= w->b; p++)
		for (i = 0; i < S(e, p)->ncpu; i++)
			if (busy[i]) {
				lo = C(e, p, i)->nr < lo ? C(e, p, i)->nr : lo;
				hi = C(e, p, i)->nr > hi ? C(e, p, i)->nr : hi;
			}
	strbuf_addstr(sb, "work conservation: ");
	add_cpus(sb, idle, e->maxc);
	strbuf_addstr(sb, " idle for ");
	add_ms(sb, w->ms);
	strbuf_addstr(sb, " while ");
	if (hi) {
		add_cpus(sb, busy, e->maxc);
		strbuf_addf(sb, " had %s%u runnable tasks%s", lo == hi ? "" : "up to ", hi,
			    count_true(busy, e->maxc) > 1 ? " each" : "");
	} else {
		strbuf_addstr(sb, "other CPUs had 2 or more runnable tasks");
	}
	strbuf_addf(sb, " (from %.1f s into the run; limit ", since_start(e, w->a));
	add_ms(sb, e->r->checks[MCHK_WORK_CONSERVATION].limit);
	strbuf_addch(sb, ')');
	free(idle);
	free(idles);
	free(busy);
	free(hits);
}

static void eval_wc(struct ev *e)
{
	size_t *len = xcalloc(e->maxc + 1, sizeof(size_t)), *first = xcalloc(e->maxc + 1, sizeof(size_t));
	struct stretch best = { 0 };
	bool any = false;
	size_t p;
	unsigned i;

	for (p = 0; p <= e->n; p++) {
		bool end = p == e->n;

		if (!end) {
			any |= (S(e, p)->have & (MS_NR | MS_IDLE)) == (MS_NR | MS_IDLE);
			compute_busy(e, p);
		}
		for (i = 0; i < e->maxc; i++) {
			if (!end && wc_cond(e, p, i)) {
				if (!len[i]++)
					first[i] = p;
				continue;
			}
			if (len[i] >= MACHINE_SUSTAIN) {
				double ms = stretch_ms(e, first[i], p - 1, true);

				if (!best.any || ms > best.ms)
					best = (struct stretch){ ms, i, first[i], p - 1, true };
			}
			len[i] = 0;
		}
	}
	if (any) {
		struct machine_check *c = judge(e, MCHK_WORK_CONSERVATION, best.any ? best.ms : 0);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			wc_message(e, &best, &sb);
			set_message(c, &sb);
		}
	} else {
		for (p = 0; p < e->r->n_phases; p++)
			e->r->phases[p].v[PM_IDLE_MS] = NAN;
	}
	free(len);
	free(first);
}

/* ---- imbalance ----------------------------------------------------------- */

/* max/max(1,min) of nr_running over the considered CPUs of position p. */
static bool ratio_at(const struct ev *e, size_t p, double *ratio, unsigned *cmax,
		     unsigned *cmin)
{
	const struct machine_sample *s = S(e, p);
	unsigned hi = 0, lo = 0;
	bool any = false;

	if (!(s->have & MS_NR))
		return false;
	for (unsigned i = 0; i < s->ncpu; i++) {
		unsigned nr;

		if (!e->considered[i])
			continue;
		nr = C(e, p, i)->nr;
		if (!any || nr > C(e, p, hi)->nr)
			hi = i;
		if (!any || nr < C(e, p, lo)->nr)
			lo = i;
		any = true;
	}
	if (!any)
		return false;
	*ratio = (double)C(e, p, hi)->nr / (C(e, p, lo)->nr > 1 ? C(e, p, lo)->nr : 1);
	*cmax = hi;
	*cmin = lo;
	return true;
}

static void eval_imbalance(struct ev *e)
{
	double ring[MACHINE_SUSTAIN], best = NAN, x;
	size_t at[MACHINE_SUSTAIN], k = 0, best_p = 0, p, *cnt;
	double *sum = xcalloc(e->r->n_phases, sizeof(double));
	unsigned hi, lo;

	cnt = xcalloc(e->r->n_phases, sizeof(size_t));
	for (p = 0; p < e->n; p++) {
		struct machine_phase *ph = &e->r->phases[e->phase[p]];
		size_t j, w = 0;

		if (!ratio_at(e, p, &x, &hi, &lo)) {
			k = 0;
			continue;
		}
		sum[e->phase[p]] += x;
		cnt[e->phase[p]]++;
		ring[k % MACHINE_SUSTAIN] = x;
		at[k % MACHINE_SUSTAIN] = p;
		if (++k < MACHINE_SUSTAIN)
			continue;
		for (j = 1; j < MACHINE_SUSTAIN; j++)
			if (ring[j] < ring[w])
				w = j;
		if (isnan(ph->v[PM_MAX_IMBALANCE]) || ring[w] > ph->v[PM_MAX_IMBALANCE])
			ph->v[PM_MAX_IMBALANCE] = ring[w];
		if (isnan(best) || ring[w] > best) {
			best = ring[w];
			best_p = at[w];
		}
	}
	for (p = 0; p < e->r->n_phases; p++)
		if (cnt[p])
			e->r->phases[p].v[PM_MEAN_IMBALANCE] = sum[p] / (double)cnt[p];
	if (!isnan(best)) {
		struct machine_check *c = judge(e, MCHK_IMBALANCE, best);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			ratio_at(e, best_p, &x, &hi, &lo);
			strbuf_addf(&sb, "imbalance: CPU %u had %u runnable tasks while CPU %u"
				    " had %u, a ratio of ", hi, C(e, best_p, hi)->nr, lo,
				    C(e, best_p, lo)->nr);
			add_num(&sb, best);
			strbuf_addstr(&sb, " or more held for ");
			add_ms(&sb, MACHINE_SUSTAIN * e->iv);
			strbuf_addf(&sb, " (at %.1f s into the run; limit ", since_start(e, best_p));
			add_num(&sb, c->limit);
			strbuf_addch(&sb, ')');
			set_message(c, &sb);
		}
	}
	free(sum);
	free(cnt);
}

/* ---- local DSQ depth ---------------------------------------------------- */

static void eval_dsq(struct ev *e)
{
	uint16_t *ring = xcalloc((size_t)(e->maxc + 1) * MACHINE_SUSTAIN, sizeof(uint16_t));
	size_t *k = xcalloc(e->maxc + 1, sizeof(size_t)), p, best_p = 0;
	double best = NAN;
	unsigned i, best_cpu = 0;

	for (p = 0; p < e->n; p++) {
		const struct machine_sample *s = S(e, p);
		struct machine_phase *ph = &e->r->phases[e->phase[p]];

		for (i = 0; i < e->maxc; i++) {
			uint16_t *r = &ring[(size_t)i * MACHINE_SUSTAIN], w;

			if (!(s->have & MS_DSQ) || i >= s->ncpu || !e->considered[i]) {
				k[i] = 0;
				continue;
			}
			r[k[i]++ % MACHINE_SUSTAIN] = C(e, p, i)->dsq;
			if (k[i] < MACHINE_SUSTAIN)
				continue;
			w = r[0];
			for (size_t j = 1; j < MACHINE_SUSTAIN; j++)
				w = r[j] < w ? r[j] : w;
			if (isnan(ph->v[PM_MAX_DSQ]) || w > ph->v[PM_MAX_DSQ])
				ph->v[PM_MAX_DSQ] = w;
			if (isnan(best) || w > best) {
				best = w;
				best_cpu = i;
				best_p = p + 1 - MACHINE_SUSTAIN;
			}
		}
	}
	if (!isnan(best)) {
		struct machine_check *c = judge(e, MCHK_LOCAL_DSQ_DEPTH, best);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "local DSQ depth: CPU %u kept %.0f or more tasks queued"
				    " in its local DSQ for ", best_cpu, best);
			add_ms(&sb, MACHINE_SUSTAIN * e->iv);
			strbuf_addf(&sb, " (from %.1f s into the run; limit ", since_start(e, best_p));
			add_num(&sb, c->limit);
			strbuf_addch(&sb, ')');
			set_message(c, &sb);
		}
	}
	free(ring);
	free(k);
}

/* ---- stall -------------------------------------------------------------- */

#define STALL_HAVE (MS_IDLE | MS_CLOCK | MS_VCPU)

/* A task is on CPU i, its rq clock did not move, and the host did run the
 * vCPU: a paused VM or a descheduled vCPU is not the scheduler's fault. */
static bool stall_cond(const struct ev *e, size_t p, unsigned i)
{
	const struct machine_sample *s = S(e, p);
	uint8_t f;

	if ((s->have & STALL_HAVE) != STALL_HAVE || i >= s->ncpu || !e->considered[i])
		return false;
	f = C(e, p, i)->flags;
	return !(f & MC_IDLE) && (f & MC_CLOCK_STILL) && (f & MC_VCPU_RAN);
}

static void eval_stall(struct ev *e)
{
	size_t *len = xcalloc(e->maxc + 1, sizeof(size_t)), *first = xcalloc(e->maxc + 1, sizeof(size_t));
	struct stretch worst = { 0 };
	size_t count = 0, p;
	bool any = false;
	unsigned i;

	for (p = 0; p < e->r->n_phases; p++)
		e->r->phases[p].v[PM_STALLS] = 0;
	for (p = 0; p <= e->n; p++) {
		bool end = p == e->n;

		any |= !end && (S(e, p)->have & STALL_HAVE) == STALL_HAVE;
		for (i = 0; i < e->maxc; i++) {
			if (!end && stall_cond(e, p, i)) {
				if (!len[i]++)
					first[i] = p;
				continue;
			}
			if (len[i] >= MACHINE_SUSTAIN) {
				double ms = stretch_ms(e, first[i], p - 1, false);

				count++;
				e->r->phases[e->phase[first[i]]].v[PM_STALLS]++;
				if (!worst.any || ms > worst.ms)
					worst = (struct stretch){ ms, i, first[i], p - 1, true };
			}
			len[i] = 0;
		}
	}
	if (any) {
		struct machine_check *c = judge(e, MCHK_STALL, (double)count);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "stall: CPU %u's runqueue clock stood still for ", worst.cpu);
			add_ms(&sb, worst.ms);
			strbuf_addf(&sb, " while a task was on it and the host ran its vCPU"
				    " (from %.1f s into the run)", since_start(e, worst.a));
			if (count > 1)
				strbuf_addf(&sb, "; %zu stalls in all", count);
			set_message(c, &sb);
		}
	} else {
		for (p = 0; p < e->r->n_phases; p++)
			e->r->phases[p].v[PM_STALLS] = NAN;
	}
	free(len);
	free(first);
}

/* ---- runnable wait -------------------------------------------------------- */

static void eval_wait(struct ev *e)
{
	double best = NAN;
	size_t p, best_p = 0;
	bool any = false;

	for (p = 0; p < e->n; p++) {
		const struct machine_sample *s = S(e, p);

		if (!(s->have & MS_WAIT))
			continue;
		any = true;
		if (!isnan(s->max_wait_ms) && (isnan(best) || s->max_wait_ms > best)) {
			best = s->max_wait_ms;
			best_p = p;
		}
	}
	if (any) {
		struct machine_check *c = judge(e, MCHK_RUNNABLE_WAIT, isnan(best) ? 0 : best);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addstr(&sb, "runnable wait: a sched_ext task stalled, runnable but not run for ");
			add_ms(&sb, best);
			strbuf_addf(&sb, " on CPU %u (at %.1f s into the run; limit ",
				    S(e, best_p)->wait_cpu, since_start(e, best_p));
			add_ms(&sb, c->limit);
			strbuf_addch(&sb, ')');
			set_message(c, &sb);
		}
	}
}

/* ---- event rates -------------------------------------------------------- */

static double event_of(const struct machine_sample *s, bool keep_last)
{
	return keep_last ? s->keep_last : s->fallback;
}

/* More tasks runnable on the considered CPUs than there are of them at
 * sample p: someone was waiting for a CPU. */
static bool oversubscribed(const struct ev *e, size_t p)
{
	unsigned i, cpus = 0, tasks = 0;

	if (!(S(e, p)->have & MS_NR))
		return false;
	for (i = 0; i < S(e, p)->ncpu && i < e->maxc; i++) {
		if (!e->considered[i])
			continue;
		cpus++;
		tasks += C(e, p, i)->nr;
	}
	return cpus && tasks > cpus;
}

/* Events per second: the rises between consecutive samples that have the
 * counter (a drop is a reset: the new total counts from 0), over the time
 * between them; each rise goes to the later sample's phase.
 * Keep-last dispatches count only in intervals that were oversubscribed
 * at both ends (per second of the whole run): a CPU that keeps its task
 * because nothing else is runnable does the right thing (one per slice
 * expiry, 50/s per CPU with 20 ms slices, on any undersubscribed
 * machine); keeping it while others wait is the dispatch starvation the
 * check is after. */
static void eval_rate(struct ev *e, bool keep_last)
{
	enum machine_check_id k = keep_last ? MCHK_KEEP_LAST_RATE : MCHK_FALLBACK_RATE;
	enum machine_phase_metric pm = keep_last ? PM_KEEP_LAST : PM_FALLBACK;
	double *ev = xcalloc(e->r->n_phases, sizeof(double));
	double *ms = xcalloc(e->r->n_phases, sizeof(double));
	double total = 0, span = 0, prev = NAN, prev_t = 0;
	size_t p;

	for (p = 0; p < e->n; p++) {
		double x = event_of(S(e, p), keep_last), d;

		if (isnan(x))
			continue;
		if (!isnan(prev)) {
			d = x >= prev ? x - prev : x;
			if (keep_last && !(oversubscribed(e, p) && oversubscribed(e, p - 1)))
				d = 0;
			total += d;
			span += S(e, p)->t_ms - prev_t;
			ev[e->phase[p]] += d;
			ms[e->phase[p]] += S(e, p)->t_ms - prev_t;
		}
		prev = x;
		prev_t = S(e, p)->t_ms;
	}
	for (p = 0; p < e->r->n_phases; p++)
		if (ms[p] > 0)
			e->r->phases[p].v[pm] = ev[p] / (ms[p] / 1000.0);
	if (span > 0) {
		struct machine_check *c = judge(e, k, total / (span / 1000.0));

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s rate: ", keep_last ? "keep-last" : "fallback");
			add_num(&sb, c->value > 100 ? (double)(long long)c->value : c->value);
			strbuf_addf(&sb, " %s events per second over %.1f s%s (limit ",
				    keep_last ? "dispatch_keep_last" : "select_cpu_fallback",
				    span / 1000.0, keep_last ? " with tasks waiting" : "");
			add_num(&sb, c->limit);
			strbuf_addstr(&sb, keep_last ? "/s): ops.dispatch() often gave the CPU"
				      " nothing new while tasks waited, so the previous task kept running"
				      : "/s): ops.select_cpu() often returned a CPU the task"
				      " may not use, so the kernel picked one");
			set_message(c, &sb);
		}
	}
	free(ev);
	free(ms);
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
	}
	e.iv = isnan(m->interval_ms) ? MACHINE_DEFAULT_INTERVAL_MS : m->interval_ms;
	r->interval_ms = e.iv;
	window(&e);
	r->samples = e.n;
	r->any = e.n > 0;
	if (r->any) {
		groups(&e, cpusets, n);
		phases(&e);
		for (size_t p = 0; p < r->n_phases; p++)
			r->phases[p].v[PM_IDLE_MS] = 0;
		eval_wc(&e);
		eval_imbalance(&e);
		eval_dsq(&e);
		eval_stall(&e);
		eval_wait(&e);
		eval_rate(&e, false);
		eval_rate(&e, true);
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

/* ---- output ------------------------------------------------------------- */

static json_t *num_json(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == (double)(long long)x && x > -9e15 && x < 9e15)
		return json_integer((json_int_t)x);
	return json_real(round(x * 1000) / 1000);
}

json_t *machine_json(const struct machine *m, const struct machine_result *r)
{
	json_t *o;

	if (!m->saw_record)
		return json_null();
	o = json_object();
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	json_object_set_new(o, "interval_ms", num_json(r->interval_ms));
	json_object_set_new(o, "monitor_samples", num_json(m->end_samples));
	json_object_set_new(o, "skipped", num_json(m->end_skipped));
	json_object_set_new(o, "dropped", json_integer((json_int_t)m->dropped));
	json_object_set_new(o, "vcpu_threads", m->vcpu_threads ? json_string(m->vcpu_threads)
							       : json_null());
	json_object_set_new(o, "unavailable", m->unavailable ? json_string(m->unavailable)
							     : json_null());
	for (unsigned k = 0; k < MCHK_N; k++)
		json_object_set_new(o, r->checks[k].metric, num_json(r->checks[k].value));
	return o;
}

json_t *machine_phases_json(const struct machine_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_phases; i++) {
		const struct machine_phase *ph = &r->phases[i];
		json_t *o = json_object(), *deg = json_array();

		json_object_set_new(o, "phase", json_integer(ph->index));
		json_object_set_new(o, "start_ms", num_json(ph->start_ms));
		json_object_set_new(o, "end_ms", num_json(ph->end_ms));
		json_object_set_new(o, "samples", json_integer((json_int_t)ph->samples));
		for (unsigned k = 0; k < PM_N; k++) {
			json_object_set_new(o, phase_metrics[k].name, num_json(ph->v[k]));
			if (ph->degraded & (1u << k))
				json_array_append_new(deg, json_string(phase_metrics[k].name));
		}
		json_object_set_new(o, "degraded", deg);
		json_array_append_new(a, o);
	}
	return a;
}

static void put_metric(json_t *o, const char *name, double x)
{
	json_t *j = num_json(x);

	if (json_is_null(j))
		json_decref(j);
	else
		json_object_set_new(o, name, j);
}

void machine_metrics(const struct machine_result *r, json_t *metrics)
{
	char name[96];

	for (unsigned k = 0; k < MCHK_N; k++)
		if (r->checks[k].evaluated)
			put_metric(metrics, r->checks[k].metric, r->checks[k].value);
	for (size_t i = 0; i < r->n_phases; i++)
		for (unsigned k = 0; k < PM_N; k++) {
			snprintf(name, sizeof(name), "phase%u.%s", r->phases[i].index,
				 phase_metrics[k].name);
			put_metric(metrics, name, r->phases[i].v[k]);
		}
}

/* A table cell: "-" missing, integers and values from 100 up whole,
 * else 2 decimals below 10 and 1 below 100. */
/* A table figure: "-" when missing, whole numbers from 100 up, else two
 * or one decimals. */
static void fmt_num(struct strbuf *sb, double x)
{
	if (!isfinite(x))
		strbuf_addch(sb, '-');
	else if (x == (double)(long long)x || x >= 100)
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, x < 10 ? "%.2f" : "%.1f", x);
}

static void cell_num(struct strvec *cells, double x)
{
	struct strbuf sb = STRBUF_INIT;

	fmt_num(&sb, x);
	strvec_push(cells, sb.buf);
	strbuf_release(&sb);
}

#define PHASE_COLS (4 + PM_N + 1)

static void phase_table(const struct machine_result *r, struct strbuf *out)
{
	struct text_table t = TEXT_TABLE_INIT(PHASE_COLS);
	struct strvec *cells = &t.cells;
	const struct machine_phase *prev = NULL;
	bool right[PHASE_COLS];

	strvec_push(cells, "PHASE");
	strvec_push(cells, "FROM_S");
	strvec_push(cells, "TO_S");
	strvec_push(cells, "SAMPLES");
	for (unsigned k = 0; k < PM_N; k++)
		strvec_push(cells, phase_metrics[k].head);
	strvec_push(cells, "");
	for (size_t i = 0; i < r->n_phases; i++) {
		const struct machine_phase *ph = &r->phases[i];
		struct strbuf note = STRBUF_INIT;

		strvec_pushf(cells, "%u", ph->index);
		if (isnan(ph->start_ms))
			strvec_push(cells, "-");
		else
			strvec_pushf(cells, "%.1f", ph->start_ms / 1000.0);
		if (isnan(ph->end_ms))
			strvec_push(cells, "-");
		else
			strvec_pushf(cells, "%.1f", ph->end_ms / 1000.0);
		strvec_pushf(cells, "%zu", ph->samples);
		for (unsigned k = 0; k < PM_N; k++)
			cell_num(cells, ph->v[k]);
		for (unsigned k = 0; k < PM_N; k++) {
			if (!(ph->degraded & (1u << k)) || !prev)
				continue;
			strbuf_addstr(&note, note.len ? ", " : "DEGRADED: ");
			strbuf_addf(&note, "%s ", phase_metrics[k].name);
			fmt_num(&note, prev->v[k]);
			strbuf_addstr(&note, " -> ");
			fmt_num(&note, ph->v[k]);
		}
		strvec_push(cells, note.buf);
		strbuf_release(&note);
		if (ph->samples >= MACHINE_SUSTAIN)
			prev = ph;
	}
	/* Numbers flush right; the phase number and the note flush left. */
	for (size_t c = 0; c < PHASE_COLS; c++)
		right[c] = c && c + 1 < PHASE_COLS;
	text_table_render(&t, right, out);
}

void machine_format(const struct machine *m, const struct machine_result *r,
		    struct strbuf *out)
{
	if (!m->saw_record)
		return;
	if (m->unavailable)
		strbuf_addf(out, "monitor unavailable: %s; machine checks not evaluated\n",
			    m->unavailable);
	if (!r->any) {
		if (!m->unavailable)
			strbuf_addstr(out, "monitor: no samples inside the scenario;"
				      " machine checks not evaluated\n");
		return;
	}
	strbuf_addf(out, "monitor: %zu samples every %.0fms", r->samples, r->interval_ms);
	for (unsigned k = 0; k < MCHK_N; k++) {
		const struct machine_check *c = &r->checks[k];

		if (!c->evaluated)
			continue;
		strbuf_addf(out, " %s=", c->metric);
		add_num(out, isfinite(c->value) && c->value >= 10 ? round(c->value)
								   : round(c->value * 100) / 100);
	}
	if (m->dropped)
		strbuf_addf(out, " (%zu samples over the cap ignored)", m->dropped);
	strbuf_addch(out, '\n');
	phase_table(r, out);
}
