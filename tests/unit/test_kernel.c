/* Unit tests for lib/kernel/kernel.c: image checks and the discovery chain, on a
 * private fake cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "kernel.h"
#include "vm_request.h"

static char dir[] = "/tmp/ktstr-test-kernel.XXXXXX";

/* A file that passes the bzImage header check. */
static void fake_image(const char *path)
{
	unsigned char img[1024] = { 0 };

	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	assert_int_equal(write_file_atomic(path, img, sizeof(img), 0644), 0);
}

static char *p(const char *rel)
{
	return path_join(dir, rel);
}

/* A cache entry <dir>/cache/<key> built at `when` with kconfig hash kc
 * (NULL: untracked). */
static void entry_v(const char *key, const char *when, const char *kc, const char *ver)
{
	char *d = xasprintf("%s/cache/%s", dir, key);
	char *img = path_join(d, "bzImage");
	char *meta = path_join(d, "metadata.json");
	char *json = xasprintf("{\"version\":\"%s\",\"image_name\":\"bzImage\","
			       "\"built_at\":\"%s\",\"kconfig_hash\":%s%s%s}", ver, when,
			       kc ? "\"" : "", kc ? kc : "null", kc ? "\"" : "");

	assert_int_equal(mkdir_p(d, 0755), 0);
	fake_image(img);
	assert_int_equal(write_file_atomic(meta, json, strlen(json), 0644), 0);
	free(d);
	free(img);
	free(meta);
	free(json);
}

static void entry(const char *key, const char *when, const char *kc)
{
	entry_v(key, when, kc, "x");
}

static int setup(void **state)
{
	char *cache;

	if (!mkdtemp(dir))
		return -1;
	cache = p("cache");
	setenv("KTSTR_CACHE_DIR", cache, 1);
	free(cache);
	unsetenv("KTSTR_KERNEL");
	unsetenv("KTSTR_TEST_KERNEL");
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

static int reset(void **state)
{
	char *cache = p("cache");

	rm_rf(cache);
	mkdir_p(cache, 0755);
	free(cache);
	unsetenv("KTSTR_KERNEL");
	unsetenv("KTSTR_TEST_KERNEL");
	return 0;
}

static void test_image_check(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char *good = p("good"), *bad = p("bad");

	fake_image(good);
	assert_int_equal(kernel_image_check(good, &err), 0);
	assert_int_equal(write_file_atomic(bad, "hello", 5, 0644), 0);
	assert_int_equal(kernel_image_check(bad, &err), -1);
	assert_non_null(strstr(err.buf, "not an x86 kernel image"));
	strbuf_reset(&err);
	assert_int_equal(kernel_image_check("/bin/sh", &err), -1);
	assert_non_null(strstr(err.buf, "ELF vmlinux"));
	strbuf_reset(&err);
	assert_int_equal(kernel_image_check("/nonexistent/k", &err), -1);
	strbuf_release(&err);
	free(good);
	free(bad);
}

static void test_explicit(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kernel_found kf;
	char *tree = p("linux"), *img = p("linux/arch/x86/boot/bzImage");

	mkdir_p(tree, 0755);
	assert_int_equal(kernel_find(tree, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "directory without arch/x86/boot/bzImage"));
	strbuf_reset(&err);
	{
		char *d = path_dirname(img);

		mkdir_p(d, 0755);
		free(d);
	}
	fake_image(img);
	assert_int_equal(kernel_find(tree, &kf, &err), 0);
	assert_string_equal(kf.image, img);
	assert_string_equal(kf.source, "--kernel");
	kernel_found_release(&kf);
	/* --kernel wins over the variables. */
	setenv("KTSTR_TEST_KERNEL", "/nonexistent", 1);
	assert_int_equal(kernel_find(img, &kf, &err), 0);
	kernel_found_release(&kf);
	assert_int_equal(kernel_find("/nonexistent/bzImage", &kf, &err), -1);
	assert_non_null(strstr(err.buf, "--kernel=/nonexistent/bzImage does not exist"));
	strbuf_release(&err);
	free(tree);
	free(img);
}

static void test_test_kernel_env(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kernel_found kf;
	char *img = p("k1");

	fake_image(img);
	entry("cached-1", "2026-01-01T00:00:00Z", NULL);
	setenv("KTSTR_TEST_KERNEL", img, 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.image, img);
	assert_string_equal(kf.source, "KTSTR_TEST_KERNEL");
	kernel_found_release(&kf);
	/* Set but empty: a hard error, never a fall-through to the cache. */
	setenv("KTSTR_TEST_KERNEL", "", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_TEST_KERNEL not found"));
	strbuf_release(&err);
	free(img);
}

static void test_cache_scan(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kernel_found kf;
	const char *ours = kernel_kconfig_hash();
	char *bad_meta;

	assert_int_equal((int)strlen(ours), 8);
	entry("old-untracked", "2026-01-01T00:00:00Z", NULL);
	entry("mid-current", "2026-02-01T00:00:00Z", ours);
	entry("new-stale", "2026-03-01T00:00:00Z", "deadbeef");
	entry("newest-corrupt", "2026-04-01T00:00:00Z", NULL);
	bad_meta = p("cache/newest-corrupt/metadata.json");
	assert_int_equal(write_file_atomic(bad_meta, "{not json", 9, 0644), 0);
	free(bad_meta);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	/* Stale kconfig and corrupt metadata are skipped; newest valid wins. */
	assert_string_equal(kf.key, "mid-current");
	assert_string_equal(kf.source, "cache");
	kernel_found_release(&kf);
	strbuf_release(&err);
}

static void test_ktstr_kernel(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kernel_found kf;
	char *key = xasprintf("6.14.2-tarball-x86_64-kc%s", kernel_kconfig_hash());
	char *local = xasprintf("local-abc1234-x86_64-kc%s", kernel_kconfig_hash());

	entry(key, "2026-01-01T00:00:00Z", kernel_kconfig_hash());
	entry(local, "2026-05-01T00:00:00Z", NULL);
	entry("debian-7.3.4+deb13-cloud-amd64-x86_64", "2026-02-01T00:00:00Z", NULL);
	setenv("KTSTR_KERNEL", "6.14.2", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, key);
	assert_string_equal(kf.source, "KTSTR_KERNEL");
	kernel_found_release(&kf);
	{
		char *padded = xasprintf(" %s ", local);	/* trimmed, exact key */

		setenv("KTSTR_KERNEL", padded, 1);
		free(padded);
	}
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, local);
	kernel_found_release(&kf);
	setenv("KTSTR_KERNEL", "debian", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, "debian-7.3.4+deb13-cloud-amd64-x86_64");
	kernel_found_release(&kf);
	/* A version that is not cached never substitutes another entry. */
	setenv("KTSTR_KERNEL", "6.99", 1);
	if (kernel_find(NULL, &kf, &err) == 0) {
		assert_string_equal(kf.source, "host");
		kernel_found_release(&kf);
	} else {
		assert_non_null(strstr(err.buf, "KTSTR_KERNEL=6.99 is not in the kernel cache"));
	}
	strbuf_reset(&err);
	setenv("KTSTR_KERNEL", "6.12..6.14", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "ranges and git sources"));
	strbuf_reset(&err);
	/* The grammar's own errors come through: an inverted range, garbage. */
	setenv("KTSTR_KERNEL", "6.14..6.12", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "swap the endpoints"));
	strbuf_reset(&err);
	setenv("KTSTR_KERNEL", "foo bar", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), -1);
	assert_non_null(strstr(err.buf, "foo bar"));
	strbuf_release(&err);
	free(key);
	free(local);
}

/* kernel_find_list: what ktstr-test's repeated --kernel resolves to. */
static void test_find_list(void **state)
{
	const char *kc = kernel_kconfig_hash();
	struct strbuf err = STRBUF_INIT;
	struct kernel_found *v;
	char *k612 = xasprintf("6.12.9-tarball-x86_64-kc%s", kc);
	char *k614 = xasprintf("6.14.2-tarball-x86_64-kc%s", kc);
	char *k6141 = xasprintf("6.14.1-tarball-x86_64-kc%s", kc);
	char *k70 = xasprintf("7.0-tarball-x86_64-kc%s", kc);
	char *label, *img;
	size_t n;

	entry_v(k612, "2026-01-01T00:00:00Z", kc, "6.12.9");
	entry_v(k6141, "2026-01-02T00:00:00Z", kc, "6.14.1");
	entry_v(k614, "2026-01-03T00:00:00Z", kc, "6.14.2");
	entry_v(k70, "2026-01-04T00:00:00Z", kc, "7.0");
	entry_v("debian-7.3.4+deb13-cloud-amd64-x86_64", "2026-01-05T00:00:00Z", NULL,
		"7.3.4+deb13");

	/* A prefix is the highest cached match. */
	assert_int_equal(kernel_find_list("6.14", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, k614);
	label = kernel_found_label(&v[0]);
	assert_string_equal(label, "6.14.2");
	free(label);
	kernel_found_free(v, n);

	/* A range is every version in it, ascending; the distro kernel's
	 * "7.3.4+deb13" reads as 7.3.4. */
	assert_int_equal(kernel_find_list("6.12..7.3", &v, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].version, "6.12.9");
	assert_string_equal(v[1].version, "6.14.1");
	assert_string_equal(v[2].version, "6.14.2");
	assert_string_equal(v[3].version, "7.0");
	assert_string_equal(v[4].version, "7.3.4+deb13");
	kernel_found_free(v, n);
	assert_int_equal(kernel_find_list("6.13..6.14.1", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].version, "6.14.1");
	kernel_found_free(v, n);

	/* Exact versions, keys, "debian", newest, and a path with metadata. */
	assert_int_equal(kernel_find_list("7.0", &v, &n, &err), 0);
	assert_string_equal(v[0].key, k70);
	kernel_found_free(v, n);
	assert_int_equal(kernel_find_list("debian", &v, &n, &err), 0);
	assert_string_equal(v[0].version, "7.3.4+deb13");
	kernel_found_free(v, n);
	assert_int_equal(kernel_find_list("", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	kernel_found_free(v, n);
	img = xasprintf("%s/cache/%s/bzImage", dir, k612);
	assert_int_equal(kernel_find_list(img, &v, &n, &err), 0);
	assert_string_equal(v[0].version, "6.12.9");
	kernel_found_free(v, n);
	free(img);

	/* Misses and sources that need a build name the id and the fix. */
	assert_int_equal(kernel_find_list("6.99", &v, &n, &err), -1);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.buf, "kernel '6.99'"));
	assert_non_null(strstr(err.buf, "ktstr-fetch"));
	strbuf_reset(&err);
	assert_int_equal(kernel_find_list("8.0..8.1", &v, &n, &err), -1);
	strbuf_reset(&err);
	assert_int_equal(kernel_find_list("git+https://example.org/l.git#tag=v7.0", &v, &n,
					  &err), -1);
	assert_non_null(strstr(err.buf, "ktstr-build"));
	strbuf_reset(&err);
	assert_int_equal(kernel_find_list("6.14..6.12", &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "swap the endpoints"));
	strbuf_reset(&err);
	assert_int_equal(kernel_find_list("/nonexistent/bzImage", &v, &n, &err), -1);
	strbuf_release(&err);
	free(k612);
	free(k614);
	free(k6141);
	free(k70);
}

/* Debian's generic build beside the cloud one: "debian", the newest-entry
 * scan and an exact version still pick the cloud kernel on a version tie,
 * even when the generic one was fetched later; debian:amd64 picks the
 * generic one, whose label carries its flavour. */
/* A kernel with no version or key (a bare image) is named by its file,
 * or by its directory when the file has an image's usual name. */
static void test_label_of_a_bare_image(void **state)
{
	static const struct { const char *image, *want; } cases[] = {
		{ "./bad", "bad" },
		{ "bad", "bad" },
		{ "/tmp/x/my-kernel.img", "my-kernel.img" },
		{ "/src/linux-7.1/vmlinux", "linux-7.1" },
		{ "/boot/vmlinuz-7.1.0", "boot" },
		{ "./bzImage", "bzImage" },
		{ "/bzImage", "bzImage" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kernel_found kf = { .image = (char *)cases[i].image };
		char *label = kernel_found_label(&kf);

		assert_string_equal(label, cases[i].want);
		free(label);
	}
}

static void test_debian_flavours(void **state)
{
	static const char cloud[] = "debian-7.3.4+deb13-cloud-amd64-x86_64";
	static const char generic[] = "debian-7.3.4+deb13-amd64-x86_64";
	static const char *const ids[] = { "debian", "7.3.4", "7.3", "7.0..7.9", "" };
	struct strbuf err = STRBUF_INIT;
	struct kernel_found kf, *v;
	char *label;
	size_t n;

	entry_v(cloud, "2026-01-05T00:00:00Z", NULL, "7.3.4+deb13");
	entry_v(generic, "2026-01-06T00:00:00Z", NULL, "7.3.4+deb13");
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, cloud);
	assert_string_equal(kf.flavour, "cloud-amd64");
	label = kernel_found_label(&kf);
	assert_string_equal(label, "7.3.4+deb13");
	free(label);
	kernel_found_release(&kf);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(kernel_find_list(ids[i], &v, &n, &err), 0);
		assert_int_equal(n, 1);
		assert_string_equal(v[0].key, cloud);
		kernel_found_free(v, n);
	}
	assert_int_equal(kernel_find_list("debian:amd64", &v, &n, &err), 0);
	assert_string_equal(v[0].key, generic);
	label = kernel_found_label(&v[0]);
	assert_string_equal(label, "7.3.4+deb13-amd64");
	free(label);
	kernel_found_free(v, n);
	setenv("KTSTR_KERNEL", "debian:cloud-amd64", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, cloud);
	kernel_found_release(&kf);
	/* KTSTR_DEBIAN_FLAVOUR moves the preference; empty means unset. */
	setenv("KTSTR_DEBIAN_FLAVOUR", "amd64", 1);
	setenv("KTSTR_KERNEL", "debian", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, generic);
	kernel_found_release(&kf);
	setenv("KTSTR_DEBIAN_FLAVOUR", "", 1);
	assert_int_equal(kernel_find(NULL, &kf, &err), 0);
	assert_string_equal(kf.key, cloud);
	kernel_found_release(&kf);
	unsetenv("KTSTR_DEBIAN_FLAVOUR");
	/* A flavour nobody fetched is a miss that names the id. */
	assert_int_equal(kernel_find_list("debian:rt-amd64", &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "kernel 'debian:rt-amd64'"));
	unsetenv("KTSTR_KERNEL");
	strbuf_release(&err);
}

/* A scheduler build in the cache for kernel key, its binary's mtime set
 * to when (seconds). */
static void sched_build(const char *key, const char *name, time_t when)
{
	char *d = xasprintf("%s/cache/.schedulers/%s", dir, key);
	char *bin = path_join(d, name);
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };

	assert_int_equal(mkdir_p(d, 0755), 0);
	assert_int_equal(write_file_atomic(bin, "#!/bin/sh\n", 10, 0755), 0);
	assert_int_equal(utimensat(AT_FDCWD, bin, ts, 0), 0);
	free(bin);
	free(d);
}

/* Discovery by name for a kernel with no scheduler build of its own: the
 * newest build of the same kernel version, even when another kernel's
 * build is newer; without a version match, the newest build of any. */
static void test_scheduler_fallback(void **state)
{
	static const char cloud[] = "debian-7.3.4+deb13-cloud-amd64-x86_64";
	static const char generic[] = "debian-7.3.4+deb13-amd64-x86_64";
	static const char other[] = "7.0.1-tarball-x86_64-kc00000000";
	struct strbuf err = STRBUF_INIT;
	char *r, *want_cloud, *want_other;

	entry_v(cloud, "2026-01-05T00:00:00Z", NULL, "7.3.4+deb13");
	entry_v(generic, "2026-01-06T00:00:00Z", NULL, "7.3.4+deb13");
	entry_v(other, "2026-01-07T00:00:00Z", NULL, "7.0.1");
	sched_build(cloud, "scx_t", 1000);
	sched_build(other, "scx_t", 2000);
	want_cloud = xasprintf("%s/cache/.schedulers/%s/scx_t", dir, cloud);
	want_other = xasprintf("%s/cache/.schedulers/%s/scx_t", dir, other);
	r = scheduler_resolve("scx_t", generic, &err);
	assert_string_equal(r, want_cloud);
	free(r);
	r = scheduler_resolve("scx_t", other, &err);
	assert_string_equal(r, want_other);
	free(r);
	/* No key (a kernel given by path), or a key of no known version. */
	r = scheduler_resolve("scx_t", NULL, &err);
	assert_string_equal(r, want_other);
	free(r);
	r = scheduler_resolve("scx_t", "local-abc1234", &err);
	assert_string_equal(r, want_other);
	free(r);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	free(want_cloud);
	free(want_other);
}

static void test_scheduler_env_name(void **state)
{
	char *n = scheduler_env_name("scx-ktstr.v2");

	assert_string_equal(n, "KTSTR_SCHEDULER_BIN_SCX_KTSTR_V2");
	free(n);
}

static void test_scheduler_resolve(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char *bin = p("my_sched"), *r;

	assert_int_equal(write_file_atomic(bin, "#!/bin/sh\n", 10, 0755), 0);
	r = scheduler_resolve(bin, NULL, &err);
	assert_string_equal(r, bin);
	free(r);
	setenv("KTSTR_SCHEDULER_BIN_MY_SCHED", bin, 1);
	r = scheduler_resolve("my_sched", NULL, &err);
	assert_string_equal(r, bin);
	free(r);
	setenv("KTSTR_SCHEDULER_BIN_MY_SCHED", "/nonexistent", 1);
	assert_null(scheduler_resolve("my_sched", NULL, &err));
	assert_non_null(strstr(err.buf, "KTSTR_SCHEDULER_BIN_MY_SCHED=/nonexistent"));
	unsetenv("KTSTR_SCHEDULER_BIN_MY_SCHED");
	strbuf_reset(&err);
	assert_null(scheduler_resolve("no_such_sched_anywhere", NULL, &err));
	assert_non_null(strstr(err.buf, "not found"));
	strbuf_release(&err);
	free(bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_image_check, reset),
		cmocka_unit_test_setup(test_explicit, reset),
		cmocka_unit_test_setup(test_test_kernel_env, reset),
		cmocka_unit_test_setup(test_cache_scan, reset),
		cmocka_unit_test_setup(test_ktstr_kernel, reset),
		cmocka_unit_test_setup(test_find_list, reset),
		cmocka_unit_test(test_label_of_a_bare_image),
		cmocka_unit_test_setup(test_debian_flavours, reset),
		cmocka_unit_test(test_scheduler_env_name),
		cmocka_unit_test_setup(test_scheduler_resolve, reset),
		cmocka_unit_test_setup(test_scheduler_fallback, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
