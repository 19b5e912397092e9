/* A run's JUnit report from its sidecars (ktstr-stats junit): the same
 * testcases ktstr-test --junit writes, rebuilt from the history, so the
 * shards of a CI fleet end with one report. */
#ifndef KTSTR_JUNIT_SIDECARS_H
#define KTSTR_JUNIT_SIDECARS_H

#include <stddef.h>
#include "compare.h"
#include "junit.h"
#include "sidecar.h"

struct junit_sidecars {
	struct junit_case *v;
	size_t n;
	struct strvec text;	/* the names and messages v points into */
	char *timestamp;	/* the newest sidecar's, "" without */
};

/* One testcase per sidecar of set matching f, in set order: classname
 * the suite, name the case without its "suite " prefix (and " #R" when the run
 * repeated cases), time wall_ms, pass/fail/skip/error from result
 * (inconclusive is an error, as in ktstr-test), message and type the
 * first failed check's, else the reason. */
void junit_from_sidecars(const struct sidecar_set *set, const struct compare_filter *f,
			 struct junit_sidecars *out);
void junit_sidecars_release(struct junit_sidecars *j);

#endif
