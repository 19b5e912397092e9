/* Unit tests for lib/runner/runner.c's progress line and time-left estimate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "runner.h"

static void test_eta(void **state)
{
	(void)state;
	/* Nothing finished yet: the estimates, spread over the slots. */
	assert_true(fabs(runner_eta_secs(0, 0, 100, 2) - 50) < 1e-9);
	assert_true(fabs(runner_eta_secs(10, 0, 100, 2) - 40) < 1e-9);
	assert_true(fabs(runner_eta_secs(0, 0, 100, 0) - 100) < 1e-9);
	/* Later than the estimate said: never negative. */
	assert_true(runner_eta_secs(80, 0, 100, 2) == 0);
	/* Then the pace seen so far: a quarter of the work took 30 s. */
	assert_true(fabs(runner_eta_secs(30, 25, 100, 2) - 90) < 1e-9);
	/* Slower than estimated shows as more time left, not less. */
	assert_true(runner_eta_secs(60, 25, 100, 2) > runner_eta_secs(30, 25, 100, 2));
	/* All done, or nothing to do. */
	assert_true(runner_eta_secs(30, 100, 100, 2) == 0);
	assert_true(runner_eta_secs(30, 0, 0, 2) == 0);
}

static void test_progress_line(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	runner_progress_line(&sb, 3, 10, 2, 42.2, 65);
	assert_string_equal(sb.buf, "3/10 cases done, 2 running, 42s elapsed, ~1m 05s left");
	strbuf_reset(&sb);
	runner_progress_line(&sb, 0, 1, 1, 0, 7322);
	assert_string_equal(sb.buf, "0/1 cases done, 1 running, 0s elapsed, ~2h 02m left");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_progress_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
