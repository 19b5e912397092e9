/* Linux cpulists ("0-3,8,10-11"), the one parser and printer for them:
 * scenario cpusets and --cgroup flags on the host, cpuset.cpus.effective
 * and records in the guest.  Each caller keeps its own mask type (bools
 * on the host, 64-bit words in guest shared memory); the list grammar is
 * here. */
#ifndef KTSTR_CPULIST_H
#define KTSTR_CPULIST_H

#include <stdbool.h>
#include "strbuf.h"

enum cpulist_flags {
	/* As the kernel prints them in sysfs and cgroupfs: blanks around the
	 * list (the trailing newline) are ignored and an empty list is the
	 * empty set.  Without it the list is exact and must not be empty. */
	CPULIST_KERNEL = 1 << 0,
};

/* Called for each range lo-hi (inclusive, lo <= hi < ncpus) in order. */
typedef void cpulist_range_fn(unsigned lo, unsigned hi, void *arg);

/* Check list and call fn for its ranges; -1 with a reason in err (which
 * may be NULL) on bad syntax, a backwards range or a CPU >= ncpus.  On
 * error fn may already have seen the ranges before the bad one. */
int cpulist_scan(const char *list, unsigned ncpus, unsigned flags, cpulist_range_fn *fn,
		 void *arg, struct strbuf *err);

/* Cpulist text ("0-3,6") to a mask of ncpus bools (cleared first);
 * -1 with a reason on bad syntax or a CPU >= ncpus. */
int cpulist_parse(const char *s, bool *mask, unsigned ncpus, struct strbuf *err);

/* The canonical cpulist ("0-3,6") of the CPUs below ncpus for which
 * is_set(mask, cpu) holds; appends to out, nothing when none is set. */
void cpulist_format_by(const void *mask, unsigned ncpus,
		       bool (*is_set)(const void *mask, unsigned cpu), struct strbuf *out);
/* cpulist_format_by for a mask of bools. */
void cpulist_format(const bool *mask, unsigned ncpus, struct strbuf *out);

#endif
