/* Unit tests for lib/kernel/kernel_id.c (every accepted form and every error) and
 * the pure parts of lib/kernel/fetch.c that turn ids into releases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "kernel_id.h"

static void parse_ok(const char *s, struct kernel_id *id)
{
	struct strbuf err = STRBUF_INIT;
	int rc = kernel_id_parse(s, id, &err);

	if (rc)
		print_error("unexpected error for '%s': %s\n", s, err.buf);
	assert_int_equal(rc, 0);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

/* Parse expecting failure; the message must contain want and name the id. */
static void parse_bad(const char *s, const char *want)
{
	struct kernel_id id;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(kernel_id_parse(s, &id, &err), -1);
	if (!strstr(err.buf, want))
		print_error("'%s': message '%s' lacks '%s'\n", s, err.buf, want);
	assert_non_null(strstr(err.buf, want));
	assert_non_null(strstr(err.buf, "kernel id '"));
	assert_null(strchr(err.buf, '\n'));
	kernel_id_release(&id);
	strbuf_release(&err);
}

static void test_exact(void **state)
{
	struct kernel_id id;

	parse_ok("6.14.2", &id);
	assert_int_equal(id.kind, KID_VERSION);
	assert_int_equal(id.ver.n, 3);
	assert_int_equal(id.ver.v[0], 6);
	assert_int_equal(id.ver.v[1], 14);
	assert_int_equal(id.ver.v[2], 2);
	kernel_id_release(&id);
	parse_ok("  6.1.100 ", &id);
	assert_int_equal(id.kind, KID_VERSION);
	assert_string_equal(id.text, "6.1.100");
	kernel_id_release(&id);
}

static void test_prefix(void **state)
{
	struct kernel_id id;

	parse_ok("6.14", &id);
	assert_int_equal(id.kind, KID_PREFIX);
	assert_int_equal(id.ver.n, 2);
	kernel_id_release(&id);
	parse_ok("6", &id);
	assert_int_equal(id.kind, KID_PREFIX);
	assert_int_equal(id.ver.n, 1);
	assert_int_equal(id.ver.v[0], 6);
	kernel_id_release(&id);
}

static void test_latest(void **state)
{
	struct kernel_id id;

	parse_ok("", &id);
	assert_int_equal(id.kind, KID_LATEST);
	kernel_id_release(&id);
	parse_ok(" \t", &id);
	assert_int_equal(id.kind, KID_LATEST);
	kernel_id_release(&id);
	parse_ok(NULL, &id);
	assert_int_equal(id.kind, KID_LATEST);
	kernel_id_release(&id);
}

static void test_range(void **state)
{
	struct kernel_id id;
	struct kernel_ver v;

	parse_ok("6.12..6.14", &id);
	assert_int_equal(id.kind, KID_RANGE);
	assert_int_equal(id.lo.v[1], 12);
	assert_int_equal(id.hi.v[1], 14);
	assert_int_equal(kernel_ver_parse("6.14.9", 6, &v), 0);
	assert_true(kernel_ver_in_range(&v, &id.lo, &id.hi));
	assert_int_equal(kernel_ver_parse("6.15", 4, &v), 0);
	assert_false(kernel_ver_in_range(&v, &id.lo, &id.hi));
	assert_int_equal(kernel_ver_parse("6.11.30", 7, &v), 0);
	assert_false(kernel_ver_in_range(&v, &id.lo, &id.hi));
	kernel_id_release(&id);
	parse_ok("6.12..=7.0", &id);
	assert_int_equal(id.kind, KID_RANGE);
	assert_int_equal(id.hi.v[0], 7);
	kernel_id_release(&id);
	parse_ok("6.14..6.14", &id);
	assert_int_equal(id.kind, KID_RANGE);
	kernel_id_release(&id);
}

static void test_range_bad(void **state)
{
	parse_bad("6.14..6.12", "swap the endpoints");
	parse_bad("6.14..=6.12", "swap the endpoints (6.12..6.14)");
	parse_bad("6.12..", "a range needs two versions");
	parse_bad("6.12..x", "a range needs two versions");
	parse_bad("6.12...6.14", "a range needs two versions");
}

static void test_git(void **state)
{
	struct kernel_id id;
	const char *sha = "0123456789abcdef0123456789ABCDEF01234567";
	char buf[200];

	parse_ok("git+https://example.com/linux.git#tag=v6.14", &id);
	assert_int_equal(id.kind, KID_GIT);
	assert_int_equal(id.git_ref, KGIT_TAG);
	assert_string_equal(id.git_url, "https://example.com/linux.git");
	assert_string_equal(id.git_name, "v6.14");
	kernel_id_release(&id);
	parse_ok("git+file:///src/linux#branch=for-next", &id);
	assert_int_equal(id.git_ref, KGIT_BRANCH);
	assert_string_equal(id.git_name, "for-next");
	kernel_id_release(&id);
	snprintf(buf, sizeof(buf), "git+https://x/y#sha=%s", sha);
	parse_ok(buf, &id);
	assert_int_equal(id.git_ref, KGIT_SHA);
	assert_string_equal(id.git_name, sha);
	kernel_id_release(&id);
}

static void test_git_bad(void **state)
{
	parse_bad("git+https://x/y#sha=abc", "full 40-hex");
	parse_bad("git+https://x/y#sha=0123456789abcdef0123456789abcdef0123456g",
		  "full 40-hex");
	parse_bad("git+https://x/y#sha=0123456789abcdef0123456789abcdef012345678",
		  "full 40-hex");
	parse_bad("git+https://x/y", "needs a URL and a ref");
	parse_bad("git+#tag=v1", "needs a URL and a ref");
	parse_bad("git+https://x/y#rev=v1", "unknown git ref");
	parse_bad("git+https://x/y#tag=", "empty git ref name");
}

static void test_path(void **state)
{
	struct kernel_id id;

	parse_ok("/usr/src/linux", &id);
	assert_int_equal(id.kind, KID_PATH);
	assert_string_equal(id.path, "/usr/src/linux");
	kernel_id_release(&id);
	parse_ok("./linux", &id);
	assert_int_equal(id.kind, KID_PATH);
	kernel_id_release(&id);
	parse_ok("../linux", &id);
	assert_int_equal(id.kind, KID_PATH);
	kernel_id_release(&id);
	setenv("HOME", "/home/u", 1);
	parse_ok("~/linux", &id);
	assert_int_equal(id.kind, KID_PATH);
	assert_string_equal(id.path, "/home/u/linux");
	kernel_id_release(&id);
	parse_bad("~bob/linux", "~user paths");
}

static void test_cache_key(void **state)
{
	static const char *const keys[] = {
		"6.14.2-tarball-x86_64-kc1a2b3c4d",
		"6.14-tarball-aarch64-kcdeadbeef-xkc0badf00d",
		"local-abc1234",
		"local-abc1234-x86_64-kc1a2b3c4d",
		"debian-6.12.27-cloud-amd64",
	};
	struct kernel_id id;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		parse_ok(keys[i], &id);
		assert_int_equal(id.kind, KID_CACHE_KEY);
		assert_string_equal(id.path, keys[i]);
		kernel_id_release(&id);
	}
	parse_bad("6.14.2-tarball-x86_64-kc1a2b", "not a kernel id");
	parse_bad("local-xyz", "not a kernel id");
	parse_bad("debian-", "not a kernel id");
}

static void test_debian(void **state)
{
	struct kernel_id id;

	parse_ok("debian", &id);
	assert_int_equal(id.kind, KID_DEBIAN);
	assert_string_equal(kernel_id_kind_name(id.kind), "debian");
	assert_null(id.flavour);
	kernel_id_release(&id);
}

/* debian:FLAVOUR names one flavour; anything that could not be a Debian
 * flavour (and so a package name and a cache key) is refused. */
static void test_debian_flavour(void **state)
{
	static const char *const good[] = { "amd64", "cloud-amd64", "rt-amd64" };
	static const char *const bad[] = {
		"debian:", "debian:-amd64", "debian:amd64-", "debian:cloud--amd64",
		"debian:AMD64", "debian:64bit", "debian:amd64/x", "debian:a.b",
	};
	struct kernel_id id;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char s[64];

		snprintf(s, sizeof(s), "debian:%s", good[i]);
		parse_ok(s, &id);
		assert_int_equal(id.kind, KID_DEBIAN);
		assert_string_equal(id.flavour, good[i]);
		assert_string_equal(id.text, s);
		kernel_id_release(&id);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i], "use debian:amd64 or debian:cloud-amd64");
	/* A cache key with the generic flavour is still a cache key. */
	parse_ok("debian-7.3.4+deb13-amd64-x86_64", &id);
	assert_int_equal(id.kind, KID_CACHE_KEY);
	kernel_id_release(&id);
}

static void test_garbage(void **state)
{
	parse_bad("foo bar", "kernel id 'foo bar': contains whitespace");
	parse_bad("foo bar", "git+URL#sha=<40-hex>");
	parse_bad("foo", "not a kernel id; expected one of");
	parse_bad("6.14.2.1", "not a kernel id");
	parse_bad("6.", "not a kernel id");
	parse_bad("v6.14", "not a kernel id");
	parse_bad("6.14-rc1", "not a kernel id");
}

static void test_ver_helpers(void **state)
{
	struct kernel_ver a, b;
	char buf[64];

	assert_int_equal(kernel_ver_parse("6.14", 4, &a), 0);
	assert_int_equal(kernel_ver_parse("6.14.0", 6, &b), 0);
	assert_int_equal(kernel_ver_cmp(&a, &b), 0);
	kernel_ver_format(&b, buf, sizeof(buf));
	assert_string_equal(buf, "6.14");
	assert_int_equal(kernel_ver_parse("6.9.12", 6, &b), 0);
	assert_true(kernel_ver_cmp(&b, &a) < 0);
	kernel_ver_format(&b, buf, sizeof(buf));
	assert_string_equal(buf, "6.9.12");
	assert_int_equal(kernel_ver_parse("7", 1, &a), 0);
	kernel_ver_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "7");
	assert_int_equal(kernel_ver_parse("", 0, &a), -1);
	assert_int_equal(kernel_ver_parse("1234567890", 10, &a), -1);
}

#define H64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static void test_parse_sums(void **state)
{
	const char text[] =
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
		H64("a") "  linux-6.14.2.tar.xz\n"
		H64("B") "  linux-6.14.tar.xz\r\n"
		H64("c") "  linux-6.14.2.tar.gz\n"
		H64("d") "  patch-6.14.2.xz\n"
		H64("e") "  linux-6.14.2.tar.sign\n"
		"abc  linux-6.1.1.tar.xz\n"
		H64("f") "  linux-6.14-rc1.tar.xz\n"
		H64("0") " *linux-6.9.12.tar.xz";
	struct fetch_list l = { 0 };

	fetch_parse_sums(text, "http://h/v6.x", &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.r[0].version, "6.14.2");
	assert_string_equal(l.r[0].file, "linux-6.14.2.tar.xz");
	assert_string_equal(l.r[0].url, "http://h/v6.x/linux-6.14.2.tar.xz");
	assert_string_equal(l.r[0].sha256, H64("a"));
	assert_string_equal(l.r[1].version, "6.14");
	assert_string_equal(l.r[1].sha256, H64("b"));	/* lower-cased */
	assert_int_equal(l.r[1].ver.v[2], 0);
	assert_string_equal(l.r[2].version, "6.9.12");
	fetch_list_release(&l);
}

static void test_resolve_non_release(void **state)
{
	struct kernel_id id;
	struct fetch_list l = { 0 };
	struct strbuf err = STRBUF_INIT;

	parse_ok("/usr/src/linux", &id);
	assert_int_equal(fetch_resolve(&id, &l, &err), 2);
	assert_non_null(strstr(err.buf, "does not name a kernel.org release"));
	assert_int_equal(l.n, 0);
	kernel_id_release(&id);
	strbuf_release(&err);
}

static void test_tree_version(void **state)
{
	char dir[] = "/tmp/ktstr-test-kid.XXXXXX", path[64], buf[64], cmd[96];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(fetch_tree_version(dir, buf, sizeof(buf)), -1);
	snprintf(path, sizeof(path), "%s/Makefile", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# x\nVERSION = 6\nPATCHLEVEL = 14\nSUBLEVEL = 2\nEXTRAVERSION =\n", f);
	fclose(f);
	assert_int_equal(fetch_tree_version(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "6.14.2");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("VERSION = 7\nPATCHLEVEL = 0\nSUBLEVEL = 0\n", f);
	fclose(f);
	assert_int_equal(fetch_tree_version(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "7.0");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("all:\n\ttrue\n", f);
	fclose(f);
	assert_int_equal(fetch_tree_version(dir, buf, sizeof(buf)), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_latest),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_bad),
		cmocka_unit_test(test_git),
		cmocka_unit_test(test_git_bad),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_cache_key),
		cmocka_unit_test(test_debian),
		cmocka_unit_test(test_debian_flavour),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_ver_helpers),
		cmocka_unit_test(test_parse_sums),
		cmocka_unit_test(test_resolve_non_release),
		cmocka_unit_test(test_tree_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
