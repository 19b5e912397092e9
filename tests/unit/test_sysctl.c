/* Unit tests for lib/core/sysctl.c: tunables as JSON, on a fake /proc/sys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <string.h>

#include "fsutil.h"
#include "jsonl.h"
#include "sysctl.h"

static void put(const char *dir, const char *name, const char *text)
{
	assert_int_equal(write_file_atomic(tmpdir_path(dir, name), text, strlen(text), 0644), 0);
}

static void test_sysctl_json(void **state)
{
	char dir[64];
	struct strbuf sb = STRBUF_INIT;
	json_t *o;

	assert_int_equal(tmpdir_create(dir, sizeof(dir), "sysctl"), 0);
	put(dir, "sched_rt_runtime_us", "950000\n");
	put(dir, "sched_autogroup_enabled", "1\n");
	put(dir, "sched_ratio", "0.5\n");
	put(dir, "sched_mode", "fair mode\n");
	put(dir, "sched_empty", "");
	put(dir, "panic", "0\n");		/* another prefix: left out */

	o = sysctl_json(dir, "sched_");
	jsonl_encode(&sb, o);
	/* Sorted by name; numbers as numbers, the rest as trimmed text. */
	assert_string_equal(sb.buf, "{\"sched_autogroup_enabled\":1,\"sched_empty\":\"\","
			    "\"sched_mode\":\"fair mode\",\"sched_ratio\":0.5,"
			    "\"sched_rt_runtime_us\":950000}\n");
	json_decref(o);

	o = sysctl_json(tmpdir_path(dir, "missing"), "sched_");
	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);
	strbuf_release(&sb);
	assert_int_equal(tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysctl_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
