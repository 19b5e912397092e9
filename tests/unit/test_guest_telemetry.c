/* Unit tests for guest/telemetry.c: the probes a worker runs (gaps, CPU
 * samples, isolation, wake latency reservoir), exercised in this process,
 * and the worker and cgroup_stats records the engine builds from worker
 * slots (filled in by hand, as a finished worker would leave them). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "engine.h"

#define MS 1000000ull
/* Room for any CPU number this host can report. */
#define NBITS 1024u

static struct wslot *slot_new(unsigned nbits)
{
	size_t size = sizeof(struct wslot) + 3 * MASK_WORDS(nbits) * sizeof(uint64_t);
	struct wslot *s;

	size = (size + 63) & ~(size_t)63;
	s = aligned_alloc(64, size);
	assert_non_null(s);
	memset(s, 0, size);
	return s;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* ---- worker side ---- */

struct probe {
	struct wctx w;
	_Atomic uint32_t epoch;
};

static int probe_setup(void **state)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->w.self = slot_new(NBITS);
	p->w.epoch = &p->epoch;
	p->w.nbits = NBITS;
	p->w.last_cpu = -1;
	p->w.rng = 0x9e3779b97f4a7c15ull;
	p->w.rfd = p->w.wfd = -1;
	*state = p;
	return 0;
}

static int probe_teardown(void **state)
{
	struct probe *p = *state;

	free(p->w.self);
	free(p);
	return 0;
}

static void test_gap(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	uint64_t first, gap;

	first = w_tick(w);
	assert_int_equal(w->self->last_tick_ns, first);
	/* Runnable but not ticking (as if preempted): a gap. */
	sleep_ns(30 * MS);
	w_tick(w);
	gap = w->self->max_gap_ns;
	assert_true(gap >= 30 * MS);
	assert_int_equal(w->self->max_gap_at_ns, first);
	assert_true(w->self->max_gap_cpu >= 0);

	/* An intended sleep (w_block first) is no gap, however long. */
	w_block(w);
	assert_int_equal(w->self->last_tick_ns, 0);
	sleep_ns(2 * gap);
	w_tick(w);
	assert_int_equal(w->self->max_gap_ns, gap);
	assert_int_equal(w->self->max_gap_at_ns, first);

	/* A shorter gap does not replace the longest. */
	sleep_ns(1 * MS);
	w_tick(w);
	assert_int_equal(w->self->max_gap_ns, gap);
}

static void test_spin(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	uint64_t t = now_ns();

	w_spin(w, 5 * MS);
	assert_true(now_ns() - t >= 5 * MS);
	assert_int_equal(w->self->wake_count, 0);
	/* Asked to stop: returns at once, not after 100 s. */
	atomic_store(&w->self->stop, 1);
	t = now_ns();
	w_spin(w, 100000 * MS);
	assert_true(now_ns() - t < 1000 * MS);
}

static void test_sleep_sample(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	uint64_t target, before;

	w_sleep(w, 2 * MS);
	assert_int_equal(w->self->wake_count, 1);
	assert_int_equal(w->self->nsamples, 1);
	assert_true(w->self->samples[0] < 1000 * MS);
	/* Sleeping is not a gap, and the tick reference is dropped. */
	assert_int_equal(w->self->last_tick_ns, 0);
	assert_int_equal(w->last_ns, 0);

	/* A target already past: the sample is how late the wake-up is. */
	target = now_ns() - 50 * MS;
	before = now_ns();
	w_sleep_until(w, target);
	assert_int_equal(w->self->nsamples, 2);
	assert_true(w->self->samples[1] >= before - target);
	assert_int_equal(w->self->max_gap_ns, 0);
}

/* Beyond WAKE_SAMPLES the kept samples are a uniform reservoir: after
 * WAKE_SAMPLES ones and 3 * WAKE_SAMPLES twos about 3/4 should be twos. */
static void test_reservoir(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	unsigned i, twos = 0;

	for (i = 0; i < WAKE_SAMPLES; i++)
		w_wake_sample(w, 1);
	assert_int_equal(w->self->nsamples, WAKE_SAMPLES);
	for (i = 0; i < 3 * WAKE_SAMPLES; i++)
		w_wake_sample(w, 2);
	assert_int_equal(w->self->nsamples, WAKE_SAMPLES);
	assert_int_equal(w->self->wake_count, 4 * WAKE_SAMPLES);
	for (i = 0; i < WAKE_SAMPLES; i++) {
		assert_true(w->self->samples[i] == 1 || w->self->samples[i] == 2);
		twos += w->self->samples[i] == 2;
	}
	if (twos < WAKE_SAMPLES * 70 / 100 || twos > WAKE_SAMPLES * 80 / 100)
		fail_msg("%u of %u kept samples are late ones, want about 3/4", twos,
			 WAKE_SAMPLES);
}

/* The first tick after a block samples the CPU. */
static int fresh_sample(struct wctx *w)
{
	w_block(w);
	w_tick(w);
	return w->last_cpu;
}

static void test_isolation(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	uint64_t *allowed = wslot_allowed(w->self), *viol = wslot_viol(w->self, NBITS);
	int cpu;

	/* Allowed everywhere: seen, not violating. */
	memset(allowed, 0xff, MASK_WORDS(NBITS) * sizeof(uint64_t));
	cpu = fresh_sample(w);
	assert_true(cpu >= 0);
	assert_true(mask_test(wslot_seen(w->self, NBITS), (unsigned)cpu));
	assert_int_equal(mask_weight(viol, NBITS), 0);

	/* Allowed nowhere, but the engine is changing masks (odd epoch):
	 * the sample straddles a change and blames nobody. */
	memset(allowed, 0, MASK_WORDS(NBITS) * sizeof(uint64_t));
	atomic_store(&p->epoch, 1);
	fresh_sample(w);
	assert_int_equal(mask_weight(viol, NBITS), 0);

	/* Allowed nowhere, stable epoch: the CPU it ran on violates. */
	atomic_store(&p->epoch, 2);
	cpu = fresh_sample(w);
	assert_true(cpu >= 0);
	assert_true(mask_test(viol, (unsigned)cpu));
}

/* Moving the thread between two CPUs is one observed migration, and both
 * CPUs are in the seen mask. */
static void test_migration(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	cpu_set_t orig, one;
	int a = -1, b = -1, c;

	assert_int_equal(sched_getaffinity(0, sizeof(orig), &orig), 0);
	for (c = 0; c < CPU_SETSIZE && b < 0; c++)
		if (CPU_ISSET(c, &orig)) {
			if (a < 0)
				a = c;
			else
				b = c;
		}
	if (b < 0)
		skip();
	CPU_ZERO(&one);
	CPU_SET(a, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(fresh_sample(w), a);
	assert_int_equal(w->self->migrations, 0);
	assert_int_equal(fresh_sample(w), a);
	assert_int_equal(w->self->migrations, 0);
	CPU_ZERO(&one);
	CPU_SET(b, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(fresh_sample(w), b);
	assert_int_equal(w->self->migrations, 1);
	assert_int_equal(sched_setaffinity(0, sizeof(orig), &orig), 0);
	assert_true(mask_test(wslot_seen(w->self, NBITS), (unsigned)a));
	assert_true(mask_test(wslot_seen(w->self, NBITS), (unsigned)b));
	assert_int_equal(mask_weight(wslot_seen(w->self, NBITS), NBITS), 2);
}

static void test_begin_end(void **state)
{
	struct probe *p = *state;
	struct wctx *w = &p->w;
	struct wslot *s = w->self;

	w->last_cpu = 5;
	w->rng = 0;
	w_begin(w);
	assert_int_equal(s->state, WS_RUNNING);
	assert_int_equal(w->last_cpu, -1);
	assert_int_equal(s->max_gap_cpu, -1);
	assert_true(w->rng != 0);
	assert_true(s->start_ns > 0);
	w_spin(w, 20 * MS);
	w_end(w);
	assert_int_equal(s->state, WS_DONE);
	assert_true(s->end_ns - s->start_ns >= 20 * MS);
	/* Thread CPU time: most of the spin, never much more than the wall. */
	assert_true(s->cpu_ns > 0);
	assert_true(s->cpu_ns <= s->end_ns - s->start_ns + MS);
	assert_true(s->run_delay_ns >= -1);
	assert_true(s->sched_migrations >= -1);
}

/* ---- engine side: records ---- */

#define T0 (1000000ull * MS)

struct fake {
	struct engine e;
	struct cgroup_def defs[2];
	struct cgroup cgs[2];
	struct worker ws[5];
	struct wslot *slots[5];
};

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	unsigned i;

	if (!f)
		return -1;
	f->e.nbits = 8;
	f->e.ncpus = 8;
	f->e.t0_ns = T0;
	f->e.started = true;
	f->e.worst_spread = NAN;
	f->e.worst_gap = NAN;
	f->e.cgs = f->cgs;
	f->e.ncgs = 2;
	f->e.ws = f->ws;
	for (i = 0; i < 2; i++) {
		f->defs[i].name = i ? "cg_1" : "cg_0";
		f->defs[i].workers = 1;
		f->defs[i].work.type = i ? WORK_FUTEX_PING_PONG : WORK_SPIN_WAIT;
		f->cgs[i].name = f->defs[i].name;
		f->cgs[i].def = &f->defs[i];
		f->cgs[i].live = true;
		f->cgs[i].effective = calloc(1, sizeof(uint64_t));
		if (!f->cgs[i].effective)
			return -1;
	}
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	unsigned i;

	for (i = 0; i < 2; i++)
		free(f->cgs[i].effective);
	for (i = 0; i < 5; i++)
		free(f->slots[i]);
	free(f);
	return 0;
}

/* Worker i in cgroup cg, exited with status 0, its slot as after a
 * normal end: ran from T0 + start_ms for wall_ms, cpu_ms of CPU time. */
static struct wslot *add_worker(struct fake *f, size_t cg, unsigned start_ms,
				unsigned wall_ms, unsigned cpu_ms, uint64_t iterations)
{
	size_t i = f->e.nws++;
	struct worker *w = &f->ws[i];
	struct wslot *s = slot_new(f->e.nbits);

	f->slots[i] = s;
	w->pid = 100 + (pid_t)i;
	w->slot = s;
	w->cg = w->origin = cg;
	w->def = &f->defs[cg];
	w->index = (unsigned)i;
	w->exited = true;
	w->exit_ns = T0 + (start_ms + wall_ms + 1) * MS;
	s->state = WS_DONE;
	s->iterations = iterations;
	s->start_ns = T0 + start_ms * MS;
	s->end_ns = s->start_ns + wall_ms * MS;
	s->cpu_ns = cpu_ms * MS;
	s->run_delay_ns = -1;
	s->sched_migrations = -1;
	s->max_gap_cpu = -1;
	return s;
}

static void set_gap(struct wslot *s, double ms, unsigned at_ms, int cpu)
{
	s->max_gap_ns = (uint64_t)(ms * 1e6);
	s->max_gap_at_ns = T0 + at_ms * MS;
	s->max_gap_cpu = cpu;
}

static void add_samples(struct wslot *s, const uint64_t *ns, unsigned n, uint64_t offered)
{
	memcpy(s->samples, ns, n * sizeof(*ns));
	s->nsamples = n;
	s->wake_count = offered;
}

static void want_real(const json_t *rec, const char *key, double want)
{
	const json_t *v = json_object_get(rec, key);

	if (!json_is_real(v) || fabs(json_real_value(v) - want) > 1e-9)
		fail_msg("%s: got %s %g, want %g", key, json_kind_name(v),
			 json_is_number(v) ? json_number_value(v) : 0.0, want);
}

static void want_int(const json_t *rec, const char *key, long long want)
{
	const json_t *v = json_object_get(rec, key);

	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail_msg("%s: got %s %lld, want %lld", key, json_kind_name(v),
			 json_is_integer(v) ? (long long)json_integer_value(v) : 0, want);
}

static void want_str(const json_t *rec, const char *key, const char *want)
{
	const char *v = json_get_str(rec, key);

	if (!v || strcmp(v, want))
		fail_msg("%s: got \"%s\", want \"%s\"", key, v ? v : "(none)", want);
}

static void want_null(const json_t *rec, const char *key)
{
	if (!json_is_null(json_object_get(rec, key)))
		fail_msg("%s: got %s, want null", key, json_kind_name(json_object_get(rec, key)));
}

static void want_absent(const json_t *rec, const char *key)
{
	if (json_object_get(rec, key))
		fail_msg("%s: present, want absent", key);
}

static void test_worker_record(void **state)
{
	struct fake *f = *state;
	/* 1..100 us, shuffled: the record sorts before taking ranks. */
	uint64_t ns[100];
	struct wslot *s;
	json_t *rec;
	unsigned i;

	for (i = 0; i < 100; i++)
		ns[i] = (uint64_t)((i * 37) % 100 + 1) * 1000;
	mask_parse("0-7", f->cgs[0].effective, 8);
	s = add_worker(f, 0, 0, 100, 90, 1000);
	s->run_delay_ns = 5 * (int64_t)MS;
	s->sched_migrations = 7;
	s->migrations = 3;
	mask_parse("1-3,5", wslot_seen(s, 8), 8);
	set_gap(s, 12.5, 40, 2);
	add_samples(s, ns, 100, 150);

	rec = telemetry_worker_record(&f->e, 0);
	want_str(rec, "type", "worker");
	want_str(rec, "cgroup", "cg_0");
	want_absent(rec, "moved_from");
	want_int(rec, "index", 0);
	want_int(rec, "pid", 100);
	want_str(rec, "work", "spin_wait");
	want_str(rec, "cpuset", "0-7");
	want_int(rec, "iterations", 1000);
	want_int(rec, "cpu_time_us", 90000);
	want_int(rec, "wall_time_us", 100000);
	want_real(rec, "off_cpu_pct", 10.0);
	/* The kernel's count wins over the sampled one. */
	want_int(rec, "migrations", 7);
	want_int(rec, "migrations_observed", 3);
	want_str(rec, "cpus_used", "1-3,5");
	want_real(rec, "max_gap_ms", 12.5);
	want_int(rec, "max_gap_cpu", 2);
	want_int(rec, "max_gap_at_ms", 40);
	want_int(rec, "wake_samples", 150);
	want_real(rec, "wake_p50_us", 50.0);
	want_real(rec, "wake_p99_us", 99.0);
	want_int(rec, "run_delay_us", 5000);
	want_null(rec, "violating_cpus");
	want_absent(rec, "crashed");
	want_absent(rec, "stop_timeout");
	json_decref(rec);

	/* Without the kernel's count, the sampled one; more CPU time than
	 * wall time (clock skew) is 0% off-CPU, not negative. */
	s->sched_migrations = -1;
	s->run_delay_ns = -1;
	s->cpu_ns = 110 * MS;
	add_samples(s, (const uint64_t[]){ 3000, 1000, 2000 }, 3, 3);
	rec = telemetry_worker_record(&f->e, 0);
	want_int(rec, "migrations", 3);
	want_real(rec, "off_cpu_pct", 0.0);
	want_null(rec, "run_delay_us");
	/* Nearest rank of 3: p50 the 2nd, p99 the 3rd. */
	want_real(rec, "wake_p50_us", 2.0);
	want_real(rec, "wake_p99_us", 3.0);
	json_decref(rec);

	/* No samples: no percentiles. */
	add_samples(s, ns, 0, 0);
	mask_parse("", wslot_seen(s, 8), 8);
	mask_parse("6", wslot_viol(s, 8), 8);
	rec = telemetry_worker_record(&f->e, 0);
	want_null(rec, "wake_p50_us");
	want_null(rec, "wake_p99_us");
	want_int(rec, "wake_samples", 0);
	want_null(rec, "cpus_used");
	want_str(rec, "violating_cpus", "6");
	json_decref(rec);
}

/* Killed at the stop timeout while meaning to run: its open gap is closed
 * at the stop request, on no CPU. */
static void test_worker_killed(void **state)
{
	struct fake *f = *state;
	struct wslot *s = add_worker(f, 0, 0, 0, 0, 42);
	struct worker *w = &f->ws[0];
	json_t *rec;

	s->state = WS_RUNNING;
	s->end_ns = s->cpu_ns = 0;
	w->killed = true;
	w->status = SIGKILL;
	w->stop_ns = T0 + 600 * MS;
	w->exit_ns = T0 + 3600 * MS;
	s->last_tick_ns = T0 + 100 * MS;
	s->migrations = 2;
	set_gap(s, 10, 50, 1);

	rec = telemetry_worker_record(&f->e, 0);
	want_int(rec, "iterations", 42);
	want_null(rec, "cpu_time_us");
	want_int(rec, "wall_time_us", 3600000);
	want_null(rec, "off_cpu_pct");
	want_int(rec, "migrations", 2);
	want_null(rec, "run_delay_us");
	want_real(rec, "max_gap_ms", 500.0);
	want_null(rec, "max_gap_cpu");
	want_int(rec, "max_gap_at_ms", 100);
	want_absent(rec, "crashed");	/* the engine killed it */
	assert_true(json_is_true(json_object_get(rec, "stop_timeout")));
	json_decref(rec);

	/* Blocked on purpose when killed: its recorded gap stands. */
	s->last_tick_ns = 0;
	rec = telemetry_worker_record(&f->e, 0);
	want_real(rec, "max_gap_ms", 10.0);
	want_int(rec, "max_gap_cpu", 1);
	want_int(rec, "max_gap_at_ms", 50);
	json_decref(rec);
}

static void test_worker_crashed(void **state)
{
	struct fake *f = *state;
	struct wslot *s = add_worker(f, 0, 0, 50, 40, 7);
	struct worker *w = &f->ws[0];
	json_t *rec;

	s->state = WS_RUNNING;
	w->status = SIGSEGV;		/* as waitpid reports a signal death */
	rec = telemetry_worker_record(&f->e, 0);
	assert_true(json_is_true(json_object_get(rec, "crashed")));
	want_int(rec, "signal", SIGSEGV);
	want_absent(rec, "exit_code");
	want_absent(rec, "stop_timeout");
	/* Not done: wall time up to the reaping. */
	want_int(rec, "wall_time_us", 51000);
	json_decref(rec);

	w->status = 3 << 8;		/* exit(3) */
	rec = telemetry_worker_record(&f->e, 0);
	assert_true(json_is_true(json_object_get(rec, "crashed")));
	want_int(rec, "exit_code", 3);
	want_absent(rec, "signal");
	json_decref(rec);
}

/* Stopped before the start barrier opened: no time, no work. */
static void test_worker_never_ran(void **state)
{
	struct fake *f = *state;
	struct wslot *s = add_worker(f, 0, 0, 0, 0, 0);
	json_t *rec;

	s->state = WS_FORKED;
	s->start_ns = s->end_ns = 0;
	rec = telemetry_worker_record(&f->e, 0);
	want_int(rec, "iterations", 0);
	want_int(rec, "wall_time_us", 0);
	want_null(rec, "cpu_time_us");
	want_null(rec, "off_cpu_pct");
	want_real(rec, "max_gap_ms", 0.0);
	want_null(rec, "max_gap_cpu");
	want_int(rec, "max_gap_at_ms", 0);
	want_absent(rec, "crashed");
	json_decref(rec);
}

static void test_worker_moved(void **state)
{
	struct fake *f = *state;
	json_t *rec;

	add_worker(f, 0, 0, 10, 5, 1);
	f->ws[0].cg = 1;
	mask_parse("4-5", f->cgs[1].effective, 8);
	rec = telemetry_worker_record(&f->e, 0);
	want_str(rec, "cgroup", "cg_1");
	want_str(rec, "moved_from", "cg_0");
	want_str(rec, "cpuset", "4-5");
	/* What it runs comes from where it was spawned. */
	want_str(rec, "work", "spin_wait");
	json_decref(rec);
}

static void test_cgroup_record(void **state)
{
	struct fake *f = *state;
	struct wslot *s;
	json_t *rec;

	mask_parse("0-3", f->cgs[0].effective, 8);
	/* 10% off-CPU, 10000 iterations/s */
	s = add_worker(f, 0, 0, 100, 90, 1000);
	s->sched_migrations = 2;
	set_gap(s, 5, 10, 1);
	add_samples(s, (const uint64_t[]){ 1000, 2000 }, 2, 2);
	/* 30% off-CPU, 15000 iterations/s, the worst gap, a violation */
	s = add_worker(f, 0, 0, 200, 140, 3000);
	s->sched_migrations = 4;
	set_gap(s, 8, 20, 3);
	add_samples(s, (const uint64_t[]){ 4000, 3000 }, 2, 5);
	mask_parse("6", wslot_viol(s, 8), 8);
	/* never ran: starved, in no rate or spread */
	s = add_worker(f, 0, 0, 0, 0, 0);
	s->state = WS_FORKED;
	s->migrations = 9;
	/* elsewhere, and discarded: not counted */
	s = add_worker(f, 1, 0, 100, 10, 5);
	set_gap(s, 900, 1, 0);
	s = add_worker(f, 0, 0, 100, 10, 5);
	set_gap(s, 900, 1, 0);
	f->ws[4].discarded = true;

	rec = telemetry_cgroup_record(&f->e, 0);
	want_str(rec, "type", "cgroup_stats");
	want_str(rec, "cgroup", "cg_0");
	want_int(rec, "workers", 3);
	want_str(rec, "cpuset", "0-3");
	want_int(rec, "cpus", 4);
	assert_true(json_is_false(json_object_get(rec, "background")));
	want_real(rec, "spread_pct", 20.0);
	want_real(rec, "worst_gap_ms", 8.0);
	want_int(rec, "worst_gap_cpu", 3);
	want_int(rec, "worst_gap_at_ms", 20);
	/* The worker that never ran has no kernel count: its sampled one. */
	want_int(rec, "migrations", 2 + 4 + 9);
	want_int(rec, "iterations", 4000);
	want_real(rec, "iterations_per_sec", 12500.0);
	/* Pooled 1..4 us: nearest rank 2 and 4. */
	want_real(rec, "p50_wake_latency_us", 2.0);
	want_real(rec, "p99_wake_latency_us", 4.0);
	want_int(rec, "wake_samples", 7);
	want_int(rec, "isolation_violations", 1);
	want_str(rec, "violating_cpus", "6");
	want_int(rec, "starved_workers", 1);
	json_decref(rec);

	/* The scenario_end summary picks it up. */
	assert_true(fabs(f->e.worst_spread - 20.0) < 1e-9);
	assert_true(fabs(f->e.worst_gap - 8.0) < 1e-9);
	assert_int_equal(f->e.migrations, 15);

	/* A background cgroup adds migrations but not to the worst spread
	 * or gap, however bad its own are. */
	f->defs[1].background = true;
	rec = telemetry_cgroup_record(&f->e, 1);
	assert_true(json_is_true(json_object_get(rec, "background")));
	want_int(rec, "workers", 1);
	want_real(rec, "worst_gap_ms", 900.0);
	want_null(rec, "p50_wake_latency_us");
	want_null(rec, "violating_cpus");
	json_decref(rec);
	assert_true(fabs(f->e.worst_gap - 8.0) < 1e-9);
	assert_true(fabs(f->e.worst_spread - 20.0) < 1e-9);
	assert_int_equal(f->e.migrations, 15);
}

/* Workers that never ran: nothing measured, but a gap of 0 still sets
 * the scenario's worst gap. */
static void test_cgroup_record_idle(void **state)
{
	struct fake *f = *state;
	struct wslot *s = add_worker(f, 0, 0, 0, 0, 0);
	json_t *rec;

	s->state = WS_FORKED;
	rec = telemetry_cgroup_record(&f->e, 0);
	want_int(rec, "workers", 1);
	want_null(rec, "spread_pct");
	want_real(rec, "worst_gap_ms", 0.0);
	want_null(rec, "worst_gap_cpu");
	want_null(rec, "iterations_per_sec");
	want_null(rec, "p99_wake_latency_us");
	want_int(rec, "starved_workers", 1);
	json_decref(rec);
	assert_true(isnan(f->e.worst_spread));
	assert_true(f->e.worst_gap == 0.0);
}

static void test_real_or_null(void **state)
{
	json_t *o = json_object();

	json_set_real_or_null(o, "a", 1.23456);
	json_set_real_or_null(o, "b", -1.23456);
	json_set_real_or_null(o, "c", NAN);
	json_set_real_or_null(o, "d", INFINITY);
	json_set_real_or_null(o, "e", 1e300);
	json_set_real_or_null(o, "f", 0.0004);
	want_real(o, "a", 1.235);
	want_real(o, "b", -1.235);
	want_null(o, "c");
	want_null(o, "d");
	want_real(o, "e", 1e300);
	want_real(o, "f", 0.0);
	json_decref(o);
}

#define PROBE(t) cmocka_unit_test_setup_teardown(t, probe_setup, probe_teardown)
#define FAKE(t) cmocka_unit_test_setup_teardown(t, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PROBE(test_gap),
		PROBE(test_spin),
		PROBE(test_sleep_sample),
		PROBE(test_reservoir),
		PROBE(test_isolation),
		PROBE(test_migration),
		PROBE(test_begin_end),
		FAKE(test_worker_record),
		FAKE(test_worker_killed),
		FAKE(test_worker_crashed),
		FAKE(test_worker_never_ran),
		FAKE(test_worker_moved),
		FAKE(test_cgroup_record),
		FAKE(test_cgroup_record_idle),
		cmocka_unit_test(test_real_or_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
