/* Unit tests for lib/runner/testfile.c: test files, scenario resolution, suites.
 *
 * Every test works in a fresh mkdtemp directory removed with rm_rf.  Test
 * file texts are written with ' for " to keep them readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "testfile.h"

static char share_dir[PATH_MAX];

static int setup_group(void **state)
{
	char cwd[2048];

	(void)state;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(share_dir, sizeof(share_dir), "%s/share/ktstr", cwd);
	return setenv("KTSTR_SHARE_DIR", share_dir, 1);
}

static int setup(void **state)
{
	char *dir = strdup("/tmp/ktstr-test-testfile.XXXXXX");

	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	rm_rf(*state);
	free(*state);
	return 0;
}

/* Write text (' turned into ") to dir/name; returns the path (free it). */
static char *put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name), *t = xstrdup(text), *p;
	char *sub = path_dirname(path);

	assert_int_equal(mkdir_p(sub, 0755), 0);
	free(sub);
	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	assert_int_equal(write_file_atomic(path, t, strlen(t), 0644), 0);
	free(t);
	return path;
}

static void load_ok(const char *path, struct ktest *t)
{
	struct strbuf err = STRBUF_INIT;

	if (ktest_load(path, NULL, t, &err))
		fail_msg("ktest_load failed: %s", err.buf);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

/* The file must fail to load with exactly one line "<path>: <rest...>"
 * that starts with want_prefix after the path and contains every further
 * string (NULL-terminated). */
static void load_bad(const char *dir, const char *text, const char *want_prefix, ...)
{
	struct strbuf err = STRBUF_INIT;
	char *path = put(dir, "bad.json", text);
	char *head = xasprintf("%s: %s", path, want_prefix);
	const char *want;
	struct ktest t;
	va_list ap;

	if (!ktest_load(path, NULL, &t, &err)) {
		ktest_release(&t);
		fail_msg("ktest_load unexpectedly succeeded: %s", text);
	}
	if (strchr(err.buf, '\n'))
		fail_msg("error is more than one line: %s", err.buf);
	if (strncmp(err.buf, head, strlen(head)))
		fail_msg("error does not start with \"%s\": %s", head, err.buf);
	va_start(ap, want_prefix);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err.buf, want))
			fail_msg("error lacks \"%s\": %s", want, err.buf);
	va_end(ap);
	/* A failed load leaves an empty, releasable test. */
	assert_null(t.name);
	assert_null(t.scenario_doc);
	ktest_release(&t);
	strbuf_release(&err);
	free(head);
	free(path);
}

static bool has(const struct strvec *sv, const char *s)
{
	return strvec_contains(sv, s);
}

/* ---- good files ------------------------------------------------------- */

static void test_full_file(void **state)
{
	const char *dir = *state;
	char *sched = put(dir, "bin/my_sched", "#!/bin/sh\n");
	char *path = put(dir, "t/full.json",
		"{'name': 'steady_fair', 'description': 'fairness, steady load',"
		" 'scenario': 'steady', 'scheduler': '../bin/my_sched',"
		" 'scheduler_args': ['-v', '--slice-us=100'], 'duration': '3s',"
		" 'topology': {'min_llcs': 2, 'max_llcs': 8, 'min_cpus': 4, 'max_cpus': 64,"
		"   'min_numa_nodes': 1, 'max_numa_nodes': 1, 'smt': false},"
		" 'presets': ['tiny-2llc', 'odd-3llc'],"
		" 'thresholds': {'max_spread_pct': 20, 'max_gap_ms': 3000,"
		"   'max_p99_wake_us': 'off', 'min_iter_rate': 10, 'max_migration_ratio': 0.5,"
		"   'isolation': false, 'starvation': true},"
		" 'timeout': '2m', 'performance_mode': true, 'bpf_stats': true, 'append': 'nokaslr',"
		" 'env': {'RUST_LOG': 'debug', 'A_B': '1'}}");
	char *real_sched = realpath(sched, NULL);
	struct ktest t;

	load_ok(path, &t);
	assert_string_equal(t.name, "steady_fair");
	assert_string_equal(t.suite, "t");
	assert_string_equal(t.path, path);
	assert_string_equal(t.description, "fairness, steady load");
	assert_string_equal(t.scenario_ref, "steady");
	assert_string_equal(t.scenario_name, "steady");
	assert_non_null(t.scenario_doc);
	/* duration applied into the document, replacing the canned "5s" */
	assert_null(json_object_get(t.scenario_doc, "duration"));
	assert_int_equal(json_integer_value(json_object_get(t.scenario_doc, "duration_ms")), 3000);
	assert_int_equal(t.duration_ms, 3000);
	assert_string_equal(t.scheduler, real_sched);
	assert_int_equal(t.sched_args.n, 2);
	assert_string_equal(t.sched_args.v[1], "--slice-us=100");
	assert_int_equal(t.timeout_ms, 120000);
	assert_int_equal(t.topo.min_llcs, 2);
	assert_int_equal(t.topo.max_llcs, 8);
	assert_int_equal(t.topo.min_cpus, 4);
	assert_int_equal(t.topo.max_cpus, 64);
	assert_int_equal(t.topo.min_nodes, 1);
	assert_int_equal(t.topo.max_nodes, 1);
	assert_int_equal(t.topo.smt, 0);
	assert_int_equal(t.presets.n, 2);
	assert_string_equal(t.presets.v[0], "tiny-2llc");
	assert_true(t.thresholds.max_spread_pct == 20);
	assert_true(t.thresholds.max_gap_ms == 3000);
	assert_true(isinf(t.thresholds.max_p99_wake_latency_us));
	assert_true(t.thresholds.min_iterations_per_sec == 10);
	assert_true(t.thresholds.max_migration_ratio == 0.5);
	assert_int_equal(t.thresholds.isolation, 0);
	assert_int_equal(t.thresholds.starvation, 1);
	assert_true(t.performance_mode);
	assert_true(t.bpf_stats);
	assert_string_equal(t.append, "nokaslr");
	assert_int_equal(t.env.n, 2);
	assert_string_equal(t.env.v[0], "A_B=1");	/* sorted */
	assert_string_equal(t.env.v[1], "RUST_LOG=debug");
	assert_int_equal(t.features.n, 3);
	assert_string_equal(t.features.v[0], "cgroups:2");
	assert_string_equal(t.features.v[1], "scenario:steady");
	assert_string_equal(t.features.v[2], "work:spin_wait");
	ktest_release(&t);
	free(real_sched);
	free(sched);
	free(path);
}

static void test_defaults(void **state)
{
	const char *dir = *state;
	char *path = put(dir, "steady_eevdf.ktstr.json", "{'scenario': 'steady'}");
	struct ktest t;

	load_ok(path, &t);
	assert_string_equal(t.name, "steady_eevdf");
	assert_string_equal(t.suite, path_basename(dir));
	assert_null(t.description);
	assert_null(t.scheduler);
	assert_int_equal(t.sched_args.n, 0);
	assert_int_equal(t.duration_ms, 5000);	/* the canned scenario's */
	assert_int_equal(t.timeout_ms, 0);
	assert_int_equal(t.topo.min_llcs, 0);
	assert_int_equal(t.topo.max_cpus, 0);
	assert_int_equal(t.topo.smt, -1);
	assert_int_equal(t.presets.n, 0);
	assert_true(isnan(t.thresholds.max_spread_pct));
	assert_true(isnan(t.thresholds.max_gap_ms));
	assert_int_equal(t.thresholds.isolation, -1);
	assert_false(t.performance_mode);
	assert_false(t.bpf_stats);
	assert_null(t.append);
	assert_int_equal(t.env.n, 0);
	ktest_release(&t);
	free(path);

	/* an explicit suite wins over the directory */
	path = put(dir, "x.json", "{'scenario': 'steady'}");
	{
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(ktest_load(path, "mysuite", &t, &err), 0);
		assert_string_equal(t.suite, "mysuite");
		assert_string_equal(t.name, "x");
		ktest_release(&t);
		strbuf_release(&err);
	}
	free(path);
}

/* A threshold spelled as in a scenario, or by its older test-file name:
 * the same struct checks; the machine checks are thresholds too. */
static void test_threshold_spellings(void **state)
{
	const char *dir = *state;
	char *p1 = put(dir, "old.json", "{'scenario': 'steady', 'thresholds': "
		       "{'max_p99_wake_us': 400, 'min_iter_rate': 'off', 'stall': false,"
		       " 'max_imbalance_ratio': 6}}");
	char *p2 = put(dir, "new.json", "{'scenario': 'steady', 'thresholds': "
		       "{'max_p99_wake_latency_us': 400, 'min_iterations_per_sec': 'off',"
		       " 'stall': false, 'max_imbalance_ratio': 6}}");
	struct ktest a, b;

	load_ok(p1, &a);
	load_ok(p2, &b);
	assert_int_equal(memcmp(&a.thresholds, &b.thresholds, sizeof(a.thresholds)), 0);
	assert_true(a.thresholds.max_p99_wake_latency_us == 400);
	assert_true(isinf(a.thresholds.min_iterations_per_sec));
	assert_int_equal(a.thresholds.stall, 0);
	assert_true(a.thresholds.max_imbalance_ratio == 6);
	assert_true(isnan(a.thresholds.max_local_dsq_depth));
	ktest_release(&a);
	ktest_release(&b);
	free(p1);
	free(p2);

	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'min_iter_rate': 1,"
		 " 'min_iterations_per_sec': 2}}",
		 "$.thresholds.min_iterations_per_sec: the same threshold as min_iter_rate",
		 NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'max_local_dsq_depth': -2}}",
		 "$.thresholds.max_local_dsq_depth: expected a number of at least 0, or "
		 "\"off\", got -2", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'stall': 'off'}}",
		 "$.thresholds.stall: expected true or false", NULL);
}

static void test_payload_checks(void **state)
{
	const char *dir = *state;
	char *p1 = put(dir, "pc.json", "{'scenario': 'steady', 'payload_checks': "
		       "{'cyclictest': {'max': {'p99_us': 100}, 'min': {}, 'exit_code': null}}}");
	struct ktest t;
	json_t *e;

	load_ok(p1, &t);
	e = json_object_get(t.payload_checks, "cyclictest");
	assert_true(json_number_value(json_object_get(json_object_get(e, "max"), "p99_us"))
		    == 100);
	assert_true(json_is_null(json_object_get(e, "exit_code")));
	ktest_release(&t);
	free(p1);

	load_bad(dir, "{'scenario': 'steady', 'payload_checks': {'cyc': {'max': {'p99_us': 'x'}}}}",
		 "$.payload_checks.cyc.max.p99_us: expected a number, got a string", NULL);
	load_bad(dir, "{'scenario': 'steady', 'payload_checks': {'cyc': {'limit': 3}}}",
		 "$.payload_checks.cyc.limit: unknown key; expected max, min or exit_code", NULL);
	load_bad(dir, "{'scenario': 'steady', 'payload_checks': [1]}",
		 "$.payload_checks: expected an object", NULL);
}

static void test_inline_scenario(void **state)
{
	const char *dir = *state;
	char *path = put(dir, "inline.json",
		"{'scenario': {'name': 'mine', 'duration': '10s',"
		"   'cgroups': [{'name': 'a', 'workers': 2, 'work': 'bursty'},"
		"               {'name': 'b', 'workers': 2, 'work': 'pipe_io'}],"
		"   'steps': [{'ops': [{'op': 'add', 'cgroup': {'name': 'c', 'workers': 1,"
		"                                            'work': 'fork_exit'}}]},"
		"             {'ops': [{'op': 'remove', 'cgroup': 'a'}]}]},"
		" 'duration': '2s', 'scheduler': null}");
	struct ktest t;

	load_ok(path, &t);
	assert_null(t.scenario_ref);
	assert_string_equal(t.scenario_name, "mine");
	assert_int_equal(t.duration_ms, 2000);
	assert_null(t.scheduler);
	assert_true(has(&t.features, "scenario:mine"));
	assert_true(has(&t.features, "cgroups:2"));
	assert_true(has(&t.features, "work:bursty"));
	assert_true(has(&t.features, "work:pipe_io"));
	assert_true(has(&t.features, "work:fork_exit"));
	assert_true(has(&t.features, "op:add"));
	assert_true(has(&t.features, "op:remove"));
	assert_int_equal(t.features.n, 7);
	for (size_t i = 1; i < t.features.n; i++)
		assert_true(strcmp(t.features.v[i - 1], t.features.v[i]) < 0);
	ktest_release(&t);
	free(path);
}

static void test_scenario_path(void **state)
{
	const char *dir = *state;
	char *scen = put(dir, "scen/mine.json",
			 "{'name': 'filed', 'cgroups': [{'name': 'a', 'workers': 1}]}");
	char *path = put(dir, "tests/a.json", "{'scenario': '../scen/mine.json'}");
	char *real = realpath(scen, NULL);
	struct ktest t;

	load_ok(path, &t);
	assert_string_equal(t.scenario_ref, real);
	assert_string_equal(t.scenario_name, "filed");
	ktest_release(&t);
	free(path);

	/* "name.json" without a slash is a file next to the test, too */
	free(put(dir, "tests/local.json", "{'name': 'loc', 'cgroups': [{'name': 'a', 'workers': 1}]}"));
	path = put(dir, "tests/b.json", "{'scenario': 'local.json'}");
	load_ok(path, &t);
	assert_string_equal(t.scenario_name, "loc");
	ktest_release(&t);
	free(path);
	free(real);
	free(scen);
}

static void test_schedulers(void **state)
{
	const char *dir = *state;
	char *path;
	struct ktest t;

	path = put(dir, "a.json", "{'scenario': 'steady', 'scheduler': 'eevdf'}");
	load_ok(path, &t);
	assert_null(t.scheduler);
	ktest_release(&t);
	free(path);

	path = put(dir, "b.json", "{'scenario': 'steady', 'scheduler': 'scx_simple'}");
	load_ok(path, &t);
	assert_string_equal(t.scheduler, "scx_simple");
	ktest_release(&t);
	free(path);

	free(put(dir, "scheds/scx_x", "x"));
	path = put(dir, "c.json", "{'scenario': 'steady', 'scheduler': './scheds/scx_x'}");
	load_ok(path, &t);
	assert_int_equal(t.scheduler[0], '/');
	assert_non_null(strstr(t.scheduler, "/scheds/scx_x"));
	assert_false(t.sched_param);
	ktest_release(&t);
	free(path);

	/* The placeholder: the runner's --scheduler values, arguments and all. */
	path = put(dir, "d.json", "{'scenario': 'steady', 'scheduler': '{scheduler}', "
		   "'scheduler_args': ['-v']}");
	load_ok(path, &t);
	assert_true(t.sched_param);
	assert_null(t.scheduler);
	assert_int_equal(t.sched_args.n, 1);
	ktest_release(&t);
	free(path);
}

/* ---- bad files -------------------------------------------------------- */

static void test_bad_exact_message(void **state)
{
	const char *dir = *state;
	char *path = put(dir, "x.json", "{'scenario': 'steady', 'topology': {'min_llcs': 'a'}}");
	char *want = xasprintf("%s: $.topology.min_llcs: expected a positive integer, got \"a\"",
			       path);
	struct strbuf err = STRBUF_INIT;
	struct ktest t;

	assert_int_equal(ktest_load(path, NULL, &t, &err), -1);
	assert_string_equal(err.buf, want);
	ktest_release(&t);
	strbuf_release(&err);
	free(want);
	free(path);
}

static void test_bad_structure(void **state)
{
	const char *dir = *state;

	load_bad(dir, "{'scenario': 'steady',", "invalid JSON at line", NULL);
	load_bad(dir, "[1, 2]", "$: a test must be a JSON object", NULL);
	load_bad(dir, "{'scenario': 'steady', 'nmae': 'x'}", "$.nmae: unknown key",
		 "expected one of name, description", NULL);
	load_bad(dir, "{'scenario': 'steady', 'topology': {'min_llc': 2}}",
		 "$.topology.min_llc: unknown key", "min_llcs", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'max_spread': 2}}",
		 "$.thresholds.max_spread: unknown key", "max_spread_pct", NULL);
	load_bad(dir, "{'scenario': 'steady', 'name': 5}", "$.name: expected a string",
		 NULL);
	load_bad(dir, "{'scenario': 'steady', 'name': 'a/b'}",
		 "$.name: 'a/b' is not a valid test name", NULL);
	load_bad(dir, "{'scenario': 'steady', 'description': []}",
		 "$.description: expected a string", NULL);
	load_bad(dir, "{'scenario': 'steady', 'append': 1}", "$.append: expected a string", NULL);
}

static void test_bad_types(void **state)
{
	const char *dir = *state;

	load_bad(dir, "{'scenario': 'steady', 'topology': [1]}",
		 "$.topology: expected an object", NULL);
	load_bad(dir, "{'scenario': 'steady', 'topology': {'min_llcs': 0}}",
		 "$.topology.min_llcs: expected a positive integer, got 0", NULL);
	load_bad(dir, "{'scenario': 'steady', 'topology': {'max_cpus': 1.5}}",
		 "$.topology.max_cpus: expected a positive integer, got 1.5", NULL);
	load_bad(dir, "{'scenario': 'steady', 'topology': {'min_llcs': 4, 'max_llcs': 2}}",
		 "$.topology: min_llcs (4) is more than max_llcs (2)", NULL);
	load_bad(dir, "{'scenario': 'steady', 'topology': {'smt': 'yes'}}",
		 "$.topology.smt: expected true or false", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'max_spread_pct': 'x'}}",
		 "$.thresholds.max_spread_pct: expected a number or \"off\", got \"x\"", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'max_gap_ms': 0}}",
		 "$.thresholds.max_gap_ms: expected a number greater than 0", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'min_iter_rate': -1}}",
		 "$.thresholds.min_iter_rate: expected a number of at least 0", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': {'isolation': 'off'}}",
		 "$.thresholds.isolation: expected true or false", NULL);
	load_bad(dir, "{'scenario': 'steady', 'thresholds': 3}",
		 "$.thresholds: expected an object", NULL);
	load_bad(dir, "{'scenario': 'steady', 'presets': ['tiny-2llc', 'huge']}",
		 "$.presets[1]: unknown preset 'huge'", "tiny-1llc", NULL);
	load_bad(dir, "{'scenario': 'steady', 'presets': []}",
		 "$.presets: expected a non-empty array", NULL);
	load_bad(dir, "{'scenario': 'steady', 'presets': ['tiny-1llc', 'tiny-1llc']}",
		 "$.presets[1]: preset 'tiny-1llc' is listed twice", NULL);
	load_bad(dir, "{'scenario': 'steady', 'presets': 'tiny-1llc'}",
		 "$.presets: expected a non-empty array", NULL);
	load_bad(dir, "{'scenario': 'steady', 'performance_mode': 1}",
		 "$.performance_mode: expected true or false", NULL);
	load_bad(dir, "{'scenario': 'steady', 'bpf_stats': 'yes'}",
		 "$.bpf_stats: expected true or false", NULL);
	load_bad(dir, "{'scenario': 'steady', 'env': {'1X': 'a'}}",
		 "$.env.1X: '1X' is not a variable name", NULL);
	load_bad(dir, "{'scenario': 'steady', 'env': {'X': 1}}",
		 "$.env.X: expected a string, got 1", NULL);
	load_bad(dir, "{'scenario': 'steady', 'env': {'KTSTR_TOPO': '2,2,2,2'}}",
		 "$.env.KTSTR_TOPO: the guest sets KTSTR_TOPO", NULL);
	load_bad(dir, "{'scenario': 'steady', 'env': ['X=1']}", "$.env: expected an object",
		 NULL);
	load_bad(dir, "{'scenario': 'steady', 'timeout': 'soon'}",
		 "$.timeout: expected a duration", "\"soon\"", NULL);
}

static void test_bad_scenario(void **state)
{
	const char *dir = *state;

	load_bad(dir, "{'name': 'x'}", "$.scenario: missing", NULL);
	load_bad(dir, "{'scenario': null}", "$.scenario: missing", NULL);
	load_bad(dir, "{'scenario': 7}", "$.scenario: expected a canned scenario name", NULL);
	load_bad(dir, "{'scenario': 'no_such_canned'}",
		 "$.scenario: unknown scenario 'no_such_canned'", "steady", NULL);
	load_bad(dir, "{'scenario': 'nowhere/s.json'}", "$.scenario: ", "nowhere/s.json",
		 "No such file", NULL);
	load_bad(dir, "{'scenario': {'cgroups': [{'name': 'a', 'workers': 0}]}}",
		 "$.scenario.cgroups[0].workers: ", NULL);
	load_bad(dir, "{'scenario': {'cgroups': [], 'bogus': 1}}",
		 "$.scenario.bogus: unknown key", NULL);
	free(put(dir, "sub/broken.json", "{'cgroups': 5}"));
	load_bad(dir, "{'scenario': 'sub/broken.json'}", "$.scenario: ", "broken.json",
		 "$.cgroups", NULL);
	free(put(dir, "sub/notjson.json", "{"));
	load_bad(dir, "{'scenario': 'sub/notjson.json'}", "$.scenario: ", "invalid JSON", NULL);
}

static void test_bad_duration(void **state)
{
	const char *dir = *state;

	load_bad(dir, "{'scenario': 'steady', 'duration': 'abc'}",
		 "$.duration: expected a duration such as \"3s\"", "got \"abc\"", NULL);
	load_bad(dir, "{'scenario': 'steady', 'duration': 5}",
		 "$.duration: expected a duration", "got 5", NULL);
	load_bad(dir, "{'scenario': 'steady', 'duration': '0s'}",
		 "$.duration: must be more than 0", NULL);
	load_bad(dir, "{'scenario': 'steady', 'duration': '2h'}",
		 "$.duration: must be at most 1h", NULL);
	load_bad(dir, "{'scenario': 'steady', 'duration': '500ms'}",
		 "$.duration: must be at least 1s, got \"500ms\"", NULL);
	load_bad(dir, "{'scenario': 'steady', 'duration': '-3s'}", "$.duration: ", NULL);
}

static void test_bad_scheduler(void **state)
{
	const char *dir = *state;

	load_bad(dir, "{'scenario': 'steady', 'scheduler': './missing/scx_x'}",
		 "$.scheduler: ", "missing/scx_x", "No such file",
		 "relative paths are against the test file's directory", NULL);
	load_bad(dir, "{'scenario': 'steady', 'scheduler': 3}",
		 "$.scheduler: expected a scheduler name", NULL);
	load_bad(dir, "{'scenario': 'steady', 'scheduler': 'scx_simple -v'}",
		 "$.scheduler: 'scx_simple -v' is not a scheduler name", NULL);
	load_bad(dir, "{'scenario': 'steady', 'scheduler': 'scx_simple', 'scheduler_args': '-v'}",
		 "$.scheduler_args: expected an array of strings", NULL);
	load_bad(dir, "{'scenario': 'steady', 'scheduler': 'scx_simple', 'scheduler_args': [1]}",
		 "$.scheduler_args[0]: expected a string", NULL);
	load_bad(dir, "{'scenario': 'steady', 'scheduler_args': ['-v']}",
		 "$.scheduler_args: given without a scheduler", NULL);
	free(put(dir, "adir/x", "x"));
	load_bad(dir, "{'scenario': 'steady', 'scheduler': './adir'}",
		 "$.scheduler: ", "is a directory", NULL);
	/* A mistyped placeholder must not become a scheduler name. */
	load_bad(dir, "{'scenario': 'steady', 'scheduler': '{sched}'}",
		 "$.scheduler: '{sched}' is not a scheduler; the only placeholder is "
		 "\"{scheduler}\"", NULL);
}

/* ---- suites ----------------------------------------------------------- */

static void test_suite_dir(void **state)
{
	const char *dir = *state;
	char *sdir = xasprintf("%s/smoke", dir);
	const char *paths[2];
	struct strbuf err = STRBUF_INIT;
	struct ktest *v;
	size_t n;

	free(put(dir, "smoke/b.json", "{'scenario': 'steady'}"));
	free(put(dir, "smoke/a.json", "{'scenario': 'steady', 'name': 'zz'}"));
	free(put(dir, "smoke/README", "not a test"));
	free(put(dir, "smoke/nested/c.json", "{'scenario': 'steady'}"));
	free(put(dir, "single.json", "{'scenario': 'steady'}"));
	paths[0] = sdir;
	paths[1] = NULL;
	{
		char *single = xasprintf("%s/single.json", dir);

		paths[1] = single;
		if (ktest_load_paths(paths, 2, &v, &n, &err))
			fail_msg("ktest_load_paths: %s", err.buf);
		free(single);
	}
	assert_int_equal(n, 3);
	/* sorted by file name, not recursive */
	assert_string_equal(v[0].name, "zz");
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[0].suite, "smoke");
	assert_string_equal(v[1].suite, "smoke");
	assert_string_equal(v[2].name, "single");
	assert_string_equal(v[2].suite, path_basename(dir));
	ktest_free_all(v, n);
	strbuf_release(&err);
	free(sdir);
}

/* A file reached twice (a suite given twice, a file of it given too, by
 * another spelling) is one test, not a clash of names. */
static void test_suite_dir_twice(void **state)
{
	const char *dir = *state;
	char *sdir = xasprintf("%s/smoke", dir), *file = xasprintf("%s/./smoke/a.json", dir);
	const char *paths[3] = { sdir, file, sdir };
	struct strbuf err = STRBUF_INIT;
	struct ktest *v;
	size_t n;

	free(put(dir, "smoke/a.json", "{'scenario': 'steady'}"));
	free(put(dir, "smoke/b.json", "{'scenario': 'steady'}"));
	if (ktest_load_paths(paths, 3, &v, &n, &err))
		fail_msg("ktest_load_paths: %s", err.buf);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[1].name, "b");
	ktest_free_all(v, n);
	strbuf_release(&err);
	free(sdir);
	free(file);
}

static void test_suite_errors(void **state)
{
	const char *dir = *state;
	struct strbuf err = STRBUF_INIT;
	char *empty = xasprintf("%s/empty", dir), *dup = xasprintf("%s/dup", dir);
	char *missing = xasprintf("%s/missing.json", dir), *bad = xasprintf("%s/bad", dir);
	char *a, *b;
	const char *paths[1];
	struct ktest *v;
	size_t n;

	assert_int_equal(mkdir_p(empty, 0755), 0);
	free(put(dir, "empty/notes.txt", "x"));
	paths[0] = empty;
	assert_int_equal(ktest_load_paths(paths, 1, &v, &n, &err), -1);
	assert_null(strchr(err.buf, '\n'));
	assert_non_null(strstr(err.buf, empty));
	assert_non_null(strstr(err.buf, "no test files (*.json)"));
	ktest_free_all(v, n);
	strbuf_reset(&err);

	a = put(dir, "dup/a.json", "{'scenario': 'steady', 'name': 'same'}");
	b = put(dir, "dup/b.json", "{'scenario': 'steady', 'name': 'same'}");
	paths[0] = dup;
	assert_int_equal(ktest_load_paths(paths, 1, &v, &n, &err), -1);
	assert_null(strchr(err.buf, '\n'));
	assert_non_null(strstr(err.buf, a));
	assert_non_null(strstr(err.buf, b));
	assert_non_null(strstr(err.buf, "'same'"));
	assert_int_equal(n, 1);	/* what loaded is kept for release */
	ktest_free_all(v, n);
	strbuf_reset(&err);

	paths[0] = missing;
	assert_int_equal(ktest_load_paths(paths, 1, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, missing));
	assert_non_null(strstr(err.buf, "no such test file or directory"));
	ktest_free_all(v, n);
	strbuf_reset(&err);

	/* one bad file fails the suite with that file's own message */
	free(put(dir, "bad/a.json", "{'scenario': 'steady'}"));
	free(put(dir, "bad/b.json", "{'scenario': 'steady', 'oops': 1}"));
	paths[0] = bad;
	assert_int_equal(ktest_load_paths(paths, 1, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "bad/b.json: $.oops: unknown key"));
	assert_int_equal(n, 1);
	ktest_free_all(v, n);

	strbuf_release(&err);
	free(a);
	free(b);
	free(empty);
	free(dup);
	free(missing);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline_scenario, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scenario_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedulers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_exact_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_scenario, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_scheduler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suite_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suite_dir_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suite_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, setup_group, NULL);
}
