/* Unit tests for lib/core/topo.c: topology parsing, formatting and indexing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "topo.h"

static void parse_ok(const char *s, unsigned n, unsigned l, unsigned c, unsigned t)
{
	struct ktstr_topo topo = { 0 };
	struct strbuf err = STRBUF_INIT;

	if (topo_parse(s, &topo, &err) != 0)
		fail_msg("topo_parse(\"%s\") failed: %s", s, err.buf);
	assert_int_equal(err.len, 0);
	assert_int_equal(topo.nodes, n);
	assert_int_equal(topo.llcs, l);
	assert_int_equal(topo.cores, c);
	assert_int_equal(topo.threads, t);
	strbuf_release(&err);
}

/* Parse must fail, leave t untouched, and the message must contain every
 * string in want (NULL-terminated). */
static void parse_bad(const char *s, ...)
{
	struct ktstr_topo topo = { 77, 77, 77, 77 };
	struct strbuf err = STRBUF_INIT;
	const char *want;
	va_list ap;

	if (topo_parse(s, &topo, &err) != -1)
		fail_msg("topo_parse(\"%s\") unexpectedly succeeded", s ? s : "(null)");
	assert_true(err.len > 0);
	assert_null(strchr(err.buf, '\n'));
	assert_int_equal(topo.nodes, 77);
	assert_int_equal(topo.llcs, 77);
	assert_int_equal(topo.cores, 77);
	assert_int_equal(topo.threads, 77);
	va_start(ap, s);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err.buf, want))
			fail_msg("error for \"%s\" lacks \"%s\": %s", s, want, err.buf);
	va_end(ap);
	strbuf_release(&err);
}

static void test_parse_comma(void **state)
{
	parse_ok("1,2,4,1", 1, 2, 4, 1);
	parse_ok("2,4,8,2", 2, 4, 8, 2);
	parse_ok("1,1,1,1", 1, 1, 1, 1);
	parse_ok("4,8,2,2", 4, 8, 2, 2);
	parse_ok("007,7,1,1", 7, 7, 1, 1);
}

static void test_parse_short(void **state)
{
	parse_ok("1n2l4c1t", 1, 2, 4, 1);
	parse_ok("2n4l8c2t", 2, 4, 8, 2);
	parse_ok("1N2L4C1T", 1, 2, 4, 1);
	parse_ok("1n1l1c1t", 1, 1, 1, 1);
	parse_ok("10n20l3c2t", 10, 20, 3, 2);
}

static void test_parse_limits(void **state)
{
	/* Exactly at the limits is fine. */
	parse_ok("1,4096,1,1", 1, 4096, 1, 1);
	parse_ok("1,1,4096,1", 1, 1, 4096, 1);
	parse_ok("1,1,1,4096", 1, 1, 1, 4096);
	parse_ok("4096,4096,1,1", 4096, 4096, 1, 1);
	parse_ok("1n1l64c64t", 1, 1, 64, 64);
}

static void test_parse_zero(void **state)
{
	parse_bad("1,0,2,1", "LLCs", "at least 1", "expected", NULL);
	parse_bad("0,2,2,1", "NUMA nodes", "at least 1", NULL);
	parse_bad("1,2,0,1", "cores per LLC", "at least 1", NULL);
	parse_bad("1,2,2,0", "threads per core", "at least 1", NULL);
	parse_bad("0n1l1c1t", "NUMA nodes", "at least 1", NULL);
	parse_bad("1n1l1c0t", "threads per core", "at least 1", NULL);
}

static void test_parse_not_number(void **state)
{
	parse_bad("1,2,x,1", "cores per LLC", "'x'", "whole number", NULL);
	parse_bad("a", "'a'", "whole number", "1,2,4,1", NULL);
	parse_bad("1,-2,4,1", "LLCs", "'-2'", NULL);
	parse_bad("1,+2,4,1", "LLCs", "'+2'", NULL);
	parse_bad("1, 2,4,1", "LLCs", "' 2'", NULL);
	parse_bad("1,2.5,4,1", "LLCs", "'2.5'", NULL);
	parse_bad("0x1,2,4,1", "NUMA nodes", "'0x1'", NULL);
}

static void test_parse_field_count(void **state)
{
	parse_bad("1,2,3", "'1,2,3'", "3 fields", "need 4", NULL);
	parse_bad("1,2,3,4,5", "'1,2,3,4,5'", "more than 4", NULL);
	parse_bad("1", "'1'", "1 field,", NULL);
	parse_bad("1,2", "2 fields", NULL);
	parse_bad("1,2,4,1,", "more than 4", NULL);
	parse_bad("1,,4,1", "LLCs", "empty", NULL);
	parse_bad(",2,4,1", "NUMA nodes", "empty", NULL);
	parse_bad("1,2,4,", "threads per core", "empty", NULL);
}

static void test_parse_empty(void **state)
{
	parse_bad("", "empty", "1,2,4,1", NULL);
	parse_bad(NULL, "empty", NULL);
}

static void test_parse_uneven_llcs(void **state)
{
	parse_bad("3,4,1,1", "4 LLCs", "3 NUMA nodes", "multiple", NULL);
	parse_bad("2,3,1,1", "3 LLCs", "2 NUMA nodes", NULL);
	parse_bad("2n3l1c1t", "3 LLCs", "2 NUMA nodes", NULL);
	/* More nodes than LLCs can never split evenly. */
	parse_bad("4,2,1,1", "2 LLCs", "4 NUMA nodes", NULL);
}

static void test_parse_huge(void **state)
{
	parse_bad("1,4097,1,1", "LLCs", "'4097'", "too large", "4096", NULL);
	parse_bad("1,2,99999999999999999999999999,1", "cores per LLC",
		  "'99999999999999999999999999'", "too large", NULL);
	parse_bad("18446744073709551617,1,1,1", "NUMA nodes", "too large", NULL);
	parse_bad("4294967297,1,1,1", "NUMA nodes", "too large", NULL);
	parse_bad("1n1l99999999999c1t", "cores per LLC", "too large", NULL);
	/* Each field fits but the product is more than ktstr's sanity limit.
	 * (Below it, the QEMU machine type's own limit applies at boot.) */
	parse_bad("1,64,64,32", "131072 CPUs", "'1,64,64,32'", "65536", NULL);
	parse_bad("1,4096,4096,4096", "CPUs", NULL);
	{
		struct ktstr_topo t;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(topo_parse("1,64,64,2", &t, &err), 0);
		assert_int_equal(topo_cpus(&t), 8192);
		strbuf_release(&err);
	}
}

static void test_parse_trailing(void **state)
{
	parse_bad("1,2,4,1x", "threads per core", "'1x'", NULL);
	parse_bad("1,2,4,1 ", "threads per core", "'1 '", NULL);
	parse_bad("1n2l4c1tx", "trailing", "'x'", NULL);
	parse_bad("1n2l4c1t1", "trailing", "'1'", NULL);
	parse_bad("1n2l4c1t ", "trailing", NULL);
}

static void test_parse_short_bad(void **state)
{
	parse_bad("1n2l4c", "'t'", "threads per core", NULL);
	parse_bad("1n2l", "'c'", "cores per LLC", NULL);
	parse_bad("1l2n4c1t", "'n'", "NUMA nodes", NULL);
	parse_bad("n2l4c1t", "NUMA nodes", "empty", NULL);
	parse_bad("1n2lc1t", "cores per LLC", "empty", NULL);
	parse_bad("1n2l4x1t", "'c'", NULL);
	parse_bad("1n2,4,1", "NUMA nodes", "'1n2'", NULL);
}

static void test_error_appends(void **state)
{
	struct ktstr_topo t;
	struct strbuf err = STRBUF_INIT;

	strbuf_addstr(&err, "--topo: ");
	assert_int_equal(topo_parse("1,2,3", &t, &err), -1);
	assert_true(strncmp(err.buf, "--topo: ", 8) == 0);
	assert_non_null(strstr(err.buf, "need 4"));
	/* Message carries no program prefix or trailing newline. */
	assert_null(strstr(err.buf, "ktstr:"));
	assert_int_not_equal(err.buf[err.len - 1], '\n');
	strbuf_release(&err);
}

static void test_counts(void **state)
{
	struct ktstr_topo t = { 2, 4, 8, 2 };

	assert_int_equal(topo_cpus(&t), 64);
	assert_int_equal(topo_llcs_per_node(&t), 2);
	t = (struct ktstr_topo){ 1, 1, 1, 1 };
	assert_int_equal(topo_cpus(&t), 1);
	assert_int_equal(topo_llcs_per_node(&t), 1);
}

static void test_format(void **state)
{
	struct ktstr_topo t = { 2, 4, 8, 2 };
	struct strbuf sb = STRBUF_INIT;

	topo_format(&t, &sb);
	assert_string_equal(sb.buf, "2,4,8,2");
	strbuf_reset(&sb);
	topo_format_short(&t, &sb);
	assert_string_equal(sb.buf, "2n4l8c2t");
	/* Appends rather than replaces. */
	topo_format(&t, &sb);
	assert_string_equal(sb.buf, "2n4l8c2t2,4,8,2");
	strbuf_release(&sb);
}

static void test_format_roundtrip(void **state)
{
	static const char *const in[] = {
		"1,2,4,1", "2n4l8c2t", "4,8,2,2", "1n1l1c1t", "3,6,5,2",
	};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct ktstr_topo a, b, c;
		struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

		assert_int_equal(topo_parse(in[i], &a, &err), 0);
		topo_format(&a, &sb);
		assert_int_equal(topo_parse(sb.buf, &b, &err), 0);
		strbuf_reset(&sb);
		topo_format_short(&a, &sb);
		assert_int_equal(topo_parse(sb.buf, &c, &err), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_memory_equal(&a, &c, sizeof(a));
		assert_int_equal(err.len, 0);
		strbuf_release(&sb);
		strbuf_release(&err);
	}
}

static void test_cpu_index(void **state)
{
	/* 2 nodes, 4 LLCs (2 per node), 2 cores per LLC, 2 threads per core:
	 * 4 CPUs per LLC, 8 per node, 16 in total. */
	struct ktstr_topo t = { 2, 4, 2, 2 };
	unsigned cpu;

	assert_int_equal(topo_cpus(&t), 16);
	for (cpu = 0; cpu < topo_cpus(&t); cpu++) {
		assert_int_equal(topo_cpu_llc(&t, cpu), cpu / 4);
		assert_int_equal(topo_cpu_node(&t, cpu), cpu / 8);
	}
	assert_int_equal(topo_cpu_llc(&t, 3), 0);
	assert_int_equal(topo_cpu_llc(&t, 4), 1);
	assert_int_equal(topo_cpu_llc(&t, 15), 3);
	assert_int_equal(topo_cpu_node(&t, 7), 0);
	assert_int_equal(topo_cpu_node(&t, 8), 1);
	assert_int_equal(topo_cpu_node(&t, 15), 1);
}

static void test_cpu_index_single(void **state)
{
	struct ktstr_topo t = { 1, 1, 4, 1 };
	unsigned cpu;

	for (cpu = 0; cpu < 4; cpu++) {
		assert_int_equal(topo_cpu_llc(&t, cpu), 0);
		assert_int_equal(topo_cpu_node(&t, cpu), 0);
	}
	/* One LLC per node: node == LLC. */
	t = (struct ktstr_topo){ 4, 4, 1, 2 };
	for (cpu = 0; cpu < 8; cpu++) {
		assert_int_equal(topo_cpu_llc(&t, cpu), cpu / 2);
		assert_int_equal(topo_cpu_node(&t, cpu), cpu / 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_comma),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_zero),
		cmocka_unit_test(test_parse_not_number),
		cmocka_unit_test(test_parse_field_count),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_uneven_llcs),
		cmocka_unit_test(test_parse_huge),
		cmocka_unit_test(test_parse_trailing),
		cmocka_unit_test(test_parse_short_bad),
		cmocka_unit_test(test_error_appends),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_cpu_index),
		cmocka_unit_test(test_cpu_index_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
