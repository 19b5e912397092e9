/* Unit tests for lib/host/hostllc.c: the host LLC map on a fake sysfs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fsutil.h"
#include "hostllc.h"

static char dir[] = "/tmp/ktstr-test-hostllc.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void put(const char *d, const char *name, const char *text)
{
	char *f = path_join(d, name);

	assert_int_equal(write_file_atomic(f, text, strlen(text), 0644), 0);
	free(f);
}

/* cpu<N>/cache/index<idx> with this level and shared_cpu_list. */
static void fake_cache(const char *root, int cpu, int idx, const char *level,
		       const char *list)
{
	char *d = xasprintf("%s/cpu%d/cache/index%d", root, cpu, idx);

	assert_int_equal(mkdir_p(d, 0755), 0);
	if (level)
		put(d, "level", level);
	if (list)
		put(d, "shared_cpu_list", list);
	free(d);
}

/* L1 private, L3 shared by list. */
static void fake_cpu(const char *root, int cpu, const char *l3)
{
	char self[16];

	snprintf(self, sizeof(self), "%d\n", cpu);
	fake_cache(root, cpu, 0, "1\n", self);
	fake_cache(root, cpu, 3, "3\n", l3);
}

static void usable_range(cpu_set_t *set, int lo, int hi)
{
	CPU_ZERO(set);
	for (int cpu = lo; cpu <= hi; cpu++)
		CPU_SET(cpu, set);
}

static void test_three_llcs(void **state)
{
	char *root = path_join(dir, "three");
	int llc_of[CPU_SETSIZE];
	cpu_set_t usable;

	(void)state;
	for (int cpu = 0; cpu < 8; cpu++)
		fake_cpu(root, cpu, cpu < 4 ? "0-3\n" : cpu < 6 ? "4-5\n" : "6-7\n");
	usable_range(&usable, 0, 7);
	hostllc_map(root, &usable, llc_of);
	assert_int_equal(llc_of[0], 0);
	assert_int_equal(llc_of[3], 0);
	assert_int_equal(llc_of[4], 4);
	assert_int_equal(llc_of[5], 4);
	assert_int_equal(llc_of[7], 6);
	assert_int_equal(llc_of[8], -1);	/* not usable */
	/* Only the usable CPUs are read and named. */
	usable_range(&usable, 5, 6);
	hostllc_map(root, &usable, llc_of);
	assert_int_equal(llc_of[4], -1);
	assert_int_equal(llc_of[5], 4);
	assert_int_equal(llc_of[6], 6);
	free(root);
}

/* The highest level wins, whatever the index numbering, and a list that
 * is not a cpulist does not count. */
static void test_highest_level(void **state)
{
	char *root = path_join(dir, "levels");
	int llc_of[CPU_SETSIZE];
	cpu_set_t usable;

	(void)state;
	for (int cpu = 0; cpu < 4; cpu++) {
		fake_cache(root, cpu, 0, "3\n", cpu < 2 ? "0-1\n" : "2-3\n");
		fake_cache(root, cpu, 1, "1\n", "0-3\n");
		fake_cache(root, cpu, 2, "4\n", "garbage\n");
		fake_cache(root, cpu, 3, "5\n", NULL);
	}
	usable_range(&usable, 0, 3);
	hostllc_map(root, &usable, llc_of);
	assert_int_equal(llc_of[1], 0);
	assert_int_equal(llc_of[2], 2);
	assert_int_equal(llc_of[3], 2);
	free(root);
}

/* No cache information, or some CPUs without it: one LLC, named by the
 * first usable CPU. */
static void test_no_information(void **state)
{
	char *root = path_join(dir, "empty");
	int llc_of[CPU_SETSIZE];
	cpu_set_t usable;

	(void)state;
	assert_int_equal(mkdir_p(root, 0755), 0);
	CPU_ZERO(&usable);
	CPU_SET(2, &usable);
	CPU_SET(5, &usable);
	hostllc_map(root, &usable, llc_of);
	assert_int_equal(llc_of[2], 2);
	assert_int_equal(llc_of[5], 2);
	assert_int_equal(llc_of[0], -1);
	free(root);

	root = path_join(dir, "partial");
	fake_cpu(root, 0, "0\n");
	fake_cpu(root, 1, "1\n");
	fake_cache(root, 2, 0, "1\n", NULL);	/* no list: unknown */
	usable_range(&usable, 0, 2);
	hostllc_map(root, &usable, llc_of);
	assert_int_equal(llc_of[0], 0);
	assert_int_equal(llc_of[1], 0);
	assert_int_equal(llc_of[2], 0);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_llcs),
		cmocka_unit_test(test_highest_level),
		cmocka_unit_test(test_no_information),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
