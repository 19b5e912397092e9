/* Unit tests for lib/results/abcompare.c: which sidecars of an A/B run are
 * compared with which, by the files each variant wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abcompare.h"
#include "diag.h"
#include "fsutil.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return tmpdir_create(dir, sizeof(dir), "abcompare");
}

static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

/* A sidecar of case "s TEST/tiny-1llc" under scheduler name sched with
 * total_iterations iters, written as file; its path. */
static char *put_test_rep(const char *sub, const char *file, const char *test,
			  const char *sched, int repeat, int iters)
{
	char *d = xasprintf("%s/%s", dir, sub);
	char *path = xasprintf("%s/%s.ktstr.json", d, file);
	char *text = xasprintf(
		"{\"type\":\"sidecar\",\"schema\":1,\"run_id\":\"r\",\"run_source\":\"local\","
		"\"suite\":\"s\",\"test\":\"%s\",\"preset\":\"tiny-1llc\","
		"\"case\":\"%s/tiny-1llc\",\"repeat\":%d,\"topology\":{\"spec\":\"1n1l4c1t\"},"
		"\"scheduler\":{\"name\":\"%s\"},\"kernel\":{\"label\":\"7.0\"},"
		"\"result\":\"pass\",\"metrics\":{\"total_iterations\":%d}}", test, test, repeat,
		sched, iters);

	assert_int_equal(mkdir_p(d, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	free(text);
	free(d);
	return path;
}

static char *put_test(const char *sub, const char *file, const char *test, const char *sched,
		      int iters)
{
	return put_test_rep(sub, file, test, sched, 1, iters);
}

static char *put(const char *sub, const char *file, const char *sched, int iters)
{
	return put_test(sub, file, "steady", sched, iters);
}

static void test_schedulers_same_name(void **state)
{
	/* Two builds of one scheduler: the same name in both sidecars, told
	 * apart only by which variant wrote which file. */
	const char *scheds[] = { "old-scx_x", "new-scx_x" };
	const char *kernels[] = { "7.0" };
	struct abcmp ab = { .kernels = kernels, .n_kernels = 1, .scheds = scheds, .n_scheds = 2 };
	struct strbuf out = STRBUF_INIT;
	char *a = put("run", "a", "scx_x", 100000), *b = put("run", "b", "scx_x", 50000);
	char *other = put("run", "c", "scx_x", 1);	/* not this run's */
	/* Two samples a side: with one, any change is only noise. */
	char *a2 = put_test_rep("run", "a2", "steady", "scx_x", 2, 101000);
	char *b2 = put_test_rep("run", "b2", "steady", "scx_x", 2, 51000);

	(void)state;
	assert_true(abcmp_wanted(&ab));
	abcmp_add(&ab, 0, 0, a);
	abcmp_add(&ab, 0, 0, a2);
	abcmp_add(&ab, 0, 1, b);
	abcmp_add(&ab, 0, 1, b2);
	assert_int_equal(abcmp_run(&ab, false, &out), 1);
	assert_non_null(strstr(out.buf, "A/B: old-scx_x vs new-scx_x\n"));
	assert_non_null(strstr(out.buf, "s steady/tiny-1llc"));
	assert_non_null(strstr(out.buf, "REGRESSION"));
	assert_non_null(strstr(out.buf, "compare: 1 cases, 1 regressions"));
	strbuf_reset(&out);

	/* JSON: compare's own records, the sides named by their labels. */
	assert_int_equal(abcmp_run(&ab, true, &out), 1);
	assert_non_null(strstr(out.buf, "\"type\":\"compare_summary\""));
	assert_non_null(strstr(out.buf, "\"a\":\"old-scx_x\""));
	assert_null(strstr(out.buf, "A/B:"));
	strbuf_release(&out);
	abcmp_release(&ab);
	free(a);
	free(b);
	free(a2);
	free(b2);
	free(other);
}

static void test_kernels(void **state)
{
	/* Two kernels, one directory each; the tests with their own
	 * scheduler compare across kernels too. */
	const char *kernels[] = { "6.14", "7.0" };
	struct abcmp ab = { .kernels = kernels, .n_kernels = 2 };
	struct strbuf out = STRBUF_INIT;
	char *a = put("k1", "a", "scx_simple", 1000), *b = put("k2", "a", "scx_simple", 1000);

	(void)state;
	abcmp_add(&ab, 0, ABCMP_OWN, a);
	abcmp_add(&ab, 1, ABCMP_OWN, b);
	assert_int_equal(abcmp_run(&ab, false, &out), 0);
	assert_non_null(strstr(out.buf, "A/B: 6.14 vs 7.0\n"));
	assert_non_null(strstr(out.buf, "compare: 1 cases, 0 regressions, 0 improvements"));
	strbuf_reset(&out);

	/* With one --scheduler as well, its cases and the others make one
	 * comparison of the kernels, not two under one title. */
	{
		const char *scheds[] = { "scx_a" };
		char *c = put_test("k1", "p", "param", "scx_a", 1000);
		char *d = put_test("k2", "p", "param", "scx_a", 1000);

		ab.scheds = scheds;
		ab.n_scheds = 1;
		abcmp_add(&ab, 0, 0, c);
		abcmp_add(&ab, 1, 0, d);
		assert_int_equal(abcmp_run(&ab, false, &out), 0);
		assert_non_null(strstr(out.buf, "compare: 2 cases, 0 regressions"));
		assert_null(strstr(strstr(out.buf, "A/B: ") + 1, "A/B: "));
		free(c);
		free(d);
	}
	strbuf_release(&out);
	abcmp_release(&ab);
	free(a);
	free(b);
}

static void test_one_side_empty(void **state)
{
	/* B wrote no sidecar (its cases were all interrupted): nothing to
	 * compare, a note on stderr and no output. */
	const char *scheds[] = { "scx_a", "scx_b" };
	const char *kernels[] = { "7.0" };
	struct abcmp ab = { .kernels = kernels, .n_kernels = 1, .scheds = scheds, .n_scheds = 2 };
	struct strbuf out = STRBUF_INIT;
	char *a = put("one", "a", "scx_a", 1000);

	(void)state;
	abcmp_add(&ab, 0, 0, a);
	assert_int_equal(abcmp_run(&ab, false, &out), 0);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
	abcmp_release(&ab);
	free(a);

	/* One kernel, one scheduler: nothing to compare. */
	ab.n_scheds = 1;
	assert_false(abcmp_wanted(&ab));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schedulers_same_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_side_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
