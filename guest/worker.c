/* Workers: forked processes that run one work type each.
 *
 * A batch (the workers one op starts in one cgroup) shares one MAP_SHARED
 * anonymous mapping created before its forks: a header, then one struct
 * wslot per worker.  Pairs (pipe_io, futex_ping_pong: worker 2k with
 * 2k+1) and fan-out groups (futex_fan_out: a waker and the fan workers
 * after it) are formed inside a batch, so partners always share it.
 *
 * Start: every child blocks on a start barrier (a futex word) right after
 * fork; the engine moves it into its cgroup, applies policy, nice and
 * pinning, and only then opens the barrier, so no work is ever done in
 * the wrong place.  The initial workers of all cgroups share one barrier
 * (shm_ctl.go) and start together.
 *
 * Stop: the engine sets the slot's stop flag, wakes the futex words the
 * worker may sleep on and sends SIGUSR1, whose no-op handler (installed
 * without SA_RESTART by the engine before the first fork) breaks sleeps
 * and blocking reads.  A signal can land just before a worker blocks, so
 * it is repeated every RESIGNAL_MS; workers still running after
 * STOP_WAIT_MS are killed.
 *
 * A worker process must never run agent code after fork: it leaves with
 * _exit() only (exit() would run the agent's atexit power-off). */
#include "engine.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH_HDR 64
#define STOP_WAIT_MS 3000
#define KILL_WAIT_MS 2000
#define RESIGNAL_MS 100
/* workers_stop_unreaped's check interval: workers exit within ms. */
#define HOLD_POLL_MS 5

struct batch {
	void *map;
	size_t size;
};

size_t wslot_size(unsigned nbits)
{
	size_t s = sizeof(struct wslot) + 3 * MASK_WORDS(nbits) * sizeof(uint64_t);

	return (s + 63) & ~(size_t)63;
}

work_fn work_lookup(enum work_type t)
{
	switch (t) {
	case WORK_SPIN_WAIT: return work_spin_wait;
	case WORK_YIELD_HEAVY: return work_yield_heavy;
	case WORK_MIXED: return work_mixed;
	case WORK_BURSTY: return work_bursty;
	case WORK_IO_SYNC: return work_io_sync;
	case WORK_PIPE_IO: return work_pipe_io;
	case WORK_FUTEX_PING_PONG: return work_futex_ping_pong;
	case WORK_FUTEX_FAN_OUT: return work_futex_fan_out;
	case WORK_CACHE_PRESSURE: return work_cache_pressure;
	case WORK_FORK_EXIT: return work_fork_exit;
	case WORK_NICE_SWEEP: return work_nice_sweep;
	case WORK_AFFINITY_CHURN: return work_affinity_churn;
	case WORK_POLICY_CHURN: return work_policy_churn;
	case WORK_PAGE_FAULT_CHURN: return work_page_fault_churn;
	case WORK_MUTEX_CONTENTION: return work_mutex_contention;
	case WORK_SEQUENCE: return work_sequence;
	case WORK__COUNT: break;
	}
	return work_spin_wait;
}

/* Close every inherited fd but 0-2 and the worker's own pipe ends: the
 * agent port and signalfd are none of its business, and a partner's pipe
 * must see EOF once the partner is gone. */
static void close_fds_except(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (hi < 3) {
		close_range(3, ~0u, 0);
		return;
	}
	if (lo < 3)
		lo = hi;
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

/* Name the worker after its cgroup ("kw:cg_0", the kernel keeps 15
 * bytes), so per-thread tools such as ktstr-ctprof can tell workers from
 * the agent they were forked from and group them by cgroup. */
static void worker_name(const char *cgroup)
{
	const char *leaf = strrchr(cgroup, '/');
	char name[16];

	snprintf(name, sizeof(name), "kw:%s", leaf ? leaf + 1 : cgroup);
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static void __attribute__((noreturn))
worker_child(struct wctx *w, _Atomic uint32_t *go, work_fn fn)
{
	child_reset();
	/* A partner's pipe closing must be an error to handle, not death. */
	signal(SIGPIPE, SIG_IGN);
	/* Wake latency should measure scheduling, not timer coalescing. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	close_fds_except(w->rfd, w->wfd);
	while (!atomic_load_explicit(go, memory_order_acquire)) {
		if (w_stopping(w))
			_exit(0);
		futex_wait_bounded(go, 0);
	}
	if (!w_stopping(w)) {
		w_begin(w);
		fn(w);
		w_end(w);
	}
	_exit(0);
}

static int apply_policy(const struct cgroup_def *d, pid_t pid, struct strbuf *err)
{
	struct sched_param sp = { .sched_priority = 0 };
	int pol = SCHED_OTHER;

	switch (d->policy) {
	case POLICY_NORMAL: pol = SCHED_OTHER; break;
	case POLICY_BATCH: pol = SCHED_BATCH; break;
	case POLICY_IDLE: pol = SCHED_IDLE; break;
	case POLICY_FIFO: pol = SCHED_FIFO; break;
	case POLICY_RR: pol = SCHED_RR; break;
	}
	if (pol == SCHED_FIFO || pol == SCHED_RR)
		sp.sched_priority = d->rt_priority ? d->rt_priority : 1;
	if (pol != SCHED_OTHER && sched_setscheduler(pid, pol, &sp) < 0) {
		strbuf_addf(err, "policy %s for pid %d: %s", sched_policy_name(d->policy),
			    (int)pid, strerror(errno));
		return -1;
	}
	if (d->nice && setpriority(PRIO_PROCESS, (id_t)pid, d->nice) < 0) {
		strbuf_addf(err, "nice %d for pid %d: %s", d->nice, (int)pid, strerror(errno));
		return -1;
	}
	return 0;
}

static int pin(struct engine *e, const struct worker *w, struct strbuf *err)
{
	const struct cgroup *cg = &e->cgs[w->cg];
	size_t setsize = CPU_ALLOC_SIZE(e->nbits);
	cpu_set_t *set;
	int cpu = mask_nth(cg->effective, e->nbits, w->index), ret = 0;

	if (cpu < 0)
		return 0;
	set = CPU_ALLOC(e->nbits);
	if (!set)
		return 0;
	CPU_ZERO_S(setsize, set);
	CPU_SET_S((unsigned)cpu, setsize, set);
	if (sched_setaffinity(w->pid, setsize, set) < 0) {
		strbuf_addf(err, "pin pid %d to CPU %d: %s", (int)w->pid, cpu, strerror(errno));
		ret = -1;
	}
	CPU_FREE(set);
	return ret;
}

void workers_repin(struct engine *e, size_t cg)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		if (w->cg == cg && !w->exited && !w->discarded && w->def->pinned &&
		    pin(e, w, &err) < 0) {
			vlog("%s", err.buf);
			strbuf_reset(&err);
		}
	}
	strbuf_release(&err);
}

/* Partner wiring of worker i of a batch of count (see the top). */
static void wire(struct wctx *w, const struct work_spec *spec, unsigned i, unsigned count,
		 char *base, size_t ssz)
{
	unsigned g;

	w->peer = NULL;
	w->leader = false;
	w->nfan = 0;
	switch (spec->type) {
	case WORK_PIPE_IO:
	case WORK_FUTEX_PING_PONG:
		if (i % 2 == 0 && i + 1 < count) {
			w->leader = true;
			w->peer = (struct wslot *)(base + (i + 1) * ssz);
		} else if (i % 2 == 1) {
			w->peer = (struct wslot *)(base + (i - 1) * ssz);
		}
		break;
	case WORK_FUTEX_FAN_OUT:
		g = (spec->fan ? spec->fan : 4) + 1;
		w->nfan = count - i / g * g - 1;
		if (w->nfan > g - 1)
			w->nfan = g - 1;
		if (i % g)
			w->peer = (struct wslot *)(base + (i / g * g) * ssz);
		break;
	default:
		break;
	}
}

/* pipe_io: pipe ends for every worker of the batch; a pair shares two
 * pipes (one each way), an unpaired worker gets one to itself. */
static int make_pipes(unsigned count, int *rfd, int *wfd, struct strbuf *err)
{
	unsigned i;

	for (i = 0; i < count; i++)
		rfd[i] = wfd[i] = -1;
	for (i = 0; i < count; i += 2) {
		int ab[2], ba[2];

		if (pipe2(ab, O_CLOEXEC) < 0)
			goto fail;
		if (i + 1 == count) {
			rfd[i] = ab[0];
			wfd[i] = ab[1];
			break;
		}
		if (pipe2(ba, O_CLOEXEC) < 0) {
			close(ab[0]);
			close(ab[1]);
			goto fail;
		}
		wfd[i] = ab[1];		/* leader writes a->b */
		rfd[i + 1] = ab[0];
		wfd[i + 1] = ba[1];	/* follower answers b->a */
		rfd[i] = ba[0];
	}
	return 0;
fail:
	strbuf_addf(err, "pipe: %s", strerror(errno));
	for (i = 0; i < count; i++) {
		if (rfd[i] >= 0)
			close(rfd[i]);
		if (wfd[i] >= 0)
			close(wfd[i]);
	}
	return -1;
}

static struct batch *batch_new(struct engine *e, unsigned count)
{
	struct batch *b = xcalloc(1, sizeof(*b));

	b->size = BATCH_HDR + (size_t)count * wslot_size(e->nbits);
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		free(b);
		return NULL;
	}
	e->batches = xrealloc(e->batches, (e->nbatches + 1) * sizeof(*e->batches));
	e->batches[e->nbatches++] = b;
	return b;
}

static void discard(struct engine *e, size_t first)
{
	size_t i;

	for (i = first; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		atomic_store(&w->slot->stop, 1);
		kill(w->pid, SIGKILL);
		w->discarded = true;
		w->stopping = true;
		w->killed = true;
	}
}

static void close_pipes(unsigned count, int *rfd, int *wfd)
{
	unsigned i;

	for (i = 0; i < count; i++) {
		if (rfd[i] >= 0)
			close(rfd[i]);
		if (wfd[i] >= 0)
			close(wfd[i]);
	}
	free(rfd);
	free(wfd);
}

/* Fork worker i of a batch whose slots start at base, into e->ws; -1
 * with err when fork fails. */
static int fork_worker(struct engine *e, size_t cgi, unsigned i, unsigned count,
		       char *base, _Atomic uint32_t *go, const int *rfd, const int *wfd,
		       struct strbuf *err)
{
	struct cgroup *cg = &e->cgs[cgi];
	const struct work_spec *spec = &cg->def->work;
	size_t ssz = wslot_size(e->nbits);
	struct wslot *s = (struct wslot *)(base + i * ssz);
	struct wctx w = {
		.self = s,
		.rfd = rfd ? rfd[i] : -1,
		.wfd = wfd ? wfd[i] : -1,
		.lock = &e->ctl->locks[cg->lock].word,
		.epoch = &e->ctl->epoch,
		.spec = spec,
		.cg_cpus = wslot_allowed(s),
		.nbits = e->nbits,
	};
	struct worker *wk;
	pid_t pid;

	memcpy(wslot_allowed(s), cg->effective, MASK_WORDS(e->nbits) * sizeof(uint64_t));
	wire(&w, spec, i, count, base, ssz);
	pid = fork();
	if (pid == 0) {
		worker_name(cg->name);
		worker_child(&w, go, work_lookup(spec->type));
	}
	if (pid < 0) {
		strbuf_addf(err, "fork: %s", strerror(errno));
		return -1;
	}
	wk = &e->ws[e->nws++];
	memset(wk, 0, sizeof(*wk));
	wk->pid = pid;
	wk->slot = s;
	wk->cg = cgi;
	wk->origin = cgi;
	wk->def = cg->def;
	wk->index = cg->next_index++;
	return 0;
}

/* Move the workers from first on into their cgroup, set policy and nice,
 * pin them; -1 with err at the first failure. */
static int place_workers(struct engine *e, size_t cgi, size_t first, struct strbuf *err)
{
	const struct cgroup *cg = &e->cgs[cgi];
	size_t i;

	for (i = first; i < e->nws; i++) {
		const struct worker *wk = &e->ws[i];

		if (cgfs_attach(cg->name, wk->pid, err) < 0 ||
		    apply_policy(cg->def, wk->pid, err) < 0 ||
		    (cg->def->pinned && pin(e, wk, err) < 0))
			return -1;
	}
	return 0;
}

long workers_spawn(struct engine *e, size_t cgi, unsigned count,
		   _Atomic uint32_t **go, struct strbuf *err)
{
	const struct work_spec *spec = &e->cgs[cgi].def->work;
	size_t first = e->nws;
	int *rfd = NULL, *wfd = NULL;
	struct batch *b;
	char *base;
	unsigned i;
	long ret = (long)first;

	if (!count)
		return ret;
	b = batch_new(e, count);
	if (!b) {
		strbuf_addf(err, "mmap of %u worker slots: %s", count, strerror(errno));
		return -1;
	}
	base = (char *)b->map + BATCH_HDR;
	if (!*go)
		*go = (_Atomic uint32_t *)b->map;
	if (spec->type == WORK_PIPE_IO) {
		rfd = xcalloc(count, sizeof(*rfd));
		wfd = xcalloc(count, sizeof(*wfd));
		if (make_pipes(count, rfd, wfd, err) < 0) {
			free(rfd);
			free(wfd);
			return -1;
		}
	}
	if (e->nws + count > e->ws_alloc) {
		e->ws_alloc = (e->nws + count) * 2;
		e->ws = xrealloc(e->ws, e->ws_alloc * sizeof(*e->ws));
	}
	for (i = 0; i < count && ret >= 0; i++)
		if (fork_worker(e, cgi, i, count, base, *go, rfd, wfd, err) < 0)
			ret = -1;
	if (rfd)
		close_pipes(count, rfd, wfd);
	if (ret >= 0 && place_workers(e, cgi, first, err) < 0)
		ret = -1;
	if (ret < 0)
		discard(e, first);
	return ret;
}

void workers_release(_Atomic uint32_t *go)
{
	atomic_store_explicit(go, 1, memory_order_release);
	futex_wake_n(go, INT_MAX);
}

static void signal_stop(struct worker *w)
{
	if (!w->stop_ns)
		w->stop_ns = now_ns();
	atomic_store(&w->slot->stop, 1);
	futex_wake_n(&w->slot->ping, INT_MAX);
	futex_wake_n(&w->slot->ack, INT_MAX);
	kill(w->pid, SIGUSR1);
}

void workers_stop(struct engine *e, bool (*select)(const struct engine *e,
		  const struct worker *w, const void *arg), const void *arg)
{
	size_t *sel = NULL, nsel = 0, i;
	long long deadline = monotonic_ms() + STOP_WAIT_MS;
	bool killed = false;

	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		if (w->exited || (select && !select(e, w, arg)))
			continue;
		sel = xrealloc(sel, (nsel + 1) * sizeof(*sel));
		sel[nsel++] = i;
		if (!w->stopping) {
			w->stopping = true;
			signal_stop(w);
		}
	}
	for (;;) {
		struct pollfd pfd = { .fd = e->ag->sigfd, .events = POLLIN };
		size_t left = 0;
		long long now;

		engine_reap(e);
		for (i = 0; i < nsel; i++)
			left += !e->ws[sel[i]].exited;
		if (!left)
			break;
		now = monotonic_ms();
		if (now >= deadline) {
			if (killed) {
				diag("%zu worker(s) still not reaped %d ms after SIGKILL",
				     left, KILL_WAIT_MS);
				break;
			}
			for (i = 0; i < nsel; i++) {
				struct worker *w = &e->ws[sel[i]];

				if (!w->exited) {
					vlog("worker %d did not stop; killing it", (int)w->pid);
					w->killed = true;
					kill(w->pid, SIGKILL);
				}
			}
			killed = true;
			deadline = now + KILL_WAIT_MS;
			continue;
		}
		poll(&pfd, 1, RESIGNAL_MS);
		sched_poll(e, false);
		for (i = 0; i < nsel && !killed; i++)
			if (!e->ws[sel[i]].exited)
				signal_stop(&e->ws[sel[i]]);
	}
	free(sel);
}

/* Exited but not reaped: waitid with WNOWAIT leaves the zombie (and its
 * /proc entry) alone and does not touch the engine's SIGCHLD signalfd. */
static bool exited_unreaped(const struct worker *w)
{
	siginfo_t si = { 0 };

	if (w->exited)
		return true;
	if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return si.si_pid == w->pid;
}

bool workers_stop_unreaped(struct engine *e)
{
	long long start = monotonic_ms(), deadline = start + STOP_WAIT_MS, resignal;
	size_t i;

	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		if (!w->exited && !w->discarded && !w->stopping) {
			w->stopping = true;
			signal_stop(w);
		}
	}
	resignal = start + RESIGNAL_MS;
	for (;;) {
		struct timespec ts = { .tv_nsec = HOLD_POLL_MS * 1000000L };
		long long now;
		bool left = false;

		for (i = 0; i < e->nws && !left; i++)
			left = !e->ws[i].discarded && !exited_unreaped(&e->ws[i]);
		if (!left)
			return true;
		now = monotonic_ms();
		if (now >= deadline)
			return false;
		if (now >= resignal) {
			for (i = 0; i < e->nws; i++)
				if (!e->ws[i].discarded && !exited_unreaped(&e->ws[i]))
					signal_stop(&e->ws[i]);
			resignal = now + RESIGNAL_MS;
		}
		/* Not the signalfd: SIGCHLD stays pending there until the
		 * reap, so polling it would spin. */
		nanosleep(&ts, NULL);
	}
}

bool workers_on_exit(struct engine *e, pid_t pid, int status)
{
	size_t i;

	for (i = e->nws; i-- > 0;) {
		struct worker *w = &e->ws[i];

		if (w->pid == pid && !w->exited) {
			w->exited = true;
			w->status = status;
			w->exit_ns = now_ns();
			return true;
		}
	}
	return false;
}

void epoch_begin(struct engine *e)
{
	atomic_fetch_add(&e->ctl->epoch, 1);
}

void epoch_end(struct engine *e)
{
	atomic_fetch_add(&e->ctl->epoch, 1);
}

void workers_refresh_allowed(struct engine *e)
{
	size_t i, k;

	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];
		uint64_t *dst = wslot_allowed(w->slot);
		const uint64_t *src = e->cgs[w->cg].effective;

		if (w->exited || w->discarded)
			continue;
		for (k = 0; k < MASK_WORDS(e->nbits); k++)
			__atomic_store_n(&dst[k], src[k], __ATOMIC_RELAXED);
	}
}

void workers_release_all(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->nbatches; i++) {
		munmap(e->batches[i]->map, e->batches[i]->size);
		free(e->batches[i]);
	}
	free(e->batches);
	e->batches = NULL;
	e->nbatches = 0;
}
