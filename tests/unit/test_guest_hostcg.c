/* Unit tests for guest/hostcg.c: the host-mode cgroup variables' rules,
 * the owner marker, and that stale-run cleanup removes only directories
 * whose marker names a process that is gone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diag.h"
#include "hostcg.h"
#include "tmpdir.h"

static void config_case(const char *parent, const char *walk, int want, const char *which,
			const char *msg)
{
	struct hostcg h = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *got = NULL;

	if (parent)
		setenv("KTSTR_HOST_CGROUP_PARENT", parent, 1);
	else
		unsetenv("KTSTR_HOST_CGROUP_PARENT");
	if (walk)
		setenv("KTSTR_CGROUP_WALK_ROOT", walk, 1);
	else
		unsetenv("KTSTR_CGROUP_WALK_ROOT");
	assert_int_equal(hostcg_config(&h, &got, &err), want);
	if (want < 0) {
		assert_string_equal(got, which);
		if (!strstr(err.buf, msg))
			fail_msg("\"%s\" lacks \"%s\"", err.buf, msg);
		assert_null(strchr(err.buf, '\n'));
	} else {
		assert_string_equal(h.parent, which);
		assert_string_equal(h.walk_root, msg);
	}
	hostcg_release(&h);
	strbuf_release(&err);
}

static void test_config(void **state)
{
	(void)state;
	config_case(NULL, NULL, 0, "/sys/fs/cgroup/ktstr", "/sys/fs/cgroup");
	/* Empty means unset; blanks and trailing slashes do not count. */
	config_case("", " ", 0, "/sys/fs/cgroup/ktstr", "/sys/fs/cgroup");
	config_case(" /sys/fs/cgroup/a/b/ ", "/sys/fs/cgroup/a", 0, "/sys/fs/cgroup/a/b",
		    "/sys/fs/cgroup/a");
	config_case("/sys/fs/cgroup/a", "/sys/fs/cgroup/a", 0, "/sys/fs/cgroup/a",
		    "/sys/fs/cgroup/a");
	config_case("/sys/fs/cgroup", NULL, -1, "cgroup_parent", "not the root itself");
	config_case("/sys/fs/cgroup/", NULL, -1, "cgroup_parent", "not the root itself");
	config_case("/tmp/x", NULL, -1, "cgroup_parent", "KTSTR_HOST_CGROUP_PARENT=/tmp/x");
	config_case("/sys/fs/cgroupx/a", NULL, -1, "cgroup_parent", "below /sys/fs/cgroup");
	config_case("/sys/fs/cgroup/../etc", NULL, -1, "cgroup_parent", "no \"..\"");
	config_case("sys/fs/cgroup/a", NULL, -1, "cgroup_parent", "must be a directory");
	config_case("/sys/fs/cgroup/a/b", "/sys/fs/cgroup/c", -1, "walk_root",
		    "KTSTR_CGROUP_WALK_ROOT=/sys/fs/cgroup/c: must be");
	/* A prefix as a string is not a prefix as a path. */
	config_case("/sys/fs/cgroup/ab", "/sys/fs/cgroup/a", -1, "walk_root", "must be");
	config_case("/sys/fs/cgroup/a", "/sys", -1, "walk_root", "must be");
	unsetenv("KTSTR_HOST_CGROUP_PARENT");
	unsetenv("KTSTR_CGROUP_WALK_ROOT");
}

static void test_marker(void **state)
{
	char *m = hostcg_marker(getpid()), bad[256];
	int pid;
	unsigned long long t;

	(void)state;
	assert_int_equal(sscanf(m, "%d %llu", &pid, &t), 2);
	assert_int_equal(pid, getpid());
	assert_true(t > 0);
	assert_true(hostcg_marker_alive(m));
	/* The same pid after a reboot, or a later process with that pid. */
	snprintf(bad, sizeof(bad), "%d %llu 00000000-0000-0000-0000-000000000000", pid, t);
	assert_false(hostcg_marker_alive(bad));
	snprintf(bad, sizeof(bad), "%d %llu %s", pid, t + 1, strrchr(m, ' ') + 1);
	assert_false(hostcg_marker_alive(bad));
	snprintf(bad, sizeof(bad), "%d %llu %s", 0x3ffffff, t, strrchr(m, ' ') + 1);
	assert_false(hostcg_marker_alive(bad));
	/* Not a marker we wrote: not ours to judge. */
	assert_true(hostcg_marker_alive("garbage"));
	assert_true(hostcg_marker_alive(""));
	free(m);
}

static void test_clean_stale(void **state)
{
	char dir[64], *dead, *live;
	struct hostcg h = { 0 };

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "hostcg"), 0);
	h.parent = dir;
	mkdir(tmpdir_path(dir, "ktstr-host-1"), 0755);
	mkdir(tmpdir_path(dir, "ktstr-host-1/ktstr"), 0755);
	mkdir(tmpdir_path(dir, "ktstr-host-2"), 0755);
	mkdir(tmpdir_path(dir, "ktstr-host-3"), 0755);
	mkdir(tmpdir_path(dir, "other"), 0755);
	live = hostcg_marker(getpid());
	dead = xasprintf("%d 1 %s", 0x3ffffff, strrchr(live, ' ') + 1);
	if (setxattr(tmpdir_path(dir, "ktstr-host-1"), HOSTCG_XATTR, dead, strlen(dead), 0) < 0) {
		free(dead);
		free(live);
		tmpdir_remove(dir);
		skip();
	}
	setxattr(tmpdir_path(dir, "ktstr-host-2"), HOSTCG_XATTR, live, strlen(live), 0);
	setxattr(tmpdir_path(dir, "other"), HOSTCG_XATTR, dead, strlen(dead), 0);
	assert_int_equal(hostcg_clean_stale(&h), 1);
	assert_int_equal(access(tmpdir_path(dir, "ktstr-host-1"), F_OK), -1);
	assert_int_equal(access(tmpdir_path(dir, "ktstr-host-2"), F_OK), 0);
	assert_int_equal(access(tmpdir_path(dir, "ktstr-host-3"), F_OK), 0);
	assert_int_equal(access(tmpdir_path(dir, "other"), F_OK), 0);
	free(dead);
	free(live);
	assert_int_equal(tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_clean_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
