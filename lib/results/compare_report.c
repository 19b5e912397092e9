/* Text, Markdown and JSON reports of a comparison (compare_report.h). */
#include "compare_report.h"
#include "diag.h"
#include "jsonl.h"
#include "texttable.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int compare_format_parse(const char *s, enum compare_format *out)
{
	if (!strcmp(s, "text"))
		*out = COMPARE_FMT_TEXT;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*out = COMPARE_FMT_MARKDOWN;
	else if (!strcmp(s, "json"))
		*out = COMPARE_FMT_JSON;
	else
		return -1;
	return 0;
}

/* ---- numbers ------------------------------------------------------------- */

/* Integers as integers, else about 4 significant digits, never in
 * exponent form at 0.001 and above; trailing zeros dropped. */
static void fmt_plain(char *buf, size_t len, double x, bool sign)
{
	const char *sg = sign && x > 0 ? "+" : "";
	double a = fabs(x);

	if (x == floor(x) && a < 1e15)
		snprintf(buf, len, "%s%.0f", sg, x);
	else if (a >= 100)
		snprintf(buf, len, "%s%.1f", sg, x);
	else if (a >= 1)
		snprintf(buf, len, "%s%.2f", sg, x);
	else if (a >= 0.001)
		snprintf(buf, len, "%s%.4f", sg, x);
	else
		snprintf(buf, len, "%s%.3g", sg, x);
	if (strchr(buf, '.') && !strchr(buf, 'e')) {
		char *e = buf + strlen(buf);

		while (e[-1] == '0')
			*--e = '\0';
		if (e[-1] == '.')
			e[-1] = '\0';
	}
}

void compare_fmt_value(char *buf, size_t len, double x, const char *unit, bool sign)
{
	char num[48];

	if (isnan(x)) {
		snprintf(buf, len, "-");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, len, "%sinf", x < 0 ? "-" : "+");
		return;
	}
	fmt_plain(num, sizeof(num), x, sign);
	/* "%" and "/s" hug the number, words get a space. */
	if (!*unit)
		snprintf(buf, len, "%s", num);
	else if (unit[0] == '%' || unit[0] == '/')
		snprintf(buf, len, "%s%s", num, unit);
	else
		snprintf(buf, len, "%s %s", num, unit);
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

static void fmt_pct(char *buf, size_t len, double pct)
{
	if (isnan(pct))
		snprintf(buf, len, "-");
	else if (isinf(pct))
		snprintf(buf, len, "%snew", pct < 0 ? "-" : "+");
	else
		snprintf(buf, len, "%+.1f%%", pct);
}

/* p-values to 3 decimals: the level is 0.05, more digits are noise. */
static void fmt_p(char *buf, size_t len, double p)
{
	if (isnan(p))
		snprintf(buf, len, "-");
	else if (p < 0.001)
		snprintf(buf, len, "<0.001");
	else
		snprintf(buf, len, "%.3f", p);
}

struct cells {
	char a[64], b[64], d[64], dp[32], p[32];
};

static void row_cells(const struct compare_row *row, struct cells *c)
{
	const char *unit = row->unit ? row->unit : compare_metric_unit(row->metric);

	if (!strcmp(row->metric, "result")) {
		fmt_pass(c->a, sizeof(c->a), row->a_mean);
		fmt_pass(c->b, sizeof(c->b), row->b_mean);
		snprintf(c->d, sizeof(c->d), "-");
		snprintf(c->dp, sizeof(c->dp), "-");
	} else {
		compare_fmt_value(c->a, sizeof(c->a), row->a_mean, unit, false);
		compare_fmt_value(c->b, sizeof(c->b), row->b_mean, unit, false);
		compare_fmt_value(c->d, sizeof(c->d), row->delta, unit, true);
		fmt_pct(c->dp, sizeof(c->dp), row->delta_pct);
	}
	fmt_p(c->p, sizeof(c->p), row->p_value);
}

/* The verdict as the human reports print it. */
static const char *verdict_word(const struct compare_row *row)
{
	const char *s = compare_row_status(row);

	return !strcmp(s, "regression") ? "REGRESSION" : s;
}

static bool changed(const struct compare_row *r)
{
	return !isnan(r->delta) && r->delta != 0;
}

static bool shown(const struct compare_row *r, enum compare_format fmt, bool all)
{
	if (all)
		return true;
	if (r->notable && changed(r))
		return true;
	if (fmt == COMPARE_FMT_JSON)	/* scripts judge for themselves */
		return r->gated && changed(r);
	return r->regression || r->improvement || (r->gated && (r->noise || r->changed));
}

/* ---- the two runs ---------------------------------------------------------- */

/* "a, b" or "-". */
static void join(const struct strvec *sv, const char *sep, struct strbuf *sb)
{
	size_t i;

	strbuf_reset(sb);
	for (i = 0; i < sv->n; i++)
		strbuf_addf(sb, "%s%s", i ? sep : "", sv->v[i]);
	if (!sv->n)
		strbuf_addch(sb, '-');
}

static const char *sample_word(size_t n)
{
	return n == 1 ? "sample" : "samples";
}

/* "s" but for one: the prose reports agree in number; the text summary
 * line keeps its fixed shape for scripts. */
static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static void text_header(const struct compare_result *r, const char *a, const char *b,
			struct strbuf *out)
{
	static const bool right[] = { false, false, false, false, false, false, false,
				      true, true, true };
	const char *head[] = { "", "RUN", "ID", "LABEL", "SCHEDULERS", "KERNEL", "ACCEL",
			       "CASES", "SAMPLES", "ERRORS" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	struct strbuf sb = STRBUF_INIT;
	const struct compare_side *sides[2] = { &r->a, &r->b };
	const char *names[2] = { a, b };
	size_t k;

	text_table_add(&t, head);
	for (k = 0; k < 2; k++) {
		const struct compare_side *s = sides[k];

		text_table_cell(&t, k ? "B" : "A");
		text_table_cell(&t, names[k]);
		join(&s->ids, ",", &sb);
		text_table_cell(&t, sb.buf);
		join(&s->labels, ",", &sb);
		text_table_cell(&t, sb.buf);
		join(&s->schedulers, ",", &sb);
		text_table_cell(&t, sb.buf);
		join(&s->kernels, ",", &sb);
		text_table_cell(&t, sb.buf);
		join(&s->accels, ",", &sb);
		text_table_cell(&t, sb.buf);
		text_table_cellf(&t, "%zu", s->cases);
		text_table_cellf(&t, "%zu", s->samples);
		text_table_cellf(&t, "%zu", s->errors);
	}
	text_table_render(&t, right, out);
	strbuf_addch(out, '\n');
	strbuf_release(&sb);
}

/* "only in 'a': 2 cases (x, y)" and the infrastructure errors. */
static void case_list(const char *what, const struct strvec *sv, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < sv->n && i < 5; i++)
		strbuf_addf(out, "%s%s", i ? ", " : what, sv->v[i]);
	if (sv->n > 5)
		strbuf_addf(out, ", ... %zu more", sv->n - 5);
}

static void one_sided(const char *run, const struct strvec *sv, struct strbuf *out)
{
	if (!sv->n)
		return;
	strbuf_addf(out, "only in '%s': %zu case%s (", run, sv->n, sv->n == 1 ? "" : "s");
	case_list("", sv, out);
	strbuf_addstr(out, ")\n");
}

static void left_out_line(const char *what, const char *run, size_t n,
			  const struct strvec *cases, struct strbuf *out)
{
	if (!n)
		return;
	strbuf_addf(out, "%s in '%s': %zu %s left out (", what, run, n, sample_word(n));
	case_list("", cases, out);
	strbuf_addstr(out, ")\n");
}

/* The samples no metric counts: infrastructure errors, then inconclusive
 * runs. */
static void errors_line(const char *run, const struct compare_side *s, struct strbuf *out)
{
	left_out_line("infrastructure errors", run, s->errors, &s->error_cases, out);
	left_out_line("inconclusive runs", run, s->inconclusive, &s->inconclusive_cases, out);
}

static void summary_line(const struct compare_result *r, struct strbuf *out)
{
	/* A fixed shape, for people who grep it: plural words whatever the
	 * counts ("1 cases"), as ktstr-stats(1) says. */
	strbuf_addf(out, "compare: %zu cases, %zu regressions, %zu improvements, %zu noise,"
		    " %zu errors\n", r->cases_both, r->regressions, r->improvements, r->noise,
		    r->a.errors + r->b.errors);
}

static void report_text(const struct compare_result *r, const char *a, const char *b,
			bool all, struct strbuf *out)
{
	static const bool right[] = { false, false, true, true, true, true, true, false };
	const char *head[] = { "CASE", "METRIC", "A", "B", "DELTA", "DELTA_PCT", "P",
			       "VERDICT" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	size_t i, rows = 0;

	text_header(r, a, b, out);
	text_table_add(&t, head);
	for (i = 0; i < r->n; i++) {
		const struct compare_row *row = &r->rows[i];
		struct cells c;

		if (!shown(row, COMPARE_FMT_TEXT, all))
			continue;
		rows++;
		row_cells(row, &c);
		text_table_add(&t, (const char *[]){ row->case_key, row->metric, c.a, c.b, c.d,
						    c.dp, c.p, verdict_word(row) });
	}
	if (rows)
		text_table_render(&t, right, out);
	else
		strvec_clear(&t.cells);
	one_sided(a, &r->only_a, out);
	one_sided(b, &r->only_b, out);
	errors_line(a, &r->a, out);
	errors_line(b, &r->b, out);
	summary_line(r, out);
}

/* ---- Markdown -------------------------------------------------------------- */

/* A table cell: '|' would end it, a newline the table. */
static void md_cell(struct strbuf *out, const char *s)
{
	strbuf_addstr(out, " ");
	for (; *s; s++) {
		if (*s == '|')
			strbuf_addstr(out, "\\|");
		else if (*s == '\n')
			strbuf_addch(out, ' ');
		else
			strbuf_addch(out, *s);
	}
	strbuf_addstr(out, " |");
}

static void md_side_row(struct strbuf *out, const char *what, const char *a, const char *b)
{
	strbuf_addch(out, '|');
	md_cell(out, what);
	md_cell(out, a);
	md_cell(out, b);
	strbuf_addch(out, '\n');
}

static void md_sv_row(struct strbuf *out, const char *what, const struct strvec *a,
		      const struct strvec *b, bool code)
{
	struct strbuf sa = STRBUF_INIT, sb = STRBUF_INIT, ta = STRBUF_INIT, tb = STRBUF_INIT;

	join(a, ", ", &sa);
	join(b, ", ", &sb);
	if (code) {
		strbuf_addf(&ta, "`%s`", sa.buf);
		strbuf_addf(&tb, "`%s`", sb.buf);
	}
	md_side_row(out, what, code ? ta.buf : sa.buf, code ? tb.buf : sb.buf);
	strbuf_release(&sa);
	strbuf_release(&sb);
	strbuf_release(&ta);
	strbuf_release(&tb);
}

static void report_markdown(const struct compare_result *r, const char *a, const char *b,
			    bool all, struct strbuf *out)
{
	char na[64], nb[64];
	size_t i, rows = 0;

	strbuf_addstr(out, "### ktstr compare\n\n| | A (baseline) | B |\n|---|---|---|\n");
	md_side_row(out, "run", a, b);
	md_sv_row(out, "id", &r->a.ids, &r->b.ids, true);
	md_sv_row(out, "label", &r->a.labels, &r->b.labels, false);
	md_sv_row(out, "scheduler", &r->a.schedulers, &r->b.schedulers, false);
	md_sv_row(out, "kernel", &r->a.kernels, &r->b.kernels, false);
	md_sv_row(out, "accel", &r->a.accels, &r->b.accels, false);
	snprintf(na, sizeof(na), "%zu case%s, %zu %s", r->a.cases, plural(r->a.cases),
		 r->a.samples, sample_word(r->a.samples));
	snprintf(nb, sizeof(nb), "%zu case%s, %zu %s", r->b.cases, plural(r->b.cases),
		 r->b.samples, sample_word(r->b.samples));
	md_side_row(out, "samples", na, nb);
	snprintf(na, sizeof(na), "%zu", r->a.errors);
	snprintf(nb, sizeof(nb), "%zu", r->b.errors);
	md_side_row(out, "infrastructure errors", na, nb);
	if (r->a.inconclusive || r->b.inconclusive) {
		snprintf(na, sizeof(na), "%zu", r->a.inconclusive);
		snprintf(nb, sizeof(nb), "%zu", r->b.inconclusive);
		md_side_row(out, "inconclusive runs", na, nb);
	}
	strbuf_addch(out, '\n');

	for (i = 0; i < r->n; i++) {
		const struct compare_row *row = &r->rows[i];
		const char *v = compare_row_status(row);
		struct cells c;
		char verdict[32];

		if (!shown(row, COMPARE_FMT_MARKDOWN, all))
			continue;
		if (!rows++)
			strbuf_addstr(out, "| case | metric | A | B | delta | delta % | p |"
				      " verdict |\n|---|---|--:|--:|--:|--:|--:|---|\n");
		row_cells(row, &c);
		/* Regressions stand out in bold, as the text's capitals do. */
		snprintf(verdict, sizeof(verdict), !strcmp(v, "regression") ? "**%s**" : "%s", v);
		strbuf_addch(out, '|');
		md_cell(out, row->case_key);
		md_cell(out, row->metric);
		md_cell(out, c.a);
		md_cell(out, c.b);
		md_cell(out, c.d);
		md_cell(out, c.dp);
		md_cell(out, c.p);
		md_cell(out, verdict);
		strbuf_addch(out, '\n');
	}
	if (!rows)
		strbuf_addstr(out, r->cases_both ? "No change past the gates.\n"
				   : "No case is in both runs: nothing was compared.\n");
	strbuf_addch(out, '\n');
	if (r->only_a.n || r->only_b.n || r->a.errors || r->b.errors || r->a.inconclusive ||
	    r->b.inconclusive) {
		struct strbuf l = STRBUF_INIT;

		one_sided(a, &r->only_a, &l);
		one_sided(b, &r->only_b, &l);
		errors_line(a, &r->a, &l);
		errors_line(b, &r->b, &l);
		/* Each line a list item, so Markdown keeps them apart. */
		for (char *p = l.buf, *nl; p && *p; p = nl) {
			nl = strchr(p, '\n');
			if (nl)
				*nl++ = '\0';
			strbuf_addf(out, "- %s\n", p);
		}
		strbuf_addch(out, '\n');
		strbuf_release(&l);
	}
	strbuf_addf(out, "**%zu case%s: %zu regression%s, %zu improvement%s, %zu noise,"
		    " %zu infrastructure error%s** (Welch t-test, alpha %g; noise: past the"
		    " gates without statistical support)\n", r->cases_both, plural(r->cases_both),
		    r->regressions, plural(r->regressions), r->improvements,
		    plural(r->improvements), r->noise, r->a.errors + r->b.errors,
		    plural(r->a.errors + r->b.errors), r->alpha);
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *num_or_null(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == floor(x) && fabs(x) < 9e15)
		return json_integer((json_int_t)x);
	return json_real(x);
}

static json_t *strvec_json(const struct strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *row_json(const struct compare_row *r)
{
	const struct metric_gate *g = compare_gate_find(r->metric);
	json_t *o = jsonl_record("compare_row");

	json_set_str(o, "case", r->case_key);
	json_set_str(o, "metric", r->metric);
	json_set_str(o, "unit", r->unit ? r->unit : compare_metric_unit(r->metric));
	json_object_set_new(o, "a_mean", num_or_null(r->a_mean));
	json_object_set_new(o, "b_mean", num_or_null(r->b_mean));
	json_set_int(o, "a_samples", (long long)r->na);
	json_set_int(o, "b_samples", (long long)r->nb);
	json_object_set_new(o, "delta", num_or_null(r->delta));
	json_object_set_new(o, "delta_pct", num_or_null(r->delta_pct));
	json_object_set_new(o, "p_value", num_or_null(r->p_value));
	json_set_str(o, "direction", compare_dir_name(r->dir));
	json_set_bool(o, "gated", r->gated);
	json_object_set_new(o, "gate_abs", num_or_null(r->gate_abs));
	json_object_set_new(o, "gate_rel_pct", num_or_null(r->gate_rel_pct));
	json_object_set_new(o, "higher_is_better", (g || r->gated) && r->dir != COMPARE_NEUTRAL ?
			    json_boolean(r->dir == COMPARE_HIGHER_BETTER) : json_null());
	json_set_bool(o, "past_gate", r->past_gate);
	json_set_bool(o, "significant", r->significant);
	json_set_str(o, "status", compare_row_status(r));
	json_set_bool(o, "regression", r->regression);
	json_set_bool(o, "improvement", r->improvement);
	json_set_bool(o, "noise", r->noise);
	return o;
}

static json_t *side_json(const char *run, const struct compare_side *s)
{
	json_t *o = json_object();

	json_set_str(o, "run", run);
	json_object_set_new(o, "ids", strvec_json(&s->ids));
	json_object_set_new(o, "labels", strvec_json(&s->labels));
	json_object_set_new(o, "schedulers", strvec_json(&s->schedulers));
	json_object_set_new(o, "kernels", strvec_json(&s->kernels));
	json_object_set_new(o, "accels", strvec_json(&s->accels));
	json_set_int(o, "cases", (long long)s->cases);
	json_set_int(o, "samples", (long long)s->samples);
	json_set_int(o, "errors", (long long)s->errors);
	json_object_set_new(o, "error_cases", strvec_json(&s->error_cases));
	json_set_int(o, "inconclusive", (long long)s->inconclusive);
	json_object_set_new(o, "inconclusive_cases", strvec_json(&s->inconclusive_cases));
	return o;
}

static void report_json(const struct compare_result *r, const char *a, const char *b,
			bool all, struct strbuf *out)
{
	json_t *o;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (!shown(&r->rows[i], COMPARE_FMT_JSON, all))
			continue;
		o = row_json(&r->rows[i]);
		jsonl_encode(out, o);
		json_decref(o);
	}
	o = jsonl_record("compare_summary");
	json_set_str(o, "a", a);
	json_set_str(o, "b", b);
	json_object_set_new(o, "a_run", side_json(a, &r->a));
	json_object_set_new(o, "b_run", side_json(b, &r->b));
	json_set_int(o, "cases", (long long)r->cases_both);
	json_set_int(o, "cases_a", (long long)r->cases_a);
	json_set_int(o, "cases_b", (long long)r->cases_b);
	json_object_set_new(o, "only_a", strvec_json(&r->only_a));
	json_object_set_new(o, "only_b", strvec_json(&r->only_b));
	json_set_int(o, "regressions", (long long)r->regressions);
	json_set_int(o, "improvements", (long long)r->improvements);
	json_set_int(o, "noise", (long long)r->noise);
	json_set_int(o, "changed", (long long)r->changed);
	json_set_int(o, "errors", (long long)(r->a.errors + r->b.errors));
	json_set_int(o, "inconclusive", (long long)(r->a.inconclusive + r->b.inconclusive));
	json_set_real(o, "alpha", r->alpha);
	jsonl_encode(out, o);
	json_decref(o);
}

void compare_report(const struct compare_result *r, const char *a, const char *b,
		    enum compare_format fmt, bool all, struct strbuf *out)
{
	switch (fmt) {
	case COMPARE_FMT_JSON: report_json(r, a, b, all, out); break;
	case COMPARE_FMT_MARKDOWN: report_markdown(r, a, b, all, out); break;
	default: report_text(r, a, b, all, out); break;
	}
}
