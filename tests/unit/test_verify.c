/* Unit tests for lib/verify: a cell's record from what the runner
 * collected (pass, fail with its verifier log, the errors), and the
 * summary over cells (record and human report). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"
#include "verify_cell.h"
#include "verify_plan.h"
#include "verify_summary.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

static const char progs_text[] =
	"[{\"type\":\"bpf_prog\",\"id\":41,\"name\":\"s_dispatch\",\"prog_type\":\"struct_ops\","
	"\"verified_insns\":310,\"xlated_bytes\":900,\"jited_bytes\":600,\"nr_maps\":3},"
	"{\"type\":\"bpf_prog\",\"id\":40,\"name\":\"s_enqueue\",\"prog_type\":\"struct_ops\","
	"\"verified_insns\":27,\"xlated_bytes\":216,\"jited_bytes\":139,\"nr_maps\":2}]";
static const char stats_text[] =
	"[{\"type\":\"bpf_prog_stats\",\"id\":40,\"name\":\"s_enqueue\",\"run_cnt\":1000,"
	"\"run_time_ns\":495300,\"ns_per_run\":495.3,\"window_ms\":2004}]";

static struct verify_cell_in base_in(void)
{
	return (struct verify_cell_in){ .scheduler = "scx_s", .kernel = "7.3.4",
					.kernel_image = "/k/bzImage", .preset = "tiny-2llc",
					.topology = "1n2l2c1t", .accel = "tcg", .wall_ms = 5000 };
}

static void test_pass_merges_stats(void **state)
{
	struct verify_cell_in in = base_in();
	json_t *progs = parse(progs_text), *stats = parse(stats_text), *cell, *p;
	char *text;

	(void)state;
	in.attached = true;
	in.progs = progs;
	in.stats = stats;
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "type"), "verifier_cell");
	assert_string_equal(json_get_str(cell, "result"), "pass");
	assert_true(json_is_null(json_object_get(cell, "reason")));
	assert_true(json_is_null(json_object_get(cell, "log")));
	assert_int_equal(json_array_size(json_object_get(cell, "programs")), 2);
	p = json_array_get(json_object_get(cell, "programs"), 0);
	assert_string_equal(json_get_str(p, "name"), "s_dispatch");
	assert_int_equal(json_get_int(p, "verified_insns", -1), 310);
	assert_true(json_is_null(json_object_get(p, "run_cnt")));	/* no stats: null */
	p = json_array_get(json_object_get(cell, "programs"), 1);
	assert_int_equal(json_get_int(p, "run_cnt", -1), 1000);
	assert_int_equal(json_get_int(p, "run_time_ns", -1), 495300);
	/* the documented key order */
	text = json_dumps(cell, JSON_COMPACT);
	assert_non_null(strstr(text, "\"topology\":\"1n2l2c1t\",\"result\":\"pass\",\"reason\":null,"
			       "\"programs\":["));
	assert_non_null(strstr(text, "\"log_lines_raw\":null,\"wall_ms\":5000,\"accel\":\"tcg\"}"));
	free(text);
	json_decref(cell);
	json_decref(progs);
	json_decref(stats);
}

/* A libbpf rejection whose verifier walked a 5-line loop body n times. */
static char *rejection(unsigned n)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned i;

	strbuf_addstr(&sb, "libbpf: prog 'bad_dispatch': BPF program load failed: Permission "
		      "denied\nlibbpf: prog 'bad_dispatch': -- BEGIN PROG LOAD LOG --\n"
		      "0: R1=ctx() R10=fp0\n");
	for (i = 1; i <= n; i++)
		strbuf_addf(&sb, "; for (i = 0; i < n; i++) @ bad.bpf.c:20\n"
			    "3: (bf) r1 = r6     ; R1_w=scalar(id=%u)\n"
			    "4: (07) r1 += 1     ; R1_w=scalar(smin=%u)\n"
			    "5: (bf) r6 = r1     ; R6_w=scalar(smin=%u)\n"
			    "6: (a5) if r6 < 0x40 goto pc-4     ; R6_w=scalar(smin=%u)\n",
			    i, i, i, i);
	strbuf_addstr(&sb, "7: (79) r0 = *(u64 *)(r7 +0)\nR7 invalid mem access 'scalar'\n"
		      "-- END PROG LOAD LOG --\n"
		      "libbpf: prog 'bad_dispatch': failed to load: -13\n"
		      "libbpf: failed to load object 'bad'\n");
	return strbuf_detach(&sb, NULL);
}

static void test_fail_collapses_log(void **state)
{
	struct verify_cell_in in = base_in();
	json_t *fail = parse("{\"type\":\"scheduler\",\"event\":\"attach_failed\","
			     "\"reason\":\"exited with status 1\",\"output\":[]}");
	json_t *empty = json_array(), *cell, *log;
	char *out = rejection(12);

	(void)state;
	in.sched_fail = fail;
	in.progs = empty;
	in.output = out;
	in.output_len = strlen(out);
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "fail");
	assert_string_equal(json_get_str(cell, "reason"),
			    "the scheduler did not attach: exited with status 1");
	assert_string_equal(json_get_str(cell, "failed_program"), "bad_dispatch");
	assert_string_equal(json_get_str(cell, "error"),
			    "libbpf: prog 'bad_dispatch': failed to load: -13");
	/* 1 + 12 x 5 + 2 lines; first and last iteration and a marker kept */
	assert_int_equal(json_get_int(cell, "log_lines_raw", -1), 63);
	log = json_object_get(cell, "log");
	assert_int_equal(json_array_size(log), 1 + 5 + 1 + 5 + 2);
	assert_string_equal(json_string_value(json_array_get(log, 6)),
			    "... 10 iterations collapsed ...");
	assert_string_equal(json_string_value(json_array_get(log, 13)),
			    "R7 invalid mem access 'scalar'");
	json_decref(cell);
	/* --raw: every line as the verifier printed it */
	in.raw = true;
	cell = verify_cell_build(&in);
	assert_int_equal(json_array_size(json_object_get(cell, "log")), 63);
	json_decref(cell);
	free(out);
	json_decref(fail);
	json_decref(empty);
}

/* Without the output file, the record's last lines stand in; a failure
 * libbpf did not log leaves the failure fields null. */
static void test_fail_from_record_lines(void **state)
{
	struct verify_cell_in in = base_in();
	json_t *fail = parse("{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"gone\","
			     "\"output\":[\"libbpf: prog 'x': -- BEGIN PROG LOAD LOG --\","
			     "\"R1 type=ctx expected=fp\",\"-- END PROG LOAD LOG --\","
			     "\"libbpf: prog 'x': failed to load: -22\"]}");
	json_t *plain = parse("{\"type\":\"scheduler\",\"event\":\"attach_failed\","
			      "\"reason\":\"no sched_ext\",\"output\":[\"cannot open\"]}");
	json_t *cell;

	(void)state;
	in.sched_fail = fail;
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "fail");
	assert_string_equal(json_get_str(cell, "reason"),
			    "the scheduler died before it attached: gone");
	assert_string_equal(json_get_str(cell, "failed_program"), "x");
	assert_int_equal(json_array_size(json_object_get(cell, "log")), 1);
	json_decref(cell);
	in.sched_fail = plain;
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "fail");
	assert_true(json_is_null(json_object_get(cell, "failed_program")));
	assert_true(json_is_null(json_object_get(cell, "log")));
	json_decref(cell);
	json_decref(fail);
	json_decref(plain);
}

static void test_errors_and_late_death(void **state)
{
	struct verify_cell_in in = base_in();
	json_t *progs = parse(progs_text), *empty = json_array(), *cell;
	json_t *died = parse("{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"stall\"}");

	(void)state;
	in.error = "the VM never reached the guest agent (no_agent): boom";
	in.attached = true;
	in.progs = progs;
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "error");
	assert_string_equal(json_get_str(cell, "reason"), in.error);
	assert_int_equal(json_array_size(json_object_get(cell, "programs")), 0);
	json_decref(cell);
	in.error = NULL;
	in.progs = empty;		/* attached, but no program read */
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "error");
	assert_non_null(strstr(json_get_str(cell, "reason"), "no bpf_prog records"));
	json_decref(cell);
	in.probe_error = "attached: Operation not permitted";
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "reason"), "the scheduler attached but the guest "
			    "could not read its BPF programs (attached: Operation not permitted)");
	json_decref(cell);
	in.probe_error = NULL;
	in.attached = false;		/* neither attached nor failed */
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "error");
	json_decref(cell);
	in.attached = true;		/* verified, attached, died later: pass */
	in.progs = progs;
	in.sched_fail = died;
	cell = verify_cell_build(&in);
	assert_string_equal(json_get_str(cell, "result"), "pass");
	assert_string_equal(json_get_str(cell, "reason"), "verified and attached, then died: stall");
	json_decref(cell);
	json_decref(progs);
	json_decref(empty);
	json_decref(died);
}

static void test_file_name_and_list(void **state)
{
	struct strvec v = STRVEC_INIT;
	char *n = verify_cell_file_name("scx_simple", "7.3.4+deb13/x y", "tiny-2llc");

	(void)state;
	assert_string_equal(n, "scx_simple__7.3.4+deb13_x_y__tiny-2llc.json");
	free(n);
	verify_split_list(" scx_a,scx_b  scx_c,,", &v);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[2], "scx_c");
	strvec_clear(&v);
}

static void test_unclash_kernels(void **state)
{
	struct gauntlet_kernel k[4] = {
		{ xstrdup("7.3.4"), xstrdup("/a"), xstrdup("debian-7.3.4-cloud") },
		{ xstrdup("7.3.4"), xstrdup("/b"), xstrdup("debian-7.3.4-amd64") },
		{ xstrdup("6.14"), xstrdup("/c"), NULL },
		{ xstrdup("6.14"), xstrdup("/d"), NULL },
	};
	size_t i;

	(void)state;
	verify_unclash_kernels(k, 4);
	assert_string_equal(k[0].label, "debian-7.3.4-cloud");
	assert_string_equal(k[1].label, "debian-7.3.4-amd64");
	assert_string_equal(k[2].label, "6.14");
	assert_string_equal(k[3].label, "6.14-4");
	for (i = 0; i < 4; i++) {
		free(k[i].label);
		free(k[i].image);
		free(k[i].key);
	}
}

static json_t *cell_of(const char *sched, const char *kernel, const char *preset,
		       long long insns_a, const char *fail_prog)
{
	json_t *c = jsonl_record("verifier_cell");

	json_set_str(c, "scheduler", sched);
	json_set_str(c, "kernel", kernel);
	json_set_str(c, "preset", preset);
	json_set_str(c, "result", fail_prog ? "fail" : "pass");
	json_set_str(c, "reason", fail_prog ? "the scheduler did not attach: 1" : NULL);
	json_object_set_new(c, "programs", fail_prog ? json_array() : json_pack(
		"[{s:s, s:I, s:f}, {s:s, s:i, s:n}]", "name", "a", "verified_insns",
		(json_int_t)insns_a, "ns_per_run", 100.0 + (double)insns_a, "name", "b",
		"verified_insns", 9, "ns_per_run"));
	json_set_str(c, "failed_program", fail_prog);
	json_set_str(c, "error", fail_prog ? "libbpf: prog 'p': failed to load: -13" : NULL);
	/* the same log but for a kernel address, as from two boots */
	json_object_set_new(c, "log", !fail_prog ? json_null() : json_pack(
		"[s, s, s]", "1: x", "2: y", !strcmp(preset, "tiny-1llc") ?
		"3: (18) r1 = 0xffa000000012a070" : "3: (18) r1 = 0xffa0000000a3c070"));
	json_set_int(c, "log_lines_raw", 2);
	return c;
}

static void add_cell(struct verify_summary *s, json_t *c)
{
	verify_summary_add(s, c);
	json_decref(c);
}

static void test_summary(void **state)
{
	struct verify_summary s;
	struct strbuf h = STRBUF_INIT;
	json_t *rec, *p, *err = jsonl_record("verifier_cell");

	(void)state;
	verify_summary_init(&s);
	add_cell(&s, cell_of("scx_s", "7.3.4", "tiny-2llc", 500000, NULL));
	add_cell(&s, cell_of("scx_s", "7.3.4", "tiny-1llc", 1200, NULL));
	add_cell(&s, cell_of("scx_bad", "7.3.4", "tiny-2llc", 0, "p"));
	add_cell(&s, cell_of("scx_bad", "7.3.4", "tiny-1llc", 0, "p"));
	json_set_str(err, "scheduler", "scx_s");
	json_set_str(err, "kernel", "7.3.4");
	json_set_str(err, "preset", "smt-2llc");
	json_set_str(err, "result", "error");
	json_set_str(err, "reason", "QEMU failed");
	add_cell(&s, err);
	rec = verify_summary_record(&s, 1234);
	assert_int_equal(json_get_int(rec, "cells", -1), 5);
	assert_int_equal(json_get_int(rec, "passed", -1), 2);
	assert_int_equal(json_get_int(rec, "failed", -1), 2);
	assert_int_equal(json_get_int(rec, "errors", -1), 1);
	assert_int_equal(json_get_int(rec, "limit_insns", -1), 1000000);
	p = json_array_get(json_object_get(rec, "programs"), 0);
	assert_string_equal(json_get_str(p, "program"), "a");
	assert_int_equal(json_get_int(p, "verified_insns_min", -1), 1200);
	assert_int_equal(json_get_int(p, "verified_insns_max", -1), 500000);
	assert_true(json_real_value(json_object_get(p, "max_pct_of_limit")) == 50.0);
	assert_int_equal(json_get_int(p, "cells", -1), 2);
	assert_int_equal(json_array_size(json_object_get(rec, "failing")), 2);
	p = json_array_get(json_object_get(rec, "failing"), 0);	/* sorted by preset */
	assert_string_equal(json_get_str(p, "preset"), "tiny-1llc");
	assert_string_equal(json_get_str(p, "failed_program"), "p");
	verify_summary_human(&s, &h);
	assert_non_null(strstr(h.buf, "  scx_s      a          1200..500000    50.00%      2  "
				      "1300.0..500100.0\n"));
	/* grid columns by preset size, a missing cell as "-" */
	assert_non_null(strstr(h.buf, "  SCHEDULER  7.3.4/tiny-1llc  7.3.4/tiny-2llc  "
				      "7.3.4/smt-2llc\n"));
	assert_non_null(strstr(h.buf, "  scx_bad    FAIL             FAIL             -\n"));
	assert_non_null(strstr(h.buf, "  scx_s      pass             pass             error\n"));
	assert_non_null(strstr(h.buf, "    | 2: y\n    | 3: (18) r1 = 0xffa000000012a070\n"));
	assert_non_null(strstr(h.buf, "    verifier log: as for scx_bad on 7.3.4 tiny-1llc above\n"));
	assert_non_null(strstr(h.buf, "  scx_s on 7.3.4 smt-2llc: QEMU failed\n"));
	strbuf_release(&h);
	json_decref(rec);
	verify_summary_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_merges_stats),
		cmocka_unit_test(test_fail_collapses_log),
		cmocka_unit_test(test_fail_from_record_lines),
		cmocka_unit_test(test_errors_and_late_death),
		cmocka_unit_test(test_file_name_and_list),
		cmocka_unit_test(test_unclash_kernels),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
