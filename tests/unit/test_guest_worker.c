/* Unit tests for guest/worker.c: real forked workers of cheap work types
 * (bursty with short bursts and long sleeps), placed in cgroups of a fake
 * cgroup v2 mount (fakeengine.h).  What is checked: the start barrier,
 * placement (cgroup.procs writes, nice, pinning, process name), partner
 * wiring through running pairs, the stop protocol (flag and signal, then
 * SIGKILL for one that cannot react), and failure clean-up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeengine.h"

#define MAXCG 4

struct rig {
	struct fakeengine f;
	struct cgroup_def defs[MAXCG];
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r || fe_init(&r->f, "worker", "1,1,2,1", MAXCG) < 0)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fe_fini(&r->f);
	free(r);
	return 0;
}

/* Cgroup i named name of work type t, laid out with effective CPUs;
 * registered in the engine as ops.c's cg_add would. */
static struct cgroup *cg(struct rig *r, const char *name, enum work_type t,
			 const char *effective)
{
	struct engine *e = &r->f.e;
	size_t i = e->ncgs;
	struct cgroup_def *d = &r->defs[i];
	struct cgroup *c;

	assert_true(i < MAXCG);
	assert_int_equal(fe_cgroup(&r->f, name, effective), 0);
	d->name = (char *)name;
	d->work.type = t;
	d->work.burst_us = 1000;
	d->work.sleep_us = 20000;
	e->cgs = xrealloc(e->cgs, (i + 1) * sizeof(*e->cgs));
	c = &e->cgs[i];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->def = d;
	c->lock = (unsigned)i;
	c->live = true;
	c->effective = xcalloc(MASK_WORDS(e->nbits), sizeof(uint64_t));
	assert_int_equal(mask_parse(effective, c->effective, e->nbits), 0);
	e->ncgs++;
	return c;
}

static long spawn(struct rig *r, size_t cgi, unsigned n, _Atomic uint32_t **go)
{
	struct strbuf err = STRBUF_INIT;
	long first = workers_spawn(&r->f.e, cgi, n, go, &err);

	if (first < 0)
		fail_msg("workers_spawn: %s", err.buf);
	strbuf_release(&err);
	return first;
}

static uint64_t iterations(const struct worker *w)
{
	return atomic_load(&w->slot->iterations);
}

/* Wait (at most 10 s: the machine may be busy) until every worker from first on has iterated. */
static bool all_ran(struct engine *e, size_t first)
{
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		size_t i;
		bool all = true;

		for (i = first; i < e->nws; i++)
			all = all && iterations(&e->ws[i]) > 0;
		if (all)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

static int only_cpu(pid_t pid)
{
	cpu_set_t set;
	int c, found = -1;

	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	if (CPU_COUNT(&set) != 1)
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			found = c;
	return found;
}

static void test_slot_size_and_lookup(void **state)
{
	(void)state;
	assert_int_equal(wslot_size(64) % 64, 0);
	assert_true(wslot_size(64) >= sizeof(struct wslot) + 3 * sizeof(uint64_t));
	/* Three masks (allowed, seen, violations) grow with the CPUs. */
	assert_true(wslot_size(4096) >= sizeof(struct wslot) + 3 * 64 * sizeof(uint64_t));
	assert_ptr_equal(work_lookup(WORK_BURSTY), work_bursty);
	assert_ptr_equal(work_lookup(WORK_PIPE_IO), work_pipe_io);
	assert_ptr_equal(work_lookup(WORK_FUTEX_FAN_OUT), work_futex_fan_out);
	assert_ptr_equal(work_lookup(WORK_SEQUENCE), work_sequence);
	assert_ptr_equal(work_lookup(WORK_MUTEX_CONTENTION), work_mutex_contention);
	/* Out of range: the plainest loop, never a NULL call. */
	assert_ptr_equal(work_lookup(WORK__COUNT), work_spin_wait);
}

static void test_barrier_place_run_stop(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;
	struct tap tap;
	char *want;
	char comm[64];
	size_t i;

	cg(r, "outer/cg_a", WORK_BURSTY, "0-1");
	r->defs[0].nice = 5;
	assert_int_equal(tap_start(&tap, fe_cg_path(&r->f, "outer/cg_a/cgroup.procs")), 0);
	assert_int_equal(spawn(r, 0, 3, &go), 0);
	/* No barrier given: the batch has one of its own. */
	assert_non_null(go);
	assert_int_equal(e->nws, 3);
	want = xasprintf("%d%d%d", (int)e->ws[0].pid, (int)e->ws[1].pid, (int)e->ws[2].pid);
	/* Attached one by one, in fork order. */
	assert_true(tap_saw(&tap, want));
	free(want);
	tap_stop(&tap);
	for (i = 0; i < 3; i++) {
		struct worker *w = &e->ws[i];
		char *path = xasprintf("/proc/%d/comm", (int)w->pid);
		char *text = fe_read(path);
		int tries;

		/* The child names itself after fork: on a busy machine the
		 * parent can look first. */
		for (tries = 0; strncmp(text, "kw:", 3) && tries < 1000; tries++) {
			free(text);
			poll(NULL, 0, 10);
			text = fe_read(path);
		}

		assert_int_equal(w->cg, 0);
		assert_int_equal(w->origin, 0);
		assert_int_equal(w->index, i);
		assert_ptr_equal(w->def, &r->defs[0]);
		errno = 0;
		assert_int_equal(getpriority(PRIO_PROCESS, (id_t)w->pid), 5);
		/* Named after the cgroup's leaf, for per-thread tools. */
		snprintf(comm, sizeof(comm), "%s", text);
		assert_string_equal(comm, "kw:cg_a\n");
		free(text);
		free(path);
	}
	/* Held at the barrier: no work yet. */
	poll(NULL, 0, 50);
	for (i = 0; i < 3; i++)
		assert_int_equal(iterations(&e->ws[i]), 0);
	assert_int_equal(e->cgs[0].next_index, 3);

	workers_release(go);
	assert_true(all_ran(e, 0));
	workers_stop(e, NULL, NULL);
	for (i = 0; i < 3; i++) {
		struct worker *w = &e->ws[i];

		assert_true(w->exited);
		assert_true(w->stopping);
		assert_false(w->killed);
		assert_true(w->stop_ns > 0 && w->exit_ns >= w->stop_ns);
		assert_true(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0);
		/* Its final telemetry is in: the loop ended by itself. */
		assert_int_equal(atomic_load(&w->slot->state), WS_DONE);
	}
}

static bool sel_cg(const struct engine *e, const struct worker *w, const void *arg)
{
	(void)e;
	return w->cg == *(const size_t *)arg;
}

static void test_stop_selected(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;
	size_t a = 0, i;
	uint64_t before;

	cg(r, "a", WORK_BURSTY, "0-1");
	cg(r, "b", WORK_BURSTY, "0-1");
	assert_int_equal(spawn(r, 0, 1, &go), 0);
	/* The second batch waits at the first one's barrier. */
	assert_int_equal(spawn(r, 1, 2, &go), 1);
	workers_release(go);
	assert_true(all_ran(e, 0));

	workers_stop(e, sel_cg, &a);
	assert_true(e->ws[0].exited);
	assert_false(e->ws[1].exited || e->ws[1].stopping);
	assert_false(e->ws[2].exited || e->ws[2].stopping);
	before = iterations(&e->ws[1]);
	for (i = 0; i < 1000 && iterations(&e->ws[1]) == before; i++)
		poll(NULL, 0, 10);
	assert_true(iterations(&e->ws[1]) > before);
}

static void test_stop_kills_the_stuck(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;

	cg(r, "a", WORK_BURSTY, "0-1");
	assert_int_equal(spawn(r, 0, 2, &go), 0);
	workers_release(go);
	assert_true(all_ran(e, 0));
	/* A stopped process cannot see its flag nor its signal. */
	assert_int_equal(kill(e->ws[1].pid, SIGSTOP), 0);
	workers_stop(e, NULL, NULL);
	assert_false(e->ws[0].killed);
	assert_true(WIFEXITED(e->ws[0].status));
	assert_true(e->ws[1].killed);
	assert_true(e->ws[1].exited);
	assert_true(WIFSIGNALED(e->ws[1].status) && WTERMSIG(e->ws[1].status) == SIGKILL);
}

static void test_pin_and_repin(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;

	cg(r, "p", WORK_BURSTY, "0-1");
	r->defs[0].pinned = true;
	assert_int_equal(spawn(r, 0, 3, &go), 0);
	/* Worker k on the k-th CPU of the cpuset, round robin. */
	assert_int_equal(only_cpu(e->ws[0].pid), 0);
	assert_int_equal(only_cpu(e->ws[1].pid), 1);
	assert_int_equal(only_cpu(e->ws[2].pid), 0);
	/* Allowed masks start as the cgroup's effective CPUs. */
	assert_int_equal(wslot_allowed(e->ws[0].slot)[0], 0x3);

	/* The cpuset shrinks to CPU 1: everyone re-pinned there. */
	memset(e->cgs[0].effective, 0, MASK_WORDS(e->nbits) * sizeof(uint64_t));
	mask_set(e->cgs[0].effective, 1);
	epoch_begin(e);
	assert_int_equal(atomic_load(&e->ctl->epoch) % 2, 1);
	workers_refresh_allowed(e);
	epoch_end(e);
	assert_int_equal(atomic_load(&e->ctl->epoch), 2);
	workers_repin(e, 0);
	assert_int_equal(only_cpu(e->ws[0].pid), 1);
	assert_int_equal(only_cpu(e->ws[2].pid), 1);
	assert_int_equal(wslot_allowed(e->ws[1].slot)[0], 0x2);
	workers_release(go);
	assert_true(all_ran(e, 0));
}

static void test_pairs_and_fans_run(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;

	/* Each needs its partners wired up to make any progress: a pair
	 * over pipes, a pair over futexes, a waker with two waiters. */
	cg(r, "pipes", WORK_PIPE_IO, "0-1");
	r->defs[0].work.bytes = 64;
	cg(r, "futex", WORK_FUTEX_PING_PONG, "0-1");
	cg(r, "fan", WORK_FUTEX_FAN_OUT, "0-1");
	r->defs[2].work.fan = 2;
	assert_int_equal(spawn(r, 0, 2, &go), 0);
	assert_int_equal(spawn(r, 1, 2, &go), 2);
	assert_int_equal(spawn(r, 2, 3, &go), 4);
	workers_release(go);
	assert_true(all_ran(e, 0));
	workers_stop(e, NULL, NULL);
	assert_false(e->ws[0].killed || e->ws[2].killed || e->ws[4].killed);
}

/* Sample f(pid) every 5 ms for at most 10 s until it has shown two
 * different values; every value seen must satisfy ok. */
static bool changes(pid_t pid, int (*f)(pid_t), bool (*ok)(int))
{
	int first = f(pid), i;

	assert_true(ok(first));
	for (i = 0; i < 2000; i++) {
		int v = f(pid);

		assert_true(ok(v));
		if (v != first)
			return true;
		poll(NULL, 0, 5);
	}
	return false;
}

static int nice_of(pid_t pid)
{
	errno = 0;
	return getpriority(PRIO_PROCESS, (id_t)pid);
}

static bool nice_ok(int v)
{
	return v >= -5 && v <= 19;
}

static int policy_of(pid_t pid)
{
	return sched_getscheduler(pid);
}

static bool policy_ok(int v)
{
	return v == SCHED_OTHER || v == SCHED_BATCH || v == SCHED_IDLE;
}

/* The work types that change the worker process itself (test_guest_work
 * runs loops as threads, where that would hit the test). */
static void test_churn_types(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;
	size_t i;

	cg(r, "nice", WORK_NICE_SWEEP, "0-1");
	cg(r, "policy", WORK_POLICY_CHURN, "0-1");
	cg(r, "fork", WORK_FORK_EXIT, "0-1");
	for (i = 0; i < 3; i++)
		assert_int_equal(spawn(r, i, 1, &go), (long)i);
	workers_release(go);
	assert_true(all_ran(e, 0));
	assert_true(changes(e->ws[0].pid, nice_of, nice_ok));
	assert_true(changes(e->ws[1].pid, policy_of, policy_ok));
	workers_stop(e, NULL, NULL);
	for (i = 0; i < 3; i++) {
		assert_false(e->ws[i].killed);
		assert_true(WIFEXITED(e->ws[i].status) && WEXITSTATUS(e->ws[i].status) == 0);
	}
	/* fork_exit reaped its own children: nothing is left for us. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_attach_fails_discards(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;
	struct strbuf err = STRBUF_INIT;
	char *want;
	size_t i;

	cg(r, "a", WORK_BURSTY, "0-1");
	assert_int_equal(unlink(fe_cg_path(&r->f, "a/cgroup.procs")), 0);
	assert_int_equal(workers_spawn(e, 0, 2, &go, &err), -1);
	assert_int_equal(e->nws, 2);
	want = xasprintf("write \"%d\" to %s: %s", (int)e->ws[0].pid,
			 fe_cg_path(&r->f, "a/cgroup.procs"), strerror(ENOENT));
	assert_string_equal(err.buf, want);
	for (i = 0; i < 2; i++) {
		assert_true(e->ws[i].discarded);
		assert_true(e->ws[i].killed);
		assert_int_equal(atomic_load(&e->ws[i].slot->stop), 1);
	}
	/* They go without ever being released. */
	workers_stop(e, NULL, NULL);
	assert_true(e->ws[0].exited && e->ws[1].exited);
	free(want);
	strbuf_release(&err);
}

static void test_on_exit(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;

	cg(r, "a", WORK_BURSTY, "0-1");
	assert_int_equal(spawn(r, 0, 1, &go), 0);
	assert_false(workers_on_exit(e, 1, 0));
	assert_true(workers_on_exit(e, e->ws[0].pid, 0x0100));
	assert_true(e->ws[0].exited);
	assert_int_equal(e->ws[0].status, 0x0100);
	assert_true(e->ws[0].exit_ns > 0);
	/* Reported once: a second exit of the same pid is someone else's. */
	assert_false(workers_on_exit(e, e->ws[0].pid, 0));
	/* Not waited for: let it go. */
	atomic_store(&e->ws[0].slot->stop, 1);
	workers_release(go);
	assert_int_equal(waitpid(e->ws[0].pid, NULL, 0), e->ws[0].pid);
}

/* The state letter of /proc/PID/stat, after the comm's ')'. */
static char proc_state(pid_t pid)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid), *text = fe_read(path);
	const char *p = strrchr(text, ')');
	char st = p && p[1] == ' ' ? p[2] : '?';

	free(text);
	free(path);
	return st;
}

/* For a ctprof capture after the workload (issue 16): stopped, final,
 * still in /proc as zombies; workers_stop reaps them afterwards. */
static void test_stop_unreaped(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;
	size_t i;

	cg(r, "a", WORK_BURSTY, "0-1");
	assert_int_equal(spawn(r, 0, 2, &go), 0);
	workers_release(go);
	assert_true(all_ran(e, 0));
	assert_true(workers_stop_unreaped(e));
	for (i = 0; i < 2; i++) {
		struct worker *w = &e->ws[i];

		assert_true(w->stopping);
		assert_false(w->exited);
		assert_int_equal(atomic_load(&w->slot->state), WS_DONE);
		assert_int_equal(proc_state(w->pid), 'Z');
	}
	workers_stop(e, NULL, NULL);
	for (i = 0; i < 2; i++) {
		assert_true(e->ws[i].exited);
		assert_false(e->ws[i].killed);
		assert_true(WIFEXITED(e->ws[i].status) && WEXITSTATUS(e->ws[i].status) == 0);
	}
}

/* One that does not stop: false after the stop timeout, left for
 * workers_stop to kill. */
static void test_stop_unreaped_stuck(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	_Atomic uint32_t *go = NULL;

	cg(r, "a", WORK_BURSTY, "0-1");
	assert_int_equal(spawn(r, 0, 2, &go), 0);
	workers_release(go);
	assert_true(all_ran(e, 0));
	assert_int_equal(kill(e->ws[1].pid, SIGSTOP), 0);
	assert_false(workers_stop_unreaped(e));
	assert_false(e->ws[0].exited);
	assert_int_equal(proc_state(e->ws[0].pid), 'Z');
	assert_int_equal(proc_state(e->ws[1].pid), 'T');
	workers_stop(e, NULL, NULL);
	assert_true(e->ws[0].exited && !e->ws[0].killed);
	assert_true(e->ws[1].exited && e->ws[1].killed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_size_and_lookup),
		cmocka_unit_test_setup_teardown(test_barrier_place_run_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_selected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_kills_the_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_unreaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_unreaped_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_and_repin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs_and_fans_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churn_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_fails_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_exit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
