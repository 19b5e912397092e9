/* Rendering a comparison of two runs (compare.h) for ktstr-stats compare:
 * an aligned table for a terminal, a Markdown table to paste into a
 * review, or JSON lines ("compare_row" and "compare_summary" records,
 * ktstr-records(7)).
 *
 * All three start from the same description of both runs (run id, label,
 * schedulers, kernels, accelerators, cases, samples, infrastructure
 * errors) and give every number with its unit, every change its verdict
 * (REGRESSION, improvement, noise, changed), and end with the counts. */
#ifndef KTSTR_COMPARE_REPORT_H
#define KTSTR_COMPARE_REPORT_H

#include <stdbool.h>
#include "compare.h"
#include "strbuf.h"

enum compare_format { COMPARE_FMT_TEXT, COMPARE_FMT_MARKDOWN, COMPARE_FMT_JSON };

/* Parse "text", "markdown" (or "md"), "json"; -1 for anything else. */
int compare_format_parse(const char *s, enum compare_format *out);

/* The report of r; a and b name the runs as given on the command line.
 * Rows shown: the regressions, improvements and the gated metrics' noise
 * and neutral changes (text, markdown), every gated metric that changed
 * (json); every row with all. */
void compare_report(const struct compare_result *r, const char *a, const char *b,
		    enum compare_format fmt, bool all, struct strbuf *out);

/* A number with its unit, as the reports show it: "700 ms", "6.5%",
 * "+287 ms" (with sign), "-" when NAN. */
void compare_fmt_value(char *buf, size_t len, double x, const char *unit, bool sign);

#endif
