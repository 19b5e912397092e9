/* Unit tests for lib/host/opts.c: number and duration parsing, and the exits of
 * the usage helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "opts.h"
#include "strbuf.h"

static void ulong_ok(const char *s, unsigned long min, unsigned long max,
		     unsigned long want)
{
	unsigned long v = 12345;

	if (parse_ulong(s, min, max, &v) != 0)
		fail_msg("parse_ulong(\"%s\", %lu, %lu) failed", s, min, max);
	assert_int_equal(v, want);
}

static void ulong_bad(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v = 12345;

	if (parse_ulong(s, min, max, &v) != -1)
		fail_msg("parse_ulong(\"%s\", %lu, %lu) succeeded", s ? s : "(null)",
			 min, max);
	assert_int_equal(v, 12345);
}

static void test_ulong_ok(void **state)
{
	ulong_ok("0", 0, 10, 0);
	ulong_ok("5", 0, 10, 5);
	ulong_ok("10", 0, 10, 10);
	ulong_ok("1", 1, 1, 1);
	ulong_ok("010", 0, 100, 10);	/* decimal, not octal */
	ulong_ok("4096", 1, 4096, 4096);
	ulong_ok("18446744073709551615", 0, ULONG_MAX, ULONG_MAX);
}

static void test_ulong_bounds(void **state)
{
	ulong_bad("0", 1, 10);
	ulong_bad("11", 0, 10);
	ulong_bad("4097", 1, 4096);
	ulong_bad("2", 3, 3);
	ulong_bad("18446744073709551616", 0, ULONG_MAX);
	ulong_bad("99999999999999999999999", 0, ULONG_MAX);
}

static void test_ulong_syntax(void **state)
{
	ulong_bad(NULL, 0, 10);
	ulong_bad("", 0, 10);
	ulong_bad("-1", 0, ULONG_MAX);
	ulong_bad("-0", 0, 10);
	ulong_bad("+1", 0, 10);
	ulong_bad(" 1", 0, 10);
	ulong_bad("1 ", 0, 10);
	ulong_bad("1x", 0, 10);
	ulong_bad("x", 0, 10);
	ulong_bad("0x10", 0, 100);
	ulong_bad("1.0", 0, 10);
	ulong_bad("1e2", 0, 1000);
}

static void dur_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 424242;

	if (parse_duration_ms(s, &v) != 0)
		fail_msg("parse_duration_ms(\"%s\") failed", s);
	if (v != want)
		fail_msg("parse_duration_ms(\"%s\") = %llu, want %llu", s, v, want);
}

static void dur_bad(const char *s)
{
	unsigned long long v = 424242;

	if (parse_duration_ms(s, &v) != -1)
		fail_msg("parse_duration_ms(\"%s\") succeeded with %llu",
			 s ? s : "(null)", v);
	assert_int_equal(v, 424242);
}

static void test_duration_units(void **state)
{
	dur_ok("250ms", 250);
	dur_ok("30s", 30000);
	dur_ok("2m", 120000);
	dur_ok("1h", 3600000);
	dur_ok("1.5s", 1500);
	dur_ok("10", 10000);
	dur_ok("0", 0);
	dur_ok("0s", 0);
	dur_ok("0ms", 0);
	dur_ok("0.5", 500);
	dur_ok("0.25m", 15000);
	dur_ok("1.5h", 5400000);
	dur_ok("1000ms", 1000);
	dur_ok("007s", 7000);
	/* One grammar with scenario files (duration.h): us too. */
	dur_ok("1500us", 2);
	dur_ok("250000us", 250);
}

static void test_duration_rounding(void **state)
{
	dur_ok("1.5ms", 2);
	dur_ok("1.4ms", 1);
	dur_ok("0.0004s", 0);
	dur_ok("0.0006s", 1);
	dur_ok("0.001", 1);
}

static void test_duration_bad(void **state)
{
	dur_bad(NULL);
	dur_bad("");
	dur_bad("-1");
	dur_bad("-1s");
	dur_bad("5x");
	dur_bad("s");
	dur_bad("ms");
	dur_bad("h");
	dur_bad(".");
	dur_bad(".s");
	dur_bad(" 5s");
	dur_bad("5 s");
	dur_bad("5s ");
	dur_bad("5S");
	dur_bad("5sec");
	dur_bad("5mss");
	dur_bad("1.5.5s");
	dur_bad("1s2");
	dur_bad("+5s");
	dur_bad("inf");
	dur_bad("nan");
}

static void test_duration_not_c_float(void **state)
{
	/* Only plain decimals: no hex floats or exponents from strtod. */
	dur_bad("0x10");
	dur_bad("0x10s");
	dur_bad("0x1p3");
	dur_bad("1e3");
	dur_bad("1e3s");
	dur_bad("1E2ms");
	dur_bad("1e-3");
}

static void test_duration_overflow(void **state)
{
	dur_bad("99999999999999999999h");
	dur_bad("1e400");
	dur_bad("10000000000000000000000000000000000000000000000000000000");
	dur_ok("1000000h", 3600000000000ULL);
}

/* Run fn in a child with stdout/stderr captured; returns the exit status. */
static int run_child(void (*fn)(void), struct strbuf *out, struct strbuf *err)
{
	int po[2], pe[2], st;
	pid_t pid;

	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		fn();
		_exit(99);
	}
	close(po[1]);
	close(pe[1]);
	strbuf_read_fd(out, po[0]);
	strbuf_read_fd(err, pe[0]);
	close(po[0]);
	close(pe[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void do_usage_error(void)
{
	diag_init("/usr/bin/ktstr-demo");
	usage_error("unknown option '%s'", "--bogus");
}

static void do_version(void)
{
	diag_init("ktstr-demo");
	print_version_and_exit();
}

static void do_help(void)
{
	print_help_and_exit("Usage: demo [OPTION]...\n");
}

static void test_usage_error(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(run_child(do_usage_error, &out, &err), 2);
	assert_int_equal(out.len, 0);
	assert_string_equal(err.buf, "ktstr-demo: unknown option '--bogus'"
			    " (see 'ktstr-demo --help')\n");
	strbuf_release(&out);
	strbuf_release(&err);
}

/* One option loop as a program has it; the arguments come from a table
 * so each case is one child. */
static char **loop_argv;

static void do_option_loop(void)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int argc = 0, c;

	while (loop_argv[argc])
		argc++;
	diag_init("ktstr-demo");
	optind = 1;
	while ((c = opts_getopt(argc, loop_argv, "+k:f", longopts, NULL)) != -1) {
		if (c == 'k')
			printf("k=%s\n", optarg);
		else if (c == 'f')
			printf("f\n");
	}
	exit(0);
}

static void option_case(const char *a1, const char *a2, int code, const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *argv[] = { "ktstr-demo", (char *)a1, (char *)a2, NULL };

	loop_argv = argv;
	assert_int_equal(run_child(do_option_loop, &out, &err), code);
	assert_string_equal(code ? err.buf : out.buf, want);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_getopt_messages(void **state)
{
	option_case("-k", "v1", 0, "k=v1\n");
	option_case("--kernel=v2", "-f", 0, "k=v2\nf\n");
	option_case("--bogus", NULL, 2,
		    "ktstr-demo: unknown option '--bogus' (see 'ktstr-demo --help')\n");
	option_case("--bogus=1", NULL, 2,
		    "ktstr-demo: unknown option '--bogus' (see 'ktstr-demo --help')\n");
	option_case("-fZ", NULL, 2,
		    "ktstr-demo: unknown option '-Z' (see 'ktstr-demo --help')\n");
	option_case("--kernel", NULL, 2,
		    "ktstr-demo: option '--kernel' needs a value (see 'ktstr-demo --help')\n");
	option_case("-f", "-k", 2,
		    "ktstr-demo: option '-k' needs a value (see 'ktstr-demo --help')\n");
}

static void test_version_help(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(run_child(do_version, &out, &err), 0);
	assert_true(strncmp(out.buf, "ktstr-demo (ktstr) ", 19) == 0);
	assert_string_equal(out.buf + 19, KTSTR_VERSION "\n");
	assert_int_equal(err.len, 0);
	strbuf_reset(&out);
	assert_int_equal(run_child(do_help, &out, &err), 0);
	assert_string_equal(out.buf, "Usage: demo [OPTION]...\n");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ---- the subcommand table ---- */

static int sc_calls;
static char *sc_seen;

static int sc_record(int argc, char **argv)
{
	sc_calls++;
	free(sc_seen);
	sc_seen = xasprintf("%d:%s:%s", argc, argv[0], argc > 1 ? argv[1] : "-");
	return 7;
}

static int sc_fallback(int argc, char **argv)
{
	sc_calls += 100;
	free(sc_seen);
	sc_seen = xasprintf("fallback %d:%s", argc, argc > 1 ? argv[1] : "-");
	return 5;
}

static const struct subcmd sc_cmds[] = {
	{ "capture", sc_record },
	{ "show", sc_record },
	{ "metric-list", sc_record },
};
static const struct subcmd_table sc_table = {
	sc_cmds, ARRAY_SIZE(sc_cmds), "usage: demo COMMAND\n", NULL,
};
static const struct subcmd_table sc_default_table = {
	sc_cmds, ARRAY_SIZE(sc_cmds), NULL, sc_fallback,
};

static void test_subcmd_find_names(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const struct subcmd_table one = { sc_cmds, 1, NULL, NULL };

	assert_ptr_equal(subcmd_find(&sc_table, "show"), &sc_cmds[1]);
	assert_null(subcmd_find(&sc_table, "sho"));
	assert_null(subcmd_find(&sc_table, NULL));
	subcmd_names(&sc_table, &sb);
	assert_string_equal(sb.buf, "capture, show or metric-list");
	strbuf_reset(&sb);
	subcmd_names(&one, &sb);
	assert_string_equal(sb.buf, "capture");
	strbuf_release(&sb);
}

static void test_subcmd_dispatch_runs(void **state)
{
	char *argv[] = { "demo", "show", "x.json", NULL };
	char *argv2[] = { "demo", "file.json", NULL };
	char *argv3[] = { "demo", NULL };

	sc_calls = 0;
	assert_int_equal(subcmd_dispatch(&sc_table, 3, argv), 7);
	assert_int_equal(sc_calls, 1);
	assert_string_equal(sc_seen, "2:show:x.json");
	/* With a default, anything else is the default's, whole. */
	assert_int_equal(subcmd_dispatch(&sc_default_table, 2, argv2), 5);
	assert_string_equal(sc_seen, "fallback 2:file.json");
	assert_int_equal(subcmd_dispatch(&sc_default_table, 1, argv3), 5);
	assert_string_equal(sc_seen, "fallback 1:-");
	assert_int_equal(subcmd_dispatch(&sc_default_table, 3, argv), 7);
	assert_int_equal(sc_calls, 202);
	free(sc_seen);
	sc_seen = NULL;
}

static char **sc_argv;

static void do_dispatch(void)
{
	int argc = 0;

	while (sc_argv[argc])
		argc++;
	diag_init("ktstr-demo");
	exit(subcmd_dispatch(&sc_table, argc, sc_argv));
}

static void dispatch_case(const char *a1, int code, const char *out_want, const char *err_want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *argv[] = { "ktstr-demo", (char *)a1, NULL };

	sc_argv = argv;
	assert_int_equal(run_child(do_dispatch, &out, &err), code);
	if (out_want)
		assert_string_equal(out.buf, out_want);
	else
		assert_int_equal(out.len, 0);
	assert_string_equal(err.buf, err_want);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_subcmd_dispatch_exits(void **state)
{
	dispatch_case("help", 0, "usage: demo COMMAND\n", "");
	dispatch_case("-h", 0, "usage: demo COMMAND\n", "");
	dispatch_case("--help", 0, "usage: demo COMMAND\n", "");
	dispatch_case("capture", 7, NULL, "");
	dispatch_case("bogus", 2, NULL,
		      "ktstr-demo: unknown command 'bogus'; expected capture, show or "
		      "metric-list (see 'ktstr-demo --help')\n");
	dispatch_case(NULL, 2, NULL,
		      "ktstr-demo: missing command: capture, show or metric-list "
		      "(see 'ktstr-demo --help')\n");
}

static void test_subcmd_version(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *argv[] = { "ktstr-demo", "--version", NULL };

	sc_argv = argv;
	assert_int_equal(run_child(do_dispatch, &out, &err), 0);
	assert_string_equal(out.buf, "ktstr-demo (ktstr) " KTSTR_VERSION "\n");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ulong_ok),
		cmocka_unit_test(test_ulong_bounds),
		cmocka_unit_test(test_ulong_syntax),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_rounding),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_not_c_float),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_usage_error),
		cmocka_unit_test(test_getopt_messages),
		cmocka_unit_test(test_version_help),
		cmocka_unit_test(test_subcmd_find_names),
		cmocka_unit_test(test_subcmd_dispatch_runs),
		cmocka_unit_test(test_subcmd_dispatch_exits),
		cmocka_unit_test(test_subcmd_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
