/* Unit tests for lib/results/caselog.c: the head and tail of a case's log files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caselog.h"
#include "diag.h"
#include "fsutil.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return tmpdir_create(dir, sizeof(dir), "caselog");
}

static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

/* A file of n lines "line 1".."line n". */
static const char *numbered(const char *name, size_t n)
{
	const char *p = tmpdir_path(dir, name);
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 1; i <= n; i++)
		strbuf_addf(&sb, "line %zu\n", i);
	assert_int_equal(write_file_atomic(p, sb.buf, sb.len, 0644), 0);
	strbuf_release(&sb);
	return p;
}

static void test_head_and_tail(void **state)
{
	struct caselog l;

	(void)state;
	assert_int_equal(caselog_read(numbered("a.log", 100), 3, 2, &l), 0);
	assert_int_equal(l.lines, 100);
	assert_int_equal(l.head.n, 3);
	assert_string_equal(l.head.v[0], "line 1");
	assert_string_equal(l.head.v[2], "line 3");
	assert_int_equal(l.tail.n, 2);
	assert_string_equal(l.tail.v[0], "line 99");
	assert_string_equal(l.tail.v[1], "line 100");
	caselog_release(&l);

	/* A short file: the tail never repeats a head line. */
	assert_int_equal(caselog_read(numbered("b.log", 4), 3, 5, &l), 0);
	assert_int_equal(l.lines, 4);
	assert_int_equal(l.head.n, 3);
	assert_int_equal(l.tail.n, 1);
	assert_string_equal(l.tail.v[0], "line 4");
	caselog_release(&l);

	/* Tail only, as for the console log. */
	assert_int_equal(caselog_read(numbered("c.log", 30), 0, 20, &l), 0);
	assert_int_equal(l.head.n, 0);
	assert_int_equal(l.tail.n, 20);
	assert_string_equal(l.tail.v[0], "line 11");
	caselog_release(&l);
}

static void test_cleaning(void **state)
{
	const char *p = tmpdir_path(dir, "dirty.log");
	static const char text[] = "crlf\r\n\x1b[1mbold\x1b[0m\tt\nbad \xff\xfe utf8\nno newline";
	struct strbuf big = STRBUF_INIT;
	struct caselog l;

	(void)state;
	assert_int_equal(write_file_atomic(p, text, sizeof(text) - 1, 0644), 0);
	assert_int_equal(caselog_read(p, 10, 0, &l), 0);
	assert_int_equal(l.lines, 4);
	assert_string_equal(l.head.v[0], "crlf");
	assert_string_equal(l.head.v[1], "?[1mbold?[0m\tt");
	assert_string_equal(l.head.v[2], "bad \xef\xbf\xbd\xef\xbf\xbd utf8");
	assert_string_equal(l.head.v[3], "no newline");
	caselog_release(&l);

	/* A verifier dump can have very long lines: cut, and said so. */
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&big, 'x');
	strbuf_addch(&big, '\n');
	assert_int_equal(write_file_atomic(p, big.buf, big.len, 0644), 0);
	assert_int_equal(caselog_read(p, 0, 1, &l), 0);
	assert_int_equal(strlen(l.tail.v[0]), CASELOG_LINE_MAX + 3);
	assert_string_equal(l.tail.v[0] + CASELOG_LINE_MAX, "...");
	caselog_release(&l);
	strbuf_release(&big);
}

static void test_missing(void **state)
{
	struct caselog l;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(caselog_read(tmpdir_path(dir, "nope.log"), 1, 1, &l), -1);
	assert_int_equal(errno, ENOENT);
	caselog_format(&out, "console log", tmpdir_path(dir, "nope.log"), 0, 5);
	assert_non_null(strstr(out.buf, "--- console log ("));
	assert_non_null(strstr(out.buf, "No such file"));
	assert_ptr_equal(strchr(out.buf, '\n') + 1, out.buf + out.len);	/* one line */
	strbuf_release(&out);
}

static void test_format(void **state)
{
	const char *p = numbered("f.log", 10);
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	caselog_format(&out, "scheduler output", p, 2, 3);
	strbuf_addf(&want, "--- scheduler output (%s, 10 lines) ---\n"
		    "  line 1\n  line 2\n  [... 5 lines ...]\n  line 8\n  line 9\n  line 10\n", p);
	assert_string_equal(out.buf, want.buf);
	strbuf_reset(&out);
	strbuf_reset(&want);
	/* Everything fits: no gap line. */
	caselog_format(&out, "scheduler output", p, 5, 5);
	assert_null(strstr(out.buf, "[..."));
	assert_non_null(strstr(out.buf, "  line 5\n  line 6\n"));
	strbuf_release(&out);
	strbuf_release(&want);
}

/* The one cleaner, both ways: a log line as caselog_read keeps it, and a
 * name or message folded onto one line of a report. */
static void test_clean_line(void **state)
{
	static const char msg[] = "died:\n\tstall\x1b \xff end \r\n";
	struct strbuf big = STRBUF_INIT;
	char *c;

	(void)state;
	c = caselog_clean_line(msg, sizeof(msg) - 1, 0);
	assert_string_equal(c, "died:?\tstall? \xef\xbf\xbd end ");
	free(c);
	c = caselog_clean_line(msg, sizeof(msg) - 1, CASELOG_ONE_LINE);
	assert_string_equal(c, "died:  stall  \xef\xbf\xbd end");
	free(c);
	c = caselog_clean_line("", 0, CASELOG_ONE_LINE);
	assert_string_equal(c, "");
	free(c);
	/* a message is not cut */
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&big, 'x');
	c = caselog_clean_line(big.buf, big.len, CASELOG_ONE_LINE);
	assert_int_equal(strlen(c), 1000);
	free(c);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_head_and_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleaning, setup, teardown),
		cmocka_unit_test(test_clean_line),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
