/* Scenario documents: parsing, validation, topology fit and cpuset
 * resolution (ktstr-scenario(5)).  Loading files and the quick --cgroup
 * flags are in scenario_file.c; this file needs only jansson and libc so
 * the static guest agent can link it. */
#include "scenario.h"
#include "checktab.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CGROUPS 256
#define MAX_STEPS 1000
#define MAX_OPS 256
#define MAX_PHASES 64
#define MAX_NAME 128
#define MAX_SCENARIO_NAME 64
#define MAX_INDEX 4095			/* llc, node, disjoint slices */
#define MAX_PHASE_COUNT 1000000
#define MAX_WORK_US 3600000000ull	/* 1 h */
#define FRAC_EPS 1e-9

/* ---- names ------------------------------------------------------------ */

static const char *const work_names[WORK__COUNT + 1] = {
	[WORK_SPIN_WAIT] = "spin_wait",
	[WORK_YIELD_HEAVY] = "yield_heavy",
	[WORK_MIXED] = "mixed",
	[WORK_BURSTY] = "bursty",
	[WORK_IO_SYNC] = "io_sync",
	[WORK_PIPE_IO] = "pipe_io",
	[WORK_FUTEX_PING_PONG] = "futex_ping_pong",
	[WORK_FUTEX_FAN_OUT] = "futex_fan_out",
	[WORK_CACHE_PRESSURE] = "cache_pressure",
	[WORK_FORK_EXIT] = "fork_exit",
	[WORK_NICE_SWEEP] = "nice_sweep",
	[WORK_AFFINITY_CHURN] = "affinity_churn",
	[WORK_POLICY_CHURN] = "policy_churn",
	[WORK_PAGE_FAULT_CHURN] = "page_fault_churn",
	[WORK_MUTEX_CONTENTION] = "mutex_contention",
	[WORK_SEQUENCE] = "sequence",
	[WORK__COUNT] = NULL,
};

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
	NULL,
};

static const char *const policy_names[] = {
	[POLICY_NORMAL] = "normal",
	[POLICY_BATCH] = "batch",
	[POLICY_IDLE] = "idle",
	[POLICY_FIFO] = "fifo",
	[POLICY_RR] = "rr",
	NULL,
};

static const char *const cpuset_keys[] = {
	"llc", "node", "cpus", "range", "disjoint", "overlap", NULL
};

const char *work_type_name(enum work_type t)
{
	return (unsigned)t < WORK__COUNT ? work_names[t] : "?";
}

int work_type_parse(const char *s, enum work_type *t)
{
	unsigned i;

	for (i = 0; s && i < WORK__COUNT; i++) {
		if (!strcmp(s, work_names[i])) {
			*t = (enum work_type)i;
			return 0;
		}
	}
	return -1;
}

const char *op_kind_name(enum op_kind k)
{
	return (unsigned)k < ARRAY_SIZE(op_names) - 1 ? op_names[k] : "?";
}

const char *sched_policy_name(enum sched_policy p)
{
	return (unsigned)p < ARRAY_SIZE(policy_names) - 1 ? policy_names[p] : "?";
}

static int list_index(const char *const *list, const char *s)
{
	int i;

	for (i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

static void list_join(const char *const *list, struct strbuf *sb)
{
	size_t i;

	for (i = 0; list[i]; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", list[i]);
}

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

/* ---- cpulists --------------------------------------------------------- */

static int cpulist_num(const char **p, unsigned long *out)
{
	unsigned long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 1000000000ul)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int cpulist_parse(const char *s, bool *mask, unsigned ncpus, struct strbuf *err)
{
	const char *p = s;

	if (mask)
		memset(mask, 0, ncpus * sizeof(*mask));
	if (!s || !*s) {
		strbuf_addstr(err, "the CPU list is empty; expected CPU numbers and "
			      "ranges separated by commas, e.g. \"0-3,6\"");
		return -1;
	}
	for (;;) {
		unsigned long lo, hi, i;

		if (cpulist_num(&p, &lo))
			goto syntax;
		hi = lo;
		if (*p == '-') {
			p++;
			if (cpulist_num(&p, &hi))
				goto syntax;
			if (hi < lo) {
				strbuf_addf(err, "'%s': the range %lu-%lu runs backwards", s, lo, hi);
				return -1;
			}
		}
		if (hi >= ncpus) {
			strbuf_addf(err, "'%s': CPU %lu is beyond the last CPU (%u)", s,
				    lo >= ncpus ? lo : (unsigned long)ncpus, ncpus - 1);
			return -1;
		}
		for (i = lo; mask && i <= hi; i++)
			mask[i] = true;
		if (!*p)
			return 0;
		if (*p != ',')
			goto syntax;
		p++;
	}
syntax:
	strbuf_addf(err, "'%s' is not a CPU list; expected CPU numbers and ranges "
		    "separated by commas, e.g. \"0-3,6\"", s);
	return -1;
}

void cpulist_format(const bool *mask, unsigned ncpus, struct strbuf *out)
{
	unsigned i = 0;
	bool first = true;

	while (i < ncpus) {
		unsigned j;

		if (!mask[i]) {
			i++;
			continue;
		}
		for (j = i; j + 1 < ncpus && mask[j + 1]; j++)
			;
		if (j == i)
			strbuf_addf(out, "%s%u", first ? "" : ",", i);
		else
			strbuf_addf(out, "%s%u-%u", first ? "" : ",", i, j);
		first = false;
		i = j + 1;
	}
}

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

int cpuset_resolve(const struct cpuset_spec *c, const struct ktstr_topo *t,
		   struct strbuf *out, struct strbuf *err)
{
	struct strbuf tp = STRBUF_INIT;
	unsigned n, per_llc, lo = 0, hi;
	int rc = -1;

	if (!t->nodes || !t->llcs || !t->cores || !t->threads || t->llcs % t->nodes ||
	    (unsigned long)t->llcs * t->cores * t->threads > KTSTR_TOPO_MAX_CPUS) {
		strbuf_addstr(err, "the topology is invalid");
		return -1;
	}
	n = topo_cpus(t);
	per_llc = t->cores * t->threads;
	hi = n;
	topo_format(t, &tp);

	switch (c->kind) {
	case CPUSET_NONE:
		break;
	case CPUSET_LLC:
		if (c->index >= t->llcs) {
			strbuf_addf(err, "LLC %u does not exist; the topology %s has ",
				    c->index, tp.buf);
			describe_ids(err, "LLC", t->llcs);
			goto out;
		}
		lo = c->index * per_llc;
		hi = lo + per_llc;
		break;
	case CPUSET_NODE: {
		unsigned per_node = per_llc * topo_llcs_per_node(t);

		if (c->index >= t->nodes) {
			strbuf_addf(err, "NUMA node %u does not exist; the topology %s has ",
				    c->index, tp.buf);
			describe_ids(err, "node", t->nodes);
			goto out;
		}
		lo = c->index * per_node;
		hi = lo + per_node;
		break;
	}
	case CPUSET_LIST: {
		bool *mask = xcalloc(KTSTR_TOPO_MAX_CPUS, sizeof(*mask));
		unsigned i;

		if (cpulist_parse(c->list, mask, KTSTR_TOPO_MAX_CPUS, err)) {
			free(mask);
			goto out;
		}
		for (i = n; i < KTSTR_TOPO_MAX_CPUS; i++) {
			if (mask[i]) {
				strbuf_addf(err, "CPU %u does not exist; the topology %s has ",
					    i, tp.buf);
				describe_ids(err, "CPU", n);
				free(mask);
				goto out;
			}
		}
		cpulist_format(mask, n, out);
		free(mask);
		rc = 0;
		goto out;
	}
	case CPUSET_RANGE:
		if (!(c->start_frac >= 0 && c->start_frac < c->end_frac && c->end_frac <= 1)) {
			strbuf_addf(err, "range [%g, %g] is not a fraction range; expected "
				    "0 <= start < end <= 1", c->start_frac, c->end_frac);
			goto out;
		}
		lo = (unsigned)floor(c->start_frac * n + FRAC_EPS);
		hi = (unsigned)ceil(c->end_frac * n - FRAC_EPS);
		if (hi > n)
			hi = n;
		if (lo >= n)
			lo = n - 1;
		if (hi <= lo)
			hi = lo + 1;
		break;
	case CPUSET_DISJOINT:
	case CPUSET_OVERLAP:
		if (!c->of || c->index >= c->of) {
			strbuf_addf(err, "slice %u of %u does not exist; the index must be "
				    "less than the number of slices", c->index, c->of);
			goto out;
		}
		slice(n, c->index, c->of, &lo, &hi);
		if (hi == lo) {
			strbuf_addf(err, "slice %u of %u is empty: the topology %s has only "
				    "%u CPU%s, fewer than %u slices", c->index, c->of, tp.buf,
				    n, n == 1 ? "" : "s", c->of);
			goto out;
		}
		if (c->kind == CPUSET_OVERLAP) {
			unsigned w;

			if (!(c->frac > 0 && c->frac <= 1)) {
				strbuf_addf(err, "overlap frac %g is out of range; expected "
					    "0 < frac <= 1", c->frac);
				goto out;
			}
			w = (unsigned)ceil(c->frac * (hi - lo) - FRAC_EPS);
			lo = lo > w ? lo - w : 0;
			hi = hi + w < n ? hi + w : n;
		}
		break;
	default:
		strbuf_addf(err, "unknown cpuset kind %d", (int)c->kind);
		goto out;
	}
	add_range(out, lo, hi);
	rc = 0;
out:
	strbuf_release(&tp);
	return rc;
}

/* ---- parse context ---------------------------------------------------- */

/* A cgroup that exists at the current point of the simulated run. */
struct live {
	const char *name;
	const struct cgroup_def *def;
	long stopped_at;		/* step that stopped it, -1 running */
};

struct gone {
	const char *name;
	size_t step;
};

struct pctx {
	struct strbuf path;		/* JSON path of the value at hand */
	struct strbuf *err;
	char shown[96];
	struct live *live;
	size_t n_live, alloc_live;
	struct gone *gone;
	size_t n_gone, alloc_gone;
	size_t step;			/* step being parsed */
	size_t n_adds;			/* add ops seen */
};

static size_t path_key(struct pctx *c, const char *key)
{
	size_t mark = c->path.len;

	if (c->path.len)
		strbuf_addch(&c->path, '.');
	strbuf_addstr(&c->path, key);
	return mark;
}

static size_t path_idx(struct pctx *c, size_t i)
{
	size_t mark = c->path.len;

	strbuf_addf(&c->path, "[%zu]", i);
	return mark;
}

static void path_pop(struct pctx *c, size_t mark)
{
	strbuf_setlen(&c->path, mark);
}

static void vperr(struct pctx *c, const char *fmt, va_list ap)
{
	if (c->path.len)
		strbuf_addf(c->err, "%s: ", c->path.buf);
	strbuf_vaddf(c->err, fmt, ap);
}

/* "PATH: message"; returns -1. */
static int __attribute__((format(printf, 2, 3))) perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr(c, fmt, ap);
	va_end(ap);
	return -1;
}

/* "PATH.key: message"; returns -1. */
static int __attribute__((format(printf, 3, 4)))
perr_key(struct pctx *c, const char *key, const char *fmt, ...)
{
	size_t m = path_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	vperr(c, fmt, ap);
	va_end(ap);
	path_pop(c, m);
	return -1;
}

/* A short rendering of v for "got ..." (valid until the next call). */
static const char *show(struct pctx *c, const json_t *v)
{
	return json_brief(v, c->shown, sizeof(c->shown));
}

/* The value at key, treating JSON null as absent. */
static const json_t *get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

static int check_keys(struct pctx *c, const json_t *obj, const char *const *keys,
		      const char *what)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		struct strbuf l = STRBUF_INIT;
		size_t m;

		if (list_index(keys, k) >= 0)
			continue;
		list_join(keys, &l);
		m = path_key(c, k);
		perr(c, "unknown key%s; expected one of %s", what ? what : "", l.buf);
		path_pop(c, m);
		strbuf_release(&l);
		return -1;
	}
	return 0;
}

static bool as_whole(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d == floor(d) && fabs(d) < 9e15) {
			*out = (long long)d;
			return true;
		}
	}
	return false;
}

/* Whole number in [min, max] at key; def when absent. */
static int get_whole(struct pctx *c, const json_t *obj, const char *key, long long min,
		     long long max, long long def, long long *out)
{
	const json_t *v = get(obj, key);
	long long x;

	if (!v) {
		*out = def;
		return 0;
	}
	if (!as_whole(v, &x) || x < min || x > max)
		return perr_key(c, key, "must be a whole number from %lld to %lld, got %s",
				min, max, show(c, v));
	*out = x;
	return 0;
}

static int get_whole_req(struct pctx *c, const json_t *obj, const char *key,
			 long long min, long long max, long long *out)
{
	if (!get(obj, key))
		return perr_key(c, key, "missing; expected a whole number from %lld to %lld",
				min, max);
	return get_whole(c, obj, key, min, max, 0, out);
}

/* A fraction 0 < f <= 1 at key. */
static int get_frac(struct pctx *c, const json_t *obj, const char *key, double *out,
		    bool *present)
{
	const json_t *v = get(obj, key);

	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_number(v) || !(json_number_value(v) > 0) ||
	    json_number_value(v) > 1 + FRAC_EPS)
		return perr_key(c, key, "must be a fraction greater than 0 and at most 1, "
				"got %s", show(c, v));
	*out = json_number_value(v);
	if (*out > 1)
		*out = 1;
	return 0;
}

static int get_bool(struct pctx *c, const json_t *obj, const char *key, int *out)
{
	const json_t *v = get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return perr_key(c, key, "must be true or false, got %s", show(c, v));
	*out = json_is_true(v);
	return 0;
}

static int get_string(struct pctx *c, const json_t *obj, const char *key, const char **out)
{
	const json_t *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return perr_key(c, key, "must be a string, got %s", show(c, v));
	*out = json_string_value(v);
	return 0;
}

/* ---- durations -------------------------------------------------------- */

/* "500us", "50ms", "2s", "1.5m", "1h". */
static int parse_dur_us(const char *s, unsigned long long *us)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 6e7 }, { "h", 3.6e9 },
	};
	size_t n = strspn(s, "0123456789."), i;
	char *end;
	double v;

	if (!n || strcspn(s, "0123456789") >= n)
		return -1;
	v = strtod(s, &end);
	if (end != s + n || !isfinite(v))
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(s + n, units[i].unit)) {
			double r = v * units[i].mult;

			if (r > 1e15)
				return -1;
			*us = (unsigned long long)(r + 0.5);
			return 0;
		}
	}
	return -1;
}

static const char *fmt_us(char *buf, size_t len, unsigned long long us)
{
	if (us && us % 3600000000ull == 0)
		snprintf(buf, len, "%lluh", us / 3600000000ull);
	else if (us && us % 60000000 == 0)
		snprintf(buf, len, "%llum", us / 60000000);
	else if (us && us % 1000000 == 0)
		snprintf(buf, len, "%llus", us / 1000000);
	else if (us && us % 1000 == 0)
		snprintf(buf, len, "%llums", us / 1000);
	else
		snprintf(buf, len, "%lluus", us);
	return buf;
}

/* A duration given as base ("50ms"), base_ms or base_us (numbers), at most
 * one of them, in [min_us, max_us]. */
static int get_duration_us(struct pctx *c, const json_t *obj, const char *base,
			   unsigned long long min_us, unsigned long long max_us,
			   unsigned long long *us, bool *present)
{
	char k_ms[40], k_us[40], b1[32], b2[32];
	const json_t *vb, *vm, *vu;
	const char *key;
	unsigned long long x;

	snprintf(k_ms, sizeof(k_ms), "%s_ms", base);
	snprintf(k_us, sizeof(k_us), "%s_us", base);
	vb = get(obj, base);
	vm = get(obj, k_ms);
	vu = get(obj, k_us);
	*present = vb || vm || vu;
	if (!*present)
		return 0;
	if (!!vb + !!vm + !!vu > 1)
		return perr(c, "give only one of %s, %s and %s", base, k_ms, k_us);
	if (vb) {
		key = base;
		if (!json_is_string(vb))
			return perr_key(c, base, "must be a string with a unit such as \"50ms\", "
					"got %s; for a plain number use %s or %s",
					show(c, vb), k_ms, k_us);
		if (parse_dur_us(json_string_value(vb), &x))
			return perr_key(c, base, "'%s' is not a duration; expected a number "
					"with a unit (us, ms, s, m or h), e.g. \"50ms\"",
					json_string_value(vb));
	} else {
		const json_t *v = vm ? vm : vu;
		double d, mult = vm ? 1000 : 1;

		key = vm ? k_ms : k_us;
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) * mult > 1e15)
			return perr_key(c, key, "must be a number of %s (0 or more), got %s",
					vm ? "milliseconds" : "microseconds", show(c, v));
		d = json_number_value(v) * mult;
		x = (unsigned long long)(d + 0.5);
	}
	if (x < min_us) {
		if (min_us == 1)
			return perr_key(c, key, "must be more than 0");
		return perr_key(c, key, "must be at least %s, got %s",
				fmt_us(b1, sizeof(b1), min_us), fmt_us(b2, sizeof(b2), x));
	}
	if (x > max_us)
		return perr_key(c, key, "must be at most %s, got %s",
				fmt_us(b1, sizeof(b1), max_us), fmt_us(b2, sizeof(b2), x));
	*us = x;
	return 0;
}

/* ---- work ------------------------------------------------------------- */

static const char *const k_type_only[] = { "type", NULL };
static const char *const k_mixed[] = { "type", "sleep", "sleep_ms", "sleep_us", NULL };
static const char *const k_bursty[] = {
	"type", "burst", "burst_ms", "burst_us", "sleep", "sleep_ms", "sleep_us", NULL
};
static const char *const k_bytes[] = { "type", "bytes", NULL };
static const char *const k_kib[] = { "type", "kib", NULL };
static const char *const k_fan[] = { "type", "fan", NULL };
static const char *const k_seq[] = { "type", "phases", NULL };
static const char *const k_phase[] = {
	"spin", "spin_ms", "spin_us", "sleep", "sleep_ms", "sleep_us", "yield", "io", NULL
};

static const char *const *work_keys(enum work_type t)
{
	switch (t) {
	case WORK_MIXED: return k_mixed;
	case WORK_BURSTY: return k_bursty;
	case WORK_IO_SYNC: case WORK_PIPE_IO: return k_bytes;
	case WORK_CACHE_PRESSURE: case WORK_PAGE_FAULT_CHURN: return k_kib;
	case WORK_FUTEX_FAN_OUT: return k_fan;
	case WORK_SEQUENCE: return k_seq;
	default: return k_type_only;
	}
}

static void work_defaults(enum work_type t, struct work_spec *w)
{
	memset(w, 0, sizeof(*w));
	w->type = t;
	switch (t) {
	case WORK_MIXED: w->sleep_us = 1000; break;
	case WORK_BURSTY: w->burst_us = 50000; w->sleep_us = 100000; break;
	case WORK_IO_SYNC: w->bytes = 4096; break;
	case WORK_PIPE_IO: w->bytes = 64; break;
	case WORK_CACHE_PRESSURE: w->kib = 4096; break;
	case WORK_PAGE_FAULT_CHURN: w->kib = 1024; break;
	case WORK_FUTEX_FAN_OUT: w->fan = 4; break;
	default: break;
	}
}

static int unknown_work_type(struct pctx *c, const char *name)
{
	struct strbuf l = STRBUF_INIT;

	list_join(work_names, &l);
	perr(c, "unknown work type '%s'; expected one of %s", name, l.buf);
	strbuf_release(&l);
	return -1;
}

static int parse_phases(struct pctx *c, const json_t *v, struct work_spec *w)
{
	const json_t *arr = get(v, "phases");
	size_t i, m;

	if (!arr)
		return perr_key(c, "phases", "missing; expected an array of 1 to %d phases "
				"such as {\"spin\": \"10ms\"}", MAX_PHASES);
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_PHASES)
		return perr_key(c, "phases", "must be an array of 1 to %d phases such as "
				"{\"spin\": \"10ms\"}, got %s", MAX_PHASES, show(c, arr));
	w->n_phases = json_array_size(arr);
	w->phases = xcalloc(w->n_phases, sizeof(*w->phases));
	m = path_key(c, "phases");
	for (i = 0; i < w->n_phases; i++) {
		const json_t *p = json_array_get(arr, i);
		struct work_phase *ph = &w->phases[i];
		size_t m2 = path_idx(c, i);
		unsigned long long us;
		long long n;
		bool have;

		if (!json_is_object(p) || json_object_size(p) != 1) {
			perr(c, "must be an object with exactly one of spin, sleep, yield or io, "
			     "e.g. {\"spin\": \"10ms\"}, got %s", show(c, p));
			goto fail;
		}
		if (check_keys(c, p, k_phase, " for a phase"))
			goto fail;
		if (json_is_null(json_object_iter_value(json_object_iter((json_t *)p)))) {
			perr(c, "the phase's value is null; expected e.g. {\"spin\": \"10ms\"}");
			goto fail;
		}
		if (get_duration_us(c, p, "spin", 1, MAX_WORK_US, &us, &have))
			goto fail;
		if (have) {
			ph->kind = PHASE_SPIN;
			ph->us = us;
		}
		if (get_duration_us(c, p, "sleep", 1, MAX_WORK_US, &us, &have))
			goto fail;
		if (have) {
			ph->kind = PHASE_SLEEP;
			ph->us = us;
		}
		if (get(p, "yield")) {
			if (get_whole(c, p, "yield", 1, MAX_PHASE_COUNT, 1, &n))
				goto fail;
			ph->kind = PHASE_YIELD;
			ph->count = (unsigned)n;
		}
		if (get(p, "io")) {
			if (get_whole(c, p, "io", 1, MAX_PHASE_COUNT, 1, &n))
				goto fail;
			ph->kind = PHASE_IO;
			ph->count = (unsigned)n;
		}
		path_pop(c, m2);
		continue;
fail:
		path_pop(c, m2);
		path_pop(c, m);
		return -1;
	}
	path_pop(c, m);
	return 0;
}

static int parse_work(struct pctx *c, const json_t *v, struct work_spec *w)
{
	const char *tname;
	enum work_type t;
	unsigned long long us;
	long long n;
	bool have;

	if (!v) {
		work_defaults(WORK_SPIN_WAIT, w);
		return 0;
	}
	if (json_is_string(v)) {
		if (work_type_parse(json_string_value(v), &t))
			return unknown_work_type(c, json_string_value(v));
		work_defaults(t, w);
		if (t == WORK_SEQUENCE)
			return perr(c, "sequence needs phases; write "
				    "{\"type\": \"sequence\", \"phases\": [...]}");
		return 0;
	}
	if (!json_is_object(v))
		return perr(c, "must be a work type name or an object {\"type\": ...}, got %s",
			    show(c, v));
	if (!get(v, "type")) {
		struct strbuf l = STRBUF_INIT;

		list_join(work_names, &l);
		perr_key(c, "type", "missing; expected one of %s", l.buf);
		strbuf_release(&l);
		return -1;
	}
	if (get_string(c, v, "type", &tname))
		return -1;
	if (work_type_parse(tname, &t)) {
		size_t m = path_key(c, "type");
		int rc = unknown_work_type(c, tname);

		path_pop(c, m);
		return rc;
	}
	work_defaults(t, w);
	{
		char what[64];

		snprintf(what, sizeof(what), " for work type %s", tname);
		if (check_keys(c, v, work_keys(t), what))
			return -1;
	}
	switch (t) {
	case WORK_BURSTY:
		if (get_duration_us(c, v, "burst", 1, MAX_WORK_US, &us, &have))
			return -1;
		if (have)
			w->burst_us = us;
		/* fall through */
	case WORK_MIXED:
		if (get_duration_us(c, v, "sleep", 0, MAX_WORK_US, &us, &have))
			return -1;
		if (have)
			w->sleep_us = us;
		break;
	case WORK_IO_SYNC:
		if (get_whole(c, v, "bytes", 1, 1 << 20, w->bytes, &n))
			return -1;
		w->bytes = (unsigned)n;
		break;
	case WORK_PIPE_IO:
		if (get_whole(c, v, "bytes", 1, 1 << 16, w->bytes, &n))
			return -1;
		w->bytes = (unsigned)n;
		break;
	case WORK_CACHE_PRESSURE:
	case WORK_PAGE_FAULT_CHURN:
		if (get_whole(c, v, "kib", 1, 1 << 18, w->kib, &n))
			return -1;
		w->kib = (unsigned)n;
		break;
	case WORK_FUTEX_FAN_OUT:
		if (get_whole(c, v, "fan", 1, 64, w->fan, &n))
			return -1;
		w->fan = (unsigned)n;
		break;
	case WORK_SEQUENCE:
		return parse_phases(c, v, w);
	default:
		break;
	}
	return 0;
}

/* Workers a cgroup of this work must come in multiples of. */
static unsigned work_group(const struct work_spec *w)
{
	switch (w->type) {
	case WORK_PIPE_IO:
	case WORK_FUTEX_PING_PONG:
		return 2;
	case WORK_FUTEX_FAN_OUT:
		return w->fan + 1;
	default:
		return 1;
	}
}

/* At c's path (a workers or count field): n must fit w's grouping. */
static int check_group(struct pctx *c, const struct work_spec *w, const char *field,
		       long long n)
{
	unsigned g = work_group(w);

	if (n % g == 0)
		return 0;
	if (w->type == WORK_FUTEX_FAN_OUT)
		return perr(c, "futex_fan_out with fan %u runs workers in groups of %u "
			    "(one waker, %u waiters), so %s must be a multiple of %u, got %lld",
			    w->fan, g, w->fan, field, g, n);
	return perr(c, "%s runs workers in pairs, so %s must be even, got %lld",
		    work_type_name(w->type), field, n);
}

/* ---- cpusets ---------------------------------------------------------- */

static const char *const k_disjoint[] = { "index", "of", NULL };
static const char *const k_overlap[] = { "index", "of", "frac", NULL };

static int parse_slice(struct pctx *c, const json_t *v, struct cpuset_spec *cs, bool overlap)
{
	long long of, idx;
	bool have;

	if (!json_is_object(v))
		return perr(c, "must be an object {\"index\": i, \"of\": n%s}, got %s",
			    overlap ? ", \"frac\": f" : "", show(c, v));
	if (check_keys(c, v, overlap ? k_overlap : k_disjoint, NULL))
		return -1;
	if (get_whole_req(c, v, "of", 1, MAX_INDEX + 1, &of))
		return -1;
	if (!get(v, "index"))
		return perr_key(c, "index", "missing; expected a whole number from 0 to %lld",
				of - 1);
	if (!as_whole(get(v, "index"), &idx) || idx < 0 || idx >= of)
		return perr_key(c, "index", "must be a whole number from 0 to %lld (less than "
				"of), got %s", of - 1, show(c, get(v, "index")));
	cs->index = (unsigned)idx;
	cs->of = (unsigned)of;
	if (overlap) {
		if (get_frac(c, v, "frac", &cs->frac, &have))
			return -1;
		if (!have)
			return perr_key(c, "frac", "missing; expected a fraction greater than 0 "
					"and at most 1 (how far into each neighbour, in slices)");
	}
	return 0;
}

static int parse_cpuset_kind(struct pctx *c, const json_t *obj, const char *key,
			     struct cpuset_spec *cs)
{
	const json_t *v = json_object_get(obj, key);
	long long idx;

	switch (list_index(cpuset_keys, key)) {
	case 0:
	case 1:
		cs->kind = key[0] == 'l' ? CPUSET_LLC : CPUSET_NODE;
		if (get_whole_req(c, obj, key, 0, MAX_INDEX, &idx))
			return -1;
		cs->index = (unsigned)idx;
		return 0;
	case 2: {
		struct strbuf tmp = STRBUF_INIT;
		bool *mask;

		cs->kind = CPUSET_LIST;
		if (!json_is_string(v))
			return perr_key(c, key, "must be a CPU list string such as \"0-1,4\", "
					"got %s", show(c, v));
		mask = xcalloc(KTSTR_TOPO_MAX_CPUS, sizeof(*mask));
		if (cpulist_parse(json_string_value(v), mask, KTSTR_TOPO_MAX_CPUS, &tmp)) {
			perr_key(c, key, "%s", tmp.buf);
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
			return perr_key(c, key, "must be [start, end] with fractions of all "
					"CPUs, e.g. [0, 0.5], got %s", show(c, v));
		cs->start_frac = json_number_value(a);
		cs->end_frac = json_number_value(b);
		if (!(cs->start_frac >= 0 && cs->start_frac < cs->end_frac &&
		      cs->end_frac <= 1))
			return perr_key(c, key, "must satisfy 0 <= start < end <= 1, got %s",
					show(c, v));
		return 0;
	}
	case 4:
	case 5: {
		size_t m = path_key(c, key);
		int rc;

		cs->kind = key[0] == 'd' ? CPUSET_DISJOINT : CPUSET_OVERLAP;
		rc = parse_slice(c, v, cs, cs->kind == CPUSET_OVERLAP);
		path_pop(c, m);
		return rc;
	}
	}
	return perr_key(c, key, "internal error: unhandled cpuset kind");
}

/* v is the cpuset value at c's path (NULL or null: no restriction).
 * required: null is an error (set_cpuset, set_affinity). */
static int parse_cpuset(struct pctx *c, const json_t *v, struct cpuset_spec *cs,
			const char *null_hint)
{
	struct strbuf l = STRBUF_INIT;
	const char *first = NULL, *k;
	json_t *x;
	int rc = -1;

	memset(cs, 0, sizeof(*cs));
	cs->kind = CPUSET_NONE;
	list_join(cpuset_keys, &l);
	if (!v || json_is_null(v)) {
		if (null_hint) {
			perr(c, "missing; expected an object with one of %s%s", l.buf, null_hint);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (!json_is_object(v)) {
		perr(c, "must be null or an object with one of %s, e.g. {\"llc\": 0}, got %s",
		     l.buf, show(c, v));
		goto out;
	}
	if (check_keys(c, v, cpuset_keys, " for a cpuset"))
		goto out;
	json_object_foreach((json_t *)v, k, x) {
		if (first) {
			perr(c, "give exactly one of %s, not both %s and %s", l.buf, first, k);
			goto out;
		}
		first = k;
	}
	if (!first) {
		perr(c, "is empty; give exactly one of %s (or null for no restriction)", l.buf);
		goto out;
	}
	rc = parse_cpuset_kind(c, v, first, cs);
out:
	strbuf_release(&l);
	return rc;
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

static int parse_cgroup(struct pctx *c, const json_t *v, struct cgroup_def *d)
{
	const char *name, *pol;
	long long n;
	int b;

	memset(d, 0, sizeof(*d));
	work_defaults(WORK_SPIN_WAIT, &d->work);
	if (!json_is_object(v))
		return perr(c, "must be an object {\"name\": ..., \"workers\": ..., ...}, "
			    "got %s", show(c, v));
	if (check_keys(c, v, k_cgroup, " for a cgroup"))
		return -1;
	if (!get(v, "name"))
		return perr_key(c, "name", "missing; every cgroup needs a name such as \"cg_0\"");
	if (get_string(c, v, "name", &name))
		return -1;
	if (!valid_cgroup_name(name))
		return perr_key(c, "name", "'%s' is not a valid cgroup name; use up to %d of "
				"letters, digits, '_', '.' and '-', with '/' between nested "
				"levels (no empty, '.' or '..' levels)", name, MAX_NAME);
	d->name = xstrdup(name);
	if (get_whole(c, v, "workers", 1, KTSTR_MAX_WORKERS, 1, &n))
		return -1;
	d->workers = (unsigned)n;
	{
		size_t m = path_key(c, "work");
		int rc = parse_work(c, get(v, "work"), &d->work);

		path_pop(c, m);
		if (rc)
			return -1;
	}
	{
		size_t m = path_key(c, "workers");
		int rc = check_group(c, &d->work, "workers", d->workers);

		path_pop(c, m);
		if (rc)
			return -1;
	}
	{
		size_t m = path_key(c, "cpuset");
		int rc = parse_cpuset(c, json_object_get(v, "cpuset"), &d->cpuset, NULL);

		path_pop(c, m);
		if (rc)
			return -1;
	}
	if (get_string(c, v, "policy", &pol))
		return -1;
	d->policy = POLICY_NORMAL;
	if (pol) {
		int i = list_index(policy_names, pol);

		if (i < 0) {
			struct strbuf l = STRBUF_INIT;

			list_join(policy_names, &l);
			perr_key(c, "policy", "unknown policy '%s'; expected one of %s", pol, l.buf);
			strbuf_release(&l);
			return -1;
		}
		d->policy = (enum sched_policy)i;
	}
	if (d->policy == POLICY_FIFO || d->policy == POLICY_RR) {
		if (get_whole(c, v, "rt_priority", 1, 99, 1, &n))
			return -1;
		d->rt_priority = (int)n;
		if (get(v, "nice"))
			return perr_key(c, "nice", "does not apply to policy %s, which uses "
					"rt_priority", policy_names[d->policy]);
	} else {
		if (get(v, "rt_priority"))
			return perr_key(c, "rt_priority", "only applies to policy fifo or rr, "
					"not %s", policy_names[d->policy]);
		if (get_whole(c, v, "nice", -20, 19, 0, &n))
			return -1;
		d->nice = (int)n;
	}
	b = 0;
	if (get_bool(c, v, "pinned", &b))
		return -1;
	d->pinned = b;
	b = 0;
	if (get_bool(c, v, "background", &b))
		return -1;
	d->background = b;
	return 0;
}

static void cgroup_release(struct cgroup_def *d)
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
static int sim_check_new(struct pctx *c, const char *name, const char *dup_where)
{
	size_t i;

	if (sim_find(c, name))
		return perr(c, "cgroup '%s' %s", name, dup_where);
	for (i = 0; i < c->n_live; i++) {
		const char *o = c->live[i].name;

		if (is_ancestor(o, name) || is_ancestor(name, o))
			return perr(c, "cgroup '%s' would be %s cgroup '%s'; only leaf cgroups "
				    "can hold workers, so give nested cgroups a parent that is "
				    "not itself a cgroup here (e.g. \"outer/a\" and \"outer/b\")",
				    name, is_ancestor(o, name) ? "inside" : "the parent of", o);
	}
	return 0;
}

static void sim_add(struct pctx *c, const struct cgroup_def *d)
{
	if (c->n_live == c->alloc_live) {
		c->alloc_live = c->alloc_live ? 2 * c->alloc_live : 16;
		c->live = xrealloc(c->live, c->alloc_live * sizeof(*c->live));
	}
	c->live[c->n_live].name = d->name;
	c->live[c->n_live].def = d;
	c->live[c->n_live].stopped_at = -1;
	c->n_live++;
}

static void sim_remove(struct pctx *c, struct live *l)
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
static int sim_ref(struct pctx *c, const json_t *op, const char *key, struct live **out)
{
	const json_t *v = get(op, key);
	struct strbuf l = STRBUF_INIT;
	const char *name;
	size_t i;

	if (!v)
		return perr_key(c, key, "missing; expected the name of a cgroup");
	if (!json_is_string(v))
		return perr_key(c, key, "must be a cgroup name (a string), got %s", show(c, v));
	name = json_string_value(v);
	*out = sim_find(c, name);
	if (*out)
		return 0;
	for (i = 0; i < c->n_live; i++)
		strbuf_addf(&l, "%s%s", i ? ", " : "", c->live[i].name);
	if (!l.len)
		strbuf_addstr(&l, "none");
	for (i = c->n_gone; i-- > 0;) {
		if (!strcmp(c->gone[i].name, name)) {
			perr_key(c, key, "no cgroup '%s' exists at step %zu: it was removed at "
				 "step %zu (defined: %s)", name, c->step, c->gone[i].step, l.buf);
			strbuf_release(&l);
			return -1;
		}
	}
	perr_key(c, key, "no cgroup '%s' exists at step %zu (defined: %s)", name, c->step,
		 l.buf);
	strbuf_release(&l);
	return -1;
}

/* ---- ops, holds, steps ------------------------------------------------ */

static const char *const k_op_cg[] = { "op", "cgroup", NULL };
static const char *const k_op_cpuset[] = { "op", "cgroup", "cpuset", NULL };
static const char *const k_op_swap[] = { "op", "cgroup", "with", NULL };
static const char *const k_op_move[] = { "op", "cgroup", "to", "count", NULL };
static const char *const k_op_spawn[] = { "op", "cgroup", "count", NULL };

static const char *const *op_keys(enum op_kind k)
{
	switch (k) {
	case OP_SET_CPUSET: case OP_SET_AFFINITY: return k_op_cpuset;
	case OP_SWAP_CPUSETS: return k_op_swap;
	case OP_MOVE_TASKS: return k_op_move;
	case OP_SPAWN: return k_op_spawn;
	default: return k_op_cg;
	}
}

static int parse_op(struct pctx *c, const json_t *v, struct op *op, bool loop)
{
	const char *kname;
	struct live *a = NULL, *b = NULL;
	long long n;
	int k;

	if (!json_is_object(v))
		return perr(c, "must be an object {\"op\": ..., \"cgroup\": ...}, got %s",
			    show(c, v));
	if (!get(v, "op") || !json_is_string(get(v, "op")) ||
	    (k = list_index(op_names, json_string_value(get(v, "op")))) < 0) {
		struct strbuf l = STRBUF_INIT;

		list_join(op_names, &l);
		if (!get(v, "op"))
			perr_key(c, "op", "missing; expected one of %s", l.buf);
		else if (!json_is_string(get(v, "op")))
			perr_key(c, "op", "must be one of %s, got %s", l.buf,
				 show(c, get(v, "op")));
		else
			perr_key(c, "op", "unknown op '%s'; expected one of %s",
				 json_string_value(get(v, "op")), l.buf);
		strbuf_release(&l);
		return -1;
	}
	op->kind = (enum op_kind)k;
	kname = op_names[k];
	{
		char what[48];

		snprintf(what, sizeof(what), " for op %s", kname);
		if (check_keys(c, v, op_keys(op->kind), what))
			return -1;
	}
	if (loop && (op->kind == OP_ADD || op->kind == OP_REMOVE))
		return perr_key(c, "op", "%s cannot be used in a step with a loop hold (its "
				"ops repeat every interval); put it in a step of its own", kname);

	if (op->kind == OP_ADD) {
		const json_t *def = get(v, "cgroup");
		size_t m;
		int rc;

		if (!def)
			return perr_key(c, "cgroup", "missing; expected a cgroup definition "
					"{\"name\": ..., ...}");
		m = path_key(c, "cgroup");
		rc = parse_cgroup(c, def, &op->def);
		if (!rc) {
			char where[48];
			size_t m2 = path_key(c, "name");

			snprintf(where, sizeof(where), "already exists at step %zu", c->step);
			rc = sim_check_new(c, op->def.name, where);
			path_pop(c, m2);
		}
		path_pop(c, m);
		if (rc)
			return -1;
		op->cgroup = xstrdup(op->def.name);
		sim_add(c, &op->def);
		c->n_adds++;
		return 0;
	}

	if (sim_ref(c, v, "cgroup", &a))
		return -1;
	op->cgroup = xstrdup(a->name);
	switch (op->kind) {
	case OP_REMOVE:
		sim_remove(c, a);
		break;
	case OP_STOP:
		a->stopped_at = (long)c->step;
		break;
	case OP_CLEAR_CPUSET:
		break;
	case OP_SET_CPUSET:
	case OP_SET_AFFINITY: {
		size_t m = path_key(c, "cpuset");
		int rc = parse_cpuset(c, get(v, "cpuset"), &op->cpuset,
				      op->kind == OP_SET_CPUSET ?
				      "; use clear_cpuset to remove a cpuset" : "");

		path_pop(c, m);
		if (rc)
			return -1;
		break;
	}
	case OP_SWAP_CPUSETS:
	case OP_MOVE_TASKS: {
		const char *key = op->kind == OP_SWAP_CPUSETS ? "with" : "to";

		if (sim_ref(c, v, key, &b))
			return -1;
		if (a == b)
			return perr_key(c, key, "must name a different cgroup than cgroup ('%s')",
					a->name);
		op->other = xstrdup(b->name);
		if (op->kind == OP_MOVE_TASKS) {
			if (get_whole(c, v, "count", 0, KTSTR_MAX_WORKERS, 0, &n))
				return -1;
			op->count = (unsigned)n;
			if (a->stopped_at >= 0)
				return perr_key(c, "cgroup", "cgroup '%s' was stopped at step %ld "
						"and has no workers to move", a->name,
						a->stopped_at);
		}
		break;
	}
	case OP_SPAWN: {
		size_t m;
		int rc;

		if (get_whole(c, v, "count", 1, KTSTR_MAX_WORKERS, 1, &n))
			return -1;
		op->count = (unsigned)n;
		m = path_key(c, "count");
		rc = check_group(c, &a->def->work, "count", n);
		path_pop(c, m);
		if (rc)
			return -1;
		a->stopped_at = -1;
		break;
	}
	default:
		break;
	}
	return 0;
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
		return perr(c, "must be an object such as {\"frac\": 0.5}, {\"ms\": 1000}, "
			    "{\"duration\": \"1s\"} or {\"loop\": {...}}, got %s", show(c, v));
	if (check_keys(c, v, k_hold, " for a hold"))
		return -1;
	have_ms = get(v, "ms") || get(v, "duration") || get(v, "duration_ms") ||
		  get(v, "duration_us");
	kinds = !!get(v, "frac") + !!have_ms + !!get(v, "loop");
	if (kinds != 1 || (get(v, "ms") && (get(v, "duration") || get(v, "duration_ms") ||
					     get(v, "duration_us"))))
		return perr(c, "give exactly one of frac, ms (or duration) and loop");
	if (get(v, "frac")) {
		h->kind = HOLD_FRAC;
		return get_frac(c, v, "frac", &h->frac, &have);
	}
	if (have_ms) {
		h->kind = HOLD_MS;
		h->frac = 0;
		if (get(v, "ms")) {
			long long n;

			if (get_whole(c, v, "ms", 1, (long long)KTSTR_MAX_DURATION_MS, 0, &n))
				return -1;
			h->ms = (unsigned long long)n;
			return 0;
		}
		if (get_duration_us(c, v, "duration", 1000, KTSTR_MAX_DURATION_MS * 1000,
				    &us, &have))
			return -1;
		h->ms = (us + 500) / 1000;
		return 0;
	}
	{
		const json_t *l = get(v, "loop");
		size_t m = path_key(c, "loop");
		int rc = -1;

		h->kind = HOLD_LOOP;
		if (!json_is_object(l)) {
			perr(c, "must be an object {\"interval\": \"200ms\", \"frac\": f}, got %s",
			     show(c, l));
			goto out;
		}
		if (check_keys(c, l, k_loop, " for a loop hold"))
			goto out;
		if (get_duration_us(c, l, "interval", 1000, KTSTR_MAX_DURATION_MS * 1000,
				    &us, &have))
			goto out;
		if (!have) {
			perr_key(c, "interval", "missing; expected how often to repeat the "
				 "ops, e.g. \"interval\": \"200ms\"");
			goto out;
		}
		h->interval_ms = (us + 500) / 1000;
		if (get_frac(c, l, "frac", &h->frac, &have))
			goto out;
		if (h->interval_ms > (unsigned long long)llround(h->frac * (double)duration_ms)) {
			perr_key(c, "interval", "%llu ms is longer than the hold itself (%lld ms)",
				 h->interval_ms, llround(h->frac * (double)duration_ms));
			goto out;
		}
		rc = 0;
out:
		path_pop(c, m);
		return rc;
	}
}

static const char *const k_step[] = { "ops", "hold", NULL };

static int parse_step(struct pctx *c, const json_t *v, struct step *st, double def_frac,
		      unsigned long long duration_ms)
{
	const json_t *ops;
	size_t i, m;

	if (!json_is_object(v))
		return perr(c, "must be an object {\"ops\": [...], \"hold\": {...}}, got %s",
			    show(c, v));
	if (check_keys(c, v, k_step, " for a step"))
		return -1;
	m = path_key(c, "hold");
	if (parse_hold(c, get(v, "hold"), &st->hold, def_frac, duration_ms)) {
		path_pop(c, m);
		return -1;
	}
	path_pop(c, m);
	ops = get(v, "ops");
	if (!ops)
		return 0;
	if (!json_is_array(ops) || json_array_size(ops) > MAX_OPS)
		return perr_key(c, "ops", "must be an array of at most %d ops, got %s",
				MAX_OPS, show(c, ops));
	st->n_ops = json_array_size(ops);
	st->ops = xcalloc(st->n_ops ? st->n_ops : 1, sizeof(*st->ops));
	m = path_key(c, "ops");
	for (i = 0; i < st->n_ops; i++) {
		size_t m2 = path_idx(c, i);
		int rc = parse_op(c, json_array_get(ops, i), &st->ops[i],
				  st->hold.kind == HOLD_LOOP);

		path_pop(c, m2);
		if (rc) {
			path_pop(c, m);
			return -1;
		}
	}
	path_pop(c, m);
	return 0;
}

/* ---- the document ----------------------------------------------------- */

static const char *const k_top[] = {
	"name", "description", "duration", "duration_ms", "duration_us", "requires",
	"checks", "cgroups", "steps", NULL
};
static const char *const k_requires[] = { "min_llcs", "min_cpus", "min_nodes", "smt", NULL };

static int parse_requires(struct pctx *c, const json_t *v, struct requires *r)
{
	long long n;

	if (!json_is_object(v))
		return perr(c, "must be an object such as {\"min_llcs\": 2}, got %s", show(c, v));
	if (check_keys(c, v, k_requires, NULL))
		return -1;
	if (get_whole(c, v, "min_llcs", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_llcs = (unsigned)n;
	if (get_whole(c, v, "min_cpus", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_cpus = (unsigned)n;
	if (get_whole(c, v, "min_nodes", 0, KTSTR_TOPO_MAX_CPUS, 0, &n))
		return -1;
	r->min_nodes = (unsigned)n;
	return get_bool(c, v, "smt", &r->smt);
}

/* One threshold of the checks object: d's key or an alias of it at key. */
static int parse_check(struct pctx *c, const json_t *v, const char *key,
		       const struct check_def *d, struct checks *k)
{
	const json_t *x = get(v, key);
	struct strbuf want = STRBUF_INIT;
	int rc = 0;

	if (!x)
		return 0;
	if (d->kind == CHECK_SWITCH)
		return get_bool(c, v, key, check_switch(k, d));
	if (json_is_string(x) && !strcmp(json_string_value(x), "off")) {
		*check_limit(k, d) = INFINITY;
		return 0;
	}
	if (!json_is_number(x) || !check_limit_valid(d, json_number_value(x))) {
		check_limit_expect(d, &want);
		rc = perr_key(c, key, "must be %s or \"off\", got %s", want.buf, show(c, x));
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
		return perr(c, "must be an object such as {\"max_spread_pct\": 20}, got %s",
			    show(c, v));
	json_object_foreach((json_t *)v, key, x) {
		const struct check_def *d = checktab_find(key);
		const char *other;
		json_t *y;

		if (!d) {
			struct strbuf l = STRBUF_INIT;

			checktab_keys_join(&l);
			perr_key(c, key, "unknown key; expected one of %s", l.buf);
			strbuf_release(&l);
			return -1;
		}
		json_object_foreach((json_t *)v, other, y) {
			if (other == key)
				break;
			if (checktab_find(other) == d)
				return perr_key(c, key, "the same check as %s, given before it; "
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
		return perr_key(c, "cgroups", "must be an array of at most %d cgroups, got %s",
				MAX_CGROUPS, show(c, arr));
	s->n_cgroups = json_array_size(arr);
	s->cgroups = xcalloc(s->n_cgroups ? s->n_cgroups : 1, sizeof(*s->cgroups));
	m = path_key(c, "cgroups");
	for (i = 0; i < s->n_cgroups; i++) {
		size_t m2 = path_idx(c, i), j;
		int rc = parse_cgroup(c, json_array_get(arr, i), &s->cgroups[i]);

		if (!rc) {
			char where[64] = "";
			size_t m3 = path_key(c, "name");

			for (j = 0; j < i; j++)
				if (!strcmp(s->cgroups[j].name, s->cgroups[i].name))
					snprintf(where, sizeof(where),
						 "is already defined at $.cgroups[%zu]", j);
			rc = sim_check_new(c, s->cgroups[i].name, where);
			path_pop(c, m3);
		}
		path_pop(c, m2);
		if (rc) {
			path_pop(c, m);
			return -1;
		}
		sim_add(c, &s->cgroups[i]);
	}
	path_pop(c, m);
	return 0;
}

static int parse_steps(struct pctx *c, const json_t *arr, struct scenario *s)
{
	double sum = 0;
	size_t i, m;

	if (!json_is_array(arr) || json_array_size(arr) > MAX_STEPS)
		return perr_key(c, "steps", "must be an array of at most %d steps, got %s",
				MAX_STEPS, show(c, arr));
	s->n_steps = json_array_size(arr);
	s->steps = xcalloc(s->n_steps ? s->n_steps : 1, sizeof(*s->steps));
	m = path_key(c, "steps");
	for (i = 0; i < s->n_steps; i++) {
		size_t m2 = path_idx(c, i);
		struct hold *h = &s->steps[i].hold;
		int rc;

		c->step = i;
		rc = parse_step(c, json_array_get(arr, i), &s->steps[i],
				1.0 / (double)s->n_steps, s->duration_ms);
		if (!rc) {
			sum += h->kind == HOLD_MS ? (double)h->ms / (double)s->duration_ms : h->frac;
			if (sum > 1 + FRAC_EPS) {
				size_t m3 = path_key(c, "hold");

				perr(c, "steps 0-%zu hold for %.0f ms in total, more than the "
				     "duration (%llu ms); shorten the holds or raise duration",
				     i, sum * (double)s->duration_ms, s->duration_ms);
				path_pop(c, m3);
				rc = -1;
			}
		}
		path_pop(c, m2);
		if (rc) {
			path_pop(c, m);
			return -1;
		}
	}
	path_pop(c, m);
	return 0;
}

static int parse_doc(struct pctx *c, const json_t *doc, struct scenario *s)
{
	const char *str;
	unsigned long long us;
	bool have;

	if (!json_is_object(doc))
		return perr(c, "a scenario must be a JSON object, got %s", show(c, doc));
	if (check_keys(c, doc, k_top, NULL))
		return -1;
	if (get_string(c, doc, "name", &str))
		return -1;
	if (str && !valid_scenario_name(str))
		return perr_key(c, "name", "'%s' is not a valid scenario name; use 1 to %d "
				"letters, digits, '_', '.' and '-'", str, MAX_SCENARIO_NAME);
	s->name = xstrdup(str ? str : "custom");
	if (get_string(c, doc, "description", &str))
		return -1;
	s->description = xstrdup(str ? str : "");
	if (get_duration_us(c, doc, "duration", 1000, KTSTR_MAX_DURATION_MS * 1000, &us, &have))
		return -1;
	s->duration_ms = have ? (us + 500) / 1000 : 5000;
	if (get(doc, "requires")) {
		size_t m = path_key(c, "requires");
		int rc = parse_requires(c, get(doc, "requires"), &s->req);

		path_pop(c, m);
		if (rc)
			return -1;
	}
	if (get(doc, "checks")) {
		size_t m = path_key(c, "checks");
		int rc = parse_checks(c, get(doc, "checks"), &s->checks);

		path_pop(c, m);
		if (rc)
			return -1;
	}
	if (get(doc, "cgroups") && parse_cgroups(c, get(doc, "cgroups"), s))
		return -1;
	if (get(doc, "steps") && parse_steps(c, get(doc, "steps"), s))
		return -1;
	if (!s->n_cgroups && !c->n_adds)
		return perr_key(c, "cgroups", "no cgroups; define at least one here or add one "
				"with an {\"op\": \"add\"} step");
	return 0;
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
	strbuf_release(&c.path);
	return rc;
}

void scenario_release(struct scenario *s)
{
	size_t i, j;

	for (i = 0; i < s->n_cgroups; i++)
		cgroup_release(&s->cgroups[i]);
	free(s->cgroups);
	for (i = 0; i < s->n_steps; i++) {
		for (j = 0; j < s->steps[i].n_ops; j++) {
			struct op *op = &s->steps[i].ops[j];

			free(op->cgroup);
			free(op->other);
			cgroup_release(&op->def);
			free(op->cpuset.list);
		}
		free(s->steps[i].ops);
	}
	free(s->steps);
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
