/* Unit tests for lib/kernel/fetch_source.c: the ids that need no network
 * (local trees, cache keys, listing git and Debian ids) and reading a
 * helper script's record from its stdout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fetch_source.h"
#include "fsutil.h"
#include "jsonl.h"
#include "tmpdir.h"

static char dir[64];

/* Records the library emitted, as JSON lines. */
static struct strbuf got = STRBUF_INIT;

static void collect(json_t *rec, void *ctx)
{
	(void)ctx;
	jsonl_encode(&got, rec);
	json_decref(rec);
}

static int setup(void **state)
{
	(void)state;
	if (tmpdir_create(dir, sizeof(dir), "fetch-source"))
		return -1;
	setenv("KTSTR_CACHE_DIR", tmpdir_path(dir, "cache"), 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	strbuf_release(&got);
	return tmpdir_remove(dir);
}

/* Parse text as an id and fetch it; the exit code. */
static int run(const char *text, bool list, struct strbuf *err)
{
	struct fetch_opts o = { .list = list, .jobs = 1, .emit = collect };
	struct kernel_id id;
	int rc;

	strbuf_release(&got);
	assert_int_equal(kernel_id_parse(text, &id, err), 0);
	rc = fetch_source(&id, &o, err);
	kernel_id_release(&id);
	return rc;
}

static void test_path(void **state)
{
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	const char *tree = tmpdir_path(dir, "linux");

	(void)state;
	mkdir_p(tree, 0755);
	assert_int_equal(run(tree, false, &err), KTSTR_EXIT_USAGE);
	assert_non_null(strstr(err.buf, "has no 'VERSION =' line"));
	strbuf_release(&err);

	assert_int_equal(write_file_atomic(tmpdir_path(dir, "linux/Makefile"),
		"VERSION = 6\nPATCHLEVEL = 14\nSUBLEVEL = 2\n", 40, 0644), 0);
	assert_int_equal(run(tree, false, &err), 0);
	strbuf_addf(&want, "{\"type\":\"source\",\"id\":\"%s\",\"version\":\"6.14.2\","
		    "\"kind\":\"path\",\"path\":\"%s\",\"cached\":true}\n", tree, tree);
	assert_string_equal(got.buf, want.buf);
	strbuf_release(&want);

	assert_int_equal(run(tree, true, &err), 0);
	strbuf_addf(&want, "{\"type\":\"release\",\"id\":\"%s\",\"version\":\"6.14.2\"}\n",
		    tree);
	assert_string_equal(got.buf, want.buf);
	strbuf_release(&want);

	assert_int_equal(run(tmpdir_path(dir, "none"), false, &err), KTSTR_EXIT_USAGE);
	assert_non_null(strstr(err.buf, "is not a directory"));
	strbuf_release(&err);
}

static void test_cache_key(void **state)
{
	struct strbuf err = STRBUF_INIT;
	const char *key = "local-abcdef1-x86_64-kc12345678";

	(void)state;
	assert_int_equal(run(key, false, &err), KTSTR_EXIT_USAGE);
	assert_non_null(strstr(err.buf, "no such cache entry"));
	strbuf_release(&err);
	mkdir_p(tmpdir_path(dir, "cache/local-abcdef1-x86_64-kc12345678"), 0755);
	assert_int_equal(run(key, false, &err), 0);
	assert_non_null(strstr(got.buf, "\"kind\":\"cache\""));
	assert_non_null(strstr(got.buf, "\"version\":\"\""));
}

static void test_list_needs_no_network(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(run("git+https://example.invalid/linux.git#tag=v6.14", true, &err),
			 0);
	assert_string_equal(got.buf, "{\"type\":\"release\",\"id\":\"git+https://example."
			    "invalid/linux.git#tag=v6.14\",\"url\":\"https://example.invalid/"
			    "linux.git\",\"ref\":\"v6.14\"}\n");
	assert_int_equal(run("debian", true, &err), 0);
	assert_string_equal(got.buf, "{\"type\":\"release\",\"id\":\"debian\","
			    "\"kind\":\"debian\"}\n");
	strbuf_release(&err);
}

static void test_script_record(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *rec;
	const char *out;

	(void)state;
	/* Chatter before the record, a "{" in it, and a trailing newline. */
	out = "Reading {package lists}\n{\"type\":\"kernel\",\"key\":\"k\",\"path\":\"/a{b\"}\n";
	assert_int_equal(fetch_script_record(out, strlen(out), &rec, &err), 0);
	assert_string_equal(json_get_str(rec, "key"), "k");
	assert_string_equal(json_get_str(rec, "path"), "/a{b");
	json_decref(rec);

	out = "{\"type\":\"kernel\",\"key\":\"k\"}";
	assert_int_equal(fetch_script_record(out, strlen(out), &rec, &err), 0);
	json_decref(rec);

	assert_int_equal(fetch_script_record("", 0, &rec, &err), -1);
	strbuf_release(&err);
	out = "{\"type\":\"kernel\"}\nDone.\n";
	assert_int_equal(fetch_script_record(out, strlen(out), &rec, &err), -1);
	assert_true(err.len > 0);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_cache_key),
		cmocka_unit_test(test_list_needs_no_network),
		cmocka_unit_test(test_script_record),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
