/* Tables and records of the run history (stats_report.h). */
#include "stats_report.h"
#include "diag.h"
#include "jsonl.h"
#include "strvec.h"
#include "texttable.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Integers as integers, the rest with about 4 significant digits but
 * never in exponent form above 1; "-" missing. */
static void fmt_num(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else if (isinf(x))
		snprintf(buf, len, "%sinf", x < 0 ? "-" : "+");
	else if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, len, "%.0f", x);
	else if (fabs(x) >= 100)
		snprintf(buf, len, "%.1f", x);
	else if (fabs(x) >= 1)
		snprintf(buf, len, "%.2f", x);
	else
		snprintf(buf, len, "%.3g", x);
	if (strchr(buf, '.') && !strchr(buf, 'e')) {	/* 6.50 -> 6.5 */
		char *e = buf + strlen(buf);

		while (e[-1] == '0')
			*--e = '\0';
		if (e[-1] == '.')
			e[-1] = '\0';
	}
}

/* The "result" row's means are fractions of passing samples. */
static void fmt_pass(char *buf, size_t len, double frac)
{
	if (frac == 1)
		snprintf(buf, len, "pass");
	else if (frac == 0)
		snprintf(buf, len, "fail");
	else
		snprintf(buf, len, "%.0f%% pass", frac * 100);
}

static json_t *num_or_null(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == floor(x) && fabs(x) < 9e15)
		return json_integer((json_int_t)x);
	return json_real(x);
}

static double metric(const struct sidecar *s, const char *name)
{
	json_t *v = json_object_get(s->metrics, name);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- list --------------------------------------------------------------- */

void stats_report_runs(const struct sidecar_run *v, size_t n, bool json,
		       struct strbuf *out)
{
	static const bool right[] = { false, true, false, false };
	struct text_table t = TEXT_TABLE_INIT(4);
	const char *head[] = { "RUN", "TESTS", "DATE", "ARCH" };
	size_t i;

	if (json) {
		for (i = 0; i < n; i++) {
			json_t *o = jsonl_record("run");

			json_set_str(o, "run", v[i].name);
			json_set_str(o, "path", v[i].path);
			json_set_int(o, "tests", (long long)v[i].tests);
			json_set_str(o, "date", v[i].date);
			json_set_str(o, "arch", v[i].arch);
			jsonl_encode(out, o);
			json_decref(o);
		}
		return;
	}
	text_table_add(&t, head);
	for (i = 0; i < n; i++) {
		char tests[32];
		const char *row[4] = { v[i].name, tests, v[i].date, v[i].arch };

		snprintf(tests, sizeof(tests), "%zu", v[i].tests);
		text_table_add(&t, row);
	}
	text_table_render(&t, right, out);
}

/* ---- show --------------------------------------------------------------- */

static const char *case_label(const struct sidecar *s, struct strbuf *sb)
{
	strbuf_reset(sb);
	if (*s->suite)
		strbuf_addf(sb, "%s ", s->suite);
	strbuf_addstr(sb, *s->case_name ? s->case_name : *s->test ? s->test : "?");
	return sb->buf;
}

json_t *stats_case_json(const char *run, const struct sidecar *s)
{
	json_t *o = jsonl_record("case");
	json_t *rep = json_object_get(s->doc, "repeat");
	json_t *wall = json_object_get(s->doc, "wall_ms");
	json_t *reason = json_object_get(s->doc, "reason");

	json_set_str(o, "run", run);
	json_set_str(o, "path", s->path);
	json_set_str(o, "case", s->case_name);
	json_set_str(o, "suite", s->suite);
	json_set_str(o, "test", s->test);
	json_set_str(o, "preset", s->preset);
	json_set_str(o, "topology", s->topology);
	json_set_str(o, "scheduler", s->scheduler);
	json_set_str(o, "kernel", s->kernel);
	json_set_str(o, "commit", s->commit);
	json_set_str(o, "run_source", s->run_source);
	json_set_str(o, "run_id", s->run_id);
	json_set_str(o, "timestamp", s->timestamp);
	json_set_str(o, "arch", s->arch);
	json_object_set_new(o, "repeat", json_is_integer(rep) ? json_copy(rep) : json_null());
	json_set_str(o, "result", s->result);
	json_object_set_new(o, "reason", json_is_string(reason) ? json_copy(reason)
								  : json_null());
	json_object_set_new(o, "wall_ms", json_is_number(wall) ? json_copy(wall) : json_null());
	json_object_set(o, "metrics", s->metrics);
	return o;
}

size_t stats_report_cases(const char *run, const struct sidecar_set *set,
			  const struct compare_filter *f, bool json, struct strbuf *out)
{
	static const char *const cols[] = { "worst_spread_pct", "worst_gap_ms",
		"total_iterations", "worst_p99_wake_latency_us", "total_migrations" };
	static const bool right[] = { false, true, false, true, true, true, true, true };
	const char *head[] = { "CASE", "REPEAT", "RESULT", "SPREAD_PCT", "GAP_MS",
			       "ITERATIONS", "P99_WAKE_US", "MIGRATIONS" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	struct strbuf label = STRBUF_INIT;
	size_t i, c, shown = 0;

	text_table_add(&t, head);
	for (i = 0; i < set->n; i++) {
		const struct sidecar *s = &set->v[i];
		char nums[ARRAY_SIZE(cols)][32], rep[32];
		const char *row[ARRAY_SIZE(head)];
		json_t *r = json_object_get(s->doc, "repeat");

		if (!compare_filter_match(f, s))
			continue;
		shown++;
		if (json) {
			json_t *o = stats_case_json(run, s);

			jsonl_encode(out, o);
			json_decref(o);
			continue;
		}
		fmt_num(rep, sizeof(rep), json_is_integer(r) ? (double)json_integer_value(r)
							      : NAN);
		row[0] = case_label(s, &label);
		row[1] = rep;
		row[2] = *s->result ? s->result : "?";
		for (c = 0; c < ARRAY_SIZE(cols); c++) {
			fmt_num(nums[c], sizeof(nums[c]), metric(s, cols[c]));
			row[3 + c] = nums[c];
		}
		text_table_add(&t, row);
		/* the table copies the cells, label can be reused */
	}
	if (!json && shown)
		text_table_render(&t, right, out);
	strvec_clear(&t.cells);
	strbuf_release(&label);
	return shown;
}

/* ---- compare ------------------------------------------------------------ */

static bool changed(const struct compare_row *r)
{
	return !isnan(r->delta) && r->delta != 0;
}

static json_t *row_json(const struct compare_row *r)
{
	const struct metric_gate *g = compare_gate_find(r->metric);
	json_t *o = jsonl_record("compare_row");

	json_set_str(o, "case", r->case_key);
	json_set_str(o, "metric", r->metric);
	json_object_set_new(o, "a_mean", num_or_null(r->a_mean));
	json_object_set_new(o, "b_mean", num_or_null(r->b_mean));
	json_set_int(o, "a_samples", (long long)r->na);
	json_set_int(o, "b_samples", (long long)r->nb);
	json_object_set_new(o, "delta", num_or_null(r->delta));
	json_object_set_new(o, "delta_pct", num_or_null(r->delta_pct));
	json_object_set_new(o, "p_value", num_or_null(r->p_value));
	json_set_bool(o, "gated", r->gated);
	json_object_set_new(o, "higher_is_better", g ? json_boolean(g->higher_is_better)
						      : json_null());
	json_set_bool(o, "regression", r->regression);
	json_set_bool(o, "improvement", r->improvement);
	return o;
}

static json_t *strvec_json(const struct strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static void one_sided(const char *run, const struct strvec *sv, struct strbuf *out)
{
	size_t i;

	if (!sv->n)
		return;
	strbuf_addf(out, "only in '%s': %zu case%s (", run, sv->n, sv->n == 1 ? "" : "s");
	for (i = 0; i < sv->n && i < 5; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", sv->v[i]);
	if (sv->n > 5)
		strbuf_addf(out, ", ... %zu more", sv->n - 5);
	strbuf_addstr(out, ")\n");
}

void stats_report_compare(const struct compare_result *r, const char *a, const char *b,
			  double alpha, bool json, bool all, struct strbuf *out)
{
	static const bool right[] = { false, false, true, true, true, true, true, false };
	const char *head[] = { "CASE", "METRIC", "A", "B", "DELTA", "DELTA_PCT", "P",
			       "" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	size_t i, rows = 0;

	text_table_add(&t, head);
	for (i = 0; i < r->n; i++) {
		const struct compare_row *row = &r->rows[i];
		char am[32], bm[32], d[32], dp[32], p[32];
		const char *cells[ARRAY_SIZE(head)];

		/* JSON: every gated change, for scripts to judge; the table:
		 * only what passed the gates, so a same-again run is quiet. */
		if (!all && !(json ? row->gated && changed(row)
				   : row->regression || row->improvement))
			continue;
		rows++;
		if (json) {
			json_t *o = row_json(row);

			jsonl_encode(out, o);
			json_decref(o);
			continue;
		}
		fmt_num(am, sizeof(am), row->a_mean);
		fmt_num(bm, sizeof(bm), row->b_mean);
		fmt_num(d, sizeof(d), row->delta);
		if (!strcmp(row->metric, "result")) {
			fmt_pass(am, sizeof(am), row->a_mean);
			fmt_pass(bm, sizeof(bm), row->b_mean);
			snprintf(d, sizeof(d), "-");
			snprintf(dp, sizeof(dp), "-");
		} else if (isnan(row->delta_pct))
			snprintf(dp, sizeof(dp), "-");
		else if (isinf(row->delta_pct))
			snprintf(dp, sizeof(dp), "%snew", row->delta_pct < 0 ? "-" : "+");
		else
			snprintf(dp, sizeof(dp), "%+.1f%%", row->delta_pct);
		if (isnan(row->p_value))
			snprintf(p, sizeof(p), "-");
		else
			snprintf(p, sizeof(p), "%.3g", row->p_value);
		cells[0] = row->case_key;
		cells[1] = row->metric;
		cells[2] = am;
		cells[3] = bm;
		cells[4] = d;
		cells[5] = dp;
		cells[6] = p;
		cells[7] = row->regression ? "REGRESSION" : row->improvement ? "improvement" : "";
		text_table_add(&t, cells);
	}
	if (json) {
		json_t *o = jsonl_record("compare_summary");

		json_set_str(o, "a", a);
		json_set_str(o, "b", b);
		json_set_int(o, "cases", (long long)r->cases_both);
		json_set_int(o, "cases_a", (long long)r->cases_a);
		json_set_int(o, "cases_b", (long long)r->cases_b);
		json_object_set_new(o, "only_a", strvec_json(&r->only_a));
		json_object_set_new(o, "only_b", strvec_json(&r->only_b));
		json_set_int(o, "regressions", (long long)r->regressions);
		json_set_int(o, "improvements", (long long)r->improvements);
		json_set_real(o, "alpha", alpha);
		jsonl_encode(out, o);
		json_decref(o);
		strvec_clear(&t.cells);
		return;
	}
	if (rows)
		text_table_render(&t, right, out);
	strvec_clear(&t.cells);
	one_sided(a, &r->only_a, out);
	one_sided(b, &r->only_b, out);
	/* A fixed shape, for people who grep it. */
	strbuf_addf(out, "compare: %zu cases, %zu regressions, %zu improvements\n",
		    r->cases_both, r->regressions, r->improvements);
}
