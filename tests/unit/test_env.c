/* Unit tests for lib/host/env.c: the KTSTR_* environment rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "env.h"

#define VAR "KTSTR_UNIT_TEST_VAR"

static int clear_var(void **state)
{
	return unsetenv(VAR);
}

static void set(const char *v)
{
	assert_int_equal(setenv(VAR, v, 1), 0);
}

static void test_unset(void **state)
{
	assert_null(env_get(VAR));
	assert_false(env_present(VAR));
	assert_false(env_is_one(VAR));
	assert_false(env_truthy(VAR));
}

static void test_empty_is_unset(void **state)
{
	set("");
	assert_null(env_get(VAR));
	assert_true(env_present(VAR));
	assert_false(env_is_one(VAR));
	assert_false(env_truthy(VAR));
}

static void test_whitespace_is_unset(void **state)
{
	static const char *const blanks[] = { " ", "   ", "\t", "\n", " \t\r\n\v\f " };
	size_t i;

	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		set(blanks[i]);
		assert_null(env_get(VAR));
		assert_true(env_present(VAR));
		assert_false(env_truthy(VAR));
		assert_false(env_is_one(VAR));
	}
}

static void test_trim(void **state)
{
	set("  /some/dir \t\n");
	assert_string_equal(env_get(VAR), "/some/dir");
	set("value");
	assert_string_equal(env_get(VAR), "value");
	set("\ta b c\t");
	assert_string_equal(env_get(VAR), "a b c");
	set(" x");
	assert_string_equal(env_get(VAR), "x");
	set("y ");
	assert_string_equal(env_get(VAR), "y");
}

static void test_value_changes(void **state)
{
	const char *a, *b, *c;

	set("first");
	a = env_get(VAR);
	set("second");
	b = env_get(VAR);
	/* Earlier pointers stay valid and unchanged. */
	assert_string_equal(a, "first");
	assert_string_equal(b, "second");
	set(" first ");
	c = env_get(VAR);
	assert_string_equal(c, "first");
	assert_ptr_equal(a, c);		/* same trimmed value is reused */
	/* A prefix of a cached value is a different value. */
	set("firs");
	assert_string_equal(env_get(VAR), "firs");
	set("first-and-more");
	assert_string_equal(env_get(VAR), "first-and-more");
	unsetenv(VAR);
	assert_null(env_get(VAR));
	assert_string_equal(a, "first");
}

static void test_separate_names(void **state)
{
	setenv(VAR "_A", "same", 1);
	setenv(VAR "_B", "same", 1);
	assert_string_equal(env_get(VAR "_A"), "same");
	assert_string_equal(env_get(VAR "_B"), "same");
	unsetenv(VAR "_A");
	assert_null(env_get(VAR "_A"));
	assert_string_equal(env_get(VAR "_B"), "same");
	unsetenv(VAR "_B");
}

static void test_present(void **state)
{
	assert_false(env_present(VAR));
	set("");
	assert_true(env_present(VAR));
	set("0");
	assert_true(env_present(VAR));
	unsetenv(VAR);
	assert_false(env_present(VAR));
}

static void test_is_one(void **state)
{
	set("1");
	assert_true(env_is_one(VAR));
	set(" 1");
	assert_false(env_is_one(VAR));
	set("1 ");
	assert_false(env_is_one(VAR));
	set("01");
	assert_false(env_is_one(VAR));
	set("11");
	assert_false(env_is_one(VAR));
	set("true");
	assert_false(env_is_one(VAR));
	set("yes");
	assert_false(env_is_one(VAR));
	set("0");
	assert_false(env_is_one(VAR));
	set("");
	assert_false(env_is_one(VAR));
}

/* Shell-exportable names only: the guest's sh drops any other. */
static void test_name_valid(void **state)
{
	(void)state;
	assert_true(env_name_valid("A"));
	assert_true(env_name_valid("_Ok9"));
	assert_true(env_name_valid("RUST_LOG"));
	assert_false(env_name_valid(""));
	assert_false(env_name_valid("1BAD"));
	assert_false(env_name_valid("A-B"));
	assert_false(env_name_valid("A B"));
	assert_false(env_name_valid("A.B"));
	assert_false(env_name_valid("A\nB"));
	assert_false(env_name_valid("A=B"));
}

static void test_truthy(void **state)
{
	static const char *const yes[] = { "1", "yes", "true", "2", "00", " 1 ", "no", "false", "x" };
	static const char *const no[] = { "0", " 0", "0 ", "\t0\n", "", "  " };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		set(yes[i]);
		if (!env_truthy(VAR))
			fail_msg("env_truthy(\"%s\") is false", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		set(no[i]);
		if (env_truthy(VAR))
			fail_msg("env_truthy(\"%s\") is true", no[i]);
	}
	unsetenv(VAR);
	assert_false(env_truthy(VAR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test_setup_teardown(test_unset, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_empty_is_unset, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_whitespace_is_unset, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_trim, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_value_changes, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_separate_names, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_present, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_is_one, clear_var, clear_var),
		cmocka_unit_test_setup_teardown(test_truthy, clear_var, clear_var),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
