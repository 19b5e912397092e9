/* Unit tests for guest/cpumask.c: the cpulists the engine reads from
 * cpuset.cpus.effective and writes into records, and the word arrays they
 * become in shared memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* The cpulist mask_format gives for list parsed into nbits CPUs. */
static void roundtrip(const char *list, unsigned nbits, const char *want)
{
	uint64_t *m = calloc(MASK_WORDS(nbits), sizeof(*m));
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(m);
	if (mask_parse(list, m, nbits) != 0)
		fail_msg("mask_parse(\"%s\", %u) failed", list, nbits);
	mask_format(m, nbits, &sb);
	if (strcmp(sb.buf, want))
		fail_msg("\"%s\" in %u bits formats as \"%s\", want \"%s\"", list, nbits,
			 sb.buf, want);
	strbuf_release(&sb);
	free(m);
}

static void parse_bad(const char *list, unsigned nbits)
{
	uint64_t m[4];

	if (mask_parse(list, m, nbits) != -1)
		fail_msg("mask_parse(\"%s\", %u) unexpectedly succeeded", list, nbits);
}

static void test_parse_format(void **state)
{
	roundtrip("", 8, "");
	roundtrip("0", 8, "0");
	roundtrip("0-3,6", 8, "0-3,6");
	roundtrip("7", 8, "7");
	roundtrip("0-7", 8, "0-7");
	/* sysfs files end in a newline; leading blanks are skipped too. */
	roundtrip("0-1,4\n", 8, "0-1,4");
	roundtrip("  2-3\n", 8, "2-3");
	roundtrip("\n", 8, "");
	/* Single-CPU ranges, overlaps and any order come out canonical. */
	roundtrip("3-3", 8, "3");
	roundtrip("5,1,2,3", 8, "1-3,5");
	roundtrip("0-4,2-6", 8, "0-6");
	roundtrip("1,3,5,7", 8, "1,3,5,7");
}

static void test_word_boundaries(void **state)
{
	/* Ranges across and up to the 64-bit word edges. */
	roundtrip("63", 64, "63");
	roundtrip("62-65", 128, "62-65");
	roundtrip("0,63-64,127", 128, "0,63-64,127");
	roundtrip("0-199", 200, "0-199");
	roundtrip("64-127,192", 193, "64-127,192");
}

static void test_parse_bad(void **state)
{
	parse_bad("8", 8);		/* past the last CPU */
	parse_bad("6-8", 8);
	parse_bad("64", 64);
	parse_bad("3-1", 8);		/* descending */
	parse_bad("x", 8);
	parse_bad("1-", 8);
	parse_bad("-1", 8);
	parse_bad("1,,2", 8);
	parse_bad("1,", 8);		/* the grammar is lib/core/cpulist.c's */
	parse_bad("1 2", 8);
	parse_bad("1;2", 8);
	parse_bad("1-2-3", 8);
	parse_bad("0x1", 8);
	parse_bad("99999999999999999999999", 8);	/* ERANGE */
}

static void test_parse_clears(void **state)
{
	uint64_t m[2] = { ~0ull, ~0ull };

	assert_int_equal(mask_parse("1", m, 128), 0);
	assert_int_equal(m[0], 2);
	assert_int_equal(m[1], 0);
	m[0] = m[1] = ~0ull;
	assert_int_equal(mask_parse("", m, 128), 0);
	assert_int_equal(m[0], 0);
	assert_int_equal(m[1], 0);
}

static void test_format_appends(void **state)
{
	uint64_t m[1] = { 0 };
	struct strbuf sb = STRBUF_INIT;

	mask_set(m, 2);
	mask_set(m, 3);
	strbuf_addstr(&sb, "cpus=");
	mask_format(m, 8, &sb);
	assert_string_equal(sb.buf, "cpus=2-3");
	strbuf_release(&sb);
}

/* Only CPUs below nbits are printed, even when the last word has more. */
static void test_format_nbits(void **state)
{
	uint64_t m[1] = { ~0ull };
	struct strbuf sb = STRBUF_INIT;

	mask_format(m, 5, &sb);
	assert_string_equal(sb.buf, "0-4");
	strbuf_release(&sb);
}

static void test_weight_nth(void **state)
{
	uint64_t m[3] = { 0 };

	assert_int_equal(mask_weight(m, 150), 0);
	assert_int_equal(mask_nth(m, 150, 0), -1);
	assert_int_equal(mask_nth(m, 150, 7), -1);
	assert_int_equal(mask_parse("1,63-64,140", m, 150), 0);
	assert_int_equal(mask_weight(m, 150), 4);
	assert_int_equal(mask_nth(m, 150, 0), 1);
	assert_int_equal(mask_nth(m, 150, 1), 63);
	assert_int_equal(mask_nth(m, 150, 2), 64);
	assert_int_equal(mask_nth(m, 150, 3), 140);
	/* Worker index n past the weight wraps around (pinning). */
	assert_int_equal(mask_nth(m, 150, 4), 1);
	assert_int_equal(mask_nth(m, 150, 7), 140);
	assert_int_equal(mask_nth(m, 150, 0xffffffffu), 140);	/* 2^32-1 mod 4 */
}

/* Random masks survive format then parse unchanged. */
static void test_roundtrip_random(void **state)
{
	enum { NBITS = 300 };
	uint64_t m[MASK_WORDS(NBITS)], back[MASK_WORDS(NBITS)];
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned round, c;

	for (round = 0; round < 200; round++) {
		struct strbuf sb = STRBUF_INIT;
		unsigned density = round % 8 + 1, n = 0;

		memset(m, 0, sizeof(m));
		for (c = 0; c < NBITS; c++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (x % 8 < density) {
				mask_set(m, c);
				n++;
			}
		}
		mask_format(m, NBITS, &sb);
		assert_int_equal(mask_parse(sb.buf, back, NBITS), 0);
		if (memcmp(m, back, sizeof(m)))
			fail_msg("round %u: \"%s\" does not parse back", round, sb.buf);
		assert_int_equal(mask_weight(back, NBITS), n);
		strbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_word_boundaries),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_clears),
		cmocka_unit_test(test_format_appends),
		cmocka_unit_test(test_format_nbits),
		cmocka_unit_test(test_weight_nth),
		cmocka_unit_test(test_roundtrip_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
