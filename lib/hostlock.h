/* Host CPU reservations shared by every ktstr process on the machine.
 *
 * A VM run reserves host CPUs by holding an exclusive flock on
 * <lock dir>/ktstr-locks/cpu-<N>.lock for each CPU it will use, so two test
 * runners (or two jobs of one) never put more VMs on a CPU than it has.
 * The lock dir is KTSTR_LOCK_DIR, else /tmp.  The lock files stay; the
 * locks themselves die with the process that holds them, so a crash or
 * SIGKILL never leaves a CPU reserved.  KTSTR_BYPASS_LLC_LOCKS turns the
 * whole scheme off (only the runner's own --jobs bound remains). */
#ifndef KTSTR_HOSTLOCK_H
#define KTSTR_HOSTLOCK_H

#include <sched.h>
#include <stdbool.h>
#include "strbuf.h"

struct hostlock {
	unsigned n;		/* CPUs held */
	unsigned *cpus;		/* their numbers */
	int *fds;		/* their lock fds (-1 when bypassed) */
	cpu_set_t set;		/* the same as a mask, for sched_setaffinity */
};
#define HOSTLOCK_INIT { 0, NULL, NULL, { { 0 } } }

/* True when KTSTR_BYPASS_LLC_LOCKS is set (non-empty). */
bool hostlock_bypassed(void);
/* The CPUs this process may use (sched_getaffinity), at least 1. */
unsigned hostlock_usable_cpus(void);
/* <KTSTR_LOCK_DIR or /tmp>/ktstr-locks; caller frees. */
char *hostlock_dir(void);

/* Try, without blocking, to reserve slots CPUs among the usable ones.
 * Returns 1 when reserved (h filled), 0 when not enough are free right
 * now, -1 when the lock directory cannot be used (err set).  When
 * bypassed, always reserves (h->set covers every usable CPU). */
int hostlock_try(struct hostlock *h, unsigned slots, struct strbuf *err);
void hostlock_release(struct hostlock *h);

#endif
