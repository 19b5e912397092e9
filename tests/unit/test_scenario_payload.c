/* Unit tests for lib/core/scenario_payload.c: payload definitions in a
 * scenario, the start_payload/stop_payload ops and the checks the
 * simulated run makes (names, cgroups, removes, cgroups without workers).
 *
 * JSON inputs are written with ' for " (see doc()). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "payload.h"
#include "scenario.h"

static json_t *doc(const char *text)
{
	char *t = strdup(text), *p;
	json_error_t je;
	json_t *d;

	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	d = json_loads(t, JSON_REJECT_DUPLICATES, &je);
	if (!d)
		fail_msg("test JSON does not parse (%s): %s", je.text, t);
	free(t);
	return d;
}

static void parse_ok(const char *text, struct scenario *s)
{
	struct strbuf err = STRBUF_INIT;
	json_t *d = doc(text);

	if (scenario_parse(d, s, &err))
		fail_msg("scenario_parse failed: %s\ninput: %s", err.buf, text);
	json_decref(d);
	strbuf_release(&err);
}

/* The error is one line, starts with prefix and holds every further
 * string (NULL-terminated). */
static void parse_bad(const char *text, const char *prefix, ...)
{
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	json_t *d = doc(text);
	const char *want;
	va_list ap;

	if (!scenario_parse(d, &s, &err)) {
		scenario_release(&s);
		fail_msg("scenario_parse unexpectedly succeeded: %s", text);
	}
	assert_null(strchr(err.buf, '\n'));
	if (strncmp(err.buf, prefix, strlen(prefix)))
		fail_msg("error does not start with \"%s\": %s", prefix, err.buf);
	va_start(ap, prefix);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err.buf, want))
			fail_msg("error lacks \"%s\": %s", want, err.buf);
	va_end(ap);
	assert_null(s.payloads);
	scenario_release(&s);
	json_decref(d);
	strbuf_release(&err);
}

static void test_minimal(void **state)
{
	struct scenario s;
	const struct payload_def *d;

	(void)state;
	/* A payload alone: no cgroups at all. */
	parse_ok("{'payloads': [{'program': 'hackbench'}]}", &s);
	assert_int_equal(s.n_cgroups, 0);
	assert_int_equal(s.n_payloads, 1);
	d = &s.payloads[0];
	assert_string_equal(d->name, "hackbench");
	assert_string_equal(d->program, "hackbench");
	assert_string_equal(d->cgroup, "hackbench");
	assert_true(d->own_cgroup);
	assert_int_equal(d->copies, 1);
	assert_string_equal(d->form, "hackbench");
	assert_false(d->args_given);
	/* The adapter's default args. */
	assert_true(d->n_args > 0);
	assert_null(d->args[d->n_args]);
	assert_int_equal(d->expect_exit, 0);
	assert_int_equal(d->timeout_ms, 0);
	assert_int_equal(d->cpuset.kind, CPUSET_NONE);
	scenario_release(&s);

	/* An unknown program: exit code only, no args. */
	parse_ok("{'payloads': [{'program': '/opt/my bench/sch.bench'}]}", &s);
	d = &s.payloads[0];
	assert_string_equal(d->name, "sch_bench");
	assert_string_equal(d->form, "exit_code");
	assert_int_equal(d->n_args, 0);
	assert_non_null(d->args);
	assert_null(d->args[0]);
	scenario_release(&s);
}

static void test_full(void **state)
{
	struct scenario s;
	const struct payload_def *d;

	(void)state;
	parse_ok("{'cgroups': [{'name': 'rt', 'workers': 0},"
		 "             {'name': 'hog', 'workers': 2}],"
		 " 'payloads': [{'name': 'lat', 'program': 'cyclictest', 'cgroup': 'rt',"
		 "   'args': ['-m', '-D', '{copy}'], 'copies': 3, 'timeout': '8s',"
		 "   'checks': {'exit_code': 'any', 'max': {'p99_us': 100, 'max_us': 1e3},"
		 "              'min': {'thread.0.min_us': 0}}},"
		 "  {'name': 'mine', 'program': 'schbench', 'cpuset': {'llc': 0},"
		 "   'metrics': {'form': 'pattern', 'patterns': ["
		 "     {'regex': '99.0th: ([0-9]+)', 'metric': 'p99_us', 'unit': 'us',"
		 "      'better': 'lower'},"
		 "     {'regex': 'rps: ([0-9.]+)', 'metric': 'rps'}],"
		 "    'describe': {'rps': {'unit': 'req/s', 'better': 'higher'}}}},"
		 "  {'name': 'j', 'program': './j', 'metrics': 'json', 'timeout_ms': 1500,"
		 "   'checks': {'exit_code': 3}}]}", &s);
	assert_int_equal(s.n_payloads, 3);
	d = &s.payloads[0];
	assert_string_equal(d->cgroup, "rt");
	assert_false(d->own_cgroup);
	assert_true(d->args_given);
	assert_int_equal(d->n_args, 3);
	assert_string_equal(d->args[2], "{copy}");
	assert_int_equal(d->copies, 3);
	assert_int_equal(d->timeout_ms, 8000);
	assert_int_equal(d->expect_exit, -1);
	assert_int_equal(d->n_max, 2);
	assert_string_equal(d->max[0].metric, "p99_us");
	assert_true(d->max[1].value == 1000.0);
	assert_int_equal(d->n_min, 1);
	assert_string_equal(d->min[0].metric, "thread.0.min_us");
	assert_string_equal(d->form, "cyclictest");

	d = &s.payloads[1];
	assert_true(d->own_cgroup);
	assert_string_equal(d->cgroup, "mine");
	assert_int_equal(d->cpuset.kind, CPUSET_LLC);
	assert_string_equal(d->form, "pattern");
	assert_int_equal(d->n_patterns, 2);
	assert_string_equal(d->patterns[0].unit, "us");
	assert_int_equal(d->patterns[0].better, BETTER_LOWER);
	assert_string_equal(d->patterns[1].unit, "");
	assert_int_equal(d->patterns[1].better, BETTER_NONE);
	assert_int_equal(d->n_describe, 1);
	assert_string_equal(d->describe[0].metric, "rps");
	assert_int_equal(d->describe[0].better, BETTER_HIGHER);

	d = &s.payloads[2];
	assert_string_equal(d->form, "json");
	assert_int_equal(d->timeout_ms, 1500);
	assert_int_equal(d->expect_exit, 3);
	scenario_release(&s);
}

static void test_ops(void **state)
{
	struct scenario s;
	const struct op *op;

	(void)state;
	parse_ok("{'cgroups': [{'name': 'a', 'workers': 2}],"
		 " 'steps': [{'ops': [{'op': 'start_payload', 'payload':"
		 "                       {'program': 'hackbench', 'cgroup': 'a'}},"
		 "                    {'op': 'start_payload', 'payload': {'program': 'fio'}}]},"
		 "           {'ops': [{'op': 'stop_payload', 'payload': 'hackbench'},"
		 "                    {'op': 'stop_payload', 'payload': 'fio'},"
		 "                    {'op': 'remove', 'cgroup': 'a'},"
		 "                    {'op': 'start_payload', 'payload':"
		 "                       {'name': 'fio2', 'program': 'fio'}}]}]}", &s);
	op = &s.steps[0].ops[0];
	assert_int_equal(op->kind, OP_START_PAYLOAD);
	assert_string_equal(op->cgroup, "a");
	assert_string_equal(op->payload.name, "hackbench");
	op = &s.steps[0].ops[1];
	assert_string_equal(op->cgroup, "fio");
	op = &s.steps[1].ops[0];
	assert_int_equal(op->kind, OP_STOP_PAYLOAD);
	assert_string_equal(op->payload.name, "hackbench");
	assert_string_equal(op->cgroup, "a");
	assert_null(op->payload.program);
	assert_string_equal(op_kind_name(OP_STOP_PAYLOAD), "stop_payload");
	scenario_release(&s);

	/* An own cgroup is gone after stop_payload: the name is free again
	 * for a cgroup. */
	parse_ok("{'payloads': [{'program': 'fio'}],"
		 " 'steps': [{'ops': [{'op': 'stop_payload', 'payload': 'fio'},"
		 "                    {'op': 'add', 'cgroup': {'name': 'fio'}}]}]}", &s);
	scenario_release(&s);
}

static void test_errors(void **state)
{
	(void)state;
	parse_bad("{'payloads': [{}]}", "$.payloads[0].program: missing", NULL);
	parse_bad("{'payloads': [{'program': ''}]}", "$.payloads[0].program: missing", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'prog': 1}]}", "$.payloads[0].prog: unknown key",
		  "for a payload", NULL);
	parse_bad("{'payloads': 3}", "$.payloads: must be an array", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'name': 'a b'}]}", "$.payloads[0].name:",
		  "not a valid payload name", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': 'cyclictst'}]}",
		  "$.payloads[0].metrics: unknown form or adapter 'cyclictst'", "cyclictest",
		  "exit_code", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': 'pattern'}]}",
		  "$.payloads[0].metrics: the pattern form needs its patterns", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'fio'}}]}",
		  "$.payloads[0].metrics.form:", "plain string", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'pattern',"
		  " 'patterns': [{'regex': 'p99: [0-9]+', 'metric': 'p'}]}}]}",
		  "$.payloads[0].metrics.patterns[0].regex:", "has no group", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'pattern',"
		  " 'patterns': [{'regex': '(', 'metric': 'p'}]}}]}",
		  "$.payloads[0].metrics.patterns[0].regex:", "not a valid", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'pattern',"
		  " 'patterns': [{'regex': '(1)', 'metric': 'p q'}]}}]}",
		  "$.payloads[0].metrics.patterns[0].metric:", "not a metric name", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'json',"
		  " 'describe': {'a': {'better': 'less'}}}}]}",
		  "$.payloads[0].metrics.describe.a.better:", "\"lower\"", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'copies': 65}]}", "$.payloads[0].copies:",
		  NULL);
	parse_bad("{'payloads': [{'program': 'x', 'args': ['a', 3]}]}",
		  "$.payloads[0].args[1]: must be a string", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'timeout': 'soon'}]}",
		  "$.payloads[0].timeout:", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'checks': {'exit_code': 256}}]}",
		  "$.payloads[0].checks.exit_code:", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'checks': {'max': {'p99': 'low'}}}]}",
		  "$.payloads[0].checks.max.p99: must be a number", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'checks': {'maximum': {}}}]}",
		  "$.payloads[0].checks.maximum: unknown key", NULL);
}

static void test_sim_errors(void **state)
{
	(void)state;
	parse_bad("{'payloads': [{'program': 'x'}, {'program': 'x'}]}",
		  "$.payloads[1].name: payload 'x' is defined twice", NULL);
	parse_bad("{'cgroups': [{'name': 'x'}], 'payloads': [{'program': 'x'}]}",
		  "$.payloads[0].name: cgroup 'x' already exists", "rename", NULL);
	parse_bad("{'payloads': [{'program': 'x', 'cgroup': 'nope'}]}",
		  "$.payloads[0].cgroup: no cgroup 'nope' exists", NULL);
	parse_bad("{'cgroups': [{'name': 'a'}], 'payloads': [{'program': 'x', 'cgroup': 'a',"
		  " 'cpuset': {'llc': 0}}]}", "$.payloads[0].cpuset: only for a payload", NULL);
	parse_bad("{'cgroups': [{'name': 'idle', 'workers': 0}]}",
		  "$.cgroups[0].workers: 0 workers, and no payload runs in cgroup 'idle'", NULL);
	parse_bad("{'cgroups': [{'name': 'a'}], 'steps': [{'ops': [{'op': 'add', 'cgroup':"
		  " {'name': 'b', 'workers': 0}}]}]}",
		  "$.steps[0].ops[0].cgroup.workers: 0 workers", NULL);
	parse_bad("{'cgroups': [{'name': 'a'}], 'payloads': [{'program': 'x', 'cgroup': 'a'}],"
		  " 'steps': [{'ops': [{'op': 'remove', 'cgroup': 'a'}]}]}",
		  "$.steps[0].ops[0].cgroup: payload 'x' runs in cgroup 'a'", "stop_payload", NULL);
	parse_bad("{'cgroups': [{'name': 'a'}], 'steps': [{'ops': [{'op': 'stop_payload',"
		  " 'payload': 'x'}]}]}",
		  "$.steps[0].ops[0].payload: no payload 'x' runs at step 0 (running: none)", NULL);
	parse_bad("{'payloads': [{'program': 'x'}], 'steps': [{'ops': [{'op': 'stop_payload',"
		  " 'payload': 'x'}]}, {'ops': [{'op': 'stop_payload', 'payload': 'x'}]}]}",
		  "$.steps[1].ops[0].payload: no payload 'x' runs at step 1", NULL);
	parse_bad("{'payloads': [{'program': 'x'}], 'steps': [{'ops': [{'op': 'set_cpuset',"
		  " 'cgroup': 'x', 'cpuset': {'llc': 0}}]}]}",
		  "$.steps[0].ops[0].cgroup: cgroup 'x' is payload x's own cgroup", NULL);
	parse_bad("{'payloads': [{'program': 'x'}], 'steps': [{'hold': {'loop': {'interval':"
		  " '100ms'}}, 'ops': [{'op': 'stop_payload', 'payload': 'x'}]}]}",
		  "$.steps[0].ops[0].op: stop_payload cannot be used in a step with a loop", NULL);
	parse_bad("{'cgroups': [{'name': 'a'}], 'steps': [{'ops': [{'op': 'start_payload'}]}]}",
		  "$.steps[0].ops[0].payload: missing", NULL);
	parse_bad("{'steps': [{'ops': [{'op': 'start_payload', 'payload': {'program': 'y',"
		  " 'cgroup': 'q'}}]}]}", "$.steps[0].ops[0].payload.cgroup: no cgroup 'q'", NULL);
	parse_bad("{}", "$.cgroups: no cgroups and no payloads", NULL);
}

/* A document that is parsed, released and parsed again leaks nothing
 * (ASan's leak check runs at exit); errors half-way too. */
static void test_release(void **state)
{
	struct scenario s;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		parse_ok("{'payloads': [{'program': 'x', 'metrics': {'form': 'pattern',"
			 " 'patterns': [{'regex': 'a(1)', 'metric': 'm', 'unit': 'us'}],"
			 " 'describe': {'m': {'unit': 'ms'}}},"
			 " 'checks': {'max': {'m': 1}, 'min': {'m': 0}}}]}", &s);
		scenario_release(&s);
	}
	parse_bad("{'payloads': [{'program': 'x', 'metrics': {'form': 'pattern',"
		  " 'patterns': [{'regex': 'a(1)', 'metric': 'm'}],"
		  " 'describe': {'m': {'unit': 'ms', 'x': 1}}}}]}",
		  "$.payloads[0].metrics.describe.m.x: unknown key", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_sim_errors),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
