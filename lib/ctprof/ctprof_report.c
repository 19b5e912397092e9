#include "ctprof_report.h"
#include "ctprof_metrics.h"
#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"
#include "texttable.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

/* The tables: metric names left, numbers flush right. */
static const bool num_right[5] = { false, true, true, true, true };

static bool shown(const struct ctprof_report_opts *o, size_t m)
{
	const struct ctprof_metric *mt = &ctprof_metrics[m];

	if (!ctprof_metric_comparable(mt))
		return false;
	if (mt->scope == CTPROF_SCOPE_CGROUP && o->by != CTPROF_BY_CGROUP)
		return false;
	return !o->metrics || o->metrics[m];
}

static json_t *value_json(const struct ctprof_value *v)
{
	if (!v->present)
		return json_null();
	return v->real ? json_real(v->r) : json_integer(v->i);
}

static void fmt_value(char *buf, size_t size, const struct ctprof_value *v, bool sign)
{
	if (!v->present)
		snprintf(buf, size, "-");
	else if (v->real)
		snprintf(buf, size, sign ? "%+.2f" : "%.2f", v->r);
	else
		snprintf(buf, size, sign ? "%+lld" : "%lld", v->i);
}

/* "file (2026-11-22 11:23:45 UTC, 6.18.0, 512 threads" -- the caller closes
 * the parenthesis, perhaps after adding more. */
static void describe(struct strbuf *sb, const char *name, const json_t *snap)
{
	const json_t *cap = json_object_get(snap, "capture");
	const json_t *host = json_object_get(snap, "host");
	long long ns = json_get_int(cap, "realtime_ns", -1);
	const char *rel = json_get_str(host, "kernel_release");

	strbuf_addf(sb, "%s (", name);
	if (ns >= 0) {
		time_t t = (time_t)(ns / 1000000000LL);
		struct tm tm;
		char stamp[64];

		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC, ", &tm);
		strbuf_addstr(sb, stamp);
	}
	if (rel)
		strbuf_addf(sb, "%s, ", rel);
	strbuf_addf(sb, "%zu threads", json_array_size(json_object_get(snap, "threads")));
}

/* Nanoseconds from a to b when both come from the same boot (monotonic
 * clocks of different boots cannot be compared); false otherwise. */
static bool interval_ns(const json_t *a, const json_t *b, long long *out)
{
	const char *ba = json_get_str(json_object_get(a, "host"), "boot_id");
	const char *bb = json_get_str(json_object_get(b, "host"), "boot_id");
	long long ma = json_get_int(json_object_get(a, "capture"), "monotonic_ns", -1);
	long long mb = json_get_int(json_object_get(b, "capture"), "monotonic_ns", -1);

	if (!ba || !bb || strcmp(ba, bb) || ma < 0 || mb < 0)
		return false;
	*out = mb - ma;
	return true;
}

static json_t *delta_json(const struct ctprof_pair *p, size_t m, const struct ctprof_delta *d)
{
	json_t *rec = jsonl_record("ctprof_delta");

	json_set_str(rec, "group", p->key);
	json_set_str(rec, "metric", ctprof_metrics[m].name);
	json_object_set_new(rec, "a", value_json(&d->a));
	json_object_set_new(rec, "b", value_json(&d->b));
	json_object_set_new(rec, "delta", value_json(&d->d));
	json_object_set_new(rec, "delta_pct", d->has_pct ? json_real(d->pct) : json_null());
	return rec;
}

static void delta_row(struct text_table *t, size_t m, const struct ctprof_delta *d)
{
	char va[32], vb[32], vd[32], pct[32];

	fmt_value(va, sizeof(va), &d->a, false);
	fmt_value(vb, sizeof(vb), &d->b, false);
	fmt_value(vd, sizeof(vd), &d->d, true);
	if (d->has_pct)
		snprintf(pct, sizeof(pct), "%+.1f%%", d->pct);
	else
		snprintf(pct, sizeof(pct), "-");
	text_table_add(t, (const char *[]){ ctprof_metrics[m].name, va, vb, vd, pct });
}

/* One group of a comparison: records to f (JSON), or rows into t. */
static int compare_group(FILE *f, struct text_table *t, const struct ctprof_pair *p,
			 const struct ctprof_report_opts *o)
{
	size_t ta = p->a ? p->a->threads : 0, tb = p->b ? p->b->threads : 0, m;
	json_t *rec;

	if (o->json) {
		rec = jsonl_record("ctprof_group");
		json_set_str(rec, "group", p->key);
		json_set_str(rec, "status", ctprof_status_name(p->status));
		json_set_int(rec, "threads_a", (long long)ta);
		json_set_int(rec, "threads_b", (long long)tb);
		if (jsonl_emit(f, rec) < 0)
			return -1;
	} else {
		text_table_line(t, "%s", "");
		text_table_line(t, "%s (%s; threads %zu -> %zu)", p->key,
				ctprof_status_name(p->status), ta, tb);
		text_table_add(t, (const char *[]){ "metric", "a", "b", "delta", "delta%" });
	}
	for (m = 0; m < ctprof_n_metrics; m++) {
		struct ctprof_delta d;

		if (!shown(o, m))
			continue;
		ctprof_delta(m, p->a, p->b, p->status, &d);
		if (!d.a.present && !d.b.present)
			continue;
		if (!o->json)
			delta_row(t, m, &d);
		else if (jsonl_emit(f, delta_json(p, m, &d)) < 0)
			return -1;
	}
	return 0;
}

/* Print the rendered table (if text); fputs and fflush errors are -1. */
static int put_table(FILE *f, struct text_table *t, const bool *right, int rc)
{
	struct strbuf sb = STRBUF_INIT;

	text_table_render(t, right, &sb);
	if (!rc && sb.len && fputs(sb.buf, f) < 0)
		rc = -1;
	strbuf_release(&sb);
	if (!rc && fflush(f))
		rc = -1;
	return rc;
}

int ctprof_report_compare(FILE *f, const char *name_a, const json_t *a,
			  const char *name_b, const json_t *b,
			  const struct ctprof_report_opts *o)
{
	struct ctprof_groups ga, gb;
	struct ctprof_comparison c;
	struct text_table t = TEXT_TABLE_INIT(5);
	size_t i, n, counts[3] = { 0, 0, 0 };
	long long gap = 0;
	bool have_gap = interval_ns(a, b, &gap);
	int rc = 0;

	t.indent = 2;
	ctprof_group(a, o->by, &ga);
	ctprof_group(b, o->by, &gb);
	ctprof_compare(&ga, &gb, o->sort, &c);
	for (i = 0; i < c.n; i++)
		counts[c.p[i].status]++;
	n = o->top && o->top < c.n ? o->top : c.n;
	if (o->json) {
		json_t *rec = jsonl_record("ctprof_compare");

		json_set_str(rec, "a", name_a);
		json_set_str(rec, "b", name_b);
		json_set_str(rec, "group_by", ctprof_group_by_name(o->by));
		json_set_str(rec, "sort", ctprof_metrics[o->sort].name);
		json_set_int(rec, "threads_a", (long long)ga.threads);
		json_set_int(rec, "threads_b", (long long)gb.threads);
		json_set_int(rec, "groups", (long long)c.n);
		json_set_int(rec, "groups_shown", (long long)n);
		if (have_gap)
			json_set_int(rec, "interval_ns", gap);
		rc = jsonl_emit(f, rec);
	} else {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "a: ");
		describe(&sb, name_a, a);
		strbuf_addstr(&sb, ")\nb: ");
		describe(&sb, name_b, b);
		if (have_gap)
			strbuf_addf(&sb, ", %.3f s after a", (double)gap / 1e9);
		strbuf_addf(&sb, ")\ngroups by %s: %zu in both, %zu new, %zu gone; "
			    "largest |delta| of %s first\n", ctprof_group_by_name(o->by),
			    counts[CTPROF_BOTH], counts[CTPROF_NEW], counts[CTPROF_GONE],
			    ctprof_metrics[o->sort].name);
		if (n < c.n)
			strbuf_addf(&sb, "showing the top %zu of %zu groups\n", n, c.n);
		if (fputs(sb.buf, f) < 0)
			rc = -1;
		strbuf_release(&sb);
	}
	for (i = 0; i < n && !rc; i++)
		rc = compare_group(f, &t, &c.p[i], o);
	rc = put_table(f, &t, num_right, rc);
	ctprof_comparison_release(&c);
	ctprof_groups_release(&ga);
	ctprof_groups_release(&gb);
	return rc;
}

/* One group of a snapshot: records to f (JSON), or rows into t. */
static int show_group(FILE *f, struct text_table *t, const struct ctprof_group *g,
		      const struct ctprof_report_opts *o)
{
	json_t *rec;
	size_t m;

	if (o->json) {
		rec = jsonl_record("ctprof_group");
		json_set_str(rec, "group", g->key);
		json_set_int(rec, "threads", (long long)g->threads);
		if (jsonl_emit(f, rec) < 0)
			return -1;
	} else {
		text_table_line(t, "%s", "");
		text_table_line(t, "%s (%zu thread%s)", g->key, g->threads,
				g->threads == 1 ? "" : "s");
		text_table_add(t, (const char *[]){ "metric", "value" });
	}
	for (m = 0; m < ctprof_n_metrics; m++) {
		char v[32];

		if (!shown(o, m) || !g->v[m].present)
			continue;
		if (o->json) {
			rec = jsonl_record("ctprof_value");
			json_set_str(rec, "group", g->key);
			json_set_str(rec, "metric", ctprof_metrics[m].name);
			json_object_set_new(rec, "value", value_json(&g->v[m]));
			if (jsonl_emit(f, rec) < 0)
				return -1;
			continue;
		}
		fmt_value(v, sizeof(v), &g->v[m], false);
		text_table_add(t, (const char *[]){ ctprof_metrics[m].name, v });
	}
	return 0;
}

int ctprof_report_show(FILE *f, const char *name, const json_t *snap,
		       const struct ctprof_report_opts *o)
{
	struct ctprof_groups gs;
	struct text_table t = TEXT_TABLE_INIT(2);
	size_t i, n;
	int rc = 0;

	t.indent = 2;
	ctprof_group(snap, o->by, &gs);
	ctprof_groups_sort(&gs, o->sort);
	n = o->top && o->top < gs.n ? o->top : gs.n;
	if (o->json) {
		json_t *rec = jsonl_record("ctprof_show");

		json_set_str(rec, "file", name);
		json_set_str(rec, "group_by", ctprof_group_by_name(o->by));
		json_set_str(rec, "sort", ctprof_metrics[o->sort].name);
		json_set_int(rec, "threads", (long long)gs.threads);
		json_set_int(rec, "groups", (long long)gs.n);
		json_set_int(rec, "groups_shown", (long long)n);
		rc = jsonl_emit(f, rec);
	} else {
		struct strbuf sb = STRBUF_INIT;

		describe(&sb, name, snap);
		strbuf_addf(&sb, ")\n%zu groups by %s; largest %s first\n", gs.n,
			    ctprof_group_by_name(o->by), ctprof_metrics[o->sort].name);
		if (n < gs.n)
			strbuf_addf(&sb, "showing the top %zu of %zu groups\n", n, gs.n);
		if (fputs(sb.buf, f) < 0)
			rc = -1;
		strbuf_release(&sb);
	}
	for (i = 0; i < n && !rc; i++)
		rc = show_group(f, &t, &gs.g[i], o);
	rc = put_table(f, &t, num_right, rc);
	ctprof_groups_release(&gs);
	return rc;
}

static json_t *metric_json(const struct ctprof_metric *m)
{
	json_t *rec = jsonl_record("ctprof_metric");

	json_set_str(rec, "name", m->name);
	json_set_str(rec, "unit", m->unit);
	json_set_str(rec, "aggregation", ctprof_agg_name(m->agg));
	json_set_str(rec, "scope", m->scope == CTPROF_SCOPE_CGROUP ? "cgroup" : "thread");
	json_object_set_new(rec, "higher_is_better",
			    m->better ? json_boolean(m->better > 0) : json_null());
	json_set_str(rec, "source", m->source);
	json_set_str(rec, "description", m->desc);
	return rec;
}

int ctprof_report_metrics(FILE *f, bool json)
{
	struct text_table t = TEXT_TABLE_INIT(7);
	size_t i;

	/* In JSON the table stays empty: put_table then only flushes. */
	if (!json)
		text_table_add(&t, (const char *[]){ "metric", "unit", "agg", "scope",
						     "better", "source", "description" });
	for (i = 0; i < ctprof_n_metrics; i++) {
		const struct ctprof_metric *m = &ctprof_metrics[i];

		if (json && jsonl_emit(f, metric_json(m)) < 0)
			return -1;
		if (json)
			continue;
		text_table_add(&t, (const char *[]){
			m->name, m->unit, ctprof_agg_name(m->agg),
			m->scope == CTPROF_SCOPE_CGROUP ? "cgroup" : "thread",
			m->better > 0 ? "higher" : m->better < 0 ? "lower" : "-",
			m->source, m->desc });
	}
	return put_table(f, &t, NULL, 0);
}
