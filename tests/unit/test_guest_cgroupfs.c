/* Unit tests for guest/cgroupfs.c on a fake cgroup v2 mount (see
 * fakeengine.h): which control files get which writes, in which order,
 * and what the errors say when the tree is not what the code expects. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeengine.h"

static int setup(void **state)
{
	struct fakeengine *f = calloc(1, sizeof(*f));

	if (!f || fe_init(f, "cgroupfs", "1,1,2,1", 1) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fakeengine *f = *state;

	fe_fini(f);
	free(f);
	return 0;
}

static void assert_file(const char *path, const char *want)
{
	char *got = fe_read(path);

	assert_string_equal(got, want);
	free(got);
}

/* Runs first, before any setup: the VM's paths are the defaults. */
static void test_default_root(void **state)
{
	(void)state;
	assert_string_equal(cgfs_root(), "/sys/fs/cgroup/ktstr");
}

static void test_setup_root_not_v2(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *want = xasprintf("cgroup v2 is not mounted on %s", f->mnt);

	/* No cgroup.subtree_control: a v1 hierarchy or nothing mounted. */
	assert_int_equal(unlink(tmpdir_path(f->mnt, "cgroup.subtree_control")), 0);
	assert_int_equal(cgfs_setup_root(&err), -1);
	assert_string_equal(err.buf, want);
	assert_false(is_directory(fe_cg_path(f, "")));
	free(want);
	strbuf_release(&err);
}

static void test_setup_root_enables_then_creates(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct tap tap;
	char *want;

	assert_int_equal(tap_start(&tap, tmpdir_path(f->mnt, "cgroup.subtree_control")), 0);
	/* A leftover tree from an earlier run goes first. */
	assert_int_equal(mkdir_p(fe_cg_path(f, "old/nested/leaf"), 0755), 0);
	assert_int_equal(cgfs_setup_root(&err), -1);
	/* One controller per write, cpuset first. */
	assert_true(tap_saw(&tap, "+cpuset+cpu"));
	assert_false(is_directory(fe_cg_path(f, "old")));
	assert_true(is_directory(fe_cg_path(f, "")));
	/* The fresh root is a plain directory here, without the
	 * subtree_control cgroupfs would give it: the error says so. */
	want = xasprintf("%s/cgroup.subtree_control: cannot enable +cpuset: %s",
			 fe_cg_path(f, ""), strerror(ENOENT));
	assert_string_equal(err.buf, want);
	free(want);
	tap_stop(&tap);
	strbuf_release(&err);
}

static void test_setup_root_cpuset_refused(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	const char *ctl = tmpdir_path(f->mnt, "cgroup.subtree_control");
	char *want = xasprintf("%s: cannot enable +cpuset: %s", ctl, strerror(EISDIR));

	/* A control file that cannot be written. */
	assert_int_equal(unlink(ctl), 0);
	assert_int_equal(mkdir(ctl, 0755), 0);
	assert_int_equal(cgfs_setup_root(&err), -1);
	assert_string_equal(err.buf, want);
	/* Without cpuset nothing is created. */
	assert_false(is_directory(fe_cg_path(f, "")));
	free(want);
	strbuf_release(&err);
}

/* Host mode on a machine whose cpuset is bound to cgroup v1: the root is
 * made without it, and anything that needs a cpuset hears why, up front
 * (cgfs_cpuset_missing, which the engine asks before a scenario with
 * cpuset ops runs) or when it tries. */
static void test_setup_root_cpuset_optional(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	const char *ctl = tmpdir_path(f->mnt, "cgroup.subtree_control");

	assert_int_equal(unlink(ctl), 0);
	assert_int_equal(mkdir(ctl, 0755), 0);
	cgfs_cpuset_optional(true);
	assert_int_equal(cgfs_setup_root(&err), 0);
	assert_string_equal(err.buf, "");
	assert_true(cgfs_cpuset_missing(&err));
	assert_non_null(strstr(err.buf, "the cpuset controller is not available under"));
	assert_non_null(strstr(err.buf, "; this scenario sets cpusets"));
	strbuf_reset(&err);
	assert_int_equal(cgfs_create("a", &err), 0);
	assert_int_equal(cgfs_set_cpuset("a", "0", "0", &err), -1);
	assert_non_null(strstr(err.buf, "the cpuset controller is not available under"));
	cgfs_cpuset_optional(false);
	/* A new root finds out again (and the tests after this one, in
	 * this process, see a cpuset).  The fake's fresh root has no
	 * subtree_control, so this setup fails there, as in
	 * test_setup_root_enables_then_creates, but only after the mount
	 * took +cpuset. */
	assert_int_equal(rmdir(ctl), 0);
	assert_int_equal(fe_put(ctl, ""), 0);
	assert_int_equal(cgfs_setup_root(&err), -1);
	strbuf_reset(&err);
	assert_false(cgfs_cpuset_missing(&err));
	assert_string_equal(err.buf, "");
	strbuf_release(&err);
}

static void test_create_leaf(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(fe_cgroup(f, "", "0-1"), 0);
	assert_int_equal(cgfs_create("a", &err), 0);
	assert_string_equal(err.buf, "");
	assert_true(is_directory(fe_cg_path(f, "a")));
	/* A leaf passes no controllers on, and the root is left alone. */
	assert_file(fe_cg_path(f, "cgroup.subtree_control"), "");
	/* Creating one that exists is no error. */
	assert_int_equal(cgfs_create("a", &err), 0);
	strbuf_release(&err);
}

static void test_create_nested(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct tap tap;

	assert_int_equal(fe_cgroup(f, "outer", "0-1"), 0);
	assert_int_equal(tap_start(&tap, fe_cg_path(f, "outer/cgroup.subtree_control")), 0);
	assert_int_equal(cgfs_create("outer/a", &err), 0);
	assert_string_equal(err.buf, "");
	assert_true(tap_saw(&tap, "+cpuset+cpu"));
	assert_true(is_directory(fe_cg_path(f, "outer/a")));
	tap_stop(&tap);
	strbuf_release(&err);
}

static void test_create_nested_no_controllers(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *want;

	assert_int_equal(fe_cgroup(f, "", "0-1"), 0);
	/* "outer" is made by mkdir, so has no control files here. */
	assert_int_equal(cgfs_create("outer/a", &err), -1);
	want = xasprintf("%s: cannot enable +cpuset: %s",
			 fe_cg_path(f, "outer/cgroup.subtree_control"), strerror(ENOENT));
	assert_string_equal(err.buf, want);
	/* It stops there: no leaf below a parent without cpuset. */
	assert_false(is_directory(fe_cg_path(f, "outer/a")));
	free(want);
	strbuf_release(&err);
}

static void test_create_without_root(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *want = xasprintf("mkdir %s: %s", fe_cg_path(f, "a"), strerror(ENOENT));

	assert_int_equal(cgfs_create("a", &err), -1);
	assert_string_equal(err.buf, want);
	free(want);
	strbuf_release(&err);
}

static void test_set_cpuset(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(fe_cgroup(f, "a", "0-1"), 0);
	assert_int_equal(cgfs_set_cpuset("a", "1", "0", &err), 0);
	assert_file(fe_cg_path(f, "a/cpuset.cpus"), "1");
	assert_file(fe_cg_path(f, "a/cpuset.mems"), "0");

	/* Clearing writes a newline (an empty write never reaches the
	 * kernel's handler); NULL mems leaves cpuset.mems alone. */
	assert_int_equal(fe_put(fe_cg_path(f, "a/cpuset.cpus"), ""), 0);
	assert_int_equal(cgfs_set_cpuset("a", "", NULL, &err), 0);
	assert_file(fe_cg_path(f, "a/cpuset.cpus"), "\n");
	assert_file(fe_cg_path(f, "a/cpuset.mems"), "0");
	/* Empty mems clears them too. */
	assert_int_equal(fe_put(fe_cg_path(f, "a/cpuset.mems"), ""), 0);
	assert_int_equal(cgfs_set_cpuset("a", "0", "", &err), 0);
	assert_file(fe_cg_path(f, "a/cpuset.mems"), "\n");
	assert_string_equal(err.buf, "");
	strbuf_release(&err);
}

static void test_set_cpuset_missing(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *want = xasprintf("write \"0-1\" to %s: %s", fe_cg_path(f, "nope/cpuset.cpus"),
			       strerror(ENOENT));

	assert_int_equal(cgfs_set_cpuset("nope", "0-1", "0", &err), -1);
	assert_string_equal(err.buf, want);
	free(want);
	strbuf_release(&err);
}

static void test_effective(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(fe_cgroup(f, "a", "0-1,3"), 0);
	assert_int_equal(cgfs_effective("a", &sb), 0);
	/* Trimmed: ready for mask_parse. */
	assert_string_equal(sb.buf, "0-1,3");
	strbuf_reset(&sb);
	assert_int_equal(cgfs_effective("nope", &sb), -1);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

static void test_attach(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct tap tap;
	char *want;

	assert_int_equal(fe_cgroup(f, "a", "0-1"), 0);
	assert_int_equal(tap_start(&tap, fe_cg_path(f, "a/cgroup.procs")), 0);
	assert_int_equal(cgfs_attach("a", 1234, &err), 0);
	assert_int_equal(cgfs_attach("a", 56, &err), 0);
	/* One pid per write, nothing around it. */
	assert_true(tap_saw(&tap, "123456"));
	tap_stop(&tap);

	want = xasprintf("write \"7\" to %s: %s", fe_cg_path(f, "b/cgroup.procs"),
			 strerror(ENOENT));
	assert_int_equal(cgfs_attach("b", 7, &err), -1);
	assert_string_equal(err.buf, want);
	free(want);
	strbuf_release(&err);
}

static void test_remove(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(fe_cgroup(f, "", "0-1"), 0);
	/* Empty directories: rmdir works as on cgroupfs, children first;
	 * cgroup.kill missing is a kernel before 5.14, not an error. */
	assert_int_equal(mkdir_p(fe_cg_path(f, "outer/a/b"), 0755), 0);
	assert_int_equal(mkdir(fe_cg_path(f, "outer/c"), 0755), 0);
	assert_int_equal(mkdir(fe_cg_path(f, "other"), 0755), 0);
	assert_int_equal(cgfs_remove("outer", &err), 0);
	assert_string_equal(err.buf, "");
	assert_false(is_directory(fe_cg_path(f, "outer")));
	assert_true(is_directory(fe_cg_path(f, "other")));
	/* Gone already: nothing to do. */
	assert_int_equal(cgfs_remove("outer", &err), 0);
	strbuf_release(&err);
}

static void test_remove_fails(void **state)
{
	struct fakeengine *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *want;

	/* Control files in a plain directory make rmdir fail as a cgroup
	 * with a task left would (with ENOTEMPTY, not retried). */
	assert_int_equal(fe_cgroup(f, "a", "0-1"), 0);
	assert_int_equal(cgfs_remove("a", &err), -1);
	/* Its tasks were killed first. */
	assert_file(fe_cg_path(f, "a/cgroup.kill"), "1");
	want = xasprintf("cannot remove %s: %s", fe_cg_path(f, "a"), strerror(ENOTEMPTY));
	assert_string_equal(err.buf, want);
	free(want);
	strbuf_release(&err);
}

static void test_teardown(void **state)
{
	struct fakeengine *f = *state;

	/* Nothing there: nothing done. */
	cgfs_teardown();
	assert_int_equal(mkdir_p(fe_cg_path(f, "x/y"), 0755), 0);
	assert_int_equal(mkdir_p(fe_cg_path(f, "z"), 0755), 0);
	cgfs_teardown();
	assert_false(is_directory(fe_cg_path(f, "")));
	assert_true(is_directory(f->mnt));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_root),
		cmocka_unit_test_setup_teardown(test_setup_root_not_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_root_enables_then_creates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_setup_root_cpuset_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_root_cpuset_optional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_nested_no_controllers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_without_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_cpuset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_cpuset_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_effective, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
