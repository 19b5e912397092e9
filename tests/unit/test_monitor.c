/* Unit tests for lib/vm/monitor.c: the kernel_symbols parser, and samples of
 * a fake kernel laid out in synthetic guest RAM (fakeguest.h) with the real
 * cached vmlinux's struct offsets (skipped when it is absent): per-CPU run
 * queues, a dynamic per-CPU scx_sched_pcpu reached through the page
 * tables, HZ estimation, skipped samples, and garbage memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeguest.h"
#include "jsonl.h"
#include "kbtf.h"
#include "kvmlinux.h"
#include "monitor.h"
#include "monitor_layout.h"

#define NCPU		4
#define PCPU_OFF_SYM	(FG_TEXT_VA + 0x310000)
#define RQ_SYM		(FG_TEXT_VA + 0x320000)
#define JIFFIES_SYM	(FG_TEXT_VA + 0x330000)
#define STATE_SYM	(FG_TEXT_VA + 0x330100)
#define ROOT_SYM	(FG_TEXT_VA + 0x330200)
#define RQ_PA(c)	(0x2000000ULL + (c) * 0x2000ULL)
#define SCHED_PA	0x2100000ULL
#define EV_PA(c)	(0x2200000ULL + (c) * 0x1000ULL)
#define TASK_PA		0x2300000ULL
#define J0		4294667296ULL	/* INITIAL_JIFFIES for HZ=1000, wrapped */

struct fk {
	struct fakeguest g;
	struct kbtf kb;
	const char *vmlinux;
	long rq_nr_running, rq_curr, rq_idle, rq_clock, rq_cpu, rq_scx_nr, rq_dsq, rq_rl;
	long task_node, task_at, sched_name, sched_exit, sched_pcpu, pcpu_ev;
	long ev_fallback, ev_keep_last;
	long long enabled, disabled;
	uint64_t pcpu_off[NCPU];
	struct monitor_symbols syms;
	struct monitor *m;
};

static long off(struct fk *f, const char *s, const char *path)
{
	long o = kbtf_member_offset(&f->kb, s, path);

	assert_true(o >= 0);
	return o;
}

static void put32(struct fk *f, uint64_t pa, uint32_t v)
{
	memcpy(f->g.ram + pa, &v, 4);
}

static void put64(struct fk *f, uint64_t pa, uint64_t v)
{
	fg_put64(&f->g, pa, v);
}

static uint64_t dmap(struct fk *f, uint64_t pa)
{
	return f->g.pob + pa;
}

static void set_rq(struct fk *f, int c, uint32_t nr, int idle, uint64_t clock)
{
	uint64_t rq = RQ_PA(c);

	put32(f, rq + f->rq_nr_running, nr);
	put64(f, rq + f->rq_idle, dmap(f, 0x2800000 + c * 0x1000));
	put64(f, rq + f->rq_curr, idle ? dmap(f, 0x2800000 + c * 0x1000) : dmap(f, 0x2900000));
	put64(f, rq + f->rq_clock, clock);
}

static void set_jiffies(struct fk *f, uint64_t j)
{
	put64(f, fg_pa_of_image(JIFFIES_SYM), j);
}

/* The kernel_symbols record the guest agent would send. */
static json_t *symbols_record(void)
{
	char buf[64];
	json_t *rec = jsonl_record("kernel_symbols"), *s = json_object();

#define SYM(name, val) do { \
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)(val)); \
		json_set_str(s, name, buf); \
	} while (0)
	SYM("runqueues", RQ_SYM);
	SYM("__per_cpu_offset", PCPU_OFF_SYM);
	SYM("page_offset_base", FG_POB_SYM);
	SYM("init_top_pgt", FG_PGT_VA);
	SYM("_text", FG_TEXT_VA);
	SYM("scx_root", ROOT_SYM);
	SYM("scx_enable_state_var", STATE_SYM);
	SYM("jiffies", JIFFIES_SYM);
	SYM("phys_base", FG_TEXT_VA + 0x100);
#undef SYM
	json_object_set_new(rec, "symbols", s);
	json_set_str(rec, "kernel_code_phys", "0x1000000");
	json_set_int(rec, "nr_cpu_ids", NCPU);
	json_object_set_new(rec, "missing", json_array());
	return rec;
}

static int fk_setup(void **state)
{
	struct fk *f = calloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT;
	json_t *rec;
	int c;

	*state = f;
	f->vmlinux = kvmlinux_path();
	if (!f->vmlinux)
		return 0;
	if (kbtf_open(&f->kb, f->vmlinux, &err) < 0 || fg_create(&f->g, 5) < 0)
		return -1;
	f->rq_nr_running = off(f, "rq", "nr_running");
	f->rq_curr = off(f, "rq", "curr");
	f->rq_idle = off(f, "rq", "idle");
	f->rq_clock = off(f, "rq", "clock");
	f->rq_cpu = off(f, "rq", "cpu");
	f->rq_scx_nr = off(f, "rq", "scx.nr_running");
	f->rq_dsq = off(f, "rq", "scx.local_dsq.nr");
	f->rq_rl = off(f, "rq", "scx.runnable_list");
	f->task_node = off(f, "task_struct", "scx.runnable_node");
	f->task_at = off(f, "task_struct", "scx.runnable_at");
	f->sched_name = off(f, "scx_sched", "ops.name");
	f->sched_exit = off(f, "scx_sched", "exit_kind");
	f->sched_pcpu = off(f, "scx_sched", "pcpu");
	f->pcpu_ev = off(f, "scx_sched_pcpu", "event_stats");
	f->ev_fallback = off(f, "scx_event_stats", "SCX_EV_SELECT_CPU_FALLBACK");
	f->ev_keep_last = off(f, "scx_event_stats", "SCX_EV_DISPATCH_KEEP_LAST");
	if (kbtf_enum_value(&f->kb, "scx_enable_state", "SCX_ENABLED", &f->enabled) < 0 ||
	    kbtf_enum_value(&f->kb, "scx_enable_state", "SCX_DISABLED", &f->disabled) < 0)
		return -1;
	if (kbtf_struct_size(&f->kb, "rq") > 0x2000)
		return -1;

	for (c = 0; c < NCPU; c++) {
		uint64_t rq = RQ_PA(c), head = dmap(f, rq + f->rq_rl);

		f->pcpu_off[c] = dmap(f, rq) - RQ_SYM;
		put64(f, fg_pa_of_image(PCPU_OFF_SYM) + 8 * c, f->pcpu_off[c]);
		put32(f, rq + f->rq_cpu, c);
		set_rq(f, c, c == 0 ? 3 : c == 1 ? 1 : 0, c >= 2, 1000000000ULL + c);
		put32(f, rq + f->rq_scx_nr, c == 0 ? 3 : c == 1 ? 1 : 0);
		put32(f, rq + f->rq_dsq, c == 0 ? 2 : 0);
		put64(f, rq + f->rq_rl, head);		/* empty list */
		put64(f, rq + f->rq_rl + 8, head);
		/* The dynamic per-CPU area, in vmalloc space. */
		fg_map(&f->g, f->g.vmalloc + c * 0x2000ULL, EV_PA(c), 1);
		put64(f, EV_PA(c) + f->pcpu_ev + f->ev_fallback, c + 1);
		put64(f, EV_PA(c) + f->pcpu_ev + f->ev_keep_last, 2);
	}
	/* One runnable task on CPU 0, waiting 25 jiffies. */
	put64(f, RQ_PA(0) + f->rq_rl, dmap(f, TASK_PA + f->task_node));
	put64(f, TASK_PA + f->task_node, dmap(f, RQ_PA(0) + f->rq_rl));
	put64(f, TASK_PA + f->task_at, J0 - 25);
	set_jiffies(f, J0);
	put32(f, fg_pa_of_image(STATE_SYM), (uint32_t)f->enabled);
	put64(f, fg_pa_of_image(ROOT_SYM), dmap(f, SCHED_PA));
	memcpy(f->g.ram + SCHED_PA + f->sched_name, "simple", 7);
	/* pcpu + __per_cpu_offset[c] lands on vmalloc + c * 0x2000. */
	put64(f, SCHED_PA + f->sched_pcpu, f->g.vmalloc - f->pcpu_off[0]);

	if (fg_open_gm(&f->g, &err) < 0)
		return -1;
	rec = symbols_record();
	if (monitor_symbols_parse(rec, &f->syms, &err) < 0)
		return -1;
	json_decref(rec);
	strbuf_release(&err);
	return 0;
}

static int fk_teardown(void **state)
{
	struct fk *f = *state;

	monitor_close(f->m);
	if (f->vmlinux) {
		kbtf_close(&f->kb);
		fg_destroy(&f->g);
	}
	free(f);
	return 0;
}

static struct fk *fk_get(void **state)
{
	struct fk *f = *state;

	if (!f->vmlinux) {
		print_message("no cached vmlinux (set KTSTR_E2E_VMLINUX): skipped\n");
		skip();
	}
	return f;
}

static struct monitor *fk_open(struct fk *f, int hz)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_config cfg = {
		.gm = &f->g.gm, .btf_path = f->vmlinux, .syms = &f->syms, .cpus = NCPU,
		.interval_ms = 100, .hz = hz, .vcpu_threads = "per_cpu",
	};

	f->m = monitor_open(&cfg, &err);
	if (!f->m)
		print_error("monitor_open: %s\n", err.buf);
	assert_non_null(f->m);
	strbuf_release(&err);
	return f->m;
}

static long long arr(const json_t *r, const char *key, int i)
{
	const json_t *a = json_object_get(r, key);

	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), NCPU);
	assert_true(json_is_integer(json_array_get(a, i)));
	return json_integer_value(json_array_get(a, i));
}

static void test_symbols_parse(void **state)
{
	struct monitor_symbols s;
	struct strbuf err = STRBUF_INIT;
	json_t *rec = symbols_record();

	assert_int_equal(monitor_symbols_parse(rec, &s, &err), 0);
	assert_true(s.runqueues == RQ_SYM);
	assert_true(s.per_cpu_offset == PCPU_OFF_SYM);
	assert_true(s.text == FG_TEXT_VA);
	assert_true(s.scx_root == ROOT_SYM);
	assert_int_equal(s.kernel_code_phys, 0x1000000);
	assert_int_equal(s.nr_cpu_ids, NCPU);

	/* "missing" wins over a stale value; unknown names are ignored. */
	json_array_append_new(json_object_get(rec, "missing"), json_string("scx_root"));
	json_object_set_new(json_object_get(rec, "symbols"), "whatever", json_string("zz"));
	assert_int_equal(monitor_symbols_parse(rec, &s, &err), 0);
	assert_int_equal(s.scx_root, 0);

	json_object_set_new(json_object_get(rec, "symbols"), "jiffies", json_string("12345"));
	assert_int_equal(monitor_symbols_parse(rec, &s, &err), -1);
	assert_non_null(strstr(err.buf, "jiffies must be a hex string"));
	json_object_set_new(json_object_get(rec, "symbols"), "jiffies", json_string("0xffffg"));
	assert_int_equal(monitor_symbols_parse(rec, &s, &err), -1);
	json_object_set_new(json_object_get(rec, "symbols"), "jiffies",
			    json_string("0x1ffffffffffffffff"));
	assert_int_equal(monitor_symbols_parse(rec, &s, &err), -1);
	json_decref(rec);

	strbuf_reset(&err);
	rec = json_pack("{s:s, s:[]}", "type", "kernel_symbols", "symbols");
	assert_int_equal(monitor_symbols_parse(rec, &s, &err), -1);
	assert_non_null(strstr(err.buf, "\"symbols\" must be an object"));
	json_decref(rec);
	strbuf_release(&err);
}

/* A monitor opened from a cached layout reads what one opened from the
 * BTF reads, without touching the BTF at all. */
static void test_open_from_layout(void **state)
{
	struct fk *f = fk_get(state);
	struct strbuf err = STRBUF_INIT;
	unsigned long long run[NCPU] = { 1000, 2000, 3000, 4000 }, wait[NCPU] = { 0 };
	struct monitor_config cfg = {
		.gm = &f->g.gm, .btf_path = "/nonexistent/vmlinux", .syms = &f->syms,
		.cpus = NCPU, .interval_ms = 100, .hz = 250, .vcpu_threads = "per_cpu",
	};
	struct monitor_layout l;
	struct monitor *m2;
	json_t *lj, *a, *b;

	fk_open(f, 250);
	assert_int_equal(monitor_layout_read(&l, &f->kb, &err), 0);
	lj = monitor_layout_json(&l);
	monitor_layout_release(&l);
	cfg.layout = lj;
	m2 = monitor_open(&cfg, &err);
	if (!m2)
		fail_msg("monitor_open from a layout: %s", err.buf);
	a = monitor_start_record(f->m, 1);
	b = monitor_start_record(m2, 1);
	assert_string_equal(json_get_str(b, "btf"), "/nonexistent/vmlinux");
	json_object_del(a, "btf");
	json_object_del(b, "btf");
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	a = monitor_sample(f->m, 100, run, wait);
	b = monitor_sample(m2, 100, run, wait);
	assert_non_null(a);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	monitor_close(m2);
	/* A damaged one is refused with the path it belongs to. */
	json_object_set_new(lj, "version", json_integer(99));
	strbuf_reset(&err);
	assert_null(monitor_open(&cfg, &err));
	assert_string_equal(err.buf, "cached BTF layout of /nonexistent/vmlinux: not a version 1 layout");
	json_decref(lj);
	strbuf_release(&err);
}

static void test_start_and_sample(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 250);
	unsigned long long run[NCPU] = { 1000000, 2000000, 3000000, 4000000 };
	unsigned long long wait[NCPU] = { 500000, 0, 0, 0 };
	json_t *r, *ev;
	char *s;

	assert_int_equal(monitor_paging_levels(m), 5);
	r = monitor_start_record(m, 3120);
	s = json_dumps(r, JSON_COMPACT);
	print_message("%s\n", s);
	free(s);
	assert_string_equal(json_get_str(r, "type"), "monitor_start");
	assert_int_equal(json_get_int(r, "cpus", 0), NCPU);
	assert_int_equal(json_get_int(r, "paging_levels", 0), 5);
	assert_int_equal(json_get_int(r, "hz", 0), 250);
	assert_string_equal(json_get_str(r, "vcpu_threads"), "per_cpu");
	assert_int_equal(json_array_size(json_object_get(r, "fields")), 8);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "fields"), 6)),
			    "vcpu_wait_us");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "events"), 0)),
			    "select_cpu_fallback");
	json_decref(r);

	r = monitor_sample(m, 3220, run, wait);
	assert_non_null(r);
	s = json_dumps(r, JSON_COMPACT);
	print_message("%s\n", s);
	free(s);
	assert_string_equal(json_get_str(r, "type"), "monitor");
	assert_int_equal(json_get_int(r, "t_ms", 0), 3220);
	assert_int_equal(arr(r, "nr_running", 0), 3);
	assert_int_equal(arr(r, "nr_running", 1), 1);
	assert_int_equal(arr(r, "nr_running", 3), 0);
	assert_int_equal(arr(r, "scx_nr_running", 0), 3);
	assert_int_equal(arr(r, "local_dsq", 0), 2);
	assert_int_equal(arr(r, "idle", 0), 0);
	assert_int_equal(arr(r, "idle", 2), 1);
	assert_int_equal(arr(r, "clock_adv_us", 0), 0);
	assert_int_equal(arr(r, "vcpu_run_us", 3), 0);
	assert_int_equal(arr(r, "vcpu_wait_us", 0), 0);
	assert_int_equal(arr(r, "max_wait_ms", 0), 100);	/* 25 jiffies at 250 Hz */
	assert_true(json_is_null(json_array_get(json_object_get(r, "max_wait_ms"), 1)));
	assert_string_equal(json_get_str(r, "scx_state"), "enabled");
	assert_string_equal(json_get_str(r, "scx_ops"), "simple");
	assert_null(json_object_get(r, "exit_kind"));
	ev = json_object_get(r, "events");
	assert_int_equal(json_get_int(ev, "select_cpu_fallback", -1), 1 + 2 + 3 + 4);
	assert_int_equal(json_get_int(ev, "dispatch_keep_last", -1), 8);
	assert_int_equal(json_get_int(ev, "slice_denied", -1), 0);
	json_decref(r);

	/* 100 ms later: the clocks moved (CPU 3's did not), the vCPUs ran. */
	set_rq(f, 0, 2, 0, 1100000000ULL);
	set_rq(f, 1, 1, 0, 1100000001ULL);
	set_rq(f, 2, 0, 1, 1050000002ULL);
	set_jiffies(f, J0 + 25);
	put64(f, EV_PA(3) + f->pcpu_ev + f->ev_fallback, 100);
	put32(f, SCHED_PA + f->sched_exit, 1026);
	run[0] += 24000000;
	run[1] += 1000;
	wait[0] += 76000000;
	r = monitor_sample(m, 3320, run, wait);
	assert_non_null(r);
	assert_int_equal(arr(r, "nr_running", 0), 2);
	assert_int_equal(arr(r, "clock_adv_us", 0), 100000);
	assert_int_equal(arr(r, "clock_adv_us", 2), 50000);
	assert_int_equal(arr(r, "clock_adv_us", 3), 0);
	assert_int_equal(arr(r, "vcpu_run_us", 0), 24000);
	assert_int_equal(arr(r, "vcpu_run_us", 1), 1);
	assert_int_equal(arr(r, "vcpu_run_us", 2), 0);
	assert_int_equal(arr(r, "vcpu_wait_us", 0), 76000);
	assert_int_equal(arr(r, "vcpu_wait_us", 1), 0);
	assert_int_equal(arr(r, "max_wait_ms", 0), 200);
	assert_int_equal(json_get_int(r, "exit_kind", 0), 1026);
	assert_int_equal(json_get_int(json_object_get(r, "events"), "select_cpu_fallback", -1),
			 1 + 2 + 3 + 100);
	json_decref(r);

	/* No vCPU times: the fields are left out. */
	r = monitor_sample(m, 3420, NULL, NULL);
	assert_non_null(r);
	assert_null(json_object_get(r, "vcpu_run_us"));
	assert_null(json_object_get(r, "vcpu_wait_us"));
	json_decref(r);

	r = monitor_end_record(m, 3500);
	assert_string_equal(json_get_str(r, "type"), "monitor_end");
	assert_int_equal(json_get_int(r, "samples", -1), 3);
	assert_int_equal(json_get_int(r, "skipped", -1), 0);
	assert_true(json_real_value(json_object_get(r, "sample_us_max")) > 0);
	print_message("sample cost: mean %.1f us, max %.1f us for %d CPUs\n",
		      json_real_value(json_object_get(r, "sample_us_mean")),
		      json_real_value(json_object_get(r, "sample_us_max")), NCPU);
	json_decref(r);
}

static void test_detached(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 250);
	json_t *r;

	put64(f, fg_pa_of_image(ROOT_SYM), 0);
	put32(f, fg_pa_of_image(STATE_SYM), (uint32_t)f->disabled);
	r = monitor_sample(m, 100, NULL, NULL);
	assert_non_null(r);
	assert_string_equal(json_get_str(r, "scx_state"), "disabled");
	assert_null(json_object_get(r, "max_wait_ms"));
	assert_null(json_object_get(r, "scx_ops"));
	assert_null(json_object_get(r, "events"));
	assert_int_equal(arr(r, "nr_running", 0), 3);
	json_decref(r);

	/* A state the enum does not name is left out. */
	put32(f, fg_pa_of_image(STATE_SYM), 77);
	r = monitor_sample(m, 200, NULL, NULL);
	assert_null(json_object_get(r, "scx_state"));
	json_decref(r);
}

/* The per-CPU area unmapped on one CPU: no partial sums. */
static void test_events_unreadable(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 250);
	uint64_t slot = fg_map(&f->g, f->g.vmalloc + 2 * 0x2000ULL, EV_PA(2), 1);
	json_t *r;

	put64(f, slot, 0);
	r = monitor_sample(m, 100, NULL, NULL);
	assert_non_null(r);
	assert_null(json_object_get(r, "events"));
	assert_string_equal(json_get_str(r, "scx_ops"), "simple");
	json_decref(r);
}

static void test_hz_estimate(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 0);
	json_t *r;
	int i;

	assert_int_equal(monitor_hz(m), 0);
	r = monitor_start_record(m, 0);
	assert_null(json_object_get(r, "hz"));
	json_decref(r);
	/* 100 ms and 30 jiffies per sample on the busiest CPU: HZ=300. */
	for (i = 0; i < 4; i++) {
		set_rq(f, 0, 3, 0, 1000000000ULL + i * 100000000ULL);
		set_rq(f, 1, 1, 0, 1000000001ULL + i * 50000000ULL);
		set_jiffies(f, J0 + i * 30);
		r = monitor_sample(m, i * 100, NULL, NULL);
		assert_non_null(r);
		if (i < 2) {
			assert_int_equal(monitor_hz(m), 0);
			assert_null(json_object_get(r, "max_wait_ms"));
		} else {
			assert_int_equal(monitor_hz(m), 300);
			/* 25 + 30 * i jiffies at 300 Hz */
			assert_int_equal(arr(r, "max_wait_ms", 0), (25 + 30 * i) * 1000 / 300);
		}
		json_decref(r);
	}
	r = monitor_end_record(m, 500);
	assert_int_equal(json_get_int(r, "hz", 0), 300);
	json_decref(r);
}

/* A window whose ratio is no CONFIG_HZ (2000/s) is thrown away and a new
 * one started; so is one where no clock moved (a paused guest). */
static void test_hz_odd_window(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 0);
	int i;

	for (i = 0; i < 3; i++) {
		set_rq(f, 0, 3, 0, 1000000000ULL + i * 100000000ULL);
		set_jiffies(f, J0 + i * 200);
		json_decref(monitor_sample(m, i * 100, NULL, NULL));
	}
	assert_int_equal(monitor_hz(m), 0);
	for (i = 0; i < 5; i++)	/* paused: nothing moves */
		json_decref(monitor_sample(m, 300 + i * 100, NULL, NULL));
	assert_int_equal(monitor_hz(m), 0);
	/* From the restart on (clock 1.2 s, jiffies J0 + 400), 100 Hz. */
	for (i = 1; i <= 2; i++) {
		set_rq(f, 0, 3, 0, 1200000000ULL + i * 100000000ULL);
		set_jiffies(f, J0 + 400 + i * 10);
		json_decref(monitor_sample(m, 800 + i * 100, NULL, NULL));
	}
	assert_int_equal(monitor_hz(m), 100);
}

/* Samples are skipped, not failed, while the kernel is not ready. */
static void test_skips(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 250);
	uint64_t at = fg_pa_of_image(PCPU_OFF_SYM) + 8;
	json_t *r;

	put64(f, at, 0);
	assert_null(monitor_sample(m, 100, NULL, NULL));
	assert_non_null(strstr(monitor_last_skip_reason(m), "__per_cpu_offset[1] is still 0"));
	/* Offsets set but pointing at the wrong runqueue. */
	put64(f, at, f->pcpu_off[2]);
	assert_null(monitor_sample(m, 200, NULL, NULL));
	assert_non_null(strstr(monitor_last_skip_reason(m), "says it is CPU 2"));
	/* Pointing outside RAM. */
	put64(f, at, f->pcpu_off[1] + FG_RAM);
	assert_null(monitor_sample(m, 300, NULL, NULL));
	assert_non_null(strstr(monitor_last_skip_reason(m), "cannot read CPU 1's runqueue"));
	put64(f, at, f->pcpu_off[1]);
	r = monitor_sample(m, 400, NULL, NULL);
	assert_non_null(r);
	json_decref(r);
	r = monitor_end_record(m, 500);
	assert_int_equal(json_get_int(r, "samples", -1), 1);
	assert_int_equal(json_get_int(r, "skipped", -1), 3);
	assert_non_null(json_get_str(r, "last_skip_reason"));
	json_decref(r);
}

static void test_open_errors(void **state)
{
	struct fk *f = fk_get(state);
	struct strbuf err = STRBUF_INIT;
	struct monitor_symbols syms = f->syms;
	struct monitor_config cfg = {
		.gm = &f->g.gm, .btf_path = f->vmlinux, .syms = &syms, .cpus = NCPU,
	};

	syms.runqueues = 0;
	assert_null(monitor_open(&cfg, &err));
	assert_non_null(strstr(err.buf, "kernel symbols missing: runqueues"));

	syms = f->syms;
	cfg.btf_path = "/proc/self/exe";
	strbuf_reset(&err);
	assert_null(monitor_open(&cfg, &err));
	assert_non_null(strstr(err.buf, "kernel has no BTF"));

	cfg.btf_path = f->vmlinux;
	cfg.paging_levels = 4;
	strbuf_reset(&err);
	assert_null(monitor_open(&cfg, &err));
	assert_non_null(strstr(err.buf, "cannot translate kernel addresses"));

	cfg.paging_levels = 0;
	cfg.cpus = 0;
	strbuf_reset(&err);
	assert_null(monitor_open(&cfg, &err));
	assert_non_null(strstr(err.buf, "out of range"));

	/* A BTF opened beforehand (ktstr-vm parses it while QEMU boots) is
	 * the monitor's from then on: closed on a refusal (the sanitizer
	 * build would report the leak), used on success even though
	 * btf_path names nothing readable. */
	{
		struct kbtf kb;
		struct monitor *m;

		assert_int_equal(kbtf_open(&kb, f->vmlinux, &err), 0);
		cfg.btf = &kb;
		strbuf_reset(&err);
		assert_null(monitor_open(&cfg, &err));
		assert_null(kb.btf);
		cfg.cpus = NCPU;
		assert_int_equal(kbtf_open(&kb, f->vmlinux, &err), 0);
		cfg.btf_path = "/nonexistent-vmlinux";
		m = monitor_open(&cfg, &err);
		assert_non_null(m);
		assert_null(kb.btf);
		monitor_close(m);
	}
	strbuf_release(&err);
}

/* Every byte of the kernel's data random, the page tables still valid:
 * reads fail or return nonsense, nothing crashes.  Then the page tables
 * too, except the top-level entries the monitor was opened with. */
static void test_garbage(void **state)
{
	struct fk *f = fk_get(state);
	struct monitor *m = fk_open(f, 0);
	uint64_t x = 0x2545f4914f6cdd1dULL, pa;
	int round, ok = 0;

	for (round = 0; round < 200; round++) {
		uint64_t lo = round < 100 ? 0x2000000 : FG_PGT_PA + 0x1000;
		uint64_t hi = round < 100 ? 0x2400000 : FG_PGT_END;
		json_t *r;

		for (pa = lo; pa < hi; pa += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Sometimes a plausible kernel pointer. */
			put64(f, pa, (x & 3) ? x : f->g.pob + (x >> 40));
		}
		/* Keep rq->cpu right, or every sample is (rightly) skipped. */
		for (pa = 0; pa < NCPU; pa++)
			put32(f, RQ_PA(pa) + f->rq_cpu, (uint32_t)pa);
		for (pa = fg_pa_of_image(PCPU_OFF_SYM); pa < fg_pa_of_image(ROOT_SYM) + 8; pa += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (round % 3 == 0)
				put64(f, pa, x);
		}
		if (round % 3) {
			for (pa = 0; pa < NCPU; pa++)
				put64(f, fg_pa_of_image(PCPU_OFF_SYM) + 8 * pa, f->pcpu_off[pa]);
			put64(f, fg_pa_of_image(ROOT_SYM), dmap(f, SCHED_PA));
		}
		r = monitor_sample(f->m, round, NULL, NULL);
		ok += r != NULL;
		json_decref(r);
	}
	print_message("garbage: %d of 200 samples produced a record\n", ok);
	assert_true(ok > 0);
	json_decref(monitor_end_record(m, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbols_parse),
		cmocka_unit_test_setup_teardown(test_start_and_sample, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_open_from_layout, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_detached, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_events_unreadable, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_hz_estimate, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_hz_odd_window, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_skips, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, fk_setup, fk_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
