/* The machine checks over the evaluation window (machine.h lists them;
 * ktstr-stats(1) describes the algorithms). */
#include "machine_eval.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Set check k's value; the caller writes the message when it failed. */
static struct machine_check *judge(struct ev *e, enum machine_check_id k, double value)
{
	struct machine_check *c = &e->r->checks[k];

	c->evaluated = true;
	c->value = value;
	c->pass = isnan(c->limit) || !(value > c->limit);
	return c;
}

/* The check's time: samples a to b (positions), the last one lasting an
 * interval. */
static void set_span(struct ev *e, struct machine_check *c, size_t a, size_t b)
{
	c->from_ms = S(e, a)->t_ms;
	c->to_ms = S(e, b)->t_ms + e->iv;
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

/* A duration in the VM's run time, and the host time beside it when the
 * host took a noticeable part of it (an unloaded host leaves ~100%). */
static void add_vm_ms(struct strbuf *sb, double run_ms, double host_ms)
{
	add_ms(sb, run_ms);
	if (run_ms < 0.95 * host_ms) {
		strbuf_addstr(sb, " of VM run time (");
		add_ms(sb, host_ms);
		strbuf_addf(sb, " of host time, the VM ran %.0f%% of it)", 100 * run_ms / host_ms);
	}
}

/* How long positions a to b held, as add_vm_ms says it: each sample
 * counts the time since the one before (pos_ms). */
static void add_held(struct strbuf *sb, const struct ev *e, size_t a, size_t b)
{
	double host_ms = 0, run_ms = 0, run;

	for (size_t q = a; q <= b; q++) {
		host_ms += pos_ms(e, q, a, &run);
		run_ms += run;
	}
	add_vm_ms(sb, run_ms, host_ms);
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
 * runnable tasks (compute_busy first).  An interval in which the host ran
 * no vCPU (a paused VM) does not count.  The idle CPU's own thread is not
 * asked: with a thread per vCPU (KVM, tcg-mt) a halted vCPU's thread
 * sleeps in the host, so it shows no run time exactly when its CPU is
 * idle.  In host mode the flag is the CPU's "online", which is asked. */
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
	if (e->m->host ? (s->have & MS_VCPU) && !(c->flags & MC_VCPU_RAN) : vm_paused(e, p))
		return false;
	for (unsigned g = 0; g < e->ngroups; g++)
		if (e->busy[g] && e->group[(size_t)g * e->maxc + i])
			return true;
	return false;
}

struct stretch {
	double ms, host_ms;
	unsigned cpu;
	size_t a, b;
	bool any;
};

/* Time a stretch of positions a..b covers: the gaps between its samples
 * plus one interval for the first.  *host_ms gets that; the return value
 * counts each gap by the share of it the host let the VM run (vm_share),
 * so a QEMU the host starved or stopped does not stretch a guest's idle
 * time into a failure: the guest clock runs on while no guest code does,
 * the scheduler's included.
 * Credited to each sample's phase when per_phase (idle-while-runnable). */
static double stretch_ms(struct ev *e, size_t a, size_t b, bool per_phase, double *host_ms)
{
	double total = 0, host = 0;

	for (size_t p = a; p <= b; p++) {
		double run;

		host += pos_ms(e, p, a, &run);
		total += run;
		if (per_phase)
			e->r->phases[e->phase[p]].v[PM_IDLE_MS] += run;
	}
	if (host_ms)
		*host_ms = host;
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
	add_vm_ms(sb, w->ms, w->host_ms);
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

/* The whole window, counted as the stretches are, is shorter than the
 * limit only because the host did not run the VM: no stretch could have
 * reached it, so a pass would say nothing.  (A window shorter than the
 * limit in host time is the scenario's own choice.) */
static bool wc_vacuous(const struct ev *e)
{
	double limit = e->r->checks[MCHK_WORK_CONSERVATION].limit;

	return !isnan(limit) && !isnan(e->r->vm_run_ms) && e->r->window_ms >= limit &&
	       e->r->vm_run_ms < limit;
}

void machine_eval_wc(struct ev *e)
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
				double host, ms = stretch_ms(e, first[i], p - 1, true, &host);

				if (!best.any || ms > best.ms)
					best = (struct stretch){ ms, host, i, first[i], p - 1, true };
			}
			len[i] = 0;
		}
	}
	if (any && wc_vacuous(e)) {
		e->r->wc_vacuous = true;
	} else if (any) {
		struct machine_check *c = judge(e, MCHK_WORK_CONSERVATION, best.any ? best.ms : 0);

		if (best.any)
			set_span(e, c, best.a, best.b);

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

/* max(1,max)/max(1,min) of nr_running over the considered CPUs of
 * position p: 1 when balanced, idle CPUs beside one task included, and
 * when every CPU is idle (a plain max/max(1,min) read 0 there, which
 * pulled a phase's mean below the 1 of a balanced machine). */
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

		if (!e->considered[i] || offline_at(e, p, i))
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
	*ratio = (double)(C(e, p, hi)->nr > 1 ? C(e, p, hi)->nr : 1) /
		 (C(e, p, lo)->nr > 1 ? C(e, p, lo)->nr : 1);
	*cmax = hi;
	*cmin = lo;
	return true;
}

/* The worst sustained ratio, best, over the MACHINE_SUSTAIN positions
 * ending at end (its lowest at p).  The span is told in the VM's run time
 * when the host took a noticeable part of it, as work conservation's is:
 * a guest held by the host cannot rebalance either. */
static void imbalance_judge(struct ev *e, double best, size_t p, size_t end)
{
	struct machine_check *c = judge(e, MCHK_IMBALANCE, best);
	size_t a = end + 1 - MACHINE_SUSTAIN;
	struct strbuf sb = STRBUF_INIT;
	unsigned hi, lo;
	double x;

	set_span(e, c, a, end);
	if (c->pass)
		return;
	ratio_at(e, p, &x, &hi, &lo);
	strbuf_addf(&sb, "imbalance: CPU %u had %u runnable tasks while CPU %u"
		    " had %u, a ratio of ", hi, C(e, p, hi)->nr, lo, C(e, p, lo)->nr);
	machine_add_num(&sb, best);
	strbuf_addstr(&sb, " or more held for ");
	add_held(&sb, e, a, end);
	strbuf_addf(&sb, " (at %.1f s into the run; limit ", since_start(e, a));
	machine_add_num(&sb, c->limit);
	strbuf_addch(&sb, ')');
	set_message(c, &sb);
}

void machine_eval_imbalance(struct ev *e)
{
	double ring[MACHINE_SUSTAIN], best = NAN, x;
	size_t at[MACHINE_SUSTAIN], k = 0, best_p = 0, best_end = 0, p, *cnt;
	double *sum = xcalloc(e->r->n_phases, sizeof(double));
	unsigned hi, lo;

	cnt = xcalloc(e->r->n_phases, sizeof(size_t));
	for (p = 0; p < e->n; p++) {
		struct machine_phase *ph = &e->r->phases[e->phase[p]];
		size_t j, w = 0;

		/* a frozen guest's queues are not held by the scheduler */
		if (vm_paused(e, p) || !ratio_at(e, p, &x, &hi, &lo)) {
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
			best_end = p;
		}
	}
	for (p = 0; p < e->r->n_phases; p++)
		if (cnt[p])
			e->r->phases[p].v[PM_MEAN_IMBALANCE] = sum[p] / (double)cnt[p];
	if (!isnan(best))
		imbalance_judge(e, best, best_p, best_end);
	free(sum);
	free(cnt);
}

/* ---- local DSQ depth ---------------------------------------------------- */

void machine_eval_dsq(struct ev *e)
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

			if (!(s->have & MS_DSQ) || i >= s->ncpu || !e->considered[i] ||
			    vm_paused(e, p)) {
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

		set_span(e, c, best_p, best_p + MACHINE_SUSTAIN - 1);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "local DSQ depth: CPU %u kept %.0f or more tasks queued"
				    " in its local DSQ for ", best_cpu, best);
			add_held(&sb, e, best_p, best_p + MACHINE_SUSTAIN - 1);
			strbuf_addf(&sb, " (from %.1f s into the run; limit ", since_start(e, best_p));
			machine_add_num(&sb, c->limit);
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

void machine_eval_stall(struct ev *e)
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
				double ms;

				/* host time: the stretch needed the host running the vCPU */
				stretch_ms(e, first[i], p - 1, false, &ms);
				count++;
				e->r->phases[e->phase[first[i]]].v[PM_STALLS]++;
				if (!worst.any || ms > worst.ms)
					worst = (struct stretch){ ms, ms, i, first[i], p - 1, true };
			}
			len[i] = 0;
		}
	}
	if (any) {
		struct machine_check *c = judge(e, MCHK_STALL, (double)count);

		if (worst.any)
			set_span(e, c, worst.a, worst.b);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "stall: CPU %u's runqueue clock stood still for ", worst.cpu);
			add_ms(&sb, worst.ms);
			strbuf_addf(&sb, " while a task was on it%s (from %.1f s into the run)",
				    e->m->host ? "" : " and the host ran its vCPU",
				    since_start(e, worst.a));
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

void machine_eval_wait(struct ev *e)
{
	double best = NAN, best_lost = 0;
	size_t p, best_p = 0;
	bool any = false;

	for (p = 0; p < e->n; p++) {
		const struct machine_sample *s = S(e, p);
		double w, lost;

		if (!(s->have & MS_WAIT))
			continue;
		any = true;
		if (isnan(s->max_wait_ms))
			continue;
		/* The task's wait counted on the guest's clock, which runs on
		 * while the host does not run the VM: that time is the
		 * host's, not the scheduler's. */
		lost = machine_lost_ms(e->m, s->t_ms - s->max_wait_ms, s->t_ms);
		w = s->max_wait_ms - lost;
		if (isnan(best) || w > best) {
			best = w;
			best_lost = lost;
			best_p = p;
		}
	}
	if (any) {
		struct machine_check *c = judge(e, MCHK_RUNNABLE_WAIT, isnan(best) ? 0 : best);

		/* The task had waited best (+ best_lost) ms when the sample
		 * saw it. */
		if (!isnan(best)) {
			c->to_ms = S(e, best_p)->t_ms;
			c->from_ms = c->to_ms - best - best_lost;
		}

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addstr(&sb, "runnable wait: a sched_ext task stalled, runnable but not run for ");
			add_ms(&sb, best);
			if (best_lost > 0.05 * (best + best_lost)) {
				strbuf_addstr(&sb, " of VM run time (");
				add_ms(&sb, best + best_lost);
				strbuf_addstr(&sb, " on the guest's clock)");
			}
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
		if (!e->considered[i] || offline_at(e, p, i))
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
void machine_eval_rate(struct ev *e, bool keep_last)
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

		set_span(e, c, 0, e->n - 1);

		if (!c->pass) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s rate: ", keep_last ? "keep-last" : "fallback");
			machine_add_num(&sb, c->value > 100 ? (double)(long long)c->value : c->value);
			strbuf_addf(&sb, " %s events per second over %.1f s%s (limit ",
				    keep_last ? "dispatch_keep_last" : "select_cpu_fallback",
				    span / 1000.0, keep_last ? " with tasks waiting" : "");
			machine_add_num(&sb, c->limit);
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
