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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aligns_and_trims),
		cmocka_unit_test(empty_table),
	};

	return cmocka_run_group_tests_name("texttable", tests, NULL, NULL);
}
