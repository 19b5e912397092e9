/* Unit tests for lib/host/run.c: spawning, capturing and PATH lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "run.h"

static void assert_no_children(void)
{
	/* Every child we started has been reaped (no zombies left behind). */
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* ---- run_capture ------------------------------------------------------- */

static void test_capture_echo(void **state)
{
	const char *argv[] = { "/bin/echo", "hello", "world", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(run_capture(argv, &out, &err), 0);
	assert_string_equal(out.buf, "hello world\n");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
	assert_no_children();
}

static void test_capture_path_lookup(void **state)
{
	const char *argv[] = { "echo", "via PATH", NULL };
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(run_capture(argv, &out, NULL), 0);
	assert_string_equal(out.buf, "via PATH\n");
	strbuf_release(&out);
}

static void test_capture_stderr_exit(void **state)
{
	const char *argv[] = { "sh", "-c", "echo x >&2; exit 3", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(run_capture(argv, &out, &err), 3);
	assert_int_equal(out.len, 0);
	assert_string_equal(err.buf, "x\n");
	strbuf_release(&out);
	strbuf_release(&err);
	assert_no_children();
}

static void test_capture_stderr_only(void **state)
{
	/* stdout not captured (inherited); only stderr is collected. */
	const char *argv[] = { "sh", "-c", "echo only-err >&2", NULL };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(run_capture(argv, NULL, &err), 0);
	assert_string_equal(err.buf, "only-err\n");
	strbuf_release(&err);
}

static void test_capture_appends(void **state)
{
	const char *argv[] = { "/bin/echo", "b", NULL };
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "a:");
	assert_int_equal(run_capture(argv, &out, NULL), 0);
	assert_string_equal(out.buf, "a:b\n");
	strbuf_release(&out);
}

static void test_capture_large_both(void **state)
{
	/* More than a pipe buffer on both streams at once must not deadlock. */
	const char *argv[] = { "sh", "-c",
		"i=0; while [ $i -lt 3 ]; do head -c 150000 /dev/zero | tr '\\0' o; "
		"head -c 150000 /dev/zero | tr '\\0' e >&2; i=$((i+1)); done", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	assert_int_equal(run_capture(argv, &out, &err), 0);
	assert_int_equal(out.len, 450000);
	assert_int_equal(err.len, 450000);
	for (i = 0; i < out.len; i++)
		if (out.buf[i] != 'o' || err.buf[i] != 'e')
			fail_msg("byte %zu corrupted", i);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_capture_stdin_null(void **state)
{
	/* stdin is /dev/null, so a reader sees EOF at once instead of hanging. */
	const char *argv[] = { "sh", "-c", "cat; echo done", NULL };
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(run_capture(argv, &out, NULL), 0);
	assert_string_equal(out.buf, "done\n");
	strbuf_release(&out);
}

/* A runner started as a shell's background job has SIGINT and SIGQUIT
 * ignored; its children must not inherit that, or the SIGINT it forwards
 * is dropped. */
static void test_spawn_resets_ignored_signals(void **state)
{
	const char *argv[] = { "grep", "^SigIgn:", "/proc/self/status", NULL };
	struct strbuf out = STRBUF_INIT;
	unsigned long long ign;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	assert_int_equal(run_capture(argv, &out, NULL), 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	assert_int_equal(sscanf(out.buf, "SigIgn: %llx", &ign), 1);
	assert_int_equal(ign & ((1ull << (SIGINT - 1)) | (1ull << (SIGQUIT - 1))), 0);
	strbuf_release(&out);
}

static void test_capture_signal(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(run_capture(argv, &out, NULL), 128 + 15);
	strbuf_release(&out);
	assert_no_children();
}

static void test_capture_missing(void **state)
{
	const char *argv[] = { "ktstr-definitely-not-a-program", NULL };
	const char *argv2[] = { "/nonexistent/dir/prog", "x", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	errno = 0;
	assert_int_equal(run_capture(argv, &out, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(out.len, 0);
	assert_int_equal(err.len, 0);
	errno = 0;
	assert_int_equal(run_capture(argv2, NULL, NULL), -1);
	assert_int_equal(errno, ENOENT);
	strbuf_release(&out);
	strbuf_release(&err);
	assert_no_children();
}

static void test_capture_no_fd_leak(void **state)
{
	const char *argv[] = { "/bin/echo", NULL };
	const char *missing[] = { "ktstr-definitely-not-a-program", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int before, after, i;

	before = dup(0);
	assert_true(before >= 0);
	close(before);
	for (i = 0; i < 20; i++) {
		assert_int_equal(run_capture(argv, &out, &err), 0);
		assert_int_equal(run_capture(missing, &out, &err), -1);
	}
	after = dup(0);
	close(after);
	assert_int_equal(after, before);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ---- run_spawn / run_wait ---------------------------------------------- */

static void test_spawn_missing(void **state)
{
	const char *argv[] = { "ktstr-definitely-not-a-program", NULL };

	errno = 0;
	assert_int_equal(run_spawn(argv, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_no_children();
}

static void test_spawn_not_executable(void **state)
{
	const char *argv[] = { "/etc/passwd", NULL };

	errno = 0;
	assert_int_equal(run_spawn(argv, NULL), -1);
	assert_int_equal(errno, EACCES);
	assert_no_children();
}

static void test_spawn_options(void **state)
{
	const char *env[] = { "KTSTR_RUN_TEST=from-env-set", NULL };
	const char *argv[] = { "sh", "-c",
		"read pid comm st ppid pgrp rest </proc/$$/stat; "
		"[ \"$pgrp\" = \"$$\" ] && echo own-pgrp; echo \"$KTSTR_RUN_TEST\"", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	o.stdin_fd = RUN_FD_NULL;
	o.stdout_fd = p[1];
	o.stderr_fd = RUN_FD_NULL;
	o.env_set = env;
	o.new_pgrp = true;
	o.die_with_parent = true;
	pid = run_spawn(argv, &o);
	assert_true(pid > 0);
	close(p[1]);
	assert_true(strbuf_read_fd(&out, p[0]) > 0);
	close(p[0]);
	assert_int_equal(run_wait(pid), 0);
	assert_string_equal(out.buf, "own-pgrp\nfrom-env-set\n");
	/* The parent's environment is untouched. */
	assert_null(getenv("KTSTR_RUN_TEST"));
	strbuf_release(&out);
	assert_no_children();
}

static void test_spawn_keep_fds(void **state)
{
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	char script[64];
	const char *argv[] = { "sh", "-c", script, NULL };
	int p[2], keep[1];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	snprintf(script, sizeof(script), "echo kept >&%d", p[1]);
	keep[0] = p[1];
	o.keep_fds = keep;
	o.n_keep = 1;
	o.stdout_fd = RUN_FD_NULL;
	o.stderr_fd = RUN_FD_NULL;
	pid = run_spawn(argv, &o);
	assert_true(pid > 0);
	close(p[1]);
	strbuf_read_fd(&out, p[0]);
	close(p[0]);
	assert_int_equal(run_wait(pid), 0);
	assert_string_equal(out.buf, "kept\n");
	strbuf_release(&out);

	/* Without keep_fds the close-on-exec fd is not inherited. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	snprintf(script, sizeof(script), "echo kept >&%d", p[1]);
	o.keep_fds = NULL;
	o.n_keep = 0;
	pid = run_spawn(argv, &o);
	assert_true(pid > 0);
	close(p[1]);
	strbuf_read_fd(&out, p[0]);
	close(p[0]);
	assert_int_not_equal(run_wait(pid), 0);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_wait_codes(void **state)
{
	const char *ok[] = { "true", NULL };
	const char *bad[] = { "sh", "-c", "exit 42", NULL };
	const char *killed[] = { "sh", "-c", "kill -KILL $$", NULL };

	assert_int_equal(run_wait(run_spawn(ok, NULL)), 0);
	assert_int_equal(run_wait(run_spawn(bad, NULL)), 42);
	assert_int_equal(run_wait(run_spawn(killed, NULL)), 128 + 9);
	assert_int_equal(run_wait(getpid()), -1);	/* not our child */
	assert_no_children();
}

/* ---- find_program ------------------------------------------------------ */

static char tmpdir[] = "/tmp/ktstr-test-run.XXXXXX";
static char *saved_path;

static int setup_tmp(void **state)
{
	const char *p = getenv("PATH");

	saved_path = p ? strdup(p) : NULL;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[128];

	if (saved_path)
		setenv("PATH", saved_path, 1);
	free(saved_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int restore_path(void **state)
{
	if (saved_path)
		setenv("PATH", saved_path, 1);
	else
		unsetenv("PATH");
	return 0;
}

static void make_file(const char *name, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_find_sh(void **state)
{
	char *p = find_program("sh");

	assert_non_null(p);
	assert_int_equal(p[0], '/');
	assert_string_equal(p + strlen(p) - 3, "/sh");
	assert_int_equal(access(p, X_OK), 0);
	free(p);
	assert_null(find_program("ktstr-definitely-not-a-program"));
}

static void test_find_with_slash(void **state)
{
	char *p = find_program("/bin/sh");

	assert_non_null(p);
	assert_string_equal(p, "/bin/sh");
	free(p);
	assert_null(find_program("/nonexistent/sh"));
	assert_null(find_program("/etc/passwd"));	/* not executable */
	assert_null(find_program("/tmp"));		/* a directory */
}

static void test_find_in_custom_path(void **state)
{
	char dir[256], want[300], path[600];
	char *p;

	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	make_file("myprog", 0755);
	make_file("noexec", 0644);
	make_file("sub/later", 0755);
	/* A directory named like the program must not count as found. */
	snprintf(want, sizeof(want), "%s/mydir", tmpdir);
	assert_int_equal(mkdir(want, 0755), 0);
	snprintf(want, sizeof(want), "%s/sub/mydir", tmpdir);
	make_file("sub/mydir", 0755);

	snprintf(path, sizeof(path), "/nonexistent:%s:%s", tmpdir, dir);
	setenv("PATH", path, 1);

	p = find_program("myprog");
	snprintf(want, sizeof(want), "%s/myprog", tmpdir);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);

	p = find_program("later");
	snprintf(want, sizeof(want), "%s/sub/later", tmpdir);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);

	p = find_program("mydir");
	snprintf(want, sizeof(want), "%s/sub/mydir", tmpdir);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);

	/* Even root cannot execute a file with no execute bit at all. */
	assert_null(find_program("noexec"));
	assert_null(find_program("sh"));	/* not in this PATH */
}

static void test_find_default_path(void **state)
{
	char *p;

	unsetenv("PATH");
	p = find_program("sh");
	assert_non_null(p);
	assert_int_equal(p[0], '/');
	free(p);
	setenv("PATH", "", 1);
	p = find_program("sh");
	assert_non_null(p);
	free(p);
}

static void test_find_empty_component(void **state)
{
	/* An empty PATH entry means the current directory. */
	char cwd[PATH_MAX];
	char *p;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	make_file("here-prog", 0755);
	assert_int_equal(chdir(tmpdir), 0);
	setenv("PATH", "/nonexistent:", 1);
	p = find_program("here-prog");
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(p);
	assert_string_equal(p, "./here-prog");
	free(p);
}

/* path_search takes the PATH it is given (a command's own environment,
 * in the agent), not the process's. */
static void test_path_search_own_path(void **state)
{
	char path[600], want[300];
	char *p;

	make_file("ownprog", 0755);
	setenv("PATH", "/nonexistent", 1);
	snprintf(path, sizeof(path), "/nonexistent:%s", tmpdir);
	p = path_search("ownprog", path);
	snprintf(want, sizeof(want), "%s/ownprog", tmpdir);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
	assert_null(path_search("sh", "/nonexistent"));
	assert_null(path_search("ownprog", NULL));	/* the default PATH */
	p = path_search("sh", "");
	assert_non_null(p);
	free(p);
}

/* A PATH with no unsearchable entries: execvp reports EACCES rather than
 * ENOENT for a missing program when some PATH directory cannot be searched
 * (say, /root/... entries when the tests run as another user). */
static int plain_path(void **state)
{
	return setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
}

#define TP(fn) cmocka_unit_test_teardown(fn, restore_path)
#define PP(fn) cmocka_unit_test_setup_teardown(fn, plain_path, restore_path)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_echo),
		cmocka_unit_test(test_capture_path_lookup),
		cmocka_unit_test(test_capture_stderr_exit),
		cmocka_unit_test(test_capture_stderr_only),
		cmocka_unit_test(test_capture_appends),
		cmocka_unit_test(test_capture_large_both),
		cmocka_unit_test(test_capture_stdin_null),
		cmocka_unit_test(test_capture_signal),
		cmocka_unit_test(test_spawn_resets_ignored_signals),
		PP(test_capture_missing),
		PP(test_capture_no_fd_leak),
		PP(test_spawn_missing),
		cmocka_unit_test(test_spawn_not_executable),
		cmocka_unit_test(test_spawn_options),
		cmocka_unit_test(test_spawn_keep_fds),
		cmocka_unit_test(test_wait_codes),
		TP(test_find_sh),
		TP(test_find_with_slash),
		TP(test_find_in_custom_path),
		TP(test_find_default_path),
		TP(test_find_empty_component),
		TP(test_path_search_own_path),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
