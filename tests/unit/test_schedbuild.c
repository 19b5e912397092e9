/* Unit tests for lib/kernel/schedbuild.c and kernel_find_id: the kernel a
 * --sched build resolves, its default output directory and the helper's
 * command line, on a private cache. */
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
#include "hash.h"
#include "kernel.h"
#include "schedbuild.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	if (tmpdir_create(dir, sizeof(dir), "schedbuild"))
		return -1;
	setenv("KTSTR_CACHE_DIR", tmpdir_path(dir, "cache"), 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

/* Errors name --kernel, the input the user typed, not the variable. */
static void test_find_id_names_the_option(void **state)
{
	struct kernel_found kf;
	struct strbuf err = STRBUF_INIT;
	const char *missing = tmpdir_path(dir, "nokernel");

	(void)state;
	setenv("KTSTR_KERNEL", "/elsewhere", 1);
	assert_int_equal(kernel_find_id("--kernel", missing, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "--kernel="));
	assert_non_null(strstr(err.buf, missing));
	assert_null(strstr(err.buf, "KTSTR_KERNEL"));
	strbuf_release(&err);

	assert_int_equal(kernel_find_id("--kernel", "6.1..6.2", &kf, &err), -1);
	assert_non_null(strstr(err.buf, "--kernel=6.1..6.2: ranges"));
	strbuf_release(&err);
	unsetenv("KTSTR_KERNEL");
}

static void test_out_dir(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char hex[SHA256_HEX_LEN + 1], *out, *want;

	(void)state;
	sha256_buf_hex("/src/tree", 9, hex);
	assert_int_equal(schedbuild_out_dir("/src/tree", "/c/kernels/6.14.2-key//", &out,
					    &err), 0);
	want = xasprintf("%s/.schedulers/6.14.2-key/custom-%.12s",
			 tmpdir_path(dir, "cache"), hex);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void test_argv(void **state)
{
	struct schedbuild o = { .jobs = 3 };
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	o.tree = tmpdir_path(dir, "notree");
	assert_int_equal(schedbuild_argv(&o, &argv, &err), -1);
	assert_non_null(strstr(err.buf, "no such directory"));
	strbuf_release(&err);

	mkdir_p(tmpdir_path(dir, "tree"), 0755);
	o.tree = tmpdir_path(dir, "tree");
	o.kernel = tmpdir_path(dir, "nokernel");
	assert_int_equal(schedbuild_argv(&o, &argv, &err), -1);
	assert_non_null(strstr(err.buf, "--kernel="));
	strbuf_release(&err);

	o.kernel = NULL;
	o.kernel_dir = "/c/entry";
	o.out = "/o";
	o.clang = "clang-22";
	if (schedbuild_argv(&o, &argv, &err)) {
		/* Only the helper may be missing, where ktstr is not installed. */
		assert_non_null(strstr(err.buf, "build-sched-tree not found"));
		strbuf_release(&err);
		return;
	}
	assert_int_equal(argv.n, 11);
	assert_non_null(strstr(argv.v[0], "build-sched-tree"));
	assert_string_equal(argv.v[2], realpath(o.tree, (char[4096]){ 0 }));
	assert_string_equal(argv.v[4], "/c/entry");
	assert_string_equal(argv.v[6], "/o");
	assert_string_equal(argv.v[8], "3");
	assert_string_equal(argv.v[10], "clang-22");
	strvec_clear(&argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_id_names_the_option),
		cmocka_unit_test(test_out_dir),
		cmocka_unit_test(test_argv),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
