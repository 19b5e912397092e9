#include "monitor.h"
#include "diag.h"
#include "jsonl.h"
#include "kaddr.h"
#include "kbtf.h"
#include "monitor_layout.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* More CPUs than this is not a ktstr VM. */
#define MONITOR_MAX_CPUS	4096
/* HZ estimation: guest time a window must span, and how close to a
 * CONFIG_HZ choice the estimate must fall. */
#define HZ_WINDOW_NS		200000000ULL
#define HZ_TOLERANCE		0.10
/* A wait longer than this many jiffies is a torn read, not a task. */
#define MAX_SANE_WAIT_JIFFIES	(1ULL << 32)

struct monitor {
	const struct guestmem *gm;
	struct kaddr k;
	struct monitor_layout L;
	char *btf_path;			/* where the layout came from */
	struct monitor_symbols sym;
	int cpus, interval_ms;
	char *vcpu_threads;
	char skip_reason[160];

	/* struct rq: one read of [span_lo, span_hi) per CPU */
	long span_lo, span_hi;
	uint8_t *rqbuf;			/* cpus * span */
	uint8_t *evbuf;
	bool events_readable;

	uint64_t *pcpu_off;
	bool pcpu_ok;
	uint64_t *clock, *prev_clock;
	bool have_prev_clock;
	unsigned long long *prev_run, *prev_wait;
	bool have_prev_run;		/* both were read at the last sample */

	int hz;
	bool hz_started;
	uint64_t hz_j0;
	uint64_t *hz_clock0;

	unsigned long long samples, skipped;
	double sum_us, max_us;
};

static uint64_t get_uint(const uint8_t *p, long size)
{
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;

	switch (size) {
	case 8: memcpy(&v64, p, 8); return v64;
	case 4: memcpy(&v32, p, 4); return v32;
	case 2: memcpy(&v16, p, 2); return v16;
	case 1: return *p;
	}
	return 0;
}

static int64_t get_sint(const uint8_t *p, long size)
{
	uint64_t v = get_uint(p, size);

	switch (size) {
	case 4: return (int32_t)(uint32_t)v;
	case 2: return (int16_t)(uint16_t)v;
	case 1: return (int8_t)(uint8_t)v;
	}
	return (int64_t)v;
}

/* ---- kernel_symbols ---- */

static const struct {
	const char *name;
	size_t off;
} sym_fields[] = {
	{ "runqueues", offsetof(struct monitor_symbols, runqueues) },
	{ "__per_cpu_offset", offsetof(struct monitor_symbols, per_cpu_offset) },
	{ "page_offset_base", offsetof(struct monitor_symbols, page_offset_base) },
	{ "init_top_pgt", offsetof(struct monitor_symbols, init_top_pgt) },
	{ "_text", offsetof(struct monitor_symbols, text) },
	{ "scx_root", offsetof(struct monitor_symbols, scx_root) },
	{ "scx_enable_state_var", offsetof(struct monitor_symbols, scx_enable_state_var) },
	{ "jiffies", offsetof(struct monitor_symbols, jiffies) },
	{ "phys_base", offsetof(struct monitor_symbols, phys_base) },
};

static int parse_addr(const json_t *v, uint64_t *out)
{
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return -1;
	if (!isxdigit((unsigned char)s[2]))
		return -1;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return errno || *end ? -1 : 0;
}

int monitor_symbols_parse(const json_t *rec, struct monitor_symbols *syms, struct strbuf *err)
{
	const json_t *tab, *v, *missing;
	char got[80];
	size_t i;

	memset(syms, 0, sizeof(*syms));
	if (!json_is_object(rec)) {
		strbuf_addf(err, "kernel_symbols: expected an object, got %s",
			    json_brief(rec, got, sizeof(got)));
		return -1;
	}
	tab = json_object_get(rec, "symbols");
	if (!json_is_object(tab)) {
		strbuf_addf(err, "kernel_symbols: \"symbols\" must be an object, got %s",
			    json_brief(tab, got, sizeof(got)));
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(sym_fields); i++) {
		uint64_t *dst = (uint64_t *)((char *)syms + sym_fields[i].off);

		v = json_object_get(tab, sym_fields[i].name);
		if (!v || json_is_null(v))
			continue;
		if (parse_addr(v, dst) < 0) {
			strbuf_addf(err, "kernel_symbols: %s must be a hex string like "
				    "\"0xffffffff81000000\", got %s", sym_fields[i].name,
				    json_brief(v, got, sizeof(got)));
			return -1;
		}
	}
	missing = json_object_get(rec, "missing");
	if (json_is_array(missing)) {
		json_array_foreach(missing, i, v) {
			size_t j;

			if (!json_is_string(v))
				continue;
			for (j = 0; j < ARRAY_SIZE(sym_fields); j++)
				if (!strcmp(json_string_value(v), sym_fields[j].name))
					*(uint64_t *)((char *)syms + sym_fields[j].off) = 0;
		}
	}
	v = json_object_get(rec, "kernel_code_phys");
	if (v && !json_is_null(v) && parse_addr(v, &syms->kernel_code_phys) < 0) {
		strbuf_addf(err, "kernel_symbols: kernel_code_phys must be a hex string, got %s",
			    json_brief(v, got, sizeof(got)));
		return -1;
	}
	v = json_object_get(rec, "nr_cpu_ids");
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= MONITOR_MAX_CPUS)
		syms->nr_cpu_ids = (int)json_integer_value(v);
	return 0;
}

/* ---- open ---- */

static void span_add(struct monitor *m, const struct fld *f)
{
	if (!fld_has(f))
		return;
	if (m->span_hi == 0 || f->off < m->span_lo)
		m->span_lo = f->off;
	if (f->off + f->size > m->span_hi)
		m->span_hi = f->off + f->size;
}

/* What the layout means for this run: the span of struct rq read per
 * CPU, and whether the event counters can be found (scx_root given). */
static void layout_use(struct monitor *m)
{
	m->span_lo = m->span_hi = 0;
	span_add(m, &m->L.rq_nr_running);
	span_add(m, &m->L.rq_curr);
	span_add(m, &m->L.rq_idle);
	span_add(m, &m->L.rq_clock);
	span_add(m, &m->L.rq_cpu);
	span_add(m, &m->L.rq_scx_nr_running);
	span_add(m, &m->L.rq_local_dsq);
	span_add(m, &m->L.rq_runnable_list);
	m->events_readable = m->L.n_ev > 0 && m->sym.scx_root &&
		((fld_has(&m->L.sched_pcpu) && m->L.sched_pcpu.size == 8 && m->L.pcpu_event_stats >= 0) ||
		 (fld_has(&m->L.sched_event_stats_cpu) && m->L.sched_event_stats_cpu.size == 8));
	if (m->events_readable)
		m->evbuf = xmalloc(m->L.ev_size);
}

/* The layout given (a cache's), or read from the BTF. */
static int layout_get(struct monitor *m, const struct monitor_config *cfg, struct kbtf *given,
		      struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int rc = -1;

	if (cfg->layout) {
		if (monitor_layout_parse(&m->L, cfg->layout, &why) < 0)
			strbuf_addf(err, "cached BTF layout of %s: %s",
				    m->btf_path ? m->btf_path : "the kernel", why.buf);
		else
			rc = 0;
	} else if (!given->btf && !cfg->btf_path) {
		strbuf_addstr(err, "kernel has no BTF: no vmlinux or BTF file given");
	} else if (!given->btf && kbtf_open(given, cfg->btf_path, &why) < 0) {
		strbuf_addf(err, "kernel has no BTF: %s", why.buf);
	} else if (monitor_layout_read(&m->L, given, &why) < 0) {
		strbuf_addf(err, "%s: %s", given->path, why.buf);
	} else {
		rc = 0;
	}
	strbuf_release(&why);
	return rc;
}

static bool have_max_wait(const struct monitor *m)
{
	return m->sym.jiffies && fld_has(&m->L.rq_runnable_list) && fld_has(&m->L.task_runnable_node) &&
	       fld_has(&m->L.task_runnable_at) && (m->sym.scx_root || m->sym.scx_enable_state_var);
}

static bool have_scx(const struct monitor *m)
{
	return fld_has(&m->L.rq_scx_nr_running);
}

struct monitor *monitor_open(const struct monitor_config *cfg, struct strbuf *err)
{
	const struct monitor_symbols *s = cfg->syms;
	struct kaddr_config kc = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct monitor *m;
	int cpus = cfg->cpus;
	struct kbtf given = { 0 };

	/* Taken over whatever happens next. */
	if (cfg->btf) {
		given = *cfg->btf;
		memset(cfg->btf, 0, sizeof(*cfg->btf));
	}
	if (!cfg->gm || !cfg->gm->pid) {
		strbuf_addstr(err, "guest memory is not open");
		goto refuse;
	}
	if (!s->runqueues || !s->per_cpu_offset || !s->text || !s->init_top_pgt) {
		strbuf_addstr(err, "kernel symbols missing:");
		if (!s->runqueues)
			strbuf_addstr(err, " runqueues");
		if (!s->per_cpu_offset)
			strbuf_addstr(err, " __per_cpu_offset");
		if (!s->text)
			strbuf_addstr(err, " _text");
		if (!s->init_top_pgt)
			strbuf_addstr(err, " init_top_pgt");
		strbuf_addstr(err, " (a kernel without CONFIG_KALLSYMS_ALL?)");
		goto refuse;
	}
	if (!s->kernel_code_phys) {
		strbuf_addstr(err, "the kernel's physical load address (\"Kernel code\" in "
			      "/proc/iomem) is unknown");
		goto refuse;
	}
	if (s->nr_cpu_ids > 0 && cpus > s->nr_cpu_ids)
		cpus = s->nr_cpu_ids;
	if (cpus < 1 || cpus > MONITOR_MAX_CPUS) {
		strbuf_addf(err, "%d CPUs is out of range", cfg->cpus);
		goto refuse;
	}

	m = xcalloc(1, sizeof(*m));
	m->gm = cfg->gm;
	m->sym = *s;
	m->cpus = cpus;
	m->interval_ms = cfg->interval_ms;
	m->hz = cfg->hz;
	m->vcpu_threads = cfg->vcpu_threads ? xstrdup(cfg->vcpu_threads) : NULL;
	m->btf_path = cfg->btf_path ? xstrdup(cfg->btf_path) :
		      given.path ? xstrdup(given.path) : NULL;
	if (layout_get(m, cfg, &given, err) < 0)
		goto fail;
	/* The BTF's 6 MB are not needed past this point. */
	kbtf_close(&given);
	layout_use(m);

	kc.text = s->text;
	kc.kernel_code_phys = s->kernel_code_phys;
	kc.page_offset_base_sym = s->page_offset_base;
	kc.init_top_pgt = s->init_top_pgt;
	kc.levels = cfg->paging_levels;
	strbuf_reset(&why);
	if (kaddr_init(&m->k, cfg->gm, &kc, &why) < 0) {
		strbuf_addf(err, "cannot translate kernel addresses: %s", why.buf);
		goto fail;
	}
	strbuf_release(&why);

	m->rqbuf = xcalloc(cpus, m->span_hi - m->span_lo);
	m->pcpu_off = xcalloc(cpus, sizeof(*m->pcpu_off));
	m->clock = xcalloc(cpus, sizeof(*m->clock));
	m->prev_clock = xcalloc(cpus, sizeof(*m->prev_clock));
	m->hz_clock0 = xcalloc(cpus, sizeof(*m->hz_clock0));
	m->prev_run = xcalloc(cpus, sizeof(*m->prev_run));
	m->prev_wait = xcalloc(cpus, sizeof(*m->prev_wait));
	return m;
fail:
	strbuf_release(&why);
	monitor_close(m);
refuse:
	kbtf_close(&given);
	return NULL;
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	monitor_layout_release(&m->L);
	free(m->btf_path);
	free(m->evbuf);
	free(m->rqbuf);
	free(m->pcpu_off);
	free(m->clock);
	free(m->prev_clock);
	free(m->hz_clock0);
	free(m->prev_run);
	free(m->prev_wait);
	free(m->vcpu_threads);
	free(m);
}

int monitor_hz(const struct monitor *m)
{
	return m->hz;
}

int monitor_paging_levels(const struct monitor *m)
{
	return m->k.levels;
}

int monitor_cpus(const struct monitor *m)
{
	return m->cpus;
}

const char *monitor_last_skip_reason(const struct monitor *m)
{
	return m->skip_reason;
}

/* ---- records ---- */

static void add_str(json_t *arr, const char *s)
{
	json_array_append_new(arr, json_string(s));
}

json_t *monitor_start_record(struct monitor *m, long long t_ms)
{
	json_t *r = jsonl_record("monitor_start"), *f = json_array(), *ev = json_array();
	int i;

	json_set_int(r, "t_ms", t_ms);
	json_set_int(r, "cpus", m->cpus);
	json_set_int(r, "interval_ms", m->interval_ms);
	json_set_str(r, "btf", m->btf_path);
	json_set_int(r, "paging_levels", m->k.levels);
	if (m->hz)
		json_set_int(r, "hz", m->hz);
	if (m->vcpu_threads)
		json_set_str(r, "vcpu_threads", m->vcpu_threads);
	add_str(f, "nr_running");
	if (have_scx(m))
		add_str(f, "scx_nr_running");
	if (fld_has(&m->L.rq_local_dsq))
		add_str(f, "local_dsq");
	if (fld_has(&m->L.rq_curr))
		add_str(f, "idle");
	if (fld_has(&m->L.rq_clock))
		add_str(f, "clock_adv_us");
	if (!m->vcpu_threads || strcmp(m->vcpu_threads, "none")) {
		add_str(f, "vcpu_run_us");
		add_str(f, "vcpu_wait_us");
	}
	if (have_max_wait(m))
		add_str(f, "max_wait_ms");
	json_object_set_new(r, "fields", f);
	if (m->events_readable)
		for (i = 0; i < m->L.n_ev; i++)
			add_str(ev, m->L.ev[i].name);
	json_object_set_new(r, "events", ev);
	return r;
}

json_t *monitor_end_record(struct monitor *m, long long t_ms)
{
	json_t *r = jsonl_record("monitor_end");
	unsigned long long n = m->samples + m->skipped;

	json_set_int(r, "t_ms", t_ms);
	json_set_int(r, "samples", (long long)m->samples);
	json_set_int(r, "skipped", (long long)m->skipped);
	json_set_real(r, "sample_us_mean", round((n ? m->sum_us / n : 0.0) * 100) / 100);
	json_set_real(r, "sample_us_max", round(m->max_us * 100) / 100);
	if (m->hz)
		json_set_int(r, "hz", m->hz);
	if (m->skipped && m->skip_reason[0])
		json_set_str(r, "last_skip_reason", m->skip_reason);
	return r;
}

/* ---- sampling ---- */

__attribute__((format(printf, 2, 3)))
static void skip(struct monitor *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->skip_reason, sizeof(m->skip_reason), fmt, ap);
	va_end(ap);
}

static int read_per_cpu_offsets(struct monitor *m)
{
	int i;

	if (m->pcpu_ok)
		return 0;
	if (kaddr_read(&m->k, m->sym.per_cpu_offset, m->pcpu_off,
		       m->cpus * sizeof(*m->pcpu_off)) < 0) {
		skip(m, "cannot read __per_cpu_offset at 0x%llx",
		     (unsigned long long)m->sym.per_cpu_offset);
		return -1;
	}
	for (i = 0; i < m->cpus; i++)
		if (!m->pcpu_off[i]) {
			skip(m, "__per_cpu_offset[%d] is still 0", i);
			return -1;
		}
	m->pcpu_ok = true;
	return 0;
}

static uint64_t rq_va(const struct monitor *m, int cpu)
{
	return m->sym.runqueues + m->pcpu_off[cpu];
}

static const uint8_t *rq_field(const struct monitor *m, int cpu, const struct fld *f)
{
	long span = m->span_hi - m->span_lo;

	return m->rqbuf + (size_t)cpu * span + (f->off - m->span_lo);
}

static int read_rqs(struct monitor *m)
{
	long span = m->span_hi - m->span_lo;
	int cpu;

	for (cpu = 0; cpu < m->cpus; cpu++) {
		if (kaddr_read(&m->k, rq_va(m, cpu) + m->span_lo, m->rqbuf + (size_t)cpu * span,
			       span) < 0) {
			skip(m, "cannot read CPU %d's runqueue at 0x%llx", cpu,
			     (unsigned long long)rq_va(m, cpu));
			m->pcpu_ok = false;
			return -1;
		}
		/* rq->cpu names its own CPU: catches a BTF that does not match
		 * the running kernel, or per-CPU offsets not yet set up. */
		if (fld_has(&m->L.rq_cpu) && get_uint(rq_field(m, cpu, &m->L.rq_cpu), m->L.rq_cpu.size) !=
		    (uint64_t)cpu) {
			skip(m, "CPU %d's runqueue says it is CPU %llu", cpu,
			     (unsigned long long)get_uint(rq_field(m, cpu, &m->L.rq_cpu),
							  m->L.rq_cpu.size));
			/* Re-read the offsets next time, they may have been early. */
			m->pcpu_ok = false;
			return -1;
		}
	}
	return 0;
}

static json_t *per_cpu_array(const struct monitor *m, const struct fld *f)
{
	json_t *a = json_array();
	int cpu;

	for (cpu = 0; cpu < m->cpus; cpu++)
		json_array_append_new(a, json_integer((json_int_t)get_uint(rq_field(m, cpu, f),
									    f->size)));
	return a;
}

/* Snap a HZ estimate to a CONFIG_HZ choice, or 0 when none is close. */
static int snap_hz(double est)
{
	static const int choices[] = { 100, 250, 300, 1000 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(choices); i++)
		if (est >= choices[i] * (1 - HZ_TOLERANCE) && est <= choices[i] * (1 + HZ_TOLERANCE))
			return choices[i];
	return 0;
}

static void estimate_hz(struct monitor *m, uint64_t jiffies)
{
	uint64_t best = 0;
	int cpu;

	if (!m->hz_started) {
		memcpy(m->hz_clock0, m->clock, m->cpus * sizeof(*m->clock));
		m->hz_j0 = jiffies;
		m->hz_started = true;
		return;
	}
	for (cpu = 0; cpu < m->cpus; cpu++)
		if (m->clock[cpu] > m->hz_clock0[cpu] && m->clock[cpu] - m->hz_clock0[cpu] > best)
			best = m->clock[cpu] - m->hz_clock0[cpu];
	if (best < HZ_WINDOW_NS)
		return;
	m->hz = snap_hz((double)(jiffies - m->hz_j0) * 1e9 / (double)best);
	if (!m->hz)	/* an odd window (idle CPUs, a paused guest): start over */
		m->hz_started = false;
}

static json_t *max_wait(struct monitor *m, uint64_t jiffies)
{
	json_t *a = json_array();
	int cpu;

	for (cpu = 0; cpu < m->cpus; cpu++) {
		uint64_t head = rq_va(m, cpu) + m->L.rq_runnable_list.off;
		uint64_t next = get_uint(rq_field(m, cpu, &m->L.rq_runnable_list), 8);
		uint64_t at_va, wait;
		uint8_t at[8];

		at_va = next - m->L.task_runnable_node.off + m->L.task_runnable_at.off;
		if (next == head || !next ||
		    kaddr_read(&m->k, at_va, at, m->L.task_runnable_at.size) < 0) {
			json_array_append_new(a, json_null());
			continue;
		}
		wait = jiffies - get_uint(at, m->L.task_runnable_at.size);
		if ((int64_t)wait < 0)	/* became runnable after we read jiffies */
			wait = 0;
		if (wait > MAX_SANE_WAIT_JIFFIES) {
			json_array_append_new(a, json_null());
			continue;
		}
		json_array_append_new(a, json_integer((json_int_t)(wait * 1000 / m->hz)));
	}
	return a;
}

static void set_state(struct monitor *m, json_t *r, int64_t v)
{
	int i;

	for (i = 0; i < m->L.n_states; i++)
		if (m->L.states[i].value == v) {
			json_set_str(r, "scx_state", m->L.states[i].name);
			return;
		}
}

static void sum_events(struct monitor *m, json_t *r, uint64_t sched)
{
	uint64_t base, *sum;
	json_t *ev;
	long off;
	int cpu, i;

	if (fld_has(&m->L.sched_pcpu) && m->L.pcpu_event_stats >= 0) {
		off = m->L.pcpu_event_stats;
		if (kaddr_read_u64(&m->k, sched + m->L.sched_pcpu.off, &base) < 0)
			return;
	} else {
		off = 0;
		if (kaddr_read_u64(&m->k, sched + m->L.sched_event_stats_cpu.off, &base) < 0)
			return;
	}
	if (!base)
		return;
	sum = xcalloc(m->L.n_ev, sizeof(*sum));
	for (cpu = 0; cpu < m->cpus; cpu++) {
		if (kaddr_read(&m->k, base + m->pcpu_off[cpu] + off, m->evbuf, m->L.ev_size) < 0)
			goto out;	/* partial sums would lie: leave events out */
		for (i = 0; i < m->L.n_ev; i++)
			sum[i] += (uint64_t)get_sint(m->evbuf + m->L.ev[i].off, m->L.ev[i].size);
	}
	ev = json_object();
	for (i = 0; i < m->L.n_ev; i++)
		json_object_set_new(ev, m->L.ev[i].name, json_integer((json_int_t)sum[i]));
	json_object_set_new(r, "events", ev);
out:
	free(sum);
}

static void sched_fields(struct monitor *m, json_t *r, uint64_t sched)
{
	if (fld_has(&m->L.sched_name)) {
		char name[4096];
		size_t len;

		if (kaddr_read(&m->k, sched + m->L.sched_name.off, name, m->L.sched_name.size) == 0) {
			len = strnlen(name, m->L.sched_name.size);
			if (len < (size_t)m->L.sched_name.size)
				json_set_bytes(r, "scx_ops", name, len);
		}
	}
	if (fld_has(&m->L.sched_exit_kind)) {
		uint8_t v[8];

		if (kaddr_read(&m->k, sched + m->L.sched_exit_kind.off, v, m->L.sched_exit_kind.size) == 0 &&
		    get_uint(v, m->L.sched_exit_kind.size))
			json_set_int(r, "exit_kind", (long long)get_uint(v, m->L.sched_exit_kind.size));
	}
	if (m->events_readable)
		sum_events(m, r, sched);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The kernel-wide values a sample starts from. */
struct globals {
	uint64_t jiffies, sched;	/* sched: the root scx_sched, 0: none */
	int64_t state;			/* scx_enable_state */
	bool jiffies_ok, state_ok, attached;
};

static void read_globals(struct monitor *m, struct globals *g)
{
	memset(g, 0, sizeof(*g));
	if (m->sym.jiffies)
		g->jiffies_ok = kaddr_read_u64(&m->k, m->sym.jiffies, &g->jiffies) == 0;
	if (m->sym.scx_enable_state_var) {
		uint32_t v;

		g->state_ok = kaddr_read_u32(&m->k, m->sym.scx_enable_state_var, &v) == 0;
		g->state = (int32_t)v;
	}
	if (m->sym.scx_root) {
		if (kaddr_read_u64(&m->k, m->sym.scx_root, &g->sched) == 0)
			g->attached = g->sched != 0;
	} else if (g->state_ok && m->L.scx_enabled_value >= 0) {
		g->attached = g->state == m->L.scx_enabled_value;
	}
}

/* Per CPU: 1 when the runqueue's current task is its idle task. */
static json_t *idle_array(struct monitor *m)
{
	json_t *a = json_array();

	for (int cpu = 0; cpu < m->cpus; cpu++)
		json_array_append_new(a, json_integer(
			get_uint(rq_field(m, cpu, &m->L.rq_curr), 8) ==
			get_uint(rq_field(m, cpu, &m->L.rq_idle), 8)));
	return a;
}

/* Per CPU: how far the rq clock moved since the last sample, in us. */
static json_t *clock_adv_array(struct monitor *m)
{
	json_t *a = json_array();

	for (int cpu = 0; cpu < m->cpus; cpu++) {
		uint64_t c = get_uint(rq_field(m, cpu, &m->L.rq_clock), 8);

		m->clock[cpu] = c;
		json_array_append_new(a, json_integer(
			m->have_prev_clock && c > m->prev_clock[cpu] ?
			(json_int_t)((c - m->prev_clock[cpu]) / 1000) : 0));
	}
	memcpy(m->prev_clock, m->clock, m->cpus * sizeof(*m->clock));
	m->have_prev_clock = true;
	return a;
}

/* Per vCPU: how much a cumulative host figure (ns) grew since the last
 * sample, in us (0 in the first); prev becomes now. */
static json_t *vcpu_delta_array(const struct monitor *m, const unsigned long long *now,
				unsigned long long *prev)
{
	json_t *a = json_array();

	for (int cpu = 0; cpu < m->cpus; cpu++) {
		json_array_append_new(a, json_integer(
			m->have_prev_run && now[cpu] > prev[cpu] ?
			(json_int_t)((now[cpu] - prev[cpu]) / 1000) : 0));
		prev[cpu] = now[cpu];
	}
	return a;
}

static json_t *sample(struct monitor *m, long long t_ms, const unsigned long long *run,
		      const unsigned long long *wait)
{
	struct globals g;
	json_t *r;

	kaddr_flush(&m->k);
	if (read_per_cpu_offsets(m) < 0 || read_rqs(m) < 0)
		return NULL;
	read_globals(m, &g);
	r = jsonl_record("monitor");
	json_set_int(r, "t_ms", t_ms);
	json_object_set_new(r, "nr_running", per_cpu_array(m, &m->L.rq_nr_running));
	if (have_scx(m))
		json_object_set_new(r, "scx_nr_running", per_cpu_array(m, &m->L.rq_scx_nr_running));
	if (fld_has(&m->L.rq_local_dsq))
		json_object_set_new(r, "local_dsq", per_cpu_array(m, &m->L.rq_local_dsq));
	if (fld_has(&m->L.rq_curr))
		json_object_set_new(r, "idle", idle_array(m));
	if (fld_has(&m->L.rq_clock)) {
		json_object_set_new(r, "clock_adv_us", clock_adv_array(m));
		if (!m->hz && g.jiffies_ok)
			estimate_hz(m, g.jiffies);
	}
	if (run) {
		json_object_set_new(r, "vcpu_run_us", vcpu_delta_array(m, run, m->prev_run));
		json_object_set_new(r, "vcpu_wait_us", vcpu_delta_array(m, wait, m->prev_wait));
	}
	m->have_prev_run = run != NULL;
	if (g.attached && m->hz && g.jiffies_ok && have_max_wait(m))
		json_object_set_new(r, "max_wait_ms", max_wait(m, g.jiffies));
	if (g.state_ok)
		set_state(m, r, g.state);
	if (g.sched)
		sched_fields(m, r, g.sched);
	return r;
}

json_t *monitor_sample(struct monitor *m, long long t_ms, const unsigned long long *vcpu_run_ns,
		       const unsigned long long *vcpu_wait_ns)
{
	double t0 = now_us(), us;
	json_t *r = sample(m, t_ms, vcpu_run_ns, vcpu_wait_ns);

	us = now_us() - t0;
	m->sum_us += us;
	if (us > m->max_us)
		m->max_us = us;
	if (r)
		m->samples++;
	else
		m->skipped++;
	return r;
}
