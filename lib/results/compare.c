/* Comparing two runs' sidecars (compare.h); the t-test is in welch.c. */
#include "compare.h"
#include "checktab.h"
#include "diag.h"
#include "strvec.h"
#include "topo.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Gates of the metrics no check maps to.  A check's metric (worst_gap_ms,
 * min_iterations_per_sec, max_imbalance_ratio, ...) takes its gate and its
 * good direction from the check table (checktab.h), so a new check's
 * metric is gated without a row here. */
static const struct metric_gate own_gates[] = {
	{ "total_migrations", 10, 30, false, COMPARE_NEUTRAL },
	{ "worst_median_wake_latency_us", 20, 25, false, COMPARE_LOWER_BETTER },
	{ "total_iterations", 100, 10, true, COMPARE_HIGHER_BETTER },
};

/* Metrics the check table gives a sense that compare does not judge by:
 * the migration_ratio check caps a scheduler that migrates wildly, but
 * between two runs fewer migrations are not better by themselves (a
 * scheduler can migrate too little and leave CPUs idle). */
static const char *const neutral_metrics[] = { "worst_migration_ratio" };

/* The pass -> fail row: a_mean and b_mean are the fractions of passing
 * samples, and any drop from "all passed" is a regression. */
static const struct metric_gate result_gate = { "result", 0, 0, true,
						COMPARE_HIGHER_BETTER };

/* A BPF program's cost per run, "bpf.PROG.ns_per_run": a callback 25 %
 * dearer is a regression, from one run a side (compare.h).  Its gate is
 * reached at exactly 25 %, where the others' must be passed. */
static const struct metric_gate bpf_cost_gate = { "bpf.PROG.ns_per_run", 0, 25, false,
						  COMPARE_LOWER_BETTER };

/* Per-phase metrics, "phase<N>.<name>" (sidecar.h), are gated as the
 * metric <name> when it has a gate (the check table's machine metrics),
 * else by these, which only phases have. */
static const struct metric_gate phase_gates[] = {
	{ "mean_imbalance_ratio", 1, 50, false, COMPARE_LOWER_BETTER },
	{ "idle_while_runnable_ms", 250, 50, false, COMPARE_LOWER_BETTER },
	{ "iterations_per_sec", 0, 25, true, COMPARE_HIGHER_BETTER },
};

/* The check table's metrics in its order, then own_gates; built once. */
static struct metric_gate *gates;
static size_t n_gates;

static void gates_build(void)
{
	const struct check_def *t;
	size_t i, n;

	if (gates)
		return;
	t = checktab(&n);
	gates = xcalloc(n + ARRAY_SIZE(own_gates), sizeof(*gates));
	for (i = 0; i < n; i++) {
		struct metric_gate *g;
		size_t j;

		if (!t[i].metric)
			continue;
		g = &gates[n_gates++];
		*g = (struct metric_gate){ t[i].metric, t[i].gate_abs, t[i].gate_rel_pct,
					   t[i].higher_is_better,
					   t[i].higher_is_better ? COMPARE_HIGHER_BETTER
								 : COMPARE_LOWER_BETTER };
		for (j = 0; j < ARRAY_SIZE(neutral_metrics); j++)
			if (!strcmp(g->name, neutral_metrics[j]))
				g->dir = COMPARE_NEUTRAL;
	}
	for (i = 0; i < ARRAY_SIZE(own_gates); i++)
		gates[n_gates++] = own_gates[i];
}

const char *compare_dir_name(enum compare_dir d)
{
	switch (d) {
	case COMPARE_LOWER_BETTER: return "lower_better";
	case COMPARE_HIGHER_BETTER: return "higher_better";
	default: return "neutral";
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

const char *compare_metric_unit(const char *metric)
{
	if (ends_with(metric, "_ms"))
		return "ms";
	if (ends_with(metric, "_us"))
		return "us";
	if (ends_with(metric, "_pct"))
		return "%";
	if (ends_with(metric, "_per_sec"))
		return "/s";
	return "";
}

const char *compare_row_status(const struct compare_row *r)
{
	if (r->regression)
		return "regression";
	if (r->improvement)
		return "improvement";
	if (r->noise)
		return "noise";
	if (r->changed)
		return "changed";
	if (isnan(r->delta) || r->delta == 0)
		return "unchanged";
	return "within_gate";
}

const struct metric_gate *compare_gates(size_t *n)
{
	gates_build();
	*n = n_gates;
	return gates;
}

static const struct metric_gate *gate_exact(const char *name)
{
	size_t i;

	gates_build();
	for (i = 0; i < n_gates; i++)
		if (!strcmp(gates[i].name, name))
			return &gates[i];
	return NULL;
}

long compare_metric_phase(const char *name, const char **base)
{
	const char *p = name + 5;
	long n = 0;

	if (strncmp(name, "phase", 5) || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (*p - '0')) > 999999)
			return -1;
	if (*p != '.' || !p[1])
		return -1;
	if (base)
		*base = p + 1;
	return n;
}

const struct metric_gate *compare_gate_find(const char *name)
{
	const struct metric_gate *g = gate_exact(name);
	const char *base;
	size_t i;

	if (g)
		return g;
	if (!strcmp(name, result_gate.name))
		return &result_gate;
	if (compare_metric_phase(name, &base) < 0)
		return NULL;
	if ((g = gate_exact(base)))
		return g;
	for (i = 0; i < ARRAY_SIZE(phase_gates); i++)
		if (!strcmp(phase_gates[i].name, base))
			return &phase_gates[i];
	return NULL;
}

/* ---- filters ------------------------------------------------------------ */

static bool prefix(const char *p, const char *s)
{
	return !strncmp(s, p, strlen(p));
}

/* --topology: a preset's name, or a topology in either form, as --topo
 * takes it everywhere: "1,1,4,1" is the stored spec "1n1l4c1t". */
static bool topology_match(const char *want, const struct sidecar *s)
{
	struct ktstr_topo a, b;
	struct strbuf err = STRBUF_INIT;
	bool same;

	if (!strcmp(want, s->preset) || !strcmp(want, s->topology))
		return true;
	same = !topo_parse(want, &a, &err) && !topo_parse(s->topology, &b, &err) &&
	       a.nodes == b.nodes && a.llcs == b.llcs && a.cores == b.cores &&
	       a.threads == b.threads;
	strbuf_release(&err);
	return same;
}

/* --test: the test name, the case as the sidecar has it ("suite
 * test/preset[/kernel][/scheduler]") or without its suite (JUnit's and
 * ktstr-test -E's name), or test/preset and test/preset/scheduler, which
 * a run of several schedulers has as its cases' names. */
static bool test_match(const char *pat, const struct sidecar *s)
{
	size_t sl = strlen(s->suite);
	const char *bare = s->case_name;
	char *tp, *tps;
	bool hit;

	if (!fnmatch(pat, s->test, 0) || !fnmatch(pat, s->case_name, 0))
		return true;
	if (sl && !strncmp(bare, s->suite, sl) && bare[sl] == ' ' &&
	    !fnmatch(pat, bare + sl + 1, 0))
		return true;
	if (!*s->test)
		return false;
	tp = xasprintf("%s/%s", s->test, *s->preset ? s->preset : "-");
	tps = xasprintf("%s/%s", tp, s->scheduler);
	hit = !fnmatch(pat, tp, 0) || (*s->scheduler && !fnmatch(pat, tps, 0));
	free(tp);
	free(tps);
	return hit;
}

bool compare_filter_match(const struct compare_filter *f, const struct sidecar *s)
{
	size_t i;
	bool any;

	if (!f)
		return true;
	if (f->kernel && !prefix(f->kernel, s->kernel))
		return false;
	if (f->scheduler && strcmp(f->scheduler, s->scheduler))
		return false;
	if (f->topology && !topology_match(f->topology, s))
		return false;
	if (f->commit && (!*s->commit || !prefix(f->commit, s->commit)))
		return false;
	if (f->run_source && strcmp(f->run_source, s->run_source))
		return false;
	if (f->test && !test_match(f->test, s))
		return false;
	if (f->work_type) {
		any = false;
		for (i = 0; i < json_array_size(s->work_types); i++) {
			const char *w = json_string_value(json_array_get(s->work_types, i));

			if (w && !strcmp(w, f->work_type))
				any = true;
		}
		if (!any)
			return false;
	}
	return true;
}

bool compare_set_has_phase(const struct sidecar_set *set, const struct compare_filter *f,
			   unsigned phase)
{
	const char *name;
	json_t *v;
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (!compare_filter_match(f, &set->v[i]))
			continue;
		json_object_foreach(set->v[i].metrics, name, v)
			if (compare_metric_phase(name, NULL) == (long)phase)
				return true;
	}
	return false;
}

/* ---- grouping by case ---------------------------------------------------- */

/* "suite test/preset", as the runner names the case (without its kernel):
 * a case no preset fits (a plan-time skip, preset null) is "test/-" there
 * and in show, so here too. */
static char *case_key(const struct sidecar *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (*s->suite)
		strbuf_addf(&sb, "%s ", s->suite);
	if (*s->test)
		strbuf_addf(&sb, "%s/%s", s->test, *s->preset ? s->preset : "-");
	else if (*s->case_name)
		strbuf_addf(&sb, "%s%s%s", s->case_name, *s->preset ? "/" : "", s->preset);
	else
		strbuf_addf(&sb, "?%s%s", *s->preset ? "/" : "", s->preset);
	return strbuf_detach(&sb, NULL);
}

struct group {
	char *key;
	const struct sidecar **v;
	size_t n;
};

struct side {
	struct group *g;
	size_t n;
};

static struct group *group_find(struct side *sd, const char *key)
{
	size_t i;

	for (i = 0; i < sd->n; i++)
		if (!strcmp(sd->g[i].key, key))
			return &sd->g[i];
	return NULL;
}

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

/* Add s to the group of key (taken), creating the group. */
static void group_add(struct side *sd, char *key, const struct sidecar *s)
{
	struct group *g = group_find(sd, key);

	if (g) {
		free(key);
	} else {
		sd->g = xrealloc(sd->g, (sd->n + 1) * sizeof(*sd->g));
		g = &sd->g[sd->n++];
		g->key = key;
		g->v = NULL;
		g->n = 0;
	}
	g->v = xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
	g->v[g->n++] = s;
}

static void side_release(struct side *sd)
{
	size_t i;

	for (i = 0; i < sd->n; i++) {
		free(sd->g[i].key);
		free(sd->g[i].v);
	}
	free(sd->g);
}

/* A case that one run ran under several schedulers (ktstr test
 * --scheduler A --scheduler B) is several cases: their sidecars are not
 * samples of one.  Such a group splits into "KEY/SCHEDULER" groups, which
 * match the same split of another A/B run; a case run under one scheduler
 * keeps its key, so runs of different schedulers still compare. */
static void split_schedulers(struct side *sd)
{
	struct side out = { NULL, 0 };
	size_t i, j;

	for (i = 0; i < sd->n; i++) {
		const struct group *g = &sd->g[i];
		bool mixed = false;

		for (j = 1; j < g->n && !mixed; j++)
			mixed = strcmp(g->v[j]->scheduler, g->v[0]->scheduler) != 0;
		for (j = 0; j < g->n; j++)
			group_add(&out, mixed ? xasprintf("%s/%s", g->key, g->v[j]->scheduler)
					      : xstrdup(g->key), g->v[j]);
	}
	side_release(sd);
	*sd = out;
}

/* Group the matching sidecars of set by case key, keys sorted. */
static void group_set(const struct sidecar_set *set, const struct compare_filter *f,
		      struct side *sd)
{
	size_t i;

	sd->g = NULL;
	sd->n = 0;
	for (i = 0; i < set->n; i++) {
		const struct sidecar *s = &set->v[i];

		if (compare_filter_match(f, s))
			group_add(sd, case_key(s), s);
	}
	split_schedulers(sd);
	if (sd->n > 1)
		qsort(sd->g, sd->n, sizeof(*sd->g), group_cmp);
}

/* ---- one metric --------------------------------------------------------- */

/* The samples of metric in group g (numbers only). */
/* Whether a sample's figures may be compared.  An infrastructure error
 * measured nothing about the scheduler; an inconclusive run was cut
 * short or disturbed (the host took the VM's CPUs, say) past what its own
 * verdict would judge, so its figures would not be the scheduler's
 * either. */
static bool measured(const struct sidecar *s)
{
	return strcmp(s->result, "error") && strcmp(s->result, "inconclusive");
}

static size_t samples(const struct group *g, const char *metric, double *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++) {
		json_t *v = json_object_get(g->v[i]->metrics, metric);

		if (!measured(g->v[i]))
			continue;
		if (json_is_number(v) && isfinite(json_number_value(v)))
			out[n++] = json_number_value(v);
	}
	return n;
}

static double mean(const double *x, size_t n)
{
	double s = 0;
	size_t i;

	if (!n)
		return NAN;
	for (i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

/* The sample standard deviation (n - 1), as Welch's test takes it; NAN
 * below 2 samples. */
static double stddev(const double *x, size_t n)
{
	double m, var;

	if (n < 2)
		return NAN;
	sample_mean_var(x, n, &m, &var);
	return sqrt(var);
}

/* Fill delta, delta_pct and the verdict of row r from its means and
 * p-value (compare.h: within_gate, noise, changed, regression,
 * improvement).  The result row passes significant = true. */
static void judge_row(struct compare_row *r, const struct metric_gate *gate, double alpha,
		      bool significant)
{
	bool worse;

	r->delta = r->b_mean - r->a_mean;
	if (isnan(r->delta))
		r->delta_pct = NAN;
	else if (r->a_mean != 0)
		r->delta_pct = r->delta / fabs(r->a_mean) * 100.0;
	else
		r->delta_pct = r->delta == 0 ? 0 : copysign(INFINITY, r->delta);
	r->gated = gate != NULL;
	r->gate_abs = gate ? gate->abs : NAN;
	r->gate_rel_pct = gate ? gate->rel_pct : NAN;
	r->dir = gate ? gate->dir : COMPARE_NEUTRAL;
	/* Fewer than two samples a side: p is NAN, and nothing supports a
	 * change, however large. */
	r->significant = significant || (!isnan(r->p_value) && r->p_value < alpha);
	if (isnan(r->delta) || r->delta == 0)
		return;
	/* Both gates must pass, so a tiny metric's big relative swing and a
	 * big metric's small relative drift are both left alone. */
	r->past_gate = gate && fabs(r->delta) > gate->abs &&
		       (fabs(r->delta_pct) > gate->rel_pct ||
			(gate == &bpf_cost_gate && fabs(r->delta_pct) >= gate->rel_pct));
	if (gate && !r->past_gate)
		return;
	if (!r->significant) {
		r->noise = true;
		return;
	}
	if (r->dir == COMPARE_NEUTRAL) {
		r->changed = true;
		return;
	}
	worse = r->dir == COMPARE_HIGHER_BETTER ? r->delta < 0 : r->delta > 0;
	r->regression = worse;
	r->improvement = !worse;
}

static struct compare_row *new_row(struct compare_result *r, size_t *alloc,
				   const char *key, const char *metric)
{
	struct compare_row *row;

	if (r->n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 32;
		r->rows = xrealloc(r->rows, *alloc * sizeof(*r->rows));
	}
	row = &r->rows[r->n++];
	memset(row, 0, sizeof(*row));
	row->case_key = xstrdup(key);
	row->metric = metric;
	row->p_value = row->a_sd = row->b_sd = NAN;
	row->unit = "";
	return row;
}

/* Passing samples among those that passed or failed (NAN: none did):
 * errors, skips and inconclusive runs judged nothing. */
static double pass_fraction(const struct group *g, size_t *judged)
{
	size_t i, pass = 0, fail = 0;

	for (i = 0; i < g->n; i++) {
		pass += !strcmp(g->v[i]->result, "pass");
		fail += !strcmp(g->v[i]->result, "fail");
	}
	*judged = pass + fail;
	return pass + fail ? (double)pass / (double)(pass + fail) : NAN;
}

/* Per-phase metrics first, by phase then name; the rest by name. */
static int metric_order(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *bx = x, *by = y;
	long px = compare_metric_phase(x, &bx), py = compare_metric_phase(y, &by);

	if ((px >= 0) != (py >= 0))
		return px >= 0 ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	return strcmp(bx, by);
}

/* Gated metrics in table order, then the per-phase ones by phase, then
 * the others by name.  Names are borrowed from the gate table or the
 * sidecar documents. */
static void metric_names(const struct group *ga, const struct group *gb,
			 const char ***out, size_t *n)
{
	struct strvec other = STRVEC_INIT;
	const struct group *gs[2] = { ga, gb };
	const char **v;
	const char *key;
	json_t *val;
	size_t i, j, k, m = 0, cap;

	for (k = 0; k < 2; k++)
		for (i = 0; i < gs[k]->n; i++)
			json_object_foreach(gs[k]->v[i]->metrics, key, val)
				if (!gate_exact(key) && json_is_number(val))
					strvec_push_unique(&other, key);
	if (other.n > 1)
		qsort(other.v, other.n, sizeof(*other.v), metric_order);
	gates_build();
	cap = n_gates + other.n;
	v = xcalloc(cap ? cap : 1, sizeof(*v));
	for (i = 0; i < n_gates; i++)
		v[m++] = gates[i].name;
	/* Point at a document's own copy of the key, not the strvec's. */
	for (j = 0; j < other.n; j++) {
		const char *name = NULL;

		for (k = 0; k < 2 && !name; k++)
			for (i = 0; i < gs[k]->n && !name; i++) {
				void *it = json_object_iter_at(gs[k]->v[i]->metrics,
							       other.v[j]);

				if (it)
					name = json_object_iter_key(it);
			}
		if (name)
			v[m++] = name;
	}
	strvec_clear(&other);
	*out = v;
	*n = m;
}

/* --phase: only phase<N>.* metrics of the listed phases. */
static bool phase_wanted(const struct compare_filter *f, const char *metric)
{
	long n;

	if (!f || !f->n_phases)
		return true;
	if ((n = compare_metric_phase(metric, NULL)) < 0)
		return false;
	for (size_t i = 0; i < f->n_phases; i++)
		if (f->phases[i] == (unsigned long)n)
			return true;
	return false;
}

/* Default gates of a payload metric: any move past 5 % counts. */
#define PAYLOAD_GATE_ABS 0.0
#define PAYLOAD_GATE_REL_PCT 5.0

/* metric is "bpf.PROG<field>" (field with its dot) for some PROG. */
static bool bpf_metric(const char *metric, const char *field)
{
	return !strncmp(metric, "bpf.", 4) && strlen(metric) > 4 + strlen(field) &&
	       ends_with(metric, field);
}

/* A metric's metric_info entry ({"unit", "better"}) from the first
 * sidecar of either side that has one; NULL when none does. */
static const json_t *metric_info(const struct group *ga, const struct group *gb,
				 const char *metric)
{
	const struct group *gs[2] = { ga, gb };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < gs[k]->n; i++) {
			json_t *e = json_object_get(json_object_get(gs[k]->v[i]->doc,
								    "metric_info"), metric);

			if (json_is_object(e))
				return e;
		}
	return NULL;
}

/* The gate of a payload metric from its metric_info, in *g. */
static const struct metric_gate *payload_gate(const json_t *info, const char *metric,
					      struct metric_gate *g)
{
	const char *better = json_string_value(json_object_get(info, "better"));

	memset(g, 0, sizeof(*g));
	g->name = metric;
	g->abs = PAYLOAD_GATE_ABS;
	g->rel_pct = PAYLOAD_GATE_REL_PCT;
	g->dir = COMPARE_NEUTRAL;
	if (better && !strcmp(better, "lower"))
		g->dir = COMPARE_LOWER_BETTER;
	else if (better && !strcmp(better, "higher"))
		g->dir = COMPARE_HIGHER_BETTER;
	g->higher_is_better = g->dir == COMPARE_HIGHER_BETTER;
	return g;
}

/* The row of a BPF metric (compare.h); false for any other metric. */
static bool judge_bpf(struct compare_row *row, const json_t *info, double alpha)
{
	const char *unit = json_string_value(json_object_get(info, "unit"));

	if (bpf_metric(row->metric, ".ns_per_run")) {
		row->unit = unit ? unit : "ns";
		/* Welch needs repeats on both sides; without, the gate decides. */
		judge_row(row, &bpf_cost_gate, alpha, row->na < 2 || row->nb < 2);
		return true;
	}
	if (bpf_metric(row->metric, ".verified_insns")) {
		row->notable = true;
		judge_row(row, NULL, alpha, true);
		return true;
	}
	return false;
}

/* Under TCG a guest's work rate is the host's emulation speed, which
 * follows the host's load: reruns of one suite on the 2-core build
 * machine differed by 11-18 % in min_iterations_per_sec (issue 16), past
 * the 10 % gate.  When every sample on both sides ran under TCG, the
 * work-rate metrics' relative gate is this instead. */
#define TCG_RATE_GATE_REL_PCT 25
static const char *const work_rate_metrics[] = { "total_iterations", "min_iterations_per_sec" };

static bool group_all_tcg(const struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->v[i]->accel, "tcg"))
			return false;
	return g->n > 0;
}

/* gate, or a copy in *tmp with the TCG rule applied (see above). */
static const struct metric_gate *tcg_gate(const struct group *ga, const struct group *gb,
					  const struct metric_gate *gate, struct metric_gate *tmp)
{
	size_t i;

	if (!gate || gate->rel_pct >= TCG_RATE_GATE_REL_PCT)
		return gate;
	for (i = 0; i < ARRAY_SIZE(work_rate_metrics); i++)
		if (!strcmp(gate->name, work_rate_metrics[i]))
			break;
	if (i == ARRAY_SIZE(work_rate_metrics) || !group_all_tcg(ga) || !group_all_tcg(gb))
		return gate;
	*tmp = *gate;
	tmp->rel_pct = TCG_RATE_GATE_REL_PCT;
	return tmp;
}

/* One metric's row: its samples, means, p-value and verdict. */
static void compare_metric(const struct group *ga, const struct group *gb, double alpha,
			   const char *metric, double *xa, double *xb,
			   struct compare_result *r, size_t *alloc)
{
	const json_t *info = metric_info(ga, gb, metric);
	struct metric_gate pg, tg;
	const struct metric_gate *gate = tcg_gate(ga, gb, compare_gate_find(metric), &tg);
	struct compare_row *row;
	size_t na = samples(ga, metric, xa), nb = samples(gb, metric, xb);

	if (!na && !nb)
		return;
	row = new_row(r, alloc, ga->key, metric);
	row->na = na;
	row->nb = nb;
	row->a_mean = mean(xa, na);
	row->b_mean = mean(xb, nb);
	row->a_sd = stddev(xa, na);
	row->b_sd = stddev(xb, nb);
	row->p_value = welch_p_value(xa, na, xb, nb);
	row->unit = compare_metric_unit(metric);
	if (!gate && judge_bpf(row, info, alpha))
		return;
	if (info && !gate && json_is_string(json_object_get(info, "unit")))
		row->unit = json_string_value(json_object_get(info, "unit"));
	/* Only payload metrics take their direction from metric_info. */
	if (info && !gate && !strncmp(metric, "payload.", 8))
		gate = payload_gate(info, metric, &pg);
	judge_row(row, gate, alpha, false);
}

static void compare_case(const struct group *ga, const struct group *gb, double alpha,
			 const struct compare_filter *f, struct compare_result *r,
			 size_t *alloc)
{
	size_t cap = ga->n > gb->n ? ga->n : gb->n, i, n;
	double *xa = xcalloc(cap, sizeof(double)), *xb = xcalloc(cap, sizeof(double));
	const char **names;
	struct compare_row *row;

	/* pass -> fail first: it is the loudest change a case can show. */
	if (!f || !f->n_phases) {
		size_t ja, jb;
		double pa = pass_fraction(ga, &ja), pb = pass_fraction(gb, &jb);

		if (ja && jb && pa != pb) {
			row = new_row(r, alloc, ga->key, result_gate.name);
			row->a_mean = pa;
			row->b_mean = pb;
			row->na = ja;
			row->nb = jb;
			judge_row(row, &result_gate, alpha, true);
			/* Only all-pass -> some fail and some fail -> all-pass
			 * count; 1 of 3 failing before and 2 of 3 after is a
			 * flaky case either way. */
			if (pa != 1)
				row->regression = false;
			if (pb != 1)
				row->improvement = false;
			/* Still a different outcome, just not a verdict. */
			row->changed = !row->regression && !row->improvement;
		}
	}
	metric_names(ga, gb, &names, &n);
	for (i = 0; i < n; i++)
		if (phase_wanted(f, names[i]))
			compare_metric(ga, gb, alpha, names[i], xa, xb, r, alloc);
	free(names);
	free(xa);
	free(xb);
}

/* Describe one side from its groups (the matching sidecars). */
static void describe_side(const struct side *sd, struct compare_side *cs)
{
	size_t i, j;

	cs->cases = sd->n;
	for (i = 0; i < sd->n; i++)
		for (j = 0; j < sd->g[i].n; j++) {
			const struct sidecar *s = sd->g[i].v[j];

			cs->samples++;
			if (*s->run_id)
				strvec_push_unique(&cs->ids, s->run_id);
			if (*s->label)
				strvec_push_unique(&cs->labels, s->label);
			if (*s->scheduler)
				strvec_push_unique(&cs->schedulers, s->scheduler);
			if (*s->kernel)
				strvec_push_unique(&cs->kernels, s->kernel);
			if (*s->accel)
				strvec_push_unique(&cs->accels, s->accel);
			if (!strcmp(s->result, "error")) {
				cs->errors++;
				strvec_push_unique(&cs->error_cases, sd->g[i].key);
			} else if (!strcmp(s->result, "inconclusive")) {
				cs->inconclusive++;
				strvec_push_unique(&cs->inconclusive_cases, sd->g[i].key);
			} else if (!strcmp(s->result, "skip")) {
				cs->skips++;
			}
		}
	strvec_sort(&cs->ids);
	strvec_sort(&cs->labels);
	strvec_sort(&cs->schedulers);
	strvec_sort(&cs->kernels);
	strvec_sort(&cs->accels);
}

static void side_info_release(struct compare_side *cs)
{
	strvec_clear(&cs->ids);
	strvec_clear(&cs->labels);
	strvec_clear(&cs->schedulers);
	strvec_clear(&cs->kernels);
	strvec_clear(&cs->accels);
	strvec_clear(&cs->error_cases);
	strvec_clear(&cs->inconclusive_cases);
}

/* Some sample of the case measured something: a run that errored, was
 * skipped or was inconclusive has no figures to compare, so a case with
 * nothing else compares nothing. */
static bool judged(const struct group *g)
{
	for (size_t j = 0; j < g->n; j++)
		if (measured(g->v[j]) && strcmp(g->v[j]->result, "skip"))
			return true;
	return false;
}

int compare_runs(const struct sidecar_set *a, const struct sidecar_set *b,
		 const struct compare_filter *f, double alpha,
		 struct compare_result *r, struct strbuf *err)
{
	struct side sa, sb;
	size_t i, alloc = 0;

	memset(r, 0, sizeof(*r));
	group_set(a, f, &sa);
	group_set(b, f, &sb);
	if (!sa.n || !sb.n) {
		const struct sidecar_set *set = !sa.n ? a : b;

		strbuf_addf(err, "the %s run has no sidecars%s", !sa.n ? "first" : "second",
			    set->n ? " matching the filters" : "");
		side_release(&sa);
		side_release(&sb);
		return -1;
	}
	r->alpha = alpha;
	r->cases_a = sa.n;
	r->cases_b = sb.n;
	describe_side(&sa, &r->a);
	describe_side(&sb, &r->b);
	for (i = 0; i < sa.n; i++) {
		struct group *gb = group_find(&sb, sa.g[i].key);

		if (!gb) {
			strvec_push(&r->only_a, sa.g[i].key);
			continue;
		}
		r->cases_both++;
		r->cases_judged += judged(&sa.g[i]) && judged(gb);
		compare_case(&sa.g[i], gb, alpha, f, r, &alloc);
	}
	for (i = 0; i < sb.n; i++)
		if (!group_find(&sa, sb.g[i].key))
			strvec_push(&r->only_b, sb.g[i].key);
	for (i = 0; i < r->n; i++) {
		r->regressions += r->rows[i].regression;
		r->improvements += r->rows[i].improvement;
		/* Ungated metrics (event counters) move all the time: only
		 * the gated ones' noise is worth a count. */
		r->noise += r->rows[i].gated && r->rows[i].noise;
		r->changed += r->rows[i].gated && r->rows[i].changed;
	}
	side_release(&sa);
	side_release(&sb);
	return 0;
}

void compare_result_release(struct compare_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->rows[i].case_key);
	free(r->rows);
	strvec_clear(&r->only_a);
	strvec_clear(&r->only_b);
	side_info_release(&r->a);
	side_info_release(&r->b);
	memset(r, 0, sizeof(*r));
}
