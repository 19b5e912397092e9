/* Gauntlet (gauntlet.h): presets, host capacity, expansion, filters. */
#include "gauntlet.h"
#include "budget.h"
#include "diag.h"
#include "fsutil.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define P(name, spec, n, l, c, t, mem, about) \
	{ name, spec, about, { n, l, c, t }, mem }

/* Upstream ktstr's presets, ordered by vCPU count.  The -nosmt variants
 * keep the large shapes reachable where SMT is not (arm64). */
static const struct preset presets[] = {
	P("tiny-1llc", "1n1l4c1t", 1, 1, 4, 1, 2048, "4 CPUs sharing one LLC"),
	P("tiny-2llc", "1n2l2c1t", 1, 2, 2, 1, 2048, "4 CPUs split over 2 LLCs"),
	P("smt-2llc", "1n2l2c2t", 1, 2, 2, 2, 2048, "8 CPUs, 2 LLCs, SMT siblings"),
	P("odd-3llc", "1n3l3c1t", 1, 3, 3, 1, 2048, "9 CPUs over an odd number (3) of LLCs"),
	P("smt-3llc", "1n3l2c2t", 1, 3, 2, 2, 2048, "12 CPUs, 3 LLCs, SMT siblings"),
	P("odd-7llc", "1n7l2c1t", 1, 7, 2, 1, 2048, "14 CPUs over a prime number (7) of LLCs"),
	P("odd-5llc", "1n5l3c1t", 1, 5, 3, 1, 2048, "15 CPUs over a prime number (5) of LLCs"),
	P("numa2-4llc", "2n4l4c1t", 2, 4, 4, 1, 2048, "16 CPUs, 2 NUMA nodes of 2 LLCs"),
	P("medium-4llc", "1n4l4c2t", 1, 4, 4, 2, 2048, "32 CPUs, 4 LLCs, SMT"),
	P("medium-4llc-nosmt", "1n4l8c1t", 1, 4, 8, 1, 2048, "32 CPUs, 4 LLCs, no SMT"),
	P("numa4-8llc", "4n8l4c1t", 4, 8, 4, 1, 2048, "32 CPUs, 4 NUMA nodes of 2 LLCs"),
	P("medium-8llc", "1n8l4c2t", 1, 8, 4, 2, 2048, "64 CPUs, 8 LLCs, SMT"),
	P("medium-8llc-nosmt", "1n8l8c1t", 1, 8, 8, 1, 2048, "64 CPUs, 8 LLCs, no SMT"),
	P("large-4llc", "1n4l16c2t", 1, 4, 16, 2, 2048, "128 CPUs in few, wide LLCs (4), SMT"),
	P("large-4llc-nosmt", "1n4l32c1t", 1, 4, 32, 1, 2048,
	  "128 CPUs in few, wide LLCs (4), no SMT"),
	P("large-8llc", "1n8l8c2t", 1, 8, 8, 2, 2048, "128 CPUs, 8 LLCs, SMT"),
	P("large-8llc-nosmt", "1n8l16c1t", 1, 8, 16, 1, 2048, "128 CPUs, 8 LLCs, no SMT"),
	P("numa2-8llc", "2n8l8c2t", 2, 8, 8, 2, 2048, "128 CPUs, 2 NUMA nodes of 4 LLCs, SMT"),
	P("numa2-8llc-nosmt", "2n8l16c1t", 2, 8, 16, 1, 2048,
	  "128 CPUs, 2 NUMA nodes of 4 LLCs, no SMT"),
	P("numa4-12llc", "4n12l8c2t", 4, 12, 8, 2, 4096,
	  "192 CPUs, 4 NUMA nodes of 3 LLCs, SMT"),
	P("near-max-llc", "1n15l8c2t", 1, 15, 8, 2, 2048, "240 CPUs over many (15) LLCs, SMT"),
	P("near-max-llc-nosmt", "1n15l16c1t", 1, 15, 16, 1, 2048,
	  "240 CPUs over many (15) LLCs, no SMT"),
	P("max-cpu", "1n14l9c2t", 1, 14, 9, 2, 4096, "252 CPUs, near the KVM vCPU limit, SMT"),
	P("max-cpu-nosmt", "1n14l18c1t", 1, 14, 18, 1, 4096,
	  "252 CPUs, near the KVM vCPU limit, no SMT"),
};

const struct preset *preset_table(size_t *n)
{
	*n = ARRAY_SIZE(presets);
	return presets;
}

const struct preset *preset_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(presets); i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return NULL;
}

unsigned gauntlet_vm_slots(const struct ktstr_topo *topo, bool thread_per_vcpu,
			   unsigned host_cpus)
{
	unsigned cpus = topo_cpus(topo);

	if (!thread_per_vcpu)
		return 1;
	if (!host_cpus)
		host_cpus = 1;
	return cpus < host_cpus ? cpus : host_cpus;
}

int topo_constraints_match(const struct topo_constraints *c,
			   const struct ktstr_topo *topo, struct strbuf *why)
{
	const struct { const char *key, *what; unsigned have, min, max; } b[] = {
		{ "llcs", "LLC", topo->llcs, c->min_llcs, c->max_llcs },
		{ "cpus", "CPU", topo_cpus(topo), c->min_cpus, c->max_cpus },
		{ "numa_nodes", "NUMA node", topo->nodes, c->min_nodes, c->max_nodes },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(b); i++) {
		if (b[i].min && b[i].have < b[i].min) {
			if (why)
				strbuf_addf(why, "has %u %s%s, the test needs at least %u (min_%s)",
					    b[i].have, b[i].what, b[i].have == 1 ? "" : "s",
					    b[i].min, b[i].key);
			return 0;
		}
		if (b[i].max && b[i].have > b[i].max) {
			if (why)
				strbuf_addf(why, "has %u %s%s, the test allows at most %u (max_%s)",
					    b[i].have, b[i].what, b[i].have == 1 ? "" : "s",
					    b[i].max, b[i].key);
			return 0;
		}
	}
	if (c->smt == 1 && topo->threads < 2) {
		if (why)
			strbuf_addstr(why, "has no SMT, the test needs it (smt: true)");
		return 0;
	}
	if (c->smt == 0 && topo->threads > 1) {
		if (why)
			strbuf_addf(why, "has %u threads per core, the test needs no SMT "
				    "(smt: false)", topo->threads);
		return 0;
	}
	return 1;
}

/* ---- schedulers of an A/B run ------------------------------------------ */

/* Labels that clash: directory names in front for paths, then positions. */
static void unclash(struct gauntlet_sched *v, size_t n)
{
	bool *clash = xcalloc(n ? n : 1, sizeof(*clash));
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j && !strcmp(v[i].label, v[j].label))
				clash[i] = true;
	for (i = 0; i < n; i++) {
		char *dir, *lab;

		if (!clash[i] || !v[i].sched || !strchr(v[i].sched, '/'))
			continue;
		dir = path_dirname(v[i].sched);
		lab = xasprintf("%s-%s", path_basename(dir), v[i].label);
		free(dir);
		free(v[i].label);
		v[i].label = lab;
	}
	free(clash);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (!strcmp(v[i].label, v[j].label)) {
				char *lab = xasprintf("%s-%zu", v[j].label, j + 1);

				free(v[j].label);
				v[j].label = lab;
			}
}

int gauntlet_scheds_resolve(const struct strvec *in, struct gauntlet_sched **out, size_t *n,
			    struct strbuf *err)
{
	struct gauntlet_sched *v = xcalloc(in->n ? in->n : 1, sizeof(*v));
	size_t i, j;

	*n = 0;
	for (i = 0; i < in->n; i++) {
		const char *a = in->v[i];
		char *sched = NULL;

		if (!*a) {
			strbuf_addstr(err, "--scheduler '': expected a scheduler name, a path "
				      "or eevdf");
			goto fail;
		}
		if (strchr(a, '/')) {
			sched = realpath(a, NULL);
			if (!sched || is_directory(sched)) {
				strbuf_addf(err, "--scheduler %s: %s; give a scheduler binary, a "
					    "scheduler name or eevdf", a,
					    sched ? "is a directory" : strerror(errno));
				free(sched);
				goto fail;
			}
		} else if (strcmp(a, "eevdf")) {
			sched = xstrdup(a);
		}
		for (j = 0; j < *n; j++)
			if ((!sched && !v[j].sched) ||
			    (sched && v[j].sched && !strcmp(sched, v[j].sched)))
				break;
		if (j < *n) {		/* the same scheduler named twice */
			free(sched);
			continue;
		}
		v[*n].sched = sched;
		v[*n].label = xstrdup(sched ? path_basename(sched) : "eevdf");
		(*n)++;
	}
	unclash(v, *n);
	*out = v;
	return 0;
fail:
	gauntlet_scheds_free(v, *n);
	*n = 0;
	*out = NULL;
	return -1;
}

void gauntlet_scheds_free(struct gauntlet_sched *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].label);
		free(v[i].sched);
	}
	free(v);
}

/* ---- expansion -------------------------------------------------------- */

struct cases {
	struct gcase *v;
	size_t n, alloc;
};

static struct gcase *add_case(struct cases *cs, const struct ktest *t, const struct preset *p,
			      const struct gauntlet_kernel *k, const struct gauntlet_sched *sc,
			      bool sched_suffix, char *skip)
{
	struct strbuf name = STRBUF_INIT;
	struct gcase *c;

	if (cs->n == cs->alloc) {
		cs->alloc = cs->alloc ? 2 * cs->alloc : 16;
		cs->v = xrealloc(cs->v, cs->alloc * sizeof(*cs->v));
	}
	c = &cs->v[cs->n++];
	memset(c, 0, sizeof(*c));
	c->test = t;
	c->preset = p;
	c->kernel = k;
	c->sched = sc;
	c->skip_reason = skip;
	strbuf_addf(&name, "%s/%s", t->name, p ? p->name : "-");
	if (k)
		strbuf_addf(&name, "/%s", k->label);
	if (sc && sched_suffix)
		strbuf_addf(&name, "/%s", sc->label);
	c->name = strbuf_detach(&name, NULL);
	c->full_name = xasprintf("%s %s", t->suite, c->name);
	return c;
}

/* "min_llcs=8, smt=true": the test's constraints merged with the
 * scenario's requirements, for "no preset satisfies ..." messages. */
static void describe_constraints(const struct topo_constraints *tc, const struct requires *r,
				 struct strbuf *sb)
{
	const struct { const char *key; unsigned v; } b[] = {
		{ "min_llcs", tc->min_llcs > r->min_llcs ? tc->min_llcs : r->min_llcs },
		{ "max_llcs", tc->max_llcs },
		{ "min_cpus", tc->min_cpus > r->min_cpus ? tc->min_cpus : r->min_cpus },
		{ "max_cpus", tc->max_cpus },
		{ "min_numa_nodes", tc->min_nodes > r->min_nodes ? tc->min_nodes : r->min_nodes },
		{ "max_numa_nodes", tc->max_nodes },
	};
	int smt = tc->smt != -1 ? tc->smt : r->smt;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(b); i++)
		if (b[i].v)
			strbuf_addf(sb, "%s%s=%u", sb->len ? ", " : "", b[i].key, b[i].v);
	if (smt != -1)
		strbuf_addf(sb, "%ssmt=%s", sb->len ? ", " : "", smt ? "true" : "false");
}

/* Why preset p cannot run test t here, or NULL when it can.  *capacity is
 * set when the only problem is host capacity. */
static char *preset_problem(const struct ktest *t, const struct scenario *s,
			    const struct preset *p, const struct gauntlet_opts *o,
			    bool *capacity)
{
	struct strbuf why = STRBUF_INIT;
	unsigned cap = budget_vcpu_cap(o->kvm, o->host_cpus);

	*capacity = false;
	if (!topo_constraints_match(&t->topo, &p->topo, &why)) {
		char *r = xasprintf("preset %s does not satisfy the test's topology: %s",
				    p->name, why.buf);

		strbuf_release(&why);
		return r;
	}
	if (scenario_fit(s, &p->topo, &why)) {
		char *r = xasprintf("scenario %s cannot run on preset %s: %s", s->name,
				    p->name, why.buf);

		strbuf_release(&why);
		return r;
	}
	strbuf_release(&why);
	if (topo_cpus(&p->topo) > cap) {
		*capacity = true;
		return xasprintf("preset %s needs %u vCPUs, more than this host's capacity of "
				 "%u vCPUs (%s)", p->name, topo_cpus(&p->topo), cap,
				 budget_vcpu_rule(o->kvm));
	}
	return NULL;
}

/* The cases of test t on preset p: one per kernel and per scheduler, each
 * skipped with its own copy of skip when that is set. */
static void add_preset_cases(struct cases *cs, const struct ktest *t, const struct preset *p,
			     const struct gauntlet_opts *o, const char *skip)
{
	for (size_t k = 0; k < (o->n_kernels ? o->n_kernels : 1); k++) {
		const struct gauntlet_kernel *kern = o->n_kernels > 1 ? &o->kernels[k] : NULL;

		for (size_t j = 0; j < (t->sched_param ? o->n_scheds : 1); j++) {
			struct gcase *c = add_case(cs, t, p, kern,
						   t->sched_param ? &o->scheds[j] : NULL,
						   o->n_scheds > 1, skip ? xstrdup(skip) : NULL);

			if (!skip) {
				c->slots = gauntlet_vm_slots(&p->topo, o->thread_per_vcpu, o->host_cpus);
				c->est_secs = budget_estimate_secs(c);
			}
		}
	}
}

/* What the presets that were left out had against them, for the message
 * when none is left. */
struct misfits {
	const struct preset *smallest_fit;	/* fits all but this host's capacity */
	char *first_problem;			/* the first other reason */
};

static void note_misfit(struct misfits *mf, const struct preset *p, char *problem,
			bool capacity)
{
	if (capacity && (!mf->smallest_fit ||
			 topo_cpus(&p->topo) < topo_cpus(&mf->smallest_fit->topo)))
		mf->smallest_fit = p;
	if (!mf->first_problem && !capacity)
		mf->first_problem = problem;
	else
		free(problem);
}

/* No preset runs t: one skipped case says why. */
static void add_no_preset_case(struct cases *cs, const struct ktest *t,
			       const struct scenario *s, const struct gauntlet_opts *o,
			       const struct misfits *mf)
{
	struct strbuf sb = STRBUF_INIT, what = STRBUF_INIT;

	describe_constraints(&t->topo, &s->req, &what);
	if (mf->smallest_fit)
		strbuf_addf(&sb, "no preset satisfies %s within this host's capacity of "
			    "%u vCPUs (%s); the smallest that does is %s with %u vCPUs",
			    what.len ? what.buf : "the test",
			    budget_vcpu_cap(o->kvm, o->host_cpus), budget_vcpu_rule(o->kvm),
			    mf->smallest_fit->name, topo_cpus(&mf->smallest_fit->topo));
	else if (what.len)
		strbuf_addf(&sb, "no preset satisfies %s", what.buf);
	else
		strbuf_addf(&sb, "no preset can run this test: %s",
			    mf->first_problem ? mf->first_problem : "no presets");
	add_case(cs, t, NULL, NULL, NULL, false, strbuf_detach(&sb, NULL));
	strbuf_release(&what);
}

static int expand_test(const struct ktest *t, const struct gauntlet_opts *o, struct cases *cs,
		       struct strbuf *err)
{
	const char *perf = o->no_perf_mode && t->performance_mode ?
		"performance_mode test; skipped under KTSTR_NO_PERF_MODE / --no-perf-mode" : NULL;
	struct misfits mf = { NULL, NULL };
	const struct scenario *s = &t->scenario;	/* parsed by ktest_load */
	size_t i, before = cs->n, np;

	if (t->sched_param && !o->n_scheds) {
		strbuf_addf(err, "%s: $.scheduler: \"%s\" takes the scheduler from the "
			    "command line; give --scheduler NAME (twice for an A/B run)",
			    t->path, KTEST_SCHED_PLACEHOLDER);
		return -1;
	}
	preset_table(&np);
	for (i = 0; i < np; i++) {
		const struct preset *p = &presets[i];
		bool explicit = t->presets.n > 0, capacity;
		char *problem;

		if (explicit && !strvec_contains(&t->presets, p->name))
			continue;
		problem = preset_problem(t, s, p, o, &capacity);
		if (problem && !explicit) {
			note_misfit(&mf, p, problem, capacity);
			continue;
		}
		add_preset_cases(cs, t, p, o, problem ? problem : perf);
		free(problem);
	}
	if (cs->n == before)
		add_no_preset_case(cs, t, s, o, &mf);
	free(mf.first_problem);
	return 0;
}

static int cmp_case(const void *a, const void *b)
{
	const struct gcase *x = a, *y = b;

	return strcmp(x->full_name, y->full_name);
}

int gauntlet_expand(const struct ktest *tests, size_t ntests,
		    const struct gauntlet_opts *o, struct gcase **out, size_t *n,
		    struct strbuf *err)
{
	struct cases cs = { NULL, 0, 0 };
	size_t i, j;

	*out = NULL;
	*n = 0;
	for (i = 0; i < ntests; i++) {
		for (j = 0; j < tests[i].presets.n; j++) {
			if (!preset_find(tests[i].presets.v[j])) {
				size_t k, np;

				preset_table(&np);
				strbuf_addf(err, "%s: unknown preset '%s'; presets: ",
					    tests[i].path, tests[i].presets.v[j]);
				for (k = 0; k < np; k++)
					strbuf_addf(err, "%s%s", k ? ", " : "", presets[k].name);
				gauntlet_free(cs.v, cs.n);
				return -1;
			}
		}
		if (expand_test(&tests[i], o, &cs, err)) {
			gauntlet_free(cs.v, cs.n);
			return -1;
		}
	}
	if (cs.n > 1)
		qsort(cs.v, cs.n, sizeof(*cs.v), cmp_case);
	*out = cs.v;
	*n = cs.n;
	return 0;
}

const char *gcase_scheduler(const struct gcase *c)
{
	return c->sched ? c->sched->sched : c->test->scheduler;
}

void gcase_release(struct gcase *c)
{
	free(c->name);
	free(c->full_name);
	free(c->skip_reason);
}

void gauntlet_free(struct gcase *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gcase_release(&v[i]);
	free(v);
}

/* ---- selection -------------------------------------------------------- */

static bool matches(const char *s, const char *pattern, bool glob)
{
	return glob ? !fnmatch(pattern, s, 0) : strstr(s, pattern) != NULL;
}

size_t gauntlet_filter(struct gcase *v, size_t n, const char *pattern)
{
	bool glob = strpbrk(pattern, "*?[") != NULL;
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (matches(v[i].name, pattern, glob) || matches(v[i].full_name, pattern, glob))
			v[kept++] = v[i];
		else
			gcase_release(&v[i]);
	}
	return kept;
}

static bool parse_part(const char *s, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!len || len > 9)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return true;
}

int shard_parse(const char *s, unsigned *k, unsigned *n, struct strbuf *err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned long a, b;

	if (!slash || !parse_part(s, (size_t)(slash - s), &a) ||
	    !parse_part(slash + 1, strlen(slash + 1), &b)) {
		strbuf_addf(err, "--shard %s: expected K/N with whole numbers K and N, e.g. 1/3",
			    s ? s : "");
		return -1;
	}
	if (b < 1) {
		strbuf_addf(err, "--shard %s: N must be at least 1, e.g. 1/3", s);
		return -1;
	}
	if (a < 1 || a > b) {
		strbuf_addf(err, "--shard %s: K must be between 1 and N, e.g. 1/3", s);
		return -1;
	}
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

size_t gauntlet_shard(struct gcase *v, size_t n, unsigned k, unsigned of)
{
	size_t i, kept = 0;

	if (!of || !k || k > of)
		return n;
	for (i = 0; i < n; i++) {
		if (i % of == k - 1)
			v[kept++] = v[i];
		else
			gcase_release(&v[i]);
	}
	return kept;
}
