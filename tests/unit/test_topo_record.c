/* Unit tests for lib/core/topo_record.c: N,L,C,T from a guest_topology
 * record, and the lines that say how two topologies differ. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "topo_record.h"

static json_t *rec(const char *text)
{
	json_error_t je;
	json_t *r = json_loads(text, 0, &je);

	if (!r)
		fail_msg("bad test JSON: %s", je.text);
	return r;
}

static void from_ok(const char *text, const char *want)
{
	struct ktstr_topo t = { 0 };
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	json_t *r = rec(text);

	if (topo_from_record(r, &t, &err) < 0)
		fail_msg("%s: %s", text, err.buf);
	topo_format(&t, &got);
	assert_string_equal(got.buf, want);
	json_decref(r);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void from_bad(const char *text, const char *want)
{
	struct ktstr_topo t = { 0 };
	struct strbuf err = STRBUF_INIT;
	json_t *r = rec(text);

	assert_int_equal(topo_from_record(r, &t, &err), -1);
	if (!strstr(err.buf, want))
		fail_msg("error \"%s\" lacks \"%s\"", err.buf, want);
	json_decref(r);
	strbuf_release(&err);
}

/* The records a ktstr VM's agent sends for the topologies it was booted
 * with, and this CI machine's. */
static void test_vm_records(void **state)
{
	(void)state;
	from_ok("{\"cpus\":2,\"nodes\":[\"0-1\"],\"llcs\":[\"0-1\"],\"smt\":[\"0\",\"1\"]}",
		"1,1,2,1");
	from_ok("{\"cpus\":8,\"nodes\":[\"0-3\",\"4-7\"],\"llcs\":[\"0-1\",\"2-3\",\"4-5\",\"6-7\"],"
		"\"smt\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\"]}", "2,4,2,1");
	from_ok("{\"cpus\":8,\"nodes\":[\"0-7\"],\"llcs\":[\"0-3\",\"4-7\"],"
		"\"smt\":[\"0-1\",\"2-3\",\"4-5\",\"6-7\"]}", "1,2,2,2");
	/* No NUMA or cache information at all: one node, one LLC. */
	from_ok("{\"cpus\":4}", "1,1,4,1");
}

static void test_not_uniform(void **state)
{
	(void)state;
	from_bad("{\"cpus\":6,\"llcs\":[\"0-3\",\"4-5\"]}", "not all the same size");
	from_bad("{\"cpus\":5,\"llcs\":[\"0-1\",\"2-3\"]}", "do not split evenly");
	from_bad("{\"cpus\":4,\"nodes\":[\"0-3\"],\"llcs\":[\"0-1\",\"2-3\"],\"smt\":[\"0-2\",\"3\"]}",
		 "smt are not all the same size");
}

static void test_malformed(void **state)
{
	(void)state;
	from_bad("{}", "no CPU count");
	from_bad("{\"cpus\":0}", "no CPU count");
	from_bad("{\"cpus\":4,\"llcs\":\"0-3\"}", "not an array");
	from_bad("{\"cpus\":4,\"llcs\":[\"0-x\"]}", "\"llcs\"[0] is not a cpulist");
	from_bad("{\"cpus\":4,\"llcs\":[7]}", "is not a cpulist");
}

static void test_diff(void **state)
{
	struct ktstr_topo a = { 1, 2, 2, 1 }, b = { 1, 1, 2, 1 };
	struct strvec out = STRVEC_INIT;

	(void)state;
	assert_int_equal(topo_diff(&a, &a, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(topo_diff(&a, &b, &out), 2);
	assert_string_equal(out.v[0], "llcs: expected 2, found 1");
	assert_string_equal(out.v[1], "cpus: expected 4, found 2");
	strvec_clear(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_records),
		cmocka_unit_test(test_not_uniform),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
