/* The stimulus side of a scenario: creating cgroups and applying the
 * ops of lib/core/scenario.h to live cgroups and workers, each reported as a
 * "stimulus" record {at_ms, step, op, cgroup, detail[, error]}.  An op
 * that fails at run time (the host validated the document, but the kernel
 * can still refuse) is reported with "error" and the run goes on.
 *
 * Whatever changes where workers may run (cpusets, affinity, cgroup
 * membership) happens with the isolation epoch odd (epoch_begin/_end), so
 * workers never blame themselves for a CPU their old placement allowed;
 * afterwards every allowed mask is refreshed from cpuset.cpus.effective
 * (a parent's change reaches its children) and pinned workers re-pinned. */
#include "engine.h"
#include "diag.h"
#include "jsonl.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

void emit_stimulus(struct engine *e, long long at, unsigned step, enum op_kind k,
		   const char *cg, const char *detail, const char *error)
{
	emit_stimulus_cpus(e, at, step, k, cg, detail, error, NULL);
}

void emit_stimulus_cpus(struct engine *e, long long at, unsigned step, enum op_kind k,
			const char *cg, const char *detail, const char *error, const char *cpus)
{
	json_t *rec = jsonl_record("stimulus");

	json_set_int(rec, "at_ms", at);
	json_set_int(rec, "step", step);
	json_set_str(rec, "op", op_kind_name(k));
	json_set_str(rec, "cgroup", cg);
	json_set_str(rec, "detail", detail);
	if (cpus)
		json_set_str(rec, "cpus", cpus);
	if (error && *error)
		json_set_str(rec, "error", error);
	engine_emit(e, rec);
}

/* ---- cgroups ---- */

long cg_lookup(const struct engine *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->ncgs; i++)
		if (e->cgs[i].live && !strcmp(e->cgs[i].name, name))
			return (long)i;
	return -1;
}

static size_t cg_new(struct engine *e, const struct cgroup_def *def)
{
	struct cgroup *c;
	size_t i;

	if (e->ncgs == e->cgs_alloc) {
		e->cgs_alloc = e->cgs_alloc ? e->cgs_alloc * 2 : 8;
		e->cgs = xrealloc(e->cgs, e->cgs_alloc * sizeof(*e->cgs));
	}
	c = &e->cgs[e->ncgs];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(def->name);
	c->def = def;
	c->effective = xcalloc(MASK_WORDS(e->nbits), sizeof(uint64_t));
	/* Same name, same lock: a re-added cgroup is the same contender. */
	c->lock = (unsigned)e->next_lock;
	for (i = 0; i < e->ncgs; i++)
		if (!strcmp(e->cgs[i].name, def->name))
			c->lock = e->cgs[i].lock;
	if (c->lock == e->next_lock && e->next_lock + 1 < e->nlocks)
		e->next_lock++;
	return e->ncgs++;
}

/* Re-read every live cgroup's effective CPUs: a parent's change reaches
 * its children. */
static void cg_refresh_all(struct engine *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < e->ncgs; i++) {
		struct cgroup *c = &e->cgs[i];

		if (!c->live)
			continue;
		strbuf_reset(&sb);
		if (cgfs_effective(c->name, &sb) < 0 ||
		    mask_parse(sb.buf, c->effective, e->nbits) < 0)
			vlog("cannot read %s's effective cpuset (%s)", c->name, sb.buf);
	}
	strbuf_release(&sb);
}

/* The NUMA nodes of a cpulist's CPUs, as a cpulist (for cpuset.mems). */
static void mems_of(const struct engine *e, const char *cpus, struct strbuf *out)
{
	uint64_t *cm = xcalloc(MASK_WORDS(e->nbits), sizeof(*cm));
	uint64_t *nm = xcalloc(MASK_WORDS(e->topo.nodes), sizeof(*nm));
	unsigned c;

	if (mask_parse(cpus, cm, e->nbits) == 0)
		for (c = 0; c < e->nbits && c < e->ncpus; c++)
			if (mask_test(cm, c))
				mask_set(nm, topo_cpu_node(&e->topo, c));
	mask_format(nm, e->topo.nodes, out);
	free(cm);
	free(nm);
}

static int resolve(struct engine *e, const struct cpuset_spec *c, struct strbuf *cpus,
		   struct strbuf *err)
{
	if (c->kind == CPUSET_NONE)
		return 0;
	return cpuset_resolve(c, &e->topo, cpus, err);
}

/* Write cpus (and matching mems) to cgroup cg with the epoch odd, then
 * refresh effective and allowed masks and re-pin. */
static int cg_write_cpuset(struct engine *e, size_t cg, const char *cpus, struct strbuf *err)
{
	struct cgroup *c = &e->cgs[cg];
	struct strbuf mems = STRBUF_INIT;
	int ret;

	if (*cpus)
		mems_of(e, cpus, &mems);
	ret = cgfs_set_cpuset(c->name, cpus, mems.buf, err);
	if (ret == 0) {
		free(c->cpus);
		c->cpus = *cpus ? xstrdup(cpus) : NULL;
	}
	strbuf_release(&mems);
	return ret;
}

static void after_cpuset_change(struct engine *e)
{
	size_t i;

	cg_refresh_all(e);
	workers_refresh_allowed(e);
	epoch_end(e);
	for (i = 0; i < e->ncgs; i++)
		if (e->cgs[i].live)
			workers_repin(e, i);
}

static unsigned live_workers(const struct engine *e, size_t cg)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < e->nws; i++)
		n += e->ws[i].cg == cg && !e->ws[i].exited && !e->ws[i].discarded &&
		     !e->ws[i].stopping;
	return n;
}

/* Create the cgroup of def with its cpuset and fork its workers, held at
 * *go.  -1 with err. */
long cg_add(struct engine *e, const struct cgroup_def *def, _Atomic uint32_t **go,
	    struct strbuf *detail, struct strbuf *err)
{
	struct strbuf cpus = STRBUF_INIT;
	long idx = -1;

	if (cg_lookup(e, def->name) >= 0) {
		strbuf_addf(err, "cgroup %s already exists", def->name);
		return -1;
	}
	if (resolve(e, &def->cpuset, &cpus, err) < 0)
		goto out;
	idx = (long)cg_new(e, def);
	if (cgfs_create(def->name, err) < 0)
		goto fail;
	e->cgs[idx].live = true;
	/* No workers inside yet: no epoch needed. */
	if (cpus.len && cg_write_cpuset(e, (size_t)idx, cpus.buf, err) < 0)
		goto fail;
	cg_refresh_all(e);
	/* No workers: a cgroup only payloads run in. */
	if (def->workers)
		strbuf_addf(detail, "%u workers %s", def->workers,
			    work_type_name(def->work.type));
	else
		strbuf_addstr(detail, "no workers");
	if (cpus.len)
		strbuf_addf(detail, ", cpuset %s", cpus.buf);
	if (workers_spawn(e, (size_t)idx, def->workers, go, err) < 0)
		goto fail;
	goto out;
fail:
	/* Leave the entry for cleanup; it has no live workers. */
	idx = -1;
out:
	strbuf_release(&cpus);
	return idx;
}

/* ---- ops ---- */

static bool sel_cg(const struct engine *e, const struct worker *w, const void *arg)
{
	return w->cg == *(const size_t *)arg;
}

/* A cgroup and everything nested below it. */
static bool sel_tree(const struct engine *e, const struct worker *w, const void *arg)
{
	const char *name = arg, *cg = e->cgs[w->cg].name;
	size_t len = strlen(name);

	return !strncmp(cg, name, len) && (cg[len] == '\0' || cg[len] == '/');
}

static void op_remove(struct engine *e, const char *name, struct strbuf *detail,
		      struct strbuf *err)
{
	size_t i, len = strlen(name);
	unsigned stopped = 0;

	for (i = 0; i < e->nws; i++)
		stopped += !e->ws[i].exited && !e->ws[i].discarded && sel_tree(e, &e->ws[i], name);
	/* Its payloads stop as by a stop_payload op, not by cgroup.kill. */
	payloads_stop_in(e, name, "stop_op");
	workers_stop(e, sel_tree, name);
	report_workers(e, sel_tree, name);
	for (i = 0; i < e->ncgs; i++) {
		struct cgroup *c = &e->cgs[i];

		if (c->live && !strncmp(c->name, name, len) &&
		    (c->name[len] == '\0' || c->name[len] == '/')) {
			report_cgroup(e, i);
			c->live = false;
		}
	}
	engine_flush(e);
	cgfs_remove(name, err);
	strbuf_addf(detail, "%u workers stopped", stopped);
}

static void op_stop(struct engine *e, size_t cg, struct strbuf *detail)
{
	unsigned n = live_workers(e, cg);

	workers_stop(e, sel_cg, &cg);
	report_workers(e, sel_cg, &cg);
	strbuf_addf(detail, "%u workers stopped", n);
}

static void op_set_cpuset(struct engine *e, size_t cg, const struct cpuset_spec *spec,
			  bool clear, struct strbuf *detail, struct strbuf *err)
{
	struct strbuf cpus = STRBUF_INIT;

	if (!clear && resolve(e, spec, &cpus, err) < 0)
		goto out;
	epoch_begin(e);
	cg_write_cpuset(e, cg, cpus.buf, err);
	after_cpuset_change(e);
	if (clear)
		strbuf_addstr(detail, "cpuset cleared");
	else
		strbuf_addf(detail, "cpuset %s", cpus.len ? cpus.buf : "(all)");
out:
	strbuf_release(&cpus);
}

static void op_swap(struct engine *e, size_t a, size_t b, struct strbuf *detail,
		    struct strbuf *err)
{
	char *ca = xstrdup(e->cgs[a].cpus ? e->cgs[a].cpus : "");
	char *cb = xstrdup(e->cgs[b].cpus ? e->cgs[b].cpus : "");

	epoch_begin(e);
	if (cg_write_cpuset(e, a, cb, err) == 0)
		cg_write_cpuset(e, b, ca, err);
	after_cpuset_change(e);
	strbuf_addf(detail, "cpuset %s <-> %s cpuset %s", *ca ? ca : "(all)",
		    e->cgs[b].name, *cb ? cb : "(all)");
	free(ca);
	free(cb);
}

static void op_set_affinity(struct engine *e, size_t cg, const struct cpuset_spec *spec,
			    struct strbuf *detail, struct strbuf *err, struct strbuf *cpus_out)
{
	struct strbuf cpus = STRBUF_INIT;
	uint64_t *m = xcalloc(MASK_WORDS(e->nbits), sizeof(*m));
	size_t setsize = CPU_ALLOC_SIZE(e->nbits), i;
	cpu_set_t *set = CPU_ALLOC(e->nbits);
	unsigned n = 0, failed = 0, c;

	if (!set || resolve(e, spec, &cpus, err) < 0 || mask_parse(cpus.buf, m, e->nbits) < 0) {
		if (!err->len)
			strbuf_addf(err, "bad affinity \"%s\"", cpus.buf);
		goto out;
	}
	if (!cpus.len)		/* no restriction: every CPU */
		for (c = 0; c < e->ncpus; c++)
			mask_set(m, c);
	CPU_ZERO_S(setsize, set);
	for (c = 0; c < e->nbits; c++)
		if (mask_test(m, c))
			CPU_SET_S(c, setsize, set);
	epoch_begin(e);
	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		if (w->cg != cg || w->exited || w->discarded || w->stopping)
			continue;
		n++;
		if (sched_setaffinity(w->pid, setsize, set) < 0)
			failed++;
	}
	epoch_end(e);
	strbuf_addf(detail, "affinity %s on %u workers", cpus.len ? cpus.buf : "(all)", n);
	/* The CPUs the workers may now use, for the machine checks. */
	if (cpus.len)
		strbuf_addstr(cpus_out, cpus.buf);
	else
		strbuf_addf(cpus_out, "0-%u", e->ncpus - 1);
	if (failed)
		strbuf_addf(err, "sched_setaffinity failed for %u workers", failed);
out:
	if (set)
		CPU_FREE(set);
	free(m);
	strbuf_release(&cpus);
}

static void op_move(struct engine *e, size_t from, size_t to, unsigned count,
		    struct strbuf *detail, struct strbuf *err)
{
	unsigned moved = 0;
	size_t i;

	epoch_begin(e);
	for (i = 0; i < e->nws && (!count || moved < count); i++) {
		struct worker *w = &e->ws[i];

		if (w->cg != from || w->exited || w->discarded || w->stopping)
			continue;
		if (cgfs_attach(e->cgs[to].name, w->pid, err) < 0)
			break;
		w->cg = to;
		moved++;
	}
	workers_refresh_allowed(e);
	epoch_end(e);
	workers_repin(e, to);
	strbuf_addf(detail, "%u tasks -> %s", moved, e->cgs[to].name);
}

static void op_spawn(struct engine *e, size_t cg, unsigned count, struct strbuf *detail,
		     struct strbuf *err)
{
	_Atomic uint32_t *go = NULL;

	if (workers_spawn(e, cg, count, &go, err) >= 0 && go)
		workers_release(go);
	strbuf_addf(detail, "%u workers", count);
}

/* Look up op's cgroup (and other) for ops that need existing ones. */
static int op_targets(struct engine *e, const struct op *op, long *cg, long *other,
		      struct strbuf *err)
{
	*cg = op->cgroup ? cg_lookup(e, op->cgroup) : -1;
	*other = op->other ? cg_lookup(e, op->other) : -1;
	if (*cg < 0) {
		strbuf_addf(err, "no cgroup %s", op->cgroup ? op->cgroup : "(none)");
		return -1;
	}
	if ((op->kind == OP_SWAP_CPUSETS || op->kind == OP_MOVE_TASKS) && *other < 0) {
		strbuf_addf(err, "no cgroup %s", op->other ? op->other : "(none)");
		return -1;
	}
	return 0;
}

/* The ops that need no existing cgroup: they create one or run payloads.
 * The cgroup for the stimulus record. */
static const char *apply_new(struct engine *e, unsigned step, const struct op *op,
			     struct strbuf *detail, struct strbuf *err)
{
	_Atomic uint32_t *go = NULL;

	switch (op->kind) {
	case OP_START_PAYLOAD:
		payload_start(e, &op->payload, step, detail, err);
		return op->payload.cgroup;
	case OP_STOP_PAYLOAD:
		return payload_stop_op(e, op->payload.name, detail, err);
	default:
		cg_add(e, &op->def, &go, detail, err);
		/* Even after a failure: discarded workers must see it to exit.
		 * NULL when the cgroup has no workers. */
		if (go)
			workers_release(go);
		return op->def.name;
	}
}

void apply_op(struct engine *e, unsigned step, const struct op *op)
{
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT, cpus = STRBUF_INIT;
	const char *name = op->cgroup;
	/* When the op began: stopping workers or forking can take a while. */
	long long at = engine_at_ms(e);
	long cg = -1, other = -1;

	if (op->kind == OP_ADD || op->kind == OP_START_PAYLOAD || op->kind == OP_STOP_PAYLOAD) {
		name = apply_new(e, step, op, &detail, &err);
	} else if (op_targets(e, op, &cg, &other, &err) == 0) {
		switch (op->kind) {
		case OP_REMOVE:
			op_remove(e, op->cgroup, &detail, &err);
			break;
		case OP_STOP:
			op_stop(e, (size_t)cg, &detail);
			break;
		case OP_SET_CPUSET:
			op_set_cpuset(e, (size_t)cg, &op->cpuset, false, &detail, &err);
			break;
		case OP_CLEAR_CPUSET:
			op_set_cpuset(e, (size_t)cg, NULL, true, &detail, &err);
			break;
		case OP_SWAP_CPUSETS:
			op_swap(e, (size_t)cg, (size_t)other, &detail, &err);
			break;
		case OP_SET_AFFINITY:
			op_set_affinity(e, (size_t)cg, &op->cpuset, &detail, &err, &cpus);
			break;
		case OP_MOVE_TASKS:
			op_move(e, (size_t)cg, (size_t)other, op->count, &detail, &err);
			break;
		case OP_SPAWN:
			op_spawn(e, (size_t)cg, op->count, &detail, &err);
			break;
		case OP_ADD:
		case OP_START_PAYLOAD:
		case OP_STOP_PAYLOAD:
			break;
		}
	}
	if (err.len)
		vlog("step %u %s %s: %s", step, op_kind_name(op->kind), name ? name : "-",
		     err.buf);
	emit_stimulus_cpus(e, at, step, op->kind, name, detail.buf, err.buf,
			   cpus.len ? cpus.buf : NULL);
	engine_flush(e);
	strbuf_release(&detail);
	strbuf_release(&err);
	strbuf_release(&cpus);
}
