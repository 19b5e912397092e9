/* The machine view, input side: monitor samples and the run's timeline
 * stored compactly (machine.h).  Evaluation is in machine_eval.c and
 * machine_checks.c, output in machine_out.c. */
#include "machine.h"
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
	const char *vt, *src;
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
	src = json_string_value(json_object_get(rec, "source"));
	if (src && !strcmp(src, "host"))
		m->host = true;
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

/* The share of the time since the previous stored sample (which the
 * monitor counted from) that the host let the VM run: 1 less the longest
 * wait of a vCPU thread for a host CPU (vcpu_wait_us) and the time QEMU
 * was stopped (qemu_stopped_us), at least 0.  A halted vCPU's thread
 * sleeps rather than waits, so an idle guest keeps its share.  NAN when
 * the record has neither field (older records; host mode) or there is no
 * previous sample. */
static double vm_share(const struct machine *m, const json_t *rec, size_t ncpu, double t)
{
	const json_t *a = json_object_get(rec, "vcpu_wait_us");
	const json_t *stop = json_object_get(rec, "qemu_stopped_us");
	double prev, lost = 0, x;
	bool any = false;

	if (!m->n_samples)
		return NAN;
	prev = m->samples[m->n_samples - 1].t_ms;
	if (!(t > prev))
		return NAN;
	if (json_is_array(a) && json_array_size(a) == ncpu) {
		double worst = 0;
		size_t i;

		for (i = 0; i < ncpu && sane(json_array_get(a, i), &x); i++)
			worst = x > worst ? x : worst;
		if (i == ncpu) {
			lost += worst;
			any = true;
		}
	}
	if (sane(stop, &x)) {
		lost += x;
		any = true;
	}
	if (!any)
		return NAN;
	lost /= 1000.0;
	return lost >= t - prev ? 0.0 : 1.0 - lost / (t - prev);
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
	double t, x;
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
	s->vm_share = NAN;
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
	/* Host mode (lib/core/hostmon.h): no vCPUs, and a real CPU runs
	 * whenever it is online, so "online" says what vcpu_run_us says. */
	else if (read_flags(m, rec, "online", c, ncpu, MC_VCPU_RAN, IS_ONE))
		s->have |= MS_VCPU;
	s->vm_share = vm_share(m, rec, ncpu, t);
	s->stopped_ms = sane(json_object_get(rec, "qemu_stopped_us"), &x) ? x / 1000.0 : NAN;
	if (read_wait(m, rec, s))
		s->have |= MS_WAIT;
	read_events(m, rec, s);
	if (!s->have && isnan(s->fallback) && isnan(s->keep_last))
		return;		/* nothing usable: not stored */
	if (m->n_samples && t < m->samples[m->n_samples - 1].t_ms)
		m->unsorted = true;
	m->n_samples++;
	m->n_cells += ncpu;
}

/* The first sample whose interval (from the one before) may end after
 * from_ms: found by halving when the samples came in time order, which
 * they do from ktstr-vm (the runnable-wait check asks once per sample). */
static size_t first_after(const struct machine *m, double from_ms)
{
	size_t lo = 1, hi = m->n_samples;

	if (m->unsorted)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->samples[mid].t_ms <= from_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What the host took of sample s's interval of len ms: all it did not
 * let the VM run, or only QEMU's stop; NAN when the sample does not say. */
static double lost_in(const struct machine_sample *s, double len, bool stops_only)
{
	if (stops_only)
		return s->stopped_ms;
	return isnan(s->vm_share) ? NAN : len * (1 - s->vm_share);
}

/* The host's time in (from_ms, to_ms]; NAN when no sample there says. */
static double host_took_ms(const struct machine *m, double from_ms, double to_ms, bool stops_only)
{
	double took = NAN;

	/* Sample i's share covers (t[i-1], t[i]]; a sample fed out of time
	 * order has no share. */
	for (size_t i = first_after(m, from_ms); i < m->n_samples; i++) {
		double a = m->samples[i - 1].t_ms, b = m->samples[i].t_ms, x, lo, hi;

		if (!m->unsorted && a >= to_ms)
			break;
		if (!(b > a))
			continue;
		x = lost_in(&m->samples[i], b - a, stops_only);
		lo = a > from_ms ? a : from_ms;
		hi = b < to_ms ? b : to_ms;
		if (isnan(x) || !(hi > lo))
			continue;
		/* Where in the interval the host took its time is not known:
		 * as much of it as fits in the overlap is counted (a 100 ms
		 * stop inside a 108 ms gap is all the gap's, not shared out
		 * over the two intervals it straddles). */
		took = (isnan(took) ? 0 : took) + fmin(hi - lo, x);
	}
	return took;
}

double machine_lost_ms(const struct machine *m, double from_ms, double to_ms)
{
	double lost = host_took_ms(m, from_ms, to_ms, false);

	return isnan(lost) ? 0 : lost;
}

double machine_stopped_ms(const struct machine *m, double from_ms, double to_ms)
{
	return host_took_ms(m, from_ms, to_ms, true);
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
