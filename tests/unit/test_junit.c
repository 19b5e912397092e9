/* Unit tests for lib/results/junit.c: escaping and the rendered document, which
 * must be well-formed XML 1.0 (checked with python3's minidom, and with
 * xmllint too when it is installed). */
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
#include "junit.h"
#include "junit_sidecars.h"

#define FFFD "\xef\xbf\xbd"

static void esc(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	junit_escape(&sb, in);
	if (strcmp(sb.buf, want))
		fail_msg("junit_escape: got \"%s\", want \"%s\"", sb.buf, want);
	strbuf_release(&sb);
}

static void test_escape(void **state)
{
	(void)state;
	esc("", "");
	esc("plain", "plain");
	esc("a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&apos;");
	esc("]]>", "]]&gt;");
	esc("tab\there\nnl", "tab\there\nnl");
	/* control characters XML 1.0 cannot carry */
	esc("a\x01" "b\x1f" "c\r" "d\x1b[0m", "a" FFFD "b" FFFD "c" FFFD "d" FFFD "[0m");
	/* valid UTF-8 passes through */
	esc("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80");
	/* invalid UTF-8: stray continuation, truncated, overlong, surrogate,
	 * beyond U+10FFFF, bad lead bytes */
	esc("a\x80z", "a" FFFD "z");
	esc("a\xc3", "a" FFFD);
	esc("a\xe2\x9c", "a" FFFD FFFD);
	esc("\xc0\xaf", FFFD FFFD);
	esc("\xe0\x80\xaf", FFFD FFFD FFFD);
	esc("\xed\xa0\x80", FFFD FFFD FFFD);
	esc("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	esc("\xfe\xff", FFFD FFFD);
	/* noncharacters U+FFFE / U+FFFF are not XML Chars */
	esc("\xef\xbf\xbe\xef\xbf\xbf", FFFD FFFD);
	esc(NULL, "");
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const struct junit_case cases[] = {
	{ "smoke", "steady/tiny-1llc", JUNIT_PASS, 12.3456, NULL, NULL, NULL, NULL },
	{ "smoke", "steady/tiny-2llc", JUNIT_FAIL, 13.0,
	  "spread 40% > 15% in cg_0 <bad> & \"worse\"",
	  "cg_0: spread 40%\n\x01 raw control\xff and\tbad UTF-8\n]]> end", "console\x07 log",
	  "spread" },
	{ "other", "cpuset/-", JUNIT_SKIP, 0, "no preset satisfies min_llcs=8", NULL, NULL,
	  NULL },
	{ "smoke", "boom/tiny-1llc", JUNIT_ERROR, -1, "VM did not boot", NULL, NULL, NULL },
	{ NULL, "anon/x", JUNIT_PASS, 1, NULL, NULL, "out", NULL },
};

static void test_render(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	(void)state;
	junit_render(&sb, "ktstr-test", cases, ARRAY_SIZE(cases), "2026-11-22T13:36:46Z");
	assert_int_equal(strncmp(sb.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39), 0);
	assert_non_null(strstr(sb.buf, "<testsuites name=\"ktstr-test\" tests=\"5\" failures=\"1\" "
				       "errors=\"1\" skipped=\"1\" time=\"26.346\">"));
	assert_non_null(strstr(sb.buf, "<testsuite name=\"smoke\" tests=\"3\" failures=\"1\" "
				       "errors=\"1\" skipped=\"0\" time=\"25.346\" "
				       "timestamp=\"2026-11-22T13:36:46Z\">"));
	assert_non_null(strstr(sb.buf, "<testsuite name=\"other\" tests=\"1\" failures=\"0\" "
				       "errors=\"0\" skipped=\"1\""));
	assert_non_null(strstr(sb.buf, "<testsuite name=\"ktstr\" tests=\"1\""));
	assert_non_null(strstr(sb.buf, "<testcase classname=\"smoke\" name=\"steady/tiny-1llc\" "
				       "time=\"12.346\"/>"));
	assert_non_null(strstr(sb.buf, "<failure message=\"spread 40% &gt; 15% in cg_0 "
				       "&lt;bad&gt; &amp; &quot;worse&quot;\" type=\"spread\">"
				       "cg_0: spread 40%\n" FFFD " raw control" FFFD
				       " and\tbad UTF-8\n]]&gt; end</failure>"));
	assert_non_null(strstr(sb.buf, "<system-out>console" FFFD " log</system-out>"));
	assert_non_null(strstr(sb.buf, "<skipped message=\"no preset satisfies min_llcs=8\"/>"));
	assert_non_null(strstr(sb.buf, "<error message=\"VM did not boot\" type=\"error\"/>"));
	assert_non_null(strstr(sb.buf, "name=\"boom/tiny-1llc\" time=\"0.000\""));
	/* suites in order of first appearance: smoke, other, ktstr */
	p = strstr(sb.buf, "name=\"smoke\"");
	assert_true(p && p < strstr(sb.buf, "name=\"other\""));
	assert_true(strstr(sb.buf, "name=\"other\"") < strstr(sb.buf, "<testsuite name=\"ktstr\""));
	assert_true(strstr(sb.buf, "boom/tiny-1llc") < strstr(sb.buf, "name=\"other\""));
	strbuf_release(&sb);

	/* nothing at all is still a document */
	junit_render(&sb, NULL, NULL, 0, NULL);
	assert_non_null(strstr(sb.buf, "<testsuites name=\"ktstr\" tests=\"0\""));
	assert_non_null(strstr(sb.buf, "</testsuites>\n"));
	strbuf_release(&sb);
}

static void test_write_parses(void **state)
{
	char dir[] = "/tmp/ktstr-test-junit.XXXXXX";
	char *path, *cmd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/out/report.xml", dir);
	/* the directory must exist: junit_write does not create it */
	assert_int_equal(junit_write(path, "ktstr-test", cases, ARRAY_SIZE(cases), "t"), -1);
	free(path);
	path = xasprintf("%s/report.xml", dir);
	assert_int_equal(junit_write(path, "ktstr-test", cases, ARRAY_SIZE(cases),
				     "2026-11-22T13:36:46Z"), 0);
	assert_true(is_regular_file(path));
	cmd = xasprintf("python3 -c 'import sys, xml.dom.minidom as m; "
			"d = m.parse(sys.argv[1]); "
			"c = d.getElementsByTagName(\"testcase\"); "
			"f = d.getElementsByTagName(\"failure\")[0]; "
			"assert len(c) == 5, len(c); "
			"assert f.getAttribute(\"message\").startswith(\"spread 40%% > 15%%\"); "
			"assert \"\\ufffd raw control\" in f.firstChild.data; "
			"assert d.documentElement.getAttribute(\"errors\") == \"1\"' %s", path);
	assert_int_equal(run(cmd), 0);
	free(cmd);
	if (run("command -v xmllint >/dev/null 2>&1") == 0) {
		cmd = xasprintf("xmllint --noout %s", path);
		assert_int_equal(run(cmd), 0);
		free(cmd);
	}
	/* and the checker can fail: a broken document is rejected */
	cmd = xasprintf("printf '<a><b></a>' > %s/bad.xml && python3 -c 'import sys, "
			"xml.dom.minidom as m; m.parse(sys.argv[1])' %s/bad.xml 2>/dev/null",
			dir, dir);
	assert_int_not_equal(run(cmd), 0);
	free(cmd);
	free(path);
	rm_rf(dir);
}

/* A sidecar of suite "s": case, repeat, result, wall_ms, extra fields. */
#define SC(cs, rep, res, ms, extra) "{\"type\":\"sidecar\",\"schema\":1,\"suite\":\"s\"," \
	"\"case\":\"" cs "\",\"repeat\":" #rep ",\"result\":\"" res "\",\"wall_ms\":" #ms \
	",\"timestamp\":\"2026-01-0" #rep "T00:00:00Z\"" extra "}"

/* Testcases from sidecars as ktstr-test names them: the suite prefix
 * off, the first failed check's message and name, a skip's reason, an
 * inconclusive run an error, " #R" once any case repeated. */
static void test_from_sidecars(void **state)
{
	static const char *const docs[] = {
		SC("s a/tiny", 1, "pass", 1500, ""),
		SC("s b/tiny", 1, "fail", 2000, ",\"reason\":\"2 checks failed\",\"verdict\":"
		   "{\"failures\":[{\"check\":\"max_gap_ms\",\"message\":\"gap 900 ms\"}]}"),
		SC("s c/tiny", 1, "skip", 0, ",\"reason\":\"no preset fits\""),
		SC("s d/tiny", 1, "inconclusive", 10, ",\"reason\":\"cut short\""),
	};
	struct sidecar_set set = { 0 };
	struct compare_filter f = { 0 };
	struct junit_sidecars j;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		sidecar_load_buf("x.ktstr.json", docs[i], strlen(docs[i]), &set);
	assert_int_equal(set.n, 4);
	junit_from_sidecars(&set, &f, &j);
	assert_int_equal(j.n, 4);
	assert_string_equal(j.v[0].suite, "s");
	assert_string_equal(j.v[0].name, "a/tiny");
	assert_int_equal(j.v[0].status, JUNIT_PASS);
	assert_true(j.v[0].secs > 1.49 && j.v[0].secs < 1.51);
	assert_null(j.v[0].message);
	assert_int_equal(j.v[1].status, JUNIT_FAIL);
	assert_string_equal(j.v[1].message, "gap 900 ms");
	assert_string_equal(j.v[1].type, "max_gap_ms");
	assert_int_equal(j.v[2].status, JUNIT_SKIP);
	assert_string_equal(j.v[2].message, "no preset fits");
	assert_int_equal(j.v[3].status, JUNIT_ERROR);
	assert_string_equal(j.v[3].message, "cut short");
	assert_string_equal(j.timestamp, "2026-01-01T00:00:00Z");
	junit_sidecars_release(&j);
	/* a repeat: every name gets its " #R" */
	sidecar_load_buf("y.ktstr.json", SC("s a/tiny", 2, "pass", 1, ""),
			 strlen(SC("s a/tiny", 2, "pass", 1, "")), &set);
	f.test = "s a/*";
	junit_from_sidecars(&set, &f, &j);
	assert_int_equal(j.n, 2);
	assert_string_equal(j.v[0].name, "a/tiny #1");
	assert_string_equal(j.v[1].name, "a/tiny #2");
	assert_string_equal(j.timestamp, "2026-01-02T00:00:00Z");
	junit_sidecars_release(&j);
	sidecar_set_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_write_parses),
		cmocka_unit_test(test_from_sidecars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
