/* Unit tests for lib/core/texttable.c: the aligned tables of the human reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "texttable.h"

static void aligns_and_trims(void **state)
{
	struct text_table t = TEXT_TABLE_INIT(3);
	struct strbuf out = STRBUF_INIT;
	const bool right[3] = { false, true, false };

	(void)state;
	text_table_add(&t, (const char *[]){ "NAME", "N", "NOTE" });
	text_table_add(&t, (const char *[]){ "a", "1234", NULL });
	text_table_cell(&t, "longer");
	text_table_cellf(&t, "%d", 7);
	text_table_cell(&t, "x");
	text_table_render(&t, right, &out);
	assert_string_equal(out.buf,
			    "NAME       N  NOTE\n"
			    "a       1234\n"
			    "longer     7  x\n");
	assert_int_equal(t.cells.n, 0);
	strbuf_release(&out);
}

static void empty_table(void **state)
{
	struct text_table t = TEXT_TABLE_INIT(2);
	struct strbuf out = STRBUF_INIT;

	(void)state;
	text_table_render(&t, NULL, &out);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void text_lines_and_indent(void **state)
{
	struct text_table t = TEXT_TABLE_INIT(2);
	struct strbuf out = STRBUF_INIT;
	const bool right[2] = { false, true };

	(void)state;
	t.indent = 2;
	text_table_line(&t, "first (%d)", 1);
	text_table_add(&t, (const char *[]){ "metric", "value" });
	text_table_add(&t, (const char *[]){ "a", "1" });
	text_table_line(&t, "%s", "");
	text_table_line(&t, "second, a heading longer than any row");
	text_table_add(&t, (const char *[]){ "metric", "value" });
	text_table_add(&t, (const char *[]){ "longer_name", "123456" });
	text_table_render(&t, right, &out);
	/* Both groups share the widths; text lines take no part in them. */
	assert_string_equal(out.buf,
			    "first (1)\n"
			    "  metric        value\n"
			    "  a                 1\n"
			    "\n"
			    "second, a heading longer than any row\n"
			    "  metric        value\n"
			    "  longer_name  123456\n");
	assert_null(t.text);
	strbuf_release(&out);
}

static void unfinished_row_before_line(void **state)
{
	struct text_table t = TEXT_TABLE_INIT(3);
	struct strbuf out = STRBUF_INIT;

	(void)state;
	text_table_cell(&t, "a");
	text_table_line(&t, "--");
	text_table_add(&t, (const char *[]){ "b", "c", "d" });
	text_table_render(&t, NULL, &out);
	assert_string_equal(out.buf, "a\n--\nb  c  d\n");
	strbuf_release(&out);
}

static void utf8_width(void **state)
{
	struct text_table t = TEXT_TABLE_INIT(2);
	struct strbuf out = STRBUF_INIT;
	const bool right[2] = { false, true };

	(void)state;
	/* "caf\u00e9" and "\u00b5s" are 4 and 2 columns, not 5 and 3. */
	text_table_add(&t, (const char *[]){ "caf\xc3\xa9", "\xc2\xb5s" });
	text_table_add(&t, (const char *[]){ "x", "10" });
	text_table_add(&t, (const char *[]){ "\xff", "1" });
	text_table_render(&t, right, &out);
	assert_string_equal(out.buf,
			    "caf\xc3\xa9  \xc2\xb5s\n"
			    "x     10\n"
			    "\xff      1\n");
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aligns_and_trims),
		cmocka_unit_test(empty_table),
		cmocka_unit_test(text_lines_and_indent),
		cmocka_unit_test(unfinished_row_before_line),
		cmocka_unit_test(utf8_width),
	};

	return cmocka_run_group_tests_name("texttable", tests, NULL, NULL);
}
