/* Steps of a scenario: their ops and how long each holds. */
#include "scenario_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
	[OP_ADD] = "add",
	[OP_REMOVE] = "remove",
	[OP_STOP] = "stop",
	[OP_SET_CPUSET] = "set_cpuset",
	[OP_CLEAR_CPUSET] = "clear_cpuset",
	[OP_SWAP_CPUSETS] = "swap_cpusets",
	[OP_SET_AFFINITY] = "set_affinity",
	[OP_MOVE_TASKS] = "move_tasks",
	[OP_SPAWN] = "spawn",
	[OP_START_PAYLOAD] = "start_payload",
	[OP_STOP_PAYLOAD] = "stop_payload",
	NULL,
};

const char *op_kind_name(enum op_kind k)
{
	return (unsigned)k < ARRAY_SIZE(op_names) - 1 ? op_names[k] : "?";
}

/* ---- ops, holds, steps ------------------------------------------------ */

static const char *const k_op_cg[] = { "op", "cgroup", NULL };
static const char *const k_op_cpuset[] = { "op", "cgroup", "cpuset", NULL };
static const char *const k_op_swap[] = { "op", "cgroup", "with", NULL };
static const char *const k_op_move[] = { "op", "cgroup", "to", "count", NULL };
static const char *const k_op_spawn[] = { "op", "cgroup", "count", NULL };
static const char *const k_op_payload[] = { "op", "payload", NULL };

static const char *const *op_keys(enum op_kind k)
{
	switch (k) {
	case OP_SET_CPUSET: case OP_SET_AFFINITY: return k_op_cpuset;
	case OP_SWAP_CPUSETS: return k_op_swap;
	case OP_MOVE_TASKS: return k_op_move;
	case OP_SPAWN: return k_op_spawn;
	case OP_START_PAYLOAD: case OP_STOP_PAYLOAD: return k_op_payload;
	default: return k_op_cg;
	}
}

/* The "op" field of v: a known op name. */
static int parse_op_kind(struct pctx *c, const json_t *v, enum op_kind *kind)
{
	const json_t *o = sp_get(v, "op");
	struct strbuf l = STRBUF_INIT;
	int k = -1;

	if (o && json_is_string(o))
		k = sp_list_index(op_names, json_string_value(o));
	if (k >= 0) {
		*kind = (enum op_kind)k;
		return 0;
	}
	sp_list_join(op_names, &l);
	if (!o)
		sp_perr_key(c, "op", "missing; expected one of %s", l.buf);
	else if (!json_is_string(o))
		sp_perr_key(c, "op", "must be one of %s, got %s", l.buf, sp_show(c, o));
	else
		sp_perr_key(c, "op", "unknown op '%s'; expected one of %s",
			    json_string_value(o), l.buf);
	strbuf_release(&l);
	return -1;
}

/* add: a whole cgroup definition, new at this step. */
static int parse_op_add(struct pctx *c, const json_t *v, struct op *op)
{
	const json_t *def = sp_get(v, "cgroup");
	size_t m;
	int rc;

	if (!def)
		return sp_perr_key(c, "cgroup", "missing; expected a cgroup definition "
				   "{\"name\": ..., ...}");
	m = sp_path_key(c, "cgroup");
	rc = sp_parse_cgroup(c, def, &op->def);
	if (!rc) {
		char where[48];
		size_t m2 = sp_path_key(c, "name");

		snprintf(where, sizeof(where), "already exists at step %zu", c->step);
		rc = sp_sim_check_new(c, op->def.name, where);
		sp_path_pop(c, m2);
	}
	sp_path_pop(c, m);
	if (rc)
		return -1;
	op->cgroup = xstrdup(op->def.name);
	sp_sim_add(c, &op->def);
	c->n_adds++;
	return 0;
}

/* start_payload: a whole payload definition; stop_payload: the name of a
 * running one.  op->cgroup is where it runs, for the stimulus record. */
static int parse_op_payload(struct pctx *c, const json_t *v, struct op *op)
{
	const struct plive *p;
	size_t m;
	int rc;

	if (op->kind == OP_STOP_PAYLOAD) {
		if (sp_sim_payload_stop(c, v, "payload", &p))
			return -1;
		op->payload.name = xstrdup(p->name);
		op->cgroup = xstrdup(p->cgroup);
		return 0;
	}
	if (!sp_get(v, "payload"))
		return sp_perr_key(c, "payload", "missing; expected a payload definition "
				   "{\"program\": ..., ...}");
	m = sp_path_key(c, "payload");
	rc = sp_parse_payload(c, sp_get(v, "payload"), &op->payload) ||
	     sp_sim_payload_start(c, &op->payload) ? -1 : 0;
	sp_path_pop(c, m);
	if (!rc)
		op->cgroup = xstrdup(op->payload.cgroup);
	return rc;
}

/* set_cpuset, set_affinity: a cpuset that is not null. */
static int parse_op_cpuset(struct pctx *c, const json_t *v, struct op *op)
{
	size_t m = sp_path_key(c, "cpuset");
	int rc = sp_parse_cpuset(c, sp_get(v, "cpuset"), &op->cpuset,
				 op->kind == OP_SET_CPUSET ?
				 "; use clear_cpuset to remove a cpuset" : "");

	sp_path_pop(c, m);
	return rc;
}

/* swap_cpusets (with), move_tasks (to, count): a second live cgroup. */
static int parse_op_pair(struct pctx *c, const json_t *v, struct op *op, struct live *a)
{
	const char *key = op->kind == OP_SWAP_CPUSETS ? "with" : "to";
	struct live *b = NULL;
	long long n;

	if (sp_sim_ref(c, v, key, &b))
		return -1;
	if (a == b)
		return sp_perr_key(c, key, "must name a different cgroup than cgroup ('%s')",
				   a->name);
	op->other = xstrdup(b->name);
	if (op->kind != OP_MOVE_TASKS)
		return 0;
	if (sp_get_whole(c, v, "count", 0, KTSTR_MAX_WORKERS, 0, &n))
		return -1;
	op->count = (unsigned)n;
	if (a->stopped_at >= 0)
		return sp_perr_key(c, "cgroup", "cgroup '%s' was stopped at step %ld and has "
				   "no workers to move", a->name, a->stopped_at);
	return 0;
}

/* spawn: count more workers, in a's grouping; a runs again. */
static int parse_op_spawn(struct pctx *c, const json_t *v, struct op *op, struct live *a)
{
	long long n;
	size_t m;
	int rc;

	if (sp_get_whole(c, v, "count", 1, KTSTR_MAX_WORKERS, 1, &n))
		return -1;
	op->count = (unsigned)n;
	m = sp_path_key(c, "count");
	rc = sp_check_group(c, &a->def->work, "count", n);
	sp_path_pop(c, m);
	if (rc)
		return -1;
	a->stopped_at = -1;
	return 0;
}

/* The ops other than add act on a live cgroup, a. */
static int parse_op_on(struct pctx *c, const json_t *v, struct op *op, struct live *a)
{
	switch (op->kind) {
	case OP_REMOVE:
		if (sp_sim_payload_check_remove(c, a->name))
			return -1;
		sp_sim_remove(c, a);
		return 0;
	case OP_STOP:
		a->stopped_at = (long)c->step;
		return 0;
	case OP_SET_CPUSET:
	case OP_SET_AFFINITY:
		return parse_op_cpuset(c, v, op);
	case OP_SWAP_CPUSETS:
	case OP_MOVE_TASKS:
		return parse_op_pair(c, v, op, a);
	case OP_SPAWN:
		return parse_op_spawn(c, v, op, a);
	default:
		return 0;
	}
}

static int parse_op(struct pctx *c, const json_t *v, struct op *op, bool loop)
{
	const char *kname;
	struct live *a = NULL;
	char what[48];

	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"op\": ..., \"cgroup\": ...}, got %s",
			       sp_show(c, v));
	if (parse_op_kind(c, v, &op->kind))
		return -1;
	kname = op_names[op->kind];
	snprintf(what, sizeof(what), " for op %s", kname);
	if (sp_check_keys(c, v, op_keys(op->kind), what))
		return -1;
	if (loop && (op->kind == OP_ADD || op->kind == OP_REMOVE ||
		     op->kind == OP_START_PAYLOAD || op->kind == OP_STOP_PAYLOAD))
		return sp_perr_key(c, "op", "%s cannot be used in a step with a loop hold (its "
				   "ops repeat every interval); put it in a step of its own",
				   kname);
	if (op->kind == OP_ADD)
		return parse_op_add(c, v, op);
	if (op->kind == OP_START_PAYLOAD || op->kind == OP_STOP_PAYLOAD)
		return parse_op_payload(c, v, op);
	if (sp_sim_ref(c, v, "cgroup", &a))
		return -1;
	op->cgroup = xstrdup(a->name);
	return parse_op_on(c, v, op, a);
}

static const char *const k_hold[] = {
	"frac", "ms", "duration", "duration_ms", "duration_us", "loop", NULL
};
static const char *const k_loop[] = { "interval", "interval_ms", "interval_us", "frac", NULL };

static int parse_hold(struct pctx *c, const json_t *v, struct hold *h, double def_frac,
		      unsigned long long duration_ms)
{
	unsigned long long us;
	bool have, have_ms;
	int kinds;

	memset(h, 0, sizeof(*h));
	h->kind = HOLD_FRAC;
	h->frac = def_frac;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return sp_perr(c, "must be an object such as {\"frac\": 0.5}, {\"ms\": 1000}, "
			       "{\"duration\": \"1s\"} or {\"loop\": {...}}, got %s",
			       sp_show(c, v));
	if (sp_check_keys(c, v, k_hold, " for a hold"))
		return -1;
	have_ms = sp_get(v, "ms") || sp_get(v, "duration") || sp_get(v, "duration_ms") ||
		  sp_get(v, "duration_us");
	kinds = !!sp_get(v, "frac") + !!have_ms + !!sp_get(v, "loop");
	if (kinds != 1 || (sp_get(v, "ms") && (sp_get(v, "duration") || sp_get(v, "duration_ms") ||
					     sp_get(v, "duration_us"))))
		return sp_perr(c, "give exactly one of frac, ms (or duration) and loop");
	if (sp_get(v, "frac")) {
		h->kind = HOLD_FRAC;
		return sp_get_frac(c, v, "frac", &h->frac, &have);
	}
	if (have_ms) {
		h->kind = HOLD_MS;
		h->frac = 0;
		if (sp_get(v, "ms")) {
			long long n;

			if (sp_get_whole(c, v, "ms", 1, (long long)KTSTR_MAX_DURATION_MS, 0, &n))
				return -1;
			h->ms = (unsigned long long)n;
			return 0;
		}
		if (sp_get_duration_us(c, v, "duration", 1000, KTSTR_MAX_DURATION_MS * 1000,
				       &us, &have))
			return -1;
		h->ms = (us + 500) / 1000;
		return 0;
	}
	{
		const json_t *l = sp_get(v, "loop");
		size_t m = sp_path_key(c, "loop");
		int rc = -1;

		h->kind = HOLD_LOOP;
		if (!json_is_object(l)) {
			sp_perr(c, "must be an object {\"interval\": \"200ms\", \"frac\": f}, "
				"got %s", sp_show(c, l));
			goto out;
		}
		if (sp_check_keys(c, l, k_loop, " for a loop hold"))
			goto out;
		if (sp_get_duration_us(c, l, "interval", 1000, KTSTR_MAX_DURATION_MS * 1000,
				       &us, &have))
			goto out;
		if (!have) {
			sp_perr_key(c, "interval", "missing; expected how often to repeat the "
				    "ops, e.g. \"interval\": \"200ms\"");
			goto out;
		}
		h->interval_ms = (us + 500) / 1000;
		if (sp_get_frac(c, l, "frac", &h->frac, &have))
			goto out;
		if (h->interval_ms > (unsigned long long)llround(h->frac * (double)duration_ms)) {
			sp_perr_key(c, "interval", "%llu ms is longer than the hold itself "
				    "(%lld ms)", h->interval_ms, llround(h->frac * (double)duration_ms));
			goto out;
		}
		rc = 0;
out:
		sp_path_pop(c, m);
		return rc;
	}
}

static const char *const k_step[] = { "ops", "hold", NULL };

int sp_parse_step(struct pctx *c, const json_t *v, struct step *st, double def_frac,
		      unsigned long long duration_ms)
{
	const json_t *ops;
	size_t i, m;

	if (!json_is_object(v))
		return sp_perr(c, "must be an object {\"ops\": [...], \"hold\": {...}}, got %s",
			       sp_show(c, v));
	if (sp_check_keys(c, v, k_step, " for a step"))
		return -1;
	m = sp_path_key(c, "hold");
	if (parse_hold(c, sp_get(v, "hold"), &st->hold, def_frac, duration_ms)) {
		sp_path_pop(c, m);
		return -1;
	}
	sp_path_pop(c, m);
	ops = sp_get(v, "ops");
	if (!ops)
		return 0;
	if (!json_is_array(ops) || json_array_size(ops) > MAX_OPS)
		return sp_perr_key(c, "ops", "must be an array of at most %d ops, got %s",
				   MAX_OPS, sp_show(c, ops));
	st->n_ops = json_array_size(ops);
	st->ops = xcalloc(st->n_ops ? st->n_ops : 1, sizeof(*st->ops));
	m = sp_path_key(c, "ops");
	for (i = 0; i < st->n_ops; i++) {
		size_t m2 = sp_path_idx(c, i);
		int rc = parse_op(c, json_array_get(ops, i), &st->ops[i],
				  st->hold.kind == HOLD_LOOP);

		sp_path_pop(c, m2);
		if (rc) {
			sp_path_pop(c, m);
			return -1;
		}
	}
	sp_path_pop(c, m);
	return 0;
}
