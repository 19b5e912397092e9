/* Unit tests for lib/core/fsutil.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

/* Each test gets a fresh directory, removed (with /bin/rm, not rm_rf) after. */
struct fx {
	char dir[64];
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || tmpdir_create(fx->dir, sizeof(fx->dir), "fsutil") < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	int rc = tmpdir_remove(fx->dir);

	free(fx);
	return rc;
}

/* path under the fixture directory; static buffers rotate so a test can
 * hold a few at once. */
static const char *P(void **state, const char *rel)
{
	return tmpdir_path(((struct fx *)*state)->dir, rel);
}

/* Number of entries (besides . and ..) in dir; names joined into names. */
static int count_entries(const char *dir, struct strbuf *names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (names)
			strbuf_addf(names, "%s ", e->d_name);
	}
	closedir(d);
	return n;
}

static void assert_only_entry(const char *dir, const char *name)
{
	struct strbuf names = STRBUF_INIT;
	int n = count_entries(dir, &names);
	char want[256];

	snprintf(want, sizeof(want), "%s ", name);
	if (n != 1 || strcmp(names.buf, want))
		fail_msg("%s holds \"%s\", want only \"%s\"", dir, names.buf, name);
	strbuf_release(&names);
}

static void assert_file(const char *path, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_int_equal(sb.len, strlen(want));
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void touch(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

/* ---- atomic writes ----------------------------------------------------- */

static void test_atomic_create(void **state)
{
	struct fx *fx = *state;
	const char *f = P(state, "out.json");
	struct stat st;

	assert_int_equal(write_file_atomic(f, "hello\n", 6, 0640), 0);
	assert_file(f, "hello\n");
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_only_entry(fx->dir, "out.json");
}

static void test_atomic_replace(void **state)
{
	struct fx *fx = *state;
	const char *f = P(state, "data");
	struct stat st;
	ino_t before;

	touch(f, "a much longer original content\n");
	assert_int_equal(stat(f, &st), 0);
	before = st.st_ino;
	assert_int_equal(write_file_atomic(f, "short", 5, 0600), 0);
	assert_file(f, "short");
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Replaced by rename, not rewritten in place. */
	assert_true(st.st_ino != before);
	assert_only_entry(fx->dir, "data");

	assert_int_equal(write_file_atomic(f, "", 0, 0644), 0);
	assert_file(f, "");
	assert_only_entry(fx->dir, "data");
}

static void test_atomic_binary_large(void **state)
{
	struct fx *fx = *state;
	const char *f = P(state, "big.bin");
	size_t n = 1 << 20, i;
	unsigned char *buf = malloc(n);
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 31 + (i >> 8));
	assert_int_equal(write_file_atomic(f, buf, n, 0644), 0);
	assert_int_equal(strbuf_read_file(&sb, f), 0);
	assert_int_equal(sb.len, n);
	assert_memory_equal(sb.buf, buf, n);
	strbuf_release(&sb);
	free(buf);
	assert_only_entry(fx->dir, "big.bin");
}

static void test_atomic_missing_dir(void **state)
{
	struct fx *fx = *state;

	errno = 0;
	assert_int_equal(write_file_atomic(P(state, "nodir/out"), "x", 1, 0644), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(fx->dir, NULL), 0);
}

static void test_atomic_rename_fails(void **state)
{
	/* The destination is a non-empty directory: rename fails after the
	 * temp file was written, and the temp file must be cleaned up. */
	struct fx *fx = *state;
	const char *d = P(state, "target");

	assert_int_equal(mkdir(d, 0755), 0);
	touch(P(state, "target/inside"), "keep");
	errno = 0;
	assert_int_equal(write_file_atomic(d, "data", 4, 0644), -1);
	assert_true(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	assert_only_entry(fx->dir, "target");
	assert_only_entry(d, "inside");
	assert_file(P(state, "target/inside"), "keep");
}

static void test_atomic_abort(void **state)
{
	struct fx *fx = *state;
	const char *f = P(state, "cfg");
	struct atomic_file af;

	touch(f, "original");
	assert_int_equal(atomic_file_open(&af, f, 0644), 0);
	assert_true(af.fd >= 0);
	assert_non_null(af.tmp);
	/* The temp file sits next to the destination. */
	assert_int_equal(strncmp(af.tmp, fx->dir, strlen(fx->dir)), 0);
	assert_int_equal(count_entries(fx->dir, NULL), 2);
	assert_int_equal(write(af.fd, "partial", 7), 7);
	atomic_file_abort(&af);
	assert_file(f, "original");
	assert_only_entry(fx->dir, "cfg");
	/* Aborting twice is harmless. */
	atomic_file_abort(&af);
}

static void test_atomic_commit_then_abort(void **state)
{
	struct fx *fx = *state;
	const char *f = P(state, "cfg");
	struct atomic_file af;

	assert_int_equal(atomic_file_open(&af, f, 0600), 0);
	assert_int_equal(write(af.fd, "new", 3), 3);
	assert_int_equal(atomic_file_commit(&af), 0);
	atomic_file_abort(&af);	/* safe after commit */
	assert_file(f, "new");
	assert_only_entry(fx->dir, "cfg");
}

static void test_atomic_open_fails(void **state)
{
	struct atomic_file af;

	errno = 0;
	assert_int_equal(atomic_file_open(&af, P(state, "a/b/c"), 0644), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(af.tmp);
	assert_null(af.path);
	atomic_file_abort(&af);	/* safe after a failed open */
}

/* ---- mkdir_p / rm_rf / make_temp_dir ----------------------------------- */

static void test_mkdir_p(void **state)
{
	const char *deep = P(state, "a/b/c/d");

	assert_int_equal(mkdir_p(deep, 0755), 0);
	assert_true(is_directory(deep));
	/* Existing is fine, with or without trailing or doubled slashes. */
	assert_int_equal(mkdir_p(deep, 0755), 0);
	assert_int_equal(mkdir_p(P(state, "a/b/"), 0755), 0);
	assert_int_equal(mkdir_p(P(state, "a//b//e/"), 0755), 0);
	assert_true(is_directory(P(state, "a/b/e")));
	assert_int_equal(mkdir_p("/", 0755), 0);
	assert_int_equal(mkdir_p("/tmp", 0755), 0);
}

static void test_mkdir_p_errors(void **state)
{
	const char *f = P(state, "file");

	touch(f, "");
	errno = 0;
	assert_int_equal(mkdir_p(f, 0755), -1);
	assert_int_equal(errno, ENOTDIR);
	errno = 0;
	assert_int_equal(mkdir_p(P(state, "file/sub/dir"), 0755), -1);
	assert_int_equal(errno, ENOTDIR);
	errno = 0;
	assert_int_equal(mkdir_p("", 0755), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_path_creatable(void **state)
{
	struct strbuf err = STRBUF_INIT;
	const char *f = P(state, "file");

	touch(f, "kept");
	/* A new file deep under missing directories, an existing file. */
	assert_int_equal(path_creatable(P(state, "x/y/z.log"), &err), 0);
	assert_false(path_exists(P(state, "x")));
	assert_int_equal(path_creatable(f, &err), 0);
	assert_int_equal(err.len, 0);
	/* A regular file where a directory must go, named as the culprit. */
	assert_int_equal(path_creatable(P(state, "file/sub/z.log"), &err), -1);
	assert_non_null(strstr(err.buf, "/file is not a directory"));
	strbuf_reset(&err);
	assert_int_equal(path_creatable(P(state, "."), &err), -1);
	assert_non_null(strstr(err.buf, "is a directory"));
	strbuf_reset(&err);
	/* /proc refuses new entries even to root, whatever access(2) says. */
	assert_int_equal(path_creatable("/proc/ktstr-nope/z.log", &err), -1);
	assert_non_null(strstr(err.buf, "cannot create anything in /proc"));
	/* Nothing left behind: the file only. */
	assert_only_entry(((struct fx *)*state)->dir, "file");
	strbuf_release(&err);
}

static void test_rm_rf_tree(void **state)
{
	struct fx *fx = *state;
	const char *outside = P(state, "outside");

	assert_int_equal(mkdir_p(P(state, "t/a/b/c"), 0755), 0);
	assert_int_equal(mkdir_p(P(state, "t/empty"), 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	touch(P(state, "outside/precious"), "x");
	touch(P(state, "t/f1"), "1");
	touch(P(state, "t/a/.hidden"), "2");
	touch(P(state, "t/a/b/c/deep"), "3");
	assert_int_equal(symlink(outside, P(state, "t/a/link-to-dir")), 0);
	assert_int_equal(symlink("/nonexistent", P(state, "t/dangling")), 0);

	assert_int_equal(rm_rf(P(state, "t")), 0);
	assert_false(path_exists(P(state, "t")));
	/* Symlinks are removed, never followed. */
	assert_file(P(state, "outside/precious"), "x");
	assert_only_entry(fx->dir, "outside");
}

static void test_rm_rf_simple(void **state)
{
	const char *f = P(state, "file");
	const char *d = P(state, "dir");
	const char *l = P(state, "link");

	assert_int_equal(rm_rf(P(state, "missing")), 0);
	touch(f, "x");
	assert_int_equal(rm_rf(f), 0);
	assert_false(path_exists(f));
	assert_int_equal(mkdir(d, 0755), 0);
	touch(P(state, "dir/keep"), "k");
	assert_int_equal(symlink(d, l), 0);
	assert_int_equal(rm_rf(l), 0);	/* removes the link only */
	assert_false(path_exists(l));
	assert_true(is_regular_file(P(state, "dir/keep")));
	assert_int_equal(rm_rf(d), 0);
	assert_false(path_exists(d));
}

static void test_make_temp_dir(void **state)
{
	const char *parent = P(state, "new/parent");
	char *a = make_temp_dir(parent, "ktstr-x");
	char *b = make_temp_dir(parent, "ktstr-x");
	size_t plen = strlen(parent);

	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	assert_true(is_directory(a));
	assert_true(is_directory(b));
	assert_int_equal(strncmp(a, parent, plen), 0);
	assert_int_equal(strncmp(a + plen, "/ktstr-x.", 9), 0);
	free(a);
	free(b);
	touch(P(state, "file"), "");
	assert_null(make_temp_dir(P(state, "file"), "x"));
}

static void test_predicates(void **state)
{
	const char *f = P(state, "f");
	const char *d = P(state, "d");
	const char *dl = P(state, "dangling");
	const char *fl = P(state, "flink");

	touch(f, "");
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(symlink("/nonexistent/x", dl), 0);
	assert_int_equal(symlink(f, fl), 0);
	assert_true(path_exists(f));
	assert_true(is_regular_file(f));
	assert_false(is_directory(f));
	assert_true(path_exists(d));
	assert_true(is_directory(d));
	assert_false(is_regular_file(d));
	assert_true(path_exists(dl));	/* the link itself exists */
	assert_false(is_regular_file(dl));
	assert_false(is_directory(dl));
	assert_true(is_regular_file(fl));	/* followed */
	assert_false(path_exists(P(state, "nope")));
	assert_false(is_regular_file(P(state, "nope")));
	assert_false(is_directory(P(state, "nope")));
}

/* ---- path strings ------------------------------------------------------ */

static void join_eq(const char *a, const char *b, const char *want)
{
	char *got = path_join(a, b);

	if (strcmp(got, want))
		fail_msg("path_join(\"%s\", \"%s\") = \"%s\", want \"%s\"", a, b, got, want);
	free(got);
}

static void test_path_join(void **state)
{
	join_eq("a", "b", "a/b");
	join_eq("a/", "b", "a/b");
	join_eq("a//", "b", "a/b");
	join_eq("a", "/b", "a/b");
	join_eq("a/", "//b", "a/b");
	join_eq("/x/y", "z/w", "/x/y/z/w");
	join_eq("/", "etc", "/etc");
	join_eq("//", "etc", "/etc");
	join_eq("/", "/etc", "/etc");
	join_eq(".", "f", "./f");
	join_eq("a", "b/", "a/b/");
}

static void dirname_eq(const char *in, const char *want)
{
	char *got = path_dirname(in);

	if (strcmp(got, want))
		fail_msg("path_dirname(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	free(got);
}

static void test_path_dirname(void **state)
{
	dirname_eq("a/b", "a");
	dirname_eq("/a/b/c", "/a/b");
	dirname_eq("a", ".");
	dirname_eq("", ".");
	dirname_eq("/a", "/");
	dirname_eq("/", "/");
	dirname_eq("./x", ".");
	dirname_eq("../x", "..");
}

static void test_path_basename(void **state)
{
	const char *s = "/a/b/c.txt";

	assert_string_equal(path_basename("a/b"), "b");
	assert_string_equal(path_basename("b"), "b");
	assert_string_equal(path_basename("/b"), "b");
	assert_string_equal(path_basename(""), "");
	assert_string_equal(path_basename("/"), "");
	/* Points into the argument, no allocation. */
	assert_ptr_equal(path_basename(s), s + 5);
}

static void tilde_eq(const char *in, const char *want)
{
	char *got = path_expand_tilde(in);

	if (strcmp(got, want))
		fail_msg("path_expand_tilde(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	free(got);
}

static void test_path_expand_tilde(void **state)
{
	char *saved = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("HOME", "/home/u", 1);
	tilde_eq("~", "/home/u");
	tilde_eq("~/", "/home/u/");
	tilde_eq("~/x/y", "/home/u/x/y");
	tilde_eq("~user/x", "~user/x");
	tilde_eq("a/~/b", "a/~/b");
	tilde_eq("/abs", "/abs");
	tilde_eq("", "");
	setenv("HOME", "", 1);
	tilde_eq("~/x", "~/x");
	unsetenv("HOME");
	tilde_eq("~/x", "~/x");
	tilde_eq("~", "~");
	if (saved) {
		setenv("HOME", saved, 1);
		free(saved);
	}
}

static void test_prune_old_files(void **state)
{
	struct fx *fx = *state;
	struct timespec ts[2] = { { 0, 0 }, { 0, 0 } };
	char name[32];
	int i;

	/* Five logs with distinct ages, and files that must not be touched. */
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "vm-%d.log", i);
		assert_int_equal(write_file_atomic(P(state, name), "x", 1, 0644), 0);
		ts[0].tv_sec = ts[1].tv_sec = 1000000 + i * 10;
		assert_int_equal(utimensat(AT_FDCWD, P(state, name), ts, 0), 0);
	}
	assert_int_equal(write_file_atomic(P(state, "other.log"), "x", 1, 0644), 0);
	assert_int_equal(mkdir_p(P(state, "vm-dir"), 0755), 0);
	assert_int_equal(prune_old_files(fx->dir, "vm-", 2), 3);
	assert_true(path_exists(P(state, "vm-4.log")));
	assert_true(path_exists(P(state, "vm-3.log")));
	assert_false(path_exists(P(state, "vm-2.log")));
	assert_false(path_exists(P(state, "vm-0.log")));
	assert_true(path_exists(P(state, "other.log")));
	assert_true(is_directory(P(state, "vm-dir")));
	assert_int_equal(prune_old_files(fx->dir, "vm-", 2), 0);
	assert_int_equal(prune_old_files(P(state, "missing"), "vm-", 0), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_atomic_create),
		T(test_atomic_replace),
		T(test_atomic_binary_large),
		T(test_atomic_missing_dir),
		T(test_atomic_rename_fails),
		T(test_atomic_abort),
		T(test_atomic_commit_then_abort),
		T(test_atomic_open_fails),
		T(test_mkdir_p),
		T(test_mkdir_p_errors),
		T(test_path_creatable),
		T(test_rm_rf_tree),
		T(test_rm_rf_simple),
		T(test_make_temp_dir),
		T(test_predicates),
		T(test_prune_old_files),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_path_dirname),
		cmocka_unit_test(test_path_basename),
		cmocka_unit_test(test_path_expand_tilde),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
