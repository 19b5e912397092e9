/* Cpusets of scenario cgroups and ops: their JSON forms, and what each
 * selects on a topology (cpuset_resolve). */
#include "scenario_int.h"
#include "cpulist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const cpuset_keys[] = {
	"llc", "node", "cpus", "range", "disjoint", "overlap", NULL
};

/* ---- cpuset resolution ------------------------------------------------ */

static void add_range(struct strbuf *out, unsigned lo, unsigned hi)
{
	if (hi - lo == 1)
		strbuf_addf(out, "%u", lo);
	else
		strbuf_addf(out, "%u-%u", lo, hi - 1);
}

/* "LLCs 0-3" / "only LLC 0" */
static void describe_ids(struct strbuf *sb, const char *what, unsigned n)
{
	if (n == 1)
		strbuf_addf(sb, "only %s 0", what);
	else
		strbuf_addf(sb, "%ss 0-%u", what, n - 1);
}

/* Slice index of `of` slices of n CPUs: sizes differ by at most one, the
 * larger slices first. */
static void slice(unsigned n, unsigned index, unsigned of, unsigned *lo, unsigned *hi)
{
	unsigned base = n / of, rem = n % of;

	*lo = index * base + (index < rem ? index : rem);
	*hi = *lo + base + (index < rem ? 1 : 0);
}

/* What one resolution works from: the spec, the topology, its CPU count
 * and its text ("1n2l4c1t") for messages. */
struct rctx {
	const struct cpuset_spec *c;
	const struct ktstr_topo *t;
	unsigned n;
	const char *tp;
	struct strbuf *err;
};

/* The CPUs of LLC or node c->index: [*lo, *hi). */
static int resolve_domain(const struct rctx *r, unsigned *lo, unsigned *hi)
{
	const struct cpuset_spec *c = r->c;
	bool llc = c->kind == CPUSET_LLC;
	unsigned have = llc ? r->t->llcs : r->t->nodes;
	unsigned per = r->t->cores * r->t->threads * (llc ? 1 : topo_llcs_per_node(r->t));

	if (c->index >= have) {
		strbuf_addf(r->err, "%s %u does not exist; the topology %s has ",
			    llc ? "LLC" : "NUMA node", c->index, r->tp);
		describe_ids(r->err, llc ? "LLC" : "node", have);
		return -1;
	}
	*lo = c->index * per;
	*hi = *lo + per;
	return 0;
}

/* An exact list: checked against the topology and written canonical. */
static int resolve_list(const struct rctx *r, struct strbuf *out)
{
	bool *mask = xcalloc(KTSTR_TOPO_MAX_CPUS, sizeof(*mask));
	unsigned i;
	int rc = -1;

	if (cpulist_parse(r->c->list, mask, KTSTR_TOPO_MAX_CPUS, r->err))
		goto out;
	for (i = r->n; i < KTSTR_TOPO_MAX_CPUS; i++) {
		if (mask[i]) {
			strbuf_addf(r->err, "CPU %u does not exist; the topology %s has ",
				    i, r->tp);
			describe_ids(r->err, "CPU", r->n);
			goto out;
		}
	}
	cpulist_format(mask, r->n, out);
	rc = 0;
out:
	free(mask);
	return rc;
}

/* [start_frac, end_frac) of all CPUs, at least one CPU. */
static int resolve_range(const struct rctx *r, unsigned *lo, unsigned *hi)
{
	const struct cpuset_spec *c = r->c;
	unsigned n = r->n;

	if (!(c->start_frac >= 0 && c->start_frac < c->end_frac && c->end_frac <= 1)) {
		strbuf_addf(r->err, "range [%g, %g] is not a fraction range; expected "
			    "0 <= start < end <= 1", c->start_frac, c->end_frac);
		return -1;
	}
	*lo = (unsigned)floor(c->start_frac * n + FRAC_EPS);
	*hi = (unsigned)ceil(c->end_frac * n - FRAC_EPS);
	if (*hi > n)
		*hi = n;
	if (*lo >= n)
		*lo = n - 1;
	if (*hi <= *lo)
		*hi = *lo + 1;
	return 0;
}

/* Slice index of `of`; an overlap widens it by frac of its width into
 * each neighbour. */
static int resolve_slice(const struct rctx *r, unsigned *lo, unsigned *hi)
{
	const struct cpuset_spec *c = r->c;
	unsigned n = r->n, w;

	if (!c->of || c->index >= c->of) {
		strbuf_addf(r->err, "slice %u of %u does not exist; the index must be "
			    "less than the number of slices", c->index, c->of);
		return -1;
	}
	slice(n, c->index, c->of, lo, hi);
	if (*hi == *lo) {
		strbuf_addf(r->err, "slice %u of %u is empty: the topology %s has only "
			    "%u CPU%s, fewer than %u slices", c->index, c->of, r->tp,
			    n, n == 1 ? "" : "s", c->of);
		return -1;
	}
	if (c->kind != CPUSET_OVERLAP)
		return 0;
	if (!(c->frac > 0 && c->frac <= 1)) {
		strbuf_addf(r->err, "overlap frac %g is out of range; expected "
			    "0 < frac <= 1", c->frac);
		return -1;
	}
	w = (unsigned)ceil(c->frac * (*hi - *lo) - FRAC_EPS);
	*lo = *lo > w ? *lo - w : 0;
	*hi = *hi + w < n ? *hi + w : n;
	return 0;
}

/* The contiguous kinds: [*lo, *hi) of the topology's CPUs. */
static int resolve_span(const struct rctx *r, unsigned *lo, unsigned *hi)
{
	*lo = 0;
	*hi = r->n;
	switch (r->c->kind) {
	case CPUSET_NONE:
		return 0;
	case CPUSET_LLC:
	case CPUSET_NODE:
		return resolve_domain(r, lo, hi);
	case CPUSET_RANGE:
		return resolve_range(r, lo, hi);
	case CPUSET_DISJOINT:
	case CPUSET_OVERLAP:
		return resolve_slice(r, lo, hi);
	default:
		strbuf_addf(r->err, "unknown cpuset kind %d", (int)r->c->kind);
		return -1;
	}
}

int cpuset_resolve(const struct cpuset_spec *c, const struct ktstr_topo *t,
		   struct strbuf *out, struct strbuf *err)
{
	struct strbuf tp = STRBUF_INIT;
	struct rctx r = { .c = c, .t = t, .err = err };
	unsigned lo, hi;
	int rc;

	if (!t->nodes || !t->llcs || !t->cores || !t->threads || t->llcs % t->nodes ||
	    (unsigned long)t->llcs * t->cores * t->threads > KTSTR_TOPO_MAX_CPUS) {
		strbuf_addstr(err, "the topology is invalid");
		return -1;
	}
	r.n = topo_cpus(t);
	topo_format(t, &tp);
	r.tp = tp.buf;
	if (c->kind == CPUSET_LIST) {
		rc = resolve_list(&r, out);
	} else {
		rc = resolve_span(&r, &lo, &hi);
		if (!rc)
			add_range(out, lo, hi);
	}
	strbuf_release(&tp);
	return rc;
}

/* ---- cpusets ---------------------------------------------------------- */

static const char *const k_disjoint[] = { "index", "of", NULL };
static const char *const k_overlap[] = { "index", "of", "frac", NULL };

static int parse_slice(struct pctx *c, const json_t *v, struct cpuset_spec *cs, bool overlap)
{
	long long of, idx;
	bool have;

	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"index\": i, \"of\": n%s}, got %s",
			       overlap ? ", \"frac\": f" : "", sp_show(c, v));
	if (sp_check_keys(c, v, overlap ? k_overlap : k_disjoint, NULL))
		return -1;
	if (sp_get_whole_req(c, v, "of", 1, MAX_INDEX + 1, &of))
		return -1;
	if (!sp_get(v, "index"))
		return sp_perr_key(c, "index", "missing; expected a whole number from 0 to %lld",
				   of - 1);
	if (!sp_as_whole(sp_get(v, "index"), &idx) || idx < 0 || idx >= of)
		return sp_perr_key(c, "index", "must be a whole number from 0 to %lld (less than "
				   "of), got %s", of - 1, sp_show(c, sp_get(v, "index")));
	cs->index = (unsigned)idx;
	cs->of = (unsigned)of;
	if (overlap) {
		if (sp_get_frac(c, v, "frac", &cs->frac, &have))
			return -1;
		if (!have)
			return sp_perr_key(c, "frac", "missing; expected a fraction greater "
					   "than 0 and at most 1 (how far into each "
					   "neighbour, in slices)");
	}
	return 0;
}

static int parse_cpuset_kind(struct pctx *c, const json_t *obj, const char *key,
			     struct cpuset_spec *cs)
{
	const json_t *v = json_object_get(obj, key);
	long long idx;

	switch (sp_list_index(cpuset_keys, key)) {
	case 0:
	case 1:
		cs->kind = key[0] == 'l' ? CPUSET_LLC : CPUSET_NODE;
		if (sp_get_whole_req(c, obj, key, 0, MAX_INDEX, &idx))
			return -1;
		cs->index = (unsigned)idx;
		return 0;
	case 2: {
		struct strbuf tmp = STRBUF_INIT;
		bool *mask;

		cs->kind = CPUSET_LIST;
		if (!json_is_string(v))
			return sp_perr_key(c, key, "must be a CPU list string such as \"0-1,4\", "
					   "got %s", sp_show(c, v));
		mask = xcalloc(KTSTR_TOPO_MAX_CPUS, sizeof(*mask));
		if (cpulist_parse(json_string_value(v), mask, KTSTR_TOPO_MAX_CPUS, &tmp)) {
			sp_perr_key(c, key, "%s", tmp.buf);
			strbuf_release(&tmp);
			free(mask);
			return -1;
		}
		cpulist_format(mask, KTSTR_TOPO_MAX_CPUS, &tmp);
		free(mask);
		cs->list = strbuf_detach(&tmp, NULL);
		return 0;
	}
	case 3: {
		const json_t *a, *b;

		cs->kind = CPUSET_RANGE;
		if (!json_is_array(v) || json_array_size(v) != 2 ||
		    !json_is_number(a = json_array_get(v, 0)) ||
		    !json_is_number(b = json_array_get(v, 1)))
			return sp_perr_key(c, key, "must be [start, end] with fractions of all "
					   "CPUs, e.g. [0, 0.5], got %s", sp_show(c, v));
		cs->start_frac = json_number_value(a);
		cs->end_frac = json_number_value(b);
		if (!(cs->start_frac >= 0 && cs->start_frac < cs->end_frac &&
		      cs->end_frac <= 1))
			return sp_perr_key(c, key, "must satisfy 0 <= start < end <= 1, got %s",
					   sp_show(c, v));
		return 0;
	}
	case 4:
	case 5: {
		size_t m = sp_path_key(c, key);
		int rc;

		cs->kind = key[0] == 'd' ? CPUSET_DISJOINT : CPUSET_OVERLAP;
		rc = parse_slice(c, v, cs, cs->kind == CPUSET_OVERLAP);
		sp_path_pop(c, m);
		return rc;
	}
	}
	return sp_perr_key(c, key, "internal error: unhandled cpuset kind");
}

/* v is the cpuset value at c's path (NULL or null: no restriction).
 * required: null is an error (set_cpuset, set_affinity). */
int sp_parse_cpuset(struct pctx *c, const json_t *v, struct cpuset_spec *cs,
			const char *null_hint)
{
	struct strbuf l = STRBUF_INIT;
	const char *first = NULL, *k;
	json_t *x;
	int rc = -1;

	memset(cs, 0, sizeof(*cs));
	cs->kind = CPUSET_NONE;
	sp_list_join(cpuset_keys, &l);
	if (!v || json_is_null(v)) {
		if (null_hint) {
			sp_perr(c, "missing; expected an object with one of %s%s", l.buf,
				null_hint);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (!json_is_object(v)) {
		sp_perr(c, "must be null or an object with one of %s, e.g. {\"llc\": 0}, got %s",
			l.buf, sp_show(c, v));
		goto out;
	}
	if (sp_check_keys(c, v, cpuset_keys, " for a cpuset"))
		goto out;
	json_object_foreach((json_t *)v, k, x) {
		if (first) {
			sp_perr(c, "give exactly one of %s, not both %s and %s", l.buf, first, k);
			goto out;
		}
		first = k;
	}
	if (!first) {
		sp_perr(c, "is empty; give exactly one of %s (or null for no restriction)", l.buf);
		goto out;
	}
	rc = parse_cpuset_kind(c, v, first, cs);
out:
	strbuf_release(&l);
	return rc;
}
