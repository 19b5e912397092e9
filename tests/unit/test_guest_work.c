/* Unit tests for the guest's work loops (guest/work_*.c): each worker runs
 * as a thread of this process for a moment, with its slot on the heap
 * instead of shared memory, and is stopped the way the engine stops one
 * (stop flag, futex wakes, SIGUSR1 without SA_RESTART, repeated).  What is
 * checked is what the records are made of: iterations, wake samples and
 * gaps, and how they relate to the work type's definition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

#define MS 1000000ull
#define NBITS 1024u
/* The engine's STOP_WAIT_MS: a worker that outlasts it would be killed. */
#define STOP_DEADLINE_NS (3000 * MS)
#define MAXW 4

struct runner {
	pthread_t thread;
	struct wctx w;
	work_fn fn;
	_Atomic int done;
	cpu_set_t affinity;		/* the thread's, after its loop */
};

struct rig {
	struct runner r[MAXW];
	unsigned n;
	struct work_spec spec;
	_Atomic uint32_t epoch;
	_Atomic uint32_t lock;
	int fds[4];
	uint64_t allowed[MASK_WORDS(NBITS)];	/* cg_cpus of every worker */
};

static void on_sigusr1(int sig)
{
	(void)sig;
}

static int group_setup(void **state)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	/* As the engine installs it: no SA_RESTART, so it breaks sleeps
	 * and blocking reads. */
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

static size_t slot_size(void)
{
	size_t size = sizeof(struct wslot) + 3 * MASK_WORDS(NBITS) * sizeof(uint64_t);

	return (size + 63) & ~(size_t)63;
}

static struct wslot *slot_new(void)
{
	return aligned_alloc(64, slot_size());
}

static int rig_setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	unsigned i;

	if (!g)
		return -1;
	for (i = 0; i < MAXW; i++) {
		struct wctx *w = &g->r[i].w;

		w->self = slot_new();
		if (!w->self)
			return -1;
		w->rfd = w->wfd = -1;
		w->lock = &g->lock;
		w->epoch = &g->epoch;
		w->spec = &g->spec;
		w->cg_cpus = g->allowed;
		w->nbits = NBITS;
	}
	for (i = 0; i < 4; i++)
		g->fds[i] = -1;
	*state = g;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *g = *state;
	unsigned i;

	for (i = 0; i < MAXW; i++)
		free(g->r[i].w.self);
	for (i = 0; i < 4; i++)
		if (g->fds[i] >= 0)
			close(g->fds[i]);
	free(g->spec.phases);
	free(g);
	return 0;
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	w_begin(&r->w);
	r->fn(&r->w);
	w_end(&r->w);
	sched_getaffinity(0, sizeof(r->affinity), &r->affinity);
	atomic_store(&r->done, 1);
	return NULL;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Run workers 0..n-1 of g (fn each) for ms, then stop them as the engine
 * does; fails when one does not stop in time. */
static void run(struct rig *g, unsigned n, work_fn fn, unsigned ms)
{
	uint64_t deadline;
	unsigned i, left;

	g->n = n;
	for (i = 0; i < n; i++) {
		/* A fresh slot, as every spawned worker gets. */
		memset(g->r[i].w.self, 0, slot_size());
		atomic_store(&g->r[i].done, 0);
		g->r[i].fn = fn;
		assert_int_equal(pthread_create(&g->r[i].thread, NULL, runner_main, &g->r[i]), 0);
	}
	sleep_ns(ms * MS);
	deadline = now_ns() + STOP_DEADLINE_NS;
	do {
		left = 0;
		for (i = 0; i < n; i++) {
			struct wslot *s = g->r[i].w.self;

			if (atomic_load(&g->r[i].done))
				continue;
			left++;
			atomic_store(&s->stop, 1);
			futex_wake_n(&s->ping, INT_MAX);
			futex_wake_n(&s->ack, INT_MAX);
			pthread_kill(g->r[i].thread, SIGUSR1);
		}
		if (left && now_ns() > deadline)
			fail_msg("%u of %u workers did not stop within %llu ms", left, n,
				 STOP_DEADLINE_NS / MS);
		if (left)
			sleep_ns(10 * MS);
	} while (left);
	for (i = 0; i < n; i++) {
		assert_int_equal(pthread_join(g->r[i].thread, NULL), 0);
		assert_int_equal(g->r[i].w.self->state, WS_DONE);
	}
}

static uint64_t iters(const struct rig *g, unsigned i)
{
	return g->r[i].w.self->iterations;
}

static uint64_t wakes(const struct rig *g, unsigned i)
{
	return g->r[i].w.self->wake_count;
}

static uint64_t wall_ns(const struct rig *g, unsigned i)
{
	return g->r[i].w.self->end_ns - g->r[i].w.self->start_ns;
}

/* Loops that end every iteration with a sleep (which a stop may cut
 * short, giving no sample) have one wake sample per iteration, or one
 * fewer. */
static void want_sample_per_iteration(const struct rig *g, unsigned i)
{
	uint64_t it = iters(g, i), wk = wakes(g, i);

	if (it < 1 || wk > it || wk + 1 < it)
		fail_msg("worker %u: %llu iterations, %llu wake samples", i,
			 (unsigned long long)it, (unsigned long long)wk);
}

static void test_spin_wait(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_SPIN_WAIT;
	run(g, 1, work_spin_wait, 200);
	assert_true(iters(g, 0) > 10);
	assert_int_equal(wakes(g, 0), 0);
	assert_true(g->r[0].w.self->cpu_ns > 0);
}

static void test_yield_heavy(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_YIELD_HEAVY;
	run(g, 1, work_yield_heavy, 200);
	assert_true(iters(g, 0) > 0);
	assert_int_equal(wakes(g, 0), 0);
}

/* bursty: one iteration per burst, each followed by a sleep; an iteration
 * takes at least burst + sleep. */
static void test_bursty(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_BURSTY;
	g->spec.burst_us = 2000;
	g->spec.sleep_us = 10000;
	run(g, 1, work_bursty, 200);
	want_sample_per_iteration(g, 0);
	assert_true(iters(g, 0) >= 2);
	assert_true(iters(g, 0) <= wall_ns(g, 0) / (12 * MS) + 1);
}

static void test_mixed(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_MIXED;
	g->spec.sleep_us = 5000;
	run(g, 1, work_mixed, 200);
	want_sample_per_iteration(g, 0);
	assert_true(iters(g, 0) <= wall_ns(g, 0) / (6 * MS) + 1);
}

static void test_mixed_no_sleep(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_MIXED;
	g->spec.sleep_us = 0;
	run(g, 1, work_mixed, 200);
	assert_true(iters(g, 0) >= 1);
	assert_int_equal(wakes(g, 0), 0);
}

static void set_phases(struct rig *g, const struct work_phase *ph, size_t n)
{
	g->spec.type = WORK_SEQUENCE;
	g->spec.phases = calloc(n, sizeof(*ph));
	assert_non_null(g->spec.phases);
	memcpy(g->spec.phases, ph, n * sizeof(*ph));
	g->spec.n_phases = n;
}

/* One pass over the phases is one iteration: a 1 ms spin, a 3 ms sleep
 * (one wake sample), yields and a small synced write. */
static void test_sequence(void **state)
{
	struct rig *g = *state;
	const struct work_phase ph[] = {
		{ .kind = PHASE_SPIN, .us = 1000 },
		{ .kind = PHASE_SLEEP, .us = 3000 },
		{ .kind = PHASE_YIELD, .count = 2 },
		{ .kind = PHASE_IO, .count = 1 },
	};

	set_phases(g, ph, 4);
	g->spec.bytes = 512;
	run(g, 1, work_sequence, 200);
	want_sample_per_iteration(g, 0);
	assert_true(iters(g, 0) <= wall_ns(g, 0) / (4 * MS) + 1);
}

/* Nothing but sleeping: every tick is followed by a block, so the 20 ms
 * sleeps are no gap (what is left is the odd preemption between a tick
 * and the block right after it). */
static void test_sequence_sleep_no_gap(void **state)
{
	struct rig *g = *state;
	const struct work_phase ph[] = { { .kind = PHASE_SLEEP, .us = 20000 } };

	set_phases(g, ph, 1);
	run(g, 1, work_sequence, 200);
	want_sample_per_iteration(g, 0);
	assert_true(iters(g, 0) >= 2);
	assert_true(g->r[0].w.self->max_gap_ns < 20 * MS);
}

static void test_io_sync(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_IO_SYNC;
	g->spec.bytes = 4096;
	run(g, 1, work_io_sync, 200);
	assert_true(iters(g, 0) >= 1);
}

static void test_memory(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_CACHE_PRESSURE;
	g->spec.kib = 64;
	run(g, 1, work_cache_pressure, 200);
	assert_true(iters(g, 0) >= 1);

	g->spec.type = WORK_PAGE_FAULT_CHURN;
	run(g, 1, work_page_fault_churn, 200);
	assert_true(iters(g, 0) >= 1);
}

/* A pair: 0 leads, 1 follows, strictly taking turns; each one's wake
 * latency is measured from the other's clock. */
static void pair(struct rig *g)
{
	g->r[0].w.leader = true;
	g->r[0].w.peer = g->r[1].w.self;
	g->r[1].w.peer = g->r[0].w.self;
}

static void want_turns(const struct rig *g)
{
	uint64_t a = iters(g, 0), b = iters(g, 1);
	unsigned i;

	/* Turns alternate; the goodbye wake at the stop can add one. */
	if (a < 1 || b < 1 || (a > b ? a - b : b - a) > 2)
		fail_msg("pair iterations %llu and %llu do not alternate",
			 (unsigned long long)a, (unsigned long long)b);
	for (i = 0; i < 2; i++)
		if (wakes(g, i) < 1 || wakes(g, i) > iters(g, i))
			fail_msg("worker %u: %llu wake samples for %llu iterations", i,
				 (unsigned long long)wakes(g, i), (unsigned long long)iters(g, i));
}

static void test_futex_ping_pong(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_FUTEX_PING_PONG;
	pair(g);
	run(g, 2, work_futex_ping_pong, 200);
	want_turns(g);
}

/* Unpaired (odd worker count): plays both sides, never blocks, measures
 * nothing. */
static void test_futex_ping_pong_alone(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_FUTEX_PING_PONG;
	run(g, 1, work_futex_ping_pong, 200);
	assert_true(iters(g, 0) >= 1);
	assert_int_equal(wakes(g, 0), 0);
}

static void test_pipe_io(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_PIPE_IO;
	assert_int_equal(pipe2(g->fds, O_CLOEXEC), 0);		/* 0 -> 1 */
	assert_int_equal(pipe2(g->fds + 2, O_CLOEXEC), 0);	/* 1 -> 0 */
	pair(g);
	g->r[0].w.wfd = g->fds[1];
	g->r[1].w.rfd = g->fds[0];
	g->r[1].w.wfd = g->fds[3];
	g->r[0].w.rfd = g->fds[2];
	run(g, 2, work_pipe_io, 200);
	want_turns(g);
}

/* Unpaired, the worker writes its own pipe before reading it back: a
 * message bigger than the pipe would block it forever, so it is cut. */
static void test_pipe_io_alone(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_PIPE_IO;
	g->spec.bytes = 1 << 20;
	assert_int_equal(pipe2(g->fds, O_CLOEXEC), 0);
	g->r[0].w.rfd = g->fds[0];
	g->r[0].w.wfd = g->fds[1];
	run(g, 1, work_pipe_io, 200);
	assert_true(iters(g, 0) >= 1);
	assert_int_equal(wakes(g, 0), 0);
}

/* A waker and three waiters: every round wakes all of them and waits for
 * their acks; both directions are wake samples. */
static void test_futex_fan_out(void **state)
{
	struct rig *g = *state;
	unsigned i;

	g->spec.type = WORK_FUTEX_FAN_OUT;
	g->spec.fan = 3;
	for (i = 0; i < 4; i++) {
		g->r[i].w.nfan = 3;
		g->r[i].w.peer = i ? g->r[0].w.self : NULL;
	}
	run(g, 4, work_futex_fan_out, 200);
	for (i = 0; i < 4; i++) {
		if (iters(g, i) < 1 || wakes(g, i) < 1)
			fail_msg("worker %u: %llu iterations, %llu wake samples", i,
				 (unsigned long long)iters(g, i), (unsigned long long)wakes(g, i));
	}
}

/* Three workers on one lock: all of them get through, and the lock is
 * left free. */
static void test_mutex_contention(void **state)
{
	struct rig *g = *state;

	g->spec.type = WORK_MUTEX_CONTENTION;
	run(g, 3, work_mutex_contention, 200);
	assert_true(iters(g, 0) + iters(g, 1) + iters(g, 2) >= 3);
	assert_int_equal(atomic_load(&g->lock), 0);
}

/* Re-pins itself to CPUs of its cgroup only: with one CPU allowed, that
 * is where it ends up. */
static void test_affinity_churn(void **state)
{
	struct rig *g = *state;
	cpu_set_t orig;
	int c, last = -1;

	assert_int_equal(sched_getaffinity(0, sizeof(orig), &orig), 0);
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &orig))
			last = c;
	assert_true(last >= 0);
	mask_set(g->allowed, (unsigned)last);
	g->spec.type = WORK_AFFINITY_CHURN;
	run(g, 1, work_affinity_churn, 200);
	assert_true(iters(g, 0) >= 1);
	assert_int_equal(CPU_COUNT(&g->r[0].affinity), 1);
	assert_true(CPU_ISSET(last, &g->r[0].affinity));

	/* No CPU to pick (a stale, empty copy): it leaves affinity alone. */
	memset(g->allowed, 0, sizeof(g->allowed));
	run(g, 1, work_affinity_churn, 200);
	assert_true(CPU_EQUAL(&g->r[0].affinity, &orig));
}

#define RIG(t) cmocka_unit_test_setup_teardown(t, rig_setup, rig_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RIG(test_spin_wait),
		RIG(test_yield_heavy),
		RIG(test_bursty),
		RIG(test_mixed),
		RIG(test_mixed_no_sleep),
		RIG(test_sequence),
		RIG(test_sequence_sleep_no_gap),
		RIG(test_io_sync),
		RIG(test_memory),
		RIG(test_futex_ping_pong),
		RIG(test_futex_ping_pong_alone),
		RIG(test_pipe_io),
		RIG(test_pipe_io_alone),
		RIG(test_futex_fan_out),
		RIG(test_mutex_contention),
		RIG(test_affinity_churn),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
