/* Work specs of scenario cgroups: the work types, their parameters and
 * defaults, sequence phases, and the worker groupings some types need. */
#include "scenario_int.h"

#include <stdio.h>
#include <string.h>

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

void sp_work_defaults(enum work_type t, struct work_spec *w)
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

	sp_list_join(work_names, &l);
	sp_perr(c, "unknown work type '%s'; expected one of %s", name, l.buf);
	strbuf_release(&l);
	return -1;
}

static int parse_phases(struct pctx *c, const json_t *v, struct work_spec *w)
{
	const json_t *arr = sp_get(v, "phases");
	size_t i, m;

	if (!arr)
		return sp_perr_key(c, "phases", "missing; expected an array of 1 to %d phases "
				   "such as {\"spin\": \"10ms\"}", MAX_PHASES);
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_PHASES)
		return sp_perr_key(c, "phases", "must be an array of 1 to %d phases such as "
				   "{\"spin\": \"10ms\"}, got %s", MAX_PHASES, sp_show(c, arr));
	w->n_phases = json_array_size(arr);
	w->phases = xcalloc(w->n_phases, sizeof(*w->phases));
	m = sp_path_key(c, "phases");
	for (i = 0; i < w->n_phases; i++) {
		const json_t *p = json_array_get(arr, i);
		struct work_phase *ph = &w->phases[i];
		size_t m2 = sp_path_idx(c, i);
		unsigned long long us;
		long long n;
		bool have;

		if (!json_is_object(p) || json_object_size(p) != 1) {
			sp_perr(c, "must be an object with exactly one of spin, sleep, yield or "
				"io, e.g. {\"spin\": \"10ms\"}, got %s", sp_show(c, p));
			goto fail;
		}
		if (sp_check_keys(c, p, k_phase, " for a phase"))
			goto fail;
		if (json_is_null(json_object_iter_value(json_object_iter((json_t *)p)))) {
			sp_perr(c, "the phase's value is null; expected e.g. {\"spin\": \"10ms\"}");
			goto fail;
		}
		if (sp_get_duration_us(c, p, "spin", 1, MAX_WORK_US, &us, &have))
			goto fail;
		if (have) {
			ph->kind = PHASE_SPIN;
			ph->us = us;
		}
		if (sp_get_duration_us(c, p, "sleep", 1, MAX_WORK_US, &us, &have))
			goto fail;
		if (have) {
			ph->kind = PHASE_SLEEP;
			ph->us = us;
		}
		if (sp_get(p, "yield")) {
			if (sp_get_whole(c, p, "yield", 1, MAX_PHASE_COUNT, 1, &n))
				goto fail;
			ph->kind = PHASE_YIELD;
			ph->count = (unsigned)n;
		}
		if (sp_get(p, "io")) {
			if (sp_get_whole(c, p, "io", 1, MAX_PHASE_COUNT, 1, &n))
				goto fail;
			ph->kind = PHASE_IO;
			ph->count = (unsigned)n;
		}
		sp_path_pop(c, m2);
		continue;
fail:
		sp_path_pop(c, m2);
		sp_path_pop(c, m);
		return -1;
	}
	sp_path_pop(c, m);
	return 0;
}

int sp_parse_work(struct pctx *c, const json_t *v, struct work_spec *w)
{
	const char *tname;
	enum work_type t;
	unsigned long long us;
	long long n;
	bool have;

	if (!v) {
		sp_work_defaults(WORK_SPIN_WAIT, w);
		return 0;
	}
	if (json_is_string(v)) {
		if (work_type_parse(json_string_value(v), &t))
			return unknown_work_type(c, json_string_value(v));
		sp_work_defaults(t, w);
		if (t == WORK_SEQUENCE)
			return sp_perr(c, "sequence needs phases; write "
				       "{\"type\": \"sequence\", \"phases\": [...]}");
		return 0;
	}
	if (!json_is_object(v))
		return sp_perr(c, "must be a work type name or an object {\"type\": ...}, got %s",
			       sp_show(c, v));
	if (!sp_get(v, "type")) {
		struct strbuf l = STRBUF_INIT;

		sp_list_join(work_names, &l);
		sp_perr_key(c, "type", "missing; expected one of %s", l.buf);
		strbuf_release(&l);
		return -1;
	}
	if (sp_get_string(c, v, "type", &tname))
		return -1;
	if (work_type_parse(tname, &t)) {
		size_t m = sp_path_key(c, "type");
		int rc = unknown_work_type(c, tname);

		sp_path_pop(c, m);
		return rc;
	}
	sp_work_defaults(t, w);
	{
		char what[64];

		snprintf(what, sizeof(what), " for work type %s", tname);
		if (sp_check_keys(c, v, work_keys(t), what))
			return -1;
	}
	switch (t) {
	case WORK_BURSTY:
		if (sp_get_duration_us(c, v, "burst", 1, MAX_WORK_US, &us, &have))
			return -1;
		if (have)
			w->burst_us = us;
		/* fall through */
	case WORK_MIXED:
		if (sp_get_duration_us(c, v, "sleep", 0, MAX_WORK_US, &us, &have))
			return -1;
		if (have)
			w->sleep_us = us;
		break;
	case WORK_IO_SYNC:
		if (sp_get_whole(c, v, "bytes", 1, 1 << 20, w->bytes, &n))
			return -1;
		w->bytes = (unsigned)n;
		break;
	case WORK_PIPE_IO:
		if (sp_get_whole(c, v, "bytes", 1, 1 << 16, w->bytes, &n))
			return -1;
		w->bytes = (unsigned)n;
		break;
	case WORK_CACHE_PRESSURE:
	case WORK_PAGE_FAULT_CHURN:
		if (sp_get_whole(c, v, "kib", 1, 1 << 18, w->kib, &n))
			return -1;
		w->kib = (unsigned)n;
		break;
	case WORK_FUTEX_FAN_OUT:
		if (sp_get_whole(c, v, "fan", 1, 64, w->fan, &n))
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
int sp_check_group(struct pctx *c, const struct work_spec *w, const char *field,
		       long long n)
{
	unsigned g = work_group(w);

	if (n % g == 0)
		return 0;
	if (w->type == WORK_FUTEX_FAN_OUT)
		return sp_perr(c, "futex_fan_out with fan %u runs workers in groups of %u "
			       "(one waker, %u waiters), so %s must be a multiple of %u, got %lld",
			       w->fan, g, w->fan, field, g, n);
	return sp_perr(c, "%s runs workers in pairs, so %s must be even, got %lld",
		       work_type_name(w->type), field, n);
}
