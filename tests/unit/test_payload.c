/* Unit tests for lib/core/payload*.c: the adapters against real output
 * captured from the Debian programs (tests/fixtures/payload, made by
 * running each with its adapter's default and output arguments), broken
 * output, the json and pattern forms, describe overrides, argv building,
 * names of forms and packages, metrics and output tails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

#define FIXTURES "tests/fixtures/payload/"

static int parse_text(struct payload_def *d, const char *text, size_t len,
		      struct pmetrics *m, struct strbuf *err)
{
	return payload_metrics_parse(d, text, len, m, err);
}

/* Parse a fixture with a form; the test runs from the top of the tree
 * (make unit, tests/run-unit). */
static int parse_file(const char *form, const char *file, struct pmetrics *m,
		      struct strbuf *err)
{
	struct payload_def d = { .form = (char *)form };
	struct strbuf text = STRBUF_INIT;
	char path[256];
	int rc;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	if (strbuf_read_file(&text, path))
		fail_msg("%s: cannot read it; run the test from the top of the tree", path);
	rc = parse_text(&d, text.buf, text.len, m, err);
	strbuf_release(&text);
	return rc;
}

static void want(const struct pmetrics *m, const char *name, double v, const char *unit,
		 enum payload_better better)
{
	const struct pmetric *p = pmetrics_get(m, name);

	if (!p)
		fail_msg("metric %s is missing", name);
	if (fabs(p->value - v) > 1e-9 * fmax(1, fabs(v)))
		fail_msg("%s = %.12g, want %.12g", name, p->value, v);
	if (strcmp(p->unit, unit))
		fail_msg("%s: unit \"%s\", want \"%s\"", name, p->unit, unit);
	if (p->better != better)
		fail_msg("%s: better %s, want %s", name, payload_better_name(p->better),
			 payload_better_name(better));
}

static void want_absent(const struct pmetrics *m, const char *name)
{
	if (pmetrics_get(m, name))
		fail_msg("metric %s should not be there", name);
}

/* Parsing fails with one line that contains each of the needles. */
static void want_error(const char *form, const char *file, const char *needle1,
		       const char *needle2)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	if (parse_file(form, file, &m, &err) != -1)
		fail_msg("%s on %s parsed", form, file);
	if (!err.len || strchr(err.buf, '\n'))
		fail_msg("%s on %s: error is not one line: \"%s\"", form, file, err.buf);
	if (!strstr(err.buf, needle1) || (needle2 && !strstr(err.buf, needle2)))
		fail_msg("%s on %s: error \"%s\" lacks \"%s\"/\"%s\"", form, file, err.buf,
			 needle1, needle2 ? needle2 : "");
	assert_int_equal(m.n, 0);
	strbuf_release(&err);
}

/* ---- adapters on real output ---- */

static void test_cyclictest(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("cyclictest", "cyclictest.json", &m, &err), 0);
	/* Aggregates first, then thread by thread. */
	assert_string_equal(m.v[0].name, "min_us");
	want(&m, "min_us", 17, "us", BETTER_LOWER);
	want(&m, "max_us", 4115, "us", BETTER_LOWER);
	want(&m, "avg_us", (105.24 * 4961 + 117.85 * 4957) / (4961 + 4957), "us", BETTER_LOWER);
	want(&m, "p99_us", 525, "us", BETTER_LOWER);
	want(&m, "overflows", 0, "samples", BETTER_LOWER);
	want(&m, "thread.0.min_us", 17, "us", BETTER_LOWER);
	want(&m, "thread.0.avg_us", 105.24, "us", BETTER_LOWER);
	want(&m, "thread.0.max_us", 3734, "us", BETTER_LOWER);
	want(&m, "thread.0.p99_us", 500, "us", BETTER_LOWER);
	want(&m, "thread.1.min_us", 37, "us", BETTER_LOWER);
	want(&m, "thread.1.avg_us", 117.85, "us", BETTER_LOWER);
	want(&m, "thread.1.max_us", 4115, "us", BETTER_LOWER);
	want(&m, "thread.1.p99_us", 525, "us", BETTER_LOWER);
	assert_int_equal(m.n, 5 + 2 * 5);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* A bound of 120 us: 114 and 131 samples past it, more than 1 % of the
 * cycles, so p99 is among the overflows and the max stands in. */
static void test_cyclictest_overflow(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("cyclictest", "cyclictest-overflow.json", &m, &err), 0);
	want(&m, "thread.0.overflows", 1946 - 1832, "samples", BETTER_LOWER);
	want(&m, "thread.1.overflows", 1955 - 1824, "samples", BETTER_LOWER);
	want(&m, "overflows", 114 + 131, "samples", BETTER_LOWER);
	want(&m, "thread.0.p99_us", 5712, "us", BETTER_LOWER);
	want(&m, "thread.1.p99_us", 3326, "us", BETTER_LOWER);
	want(&m, "p99_us", 5712, "us", BETTER_LOWER);
	want(&m, "min_us", 17, "us", BETTER_LOWER);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* Without a histogram (no -h) there is no p99, the rest stays. */
static void test_cyclictest_no_histogram(void **state)
{
	static const char doc[] = "{\"thread\": {\"0\": {\"cycles\": 10, \"min\": 3, "
				  "\"max\": 9, \"avg\": 4.5}}}";
	struct payload_def d = { .form = "cyclictest" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, doc, strlen(doc), &m, &err), 0);
	want(&m, "max_us", 9, "us", BETTER_LOWER);
	want(&m, "avg_us", 4.5, "us", BETTER_LOWER);
	want_absent(&m, "p99_us");
	want_absent(&m, "thread.0.overflows");
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_hackbench(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("hackbench", "hackbench.txt", &m, &err), 0);
	want(&m, "time_s", 2.033, "s", BETTER_LOWER);
	assert_int_equal(m.n, 1);
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_stress_ng(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("stress-ng", "stress-ng.yaml", &m, &err), 0);
	want(&m, "cpu.bogo_ops", 5490, "ops", BETTER_HIGHER);
	want(&m, "cpu.bogo_ops_per_sec_real", 1828.780465, "ops/s", BETTER_HIGHER);
	want(&m, "cpu.bogo_ops_per_sec_usr_sys", 1844.309382, "ops/s", BETTER_HIGHER);
	want(&m, "cpu.wall_clock_s", 3.002001, "s", BETTER_NONE);
	want(&m, "cpu.user_s", 2.960827, "s", BETTER_NONE);
	want(&m, "cpu.system_s", 0.015897, "s", BETTER_NONE);
	want(&m, "cpu.cpu_usage_pct", 99.158009, "%", BETTER_NONE);
	want(&m, "cpu.max_rss_kib", 6492, "KiB", BETTER_NONE);
	want(&m, "switch.bogo_ops_per_sec_real", 93762.077650, "ops/s", BETTER_HIGHER);
	want(&m, "switch.nanosecs_per_context_switch_pipe_method", 10654.016745, "",
	     BETTER_NONE);
	assert_int_equal(m.n, 8 + 9);
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_fio(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("fio", "fio.json", &m, &err), 0);
	want(&m, "read.iops", 19832.033593, "IO/s", BETTER_HIGHER);
	want(&m, "read.bw_kib_s", 79328, "KiB/s", BETTER_HIGHER);
	want(&m, "read.clat_p99_us", 104.960, "us", BETTER_LOWER);
	want(&m, "randread.read.iops", 19832.033593, "IO/s", BETTER_HIGHER);
	want(&m, "randread.read.bw_kib_s", 79328, "KiB/s", BETTER_HIGHER);
	want(&m, "randread.read.clat_mean_us", 49.827632013, "us", BETTER_LOWER);
	want(&m, "randread.read.clat_p50_us", 42.240, "us", BETTER_LOWER);
	want(&m, "randread.read.clat_p99_us", 104.960, "us", BETTER_LOWER);
	want(&m, "randread.read.clat_p99_9_us", 708.608, "us", BETTER_LOWER);
	/* The write side of a randread job did nothing. */
	want_absent(&m, "randread.write.iops");
	want_absent(&m, "write.iops");
	assert_int_equal(m.n, 3 + 6);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* randrw with numjobs=2: both directions, two jobs of one name. */
static void test_fio_mixed(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("fio", "fio-mixed.json", &m, &err), 0);
	want(&m, "mix.0.read.iops", 10527.472527, "IO/s", BETTER_HIGHER);
	want(&m, "mix.1.read.iops", 10441.558442, "IO/s", BETTER_HIGHER);
	want(&m, "mix.0.write.bw_kib_s", 42065, "KiB/s", BETTER_HIGHER);
	want(&m, "mix.1.write.clat_p99_9_us", 473.088, "us", BETTER_LOWER);
	want(&m, "read.iops", 10527.472527 + 10441.558442, "IO/s", BETTER_HIGHER);
	want(&m, "write.bw_kib_s", 42065 + 42197, "KiB/s", BETTER_HIGHER);
	want(&m, "read.clat_p99_us", 716.800, "us", BETTER_LOWER);
	want(&m, "write.clat_p99_us", 62.208, "us", BETTER_LOWER);
	assert_int_equal(m.n, 6 + 4 * 6);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* Stopped by SIGINT after about 1.5 s: fio puts "fio: terminating on
 * signal 2" into --output before the JSON. */
static void test_fio_sigint(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("fio", "fio-sigint.json", &m, &err), 0);
	want(&m, "randread.read.iops", 6814.084507, "IO/s", BETTER_HIGHER);
	want(&m, "randread.read.bw_kib_s", 27256, "KiB/s", BETTER_HIGHER);
	want(&m, "randread.read.clat_p99_us", 1613.824, "us", BETTER_LOWER);
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_fio_job_error(void **state)
{
	static const char doc[] = "{\"jobs\": [{\"jobname\": \"rr\", \"error\": 5, "
				  "\"read\": {\"total_ios\": 0, \"iops\": 0}}]}";
	struct payload_def d = { .form = "fio" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, doc, strlen(doc), &m, &err), -1);
	assert_string_equal(err.buf, "fio job 'rr' failed with error 5 and no job did any I/O");
	strbuf_release(&err);
}

/* Jobs without a name are "job"; odd characters in a name become '_'. */
static void test_fio_job_names(void **state)
{
	static const char doc[] = "{\"jobs\": [{\"read\": {\"total_ios\": 1, \"iops\": 1}},"
				  "{\"jobname\": \"\", \"read\": {\"total_ios\": 1, \"iops\": 2}},"
				  "{\"jobname\": \"a b/c\", \"write\": {\"total_ios\": 1, "
				  "\"iops\": 3}}]}";
	struct payload_def d = { .form = "fio" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, doc, strlen(doc), &m, &err), 0);
	want(&m, "job.0.read.iops", 1, "IO/s", BETTER_HIGHER);
	want(&m, "job.1.read.iops", 2, "IO/s", BETTER_HIGHER);
	want(&m, "a_b_c.write.iops", 3, "IO/s", BETTER_HIGHER);
	want(&m, "read.iops", 3, "IO/s", BETTER_HIGHER);
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_sysbench_cpu(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("sysbench", "sysbench-cpu.txt", &m, &err), 0);
	want(&m, "events_per_sec", 6987.63, "events/s", BETTER_HIGHER);
	want(&m, "total_events", 34956, "events", BETTER_HIGHER);
	want(&m, "total_time_s", 5.0003, "s", BETTER_NONE);
	want(&m, "latency_min_ms", 0.22, "ms", BETTER_LOWER);
	want(&m, "latency_avg_ms", 0.29, "ms", BETTER_LOWER);
	want(&m, "latency_max_ms", 12.38, "ms", BETTER_LOWER);
	want(&m, "latency_p95_ms", 0.29, "ms", BETTER_LOWER);
	want(&m, "fairness_events_stddev", 138, "events", BETTER_LOWER);
	want(&m, "fairness_time_stddev_s", 0, "s", BETTER_LOWER);
	assert_int_equal(m.n, 9);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* threads and mutex print no rate: events over total time. */
static void test_sysbench_threads_mutex(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("sysbench", "sysbench-threads.txt", &m, &err), 0);
	want(&m, "events_per_sec", 3177 / 3.0015, "events/s", BETTER_HIGHER);
	want(&m, "total_events", 3177, "events", BETTER_HIGHER);
	want(&m, "latency_min_ms", 1.21, "ms", BETTER_LOWER);
	want(&m, "latency_max_ms", 9.78, "ms", BETTER_LOWER);
	want(&m, "latency_p95_ms", 5.00, "ms", BETTER_LOWER);
	want(&m, "fairness_events_stddev", 3.5, "events", BETTER_LOWER);
	pmetrics_release(&m);

	assert_int_equal(parse_file("sysbench", "sysbench-mutex.txt", &m, &err), 0);
	want(&m, "events_per_sec", 2 / 0.1638, "events/s", BETTER_HIGHER);
	want(&m, "total_time_s", 0.1638, "s", BETTER_NONE);
	want(&m, "latency_avg_ms", 163.46, "ms", BETTER_LOWER);
	want(&m, "latency_p95_ms", 164.45, "ms", BETTER_LOWER);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* --percentile=99 names the metric after it. */
static void test_sysbench_percentile(void **state)
{
	static const char text[] = "General statistics:\n    total time:    1.0s\n"
				   "    total number of events:   10\n\nLatency (ms):\n"
				   "         min:     1.00\n         99.9th percentile:   7.50\n\n"
				   "         max:     99\n";
	struct payload_def d = { .form = "sysbench" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, text, strlen(text), &m, &err), 0);
	want(&m, "latency_p99_9_ms", 7.5, "ms", BETTER_LOWER);
	want(&m, "events_per_sec", 10, "events/s", BETTER_HIGHER);
	/* The block ends at its blank line. */
	want_absent(&m, "latency_max_ms");
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_perf_bench(void **state)
{
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_file("perf-bench", "perf-pipe.txt", &m, &err), 0);
	want(&m, "total_time_s", 2.187, "s", BETTER_LOWER);
	want(&m, "usecs_per_op", 21.876890, "us", BETTER_LOWER);
	want(&m, "ops_per_sec", 45710, "ops/s", BETTER_HIGHER);
	assert_int_equal(m.n, 3);
	pmetrics_release(&m);

	assert_int_equal(parse_file("perf-bench", "perf-messaging.txt", &m, &err), 0);
	want(&m, "total_time_s", 1.934, "s", BETTER_LOWER);
	assert_int_equal(m.n, 1);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* ---- broken output ---- */

static void test_broken(void **state)
{
	want_error("cyclictest", "cyclictest-truncated.json", "not JSON",
		   "want the JSON file of cyclictest --json");
	want_error("cyclictest", "empty.txt", "the output is empty",
		   "expected the JSON file of cyclictest --json");
	want_error("cyclictest", "fio.json", "no \"thread\" object",
		   "expected the JSON file of cyclictest --json");
	want_error("fio", "hackbench.txt", "not JSON", "fio --output-format=json");
	want_error("fio", "cyclictest.json", "no \"jobs\" array", "fio --output-format=json");
	want_error("fio", "empty.txt", "the output is empty", "fio --output-format=json");
	want_error("stress-ng", "fio.json", "no \"metrics\" list",
		   "stress-ng --metrics --yaml");
	want_error("stress-ng", "cyclictest-truncated.json", "not YAML",
		   "stress-ng --metrics --yaml");
	want_error("stress-ng", "empty.txt", "the output is empty", "stress-ng");
	want_error("hackbench", "perf-pipe.txt", "no \"Time:\" line", "hackbench's report");
	want_error("hackbench", "empty.txt", "the output is empty", "hackbench");
	want_error("sysbench", "perf-pipe.txt", "no \"total number of events:\" line",
		   "sysbench TEST run");
	want_error("perf-bench", "sysbench-cpu.txt", "no \"Total time:\" line",
		   "perf bench sched");
	want_error("perf-bench", "empty.txt", "the output is empty", "perf bench");
	want_error("json", "cyclictest-truncated.json", "not JSON", "one JSON document");
	want_error("json", "empty.txt", "the output is empty", "one JSON document");
	want_error("json", "hackbench.txt", "not JSON", NULL);
	want_error("no-such-form", "hackbench.txt", "unknown metrics form 'no-such-form'",
		   "expected one of: exit_code, json, pattern, cyclictest, hackbench, "
		   "stress-ng, fio, sysbench, perf-bench");
}

/* exit_code has no metrics and never fails on output. */
static void test_exit_code_form(void **state)
{
	struct payload_def d = { .form = "exit_code" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, "garbage", 7, &m, &err), 0);
	assert_int_equal(m.n, 0);
	d.form = NULL;
	assert_int_equal(parse_text(&d, "", 0, &m, &err), 0);
	assert_int_equal(err.len, 0);
}

/* ---- json and pattern forms, describe ---- */

static void test_json_form(void **state)
{
	static const char doc[] = "{\"a\": 1, \"b\": {\"c\": [1.5, true, \"x\", {\"d\": -2e3}]},"
				  " \"e\": null, \"f\": false, \"g\": \"7\"}";
	struct payload_def d = { .form = "json" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, doc, strlen(doc), &m, &err), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].name, "a");
	want(&m, "a", 1, "", BETTER_NONE);
	want(&m, "b.c.0", 1.5, "", BETTER_NONE);
	want(&m, "b.c.3.d", -2000, "", BETTER_NONE);
	pmetrics_release(&m);

	/* A top-level array: indices from the start. */
	assert_int_equal(parse_text(&d, "[4, [5]]", 8, &m, &err), 0);
	want(&m, "0", 4, "", BETTER_NONE);
	want(&m, "1.0", 5, "", BETTER_NONE);
	pmetrics_release(&m);

	assert_int_equal(parse_text(&d, "{\"s\": \"1\", \"t\": true}", 21, &m, &err), -1);
	assert_non_null(strstr(err.buf, "no numeric values"));
	strbuf_release(&err);
}

static void test_json_form_too_big(void **state)
{
	struct payload_def d = { .form = "json" };
	struct strbuf doc = STRBUF_INIT, err = STRBUF_INIT;
	struct pmetrics m = { 0 };
	unsigned i;

	strbuf_addch(&doc, '[');
	for (i = 0; i <= PAYLOAD_MAX_METRICS; i++)
		strbuf_addf(&doc, "%s%u", i ? "," : "", i);
	strbuf_addch(&doc, ']');
	assert_int_equal(parse_text(&d, doc.buf, doc.len, &m, &err), -1);
	assert_non_null(strstr(err.buf, "more than 4096 numeric values"));
	pmetrics_release(&m);
	strbuf_release(&doc);
	strbuf_release(&err);
}

static void test_pattern_form(void **state)
{
	static const char out[] = "warmup\nlat: 12.5 us\nrps 100\nlat: 7 us\r\nrps 300\n"
				  "other: 1\n";
	struct payload_pattern pats[] = {
		{ .regex = "^lat: ([0-9.]+) us", .metric = "lat_us", .unit = "us",
		  .better = BETTER_LOWER },
		{ .regex = "rps ([0-9]+)", .metric = "rps", .unit = "", .better = BETTER_HIGHER },
		{ .regex = "never (x)", .metric = "never", .unit = "" },
	};
	struct payload_def d = { .form = "pattern", .patterns = pats, .n_patterns = 3 };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, out, strlen(out), &m, &err), 0);
	/* The last matching line wins. */
	want(&m, "lat_us", 7, "us", BETTER_LOWER);
	want(&m, "rps", 300, "", BETTER_HIGHER);
	want_absent(&m, "never");
	assert_int_equal(m.n, 2);
	pmetrics_release(&m);

	/* Nothing matches at all. */
	d.patterns = &pats[2];
	d.n_patterns = 1;
	assert_int_equal(parse_text(&d, out, strlen(out), &m, &err), -1);
	assert_string_equal(err.buf, "no line of the output matched any of the 1 pattern "
			    "(the first: 'never (x)')");
	strbuf_release(&err);
}

static void pattern_error(const char *regex, const char *text, const char *want_err)
{
	struct payload_pattern p = { .regex = (char *)regex, .metric = "m", .unit = "" };
	struct payload_def d = { .form = "pattern", .patterns = &p, .n_patterns = 1 };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, text, strlen(text), &m, &err), -1);
	if (strncmp(err.buf, want_err, strlen(want_err)) || strchr(err.buf, '\n'))
		fail_msg("pattern '%s': error \"%s\", want \"%s...\"", regex, err.buf, want_err);
	pmetrics_release(&m);
	strbuf_release(&err);
}

static void test_pattern_errors(void **state)
{
	pattern_error("v=([a-z]+)", "a\nv=abc\n",
		      "pattern 'v=([a-z]+)' matched line 2, but its group \"abc\" is not a number");
	pattern_error("v=[0-9]+", "v=1\n",
		      "pattern 'v=[0-9]+' has no capture group; its first group '(...)' is the "
		      "value of m");
	pattern_error("v=([0-9]+", "v=1\n",
		      "pattern 'v=([0-9]+' is not a POSIX extended regex: ");
	pattern_error("v=([0-9]+)", "", "no line of the output matched");

	struct payload_def d = { .form = "pattern" };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, "x", 1, &m, &err), -1);
	assert_non_null(strstr(err.buf, "has no patterns"));
	strbuf_release(&err);
}

static void test_describe(void **state)
{
	struct payload_describe ds[] = {
		{ .metric = "a", .unit = "ms", .better = BETTER_HIGHER },
		{ .metric = "absent", .unit = "x", .better = BETTER_LOWER },
	};
	struct payload_def d = { .form = "json", .describe = ds, .n_describe = 2 };
	struct pmetrics m = { 0 };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse_text(&d, "{\"a\": 3, \"b\": 4}", 16, &m, &err), 0);
	want(&m, "a", 3, "ms", BETTER_HIGHER);
	want(&m, "b", 4, "", BETTER_NONE);
	want_absent(&m, "absent");
	pmetrics_release(&m);

	/* On an adapter too; no unit keeps the adapter's. */
	struct payload_describe ds2 = { .metric = "time_s", .unit = NULL,
					 .better = BETTER_HIGHER };
	struct payload_def h = { .form = "hackbench", .describe = &ds2, .n_describe = 1 };

	assert_int_equal(parse_text(&h, "Time: 1.5\n", 10, &m, &err), 0);
	want(&m, "time_s", 1.5, "s", BETTER_HIGHER);
	pmetrics_release(&m);
	strbuf_release(&err);
}

/* ---- argv ---- */

static void want_argv(const struct strvec *argv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= argv->n)
			fail_msg("argv has %zu entries, want at least %zu (\"%s\")", argv->n,
				 i + 1, want[i]);
		if (strcmp(argv->v[i], want[i]))
			fail_msg("argv[%zu] = \"%s\", want \"%s\"", i, argv->v[i], want[i]);
	}
	if (argv->n != i)
		fail_msg("argv has %zu entries, want %zu (extra: \"%s\")", argv->n, i, argv->v[i]);
}

#define ARGS(...) ((char *[]){ __VA_ARGS__, NULL })
#define WANT(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_argv_defaults(void **state)
{
	const struct payload_adapter *ad = payload_adapter_find("cyclictest");
	struct payload_def d = { .program = "cyclictest", .form = "cyclictest",
				 .args = (char **)ad->default_args };
	struct strvec argv = STRVEC_INIT;
	bool uses_out = false;

	payload_argv(&d, 0, "/tmp/ktstr-payload/cyc.0.out", &argv, &uses_out);
	want_argv(&argv, WANT("cyclictest", "-q", "-m", "--duration=5", "--interval=1000",
			      "--threads=2", "--json=/tmp/ktstr-payload/cyc.0.out",
			      "--histogram=50000", "--histfile=/dev/null"));
	assert_true(uses_out);
	strvec_clear(&argv);

	/* fio: {out} inside a longer argument, output args appended. */
	ad = payload_adapter_find("fio");
	d = (struct payload_def){ .program = "/usr/bin/fio", .form = "fio",
				  .args = (char **)ad->default_args };
	payload_argv(&d, 2, "/tmp/ktstr-payload/f.2.out", &argv, &uses_out);
	assert_string_equal(argv.v[0], "/usr/bin/fio");
	assert_string_equal(argv.v[2], "--filename=/tmp/ktstr-payload/f.2.out.data");
	assert_string_equal(argv.v[argv.n - 2], "--output-format=json");
	assert_string_equal(argv.v[argv.n - 1], "--output=/tmp/ktstr-payload/f.2.out");
	strvec_clear(&argv);
}

static void test_argv_given_options(void **state)
{
	struct payload_def d = { .program = "cyclictest", .form = "cyclictest" };
	struct strvec argv = STRVEC_INIT;
	bool uses_out = true;

	/* The def's own --json (to stdout's neighbour) and -h: not added again. */
	d.args = ARGS("-q", "--json=/tmp/mine.json", "-h", "500");
	payload_argv(&d, 0, "/o", &argv, &uses_out);
	want_argv(&argv, WANT("cyclictest", "-q", "--json=/tmp/mine.json", "-h", "500",
			      "--histfile=/dev/null"));
	assert_false(uses_out);
	strvec_clear(&argv);

	/* A one-letter option with its value attached, a long one bare. */
	d.args = ARGS("-h500", "--histfile", "/tmp/h", "--json={out}");
	payload_argv(&d, 0, "/o", &argv, &uses_out);
	want_argv(&argv, WANT("cyclictest", "-h500", "--histfile", "/tmp/h", "--json=/o"));
	assert_true(uses_out);
	strvec_clear(&argv);

	/* A prefix of an option's name is not the option. */
	d.args = ARGS("--json-x=1", "--histogram-other");
	payload_argv(&d, 0, "/o", &argv, NULL);
	want_argv(&argv, WANT("cyclictest", "--json-x=1", "--histogram-other", "--json=/o",
			      "--histogram=50000", "--histfile=/dev/null"));
	strvec_clear(&argv);

	/* stress-ng's short spellings. */
	d = (struct payload_def){ .program = "stress-ng", .form = "stress-ng",
				  .args = ARGS("--cpu", "1", "-M", "-Y", "/tmp/y") };
	payload_argv(&d, 0, "/o", &argv, &uses_out);
	want_argv(&argv, WANT("stress-ng", "--cpu", "1", "-M", "-Y", "/tmp/y"));
	assert_false(uses_out);
	strvec_clear(&argv);
}

static void test_argv_substitution(void **state)
{
	struct payload_def d = { .program = "mybench", .form = "json",
				 .args = ARGS("--seed={copy}", "-o", "{out}", "{copy}{copy}",
					      "{outx}", "{") };
	struct strvec argv = STRVEC_INIT;
	bool uses_out = false;

	payload_argv(&d, 7, "/tmp/ktstr-payload/my.7.out", &argv, &uses_out);
	want_argv(&argv, WANT("mybench", "--seed=7", "-o", "/tmp/ktstr-payload/my.7.out", "77",
			      "{outx}", "{"));
	assert_true(uses_out);
	strvec_clear(&argv);

	/* No {out}: stdout.  Not an adapter form: nothing appended, even for
	 * an adapter's program. */
	d = (struct payload_def){ .program = "cyclictest", .form = "exit_code",
				  .args = ARGS("-q") };
	payload_argv(&d, 0, "/o", &argv, &uses_out);
	want_argv(&argv, WANT("cyclictest", "-q"));
	assert_false(uses_out);
	strvec_clear(&argv);

	/* No args at all. */
	d = (struct payload_def){ .program = "hackbench", .form = "hackbench" };
	payload_argv(&d, 0, "/o", &argv, &uses_out);
	want_argv(&argv, WANT("hackbench"));
	strvec_clear(&argv);
}

/* ---- names ---- */

static void test_names(void **state)
{
	const struct payload_adapter *const *a;
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;

	payload_form_list(&sb);
	assert_string_equal(sb.buf, "exit_code, json, pattern, cyclictest, hackbench, "
			    "stress-ng, fio, sysbench, perf-bench");
	strbuf_release(&sb);
	for (a = payload_adapters(); *a; a++, n++) {
		assert_ptr_equal(payload_adapter_find((*a)->name), *a);
		assert_non_null((*a)->default_args);
		assert_non_null((*a)->summary);
		assert_non_null((*a)->parse);
	}
	assert_int_equal(n, 6);
	assert_null(payload_adapter_find("json"));
	assert_null(payload_adapter_find(NULL));

	assert_string_equal(payload_default_form("/usr/bin/cyclictest"), "cyclictest");
	assert_string_equal(payload_default_form("perf"), "perf-bench");
	assert_string_equal(payload_default_form("stress-ng"), "stress-ng");
	assert_string_equal(payload_default_form("./schbench"), "exit_code");
	assert_string_equal(payload_default_form("cyclictest2"), "exit_code");

	assert_string_equal(payload_package_of("/x/cyclictest"), "rt-tests");
	assert_string_equal(payload_package_of("hackbench"), "rt-tests");
	assert_string_equal(payload_package_of("perf"), "linux-perf");
	assert_string_equal(payload_package_of("fio"), "fio");
	assert_string_equal(payload_package_of("oslat"), "rt-tests");
	assert_null(payload_package_of("schbench"));
	assert_null(payload_package_of("no-such-program"));
	assert_null(payload_package_of(NULL));
}

/* ---- metrics ---- */

static void test_pmetrics(void **state)
{
	struct pmetrics m = { 0 };
	enum payload_better b = BETTER_NONE;
	json_t *j;
	char *s;

	pmetrics_set(&m, "x", 1, "us", BETTER_LOWER);
	pmetrics_set(&m, "y", 2, NULL, BETTER_HIGHER);
	pmetrics_set(&m, "x", 3, "ms", BETTER_NONE);
	pmetrics_set(&m, "nan", NAN, "", BETTER_NONE);
	pmetrics_set(&m, "inf", INFINITY, "", BETTER_NONE);
	assert_int_equal(m.n, 2);
	want(&m, "x", 3, "ms", BETTER_NONE);
	want(&m, "y", 2, "", BETTER_HIGHER);
	assert_null(pmetrics_get(&m, "nan"));

	j = pmetrics_to_json(&m);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"x\":{\"value\":3.0,\"unit\":\"ms\",\"better\":\"none\"},"
			       "\"y\":{\"value\":2.0,\"unit\":\"\",\"better\":\"higher\"}}");
	free(s);
	json_decref(j);
	pmetrics_release(&m);
	assert_int_equal(m.n, 0);
	pmetrics_release(&m);

	assert_string_equal(payload_better_name(BETTER_LOWER), "lower");
	assert_string_equal(payload_better_name(BETTER_HIGHER), "higher");
	assert_string_equal(payload_better_name(BETTER_NONE), "none");
	assert_int_equal(payload_better_parse("higher", &b), 0);
	assert_int_equal(b, BETTER_HIGHER);
	assert_int_equal(payload_better_parse("lower", &b), 0);
	assert_int_equal(b, BETTER_LOWER);
	assert_int_equal(payload_better_parse("none", &b), 0);
	assert_int_equal(b, BETTER_NONE);
	assert_int_equal(payload_better_parse("Lower", &b), -1);
	assert_int_equal(payload_better_parse(NULL, &b), -1);
	assert_int_equal(b, BETTER_NONE);
}

/* ---- output tails ---- */

static char *tail_str(const char *text, size_t len, unsigned max)
{
	json_t *t = payload_output_tail(text, len, max);
	char *s = json_dumps(t, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(t);
	return s;
}

static void tail_is(const char *text, size_t len, unsigned max, const char *want_json)
{
	char *s = tail_str(text, len, max);
	int bad = strcmp(s, want_json);

	if (bad)
		print_error("tail of \"%s\" (%u) = %s, want %s\n", text, max, s, want_json);
	free(s);
	if (bad)
		fail();
}

static void test_output_tail(void **state)
{
	struct strbuf big = STRBUF_INIT;
	json_t *t;
	size_t i;

	tail_is("a\nb\nc\n", 6, 2, "[\"b\",\"c\"]");
	tail_is("a\nb\nc", 5, 2, "[\"b\",\"c\"]");
	tail_is("a\nb\nc\n", 6, 20, "[\"a\",\"b\",\"c\"]");
	tail_is("a\r\n\nb\n", 6, 20, "[\"a\",\"\",\"b\"]");
	tail_is("", 0, 20, "[]");
	tail_is("x\n", 2, 0, "[]");
	tail_is("ok\xff\n", 4, 1, "[\"ok\\uFFFD\"]");

	/* Cut at 512 bytes, not inside a character: 511 'a' then "é". */
	for (i = 0; i < 511; i++)
		strbuf_addch(&big, 'a');
	strbuf_addstr(&big, "\xc3\xa9zzz\nlast\n");
	t = payload_output_tail(big.buf, big.len, 5);
	assert_int_equal(json_array_size(t), 2);
	assert_int_equal(strlen(json_string_value(json_array_get(t, 0))), 511);
	assert_string_equal(json_string_value(json_array_get(t, 1)), "last");
	json_decref(t);
	strbuf_reset(&big);
	for (i = 0; i < 600; i++)
		strbuf_addch(&big, 'b');
	t = payload_output_tail(big.buf, big.len, 5);
	assert_int_equal(strlen(json_string_value(json_array_get(t, 0))), 512);
	json_decref(t);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cyclictest),
		cmocka_unit_test(test_cyclictest_overflow),
		cmocka_unit_test(test_cyclictest_no_histogram),
		cmocka_unit_test(test_hackbench),
		cmocka_unit_test(test_stress_ng),
		cmocka_unit_test(test_fio),
		cmocka_unit_test(test_fio_mixed),
		cmocka_unit_test(test_fio_sigint),
		cmocka_unit_test(test_fio_job_error),
		cmocka_unit_test(test_fio_job_names),
		cmocka_unit_test(test_sysbench_cpu),
		cmocka_unit_test(test_sysbench_threads_mutex),
		cmocka_unit_test(test_sysbench_percentile),
		cmocka_unit_test(test_perf_bench),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_exit_code_form),
		cmocka_unit_test(test_json_form),
		cmocka_unit_test(test_json_form_too_big),
		cmocka_unit_test(test_pattern_form),
		cmocka_unit_test(test_pattern_errors),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_argv_defaults),
		cmocka_unit_test(test_argv_given_options),
		cmocka_unit_test(test_argv_substitution),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pmetrics),
		cmocka_unit_test(test_output_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
