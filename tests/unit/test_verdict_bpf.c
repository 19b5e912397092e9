/* Unit tests for lib/results/verdict_bpf.c and the sidecar's BPF metrics:
 * bpf_prog and bpf_prog_stats records (shaped as SPEC14 / ktstr-records(7)
 * say) kept per program, never judged, shown in the verdict record, the
 * report and the sidecar (bpf_programs, bpf.PROG.* metrics, metric_info). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonl.h"
#include "sidecar.h"
#include "verdict.h"

#define HEAD \
	"{\"type\":\"vm_start\",\"topology\":\"1,2,2,1\",\"scheduler\":\"scx_simple\"}\n" \
	"{\"type\":\"agent_ready\"}\n" \
	"{\"type\":\"scenario_start\",\"name\":\"steady\",\"duration_ms\":2000,\"cpus\":4," \
	"\"scheduler\":\"scx_simple\",\"checks\":{}}\n" \
	"{\"type\":\"scheduler\",\"event\":\"attached\",\"name\":\"scx_simple\"," \
	"\"attach_ms\":100,\"at_ms\":100}\n"
#define TAIL \
	"{\"type\":\"scenario_end\",\"elapsed_ms\":2010,\"workers\":0,\"cpus\":4," \
	"\"scheduler_alive\":true}\n" \
	"{\"type\":\"vm_exit\",\"reason\":\"exit\",\"exit_code\":0,\"wall_ms\":5000}\n"
/* bpf_prog of program NAME with id ID and verified_insns INSNS. */
#define PROG(id, name, insns) \
	"{\"type\":\"bpf_prog\",\"scheduler\":\"scx_simple\",\"id\":" #id ",\"name\":\"" \
	name "\",\"prog_type\":\"struct_ops\",\"verified_insns\":" #insns "," \
	"\"xlated_bytes\":216,\"jited_bytes\":139,\"nr_maps\":2,\"t_ms\":812}\n"
/* bpf_prog_stats of ID/NAME: run_cnt CNT, run_time_ns NS, ns_per_run PER. */
#define STATS(id, name, cnt, ns, per) \
	"{\"type\":\"bpf_prog_stats\",\"id\":" #id ",\"name\":\"" name "\"," \
	"\"prog_type\":\"struct_ops\",\"run_cnt\":" #cnt ",\"run_time_ns\":" #ns "," \
	"\"ns_per_run\":" #per ",\"window_ms\":2004}\n"

static void feed(struct verdict *v, const char *text)
{
	const char *p = text;
	unsigned long lineno = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(verdict_feed_line(v, p, len, ++lineno, &err), 0);
		strbuf_release(&err);
		p += len + (nl ? 1 : 0);
	}
}

static enum verdict_result judge(struct verdict *v, const char *text)
{
	verdict_init(v);
	feed(v, text);
	verdict_finish(v, NULL);
	return v->result;
}

static double num_at(const json_t *o, const char *key)
{
	json_t *j = json_object_get(o, key);

	assert_non_null(j);
	return json_is_null(j) ? NAN : json_number_value(j);
}

/* Both records per program land on one entry (by id), in the order of
 * the first record; ns_per_run is the exact quotient, null when nothing
 * ran. */
static void test_records_kept(void **state)
{
	struct verdict v;
	json_t *a, *o;

	(void)state;
	assert_int_equal(judge(&v, HEAD PROG(41, "simple_dispatch", 31)
			       PROG(42, "simple_enqueue", 57) PROG(43, "simple_init", 12)
			       STATS(42, "simple_enqueue", 18234, 9032100, 495.3)
			       STATS(41, "simple_dispatch", 9120, 7410240, 812.5)
			       STATS(43, "simple_init", 0, 0, null) TAIL), VERDICT_PASS);
	assert_int_equal(v.n_bpf_progs, 3);
	assert_int_equal(v.warnings.n, 0);
	a = verdict_bpf_programs_json(&v);
	assert_int_equal(json_array_size(a), 3);
	o = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "simple_enqueue");
	assert_string_equal(json_string_value(json_object_get(o, "prog_type")), "struct_ops");
	assert_string_equal(json_string_value(json_object_get(o, "scheduler")), "scx_simple");
	assert_true(num_at(o, "id") == 42 && num_at(o, "verified_insns") == 57);
	assert_true(num_at(o, "xlated_bytes") == 216 && num_at(o, "jited_bytes") == 139);
	assert_true(num_at(o, "nr_maps") == 2 && num_at(o, "run_cnt") == 18234);
	assert_true(fabs(num_at(o, "ns_per_run") - 9032100.0 / 18234) < 1e-9);
	assert_true(num_at(o, "window_ms") == 2004);
	o = json_array_get(a, 2);
	assert_true(num_at(o, "run_cnt") == 0 && isnan(num_at(o, "ns_per_run")));
	json_decref(a);
	/* the verdict record carries them */
	a = verdict_to_json(&v, NULL);
	assert_int_equal(json_array_size(json_object_get(a, "bpf_programs")), 3);
	json_decref(a);
	verdict_release(&v);
}

/* Without --bpf-stats: the programs and their verifier figures only; the
 * stats fields are null, the report has no cost columns. */
static void test_without_stats(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	json_t *a;

	(void)state;
	assert_int_equal(judge(&v, HEAD PROG(41, "simple_dispatch", 31) TAIL), VERDICT_PASS);
	a = verdict_bpf_programs_json(&v);
	assert_true(isnan(num_at(json_array_get(a, 0), "run_cnt")));
	assert_true(isnan(num_at(json_array_get(a, 0), "ns_per_run")));
	json_decref(a);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, "bpf programs (scx_simple):\n"
				       "  simple_dispatch struct_ops verified_insns=31\n"));
	assert_null(strstr(out.buf, "run_cnt"));
	strbuf_release(&out);
	verdict_release(&v);
}

/* The report: after the payloads, names and types padded, the window in
 * the head, "-" for a program that never ran. */
static void test_report(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	judge(&v, HEAD PROG(41, "simple_dispatch", 31) PROG(43, "simple_init", 12)
	      STATS(41, "simple_dispatch", 9120, 7410240, 812.5)
	      STATS(43, "simple_init", 0, 0, null) TAIL);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf,
			       "bpf programs (scx_simple, cost over 2004ms):\n"
			       "  simple_dispatch struct_ops verified_insns=31 run_cnt=9120"
			       " ns/run=812.5\n"
			       "  simple_init     struct_ops verified_insns=12 run_cnt=0"
			       " ns/run=-\n"));
	strbuf_release(&out);
	verdict_release(&v);
}

/* However slow a program, the run's verdict is the workers' and the
 * scheduler's: BPF figures are never checks. */
static void test_never_judged(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD PROG(41, "simple_dispatch", 999999)
			       STATS(41, "simple_dispatch", 1, 900000000000, 900000000000)
			       TAIL), VERDICT_PASS);
	for (size_t i = 0; i < v.n_checks; i++)
		assert_null(strstr(v.checks[i].check, "bpf"));
	verdict_release(&v);
}

/* Bad fields are warned once each and read as missing; a record naming
 * no program is warned and dropped; stats without a bpf_prog record
 * still make a program (found by name when it has no id). */
static void test_bad_input(void **state)
{
	struct verdict v;
	json_t *a;

	(void)state;
	judge(&v, HEAD
	      "{\"type\":\"bpf_prog\",\"id\":7,\"name\":\"a\",\"verified_insns\":\"many\"}\n"
	      "{\"type\":\"bpf_prog\",\"id\":8,\"name\":\"b\",\"verified_insns\":-3}\n"
	      "{\"type\":\"bpf_prog\",\"prog_type\":\"struct_ops\"}\n"
	      "{\"type\":\"bpf_prog_stats\",\"name\":\"c\",\"run_cnt\":10,\"run_time_ns\":50}\n"
	      "{\"type\":\"bpf_prog_stats\",\"name\":\"c\",\"run_cnt\":20,\"run_time_ns\":60}\n"
	      TAIL);
	assert_int_equal(v.result, VERDICT_PASS);
	assert_int_equal(v.n_bpf_progs, 3);
	assert_int_equal(v.warnings.n, 2);
	assert_non_null(strstr(v.warnings.v[0], "bpf_prog.verified_insns: expected a number"));
	assert_non_null(strstr(v.warnings.v[1], "bpf_prog.name: expected a program name"));
	a = verdict_bpf_programs_json(&v);
	assert_true(isnan(num_at(json_array_get(a, 0), "verified_insns")));
	assert_true(isnan(num_at(json_array_get(a, 1), "verified_insns")));
	/* the later record about c wins */
	assert_true(num_at(json_array_get(a, 2), "ns_per_run") == 3);
	json_decref(a);
	verdict_release(&v);
}

/* The sidecar: bpf_programs, bpf.PROG.* metrics and their metric_info. */
static void test_sidecar(void **state)
{
	struct verdict v;
	json_t *m, *info, *p;

	(void)state;
	judge(&v, HEAD PROG(41, "simple_dispatch", 31) PROG(43, "simple_init", 12)
	      PROG(44, "simple_tick", 20)
	      STATS(41, "simple_dispatch", 9120, 7410240, 812.5)
	      STATS(43, "simple_init", 0, 0, null) TAIL);
	m = sidecar_metrics(&v);
	assert_true(json_number_value(json_object_get(m, "bpf.simple_dispatch.ns_per_run")) ==
		    7410240.0 / 9120);
	assert_int_equal(json_integer_value(json_object_get(m, "bpf.simple_dispatch.run_cnt")),
			 9120);
	assert_int_equal(json_integer_value(json_object_get(
		m, "bpf.simple_dispatch.verified_insns")), 31);
	/* never ran: a count of 0 and no cost; no stats: no count */
	assert_int_equal(json_integer_value(json_object_get(m, "bpf.simple_init.run_cnt")), 0);
	assert_null(json_object_get(m, "bpf.simple_init.ns_per_run"));
	assert_null(json_object_get(m, "bpf.simple_tick.run_cnt"));
	assert_non_null(json_object_get(m, "bpf.simple_tick.verified_insns"));
	info = sidecar_metric_info(&v);
	p = json_object_get(info, "bpf.simple_dispatch.ns_per_run");
	assert_string_equal(json_string_value(json_object_get(p, "unit")), "ns");
	assert_string_equal(json_string_value(json_object_get(p, "better")), "lower");
	p = json_object_get(info, "bpf.simple_dispatch.run_cnt");
	assert_string_equal(json_string_value(json_object_get(p, "better")), "none");
	p = json_object_get(info, "bpf.simple_dispatch.verified_insns");
	assert_string_equal(json_string_value(json_object_get(p, "better")), "none");
	p = sidecar_bpf_programs(&v);
	assert_int_equal(json_array_size(p), 3);
	json_decref(m);
	json_decref(info);
	json_decref(p);
	verdict_release(&v);
}

/* Two programs of one name: their cost is the combined time over the
 * combined count, verified_insns the larger. */
static void test_sidecar_same_name(void **state)
{
	struct verdict v;
	json_t *m;

	(void)state;
	judge(&v, HEAD PROG(41, "tick", 30) PROG(42, "tick", 50)
	      STATS(41, "tick", 100, 1000, 10) STATS(42, "tick", 300, 9000, 30) TAIL);
	assert_int_equal(v.n_bpf_progs, 2);
	m = sidecar_metrics(&v);
	assert_true(json_number_value(json_object_get(m, "bpf.tick.ns_per_run")) == 25);
	assert_int_equal(json_integer_value(json_object_get(m, "bpf.tick.run_cnt")), 400);
	assert_int_equal(json_integer_value(json_object_get(m, "bpf.tick.verified_insns")), 50);
	json_decref(m);
	verdict_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_kept),
		cmocka_unit_test(test_without_stats),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_never_judged),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_sidecar),
		cmocka_unit_test(test_sidecar_same_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
