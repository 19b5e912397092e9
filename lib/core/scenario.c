/* Scenario documents: the top level of parsing and validation, checks,
 * release, and topology fit (ktstr-scenario(5)).  The parts of a document
 * have files of their own (scenario_work.c, scenario_cpuset.c,
 * scenario_cgroup.c, scenario_step.c, helpers in scenario_json.c).
 * Loading files and the quick --cgroup flags are in
 * lib/vm/scenario_file.c; these files need only jansson and libc so the
 * static guest agent can link them. */
#include "scenario_int.h"
#include "checktab.h"
#include "duration.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks ----------------------------------------------------------- */

/* Every threshold comes from the check table (checktab.h), so a new check
 * needs no code here. */

void checks_init(struct checks *c)
{
	const struct check_def *t;
	size_t i, n;

	memset(c, 0, sizeof(*c));
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT)
			*check_limit(c, &t[i]) = NAN;
		else if (t[i].kind == CHECK_SWITCH)
			*check_switch(c, &t[i]) = -1;
	}
}

void checks_overlay(struct checks *base, const struct checks *over)
{
	const struct check_def *t;
	size_t i, n;

	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT && !isnan(check_limit_get(over, &t[i])))
			*check_limit(base, &t[i]) = check_limit_get(over, &t[i]);
		else if (t[i].kind == CHECK_SWITCH && check_switch_get(over, &t[i]) != -1)
			*check_switch(base, &t[i]) = check_switch_get(over, &t[i]);
	}
}

void checks_effective(const struct checks *in, struct checks *out)
{
	const struct check_def *t;
	size_t i, n;

	checks_init(out);
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT)
			*check_limit(out, &t[i]) = t[i].def;
		else if (t[i].kind == CHECK_SWITCH)
			*check_switch(out, &t[i]) = t[i].def != 0;
	}
	checks_overlay(out, in);
}

/* ---- the document ----------------------------------------------------- */

static const char *const k_top[] = {
	"name", "description", "duration", "duration_ms", "duration_us", "requires",
	"checks", "cgroups", "steps", "payloads", NULL
};
static const char *const k_requires[] = { "min_llcs", "min_cpus", "min_nodes", "smt", NULL };

static int parse_requires(struct pctx *c, const json_t *v, struct requires *r)
{
	long long n;

	if (!json_is_object(v))
		return sp_perr(c, "must be an object such as {\"min_llcs\": 2}, got %s",
			       sp_show(c, v));
	if (sp_check_keys(c, v, k_requires, NULL))
		return -1;
	if (sp_get_whole(c, v, "min_llcs", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_llcs = (unsigned)n;
	if (sp_get_whole(c, v, "min_cpus", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_cpus = (unsigned)n;
	if (sp_get_whole(c, v, "min_nodes", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_nodes = (unsigned)n;
	return sp_get_bool(c, v, "smt", &r->smt);
}

/* One threshold of the checks object: d's key or an alias of it at key. */
static int parse_check(struct pctx *c, const json_t *v, const char *key,
		       const struct check_def *d, struct checks *k)
{
	const json_t *x = sp_get(v, key);
	struct strbuf want = STRBUF_INIT;
	int rc = 0;

	if (!x)
		return 0;
	if (d->kind == CHECK_SWITCH)
		return sp_get_bool(c, v, key, check_switch(k, d));
	if (json_is_string(x) && !strcmp(json_string_value(x), "off")) {
		*check_limit(k, d) = INFINITY;
		return 0;
	}
	if (!json_is_number(x) || !check_limit_valid(d, json_number_value(x))) {
		check_limit_expect(d, &want);
		rc = sp_perr_key(c, key, "must be %s or \"off\", got %s", want.buf, sp_show(c, x));
	} else {
		*check_limit(k, d) = json_number_value(x);
	}
	strbuf_release(&want);
	return rc;
}

/* The keys and their meaning come from the check table; each check may be
 * spelled by its key or an older alias (max_p99_wake_us), but only once. */
static int parse_checks(struct pctx *c, const json_t *v, struct checks *k)
{
	const char *key;
	json_t *x;

	if (!json_is_object(v))
		return sp_perr(c, "must be an object such as {\"max_spread_pct\": 20}, got %s",
			       sp_show(c, v));
	json_object_foreach((json_t *)v, key, x) {
		const struct check_def *d = checktab_find(key);
		const char *other;
		json_t *y;

		if (!d) {
			struct strbuf l = STRBUF_INIT;

			checktab_keys_join(&l);
			sp_perr_key(c, key, "unknown key; expected one of %s", l.buf);
			strbuf_release(&l);
			return -1;
		}
		json_object_foreach((json_t *)v, other, y) {
			if (other == key)
				break;
			if (checktab_find(other) == d)
				return sp_perr_key(c, key, "the same check as %s, given before it; "
						   "give one of them", other);
		}
		if (parse_check(c, v, key, d, k))
			return -1;
	}
	return 0;
}

static bool valid_scenario_name(const char *s)
{
	size_t n = strlen(s);

	return n && n <= MAX_SCENARIO_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int parse_cgroups(struct pctx *c, const json_t *arr, struct scenario *s)
{
	size_t i, m;

	if (!json_is_array(arr) || json_array_size(arr) > MAX_CGROUPS)
		return sp_perr_key(c, "cgroups", "must be an array of at most %d cgroups, got %s",
				   MAX_CGROUPS, sp_show(c, arr));
	s->n_cgroups = json_array_size(arr);
	s->cgroups = xcalloc(s->n_cgroups ? s->n_cgroups : 1, sizeof(*s->cgroups));
	m = sp_path_key(c, "cgroups");
	for (i = 0; i < s->n_cgroups; i++) {
		size_t m2 = sp_path_idx(c, i), j;
		int rc = sp_parse_cgroup(c, json_array_get(arr, i), &s->cgroups[i]);

		if (!rc) {
			char where[64] = "";
			size_t m3 = sp_path_key(c, "name");

			for (j = 0; j < i; j++)
				if (!strcmp(s->cgroups[j].name, s->cgroups[i].name))
					snprintf(where, sizeof(where),
						 "is already defined at $.cgroups[%zu]", j);
			rc = sp_sim_check_new(c, s->cgroups[i].name, where);
			sp_path_pop(c, m3);
		}
		sp_path_pop(c, m2);
		if (rc) {
			sp_path_pop(c, m);
			return -1;
		}
		sp_sim_add(c, &s->cgroups[i]);
	}
	sp_path_pop(c, m);
	return 0;
}

/* Top-level payloads, started at t=0 in the initial cgroups. */
static int parse_payloads(struct pctx *c, const json_t *arr, struct scenario *s)
{
	size_t i, m;
	int rc = 0;

	if (!json_is_array(arr) || json_array_size(arr) > PAYLOAD_MAX)
		return sp_perr_key(c, "payloads", "must be an array of at most %u payloads, "
				   "got %s", PAYLOAD_MAX, sp_show(c, arr));
	s->n_payloads = json_array_size(arr);
	s->payloads = xcalloc(s->n_payloads ? s->n_payloads : 1, sizeof(*s->payloads));
	m = sp_path_key(c, "payloads");
	for (i = 0; i < s->n_payloads && !rc; i++) {
		size_t m2 = sp_path_idx(c, i);

		rc = sp_parse_payload(c, json_array_get(arr, i), &s->payloads[i]) ||
		     sp_sim_payload_start(c, &s->payloads[i]) ? -1 : 0;
		sp_path_pop(c, m2);
	}
	sp_path_pop(c, m);
	return rc;
}

static int parse_steps(struct pctx *c, const json_t *arr, struct scenario *s)
{
	double sum = 0;
	size_t i, m;

	if (!json_is_array(arr) || json_array_size(arr) > MAX_STEPS)
		return sp_perr_key(c, "steps", "must be an array of at most %d steps, got %s",
				   MAX_STEPS, sp_show(c, arr));
	s->n_steps = json_array_size(arr);
	s->steps = xcalloc(s->n_steps ? s->n_steps : 1, sizeof(*s->steps));
	m = sp_path_key(c, "steps");
	for (i = 0; i < s->n_steps; i++) {
		size_t m2 = sp_path_idx(c, i);
		struct hold *h = &s->steps[i].hold;
		int rc;

		c->step = i;
		rc = sp_parse_step(c, json_array_get(arr, i), &s->steps[i],
				   1.0 / (double)s->n_steps, s->duration_ms);
		if (!rc) {
			sum += h->kind == HOLD_MS ? (double)h->ms / (double)s->duration_ms : h->frac;
			if (sum > 1 + FRAC_EPS) {
				size_t m3 = sp_path_key(c, "hold");

				sp_perr(c, "steps 0-%zu hold for %.0f ms in total, more than the "
					"duration (%llu ms); shorten the holds or raise duration",
					i, sum * (double)s->duration_ms, s->duration_ms);
				sp_path_pop(c, m3);
				rc = -1;
			}
		}
		sp_path_pop(c, m2);
		if (rc) {
			sp_path_pop(c, m);
			return -1;
		}
	}
	sp_path_pop(c, m);
	return 0;
}

static int parse_doc(struct pctx *c, const json_t *doc, struct scenario *s)
{
	const char *str;
	unsigned long long us;
	bool have;

	if (!json_is_object(doc))
		return sp_perr(c, "a scenario must be a JSON object, got %s", sp_show(c, doc));
	if (sp_check_keys(c, doc, k_top, NULL))
		return -1;
	if (sp_get_string(c, doc, "name", &str))
		return -1;
	if (str && !valid_scenario_name(str))
		return sp_perr_key(c, "name", "'%s' is not a valid scenario name; use 1 to %d "
				   "letters, digits, '_', '.' and '-'", str, MAX_SCENARIO_NAME);
	s->name = xstrdup(str ? str : "custom");
	if (sp_get_string(c, doc, "description", &str))
		return -1;
	s->description = xstrdup(str ? str : "");
	if (sp_get_duration_us(c, doc, "duration", KTSTR_MIN_DURATION_MS * 1000,
			       KTSTR_MAX_DURATION_MS * 1000, &us, &have))
		return -1;
	s->duration_ms = have ? (us + 500) / 1000 : 5000;
	if (sp_get(doc, "requires")) {
		size_t m = sp_path_key(c, "requires");
		int rc = parse_requires(c, sp_get(doc, "requires"), &s->req);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	if (sp_get(doc, "checks")) {
		size_t m = sp_path_key(c, "checks");
		int rc = parse_checks(c, sp_get(doc, "checks"), &s->checks);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	if (sp_get(doc, "cgroups") && parse_cgroups(c, sp_get(doc, "cgroups"), s))
		return -1;
	if (sp_get(doc, "payloads") && parse_payloads(c, sp_get(doc, "payloads"), s))
		return -1;
	if (sp_get(doc, "steps") && parse_steps(c, sp_get(doc, "steps"), s))
		return -1;
	if (!s->n_cgroups && !c->n_adds && !c->n_pl)
		return sp_perr_key(c, "cgroups", "no cgroups and no payloads; define at least "
				   "one cgroup here or add one with an {\"op\": \"add\"} "
				   "step, or run a payload");
	return sp_sim_payload_check_empty(c, s);
}

int scenario_parse(const json_t *doc, struct scenario *s, struct strbuf *err)
{
	struct pctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.path, 64);
	strbuf_addstr(&c.path, "$");
	c.err = err;
	memset(s, 0, sizeof(*s));
	checks_init(&s->checks);
	s->req.smt = -1;
	s->duration_ms = 5000;
	rc = parse_doc(&c, doc, s);
	if (rc) {
		scenario_release(s);
		checks_init(&s->checks);
		s->req.smt = -1;
	}
	free(c.live);
	free(c.gone);
	free(c.pl);
	strbuf_release(&c.path);
	return rc;
}

void scenario_release(struct scenario *s)
{
	size_t i, j;

	for (i = 0; i < s->n_cgroups; i++)
		sp_cgroup_release(&s->cgroups[i]);
	free(s->cgroups);
	for (i = 0; i < s->n_steps; i++) {
		for (j = 0; j < s->steps[i].n_ops; j++) {
			struct op *op = &s->steps[i].ops[j];

			free(op->cgroup);
			free(op->other);
			sp_cgroup_release(&op->def);
			sp_payload_release(&op->payload);
			free(op->cpuset.list);
		}
		free(s->steps[i].ops);
	}
	free(s->steps);
	for (i = 0; i < s->n_payloads; i++)
		sp_payload_release(&s->payloads[i]);
	free(s->payloads);
	free(s->name);
	free(s->description);
	memset(s, 0, sizeof(*s));
}

unsigned long long step_hold_ms(const struct scenario *s, size_t i)
{
	const struct hold *h;

	if (i >= s->n_steps)
		return 0;
	h = &s->steps[i].hold;
	if (h->kind == HOLD_MS)
		return h->ms;
	return (unsigned long long)llround(h->frac * (double)s->duration_ms);
}

/* ---- fitting a topology ----------------------------------------------- */

static const char *cpuset_key(enum cpuset_kind k)
{
	switch (k) {
	case CPUSET_LLC: return ".llc";
	case CPUSET_NODE: return ".node";
	case CPUSET_LIST: return ".cpus";
	case CPUSET_RANGE: return ".range";
	case CPUSET_DISJOINT: return ".disjoint";
	case CPUSET_OVERLAP: return ".overlap";
	default: return "";
	}
}

static int fit_cpuset(const struct cpuset_spec *cs, const struct ktstr_topo *t,
		      struct strbuf *why, struct strbuf *path)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int rc = 0;

	if (cs->kind != CPUSET_NONE && cpuset_resolve(cs, t, &out, &err)) {
		strbuf_addf(why, "%s%s: %s", path->buf, cpuset_key(cs->kind), err.buf);
		rc = -1;
	}
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_reset(path);
	return rc;
}

int scenario_fit(const struct scenario *s, const struct ktstr_topo *t, struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	unsigned ncpu = topo_cpus(t);
	size_t i, j;

	if (s->req.min_llcs > t->llcs) {
		strbuf_addf(why, "needs at least %u LLC%s, the VM has %u", s->req.min_llcs,
			    s->req.min_llcs == 1 ? "" : "s", t->llcs);
		return 1;
	}
	if (s->req.min_cpus > ncpu) {
		strbuf_addf(why, "needs at least %u CPU%s, the VM has %u", s->req.min_cpus,
			    s->req.min_cpus == 1 ? "" : "s", ncpu);
		return 1;
	}
	if (s->req.min_nodes > t->nodes) {
		strbuf_addf(why, "needs at least %u NUMA node%s, the VM has %u",
			    s->req.min_nodes, s->req.min_nodes == 1 ? "" : "s", t->nodes);
		return 1;
	}
	if (s->req.smt == 1 && t->threads < 2) {
		strbuf_addstr(why, "needs SMT (2 or more threads per core), the VM has 1 "
			      "thread per core");
		return 1;
	}
	if (s->req.smt == 0 && t->threads > 1) {
		strbuf_addf(why, "needs a VM without SMT, the VM has %u threads per core",
			    t->threads);
		return 1;
	}
	for (i = 0; i < s->n_cgroups; i++) {
		strbuf_addf(&path, "$.cgroups[%zu].cpuset", i);
		if (fit_cpuset(&s->cgroups[i].cpuset, t, why, &path))
			goto invalid;
	}
	for (i = 0; i < s->n_steps; i++) {
		for (j = 0; j < s->steps[i].n_ops; j++) {
			const struct op *op = &s->steps[i].ops[j];

			if (op->kind == OP_ADD) {
				strbuf_addf(&path, "$.steps[%zu].ops[%zu].cgroup.cpuset", i, j);
				if (fit_cpuset(&op->def.cpuset, t, why, &path))
					goto invalid;
			}
			if (op->kind == OP_SET_CPUSET || op->kind == OP_SET_AFFINITY) {
				strbuf_addf(&path, "$.steps[%zu].ops[%zu].cpuset", i, j);
				if (fit_cpuset(&op->cpuset, t, why, &path))
					goto invalid;
			}
		}
	}
	strbuf_release(&path);
	return 0;
invalid:
	strbuf_release(&path);
	return -1;
}

int scenario_duration_opt(const char *arg, unsigned long long *ms, struct strbuf *err)
{
	if (duration_parse_ms(arg, ms)) {
		strbuf_addf(err, "--duration '%s': expected a duration such as 5s or 1500ms", arg);
		return -1;
	}
	if (*ms < KTSTR_MIN_DURATION_MS) {
		strbuf_addf(err, "--duration '%s': must be at least 1s; a shorter run is too few "
			    "scheduler slices for the checks to mean anything", arg);
		return -1;
	}
	if (*ms > KTSTR_MAX_DURATION_MS) {
		strbuf_addf(err, "--duration '%s': must be at most 1h", arg);
		return -1;
	}
	return 0;
}

void scenario_doc_set_duration_ms(json_t *doc, unsigned long long ms)
{
	json_object_del(doc, "duration");
	json_object_del(doc, "duration_us");
	json_object_set_new(doc, "duration_ms", json_integer((json_int_t)ms));
}
