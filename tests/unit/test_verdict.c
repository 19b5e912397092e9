/* Unit tests for lib/results/verdict.c: every check, thresholds from the scenario
 * and from flags, outcome precedence, truncated streams, malformed lines
 * and values, and the shape of the JSON and human output. */
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
#include "tmpdir.h"
#include "verdict.h"

/* ---- helpers ------------------------------------------------------------ */

#define VM_START "{\"type\":\"vm_start\",\"topo\":\"1,2,2,1\",\"topology\":\"1n2l2c1t\",\"vcpus\":4}"
#define START(sched, checks) \
	"{\"type\":\"scenario_start\",\"name\":\"steady\",\"duration_ms\":5000," \
	"\"cpus\":4,\"topo\":\"1,2,2,1\",\"scheduler\":" sched ",\"checks\":" checks "}"
#define START_DEFAULT START("null", "{}")
#define START_SCX START("\"scx_simple\"", "{}")
/* A cgroup_stats record with the values that matter here; extra adds
 * fields (isolation_violations, starved_workers, ...; duplicate keys
 * would make the line invalid). */
#define CG(name, spread, gap, extra) \
	"{\"type\":\"cgroup_stats\",\"cgroup\":\"" name "\",\"workers\":2,\"cpus\":2," \
	"\"background\":false,\"spread_pct\":" spread ",\"worst_gap_ms\":" gap "," \
	"\"worst_gap_cpu\":1,\"worst_gap_at_ms\":1200,\"migrations\":4," \
	"\"iterations\":15230,\"iterations_per_sec\":1522.7" extra "}"
#define CLEAN ",\"isolation_violations\":0,\"starved_workers\":0"
#define END "{\"type\":\"scenario_end\",\"elapsed_ms\":5012,\"workers\":4,\"cpus\":4," \
	"\"migrations\":8,\"worst_spread_pct\":12.3,\"worst_gap_ms\":890,\"scheduler_alive\":true}"
#define VM_EXIT(reason) "{\"type\":\"vm_exit\",\"reason\":\"" reason "\",\"exit_code\":0," \
	"\"wall_ms\":7000,\"message\":\"msg\"}"

struct warned {
	unsigned n;
	unsigned long last_line;
	char last[512];
};

static void warn_cb(void *ctx, unsigned long line, const char *msg)
{
	struct warned *w = ctx;

	w->n++;
	w->last_line = line;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

/* Feed newline-separated records; returns the number of bad lines. */
static unsigned feed(struct verdict *v, const char *text)
{
	const char *p = text;
	unsigned long lineno = v->line;
	unsigned bad = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf err = STRBUF_INIT;

		if (verdict_feed_line(v, p, len, ++lineno, &err) < 0) {
			bad++;
			assert_true(err.len > 0);
		} else {
			assert_int_equal(err.len, 0);
		}
		strbuf_release(&err);
		p += len + (nl ? 1 : 0);
	}
	return bad;
}

/* Judge text with flags (may be NULL); the caller releases v. */
static void judge(struct verdict *v, const char *text, const struct checks *flags,
		  struct warned *w)
{
	verdict_init(v);
	if (w) {
		memset(w, 0, sizeof(*w));
		v->warn = warn_cb;
		v->warn_ctx = w;
	}
	feed(v, text);
	verdict_finish(v, flags);
}

static const struct verdict_check *find_check(const struct verdict *v, const char *check,
					      const char *cgroup)
{
	for (size_t i = 0; i < v->n_checks; i++) {
		const struct verdict_check *c = &v->checks[i];

		if (strcmp(c->check, check))
			continue;
		if (!cgroup ? !c->cgroup : c->cgroup && !strcmp(c->cgroup, cgroup))
			return c;
	}
	return NULL;
}

static const struct verdict_check *only_failure(const struct verdict *v)
{
	const struct verdict_check *f = NULL;

	assert_int_equal(v->n_failures, 1);
	for (size_t i = 0; i < v->n_checks; i++)
		if (!v->checks[i].pass)
			f = &v->checks[i];
	assert_non_null(f);
	return f;
}

/* ---- results and thresholds --------------------------------------------- */

static void test_result_names_and_codes(void **state)
{
	assert_string_equal(verdict_result_name(VERDICT_PASS), "pass");
	assert_string_equal(verdict_result_name(VERDICT_FAIL), "fail");
	assert_string_equal(verdict_result_name(VERDICT_SKIP), "skip");
	assert_string_equal(verdict_result_name(VERDICT_INCONCLUSIVE), "inconclusive");
	assert_string_equal(verdict_result_name(VERDICT_ERROR), "error");
	assert_int_equal(verdict_exit_code(VERDICT_PASS), 0);
	assert_int_equal(verdict_exit_code(VERDICT_FAIL), 1);
	assert_int_equal(verdict_exit_code(VERDICT_ERROR), 2);
	assert_int_equal(verdict_exit_code(VERDICT_SKIP), 3);
	assert_int_equal(verdict_exit_code(VERDICT_INCONCLUSIVE), 3);
}

static void test_worst(void **state)
{
	assert_int_equal(verdict_worst(VERDICT_PASS, VERDICT_SKIP), VERDICT_SKIP);
	assert_int_equal(verdict_worst(VERDICT_INCONCLUSIVE, VERDICT_FAIL), VERDICT_FAIL);
	assert_int_equal(verdict_worst(VERDICT_FAIL, VERDICT_ERROR), VERDICT_ERROR);
	assert_int_equal(verdict_worst(VERDICT_ERROR, VERDICT_FAIL), VERDICT_ERROR);
	assert_int_equal(verdict_worst(VERDICT_FAIL, VERDICT_PASS), VERDICT_FAIL);
	assert_int_equal(verdict_worst(VERDICT_SKIP, VERDICT_INCONCLUSIVE), VERDICT_SKIP);
	assert_int_equal(verdict_worst(VERDICT_PASS, VERDICT_PASS), VERDICT_PASS);
}

static void test_thresholds_defaults(void **state)
{
	struct checks out;

	verdict_thresholds(NULL, NULL, &out);
	assert_true(out.max_spread_pct == 15);
	assert_true(out.max_gap_ms == 2000);
	assert_true(isnan(out.max_p99_wake_latency_us));
	assert_true(isnan(out.min_iterations_per_sec));
	assert_true(isnan(out.max_migration_ratio));
	assert_int_equal(out.isolation, 1);
	assert_int_equal(out.starvation, 1);
}

static void test_thresholds_layering(void **state)
{
	struct checks scen, flags, out;

	checks_init(&scen);
	checks_init(&flags);
	scen.max_spread_pct = 30;
	scen.max_gap_ms = 500;
	scen.max_p99_wake_latency_us = 800;
	scen.isolation = 0;
	flags.max_gap_ms = 900;		/* flag wins over scenario */
	flags.max_p99_wake_latency_us = INFINITY;	/* flag turns it off */
	flags.min_iterations_per_sec = 100;	/* flag turns it on */
	flags.starvation = 0;
	verdict_thresholds(&scen, &flags, &out);
	assert_true(out.max_spread_pct == 30);
	assert_true(out.max_gap_ms == 900);
	assert_true(isnan(out.max_p99_wake_latency_us));
	assert_true(out.min_iterations_per_sec == 100);
	assert_true(isnan(out.max_migration_ratio));
	assert_int_equal(out.isolation, 0);
	assert_int_equal(out.starvation, 0);
	/* Flag back on over a scenario's off. */
	flags.isolation = 1;
	verdict_thresholds(&scen, &flags, &out);
	assert_int_equal(out.isolation, 1);
	/* Off for a default-on threshold. */
	flags.max_spread_pct = INFINITY;
	verdict_thresholds(&scen, &flags, &out);
	assert_true(isnan(out.max_spread_pct));
}

static void test_thresholds_from_stream(void **state)
{
	struct verdict v;
	struct checks flags;

	/* The scenario lowers the spread limit: 12.3% now fails. */
	judge(&v, VM_START "\n"
	      START("null", "{\"max_spread_pct\":10,\"max_gap_ms\":null,\"isolation\":true}") "\n"
	      CG("cg_0", "12.3", "890", "") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "unfair: cg_0 spread 12.3% > 10%");
	/* scenario_start carries effective thresholds: null is off. */
	assert_true(isnan(v.limits.max_gap_ms));
	assert_null(find_check(&v, "gap", "cg_0"));
	verdict_release(&v);

	/* A missing key is not set: the default applies. */
	judge(&v, VM_START "\n" START("null", "{\"max_spread_pct\":10}") "\n"
	      CG("cg_0", "1", "2500", "") "\n" END, NULL, NULL);
	assert_true(v.limits.max_gap_ms == 2000);
	assert_string_equal(only_failure(&v)->check, "gap");
	verdict_release(&v);

	/* A flag turns back on what the scenario turned off. */
	checks_init(&flags);
	flags.max_gap_ms = 1000;
	judge(&v, VM_START "\n" START("null", "{\"max_gap_ms\":null}") "\n"
	      CG("cg_0", "1", "2500", "") "\n" END, &flags, NULL);
	assert_string_equal(only_failure(&v)->check, "gap");
	verdict_release(&v);

	/* A flag puts it back. */
	checks_init(&flags);
	flags.max_spread_pct = 15;
	judge(&v, VM_START "\n"
	      START("null", "{\"max_spread_pct\":10}") "\n"
	      CG("cg_0", "12.3", "890", "") "\n" END, &flags, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	assert_true(find_check(&v, "spread", "cg_0")->limit == 15);
	verdict_release(&v);
}

/* ---- the checks --------------------------------------------------------- */

static void test_pass_and_margins(void **state)
{
	struct verdict v;
	const struct verdict_check *c;

	judge(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "5.1", "500", CLEAN) "\n" END,
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	assert_null(v.reason);
	assert_int_equal(v.n_failures, 0);
	c = find_check(&v, "spread", "cg_0");
	assert_non_null(c);
	assert_true(c->pass);
	assert_true(fabs(verdict_margin_pct(c) - 66.0) < 1e-9);
	c = find_check(&v, "gap", "cg_0");
	assert_true(fabs(verdict_margin_pct(c) - 75.0) < 1e-9);
	c = find_check(&v, "isolation", "cg_0");
	assert_true(c->pass);
	assert_true(isnan(verdict_margin_pct(c)));	/* limit 0 */
	c = find_check(&v, "starvation", "cg_0");
	assert_true(c->pass);
	/* Off by default: not evaluated. */
	assert_null(find_check(&v, "p99_wake_latency", "cg_0"));
	assert_null(find_check(&v, "iteration_rate", "cg_0"));
	assert_null(find_check(&v, "migration_ratio", "cg_0"));
	/* EEVDF run: no scheduler check. */
	assert_null(find_check(&v, "scheduler", NULL));
	verdict_release(&v);
}

static void test_margin_directions(void **state)
{
	struct verdict_check c = { .value = 3500, .limit = 2000, .bound = VERDICT_AT_MOST };

	assert_true(fabs(verdict_margin_pct(&c) + 75.0) < 1e-9);
	c.bound = VERDICT_AT_LEAST;
	c.value = 1200;
	c.limit = 1000;
	assert_true(fabs(verdict_margin_pct(&c) - 20.0) < 1e-9);
	c.value = 500;
	assert_true(fabs(verdict_margin_pct(&c) + 50.0) < 1e-9);
	c.bound = VERDICT_NONE;
	assert_true(isnan(verdict_margin_pct(&c)));
}

static void test_gap(void **state)
{
	struct verdict v;
	const struct verdict_check *f;

	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5.1", "3500", "") "\n" END,
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "gap");
	assert_string_equal(f->cgroup, "cg_0");
	assert_string_equal(f->message, "stuck 3500ms on cpu1 at +1200ms (cg_0)");
	assert_true(f->value == 3500 && f->limit == 2000);
	/* Equal to the limit passes. */
	verdict_release(&v);
	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5.1", "2000", "") "\n" END,
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_release(&v);
}

static void test_gap_without_cpu(void **state)
{
	struct verdict v;
	struct warned w;

	/* The engine writes -1 when it has no CPU: not a value to warn about. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"worst_gap_ms\":2500.25,"
	      "\"worst_gap_cpu\":-1,\"worst_gap_at_ms\":70}\n" END, NULL, &w);
	assert_int_equal(w.n, 0);
	assert_string_equal(only_failure(&v)->message, "stuck 2500.25ms at +70ms (cg_0)");
	verdict_release(&v);
}

static void test_spread(void **state)
{
	struct verdict v;

	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5.1", "10", "") "\n"
	      CG("cg_1", "23.4", "10", "") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "unfair: cg_1 spread 23.4% > 15%");
	verdict_release(&v);
}

static void test_starvation_from_workers(void **state)
{
	struct verdict v;
	struct checks flags;

	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":0,\"pid\":122,\"iterations\":50}\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":1,\"pid\":123,\"iterations\":0}\n"
	      END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "starved: cg_0 worker 1 (pid 123) did no work");
	verdict_release(&v);

	/* Turned off by flag. */
	checks_init(&flags);
	flags.starvation = 0;
	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":1,\"pid\":123,\"iterations\":0}\n"
	      END, &flags, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	assert_null(find_check(&v, "starvation", "cg_0"));
	verdict_release(&v);
}

static void test_starvation_from_count(void **state)
{
	struct verdict v;

	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5", "10", ",\"starved_workers\":2") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "starved: cg_0 2 workers did no work");
	assert_true(only_failure(&v)->value == 2);
	verdict_release(&v);
}

static void test_background_excluded(void **state)
{
	struct verdict v;

	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"worker\",\"cgroup\":\"noise\",\"index\":0,\"pid\":9,\"iterations\":0}\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"noise\",\"background\":true,"
	      "\"spread_pct\":90,\"worst_gap_ms\":9000,\"isolation_violations\":4,"
	      "\"starved_workers\":1}\n"
	      CG("cg_0", "5", "10", "") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	for (size_t i = 0; i < v.n_checks; i++)
		assert_true(!v.checks[i].cgroup || strcmp(v.checks[i].cgroup, "noise"));
	verdict_release(&v);
}

static void test_crash(void **state)
{
	struct verdict v;

	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":3,\"pid\":77,\"iterations\":5,"
	      "\"crashed\":true,\"signal\":11}\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "worker crashed: cg_0 worker 3 (pid 77) killed by SIGSEGV");
	verdict_release(&v);
}

static void test_isolation(void **state)
{
	struct verdict v;
	struct checks flags;

	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5", "10", ",\"cpuset\":\"0-1\",\"isolation_violations\":3,"
		 "\"violating_cpus\":[3]") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "cpuset violated: cg_0 ran on cpu 3 outside 0-1");
	verdict_release(&v);

	/* Several CPUs become a cpulist. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5", "10", ",\"cpuset\":\"0-1\",\"isolation_violations\":3,"
		 "\"violating_cpus\":[5,3,2,7]") "\n" END, NULL, NULL);
	assert_string_equal(only_failure(&v)->message,
			    "cpuset violated: cg_0 ran on cpus 2-3,5,7 outside 0-1");
	verdict_release(&v);

	/* No CPU list at all. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5", "10", ",\"isolation_violations\":1") "\n" END, NULL, NULL);
	assert_string_equal(only_failure(&v)->message,
			    "cpuset violated: cg_0 ran outside its cpuset (1 violation)");
	verdict_release(&v);

	/* --no-isolation. */
	checks_init(&flags);
	flags.isolation = 0;
	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5", "10", ",\"isolation_violations\":1") "\n" END, &flags, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_release(&v);
}

static void test_p99(void **state)
{
	struct verdict v;
	const struct verdict_check *c;

	judge(&v, VM_START "\n" START("null", "{\"max_p99_wake_latency_us\":500}") "\n"
	      CG("cg_0", "5", "10", ",\"p99_wake_latency_us\":850") "\n"
	      CG("cg_1", "5", "10", ",\"p99_wake_latency_us\":400") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "slow wakeups: cg_0 p99 wake latency 850us > 500us");
	c = find_check(&v, "p99_wake_latency", "cg_1");
	assert_true(c->pass);
	assert_true(fabs(verdict_margin_pct(c) - 20.0) < 1e-9);
	verdict_release(&v);
}

static void test_iteration_rate(void **state)
{
	struct verdict v;
	struct checks flags;
	const struct verdict_check *f;

	checks_init(&flags);
	flags.min_iterations_per_sec = 2000;
	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5", "10", "") "\n" END,
	      &flags, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "iteration_rate");
	assert_int_equal(f->bound, VERDICT_AT_LEAST);
	assert_string_equal(f->message, "too little progress: cg_0 1522.7 iterations/s < 2000");
	verdict_release(&v);
}

static void test_migration_ratio(void **state)
{
	struct verdict v;
	const struct verdict_check *f;

	/* 4 migrations / 15230 iterations = 0.000263 */
	judge(&v, VM_START "\n" START("null", "{\"max_migration_ratio\":0.0001}") "\n"
	      CG("cg_0", "5", "10", "") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "migration_ratio");
	assert_true(fabs(f->value - 4.0 / 15230) < 1e-12);
	verdict_release(&v);

	/* No iterations: no ratio to judge. */
	judge(&v, VM_START "\n" START("null", "{\"max_migration_ratio\":0.0001}") "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"migrations\":4,\"iterations\":0}\n"
	      END, NULL, NULL);
	assert_null(find_check(&v, "migration_ratio", "cg_0"));
	verdict_release(&v);
}

static void test_scheduler_died(void **state)
{
	struct verdict v;
	const struct verdict_check *f;

	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"scheduler\",\"event\":\"attached\",\"name\":\"scx_simple\"}\n"
	      "{\"type\":\"scheduler\",\"event\":\"died\",\"name\":\"scx_simple\","
	      "\"reason\":\"runnable task stall\",\"at_ms\":3200,"
	      "\"kernel_log\":[\"sched_ext: disabled\",\"stall\"],\"output\":[\"EXIT\"]}\n"
	      "{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"second\"}\n"
	      CG("cg_0", "5", "10", "") "\n"
	      "{\"type\":\"scenario_end\",\"scheduler_alive\":false}", NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	f = only_failure(&v);
	assert_string_equal(f->check, "scheduler");
	assert_null(f->cgroup);
	assert_string_equal(f->message, "scheduler died at +3200ms: runnable task stall");
	assert_int_equal(f->kernel_log.n, 2);
	assert_string_equal(f->kernel_log.v[1], "stall");
	assert_int_equal(f->output.n, 1);
	verdict_release(&v);
}

static void test_scheduler_attach_failed(void **state)
{
	struct verdict v;

	/* attach_failed followed by scenario_error: the failure explains it. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"scheduler\",\"event\":\"attach_failed\",\"name\":\"scx_simple\","
	      "\"reason\":\"load failed\",\"output\":\"line one\\nline two\"}\n"
	      "{\"type\":\"scenario_error\",\"message\":\"scheduler did not attach\"}\n"
	      VM_EXIT("exited"), NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message, "scheduler failed to attach: load failed");
	assert_int_equal(only_failure(&v)->output.n, 2);
	verdict_release(&v);
}

static void test_scheduler_gone_at_end(void **state)
{
	struct verdict v;

	/* The engine's end record when the scheduler never attached. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"scenario_end\",\"elapsed_ms\":0,\"workers\":0,"
	      "\"scheduler_alive\":false,\"error\":\"the scheduler did not attach\"}",
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->message,
			    "scheduler failed: the scheduler did not attach");
	verdict_release(&v);
	/* The same "error" without a scheduler: the run did not happen. */
	judge(&v, VM_START "\n" START_DEFAULT "\n"
	      "{\"type\":\"scenario_end\",\"error\":\"no workers\"}", NULL, NULL);
	assert_int_equal(v.result, VERDICT_ERROR);
	assert_string_equal(v.reason, "scenario error: no workers");
	verdict_release(&v);

	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5", "10", "") "\n"
	      "{\"type\":\"scenario_end\",\"scheduler_alive\":false}", NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_string_equal(only_failure(&v)->check, "scheduler");
	verdict_release(&v);

	/* EEVDF: scheduler_alive means nothing. */
	judge(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "5", "10", "") "\n"
	      "{\"type\":\"scenario_end\",\"scheduler_alive\":false}", NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_release(&v);
}

/* ---- outcomes ------------------------------------------------------------ */

static void expect(const char *text, enum verdict_result want, const char *reason_part)
{
	struct verdict v;

	judge(&v, text, NULL, NULL);
	if (v.result != want)
		fail_msg("got %s (%s), want %s", verdict_result_name(v.result),
			 v.reason ? v.reason : "-", verdict_result_name(want));
	if (reason_part) {
		assert_non_null(v.reason);
		if (!strstr(v.reason, reason_part))
			fail_msg("reason '%s' lacks '%s'", v.reason, reason_part);
	}
	verdict_release(&v);
}

static void test_outcome_skip(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;

	expect(VM_START "\n{\"type\":\"scenario_skip\",\"reason\":\"needs 4 LLCs\"}\n"
	       VM_EXIT("exited"), VERDICT_SKIP, "needs 4 LLCs");
	/* As ktstr-vm prints it instead of booting: the only record. */
	judge(&v, "{\"type\":\"scenario_skip\",\"name\":\"llc_spread\","
	      "\"topology\":\"1,1,2,1\",\"reason\":\"needs 2 LLCs\"}", NULL, NULL);
	assert_int_equal(v.result, VERDICT_SKIP);
	verdict_format(&v, &sb);
	assert_string_equal(sb.buf, "ktstr 'llc_spread' [topo=1n1l2c1t sched=?] skipped:"
			    " needs 2 LLCs\n");
	strbuf_release(&sb);
	verdict_release(&v);
}

/* One input is one run: what begins a second one makes the verdict an
 * error naming its line, and nothing after it is read (`>>` onto one
 * file, `cat a b |`). */
static void test_outcome_second_run(void **state)
{
#define RUN(cg) VM_START "\n" START_SCX "\n" cg "\n" END "\n" VM_EXIT("exited")
#define SKIP "{\"type\":\"scenario_skip\",\"reason\":\"needs 4 LLCs\"}"
	struct verdict v;

	/* A passing run, then a failing one: not a pass, and the second's
	 * cgroup is not the first's. */
	judge(&v, RUN(CG("cg_0", "5", "10", "")) "\n" RUN(CG("cg_0", "40", "10", "")), NULL,
	      NULL);
	assert_int_equal(v.result, VERDICT_ERROR);
	assert_string_equal(v.next_run, "a vm_start after a vm_exit");
	assert_int_equal(v.next_run_line, 6);
	assert_string_equal(v.reason, "line 6 starts a second run (a vm_start after a vm_exit):"
			    " one input is one run; give each run its own file");
	assert_int_equal(v.n_cgroups, 1);
	verdict_release(&v);
	expect(RUN(CG("cg_0", "40", "10", "")) "\n" RUN(CG("cg_0", "5", "10", "")),
	       VERDICT_ERROR, "line 6 starts a second run");
	/* Without vm_start and vm_exit (host mode, a cut stream). */
	expect(START_SCX "\n" END "\n" START_SCX "\n" END, VERDICT_ERROR,
	       "line 3 starts a second run (a second scenario_start)");
	expect(VM_START "\n" VM_START, VERDICT_ERROR, "(a second vm_start)");
	expect(SKIP "\n" RUN(CG("cg_0", "5", "10", "")), VERDICT_ERROR,
	       "line 2 starts a second run (a vm_start after a scenario_skip)");
	expect(RUN(CG("cg_0", "5", "10", "")) "\n" SKIP, VERDICT_ERROR,
	       "line 6 starts a second run (a scenario_skip after a scenario_start)");
	expect(SKIP "\n" SKIP, VERDICT_ERROR, "(a second scenario_skip)");
	/* ktstr-vm's TCG retry after a KVM failure is the same run, with a
	 * vm_start of its own. */
	expect(VM_START "\n{\"type\":\"accel_retry\",\"from\":\"kvm\",\"to\":\"tcg\"}\n"
	       RUN(CG("cg_0", "5", "10", "")), VERDICT_PASS, NULL);
	expect(VM_START "\n{\"type\":\"accel_retry\"}\n" RUN(CG("cg_0", "5", "10", "")) "\n"
	       VM_START, VERDICT_ERROR, "line 8 starts a second run (a vm_start after a vm_exit)");
#undef RUN
#undef SKIP
}

static void test_outcome_truncated(void **state)
{
	struct verdict v;

	expect(VM_START "\n" START_SCX "\n" CG("cg_0", "5", "10", ""), VERDICT_INCONCLUSIVE,
	       "truncated");
	/* Cut mid-line: the piece is a bad line, the rest still counts. */
	verdict_init(&v);
	assert_int_equal(feed(&v, VM_START "\n" START_SCX "\n{\"type\":\"cgroup_st"), 1);
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_INCONCLUSIVE);
	assert_int_equal(v.bad_lines, 1);
	verdict_release(&v);
}

static void test_outcome_truncated_but_decisive(void **state)
{
	expect(VM_START "\n" START_SCX "\n"
	       "{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"stall\"}\n"
	       "{\"type\":\"cgro", VERDICT_FAIL, NULL);
	expect(VM_START "\n" START_SCX "\n" CG("cg_0", "40", "10", ""), VERDICT_FAIL, NULL);
}

static void test_outcome_vm_exits(void **state)
{
	expect(VM_START "\n" START_SCX "\n" VM_EXIT("interrupted"), VERDICT_INCONCLUSIVE,
	       "interrupted");
	expect(VM_START "\n" START_SCX "\n"
	       "{\"type\":\"vm_exit\",\"reason\":\"panic\",\"panic\":\"Kernel panic - not syncing: x\"}",
	       VERDICT_FAIL, NULL);
	expect(VM_START "\n" START_SCX "\n" VM_EXIT("timeout"), VERDICT_FAIL, NULL);
	/* Overrunning after scenario_end is not a scenario failure. */
	expect(VM_START "\n" START_SCX "\n" CG("cg_0", "5", "10", "") "\n" END "\n"
	       VM_EXIT("timeout"), VERDICT_PASS, NULL);
	/* A panic is never fine. */
	expect(VM_START "\n" START_SCX "\n" CG("cg_0", "5", "10", "") "\n" END "\n"
	       VM_EXIT("panic"), VERDICT_FAIL, NULL);
	expect(VM_START "\n" VM_EXIT("qemu_error"), VERDICT_ERROR, "QEMU failed: msg");
	expect(VM_START "\n" START_SCX "\n" VM_EXIT("agent_error"), VERDICT_ERROR,
	       "guest agent error");
	expect(VM_START "\n" VM_EXIT("no_agent"), VERDICT_ERROR, "never came up");
	expect(VM_START "\n{\"type\":\"agent_ready\"}\n" START_SCX "\n" VM_EXIT("no_agent"),
	       VERDICT_FAIL, NULL);
	expect(VM_START "\n" START_SCX "\n{\"type\":\"exit\",\"exit_code\":139}\n"
	       VM_EXIT("exited"), VERDICT_INCONCLUSIVE, "status 139");
}

static void test_outcome_errors(void **state)
{
	struct verdict v;

	expect("", VERDICT_ERROR, "empty input");
	expect("\n  \n", VERDICT_ERROR, "empty input");
	expect("garbage\nmore garbage", VERDICT_ERROR, "none of the 2 input lines");
	expect("{\"type\":\"something_else\"}", VERDICT_ERROR, "no ktstr records");
	expect(VM_START "\n{\"type\":\"output\",\"stream\":\"stdout\",\"line\":\"hi\"}\n"
	       VM_EXIT("exited"), VERDICT_ERROR, "not a scenario run");
	expect(VM_START "\n" START_SCX "\n{\"type\":\"scenario_error\",\"message\":\"no cgroup\"}\n"
	       VM_EXIT("exited"), VERDICT_ERROR, "scenario error: no cgroup");
	expect(VM_START "\n" START_SCX "\n{\"type\":\"agent_error\",\"message\":\"bad request\"}",
	       VERDICT_ERROR, "guest agent error: bad request");
	/* Error wins over skip. */
	expect(VM_START "\n{\"type\":\"scenario_skip\",\"reason\":\"x\"}\n" VM_EXIT("qemu_error"),
	       VERDICT_ERROR, NULL);
	/* The last guest output is kept for the report. */
	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"1\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"2\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"3\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"4\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"5\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"6\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"7\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"8\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"9\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"10\"}\n"
	      "{\"type\":\"output\",\"stream\":\"stderr\",\"line\":\"11\"}\n"
	      "{\"type\":\"scenario_error\",\"message\":\"boom\"}", NULL, NULL);
	assert_int_equal(v.output_tail.n, 10);
	assert_string_equal(v.output_tail.v[0], "2");
	assert_string_equal(v.output_tail.v[9], "11");
	verdict_release(&v);
}

/* ---- malformed input ------------------------------------------------------ */

static void test_bad_lines(void **state)
{
	struct verdict v;
	struct strbuf err = STRBUF_INIT;

	verdict_init(&v);
	assert_int_equal(verdict_feed_line(&v, "{\"type\":", 8, 7, &err), -1);
	assert_non_null(strstr(err.buf, "invalid JSON at column"));
	strbuf_reset(&err);
	assert_int_equal(verdict_feed_line(&v, "[1]", 3, 8, &err), -1);
	assert_string_equal(err.buf, "record is not a JSON object");
	strbuf_reset(&err);
	assert_int_equal(verdict_feed_line(&v, "{\"type\":3}", 10, 9, &err), -1);
	strbuf_reset(&err);
	/* Blank lines and CRLF endings are fine. */
	assert_int_equal(verdict_feed_line(&v, " \r", 2, 10, &err), 0);
	assert_int_equal(verdict_feed_line(&v, VM_START "\r", strlen(VM_START) + 1, 11, &err), 0);
	/* Embedded NUL. */
	assert_int_equal(verdict_feed_line(&v, "{\"type\":\"x\0\"}", 13, 12, &err), -1);
	strbuf_reset(&err);
	/* Duplicate keys are ambiguous, so rejected. */
	assert_int_equal(verdict_feed_line(&v, "{\"type\":\"a\",\"type\":\"b\"}", 23, 13, &err), -1);
	assert_int_equal(v.bad_lines, 5);
	assert_int_equal(v.records, 1);
	assert_true(v.saw_vm_start);
	strbuf_release(&err);
	verdict_release(&v);
}

static void test_weird_values(void **state)
{
	struct verdict v;
	struct warned w;
	const struct verdict_check *c;

	judge(&v, VM_START "\n"
	      START("42", "{\"max_spread_pct\":\"fifteen\",\"isolation\":\"yes\","
		    "\"max_gap_ms\":-5}") "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"spread_pct\":\"NaN\","
	      "\"worst_gap_ms\":1e400,\"migrations\":-4,\"iterations\":{},"
	      "\"isolation_violations\":null,\"violating_cpus\":{\"x\":1},\"background\":7}\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_1\",\"spread_pct\":\"9.9\","
	      "\"worst_gap_ms\":123456789012345678901234567890}\n"
	      "{\"type\":\"worker\",\"cgroup\":[1],\"iterations\":\"0\",\"signal\":\"KILL\"}\n"
	      "{\"type\":\"sched_ext_events\",\"deltas\":{\"A\":\"x\",\"B\":2}}\n"
	      END, NULL, &w);
	/* 1e400 overflows jansson's reals: that whole line is lost, reported
	 * by the caller; the huge integer is read as a real and warned about. */
	assert_int_equal(v.bad_lines, 1);
	assert_int_equal(v.result, VERDICT_PASS);
	assert_true(v.limits.max_spread_pct == 15);	/* bad value: default */
	assert_true(v.limits.max_gap_ms == 2000);
	assert_int_equal(v.limits.isolation, 1);
	assert_null(v.scheduler);
	assert_int_equal(v.n_cgroups, 1);
	assert_true(isnan(v.cgroups[0].spread_pct));
	assert_true(isnan(v.cgroups[0].worst_gap_ms));
	assert_null(find_check(&v, "spread", "cg_1"));
	assert_null(find_check(&v, "gap", "cg_1"));
	/* The worker's cgroup became "?"; its string iterations are missing,
	 * so it does not count as starved. */
	c = find_check(&v, "starvation", "?");
	assert_non_null(c);
	assert_true(c->pass);
	assert_true(w.n >= 8);
	/* Said once per field: spread_pct was bad twice. */
	{
		unsigned n = 0;

		for (size_t i = 0; i < v.warnings.n; i++)
			if (strstr(v.warnings.v[i], "cgroup_stats.spread_pct"))
				n++;
		assert_int_equal(n, 1);
	}
	assert_int_equal(w.n, v.warnings.n);
	verdict_release(&v);
}

static void test_warning_line_numbers(void **state)
{
	struct verdict v;
	struct warned w;

	judge(&v, VM_START "\n" START_SCX "\n\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"spread_pct\":true}", NULL, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.last_line, 4);
	assert_non_null(strstr(w.last, "cgroup_stats.spread_pct: expected a number, got a boolean"));
	verdict_release(&v);
}

static void test_control_chars_in_messages(void **state)
{
	struct verdict v;

	judge(&v, VM_START "\n" START_SCX "\n"
	      "{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"two\\nlines\\u0007\"}",
	      NULL, NULL);
	assert_string_equal(only_failure(&v)->message, "scheduler died: two lines");
	verdict_release(&v);
}

/* ---- output -------------------------------------------------------------- */

static void test_json_shape(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;
	json_t *j, *f, *c;

	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5.1", "3500", "") "\n"
	      "{\"type\":\"sched_ext_events\",\"deltas\":{\"SCX_EV_A\":2,\"SCX_EV_Z\":0}}\n"
	      "{\"type\":\"sched_ext_events\",\"deltas\":{\"SCX_EV_A\":3}}\n" END, NULL, NULL);
	j = verdict_to_json(&v, "run.jsonl");
	assert_string_equal(json_get_str(j, "type"), "verdict");
	assert_string_equal(json_get_str(j, "source"), "run.jsonl");
	assert_string_equal(json_get_str(j, "scenario"), "steady");
	assert_string_equal(json_get_str(j, "topology"), "1n2l2c1t");
	assert_string_equal(json_get_str(j, "scheduler"), "scx_simple");
	assert_string_equal(json_get_str(j, "result"), "fail");
	assert_true(json_is_null(json_object_get(j, "reason")));
	f = json_array_get(json_object_get(j, "failures"), 0);
	assert_string_equal(json_get_str(f, "check"), "gap");
	assert_string_equal(json_get_str(f, "cgroup"), "cg_0");
	assert_int_equal(json_get_int(f, "value", 0), 3500);
	assert_int_equal(json_get_int(f, "limit", 0), 2000);
	assert_non_null(json_get_str(f, "message"));
	/* Spread: margin 66.0, encoded as a real. */
	for (size_t i = 0; i < json_array_size(json_object_get(j, "checks")); i++) {
		c = json_array_get(json_object_get(j, "checks"), i);
		if (strcmp(json_get_str(c, "check"), "spread"))
			continue;
		assert_true(json_is_real(json_object_get(c, "margin_pct")));
		assert_true(json_real_value(json_object_get(c, "margin_pct")) == 66.0);
		assert_true(json_is_true(json_object_get(c, "pass")));
	}
	c = json_object_get(json_object_get(j, "stats"), "sched_ext_events");
	assert_int_equal(json_get_int(c, "SCX_EV_A", 0), 5);
	assert_null(json_object_get(c, "SCX_EV_Z"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "stats"), "cgroups")), 1);
	assert_true(json_is_true(json_object_get(json_object_get(j, "thresholds"), "isolation")));
	/* One line. */
	jsonl_encode(&sb, j);
	assert_ptr_equal(strchr(sb.buf, '\n'), sb.buf + sb.len - 1);
	strbuf_release(&sb);
	json_decref(j);
	verdict_release(&v);
}

static void test_stats_without_end(void **state)
{
	struct verdict v;
	json_t *j, *st;

	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "5.1", "300", "") "\n"
	      CG("cg_1", "9.5", "800", ""), NULL, NULL);
	assert_int_equal(v.result, VERDICT_INCONCLUSIVE);
	j = verdict_to_json(&v, NULL);
	assert_null(json_object_get(j, "source"));
	st = json_object_get(j, "stats");
	assert_int_equal(json_get_int(st, "workers", 0), 4);
	assert_int_equal(json_get_int(st, "cpus", 0), 4);	/* scenario_start's */
	assert_int_equal(json_get_int(st, "migrations", 0), 8);
	assert_int_equal(json_get_int(st, "worst_gap_ms", 0), 800);
	assert_true(json_real_value(json_object_get(st, "worst_spread_pct")) == 9.5);
	assert_true(json_is_null(json_object_get(st, "elapsed_ms")));
	json_decref(j);
	verdict_release(&v);
}

static void test_human_fail(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;

	judge(&v, VM_START "\n" START_SCX "\n"
	      CG("cg_0", "5.1", "3500", "") "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_1\",\"workers\":2,\"cpus\":2,"
	      "\"spread_pct\":12.3,\"worst_gap_ms\":890,\"migrations\":4,\"iterations\":14870,"
	      "\"p99_wake_latency_us\":120}\n"
	      "{\"type\":\"scenario_end\",\"workers\":4,\"cpus\":4,\"migrations\":8,"
	      "\"worst_spread_pct\":12.3,\"worst_gap_ms\":3500}", NULL, NULL);
	verdict_format(&v, &sb);
	assert_string_equal(sb.buf,
		"ktstr 'steady' [topo=1n2l2c1t sched=scx_simple] failed:\n"
		"  stuck 3500ms on cpu1 at +1200ms (cg_0)\n"
		"--- stats ---\n"
		"4 workers, 4 cpus, 8 migrations, worst_spread=12.3%, worst_gap=3500ms\n"
		"cg_0: workers=2 cpus=2 spread=5.1% gap=3500ms migrations=4 iter=15230\n"
		"cg_1: workers=2 cpus=2 spread=12.3% gap=890ms migrations=4 iter=14870"
		" p99_wake=120us\n");
	strbuf_release(&sb);
	verdict_release(&v);
}

static void test_human_pass_and_skip(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;

	judge(&v, VM_START "\n" START_DEFAULT "\n"
	      "{\"type\":\"sched_ext_events\",\"deltas\":{\"SCX_EV_X\":0,\"SCX_EV_Y\":4}}\n"
	      END, NULL, NULL);
	verdict_format(&v, &sb);
	assert_string_equal(sb.buf,
		"ktstr 'steady' [topo=1n2l2c1t sched=eevdf] passed\n"
		"--- stats ---\n"
		"4 workers, 4 cpus, 8 migrations, worst_spread=12.3%, worst_gap=890ms\n"
		"sched_ext events: SCX_EV_Y=4\n");
	strbuf_release(&sb);
	verdict_release(&v);

	judge(&v, VM_START "\n{\"type\":\"scenario_skip\",\"reason\":\"needs SMT\"}", NULL, NULL);
	verdict_format(&v, &sb);
	assert_string_equal(sb.buf, "ktstr '?' [topo=1n2l2c1t sched=?] skipped: needs SMT\n");
	strbuf_release(&sb);
	verdict_release(&v);
}

static void test_human_scheduler_details(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;

	judge(&v, START_SCX "\n"
	      "{\"type\":\"scheduler\",\"event\":\"died\",\"reason\":\"stall\","
	      "\"kernel_log\":[\"k1\"],\"output\":[\"o1\",\"o2\"]}", NULL, NULL);
	verdict_format(&v, &sb);
	/* topo from scenario_start when vm_start is missing */
	assert_string_equal(sb.buf,
		"ktstr 'steady' [topo=1n2l2c1t sched=scx_simple] failed:\n"
		"  scheduler died: stall\n"
		"    kernel log:\n"
		"      k1\n"
		"    scheduler output:\n"
		"      o1\n"
		"      o2\n");
	strbuf_release(&sb);
	verdict_release(&v);
}

/* ---- issue 11: scale, infrastructure, secondary failures, workers ----- */

/* 200k cgroups and 200k workers, each name its own: the grouping must stay
 * linear (a scan per name took minutes here), and still judge every name
 * in order of first appearance.  Speed itself is measured by make bench. */
static void test_many_cgroups(void **state)
{
	enum { N = 200000 };
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct verdict v;
	size_t i, spread = 0, starved = 0, last = 0;
	unsigned long line = 0;

	verdict_init(&v);
	assert_int_equal(verdict_feed_line(&v, VM_START, strlen(VM_START), ++line, &err), 0);
	assert_int_equal(verdict_feed_line(&v, START_DEFAULT, strlen(START_DEFAULT), ++line,
					   &err), 0);
	/* workers first, in reverse: names first seen in worker records */
	for (i = N; i-- > 0;) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "{\"type\":\"worker\",\"cgroup\":\"cg_%zu\",\"index\":0,"
			    "\"pid\":%zu,\"iterations\":%d}", i, 1000 + i, i % 5000 == 7 ? 0 : 10);
		assert_int_equal(verdict_feed_line(&v, sb.buf, sb.len, ++line, &err), 0);
	}
	for (i = 0; i < N; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_%zu\",\"workers\":1,"
			    "\"cpus\":1,\"background\":false,\"spread_pct\":%d,\"worst_gap_ms\":1,"
			    "\"iterations\":10,\"isolation_violations\":0}", i,
			    i % 1000 == 3 ? 90 : 1);
		assert_int_equal(verdict_feed_line(&v, sb.buf, sb.len, ++line, &err), 0);
	}
	/* one name only in a worker record, one background cgroup */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"type\":\"worker\",\"cgroup\":\"lonely\",\"index\":0,\"iterations\":0}");
	assert_int_equal(verdict_feed_line(&v, sb.buf, sb.len, ++line, &err), 0);
	assert_int_equal(verdict_feed_line(&v, END, strlen(END), ++line, &err), 0);
	verdict_finish(&v, NULL);

	assert_int_equal(v.result, VERDICT_FAIL);
	/* N spread + N gap + N isolation + N starvation + N crash, and
	 * lonely's starvation and crash */
	assert_int_equal(v.n_checks, 5 * (size_t)N + 2);
	for (i = 0; i < v.n_checks; i++) {
		const struct verdict_check *c = &v.checks[i];

		if (c->pass)
			continue;
		if (!strcmp(c->check, "spread")) {
			/* in cgroup_stats order */
			size_t k = strtoul(c->cgroup + 3, NULL, 10);

			assert_int_equal(k % 1000, 3);
			assert_true(!spread || k > last);
			last = k;
			spread++;
		} else {
			assert_string_equal(c->check, "starvation");
			starved++;
		}
	}
	assert_int_equal(spread, N / 1000);
	assert_int_equal(starved, N / 5000 + 1);
	/* lonely came last: only a worker named it */
	assert_string_equal(v.checks[v.n_checks - 1].cgroup, "lonely");
	/* the stats still list every cgroup record */
	assert_int_equal(v.n_cgroups, N);
	strbuf_release(&sb);
	strbuf_release(&err);
	verdict_release(&v);
}

/* The reason for an infrastructure error, whole: ktstr-vm's own messages
 * already name their kind, and read once. */
static void expect_infra(const char *reason, const char *msg, const char *want)
{
	struct strbuf text = STRBUF_INIT;
	struct verdict v;

	strbuf_addf(&text, VM_START "\n{\"type\":\"vm_exit\",\"reason\":\"%s\","
		    "\"exit_code\":-1,\"wall_ms\":700,\"message\":\"%s\"}", reason, msg);
	judge(&v, text.buf, NULL, NULL);
	assert_int_equal(v.result, VERDICT_ERROR);
	assert_non_null(v.reason);
	assert_string_equal(v.reason, want);
	verdict_release(&v);
	strbuf_release(&text);
}

/* Each message lib/vm/vm.c gives these kinds, as it gives it. */
static void test_infra_reason_once(void **state)
{
	static const char bios[] = "QEMU failed: qemu: could not load PC BIOS '/tmp/fw.rom'";
	static const char died[] = "QEMU died of Segmentation fault";
	static const char after[] = "QEMU failed after boot (exit 1): qemu-system-x86_64: oops";
	static const char deadline[] = "the guest agent did not start within the 42 s boot "
		"deadline (tcg, 4 vCPUs); see the console tail, or give it longer with --boot-timeout";
	static const char stopped[] = "the VM stopped before the guest agent started (is the "
		"kernel bootable with virtio-serial? see /tmp/c.log)";
	static const char overran[] = "the VM overran --timeout 5000 ms and was killed before "
		"the guest agent started";

	(void)state;
	expect_infra("qemu_error", bios, bios);
	expect_infra("qemu_error", died, died);
	expect_infra("qemu_error", after, after);
	expect_infra("boot_timeout", deadline, deadline);
	expect_infra("no_agent", stopped, stopped);
	expect_infra("timeout", overran, overran);
	/* A message that does not say its kind gets it said. */
	expect_infra("qemu_error", "--topo 1,1,4096,1: max CPUs; ask for fewer CPUs",
		     "QEMU failed: --topo 1,1,4096,1: max CPUs; ask for fewer CPUs");
	expect_infra("qemu_error", "qemu-system-x86_64: crashed",
		     "QEMU failed: qemu-system-x86_64: crashed");
	expect_infra("boot_timeout", "no agent after 60s",
		     "the VM did not boot in time: no agent after 60s");
	expect_infra("host_error", "QEMU x", "host-side error: QEMU x");
}

/* A failed boot, a QEMU crash or a host problem is an error, even when
 * the stream also holds a failing check: it says nothing of the scheduler. */
static void test_infra_errors(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	json_t *j;

	expect(VM_START "\n" VM_EXIT("boot_timeout"), VERDICT_ERROR, "did not boot in time: msg");
	expect(VM_START "\n" VM_EXIT("host_error"), VERDICT_ERROR, "host-side error: msg");
	expect(VM_START "\n" VM_EXIT("timeout"), VERDICT_ERROR,
	       "timeout before the guest agent came up");
	expect(VM_START "\n" VM_EXIT("no_agent"), VERDICT_ERROR, "never came up: msg");
	/* ktstr-vm died on the host after vm_start: no vm_exit at all */
	expect(VM_START, VERDICT_ERROR, "host-side error: the stream ends after vm_start");
	/* ... unless the reader was interrupted: then it is cut short */
	{
		struct verdict w;

		verdict_init(&w);
		w.interrupted = true;
		feed(&w, VM_START);
		verdict_finish(&w, NULL);
		assert_int_equal(w.result, VERDICT_INCONCLUSIVE);
		verdict_release(&w);
	}
	/* qemu_error wins over a failing check */
	expect(VM_START "\n" START_SCX "\n" CG("cg_0", "40", "10", "") "\n" VM_EXIT("qemu_error"),
	       VERDICT_ERROR, "QEMU failed: msg");
	assert_int_equal(verdict_exit_code(VERDICT_ERROR), 2);

	/* the console's tail, as vm_exit carries it */
	judge(&v, VM_START "\n{\"type\":\"vm_exit\",\"reason\":\"boot_timeout\","
	      "\"message\":\"no agent after 60s\",\"console_log\":\"/nonexistent/c.log\","
	      "\"console_tail\":[\"Booting the kernel\",\"Run /init as init process\"]}",
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_ERROR);
	assert_int_equal(v.console_tail.n, 2);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, " error: the VM did not boot in time: no agent after 60s\n"
			       "  console log: /nonexistent/c.log\n"
			       "    last console lines:\n"
			       "      Booting the kernel\n"
			       "      Run /init as init process\n"));
	j = verdict_to_json(&v, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "console_log")),
			    "/nonexistent/c.log");
	assert_int_equal(json_array_size(json_object_get(j, "console_tail")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "console_tail"), 1)),
			    "Run /init as init process");
	json_decref(j);
	strbuf_release(&out);
	verdict_release(&v);
}

/* Without console_tail, the last lines of the console log file. */
static void test_infra_console_file(void **state)
{
	char dir[64], rec[512];
	struct verdict v;
	const char *log;
	FILE *f;

	assert_int_equal(tmpdir_create(dir, sizeof(dir), "verdict"), 0);
	log = tmpdir_path(dir, "console.log");
	f = fopen(log, "w");
	assert_non_null(f);
	for (int i = 1; i <= 30; i++)
		fprintf(f, "line %d\n", i);
	fprintf(f, "last\r\n");
	fclose(f);
	snprintf(rec, sizeof(rec), "{\"type\":\"vm_exit\",\"reason\":\"qemu_error\","
		 "\"message\":\"QEMU crashed\",\"console_log\":\"%s\"}", log);
	verdict_init(&v);
	feed(&v, VM_START);
	feed(&v, rec);
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_ERROR);
	assert_int_equal(v.console_tail.n, 20);
	assert_string_equal(v.console_tail.v[0], "line 12");
	assert_string_equal(v.console_tail.v[19], "last");
	/* judging again does not read it twice */
	verdict_finish(&v, NULL);
	assert_int_equal(v.console_tail.n, 20);
	verdict_release(&v);
	assert_int_equal(tmpdir_remove(dir), 0);
}

#define DIED "{\"type\":\"scheduler\",\"event\":\"died\",\"name\":\"scx_simple\"," \
	"\"reason\":\"stall\",\"at_ms\":3000}"

/* After a death, unfairness and gaps are its consequences. */
static void test_secondary_after_death(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	json_t *j, *fails;
	size_t i;

	judge(&v, VM_START "\n" START_SCX "\n" DIED "\n"
	      /* unfair, and a gap that spans the death */
	      CG("cg_0", "40", "3500", CLEAN) "\n"
	      /* a gap that closed before the death: its own failure */
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_1\",\"workers\":2,\"cpus\":2,"
	      "\"spread_pct\":1,\"worst_gap_ms\":2500,\"worst_gap_at_ms\":100,"
	      "\"iterations\":10}\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":1,\"pid\":81,\"iterations\":5,"
	      "\"stop_timeout\":true}\n"
	      "{\"type\":\"scenario_end\",\"elapsed_ms\":4000,\"scheduler_alive\":false}",
	      NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_int_equal(v.n_failures, 4);
	assert_int_equal(v.n_secondary, 2);
	assert_true(find_check(&v, "spread", "cg_0")->secondary);
	assert_true(find_check(&v, "gap", "cg_0")->secondary);
	assert_false(find_check(&v, "gap", "cg_1")->secondary);
	assert_false(find_check(&v, "scheduler", NULL)->secondary);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf,
		"failed:\n"
		"  scheduler died at +3000ms: stall\n"
		"  stuck 2500ms at +100ms (cg_1)\n"
		"  after the scheduler died (consequences, not failures of their own):\n"
		"    unfair: cg_0 spread 40.0% > 15%\n"
		"    stuck 3500ms on cpu1 at +1200ms (cg_0)\n"
		"    stop timeout: cg_0 worker 1 (pid 81) did not stop when asked and was"
		" killed\n"));
	j = verdict_to_json(&v, NULL);
	fails = json_object_get(j, "failures");
	assert_int_equal(json_array_size(fails), 4);
	for (i = 0; i < 4; i++) {
		json_t *f = json_array_get(fails, i);
		const char *chk = json_string_value(json_object_get(f, "check"));
		const char *cg = json_string_value(json_object_get(f, "cgroup"));

		assert_int_equal(json_is_true(json_object_get(f, "secondary")),
				 cg && !strcmp(cg, "cg_0") && strcmp(chk, "scheduler"));
	}
	assert_int_equal(json_array_size(json_object_get(j, "stop_timeout_workers")), 1);
	json_decref(j);
	strbuf_release(&out);
	verdict_release(&v);

	/* No death: the same failures are failures. */
	judge(&v, VM_START "\n" START_SCX "\n" CG("cg_0", "40", "10", CLEAN) "\n" END, NULL, NULL);
	assert_int_equal(v.n_secondary, 0);
	assert_false(find_check(&v, "spread", "cg_0")->secondary);
	verdict_release(&v);
}

/* Workers killed at the stop timeout are named, even in a passing run. */
static void test_stop_timeout_named(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;

	judge(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":0,\"pid\":80,\"iterations\":5}\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":1,\"pid\":81,\"iterations\":5,"
	      "\"stop_timeout\":true}\n"
	      "{\"type\":\"worker\",\"cgroup\":\"cg_0\",\"index\":2,\"pid\":82,\"iterations\":5,"
	      "\"stop_timeout\":true}\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, " passed\n  stop timeout: cg_0 worker 1 (pid 81), worker 2"
			       " (pid 82) did not stop when asked and were killed\n--- stats ---\n"));
	strbuf_release(&out);
	verdict_release(&v);
}

/* A cgroup that never ran was stuck the whole run, not 0 ms. */
static void test_never_ran_gap(void **state)
{
	struct verdict v;
	json_t *j;

	judge(&v, VM_START "\n" START_DEFAULT "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"workers\":2,\"cpus\":2,"
	      "\"spread_pct\":0,\"worst_gap_ms\":0,\"worst_gap_cpu\":1,\"iterations\":0,"
	      "\"starved_workers\":2}\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_true(v.cgroups[0].never_ran);
	assert_true(v.cgroups[0].worst_gap_ms == 5012);
	assert_string_equal(find_check(&v, "gap", "cg_0")->message,
			    "stuck 5012ms (cg_0 never ran: the whole run)");
	j = verdict_to_json(&v, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "stats"),
							    "worst_gap_ms")), 5012);
	json_decref(j);
	verdict_release(&v);
	/* no run length known: left as reported */
	judge(&v, VM_START "\n"
	      "{\"type\":\"scenario_start\",\"name\":\"x\",\"scheduler\":null}\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"worst_gap_ms\":0,\"iterations\":0}\n"
	      "{\"type\":\"scenario_end\"}", NULL, NULL);
	assert_false(v.cgroups[0].never_ran);
	verdict_release(&v);
}

/* accel in the title and the record; under TCG a note on rates. */
static void test_accel(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	struct checks flags;
	json_t *j;

	checks_init(&flags);
	flags.min_iterations_per_sec = 2000;
	judge(&v, "{\"type\":\"vm_start\",\"accel\":\"tcg\",\"topology\":\"1n2l2c1t\"}\n"
	      START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n" END, &flags, NULL);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, "ktstr 'steady' [topo=1n2l2c1t sched=eevdf accel=tcg]"
			       " failed:\n  too little progress: cg_0 1522.7 iterations/s"
			       " < 2000 (under TCG: see the note on rates)\n"));
	assert_non_null(strstr(out.buf, "\nnote: accel=tcg: QEMU runs every vCPU on one host"
			       " thread (-accel tcg,thread=single)"));
	j = verdict_to_json(&v, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "accel")), "tcg");
	assert_int_equal(json_array_size(json_object_get(j, "notes")), 1);
	json_decref(j);
	strbuf_release(&out);
	verdict_release(&v);

	/* tcg-mt: its own note (one host thread per vCPU), compare with
	 * tcg-mt only. */
	judge(&v, "{\"type\":\"vm_start\",\"accel\":\"tcg-mt\",\"topology\":\"1n2l2c1t\"}\n"
	      START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n" END, &flags, NULL);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, "< 2000 (under TCG: see the note on rates)\n"));
	assert_non_null(strstr(out.buf, "\nnote: accel=tcg-mt: QEMU emulates each vCPU on its"
			       " own host thread (-accel tcg,thread=multi)"));
	assert_null(strstr(out.buf, "note: accel=tcg:"));
	strbuf_reset(&out);
	verdict_release(&v);

	judge(&v, "{\"type\":\"vm_start\",\"accel\":\"kvm\",\"topology\":\"1n2l2c1t\"}\n"
	      START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n" END, NULL, NULL);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf, "[topo=1n2l2c1t sched=eevdf accel=kvm] passed\n"));
	assert_null(strstr(out.buf, "note:"));
	strbuf_release(&out);
	verdict_release(&v);
}

#define WK(cg, idx, cpus, off) "{\"type\":\"worker\",\"cgroup\":\"" cg "\",\"index\":" #idx \
	",\"pid\":1" #idx ",\"iterations\":100,\"cpus_used\":\"" cpus "\",\"off_cpu_pct\":" off "}"

/* Workers packed onto fewer CPUs than they had are worth lines even in a
 * passing run; spread-out workers are not. */
static void test_worker_cpus(void **state)
{
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	json_t *j;

	judge(&v, VM_START "\n" START_DEFAULT "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"packed\",\"workers\":3,\"cpus\":4,"
	      "\"cpuset\":\"0-3\",\"spread_pct\":2,\"worst_gap_ms\":5,\"iterations\":300}\n"
	      WK("packed", 0, "2", "61.5") "\n" WK("packed", 1, "2", "60") "\n"
	      WK("packed", 2, "2", "63") "\n"
	      "{\"type\":\"cgroup_stats\",\"cgroup\":\"wide\",\"workers\":2,\"cpus\":4,"
	      "\"spread_pct\":2,\"worst_gap_ms\":5,\"iterations\":300}\n"
	      WK("wide", 0, "0-1", "1") "\n" WK("wide", 1, "2,3", "1") "\n" END, NULL, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_format(&v, &out);
	assert_non_null(strstr(out.buf,
		"packed: workers=3 cpus=4 spread=2.0% gap=5ms migrations=? iter=300\n"
		"  3 workers ran on cpu 2 only (cpuset 0-3)\n"
		"  worker 0 (pid 10): cpus_used=2 off_cpu=61.5% iter=100\n"
		"  worker 1 (pid 11): cpus_used=2 off_cpu=60.0% iter=100\n"
		"  worker 2 (pid 12): cpus_used=2 off_cpu=63.0% iter=100\n"
		"wide: workers=2"));
	assert_null(strstr(out.buf, "cpus_used=0-1"));
	j = verdict_to_json(&v, NULL);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(j, "stats"), "cgroups"), 1),
		"cpus_used")), "0-3");
	json_decref(j);
	strbuf_release(&out);
	verdict_release(&v);
}

/* The reader was interrupted: a run without vm_exit was cut short. */
static void test_interrupted_reader(void **state)
{
	struct verdict v;

	verdict_init(&v);
	v.interrupted = true;
	feed(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n" END);
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_INCONCLUSIVE);
	assert_non_null(strstr(v.reason, "interrupted: the input ended without vm_exit"));
	verdict_release(&v);

	verdict_init(&v);
	v.interrupted = true;
	feed(&v, VM_START "\n" START_DEFAULT);
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_INCONCLUSIVE);
	assert_non_null(strstr(v.reason, "interrupted: the input ended before scenario_end"));
	verdict_release(&v);

	/* vm_exit came: the run finished; a failure stays a failure */
	verdict_init(&v);
	v.interrupted = true;
	feed(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "5", "10", CLEAN) "\n" END "\n"
	     VM_EXIT("exited"));
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_PASS);
	verdict_release(&v);
	verdict_init(&v);
	v.interrupted = true;
	feed(&v, VM_START "\n" START_DEFAULT "\n" CG("cg_0", "40", "10", CLEAN));
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	verdict_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_names_and_codes),
		cmocka_unit_test(test_worst),
		cmocka_unit_test(test_thresholds_defaults),
		cmocka_unit_test(test_thresholds_layering),
		cmocka_unit_test(test_thresholds_from_stream),
		cmocka_unit_test(test_pass_and_margins),
		cmocka_unit_test(test_margin_directions),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_gap_without_cpu),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_starvation_from_workers),
		cmocka_unit_test(test_starvation_from_count),
		cmocka_unit_test(test_background_excluded),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_p99),
		cmocka_unit_test(test_iteration_rate),
		cmocka_unit_test(test_migration_ratio),
		cmocka_unit_test(test_scheduler_died),
		cmocka_unit_test(test_scheduler_attach_failed),
		cmocka_unit_test(test_scheduler_gone_at_end),
		cmocka_unit_test(test_outcome_skip),
		cmocka_unit_test(test_outcome_second_run),
		cmocka_unit_test(test_outcome_truncated),
		cmocka_unit_test(test_outcome_truncated_but_decisive),
		cmocka_unit_test(test_outcome_vm_exits),
		cmocka_unit_test(test_outcome_errors),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_weird_values),
		cmocka_unit_test(test_warning_line_numbers),
		cmocka_unit_test(test_control_chars_in_messages),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_stats_without_end),
		cmocka_unit_test(test_human_fail),
		cmocka_unit_test(test_human_pass_and_skip),
		cmocka_unit_test(test_human_scheduler_details),
		cmocka_unit_test(test_many_cgroups),
		cmocka_unit_test(test_infra_errors),
		cmocka_unit_test(test_infra_reason_once),
		cmocka_unit_test(test_infra_console_file),
		cmocka_unit_test(test_secondary_after_death),
		cmocka_unit_test(test_stop_timeout_named),
		cmocka_unit_test(test_never_ran_gap),
		cmocka_unit_test(test_accel),
		cmocka_unit_test(test_worker_cpus),
		cmocka_unit_test(test_interrupted_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
