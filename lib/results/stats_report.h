/* Rendering the run history for ktstr-stats list/show: aligned tables
 * for people, JSON lines for programs (ktstr-records(7), "RECORDS FROM
 * ktstr-stats": run, case).  compare's report is compare_report.h. */
#ifndef KTSTR_STATS_REPORT_H
#define KTSTR_STATS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "compare.h"
#include "sidecar.h"
#include "strbuf.h"

/* list: columns RUN, LABEL, KERNEL, SCHEDULERS, TESTS, DATE, ARCH, or
 * "run" records. */
void stats_report_runs(const struct sidecar_run *v, size_t n, bool json,
		       struct strbuf *out);

/* show: one line per sidecar of set matching f (may be NULL): case,
 * repeat, result and the key metrics, or "case" records.  run names the
 * run in the records.  Returns how many were shown. */
size_t stats_report_cases(const char *run, const struct sidecar_set *set,
			  const struct compare_filter *f, bool json, struct strbuf *out);

/* The "case" record of one sidecar (new reference). */
json_t *stats_case_json(const char *run, const struct sidecar *s);

#endif
