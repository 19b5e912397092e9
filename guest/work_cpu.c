/* Work types made of spinning, yielding and sleeping: spin_wait,
 * yield_heavy, mixed, bursty and sequence.
 *
 * What one iteration is: spin_wait, a ~1 us chunk of spinning;
 * yield_heavy, a short spin and a sched_yield(); mixed, one spin/yield/
 * spin/sleep round; bursty, one burst (its sleep follows); sequence, one
 * pass over its phases. */
#include "engine.h"
#include "diag.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_CHUNK_NS 1000ull
#define YIELD_SPIN_NS 10000ull
#define MIXED_SPIN_NS 500000ull

void work_spin_wait(struct wctx *w)
{
	while (!w_stopping(w)) {
		w_spin(w, SPIN_CHUNK_NS);
		w_iter(w);
	}
}

void work_yield_heavy(struct wctx *w)
{
	while (!w_stopping(w)) {
		w_spin(w, YIELD_SPIN_NS);
		/* Still runnable across the yield: time spent waiting for
		 * the CPU back is a gap like any other. */
		sched_yield();
		w_iter(w);
	}
}

void work_mixed(struct wctx *w)
{
	/* The parser fills in the defaults; a sleep of 0 means none. */
	uint64_t sleep = w->spec->sleep_us * 1000;

	while (!w_stopping(w)) {
		w_spin(w, MIXED_SPIN_NS);
		sched_yield();
		w_spin(w, MIXED_SPIN_NS);
		w_iter(w);
		if (sleep && !w_stopping(w))
			w_sleep(w, sleep);
	}
}

void work_bursty(struct wctx *w)
{
	uint64_t burst = w->spec->burst_us * 1000, sleep = w->spec->sleep_us * 1000;

	while (!w_stopping(w)) {
		w_spin(w, burst);
		w_iter(w);
		if (sleep && !w_stopping(w))
			w_sleep(w, sleep);
	}
}

void work_sequence(struct wctx *w)
{
	unsigned bytes = w->spec->bytes ? w->spec->bytes : 4096;
	char *buf = NULL;
	int fd = -1;

	while (!w_stopping(w)) {
		size_t i;

		for (i = 0; i < w->spec->n_phases && !w_stopping(w); i++) {
			const struct work_phase *ph = &w->spec->phases[i];
			unsigned k;

			switch (ph->kind) {
			case PHASE_SPIN:
				w_spin(w, ph->us * 1000);
				break;
			case PHASE_SLEEP:
				w_sleep(w, ph->us * 1000);
				break;
			case PHASE_YIELD:
				for (k = 0; k < ph->count && !w_stopping(w); k++) {
					w_tick(w);
					sched_yield();
				}
				break;
			case PHASE_IO:
				for (k = 0; k < ph->count && !w_stopping(w); k++)
					w_io_once(w, &fd, &buf, bytes);
				break;
			}
		}
		w_tick(w);
		w_iter(w);
		/* A sequence of nothing but zero-length phases would spin
		 * here without ever sleeping; that is what it asked for. */
	}
	if (fd >= 0)
		close(fd);
	free(buf);
}
