/* Unit tests for lib/core/agentcpu.c: rusage to ns, the share of the
 * guest's CPU capacity, and that the agent's own reading only grows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "agentcpu.h"

static void test_rusage_ns(void **state)
{
	struct rusage ru = { 0 };

	(void)state;
	assert_int_equal(agentcpu_rusage_ns(&ru), 0);
	ru.ru_utime.tv_sec = 1;
	ru.ru_utime.tv_usec = 250000;
	ru.ru_stime.tv_sec = 2;
	ru.ru_stime.tv_usec = 7;
	assert_int_equal(agentcpu_rusage_ns(&ru), 3250007000ull);
}

static void test_pct(void **state)
{
	(void)state;
	/* 40 ms over 10 s on 4 CPUs: 0.1 % of 40 s of capacity. */
	assert_float_equal(agentcpu_pct(40000000, 10000000000ull, 4), 0.1, 1e-12);
	/* One CPU fully used out of four: 25 %. */
	assert_float_equal(agentcpu_pct(10000000000ull, 10000000000ull, 4), 25.0, 1e-12);
	assert_float_equal(agentcpu_pct(0, 10000000000ull, 4), 0.0, 0);
	/* No capacity: unknown, not a division by zero. */
	assert_true(isnan(agentcpu_pct(5, 0, 4)));
	assert_true(isnan(agentcpu_pct(5, 1000, 0)));
	/* The warning threshold sits between the two cases above. */
	assert_true(agentcpu_pct(40000000, 10000000000ull, 4) <= AGENT_CPU_WARN_PCT);
	assert_true(agentcpu_pct(500000000, 10000000000ull, 4) > AGENT_CPU_WARN_PCT);
}

static void test_self_grows(void **state)
{
	uint64_t a, b;
	volatile uint64_t x = 0;

	(void)state;
	a = agentcpu_self_ns();
	/* Burn until the clock moves: getrusage has microseconds. */
	do {
		for (int i = 0; i < 1000000; i++)
			x += (uint64_t)i;
		b = agentcpu_self_ns();
	} while (b == a);
	assert_true(b > a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rusage_ns),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_self_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
