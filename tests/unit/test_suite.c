/* Unit tests for lib/runner/suite.c: the JUnit cases a run's reports
 * make, and the kernel list's grammar. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "suite.h"

static struct ktest test = { .name = (char *)"t1", .suite = (char *)"suite" };
static struct gcase gc = { .test = &test };

static void test_junit_pass_skip(void **state)
{
	struct suite_junit j = SUITE_JUNIT_INIT;
	struct strbuf none = STRBUF_INIT;
	struct case_report rep = { .c = &gc, .outcome = CASE_PASS, .secs = 1.5 };

	(void)state;
	suite_junit_add(&j, &rep, "suite t1/tiny", &none);
	rep.outcome = CASE_SKIP;
	rep.reason = "needs 8 CPUs";
	suite_junit_add(&j, &rep, "suite t1/huge", &none);
	assert_int_equal(j.n, 2);
	assert_string_equal(j.v[0].suite, "suite");
	assert_string_equal(j.v[0].name, "t1/tiny");
	assert_int_equal(j.v[0].status, JUNIT_PASS);
	assert_null(j.v[0].message);
	assert_null(j.v[0].detail);
	assert_true(j.v[0].secs == 1.5);
	assert_int_equal(j.v[1].status, JUNIT_SKIP);
	assert_string_equal(j.v[1].message, "needs 8 CPUs");
	suite_junit_release(&j);
}

static void test_junit_fail_error(void **state)
{
	struct suite_junit j = SUITE_JUNIT_INIT;
	struct strbuf block = STRBUF_INIT;
	struct verdict_check checks[2] = {
		{ .check = "starvation", .pass = true, .message = (char *)"fine" },
		{ .check = "gap", .pass = false, .message = (char *)"gap 900ms > 500ms" },
	};
	struct caserun run;
	struct case_report rep = { .c = &gc, .outcome = CASE_FAIL, .run = &run };

	(void)state;
	memset(&run, 0, sizeof(run));
	run.v.checks = checks;
	run.v.n_checks = 2;
	strbuf_addstr(&block, "--- verdict ---\n");
	suite_junit_add(&j, &rep, "suite t1/tiny", &block);
	assert_int_equal(j.v[0].status, JUNIT_FAIL);
	assert_string_equal(j.v[0].message, "gap 900ms > 500ms");
	assert_string_equal(j.v[0].type, "gap");
	assert_string_equal(j.v[0].detail, "--- verdict ---\n");
	/* A fail with no failed check says so. */
	checks[1].pass = true;
	suite_junit_add(&j, &rep, "suite t1/tiny", &block);
	assert_string_equal(j.v[1].message, "check failed");
	/* An infrastructure error, and an interrupted case: errors. */
	run.infra = (char *)"no agent";
	rep.outcome = CASE_ERROR;
	rep.reason = "no agent";
	suite_junit_add(&j, &rep, "suite t1/tiny", &block);
	assert_int_equal(j.v[2].status, JUNIT_ERROR);
	assert_string_equal(j.v[2].type, "infrastructure");
	assert_string_equal(j.v[2].message, "no agent");
	rep.outcome = CASE_INTERRUPTED;
	rep.run = NULL;
	suite_junit_add(&j, &rep, "suite t1/tiny", &block);
	assert_int_equal(j.v[3].status, JUNIT_ERROR);
	assert_string_equal(j.v[3].type, "interrupted");
	strbuf_release(&block);
	suite_junit_release(&j);
}

static void list_bad(const char *list, const char *want)
{
	struct strvec none = STRVEC_INIT;
	struct gauntlet_kernel *v;
	struct strbuf err = STRBUF_INIT;
	size_t n;

	assert_int_equal(suite_kernels_resolve(&none, list, &v, &n, &err), -1);
	assert_string_equal(err.buf, want);
	suite_kernels_free(v, n);
	strbuf_release(&err);
}

static void test_kernel_list_grammar(void **state)
{
	(void)state;
	list_bad("nolabel", "KTSTR_KERNEL_LIST entry 'nolabel': expected LABEL=PATH; "
		 "entries are separated by ';'");
	list_bad("=/boot/vmlinuz", "KTSTR_KERNEL_LIST entry '=/boot/vmlinuz': expected "
		 "LABEL=PATH; entries are separated by ';'");
	list_bad("a=", "KTSTR_KERNEL_LIST entry 'a=': expected LABEL=PATH; entries are "
		 "separated by ';'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_junit_pass_skip),
		cmocka_unit_test(test_junit_fail_error),
		cmocka_unit_test(test_kernel_list_grammar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
