/* Unit tests for lib/results/trace_export.c and its parts: the trace of a
 * real scenario run (tests/fixtures/trace, see its README) has one CPU
 * track per CPU with a counter per sample, one process per cgroup with a
 * thread per worker, the stimuli and the scheduler's lifecycle as
 * instants, the failed gap check and a real run's failed machine checks
 * at their own times, and every event as the trace-event format wants
 * it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "trace_export.h"
#include "verdict.h"

#define FIXTURES "tests/fixtures/"

/* The trace of one stored run, and what the run said, for the checks. */
struct run {
	json_t *trace, *ev;
	size_t samples, stimuli, workers;
	double origin_ms;	/* host_ms - at_ms of the first step-0 stimulus */
};

static void load(struct run *r, const char *path)
{
	struct trace_export t;
	struct verdict v;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	memset(r, 0, sizeof(*r));
	r->origin_ms = 0;
	verdict_init(&v);
	trace_export_init(&t);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *rec = json_loadb(line, (size_t)n, 0, NULL);
		const char *type;

		/* Lines that are not records are skipped, as ktstr-stats does. */
		if (!rec || !(type = json_get_str(rec, "type"))) {
			json_decref(rec);
			continue;
		}
		r->samples += !strcmp(type, "monitor");
		r->workers += !strcmp(type, "worker");
		if (!strcmp(type, "stimulus")) {
			if (!r->stimuli && json_object_get(rec, "host_ms"))
				r->origin_ms = (double)json_get_int(rec, "host_ms", 0) -
					       (double)json_get_int(rec, "at_ms", 0);
			r->stimuli++;
		}
		verdict_feed(&v, rec);
		trace_export_feed(&t, rec);
		json_decref(rec);
	}
	free(line);
	fclose(f);
	verdict_finish(&v, NULL);
	r->trace = trace_export_build(&t, &v);
	r->ev = json_object_get(r->trace, "traceEvents");
	assert_true(json_is_array(r->ev));
	trace_export_release(&t);
	verdict_release(&v);
}

static bool is(const json_t *e, const char *key, const char *val)
{
	const char *s = json_get_str(e, key);

	return s && !strcmp(s, val);
}

static long long num(const json_t *e, const char *key)
{
	return json_get_int(e, key, -1);
}

/* Events of phase ph (and name, and pid unless -1). */
static size_t count(const struct run *r, const char *ph, const char *name, long long pid)
{
	const json_t *e;
	size_t i, n = 0;

	json_array_foreach(r->ev, i, e)
		n += is(e, "ph", ph) && (!name || is(e, "name", name)) &&
		     (pid < 0 || num(e, "pid") == pid);
	return n;
}

/* The pid of the process named name, or -1. */
static long long process(const struct run *r, const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(r->ev, i, e)
		if (is(e, "ph", "M") && is(e, "name", "process_name") &&
		    is(json_object_get(e, "args"), "name", name))
			return num(e, "pid");
	return -1;
}

/* The first event of phase ph named name (a prefix when prefix). */
static const json_t *find(const struct run *r, const char *ph, const char *name, bool prefix)
{
	const json_t *e;
	size_t i;

	json_array_foreach(r->ev, i, e) {
		const char *n = json_get_str(e, "name");

		if (is(e, "ph", ph) && n &&
		    (prefix ? !strncmp(n, name, strlen(name)) : !strcmp(n, name)))
			return e;
	}
	return NULL;
}

static void unload(struct run *r)
{
	json_decref(r->trace);
}

/* ---- tracks ------------------------------------------------------------- */

static void test_cpu_tracks(void **state)
{
	struct run r;
	long long cpus;
	char name[16];

	(void)state;
	load(&r, FIXTURES "trace/steady-scx_simple.jsonl");
	cpus = process(&r, "CPUs");
	assert_true(cpus > 0);
	/* topo 1,2,2,1: four CPUs, a named thread and a counter each. */
	assert_int_equal(count(&r, "M", "thread_name", cpus), 4);
	assert_int_equal(r.samples, 65);
	for (int i = 0; i < 4; i++) {
		const json_t *c;

		snprintf(name, sizeof(name), "cpu %d", i);
		assert_int_equal(count(&r, "C", name, cpus), r.samples);
		c = find(&r, "C", name, false);
		assert_non_null(json_object_get(json_object_get(c, "args"), "nr_running"));
		assert_non_null(json_object_get(json_object_get(c, "args"), "local_dsq"));
		assert_non_null(json_object_get(json_object_get(c, "args"), "idle"));
	}
	assert_int_equal(count(&r, "C", "cpu 4", -1), 0);
	/* The first sample is at monitor t_ms 6327: ts in microseconds. */
	assert_int_equal(num(find(&r, "C", "cpu 0", false), "ts"), 6327000);
	unload(&r);
}

static void test_worker_tracks(void **state)
{
	struct run r;
	long long cg0, cg1;
	const json_t *e;
	size_t i, runs = 0;

	(void)state;
	load(&r, FIXTURES "trace/steady-scx_simple.jsonl");
	cg0 = process(&r, "cgroup cg_0");
	cg1 = process(&r, "cgroup cg_1");
	assert_true(cg0 > 0 && cg1 > 0 && cg0 != cg1);
	assert_int_equal(count(&r, "M", "thread_name", cg0), 2);
	assert_int_equal(count(&r, "M", "thread_name", cg1), 2);
	assert_int_equal(r.workers, 4);
	assert_int_equal(count(&r, "X", "run", -1), 4);
	assert_int_equal(count(&r, "X", "longest gap", -1), 4);
	/* Each run starts when its cgroup was added (step 0: the workload's
	 * start) and lasts the worker's wall time; pid 124 ran 5009406 us. */
	json_array_foreach(r.ev, i, e) {
		if (!is(e, "ph", "X") || !is(e, "name", "run"))
			continue;
		runs++;
		assert_int_equal(num(e, "ts"), (long long)(r.origin_ms * 1000));
		if (num(e, "tid") == 124)
			assert_int_equal(num(e, "dur"), 5009406);
	}
	assert_int_equal(runs, 4);
	unload(&r);
}

static void test_marks(void **state)
{
	struct run r;
	const json_t *started, *attached, *detached;

	(void)state;
	load(&r, FIXTURES "trace/steady-scx_simple.jsonl");
	/* Two step-0 add stimuli, at the workload's start. */
	assert_int_equal(r.stimuli, 2);
	assert_int_equal(count(&r, "i", "add cg_0", -1), 1);
	assert_int_equal(num(find(&r, "i", "add cg_1", false), "ts"), 7503000);
	started = find(&r, "i", "scheduler started", false);
	attached = find(&r, "i", "scheduler attached", false);
	detached = find(&r, "i", "scheduler detached", false);
	assert_non_null(started);
	assert_non_null(attached);
	assert_non_null(detached);
	/* started attach_ms (1032) before the attach; detached at
	 * scenario_end (host_ms 12684). */
	assert_int_equal(num(attached, "ts") - num(started, "ts"), 1032000);
	assert_int_equal(num(detached, "ts"), 12684000);
	/* A passing run has nothing on the checks track. */
	assert_int_equal(count(&r, "X", NULL, process(&r, "checks")), 0);
	unload(&r);
}

/* ---- failures ----------------------------------------------------------- */

static void test_gap_failure_at_its_time(void **state)
{
	struct run r;
	const json_t *f;

	(void)state;
	load(&r, FIXTURES "trace/steady-fail-gap.jsonl");
	assert_int_equal(count(&r, "X", NULL, process(&r, "checks")), 1);
	f = find(&r, "X", "FAIL gap cg_1", false);
	assert_non_null(f);
	assert_int_equal(num(f, "pid"), process(&r, "checks"));
	/* stuck 2500 ms from +1000 ms: on the host clock from the
	 * workload's start (7503 ms). */
	assert_int_equal(num(f, "ts"), (long long)((r.origin_ms + 1000) * 1000));
	assert_int_equal(num(f, "dur"), 2500000);
	assert_string_equal(json_get_str(f, "cname"), "terrible");
	assert_non_null(strstr(json_get_str(json_object_get(f, "args"), "message"), "stuck 2500"));
	/* The worker's own longest gap is drawn at the same place. */
	f = NULL;
	{
		const json_t *e;
		size_t i;

		json_array_foreach(r.ev, i, e)
			if (is(e, "name", "longest gap") && num(e, "tid") == 126)
				f = e;
	}
	assert_non_null(f);
	assert_int_equal(num(f, "ts"), (long long)((r.origin_ms + 1000) * 1000));
	assert_int_equal(num(f, "dur"), 2500000);
	unload(&r);
}

/* A real failing run (scx_cpu0 keeps every task on CPU 0): the machine
 * checks are marked over the samples behind their values. */
static void test_machine_failures_at_their_times(void **state)
{
	struct run r;
	const json_t *wc, *imb;

	(void)state;
	load(&r, FIXTURES "trace/steady-scx_cpu0.jsonl");
	assert_int_equal(count(&r, "X", NULL, process(&r, "checks")), 2);
	wc = find(&r, "X", "FAIL work_conservation", false);
	imb = find(&r, "X", "FAIL imbalance", false);
	assert_non_null(wc);
	assert_non_null(imb);
	/* "CPUs 1-3 idle for 5004 ms ... from 0.0 s into the run": the
	 * stretch starts at the first sample after the workload's start
	 * (8779 ms) and lasts the check's value. */
	assert_int_equal(num(wc, "ts"), 8790000);
	assert_int_equal(num(wc, "dur"), 5004000);
	assert_string_equal(json_get_str(json_object_get(wc, "args"), "time"), "its own");
	/* "held for 461 ms (at 4.3 s into the run)": five samples, the
	 * last four 90 ms apart on average, from the first of them. */
	assert_int_equal(num(imb, "dur"), 461000);
	assert_true(num(imb, "ts") - (long long)(r.origin_ms * 1000) >= 4250000);
	assert_true(num(imb, "ts") - (long long)(r.origin_ms * 1000) < 4350000);
	unload(&r);
}

static void test_scheduler_death(void **state)
{
	struct run r;
	const json_t *d, *f;

	(void)state;
	/* No host_ms in this stream: the guest's clock, origin 0. */
	load(&r, FIXTURES "stats/fail-sched-died.jsonl");
	d = find(&r, "i", "scheduler died: runnable task stall", true);
	assert_non_null(d);
	assert_int_equal(num(d, "ts"), 3200000);
	assert_string_equal(json_get_str(d, "s"), "g");
	f = find(&r, "X", "FAIL scheduler", false);
	assert_non_null(f);
	assert_int_equal(num(f, "ts"), 3200000);
	/* Without a monitor: no CPU tracks at all. */
	assert_int_equal(process(&r, "CPUs"), -1);
	unload(&r);
}

static void test_steps_are_global(void **state)
{
	struct run r;
	const json_t *s;

	(void)state;
	load(&r, FIXTURES "stats/monitor-phases.jsonl");
	assert_int_equal(count(&r, "i", "step 1", -1) + count(&r, "i", "step 2", -1) +
			 count(&r, "i", "step 3", -1), 3);
	s = find(&r, "i", "step 2", false);
	assert_string_equal(json_get_str(s, "s"), "g");
	assert_int_equal(num(s, "ts"), 4700000);
	unload(&r);
}

/* ---- the format's rules, event by event --------------------------------- */

static void check_event(const json_t *e)
{
	const char *ph = json_get_str(e, "ph");
	const json_t *args = json_object_get(e, "args"), *v;
	const char *k;

	assert_non_null(ph);
	assert_true(json_is_string(json_object_get(e, "name")));
	assert_true(json_is_integer(json_object_get(e, "pid")));
	assert_true(json_is_integer(json_object_get(e, "tid")));
	assert_true(json_is_number(json_object_get(e, "ts")));
	assert_true(json_number_value(json_object_get(e, "ts")) >= 0);
	assert_true(json_is_object(args));
	if (!strcmp(ph, "X")) {
		assert_true(json_is_integer(json_object_get(e, "dur")));
		assert_true(num(e, "dur") >= 0);
	} else if (!strcmp(ph, "i")) {
		const char *s = json_get_str(e, "s");

		assert_non_null(s);
		assert_true(!strcmp(s, "g") || !strcmp(s, "p") || !strcmp(s, "t"));
	} else if (!strcmp(ph, "C")) {
		/* Counters are numbers, one series per argument. */
		assert_true(json_object_size(args) > 0);
		json_object_foreach((json_t *)args, k, v)
			assert_true(json_is_number(v));
	} else if (!strcmp(ph, "M")) {
		const char *n = json_get_str(e, "name");

		if (!strcmp(n, "process_name") || !strcmp(n, "thread_name"))
			assert_true(json_is_string(json_object_get(args, "name")));
		else if (!strcmp(n, "process_sort_index") || !strcmp(n, "thread_sort_index"))
			assert_true(json_is_integer(json_object_get(args, "sort_index")));
		else
			fail_msg("unexpected metadata event %s", n);
	} else {
		fail_msg("unexpected phase %s", ph);
	}
}

static void test_every_event_valid(void **state)
{
	static const char *const runs[] = {
		"trace/steady-scx_simple.jsonl", "trace/steady-fail-gap.jsonl",
		"trace/steady-scx_cpu0.jsonl",
		"stats/fail-sched-died.jsonl", "stats/monitor-phases.jsonl",
		"stats/monitor-garbage.jsonl", "stats/truncated.jsonl", "stats/fail-attach.jsonl",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char *p = xasprintf(FIXTURES "%s", runs[i]);
		const json_t *e;
		struct run r;
		size_t j;

		load(&r, p);
		assert_true(json_array_size(r.ev) > 0);
		assert_string_equal(json_get_str(r.trace, "displayTimeUnit"), "ms");
		json_array_foreach(r.ev, j, e)
			check_event(e);
		unload(&r);
		free(p);
	}
}

/* ---- writing ------------------------------------------------------------ */

static void test_write_and_paths(void **state)
{
	char dir[] = "/tmp/ktstr-trace-XXXXXX", *path, *missing;
	struct strbuf err = STRBUF_INIT;
	json_error_t jerr;
	struct run r;
	json_t *back;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/run.trace.json", dir);
	missing = xasprintf("%s/no/such/run.json", dir);
	load(&r, FIXTURES "trace/steady-scx_simple.jsonl");
	assert_int_equal(trace_export_check_path(path, "run.trace.json", &err), 0);
	assert_int_equal(trace_export_write(path, r.trace), 0);
	back = json_load_file(path, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(back, r.trace));
	json_decref(back);
	assert_int_equal(trace_export_check_path(missing, "run.trace.json", &err), -1);
	assert_non_null(strstr(err.buf, "does not exist"));
	strbuf_reset(&err);
	assert_int_equal(trace_export_check_path(dir, "run.trace.json", &err), -1);
	assert_non_null(strstr(err.buf, "is a directory"));
	unload(&r);
	unlink(path);
	rmdir(dir);
	free(path);
	free(missing);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_tracks),
		cmocka_unit_test(test_worker_tracks),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_gap_failure_at_its_time),
		cmocka_unit_test(test_machine_failures_at_their_times),
		cmocka_unit_test(test_scheduler_death),
		cmocka_unit_test(test_steps_are_global),
		cmocka_unit_test(test_every_event_valid),
		cmocka_unit_test(test_write_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
