/* Host CPU reservations shared by every ktstr process on the machine.
 *
 * A VM run reserves host CPUs by holding an exclusive flock on
 * <lock dir>/ktstr-locks/cpu-<N>.lock for each CPU it will use, so two test
 * runners (or two jobs of one) never put more VMs on a CPU than it has.
 * Host LLCs have locks too, llc-<first CPU>.lock: an ordinary run holds
 * the LLCs it uses shared, a performance-mode run holds whole LLCs
 * exclusive, so nothing else shares its caches.  CPUs are taken from as
 * few LLCs as possible (the fullest-fitting LLC first).
 *
 * The lock dir is KTSTR_LOCK_DIR, else /tmp.  The lock files stay; the
 * locks die with the process that holds them, so a crash or SIGKILL never
 * leaves a CPU reserved.  KTSTR_BYPASS_LLC_LOCKS turns the whole scheme off
 * (only the runner's own --jobs bound remains). */
#ifndef KTSTR_HOSTLOCK_H
#define KTSTR_HOSTLOCK_H

#include <sched.h>
#include <stdbool.h>
#include "strbuf.h"

struct hostlock {
	unsigned n;		/* CPUs held */
	unsigned *cpus;		/* their numbers */
	int *fds;		/* every lock fd held (CPUs and LLCs) */
	unsigned nfds;
	cpu_set_t set;		/* the CPUs as a mask, for sched_setaffinity */
};

/* True when KTSTR_BYPASS_LLC_LOCKS is set (non-empty). */
bool hostlock_bypassed(void);
/* The CPUs this process may use (sched_getaffinity), at least 1. */
unsigned hostlock_usable_cpus(void);
/* <KTSTR_LOCK_DIR or /tmp>/ktstr-locks; caller frees. */
char *hostlock_dir(void);
/* Make hostlock_dir() ready: KTSTR_LOCK_DIR may be made, but only in a
 * directory that exists (a mistyped path is not made whole: its locks
 * would be shared with no other run), and must be a directory;
 * ktstr-locks is made in it.  0 (also when bypassed), or -1 with one line
 * in err naming the variable.  hostlock_try checks the same; a runner
 * calls it before its first case. */
int hostlock_dir_check(struct strbuf *err);

/* Try, without blocking, to reserve slots CPUs among the usable ones;
 * with whole_llcs, whole host LLCs (every CPU in them) until slots are
 * covered.  Returns 1 when reserved (h filled), 0 when not enough are free
 * right now, -1 when the lock directory cannot be used (err set).  When
 * bypassed, always reserves (h->set covers every usable CPU). */
int hostlock_try(struct hostlock *h, unsigned slots, bool whole_llcs, struct strbuf *err);
void hostlock_release(struct hostlock *h);

/* hostlock_try on a given CPU set and LLC map (as hostllc_map makes it;
 * tests). */
int hostlock_try_on(struct hostlock *h, unsigned slots, bool whole_llcs,
		    const cpu_set_t *usable, const int llc_of[CPU_SETSIZE],
		    struct strbuf *err);

#endif
