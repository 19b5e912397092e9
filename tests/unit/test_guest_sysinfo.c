/* Unit tests for guest/sysinfo.c: the guest_topology record, read from a
 * fake sysfs tree laid out as the kernel lays out the real one.  The host
 * compares this record with the topology it asked QEMU for, so both the
 * lists and their order matter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"

#define CPU "/sys/devices/system/cpu/"
#define NODE "/sys/devices/system/node/"

static int root_setup(void **state)
{
	char *root = make_temp_dir("/tmp", "ktstr-test-sysinfo.");

	if (!root)
		return -1;
	*state = root;
	return 0;
}

static int root_teardown(void **state)
{
	char *root = *state;
	int rc = rm_rf(root);

	free(root);
	return rc;
}

/* Write root/rel (directories made as needed) with text and the newline
 * sysfs ends every file with. */
static void put(const char *root, const char *rel, const char *text)
{
	char *path = xasprintf("%s%s", root, rel);
	char *dir = path_dirname(path);
	char *body = xasprintf("%s\n", text);

	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, body, strlen(body), 0644), 0);
	free(body);
	free(dir);
	free(path);
}

static void mkdir_under(const char *root, const char *rel)
{
	char *path = xasprintf("%s%s", root, rel);

	assert_int_equal(mkdir_p(path, 0755), 0);
	free(path);
}

/* The JSON array key of rec as "a|b|c". */
static char *joined(const json_t *rec, const char *key)
{
	const json_t *arr = json_object_get(rec, key), *v;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (!json_is_array(arr))
		fail_msg("%s: not an array", key);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			fail_msg("%s[%zu]: not a string", key, i);
		strbuf_addf(&sb, i ? "|%s" : "%s", json_string_value(v));
	}
	return strbuf_detach(&sb, NULL);
}

static void want_list(const json_t *rec, const char *key, const char *want)
{
	char *got = joined(rec, key);

	if (strcmp(got, want))
		fail_msg("%s: got \"%s\", want \"%s\"", key, got, want);
	free(got);
}

/* cpu0-1: SMT siblings sharing an L3 with nothing else; cpu2-3: one core
 * each, sharing an L2 only (no index3: the highest index is the LLC);
 * cpu3 has only the pre-5.x thread_siblings_list; cpu10 is offline (no
 * topology or cache).  Node ids are sparse and listed out of order. */
static void test_topology(void **state)
{
	const char *root = *state;
	json_t *rec;

	put(root, CPU "online", "0-3");
	put(root, CPU "possible", "0-15");
	mkdir_under(root, CPU "cpufreq");
	mkdir_under(root, CPU "cpuidle");
	mkdir_under(root, CPU "cpu10");
	put(root, CPU "cpu10/online", "0");
	put(root, CPU "cpu0/topology/core_cpus_list", "0-1");
	put(root, CPU "cpu0/topology/thread_siblings_list", "0-1");
	put(root, CPU "cpu1/topology/core_cpus_list", "0-1");
	put(root, CPU "cpu1/topology/thread_siblings_list", "0-1");
	put(root, CPU "cpu2/topology/core_cpus_list", "2");
	put(root, CPU "cpu2/topology/thread_siblings_list", "2");
	put(root, CPU "cpu3/topology/thread_siblings_list", "3");
	put(root, CPU "cpu0/cache/index0/shared_cpu_list", "0-1");
	put(root, CPU "cpu0/cache/index3/shared_cpu_list", "0-1");
	put(root, CPU "cpu1/cache/index3/shared_cpu_list", "0-1");
	put(root, CPU "cpu2/cache/index0/shared_cpu_list", "2");
	put(root, CPU "cpu2/cache/index1/shared_cpu_list", "2");
	put(root, CPU "cpu2/cache/index2/shared_cpu_list", "2-3");
	mkdir_under(root, CPU "cpu2/cache/uevent_dir");
	put(root, CPU "cpu3/cache/index2/shared_cpu_list", "2-3");
	put(root, NODE "node10/cpulist", "");
	put(root, NODE "node2/cpulist", "2-3");
	put(root, NODE "node0/cpulist", "0-1");
	put(root, NODE "online", "0,2,10");
	put(root, NODE "has_cpu", "0,2");

	rec = sysinfo_topology_at(root);
	assert_string_equal(json_get_str(rec, "type"), "guest_topology");
	assert_int_equal(json_get_int(rec, "cpus", -1), 4);
	assert_string_equal(json_get_str(rec, "online"), "0-3");
	/* By node id, numerically; a memory-only node has an empty list. */
	want_list(rec, "nodes", "0-1|2-3|");
	want_list(rec, "llcs", "0-1|2-3");
	want_list(rec, "cores", "0-1|2|3");
	want_list(rec, "smt", "0-1|2|3");
	json_decref(rec);
}

/* CPU ids sort numerically too: cpu10's groups come after cpu2's. */
static void test_cpu_order(void **state)
{
	const char *root = *state;
	unsigned c;
	json_t *rec;

	put(root, CPU "online", "0-2,5,7-11");
	for (c = 0; c < 12; c++) {
		char rel[96], list[16];

		snprintf(list, sizeof(list), "%u", c);
		snprintf(rel, sizeof(rel), CPU "cpu%u/topology/core_cpus_list", c);
		put(root, rel, list);
		snprintf(rel, sizeof(rel), CPU "cpu%u/topology/thread_siblings_list", c);
		put(root, rel, list);
		snprintf(list, sizeof(list), "%s", c < 8 ? "0-7" : "8-11");
		snprintf(rel, sizeof(rel), CPU "cpu%u/cache/index3/shared_cpu_list", c);
		put(root, rel, list);
	}
	rec = sysinfo_topology_at(root);
	/* The count is of the online list, not of the directories. */
	assert_int_equal(json_get_int(rec, "cpus", -1), 9);
	want_list(rec, "llcs", "0-7|8-11");
	want_list(rec, "cores", "0|1|2|3|4|5|6|7|8|9|10|11");
	/* No node directory (a kernel without NUMA): one node, all online. */
	want_list(rec, "nodes", "0-2,5,7-11");
	json_decref(rec);
}

/* An online list that does not parse (or none): the count falls back to
 * what the C library says, the list is passed on as it is. */
static void test_online_fallback(void **state)
{
	const char *root = *state;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	json_t *rec;

	put(root, CPU "online", "0-x");
	rec = sysinfo_topology_at(root);
	assert_int_equal(json_get_int(rec, "cpus", -1), n);
	assert_string_equal(json_get_str(rec, "online"), "0-x");
	json_decref(rec);

	put(root, CPU "online", "3-1");
	rec = sysinfo_topology_at(root);
	assert_int_equal(json_get_int(rec, "cpus", -1), n);
	json_decref(rec);

}

/* No online file and nothing else: counts from the C library, empty
 * lists, and no node made up from a missing list. */
static void test_empty(void **state)
{
	const char *root = *state;
	json_t *rec = sysinfo_topology_at(root);

	assert_int_equal(json_get_int(rec, "cpus", -1), sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(json_is_null(json_object_get(rec, "online")));
	want_list(rec, "nodes", "");
	want_list(rec, "llcs", "");
	want_list(rec, "cores", "");
	want_list(rec, "smt", "");
	json_decref(rec);
}

/* The agent's own call reads the real sysfs, the same files with an
 * empty root: on this host it must agree with the C library. */
static void test_real_sysfs(void **state)
{
	json_t *a = sysinfo_topology(), *b = sysinfo_topology_at("");

	assert_true(json_equal(a, b));
	assert_int_equal(json_get_int(a, "cpus", -1), sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(json_array_size(json_object_get(a, "nodes")) >= 1);
	json_decref(a);
	json_decref(b);
}

#define ROOT(t) cmocka_unit_test_setup_teardown(t, root_setup, root_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ROOT(test_topology),
		ROOT(test_cpu_order),
		ROOT(test_online_fallback),
		ROOT(test_empty),
		cmocka_unit_test(test_real_sysfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
