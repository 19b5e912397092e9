/* Unit tests for lib/kernel/kcache.c: keys, metadata, listing, stale detection,
 * the store lock and atomic publish/remove, on a private cache dir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "kcache.h"

static char dir[] = "/tmp/ktstr-test-kcache.XXXXXX";
static char *root;

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	root = path_join(dir, "cache");
	unsetenv("KTSTR_CACHE_STORE_LOCK_TIMEOUT");
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	free(root);
	return 0;
}

static int reset(void **state)
{
	rm_rf(root);
	mkdir_p(root, 0755);
	return 0;
}

/* A published entry built at `when` with kconfig hash kc (NULL: untracked). */
static void entry(const char *key, const char *when, const char *kc)
{
	struct strbuf err = STRBUF_INIT;
	char *staged = kcache_stage(root);
	char *img;
	json_t *meta = json_object();

	assert_non_null(staged);
	assert_int_equal(path_basename(staged)[0], '.');
	img = path_join(staged, "bzImage");
	assert_int_equal(write_file_atomic(img, "img", 3, 0644), 0);
	json_set_str(meta, "version", "6.14.2");
	json_object_set_new(meta, "source", json_pack("{s:s}", "type", "tarball"));
	json_set_str(meta, "image_name", "bzImage");
	json_object_set_new(meta, "kconfig_hash", kc ? json_string(kc) : json_null());
	json_set_str(meta, "built_at", when);
	json_set_int(meta, "build_ms", 1234);
	assert_int_equal(kcache_write_metadata(staged, meta), 0);
	json_decref(meta);
	assert_int_equal(kcache_publish(root, staged, key, &err), 0);
	assert_false(path_exists(staged));
	free(staged);
	free(img);
	strbuf_release(&err);
}

static void test_keys(void **state)
{
	char hex[9];
	char *k;

	kcache_crc32_hex("", 0, hex);
	assert_string_equal(hex, "00000000");
	kcache_crc32_hex("123456789", 9, hex);
	assert_string_equal(hex, "cbf43926");

	k = kcache_key_tarball("6.14.2", "deadbeef", NULL);
	assert_string_equal(k, "6.14.2-tarball-x86_64-kcdeadbeef");
	free(k);
	k = kcache_key_tarball("6.14.2", "deadbeef", "cbf43926");
	assert_string_equal(k, "6.14.2-tarball-x86_64-kcdeadbeef-xkccbf43926");
	free(k);
	k = kcache_key_git("main", "0123456789abcdef", "deadbeef", NULL);
	assert_string_equal(k, "main-git-0123456-x86_64-kcdeadbeef");
	free(k);
	k = kcache_key_git("origin/v6.14", "0123456789", "deadbeef", "00000001");
	assert_string_equal(k, "origin_v6.14-git-0123456-x86_64-kcdeadbeef-xkc00000001");
	free(k);
	k = kcache_key_local("abcdef0123", false, "deadbeef", NULL);
	assert_string_equal(k, "local-abcdef0-x86_64-kcdeadbeef");
	free(k);
	k = kcache_key_local("abcdef0123", true, "deadbeef", NULL);
	assert_string_equal(k, "local-abcdef0-dirty-x86_64-kcdeadbeef");
	free(k);
	assert_int_equal(kcache_key_valid("6.14-tarball-x86_64-kc1"), 0);
	assert_int_equal(kcache_key_valid(".tmp"), -1);
	assert_int_equal(kcache_key_valid("a/b"), -1);
	assert_int_equal(kcache_key_valid(""), -1);
}

static void test_metadata_round_trip(void **state)
{
	struct kcache_entry e;

	entry("k1", "2026-01-02T03:04:05Z", "aaaaaaaa");
	assert_int_equal(kcache_load(root, "k1", "aaaaaaaa", &e), 0);
	assert_string_equal(e.key, "k1");
	assert_string_equal(e.version, "6.14.2");
	assert_string_equal(e.source_type, "tarball");
	assert_string_equal(e.built_at, "2026-01-02T03:04:05Z");
	assert_string_equal(e.kconfig_hash, "aaaaaaaa");
	assert_null(e.extra_kconfig_hash);
	assert_int_equal(e.build_ms, 1234);
	assert_false(e.corrupt);
	assert_false(e.stale);
	assert_non_null(strstr(e.image, "/k1/bzImage"));
	kcache_entry_release(&e);
	assert_int_equal(kcache_load(root, "nope", NULL, &e), -1);
	kcache_entry_release(&e);
	assert_int_equal(kcache_load(root, "../cache/k1", NULL, &e), -1);
	kcache_entry_release(&e);
}

static void test_stale(void **state)
{
	struct kcache_entry e;

	entry("old", "2026-01-01T00:00:00Z", "aaaaaaaa");
	entry("distro", "2020-01-01T00:00:00Z", NULL);
	assert_int_equal(kcache_load(root, "old", "bbbbbbbb", &e), 0);
	assert_true(e.stale);
	kcache_entry_release(&e);
	assert_int_equal(kcache_load(root, "old", NULL, &e), 0);
	assert_false(e.stale);
	kcache_entry_release(&e);
	/* Untracked (distro) kernels are never stale. */
	assert_int_equal(kcache_load(root, "distro", "bbbbbbbb", &e), 0);
	assert_false(e.stale);
	kcache_entry_release(&e);
	/* The newest usable entry skips the stale one. */
	assert_int_equal(kcache_newest(root, "bbbbbbbb", &e), 0);
	assert_string_equal(e.key, "distro");
	kcache_entry_release(&e);
	assert_int_equal(kcache_newest(root, "aaaaaaaa", &e), 0);
	assert_string_equal(e.key, "old");
	kcache_entry_release(&e);
}

static void test_list_with_corrupt(void **state)
{
	struct kcache_entry *v, e;
	size_t n;
	char *d;

	entry("a", "2026-01-01T00:00:00Z", "aaaaaaaa");
	entry("b", "2026-03-01T00:00:00Z", "aaaaaaaa");
	d = path_join(root, "broken");
	mkdir_p(d, 0755);
	free(d);
	d = path_join(root, "broken/metadata.json");
	write_file_atomic(d, "{oops", 5, 0644);
	free(d);
	d = path_join(root, "noimage");
	mkdir_p(d, 0755);
	free(d);
	d = path_join(root, "noimage/metadata.json");
	write_file_atomic(d, "{\"image_name\":\"bzImage\"}", 24, 0644);
	free(d);
	/* Staging and trash dirs are not entries. */
	free(kcache_stage(root));

	n = kcache_list(root, "aaaaaaaa", &v);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].key, "b");
	assert_string_equal(v[1].key, "a");
	assert_true(v[2].corrupt);
	assert_true(v[3].corrupt);
	assert_non_null(v[2].error);
	assert_null(v[2].image);
	kcache_list_free(v, n);
	assert_int_equal(kcache_load(root, "noimage", NULL, &e), 1);
	assert_non_null(strstr(e.error, "missing"));
	kcache_entry_release(&e);
	assert_int_equal(kcache_newest(root, "aaaaaaaa", &e), 0);
	assert_string_equal(e.key, "b");
	kcache_entry_release(&e);

	/* A missing cache is just empty. */
	n = kcache_list("/nonexistent/ktstr", NULL, &v);
	assert_int_equal(n, 0);
	kcache_list_free(v, n);
}

static void test_publish_replace_remove(void **state)
{
	struct kcache_entry e;
	struct kcache_entry *v;
	size_t n;

	entry("k", "2026-01-01T00:00:00Z", "aaaaaaaa");
	entry("k", "2026-02-01T00:00:00Z", "aaaaaaaa");
	assert_int_equal(kcache_load(root, "k", NULL, &e), 0);
	assert_string_equal(e.built_at, "2026-02-01T00:00:00Z");
	kcache_entry_release(&e);
	assert_int_equal(kcache_remove(root, "k"), 0);
	assert_int_equal(kcache_load(root, "k", NULL, &e), -1);
	kcache_entry_release(&e);
	assert_int_equal(kcache_remove(root, "k"), -1);
	n = kcache_list(root, NULL, &v);
	assert_int_equal(n, 0);
	kcache_list_free(v, n);
}

static void test_lock_timeout_env(void **state)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long long ms;

	assert_int_equal(kcache_lock_timeout(&ms, &err), 0);
	assert_int_equal(ms, 600000);
	setenv("KTSTR_CACHE_STORE_LOCK_TIMEOUT", "30s", 1);
	assert_int_equal(kcache_lock_timeout(&ms, &err), 0);
	assert_int_equal(ms, 30000);
	setenv("KTSTR_CACHE_STORE_LOCK_TIMEOUT", "soon", 1);
	assert_int_equal(kcache_lock_timeout(&ms, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_CACHE_STORE_LOCK_TIMEOUT"));
	unsetenv("KTSTR_CACHE_STORE_LOCK_TIMEOUT");
	strbuf_release(&err);
}

/* Two processes: the child holds the lock for a while; the parent first
 * times out, then waits it out and gets it. */
static void test_lock_contention(void **state)
{
	struct strbuf err = STRBUF_INIT;
	int pipefd[2], fd, status;
	bool waited;
	char c;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct strbuf cerr = STRBUF_INIT;
		int cfd = kcache_lock(root, "key", 1000, NULL, &cerr);

		if (cfd < 0)
			_exit(1);
		if (write(pipefd[1], "L", 1) != 1)
			_exit(1);
		usleep(600 * 1000);
		kcache_unlock(cfd);
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);

	fd = kcache_lock(root, "key", 100, &waited, &err);
	assert_int_equal(fd, -1);
	assert_true(waited);
	assert_non_null(strstr(err.buf, "timed out"));
	strbuf_reset(&err);
	/* Another key is not blocked. */
	fd = kcache_lock(root, "other", 100, &waited, &err);
	assert_true(fd >= 0);
	assert_false(waited);
	kcache_unlock(fd);

	fd = kcache_lock(root, "key", 5000, &waited, &err);
	assert_true(fd >= 0);
	assert_true(waited);
	kcache_unlock(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(kcache_lock(root, "../x", 100, NULL, &err), -1);
	strbuf_release(&err);
}

static void test_now(void **state)
{
	char *s = iso8601_utc(time(NULL));

	assert_int_equal(strlen(s), 20);
	assert_int_equal(s[10], 'T');
	assert_int_equal(s[19], 'Z');
	free(s);
}

/* Staging and trash dirs an hour old are a killed build's; fresh ones,
 * entries and other dot files are left alone. */
static void test_remove_orphans(void **state)
{
	struct timeval old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
	char *p;

	(void)state;
	entry("6.14.2-tarball-x86_64-kcaaaaaaaa", "2026-01-01T00:00:00Z", "aaaaaaaa");
	p = path_join(root, ".tmp.old");
	assert_int_equal(mkdir_p(p, 0755), 0);
	assert_int_equal(utimes(p, old), 0);
	free(p);
	p = path_join(root, ".trash.old");
	assert_int_equal(mkdir_p(p, 0755), 0);
	assert_int_equal(utimes(p, old), 0);
	free(p);
	p = path_join(root, ".locks");
	assert_int_equal(mkdir_p(p, 0755), 0);
	assert_int_equal(utimes(p, old), 0);
	free(p);
	p = path_join(root, ".tmp.new");
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);

	assert_int_equal(kcache_remove_orphans(root, 3600), 2);
	p = path_join(root, ".tmp.new");
	assert_true(is_directory(p));
	free(p);
	p = path_join(root, ".locks");
	assert_true(is_directory(p));
	free(p);
	p = path_join(root, ".tmp.old");
	assert_false(path_exists(p));
	free(p);
	p = path_join(root, "6.14.2-tarball-x86_64-kcaaaaaaaa");
	assert_true(is_directory(p));
	free(p);
	p = path_join(root, "none");
	assert_int_equal(kcache_remove_orphans(p, 0), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup(test_metadata_round_trip, reset),
		cmocka_unit_test_setup(test_stale, reset),
		cmocka_unit_test_setup(test_list_with_corrupt, reset),
		cmocka_unit_test_setup(test_publish_replace_remove, reset),
		cmocka_unit_test(test_lock_timeout_env),
		cmocka_unit_test_setup(test_lock_contention, reset),
		cmocka_unit_test(test_now),
		cmocka_unit_test_setup(test_remove_orphans, reset),
	};

	diag_init("test_kcache");
	return cmocka_run_group_tests(tests, setup, teardown);
}
