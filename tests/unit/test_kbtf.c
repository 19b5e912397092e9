/* Unit tests for lib/kernel/kbtf.c: member paths through nested and anonymous
 * types, enums, member iteration and bad input, on a BTF built here and on
 * the real cached vmlinux (skipped when it is absent). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bpf/btf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kbtf.h"
#include "kvmlinux.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	return tmpdir_create(dir, sizeof(dir), "kbtf");
}

static int teardown(void **state)
{
	return tmpdir_remove(dir);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void save_raw(const struct btf *b, const char *path)
{
	uint32_t size;
	const void *raw = btf__raw_data(b, &size);

	assert_non_null(raw);
	write_bytes(path, raw, size);
}

/*
 * struct inner { int a; u64 b; };                       16 bytes
 * struct ops { int flags; char name[16]; };             24 bytes, name at 8
 * struct outer {
 *	int first;                                        0
 *	union { struct ops ops; struct ops ops_cid; };    8
 *	struct { int x; struct inner in; };               32 (x), 40 (in)
 *	int bits:3;                                       56, a bitfield
 *	const volatile int c;                             60
 * };                                                    64 bytes
 * enum state { S_A, S_B, S_NEG = -1 }; enum big : u64 { BIG = 1 << 40 };
 */
static const char *synthetic(void)
{
	const char *path = tmpdir_path(dir, "synthetic.btf");
	struct btf *b = btf__new_empty();
	int i32, u64, ch, td, arr, inner, ops, un, st, cv;

	assert_non_null(b);
	i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	u64 = btf__add_int(b, "unsigned long long", 8, 0);
	ch = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	td = btf__add_typedef(b, "u64", u64);
	arr = btf__add_array(b, i32, ch, 16);
	cv = btf__add_volatile(b, btf__add_const(b, i32));
	inner = btf__add_struct(b, "inner", 16);
	btf__add_field(b, "a", i32, 0, 0);
	btf__add_field(b, "b", td, 64, 0);
	ops = btf__add_struct(b, "ops", 24);
	btf__add_field(b, "flags", i32, 0, 0);
	btf__add_field(b, "name", arr, 64, 0);
	un = btf__add_union(b, NULL, 24);
	btf__add_field(b, "ops", ops, 0, 0);
	btf__add_field(b, "ops_cid", ops, 0, 0);
	st = btf__add_struct(b, NULL, 24);
	btf__add_field(b, "x", i32, 0, 0);
	btf__add_field(b, "in", inner, 64, 0);
	assert_true(btf__add_struct(b, "outer", 64) > 0);
	btf__add_field(b, "first", i32, 0, 0);
	btf__add_field(b, NULL, un, 64, 0);
	btf__add_field(b, NULL, st, 256, 0);
	btf__add_field(b, "bits", i32, 448, 3);
	btf__add_field(b, "c", cv, 480, 0);
	assert_true(btf__add_enum(b, "state", 4) > 0);
	btf__add_enum_value(b, "S_A", 0);
	btf__add_enum_value(b, "S_B", 1);
	btf__add_enum_value(b, "S_NEG", -1);
	assert_true(btf__add_enum64(b, "big", 8, false) > 0);
	btf__add_enum64_value(b, "BIG", 1ULL << 40);
	save_raw(b, path);
	btf__free(b);
	return path;
}

struct seen {
	char names[16][32];
	long off[16], size[16];
	int n;
};

static int collect(const char *name, long off, long size, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->off[s->n] = off;
		s->size[s->n] = size;
		s->n++;
	}
	return 0;
}

static int stop_at_second(const char *name, long off, long size, void *arg)
{
	return ++*(int *)arg == 2 ? 42 : 0;
}

static int count_enum(const char *name, long long val, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void test_synthetic_paths(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kbtf kb;
	struct kbtf_member m;
	struct seen s = { .n = 0 };
	long long v;
	int count = 0;

	assert_int_equal(kbtf_open(&kb, synthetic(), &err), 0);
	assert_int_equal(kbtf_struct_size(&kb, "outer"), 64);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "first"), 0);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops"), 8);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops.name"), 16);
	assert_int_equal(kbtf_member_size(&kb, "outer", "ops.name"), 16);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops_cid.flags"), 8);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "x"), 32);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "in.b"), 48);
	assert_int_equal(kbtf_member_size(&kb, "outer", "in.b"), 8);	/* through the typedef */
	assert_int_equal(kbtf_member(&kb, "outer", "c", &m), 0);	/* through const volatile */
	assert_int_equal(m.offset, 60);
	assert_int_equal(m.size, 4);
	/* Absent, malformed, bitfield, and a path into a non-struct. */
	assert_int_equal(kbtf_member_offset(&kb, "outer", "nope"), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "bits"), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "first.x"), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops..name"), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", ""), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops."), -1);
	assert_int_equal(kbtf_member_offset(&kb, "nosuch", "first"), -1);
	assert_int_equal(kbtf_struct_size(&kb, "nosuch"), -1);
	/* A prefix of a name is not the name. */
	assert_int_equal(kbtf_member_offset(&kb, "outer", "op"), -1);
	assert_int_equal(kbtf_member_offset(&kb, "outer", "ops_cidx"), -1);

	assert_int_equal(kbtf_enum_value(&kb, "state", "S_B", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(kbtf_enum_value(&kb, "state", "S_NEG", &v), 0);
	assert_int_equal(v, -1);
	assert_string_equal(kbtf_enum_name(&kb, "state", -1), "S_NEG");
	assert_null(kbtf_enum_name(&kb, "state", 7));
	assert_int_equal(kbtf_enum_value(&kb, "state", "S_C", &v), -1);
	assert_int_equal(kbtf_enum_value(&kb, "big", "BIG", &v), 0);
	assert_true(v == 1LL << 40);
	assert_string_equal(kbtf_enum_name(&kb, "big", 1LL << 40), "BIG");
	assert_null(kbtf_enum_name(&kb, "nosuch", 0));
	assert_int_equal(kbtf_enum_foreach(&kb, "state", count_enum, &count), 0);
	assert_int_equal(count, 3);
	count = 0;
	assert_int_equal(kbtf_enum_foreach(&kb, "nosuch", count_enum, &count), -1);

	/* Iteration flattens the anonymous members and skips the bitfield. */
	assert_int_equal(kbtf_struct_members(&kb, "outer", collect, &s), 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.names[0], "first");
	assert_string_equal(s.names[1], "ops");
	assert_int_equal(s.off[1], 8);
	assert_int_equal(s.size[1], 24);
	assert_string_equal(s.names[2], "ops_cid");
	assert_string_equal(s.names[3], "x");
	assert_int_equal(s.off[3], 32);
	assert_string_equal(s.names[4], "in");
	assert_int_equal(s.off[4], 40);
	assert_int_equal(s.size[4], 16);
	assert_string_equal(s.names[5], "c");
	assert_int_equal(kbtf_struct_members(&kb, "outer", stop_at_second, &count), 42);
	assert_int_equal(kbtf_struct_members(&kb, "nosuch", collect, &s), -1);

	kbtf_close(&kb);
	kbtf_close(&kb);	/* twice is harmless */
	assert_int_equal(kbtf_member_offset(&kb, "outer", "first"), -1);
	strbuf_release(&err);
}

static void test_bad_input(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kbtf kb;
	const char *p;
	static const unsigned char raw_garbage[64] = { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0xff, 0xff };

	assert_int_equal(kbtf_open(&kb, tmpdir_path(dir, "missing"), &err), -1);
	assert_non_null(strstr(err.buf, "cannot open"));

	p = tmpdir_path(dir, "text");
	write_bytes(p, "hello, this is not a kernel\n", 28);
	strbuf_reset(&err);
	assert_int_equal(kbtf_open(&kb, p, &err), -1);
	assert_non_null(strstr(err.buf, "neither a vmlinux ELF nor raw BTF"));

	p = tmpdir_path(dir, "short");
	write_bytes(p, "\x7f" "E", 2);
	strbuf_reset(&err);
	assert_int_equal(kbtf_open(&kb, p, &err), -1);
	assert_non_null(strstr(err.buf, "too short"));

	p = tmpdir_path(dir, "rawgarbage");
	write_bytes(p, raw_garbage, sizeof(raw_garbage));
	strbuf_reset(&err);
	assert_int_equal(kbtf_open(&kb, p, &err), -1);
	assert_non_null(strstr(err.buf, "cannot read raw BTF"));

	/* An ELF without BTF: this very test program. */
	strbuf_reset(&err);
	assert_int_equal(kbtf_open(&kb, "/proc/self/exe", &err), -1);
	assert_non_null(strstr(err.buf, "no .BTF section"));
	assert_null(kb.btf);
	strbuf_release(&err);
}

static const char *vmlinux_or_skip(void)
{
	const char *v = kvmlinux_path();

	if (!v) {
		print_message("no cached vmlinux (set KTSTR_E2E_VMLINUX): skipped\n");
		skip();
	}
	return v;
}

static void check_kernel_layout(const struct kbtf *kb)
{
	long scx = kbtf_member_offset(kb, "rq", "scx");
	long dsq = kbtf_member_offset(kb, "scx_rq", "local_dsq");
	long nr = kbtf_member_offset(kb, "scx_dispatch_q", "nr");
	long long v;

	assert_int_equal(kbtf_member_offset(kb, "rq", "nr_running"), 0);
	assert_int_equal(kbtf_member_size(kb, "rq", "nr_running"), 4);
	assert_int_equal(kbtf_member_size(kb, "rq", "curr"), 8);
	assert_int_equal(kbtf_member_size(kb, "rq", "clock"), 8);
	assert_true(scx > 0 && dsq >= 0 && nr >= 0);
	assert_int_equal(kbtf_member_offset(kb, "rq", "scx.local_dsq.nr"), scx + dsq + nr);
	assert_int_equal(kbtf_member_offset(kb, "rq", "scx.nr_running"),
			 scx + kbtf_member_offset(kb, "scx_rq", "nr_running"));
	assert_int_equal(kbtf_member_size(kb, "rq", "scx.runnable_list"), 16);
	assert_true(kbtf_member_offset(kb, "task_struct", "scx.runnable_node") > 0);
	assert_int_equal(kbtf_member_size(kb, "task_struct", "scx.runnable_at"), 8);
	/* ops sits in an anonymous union with ops_cid in this kernel. */
	assert_int_equal(kbtf_member_offset(kb, "scx_sched", "ops.name"),
			 kbtf_member_offset(kb, "scx_sched", "ops") +
			 kbtf_member_offset(kb, "sched_ext_ops", "name"));
	assert_int_equal(kbtf_member_size(kb, "scx_sched", "ops.name"), 128);
	assert_int_equal(kbtf_member_size(kb, "scx_sched", "pcpu"), 8);
	assert_int_equal(kbtf_member_size(kb, "scx_sched", "exit_kind"), 4);
	assert_true(kbtf_member_offset(kb, "scx_sched_pcpu", "event_stats") >= 0);
	/* Absent things and a bitfield. */
	assert_int_equal(kbtf_member_offset(kb, "scx_sched", "event_stats_cpu"), -1);
	assert_int_equal(kbtf_member_offset(kb, "rq", "scx.no_such_member"), -1);
	assert_int_equal(kbtf_member_offset(kb, "no_such_struct_xyz", "a"), -1);
	assert_int_equal(kbtf_member_offset(kb, "task_struct", "sched_reset_on_fork"), -1);

	assert_int_equal(kbtf_enum_value(kb, "scx_enable_state", "SCX_ENABLED", &v), 0);
	assert_string_equal(kbtf_enum_name(kb, "scx_enable_state", v), "SCX_ENABLED");
	assert_int_equal(kbtf_enum_value(kb, "scx_enable_state", "SCX_DISABLED", &v), 0);
	assert_string_equal(kbtf_enum_name(kb, "scx_enable_state", v), "SCX_DISABLED");
}

struct evsum {
	long total;
	int n, fallback, keep_last;
};

static int count_events(const char *name, long off, long size, void *arg)
{
	struct evsum *e = arg;

	assert_int_equal(size, 8);
	assert_int_equal(off, e->total);	/* packed s64 counters */
	e->total += size;
	e->n++;
	if (!strcmp(name, "SCX_EV_SELECT_CPU_FALLBACK"))
		e->fallback = 1;
	if (!strcmp(name, "SCX_EV_DISPATCH_KEEP_LAST"))
		e->keep_last = 1;
	return 0;
}

static void test_real_vmlinux(void **state)
{
	const char *v = vmlinux_or_skip();
	struct strbuf err = STRBUF_INIT;
	struct evsum e = { 0 };
	struct kbtf kb, raw;
	const char *rawpath = tmpdir_path(dir, "vmlinux.btf");

	assert_int_equal(kbtf_open(&kb, v, &err), 0);
	check_kernel_layout(&kb);
	assert_int_equal(kbtf_struct_members(&kb, "scx_event_stats", count_events, &e), 0);
	assert_true(e.n >= 2 && e.fallback && e.keep_last);
	assert_int_equal(e.total, kbtf_struct_size(&kb, "scx_event_stats"));

	/* The same BTF as a raw blob (what /sys/kernel/btf/vmlinux holds). */
	save_raw(kb.btf, rawpath);
	assert_int_equal(kbtf_open(&raw, rawpath, &err), 0);
	check_kernel_layout(&raw);
	assert_int_equal(kbtf_member_offset(&raw, "rq", "scx.runnable_list"),
			 kbtf_member_offset(&kb, "rq", "scx.runnable_list"));
	kbtf_close(&raw);
	kbtf_close(&kb);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_paths),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_real_vmlinux),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
