/* Unit tests for lib/core/utf8.c: the one UTF-8 check and repair, used by
 * JSON strings (jsonl), JUnit XML and the case log excerpts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

#define FFFD UTF8_REPLACEMENT

static void decode_ok(const char *s, size_t len, uint32_t want)
{
	uint32_t cp = 0xdeadbeef;

	assert_int_equal(utf8_decode(s, len, &cp), len);
	assert_int_equal(cp, want);
}

static void decode_bad(const char *s, size_t len)
{
	uint32_t cp = 0xdeadbeef;

	assert_int_equal(utf8_decode(s, len, &cp), 0);
	/* A failed decode leaves *cp alone. */
	assert_int_equal(cp, 0xdeadbeef);
}

static void test_decode_valid(void **state)
{
	decode_ok("a", 1, 'a');
	decode_ok("\x7f", 1, 0x7f);
	decode_ok("\xc2\x80", 2, 0x80);			/* smallest 2-byte */
	decode_ok("\xc3\xa9", 2, 0xe9);
	decode_ok("\xdf\xbf", 2, 0x7ff);
	decode_ok("\xe0\xa0\x80", 3, 0x800);		/* smallest 3-byte */
	decode_ok("\xe2\x82\xac", 3, 0x20ac);
	decode_ok("\xed\x9f\xbf", 3, 0xd7ff);		/* just below surrogates */
	decode_ok("\xee\x80\x80", 3, 0xe000);		/* just above */
	decode_ok("\xef\xbf\xbd", 3, 0xfffd);
	decode_ok("\xf0\x90\x80\x80", 4, 0x10000);	/* smallest 4-byte */
	decode_ok("\xf0\x9f\x98\x80", 4, 0x1f600);
	decode_ok("\xf4\x8f\xbf\xbf", 4, 0x10ffff);
	/* NUL is a well-formed character; only the repair replaces it. */
	decode_ok("", 1, 0);
	/* Bytes after the sequence are not looked at. */
	assert_int_equal(utf8_decode("\xc3\xa9\xff", 3, NULL), 2);
}

static void test_decode_overlong(void **state)
{
	decode_bad("\xc0\x80", 2);			/* NUL */
	decode_bad("\xc1\xbf", 2);
	decode_bad("\xe0\x80\xaf", 3);			/* '/' */
	decode_bad("\xe0\x9f\xbf", 3);			/* U+07FF in 3 */
	decode_bad("\xf0\x8f\xbf\xbf", 4);		/* U+FFFF in 4 */
}

static void test_decode_surrogates_and_range(void **state)
{
	decode_bad("\xed\xa0\x80", 3);			/* U+D800 */
	decode_bad("\xed\xbf\xbf", 3);			/* U+DFFF */
	decode_bad("\xf4\x90\x80\x80", 4);		/* U+110000 */
	decode_bad("\xf5\x80\x80\x80", 4);
	decode_bad("\xf8\x88\x80\x80\x80", 5);		/* old 5-byte form */
	decode_bad("\xfe", 1);
	decode_bad("\xff", 1);
}

static void test_decode_truncated(void **state)
{
	decode_bad("\x80", 1);				/* lone continuation */
	decode_bad("\xbf", 1);
	decode_bad("\xc3", 1);				/* cut by the end */
	decode_bad("\xe2\x82", 2);
	decode_bad("\xf0\x9f\x98", 3);
	/* Cut by the length given, whatever follows in memory. */
	decode_bad("\xc3\xa9", 1);
	decode_bad("\xe2\x82x", 3);			/* cut by a non-continuation */
	decode_bad("\xf0\x9f\x98" "a", 4);
}

static void repair_eq(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "<");
	utf8_repair(&sb, in, len);
	assert_int_equal(sb.len, strlen(want) + 1);
	assert_string_equal(sb.buf + 1, want);
	strbuf_release(&sb);
}

static void test_repair_valid(void **state)
{
	repair_eq("", 0, "");
	repair_eq("plain", 5, "plain");
	repair_eq("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	repair_eq(FFFD, 3, FFFD);
	repair_eq("abcdef", 3, "abc");
}

static void test_repair_invalid(void **state)
{
	/* One replacement per byte that does not start a sequence. */
	repair_eq("a\xff" "b", 3, "a" FFFD "b");
	repair_eq("\xc0\x80", 2, FFFD FFFD);
	repair_eq("\xed\xa0\x80", 3, FFFD FFFD FFFD);
	repair_eq("\xe2\x82", 2, FFFD FFFD);
	/* The byte that broke a sequence starts the next one. */
	repair_eq("\xe2\x82\xc3\xa9", 4, FFFD FFFD "\xc3\xa9");
	repair_eq("\xc3" "a", 2, FFFD "a");
}

static void test_repair_nul(void **state)
{
	repair_eq("a\0b", 3, "a" FFFD "b");
	repair_eq("\0\0", 2, FFFD FFFD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_overlong),
		cmocka_unit_test(test_decode_surrogates_and_range),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_repair_valid),
		cmocka_unit_test(test_repair_invalid),
		cmocka_unit_test(test_repair_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
