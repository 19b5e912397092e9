/* Unit tests for lib/results/verdict_payload.c: the payload and
 * payload_metrics records (shaped as PAYLOAD-SPEC / ktstr-records(7) say)
 * judged by the payload checks, overlays from flags and test files, and
 * the payloads in the verdict record, the report and the sidecar. */
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
	"{\"type\":\"vm_start\",\"topology\":\"1,2,2,1\",\"scheduler\":null}\n" \
	"{\"type\":\"agent_ready\"}\n" \
	"{\"type\":\"scenario_start\",\"name\":\"cyc\",\"duration_ms\":5000,\"cpus\":4," \
	"\"scheduler\":null,\"checks\":{}}\n"
#define TAIL \
	"{\"type\":\"scenario_end\",\"elapsed_ms\":5010,\"workers\":0,\"cpus\":4," \
	"\"payloads\":1,\"scheduler_alive\":true}\n" \
	"{\"type\":\"vm_exit\",\"reason\":\"exit\",\"exit_code\":0,\"wall_ms\":7000}\n"
/* A start record of payload NAME copy 0 with form FORM and checks CHECKS. */
#define PSTART(name, form, checks) \
	"{\"type\":\"payload\",\"event\":\"start\",\"name\":\"" name "\",\"copy\":0," \
	"\"copies\":1,\"pid\":80,\"at_ms\":3,\"step\":0,\"cgroup\":\"" name "\"," \
	"\"program\":\"" name "\",\"argv\":[\"" name "\"],\"metrics\":\"" form "\"," \
	"\"checks\":" checks "}\n"
/* A stop record: stopped_by, exit_code, signal, killed, then extra fields. */
#define PSTOP(name, by, code, sig, killed, extra) \
	"{\"type\":\"payload\",\"event\":\"stop\",\"name\":\"" name "\",\"copy\":0," \
	"\"pid\":80,\"at_ms\":5003,\"wall_ms\":5000,\"stopped_by\":\"" by "\"," \
	"\"exit_code\":" code ",\"signal\":" sig ",\"killed\":" killed extra "}\n"
#define CYC_METRICS \
	"{\"type\":\"payload_metrics\",\"name\":\"cyclictest\",\"copy\":0," \
	"\"form\":\"cyclictest\",\"metrics\":{" \
	"\"p99_us\":{\"value\":345,\"unit\":\"us\",\"better\":\"lower\"}," \
	"\"avg_us\":{\"value\":12.5,\"unit\":\"us\",\"better\":\"lower\"}}}\n"
#define CYC_CHECKS(max) "{\"exit_code\":0,\"max\":" max ",\"min\":{}}"

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

/* Judge text with an optional overlay (JSON text); the result. */
static enum verdict_result judge(struct verdict *v, const char *text, const char *overlay)
{
	verdict_init(v);
	if (overlay) {
		json_t *o = json_loads(overlay, 0, NULL);
		struct strbuf err = STRBUF_INIT;

		assert_non_null(o);
		assert_int_equal(verdict_payload_overlay(v, o, &err), 0);
		json_decref(o);
		strbuf_release(&err);
	}
	feed(v, text);
	verdict_finish(v, NULL);
	return v->result;
}

/* The one failure's message (there must be exactly one). */
static const struct verdict_check *only_failure(const struct verdict *v)
{
	const struct verdict_check *f = NULL;

	for (size_t i = 0; i < v->n_checks; i++)
		if (!v->checks[i].pass) {
			assert_null(f);
			f = &v->checks[i];
		}
	assert_non_null(f);
	return f;
}

static char *report(const struct verdict *v)
{
	struct strbuf sb = STRBUF_INIT;

	verdict_format(v, &sb);
	return strbuf_detach(&sb, NULL);
}

/* ---- tests -------------------------------------------------------------- */

/* Payloads and no workers at all: judged on the payloads, and passing. */
static void test_pass_without_workers(void **state)
{
	struct verdict v;
	char *r;
	json_t *j, *p;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("cyclictest", "cyclictest",
					      CYC_CHECKS("{\"p99_us\":1000}"))
			       PSTOP("cyclictest", "end", "null", "2", "false", "") CYC_METRICS
			       TAIL, NULL), VERDICT_PASS);
	assert_int_equal(v.n_failures, 0);
	r = report(&v);
	assert_non_null(strstr(r, "passed"));
	assert_non_null(strstr(r, "payloads:\n  cyclictest copy 0 (cyclictest): signal 2"
			       " (SIGINT), stopped by end after 5000ms\n"));
	assert_non_null(strstr(r, "    p99_us = 345 us \u2193\n"));
	assert_non_null(strstr(r, "    avg_us = 12.5 us \u2193\n"));
	free(r);
	j = verdict_to_json(&v, NULL);
	p = json_array_get(json_object_get(j, "payloads"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "cyclictest");
	assert_int_equal(json_integer_value(json_object_get(p, "copy")), 0);
	assert_string_equal(json_string_value(json_object_get(p, "stopped_by")), "end");
	assert_true(json_is_null(json_object_get(p, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(p, "signal")), 2);
	assert_true(json_is_false(json_object_get(p, "killed")));
	assert_int_equal(json_integer_value(json_object_get(p, "wall_ms")), 5000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_object_get(p, "metrics"), "p99_us"), "value")), 345);
	json_decref(j);
	verdict_release(&v);
}

static void test_max_check_fails(void **state)
{
	struct verdict v;
	const struct verdict_check *f;
	json_t *j, *fj;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("cyclictest", "cyclictest",
					      CYC_CHECKS("{\"p99_us\":1}"))
			       PSTOP("cyclictest", "end", "0", "null", "false", "") CYC_METRICS
			       TAIL, NULL), VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "payload_metric");
	assert_string_equal(f->payload, "cyclictest");
	assert_string_equal(f->message,
			    "payload cyclictest copy 0: p99_us = 345 us, limit at most 1 us");
	j = verdict_to_json(&v, NULL);
	fj = json_array_get(json_object_get(j, "failures"), 0);
	assert_string_equal(json_string_value(json_object_get(fj, "payload")), "cyclictest");
	assert_int_equal(json_integer_value(json_object_get(fj, "value")), 345);
	assert_int_equal(json_integer_value(json_object_get(fj, "limit")), 1);
	json_decref(j);
	verdict_release(&v);
}

/* The overlay (flags, test file) wins over the start record's checks. */
static void test_overlay(void **state)
{
	struct verdict v;
	const char *run = HEAD PSTART("cyclictest", "cyclictest", CYC_CHECKS("{\"p99_us\":1}"))
		PSTOP("cyclictest", "end", "0", "null", "false", "") CYC_METRICS TAIL;
	json_t *flags = NULL;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(judge(&v, run, "{\"cyclictest\":{\"max\":{\"p99_us\":400}}}"),
			 VERDICT_PASS);
	verdict_release(&v);
	/* --metric-min: a lower bound */
	assert_int_equal(verdict_metric_flag(&flags, "min", "cyclictest.avg_us=20", &err), 0);
	assert_int_equal(verdict_metric_flag(&flags, "max", "cyclictest.p99_us=1e3", &err), 0);
	verdict_init(&v);
	assert_int_equal(verdict_payload_overlay(&v, flags, &err), 0);
	feed(&v, run);
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "payload cyclictest copy 0: avg_us = 12.5 us, limit at least 20 us");
	verdict_release(&v);
	json_decref(flags);
	/* bad syntax */
	flags = NULL;
	assert_int_equal(verdict_metric_flag(&flags, "max", "p99_us=3", &err), -1);
	assert_non_null(strstr(err.buf, "expected PAYLOAD.METRIC=NUMBER"));
	strbuf_reset(&err);
	assert_int_equal(verdict_metric_flag(&flags, "max", "cyc.p99_us=fast", &err), -1);
	assert_non_null(strstr(err.buf, "'fast' is not a number"));
	assert_null(flags);
	strbuf_release(&err);
}

static void test_overlay_shape(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *o = json_loads("{\"cyc\":{\"max\":{\"p99_us\":\"low\"}}}", 0, NULL);

	(void)state;
	assert_int_equal(verdict_payload_overlay(NULL, o, &err), -1);
	assert_string_equal(err.buf, "$.cyc.max.p99_us: expected a number, got a string");
	json_decref(o);
	strbuf_reset(&err);
	o = json_loads("{\"cyc\":{\"maximum\":{}}}", 0, NULL);
	assert_int_equal(verdict_payload_overlay(NULL, o, &err), -1);
	assert_non_null(strstr(err.buf, "$.cyc.maximum: unknown key"));
	json_decref(o);
	strbuf_reset(&err);
	o = json_loads("{\"cyc\":{\"exit_code\":null,\"min\":{\"x\":1}}}", 0, NULL);
	assert_int_equal(verdict_payload_overlay(NULL, o, &err), 0);
	json_decref(o);
	strbuf_release(&err);
}

static void test_missing_metric(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("cyclictest", "cyclictest",
					      CYC_CHECKS("{\"p999_us\":100}"))
			       PSTOP("cyclictest", "end", "0", "null", "false", "") CYC_METRICS
			       TAIL, NULL), VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "payload cyclictest copy 0: p999_us = missing, limit at most 100");
	verdict_release(&v);
}

static void test_parse_error_with_tail(void **state)
{
	struct verdict v;
	const struct verdict_check *f;
	char *r;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("sb", "sysbench", "{\"exit_code\":0}")
			       PSTOP("sb", "exit", "0", "null", "false", "")
			       "{\"type\":\"payload_metrics\",\"name\":\"sb\",\"copy\":0,"
			       "\"form\":\"sysbench\",\"metrics\":{},\"error\":\"sysbench: no"
			       " 'events per second:' line in the output\",\"output_tail\":"
			       "[\"sysbench 1.0.20\",\"FATAL: unknown test\"]}\n" TAIL, NULL),
			 VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "payload_output");
	assert_string_equal(f->message, "payload sb copy 0: output did not parse: sysbench:"
			    " no 'events per second:' line in the output");
	r = report(&v);
	assert_non_null(strstr(r, "    payload output:\n      sysbench 1.0.20\n"
			       "      FATAL: unknown test\n"));
	free(r);
	verdict_release(&v);
}

static void test_crash_signal_11(void **state)
{
	struct verdict v;
	const struct verdict_check *f;
	char *r;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("crashy", "exit_code", "{\"exit_code\":0}")
			       PSTOP("crashy", "exit", "null", "11", "false",
				     ",\"output_tail\":[\"about to crash\"]") TAIL, NULL),
			 VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "payload_exit");
	assert_string_equal(f->message, "payload crashy copy 0 crashed with signal 11 (SIGSEGV)");
	r = report(&v);
	assert_non_null(strstr(r, "    payload output:\n      about to crash\n"));
	assert_non_null(strstr(r, "crashy copy 0 (crashy): signal 11 (SIGSEGV) after 5000ms\n"));
	free(r);
	verdict_release(&v);
}

static void test_exit_code(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("fio", "fio", "{\"exit_code\":0}")
			       PSTOP("fio", "exit", "1", "null", "false", "") TAIL, NULL),
			 VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "payload fio copy 0 exited with 1,"
			    " expected 0");
	verdict_release(&v);
	/* exit_code null: not checked */
	assert_int_equal(judge(&v, HEAD PSTART("fio", "exit_code", "{\"exit_code\":null}")
			       PSTOP("fio", "exit", "1", "null", "false", "") TAIL, NULL),
			 VERDICT_PASS);
	verdict_release(&v);
	/* ... and an overlay can ask for 1 */
	assert_int_equal(judge(&v, HEAD PSTART("fio", "exit_code", "{}")
			       PSTOP("fio", "exit", "1", "null", "false", "") TAIL,
			       "{\"fio\":{\"exit_code\":1}}"), VERDICT_PASS);
	verdict_release(&v);
	/* a program that could not run */
	assert_int_equal(judge(&v, HEAD PSTART("nope", "exit_code", "{\"exit_code\":null}")
			       PSTOP("nope", "exit", "127", "null", "false",
				     ",\"error\":\"exec nope: No such file or directory\"")
			       TAIL, NULL), VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "payload nope copy 0 could not run:"
			    " exec nope: No such file or directory");
	verdict_release(&v);
}

static void test_killed_hang(void **state)
{
	struct verdict v;
	const struct verdict_check *f;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("hang", "exit_code", "{\"exit_code\":0}")
			       PSTOP("hang", "end", "null", "9", "true", "") TAIL, NULL),
			 VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "payload_hang");
	assert_string_equal(f->message, "payload hang copy 0 did not stop within 3000 ms of"
			    " SIGINT and was killed");
	verdict_release(&v);
}

static void test_timeout(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD
			       "{\"type\":\"payload\",\"event\":\"start\",\"name\":\"slow\","
			       "\"copy\":0,\"copies\":1,\"pid\":81,\"at_ms\":0,\"step\":0,"
			       "\"program\":\"sleep\",\"metrics\":\"exit_code\","
			       "\"timeout_ms\":2000,\"checks\":{\"exit_code\":0}}\n"
			       PSTOP("slow", "timeout", "null", "2", "false", "") TAIL, NULL),
			 VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "payload slow copy 0 ran past its timeout of 2000 ms and was stopped");
	verdict_release(&v);
}

/* Stopped by us with SIGINT: signal 2, or exit 130, 128 (fio) or 0
 * after it. */
static void test_sigint_stop_passes(void **state)
{
	static const char *const stops[] = {
		PSTOP("p", "stop_op", "null", "2", "false", ""),
		PSTOP("p", "end", "130", "null", "false", ""),
		PSTOP("p", "stop_op", "0", "null", "false", ""),
		PSTOP("p", "end", "128", "null", "false", ""),
	};
	struct verdict v;
	char run[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(stops) / sizeof(*stops); i++) {
		snprintf(run, sizeof(run), "%s%s%s%s", HEAD,
			 PSTART("p", "exit_code", "{\"exit_code\":0}"), stops[i], TAIL);
		assert_int_equal(judge(&v, run, NULL), VERDICT_PASS);
		verdict_release(&v);
	}
	/* ... but a payload that ended on its own with SIGINT did not get it
	 * from us */
	assert_int_equal(judge(&v, HEAD PSTART("p", "exit_code", "{\"exit_code\":0}")
			       PSTOP("p", "exit", "null", "2", "false", "") TAIL, NULL),
			 VERDICT_FAIL);
	verdict_release(&v);
	/* ... and 128 from a copy that ended on its own is a failure */
	assert_int_equal(judge(&v, HEAD PSTART("p", "exit_code", "{\"exit_code\":0}")
			       PSTOP("p", "exit", "128", "null", "false", "") TAIL, NULL),
			 VERDICT_FAIL);
	verdict_release(&v);
}

/* Several copies: each judged, named by copy; the sidecar's metric is the
 * mean with its unit and direction in metric_info. */
static void test_copies_and_sidecar(void **state)
{
	struct verdict v;
	json_t *m, *info, *p;

	(void)state;
	assert_int_equal(judge(&v, HEAD
			       PSTART("hb", "hackbench", "{\"exit_code\":0,\"max\":{\"time_s\":3}}")
			       PSTOP("hb", "exit", "0", "null", "false", "")
			       "{\"type\":\"payload_metrics\",\"name\":\"hb\",\"copy\":0,"
			       "\"form\":\"hackbench\",\"metrics\":{\"time_s\":{\"value\":2,"
			       "\"unit\":\"s\",\"better\":\"lower\"}}}\n"
			       "{\"type\":\"payload\",\"event\":\"stop\",\"name\":\"hb\",\"copy\":1,"
			       "\"wall_ms\":4100,\"stopped_by\":\"exit\",\"exit_code\":0,"
			       "\"signal\":null,\"killed\":false}\n"
			       "{\"type\":\"payload_metrics\",\"name\":\"hb\",\"copy\":1,"
			       "\"form\":\"hackbench\",\"metrics\":{\"time_s\":{\"value\":4,"
			       "\"unit\":\"s\",\"better\":\"lower\"}}}\n" TAIL, NULL),
			 VERDICT_FAIL);
	/* copy 1's start record is missing: copy 0's checks stand in */
	assert_int_equal(v.n_payloads, 2);
	assert_string_equal(only_failure(&v)->message,
			    "payload hb copy 1: time_s = 4 s, limit at most 3 s");
	m = sidecar_metrics(&v);
	assert_true(json_number_value(json_object_get(m, "payload.hb.time_s")) == 3.0);
	info = sidecar_metric_info(&v);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(info, "payload.hb.time_s"), "unit")), "s");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(info, "payload.hb.time_s"), "better")), "lower");
	p = sidecar_payloads(&v);
	assert_int_equal(json_array_size(p), 2);
	json_decref(m);
	json_decref(info);
	json_decref(p);
	verdict_release(&v);
}

/* A payload's own cgroup (0 workers) is not judged on worker numbers. */
static void test_zero_worker_cgroup(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("p", "exit_code", "{\"exit_code\":0}")
			       "{\"type\":\"cgroup_stats\",\"cgroup\":\"p\",\"workers\":0,"
			       "\"cpus\":1,\"background\":false,\"spread_pct\":0,"
			       "\"worst_gap_ms\":0,\"iterations\":0,\"iterations_per_sec\":0,"
			       "\"migrations\":0,\"starved_workers\":0}\n"
			       PSTOP("p", "exit", "0", "null", "false", "") TAIL,
			       NULL), VERDICT_PASS);
	verdict_release(&v);
}

/* An overlay for a payload the run never started says so. */
static void test_overlay_unknown_name(void **state)
{
	struct verdict v;

	(void)state;
	assert_int_equal(judge(&v, HEAD PSTART("p", "exit_code", "{}")
			       PSTOP("p", "exit", "0", "null", "false", "") TAIL,
			       "{\"cyclictest\":{\"max\":{\"p99_us\":1}}}"), VERDICT_PASS);
	assert_int_equal(v.warnings.n, 1);
	assert_non_null(strstr(v.warnings.v[0], "payload checks for 'cyclictest'"));
	verdict_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_without_workers),
		cmocka_unit_test(test_max_check_fails),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_overlay_shape),
		cmocka_unit_test(test_missing_metric),
		cmocka_unit_test(test_parse_error_with_tail),
		cmocka_unit_test(test_crash_signal_11),
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_killed_hang),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_sigint_stop_passes),
		cmocka_unit_test(test_copies_and_sidecar),
		cmocka_unit_test(test_zero_worker_cgroup),
		cmocka_unit_test(test_overlay_unknown_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
