/* Unit tests for guest/ksyms.c: the kernel_symbols record the host-side
 * monitor needs, read from files laid out as /proc/kallsyms and
 * /proc/iomem are. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jsonl.h"
#include "tmpdir.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	static char dir[128];

	if (tmpdir_create(dir, sizeof(dir), "ksyms"))
		return -1;
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_remove(*state);
}

static const char *sym(const json_t *rec, const char *name)
{
	return json_string_value(json_object_get(json_object_get(rec, "symbols"), name));
}

static void reads_wanted_symbols(void **state)
{
	const char *dir = *state;
	const char *ks = tmpdir_path(dir, "kallsyms"), *io = tmpdir_path(dir, "iomem");
	json_t *rec, *missing;

	write_text(ks,
		   "ffffffff81000000 T _stext\n"
		   "ffffffff81000000 T _text\n"
		   "ffffffff829236a8 D page_offset_base\n"
		   "ffffffff829340e0 D __per_cpu_offset\n"
		   "ffffffff8302a000 T init_top_pgt\n"
		   "ffffffff83cf65c0 D runqueues\n"
		   "ffffffff8307d330 t scx_enable_state_var\n"
		   "ffffffff8307d340 t scx_enable_state_var\n"
		   "ffffffffc0001000 t runqueues_helper\t[some_mod]\n"
		   "garbage line\n"
		   "0000000000000000 A jiffies\n");
	write_text(io,
		   "00001000-0009fbff : System RAM\n"
		   "00100000-2ffdffff : System RAM\n"
		   "  01000000-0216f05f : Kernel code\n"
		   "  02200000-02f67fff : Kernel rodata\n");
	rec = ksyms_record_at(ks, io);
	assert_string_equal(json_get_str(rec, "type"), "kernel_symbols");
	assert_string_equal(sym(rec, "_text"), "0xffffffff81000000");
	assert_string_equal(sym(rec, "runqueues"), "0xffffffff83cf65c0");
	/* A repeated local keeps its first definition. */
	assert_string_equal(sym(rec, "scx_enable_state_var"), "0xffffffff8307d330");
	/* An address of 0 (kptr_restrict hides them) is as good as absent. */
	assert_null(sym(rec, "jiffies"));
	assert_string_equal(json_get_str(rec, "kernel_code_phys"), "0x1000000");
	missing = json_object_get(rec, "missing");
	assert_true(json_is_array(missing));
	{
		size_t i;
		json_t *m;
		bool saw_jiffies = false, saw_runqueues = false;

		json_array_foreach(missing, i, m) {
			saw_jiffies |= !strcmp(json_string_value(m), "jiffies");
			saw_runqueues |= !strcmp(json_string_value(m), "runqueues");
		}
		assert_true(saw_jiffies);
		assert_false(saw_runqueues);
	}
	json_decref(rec);
}

static void unreadable_files(void **state)
{
	const char *dir = *state;
	json_t *rec = ksyms_record_at(tmpdir_path(dir, "none"), tmpdir_path(dir, "none2"));

	assert_int_equal(json_object_size(json_object_get(rec, "symbols")), 0);
	assert_true(json_array_size(json_object_get(rec, "missing")) >= 5);
	assert_null(json_object_get(rec, "kernel_code_phys"));
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_wanted_symbols, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_files, setup, teardown),
	};

	return cmocka_run_group_tests_name("guest_ksyms", tests, NULL, NULL);
}
