/* Unit tests for lib/core/cpulist.c: the one cpulist grammar, exact (as
 * in scenario files and flags) and as the kernel prints it (blanks around,
 * empty allowed), with its messages, and the canonical printer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cpulist.h"

#define N 16

static void set_bools(unsigned lo, unsigned hi, void *arg)
{
	bool *mask = arg;

	while (lo <= hi)
		mask[lo++] = true;
}

/* list in N CPUs printed back canonically. */
static void roundtrip(const char *list, unsigned flags, const char *want)
{
	bool mask[N];
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	memset(mask, 0, sizeof(mask));
	if (cpulist_scan(list, N, flags, set_bools, mask, &err))
		fail_msg("cpulist_scan(\"%s\", %u) failed: %s", list, flags, err.buf);
	cpulist_format(mask, N, &out);
	if (strcmp(out.buf, want))
		fail_msg("\"%s\" formats as \"%s\", want \"%s\"", list, out.buf, want);
	if (!flags) {
		/* cpulist_parse is the same for a mask of bools. */
		bool again[N];

		assert_int_equal(cpulist_parse(list, again, N, &err), 0);
		assert_memory_equal(mask, again, sizeof(mask));
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

/* list is rejected with a message starting with want. */
static void bad(const char *list, unsigned flags, const char *want)
{
	struct strbuf err = STRBUF_INIT;

	if (cpulist_scan(list, N, flags, NULL, NULL, &err) != -1)
		fail_msg("\"%s\" (flags %u) unexpectedly parsed", list ? list : "(null)", flags);
	if (strncmp(err.buf, want, strlen(want)))
		fail_msg("\"%s\": error \"%s\", want prefix \"%s\"", list ? list : "(null)",
			 err.buf, want);
	strbuf_release(&err);
	/* Without an error buffer it fails the same, quietly. */
	assert_int_equal(cpulist_scan(list, N, flags, NULL, NULL, NULL), -1);
}

static void test_exact(void **state)
{
	roundtrip("0", 0, "0");
	roundtrip("0-3,8,10-11", 0, "0-3,8,10-11");
	roundtrip("15", 0, "15");
	roundtrip("3-3", 0, "3");
	roundtrip("5,1,2,3", 0, "1-3,5");
	roundtrip("0-2,5,7-8,8", 0, "0-2,5,7-8");
	roundtrip("0-4,2-6", 0, "0-6");
	roundtrip("007", 0, "7");
}

static void test_exact_bad(void **state)
{
	bad(NULL, 0, "the CPU list is empty");
	bad("", 0, "the CPU list is empty");
	bad("16", 0, "'16': CPU 16 is beyond the last CPU (15)");
	bad("2-20", 0, "'2-20': CPU 16 is beyond the last CPU (15)");
	bad("3-1", 0, "'3-1': the range 3-1 runs backwards");
	bad("1,", 0, "'1,' is not a CPU list; expected CPU numbers and ranges");
	bad(",1", 0, "',1' is not a CPU list");
	bad("1,,2", 0, "'1,,2' is not a CPU list");
	bad(" 1", 0, "' 1' is not a CPU list");
	bad("1\n", 0, "'1\n' is not a CPU list");
	bad("1-", 0, "'1-' is not a CPU list");
	bad("-1", 0, "'-1' is not a CPU list");
	bad("1-2-3", 0, "'1-2-3' is not a CPU list");
	bad("1;2", 0, "'1;2' is not a CPU list");
	bad("0x1", 0, "'0x1' is not a CPU list");
	bad("+1", 0, "'+1' is not a CPU list");
	bad("x", 0, "'x' is not a CPU list");
	bad("99999999999999999999999", 0, "'99999999999999999999999' is not");
	bad("1000000001", 0, "'1000000001' is not");
}

static void test_kernel(void **state)
{
	/* sysfs and cgroupfs files end in a newline; an empty file is the
	 * empty set. */
	roundtrip("0-1,4\n", CPULIST_KERNEL, "0-1,4");
	roundtrip("  2-3\n", CPULIST_KERNEL, "2-3");
	roundtrip("\n", CPULIST_KERNEL, "");
	roundtrip("", CPULIST_KERNEL, "");
	bad("1 2", CPULIST_KERNEL, "'1 2' is not a CPU list");
	bad("1,\n", CPULIST_KERNEL, "'1,\n' is not a CPU list");
	bad("16\n", CPULIST_KERNEL, "'16\n': CPU 16 is beyond");
	bad(NULL, CPULIST_KERNEL, "the CPU list is empty");
}

struct seen {
	unsigned lo[8], hi[8], n;
};

static void record(unsigned lo, unsigned hi, void *arg)
{
	struct seen *s = arg;

	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->n++;
}

/* The callback sees each range once, in the list's order. */
static void test_scan_ranges(void **state)
{
	struct seen s = { .n = 0 };

	assert_int_equal(cpulist_scan("9,0-3,5-5", N, 0, record, &s, NULL), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.lo[0], 9);
	assert_int_equal(s.hi[0], 9);
	assert_int_equal(s.lo[1], 0);
	assert_int_equal(s.hi[1], 3);
	assert_int_equal(s.lo[2], 5);
	assert_int_equal(s.hi[2], 5);
}

static void test_parse_clears(void **state)
{
	bool mask[N];
	struct strbuf err = STRBUF_INIT;
	unsigned i;

	memset(mask, 1, sizeof(mask));
	assert_int_equal(cpulist_parse("2", mask, N, &err), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(mask[i], i == 2);
	/* A NULL mask only checks. */
	assert_int_equal(cpulist_parse("0-15", NULL, N, &err), 0);
	strbuf_release(&err);
}

static bool every_third(const void *mask, unsigned cpu)
{
	(void)mask;
	return cpu % 3 == 0;
}

static void test_format(void **state)
{
	bool none[N] = { false };
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "cpus=");
	cpulist_format(none, N, &out);
	assert_string_equal(out.buf, "cpus=");
	strbuf_reset(&out);
	cpulist_format_by(NULL, 10, every_third, &out);
	assert_string_equal(out.buf, "0,3,6,9");
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_exact_bad),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_scan_ranges),
		cmocka_unit_test(test_parse_clears),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
