/* Cgroup definitions of a scenario, and the simulated run that checks
 * every op names a cgroup that exists at its step. */
#include "scenario_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const policy_names[] = {
	[POLICY_NORMAL] = "normal",
	[POLICY_BATCH] = "batch",
	[POLICY_IDLE] = "idle",
	[POLICY_FIFO] = "fifo",
	[POLICY_RR] = "rr",
	NULL,
};

const char *sched_policy_name(enum sched_policy p)
{
	return (unsigned)p < ARRAY_SIZE(policy_names) - 1 ? policy_names[p] : "?";
}

/* ---- cgroups ---------------------------------------------------------- */

static const char *const k_cgroup[] = {
	"name", "workers", "work", "cpuset", "policy", "rt_priority", "nice",
	"pinned", "background", NULL
};

static bool valid_cgroup_name(const char *name)
{
	const char *p = name;

	if (!*name || strlen(name) > MAX_NAME)
		return false;
	for (;;) {
		size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_.-");

		if (!len || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (!*p)
			return true;
		if (*p != '/')
			return false;
		p++;
	}
}

int sp_parse_cgroup(struct pctx *c, const json_t *v, struct cgroup_def *d)
{
	const char *name, *pol;
	long long n;
	int b;

	memset(d, 0, sizeof(*d));
	sp_work_defaults(WORK_SPIN_WAIT, &d->work);
	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"name\": ..., \"workers\": ..., ...}, "
			       "got %s", sp_show(c, v));
	if (sp_check_keys(c, v, k_cgroup, " for a cgroup"))
		return -1;
	if (!sp_get(v, "name"))
		return sp_perr_key(c, "name", "missing; every cgroup needs a name such as "
				   "\"cg_0\"");
	if (sp_get_string(c, v, "name", &name))
		return -1;
	if (!valid_cgroup_name(name))
		return sp_perr_key(c, "name", "'%s' is not a valid cgroup name; use up to %d of "
				   "letters, digits, '_', '.' and '-', with '/' between nested "
				   "levels (no empty, '.' or '..' levels)", name, MAX_NAME);
	d->name = xstrdup(name);
	/* 0 only for a cgroup that payloads run in (checked at the end). */
	if (sp_get_whole(c, v, "workers", 0, KTSTR_MAX_WORKERS, 1, &n))
		return -1;
	d->workers = (unsigned)n;
	{
		size_t m = sp_path_key(c, "work");
		int rc = sp_parse_work(c, sp_get(v, "work"), &d->work);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	{
		size_t m = sp_path_key(c, "workers");
		int rc = sp_check_group(c, &d->work, "workers", d->workers);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	{
		size_t m = sp_path_key(c, "cpuset");
		int rc = sp_parse_cpuset(c, json_object_get(v, "cpuset"), &d->cpuset, NULL);

		sp_path_pop(c, m);
		if (rc)
			return -1;
	}
	if (sp_get_string(c, v, "policy", &pol))
		return -1;
	d->policy = POLICY_NORMAL;
	if (pol) {
		int i = sp_list_index(policy_names, pol);

		if (i < 0) {
			struct strbuf l = STRBUF_INIT;

			sp_list_join(policy_names, &l);
			sp_perr_key(c, "policy", "unknown policy '%s'; expected one of %s", pol,
				    l.buf);
			strbuf_release(&l);
			return -1;
		}
		d->policy = (enum sched_policy)i;
	}
	if (d->policy == POLICY_FIFO || d->policy == POLICY_RR) {
		if (sp_get_whole(c, v, "rt_priority", 1, 99, 1, &n))
			return -1;
		d->rt_priority = (int)n;
		if (sp_get(v, "nice"))
			return sp_perr_key(c, "nice", "does not apply to policy %s, which uses "
					   "rt_priority", policy_names[d->policy]);
	} else {
		if (sp_get(v, "rt_priority"))
			return sp_perr_key(c, "rt_priority", "only applies to policy fifo or rr, "
					   "not %s", policy_names[d->policy]);
		if (sp_get_whole(c, v, "nice", -20, 19, 0, &n))
			return -1;
		d->nice = (int)n;
	}
	b = 0;
	if (sp_get_bool(c, v, "pinned", &b))
		return -1;
	d->pinned = b;
	b = 0;
	if (sp_get_bool(c, v, "background", &b))
		return -1;
	d->background = b;
	return 0;
}

void sp_cgroup_release(struct cgroup_def *d)
{
	free(d->name);
	free(d->work.phases);
	free(d->cpuset.list);
	memset(d, 0, sizeof(*d));
}

/* ---- simulation of the run -------------------------------------------- */

static struct live *sim_find(struct pctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_live; i++)
		if (!strcmp(c->live[i].name, name))
			return &c->live[i];
	return NULL;
}

/* a is a strict ancestor of b ("outer" of "outer/a"). */
static bool is_ancestor(const char *a, const char *b)
{
	size_t la = strlen(a);

	return strlen(b) > la && !strncmp(a, b, la) && b[la] == '/';
}

/* At c's path (the name): name can join the live cgroups. */
int sp_sim_check_new(struct pctx *c, const char *name, const char *dup_where)
{
	size_t i;

	if (sim_find(c, name))
		return sp_perr(c, "cgroup '%s' %s", name, dup_where);
	for (i = 0; i < c->n_live; i++) {
		const char *o = c->live[i].name;

		if (is_ancestor(o, name) || is_ancestor(name, o))
			return sp_perr(c, "cgroup '%s' would be %s cgroup '%s'; only leaf cgroups "
				       "can hold workers, so give nested cgroups a parent that "
				       "is not itself a cgroup here (e.g. \"outer/a\" and "
				       "\"outer/b\")",
				       name, is_ancestor(o, name) ? "inside" : "the parent of", o);
	}
	return 0;
}

void sp_sim_add(struct pctx *c, const struct cgroup_def *d)
{
	if (c->n_live == c->alloc_live) {
		c->alloc_live = c->alloc_live ? 2 * c->alloc_live : 16;
		c->live = xrealloc(c->live, c->alloc_live * sizeof(*c->live));
	}
	c->live[c->n_live].name = d->name;
	c->live[c->n_live].def = d;
	c->live[c->n_live].stopped_at = -1;
	c->live[c->n_live].own_payload = false;
	c->n_live++;
}

void sp_sim_remove(struct pctx *c, struct live *l)
{
	if (c->n_gone == c->alloc_gone) {
		c->alloc_gone = c->alloc_gone ? 2 * c->alloc_gone : 16;
		c->gone = xrealloc(c->gone, c->alloc_gone * sizeof(*c->gone));
	}
	c->gone[c->n_gone].name = l->name;
	c->gone[c->n_gone].step = c->step;
	c->n_gone++;
	*l = c->live[--c->n_live];
}

/* The value at key names a live cgroup; at c's path. */
int sp_sim_ref(struct pctx *c, const json_t *op, const char *key, struct live **out)
{
	const json_t *v = sp_get(op, key);
	struct strbuf l = STRBUF_INIT;
	const char *name;
	size_t i;

	if (!v)
		return sp_perr_key(c, key, "missing; expected the name of a cgroup");
	if (!json_is_string(v))
		return sp_perr_key(c, key, "must be a cgroup name (a string), got %s",
				   sp_show(c, v));
	name = json_string_value(v);
	*out = sim_find(c, name);
	if (*out && (*out)->own_payload)
		return sp_perr_key(c, key, "cgroup '%s' is payload %s's own cgroup, which only "
				   "it can use; give the payload \"cgroup\" naming a cgroup of "
				   "the scenario to act on it", name, name);
	if (*out)
		return 0;
	for (i = 0; i < c->n_live; i++)
		strbuf_addf(&l, "%s%s", i ? ", " : "", c->live[i].name);
	if (!l.len)
		strbuf_addstr(&l, "none");
	for (i = c->n_gone; i-- > 0;) {
		if (!strcmp(c->gone[i].name, name)) {
			sp_perr_key(c, key, "no cgroup '%s' exists at step %zu: it was removed at "
				    "step %zu (defined: %s)", name, c->step, c->gone[i].step,
				    l.buf);
			strbuf_release(&l);
			return -1;
		}
	}
	sp_perr_key(c, key, "no cgroup '%s' exists at step %zu (defined: %s)", name, c->step,
		    l.buf);
	strbuf_release(&l);
	return -1;
}
