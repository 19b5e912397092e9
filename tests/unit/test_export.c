/* Unit tests for lib/export: the run file's preamble (every placeholder
 * filled, the archive's first line where the preamble says) and the
 * values it may quote. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "export.h"

static void test_preamble_filled(void **state)
{
	struct export_spec s = { .scenario = "steady", .topo = "1,2,2,1",
				 .sched_host = "/x/y/scx_simple" };
	char *p = export_preamble(&s), *skip;
	unsigned lines = 0, want;
	const char *c;
	const char *const keys[] = { "@NAME@", "@TOPO@", "@VERSION@", "@SCHED@", "@SKIP@" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_null(strstr(p, keys[i]));
	assert_non_null(strstr(p, "name='steady' topo='1,2,2,1' "));
	assert_non_null(strstr(p, "sched='scx_simple'"));
	/* The archive starts on the line after the last one. */
	for (c = p; *c; c++)
		lines += *c == '\n';
	skip = strstr(p, " skip=");
	assert_non_null(skip);
	want = (unsigned)strtoul(skip + 6, NULL, 10);
	assert_int_equal(want, lines + 1);
	assert_int_equal(p[strlen(p) - 1], '\n');
	free(p);
}

static void test_preamble_eevdf(void **state)
{
	struct export_spec s = { .scenario = "custom", .topo = "1,1,2,1" };
	char *p = export_preamble(&s);

	assert_non_null(strstr(p, "sched='EEVDF'"));
	free(p);
}

static void test_sh_safe(void **state)
{
	assert_true(export_sh_safe("steady"));
	assert_true(export_sh_safe("a b;$(x)"));	/* inside '...' all literal */
	assert_false(export_sh_safe("it's"));
	assert_false(export_sh_safe("a\nb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preamble_filled),
		cmocka_unit_test(test_preamble_eevdf),
		cmocka_unit_test(test_sh_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
