/* Unit tests for lib/vm/elfdeps.c and lib/vm/initramfs.c.
 *
 * Fixtures are built in a fresh mkdtemp directory per test; the host's own
 * /bin/true (dynamic) and /bin/busybox (static) stand in for real payloads.
 * Archives are read back with libarchive, independently of how they were
 * written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <jansson.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "elfdeps.h"
#include "fsutil.h"
#include "hash.h"
#include "initramfs.h"
#include "initramfs_memo.h"
#include "strvec.h"

#define BUSYBOX "/bin/busybox"
#define TRUE_BIN "/bin/true"

struct fx {
	char dir[64];
	char *cache;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || tmpdir_create(fx->dir, sizeof(fx->dir), "initramfs") < 0) {
		free(fx);
		return -1;
	}
	fx->cache = xasprintf("%s/cache", fx->dir);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	int rc = tmpdir_remove(fx->dir);

	free(fx->cache);
	free(fx);
	return rc;
}

/* Path under the fixture dir; valid until the next call with the same slot. */
static const char *fxp(struct fx *fx, int slot, const char *name)
{
	static char buf[8][PATH_MAX];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", fx->dir, name);
	return buf[slot];
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A copy of /bin/true whose DT_NEEDED "libc.so.6" reads "libq.so.6": an
 * ELF with a dependency no host has, without needing a compiler. */
static void make_broken_elf(const char *to)
{
	struct strbuf sb = STRBUF_INIT;
	char *hit;

	assert_int_equal(strbuf_read_file(&sb, TRUE_BIN), 0);
	hit = memmem(sb.buf, sb.len, "libc.so.6", 10);
	assert_non_null(hit);
	hit[3] = 'q';
	assert_int_equal(write_file_atomic(to, sb.buf, sb.len, 0755), 0);
	strbuf_release(&sb);
}

/* ---- archive listing ---------------------------------------------------- */

struct item {
	char *path;
	mode_t mode;
	long long size;
	char *link;
	unsigned rmaj, rmin, nlink;
	long long ino, mtime, uid, gid;
};

struct listing {
	struct item *v;
	size_t n;
};

static void listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void list_archive(const char *path, struct listing *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;

	memset(l, 0, sizeof(*l));
	archive_read_support_filter_gzip(a);
	archive_read_support_format_cpio(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		struct item *it;

		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		assert_non_null(l->v);
		it = &l->v[l->n++];
		it->path = xstrdup(archive_entry_pathname(ae));
		it->mode = archive_entry_mode(ae);
		it->size = archive_entry_size(ae);
		it->link = archive_entry_symlink(ae) ? xstrdup(archive_entry_symlink(ae)) : NULL;
		it->rmaj = archive_entry_rdevmajor(ae);
		it->rmin = archive_entry_rdevminor(ae);
		it->nlink = archive_entry_nlink(ae);
		it->ino = archive_entry_ino64(ae);
		it->mtime = archive_entry_mtime(ae);
		it->uid = archive_entry_uid(ae);
		it->gid = archive_entry_gid(ae);
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static const struct item *find(const struct listing *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return &l->v[i];
	return NULL;
}

static bool same_bytes(const char *a, const char *b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	bool same;

	assert_int_equal(strbuf_read_file(&x, a), 0);
	assert_int_equal(strbuf_read_file(&y, b), 0);
	same = x.len == y.len && !memcmp(x.buf, y.buf, x.len);
	strbuf_release(&x);
	strbuf_release(&y);
	return same;
}

/* Entries in dir other than "." and ".."; -1 when dir is missing. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* The include fixture: tree/{a.txt, sub/b.sh, sub/deep/c, link -> sub/b.sh}. */
static void make_tree(struct fx *fx)
{
	assert_int_equal(mkdir_p(fxp(fx, 0, "tree/sub/deep"), 0755), 0);
	write_text(fxp(fx, 0, "tree/a.txt"), "alpha\n", 0644);
	write_text(fxp(fx, 0, "tree/sub/b.sh"), "#!/bin/sh\necho b\n", 0755);
	write_text(fxp(fx, 0, "tree/sub/deep/c"), "", 0600);
	assert_int_equal(symlink("sub/b.sh", fxp(fx, 0, "tree/link")), 0);
	write_text(fxp(fx, 0, "single.txt"), "one file\n", 0644);
}

/* Entries of a cache directory other than the inputs memo (initramfs_memo.h). */
static int count_images(const char *dir)
{
	char *memo = xasprintf("%s/inputs.json", dir);
	int n = count_entries(dir) - (path_exists(memo) ? 1 : 0);

	free(memo);
	return n;
}

static struct initramfs_opts base_opts(struct fx *fx)
{
	struct initramfs_opts o = {
		.agent = BUSYBOX, .busybox = BUSYBOX, .cache_dir = fx->cache,
	};

	return o;
}

/* ---- elfdeps ------------------------------------------------------------ */

static bool has_suffix(const struct strvec *v, const char *suffix)
{
	size_t i, sl = strlen(suffix);

	for (i = 0; i < v->n; i++) {
		size_t l = strlen(v->v[i]);

		if (l >= sl && !strcmp(v->v[i] + l - sl, suffix))
			return true;
	}
	return false;
}

static void test_closure_dynamic(void **state)
{
	struct strvec out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_true(elf_is_dynamic(TRUE_BIN));
	assert_int_equal(elf_closure(TRUE_BIN, &out, &err), 0);
	assert_string_equal(err.buf, "");
	assert_true(out.n >= 2);
	/* The interpreter comes first, then libc; libc's own DT_NEEDED on the
	 * loader binds to the interpreter by soname, so no second copy. */
	assert_non_null(strstr(out.v[0], "ld-linux"));
	assert_true(has_suffix(&out, "/libc.so.6"));
	assert_int_equal(out.n, 2);
	strvec_clear(&out);
}

static void test_closure_static_and_data(void **state)
{
	struct fx *fx = *state;
	struct strvec out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_false(elf_is_dynamic(BUSYBOX));
	assert_int_equal(elf_closure(BUSYBOX, &out, &err), 0);
	assert_int_equal(out.n, 0);
	write_text(fxp(fx, 0, "data"), "not an ELF file\n", 0644);
	assert_false(elf_is_dynamic(fxp(fx, 0, "data")));
	assert_int_equal(elf_closure(fxp(fx, 0, "data"), &out, &err), 0);
	assert_int_equal(out.n, 0);
	/* Shorter than an ELF header. */
	write_text(fxp(fx, 0, "tiny"), "\177ELF", 0644);
	assert_int_equal(elf_closure(fxp(fx, 0, "tiny"), &out, &err), 0);
	assert_int_equal(out.n, 0);
	assert_false(elf_is_dynamic(fxp(fx, 0, "missing")));
	assert_int_equal(elf_closure(fxp(fx, 0, "missing"), &out, &err), -1);
	assert_non_null(strstr(err.buf, "missing"));
	strbuf_release(&err);
	strvec_clear(&out);
}

static void test_closure_missing_lib(void **state)
{
	struct fx *fx = *state;
	struct strvec out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *bin = fxp(fx, 0, "broken");

	make_broken_elf(bin);
	assert_true(elf_is_dynamic(bin));
	assert_int_equal(elf_closure(bin, &out, &err), -1);
	assert_non_null(strstr(err.buf, "libq.so.6"));
	assert_non_null(strstr(err.buf, bin));
	assert_null(strchr(err.buf, '\n'));
	strbuf_release(&err);
	strvec_clear(&out);
}

/* RUNPATH/RPATH with $ORIGIN needs a real link; skipped without a compiler. */
static void check_origin_link(struct fx *fx, const char *dtags, const char *origin_form)
{
	struct strvec out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	char *cmd, *want;
	int rc;

	assert_int_equal(mkdir_p(fxp(fx, 0, "app/lib"), 0755), 0);
	assert_int_equal(mkdir_p(fxp(fx, 0, "app/bin"), 0755), 0);
	write_text(fxp(fx, 0, "foo.c"), "int foo(void) { return 0; }\n", 0644);
	write_text(fxp(fx, 1, "main.c"), "int foo(void);\nint main(void) { return foo(); }\n", 0644);
	cmd = xasprintf("cd '%s' && cc -shared -fPIC -o app/lib/libktfoo.so foo.c && "
			"cc -o app/bin/prog main.c -Lapp/lib -lktfoo "
			"-Wl,%s -Wl,-rpath,'%s/../lib' 2>/dev/null",
			fx->dir, dtags, origin_form);
	rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		skip();
		return;
	}
	assert_int_equal(elf_closure(fxp(fx, 0, "app/bin/prog"), &out, &err), 0);
	want = xasprintf("%s/app/bin/../lib/libktfoo.so", fx->dir);
	assert_true(strvec_contains(&out, want));
	assert_true(has_suffix(&out, "/libc.so.6"));
	free(want);
	strvec_clear(&out);
	strbuf_release(&err);
}

static void test_closure_runpath_origin(void **state)
{
	check_origin_link(*state, "--enable-new-dtags", "$ORIGIN");
}

static void test_closure_rpath_braced_origin(void **state)
{
	check_origin_link(*state, "--disable-new-dtags", "${ORIGIN}");
}

/* ---- initramfs ---------------------------------------------------------- */

static void build_ok(const struct initramfs_opts *o, struct initramfs_result *r)
{
	struct strbuf err = STRBUF_INIT;
	int rc = initramfs_build(o, r, &err);

	if (rc != 0)
		print_error("initramfs_build: %s\n", err.buf);
	assert_int_equal(rc, 0);
	strbuf_release(&err);
}

/* Build with o, expect failure; returns the message (caller frees). */
static char *build_fail(const struct initramfs_opts *o)
{
	struct strbuf err = STRBUF_INIT;
	struct initramfs_result r;

	assert_int_equal(initramfs_build(o, &r, &err), -1);
	assert_null(r.path);
	assert_true(err.len > 0);
	assert_null(strchr(err.buf, '\n'));
	return strbuf_detach(&err, NULL);
}

static void test_layout(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r;
	struct listing l;
	const struct item *it;
	char inc_tree[PATH_MAX], inc_single[PATH_MAX];
	const char *incs[2];
	struct initramfs_file files[] = {
		{ TRUE_BIN, "/usr/local/bin/mytrue" },
		{ "/etc/hostname", "/etc/host-name" },
	};
	size_t i;
	char sha[SHA256_HEX_LEN + 1];
	struct stat st;

	make_tree(fx);
	/* Trailing slash: the name is still the directory's. */
	snprintf(inc_tree, sizeof(inc_tree), "%s/tree/", fx->dir);
	snprintf(inc_single, sizeof(inc_single), "%s/single.txt", fx->dir);
	incs[0] = inc_tree;
	incs[1] = inc_single;
	o.includes = incs;
	o.n_includes = 2;
	o.files = files;
	o.n_files = is_regular_file("/etc/hostname") ? 2 : 1;
	build_ok(&o, &r);
	assert_false(r.cached);
	assert_int_equal(sha256_file_hex(r.path, sha), 0);
	assert_string_equal(sha, r.sha256);
	assert_int_equal(stat(r.path, &st), 0);
	assert_int_equal((unsigned long long)st.st_size, r.bytes);

	list_archive(r.path, &l);
	assert_int_equal(l.n, r.files);
	for (i = 0; i < l.n; i++) {
		const struct item *e = &l.v[i];
		char *slash = strrchr(e->path, '/');

		/* Sorted, numbered in order, owned by root, dated 0. */
		if (i)
			assert_true(strcmp(l.v[i - 1].path, e->path) < 0);
		assert_int_equal(e->ino, (long long)i + 1);
		assert_int_equal(e->mtime, 0);
		assert_int_equal(e->uid, 0);
		assert_int_equal(e->gid, 0);
		assert_true(e->path[0] != '/');
		/* Every parent precedes its children as a directory. */
		if (slash) {
			char *parent = xstrndup(e->path, (size_t)(slash - e->path));
			const struct item *p = find(&l, parent);

			assert_non_null(p);
			assert_true(S_ISDIR(p->mode));
			assert_true(p < e);
			free(parent);
		}
	}
	for (i = 0; i < 6; i++) {
		static const char *const dirs[] = { "bin", "dev", "proc", "sys", "tmp", "include-files" };

		it = find(&l, dirs[i]);
		assert_non_null(it);
		assert_true(S_ISDIR(it->mode));
	}
	assert_int_equal(find(&l, "tmp")->mode & 07777, 01777);
	it = find(&l, "dev/console");
	assert_non_null(it);
	assert_true(S_ISCHR(it->mode));
	assert_int_equal(it->rmaj, 5);
	assert_int_equal(it->rmin, 1);
	it = find(&l, "dev/null");
	assert_true(S_ISCHR(it->mode));
	assert_int_equal(it->rmaj, 1);
	assert_int_equal(it->rmin, 3);
	it = find(&l, "init");
	assert_true(S_ISREG(it->mode));
	assert_int_equal(it->mode & 07777, 0755);
	it = find(&l, "bin/busybox");
	assert_true(S_ISREG(it->mode));
	it = find(&l, "bin/sh");
	assert_non_null(it);
	assert_true(S_ISLNK(it->mode));
	assert_string_equal(it->link, "/bin/busybox");
	/* Includes. */
	assert_true(S_ISDIR(find(&l, "include-files/tree")->mode));
	assert_true(S_ISREG(find(&l, "include-files/tree/a.txt")->mode));
	it = find(&l, "include-files/tree/sub/b.sh");
	assert_int_equal(it->mode & 0777, 0755);
	it = find(&l, "include-files/tree/sub/deep/c");
	assert_int_equal(it->size, 0);
	assert_int_equal(it->mode & 0777, 0600);
	it = find(&l, "include-files/tree/link");
	assert_true(S_ISLNK(it->mode));
	assert_string_equal(it->link, "sub/b.sh");
	assert_int_equal(find(&l, "include-files/single.txt")->size, 9);
	/* The dynamic extra file pulled in its loader and libc, each at the
	 * loader's path, with the symlink's target packed too. */
	assert_true(S_ISREG(find(&l, "usr/local/bin/mytrue")->mode));
	it = find(&l, "lib64/ld-linux-x86-64.so.2");
	assert_non_null(it);
	if (S_ISLNK(it->mode)) {
		const struct item *t = find(&l, it->link + 1);

		assert_non_null(t);
		assert_true(S_ISREG(t->mode));
	}
	assert_non_null(find(&l, "lib/x86_64-linux-gnu/libc.so.6"));
	/* nlink: 2 + subdirectories for a directory. */
	assert_int_equal(find(&l, "include-files/tree")->nlink, 3);
	assert_int_equal(find(&l, "include-files/tree/sub")->nlink, 3);
	assert_int_equal(find(&l, "init")->nlink, 1);
	listing_free(&l);
	initramfs_result_release(&r);
}

static void test_deterministic_and_cached(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r1, r2, r3;
	char *cache2 = xasprintf("%s/cache2", fx->dir);
	const char *incs[1];

	make_tree(fx);
	incs[0] = fxp(fx, 0, "tree");
	o.includes = incs;
	o.n_includes = 1;
	build_ok(&o, &r1);
	o.cache_dir = cache2;
	build_ok(&o, &r2);
	assert_false(r1.cached);
	assert_false(r2.cached);
	assert_string_not_equal(r1.path, r2.path);
	assert_string_equal(r1.sha256, r2.sha256);
	assert_string_equal(r1.key, r2.key);
	assert_true(same_bytes(r1.path, r2.path));
	/* Same inputs again: served from the cache, same answer. */
	build_ok(&o, &r3);
	assert_true(r3.cached);
	assert_string_equal(r3.path, r2.path);
	assert_string_equal(r3.sha256, r2.sha256);
	assert_int_equal(r3.bytes, r2.bytes);
	assert_int_equal(r3.files, r2.files);
	initramfs_result_release(&r3);
	/* Any content change is a different key. */
	write_text(fxp(fx, 0, "tree/a.txt"), "beta\n", 0644);
	build_ok(&o, &r3);
	assert_false(r3.cached);
	assert_string_not_equal(r3.key, r2.key);
	/* So is a mode change. */
	initramfs_result_release(&r3);
	assert_int_equal(chmod(fxp(fx, 0, "tree/a.txt"), 0600), 0);
	build_ok(&o, &r3);
	assert_false(r3.cached);
	assert_int_equal(count_images(cache2), 3);
	initramfs_result_release(&r1);
	initramfs_result_release(&r2);
	initramfs_result_release(&r3);
	free(cache2);
}

static void test_output(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r1, r2;
	char *out = xasprintf("%s/out/image.cpio", fx->dir);
	char *cached;

	assert_int_equal(mkdir_p(fxp(fx, 0, "out"), 0755), 0);
	o.output = out;
	build_ok(&o, &r1);
	assert_string_equal(r1.path, out);
	assert_false(r1.cached);
	cached = xasprintf("%s/%s.cpio", fx->cache, r1.key);
	assert_true(same_bytes(out, cached));
	/* Second time: cache hit, output rewritten with the same bytes. */
	assert_int_equal(unlink(out), 0);
	build_ok(&o, &r2);
	assert_true(r2.cached);
	assert_string_equal(r2.sha256, r1.sha256);
	assert_true(same_bytes(out, cached));
	/* Only the image in the output dir: no temp files. */
	assert_int_equal(count_entries(fxp(fx, 0, "out")), 1);
	initramfs_result_release(&r1);
	initramfs_result_release(&r2);
	free(cached);
	free(out);
}

/* A cache that cannot be created does not stop a build with an output. */
static void test_output_without_cache(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r;
	char *out = xasprintf("%s/image.cpio", fx->dir);
	char *blocker = xasprintf("%s/notadir", fx->dir);
	char *cache = xasprintf("%s/notadir/cache", fx->dir);
	char *msg;

	write_text(blocker, "file in the way\n", 0644);
	o.cache_dir = cache;
	o.output = out;
	build_ok(&o, &r);
	assert_string_equal(r.path, out);
	assert_false(r.cached);
	initramfs_result_release(&r);
	/* Without an output the cache is the only destination. */
	o.output = NULL;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "KTSTR_CACHE_DIR"));
	free(msg);
	free(out);
	free(blocker);
	free(cache);
}

static void test_concurrent_builders(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	pid_t pids[2];
	int i, status;

	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct initramfs_result r;
			struct strbuf err = STRBUF_INIT;

			_exit(initramfs_build(&o, &r, &err) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* One image, no temp file left by either. */
	assert_int_equal(count_images(fx->cache), 1);
}

static void test_err_missing_include(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	char *out = xasprintf("%s/image.cpio", fx->dir);
	const char *incs[1];
	char *msg;

	incs[0] = fxp(fx, 0, "nope");
	o.includes = incs;
	o.n_includes = 1;
	o.output = out;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "include "));
	assert_non_null(strstr(msg, incs[0]));
	assert_non_null(strstr(msg, "does not exist"));
	free(msg);
	/* Nothing half-written: only the cache dir (if any) and no temp file. */
	assert_false(path_exists(out));
	assert_int_equal(count_entries(fx->dir), 0);
	free(out);
}

static void test_err_duplicate_basename(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	char a[PATH_MAX], b[PATH_MAX];
	const char *incs[2] = { a, b };
	char *msg;

	assert_int_equal(mkdir_p(fxp(fx, 0, "x"), 0755), 0);
	assert_int_equal(mkdir_p(fxp(fx, 0, "y"), 0755), 0);
	write_text(fxp(fx, 0, "x/same"), "1", 0644);
	write_text(fxp(fx, 0, "y/same"), "2", 0644);
	snprintf(a, sizeof(a), "%s/x/same", fx->dir);
	snprintf(b, sizeof(b), "%s/y/same", fx->dir);
	o.includes = incs;
	o.n_includes = 2;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "/include-files/same"));
	assert_non_null(strstr(msg, a));
	assert_non_null(strstr(msg, b));
	free(msg);
}

static void test_err_agent_busybox(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	char *msg;

	o.agent = fxp(fx, 0, "no-agent");
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "guest agent"));
	assert_non_null(strstr(msg, o.agent));
	free(msg);
	o.agent = NULL;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "agent"));
	free(msg);
	o.agent = BUSYBOX;
	o.busybox = fxp(fx, 0, "no-busybox");
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "busybox"));
	assert_non_null(strstr(msg, o.busybox));
	free(msg);
	/* Something that is not busybox at all. */
	write_text(fxp(fx, 0, "fake"), "#!/bin/sh\nexit 3\n", 0755);
	o.busybox = fxp(fx, 0, "fake");
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "--list-full"));
	free(msg);
	assert_int_equal(count_entries(fx->cache), -1);
}

static void test_err_unresolvable_library(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	const char *incs[1];
	char *msg;

	assert_int_equal(mkdir_p(fxp(fx, 0, "bins"), 0755), 0);
	make_broken_elf(fxp(fx, 0, "bins/broken"));
	incs[0] = fxp(fx, 1, "bins");
	o.includes = incs;
	o.n_includes = 1;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "libq.so.6"));
	assert_non_null(strstr(msg, "bins/broken"));
	free(msg);
}

static void test_err_special_file(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	const char *incs[1];
	char *msg;

	assert_int_equal(mkdir_p(fxp(fx, 0, "d"), 0755), 0);
	assert_int_equal(mkfifo(fxp(fx, 0, "d/fifo"), 0644), 0);
	incs[0] = fxp(fx, 1, "d");
	o.includes = incs;
	o.n_includes = 1;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "d/fifo"));
	free(msg);
}

static void test_files_paths(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r;
	struct listing l;
	struct initramfs_file f[2];
	char *msg;

	write_text(fxp(fx, 0, "myshell"), "#!/bin/busybox sh\n", 0755);
	write_text(fxp(fx, 1, "other"), "other\n", 0644);
	/* Relative or escaping guest paths are refused. */
	f[0].src = fxp(fx, 0, "myshell");
	f[0].dest = "bin/sh";
	o.files = f;
	o.n_files = 1;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "bin/sh"));
	free(msg);
	f[0].dest = "/usr/../../etc/x";
	msg = build_fail(&o);
	free(msg);
	/* A file replaces the busybox applet at the same path. */
	f[0].dest = "//bin/./sh";
	build_ok(&o, &r);
	list_archive(r.path, &l);
	assert_true(S_ISREG(find(&l, "bin/sh")->mode));
	listing_free(&l);
	initramfs_result_release(&r);
	/* Two different files at one path are refused; so is a file where a
	 * directory is needed. */
	f[1].src = fxp(fx, 1, "other");
	f[1].dest = "/bin/sh";
	o.n_files = 2;
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "/bin/sh"));
	free(msg);
	f[1].dest = "/init";
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "/init"));
	free(msg);
	f[1].dest = "/dev";
	msg = build_fail(&o);
	assert_non_null(strstr(msg, "/dev"));
	free(msg);
	/* The same file twice at one path is harmless. */
	f[1].src = fxp(fx, 0, "myshell");
	f[1].dest = "/bin/sh";
	build_ok(&o, &r);
	initramfs_result_release(&r);
}

/* ---- the inputs memo ----------------------------------------------------- */

static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/* A memo of fx's cache that trusts even fresh files, and the file f with
 * text, stat'ed into st. */
static void memo_start(struct fx *fx, struct inmemo *m, const char *f, const char *text,
		       struct stat *st)
{
	assert_int_equal(mkdir_p(fx->cache, 0755), 0);
	write_text(f, text, 0644);
	assert_int_equal(stat(f, st), 0);
	inmemo_load(m, fx->cache);
	m->settle_ns = 0;
}

static void test_memo_roundtrip(void **state)
{
	struct fx *fx = *state;
	const char *f = fxp(fx, 0, "input.bin");
	char sha[SHA256_HEX_LEN + 1];
	unsigned long long size = 0;
	struct inmemo m;
	struct stat st;

	memo_start(fx, &m, f, "twelve bytes", &st);
	assert_false(inmemo_get_hash(&m, f, &st, sha, &size));
	inmemo_put_hash(&m, f, &st, SHA_A, 12);
	inmemo_put_applets(&m, f, &st, "/bin/sh\n/bin/ls\n");
	/* A size that is not the file's: read while it changed, not kept. */
	inmemo_put_hash(&m, "/other", &st, SHA_A, 11);
	inmemo_save(&m);
	inmemo_release(&m);

	inmemo_load(&m, fx->cache);
	assert_true(inmemo_get_hash(&m, f, &st, sha, &size));
	assert_string_equal(sha, SHA_A);
	assert_int_equal(size, 12);
	assert_false(inmemo_get_hash(&m, "/other", &st, sha, &size));
	assert_string_equal(inmemo_get_applets(&m, f, &st), "/bin/sh\n/bin/ls\n");
	inmemo_release(&m);

	/* Rewritten with the same size: a new mtime and ctime, not known. */
	write_text(f, "twelve bytez", 0644);
	assert_int_equal(stat(f, &st), 0);
	inmemo_load(&m, fx->cache);
	assert_false(inmemo_get_hash(&m, f, &st, sha, &size));
	assert_null(inmemo_get_applets(&m, f, &st));
	/* Fresh files are not remembered under the default settle time. */
	inmemo_put_hash(&m, f, &st, SHA_A, 12);
	inmemo_save(&m);
	inmemo_release(&m);
	inmemo_load(&m, fx->cache);
	assert_false(inmemo_get_hash(&m, f, &st, sha, &size));
	inmemo_release(&m);

	/* A garbled memo is an empty one. */
	write_text(tmpdir_path(fx->cache, "inputs.json"), "{not json", 0644);
	inmemo_load(&m, fx->cache);
	assert_false(inmemo_get_hash(&m, f, &st, sha, &size));
	inmemo_release(&m);
	/* No cache directory: remembers nothing, writes nothing. */
	inmemo_load(&m, NULL);
	m.settle_ns = 0;
	inmemo_put_hash(&m, f, &st, SHA_A, 12);
	assert_false(inmemo_get_hash(&m, f, &st, sha, &size));
	inmemo_save(&m);
	inmemo_release(&m);
}

/* Past INMEMO_MAX entries a table keeps what the last build used. */
static void test_memo_prune(void **state)
{
	struct fx *fx = *state;
	const char *f = fxp(fx, 0, "input.bin");
	char sha[SHA256_HEX_LEN + 1], name[64];
	unsigned long long size;
	struct inmemo m;
	struct stat st;

	memo_start(fx, &m, f, "x", &st);
	for (int i = 0; i < INMEMO_MAX; i++) {
		snprintf(name, sizeof(name), "/src/%d", i);
		inmemo_put_hash(&m, name, &st, SHA_A, 1);
	}
	inmemo_save(&m);
	inmemo_release(&m);
	/* At the limit: all kept.  One more, used with one old one. */
	inmemo_load(&m, fx->cache);
	m.settle_ns = 0;
	assert_true(inmemo_get_hash(&m, "/src/7", &st, sha, &size));
	inmemo_put_hash(&m, "/src/new", &st, SHA_A, 1);
	inmemo_save(&m);
	inmemo_release(&m);
	inmemo_load(&m, fx->cache);
	assert_true(inmemo_get_hash(&m, "/src/7", &st, sha, &size));
	assert_true(inmemo_get_hash(&m, "/src/new", &st, sha, &size));
	assert_false(inmemo_get_hash(&m, "/src/8", &st, sha, &size));
	inmemo_release(&m);
}

/* A second build of the same inputs takes busybox's applet list and the
 * old files' hashes from the memo and comes out the same. */
static void test_memo_build(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	struct initramfs_result r1, r2;
	char *memo = xasprintf("%s/inputs.json", fx->cache);
	json_t *j;

	build_ok(&o, &r1);
	j = json_load_file(memo, 0, NULL);
	assert_non_null(j);
	/* busybox is old enough to trust: its list and hash are kept. */
	assert_non_null(json_object_get(json_object_get(j, "applets"), BUSYBOX));
	assert_non_null(json_object_get(json_object_get(j, "files"), BUSYBOX));
	json_decref(j);
	o.no_sha256 = true;
	build_ok(&o, &r2);
	assert_true(r2.cached);
	assert_string_equal(r1.key, r2.key);
	assert_string_equal(r2.sha256, "");
	assert_int_equal(r2.bytes, r1.bytes);
	initramfs_result_release(&r1);
	initramfs_result_release(&r2);
	free(memo);
}

/* host_tools: a tool is packed at its host path, an applet busybox has
 * wins over the host's, and a tool the host lacks (or cannot run) is
 * named in missing_tools instead of failing the build.  Without
 * host_tools nothing of the list is looked at. */
static void test_host_tools(void **state)
{
	struct fx *fx = *state;
	struct initramfs_opts o = base_opts(fx);
	const char *tools[] = {
		fxp(fx, 0, "mytool"), fxp(fx, 1, "gone"), fxp(fx, 2, "plain"),
		"/nonexistent/taskset", NULL,
	};
	struct initramfs_result r;
	struct listing l;

	write_text(tools[0], "#!/bin/sh\necho tool\n", 0755);
	write_text(tools[2], "not a program\n", 0644);
	o.tool_paths = tools;
	build_ok(&o, &r);
	assert_int_equal(r.missing_tools.n, 0);
	list_archive(r.path, &l);
	assert_null(find(&l, tools[0] + 1));
	listing_free(&l);
	initramfs_result_release(&r);

	o.host_tools = true;
	build_ok(&o, &r);
	assert_int_equal(r.missing_tools.n, 2);
	assert_string_equal(r.missing_tools.v[0], tools[1]);
	assert_string_equal(r.missing_tools.v[1], tools[2]);
	list_archive(r.path, &l);
	assert_non_null(find(&l, tools[0] + 1));
	assert_null(find(&l, tools[2] + 1));
	assert_null(find(&l, "nonexistent/taskset"));
	listing_free(&l);
	initramfs_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_tools, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memo_roundtrip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memo_prune, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memo_build, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_dynamic, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_static_and_data, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_missing_lib, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_runpath_origin, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_rpath_braced_origin, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_layout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deterministic_and_cached, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_output, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_output_without_cache, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_builders, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_err_missing_include, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_err_duplicate_basename, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_err_agent_busybox, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_err_unresolvable_library, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_err_special_file, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_files_paths, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
