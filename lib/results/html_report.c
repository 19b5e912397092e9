#include "html_report.h"
#include "junit.h"

#include <stdio.h>
#include <string.h>

/* One colour per verdict, the same in the counts, the badges and the row
 * edge, so a failure stands out wherever the eye lands. */
static const char css[] =
	"*{box-sizing:border-box}"
	"body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
	"'DejaVu Sans',sans-serif;color:#1f2328;background:#f6f8fa}"
	"main{max-width:1180px;margin:0 auto}"
	"h1{font-size:22px;margin:0 0 4px}"
	"h2{font-size:17px;margin:28px 0 10px}"
	"h3{font-size:15px;margin:0 0 6px;display:flex;gap:8px;align-items:center}"
	".sub{color:#59636e;margin:0 0 16px}"
	".counts{display:flex;gap:10px;flex-wrap:wrap;margin:0 0 16px}"
	".count{background:#fff;border:1px solid #d1d9e0;border-left:6px solid;"
	"border-radius:6px;padding:8px 14px;min-width:110px}"
	".count b{display:block;font-size:24px;line-height:1.1}"
	".count.pass{border-left-color:#1a7f37}.count.fail{border-left-color:#cf222e}"
	".count.error{border-left-color:#bc4c00}.count.skip{border-left-color:#818b98}"
	".count.intr{border-left-color:#8250df}.count.total{border-left-color:#0969da}"
	"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d1d9e0;"
	"border-radius:6px;overflow:hidden}"
	"th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e6eaef;"
	"vertical-align:top}"
	"th{background:#f0f3f6;font-weight:600}"
	"table.meta{width:auto;min-width:50%}"
	"table.meta th{width:9em}"
	"tr.case td:first-child{border-left:4px solid transparent}"
	"tr.case.pass td:first-child{border-left-color:#1a7f37}"
	"tr.case.fail td:first-child{border-left-color:#cf222e}"
	"tr.case.error td:first-child{border-left-color:#bc4c00}"
	"tr.case.skip td:first-child{border-left-color:#818b98}"
	"tr.case.intr td:first-child{border-left-color:#8250df}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"td.name{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px;"
	"white-space:nowrap}"
	".links a{margin-right:10px;white-space:nowrap}"
	".badge{display:inline-block;min-width:52px;text-align:center;padding:1px 6px;"
	"border-radius:10px;color:#fff;font-size:12px;font-weight:700}"
	".badge.pass{background:#1a7f37}.badge.fail{background:#cf222e}"
	".badge.error{background:#bc4c00}.badge.skip{background:#818b98}"
	".badge.intr{background:#8250df}"
	".reason{color:#59636e}"
	"a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}"
	"section.case{background:#fff;border:1px solid #d1d9e0;border-radius:6px;"
	"padding:12px 16px;margin:0 0 14px}"
	"section.case .meta{color:#59636e;margin:0 0 8px}"
	"pre{background:#f6f8fa;border:1px solid #e6eaef;border-radius:6px;padding:10px;"
	"margin:8px 0;overflow:auto;max-height:480px;font:12px/1.4 ui-monospace,"
	"'DejaVu Sans Mono',monospace;white-space:pre}"
	"img.plot{max-width:100%;border:1px solid #e6eaef;border-radius:6px}"
	"footer{color:#59636e;margin:28px 0 0;font-size:12px}";

static const char *const words[] = { "PASS", "FAIL", "SKIP", "ERROR", "INTR" };
static const char *const classes[] = { "pass", "fail", "skip", "error", "intr" };
static const char *const count_names[] = { "passed", "failed", "skipped", "errors",
					   "interrupted" };
#define N_STATUS (sizeof(words) / sizeof(words[0]))

const char *html_status_word(enum html_status s)
{
	return (size_t)s < N_STATUS ? words[s] : "?";
}

const char *html_status_class(enum html_status s)
{
	return (size_t)s < N_STATUS ? classes[s] : "intr";
}

static void esc(struct strbuf *out, const char *s)
{
	junit_escape(out, s ? s : "");
}

/* "1m 05.2s" for the long runs a suite takes, "11.34s" for one case. */
static void add_secs(struct strbuf *out, double secs)
{
	if (secs >= 60)
		strbuf_addf(out, "%dm %04.1fs", (int)(secs / 60), secs - 60 * (int)(secs / 60));
	else
		strbuf_addf(out, "%.2fs", secs);
}

static void add_list(struct strbuf *out, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		esc(out, v[i]);
	}
	if (!n)
		strbuf_addstr(out, "&mdash;");
}

static void meta_row(struct strbuf *out, const char *what, const char *val)
{
	strbuf_addf(out, "<tr><th>%s</th><td>", what);
	if (val)
		esc(out, val);
	else
		strbuf_addstr(out, "&mdash;");
	strbuf_addstr(out, "</td></tr>\n");
}

static void summary(struct strbuf *out, const struct html_summary *s,
		    const struct html_case *c, size_t n)
{
	size_t counts[N_STATUS] = { 0 }, i;

	for (i = 0; i < n; i++)
		if ((size_t)c[i].status < N_STATUS)
			counts[c[i].status]++;
	strbuf_addstr(out, "<h1>ktstr run ");
	esc(out, s->title);
	strbuf_addstr(out, "</h1>\n<p class=\"sub\">");
	strbuf_addf(out, "%zu case%s", n, n == 1 ? "" : "s");
	if (s->started) {
		strbuf_addstr(out, ", started ");
		esc(out, s->started);
	}
	strbuf_addstr(out, ", wall time ");
	add_secs(out, s->wall_secs);
	if (s->interrupted)
		strbuf_addstr(out, " &mdash; <b>interrupted</b>: cases that had not finished are "
			      "missing");
	strbuf_addstr(out, "</p>\n<div class=\"counts\">\n");
	strbuf_addf(out, "<div class=\"count total\"><b>%zu</b>cases</div>\n", n);
	for (i = 0; i < N_STATUS; i++)
		/* An interrupted count only when there is one: it is rare. */
		if (counts[i] || i != HTML_INTR)
			strbuf_addf(out, "<div class=\"count %s\" id=\"count-%s\"><b>%zu</b>%s"
				    "</div>\n", classes[i], classes[i], counts[i], count_names[i]);
	strbuf_addstr(out, "</div>\n<table class=\"meta\">\n");
	meta_row(out, "run id", s->run_id);
	meta_row(out, "label", s->title);
	strbuf_addstr(out, "<tr><th>kernels</th><td>");
	add_list(out, s->kernels, s->n_kernels);
	strbuf_addstr(out, "</td></tr>\n<tr><th>schedulers</th><td>");
	add_list(out, s->schedulers, s->n_schedulers);
	strbuf_addstr(out, "</td></tr>\n");
	meta_row(out, "host", s->host);
	strbuf_addstr(out, "</table>\n");
}

static bool has_section(const struct html_case *c)
{
	return c->detail || c->plot;
}

static void links(struct strbuf *out, const struct html_case *c)
{
	size_t i;

	for (i = 0; i < c->n_links; i++) {
		strbuf_addstr(out, "<a href=\"");
		esc(out, c->links[i].href);
		strbuf_addstr(out, "\">");
		esc(out, c->links[i].what);
		strbuf_addstr(out, "</a>");
	}
}

static void badge(struct strbuf *out, enum html_status s)
{
	strbuf_addf(out, "<span class=\"badge %s\">%s</span>", html_status_class(s),
		    html_status_word(s));
}

static void case_rows(struct strbuf *out, const struct html_case *c, size_t n)
{
	size_t i;

	strbuf_addstr(out, "<h2>Cases</h2>\n<table class=\"cases\">\n<thead><tr><th>verdict</th>"
		      "<th>case</th><th>time</th><th>why not a pass</th><th>files</th></tr>"
		      "</thead>\n<tbody>\n");
	for (i = 0; i < n; i++) {
		strbuf_addf(out, "<tr class=\"case %s\" id=\"row-%zu\"><td>",
			    html_status_class(c[i].status), i + 1);
		badge(out, c[i].status);
		strbuf_addstr(out, "</td><td class=\"name\">");
		if (has_section(&c[i]))
			strbuf_addf(out, "<a href=\"#case-%zu\">", i + 1);
		esc(out, c[i].name);
		if (has_section(&c[i]))
			strbuf_addstr(out, "</a>");
		strbuf_addstr(out, "</td><td class=\"num\">");
		if (c[i].secs > 0)
			add_secs(out, c[i].secs);
		if (c[i].attempts > 1)
			strbuf_addf(out, "<br>%u attempts", c[i].attempts);
		strbuf_addstr(out, "</td><td class=\"reason\">");
		esc(out, c[i].reason);
		strbuf_addstr(out, "</td><td class=\"links\">");
		links(out, &c[i]);
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</tbody>\n</table>\n");
}

/* "WHAT VALUE" in a case's meta line, after *sep; nothing when value is
 * NULL. */
static void meta_item(struct strbuf *out, const char **sep, const char *what,
		      const char *value)
{
	if (!value)
		return;
	strbuf_addf(out, "%s%s ", *sep, what);
	esc(out, value);
	*sep = " &middot; ";
}

static void case_section(struct strbuf *out, const struct html_case *c, size_t idx)
{
	const char *sep = "";

	strbuf_addf(out, "<section class=\"case %s\" id=\"case-%zu\">\n<h3>",
		    html_status_class(c->status), idx);
	badge(out, c->status);
	strbuf_addstr(out, "<span>");
	esc(out, c->name);
	strbuf_addstr(out, "</span></h3>\n<p class=\"meta\">");
	meta_item(out, &sep, "kernel", c->kernel);
	meta_item(out, &sep, "scheduler", c->scheduler);
	meta_item(out, &sep, "topology", c->preset);
	if (c->secs > 0) {
		strbuf_addstr(out, sep);
		add_secs(out, c->secs);
		sep = " &middot; ";
	}
	if (c->n_links) {
		strbuf_addf(out, "%s<span class=\"links\">", sep);
		links(out, c);
		strbuf_addstr(out, "</span>");
	}
	strbuf_addstr(out, "</p>\n");
	if (c->reason) {
		strbuf_addstr(out, "<p class=\"reason\">");
		esc(out, c->reason);
		strbuf_addstr(out, "</p>\n");
	}
	if (c->detail) {
		strbuf_addstr(out, "<pre>");
		esc(out, c->detail);
		strbuf_addstr(out, "</pre>\n");
	}
	if (c->plot) {
		strbuf_addstr(out, "<img class=\"plot\" alt=\"timeline of ");
		esc(out, c->name);
		strbuf_addstr(out, "\" src=\"");
		esc(out, c->plot);
		strbuf_addstr(out, "\">\n");
	}
	strbuf_addstr(out, "</section>\n");
}

void html_report_render(struct strbuf *out, const struct html_summary *s,
			const struct html_case *c, size_t n)
{
	bool any = false;
	size_t i;

	strbuf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>ktstr run ");
	esc(out, s->title);
	strbuf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
	summary(out, s, c, n);
	case_rows(out, c, n);
	for (i = 0; i < n; i++)
		any |= has_section(&c[i]);
	if (any)
		strbuf_addstr(out, "<h2>Details</h2>\n");
	for (i = 0; i < n; i++)
		if (has_section(&c[i]))
			case_section(out, &c[i], i + 1);
	strbuf_addstr(out, "<footer>Written by ktstr-test --html.  A case's trace opens in "
		      "Perfetto (ui.perfetto.dev) or chrome://tracing; its records feed "
		      "ktstr-stats; its sidecar, ktstr-stats show.</footer>\n"
		      "</main>\n</body>\n</html>\n");
}
