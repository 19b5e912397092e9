#include "monitor_layout.h"
#include "diag.h"
#include "jsonl.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#define EV_PREFIX	"SCX_EV_"
/* Bounds no real kernel comes near; a cached layout past them is bogus. */
#define MAX_OFFSET	(1L << 20)
#define MAX_SIZE	65536L
#define MAX_EVENTS	256

/* The members, by the name the JSON form gives them. */
static const struct {
	const char *name;
	size_t off;
} members[] = {
#define M(name, field) { name, offsetof(struct monitor_layout, field) }
	M("rq.nr_running", rq_nr_running),
	M("rq.curr", rq_curr),
	M("rq.idle", rq_idle),
	M("rq.clock", rq_clock),
	M("rq.cpu", rq_cpu),
	M("rq.scx.nr_running", rq_scx_nr_running),
	M("rq.scx.local_dsq.nr", rq_local_dsq),
	M("rq.scx.runnable_list", rq_runnable_list),
	M("task_struct.scx.runnable_node", task_runnable_node),
	M("task_struct.scx.runnable_at", task_runnable_at),
	M("scx_sched.ops.name", sched_name),
	M("scx_sched.exit_kind", sched_exit_kind),
	M("scx_sched.pcpu", sched_pcpu),
	M("scx_sched.event_stats_cpu", sched_event_stats_cpu),
#undef M
};

static struct fld *member_at(struct monitor_layout *l, size_t i)
{
	return (struct fld *)((char *)l + members[i].off);
}

static const struct fld *member_at_c(const struct monitor_layout *l, size_t i)
{
	return (const struct fld *)((const char *)l + members[i].off);
}

static void drop_unless(struct fld *f, bool ok)
{
	if (!ok)
		f->off = -1;
}

static bool int_size(long size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* What the sampler relies on, whether the layout came from BTF or from a
 * cache: integers it reads are 1, 2, 4 or 8 bytes, pointers 8, a list
 * head at least 8, the scheduler's name a sane string buffer. */
static void sanitize(struct monitor_layout *l)
{
	drop_unless(&l->rq_nr_running, int_size(l->rq_nr_running.size));
	drop_unless(&l->rq_cpu, int_size(l->rq_cpu.size));
	drop_unless(&l->rq_scx_nr_running, int_size(l->rq_scx_nr_running.size));
	drop_unless(&l->rq_local_dsq, int_size(l->rq_local_dsq.size));
	drop_unless(&l->task_runnable_at, int_size(l->task_runnable_at.size));
	drop_unless(&l->sched_exit_kind, int_size(l->sched_exit_kind.size));
	if (l->rq_curr.size != 8 || l->rq_idle.size != 8)
		l->rq_curr.off = l->rq_idle.off = -1;
	drop_unless(&l->rq_clock, l->rq_clock.size == 8);
	drop_unless(&l->rq_runnable_list, l->rq_runnable_list.size >= 8);
	drop_unless(&l->sched_name, l->sched_name.size >= 2 && l->sched_name.size <= 4096);
	if (l->ev_size <= 0 || l->ev_size > MAX_SIZE)
		l->n_ev = 0;
}

/* ---- from BTF ---- */

static struct fld btf_member(const struct kbtf *btf, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	char s[64];
	struct kbtf_member km;
	struct fld f = { -1, 0 };

	snprintf(s, sizeof(s), "%.*s", (int)(dot - dotted), dotted);
	if (kbtf_member(btf, s, dot + 1, &km) == 0) {
		f.off = km.offset;
		f.size = km.size;
	}
	return f;
}

static void add_event(struct monitor_layout *l, const char *name, long off, long size)
{
	struct mon_event *e;
	char *p;

	l->ev = xrealloc(l->ev, (l->n_ev + 1) * sizeof(*l->ev));
	e = &l->ev[l->n_ev++];
	e->name = xstrdup(name);
	for (p = e->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	e->off = off;
	e->size = size;
}

static int btf_event(const char *name, long off, long size, void *arg)
{
	struct monitor_layout *l = arg;

	if ((size != 4 && size != 8) || l->n_ev == MAX_EVENTS)
		return 0;
	if (!strncmp(name, EV_PREFIX, strlen(EV_PREFIX)) && name[strlen(EV_PREFIX)])
		name += strlen(EV_PREFIX);
	add_event(l, name, off, size);
	return 0;
}

static void add_state(struct monitor_layout *l, const char *name, long long val)
{
	struct mon_state *sn = &l->states[l->n_states++];
	size_t j;

	sn->value = val;
	for (j = 0; name[j] && j < sizeof(sn->name) - 1; j++)
		sn->name[j] = (char)tolower((unsigned char)name[j]);
	sn->name[j] = 0;
}

/* The enumerators of scx_enable_state, named as the records name them
 * ("SCX_ENABLED" -> "enabled"). */
static int btf_state(const char *name, long long val, void *arg)
{
	struct monitor_layout *l = arg;

	if (l->n_states == (int)ARRAY_SIZE(l->states))
		return 1;
	if (!strncmp(name, "SCX_", 4))
		name += 4;
	add_state(l, name, val);
	return 0;
}

int monitor_layout_read(struct monitor_layout *l, const struct kbtf *btf, struct strbuf *err)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < ARRAY_SIZE(members); i++)
		*member_at(l, i) = btf_member(btf, members[i].name);
	l->pcpu_event_stats = kbtf_member_offset(btf, "scx_sched_pcpu", "event_stats");
	l->ev_size = kbtf_struct_size(btf, "scx_event_stats");
	if (l->ev_size > 0 && l->ev_size <= MAX_SIZE)
		kbtf_struct_members(btf, "scx_event_stats", btf_event, l);
	if (kbtf_enum_value(btf, "scx_enable_state", "SCX_ENABLED", &l->scx_enabled_value) < 0)
		l->scx_enabled_value = -1;
	kbtf_enum_foreach(btf, "scx_enable_state", btf_state, l);
	sanitize(l);
	if (!fld_has(&l->rq_nr_running)) {
		strbuf_addstr(err, "BTF has no struct rq with a member nr_running");
		monitor_layout_release(l);
		return -1;
	}
	return 0;
}

/* ---- JSON ---- */

static json_t *pair(long long a, long long b)
{
	return json_pack("[II]", (json_int_t)a, (json_int_t)b);
}

json_t *monitor_layout_json(const struct monitor_layout *l)
{
	json_t *j = json_object(), *mem = json_object(), *ev = json_array(), *st = json_array();

	json_set_int(j, "version", MONITOR_LAYOUT_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
		const struct fld *f = member_at_c(l, i);

		if (fld_has(f))
			json_object_set_new(mem, members[i].name, pair(f->off, f->size));
	}
	json_object_set_new(j, "members", mem);
	json_set_int(j, "pcpu_event_stats", l->pcpu_event_stats);
	json_set_int(j, "ev_size", l->ev_size);
	for (int i = 0; i < l->n_ev; i++)
		json_array_append_new(ev, json_pack("[sII]", l->ev[i].name,
						    (json_int_t)l->ev[i].off,
						    (json_int_t)l->ev[i].size));
	json_object_set_new(j, "events", ev);
	json_set_int(j, "scx_enabled", l->scx_enabled_value);
	for (int i = 0; i < l->n_states; i++)
		json_array_append_new(st, json_pack("[Is]", (json_int_t)l->states[i].value,
						    l->states[i].name));
	json_object_set_new(j, "states", st);
	return j;
}

static bool get_long(const json_t *j, const char *key, long lo, long hi, long *out)
{
	const json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = (long)json_integer_value(v);
	return true;
}

static int parse_members(struct monitor_layout *l, const json_t *mem, struct strbuf *err)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < ARRAY_SIZE(members); i++)
		member_at(l, i)->off = -1;
	if (!json_is_object(mem)) {
		strbuf_addstr(err, "\"members\" is not an object");
		return -1;
	}
	json_object_foreach((json_t *)mem, key, v) {
		json_int_t off, size;
		size_t i;

		for (i = 0; i < ARRAY_SIZE(members) && strcmp(members[i].name, key); i++)
			;
		if (i == ARRAY_SIZE(members))
			continue;	/* a newer ktstr's member: not ours to read */
		if (json_unpack(v, "[II]", &off, &size) || off < 0 || off > MAX_OFFSET ||
		    size < 1 || size > MAX_SIZE) {
			strbuf_addf(err, "member %s is not [offset, size] in range", key);
			return -1;
		}
		member_at(l, i)->off = (long)off;
		member_at(l, i)->size = (long)size;
	}
	return 0;
}

static int parse_events(struct monitor_layout *l, const json_t *ev, struct strbuf *err)
{
	size_t i;
	json_t *e;

	if (!json_is_array(ev) || json_array_size(ev) > MAX_EVENTS) {
		strbuf_addf(err, "\"events\" is not an array of at most %d", MAX_EVENTS);
		return -1;
	}
	json_array_foreach(ev, i, e) {
		const char *name;
		json_int_t off, size;

		if (json_unpack(e, "[sII]", &name, &off, &size) || !*name || strlen(name) > 64 ||
		    (size != 4 && size != 8) || off < 0 || off + size > l->ev_size) {
			strbuf_addf(err, "event %zu is not [name, offset, size] inside "
				    "scx_event_stats", i);
			return -1;
		}
		add_event(l, name, (long)off, (long)size);
	}
	return 0;
}

static int parse_states(struct monitor_layout *l, const json_t *st, struct strbuf *err)
{
	size_t i;
	json_t *e;

	if (!json_is_array(st) || json_array_size(st) > ARRAY_SIZE(l->states)) {
		strbuf_addf(err, "\"states\" is not an array of at most %zu",
			    ARRAY_SIZE(l->states));
		return -1;
	}
	json_array_foreach(st, i, e) {
		const char *name;
		json_int_t val;

		if (json_unpack(e, "[Is]", &val, &name) || strlen(name) >= sizeof(l->states[0].name)) {
			strbuf_addf(err, "state %zu is not [value, name]", i);
			return -1;
		}
		add_state(l, name, val);
	}
	return 0;
}

int monitor_layout_parse(struct monitor_layout *l, const json_t *j, struct strbuf *err)
{
	long version = 0;
	const json_t *se = json_object_get(j, "scx_enabled");

	memset(l, 0, sizeof(*l));
	if (!json_is_object(j) || !get_long(j, "version", 0, 1L << 30, &version) ||
	    version != MONITOR_LAYOUT_VERSION) {
		strbuf_addf(err, "not a version %d layout", MONITOR_LAYOUT_VERSION);
		goto fail;
	}
	if (parse_members(l, json_object_get(j, "members"), err) < 0)
		goto fail;
	if (!get_long(j, "pcpu_event_stats", -1, MAX_OFFSET, &l->pcpu_event_stats) ||
	    !get_long(j, "ev_size", -1, MAX_SIZE, &l->ev_size) || !json_is_integer(se)) {
		strbuf_addstr(err, "pcpu_event_stats, ev_size or scx_enabled missing or out "
			      "of range");
		goto fail;
	}
	l->scx_enabled_value = json_integer_value(se);
	if (parse_events(l, json_object_get(j, "events"), err) < 0 ||
	    parse_states(l, json_object_get(j, "states"), err) < 0)
		goto fail;
	sanitize(l);
	if (fld_has(&l->rq_nr_running))
		return 0;
	strbuf_addstr(err, "no rq.nr_running");
fail:
	monitor_layout_release(l);
	return -1;
}

void monitor_layout_release(struct monitor_layout *l)
{
	for (int i = 0; i < l->n_ev; i++)
		free(l->ev[i].name);
	free(l->ev);
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < ARRAY_SIZE(members); i++)
		member_at(l, i)->off = -1;
}
