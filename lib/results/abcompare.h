/* The comparison that ends an A/B run of ktstr-test (several --scheduler
 * or --kernel values): the sidecars this run wrote, grouped by the
 * (kernel, scheduler) variant that produced them, compared with the
 * library behind `ktstr-stats compare` (compare.h, stats_report.h).
 *
 * Along each axis that varies, the first value is the baseline:
 *   schedulers: per kernel, scheduler 1 against each later one (only the
 *               tests whose scheduler is the placeholder take part);
 *   kernels:    kernel 1 against each later one, over every case; when
 *               schedulers vary too, per scheduler (and once for the
 *               tests with a scheduler of their own).
 * Cases are matched by "suite test/preset", as compare does, so the
 * sidecars of each side are grouped by the files written, never by
 * scheduler name: two builds of one scheduler compare fine. */
#ifndef KTSTR_ABCOMPARE_H
#define KTSTR_ABCOMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

#define ABCMP_OWN ((size_t)-1)	/* a test's own scheduler, not --scheduler */

struct abcmp_written {
	size_t kernel, sched;	/* indexes into the labels; sched may be ABCMP_OWN */
	char *path;		/* the sidecar */
};

struct abcmp {
	const char *const *kernels;	/* labels */
	size_t n_kernels;
	const char *const *scheds;
	size_t n_scheds;
	struct abcmp_written *v;
	size_t n;
};

void abcmp_add(struct abcmp *ab, size_t kernel, size_t sched, const char *path);
/* Whether an A/B comparison applies: more than one kernel or scheduler. */
bool abcmp_wanted(const struct abcmp *ab);
/* Run every comparison into out: per comparison a header line "A/B: A vs
 * B" then compare's table and summary line, or (json) compare's records,
 * whose compare_summary names the two sides.  A comparison with no
 * sidecar on one side (every case skipped or in error) is a note on
 * stderr, not an error.  Returns the regressions found in all. */
size_t abcmp_run(const struct abcmp *ab, bool json, struct strbuf *out);
void abcmp_release(struct abcmp *ab);

#endif
