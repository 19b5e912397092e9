/* Unit tests for lib/core/duration.c: the one duration grammar (every
 * unit, a bare number as seconds, decimals and rounding, overflow, bad
 * syntax) and the message formatter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "duration.h"

static void ns_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 424242;

	if (duration_parse_ns(s, &v) != 0)
		fail_msg("duration_parse_ns(\"%s\") failed", s);
	if (v != want)
		fail_msg("duration_parse_ns(\"%s\") = %llu, want %llu", s, v, want);
}

static void us_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 424242;

	if (duration_parse_us(s, &v) != 0)
		fail_msg("duration_parse_us(\"%s\") failed", s);
	if (v != want)
		fail_msg("duration_parse_us(\"%s\") = %llu, want %llu", s, v, want);
}

static void ms_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 424242;

	if (duration_parse_ms(s, &v) != 0)
		fail_msg("duration_parse_ms(\"%s\") failed", s);
	if (v != want)
		fail_msg("duration_parse_ms(\"%s\") = %llu, want %llu", s, v, want);
}

/* Rejected by all three, leaving the output alone. */
static void bad(const char *s)
{
	unsigned long long ns = 424242, us = 424242, ms = 424242;

	if (duration_parse_ns(s, &ns) != -1 || duration_parse_us(s, &us) != -1 ||
	    duration_parse_ms(s, &ms) != -1)
		fail_msg("\"%s\" parsed as a duration", s ? s : "(null)");
	assert_int_equal(ns, 424242);
	assert_int_equal(us, 424242);
	assert_int_equal(ms, 424242);
}

static void test_units(void **state)
{
	ns_ok("1us", 1000ULL);
	ns_ok("1ms", 1000000ULL);
	ns_ok("1s", 1000000000ULL);
	ns_ok("1m", 60000000000ULL);
	ns_ok("1h", 3600000000000ULL);
	us_ok("500us", 500);
	us_ok("50ms", 50000);
	us_ok("2s", 2000000);
	us_ok("2m", 120000000);
	us_ok("1h", 3600000000ULL);
	ms_ok("250ms", 250);
	ms_ok("30s", 30000);
	ms_ok("2m", 120000);
	ms_ok("1h", 3600000);
	ms_ok("1000us", 1);
	ms_ok("007s", 7000);
}

static void test_bare_is_seconds(void **state)
{
	ns_ok("1", 1000000000ULL);
	us_ok("5", 5000000);
	ms_ok("10", 10000);
	ms_ok("0", 0);
	ms_ok("0.5", 500);
	ms_ok(".5", 500);
	ms_ok("5.", 5000);
}

static void test_decimals(void **state)
{
	ns_ok("1.5us", 1500);
	ns_ok("0.5us", 500);
	us_ok("1.5ms", 1500);
	us_ok("0.25s", 250000);
	ms_ok("1.5s", 1500);
	ms_ok("0.25m", 15000);
	ms_ok("1.5h", 5400000);
	/* Each caller rounds to its nearest unit, half up. */
	ms_ok("1.5ms", 2);
	ms_ok("1.4ms", 1);
	ms_ok("0.0004s", 0);
	ms_ok("0.0006s", 1);
	ms_ok("500us", 1);
	ms_ok("499us", 0);
	us_ok("0.4us", 0);
	us_ok("0.5us", 1);
	us_ok("1.0005ms", 1001);
}

static void test_overflow(void **state)
{
	/* About 584 years of nanoseconds fit; more is an error, not a wrap. */
	ms_ok("1000000h", 3600000000000ULL);
	ns_ok("17000000000s", 17000000000000000000ULL);
	bad("18500000000s");
	bad("5200000h");
	bad("99999999999999999999h");
	bad("10000000000000000000000000000000000000000000000000000000");
	bad("1e400");
}

static void test_bad_syntax(void **state)
{
	bad(NULL);
	bad("");
	bad(".");
	bad(".s");
	bad("s");
	bad("ms");
	bad("us");
	bad("h");
	bad("-1");
	bad("-1s");
	bad("+5s");
	bad(" 5s");
	bad("5 s");
	bad("5s ");
	bad("5S");
	bad("5sec");
	bad("5mss");
	bad("5ns");
	bad("5x");
	bad("1.5.5s");
	bad("1..5s");
	bad("1s2");
	bad("1s2ms");
	bad("inf");
	bad("nan");
	bad("infs");
	/* Only plain decimals: no hex floats or exponents from strtod. */
	bad("0x10");
	bad("0x10s");
	bad("0x1p3");
	bad("1e3");
	bad("1e3s");
	bad("1E2ms");
	bad("1e-3");
}

static void fmt(unsigned long long us, const char *want)
{
	char buf[32];

	assert_string_equal(duration_format_us(buf, sizeof(buf), us), want);
}

static void test_format(void **state)
{
	fmt(0, "0us");
	fmt(1, "1us");
	fmt(1500, "1500us");
	fmt(1000, "1ms");
	fmt(2000000, "2s");
	fmt(90000000, "90s");
	fmt(120000000, "2m");
	fmt(3600000000ULL, "1h");
	fmt(3660000000ULL, "61m");
}

/* What the formatter writes parses back to the same value. */
static void test_format_roundtrip(void **state)
{
	static const unsigned long long v[] = { 1, 999, 1000, 1001, 60000000, 3600000000ULL,
						7200000001ULL };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[32];

		us_ok(duration_format_us(buf, sizeof(buf), v[i]), v[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bare_is_seconds),
		cmocka_unit_test(test_decimals),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
