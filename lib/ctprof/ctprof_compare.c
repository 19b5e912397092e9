#include "ctprof_compare.h"
#include "ctprof_metrics.h"
#include "diag.h"
#include "jsonl.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_by_names[] = {
	[CTPROF_BY_ALL] = "all",
	[CTPROF_BY_PCOMM] = "pcomm",
	[CTPROF_BY_COMM] = "comm",
	[CTPROF_BY_CGROUP] = "cgroup",
};

int ctprof_group_by_parse(const char *s, enum ctprof_group_by *by)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(group_by_names); i++) {
		if (!strcmp(s, group_by_names[i])) {
			*by = (enum ctprof_group_by)i;
			return 0;
		}
	}
	return -1;
}

const char *ctprof_group_by_name(enum ctprof_group_by by)
{
	return group_by_names[by];
}

const char *ctprof_status_name(enum ctprof_status st)
{
	return st == CTPROF_NEW ? "new" : st == CTPROF_GONE ? "gone" : "both";
}

/* The thread's group key; threads without the field share a placeholder
 * group rather than vanishing from the totals.  A kworker's name carries
 * the workqueue it last ran ("kworker/1:1-events"), which changes from one
 * capture to the next; the worker itself is the stable part, so the
 * suffix is dropped.  buf holds the result when it is such a copy. */
static const char *thread_key(const json_t *t, enum ctprof_group_by by, char *buf, size_t size)
{
	const char *k = NULL, *dash;

	switch (by) {
	case CTPROF_BY_ALL: return "all";
	case CTPROF_BY_PCOMM: k = json_get_str(t, "pcomm"); break;
	case CTPROF_BY_COMM: k = json_get_str(t, "comm"); break;
	case CTPROF_BY_CGROUP:
		k = json_get_str(t, "cgroup");
		return k ? k : "(no cgroup v2)";
	}
	if (!k)
		return "(unknown)";
	if (!strncmp(k, "kworker/", 8) && (dash = strchr(k + 8, '-'))) {
		snprintf(buf, size, "%.*s", (int)(dash - k), k);
		return buf;
	}
	return k;
}

/* Running totals of one metric in one group. */
struct acc {
	long long isum, imax;
	double rsum, rmax;
	size_t n;
	bool real;
};

static long long sat_add(long long a, long long b)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

static void acc_add(struct acc *a, const json_t *v)
{
	if (json_is_integer(v)) {
		long long x = json_integer_value(v);

		a->isum = sat_add(a->isum, x);
		if (!a->n || x > a->imax)
			a->imax = x;
		a->rsum += (double)x;
		if (!a->n || (double)x > a->rmax)
			a->rmax = (double)x;
	} else if (json_is_real(v)) {
		double x = json_real_value(v);

		a->real = true;
		a->rsum += x;
		if (!a->n || x > a->rmax)
			a->rmax = x;
	} else {
		return;
	}
	a->n++;
}

static void acc_finish(const struct acc *a, enum ctprof_agg agg, struct ctprof_value *out)
{
	memset(out, 0, sizeof(*out));
	if (!a->n)
		return;
	out->present = true;
	switch (agg) {
	case CTPROF_AGG_SUM:
		out->real = a->real;
		out->i = a->isum;
		out->r = a->rsum;
		break;
	case CTPROF_AGG_MAX:
		out->real = a->real;
		out->i = a->imax;
		out->r = a->rmax;
		break;
	case CTPROF_AGG_MEAN:
		out->real = true;
		out->r = a->rsum / (double)a->n;
		break;
	default:
		out->present = false;
	}
}

static void set_from_json(struct ctprof_value *out, const json_t *v)
{
	memset(out, 0, sizeof(*out));
	if (json_is_integer(v)) {
		out->present = true;
		out->i = json_integer_value(v);
		out->r = (double)out->i;
	} else if (json_is_real(v)) {
		out->present = out->real = true;
		out->r = json_real_value(v);
	}
}

void ctprof_group(const json_t *snap, enum ctprof_group_by by, struct ctprof_groups *out)
{
	const json_t *threads = json_object_get(snap, "threads");
	const json_t *cgroups = json_object_get(snap, "cgroups");
	json_t *index = json_object(), *t;
	struct acc *acc = NULL;	/* [group][metric] */
	size_t alloc = 0, i, m;

	memset(out, 0, sizeof(*out));
	out->by = by;
	json_array_foreach(threads, i, t) {
		char buf[256];
		const char *key = thread_key(t, by, buf, sizeof(buf));
		json_t *idx = json_object_get(index, key);
		size_t g;

		if (idx) {
			g = (size_t)json_integer_value(idx);
		} else {
			g = out->n++;
			if (out->n > alloc) {
				alloc = alloc ? alloc * 2 : 16;
				out->g = xrealloc(out->g, alloc * sizeof(*out->g));
				acc = xrealloc(acc, alloc * ctprof_n_metrics * sizeof(*acc));
			}
			memset(&out->g[g], 0, sizeof(out->g[g]));
			memset(&acc[g * ctprof_n_metrics], 0, ctprof_n_metrics * sizeof(*acc));
			out->g[g].key = xstrdup(key);
			json_object_set_new(index, key, json_integer((json_int_t)g));
		}
		out->g[g].threads++;
		out->threads++;
		for (m = 0; m < ctprof_n_metrics; m++) {
			const struct ctprof_metric *mt = &ctprof_metrics[m];

			if (mt->scope != CTPROF_SCOPE_THREAD || !ctprof_metric_comparable(mt))
				continue;
			acc_add(&acc[g * ctprof_n_metrics + m], json_object_get(t, mt->key));
		}
	}
	for (i = 0; i < out->n; i++) {
		struct ctprof_group *g = &out->g[i];
		const json_t *cg = by == CTPROF_BY_CGROUP ? json_object_get(cgroups, g->key) : NULL;

		g->v = xcalloc(ctprof_n_metrics, sizeof(*g->v));
		for (m = 0; m < ctprof_n_metrics; m++) {
			const struct ctprof_metric *mt = &ctprof_metrics[m];

			if (mt->scope == CTPROF_SCOPE_CGROUP)
				set_from_json(&g->v[m], json_object_get(cg, mt->key));
			else
				acc_finish(&acc[i * ctprof_n_metrics + m], mt->agg, &g->v[m]);
		}
	}
	free(acc);
	json_decref(index);
}

void ctprof_groups_release(struct ctprof_groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++) {
		free(gs->g[i].key);
		free(gs->g[i].v);
	}
	free(gs->g);
	memset(gs, 0, sizeof(*gs));
}

double ctprof_value_num(const struct ctprof_value *v)
{
	if (!v->present)
		return 0;
	return v->real ? v->r : (double)v->i;
}

static int cmp_group(const void *x, const void *y, void *arg)
{
	const struct ctprof_group *a = x, *b = y;
	size_t metric = *(const size_t *)arg;
	double va = ctprof_value_num(&a->v[metric]);
	double vb = ctprof_value_num(&b->v[metric]);

	if (va != vb)
		return va > vb ? -1 : 1;
	return strcmp(a->key, b->key);
}

void ctprof_groups_sort(struct ctprof_groups *gs, size_t metric)
{
	if (gs->n)
		qsort_r(gs->g, gs->n, sizeof(*gs->g), cmp_group, &metric);
}

void ctprof_delta(size_t metric, const struct ctprof_group *a, const struct ctprof_group *b,
		  enum ctprof_status st, struct ctprof_delta *out)
{
	const struct ctprof_metric *m = &ctprof_metrics[metric];
	struct ctprof_value za = { 0 }, zb = { 0 };
	const struct ctprof_value *va, *vb;

	memset(out, 0, sizeof(*out));
	if (a)
		out->a = a->v[metric];
	if (b)
		out->b = b->v[metric];
	va = &out->a;
	vb = &out->b;
	/* A group missing on one side is an empty sum there: its threads'
	 * whole counters are the change.  Only sums have that zero. */
	if (m->agg == CTPROF_AGG_SUM) {
		if (st == CTPROF_NEW && vb->present) {
			za.present = true;
			za.real = vb->real;
			va = &za;
		} else if (st == CTPROF_GONE && va->present) {
			zb.present = true;
			zb.real = va->real;
			vb = &zb;
		}
	}
	if (!va->present || !vb->present)
		return;
	out->d.present = true;
	if (va->real || vb->real) {
		out->d.real = true;
		out->d.r = ctprof_value_num(vb) - ctprof_value_num(va);
	} else if (__builtin_sub_overflow(vb->i, va->i, &out->d.i)) {
		out->d.i = vb->i > va->i ? LLONG_MAX : LLONG_MIN;
	}
	if (!out->d.real)
		out->d.r = (double)out->d.i;
	if (out->a.present && ctprof_value_num(&out->a) != 0) {
		out->has_pct = true;
		out->pct = 100.0 * ctprof_value_num(&out->d) / fabs(ctprof_value_num(&out->a));
	}
}

/* Sort key of a pair: |delta| of the sort metric (0 when undefined). */
struct keyed {
	struct ctprof_pair p;
	double k;
};

static int cmp_keyed(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;

	if (a->k != b->k)
		return a->k > b->k ? -1 : 1;
	return strcmp(a->p.key, b->p.key);
}

void ctprof_compare(const struct ctprof_groups *a, const struct ctprof_groups *b,
		    size_t metric, struct ctprof_comparison *out)
{
	json_t *in_b = json_object();
	struct keyed *k = xcalloc(a->n + b->n, sizeof(*k));
	bool *matched = xcalloc(b->n + 1, sizeof(*matched));
	size_t n = 0, i;

	for (i = 0; i < b->n; i++)
		json_object_set_new(in_b, b->g[i].key, json_integer((json_int_t)i));
	for (i = 0; i < a->n; i++) {
		json_t *idx = json_object_get(in_b, a->g[i].key);

		k[n].p.key = a->g[i].key;
		k[n].p.a = &a->g[i];
		if (idx) {
			size_t j = (size_t)json_integer_value(idx);

			matched[j] = true;
			k[n].p.b = &b->g[j];
			k[n].p.status = CTPROF_BOTH;
		} else {
			k[n].p.status = CTPROF_GONE;
		}
		n++;
	}
	for (i = 0; i < b->n; i++) {
		if (matched[i])
			continue;
		k[n].p.key = b->g[i].key;
		k[n].p.b = &b->g[i];
		k[n].p.status = CTPROF_NEW;
		n++;
	}
	for (i = 0; i < n; i++) {
		struct ctprof_delta d;

		ctprof_delta(metric, k[i].p.a, k[i].p.b, k[i].p.status, &d);
		k[i].k = d.d.present ? fabs(ctprof_value_num(&d.d)) : -1;
	}
	if (n)
		qsort(k, n, sizeof(*k), cmp_keyed);
	out->n = n;
	out->p = xcalloc(n, sizeof(*out->p));
	for (i = 0; i < n; i++)
		out->p[i] = k[i].p;
	free(k);
	free(matched);
	json_decref(in_b);
}

void ctprof_comparison_release(struct ctprof_comparison *c)
{
	free(c->p);
	c->p = NULL;
	c->n = 0;
}
