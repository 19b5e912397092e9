/* ktstr-test --html DIR: the suite run as a static report.
 *
 *   DIR/index.html                  the page (lib/results/html_report)
 *   DIR/cases/NNN-STEM.sidecar.json the case's sidecar, copied
 *   DIR/cases/NNN-STEM.console.log  the guest's console log, copied
 *   DIR/cases/NNN-STEM.sched.log    the scheduler's output, when kept
 *   DIR/cases/NNN-STEM.records.jsonl  ktstr-vm's records, as they came
 *   DIR/cases/NNN-STEM.trace.json   ktstr-stats --trace of the records
 *
 * NNN is the case's place in the plan, so names stay unique and sort as
 * the page lists them.  Copies, not links: DIR is what a CI job publishes,
 * and the console logs and sidecars it points at live elsewhere (and the
 * console logs are pruned).  Every file is written atomically (temp file,
 * rename); the page last. */
#ifndef KTSTR_SUITE_HTML_H
#define KTSTR_SUITE_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include "html_report.h"
#include "runner.h"
#include "strbuf.h"
#include "strvec.h"

/* One finished case, as report_cb saw it; the files are its sources. */
struct suite_html_case {
	struct html_case h;
	size_t order;			/* plan index * repeats + repeat */
	char *sidecar, *console, *sched_log, *records;	/* or NULL */
};

struct suite_html {
	const char *dir;
	struct suite_html_case *v;
	size_t n;
	struct strvec text;		/* strings v[].h points at */
};

/* Create dir (and its parents) and check a file can be made in it, so a
 * bad --html fails before any case runs.  0, or -1 with err. */
int suite_html_prepare(const char *dir, struct strbuf *err);

/* Keep rep's case for the report: its name (label), kernel, scheduler, one-line
 * reason, failure block (detail, maybe empty) and files; order sorts the
 * page. */
void suite_html_add(struct suite_html *h, const struct case_report *rep, size_t order,
		    const char *label, const char *kernel, const char *sched,
		    const char *reason, const struct strbuf *detail);

/* Copy the cases' files, draw each case's pictures with stats_prog
 * (ktstr-stats), and write the page.  A case file that cannot be made is
 * one line and no link; 0, or -1 with err when the page cannot be
 * written. */
int suite_html_write(struct suite_html *h, const struct html_summary *s,
		     const char *stats_prog, struct strbuf *err);
void suite_html_release(struct suite_html *h);

#endif
