/* Rendering the run history for ktstr-stats list/show/compare: aligned
 * tables for people, JSON lines for programs (ktstr-records(7), "RECORDS
 * FROM ktstr-stats": run, case, compare_row, compare_summary). */
#ifndef KTSTR_STATS_REPORT_H
#define KTSTR_STATS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "compare.h"
#include "sidecar.h"
#include "strbuf.h"

/* list: columns RUN, TESTS, DATE, ARCH, or "run" records. */
void stats_report_runs(const struct sidecar_run *v, size_t n, bool json,
		       struct strbuf *out);

/* show: one line per sidecar of set matching f (may be NULL): case,
 * repeat, result and the key metrics, or "case" records.  run names the
 * run in the records.  Returns how many were shown. */
size_t stats_report_cases(const char *run, const struct sidecar_set *set,
			  const struct compare_filter *f, bool json, struct strbuf *out);

/* compare: the regressed and improved rows (every row when all) with
 * their REGRESSION / improvement marker, the one-sided cases, then the
 * summary line "compare: N cases, N regressions, N improvements"; or a
 * "compare_row" record per gated row that changed (every row when all)
 * and one "compare_summary". */
void stats_report_compare(const struct compare_result *r, const char *a, const char *b,
			  double alpha, bool json, bool all, struct strbuf *out);

/* The "case" record of one sidecar (new reference). */
json_t *stats_case_json(const char *run, const struct sidecar *s);

#endif
