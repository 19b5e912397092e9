/* Unit tests for lib/host/budget.c: estimates, KTSTR_BUDGET_SECS parsing, run
 * history and greedy coverage selection. */
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

#include "budget.h"
#include "diag.h"
#include "fsutil.h"

/* A test with just what budget selection reads. */
static void fake_test(struct ktest *t, const char *name, const char *sched,
		      unsigned long long duration_ms, const char *const *features)
{
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->scheduler = sched ? xstrdup(sched) : NULL;
	t->duration_ms = duration_ms;
	for (; *features; features++)
		strvec_push(&t->features, *features);
}

static void fake_case(struct gcase *c, const struct ktest *t, const char *preset, double est,
		      const char *skip)
{
	memset(c, 0, sizeof(*c));
	c->test = t;
	c->preset = preset ? preset_find(preset) : NULL;
	c->name = xasprintf("%s/%s", t->name, preset ? preset : "-");
	c->full_name = xasprintf("s %s", c->name);
	c->skip_reason = skip ? xstrdup(skip) : NULL;
	c->est_secs = est;
}

/* Release cases kept in a caller-owned array. */
static void release_cases(struct gcase *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gcase_release(&v[i]);
}

static void test_estimate(void **state)
{
	static const char *const none[] = { NULL };
	struct ktest t;
	struct gcase c;

	(void)state;
	fake_test(&t, "t", NULL, 3000, none);
	fake_case(&c, &t, "tiny-1llc", 0, NULL);
	assert_true(fabs(budget_estimate_secs(&c) - 13.0) < 1e-9);
	t.duration_ms = 500;
	assert_true(fabs(budget_estimate_secs(&c) - 10.5) < 1e-9);
	gcase_release(&c);
	ktest_release(&t);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"", "0", "0.0", "-1", "abc", "1e3", "inf", "nan", " 5", "5 ", "5s", ".", "1.2.3",
	};
	struct strbuf err = STRBUF_INIT;
	double s = 0;
	size_t i;

	(void)state;
	assert_int_equal(budget_parse("300", &s, &err), 0);
	assert_true(s == 300);
	assert_int_equal(budget_parse("12.5", &s, &err), 0);
	assert_true(s == 12.5);
	assert_int_equal(budget_parse("0.5", &s, &err), 0);
	assert_true(s == 0.5);
	assert_int_equal(err.len, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&err);
		s = -7;
		if (!budget_parse(bad[i], &s, &err))
			fail_msg("budget_parse(\"%s\") succeeded", bad[i]);
		assert_true(s == -7);
		assert_true(err.len > 0);
		assert_null(strchr(err.buf, '\n'));
	}
	assert_int_equal(budget_parse(NULL, &s, &err), -1);
	strbuf_release(&err);
}

static void test_select_coverage(void **state)
{
	static const char *const fa[] = { "scenario:steady", "work:spin_wait", "cgroups:2", NULL };
	static const char *const fb[] = { "scenario:churn", "work:fork_exit", "op:add",
					  "op:remove", "cgroups:1", NULL };
	struct budget_report rep;
	struct ktest ta, tb;
	struct gcase v[5];
	size_t n;

	(void)state;
	fake_test(&ta, "a", NULL, 3000, fa);
	fake_test(&tb, "b", "/opt/scx_lavd", 3000, fb);
	fake_case(&v[0], &ta, "tiny-1llc", 10, NULL);	/* 8 features */
	fake_case(&v[1], &ta, "tiny-2llc", 10, NULL);	/* +2 after v[0] */
	fake_case(&v[2], &tb, "tiny-1llc", 10, NULL);	/* 10 features, most per second */
	fake_case(&v[3], &tb, "numa2-4llc", 100, NULL);	/* too expensive */
	fake_case(&v[4], &ta, NULL, 0, "no preset fits");
	n = budget_select(v, 5, 25, &rep);
	/* b/tiny-1llc first (10 new features in 10 s), then a/tiny-2llc (6
	 * new: a's 4 and its shape's llcs:2, preset:tiny-2llc) over
	 * a/tiny-1llc (4 new); nothing else fits the 5 s left.  The skip is
	 * kept for free.  Kept cases stay in their original order. */
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "a/tiny-2llc");
	assert_string_equal(v[1].name, "b/tiny-1llc");
	assert_string_equal(v[2].name, "a/-");
	assert_int_equal(rep.selected, 3);
	assert_int_equal(rep.total, 5);
	assert_true(rep.selected_secs == 20);
	assert_true(rep.budget_secs == 25);
	/* a: steady spin_wait cgroups:2 sched:eevdf; b: churn fork_exit add
	 * remove cgroups:1 sched:scx_lavd; shapes: llcs 1/2/4, smt:0, nodes
	 * 1/2, three presets */
	assert_int_equal(rep.features_total, 10 + 3 + 1 + 2 + 3);
	assert_int_equal(rep.features_covered, 10 + 2 + 1 + 1 + 2);
	release_cases(v, n);
	ktest_release(&ta);
	ktest_release(&tb);
}

static void test_select_cheap_first(void **state)
{
	static const char *const f[] = { "scenario:x", NULL };
	struct budget_report rep;
	struct ktest t;
	struct gcase v[3];
	size_t n;

	(void)state;
	fake_test(&t, "t", NULL, 1000, f);
	/* same coverage, different cost: the cheaper one wins */
	fake_case(&v[0], &t, "tiny-1llc", 30, NULL);
	fake_case(&v[1], &t, "tiny-2llc", 12, NULL);
	fake_case(&v[2], &t, "smt-2llc", 40, NULL);
	n = budget_select(v, 3, 50, &rep);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "t/tiny-1llc");
	assert_string_equal(v[1].name, "t/tiny-2llc");
	assert_true(rep.selected_secs == 42);
	release_cases(v, n);

	/* a budget too small for anything keeps nothing that costs */
	fake_case(&v[0], &t, "tiny-1llc", 30, NULL);
	fake_case(&v[1], &t, NULL, 0, "skipped");
	n = budget_select(v, 2, 5, &rep);
	assert_int_equal(n, 1);
	assert_non_null(v[0].skip_reason);
	assert_true(rep.selected_secs == 0);
	assert_int_equal(rep.features_covered, 0);
	release_cases(v, n);
	ktest_release(&t);
}

/* Random cases and budgets: never over budget, skips always kept, order
 * preserved, and a budget covering everything keeps everything. */
static void test_select_property(void **state)
{
	static const char *const f1[] = { "scenario:a", "work:x", NULL };
	static const char *const f2[] = { "scenario:b", "work:y", "op:add", NULL };
	size_t np, round;
	const struct preset *tab = preset_table(&np);
	struct ktest t[2];

	(void)state;
	fake_test(&t[0], "a", NULL, 1000, f1);
	fake_test(&t[1], "b", "scx_x", 2000, f2);
	srand(42);
	for (round = 0; round < 200; round++) {
		struct gcase v[40];
		size_t n = 1 + (size_t)rand() % 40, i, kept, skips = 0, j = 0;
		double budget = (double)(rand() % 400), total = 0, spent = 0;
		bool everything = round % 10 == 0;

		for (i = 0; i < n; i++) {
			bool skip = rand() % 7 == 0;

			fake_case(&v[i], &t[i % 2], tab[(size_t)rand() % np].name,
				  skip ? 0 : 1 + rand() % 60, skip ? "skip" : NULL);
			free(v[i].name);
			v[i].name = xasprintf("%zu", i);
			skips += skip;
			total += v[i].est_secs;
		}
		if (everything)
			budget = total;
		kept = budget_select(v, n, budget, NULL);
		for (i = 0; i < kept; i++) {
			size_t idx = (size_t)atoi(v[i].name);

			assert_true(i == 0 || idx > (size_t)atoi(v[i - 1].name));
			if (v[i].skip_reason)
				j++;
			else
				spent += v[i].est_secs;
		}
		assert_int_equal(j, skips);
		assert_true(spent <= budget + 1e-9);
		if (everything)
			assert_int_equal(kept, n);
		release_cases(v, kept);
	}
	ktest_release(&t[0]);
	ktest_release(&t[1]);
}

static void put_json(const char *root, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", root, rel), *dir = path_dirname(path);

	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	free(dir);
	free(path);
}

/* Sidecars as caserun.c writes them: "case" is the full name, the suite
 * ("s", as fake_case names it) first. */
static void test_history(void **state)
{
	static const char *const f[] = { "scenario:x", NULL };
	char root[] = "/tmp/ktstr-test-budget.XXXXXX";
	struct ktest t;
	struct gcase v[3];

	(void)state;
	assert_non_null(mkdtemp(root));
	put_json(root, "7.0-abc/a_tiny-1llc.r1.x.ktstr.json",
		 "{\"case\": \"s t/tiny-1llc\", \"wall_ms\": 5000, "
		 "\"timestamp\": \"2026-01-01T00:00:00Z\"}");
	put_json(root, "7.0-def/a_tiny-1llc.r1.y.ktstr.json",
		 "{\"case\": \"s t/tiny-1llc\", \"wall_ms\": 7250, "
		 "\"timestamp\": \"2026-02-01T00:00:00Z\"}");
	put_json(root, "7.0-old/a_tiny-1llc.r1.z.ktstr.json",
		 "{\"case\": \"s t/tiny-1llc\", \"wall_ms\": 99000, "
		 "\"timestamp\": \"2025-12-01T00:00:00Z\"}");
	/* ignored: broken, wrong types, not a sidecar name, top-level file,
	 * the name without its suite, another suite's test of that name */
	put_json(root, "7.0-def/broken.ktstr.json", "{\"case\": ");
	put_json(root, "7.0-def/wrong.ktstr.json",
		 "{\"case\": \"s t/tiny-2llc\", \"wall_ms\": \"fast\", \"timestamp\": \"2027\"}");
	put_json(root, "7.0-def/other.json",
		 "{\"case\": \"s t/tiny-2llc\", \"wall_ms\": 1, \"timestamp\": \"2027\"}");
	put_json(root, "top.ktstr.json",
		 "{\"case\": \"s t/tiny-2llc\", \"wall_ms\": 1, \"timestamp\": \"2027\"}");
	put_json(root, "7.0-def/bare.ktstr.json",
		 "{\"case\": \"t/tiny-2llc\", \"wall_ms\": 1, \"timestamp\": \"2027\"}");
	put_json(root, "7.0-def/other.ktstr.json",
		 "{\"case\": \"other t/tiny-2llc\", \"wall_ms\": 1, \"timestamp\": \"2027\"}");
	put_json(root, "7.0-def/skip.ktstr.json",
		 "{\"case\": \"s t/-\", \"wall_ms\": 3000, \"timestamp\": \"2027\"}");

	fake_test(&t, "t", NULL, 3000, f);
	fake_case(&v[0], &t, "tiny-1llc", 13, NULL);
	fake_case(&v[1], &t, "tiny-2llc", 13, NULL);
	fake_case(&v[2], &t, NULL, 0, "no preset");
	budget_apply_history(v, 3, root);
	assert_true(fabs(v[0].est_secs - 7.25) < 1e-9);	/* the newest */
	assert_true(v[1].est_secs == 13);		/* nothing usable */
	assert_true(v[2].est_secs == 0);		/* skips cost nothing */

	/* a missing root changes nothing */
	budget_apply_history(v, 3, "/nonexistent/ktstr-runs");
	budget_apply_history(v, 3, NULL);
	assert_true(fabs(v[0].est_secs - 7.25) < 1e-9);
	release_cases(v, 3);
	ktest_release(&t);
	rm_rf(root);
}

/* The vCPU rule ktstr-test and ktstr-vm share: one vCPU per host CPU under
 * KVM, eight under TCG; the 400-vCPU topology that once ran into the
 * 10-minute watchdog on a 2-CPU host is refused with the numbers. */
static void test_vcpu_rule(void **state)
{
	struct ktstr_topo big = { 1, 2, 200, 1 }, t16 = { 1, 2, 8, 1 }, t17 = { 1, 1, 17, 1 };
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(budget_vcpu_cap(true, 16), 16);
	assert_int_equal(budget_vcpu_cap(false, 2), 16);
	assert_int_equal(budget_vcpu_cap(false, 0), 8);
	assert_int_equal(budget_vcpu_check(&t16, false, 2, &err), 0);
	assert_int_equal(err.len, 0);
	assert_int_equal(budget_vcpu_check(&t17, false, 2, &err), -1);
	assert_non_null(strstr(err.buf, "17 vCPUs is more than this host can run"));
	assert_non_null(strstr(err.buf, "at most 16"));
	strbuf_reset(&err);
	assert_int_equal(budget_vcpu_check(&big, false, 2, &err), -1);
	assert_non_null(strstr(err.buf, "400 vCPUs"));
	assert_non_null(strstr(err.buf, "TCG: 8 vCPUs per usable host CPU"));
	strbuf_reset(&err);
	assert_int_equal(budget_vcpu_check(&t16, true, 2, &err), -1);
	assert_non_null(strstr(err.buf, "KVM: one vCPU per usable host CPU"));
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_select_coverage),
		cmocka_unit_test(test_select_cheap_first),
		cmocka_unit_test(test_select_property),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_vcpu_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
