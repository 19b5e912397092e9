/* Unit tests for guest/bundle.c: in bundle mode a dynamic program under
 * the bundle runs through the bundle's own loader and libraries (what an
 * exported reproducer needs on a machine without them), anything else is
 * a plain exec. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle.h"
#include "diag.h"
#include "fsutil.h"
#include "strbuf.h"

static char *tmp;

static void copy(const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, from) < 0)
		fail_msg("cannot read %s", from);
	assert_int_equal(write_file_atomic(to, sb.buf, sb.len, 0755), 0);
	strbuf_release(&sb);
}

/* A bundle: DIR/sched/sh (dynamic, libc only) with the loader and libc
 * under DIR/lib, as ktstr-export lays it out. */
static int setup(void **state)
{
	char *p;

	tmp = make_temp_dir("/tmp", "ktstr-test-bundle-");
	assert_non_null(tmp);
	p = xasprintf("%s/sched", tmp);
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
	p = xasprintf("%s/lib", tmp);
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
	p = xasprintf("%s/sched/sh", tmp);
	copy("/bin/sh", p);
	free(p);
	p = xasprintf("%s/lib/" BUNDLE_LOADER, tmp);
	copy("/lib64/ld-linux-x86-64.so.2", p);
	free(p);
	p = xasprintf("%s/lib/libc.so.6", tmp);
	copy("/lib/x86_64-linux-gnu/libc.so.6", p);
	free(p);
	return 0;
}

static int teardown(void **state)
{
	rm_rf(tmp);
	free(tmp);
	bundle_set_dir(NULL);
	return 0;
}

/* Run bundle_exec(path, {argv0, "-c", script}) in a child; its output. */
static int run(const char *path, bool search, const char *argv0, const char *script,
	       struct strbuf *out)
{
	char *argv[] = { (char *)argv0, "-c", (char *)script, NULL };
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		bundle_exec(path, argv, search);
		_exit(127);
	}
	close(p[1]);
	strbuf_read_fd(out, p[0]);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_dynamic_elf(void **state)
{
	char *p = xasprintf("%s/sched/sh", tmp);

	assert_true(bundle_is_dynamic_elf(p));
	assert_true(bundle_is_dynamic_elf("/bin/sh"));
	assert_false(bundle_is_dynamic_elf("/etc/passwd"));
	assert_false(bundle_is_dynamic_elf("/nonexistent"));
	free(p);
}

/* A relative path is the bundle's; the process is the bundle's loader,
 * and $0 is the argv[0] given. */
static void test_relative_through_loader(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *want;

	bundle_set_dir(tmp);
	assert_int_equal(run("sched/sh", false, "scx_name",
			     "echo \"$0 $(readlink /proc/$$/exe)\"", &out), 0);
	want = xasprintf("scx_name %s/lib/" BUNDLE_LOADER "\n", tmp);
	assert_string_equal(out.buf, want);
	free(want);
	strbuf_release(&out);
}

/* A program found in PATH under the bundle goes through the loader too;
 * one outside it is exec'd as it is. */
static void test_path_search(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *path = xasprintf("%s/sched:/usr/bin:/bin", tmp), *old = getenv("PATH");
	char *saved = old ? xstrdup(old) : NULL, *want;

	bundle_set_dir(tmp);
	setenv("PATH", path, 1);
	assert_int_equal(run("sh", true, "sh", "readlink /proc/$$/exe", &out), 0);
	want = xasprintf("%s/lib/" BUNDLE_LOADER "\n", tmp);
	assert_string_equal(out.buf, want);
	strbuf_reset(&out);
	setenv("PATH", "/usr/bin:/bin", 1);
	assert_int_equal(run("sh", true, "sh", "readlink /proc/$$/exe", &out), 0);
	assert_null(strstr(out.buf, tmp));
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	free(want);
	free(path);
	strbuf_release(&out);
}

/* Outside bundle mode nothing changes: a relative path is the cwd's. */
static void test_no_bundle(void **state)
{
	struct strbuf out = STRBUF_INIT;

	bundle_set_dir(NULL);
	assert_int_equal(run("/bin/sh", false, "sh", "readlink /proc/$$/exe", &out), 0);
	assert_null(strstr(out.buf, BUNDLE_LOADER));
	strbuf_reset(&out);
	assert_int_equal(run("sched/sh", false, "sh", "exit 0", &out), 127);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic_elf),
		cmocka_unit_test(test_relative_through_loader),
		cmocka_unit_test(test_path_search),
		cmocka_unit_test(test_no_bundle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
