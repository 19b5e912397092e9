#include "suite_html.h"
#include "diag.h"
#include "fsutil.h"
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int suite_html_prepare(const char *dir, struct strbuf *err)
{
	struct atomic_file af;
	char *probe;

	if (path_exists(dir) && !is_directory(dir)) {
		strbuf_addstr(err, "it is not a directory");
		return -1;
	}
	if (mkdir_p(dir, 0755) < 0) {
		strbuf_addf(err, "cannot create it: %s", strerror(errno));
		return -1;
	}
	/* The report is written after the run: find out now, not after an
	 * hour of VMs, that it cannot be. */
	probe = path_join(dir, "index.html");
	if (atomic_file_open(&af, probe, 0644) < 0) {
		strbuf_addf(err, "cannot write in it: %s", strerror(errno));
		free(probe);
		return -1;
	}
	atomic_file_abort(&af);
	free(probe);
	return 0;
}

static const char *keep(struct suite_html *h, const char *s)
{
	if (!s)
		return NULL;
	strvec_push(&h->text, s);
	return h->text.v[h->text.n - 1];
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static enum html_status status_of(enum case_outcome oc)
{
	switch (oc) {
	case CASE_PASS: return HTML_PASS;
	case CASE_FAIL: return HTML_FAIL;
	case CASE_SKIP: return HTML_SKIP;
	case CASE_ERROR: return HTML_ERROR;
	default: return HTML_INTR;
	}
}

void suite_html_add(struct suite_html *h, const struct case_report *rep, size_t order,
		    const char *label, const char *kernel, const char *sched,
		    const char *reason, const struct strbuf *detail)
{
	const struct caserun *r = rep->run;
	struct suite_html_case *c;

	h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	c = &h->v[h->n++];
	memset(c, 0, sizeof(*c));
	c->order = order;
	c->h.name = keep(h, label);
	c->h.kernel = keep(h, kernel);
	c->h.scheduler = keep(h, sched);
	c->h.preset = keep(h, rep->c->preset ? rep->c->preset->name : NULL);
	c->h.status = status_of(rep->outcome);
	c->h.secs = r ? rep->secs : 0;
	c->h.attempts = rep->attempts;
	/* A pass needs no reason, whatever the checks noted. */
	c->h.reason = rep->outcome == CASE_PASS ? NULL : keep(h, reason);
	c->h.detail = detail->len ? keep(h, detail->buf) : NULL;
	c->sidecar = dup_or_null(rep->sidecar);
	c->console = dup_or_null(r ? r->v.console_log : NULL);
	c->sched_log = dup_or_null(r ? r->sched_log : NULL);
	c->records = dup_or_null(r ? r->records_path : NULL);
}

static int by_order(const void *a, const void *b)
{
	const struct suite_html_case *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

/* "007-suite_steady_eevdf_tiny-1llc": the plan's place, then the name
 * with everything but [-_.A-Za-z0-9] made '_' (a safe file name and a
 * safe href). */
static char *case_stem(size_t idx, const char *name)
{
	return file_name_sanitize(xasprintf("%03zu-%s", idx, name));
}

static void add_link(struct suite_html *h, struct html_case *c, const char *what,
		     const char *href)
{
	if (c->n_links == HTML_MAX_LINKS)
		return;
	c->links[c->n_links].what = what;
	c->links[c->n_links++].href = keep(h, href);
}

/* Copy src to DIR/cases/STEM.SUFFIX and link it as what; a file that is
 * gone (a pruned console log) or cannot be copied is one line and no
 * link. */
static void copy_case_file(struct suite_html *h, struct html_case *c, const char *src,
			   const char *stem, const char *suffix, const char *what)
{
	struct strbuf buf = STRBUF_INIT;
	char *rel, *dst;

	if (!src)
		return;
	rel = xasprintf("cases/%s.%s", stem, suffix);
	dst = path_join(h->dir, rel);
	if (strbuf_read_file(&buf, src) < 0)
		diag("--html: %s: cannot read %s: %s; no %s link", c->name, src,
		     strerror(errno), what);
	else if (write_file_atomic(dst, buf.buf, buf.len, 0644) < 0)
		diag("--html: cannot write %s: %s; no %s link for %s", dst, strerror(errno),
		     what, c->name);
	else
		add_link(h, c, what, rel);
	strbuf_release(&buf);
	free(dst);
	free(rel);
}

/* The case's pictures, drawn from its records by one ktstr-stats: the
 * trace for Perfetto, linked, and the timeline as SVG, embedded as the
 * case's plot. */
static void draw_case(struct suite_html *h, struct html_case *c, const char *stats_prog,
		      const char *records, const char *stem)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *trace_rel = xasprintf("cases/%s.trace.json", stem);
	char *svg_rel = xasprintf("cases/%s.svg", stem);
	char *trace = path_join(h->dir, trace_rel), *svg = path_join(h->dir, svg_rel);
	int rc;

	strvec_push(&argv, stats_prog);
	strvec_pushf(&argv, "--trace=%s", trace);
	strvec_pushf(&argv, "--svg=%s", svg);
	strvec_push(&argv, records);
	/* Its exit code is the case's verdict; whether the files came is
	 * what counts here. */
	rc = run_capture(strvec_argv(&argv), &out, &err);
	if (is_regular_file(trace)) {
		add_link(h, c, "trace", trace_rel);
	} else {
		strbuf_trim(&err);
		diag("--html: %s: no trace (%s exited %d%s%s)", c->name, stats_prog, rc,
		     err.len ? ": " : "", err.buf);
	}
	if (is_regular_file(svg))
		c->plot = keep(h, svg_rel);
	else
		diag("--html: %s: no plot (%s exited %d)", c->name, stats_prog, rc);
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	free(trace);
	free(svg);
	free(trace_rel);
	free(svg_rel);
}

int suite_html_write(struct suite_html *h, const struct html_summary *s,
		     const char *stats_prog, struct strbuf *err)
{
	struct strbuf page = STRBUF_INIT;
	struct html_case *hc;
	char *cases = path_join(h->dir, "cases"), *index;
	size_t i;
	int rc = 0;

	if (mkdir_p(cases, 0755) < 0)
		diag("--html: cannot create %s: %s; the page will have no case files", cases,
		     strerror(errno));
	qsort(h->v, h->n, sizeof(*h->v), by_order);
	for (i = 0; i < h->n; i++) {
		struct suite_html_case *c = &h->v[i];
		char *stem = case_stem(i + 1, c->h.name);

		copy_case_file(h, &c->h, c->sidecar, stem, "sidecar.json", "sidecar");
		copy_case_file(h, &c->h, c->console, stem, "console.log", "console log");
		copy_case_file(h, &c->h, c->sched_log, stem, "sched.log", "scheduler log");
		if (c->records && is_regular_file(c->records)) {
			copy_case_file(h, &c->h, c->records, stem, "records.jsonl", "records");
			draw_case(h, &c->h, stats_prog, c->records, stem);
		}
		free(stem);
	}
	hc = xcalloc(h->n ? h->n : 1, sizeof(*hc));
	for (i = 0; i < h->n; i++)
		hc[i] = h->v[i].h;
	html_report_render(&page, s, hc, h->n);
	index = path_join(h->dir, "index.html");
	if (write_file_atomic(index, page.buf, page.len, 0644) < 0) {
		strbuf_addf(err, "cannot write %s: %s", index, strerror(errno));
		rc = -1;
	}
	free(index);
	free(hc);
	free(cases);
	strbuf_release(&page);
	return rc;
}

void suite_html_release(struct suite_html *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].sidecar);
		free(h->v[i].console);
		free(h->v[i].sched_log);
		free(h->v[i].records);
	}
	free(h->v);
	strvec_clear(&h->text);
	h->v = NULL;
	h->n = 0;
}
