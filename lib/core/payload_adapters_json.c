/* The adapters that read JSON: cyclictest (--json) and fio
 * (--output-format=json).  Aggregates over threads or jobs come first in
 * the metrics, then the per-thread or per-job ones. */
#include "payload.h"
#include "payload_int.h"
#include "diag.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cyclictest ---- */

static const char ct_what[] = "the JSON file of cyclictest --json";

struct ct_thread {
	double min, avg, max, cycles;
	bool has_p99;
	double p99, overflows;
};

struct ct_bucket {
	double us, count;
};

static int bucket_cmp(const void *a, const void *b)
{
	const struct ct_bucket *x = a, *y = b;

	return (x->us > y->us) - (x->us < y->us);
}

/* Samples at or past the histogram's bound are not in it: cyclictest
 * only counts them, so they are cycles minus the histogram's total.  p99
 * is the nearest rank (the smallest bucket holding 99 % of the samples);
 * when that rank falls among the overflows, the thread's max stands in
 * for it, an upper bound. */
static int ct_histogram(const json_t *hist, const char *tid, struct ct_thread *t,
			struct strbuf *err)
{
	size_t n = json_object_size(hist), k = 0, i;
	struct ct_bucket *b = xcalloc(n ? n : 1, sizeof(*b));
	double sum = 0, total, rank, acc = 0;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)hist, key, v) {
		if (!payload_number(key, strlen(key), &b[k].us) ||
		    !payload_json_number(v, &b[k].count)) {
			strbuf_addf(err, "thread %s: histogram bucket \"%s\" is not a number of "
				    "microseconds with a count; expected %s", tid, key, ct_what);
			free(b);
			return -1;
		}
		sum += b[k++].count;
	}
	qsort(b, n, sizeof(*b), bucket_cmp);
	total = t->cycles > sum ? t->cycles : sum;
	t->overflows = total - sum;
	t->has_p99 = total > 0;
	t->p99 = t->max;
	rank = ceil(0.99 * total);
	for (i = 0; i < n; i++) {
		acc += b[i].count;
		if (acc >= rank) {
			t->p99 = b[i].us;
			break;
		}
	}
	free(b);
	return 0;
}

static int ct_thread(const char *tid, const json_t *o, struct ct_thread *t, struct strbuf *err)
{
	static const char *const need[] = { "min", "avg", "max" };
	double *dst[] = { &t->min, &t->avg, &t->max };
	const json_t *hist;
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 3; i++)
		if (!payload_json_number(json_object_get(o, need[i]), dst[i])) {
			strbuf_addf(err, "thread %s has no number \"%s\"; expected %s", tid,
				    need[i], ct_what);
			return -1;
		}
	payload_json_number(json_object_get(o, "cycles"), &t->cycles);
	hist = json_object_get(o, "histogram");
	if (json_is_object(hist))
		return ct_histogram(hist, tid, t, err);
	return 0;
}

static void ct_set(struct pmetrics *m, const char *prefix, const struct ct_thread *t)
{
	char name[96];

#define CT_SET(field, suffix, unit)                                                 \
	do {                                                                        \
		snprintf(name, sizeof(name), "%s%s", prefix, suffix);              \
		pmetrics_set(m, name, t->field, unit, BETTER_LOWER);               \
	} while (0)
	CT_SET(min, "min_us", "us");
	CT_SET(avg, "avg_us", "us");
	CT_SET(max, "max_us", "us");
	if (t->has_p99) {
		CT_SET(p99, "p99_us", "us");
		CT_SET(overflows, "overflows", "samples");
	}
#undef CT_SET
}

/* Over all threads: the lowest min, the highest max and p99 (the worst
 * thread's), the mean weighted by cycles, the overflows summed. */
static void ct_fold(struct ct_thread *all, const struct ct_thread *t, double *weight, size_t i)
{
	if (i == 0 || t->min < all->min)
		all->min = t->min;
	if (i == 0 || t->max > all->max)
		all->max = t->max;
	if (t->has_p99 && (!all->has_p99 || t->p99 > all->p99))
		all->p99 = t->p99;
	all->has_p99 |= t->has_p99;
	all->overflows += t->overflows;
	/* Threads without a cycle count weigh one each. */
	all->avg += t->avg * (t->cycles > 0 ? t->cycles : 1);
	*weight += t->cycles > 0 ? t->cycles : 1;
}

int payload_parse_cyclictest(const char *text, size_t len, struct pmetrics *m,
			     struct strbuf *err)
{
	struct ct_thread all = { 0 }, t;
	const json_t *threads, *o;
	json_t *doc;
	const char *tid;
	double weight = 0;
	size_t i = 0;
	char prefix[64];

	if (payload_blank(text, len)) {
		strbuf_addf(err, "the output is empty; expected %s", ct_what);
		return -1;
	}
	if (!(doc = payload_json_load(text, len, ct_what, err)))
		return -1;
	threads = json_object_get(doc, "thread");
	if (!json_is_object(threads) || json_object_size(threads) == 0) {
		strbuf_addf(err, "no \"thread\" object with a thread in it; expected %s", ct_what);
		json_decref(doc);
		return -1;
	}
	json_object_foreach((json_t *)threads, tid, o) {
		if (ct_thread(tid, o, &t, err)) {
			json_decref(doc);
			return -1;
		}
		ct_fold(&all, &t, &weight, i++);
	}
	all.avg /= weight;
	ct_set(m, "", &all);
	json_object_foreach((json_t *)threads, tid, o) {
		ct_thread(tid, o, &t, err);
		snprintf(prefix, sizeof(prefix), "thread.%.40s.", tid);
		ct_set(m, prefix, &t);
	}
	json_decref(doc);
	return 0;
}

/* ---- fio ---- */

static const char fio_what[] = "the JSON of fio --output-format=json";
static const char *const fio_dirs[] = { "read", "write", "trim" };

struct fio_total {
	double iops, bw, p99;
	bool seen, has_p99;
};

/* A job's name in metric names: its jobname with anything but
 * [A-Za-z0-9_-] made '_', and ".K" when jobs share the name (numjobs
 * without group_reporting gives every clone the same one). */
static void fio_job_key(const json_t *jobs, size_t idx, struct strbuf *key)
{
	const char *name = json_string_value(json_object_get(json_array_get(jobs, idx),
							     "jobname"));
	size_t i, same = 0, before = 0;

	if (!name || !*name)
		name = "job";
	for (i = 0; i < json_array_size(jobs); i++) {
		const char *o = json_string_value(json_object_get(json_array_get(jobs, i),
								  "jobname"));

		if (o && !strcmp(o, name)) {
			same++;
			before += i < idx;
		}
	}
	for (const char *c = name; *c; c++)
		strbuf_addch(key, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-", *c) ? *c : '_');
	if (same > 1)
		strbuf_addf(key, ".%zu", before);
}

static void fio_set(struct pmetrics *m, const char *prefix, const char *suffix, double v,
		    const char *unit, enum payload_better better)
{
	char name[160];

	snprintf(name, sizeof(name), "%s%s", prefix, suffix);
	pmetrics_set(m, name, v, unit, better);
}

/* One direction of one job; m NULL only adds it to the totals. */
static void fio_dir(const json_t *o, const char *prefix, struct fio_total *tot,
		    struct pmetrics *m)
{
	static const char *const pk[] = { "50.000000", "99.000000", "99.900000" };
	static const char *const pn[] = { "clat_p50_us", "clat_p99_us", "clat_p99_9_us" };
	const json_t *clat = json_object_get(o, "clat_ns");
	const json_t *pct = json_object_get(clat, "percentile");
	double v;
	size_t i;

	tot->seen = true;
	if (payload_json_number(json_object_get(o, "iops"), &v)) {
		tot->iops += v;
		if (m)
			fio_set(m, prefix, "iops", v, "IO/s", BETTER_HIGHER);
	}
	if (payload_json_number(json_object_get(o, "bw"), &v)) {
		tot->bw += v;
		if (m)
			fio_set(m, prefix, "bw_kib_s", v, "KiB/s", BETTER_HIGHER);
	}
	if (m && payload_json_number(json_object_get(clat, "mean"), &v))
		fio_set(m, prefix, "clat_mean_us", v / 1000, "us", BETTER_LOWER);
	for (i = 0; i < 3; i++) {
		if (!payload_json_number(json_object_get(pct, pk[i]), &v))
			continue;
		if (i == 1 && (!tot->has_p99 || v / 1000 > tot->p99)) {
			tot->p99 = v / 1000;
			tot->has_p99 = true;
		}
		if (m)
			fio_set(m, prefix, pn[i], v / 1000, "us", BETTER_LOWER);
	}
}

static void fio_jobs(const json_t *jobs, struct fio_total *tot, struct pmetrics *m)
{
	struct strbuf prefix = STRBUF_INIT;
	const json_t *job;
	size_t i, d, mark;
	double ios;

	json_array_foreach(jobs, i, job) {
		strbuf_reset(&prefix);
		fio_job_key(jobs, i, &prefix);
		strbuf_addch(&prefix, '.');
		mark = prefix.len;
		for (d = 0; d < 3; d++) {
			const json_t *o = json_object_get(job, fio_dirs[d]);

			/* A direction the job did not do has all zeros. */
			if (!payload_json_number(json_object_get(o, "total_ios"), &ios) || ios <= 0)
				continue;
			strbuf_setlen(&prefix, mark);
			strbuf_addf(&prefix, "%s.", fio_dirs[d]);
			fio_dir(o, prefix.buf, &tot[d], m);
		}
	}
	strbuf_release(&prefix);
}

/* Why no job did any I/O, for the message. */
static void fio_no_io(const json_t *jobs, struct strbuf *err)
{
	const json_t *job;
	size_t i;

	json_array_foreach(jobs, i, job) {
		long long e = json_integer_value(json_object_get(job, "error"));

		if (e) {
			strbuf_addf(err, "fio job '%s' failed with error %lld and no job did any "
				    "I/O", json_string_value(json_object_get(job, "jobname")) ?: "?",
				    e);
			return;
		}
	}
	strbuf_addf(err, "no fio job did any I/O (every total_ios is 0); expected %s", fio_what);
}

int payload_parse_fio(const char *text, size_t len, struct pmetrics *m, struct strbuf *err)
{
	struct fio_total tot[3] = { { 0 } };
	const json_t *jobs;
	json_t *doc;
	size_t d, n0 = m->n;
	char name[48];

	if (payload_blank(text, len)) {
		strbuf_addf(err, "the output is empty; expected %s", fio_what);
		return -1;
	}
	if (!(doc = payload_json_load(text, len, fio_what, err)))
		return -1;
	jobs = json_object_get(doc, "jobs");
	if (!json_is_array(jobs) || json_array_size(jobs) == 0) {
		strbuf_addf(err, "no \"jobs\" array with a job in it; expected %s", fio_what);
		json_decref(doc);
		return -1;
	}
	fio_jobs(jobs, tot, NULL);
	for (d = 0; d < 3; d++) {
		if (!tot[d].seen)
			continue;
		snprintf(name, sizeof(name), "%s.", fio_dirs[d]);
		fio_set(m, name, "iops", tot[d].iops, "IO/s", BETTER_HIGHER);
		fio_set(m, name, "bw_kib_s", tot[d].bw, "KiB/s", BETTER_HIGHER);
		if (tot[d].has_p99)
			fio_set(m, name, "clat_p99_us", tot[d].p99, "us", BETTER_LOWER);
	}
	fio_jobs(jobs, tot, m);
	if (m->n == n0)
		fio_no_io(jobs, err);
	json_decref(doc);
	return m->n > n0 ? 0 : -1;
}
