/* Telemetry: the probes a worker runs as it works, and the worker and
 * cgroup_stats records the engine builds from them afterwards.
 *
 * Gaps.  A worker that means to run takes a CLOCK_MONOTONIC timestamp at
 * every tick (many per iteration for spinning work); the longest interval
 * between consecutive ticks is its max gap, i.e. the longest time it was
 * runnable but not running (preempted, starved, stalled in the kernel).
 * Before a voluntary sleep or block the reference is dropped (w_block), so
 * intended sleeps never count.  The gap is stamped with the CPU the worker
 * resumed on and the time it began (the last tick before it).
 *
 * CPUs.  sched_getcpu() is sampled at most every CPU_SAMPLE_NS of running
 * and on the first tick after a block or a gap: that feeds the set of CPUs
 * seen, the count of observed migrations and the isolation check.
 *
 * Isolation.  The engine keeps each worker's allowed mask (its cgroup's
 * cpuset.cpus.effective) in shared memory under a seqlock, shm_ctl.epoch,
 * which is odd while it changes cpusets, affinities or membership.  A CPU
 * sample counts as a violation only if it is outside the allowed mask and
 * the epoch was even and unchanged from before the sample to after the
 * mask was read: samples that straddle a change are dropped, so a worker
 * is never blamed for running where its old cpuset allowed.  The kernel
 * migrates tasks before a cpuset write or a cgroup.procs write returns,
 * which is what makes the "after" side sound.
 *
 * Wake latency.  Sleeps are absolute (clock_nanosleep TIMER_ABSTIME, timer
 * slack 1 ns), latency = actual - intended wake time.  For futex and pipe
 * work the waker stores its clock in shared memory right before the wake
 * and latency = wakee's clock when it runs - that.  Up to WAKE_SAMPLES per
 * worker are kept; beyond that a uniform reservoir (Algorithm R). */
#include "engine.h"
#include "diag.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define CPU_SAMPLE_NS 10000ull

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t w_rand(struct wctx *w)
{
	/* xorshift64*: plenty for reservoir slots and random CPUs. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ull;
}

static void sample_cpu(struct wctx *w, uint64_t now)
{
	uint32_t e = atomic_load_explicit(w->epoch, memory_order_acquire);
	int cpu = sched_getcpu();
	uint64_t *allowed = wslot_allowed(w->self);
	uint64_t word;

	w->last_cpu_ns = now;
	if (cpu < 0 || (unsigned)cpu >= w->nbits)
		return;
	if (!mask_test(wslot_seen(w->self, w->nbits), (unsigned)cpu))
		mask_set(wslot_seen(w->self, w->nbits), (unsigned)cpu);
	if (w->last_cpu >= 0 && cpu != w->last_cpu)
		w->self->migrations++;
	w->last_cpu = cpu;
	if (e & 1)
		return;
	word = __atomic_load_n(&allowed[cpu / 64], __ATOMIC_RELAXED);
	if ((word >> (cpu % 64)) & 1)
		return;
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(w->epoch, memory_order_relaxed) != e)
		return;
	mask_set(wslot_viol(w->self, w->nbits), (unsigned)cpu);
}

uint64_t w_tick(struct wctx *w)
{
	uint64_t now = now_ns();

	if (w->last_ns && now - w->last_ns > w->max_gap_ns) {
		struct wslot *s = w->self;

		w->max_gap_ns = now - w->last_ns;
		s->max_gap_ns = w->max_gap_ns;
		s->max_gap_at_ns = w->last_ns;
		s->max_gap_cpu = sched_getcpu();
		/* A long gap is where migrations happen. */
		w->last_cpu_ns = 0;
	}
	w->last_ns = now;
	atomic_store_explicit(&w->self->last_tick_ns, now, memory_order_relaxed);
	if (now - w->last_cpu_ns >= CPU_SAMPLE_NS)
		sample_cpu(w, now);
	return now;
}

void w_iter(struct wctx *w)
{
	atomic_store_explicit(&w->self->iterations, ++w->iters, memory_order_relaxed);
}

void w_wake_sample(struct wctx *w, uint64_t lat_ns)
{
	struct wslot *s = w->self;

	s->wake_count++;
	if (s->nsamples < WAKE_SAMPLES) {
		s->samples[s->nsamples++] = lat_ns;
	} else {
		uint64_t j = w_rand(w) % s->wake_count;

		if (j < WAKE_SAMPLES)
			s->samples[j] = lat_ns;
	}
}

void w_spin(struct wctx *w, uint64_t ns)
{
	uint64_t start = w_tick(w);

	while (w_tick(w) - start < ns && !w_stopping(w))
		;
}

void w_sleep_until(struct wctx *w, uint64_t target)
{
	struct timespec ts = {
		.tv_sec = (time_t)(target / 1000000000ull),
		.tv_nsec = (long)(target % 1000000000ull),
	};

	w_block(w);
	/* EINTR is the engine's SIGUSR1 (stop): no sample for a sleep that
	 * did not run to its end. */
	if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == 0) {
		uint64_t now = now_ns();

		w_wake_sample(w, now > target ? now - target : 0);
	}
}

void w_sleep(struct wctx *w, uint64_t ns)
{
	w_sleep_until(w, now_ns() + ns);
}

/* Small /proc/self files, read without stdio. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1 &&
	       (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/* run_delay: the second field of /proc/self/schedstat (ns spent runnable
 * on a runqueue); -1 without CONFIG_SCHED_INFO. */
static int64_t read_run_delay(void)
{
	char buf[128];
	unsigned long long run, delay;

	if (read_small("/proc/self/schedstat", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu %llu", &run, &delay) != 2)
		return -1;
	return (int64_t)delay;
}

static int64_t read_nr_migrations(void)
{
	static char buf[8192];
	const char *p;
	unsigned long long v;

	if (read_small("/proc/self/sched", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "se.nr_migrations");
	if (!p || !(p = strchr(p, ':')) || sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	return (int64_t)v;
}

void w_begin(struct wctx *w)
{
	struct wslot *s = w->self;

	w->last_cpu = -1;
	w->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ now_ns();
	if (!w->rng)
		w->rng = 1;
	w->run_delay0 = read_run_delay();
	w->migrations0 = read_nr_migrations();
	s->max_gap_cpu = -1;
	w->cpu0_ns = thread_cpu_ns();
	s->start_ns = now_ns();
	atomic_store_explicit(&s->state, WS_RUNNING, memory_order_release);
}

void w_end(struct wctx *w)
{
	struct wslot *s = w->self;
	int64_t rd = read_run_delay(), mig = read_nr_migrations();

	s->end_ns = now_ns();
	s->cpu_ns = thread_cpu_ns() - w->cpu0_ns;
	s->run_delay_ns = rd >= 0 && w->run_delay0 >= 0 ? rd - w->run_delay0 : -1;
	s->sched_migrations = mig >= 0 && w->migrations0 >= 0 ? mig - w->migrations0 : -1;
	atomic_store_explicit(&s->state, WS_DONE, memory_order_release);
}

/* ---- engine side ---- */

/* Three decimals keep the records short.  No libm: the agent's link
 * line has none. */
static double round3(double v)
{
	double x = v * 1000.0;

	if (x > 9e15 || x < -9e15)
		return v;
	return (double)(long long)(x + (x < 0 ? -0.5 : 0.5)) / 1000.0;
}

void json_set_real_or_null(json_t *o, const char *key, double val)
{
	if (isnan(val) || isinf(val))
		json_object_set_new(o, key, json_null());
	else
		json_object_set_new(o, key, json_real(round3(val)));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], in microseconds; NaN for n 0. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return NAN;
	/* ceil(p/100 * n) in integers: p is a whole percentage here. */
	rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1000.0;
}

/* What the engine derives from one worker's slot. */
struct wsum {
	bool done;		/* final telemetry present */
	bool crashed;
	uint64_t iterations, wall_ns, cpu_ns;
	double off_cpu_pct;	/* NaN when unknown */
	uint64_t migrations;
	double max_gap_ms;
	int max_gap_cpu;
	long long max_gap_at_ms;
};

static void summarize(const struct engine *e, const struct worker *w, struct wsum *o)
{
	const struct wslot *s = w->slot;
	uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
	uint64_t end;

	memset(o, 0, sizeof(*o));
	o->done = state == WS_DONE;
	o->crashed = w->exited && !w->killed &&
		     (WIFSIGNALED(w->status) || WEXITSTATUS(w->status) != 0);
	o->iterations = atomic_load_explicit(&s->iterations, memory_order_relaxed);
	/* Not reaped at all (stuck even after SIGKILL): up to now. */
	end = o->done ? s->end_ns : w->exited ? w->exit_ns : now_ns();
	o->wall_ns = state != WS_FORKED && end > s->start_ns ? end - s->start_ns : 0;
	o->cpu_ns = o->done ? s->cpu_ns : 0;
	o->off_cpu_pct = NAN;
	if (o->done && o->wall_ns) {
		double on = (double)o->cpu_ns / (double)o->wall_ns;

		o->off_cpu_pct = 100.0 * (1.0 - (on > 1.0 ? 1.0 : on));
	}
	/* The kernel's count sees every migration; sampling misses some. */
	o->migrations = o->done && s->sched_migrations >= 0 ?
			(uint64_t)s->sched_migrations : s->migrations;
	o->max_gap_ms = (double)s->max_gap_ns / 1e6;
	o->max_gap_cpu = s->max_gap_cpu;
	o->max_gap_at_ms = s->max_gap_ns && s->max_gap_at_ns > e->t0_ns ?
			   (long long)((s->max_gap_at_ns - e->t0_ns) / 1000000) : 0;
	/* Killed at the stop timeout while meaning to run: the gap it was in
	 * never closed with a tick, so close it at the stop request (it never
	 * resumed anywhere: no CPU). */
	if (!o->done && w->killed && w->stop_ns) {
		uint64_t last = atomic_load_explicit(&s->last_tick_ns, memory_order_relaxed);

		if (last && w->stop_ns > last && w->stop_ns - last > s->max_gap_ns) {
			o->max_gap_ms = (double)(w->stop_ns - last) / 1e6;
			o->max_gap_cpu = -1;
			o->max_gap_at_ms = last > e->t0_ns ?
					   (long long)((last - e->t0_ns) / 1000000) : 0;
		}
	}
}

static void set_cpu_or_null(json_t *o, const char *key, int cpu)
{
	if (cpu >= 0)
		json_set_int(o, key, cpu);
	else
		json_object_set_new(o, key, json_null());
}

static char *mask_text(const uint64_t *m, unsigned nbits)
{
	struct strbuf sb = STRBUF_INIT;

	mask_format(m, nbits, &sb);
	return strbuf_detach(&sb, NULL);
}

static void set_mask_or_null(json_t *o, const char *key, const uint64_t *m, unsigned nbits)
{
	char *t = mask_text(m, nbits);

	json_set_str(o, key, *t ? t : NULL);
	free(t);
}

json_t *telemetry_worker_record(struct engine *e, size_t i)
{
	const struct worker *w = &e->ws[i];
	const struct cgroup *cg = &e->cgs[w->cg];
	struct wslot *s = w->slot;
	json_t *rec = jsonl_record("worker");
	uint64_t *sorted;
	struct wsum m;
	char *cpus;

	summarize(e, w, &m);
	json_set_str(rec, "cgroup", cg->name);
	/* index counts within the cgroup it was spawned in; a moved worker
	 * says where that was so (cgroup, index) pairs stay telling. */
	if (w->origin != w->cg)
		json_set_str(rec, "moved_from", e->cgs[w->origin].name);
	json_set_int(rec, "index", w->index);
	json_set_int(rec, "pid", w->pid);
	json_set_str(rec, "work", work_type_name(w->def->work.type));
	cpus = mask_text(cg->effective, e->nbits);
	json_set_str(rec, "cpuset", cpus);
	free(cpus);
	json_set_int(rec, "iterations", (long long)m.iterations);
	if (m.done)
		json_set_int(rec, "cpu_time_us", (long long)(m.cpu_ns / 1000));
	else
		json_object_set_new(rec, "cpu_time_us", json_null());
	json_set_int(rec, "wall_time_us", (long long)(m.wall_ns / 1000));
	json_set_real_or_null(rec, "off_cpu_pct", m.off_cpu_pct);
	json_set_int(rec, "migrations", (long long)m.migrations);
	json_set_int(rec, "migrations_observed", (long long)s->migrations);
	set_mask_or_null(rec, "cpus_used", wslot_seen(s, e->nbits), e->nbits);
	json_set_real_or_null(rec, "max_gap_ms", m.max_gap_ms);
	set_cpu_or_null(rec, "max_gap_cpu", m.max_gap_cpu);
	json_set_int(rec, "max_gap_at_ms", m.max_gap_at_ms);
	json_set_int(rec, "wake_samples", (long long)s->wake_count);
	sorted = xmalloc((s->nsamples ? s->nsamples : 1) * sizeof(*sorted));
	memcpy(sorted, s->samples, s->nsamples * sizeof(*sorted));
	qsort(sorted, s->nsamples, sizeof(*sorted), cmp_u64);
	json_set_real_or_null(rec, "wake_p50_us", pct_us(sorted, s->nsamples, 50));
	json_set_real_or_null(rec, "wake_p99_us", pct_us(sorted, s->nsamples, 99));
	free(sorted);
	if (m.done && s->run_delay_ns >= 0)
		json_set_int(rec, "run_delay_us", s->run_delay_ns / 1000);
	else
		json_object_set_new(rec, "run_delay_us", json_null());
	set_mask_or_null(rec, "violating_cpus", wslot_viol(s, e->nbits), e->nbits);
	if (m.crashed) {
		json_set_bool(rec, "crashed", true);
		if (WIFSIGNALED(w->status))
			json_set_int(rec, "signal", WTERMSIG(w->status));
		else
			json_set_int(rec, "exit_code", WEXITSTATUS(w->status));
	}
	if (w->killed)
		json_set_bool(rec, "stop_timeout", true);
	return rec;
}

json_t *telemetry_cgroup_record(struct engine *e, size_t cg)
{
	const struct cgroup *c = &e->cgs[cg];
	json_t *rec = jsonl_record("cgroup_stats");
	uint64_t *viol = xcalloc(MASK_WORDS(e->nbits), sizeof(*viol));
	uint64_t *pool = NULL, iterations = 0, migrations = 0, wakes = 0;
	size_t npool = 0, i, k;
	unsigned n = 0, violators = 0, starved = 0, rate_n = 0;
	double off_min = NAN, off_max = NAN, rate_sum = 0, spread;
	double gap = 0;
	int gap_cpu = -1;
	long long gap_at = 0;
	char *cpus;

	for (i = 0; i < e->nws; i++) {
		const struct worker *w = &e->ws[i];
		const struct wslot *s = w->slot;
		const uint64_t *wv;
		struct wsum m;
		bool violated = false;

		if (w->cg != cg || w->discarded)
			continue;
		summarize(e, w, &m);
		n++;
		iterations += m.iterations;
		migrations += m.migrations;
		if (!m.iterations)
			starved++;
		if (!isnan(m.off_cpu_pct)) {
			if (isnan(off_min) || m.off_cpu_pct < off_min)
				off_min = m.off_cpu_pct;
			if (isnan(off_max) || m.off_cpu_pct > off_max)
				off_max = m.off_cpu_pct;
		}
		if (m.wall_ns) {
			rate_sum += (double)m.iterations / ((double)m.wall_ns / 1e9);
			rate_n++;
		}
		if (m.max_gap_ms > gap) {
			gap = m.max_gap_ms;
			gap_cpu = m.max_gap_cpu;
			gap_at = m.max_gap_at_ms;
		}
		wv = wslot_viol((struct wslot *)s, e->nbits);
		for (k = 0; k < MASK_WORDS(e->nbits); k++) {
			viol[k] |= wv[k];
			violated |= wv[k] != 0;
		}
		violators += violated;
		wakes += s->wake_count;
		/* Pooled reservoirs: each worker's kept samples count once,
		 * an approximation once a worker has more than WAKE_SAMPLES. */
		pool = xrealloc(pool, (npool + s->nsamples + 1) * sizeof(*pool));
		memcpy(pool + npool, s->samples, s->nsamples * sizeof(*pool));
		npool += s->nsamples;
	}
	spread = isnan(off_min) ? NAN : off_max - off_min;
	if (pool)
		qsort(pool, npool, sizeof(*pool), cmp_u64);

	json_set_str(rec, "cgroup", c->name);
	json_set_int(rec, "workers", n);
	cpus = mask_text(c->effective, e->nbits);
	json_set_str(rec, "cpuset", cpus);
	free(cpus);
	json_set_int(rec, "cpus", mask_weight(c->effective, e->nbits));
	json_set_bool(rec, "background", c->def->background);
	json_set_real_or_null(rec, "spread_pct", spread);
	json_set_real_or_null(rec, "worst_gap_ms", gap);
	set_cpu_or_null(rec, "worst_gap_cpu", gap_cpu);
	json_set_int(rec, "worst_gap_at_ms", gap_at);
	json_set_int(rec, "migrations", (long long)migrations);
	json_set_int(rec, "iterations", (long long)iterations);
	json_set_real_or_null(rec, "iterations_per_sec", rate_n ? rate_sum / rate_n : NAN);
	json_set_real_or_null(rec, "p50_wake_latency_us", pct_us(pool, npool, 50));
	json_set_real_or_null(rec, "p99_wake_latency_us", pct_us(pool, npool, 99));
	json_set_int(rec, "wake_samples", (long long)wakes);
	json_set_int(rec, "isolation_violations", violators);
	set_mask_or_null(rec, "violating_cpus", viol, e->nbits);
	json_set_int(rec, "starved_workers", starved);

	e->migrations += migrations;
	if (!c->def->background) {
		if (!isnan(spread) && (isnan(e->worst_spread) || spread > e->worst_spread))
			e->worst_spread = spread;
		if (isnan(e->worst_gap) || gap > e->worst_gap)
			e->worst_gap = gap;
	}
	free(pool);
	free(viol);
	return rec;
}
