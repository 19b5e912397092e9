/* Work types where workers wake each other: pipe_io, futex_ping_pong,
 * futex_fan_out, mutex_contention.
 *
 * The waker writes its clock to its own slot's wake_ts right before the
 * wake; the wakee's latency sample is its clock when it runs again minus
 * that.  Every wait is bounded (FUTEX_WAIT_NS) or interruptible by the
 * engine's SIGUSR1, so a worker whose partner stopped, moved away or died
 * still sees its own stop flag.  An unpaired worker (odd count) plays both
 * sides itself: it does the same system calls without ever blocking. */
#include "engine.h"
#include "diag.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Time a waiter spends working on each wake (fan-out) and the critical
 * section / outside work of mutex_contention. */
#define FAN_WORK_NS 20000ull
#define WAKER_WORK_NS 20000ull
#define LOCK_HOLD_NS 10000ull
#define LOCK_OUTSIDE_NS 10000ull

void futex_wait_bounded(_Atomic uint32_t *word, uint32_t val)
{
	struct timespec ts = { 0, (long)FUTEX_WAIT_NS };

	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, &ts, NULL, 0);
}

void futex_wake_n(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Wake whoever waits on peer's ping (which is self when unpaired). */
static void wake_peer(struct wctx *w, struct wslot *peer)
{
	atomic_store_explicit(&w->self->wake_ts, now_ns(), memory_order_relaxed);
	atomic_fetch_add_explicit(&peer->ping, 1, memory_order_release);
	futex_wake_n(&peer->ping, 1);
}

/* Block until our ping moves past *seen; false when asked to stop. */
static bool wait_ping(struct wctx *w, uint32_t *seen, struct wslot *waker)
{
	for (;;) {
		uint32_t v = atomic_load_explicit(&w->self->ping, memory_order_acquire);

		if (v != *seen) {
			uint64_t now = now_ns(), ts;

			*seen = v;
			ts = atomic_load_explicit(&waker->wake_ts, memory_order_relaxed);
			if (waker != w->self && ts && now > ts)
				w_wake_sample(w, now - ts);
			return true;
		}
		if (w_stopping(w))
			return false;
		w_block(w);
		futex_wait_bounded(&w->self->ping, v);
	}
}

void work_futex_ping_pong(struct wctx *w)
{
	struct wslot *peer = w->peer ? w->peer : w->self;
	uint32_t seen = 0;
	bool my_turn = w->leader || !w->peer;

	while (!w_stopping(w)) {
		if (my_turn) {
			w_tick(w);
			wake_peer(w, peer);
		}
		if (!wait_ping(w, &seen, peer))
			break;
		w_tick(w);
		w_iter(w);
		my_turn = true;
	}
	/* Do not leave the partner waiting for a turn that never comes. */
	if (w->peer)
		wake_peer(w, peer);
}

/* Whole-buffer pipe I/O; false on EOF, a stop, or an error (partner gone). */
static bool pipe_xfer(struct wctx *w, int fd, char *buf, size_t len, bool rd)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = rd ? read(fd, buf + done, len - done)
			       : write(fd, buf + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR && !w_stopping(w))
			continue;
		return false;
	}
	return true;
}

void work_pipe_io(struct wctx *w)
{
	unsigned bytes = w->spec->bytes ? w->spec->bytes : 64;
	char *buf;

	/* Unpaired, the worker writes its own pipe before reading it: the
	 * message must fit the pipe buffer. */
	if (!w->peer && bytes > 4096)
		bytes = 4096;
	buf = xcalloc(bytes, 1);
	struct wslot *peer = w->peer ? w->peer : w->self;
	bool my_turn = w->leader || !w->peer;

	while (!w_stopping(w)) {
		uint64_t now, ts;

		if (my_turn) {
			w_tick(w);
			atomic_store_explicit(&w->self->wake_ts, now_ns(), memory_order_relaxed);
			if (!pipe_xfer(w, w->wfd, buf, bytes, false))
				break;
		}
		w_block(w);
		if (!pipe_xfer(w, w->rfd, buf, bytes, true))
			break;
		now = now_ns();
		ts = atomic_load_explicit(&peer->wake_ts, memory_order_relaxed);
		if (w->peer && ts && now > ts)
			w_wake_sample(w, now - ts);
		w_tick(w);
		w_iter(w);
		my_turn = true;
	}
	free(buf);
	/* EOF or EPIPE: the partner is gone; idle until our own stop. */
	while (!w_stopping(w))
		w_sleep(w, FUTEX_WAIT_NS);
}

/* futex_fan_out.  The waker (first of each group of fan+1) bumps its own
 * ping, waking all waiters at once, and then waits until each has done a
 * little work and acknowledged; the last ack wakes it.  Both directions
 * give wake latency samples. */
static void fan_waker(struct wctx *w)
{
	struct wslot *s = w->self;

	while (!w_stopping(w)) {
		w_spin(w, WAKER_WORK_NS);
		if (!w->nfan) {
			w_iter(w);
			continue;
		}
		atomic_store_explicit(&s->ack, 0, memory_order_relaxed);
		atomic_store_explicit(&s->wake_ts, now_ns(), memory_order_relaxed);
		atomic_fetch_add_explicit(&s->ping, 1, memory_order_release);
		futex_wake_n(&s->ping, INT_MAX);
		for (;;) {
			uint32_t a = atomic_load_explicit(&s->ack, memory_order_acquire);

			if (a >= w->nfan) {
				uint64_t now = now_ns(),
					 ts = atomic_load_explicit(&s->ack_ts, memory_order_relaxed);

				if (ts && now > ts)
					w_wake_sample(w, now - ts);
				w_iter(w);
				break;
			}
			if (w_stopping(w))
				break;
			w_block(w);
			/* A timeout here means a waiter is gone (stopped or
			 * moved away): move on with the next round. */
			futex_wait_bounded(&s->ack, a);
			if (atomic_load_explicit(&s->ack, memory_order_acquire) == a &&
			    !w_stopping(w))
				break;
		}
	}
	/* Release waiters blocked on a round that will not come. */
	atomic_fetch_add_explicit(&s->ping, 1, memory_order_release);
	futex_wake_n(&s->ping, INT_MAX);
}

static void fan_waiter(struct wctx *w)
{
	struct wslot *waker = w->peer;
	/* Pings start at 0: a round the waker began before we got here is
	 * still seen. */
	uint32_t seen = 0;

	while (!w_stopping(w)) {
		uint32_t v = atomic_load_explicit(&waker->ping, memory_order_acquire);
		uint64_t now;

		if (v == seen) {
			w_block(w);
			futex_wait_bounded(&waker->ping, v);
			continue;
		}
		seen = v;
		now = now_ns();
		{
			uint64_t ts = atomic_load_explicit(&waker->wake_ts, memory_order_relaxed);

			if (ts && now > ts)
				w_wake_sample(w, now - ts);
		}
		w_spin(w, FAN_WORK_NS);
		w_iter(w);
		atomic_store_explicit(&waker->ack_ts, now_ns(), memory_order_relaxed);
		if (atomic_fetch_add_explicit(&waker->ack, 1, memory_order_acq_rel) + 1 >= w->nfan)
			futex_wake_n(&waker->ack, 1);
	}
}

void work_futex_fan_out(struct wctx *w)
{
	if (w->peer)
		fan_waiter(w);
	else
		fan_waker(w);
}

/* mutex_contention: a futex lock in shared memory (0 free, 1 locked,
 * 2 locked with waiters), Drepper's "mutex 2".  Hand-rolled rather than a
 * process-shared pthread mutex: no libpthread in the static agent, and
 * the bounded waits let a waiter notice its stop flag. */
static bool lock_acquire(struct wctx *w)
{
	uint32_t c = 0;

	if (atomic_compare_exchange_strong(w->lock, &c, 1))
		return true;
	if (c != 2)
		c = atomic_exchange(w->lock, 2);
	while (c != 0) {
		if (w_stopping(w))
			return false;
		w_block(w);
		futex_wait_bounded(w->lock, 2);
		c = atomic_exchange(w->lock, 2);
	}
	return true;
}

static void lock_release(struct wctx *w)
{
	if (atomic_fetch_sub(w->lock, 1) != 1) {
		atomic_store(w->lock, 0);
		futex_wake_n(w->lock, 1);
	}
}

void work_mutex_contention(struct wctx *w)
{
	while (!w_stopping(w)) {
		if (!lock_acquire(w))
			break;
		w_spin(w, LOCK_HOLD_NS);
		lock_release(w);
		w_iter(w);
		w_spin(w, LOCK_OUTSIDE_NS);
	}
}
