/* Payload definitions of a scenario (scenario.h, ktstr-scenario(5)
 * PAYLOADS): the program, its arguments and copies, the cgroup it runs
 * in, how its output becomes metrics, and its checks.  The simulated run
 * (scenario_cgroup.c) learns which payloads run when, so that a
 * stop_payload names one that runs and a remove never pulls a cgroup from
 * under a running payload. */
#include "scenario_int.h"
#include "payload.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAYLOAD_NAME 64
#define MAX_METRIC_NAME 128
#define MAX_ARG_LEN 4096

static const char *const k_payload[] = {
	"name", "program", "args", "cgroup", "cpuset", "copies", "metrics", "timeout",
	"timeout_ms", "timeout_us", "checks", NULL
};
static const char *const k_metrics[] = { "form", "patterns", "describe", NULL };
static const char *const k_pattern[] = { "regex", "metric", "unit", "better", NULL };
static const char *const k_describe[] = { "unit", "better", NULL };
static const char *const k_pchecks[] = { "exit_code", "max", "min", NULL };

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static bool valid_payload_name(const char *s)
{
	size_t n = strlen(s);

	return n && n <= MAX_PAYLOAD_NAME && strspn(s, NAME_CHARS) == n;
}

static bool valid_metric_name(const char *s)
{
	size_t n = strlen(s);

	return n && n <= MAX_METRIC_NAME && strspn(s, NAME_CHARS ".") == n;
}

/* The default name: the program's basename, other characters as '_'. */
static char *name_from_program(const char *program)
{
	const char *base = strrchr(program, '/');
	char *name = xstrndup(base ? base + 1 : program, MAX_PAYLOAD_NAME);
	char *p;

	for (p = name; *p; p++)
		if (!strchr(NAME_CHARS, *p))
			*p = '_';
	return name;
}

static int parse_better(struct pctx *c, const json_t *v, enum payload_better *b)
{
	const char *s;

	*b = BETTER_NONE;
	if (sp_get_string(c, v, "better", &s))
		return -1;
	if (s && payload_better_parse(s, b) < 0)
		return sp_perr_key(c, "better", "must be \"lower\", \"higher\" or \"none\", "
				   "got '%s'", s);
	return 0;
}

static int parse_unit(struct pctx *c, const json_t *v, char **unit)
{
	const char *s;

	if (sp_get_string(c, v, "unit", &s))
		return -1;
	if (s && strlen(s) > 32)
		return sp_perr_key(c, "unit", "at most 32 characters, got %zu", strlen(s));
	*unit = xstrdup(s ? s : "");
	return 0;
}

static int parse_metric_key(struct pctx *c, const char *name)
{
	if (!valid_metric_name(name))
		return sp_perr(c, "'%s' is not a metric name; use 1 to %d letters, digits, "
			       "'_', '-' and '.'", name, MAX_METRIC_NAME);
	return 0;
}

/* One {"regex", "metric", "unit", "better"} of the pattern form. */
static int parse_pattern(struct pctx *c, const json_t *v, struct payload_pattern *p)
{
	const char *re, *metric;
	regex_t rx;
	int rc;

	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"regex\": ..., \"metric\": ...}, got %s",
			       sp_show(c, v));
	if (sp_check_keys(c, v, k_pattern, " for a pattern"))
		return -1;
	if (sp_get_string(c, v, "regex", &re) || sp_get_string(c, v, "metric", &metric))
		return -1;
	if (!re)
		return sp_perr_key(c, "regex", "missing; expected a POSIX extended regular "
				   "expression whose first group is the value, e.g. "
				   "\"p99: ([0-9.]+)\"");
	if (!metric)
		return sp_perr_key(c, "metric", "missing; expected the metric's name");
	{
		size_t m = sp_path_key(c, "metric");

		rc = parse_metric_key(c, metric);
		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	rc = regcomp(&rx, re, REG_EXTENDED);
	if (rc) {
		char msg[128];

		regerror(rc, &rx, msg, sizeof(msg));
		return sp_perr_key(c, "regex", "'%s' is not a valid extended regular "
				   "expression: %s", re, msg);
	}
	rc = rx.re_nsub < 1;
	regfree(&rx);
	if (rc)
		return sp_perr_key(c, "regex", "'%s' has no group; put the value in "
				   "parentheses, e.g. \"p99: ([0-9.]+)\"", re);
	p->regex = xstrdup(re);
	p->metric = xstrdup(metric);
	return parse_unit(c, v, &p->unit) || parse_better(c, v, &p->better) ? -1 : 0;
}

static int parse_patterns(struct pctx *c, const json_t *v, struct payload_def *d)
{
	size_t i, m = sp_path_key(c, "patterns");
	int rc = 0;

	if (!json_is_array(v) || !json_array_size(v) ||
	    json_array_size(v) > PAYLOAD_MAX_PATTERNS) {
		rc = sp_perr(c, "must be an array of 1 to %u patterns, got %s",
			     PAYLOAD_MAX_PATTERNS, sp_show(c, v));
		goto out;
	}
	d->n_patterns = json_array_size(v);
	d->patterns = xcalloc(d->n_patterns, sizeof(*d->patterns));
	for (i = 0; i < d->n_patterns && !rc; i++) {
		size_t m2 = sp_path_idx(c, i);

		rc = parse_pattern(c, json_array_get(v, i), &d->patterns[i]);
		sp_path_pop(c, m2);
	}
out:
	sp_path_pop(c, m);
	return rc;
}

static int parse_describe(struct pctx *c, const json_t *v, struct payload_def *d)
{
	size_t m = sp_path_key(c, "describe"), i = 0;
	const char *key;
	json_t *x;
	int rc = 0;

	if (!json_is_object(v)) {
		rc = sp_perr(c, "must be an object {\"METRIC\": {\"unit\": \"us\", \"better\": "
			     "\"lower\"}}, got %s", sp_show(c, v));
		goto out;
	}
	d->describe = xcalloc(json_object_size(v) + 1, sizeof(*d->describe));
	json_object_foreach((json_t *)v, key, x) {
		struct payload_describe *e = &d->describe[i];
		size_t m2 = sp_path_key(c, key);

		rc = parse_metric_key(c, key);
		if (!rc && !json_is_object(x))
			rc = sp_perr(c, "must be an object {\"unit\": ..., \"better\": ...}, "
				     "got %s", sp_show(c, x));
		if (!rc)
			rc = sp_check_keys(c, x, k_describe, " for a metric description");
		if (!rc) {
			e->metric = xstrdup(key);
			d->n_describe = ++i;
			rc = parse_unit(c, x, &e->unit) || parse_better(c, x, &e->better);
		}
		sp_path_pop(c, m2);
		if (rc)
			break;
	}
out:
	sp_path_pop(c, m);
	return rc;
}

static int check_form(struct pctx *c, const char *form, const char *key)
{
	struct strbuf l = STRBUF_INIT;

	if (!strcmp(form, "exit_code") || !strcmp(form, "json") || !strcmp(form, "pattern") ||
	    payload_adapter_find(form))
		return 0;
	payload_form_list(&l);
	sp_perr_key(c, key, "unknown form or adapter '%s'; expected one of %s", form, l.buf);
	strbuf_release(&l);
	return -1;
}

/* "metrics": a form name, or {"form", "patterns", "describe"}. */
static int parse_metrics(struct pctx *c, const json_t *v, struct payload_def *d)
{
	const char *form;
	size_t m;
	int rc;

	if (!v) {
		d->form = xstrdup(payload_default_form(d->program));
		return 0;
	}
	if (json_is_string(v)) {
		form = json_string_value(v);
		if (!strcmp(form, "pattern"))
			return sp_perr_key(c, "metrics", "the pattern form needs its patterns: "
					   "{\"form\": \"pattern\", \"patterns\": [{\"regex\": "
					   "..., \"metric\": ...}]}");
		if (check_form(c, form, "metrics"))
			return -1;
		d->form = xstrdup(form);
		return 0;
	}
	if (!json_is_object(v))
		return sp_perr_key(c, "metrics", "must be a form name or an object {\"form\": "
				   "..., \"patterns\": [...]}, got %s", sp_show(c, v));
	m = sp_path_key(c, "metrics");
	rc = sp_check_keys(c, v, k_metrics, " for metrics") ||
	     sp_get_string(c, v, "form", &form) ? -1 : 0;
	if (!rc && !form)
		rc = sp_perr_key(c, "form", "missing; expected json or pattern");
	else if (!rc && strcmp(form, "json") && strcmp(form, "pattern"))
		rc = sp_perr_key(c, "form", "the object form is for json and pattern; give "
				 "'%s' as a plain string: \"metrics\": \"%s\"", form, form);
	if (!rc) {
		d->form = xstrdup(form);
		if (!strcmp(form, "pattern"))
			rc = parse_patterns(c, sp_get(v, "patterns"), d);
		else if (sp_get(v, "patterns"))
			rc = sp_perr_key(c, "patterns", "only for the pattern form");
	}
	if (!rc && sp_get(v, "describe"))
		rc = parse_describe(c, sp_get(v, "describe"), d);
	sp_path_pop(c, m);
	return rc;
}

static int parse_limits(struct pctx *c, const json_t *v, const char *key,
			struct payload_limit **out, size_t *n)
{
	size_t m = sp_path_key(c, key);
	const char *metric;
	json_t *x;
	int rc = 0;

	if (!json_is_object(v)) {
		rc = sp_perr(c, "must be an object {\"METRIC\": number}, got %s", sp_show(c, v));
		goto out;
	}
	*out = xcalloc(json_object_size(v) + 1, sizeof(**out));
	json_object_foreach((json_t *)v, metric, x) {
		size_t m2 = sp_path_key(c, metric);

		rc = parse_metric_key(c, metric);
		if (!rc && (!json_is_number(x) || !isfinite(json_number_value(x))))
			rc = sp_perr(c, "must be a number, got %s", sp_show(c, x));
		if (!rc) {
			(*out)[*n].metric = xstrdup(metric);
			(*out)[(*n)++].value = json_number_value(x);
		}
		sp_path_pop(c, m2);
		if (rc)
			break;
	}
out:
	sp_path_pop(c, m);
	return rc;
}

/* "checks": {"exit_code": N or "any", "max": {...}, "min": {...}}. */
static int parse_pchecks(struct pctx *c, const json_t *v, struct payload_def *d)
{
	const json_t *ec;
	long long n;

	d->expect_exit = 0;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return sp_perr_key(c, "checks", "must be an object {\"exit_code\": 0, \"max\": "
				   "{...}, \"min\": {...}}, got %s", sp_show(c, v));
	{
		size_t m = sp_path_key(c, "checks");
		int rc = sp_check_keys(c, v, k_pchecks, " for payload checks");

		ec = sp_get(v, "exit_code");
		if (!rc && ec && json_is_string(ec) && !strcmp(json_string_value(ec), "any"))
			d->expect_exit = -1;
		else if (!rc && !sp_get_whole(c, v, "exit_code", 0, 255, 0, &n))
			d->expect_exit = (int)n;
		else if (!rc)
			rc = -1;
		if (!rc && sp_get(v, "max"))
			rc = parse_limits(c, sp_get(v, "max"), "max", &d->max, &d->n_max);
		if (!rc && sp_get(v, "min"))
			rc = parse_limits(c, sp_get(v, "min"), "min", &d->min, &d->n_min);
		sp_path_pop(c, m);
		return rc;
	}
}

static int parse_args(struct pctx *c, const json_t *v, struct payload_def *d)
{
	const struct payload_adapter *a = payload_adapter_find(d->form);
	size_t i, n;

	if (!v) {
		const char *const *def = a ? a->default_args : NULL;

		for (n = 0; def && def[n]; n++)
			;
		d->args = xcalloc(n + 1, sizeof(*d->args));
		for (i = 0; i < n; i++)
			d->args[i] = xstrdup(def[i]);
		d->n_args = n;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > PAYLOAD_MAX_ARGS)
		return sp_perr_key(c, "args", "must be an array of at most %u strings, got %s",
				   PAYLOAD_MAX_ARGS, sp_show(c, v));
	d->args_given = true;
	n = json_array_size(v);
	d->args = xcalloc(n + 1, sizeof(*d->args));
	for (i = 0; i < n; i++) {
		const json_t *x = json_array_get(v, i);

		if (!json_is_string(x) || strlen(json_string_value(x)) > MAX_ARG_LEN) {
			size_t m = sp_path_key(c, "args");

			sp_path_idx(c, i);
			sp_perr(c, "must be a string of at most %d bytes, got %s", MAX_ARG_LEN,
				sp_show(c, x));
			sp_path_pop(c, m);
			return -1;
		}
		d->args[i] = xstrdup(json_string_value(x));
		d->n_args = i + 1;
	}
	return 0;
}

static int parse_where(struct pctx *c, const json_t *v, struct payload_def *d)
{
	const char *cg;
	unsigned long long us;
	bool have;
	long long n;

	if (sp_get_string(c, v, "cgroup", &cg))
		return -1;
	d->own_cgroup = !cg;
	d->cgroup = xstrdup(cg ? cg : d->name);
	if (cg && sp_get(v, "cpuset"))
		return sp_perr_key(c, "cpuset", "only for a payload in a cgroup of its own; "
				   "set the cpuset of cgroup '%s' instead", cg);
	{
		size_t m = sp_path_key(c, "cpuset");
		int rc = sp_parse_cpuset(c, sp_get(v, "cpuset"), &d->cpuset, NULL);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	if (sp_get_whole(c, v, "copies", 1, PAYLOAD_MAX_COPIES, 1, &n))
		return -1;
	d->copies = (unsigned)n;
	if (sp_get_duration_us(c, v, "timeout", 1000, KTSTR_MAX_DURATION_MS * 1000, &us, &have))
		return -1;
	d->timeout_ms = have ? (us + 500) / 1000 : 0;
	return 0;
}

int sp_parse_payload(struct pctx *c, const json_t *v, struct payload_def *d)
{
	const char *program, *name;

	memset(d, 0, sizeof(*d));
	d->expect_exit = 0;
	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"program\": ..., \"args\": [...], ...}, "
			       "got %s", sp_show(c, v));
	if (sp_check_keys(c, v, k_payload, " for a payload"))
		return -1;
	if (sp_get_string(c, v, "program", &program) || sp_get_string(c, v, "name", &name))
		return -1;
	if (!program || !*program || strlen(program) > MAX_ARG_LEN)
		return sp_perr_key(c, "program", "missing or empty; expected the program to run, "
				   "a name such as \"cyclictest\" or a path");
	d->program = xstrdup(program);
	if (name && !valid_payload_name(name))
		return sp_perr_key(c, "name", "'%s' is not a valid payload name; use 1 to %d "
				   "letters, digits, '_' and '-'", name, MAX_PAYLOAD_NAME);
	d->name = name ? xstrdup(name) : name_from_program(program);
	if (!*d->name)
		return sp_perr_key(c, "program", "'%s' has no file name to name the payload "
				   "after; give \"name\"", program);
	if (parse_where(c, v, d) || parse_metrics(c, sp_get(v, "metrics"), d) ||
	    parse_args(c, sp_get(v, "args"), d))
		return -1;
	return parse_pchecks(c, sp_get(v, "checks"), d);
}

static void free_patterns(struct payload_def *d)
{
	size_t i;

	for (i = 0; i < d->n_patterns; i++) {
		free(d->patterns[i].regex);
		free(d->patterns[i].metric);
		free(d->patterns[i].unit);
	}
	free(d->patterns);
	for (i = 0; i < d->n_describe; i++) {
		free(d->describe[i].metric);
		free(d->describe[i].unit);
	}
	free(d->describe);
}

void sp_payload_release(struct payload_def *d)
{
	size_t i;

	free(d->name);
	free(d->program);
	for (i = 0; i < d->n_args; i++)
		free(d->args[i]);
	free(d->args);
	free(d->cgroup);
	free(d->cpuset.list);
	free(d->form);
	free_patterns(d);
	for (i = 0; i < d->n_max; i++)
		free(d->max[i].metric);
	free(d->max);
	for (i = 0; i < d->n_min; i++)
		free(d->min[i].metric);
	free(d->min);
	memset(d, 0, sizeof(*d));
}

/* ---- the simulated run ------------------------------------------------- */

static struct plive *plive_find(struct pctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_pl; i++)
		if (!strcmp(c->pl[i].name, name))
			return &c->pl[i];
	return NULL;
}

/* The own cgroup of a payload: a live cgroup that ops cannot act on. */
static const struct cgroup_def own_cgroup_def = { .name = NULL, .workers = 0 };

int sp_sim_payload_start(struct pctx *c, const struct payload_def *d)
{
	struct plive *p;
	struct live *l = NULL;
	size_t m = sp_path_key(c, "name");
	int rc = 0;

	if (plive_find(c, d->name))
		rc = sp_perr(c, "payload '%s' is defined twice; payload names are unique "
			     "over the whole run", d->name);
	sp_path_pop(c, m);
	if (rc)
		return -1;
	if (d->own_cgroup) {
		m = sp_path_key(c, "name");
		rc = sp_sim_check_new(c, d->name, "already exists; a payload without "
				      "\"cgroup\" gets a cgroup of its own named like it, so "
				      "rename the payload or give it \"cgroup\"");
		sp_path_pop(c, m);
		if (rc)
			return -1;
		sp_sim_add(c, &own_cgroup_def);
		c->live[c->n_live - 1].name = d->name;
		c->live[c->n_live - 1].own_payload = true;
	} else {
		json_t *ref = json_pack("{ss}", "cgroup", d->cgroup);

		rc = sp_sim_ref(c, ref, "cgroup", &l);
		json_decref(ref);
		if (rc)
			return -1;
	}
	if (c->n_pl == c->alloc_pl) {
		c->alloc_pl = c->alloc_pl ? 2 * c->alloc_pl : 8;
		c->pl = xrealloc(c->pl, c->alloc_pl * sizeof(*c->pl));
	}
	p = &c->pl[c->n_pl++];
	p->name = d->name;
	p->cgroup = d->cgroup;
	p->own = d->own_cgroup;
	p->running = true;
	if (c->n_pl > PAYLOAD_MAX)
		return sp_perr(c, "more than %u payloads in one scenario", PAYLOAD_MAX);
	return 0;
}

/* stop_payload: the value at key names a running payload; its own cgroup
 * goes with it. */
int sp_sim_payload_stop(struct pctx *c, const json_t *op, const char *key,
			const struct plive **out)
{
	const json_t *v = sp_get(op, key);
	struct plive *p;
	struct strbuf l = STRBUF_INIT;
	size_t i;

	if (!v || !json_is_string(v))
		return sp_perr_key(c, key, "must be the name of a running payload, got %s",
				   v ? sp_show(c, v) : "nothing");
	p = plive_find(c, json_string_value(v));
	if (p && p->running) {
		p->running = false;
		*out = p;
		for (i = 0; p->own && i < c->n_live; i++)
			if (c->live[i].own_payload && !strcmp(c->live[i].name, p->name)) {
				sp_sim_remove(c, &c->live[i]);
				break;
			}
		return 0;
	}
	for (i = 0; i < c->n_pl; i++)
		if (c->pl[i].running)
			strbuf_addf(&l, "%s%s", l.len ? ", " : "", c->pl[i].name);
	sp_perr_key(c, key, "no payload '%s' runs at step %zu (running: %s)",
		    json_string_value(v), c->step, l.len ? l.buf : "none");
	strbuf_release(&l);
	return -1;
}

/* A remove op on cgroup name: no payload may still run there. */
int sp_sim_payload_check_remove(struct pctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_pl; i++)
		if (c->pl[i].running && !strcmp(c->pl[i].cgroup, name))
			return sp_perr_key(c, "cgroup", "payload '%s' runs in cgroup '%s'; "
					   "stop it first with {\"op\": \"stop_payload\", "
					   "\"payload\": \"%s\"}", c->pl[i].name, name,
					   c->pl[i].name);
	return 0;
}

/* A cgroup without workers exists only for payloads: one must run there.
 * Called at the end, with c's path at the root (an error extends it). */
int sp_sim_payload_check_empty(struct pctx *c, const struct scenario *s)
{
	size_t i, j, k;

	for (i = 0; i < s->n_cgroups; i++) {
		const struct cgroup_def *d = &s->cgroups[i];
		bool used = false;

		for (j = 0; j < c->n_pl && !used; j++)
			used = !c->pl[j].own && !strcmp(c->pl[j].cgroup, d->name);
		if (!d->workers && !used) {
			sp_path_key(c, "cgroups");
			sp_path_idx(c, i);
			sp_path_key(c, "workers");
			return sp_perr(c, "0 workers, and no payload runs in cgroup '%s'; give "
				       "it workers or a payload with \"cgroup\": \"%s\"",
				       d->name, d->name);
		}
	}
	for (i = 0; i < s->n_steps; i++)
		for (j = 0; j < s->steps[i].n_ops; j++) {
			const struct op *op = &s->steps[i].ops[j];
			bool used = false;

			if (op->kind != OP_ADD || op->def.workers)
				continue;
			for (k = 0; k < c->n_pl && !used; k++)
				used = !c->pl[k].own && !strcmp(c->pl[k].cgroup, op->def.name);
			if (!used) {
				sp_path_key(c, "steps");
				sp_path_idx(c, i);
				sp_path_key(c, "ops");
				sp_path_idx(c, j);
				sp_path_key(c, "cgroup");
				sp_path_key(c, "workers");
				return sp_perr(c, "0 workers, and no payload runs in cgroup '%s'; "
					       "give it workers or a payload", op->def.name);
			}
		}
	return 0;
}
