/* Unit tests for lib/results/compare.c, lib/results/welch.c and lib/results/compare_report.c: the
 * t-test against values computed independently (mpmath, 30 digits: the
 * regularized incomplete beta and a numerical integral of the t density
 * agree), the gates (both must be passed), directions (higher, lower,
 * neutral), noise (one sample, or p >= alpha), repeats, pass -> fail,
 * infrastructure errors, the filters, and the reports' formatting.
 * Sidecars are written to a temp dir and loaded, as ktstr-stats does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "compare_report.h"
#include "diag.h"
#include "fsutil.h"

/* ---- helpers ------------------------------------------------------------ */

static char *tmpdir(void)
{
	char *d = make_temp_dir("/tmp", "ktstr-test-compare.");

	assert_non_null(d);
	return d;
}

/* Write a sidecar into dir: case test/tiny-2llc of suite "s", with the
 * given result and metrics (a JSON object's body), plus extra top-level
 * fields (",\"k\":v..." or ""). */
static void put_as(const char *dir, const char *sched, const char *test, unsigned repeat,
		   const char *result, const char *metrics, const char *extra)
{
	char *text = xasprintf(
		"{\"type\":\"sidecar\",\"schema\":1,\"run_id\":\"r\",\"run_source\":\"local\","
		"\"timestamp\":\"2025-01-01T00:00:00Z\",\"suite\":\"s\",\"test\":\"%s\","
		"\"preset\":\"tiny-2llc\",\"case\":\"%s/tiny-2llc\",\"repeat\":%u,"
		"\"topology\":{\"spec\":\"1n2l2c1t\"},\"scheduler\":{\"name\":\"%s\"},"
		"\"scenario\":{\"name\":\"x\",\"work_types\":[\"cpu_spin\",\"yield_heavy\"]},"
		"\"kernel\":{\"label\":\"6.14.2\"},\"project_commit\":\"abcdef123456\","
		"\"result\":\"%s\",\"metrics\":{%s}%s}",
		test, test, repeat, sched, result, metrics, extra);
	char *name = xasprintf("%s/%s.%s.r%u.ktstr.json", dir, test, sched, repeat);

	assert_int_equal(write_file_atomic(name, text, strlen(text), 0644), 0);
	free(text);
	free(name);
}

/* The same under scx_simple. */
static void put(const char *dir, const char *test, unsigned repeat, const char *result,
		const char *metrics, const char *extra)
{
	put_as(dir, "scx_simple", test, repeat, result, metrics, extra);
}

/* Two repeats with the same metrics: zero variance, so any change in the
 * mean is significant (p = 0) and only the gates and the direction
 * decide. */
static void put2(const char *dir, const char *test, const char *result, const char *metrics)
{
	put(dir, test, 1, result, metrics, "");
	put(dir, test, 2, result, metrics, "");
}

static void load(const char *dir, struct sidecar_set *set)
{
	struct strbuf err = STRBUF_INIT;

	memset(set, 0, sizeof(*set));
	assert_int_equal(sidecar_load_dir(dir, set, &err), 0);
	strbuf_release(&err);
}

static const struct compare_row *row(const struct compare_result *r, const char *key,
				     const char *metric)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->rows[i].case_key, key) && !strcmp(r->rows[i].metric, metric))
			return &r->rows[i];
	return NULL;
}

struct pair {
	char *a, *b;
	struct sidecar_set sa, sb;
	struct compare_result r;
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->a = tmpdir();
	p->b = tmpdir();
}

static int pair_compare(struct pair *p, const struct compare_filter *f, struct strbuf *err)
{
	load(p->a, &p->sa);
	load(p->b, &p->sb);
	return compare_runs(&p->sa, &p->sb, f, 0.05, &p->r, err);
}

static void pair_release(struct pair *p)
{
	compare_result_release(&p->r);
	sidecar_set_release(&p->sa);
	sidecar_set_release(&p->sb);
	rm_rf(p->a);
	rm_rf(p->b);
	free(p->a);
	free(p->b);
}

/* ---- welch -------------------------------------------------------------- */

static void assert_close(double got, double want)
{
	if (!(fabs(got - want) <= 1e-9 * fabs(want) + 1e-15))
		fail_msg("p-value %.15g, expected %.15g", got, want);
}

static void test_welch_known_values(void **state)
{
	/* Welch's own kind of example: two groups of 15, unequal spread;
	 * t = -2.4554, df = 24.989. */
	static const double a1[] = { 27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
				     21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4 };
	static const double b1[] = { 27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
				     24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4 };
	static const double a2[] = { 1, 2, 3 }, b2[] = { 4, 5, 6, 7 };
	static const double a3[] = { 10, 12 }, b3[] = { 11, 15 };
	static const double a4[] = { 30100, 30500, 29900 }, b4[] = { 18000, 18500, 17900 };
	static const double a5[] = { 100, 140, 90, 130 }, b5[] = { 120, 160, 95, 150, 110 };

	(void)state;
	assert_close(welch_p_value(a1, 15, b1, 15), 0.0213780014628671);
	assert_close(welch_p_value(a2, 3, b2, 4), 0.0100769433479889);
	/* df = 1.47: far from the normal approximation */
	assert_close(welch_p_value(a3, 2, b3, 2), 0.493132708120847);
	/* t = 47: deep in the tail */
	assert_close(welch_p_value(a4, 3, b4, 3), 1.2616013214953e-6);
	assert_close(welch_p_value(a5, 4, b5, 5), 0.504566734941378);
	/* symmetric in its arguments */
	assert_close(welch_p_value(b5, 5, a5, 4), 0.504566734941378);
}

static void test_welch_edges(void **state)
{
	static const double one[] = { 5 }, same[] = { 3, 3, 3 }, other[] = { 4, 4 };
	static const double a[] = { 1, 2, 3 };

	(void)state;
	assert_true(isnan(welch_p_value(one, 1, a, 3)));
	assert_true(isnan(welch_p_value(a, 3, one, 1)));
	assert_true(isnan(welch_p_value(same, 3, same, 2)));
	assert_true(welch_p_value(same, 3, other, 2) == 0.0);
	/* identical samples: t = 0, p = 1 */
	assert_close(welch_p_value(a, 3, a, 3), 1.0);
}

/* ---- gates -------------------------------------------------------------- */

static void test_gate_table(void **state)
{
	size_t n;
	const struct metric_gate *g = compare_gates(&n);

	(void)state;
	assert_int_equal(n, 17);	/* 14 from the check table, 3 of compare's own */
	assert_string_equal(g[0].name, "worst_spread_pct");
	assert_true(g[0].abs == 5 && g[0].rel_pct == 25 && !g[0].higher_is_better);
	assert_string_equal(g[1].name, "worst_gap_ms");
	assert_true(g[1].abs == 500 && g[1].rel_pct == 50);
	assert_true(compare_gate_find("total_migrations")->abs == 10);
	assert_true(compare_gate_find("total_migrations")->rel_pct == 30);
	assert_true(compare_gate_find("worst_migration_ratio")->abs == 0.05);
	assert_true(compare_gate_find("worst_p99_wake_latency_us")->abs == 50);
	assert_true(compare_gate_find("worst_median_wake_latency_us")->abs == 20);
	assert_true(compare_gate_find("total_iterations")->higher_is_better);
	assert_true(compare_gate_find("total_iterations")->abs == 100);
	assert_true(compare_gate_find("total_iterations")->rel_pct == 10);
	assert_true(compare_gate_find("min_iterations_per_sec")->higher_is_better);
	assert_int_equal(compare_gate_find("min_iterations_per_sec")->dir, COMPARE_HIGHER_BETTER);
	assert_int_equal(compare_gate_find("worst_gap_ms")->dir, COMPARE_LOWER_BETTER);
	/* migrations: neither more nor fewer is better by itself */
	assert_int_equal(compare_gate_find("total_migrations")->dir, COMPARE_NEUTRAL);
	assert_int_equal(compare_gate_find("worst_migration_ratio")->dir, COMPARE_NEUTRAL);
	assert_int_equal(compare_gate_find("phase2.max_imbalance_ratio")->dir,
			 COMPARE_LOWER_BETTER);
	assert_string_equal(compare_dir_name(COMPARE_NEUTRAL), "neutral");
	assert_string_equal(compare_metric_unit("worst_gap_ms"), "ms");
	assert_string_equal(compare_metric_unit("worst_p99_wake_latency_us"), "us");
	assert_string_equal(compare_metric_unit("worst_spread_pct"), "%");
	assert_string_equal(compare_metric_unit("phase1.fallback_per_sec"), "/s");
	assert_string_equal(compare_metric_unit("total_iterations"), "");
	assert_true(compare_gate_find("starved_workers")->abs == 0);
	assert_true(compare_gate_find("isolation_violations")->rel_pct == 0);
	assert_null(compare_gate_find("scx_select_cpu_fallback"));
	assert_null(compare_gate_find("bogus"));
}

/* Each case has one sample per side; gap changes. */
static void test_both_gates_must_pass(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	/* +300 % but only +300 ms: under the absolute gate (500) */
	put2(p.a, "rel", "pass", "\"worst_gap_ms\":100");
	put2(p.b, "rel", "pass", "\"worst_gap_ms\":400");
	/* +600 ms but only +30 %: under the relative gate (50 %) */
	put2(p.a, "abs", "pass", "\"worst_gap_ms\":2000");
	put2(p.b, "abs", "pass", "\"worst_gap_ms\":2600");
	/* +600 ms and +60 %: a regression */
	put2(p.a, "both", "pass", "\"worst_gap_ms\":1000");
	put2(p.b, "both", "pass", "\"worst_gap_ms\":1600");
	/* exactly at the gates (+500 ms, +50 %): not past them */
	put2(p.a, "edge", "pass", "\"worst_gap_ms\":1000");
	put2(p.b, "edge", "pass", "\"worst_gap_ms\":1500");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);

	assert_int_equal(p.r.cases_both, 4);
	r = row(&p.r, "s rel/tiny-2llc", "worst_gap_ms");
	assert_non_null(r);
	assert_true(r->gated && !r->regression && !r->improvement && !r->noise);
	assert_true(r->delta == 300 && r->delta_pct == 300);
	assert_true(r->p_value == 0 && r->significant && !r->past_gate);
	assert_string_equal(compare_row_status(r), "within_gate");
	r = row(&p.r, "s abs/tiny-2llc", "worst_gap_ms");
	assert_true(!r->regression && r->delta_pct == 30);
	r = row(&p.r, "s edge/tiny-2llc", "worst_gap_ms");
	assert_false(r->regression);
	r = row(&p.r, "s both/tiny-2llc", "worst_gap_ms");
	assert_true(r->regression && !r->improvement && r->past_gate);
	assert_string_equal(compare_row_status(r), "regression");
	assert_true(r->a_mean == 1000 && r->b_mean == 1600 && r->na == 2 && r->nb == 2);
	assert_int_equal(p.r.regressions, 1);
	assert_int_equal(p.r.improvements, 0);
	/* metrics neither side has are left out */
	assert_null(row(&p.r, "s both/tiny-2llc", "worst_spread_pct"));
	pair_release(&p);
	strbuf_release(&err);
}

/* The TCG rule: with every sample of both sides under TCG, the work
 * rates' relative gate is 25 %, not 10 %; one KVM sample on a side
 * keeps the table's gate, and other metrics keep theirs. */
static void test_tcg_rate_gate(void **state)
{
	static const char *const accel[] = { "tcg", "tcg", "kvm" };
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;
	unsigned i;

	(void)state;
	pair_init(&p);
	for (i = 1; i <= 2; i++) {
		const char *a = ",\"accel\":\"tcg\"";
		char *b = xasprintf(",\"accel\":\"%s\"", accel[i]);

		/* -18 %: past 10 %, within 25 % */
		put(p.a, "tcg", i, "pass", "\"min_iterations_per_sec\":1000,\"worst_spread_pct\":10", a);
		put(p.b, "tcg", i, "pass", "\"min_iterations_per_sec\":820,\"worst_spread_pct\":20", a);
		put(p.a, "mixed", i, "pass", "\"min_iterations_per_sec\":1000", a);
		put(p.b, "mixed", i, "pass", "\"min_iterations_per_sec\":820", b);
		/* -50 %: past both */
		put(p.a, "hog", i, "pass", "\"total_iterations\":10000", a);
		put(p.b, "hog", i, "pass", "\"total_iterations\":5000", a);
		free(b);
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s tcg/tiny-2llc", "min_iterations_per_sec");
	assert_true(r->significant && !r->past_gate && !r->regression);
	assert_true(r->gate_rel_pct == 25 && r->gate_abs == 10);
	assert_string_equal(compare_row_status(r), "within_gate");
	/* spread keeps its own gate (25 %... of +100 %: a regression) */
	r = row(&p.r, "s tcg/tiny-2llc", "worst_spread_pct");
	assert_true(r->regression);
	r = row(&p.r, "s mixed/tiny-2llc", "min_iterations_per_sec");
	assert_true(r->regression && r->gate_rel_pct == 10);
	r = row(&p.r, "s hog/tiny-2llc", "total_iterations");
	assert_true(r->regression && r->gate_rel_pct == 25);
	pair_release(&p);
	strbuf_release(&err);
}

static void test_direction(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	put2(p.a, "t", "pass",
	     "\"total_iterations\":10000,\"min_iterations_per_sec\":500,"
	     "\"worst_gap_ms\":3000,\"starved_workers\":0,\"isolation_violations\":2,"
	     "\"total_migrations\":100,\"worst_migration_ratio\":0.5,"
	     "\"scx_select_cpu_fallback\":5");
	put2(p.b, "t", "pass",
	     "\"total_iterations\":8000,\"min_iterations_per_sec\":600,"
	     "\"worst_gap_ms\":1000,\"starved_workers\":1,\"isolation_violations\":2,"
	     "\"total_migrations\":20,\"worst_migration_ratio\":0.1,"
	     "\"scx_select_cpu_fallback\":500");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	/* fewer iterations: worse */
	r = row(&p.r, "s t/tiny-2llc", "total_iterations");
	assert_true(r->regression && r->delta == -2000 && r->delta_pct == -20);
	assert_int_equal(r->dir, COMPARE_HIGHER_BETTER);
	/* a higher rate: better */
	r = row(&p.r, "s t/tiny-2llc", "min_iterations_per_sec");
	assert_true(r->improvement && !r->regression);
	/* a shorter gap: better */
	r = row(&p.r, "s t/tiny-2llc", "worst_gap_ms");
	assert_true(r->improvement);
	/* 0 -> 1 starved worker: any increase (gate 0 / 0 %) */
	r = row(&p.r, "s t/tiny-2llc", "starved_workers");
	assert_true(r->regression && isinf(r->delta_pct));
	r = row(&p.r, "s t/tiny-2llc", "isolation_violations");
	assert_true(!r->regression && !r->improvement && r->delta == 0);
	assert_string_equal(compare_row_status(r), "unchanged");
	/* 80 % fewer migrations: a real change, but not an improvement */
	r = row(&p.r, "s t/tiny-2llc", "total_migrations");
	assert_true(r->past_gate && r->significant && r->changed);
	assert_true(!r->regression && !r->improvement && !r->noise);
	assert_int_equal(r->dir, COMPARE_NEUTRAL);
	assert_string_equal(compare_row_status(r), "changed");
	r = row(&p.r, "s t/tiny-2llc", "worst_migration_ratio");
	assert_true(r->changed && !r->improvement);
	/* not gated: shown, never judged */
	r = row(&p.r, "s t/tiny-2llc", "scx_select_cpu_fallback");
	assert_non_null(r);
	assert_true(!r->gated && !r->regression && r->delta == 495);
	assert_int_equal(p.r.regressions, 2);
	assert_int_equal(p.r.improvements, 2);
	assert_int_equal(p.r.changed, 2);	/* gated only */
	assert_int_equal(p.r.noise, 0);
	/* gated rows come in table order, the others after */
	assert_string_equal(p.r.rows[0].metric, "worst_gap_ms");
	assert_string_equal(p.r.rows[p.r.n - 1].metric, "scx_select_cpu_fallback");
	pair_release(&p);
	strbuf_release(&err);
}

/* Regression: one sample a side made a regression out of any large
 * change; without a t-test that is noise. */
static void test_one_sample_is_noise(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	put(p.a, "t", 1, "pass", "\"worst_gap_ms\":1000,\"total_iterations\":10000", "");
	put(p.b, "t", 1, "pass", "\"worst_gap_ms\":5000,\"total_iterations\":10050", "");
	/* one sample against three: still no t-test */
	put(p.a, "u", 1, "pass", "\"worst_gap_ms\":1000", "");
	for (unsigned i = 1; i <= 3; i++)
		put(p.b, "u", i, "pass", "\"worst_gap_ms\":5000", "");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s t/tiny-2llc", "worst_gap_ms");
	assert_true(r->past_gate && !r->significant && r->noise);
	assert_true(!r->regression && !r->improvement);
	assert_true(isnan(r->p_value));
	assert_string_equal(compare_row_status(r), "noise");
	/* within the gates is not noise either: just small */
	r = row(&p.r, "s t/tiny-2llc", "total_iterations");
	assert_false(r->noise);
	assert_string_equal(compare_row_status(r), "within_gate");
	r = row(&p.r, "s u/tiny-2llc", "worst_gap_ms");
	assert_true(r->noise && r->na == 1 && r->nb == 3);
	assert_int_equal(p.r.regressions, 0);
	assert_int_equal(p.r.noise, 2);
	pair_release(&p);
	strbuf_release(&err);
}

/* An A/B run holds one case under two schedulers: they are two cases, not
 * four samples of one, and match the same split of another A/B run.  A
 * case under one scheduler keeps its key whatever the scheduler's name. */
static void test_ab_variants_are_cases(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	for (unsigned i = 1; i <= 2; i++) {
		put_as(p.a, "eevdf", "t", i, "pass", "\"worst_gap_ms\":1000", "");
		put_as(p.a, "scx_simple", "t", i, "pass", "\"worst_gap_ms\":5000", "");
		put_as(p.b, "eevdf", "t", i, "pass", "\"worst_gap_ms\":1000", "");
		put_as(p.b, "scx_simple", "t", i, "pass", "\"worst_gap_ms\":1000", "");
		put_as(p.a, "scx_old", "u", i, "pass", "\"worst_gap_ms\":1000", "");
		put_as(p.b, "scx_new", "u", i, "pass", "\"worst_gap_ms\":5000", "");
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	assert_null(row(&p.r, "s t/tiny-2llc", "worst_gap_ms"));
	r = row(&p.r, "s t/tiny-2llc/scx_simple", "worst_gap_ms");
	assert_non_null(r);
	assert_true(r->na == 2 && r->nb == 2 && r->improvement);
	r = row(&p.r, "s t/tiny-2llc/eevdf", "worst_gap_ms");
	assert_non_null(r);
	assert_true(r->na == 2 && !r->improvement && !r->regression);
	r = row(&p.r, "s u/tiny-2llc", "worst_gap_ms");
	assert_non_null(r);
	assert_true(r->regression);
	pair_release(&p);
	strbuf_release(&err);
}

/* Three repeats per side: the means move past both gates, but only the
 * steady case is beyond noise. */
static void test_repeats_t_test(void **state)
{
	static const int noisy_a[] = { 1000, 3000, 500 }, noisy_b[] = { 3500, 800, 4000 };
	static const int steady_a[] = { 1000, 1010, 990 }, steady_b[] = { 1800, 1790, 1810 };
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;
	char m[64];

	(void)state;
	pair_init(&p);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(m, sizeof(m), "\"worst_gap_ms\":%d", noisy_a[i]);
		put(p.a, "noisy", i + 1, "pass", m, "");
		snprintf(m, sizeof(m), "\"worst_gap_ms\":%d", noisy_b[i]);
		put(p.b, "noisy", i + 1, "pass", m, "");
		snprintf(m, sizeof(m), "\"worst_gap_ms\":%d", steady_a[i]);
		put(p.a, "steady", i + 1, "pass", m, "");
		snprintf(m, sizeof(m), "\"worst_gap_ms\":%d", steady_b[i]);
		put(p.b, "steady", i + 1, "pass", m, "");
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	assert_int_equal(p.r.cases_both, 2);
	r = row(&p.r, "s noisy/tiny-2llc", "worst_gap_ms");
	assert_int_equal(r->na, 3);
	assert_int_equal(r->nb, 3);
	assert_true(r->delta > 500 && r->delta_pct > 50);
	assert_true(r->p_value > 0.05);
	assert_false(r->regression);
	assert_true(r->noise && r->past_gate && !r->significant);
	r = row(&p.r, "s steady/tiny-2llc", "worst_gap_ms");
	assert_true(r->a_mean == 1000 && r->b_mean == 1800);
	assert_true(r->p_value < 0.001);
	assert_true(r->regression);
	assert_int_equal(p.r.regressions, 1);
	pair_release(&p);
	strbuf_release(&err);
}

/* Payload metrics: gated 0 / 5 % in metric_info's direction, with its unit. */
#define PINFO ",\"metric_info\":{\"payload.cyc.p99_us\":{\"unit\":\"us\"," \
	"\"better\":\"lower\"},\"payload.sb.events_per_sec\":{\"unit\":\"events/s\"," \
	"\"better\":\"higher\"},\"payload.sb.threads\":{\"unit\":\"\",\"better\":\"none\"}}"
static void test_payload_metrics(void **state)
{
	static const int a[] = { 100, 102, 98 }, b[] = { 150, 152, 148 };
	struct pair p;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	const struct compare_row *r;
	char m[160];

	(void)state;
	pair_init(&p);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(m, sizeof(m), "\"payload.cyc.p99_us\":%d,\"payload.sb.events_per_sec\":%d,"
			 "\"payload.sb.threads\":%d", a[i], 1000 + a[i], 4);
		put(p.a, "cyc", i + 1, "pass", m, PINFO);
		snprintf(m, sizeof(m), "\"payload.cyc.p99_us\":%d,\"payload.sb.events_per_sec\":%d,"
			 "\"payload.sb.threads\":%d", b[i], 980 + a[i], 8);
		put(p.b, "cyc", i + 1, "pass", m, PINFO);
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s cyc/tiny-2llc", "payload.cyc.p99_us");
	assert_non_null(r);
	assert_true(r->gated);
	assert_int_equal(r->dir, COMPARE_LOWER_BETTER);
	assert_string_equal(r->unit, "us");
	assert_true(r->a_mean == 100 && r->b_mean == 150);
	assert_true(r->p_value < 0.001);
	assert_true(r->regression);
	/* higher is better, and a drop of under 5 % stays within the gate */
	r = row(&p.r, "s cyc/tiny-2llc", "payload.sb.events_per_sec");
	assert_int_equal(r->dir, COMPARE_HIGHER_BETTER);
	assert_string_equal(r->unit, "events/s");
	assert_false(r->past_gate);
	assert_string_equal(compare_row_status(r), "within_gate");
	/* none: neutral, a change but no verdict */
	r = row(&p.r, "s cyc/tiny-2llc", "payload.sb.threads");
	assert_int_equal(r->dir, COMPARE_NEUTRAL);
	assert_true(r->gated && r->changed && !r->regression);
	compare_report(&p.r, "A", "B", COMPARE_FMT_TEXT, false, &out);
	assert_non_null(strstr(out.buf, "payload.cyc.p99_us"));
	assert_non_null(strstr(out.buf, "150 us"));
	pair_release(&p);
	strbuf_release(&err);
	strbuf_release(&out);
}

/* BPF metrics: ns_per_run gated 0 / 25 % lower-better in ns, by the gate
 * alone from one run a side and with Welch's p from repeats;
 * verified_insns shown when it moved; run_cnt neutral and ungated. */
#define BINFO ",\"metric_info\":{\"bpf.enq.ns_per_run\":{\"unit\":\"ns\"," \
	"\"better\":\"lower\"},\"bpf.enq.run_cnt\":{\"unit\":\"\",\"better\":\"none\"}," \
	"\"bpf.enq.verified_insns\":{\"unit\":\"\",\"better\":\"none\"}}"
static void put_bpf(const char *dir, unsigned repeat, double ns, int cnt, int insns)
{
	char m[200];

	snprintf(m, sizeof(m), "\"bpf.enq.ns_per_run\":%g,\"bpf.enq.run_cnt\":%d,"
		 "\"bpf.enq.verified_insns\":%d", ns, cnt, insns);
	put(dir, "bpf", repeat, "pass", m, BINFO);
}

static const struct compare_row *bpf_pair(struct pair *p, double a, double b)
{
	struct strbuf err = STRBUF_INIT;

	pair_init(p);
	put_bpf(p->a, 1, a, 1000, 57);
	put_bpf(p->b, 1, b, 1300, 57);
	assert_int_equal(pair_compare(p, NULL, &err), 0);
	strbuf_release(&err);
	return row(&p->r, "s bpf/tiny-2llc", "bpf.enq.ns_per_run");
}

static void test_bpf_cost_one_run(void **state)
{
	struct pair p;
	const struct compare_row *r;

	(void)state;
	/* 30 % dearer from one run a side: a regression, no p-value */
	r = bpf_pair(&p, 400, 520);
	assert_non_null(r);
	assert_true(r->gated && isnan(r->p_value));
	assert_int_equal(r->dir, COMPARE_LOWER_BETTER);
	assert_string_equal(r->unit, "ns");
	assert_true(r->regression);
	assert_int_equal(p.r.regressions, 1);
	/* run_cnt moved 30 % too: neutral, ungated, no verdict */
	assert_false(row(&p.r, "s bpf/tiny-2llc", "bpf.enq.run_cnt")->gated);
	assert_string_equal(compare_row_status(row(&p.r, "s bpf/tiny-2llc",
						   "bpf.enq.run_cnt")), "noise");
	pair_release(&p);
	/* exactly 25 % counts; 24 % does not; 25 % cheaper is an improvement */
	assert_true(bpf_pair(&p, 400, 500)->regression);
	pair_release(&p);
	assert_string_equal(compare_row_status(bpf_pair(&p, 400, 496)), "within_gate");
	pair_release(&p);
	assert_true(bpf_pair(&p, 400, 300)->improvement);
	assert_int_equal(p.r.improvements, 1);
	pair_release(&p);
}

static void test_bpf_cost_repeats(void **state)
{
	static const double a[] = { 400, 300, 500 }, b[] = { 560, 350, 600 };
	static const double c[] = { 400, 401, 399 }, d[] = { 520, 521, 519 };
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	/* past the gate (+25.8 %) but p >= 0.05: noise, not a regression */
	pair_init(&p);
	for (unsigned i = 0; i < 3; i++) {
		put_bpf(p.a, i + 1, a[i], 1000, 57);
		put_bpf(p.b, i + 1, b[i], 1000, 57);
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s bpf/tiny-2llc", "bpf.enq.ns_per_run");
	assert_true(r->past_gate && r->p_value >= 0.05 && r->noise && !r->regression);
	pair_release(&p);
	/* tight repeats: p < 0.05, a regression */
	pair_init(&p);
	for (unsigned i = 0; i < 3; i++) {
		put_bpf(p.a, i + 1, c[i], 1000, 57);
		put_bpf(p.b, i + 1, d[i], 1000, 57);
	}
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s bpf/tiny-2llc", "bpf.enq.ns_per_run");
	assert_true(r->p_value < 0.05 && r->regression);
	pair_release(&p);
	strbuf_release(&err);
}

static void test_bpf_verified_insns(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	put_bpf(p.a, 1, 400, 1000, 57);
	put_bpf(p.b, 1, 410, 1000, 61);
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s bpf/tiny-2llc", "bpf.enq.verified_insns");
	assert_true(r->notable && !r->gated && r->changed);
	assert_false(r->regression || r->improvement);
	assert_string_equal(compare_row_status(r), "changed");
	/* shown without --all, in text and JSON; the unchanged cost is not */
	compare_report(&p.r, "A", "B", COMPARE_FMT_TEXT, false, &out);
	assert_non_null(strstr(out.buf, "bpf.enq.verified_insns"));
	assert_null(strstr(out.buf, "bpf.enq.run_cnt"));
	strbuf_reset(&out);
	compare_report(&p.r, "A", "B", COMPARE_FMT_JSON, false, &out);
	assert_non_null(strstr(out.buf, "\"bpf.enq.verified_insns\""));
	assert_int_equal(p.r.regressions, 0);
	pair_release(&p);
	/* unchanged: not shown */
	pair_init(&p);
	put_bpf(p.a, 1, 400, 1000, 57);
	put_bpf(p.b, 1, 400, 1000, 57);
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	strbuf_reset(&out);
	compare_report(&p.r, "A", "B", COMPARE_FMT_TEXT, false, &out);
	assert_null(strstr(out.buf, "bpf.enq"));
	pair_release(&p);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void test_result_change(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	put(p.a, "broke", 1, "pass", "", "");
	put(p.b, "broke", 1, "fail", "", "");
	put(p.a, "fixed", 1, "fail", "", "");
	put(p.b, "fixed", 1, "pass", "", "");
	put(p.a, "skipped", 1, "pass", "", "");
	put(p.b, "skipped", 1, "skip", "", "");
	put(p.a, "same", 1, "pass", "", "");
	put(p.b, "same", 1, "pass", "", "");
	/* one of two repeats failed */
	put(p.a, "flaky", 1, "pass", "", "");
	put(p.b, "flaky", 1, "pass", "", "");
	put(p.b, "flaky", 2, "fail", "", "");
	put(p.a, "flakier", 1, "pass", "", "");
	put(p.a, "flakier", 2, "fail", "", "");
	put(p.b, "flakier", 1, "fail", "", "");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	r = row(&p.r, "s broke/tiny-2llc", "result");
	assert_non_null(r);
	assert_true(r->gated && r->regression && r->a_mean == 1 && r->b_mean == 0);
	r = row(&p.r, "s fixed/tiny-2llc", "result");
	assert_true(r->improvement && !r->regression);
	r = row(&p.r, "s skipped/tiny-2llc", "result");
	assert_true(!r || (!r->regression && !r->improvement));
	assert_null(row(&p.r, "s same/tiny-2llc", "result"));
	r = row(&p.r, "s flaky/tiny-2llc", "result");
	assert_true(r->regression && r->b_mean == 0.5 && r->nb == 2);
	assert_false(r->changed);
	/* flaky before and after: a different outcome, not a verdict */
	r = row(&p.r, "s flakier/tiny-2llc", "result");
	assert_true(!r->regression && !r->improvement && r->changed);
	assert_string_equal(compare_row_status(r), "changed");
	/* one sample is enough: a failed check is a verdict */
	assert_true(r->significant && isnan(r->p_value));
	assert_int_equal(p.r.regressions, 2);
	assert_int_equal(p.r.improvements, 1);
	assert_int_equal(p.r.a.errors + p.r.b.errors, 0);
	pair_release(&p);
	strbuf_release(&err);
}

/* Regression: a case whose VM never came up (result "error") counted as a
 * pass -> fail regression, and its empty metrics as samples. */
static void test_errors_left_out(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;
	const struct compare_row *r;

	(void)state;
	pair_init(&p);
	put(p.a, "infra", 1, "pass", "\"worst_gap_ms\":100", "");
	put(p.b, "infra", 1, "error", "\"worst_gap_ms\":0", "");
	/* one error among passing repeats: those still count */
	put2(p.a, "mixed", "pass", "\"worst_gap_ms\":100");
	put2(p.b, "mixed", "pass", "\"worst_gap_ms\":100");
	put(p.b, "mixed", 3, "error", "\"worst_gap_ms\":99999", "");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	assert_null(row(&p.r, "s infra/tiny-2llc", "result"));
	r = row(&p.r, "s infra/tiny-2llc", "worst_gap_ms");
	assert_true(r->nb == 0 && isnan(r->b_mean) && !r->regression);
	assert_null(row(&p.r, "s mixed/tiny-2llc", "result"));
	r = row(&p.r, "s mixed/tiny-2llc", "worst_gap_ms");
	assert_true(r->nb == 2 && r->b_mean == 100);
	assert_int_equal(p.r.regressions, 0);
	assert_int_equal(p.r.a.errors, 0);
	assert_int_equal(p.r.b.errors, 2);
	assert_int_equal(p.r.b.error_cases.n, 2);
	assert_string_equal(p.r.b.error_cases.v[0], "s infra/tiny-2llc");
	assert_int_equal(p.r.b.samples, 4);
	assert_int_equal(p.r.b.cases, 2);
	pair_release(&p);
	strbuf_release(&err);
}

/* The header's description of each side. */
static void test_sides(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	pair_init(&p);
	put(p.a, "x", 1, "pass", "", ",\"label\":\"base\",\"accel\":\"kvm\"");
	put(p.a, "y", 1, "pass", "", ",\"label\":\"base\",\"accel\":\"kvm\"");
	put(p.b, "x", 1, "pass", "", ",\"accel\":\"tcg\"");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	assert_int_equal(p.r.a.ids.n, 1);
	assert_string_equal(p.r.a.ids.v[0], "r");
	assert_string_equal(p.r.a.labels.v[0], "base");
	/* no label: the commit stands in */
	assert_string_equal(p.r.b.labels.v[0], "abcdef123456");
	assert_string_equal(p.r.a.accels.v[0], "kvm");
	assert_string_equal(p.r.b.accels.v[0], "tcg");
	assert_string_equal(p.r.a.schedulers.v[0], "scx_simple");
	assert_string_equal(p.r.a.kernels.v[0], "6.14.2");
	assert_int_equal(p.r.a.samples, 2);
	assert_int_equal(p.r.a.cases, 2);
	assert_int_equal(p.r.b.cases, 1);
	assert_true(p.r.alpha == 0.05);
	pair_release(&p);
	strbuf_release(&err);
}

static void test_report_formats(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	enum compare_format f;
	char buf[64];

	(void)state;
	compare_fmt_value(buf, sizeof(buf), 700, "ms", false);
	assert_string_equal(buf, "700 ms");
	compare_fmt_value(buf, sizeof(buf), 2800, "ms", true);
	assert_string_equal(buf, "+2800 ms");
	compare_fmt_value(buf, sizeof(buf), -1203.333, "/s", true);
	assert_string_equal(buf, "-1203.3/s");
	compare_fmt_value(buf, sizeof(buf), 6.5, "%", false);
	assert_string_equal(buf, "6.5%");
	compare_fmt_value(buf, sizeof(buf), 0.0075, "", false);
	assert_string_equal(buf, "0.0075");
	compare_fmt_value(buf, sizeof(buf), NAN, "ms", false);
	assert_string_equal(buf, "-");
	assert_int_equal(compare_format_parse("markdown", &f), 0);
	assert_int_equal(f, COMPARE_FMT_MARKDOWN);
	assert_int_equal(compare_format_parse("md", &f), 0);
	assert_int_equal(compare_format_parse("json", &f), 0);
	assert_int_equal(f, COMPARE_FMT_JSON);
	assert_int_equal(compare_format_parse("html", &f), -1);

	pair_init(&p);
	put2(p.a, "t", "pass", "\"worst_gap_ms\":1000");
	put2(p.b, "t", "pass", "\"worst_gap_ms\":1600");
	put(p.a, "n", 1, "pass", "\"worst_gap_ms\":1000", ",\"label\":\"a|b\"");
	put(p.b, "n", 1, "pass", "\"worst_gap_ms\":5000", "");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	compare_report(&p.r, "A", "B", COMPARE_FMT_MARKDOWN, false, &out);
	/* a table a review tool renders: header, alignment row, rows */
	assert_non_null(strstr(out.buf, "| case | metric | A | B | delta | delta % | p | verdict |\n"
				       "|---|---|--:|--:|--:|--:|--:|---|\n"));
	assert_non_null(strstr(out.buf, "| s t/tiny-2llc | worst_gap_ms | 1000 ms | 1600 ms |"
				       " +600 ms | +60.0% | <0.001 | **regression** |\n"));
	assert_non_null(strstr(out.buf, "| s n/tiny-2llc | worst_gap_ms | 1000 ms | 5000 ms |"
				       " +4000 ms | +400.0% | - | noise |\n"));
	/* a '|' in a label cannot break the table */
	assert_non_null(strstr(out.buf, "| label | abcdef123456, a\\|b | abcdef123456 |\n"));
	/* Markdown's counts agree in number; the text summary keeps its shape */
	assert_non_null(strstr(out.buf, "**2 cases: 1 regression, 0 improvements, 1 noise,"
				       " 0 infrastructure errors**"));
	strbuf_reset(&out);
	compare_report(&p.r, "A", "B", COMPARE_FMT_TEXT, false, &out);
	assert_non_null(strstr(out.buf, "compare: 2 cases, 1 regressions, 0 improvements,"
				       " 1 noise, 0 errors\n"));
	assert_non_null(strstr(out.buf, "REGRESSION\n"));
	strbuf_reset(&out);
	compare_report(&p.r, "A", "B", COMPARE_FMT_JSON, false, &out);
	assert_non_null(strstr(out.buf, "\"type\":\"compare_summary\""));
	assert_non_null(strstr(out.buf, "\"status\":\"noise\""));
	pair_release(&p);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_one_sided_and_empty(void **state)
{
	struct pair p;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	pair_init(&p);
	put(p.a, "both", 1, "pass", "\"worst_gap_ms\":1", "");
	put(p.b, "both", 1, "pass", "\"worst_gap_ms\":1", "");
	put(p.a, "gone", 1, "pass", "", "");
	put(p.b, "new", 1, "pass", "", "");
	assert_int_equal(pair_compare(&p, NULL, &err), 0);
	assert_int_equal(p.r.cases_a, 2);
	assert_int_equal(p.r.cases_b, 2);
	assert_int_equal(p.r.cases_both, 1);
	assert_int_equal(p.r.only_a.n, 1);
	assert_string_equal(p.r.only_a.v[0], "s gone/tiny-2llc");
	assert_int_equal(p.r.only_b.n, 1);
	assert_string_equal(p.r.only_b.v[0], "s new/tiny-2llc");
	assert_int_equal(p.r.regressions, 0);
	pair_release(&p);

	/* an empty side is an error naming it */
	pair_init(&p);
	put(p.a, "x", 1, "pass", "", "");
	assert_int_equal(pair_compare(&p, NULL, &err), -1);
	assert_non_null(strstr(err.buf, "second run has no sidecars"));
	pair_release(&p);
	strbuf_release(&err);
}

/* ---- filters ------------------------------------------------------------ */

static void test_filters(void **state)
{
	char *dir = tmpdir();
	struct sidecar_set set;
	struct compare_filter f;
	const struct sidecar *s;
	struct pair p;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	put(dir, "steady", 1, "pass", "", "");
	load(dir, &set);
	s = &set.v[0];
	memset(&f, 0, sizeof(f));
	assert_true(compare_filter_match(&f, s));
	assert_true(compare_filter_match(NULL, s));
#define YES(field, val) do { memset(&f, 0, sizeof(f)); f.field = val; \
	assert_true(compare_filter_match(&f, s)); } while (0)
#define NO(field, val) do { memset(&f, 0, sizeof(f)); f.field = val; \
	assert_false(compare_filter_match(&f, s)); } while (0)
	YES(kernel, "6.14.2");
	YES(kernel, "6.14");
	NO(kernel, "6.15");
	YES(scheduler, "scx_simple");
	NO(scheduler, "scx_simpl");
	NO(scheduler, "eevdf");
	YES(topology, "tiny-2llc");
	YES(topology, "1n2l2c1t");
	YES(topology, "1,2,2,1");	/* either form, as --topo takes it */
	NO(topology, "1,1,4,1");
	NO(topology, "1n1l4c1t");
	NO(topology, "1,2,2");
	NO(topology, "tiny-1llc");
	YES(work_type, "cpu_spin");
	YES(work_type, "yield_heavy");
	NO(work_type, "io");
	YES(commit, "abcdef123456");
	YES(commit, "abcdef1");
	NO(commit, "bcdef");
	YES(run_source, "local");
	NO(run_source, "ci");
	YES(test, "steady");
	YES(test, "st*");
	YES(test, "steady/tiny-2llc");
	NO(test, "mixed");
	/* all given fields must match */
	memset(&f, 0, sizeof(f));
	f.kernel = "6.14";
	f.scheduler = "other";
	assert_false(compare_filter_match(&f, s));
#undef YES
#undef NO
	sidecar_set_release(&set);
	rm_rf(dir);
	free(dir);

	/* compare_runs applies the filter on both sides */
	pair_init(&p);
	put(p.a, "steady", 1, "pass", "\"worst_gap_ms\":1000", "");
	put(p.b, "steady", 1, "pass", "\"worst_gap_ms\":9000", "");
	put(p.a, "mixed", 1, "pass", "", "");
	put(p.b, "mixed", 1, "pass", "", "");
	memset(&f, 0, sizeof(f));
	f.test = "mixed";
	assert_int_equal(pair_compare(&p, &f, &err), 0);
	assert_int_equal(p.r.cases_both, 1);
	assert_int_equal(p.r.regressions, 0);
	compare_result_release(&p.r);
	f.test = "nothing";
	assert_int_equal(compare_runs(&p.sa, &p.sb, &f, 0.05, &p.r, &err), -1);
	assert_non_null(strstr(err.buf, "first run has no sidecars matching the filters"));
	pair_release(&p);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_welch_known_values),
		cmocka_unit_test(test_welch_edges),
		cmocka_unit_test(test_gate_table),
		cmocka_unit_test(test_both_gates_must_pass),
		cmocka_unit_test(test_tcg_rate_gate),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_one_sample_is_noise),
		cmocka_unit_test(test_ab_variants_are_cases),
		cmocka_unit_test(test_repeats_t_test),
		cmocka_unit_test(test_result_change),
		cmocka_unit_test(test_errors_left_out),
		cmocka_unit_test(test_sides),
		cmocka_unit_test(test_report_formats),
		cmocka_unit_test(test_one_sided_and_empty),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_payload_metrics),
		cmocka_unit_test(test_bpf_cost_one_run),
		cmocka_unit_test(test_bpf_cost_repeats),
		cmocka_unit_test(test_bpf_verified_insns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
