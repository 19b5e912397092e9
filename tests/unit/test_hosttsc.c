/* Unit tests for lib/vm/hosttsc.c: when a TCG guest is told the host's TSC
 * rate, and what it is told. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "hosttsc.h"
#include "strbuf.h"

static void test_invariant(void **state)
{
	(void)state;
	assert_true(host_tsc_invariant("processor\t: 0\nflags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc cpuid\nbugs\t\t: x\n"));
	/* First on the line, last on the line, and the file's first line. */
	assert_true(host_tsc_invariant("flags\t\t: constant_tsc nonstop_tsc\n"));
	assert_true(host_tsc_invariant("a\nflags\t: nonstop_tsc x constant_tsc"));
	/* Either one alone is not enough: a TSC that stops in deep idle, or
	 * one that follows the CPU's frequency, has no single rate. */
	assert_false(host_tsc_invariant("flags\t\t: fpu constant_tsc\n"));
	assert_false(host_tsc_invariant("flags\t\t: fpu nonstop_tsc\n"));
	/* Longer names that start or end like the words do not count. */
	assert_false(host_tsc_invariant("flags\t\t: constant_tsc_x xnonstop_tsc\n"));
	/* Only the flags line: "bugs" mentioning them is not a promise. */
	assert_false(host_tsc_invariant("flags\t\t: fpu\nbugs\t\t: constant_tsc nonstop_tsc\n"));
	assert_false(host_tsc_invariant("processor : 0\nmodel name : X\n"));
	assert_false(host_tsc_invariant(""));
}

static void test_rate(void **state)
{
	(void)state;
	/* 51,922,000 ticks in 20 ms: 2596.1 MHz. */
	assert_int_equal(host_tsc_rate_khz(1000, 5000, 1000 + 51922000, 5000 + 20000000), 2596100);
	/* Rounded to the nearest kHz. */
	assert_int_equal(host_tsc_rate_khz(0, 0, 2596100600ULL, 1000000000), 2596101);
	/* Backwards or stopped clocks, and rates no CPU has, give none. */
	assert_int_equal(host_tsc_rate_khz(10, 10, 5, 20), 0);
	assert_int_equal(host_tsc_rate_khz(10, 10, 20, 10), 0);
	assert_int_equal(host_tsc_rate_khz(0, 0, 1000, 1000000000), 0);
	assert_int_equal(host_tsc_rate_khz(0, 0, 100000000000ULL, 1000000), 0);
}

static void test_env(void **state)
{
	char msg[512];

	(void)state;
	unsetenv(HOST_TSC_ENV);
	assert_int_equal(host_tsc_env_check(msg, sizeof(msg)), 0);
	setenv(HOST_TSC_ENV, " 2596100 ", 1);
	assert_int_equal(host_tsc_env_check(msg, sizeof(msg)), 0);
	assert_int_equal(host_tsc_khz(), 2596100);
	setenv(HOST_TSC_ENV, "0", 1);
	assert_int_equal(host_tsc_env_check(msg, sizeof(msg)), 0);
	assert_int_equal(host_tsc_khz(), 0);
	/* Empty means unset (the KTSTR_* contract). */
	setenv(HOST_TSC_ENV, "", 1);
	assert_int_equal(host_tsc_env_check(msg, sizeof(msg)), 0);
	for (const char *bad = "2.5GHz"; bad; bad = !strcmp(bad, "2.5GHz") ? "99999" :
	     !strcmp(bad, "99999") ? "-1" : !strcmp(bad, "-1") ? "30000000" : NULL) {
		setenv(HOST_TSC_ENV, bad, 1);
		assert_int_equal(host_tsc_env_check(msg, sizeof(msg)), -1);
		assert_non_null(strstr(msg, HOST_TSC_ENV "="));
		assert_non_null(strstr(msg, "kHz"));
	}
	unsetenv(HOST_TSC_ENV);
}

/* Plant text as the cache file, then ask for the rate. */
static unsigned long plant(const char *path, const struct strbuf *text)
{
	assert_int_equal(write_file_atomic(path, text->buf, text->len, 0644), 0);
	return host_tsc_khz();
}

/* The measurement is kept per host boot: a cache line for this boot is
 * taken as it is; without one the rate is measured again and its line
 * goes first, other boots' lines kept after it. */
static void test_cache(void **state)
{
	char tmpl[] = "/tmp/ktstr-hosttsc-XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *hostdir;
	struct strbuf boot = STRBUF_INIT, sb = STRBUF_INIT;
	char id[64];
	unsigned long khz;

	(void)state;
	assert_non_null(dir);
	unsetenv(HOST_TSC_ENV);
	unsetenv("KTSTR_CACHE_DIR");
	setenv("XDG_CACHE_HOME", dir, 1);
	hostdir = xasprintf("%s/ktstr/host", dir);
	path = xasprintf("%s/tsc-khz", hostdir);
	if (strbuf_read_file(&boot, "/proc/sys/kernel/random/boot_id") < 0)
		skip();
	strbuf_trim(&boot);

	assert_int_equal(mkdir_p(hostdir, 0755), 0);
	strbuf_addf(&sb, "%s 1234567\n", boot.buf);
	assert_int_equal(write_file_atomic(path, sb.buf, sb.len, 0644), 0);
	assert_int_equal(host_tsc_khz(), 1234567);

	strbuf_reset(&sb);
	strbuf_addstr(&sb, "00000000-0000-0000-0000-000000000000 1234567\n");
	khz = plant(path, &sb);
	assert_int_not_equal(khz, 1234567);
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_int_equal(sscanf(sb.buf, "%63s %lu", id, &khz), 2);
	assert_string_equal(id, boot.buf);
	assert_int_equal(host_tsc_khz(), khz);

	/* A rate set by hand is compared with this boot's. */
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s 2596100\n", boot.buf);
	assert_int_equal(write_file_atomic(path, sb.buf, sb.len, 0644), 0);
	{
		char msg[512];

		setenv(HOST_TSC_ENV, "1300000", 1);
		assert_int_equal(host_tsc_env_warning(msg, sizeof(msg)), 1);
		assert_non_null(strstr(msg, "KTSTR_TSC_KHZ=1300000 is 49.9% below"));
		assert_non_null(strstr(msg, "2596100 kHz"));
		assert_non_null(strstr(msg, "2.00 times as fast"));
		setenv(HOST_TSC_ENV, "5192200", 1);
		assert_int_equal(host_tsc_env_warning(msg, sizeof(msg)), 1);
		assert_non_null(strstr(msg, "100.0% above"));
		assert_non_null(strstr(msg, "0.50 times as fast"));
		/* Within 1%, 0, unset: nothing to say. */
		setenv(HOST_TSC_ENV, "2600000", 1);
		assert_int_equal(host_tsc_env_warning(msg, sizeof(msg)), 0);
		setenv(HOST_TSC_ENV, "0", 1);
		assert_int_equal(host_tsc_env_warning(msg, sizeof(msg)), 0);
		unsetenv(HOST_TSC_ENV);
		assert_int_equal(host_tsc_env_warning(msg, sizeof(msg)), 0);
	}

	/* Only "<boot_id> <khz>\n" is a cache line: trailing words are not. */
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s 1234567 junk\n", boot.buf);
	assert_int_equal(write_file_atomic(path, sb.buf, sb.len, 0644), 0);
	assert_int_not_equal(host_tsc_khz(), 1234567);

	/* Nor other spacing or another spelling of the number. */
	for (int i = 0; i < 3; i++) {
		static const char *const before[] = { "", " ", "" }, *const after[] = {
			"  1234567\n", " 1234567\n", " 01234567\n" };

		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s%s%s", before[i], boot.buf, after[i]);
		assert_int_not_equal(plant(path, &sb), 1234567);
	}

	/* A line that is not one is measured over too. */
	assert_int_equal(write_file_atomic(path, "garbage\n", 8, 0644), 0);
	host_tsc_khz();
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_int_equal(sscanf(sb.buf, "%63s %lu", id, &khz), 2);
	assert_string_equal(id, boot.buf);

	/* A cache shared by several hosts (one home directory): this boot's
	 * line is found after another host's, and measuring keeps the other
	 * hosts' lines after this one's, at most 7 of them. */
	strbuf_reset(&sb);
	strbuf_addf(&sb, "11111111-1111-1111-1111-111111111111 2000000\n%s 1234567\n", boot.buf);
	assert_int_equal(plant(path, &sb), 1234567);
	strbuf_reset(&sb);
	for (int i = 0; i < 9; i++)
		strbuf_addf(&sb, "%08d-1111-1111-1111-111111111111 %d\n", i, 2000000 + i);
	strbuf_addstr(&sb, "not a line\n");
	khz = plant(path, &sb);
	assert_int_not_equal(khz, 1234567);
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path), 0);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s %lu\n00000000-1111-1111-1111-111111111111 2000000\n",
			 boot.buf, khz);
		assert_int_equal(strncmp(sb.buf, want, strlen(want)), 0);
		/* Seven other hosts kept, the rest (and the bad line) dropped. */
		assert_non_null(strstr(sb.buf, "00000006-1111-1111-1111-111111111111 2000006\n"));
		assert_null(strstr(sb.buf, "00000007-"));
		assert_null(strstr(sb.buf, "not a line"));
	}
	assert_int_equal(host_tsc_khz(), khz);

	unsetenv("XDG_CACHE_HOME");
	rm_rf(dir);
	free(path);
	free(hostdir);
	strbuf_release(&boot);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invariant),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
