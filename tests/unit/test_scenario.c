/* Unit tests for lib/core/scenario.c and lib/vm/scenario_file.c: the scenario
 * parser and validator, topology fit, cpuset resolution, checks, loading
 * canned scenarios and the quick --cgroup flags.
 *
 * JSON inputs are written with ' for " (see doc()) to keep them readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "scenario.h"

/* ---- helpers ---------------------------------------------------------- */

/* Parse text with every ' turned into ". */
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
	assert_int_equal(err.len, 0);
	json_decref(d);
	strbuf_release(&err);
}

/* Parse must fail with one line that starts with prefix and contains every
 * further string (NULL-terminated). */
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
	/* A failed parse leaves nothing to release, but releasing is safe. */
	assert_null(s.cgroups);
	assert_null(s.steps);
	scenario_release(&s);
	json_decref(d);
	strbuf_release(&err);
}

#define CG0 "{'name':'cg_0'}"
#define CG01 "'cgroups':[{'name':'cg_0'},{'name':'cg_1'}]"

static struct ktstr_topo topo(unsigned n, unsigned l, unsigned c, unsigned t)
{
	struct ktstr_topo tp = { n, l, c, t };

	return tp;
}

static char share_dir[4096];

static int setup_share(void **state)
{
	char cwd[2048];

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(share_dir, sizeof(share_dir), "%s/share/ktstr", cwd);
	return setenv("KTSTR_SHARE_DIR", share_dir, 1);
}

/* ---- names ------------------------------------------------------------ */

static void test_names(void **state)
{
	enum work_type t;
	unsigned i;

	for (i = 0; i < WORK__COUNT; i++) {
		assert_int_equal(work_type_parse(work_type_name((enum work_type)i), &t), 0);
		assert_int_equal(t, i);
	}
	assert_string_equal(work_type_name(WORK_FUTEX_FAN_OUT), "futex_fan_out");
	assert_int_equal(work_type_parse("spinwait", &t), -1);
	assert_int_equal(work_type_parse(NULL, &t), -1);
	assert_string_equal(work_type_name(WORK__COUNT), "?");
	assert_string_equal(op_kind_name(OP_SWAP_CPUSETS), "swap_cpusets");
	assert_string_equal(op_kind_name(OP_SPAWN), "spawn");
	assert_string_equal(sched_policy_name(POLICY_RR), "rr");
	assert_string_equal(sched_policy_name(POLICY_NORMAL), "normal");
}

/* ---- defaults and top level ------------------------------------------- */

static void test_defaults(void **state)
{
	struct scenario s;

	parse_ok("{'cgroups':[" CG0 "]}", &s);
	assert_string_equal(s.name, "custom");
	assert_string_equal(s.description, "");
	assert_int_equal(s.duration_ms, 5000);
	assert_int_equal(s.req.min_llcs, 0);
	assert_int_equal(s.req.min_cpus, 0);
	assert_int_equal(s.req.min_nodes, 0);
	assert_int_equal(s.req.smt, -1);
	assert_true(isnan(s.checks.max_spread_pct));
	assert_true(isnan(s.checks.max_gap_ms));
	assert_true(isnan(s.checks.max_p99_wake_latency_us));
	assert_int_equal(s.checks.isolation, -1);
	assert_int_equal(s.checks.starvation, -1);
	assert_int_equal(s.n_cgroups, 1);
	assert_int_equal(s.n_steps, 0);
	assert_string_equal(s.cgroups[0].name, "cg_0");
	assert_int_equal(s.cgroups[0].workers, 1);
	assert_int_equal(s.cgroups[0].work.type, WORK_SPIN_WAIT);
	assert_int_equal(s.cgroups[0].cpuset.kind, CPUSET_NONE);
	assert_null(s.cgroups[0].cpuset.list);
	assert_int_equal(s.cgroups[0].policy, POLICY_NORMAL);
	assert_int_equal(s.cgroups[0].nice, 0);
	assert_int_equal(s.cgroups[0].rt_priority, 0);
	assert_false(s.cgroups[0].pinned);
	assert_false(s.cgroups[0].background);
	scenario_release(&s);
	/* Release twice is harmless: release leaves a zeroed scenario. */
	scenario_release(&s);
}

static void test_top_level(void **state)
{
	struct scenario s;

	parse_ok("{'name':'x-1.y','description':'d','duration':'2s',"
		 "'requires':{'min_llcs':2,'min_cpus':4,'min_nodes':1,'smt':false},"
		 "'checks':{'max_spread_pct':20,'max_gap_ms':500,'max_p99_wake_latency_us':900,"
		 "'min_iterations_per_sec':1.5,'max_migration_ratio':0.1,'isolation':false,"
		 "'starvation':true},'cgroups':[" CG0 "]}", &s);
	assert_string_equal(s.name, "x-1.y");
	assert_string_equal(s.description, "d");
	assert_int_equal(s.duration_ms, 2000);
	assert_int_equal(s.req.min_llcs, 2);
	assert_int_equal(s.req.min_cpus, 4);
	assert_int_equal(s.req.min_nodes, 1);
	assert_int_equal(s.req.smt, 0);
	assert_true(s.checks.max_spread_pct == 20);
	assert_true(s.checks.max_gap_ms == 500);
	assert_true(s.checks.max_p99_wake_latency_us == 900);
	assert_true(s.checks.min_iterations_per_sec == 1.5);
	assert_true(s.checks.max_migration_ratio == 0.1);
	assert_int_equal(s.checks.isolation, 0);
	assert_int_equal(s.checks.starvation, 1);
	scenario_release(&s);

	parse_bad("[1]", "$: a scenario must be a JSON object, got [1]", NULL);
	parse_bad("{'frobnicate':1}", "$.frobnicate: unknown key; expected one of name, "
		  "description, duration, duration_ms, duration_us, requires, checks, "
		  "cgroups, steps", NULL);
	parse_bad("{'name':'a b','cgroups':[" CG0 "]}", "$.name: 'a b' is not a valid "
		  "scenario name", NULL);
	parse_bad("{'name':5,'cgroups':[" CG0 "]}", "$.name: must be a string, got 5", NULL);
	parse_bad("{'description':[],'cgroups':[" CG0 "]}", "$.description: must be a string",
		  NULL);
	parse_bad("{}", "$.cgroups: no cgroups and no payloads; define at least one cgroup "
		  "here or add one", NULL);
	parse_bad("{'cgroups':[]}", "$.cgroups: no cgroups", NULL);
	parse_bad("{'cgroups':{}}", "$.cgroups: must be an array", NULL);
	parse_bad("{'steps':[{'ops':[]}]}", "$.cgroups: no cgroups", NULL);
	parse_bad("{'steps':{},'cgroups':[" CG0 "]}", "$.steps: must be an array", NULL);
	/* Only added cgroups is fine. */
	parse_ok("{'steps':[{'ops':[{'op':'add','cgroup':" CG0 "}]}]}", &s);
	assert_int_equal(s.n_cgroups, 0);
	assert_int_equal(s.steps[0].ops[0].kind, OP_ADD);
	assert_string_equal(s.steps[0].ops[0].cgroup, "cg_0");
	assert_string_equal(s.steps[0].ops[0].def.name, "cg_0");
	scenario_release(&s);
	/* null means absent. */
	parse_ok("{'name':null,'requires':null,'checks':null,'steps':null,'cgroups':[" CG0
		 "]}", &s);
	assert_string_equal(s.name, "custom");
	scenario_release(&s);
}

static void test_requires_checks_errors(void **state)
{
	parse_bad("{'requires':{'min_llc':2},'cgroups':[" CG0 "]}",
		  "$.requires.min_llc: unknown key; expected one of min_llcs, min_cpus, "
		  "min_nodes, smt", NULL);
	parse_bad("{'requires':{'min_llcs':-1},'cgroups':[" CG0 "]}",
		  "$.requires.min_llcs: must be a whole number from 0 to 65536, got -1", NULL);
	parse_bad("{'requires':{'smt':'yes'},'cgroups':[" CG0 "]}",
		  "$.requires.smt: must be true or false, got \"yes\"", NULL);
	parse_bad("{'requires':3,'cgroups':[" CG0 "]}", "$.requires: must be an object", NULL);
	parse_bad("{'checks':{'max_spread':3},'cgroups':[" CG0 "]}",
		  "$.checks.max_spread: unknown key; expected one of max_spread_pct, max_gap_ms",
		  NULL);
	parse_bad("{'checks':{'max_spread_pct':-1},'cgroups':[" CG0 "]}",
		  "$.checks.max_spread_pct: must be a number of at least 0 or \"off\", got -1", NULL);
	parse_bad("{'checks':{'max_gap_ms':0},'cgroups':[" CG0 "]}",
		  "$.checks.max_gap_ms: must be a number greater than 0 or \"off\", got 0", NULL);
	parse_bad("{'checks':{'max_gap_ms':'2s'},'cgroups':[" CG0 "]}",
		  "$.checks.max_gap_ms: must be a number greater than 0 or \"off\", got \"2s\"", NULL);
	parse_bad("{'checks':{'isolation':1},'cgroups':[" CG0 "]}",
		  "$.checks.isolation: must be true or false, got 1", NULL);
}

/* A run file's --duration over the export's own (ktstr-export stores
 * duration_ms): whatever form the document had, one duration remains. */
static void test_doc_set_duration(void **state)
{
	const char *const forms[] = {
		"{'duration_ms':3000,'cgroups':[" CG0 "]}",
		"{'duration':'3s','cgroups':[" CG0 "]}",
		"{'duration_us':3000000,'cgroups':[" CG0 "]}",
		"{'cgroups':[" CG0 "]}",
	};
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		json_t *d = doc(forms[i]);

		scenario_doc_set_duration_ms(d, 1500);
		if (scenario_parse(d, &s, &err))
			fail_msg("%s: %s", forms[i], err.buf);
		assert_int_equal(s.duration_ms, 1500);
		assert_null(json_object_get(d, "duration"));
		assert_null(json_object_get(d, "duration_us"));
		scenario_release(&s);
		json_decref(d);
	}
	strbuf_release(&err);
}

static void test_duration(void **state)
{
	struct scenario s;

	parse_ok("{'duration_ms':1500,'cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 1500);
	scenario_release(&s);
	parse_ok("{'duration_us':2500000,'cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 2500);
	scenario_release(&s);
	parse_ok("{'duration':'1.5m','cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 90000);
	scenario_release(&s);
	parse_ok("{'duration':'1h','cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 3600000);
	scenario_release(&s);
	parse_ok("{'duration':'1500ms','cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 1500);
	scenario_release(&s);
	/* One grammar with --duration: a bare number is seconds. */
	parse_ok("{'duration':'5','cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 5000);
	scenario_release(&s);
	parse_ok("{'duration':'1000500us','cgroups':[" CG0 "]}", &s);
	assert_int_equal(s.duration_ms, 1001);
	scenario_release(&s);

	parse_bad("{'duration':'2s','duration_ms':5,'cgroups':[" CG0 "]}",
		  "$: give only one of duration, duration_ms and duration_us", NULL);
	parse_bad("{'duration':'0s','cgroups':[" CG0 "]}",
		  "$.duration: must be at least 1s, got 0us", NULL);
	parse_bad("{'duration_ms':0,'cgroups':[" CG0 "]}", "$.duration_ms: must be at least 1s",
		  NULL);
	/* Too short for the checks to mean anything (KTSTR_MIN_DURATION_MS). */
	parse_bad("{'duration':'750ms','cgroups':[" CG0 "]}",
		  "$.duration: must be at least 1s, got 750ms", NULL);
	parse_bad("{'duration':'61m','cgroups':[" CG0 "]}",
		  "$.duration: must be at most 1h, got 61m", NULL);
	parse_bad("{'duration':'5x','cgroups':[" CG0 "]}",
		  "$.duration: '5x' is not a duration; expected a number with a unit", NULL);
	parse_bad("{'duration':'3601','cgroups':[" CG0 "]}",
		  "$.duration: must be at most 1h, got 3601s", NULL);
	parse_bad("{'duration':'5 s','cgroups':[" CG0 "]}", "$.duration: '5 s' is not a duration",
		  NULL);
	parse_bad("{'duration':'.s','cgroups':[" CG0 "]}", "$.duration: '.s' is not", NULL);
	parse_bad("{'duration':'1e3ms','cgroups':[" CG0 "]}", "$.duration: '1e3ms' is not",
		  NULL);
	parse_bad("{'duration':5,'cgroups':[" CG0 "]}",
		  "$.duration: must be a string with a unit such as \"50ms\", got 5; for a plain "
		  "number use duration_ms or duration_us", NULL);
	parse_bad("{'duration_ms':'5s','cgroups':[" CG0 "]}",
		  "$.duration_ms: must be a number of milliseconds (0 or more), got \"5s\"", NULL);
	parse_bad("{'duration_ms':-5,'cgroups':[" CG0 "]}", "$.duration_ms: must be a number",
		  NULL);
}

/* ---- cgroups ---------------------------------------------------------- */

static void test_cgroup_fields(void **state)
{
	struct scenario s;

	parse_ok("{'cgroups':[{'name':'a','workers':3,'policy':'batch','nice':-20,"
		 "'pinned':true,'background':true},{'name':'b','policy':'fifo'},"
		 "{'name':'c','policy':'rr','rt_priority':99},{'name':'d','workers':1024,"
		 "'policy':'idle','nice':19},{'name':'n.x/y_z-1','workers':2.0}]}", &s);
	assert_int_equal(s.n_cgroups, 5);
	assert_int_equal(s.cgroups[0].workers, 3);
	assert_int_equal(s.cgroups[0].policy, POLICY_BATCH);
	assert_int_equal(s.cgroups[0].nice, -20);
	assert_true(s.cgroups[0].pinned);
	assert_true(s.cgroups[0].background);
	assert_int_equal(s.cgroups[1].policy, POLICY_FIFO);
	assert_int_equal(s.cgroups[1].rt_priority, 1);
	assert_int_equal(s.cgroups[2].policy, POLICY_RR);
	assert_int_equal(s.cgroups[2].rt_priority, 99);
	assert_int_equal(s.cgroups[3].workers, 1024);
	assert_int_equal(s.cgroups[3].policy, POLICY_IDLE);
	assert_int_equal(s.cgroups[3].nice, 19);
	assert_string_equal(s.cgroups[4].name, "n.x/y_z-1");
	assert_int_equal(s.cgroups[4].workers, 2);
	scenario_release(&s);
}

static void test_cgroup_errors(void **state)
{
	parse_bad("{'cgroups':[" CG0 ",{'name':'cg_1','workers':-2}]}",
		  "$.cgroups[1].workers: must be a whole number from 0 to 1024, got -2", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':0}]}",
		  "$.cgroups[0].workers: 0 workers, and no payload runs in cgroup 'a'", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':1025}]}", "$.cgroups[0].workers:", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':2.5}]}", "$.cgroups[0].workers:",
		  "got 2.5", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':'2'}]}", "$.cgroups[0].workers:",
		  "got \"2\"", NULL);
	parse_bad("{'cgroups':[{'workers':2}]}", "$.cgroups[0].name: missing", NULL);
	parse_bad("{'cgroups':[{'name':''}]}", "$.cgroups[0].name: '' is not a valid cgroup name",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a//b'}]}", "$.cgroups[0].name: 'a//b' is not a valid",
		  NULL);
	parse_bad("{'cgroups':[{'name':'../x'}]}", "$.cgroups[0].name: '../x' is not a valid",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a/./b'}]}", "$.cgroups[0].name: 'a/./b' is not", NULL);
	parse_bad("{'cgroups':[{'name':'/a'}]}", "$.cgroups[0].name: '/a' is not", NULL);
	parse_bad("{'cgroups':[{'name':'a/'}]}", "$.cgroups[0].name: 'a/' is not", NULL);
	parse_bad("{'cgroups':[{'name':'a b'}]}", "$.cgroups[0].name: 'a b' is not", NULL);
	parse_bad("{'cgroups':[{'name':7}]}", "$.cgroups[0].name: must be a string, got 7", NULL);
	parse_bad("{'cgroups':[" CG0 ",{'name':'x'}," CG0 "]}",
		  "$.cgroups[2].name: cgroup 'cg_0' is already defined at $.cgroups[0]", NULL);
	parse_bad("{'cgroups':[{'name':'outer'},{'name':'outer/a'}]}",
		  "$.cgroups[1].name: cgroup 'outer/a' would be inside cgroup 'outer'; only leaf",
		  NULL);
	parse_bad("{'cgroups':[{'name':'outer/a/b'},{'name':'outer/a'}]}",
		  "$.cgroups[1].name: cgroup 'outer/a' would be the parent of cgroup 'outer/a/b'",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','policy':'deadline'}]}",
		  "$.cgroups[0].policy: unknown policy 'deadline'; expected one of normal, "
		  "batch, idle, fifo, rr", NULL);
	parse_bad("{'cgroups':[{'name':'a','rt_priority':5}]}",
		  "$.cgroups[0].rt_priority: only applies to policy fifo or rr, not normal", NULL);
	parse_bad("{'cgroups':[{'name':'a','policy':'fifo','rt_priority':100}]}",
		  "$.cgroups[0].rt_priority: must be a whole number from 1 to 99, got 100", NULL);
	parse_bad("{'cgroups':[{'name':'a','policy':'rr','nice':3}]}",
		  "$.cgroups[0].nice: does not apply to policy rr", NULL);
	parse_bad("{'cgroups':[{'name':'a','nice':20}]}",
		  "$.cgroups[0].nice: must be a whole number from -20 to 19, got 20", NULL);
	parse_bad("{'cgroups':[{'name':'a','pinned':'yes'}]}",
		  "$.cgroups[0].pinned: must be true or false, got \"yes\"", NULL);
	parse_bad("{'cgroups':[{'name':'a','background':1}]}",
		  "$.cgroups[0].background: must be true or false", NULL);
	parse_bad("{'cgroups':[{'name':'a','worker':1}]}",
		  "$.cgroups[0].worker: unknown key for a cgroup; expected one of name, workers, "
		  "work, cpuset, policy, rt_priority, nice, pinned, background", NULL);
	parse_bad("{'cgroups':['cg_0']}", "$.cgroups[0]: must be an object", NULL);
}

/* ---- work ------------------------------------------------------------- */

static void test_work_defaults(void **state)
{
	static const struct {
		const char *name;
		unsigned workers;
		unsigned long long burst, sleep;
		unsigned bytes, kib, fan;
	} cases[] = {
		{ "spin_wait", 1, 0, 0, 0, 0, 0 },
		{ "yield_heavy", 1, 0, 0, 0, 0, 0 },
		{ "mixed", 1, 0, 1000, 0, 0, 0 },
		{ "bursty", 1, 50000, 100000, 0, 0, 0 },
		{ "io_sync", 1, 0, 0, 4096, 0, 0 },
		{ "pipe_io", 2, 0, 0, 64, 0, 0 },
		{ "futex_ping_pong", 2, 0, 0, 0, 0, 0 },
		{ "futex_fan_out", 5, 0, 0, 0, 0, 4 },
		{ "cache_pressure", 1, 0, 0, 0, 4096, 0 },
		{ "fork_exit", 1, 0, 0, 0, 0, 0 },
		{ "nice_sweep", 1, 0, 0, 0, 0, 0 },
		{ "affinity_churn", 1, 0, 0, 0, 0, 0 },
		{ "policy_churn", 1, 0, 0, 0, 0, 0 },
		{ "page_fault_churn", 1, 0, 0, 0, 1024, 0 },
		{ "mutex_contention", 1, 0, 0, 0, 0, 0 },
	};
	size_t i, form;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (form = 0; form < 2; form++) {
			char text[256];
			struct scenario s;
			struct work_spec *w;
			enum work_type t;

			snprintf(text, sizeof(text), form ?
				 "{'cgroups':[{'name':'a','workers':%u,'work':{'type':'%s'}}]}" :
				 "{'cgroups':[{'name':'a','workers':%u,'work':'%s'}]}",
				 cases[i].workers, cases[i].name);
			parse_ok(text, &s);
			w = &s.cgroups[0].work;
			assert_int_equal(work_type_parse(cases[i].name, &t), 0);
			assert_int_equal(w->type, t);
			assert_int_equal(w->burst_us, cases[i].burst);
			assert_int_equal(w->sleep_us, cases[i].sleep);
			assert_int_equal(w->bytes, cases[i].bytes);
			assert_int_equal(w->kib, cases[i].kib);
			assert_int_equal(w->fan, cases[i].fan);
			assert_null(w->phases);
			scenario_release(&s);
		}
	}
}

static void test_work_params(void **state)
{
	struct scenario s;
	struct work_spec *w;

	parse_ok("{'cgroups':[{'name':'a','work':{'type':'bursty','burst':'5ms','sleep':'2s'}},"
		 "{'name':'b','work':{'type':'bursty','burst_ms':50,'sleep_us':7}},"
		 "{'name':'c','work':{'type':'mixed','sleep':'500us'}},"
		 "{'name':'d','work':{'type':'io_sync','bytes':65536}},"
		 "{'name':'e','workers':4,'work':{'type':'pipe_io','bytes':1}},"
		 "{'name':'f','work':{'type':'cache_pressure','kib':64}},"
		 "{'name':'g','work':{'type':'page_fault_churn','kib':8}},"
		 "{'name':'h','workers':6,'work':{'type':'futex_fan_out','fan':2}},"
		 "{'name':'i','work':{'type':'bursty','sleep':'0ms','burst_ms':0.5}}]}", &s);
	w = &s.cgroups[0].work;
	assert_int_equal(w->burst_us, 5000);
	assert_int_equal(w->sleep_us, 2000000);
	w = &s.cgroups[1].work;
	assert_int_equal(w->burst_us, 50000);
	assert_int_equal(w->sleep_us, 7);
	assert_int_equal(s.cgroups[2].work.sleep_us, 500);
	assert_int_equal(s.cgroups[3].work.bytes, 65536);
	assert_int_equal(s.cgroups[4].work.bytes, 1);
	assert_int_equal(s.cgroups[5].work.kib, 64);
	assert_int_equal(s.cgroups[6].work.kib, 8);
	assert_int_equal(s.cgroups[7].work.fan, 2);
	assert_int_equal(s.cgroups[8].work.burst_us, 500);
	assert_int_equal(s.cgroups[8].work.sleep_us, 0);
	scenario_release(&s);
}

static void test_work_sequence(void **state)
{
	struct scenario s;
	struct work_spec *w;

	parse_ok("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':["
		 "{'spin':'10ms'},{'sleep':'5ms'},{'yield':3},{'io':2},{'spin_us':7},"
		 "{'sleep_ms':1.5}]}}]}", &s);
	w = &s.cgroups[0].work;
	assert_int_equal(w->type, WORK_SEQUENCE);
	assert_int_equal(w->n_phases, 6);
	assert_int_equal(w->phases[0].kind, PHASE_SPIN);
	assert_int_equal(w->phases[0].us, 10000);
	assert_int_equal(w->phases[1].kind, PHASE_SLEEP);
	assert_int_equal(w->phases[1].us, 5000);
	assert_int_equal(w->phases[2].kind, PHASE_YIELD);
	assert_int_equal(w->phases[2].count, 3);
	assert_int_equal(w->phases[3].kind, PHASE_IO);
	assert_int_equal(w->phases[3].count, 2);
	assert_int_equal(w->phases[4].us, 7);
	assert_int_equal(w->phases[5].kind, PHASE_SLEEP);
	assert_int_equal(w->phases[5].us, 1500);
	scenario_release(&s);
}

static void test_work_errors(void **state)
{
	struct strbuf text = STRBUF_INIT;
	int i;

	parse_bad("{'cgroups':[" CG0 ",{'name':'cg_1','work':{'type':'spinwait'}}]}",
		  "$.cgroups[1].work.type: unknown work type 'spinwait'; expected one of "
		  "spin_wait, yield_heavy, mixed, bursty, io_sync, pipe_io, futex_ping_pong, "
		  "futex_fan_out, cache_pressure, fork_exit, nice_sweep, affinity_churn, "
		  "policy_churn, page_fault_churn, mutex_contention, sequence", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':'spinwait'}]}",
		  "$.cgroups[0].work: unknown work type 'spinwait'; expected one of spin_wait",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'burst':'5ms'}}]}",
		  "$.cgroups[0].work.type: missing; expected one of spin_wait", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':3}}]}",
		  "$.cgroups[0].work.type: must be a string, got 3", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':5}]}",
		  "$.cgroups[0].work: must be a work type name or an object", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'bursty','bursts':'5ms'}}]}",
		  "$.cgroups[0].work.bursts: unknown key for work type bursty; expected one of "
		  "type, burst, burst_ms, burst_us, sleep, sleep_ms, sleep_us", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'spin_wait','sleep':'5ms'}}]}",
		  "$.cgroups[0].work.sleep: unknown key for work type spin_wait; expected one "
		  "of type", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'bursty','burst':'5ms','burst_ms':5}}]}",
		  "$.cgroups[0].work: give only one of burst, burst_ms and burst_us", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'bursty','burst':'0ms'}}]}",
		  "$.cgroups[0].work.burst: must be more than 0", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'bursty','burst':'fast'}}]}",
		  "$.cgroups[0].work.burst: 'fast' is not a duration", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'bursty','sleep':'2h'}}]}",
		  "$.cgroups[0].work.sleep: must be at most 1h, got 2h", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'io_sync','bytes':0}}]}",
		  "$.cgroups[0].work.bytes: must be a whole number from 1 to 1048576, got 0", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':2,'work':{'type':'pipe_io','bytes':70000}}]}",
		  "$.cgroups[0].work.bytes: must be a whole number from 1 to 65536", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'cache_pressure','kib':-1}}]}",
		  "$.cgroups[0].work.kib:", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':3,'work':'pipe_io'}]}",
		  "$.cgroups[0].workers: pipe_io runs workers in pairs, so workers must be even, "
		  "got 3", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':'futex_ping_pong'}]}",
		  "$.cgroups[0].workers: futex_ping_pong runs workers in pairs", "got 1", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':4,'work':'futex_fan_out'}]}",
		  "$.cgroups[0].workers: futex_fan_out with fan 4 runs workers in groups of 5",
		  "multiple of 5, got 4", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':6,'work':{'type':'futex_fan_out','fan':65}}]}",
		  "$.cgroups[0].work.fan: must be a whole number from 1 to 64", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':'sequence'}]}",
		  "$.cgroups[0].work: sequence needs phases", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence'}}]}",
		  "$.cgroups[0].work.phases: missing; expected an array of 1 to 64 phases", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[]}}]}",
		  "$.cgroups[0].work.phases: must be an array of 1 to 64 phases", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[{'spin':'1ms'},"
		  "{'spin':'1ms','sleep':'1ms'}]}}]}",
		  "$.cgroups[0].work.phases[1]: must be an object with exactly one of spin, "
		  "sleep, yield or io", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[{'run':'1ms'}]}}]}",
		  "$.cgroups[0].work.phases[0].run: unknown key for a phase; expected one of "
		  "spin, spin_ms, spin_us, sleep, sleep_ms, sleep_us, yield, io", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[{'yield':0}]}}]}",
		  "$.cgroups[0].work.phases[0].yield: must be a whole number from 1 to 1000000",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[{'spin':'0us'}]}}]}",
		  "$.cgroups[0].work.phases[0].spin: must be more than 0", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[{'io':null}]}}]}",
		  "$.cgroups[0].work.phases[0]: the phase's value is null", NULL);
	parse_bad("{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[5]}}]}",
		  "$.cgroups[0].work.phases[0]: must be an object", NULL);
	/* 65 phases */
	strbuf_addstr(&text, "{'cgroups':[{'name':'a','work':{'type':'sequence','phases':[");
	for (i = 0; i < 65; i++)
		strbuf_addf(&text, "%s{'yield':1}", i ? "," : "");
	strbuf_addstr(&text, "]}}]}");
	parse_bad(text.buf, "$.cgroups[0].work.phases: must be an array of 1 to 64", NULL);
	strbuf_release(&text);
}

/* ---- cpusets (parse) -------------------------------------------------- */

static void test_cpuset_parse(void **state)
{
	struct scenario s;
	struct cpuset_spec *c;

	parse_ok("{'cgroups':[{'name':'a','cpuset':{'llc':1}},{'name':'b','cpuset':{'node':0}},"
		 "{'name':'c','cpuset':{'cpus':'4,0-1,1'}},{'name':'d','cpuset':{'range':[0,0.5]}},"
		 "{'name':'e','cpuset':{'disjoint':{'index':1,'of':3}}},"
		 "{'name':'f','cpuset':{'overlap':{'index':0,'of':2,'frac':0.25}}},"
		 "{'name':'g','cpuset':null}]}", &s);
	c = &s.cgroups[0].cpuset;
	assert_int_equal(c->kind, CPUSET_LLC);
	assert_int_equal(c->index, 1);
	c = &s.cgroups[1].cpuset;
	assert_int_equal(c->kind, CPUSET_NODE);
	assert_int_equal(c->index, 0);
	c = &s.cgroups[2].cpuset;
	assert_int_equal(c->kind, CPUSET_LIST);
	assert_string_equal(c->list, "0-1,4");
	c = &s.cgroups[3].cpuset;
	assert_int_equal(c->kind, CPUSET_RANGE);
	assert_true(c->start_frac == 0 && c->end_frac == 0.5);
	c = &s.cgroups[4].cpuset;
	assert_int_equal(c->kind, CPUSET_DISJOINT);
	assert_int_equal(c->index, 1);
	assert_int_equal(c->of, 3);
	c = &s.cgroups[5].cpuset;
	assert_int_equal(c->kind, CPUSET_OVERLAP);
	assert_int_equal(c->of, 2);
	assert_true(c->frac == 0.25);
	assert_int_equal(s.cgroups[6].cpuset.kind, CPUSET_NONE);
	scenario_release(&s);

	parse_bad("{'cgroups':[{'name':'a','cpuset':{'llc':0,'node':0}}]}",
		  "$.cgroups[0].cpuset: give exactly one of llc, node, cpus, range, disjoint, "
		  "overlap, not both llc and node", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{}}]}",
		  "$.cgroups[0].cpuset: is empty; give exactly one of", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':'llc:0'}]}",
		  "$.cgroups[0].cpuset: must be null or an object", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cache':0}}]}",
		  "$.cgroups[0].cpuset.cache: unknown key for a cpuset; expected one of llc, "
		  "node, cpus, range, disjoint, overlap", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'llc':-1}}]}",
		  "$.cgroups[0].cpuset.llc: must be a whole number from 0 to 4095, got -1", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'node':'0'}}]}",
		  "$.cgroups[0].cpuset.node: must be a whole number", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'0-x'}}]}",
		  "$.cgroups[0].cpuset.cpus: '0-x' is not a CPU list; expected CPU numbers and "
		  "ranges separated by commas, e.g. \"0-3,6\"", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'3-1'}}]}",
		  "$.cgroups[0].cpuset.cpus: '3-1': the range 3-1 runs backwards", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':''}}]}",
		  "$.cgroups[0].cpuset.cpus: the CPU list is empty", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'0,,1'}}]}",
		  "$.cgroups[0].cpuset.cpus: '0,,1' is not a CPU list", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'99999'}}]}",
		  "$.cgroups[0].cpuset.cpus: '99999': CPU 99999 is beyond the last CPU (65535)",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':[0,1]}}]}",
		  "$.cgroups[0].cpuset.cpus: must be a CPU list string", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'range':[0.5,0.5]}}]}",
		  "$.cgroups[0].cpuset.range: must satisfy 0 <= start < end <= 1, got [0.5,0.5]",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'range':[0,1.5]}}]}",
		  "$.cgroups[0].cpuset.range: must satisfy", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'range':[0]}}]}",
		  "$.cgroups[0].cpuset.range: must be [start, end]", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'index':2,'of':2}}}]}",
		  "$.cgroups[0].cpuset.disjoint.index: must be a whole number from 0 to 1 (less "
		  "than of), got 2", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'index':0}}}]}",
		  "$.cgroups[0].cpuset.disjoint.of: missing", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'of':2}}}]}",
		  "$.cgroups[0].cpuset.disjoint.index: missing", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'index':0,'of':0}}}]}",
		  "$.cgroups[0].cpuset.disjoint.of: must be a whole number from 1 to 4096", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'index':0,'of':2,'frac':1}}}]}",
		  "$.cgroups[0].cpuset.disjoint.frac: unknown key; expected one of index, of",
		  NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'disjoint':[0,2]}}]}",
		  "$.cgroups[0].cpuset.disjoint: must be an object {\"index\": i, \"of\": n}", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'overlap':{'index':0,'of':2,'frac':0}}}]}",
		  "$.cgroups[0].cpuset.overlap.frac: must be a fraction greater than 0 and at "
		  "most 1, got 0", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'overlap':{'index':0,'of':2}}}]}",
		  "$.cgroups[0].cpuset.overlap.frac: missing", NULL);
}

/* ---- ops and steps ---------------------------------------------------- */

static void test_ops(void **state)
{
	struct scenario s;
	struct op *o;

	parse_ok("{'duration':'10s','cgroups':[{'name':'cg_0','workers':2},{'name':'cg_1'},"
		 "{'name':'p','workers':2,'work':'pipe_io'}],'steps':["
		 "{'ops':[{'op':'add','cgroup':{'name':'cg_2','workers':3,'cpuset':{'llc':0}}},"
		 "{'op':'set_cpuset','cgroup':'cg_0','cpuset':{'disjoint':{'index':0,'of':2}}},"
		 "{'op':'set_affinity','cgroup':'cg_1','cpuset':{'cpus':'1'}},"
		 "{'op':'swap_cpusets','cgroup':'cg_0','with':'cg_1'},"
		 "{'op':'clear_cpuset','cgroup':'cg_0'}]},"
		 "{'ops':[{'op':'stop','cgroup':'cg_1'},"
		 "{'op':'move_tasks','cgroup':'cg_0','to':'cg_1','count':1},"
		 "{'op':'move_tasks','cgroup':'cg_2','to':'cg_1'},"
		 "{'op':'spawn','cgroup':'cg_0'},{'op':'spawn','cgroup':'p','count':4}]},"
		 "{'ops':[{'op':'spawn','cgroup':'cg_1','count':2},"
		 "{'op':'move_tasks','cgroup':'cg_1','to':'cg_0'},"
		 "{'op':'remove','cgroup':'cg_2'},{'op':'add','cgroup':{'name':'cg_2'}}]}]}",
		 &s);
	assert_int_equal(s.n_steps, 3);
	assert_int_equal(s.steps[0].n_ops, 5);
	o = s.steps[0].ops;
	assert_int_equal(o[0].kind, OP_ADD);
	assert_string_equal(o[0].cgroup, "cg_2");
	assert_int_equal(o[0].def.workers, 3);
	assert_int_equal(o[0].def.cpuset.kind, CPUSET_LLC);
	assert_int_equal(o[1].kind, OP_SET_CPUSET);
	assert_string_equal(o[1].cgroup, "cg_0");
	assert_int_equal(o[1].cpuset.kind, CPUSET_DISJOINT);
	assert_int_equal(o[2].kind, OP_SET_AFFINITY);
	assert_string_equal(o[2].cpuset.list, "1");
	assert_int_equal(o[3].kind, OP_SWAP_CPUSETS);
	assert_string_equal(o[3].cgroup, "cg_0");
	assert_string_equal(o[3].other, "cg_1");
	assert_int_equal(o[4].kind, OP_CLEAR_CPUSET);
	assert_null(o[4].other);
	o = s.steps[1].ops;
	assert_int_equal(o[0].kind, OP_STOP);
	assert_int_equal(o[1].kind, OP_MOVE_TASKS);
	assert_string_equal(o[1].other, "cg_1");
	assert_int_equal(o[1].count, 1);
	assert_int_equal(o[2].count, 0);
	assert_int_equal(o[3].kind, OP_SPAWN);
	assert_int_equal(o[3].count, 1);
	assert_int_equal(o[4].count, 4);
	o = s.steps[2].ops;
	assert_int_equal(o[3].kind, OP_ADD);
	/* Default holds: 1/3 each. */
	assert_int_equal(s.steps[0].hold.kind, HOLD_FRAC);
	assert_true(fabs(s.steps[0].hold.frac - 1.0 / 3) < 1e-12);
	assert_int_equal(step_hold_ms(&s, 0), 3333);
	assert_int_equal(step_hold_ms(&s, 3), 0);
	scenario_release(&s);
}

static void test_op_errors(void **state)
{
	parse_bad("{" CG01 ",'steps':[{'ops':[]},{'ops':[{'op':'stop','cgroup':'cg_9'}]}]}",
		  "$.steps[1].ops[0].cgroup: no cgroup 'cg_9' exists at step 1 (defined: cg_0, "
		  "cg_1)", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'remove','cgroup':'cg_1'}]},"
		  "{'ops':[{'op':'stop','cgroup':'cg_1'}]}]}",
		  "$.steps[1].ops[0].cgroup: no cgroup 'cg_1' exists at step 1: it was removed at "
		  "step 0 (defined: cg_0)", NULL);
	parse_bad("{'cgroups':[" CG0 "],'steps':[{'ops':[{'op':'remove','cgroup':'cg_0'},"
		  "{'op':'spawn','cgroup':'cg_0'}]}]}",
		  "$.steps[0].ops[1].cgroup: no cgroup 'cg_0' exists at step 0: it was removed at "
		  "step 0 (defined: none)", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'cg_1'}}]}]}",
		  "$.steps[0].ops[0].cgroup.name: cgroup 'cg_1' already exists at step 0", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'cg_0/x'}}]}]}",
		  "$.steps[0].ops[0].cgroup.name: cgroup 'cg_0/x' would be inside cgroup 'cg_0'",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'x','workers':0}}]}]}",
		  "$.steps[0].ops[0].cgroup.workers: 0 workers, and no payload runs", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':'x'}]}]}",
		  "$.steps[0].ops[0].cgroup: must be an object", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add'}]}]}",
		  "$.steps[0].ops[0].cgroup: missing; expected a cgroup definition", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'swap_cpusets','cgroup':'cg_0',"
		  "'with':'cg_0'}]}]}",
		  "$.steps[0].ops[0].with: must name a different cgroup than cgroup ('cg_0')", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'swap_cpusets','cgroup':'cg_0'}]}]}",
		  "$.steps[0].ops[0].with: missing; expected the name of a cgroup", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'move_tasks','cgroup':'cg_0','to':'cg_0'}]}]}",
		  "$.steps[0].ops[0].to: must name a different cgroup", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'move_tasks','cgroup':'cg_0','to':'cg_7'}]}]}",
		  "$.steps[0].ops[0].to: no cgroup 'cg_7' exists at step 0", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'stop','cgroup':'cg_0'},"
		  "{'op':'move_tasks','cgroup':'cg_0','to':'cg_1'}]}]}",
		  "$.steps[0].ops[1].cgroup: cgroup 'cg_0' was stopped at step 0 and has no "
		  "workers to move", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'move_tasks','cgroup':'cg_0','to':'cg_1',"
		  "'count':-1}]}]}", "$.steps[0].ops[0].count: must be a whole number from 0 to "
		  "1024", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'spawn','cgroup':'cg_0','count':0}]}]}",
		  "$.steps[0].ops[0].count: must be a whole number from 1 to 1024, got 0", NULL);
	parse_bad("{'cgroups':[{'name':'p','workers':2,'work':'pipe_io'}],'steps':[{'ops':["
		  "{'op':'spawn','cgroup':'p'}]}]}",
		  "$.steps[0].ops[0].count: pipe_io runs workers in pairs, so count must be even, "
		  "got 1", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'set_cpuset','cgroup':'cg_0'}]}]}",
		  "$.steps[0].ops[0].cpuset: missing; expected an object with one of llc", 
		  "use clear_cpuset", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'set_affinity','cgroup':'cg_0',"
		  "'cpuset':{'llc':'x'}}]}]}",
		  "$.steps[0].ops[0].cpuset.llc: must be a whole number", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'frob','cgroup':'cg_0'}]}]}",
		  "$.steps[0].ops[0].op: unknown op 'frob'; expected one of add, remove, stop, "
		  "set_cpuset, clear_cpuset, swap_cpusets, set_affinity, move_tasks, spawn", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'cgroup':'cg_0'}]}]}",
		  "$.steps[0].ops[0].op: missing; expected one of add", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':1}]}]}",
		  "$.steps[0].ops[0].op: must be one of add", "got 1", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'remove','cgroup':'cg_0','count':2}]}]}",
		  "$.steps[0].ops[0].count: unknown key for op remove; expected one of op, cgroup",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'stop','cgroup':3}]}]}",
		  "$.steps[0].ops[0].cgroup: must be a cgroup name (a string), got 3", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':['stop']}]}", "$.steps[0].ops[0]: must be an object",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':{}}]}", "$.steps[0].ops: must be an array", NULL);
	parse_bad("{" CG01 ",'steps':[{'opz':[]}]}",
		  "$.steps[0].opz: unknown key for a step; expected one of ops, hold", NULL);
	parse_bad("{" CG01 ",'steps':[3]}", "$.steps[0]: must be an object", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'x'}}],"
		  "'hold':{'loop':{'interval':'100ms'}}}]}",
		  "$.steps[0].ops[0].op: add cannot be used in a step with a loop hold", NULL);
	parse_bad("{" CG01 ",'steps':[{'ops':[{'op':'remove','cgroup':'cg_0'}],"
		  "'hold':{'loop':{'interval':'100ms'}}}]}",
		  "$.steps[0].ops[0].op: remove cannot be used in a step with a loop hold", NULL);
}

static void test_holds(void **state)
{
	struct scenario s;

	parse_ok("{'duration':'10s'," CG01 ",'steps':[{'hold':{'frac':0.25}},"
		 "{'hold':{'ms':1000}},{'hold':{'duration':'2s'}},{'hold':{'duration_ms':500}},"
		 "{'ops':[{'op':'swap_cpusets','cgroup':'cg_0','with':'cg_1'}],"
		 "'hold':{'loop':{'interval':'200ms','frac':0.2}}},"
		 "{'hold':{'loop':{'interval_ms':100}}}]}", &s);
	assert_int_equal(s.n_steps, 6);
	assert_int_equal(s.steps[0].hold.kind, HOLD_FRAC);
	assert_true(s.steps[0].hold.frac == 0.25);
	assert_int_equal(step_hold_ms(&s, 0), 2500);
	assert_int_equal(s.steps[1].hold.kind, HOLD_MS);
	assert_int_equal(s.steps[1].hold.ms, 1000);
	assert_int_equal(step_hold_ms(&s, 1), 1000);
	assert_int_equal(s.steps[2].hold.kind, HOLD_MS);
	assert_int_equal(s.steps[2].hold.ms, 2000);
	assert_int_equal(s.steps[3].hold.ms, 500);
	assert_int_equal(s.steps[4].hold.kind, HOLD_LOOP);
	assert_int_equal(s.steps[4].hold.interval_ms, 200);
	assert_true(s.steps[4].hold.frac == 0.2);
	assert_int_equal(step_hold_ms(&s, 4), 2000);
	assert_int_equal(s.steps[5].hold.kind, HOLD_LOOP);
	assert_int_equal(s.steps[5].hold.interval_ms, 100);
	assert_true(fabs(s.steps[5].hold.frac - 1.0 / 6) < 1e-12);
	scenario_release(&s);

	/* Exactly filling the duration is fine, a hair more is not. */
	parse_ok("{" CG01 ",'steps':[{'hold':{'frac':0.5}},{'hold':{'ms':2500}}]}", &s);
	scenario_release(&s);
	parse_bad("{" CG01 ",'steps':[{'hold':{'frac':0.5}},{'hold':{'ms':2501}}]}",
		  "$.steps[1].hold: steps 0-1 hold for 5001 ms in total, more than the duration "
		  "(5000 ms)", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'frac':0.75}},{}]}",
		  "$.steps[1].hold: steps 0-1 hold for 6250 ms in total", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'duration':'6s'}}]}",
		  "$.steps[0].hold: steps 0-0 hold for 6000 ms in total", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'frac':1.5}}]}",
		  "$.steps[0].hold.frac: must be a fraction greater than 0 and at most 1, got 1.5",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'frac':0}}]}", "$.steps[0].hold.frac:", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'ms':0}}]}",
		  "$.steps[0].hold.ms: must be a whole number from 1 to 3600000, got 0", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'frac':0.5,'ms':10}}]}",
		  "$.steps[0].hold: give exactly one of frac, ms (or duration) and loop", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'ms':10,'duration':'1s'}}]}",
		  "$.steps[0].hold: give exactly one of", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{}}]}", "$.steps[0].hold: give exactly one of",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':0.5}]}", "$.steps[0].hold: must be an object", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'fraction':0.5}}]}",
		  "$.steps[0].hold.fraction: unknown key for a hold; expected one of frac, ms, "
		  "duration, duration_ms, duration_us, loop", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'duration':'0.1ms'}}]}",
		  "$.steps[0].hold.duration: must be at least 1ms, got 100us", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'loop':{'frac':0.5}}}]}",
		  "$.steps[0].hold.loop.interval: missing", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'loop':{'interval':'1s','every':2}}}]}",
		  "$.steps[0].hold.loop.every: unknown key for a loop hold; expected one of "
		  "interval, interval_ms, interval_us, frac", NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'loop':{'interval':'3s','frac':0.5}}}]}",
		  "$.steps[0].hold.loop.interval: 3000 ms is longer than the hold itself (2500 ms)",
		  NULL);
	parse_bad("{" CG01 ",'steps':[{'hold':{'loop':true}}]}",
		  "$.steps[0].hold.loop: must be an object", NULL);
}

/* ---- cpuset_resolve --------------------------------------------------- */

static void resolve_is(struct ktstr_topo t, struct cpuset_spec c, const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	if (cpuset_resolve(&c, &t, &out, &err))
		fail_msg("cpuset_resolve(kind %d) on %u,%u,%u,%u failed: %s", (int)c.kind,
			 t.nodes, t.llcs, t.cores, t.threads, err.buf);
	if (strcmp(out.buf, want))
		fail_msg("cpuset_resolve(kind %d, index %u, of %u) on %u,%u,%u,%u = \"%s\", "
			 "want \"%s\"", (int)c.kind, c.index, c.of, t.nodes, t.llcs, t.cores,
			 t.threads, out.buf, want);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void resolve_bad(struct ktstr_topo t, struct cpuset_spec c, const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	if (!cpuset_resolve(&c, &t, &out, &err))
		fail_msg("cpuset_resolve(kind %d) unexpectedly gave \"%s\"", (int)c.kind, out.buf);
	if (strcmp(err.buf, want))
		fail_msg("error \"%s\", want \"%s\"", err.buf, want);
	strbuf_release(&out);
	strbuf_release(&err);
}

#define NONE ((struct cpuset_spec){ .kind = CPUSET_NONE })
#define LLC(i) ((struct cpuset_spec){ .kind = CPUSET_LLC, .index = (i) })
#define NODE(i) ((struct cpuset_spec){ .kind = CPUSET_NODE, .index = (i) })
#define LIST(s) ((struct cpuset_spec){ .kind = CPUSET_LIST, .list = (char *)(s) })
#define RANGE(a, b) ((struct cpuset_spec){ .kind = CPUSET_RANGE, .start_frac = (a), .end_frac = (b) })
#define DISJ(i, n) ((struct cpuset_spec){ .kind = CPUSET_DISJOINT, .index = (i), .of = (n) })
#define OVL(i, n, f) ((struct cpuset_spec){ .kind = CPUSET_OVERLAP, .index = (i), .of = (n), .frac = (f) })

static void test_resolve_1121(void **state)
{
	struct ktstr_topo t = topo(1, 1, 2, 1);

	resolve_is(t, NONE, "0-1");
	resolve_is(t, LLC(0), "0-1");
	resolve_bad(t, LLC(1), "LLC 1 does not exist; the topology 1,1,2,1 has only LLC 0");
	resolve_is(t, NODE(0), "0-1");
	resolve_bad(t, NODE(1), "NUMA node 1 does not exist; the topology 1,1,2,1 has only "
		    "node 0");
	resolve_is(t, LIST("1"), "1");
	resolve_is(t, LIST("0-1"), "0-1");
	resolve_bad(t, LIST("0-3"), "CPU 2 does not exist; the topology 1,1,2,1 has CPUs 0-1");
	resolve_is(t, RANGE(0, 0.5), "0");
	resolve_is(t, RANGE(0.5, 1), "1");
	resolve_is(t, RANGE(0.1, 0.2), "0");
	resolve_is(t, RANGE(0, 1), "0-1");
	resolve_is(t, DISJ(0, 2), "0");
	resolve_is(t, DISJ(1, 2), "1");
	resolve_is(t, DISJ(0, 1), "0-1");
	resolve_bad(t, DISJ(2, 3), "slice 2 of 3 is empty: the topology 1,1,2,1 has only 2 "
		    "CPUs, fewer than 3 slices");
	resolve_is(t, OVL(0, 2, 0.5), "0-1");
	resolve_is(t, OVL(1, 2, 0.01), "0-1");
}

static void test_resolve_1221(void **state)
{
	struct ktstr_topo t = topo(1, 2, 2, 1);

	resolve_is(t, NONE, "0-3");
	resolve_is(t, LLC(0), "0-1");
	resolve_is(t, LLC(1), "2-3");
	resolve_bad(t, LLC(3), "LLC 3 does not exist; the topology 1,2,2,1 has LLCs 0-1");
	resolve_is(t, NODE(0), "0-3");
	resolve_is(t, LIST("3,0-1"), "0-1,3");
	resolve_is(t, LIST("0,2-3"), "0,2-3");
	resolve_is(t, LIST("0,1,2"), "0-2");
	resolve_bad(t, LIST("4"), "CPU 4 does not exist; the topology 1,2,2,1 has CPUs 0-3");
	resolve_bad(t, LIST("x"), "'x' is not a CPU list; expected CPU numbers and ranges "
		    "separated by commas, e.g. \"0-3,6\"");
	resolve_is(t, RANGE(0.25, 0.75), "1-2");
	resolve_is(t, RANGE(0, 0.5), "0-1");
	resolve_is(t, RANGE(0.3, 0.31), "1");
	resolve_is(t, RANGE(0.99, 1), "3");
	resolve_bad(t, RANGE(0.5, 0.5), "range [0.5, 0.5] is not a fraction range; expected "
		    "0 <= start < end <= 1");
	resolve_is(t, DISJ(0, 2), "0-1");
	resolve_is(t, DISJ(1, 2), "2-3");
	resolve_is(t, DISJ(0, 3), "0-1");
	resolve_is(t, DISJ(1, 3), "2");
	resolve_is(t, DISJ(2, 3), "3");
	resolve_is(t, DISJ(3, 4), "3");
	resolve_bad(t, DISJ(2, 2), "slice 2 of 2 does not exist; the index must be less than "
		    "the number of slices");
	resolve_is(t, OVL(0, 2, 0.5), "0-2");
	resolve_is(t, OVL(1, 2, 0.5), "1-3");
	resolve_is(t, OVL(1, 3, 1), "1-3");
	resolve_is(t, OVL(0, 2, 1), "0-3");
	resolve_bad(t, OVL(0, 2, 0), "overlap frac 0 is out of range; expected 0 < frac <= 1");
}

static void test_resolve_2221(void **state)
{
	struct ktstr_topo t = topo(2, 2, 2, 1);

	resolve_is(t, NONE, "0-3");
	resolve_is(t, NODE(0), "0-1");
	resolve_is(t, NODE(1), "2-3");
	resolve_bad(t, NODE(2), "NUMA node 2 does not exist; the topology 2,2,2,1 has nodes 0-1");
	resolve_is(t, LLC(1), "2-3");
	resolve_is(t, DISJ(1, 2), "2-3");
	resolve_is(t, RANGE(0.5, 1), "2-3");

	t = topo(2, 4, 2, 1);
	resolve_is(t, NODE(0), "0-3");
	resolve_is(t, NODE(1), "4-7");
	resolve_is(t, LLC(3), "6-7");
}

static void test_resolve_1222(void **state)
{
	struct ktstr_topo t = topo(1, 2, 2, 2);

	resolve_is(t, NONE, "0-7");
	resolve_is(t, LLC(0), "0-3");
	resolve_is(t, LLC(1), "4-7");
	resolve_is(t, NODE(0), "0-7");
	resolve_is(t, DISJ(0, 3), "0-2");
	resolve_is(t, DISJ(1, 3), "3-5");
	resolve_is(t, DISJ(2, 3), "6-7");
	resolve_is(t, RANGE(0, 0.3), "0-2");
	resolve_is(t, RANGE(0.3, 0.6), "2-4");
	resolve_is(t, OVL(0, 4, 0.5), "0-2");
	resolve_is(t, OVL(3, 4, 0.5), "5-7");
	resolve_is(t, OVL(1, 4, 0.5), "1-4");
	resolve_is(t, LIST("7"), "7");
	resolve_bad(t, LIST("8"), "CPU 8 does not exist; the topology 1,2,2,2 has CPUs 0-7");
}

static void test_resolve_bad_topo(void **state)
{
	struct ktstr_topo t = topo(2, 3, 1, 1);

	resolve_bad(t, NONE, "the topology is invalid");
	t = topo(1, 0, 1, 1);
	resolve_bad(t, NONE, "the topology is invalid");
}

static void test_cpulist(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	bool mask[16];

	assert_int_equal(cpulist_parse("0-2,5,7-8,8", mask, 16, &err), 0);
	cpulist_format(mask, 16, &out);
	assert_string_equal(out.buf, "0-2,5,7-8");
	strbuf_reset(&out);
	assert_int_equal(cpulist_parse("15", mask, 16, &err), 0);
	cpulist_format(mask, 16, &out);
	assert_string_equal(out.buf, "15");
	assert_int_equal(err.len, 0);
	assert_int_equal(cpulist_parse("16", mask, 16, &err), -1);
	assert_string_equal(err.buf, "'16': CPU 16 is beyond the last CPU (15)");
	strbuf_reset(&err);
	assert_int_equal(cpulist_parse("2-20", mask, 16, &err), -1);
	assert_string_equal(err.buf, "'2-20': CPU 16 is beyond the last CPU (15)");
	strbuf_reset(&err);
	assert_int_equal(cpulist_parse("1,", mask, 16, &err), -1);
	assert_int_equal(cpulist_parse(" 1", mask, 16, &err), -1);
	assert_int_equal(cpulist_parse("1-", mask, 16, &err), -1);
	assert_int_equal(cpulist_parse("-1", mask, 16, &err), -1);
	assert_int_equal(cpulist_parse("", mask, 16, &err), -1);
	memset(mask, 0, sizeof(mask));
	strbuf_reset(&out);
	cpulist_format(mask, 16, &out);
	assert_string_equal(out.buf, "");
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ---- fit -------------------------------------------------------------- */

static int fit(const char *text, struct ktstr_topo t, struct strbuf *why)
{
	struct scenario s;
	int rc;

	parse_ok(text, &s);
	strbuf_reset(why);
	rc = scenario_fit(&s, &t, why);
	scenario_release(&s);
	return rc;
}

static void test_fit(void **state)
{
	struct strbuf why = STRBUF_INIT;

	assert_int_equal(fit("{'cgroups':[" CG0 "]}", topo(1, 1, 1, 1), &why), 0);
	assert_int_equal(why.len, 0);
	assert_int_equal(fit("{'requires':{'min_llcs':2},'cgroups':[" CG0 "]}",
			     topo(1, 1, 2, 1), &why), 1);
	assert_string_equal(why.buf, "needs at least 2 LLCs, the VM has 1");
	assert_int_equal(fit("{'requires':{'min_llcs':2},'cgroups':[" CG0 "]}",
			     topo(1, 2, 1, 1), &why), 0);
	assert_int_equal(fit("{'requires':{'min_cpus':4},'cgroups':[" CG0 "]}",
			     topo(1, 1, 2, 1), &why), 1);
	assert_string_equal(why.buf, "needs at least 4 CPUs, the VM has 2");
	assert_int_equal(fit("{'requires':{'min_cpus':4},'cgroups':[" CG0 "]}",
			     topo(1, 2, 1, 2), &why), 0);
	assert_int_equal(fit("{'requires':{'min_nodes':2},'cgroups':[" CG0 "]}",
			     topo(1, 2, 2, 1), &why), 1);
	assert_string_equal(why.buf, "needs at least 2 NUMA nodes, the VM has 1");
	assert_int_equal(fit("{'requires':{'smt':true},'cgroups':[" CG0 "]}",
			     topo(1, 2, 2, 1), &why), 1);
	assert_string_equal(why.buf, "needs SMT (2 or more threads per core), the VM has 1 "
			    "thread per core");
	assert_int_equal(fit("{'requires':{'smt':true},'cgroups':[" CG0 "]}",
			     topo(1, 2, 2, 2), &why), 0);
	assert_int_equal(fit("{'requires':{'smt':false},'cgroups':[" CG0 "]}",
			     topo(1, 2, 2, 2), &why), 1);
	assert_string_equal(why.buf, "needs a VM without SMT, the VM has 2 threads per core");
	assert_int_equal(fit("{'requires':{'smt':false},'cgroups':[" CG0 "]}",
			     topo(1, 2, 2, 1), &why), 0);

	/* Cpusets beyond the topology are invalid, with the path. */
	assert_int_equal(fit("{'cgroups':[{'name':'a','cpuset':{'llc':3}}]}",
			     topo(1, 2, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.cgroups[0].cpuset.llc: LLC 3 does not exist; the "
			    "topology 1,2,2,1 has LLCs 0-1");
	assert_int_equal(fit("{'cgroups':[" CG0 ",{'name':'b','cpuset':{'node':1}}]}",
			     topo(1, 2, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.cgroups[1].cpuset.node: NUMA node 1 does not exist; "
			    "the topology 1,2,2,1 has only node 0");
	assert_int_equal(fit("{'cgroups':[{'name':'a','cpuset':{'cpus':'0-5'}}]}",
			     topo(1, 2, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.cgroups[0].cpuset.cpus: CPU 4 does not exist; the "
			    "topology 1,2,2,1 has CPUs 0-3");
	assert_int_equal(fit("{'cgroups':[{'name':'a','cpuset':{'disjoint':{'index':2,'of':3}}}]}",
			     topo(1, 1, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.cgroups[0].cpuset.disjoint: slice 2 of 3 is empty: the "
			    "topology 1,1,2,1 has only 2 CPUs, fewer than 3 slices");
	assert_int_equal(fit("{" CG01 ",'steps':[{'ops':[]},{'ops':[{'op':'set_cpuset',"
			     "'cgroup':'cg_0','cpuset':{'llc':1}},{'op':'set_affinity',"
			     "'cgroup':'cg_1','cpuset':{'llc':2}}]}]}", topo(1, 2, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.steps[1].ops[1].cpuset.llc: LLC 2 does not exist; the "
			    "topology 1,2,2,1 has LLCs 0-1");
	assert_int_equal(fit("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'x',"
			     "'cpuset':{'node':3}}}]}]}", topo(2, 2, 2, 1), &why), -1);
	assert_string_equal(why.buf, "$.steps[0].ops[0].cgroup.cpuset.node: NUMA node 3 does "
			    "not exist; the topology 2,2,2,1 has nodes 0-1");
	assert_int_equal(fit("{" CG01 ",'steps':[{'ops':[{'op':'add','cgroup':{'name':'x',"
			     "'cpuset':{'node':1}}}]}]}", topo(2, 2, 2, 1), &why), 0);
	/* A requirement not met skips before cpusets are looked at. */
	assert_int_equal(fit("{'requires':{'min_llcs':2},'cgroups':[{'name':'a','cpuset':"
			     "{'llc':1}}]}", topo(1, 1, 2, 1), &why), 1);
	strbuf_release(&why);
}

/* ---- checks ----------------------------------------------------------- */

static void test_checks(void **state)
{
	struct checks in, out, over;

	checks_init(&in);
	checks_effective(&in, &out);
	assert_true(out.max_spread_pct == 15);
	assert_true(out.max_gap_ms == 2000);
	assert_true(isnan(out.max_p99_wake_latency_us));
	assert_true(isnan(out.min_iterations_per_sec));
	assert_true(isnan(out.max_migration_ratio));
	assert_int_equal(out.isolation, 1);
	assert_int_equal(out.starvation, 1);

	in.max_spread_pct = 30;
	in.isolation = 0;
	in.max_p99_wake_latency_us = 5000;
	checks_effective(&in, &out);
	assert_true(out.max_spread_pct == 30);
	assert_true(out.max_gap_ms == 2000);
	assert_true(out.max_p99_wake_latency_us == 5000);
	assert_int_equal(out.isolation, 0);
	assert_int_equal(out.starvation, 1);

	checks_init(&over);
	over.max_gap_ms = 100;
	over.starvation = 0;
	over.min_iterations_per_sec = 10;
	over.max_migration_ratio = 0.5;
	checks_overlay(&out, &over);
	assert_true(out.max_spread_pct == 30);
	assert_true(out.max_gap_ms == 100);
	assert_true(out.min_iterations_per_sec == 10);
	assert_true(out.max_migration_ratio == 0.5);
	assert_int_equal(out.isolation, 0);
	assert_int_equal(out.starvation, 0);
	/* An empty overlay changes nothing. */
	checks_init(&over);
	in = out;
	checks_overlay(&out, &over);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ---- loading ---------------------------------------------------------- */

static const char *const canned[] = {
	"affinity_change", "affinity_pinned", "cgroup_add", "cgroup_remove", "cpuset_apply",
	"cpuset_clear", "cpuset_resize", "cyclictest_under_load", "fio_randread",
	"hackbench_llc", "host_contention", "mixed_workloads", "nested_steady",
	"nested_task_move", "oversubscribed", "steady", "steady_llc", "stress_mix",
	"sysbench_threads", "wakeup",
};

static void test_canned(void **state)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	assert_int_equal(scenario_list_canned(&names, &err), 0);
	assert_int_equal(names.n, ARRAY_SIZE(canned));
	for (i = 0; i < names.n; i++) {
		struct ktstr_topo big = topo(1, 2, 2, 1), small = topo(1, 1, 2, 1);
		struct scenario s;
		json_t *d;
		int rc;

		assert_string_equal(names.v[i], canned[i]);
		d = scenario_load(names.v[i], &err);
		if (!d)
			fail_msg("%s: %s", names.v[i], err.buf);
		if (scenario_parse(d, &s, &err))
			fail_msg("%s: %s", names.v[i], err.buf);
		assert_string_equal(s.name, names.v[i]);
		assert_true(strlen(s.description) > 20);
		assert_true(s.duration_ms >= 1000);
		if (scenario_fit(&s, &big, &err))
			fail_msg("%s does not fit 1,2,2,1: %s", names.v[i], err.buf);
		rc = scenario_fit(&s, &small, &err);
		if (!strcmp(names.v[i], "steady_llc") || !strcmp(names.v[i], "hackbench_llc")) {
			assert_int_equal(rc, 1);
			assert_string_equal(err.buf, "needs at least 2 LLCs, the VM has 1");
			strbuf_reset(&err);
		} else if (rc) {
			fail_msg("%s does not fit 1,1,2,1: %s", names.v[i], err.buf);
		}
		/* Also fits a bigger SMT, multi-node machine. */
		big = topo(2, 4, 2, 2);
		assert_int_equal(scenario_fit(&s, &big, &err), 0);
		scenario_release(&s);
		json_decref(d);
	}
	strvec_clear(&names);
	strbuf_release(&err);
}

static void test_canned_content(void **state)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct ktstr_topo t = topo(1, 2, 2, 1);
	struct scenario s;
	json_t *d;

	d = scenario_load("cpuset_apply", &err);
	assert_non_null(d);
	assert_int_equal(scenario_parse(d, &s, &err), 0);
	assert_int_equal(s.n_cgroups, 2);
	assert_int_equal(s.n_steps, 2);
	assert_int_equal(s.cgroups[0].cpuset.kind, CPUSET_NONE);
	assert_int_equal(s.steps[1].ops[0].kind, OP_SET_CPUSET);
	assert_int_equal(cpuset_resolve(&s.steps[1].ops[1].cpuset, &t, &out, &err), 0);
	assert_string_equal(out.buf, "2-3");
	assert_int_equal(s.checks.isolation, 1);
	scenario_release(&s);
	json_decref(d);

	d = scenario_load("nested_task_move", &err);
	assert_non_null(d);
	assert_int_equal(scenario_parse(d, &s, &err), 0);
	assert_string_equal(s.cgroups[0].name, "outer/a");
	assert_int_equal(s.steps[1].ops[0].kind, OP_MOVE_TASKS);
	assert_string_equal(s.steps[1].ops[0].other, "outer/b");
	scenario_release(&s);
	json_decref(d);

	d = scenario_load("steady_llc", &err);
	assert_non_null(d);
	assert_int_equal(scenario_parse(d, &s, &err), 0);
	assert_int_equal(s.req.min_llcs, 2);
	strbuf_reset(&out);
	assert_int_equal(cpuset_resolve(&s.cgroups[1].cpuset, &t, &out, &err), 0);
	assert_string_equal(out.buf, "2-3");
	scenario_release(&s);
	json_decref(d);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_load_errors(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char path[] = "/tmp/ktstr-test-scenario-XXXXXX.json";
	const char *bad = "{\n  \"name\": \"x\",\n  \"cgroups\": [}\n";
	json_t *d;
	int fd;

	assert_null(scenario_load("nope", &err));
	assert_string_equal(err.buf, "unknown scenario 'nope'; canned scenarios: "
			    "affinity_change, affinity_pinned, cgroup_add, cgroup_remove, "
			    "cpuset_apply, cpuset_clear, cpuset_resize, cyclictest_under_load, "
			    "fio_randread, hackbench_llc, host_contention, mixed_workloads, "
			    "nested_steady, nested_task_move, oversubscribed, steady, steady_llc, "
			    "stress_mix, sysbench_threads, wakeup");
	strbuf_reset(&err);
	assert_null(scenario_load("no such", &err));
	assert_true(!strncmp(err.buf, "unknown scenario 'no such'; canned scenarios: ", 45));
	strbuf_reset(&err);
	assert_null(scenario_load("", &err));
	assert_string_equal(err.buf, "no scenario given; name a canned scenario or a .json file");
	strbuf_reset(&err);

	assert_null(scenario_load("/nonexistent/x.json", &err));
	assert_string_equal(err.buf, "/nonexistent/x.json: No such file or directory");
	strbuf_reset(&err);

	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_null(scenario_load(path, &err));
	if (strncmp(err.buf, path, strlen(path)) ||
	    !strstr(err.buf, ": invalid JSON at line 3 column "))
		fail_msg("bad JSON error: %s", err.buf);
	strbuf_reset(&err);

	/* Duplicate keys are invalid too (a silently lost value otherwise). */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	bad = "{\"name\": \"a\",\n\"name\": \"b\"}";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_null(scenario_load(path, &err));
	assert_non_null(strstr(err.buf, ": invalid JSON at line 2 column"));
	assert_non_null(strstr(err.buf, "duplicate"));
	unlink(path);
	strbuf_reset(&err);

	/* A path with a slash or ending in .json is a file. */
	d = scenario_load("share/ktstr/scenarios/steady.json", &err);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "steady");
	json_decref(d);
	assert_null(scenario_load("steady_nothere.json", &err));
	assert_string_equal(err.buf, "steady_nothere.json: No such file or directory");
	strbuf_release(&err);
}

static void test_share_dir(void **state)
{
	char *dir = scenario_dir();
	char want[4200];

	snprintf(want, sizeof(want), "%s/scenarios", share_dir);
	assert_string_equal(dir, want);
	free(dir);

	/* Empty means unset: the executable-relative default. */
	setenv("KTSTR_SHARE_DIR", "", 1);
	dir = scenario_dir();
	assert_non_null(strstr(dir, "/../share/ktstr/scenarios"));
	free(dir);
	setenv("KTSTR_SHARE_DIR", "/nonexistent-ktstr", 1);
	{
		struct strbuf err = STRBUF_INIT;

		assert_null(scenario_load("steady", &err));
		assert_string_equal(err.buf, "unknown scenario 'steady'; no canned scenarios "
				    "could be listed (/nonexistent-ktstr/scenarios: No such file "
				    "or directory)");
		strbuf_release(&err);
	}
	setenv("KTSTR_SHARE_DIR", share_dir, 1);
}

/* ---- quick flags ------------------------------------------------------ */

static void flag_ok(json_t *d, const char *spec, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	json_t *arr, *w = doc(want);
	char *got, *exp;

	if (scenario_add_cgroup_flag(d, spec, &err))
		fail_msg("flag '%s' failed: %s", spec, err.buf);
	arr = json_object_get(d, "cgroups");
	got = json_dumps(json_array_get(arr, json_array_size(arr) - 1), JSON_COMPACT);
	exp = json_dumps(w, JSON_COMPACT);
	if (strcmp(got, exp))
		fail_msg("flag '%s' gave %s, want %s", spec, got, exp);
	free(got);
	free(exp);
	json_decref(w);
	strbuf_release(&err);
}

static void flag_bad(const char *spec, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	json_t *d = doc("{'cgroups':[{'name':'taken'}]}");

	if (!scenario_add_cgroup_flag(d, spec, &err))
		fail_msg("flag '%s' unexpectedly succeeded", spec);
	if (strncmp(err.buf, want, strlen(want)))
		fail_msg("flag '%s': error \"%s\", want prefix \"%s\"", spec, err.buf, want);
	assert_null(strchr(err.buf, '\n'));
	/* Nothing was appended. */
	assert_int_equal(json_array_size(json_object_get(d, "cgroups")), 1);
	json_decref(d);
	strbuf_release(&err);
}

static void test_flags_good(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	json_t *d = json_object();

	flag_ok(d, "cg_0:workers=2,work=bursty:50ms:100ms,cpuset=llc:0,nice=5,policy=batch,pinned",
		"{'name':'cg_0','workers':2,'work':{'type':'bursty','burst':'50ms',"
		"'sleep':'100ms'},'cpuset':{'llc':0},'nice':5,'policy':'batch','pinned':true}");
	flag_ok(d, "cg_1", "{'name':'cg_1'}");
	flag_ok(d, "cg_2:work=yield_heavy,background=false,cpuset=cpus:0-1;3",
		"{'name':'cg_2','work':'yield_heavy','background':false,'cpuset':{'cpus':'0-1,3'}}");
	flag_ok(d, "cg_3:cpuset=disjoint:1/2,work=mixed:2ms",
		"{'name':'cg_3','cpuset':{'disjoint':{'index':1,'of':2}},"
		"'work':{'type':'mixed','sleep':'2ms'}}");
	flag_ok(d, "cg_4:cpuset=range:0.25-0.75,work=io_sync:8192",
		"{'name':'cg_4','cpuset':{'range':[0.25,0.75]},"
		"'work':{'type':'io_sync','bytes':8192}}");
	flag_ok(d, "cg_5:workers=6,work=futex_fan_out:2,cpuset=overlap:0/2:0.5",
		"{'name':'cg_5','workers':6,'work':{'type':'futex_fan_out','fan':2},"
		"'cpuset':{'overlap':{'index':0,'of':2,'frac':0.5}}}");
	flag_ok(d, "cg_6:policy=fifo,rt_priority=10,cpuset=node:0,work=bursty:1ms",
		"{'name':'cg_6','policy':'fifo','rt_priority':10,'cpuset':{'node':0},"
		"'work':{'type':'bursty','burst':'1ms'}}");
	flag_ok(d, "outer/a:workers=4,work=pipe_io:128,nice=-3,cpuset=none",
		"{'name':'outer/a','workers':4,'work':{'type':'pipe_io','bytes':128},"
		"'nice':-3,'cpuset':null}");
	flag_ok(d, "cg_7:work=cache_pressure:64,pinned=true",
		"{'name':'cg_7','work':{'type':'cache_pressure','kib':64},'pinned':true}");
	flag_ok(d, "cg_8:work=page_fault_churn:16", "{'name':'cg_8','work':{'type':"
		"'page_fault_churn','kib':16}}");
	/* The one duration grammar: a bare number is seconds, us is a unit. */
	flag_ok(d, "cg_9:work=bursty:5:10", "{'name':'cg_9','work':{'type':'bursty',"
		"'burst':'5','sleep':'10'}}");
	flag_ok(d, "cg_10:work=bursty:500us:1.5", "{'name':'cg_10','work':{'type':'bursty',"
		"'burst':'500us','sleep':'1.5'}}");
	assert_int_equal(json_array_size(json_object_get(d, "cgroups")), 12);
	/* The result is a valid scenario. */
	if (scenario_parse(d, &s, &err))
		fail_msg("%s", err.buf);
	assert_int_equal(s.n_cgroups, 12);
	assert_int_equal(s.cgroups[0].work.burst_us, 50000);
	assert_int_equal(s.cgroups[10].work.burst_us, 5000000);
	assert_int_equal(s.cgroups[10].work.sleep_us, 10000000);
	assert_int_equal(s.cgroups[11].work.burst_us, 500);
	assert_int_equal(s.cgroups[11].work.sleep_us, 1500000);
	assert_int_equal(s.cgroups[0].cpuset.kind, CPUSET_LLC);
	assert_int_equal(s.cgroups[0].policy, POLICY_BATCH);
	assert_true(s.cgroups[0].pinned);
	assert_string_equal(s.cgroups[2].cpuset.list, "0-1,3");
	scenario_release(&s);
	json_decref(d);
	strbuf_release(&err);
}

static void test_flags_bad(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *d;

	flag_bad("", "empty cgroup spec; expected NAME[:key=value,...]");
	flag_bad(":workers=2", "expected NAME[:key=value,...] with the cgroup "
		 "name first");
	flag_bad("workers=2", "expected NAME[:key=value,...]");
	flag_bad("cg_0:", "nothing after ':'; expected key=value items");
	flag_bad("cg_0:workers=abc", "workers=abc: 'abc' is not a whole "
		 "number");
	flag_bad("cg_0:workers=", "workers=: workers needs a value");
	flag_bad("cg_0:workers", "workers: workers needs a value");
	flag_bad("cg_0:workers=0", "workers: 0 workers, and no payload runs in "
		 "cgroup 'cg_0'");
	flag_bad("cg_0:frob=1", "frob=1: unknown key 'frob'; expected one of "
		 "workers, work, cpuset, nice, policy, rt_priority, pinned, background");
	flag_bad("cg_0:=1", "=1: missing key before '='");
	flag_bad("cg_0:workers=2,,nice=1", "empty item (two commas in a row or a "
		 "trailing comma)");
	flag_bad("cg_0:workers=2,", "empty item");
	flag_bad("cg_0:workers=2,workers=3", "workers=3: workers "
		 "is given more than once");
	flag_bad("cg_0:work=nope", "work=nope: unknown work type 'nope'; "
		 "expected one of spin_wait, yield_heavy");
	flag_bad("cg_0:work=spin_wait:5", "work=spin_wait:5: "
		 "spin_wait takes no parameters");
	flag_bad("cg_0:work=bursty:50ms:100ms:1", "work=bursty:50ms:100ms:1: bursty takes at "
		 "most 2 parameters (burst:sleep)");
	flag_bad("cg_0:work=mixed:1ms:2ms", "work=mixed:1ms:2ms: "
		 "mixed takes at most 1 parameter (sleep)");
	flag_bad("cg_0:work=bursty:fast", "work=bursty:fast: burst "
		 "'fast' is not a duration");
	flag_bad("cg_0:work=bursty:", "work=bursty:: burst '' is not a "
		 "duration");
	flag_bad("cg_0:work=io_sync:4k", "work=io_sync:4k: bytes '4k' "
		 "is not a whole number");
	flag_bad("cg_0:work=sequence", "work=sequence: sequence needs a "
		 "list of phases");
	flag_bad("cg_0:work=bursty:0ms", "work.burst: must be more "
		 "than 0");
	flag_bad("cg_0:workers=3,work=pipe_io", "workers: "
		 "pipe_io runs workers in pairs");
	flag_bad("cg_0:cpuset=llc", "cpuset=llc: expected llc:I, node:I, "
		 "cpus:LIST");
	flag_bad("cg_0:cpuset=llc:x", "cpuset=llc:x: expected llc:I");
	flag_bad("cg_0:cpuset=cache:1", "cpuset=cache:1: expected");
	flag_bad("cg_0:cpuset=disjoint:1/2:0.5", "cpuset=disjoint:1/2:0.5: expected");
	flag_bad("cg_0:cpuset=overlap:1/2", "cpuset=overlap:1/2: "
		 "expected");
	flag_bad("cg_0:cpuset=disjoint:2/2", "cpuset.disjoint.index: "
		 "must be a whole number from 0 to 1");
	flag_bad("cg_0:cpuset=range:0.5", "cpuset=range:0.5: expected");
	flag_bad("cg_0:cpuset=range:0.5-0.2", "cpuset.range: must "
		 "satisfy 0 <= start < end <= 1");
	flag_bad("cg_0:cpuset=cpus:0-x", "cpuset.cpus: '0-x' is not a "
		 "CPU list");
	flag_bad("cg_0:cpuset=cpus:", "cpuset=cpus:: expected");
	flag_bad("cg_0:nice=-21", "nice: must be a whole number from -20 to 19");
	flag_bad("cg_0:nice=1.5", "nice=1.5: '1.5' is not a whole number");
	flag_bad("cg_0:policy=deadline", "policy: unknown policy "
		 "'deadline'");
	flag_bad("cg_0:rt_priority=5", "rt_priority: only applies to "
		 "policy fifo or rr");
	flag_bad("cg_0:pinned=maybe", "pinned=maybe: expected pinned, "
		 "pinned=true or pinned=false");
	flag_bad("a b:workers=1", "name: 'a b' is not a valid cgroup name");
	flag_bad("taken:workers=2", "a cgroup named 'taken' is already "
		 "defined");

	d = json_pack("{s:i}", "cgroups", 3);
	assert_int_equal(scenario_add_cgroup_flag(d, "x", &err), -1);
	assert_string_equal(err.buf, "the scenario's \"cgroups\" is not an array");
	json_decref(d);
	strbuf_release(&err);
}

/* ---- memory: failed parses part way through free everything ---------- */

static void test_no_leaks(void **state)
{
	struct scenario s;
	/* Errors deep inside allocated structures. */
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'0-1'},'work':{'type':'sequence',"
		  "'phases':[{'spin':'1ms'}]}},{'name':'b','work':{'type':'sequence','phases':"
		  "[{'spin':'1ms'},{'x':1}]}}]}", "$.cgroups[1].work.phases[1].x:", NULL);
	parse_bad("{'cgroups':[{'name':'a','cpuset':{'cpus':'0-1'}}],'steps':[{'ops':["
		  "{'op':'add','cgroup':{'name':'b','cpuset':{'cpus':'2'},'work':{'type':"
		  "'sequence','phases':[{'io':1}]}}},{'op':'set_cpuset','cgroup':'b','cpuset':"
		  "{'cpus':'1'}},{'op':'swap_cpusets','cgroup':'a','with':'b'},"
		  "{'op':'nope'}]}]}", "$.steps[0].ops[3].op: unknown op 'nope'", NULL);
	parse_bad("{'cgroups':[{'name':'a','workers':3,'work':{'type':'sequence','phases':"
		  "[{'io':1}]},'cpuset':{'cpus':'5-'}}]}", "$.cgroups[0].cpuset.cpus",
		  NULL);
	/* A full scenario round trip. */
	parse_ok("{'cgroups':[{'name':'a','cpuset':{'cpus':'0-1'},'work':{'type':'sequence',"
		 "'phases':[{'spin':'1ms'},{'sleep':'1ms'}]}}],'steps':[{'ops':[{'op':'add',"
		 "'cgroup':{'name':'b','cpuset':{'cpus':'2'},'work':{'type':'sequence','phases':"
		 "[{'io':1}]}}},{'op':'set_affinity','cgroup':'b','cpuset':{'cpus':'1'}},"
		 "{'op':'move_tasks','cgroup':'a','to':'b'}]}]}", &s);
	assert_string_equal(s.steps[0].ops[1].cpuset.list, "1");
	scenario_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_requires_checks_errors),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_doc_set_duration),
		cmocka_unit_test(test_cgroup_fields),
		cmocka_unit_test(test_cgroup_errors),
		cmocka_unit_test(test_work_defaults),
		cmocka_unit_test(test_work_params),
		cmocka_unit_test(test_work_sequence),
		cmocka_unit_test(test_work_errors),
		cmocka_unit_test(test_cpuset_parse),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_op_errors),
		cmocka_unit_test(test_holds),
		cmocka_unit_test(test_resolve_1121),
		cmocka_unit_test(test_resolve_1221),
		cmocka_unit_test(test_resolve_2221),
		cmocka_unit_test(test_resolve_1222),
		cmocka_unit_test(test_resolve_bad_topo),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_canned),
		cmocka_unit_test(test_canned_content),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_share_dir),
		cmocka_unit_test(test_flags_good),
		cmocka_unit_test(test_flags_bad),
		cmocka_unit_test(test_no_leaks),
	};

	return cmocka_run_group_tests(tests, setup_share, NULL);
}
