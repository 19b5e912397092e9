/* Unit tests for lib/vm/vm_schedlog.c: the scheduler's output file and the
 * head and tail shown when it fails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "vm_schedlog.h"
#include "tmpdir.h"

static void add_lines(struct vm_schedlog *l, unsigned n)
{
	char buf[32];
	unsigned i;

	for (i = 1; i <= n; i++) {
		int len = snprintf(buf, sizeof(buf), "line %u", i);

		vm_schedlog_line(l, buf, (size_t)len);
	}
}

/* What vm_schedlog_show prints, as one string. */
static char *shown(const struct vm_schedlog *l)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	vm_schedlog_show(l, f);
	fclose(f);
	return buf;
}

static void test_file_keeps_everything(void **state)
{
	char dir[64], msg[128] = "";
	struct vm_schedlog l;
	struct strbuf sb = STRBUF_INIT;
	const char *path;

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "schedlog"), 0);
	path = tmpdir_path(dir, "vm.sched.log");
	vm_schedlog_init(&l, path, false);
	assert_false(vm_schedlog_opened(&l));
	assert_int_equal(vm_schedlog_open(&l, msg, sizeof(msg)), 0);
	assert_true(vm_schedlog_opened(&l));
	add_lines(&l, 1000);
	assert_int_equal(l.lines, 1000);
	vm_schedlog_release(&l);
	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_non_null(strstr(sb.buf, "line 1\nline 2\n"));
	assert_non_null(strstr(sb.buf, "\nline 500\n"));
	assert_non_null(strstr(sb.buf, "\nline 1000\n"));
	strbuf_release(&sb);
	assert_int_equal(tmpdir_remove(dir), 0);
}

/* A verifier log: the head names the program and instruction, the tail the
 * reason; the middle is left out with a count. */
static void test_head_and_tail(void **state)
{
	struct vm_schedlog l;
	char *out;

	(void)state;
	vm_schedlog_init(&l, NULL, false);
	add_lines(&l, 100);
	out = shown(&l);
	assert_non_null(strstr(out, "  | line 1\n"));
	assert_non_null(strstr(out, "  | line 20\n"));
	assert_null(strstr(out, "  | line 21\n"));
	assert_non_null(strstr(out, "... 60 lines left out ..."));
	assert_null(strstr(out, "  | line 80\n"));
	assert_non_null(strstr(out, "  | line 81\n"));
	assert_true(strstr(out, "  | line 100\n") > strstr(out, "  | line 81\n"));
	free(out);
	vm_schedlog_release(&l);
}

/* Short outputs are shown whole, with no gap note, at every length around
 * the head and tail sizes. */
static void test_short_output_whole(void **state)
{
	unsigned n;

	(void)state;
	for (n = 0; n <= VM_SCHEDLOG_HEAD + VM_SCHEDLOG_TAIL + 1; n++) {
		struct vm_schedlog l;
		char want[32], *out;
		unsigned i;

		vm_schedlog_init(&l, NULL, false);
		add_lines(&l, n);
		out = shown(&l);
		for (i = 1; n <= VM_SCHEDLOG_HEAD + VM_SCHEDLOG_TAIL && i <= n; i++) {
			snprintf(want, sizeof(want), "  | line %u\n", i);
			assert_non_null(strstr(out, want));
		}
		if (n <= VM_SCHEDLOG_HEAD + VM_SCHEDLOG_TAIL)
			assert_null(strstr(out, "left out"));
		else
			assert_non_null(strstr(out, "... 1 lines left out ..."));
		free(out);
		vm_schedlog_release(&l);
	}
}

static void test_unwritable(void **state)
{
	struct vm_schedlog l;
	char msg[256] = "";

	(void)state;
	vm_schedlog_init(&l, "/proc/nope/x.sched.log", false);
	assert_int_equal(vm_schedlog_open(&l, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "/proc/nope/x.sched.log"));
	assert_false(vm_schedlog_opened(&l));
	add_lines(&l, 3);	/* still counted and shown */
	assert_int_equal(l.lines, 3);
	vm_schedlog_release(&l);
}

static void test_path_for(void **state)
{
	char *p;

	(void)state;
	p = vm_schedlog_path_for("/s/console/vm-1-2.log");
	assert_string_equal(p, "/s/console/vm-1-2.sched.log");
	free(p);
	p = vm_schedlog_path_for("/tmp/console.txt");
	assert_string_equal(p, "/tmp/console.txt.sched.log");
	free(p);
	p = vm_schedlog_path_for(".log");
	assert_string_equal(p, ".log.sched.log");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_keeps_everything),
		cmocka_unit_test(test_head_and_tail),
		cmocka_unit_test(test_short_output_whole),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_path_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
