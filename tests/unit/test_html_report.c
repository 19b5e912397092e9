/* Unit tests for lib/results/html_report.c: the page's counts, one row per
 * case with its verdict, escaping of every text a case brings (names,
 * reasons, log lines with <>&"), links and the plot only when given, and a
 * page html5lib's strict parser accepts (python3-html5lib). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "diag.h"
#include "fsutil.h"
#include "html_report.h"

static const char *const kernels[] = { "6.12.3" };
static const char *const scheds[] = { "scx_simple", "eevdf" };

static const struct html_summary summary = {
	.title = "nightly <main> & \"co\"", .run_id = "20261206-1", .host = "box: 2 CPUs",
	.started = "2026-12-06 04:00:00 UTC", .kernels = kernels, .n_kernels = 1,
	.schedulers = scheds, .n_schedulers = 2, .wall_secs = 75.5,
};

static const struct html_case cases[] = {
	{ .name = "s steady/tiny-1llc", .kernel = "6.12.3", .scheduler = "eevdf",
	  .preset = "tiny-1llc", .status = HTML_PASS, .secs = 11.34, .attempts = 1,
	  .links = { { "sidecar", "cases/001-s.sidecar.json" } }, .n_links = 1 },
	{ .name = "s <gap>&\"co\"/tiny", .status = HTML_FAIL, .secs = 12, .attempts = 2,
	  .reason = "max gap 900 ms > 500 ms <cg_0>",
	  .detail = "--- verdict ---\n  </pre><script>alert(1)</script> & more\n",
	  .plot = "cases/002-s.svg",
	  .links = { { "sidecar", "cases/002-s.sidecar.json" },
		     { "trace", "cases/002-s.trace.json?a=1&b=2" } }, .n_links = 2 },
	{ .name = "s huge/-", .status = HTML_SKIP, .reason = "no preset fits" },
	{ .name = "s boot/tiny", .status = HTML_ERROR, .secs = 3, .attempts = 2,
	  .reason = "the VM never reached the agent" },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_render(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	html_report_render(&sb, &summary, cases, N_CASES);
	assert_int_equal(strncmp(sb.buf, "<!DOCTYPE html>", 15), 0);
	/* one row per case, each with its verdict */
	assert_int_equal(count(sb.buf, "<tr class=\"case "), N_CASES);
	assert_non_null(strstr(sb.buf, "<tr class=\"case pass\" id=\"row-1\">"));
	assert_non_null(strstr(sb.buf, "<tr class=\"case fail\" id=\"row-2\">"));
	assert_non_null(strstr(sb.buf, "<tr class=\"case skip\" id=\"row-3\">"));
	assert_non_null(strstr(sb.buf, "<tr class=\"case error\" id=\"row-4\">"));
	/* the counts, and no interrupted tile when none was */
	assert_non_null(strstr(sb.buf, "id=\"count-fail\"><b>1</b>failed"));
	assert_non_null(strstr(sb.buf, "id=\"count-pass\"><b>1</b>passed"));
	assert_null(strstr(sb.buf, "count-intr"));
	assert_non_null(strstr(sb.buf, "<b>4</b>cases"));
	/* everything a case or the run brings is escaped */
	assert_non_null(strstr(sb.buf, "nightly &lt;main&gt; &amp; &quot;co&quot;"));
	assert_non_null(strstr(sb.buf, "s &lt;gap&gt;&amp;&quot;co&quot;/tiny"));
	assert_non_null(strstr(sb.buf, "max gap 900 ms &gt; 500 ms &lt;cg_0&gt;"));
	assert_non_null(strstr(sb.buf, "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_null(strstr(sb.buf, "<script"));
	assert_non_null(strstr(sb.buf, "href=\"cases/002-s.trace.json?a=1&amp;b=2\""));
	/* a pass has no section; the failure has its block and its plot */
	assert_null(strstr(sb.buf, "id=\"case-1\""));
	assert_non_null(strstr(sb.buf, "<section class=\"case fail\" id=\"case-2\">"));
	assert_non_null(strstr(sb.buf, "<a href=\"#case-2\">"));
	assert_int_equal(count(sb.buf, "<img "), 1);
	assert_non_null(strstr(sb.buf, "src=\"cases/002-s.svg\""));
	assert_non_null(strstr(sb.buf, "2 attempts"));
	assert_non_null(strstr(sb.buf, "1m 15.5s"));
	assert_non_null(strstr(sb.buf, "scx_simple, eevdf"));
	/* nothing outside the page */
	assert_null(strstr(sb.buf, "http://"));
	assert_null(strstr(sb.buf, "https://"));
	assert_null(strstr(sb.buf, "<link"));
	strbuf_release(&sb);
}

static void test_empty_and_interrupted(void **state)
{
	struct html_summary s = summary;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	s.interrupted = true;
	s.n_kernels = s.n_schedulers = 0;
	s.host = NULL;
	html_report_render(&sb, &s, NULL, 0);
	assert_int_equal(count(sb.buf, "<tr class=\"case "), 0);
	assert_non_null(strstr(sb.buf, "<b>interrupted</b>"));
	assert_non_null(strstr(sb.buf, "<b>0</b>cases"));
	assert_null(strstr(sb.buf, "<h2>Details</h2>"));
	strbuf_release(&sb);
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* html5lib's strict mode raises on any parse error the HTML5 algorithm
 * reports; the same check turns down a broken page, so it can fail. */
static void test_parses(void **state)
{
	static const char fmt[] = "%s -c 'import sys, html5lib; "
		"html5lib.HTMLParser(strict=True).parse(open(sys.argv[1], \"rb\"))' %s 2>/dev/null";
	char dir[] = "/tmp/ktstr-test-html.XXXXXX";
	struct strbuf sb = STRBUF_INIT;
	const char *py = NULL;
	char *path, *cmd;

	(void)state;
	/* Debian's python3 has python3-html5lib; one earlier in PATH (pyenv)
	 * may not. */
	if (run("python3 -c 'import html5lib' 2>/dev/null") == 0)
		py = "python3";
	else if (run("/usr/bin/python3 -c 'import html5lib' 2>/dev/null") == 0)
		py = "/usr/bin/python3";
	else
		fail_msg("python3 cannot import html5lib: run contrib/install-deps "
			 "(python3-html5lib)");
	assert_non_null(mkdtemp(dir));
	html_report_render(&sb, &summary, cases, N_CASES);
	path = xasprintf("%s/index.html", dir);
	assert_int_equal(write_file_atomic(path, sb.buf, sb.len, 0644), 0);
	cmd = xasprintf(fmt, py, path);
	assert_int_equal(run(cmd), 0);
	free(cmd);
	free(path);
	path = xasprintf("%s/bad.html", dir);
	assert_int_equal(write_file_atomic(path, "<!DOCTYPE html><p><b></p>x</i>", 30, 0644), 0);
	cmd = xasprintf(fmt, py, path);
	assert_int_not_equal(run(cmd), 0);
	free(cmd);
	free(path);
	strbuf_release(&sb);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_empty_and_interrupted),
		cmocka_unit_test(test_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
