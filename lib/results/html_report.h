/* A suite run as one static HTML page (ktstr-test --html DIR), for a CI
 * job to publish: a summary (counts, kernels, schedulers, host, wall
 * time, run id and label), a table with one row per case (verdict, name,
 * time, why it did not pass, links to its files), then a section per case
 * that has something to show (the failure block, the plot).
 *
 * The page is self-contained: inline CSS, no script, no external
 * resource; links are relative to the page (the case files sit beside it
 * in DIR/cases/).  Every text is escaped (junit_escape: &<>"' and the
 * control characters; invalid UTF-8 becomes U+FFFD), so case names,
 * reasons and log lines cannot break the markup. */
#ifndef KTSTR_HTML_REPORT_H
#define KTSTR_HTML_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

enum html_status { HTML_PASS, HTML_FAIL, HTML_SKIP, HTML_ERROR, HTML_INTR };

/* A file of a case, linked from its row: what it is and where, relative
 * to the page. */
struct html_link {
	const char *what;	/* "sidecar", "console log", ... */
	const char *href;
};

#define HTML_MAX_LINKS 6

struct html_case {
	const char *name;		/* full name, " #R" for repeats */
	const char *kernel, *scheduler, *preset;	/* or NULL */
	enum html_status status;
	double secs;
	unsigned attempts;
	const char *reason;		/* one line: why it did not pass, or NULL */
	const char *detail;		/* the failure block, or NULL */
	const char *plot;		/* an image to embed, or NULL */
	struct html_link links[HTML_MAX_LINKS];
	size_t n_links;
};

struct html_summary {
	const char *title;		/* the run's label */
	const char *run_id;
	const char *host;		/* one line, or NULL */
	const char *started;		/* UTC, ISO 8601, or NULL */
	const char *const *kernels;
	size_t n_kernels;
	const char *const *schedulers;
	size_t n_schedulers;
	double wall_secs;
	bool interrupted;
};

/* "PASS", "FAIL", ...; and the CSS class: "pass", "fail", ... */
const char *html_status_word(enum html_status s);
const char *html_status_class(enum html_status s);

/* The whole page, cases in the order given. */
void html_report_render(struct strbuf *out, const struct html_summary *s,
			const struct html_case *c, size_t n);

#endif
