/* Work types that poke the scheduler's bookkeeping while they run:
 * fork_exit, nice_sweep, affinity_churn, policy_churn.
 *
 * The three churn types spin like spin_wait (one iteration per ~1 us
 * chunk) and change their own nice value, affinity or policy every
 * CHURN_NS; fork_exit counts one fork+exit+reap per iteration. */
#include "engine.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPIN_CHUNK_NS 1000ull
#define CHURN_NS 1000000ull
#define NICE_LO (-5)
#define NICE_HI 19

/* Spin in chunks until CHURN_NS has passed; false when asked to stop. */
static bool spin_period(struct wctx *w)
{
	uint64_t start = w_tick(w);

	while (!w_stopping(w)) {
		w_spin(w, SPIN_CHUNK_NS);
		w_iter(w);
		if (w_tick(w) - start >= CHURN_NS)
			return true;
	}
	return false;
}

void work_nice_sweep(struct wctx *w)
{
	int nice = NICE_LO;

	while (spin_period(w)) {
		nice = nice >= NICE_HI ? NICE_LO : nice + 1;
		setpriority(PRIO_PROCESS, 0, nice);
	}
}

void work_policy_churn(struct wctx *w)
{
	static const int policies[] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE };
	unsigned i = 0;

	while (spin_period(w)) {
		struct sched_param sp = { .sched_priority = 0 };

		i = (i + 1) % (sizeof(policies) / sizeof(policies[0]));
		sched_setscheduler(0, policies[i], &sp);
	}
}

void work_affinity_churn(struct wctx *w)
{
	size_t setsize = CPU_ALLOC_SIZE(w->nbits);
	cpu_set_t *set = CPU_ALLOC(w->nbits);

	if (!set) {
		work_spin_wait(w);
		return;
	}
	while (spin_period(w)) {
		/* The engine rewrites the allowed mask when the cgroup's
		 * cpuset changes; a CPU picked from a stale copy is refused
		 * by the kernel (EINVAL) and the next period tries again. */
		int cpu = mask_nth(w->cg_cpus, w->nbits, (unsigned)w_rand(w));

		if (cpu < 0)
			continue;
		CPU_ZERO_S(setsize, set);
		CPU_SET_S((unsigned)cpu, setsize, set);
		sched_setaffinity(0, setsize, set);
	}
	CPU_FREE(set);
}

void work_fork_exit(struct wctx *w)
{
	while (!w_stopping(w)) {
		pid_t pid;
		int status;

		w_tick(w);
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			/* Out of processes for now: back off. */
			w_sleep(w, 1000000);
			continue;
		}
		w_block(w);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		w_tick(w);
		w_iter(w);
	}
}
