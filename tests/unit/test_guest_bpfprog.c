/* Unit tests for guest/bpfprog.c: which program IDs are the scheduler's,
 * their order, the two records' fields, and (when this host lets root
 * load BPF programs) the probe's scans on real programs loaded by the
 * test in place of a scheduler. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeengine.h"

/* bpf_ids_new over the given arrays must give want (nwant long). */
static void ids_case(uint32_t *before, size_t nb, uint32_t *after, size_t na,
		     const uint32_t *want, size_t nwant)
{
	uint32_t out[16];
	size_t n = bpf_ids_new(before, nb, after, na, out), i;

	if (n != nwant)
		fail_msg("%zu new IDs, want %zu", n, nwant);
	for (i = 0; i < n; i++)
		if (out[i] != want[i])
			fail_msg("new ID %zu is %u, want %u", i, out[i], want[i]);
}

static void test_ids_new(void **state)
{
	uint32_t b1[] = { 5, 1, 3 }, a1[] = { 3, 7, 1, 9, 5 }, w1[] = { 7, 9 };
	uint32_t a2[] = { 4, 2 }, w2[] = { 2, 4 };
	uint32_t b3[] = { 2, 4 }, a3[] = { 4, 2 };
	/* A program of the time before that is gone by the attach does not
	 * hide a new one with a higher ID. */
	uint32_t b4[] = { 1, 2, 8 }, a4[] = { 1, 3, 4, 9 }, w4[] = { 3, 4, 9 };
	uint32_t b5[] = { 1 }, a5[] = { 6, 6, 1 }, w5[] = { 6 };

	(void)state;
	ids_case(b1, 3, a1, 5, w1, 2);
	ids_case(NULL, 0, a2, 2, w2, 2);
	ids_case(b3, 2, a3, 2, NULL, 0);
	ids_case(b3, 2, NULL, 0, NULL, 0);
	ids_case(b4, 3, a4, 4, w4, 3);
	ids_case(b5, 1, a5, 3, w5, 1);
}

static void test_sort(void **state)
{
	struct bpf_prog_fig v[] = {
		{ .id = 9, .name = "simple_running" },
		{ .id = 4, .name = "simple_enqueue" },
		{ .id = 7, .name = "simple_dispatch" },
		{ .id = 2, .name = "simple_enqueue" },
	};

	(void)state;
	bpf_figs_sort(v, 4);
	assert_string_equal(v[0].name, "simple_dispatch");
	assert_int_equal(v[1].id, 2);
	assert_int_equal(v[2].id, 4);
	assert_string_equal(v[3].name, "simple_running");
}

/* rec as the agent puts it on the wire (without the newline); frees rec. */
static char *wire(json_t *rec)
{
	struct strbuf sb = STRBUF_INIT;

	jsonl_encode(&sb, rec);
	json_decref(rec);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

static void test_prog_record(void **state)
{
	struct bpf_prog_fig f = {
		.id = 41, .name = "simple_enqueue", .prog_type = "struct_ops",
		.verified_insns = 27, .xlated_bytes = 216, .jited_bytes = 139, .nr_maps = 2,
	};
	char *s = wire(bpf_prog_record("scx_simple", &f, 812));

	(void)state;
	/* The record format other tools read, field for field. */
	assert_string_equal(s, "{\"type\":\"bpf_prog\",\"scheduler\":\"scx_simple\",\"id\":41,"
			    "\"name\":\"simple_enqueue\",\"prog_type\":\"struct_ops\","
			    "\"verified_insns\":27,\"xlated_bytes\":216,\"jited_bytes\":139,"
			    "\"nr_maps\":2,\"t_ms\":812}");
	free(s);
}

static void test_stats_record(void **state)
{
	struct bpf_prog_fig f = {
		.id = 41, .name = "simple_enqueue", .prog_type = "struct_ops",
		.base_cnt = 1000, .base_ns = 500000,
	};
	char *s = wire(bpf_stats_record(&f, 19234, 9532100, 2004));
	json_t *rec;

	(void)state;
	/* 9032100 ns over 18234 runs: 495.33 ns, kept to a tenth. */
	assert_string_equal(s, "{\"type\":\"bpf_prog_stats\",\"id\":41,"
			    "\"name\":\"simple_enqueue\",\"prog_type\":\"struct_ops\","
			    "\"run_cnt\":18234,\"run_time_ns\":9032100,\"ns_per_run\":495.3,"
			    "\"window_ms\":2004}");
	free(s);

	/* Nothing ran in the window: no cost per run. */
	rec = bpf_stats_record(&f, 1000, 500000, 2004);
	assert_int_equal(json_integer_value(json_object_get(rec, "run_cnt")), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "run_time_ns")), 0);
	assert_true(json_is_null(json_object_get(rec, "ns_per_run")));
	json_decref(rec);

	/* Counters below the baseline (an ID reused by another program):
	 * nothing is claimed for it. */
	rec = bpf_stats_record(&f, 10, 20, 2004);
	assert_int_equal(json_integer_value(json_object_get(rec, "run_cnt")), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "run_time_ns")), 0);
	assert_true(json_is_null(json_object_get(rec, "ns_per_run")));
	json_decref(rec);
}

/* A two-instruction socket filter ("return 0") called name; -1 when this
 * host does not let us load one. */
static int load_prog(const char *name)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, name, "GPL", insns, 2, NULL);
}

static json_t *rec_named(const json_t *recs, const char *type, const char *name)
{
	unsigned i;
	json_t *r;

	for (i = 0; (r = fe_find(recs, type, i)); i++)
		if (!strcmp(fe_str(r, "name"), name))
			return r;
	return NULL;
}

/* Until the program with id is freed (its last fd closed), at most 1 s. */
static void wait_gone(uint32_t id)
{
	int i, fd;

	for (i = 0; i < 100; i++) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			return;
		close(fd);
		usleep(10000);
	}
	fail_msg("BPF program %u still loaded 1 s after its last fd closed", id);
}

/* The scans on real programs: two loaded "by the scheduler" between the
 * first two scans, one unloaded before the window's end. */
static void test_live(void **state)
{
	struct fakeengine f;
	int kept, gone, before;
	uint32_t gone_id;
	json_t *recs, *r;

	(void)state;
	assert_int_equal(fe_init(&f, "bpfprog", "1,1,2,1", 1), 0);
	before = load_prog("ktstr_old");
	if (before < 0) {
		fe_fini(&f);
		skip();
	}
	/* Not e->bpf.stats: that would turn bpf_stats_enabled on for the
	 * whole host.  It is set after the first scan for the window. */
	bpfprobe_before_spawn(&f.e);
	kept = load_prog("ktstr_kept");
	gone = load_prog("ktstr_gone");
	assert_true(kept >= 0 && gone >= 0);
	bpfprobe_attached(&f.e, "scx_unit");
	recs = fe_records(&f);
	assert_null(rec_named(recs, "bpf_prog", "ktstr_old"));
	r = rec_named(recs, "bpf_prog", "ktstr_kept");
	assert_non_null(r);
	assert_string_equal(fe_str(r, "scheduler"), "scx_unit");
	assert_string_equal(fe_str(r, "prog_type"), "socket_filter");
	assert_int_equal(json_integer_value(json_object_get(r, "xlated_bytes")), 16);
	assert_true(json_integer_value(json_object_get(r, "verified_insns")) > 0);
	assert_non_null(rec_named(recs, "bpf_prog", "ktstr_gone"));
	assert_int_equal(fe_count(recs, "bpf_prog_stats"), 0);

	gone_id = (uint32_t)json_integer_value(json_object_get(rec_named(recs, "bpf_prog",
							       "ktstr_gone"), "id"));
	json_decref(recs);

	f.e.bpf.stats = true;
	bpfprobe_window_start(&f.e);
	close(gone);
	wait_gone(gone_id);
	bpfprobe_window_end(&f.e);
	recs = fe_records(&f);
	r = rec_named(recs, "bpf_prog_stats", "ktstr_kept");
	assert_non_null(r);
	/* bpf_stats_enabled is off on this host: nothing counted. */
	assert_int_equal(json_integer_value(json_object_get(r, "run_cnt")), 0);
	assert_true(json_is_null(json_object_get(r, "ns_per_run")));
	assert_true(json_integer_value(json_object_get(r, "window_ms")) >= 0);
	assert_null(rec_named(recs, "bpf_prog_stats", "ktstr_gone"));
	json_decref(recs);
	close(kept);
	close(before);
	fe_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_new),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_prog_record),
		cmocka_unit_test(test_stats_record),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
