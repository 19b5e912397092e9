/* Unit tests for lib/kernel/kbuild.c: what can be checked without running
 * a kernel build: the config check, source records, cache keys, the log
 * tail, and reuse of an entry already in a private cache. */
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
#include "jsonl.h"
#include "kbuild.h"
#include "kcache.h"
#include "kernel.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return tmpdir_create(dir, sizeof(dir), "kbuild");
}

static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

static void put(const char *rel, const char *text)
{
	assert_int_equal(write_file_atomic(tmpdir_path(dir, rel), text, strlen(text), 0644), 0);
}

static const char full_config[] =
	"CONFIG_SCHED_CLASS_EXT=y\nCONFIG_DEBUG_INFO_BTF=y\nCONFIG_BPF_SYSCALL=y\n"
	"CONFIG_KPROBE_EVENTS=y\nCONFIG_BPF_EVENTS=y\nCONFIG_FTRACE=y";

static void test_missing_options(void **state)
{
	struct strbuf m = STRBUF_INIT;

	(void)state;
	put("full", full_config);	/* no final newline: the last line counts */
	assert_int_equal(kbuild_missing_options(tmpdir_path(dir, "full"), &m), 0);
	assert_int_equal(m.len, 0);

	put("some", "# CONFIG_SCHED_CLASS_EXT is not set\nCONFIG_BPF_SYSCALL=y\n"
	    "CONFIG_FTRACE=m\nXCONFIG_DEBUG_INFO_BTF=y\nCONFIG_KPROBE_EVENTS=y\n"
	    "CONFIG_BPF_EVENTS=y\n");
	assert_int_equal(kbuild_missing_options(tmpdir_path(dir, "some"), &m), 3);
	assert_string_equal(m.buf, "CONFIG_SCHED_CLASS_EXT, CONFIG_DEBUG_INFO_BTF, "
			    "CONFIG_FTRACE");
	strbuf_release(&m);

	assert_int_equal(kbuild_missing_options(tmpdir_path(dir, "nope"), &m), 1);
	assert_non_null(strstr(m.buf, "nope unreadable"));
	strbuf_release(&m);
}

static json_t *parse(const char *line)
{
	struct strbuf err = STRBUF_INIT;
	json_t *r = jsonl_parse(line, strlen(line), &err);

	assert_non_null(r);
	strbuf_release(&err);
	return r;
}

static void test_source_from_record(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kbuild_source s;
	json_t *r;

	(void)state;
	r = parse("{\"type\":\"source\",\"kind\":\"git\",\"path\":\"/t\",\"version\":\"6.1\","
		  "\"ref\":\"v6.1\",\"url\":\"https://x\"}");
	assert_int_equal(kbuild_source_from_record(r, &s, &err), 0);
	assert_string_equal(s.kind, "git");
	assert_string_equal(s.path, "/t");
	assert_string_equal(s.version, "6.1");
	assert_string_equal(s.ref, "v6.1");
	assert_string_equal(s.url, "https://x");
	kbuild_source_release(&s);
	json_decref(r);

	/* An empty version is asked of the tree later. */
	r = parse("{\"type\":\"source\",\"kind\":\"path\",\"path\":\"/t\",\"version\":\"\"}");
	assert_int_equal(kbuild_source_from_record(r, &s, &err), 0);
	assert_null(s.version);
	assert_null(s.ref);
	kbuild_source_release(&s);
	json_decref(r);

	r = parse("{\"type\":\"source\",\"kind\":\"path\"}");
	assert_int_equal(kbuild_source_from_record(r, &s, &err), -1);
	assert_string_equal(err.buf, "source record without kind or path");
	strbuf_release(&err);
	json_decref(r);

	r = parse("{\"type\":\"source\",\"kind\":\"rpm\",\"path\":\"/t\"}");
	assert_int_equal(kbuild_source_from_record(r, &s, &err), -1);
	assert_string_equal(err.buf, "unknown source kind 'rpm'");
	strbuf_release(&err);
	json_decref(r);
}

static void test_init_and_keys(void **state)
{
	struct kbuild b = { .jobs = 1 };
	struct kbuild_source s = { .kind = "tarball", .path = "/nowhere", .version = "6.14.2" };
	struct strbuf err = STRBUF_INIT;
	char *key, *want, *real, hex[9];

	(void)state;
	if (!*kernel_kconfig_hash())
		skip();	/* needs build/share/ktstr/ktstr.kconfig */
	assert_int_equal(kbuild_init(&b, xstrdup(dir), NULL, &err), 0);
	assert_int_equal(kbuild_cache_key(&b, &s, &key, &err), 0);
	want = kcache_key_tarball("6.14.2", kernel_kconfig_hash(), NULL);
	assert_string_equal(key, want);
	free(key);
	free(want);

	/* A plain directory is keyed by the crc32 of where it is. */
	mkdir_p(tmpdir_path(dir, "tree"), 0755);
	s.kind = "path";
	s.path = (char *)tmpdir_path(dir, "tree");
	assert_int_equal(kbuild_cache_key(&b, &s, &key, &err), 0);
	real = realpath(s.path, NULL);
	kcache_crc32_hex(real, strlen(real), hex);
	want = kcache_key_local(hex, false, kernel_kconfig_hash(), NULL);
	assert_string_equal(key, want);
	assert_false(s.dirty);
	free(key);
	free(want);
	free(real);
	kbuild_release(&b);

	/* The extra fragment's crc32 becomes the -xkc segment. */
	put("extra", "CONFIG_FOO=y\n");
	assert_int_equal(kbuild_init(&b, xstrdup(dir), tmpdir_path(dir, "extra"), &err), 0);
	kcache_crc32_hex("CONFIG_FOO=y\n", 13, hex);
	assert_string_equal(b.xkc, hex);
	s.kind = "tarball";
	assert_int_equal(kbuild_cache_key(&b, &s, &key, &err), 0);
	want = kcache_key_tarball("6.14.2", kernel_kconfig_hash(), hex);
	assert_string_equal(key, want);
	free(key);
	free(want);
	kbuild_release(&b);

	assert_int_equal(kbuild_init(&b, xstrdup(dir), tmpdir_path(dir, "none"), &err), -1);
	assert_non_null(strstr(err.buf, "--extra-kconfig "));
	kbuild_release(&b);
	strbuf_release(&err);
}

static void test_log_tail(void **state)
{
	struct strbuf log = STRBUF_INIT, tail = STRBUF_INIT;
	int i;

	(void)state;
	for (i = 1; i <= 25; i++)
		strbuf_addf(&log, "line %d\n", i);
	put("log", log.buf);
	kbuild_log_tail(tmpdir_path(dir, "log"), 20, &tail);
	assert_true(!strncmp(tail.buf, "line 6\n", 7));
	assert_non_null(strstr(tail.buf, "line 25\n"));
	strbuf_release(&tail);
	kbuild_log_tail(tmpdir_path(dir, "log"), 100, &tail);
	assert_string_equal(tail.buf, log.buf);
	strbuf_release(&tail);
	kbuild_log_tail(tmpdir_path(dir, "nolog"), 20, &tail);
	assert_int_equal(tail.len, 0);
	strbuf_release(&log);
}

/* Publish a minimal valid entry under key in root. */
static void entry(const char *root, const char *key)
{
	struct strbuf err = STRBUF_INIT;
	char *staged = kcache_stage(root), *img = path_join(staged, "bzImage");
	json_t *meta = json_object();

	assert_int_equal(write_file_atomic(img, "img", 3, 0644), 0);
	json_set_str(meta, "version", "6.14.2");
	json_set_str(meta, "image_name", "bzImage");
	json_set_str(meta, "kconfig_hash", kernel_kconfig_hash());
	json_set_str(meta, "built_at", "2026-01-01T00:00:00Z");
	assert_int_equal(kcache_write_metadata(staged, meta), 0);
	assert_int_equal(kcache_publish(root, staged, key, &err), 0);
	json_decref(meta);
	free(img);
	free(staged);
}

static void test_get_cached(void **state)
{
	struct kbuild b = { .jobs = 1 };
	struct kbuild_source s = { .kind = "tarball", .version = "6.14.2" };
	struct strbuf err = STRBUF_INIT;
	struct kcache_entry e;
	char *root = xstrdup(tmpdir_path(dir, "cache")), *key;
	bool cached;

	(void)state;
	if (!*kernel_kconfig_hash())
		skip();
	mkdir_p(tmpdir_path(dir, "src"), 0755);
	s.path = (char *)tmpdir_path(dir, "src");
	assert_int_equal(kbuild_init(&b, root, NULL, &err), 0);
	assert_int_equal(kbuild_cache_key(&b, &s, &key, &err), 0);
	entry(root, key);
	assert_int_equal(kbuild_get(&b, &s, &e, &cached, &err), 0);
	assert_true(cached);
	assert_string_equal(e.key, key);
	kcache_entry_release(&e);

	/* A debian record names its entry directly (trailing slash and all). */
	entry(root, "debian-1.2.3-x86_64");
	s.kind = "debian";
	s.path = (char *)tmpdir_path(dir, "cache/debian-1.2.3-x86_64/");
	assert_int_equal(kbuild_get(&b, &s, &e, &cached, &err), 0);
	assert_true(cached);
	assert_string_equal(e.key, "debian-1.2.3-x86_64");
	kcache_entry_release(&e);
	s.path = (char *)tmpdir_path(dir, "cache/debian-9");
	assert_int_equal(kbuild_get(&b, &s, &e, &cached, &err), KTSTR_EXIT_USAGE);
	assert_non_null(strstr(err.buf, "is not a usable cache entry"));
	kcache_entry_release(&e);
	strbuf_release(&err);

	s.kind = "path";
	s.path = (char *)tmpdir_path(dir, "missing");
	assert_int_equal(kbuild_get(&b, &s, &e, &cached, &err), KTSTR_EXIT_USAGE);
	assert_non_null(strstr(err.buf, "is not a directory"));
	strbuf_release(&err);
	free(key);
	kbuild_release(&b);
}

static void test_default_jobs(void **state)
{
	(void)state;
	assert_true(kbuild_default_jobs() >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_options),
		cmocka_unit_test(test_source_from_record),
		cmocka_unit_test(test_init_and_keys),
		cmocka_unit_test(test_log_tail),
		cmocka_unit_test(test_get_cached),
		cmocka_unit_test(test_default_jobs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
