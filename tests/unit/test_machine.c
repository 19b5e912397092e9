/* Unit tests for lib/vm/machine*.c: each machine check at and around its
 * sustain threshold, the paused-VM rules, cpusets, counter resets, the
 * scenario window, phases and their degradation rules, malformed input
 * and the storage caps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "diag.h"
#include "machine.h"
#include "verdict.h"

/* ---- helpers ------------------------------------------------------------ */

struct warned {
	unsigned n;
	char last[512];
};

static void warn_cb(void *ctx, const char *msg)
{
	struct warned *w = ctx;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static void setup(struct machine *m, struct warned *w)
{
	machine_init(m);
	memset(w, 0, sizeof(*w));
	m->warn = warn_cb;
	m->warn_ctx = w;
}

/* Feed one record written as printf does. */
static void rec(struct machine *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void rec(struct machine *m, const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	char *text;
	json_t *j;
	const char *type;

	va_start(ap, fmt);
	assert_true(vasprintf(&text, fmt, ap) >= 0);
	va_end(ap);
	j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	type = json_string_value(json_object_get(j, "type"));
	if (!strncmp(type, "monitor", 7))
		machine_feed(m, j, type);
	else
		machine_timeline(m, j, type);
	json_decref(j);
	free(text);
}

/* n samples from t, 100 ms apart: nr_running, idle, then extra fields. */
static int samples(struct machine *m, int t, int n, const char *nr, const char *idle,
		   const char *extra)
{
	for (int i = 0; i < n; i++, t += 100)
		rec(m, "{\"type\":\"monitor\",\"t_ms\":%d,\"nr_running\":[%s],\"idle\":[%s]%s}",
		    t, nr, idle, extra ? extra : "");
	return t;
}

static void eval(const struct machine *m, const char *const *cpusets, size_t n,
		 struct machine_result *r)
{
	struct checks none, L;

	checks_init(&none);
	checks_effective(&none, &L);
	machine_eval(m, cpusets, n, &L, r);
}

static const struct machine_check *check(const struct machine_result *r,
					 enum machine_check_id k)
{
	return &r->checks[k];
}

/* the host ran the VM's thread(s) all of each 100 ms interval */
/* A 4-CPU monitor every 100 ms, the scenario from host ms 1000. */
static void setup4(struct machine *m, struct warned *w)
{
	setup(m, w);
	rec(m, "{\"type\":\"monitor_start\",\"cpus\":4,\"interval_ms\":100}");
	rec(m, "{\"type\":\"scenario_start\",\"host_ms\":1000}");
}

#define BUSY ",\"clock_adv_us\":[1,1,1,1],\"vcpu_run_us\":[100000,100000,100000,100000]"

/* ---- work conservation -------------------------------------------------- */

static void test_wc_names_cpus(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	const struct machine_check *c;

	(void)state;
	setup4(&m, &w);
	samples(&m, 1000, 3, "1,1,1,1", "0,0,0,0", BUSY);
	samples(&m, 1300, 12, "8,0,0,0", "0,1,1,1", BUSY);
	eval(&m, NULL, 0, &r);
	c = check(&r, MCHK_WORK_CONSERVATION);
	assert_true(c->evaluated);
	assert_true(c->value == 1200);
	assert_false(c->pass);
	assert_string_equal(c->message, "work conservation: CPUs 1-3 idle for 1200 ms while"
			    " CPU 0 had 8 runnable tasks (from 0.3 s into the run; limit 500 ms)");
	/* every CPU-sample of the stretch counts in the phase sum */
	assert_int_equal(r.n_phases, 1);
	assert_true(r.phases[0].v[PM_IDLE_MS] == 3600);
	assert_int_equal(w.n, 0);
	machine_result_release(&r);
	machine_release(&m);
}

/* A kernel thread's blip on one of the idle CPUs does not drop it from
 * the message. */
static void test_wc_names_cpus_despite_blip(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	const struct machine_check *c;

	(void)state;
	setup4(&m, &w);
	samples(&m, 1000, 6, "8,0,0,0", "0,1,1,1", BUSY);
	samples(&m, 1600, 1, "8,0,1,0", "0,1,0,1", BUSY);
	samples(&m, 1700, 6, "8,0,0,0", "0,1,1,1", BUSY);
	eval(&m, NULL, 0, &r);
	c = check(&r, MCHK_WORK_CONSERVATION);
	assert_false(c->pass);
	assert_non_null(strstr(c->message, "CPUs 1-3 idle for 1300 ms while CPU 0"));
	machine_result_release(&r);
	machine_release(&m);
}

/* 5 samples are sustained (500 ms, at the limit: passes), 4 are not. */
static void test_wc_sustain(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 4, "2,0", "0,1", NULL);
	samples(&m, 400, 3, "1,1", "0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 0);
	machine_result_release(&r);
	samples(&m, 700, 5, "2,0", "0,1", NULL);
	samples(&m, 1200, 1, "1,1", "0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 500);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->pass);
	machine_result_release(&r);
	samples(&m, 1300, 6, "2,0", "0,1", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 600);
	assert_false(check(&r, MCHK_WORK_CONSERVATION)->pass);
	/* with one busy CPU holding 2-3 tasks, "up to" */
	machine_result_release(&r);
	machine_release(&m);
	setup(&m, &w);
	samples(&m, 0, 3, "2,0", "0,1", NULL);
	samples(&m, 300, 3, "3,0", "0,1", NULL);
	eval(&m, NULL, 0, &r);
	assert_non_null(strstr(check(&r, MCHK_WORK_CONSERVATION)->message,
			       "CPU 1 idle for 600 ms while CPU 0 had up to 3 runnable tasks"));
	machine_result_release(&r);
	machine_release(&m);
}

/* A VM the host did not run is not idle by the scheduler's choice: the
 * stretch is broken, not extended. */
static void test_wc_paused_vcpu(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 20, "2,0,0,0", "0,1,1,1", ",\"vcpu_run_us\":[0,0,0,0]");
	samples(&m, 2000, 4, "2,0,0,0", "0,1,1,1", ",\"vcpu_run_us\":[100000,100000,100000,100000]");
	samples(&m, 2400, 1, "2,0,0,0", "0,1,1,1", ",\"vcpu_run_us\":[0,0,0,0]");
	samples(&m, 2500, 4, "2,0,0,0", "0,1,1,1", ",\"vcpu_run_us\":[100000,100000,100000,100000]");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->evaluated);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 0);
	machine_result_release(&r);
	machine_release(&m);
}

/* A thread per vCPU (KVM, tcg-mt): a halted vCPU's thread sleeps in the
 * host, so the idle CPUs show no run time of their own; while the busy
 * one's thread runs, their idleness counts.  (Before, CPUs 1-2 of a
 * tcg-mt scx_cpu0 run were left out of the failure this way.) */
static void test_wc_halted_vcpus(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 1, "1,1,1,1", "0,0,0,0", NULL);
	samples(&m, 100, 8, "5,0,0,0", "0,1,1,1", ",\"vcpu_run_us\":[99500,0,0,2300]");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 800);
	assert_non_null(strstr(check(&r, MCHK_WORK_CONSERVATION)->message,
			       "CPUs 1-3 idle for 800 ms while CPU 0 had 5 runnable tasks"));
	machine_result_release(&r);
	machine_release(&m);
	/* host mode: an offline CPU (online 0) is not idle */
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_start\",\"cpus\":4,\"interval_ms\":100,\"source\":\"host\"}");
	samples(&m, 0, 8, "5,0,0,0", "0,1,1,1", ",\"online\":[1,1,0,0]");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 800);
	assert_non_null(strstr(check(&r, MCHK_WORK_CONSERVATION)->message,
			       "CPU 1 idle for 800 ms while CPU 0"));
	machine_result_release(&r);
	machine_release(&m);
}

/* Idle time counts only while the host let the VM run: a QEMU thread
 * that waited for a host CPU half of each interval makes half the
 * stretch. */
#define STARVED ",\"vcpu_run_us\":[50000,50000,50000,50000],\"vcpu_wait_us\":[50000,50000,50000,50000],\"qemu_stopped_us\":0"
static void test_wc_starved_host(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	const struct machine_check *c;

	(void)state;
	setup4(&m, &w);
	samples(&m, 1000, 3, "1,1,1,1", "0,0,0,0", BUSY);
	/* single-threaded TCG: every vCPU shows the one thread, at 50% */
	samples(&m, 1300, 8, "2,0,0,0", "0,1,1,1", STARVED);
	samples(&m, 2100, 2, "1,1,1,1", "0,0,0,0", BUSY);
	eval(&m, NULL, 0, &r);
	c = check(&r, MCHK_WORK_CONSERVATION);
	assert_true(c->value == 400);
	assert_true(c->pass);
	assert_true(r.phases[0].v[PM_IDLE_MS] == 1200);
	machine_result_release(&r);
	/* longer: fails, and the message gives both clocks */
	samples(&m, 2300, 14, "2,0,0,0", "0,1,1,1", STARVED);
	eval(&m, NULL, 0, &r);
	c = check(&r, MCHK_WORK_CONSERVATION);
	assert_true(c->value == 700);
	assert_false(c->pass);
	assert_string_equal(c->message, "work conservation: CPUs 1-3 idle for 700 ms of VM run"
			    " time (1400 ms of host time, the VM ran 50% of it) while CPU 0 had 2"
			    " runnable tasks (from 1.3 s into the run; limit 500 ms)");
	machine_result_release(&r);
	machine_release(&m);

	/* A thread per vCPU: the most delayed thread counts; a stopped QEMU
	 * takes the whole interval, and so breaks the stretch (paused). */
	setup(&m, &w);
	samples(&m, 0, 1, "1,1", "0,0", NULL);
	samples(&m, 100, 6, "2,0", "0,1",
		",\"vcpu_run_us\":[75000,20],\"vcpu_wait_us\":[25000,0],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 450);
	assert_true(r.vm_run_ms == 550 && r.window_ms == 700);
	machine_result_release(&r);
	samples(&m, 700, 3, "2,0", "0,1", ",\"vcpu_run_us\":[0,0],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":100000");
	samples(&m, 1000, 6, "2,0", "0,1",
		",\"vcpu_run_us\":[100000,20],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 600);
	machine_result_release(&r);
	machine_release(&m);
}

/* An idle guest's halted vCPU threads sleep: they neither run nor wait,
 * so the VM keeps its share and nothing is discounted. */
static void test_vm_share_idle_guest(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 20, "0,0", "1,1",
		",\"vcpu_run_us\":[0,300],\"vcpu_wait_us\":[0,2],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_true(r.window_ms == 2000);
	assert_true(fabs(r.vm_run_ms - 2000) < 1);
	assert_false(r.wc_vacuous);
	assert_true(machine_lost_ms(&m, 0, 2000) < 1);
	machine_result_release(&r);
	machine_release(&m);
	/* no such fields (older records): nothing known, nothing lost */
	setup(&m, &w);
	samples(&m, 0, 20, "2,0", "0,1", ",\"vcpu_run_us\":[100000,0]");
	eval(&m, NULL, 0, &r);
	assert_true(isnan(r.vm_run_ms));
	assert_true(isnan(r.stopped_ms));
	assert_true(machine_lost_ms(&m, 0, 2000) == 0);
	machine_result_release(&r);
	machine_release(&m);
}

/* A 100 ms stop straddling two samples, inside a 108 ms gap: all of it is
 * the gap's (an upper bound), not shared out by the overlap. */
static void test_lost_short_stop(void **state)
{
	struct machine m;
	struct warned w;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 2, "1,1", "0,0", ",\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	samples(&m, 200, 1, "1,1", "0,0", ",\"vcpu_run_us\":[39000,39000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":61000");
	samples(&m, 300, 1, "1,1", "0,0", ",\"vcpu_run_us\":[61000,61000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":39000");
	assert_true(fabs(machine_lost_ms(&m, 140, 248) - 99) < 1e-9);
	/* never more than the span itself */
	assert_true(fabs(machine_lost_ms(&m, 150, 160) - 10) < 1e-9);
	/* spans starting anywhere find their intervals, and end where asked */
	assert_true(fabs(machine_lost_ms(&m, -50, 1000) - 100) < 1e-9);
	assert_true(fabs(machine_lost_ms(&m, 250, 1000) - 39) < 1e-9);
	assert_true(machine_lost_ms(&m, 0, 100) == 0);
	assert_true(machine_lost_ms(&m, 300, 1000) == 0);
	/* a sample fed out of order: no share of its own, the rest still found */
	samples(&m, 250, 1, "1,1", "0,0", ",\"vcpu_run_us\":[0,0],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":100000");
	samples(&m, 400, 1, "1,1", "0,0", ",\"vcpu_run_us\":[50000,50000],\"vcpu_wait_us\":[50000,50000],\"qemu_stopped_us\":0");
	assert_true(m.unsorted);
	assert_true(fabs(machine_lost_ms(&m, 140, 248) - 99) < 1e-9);
	machine_release(&m);
}

/* QEMU's stop time in a span, by overlap like the lost time: after a
 * Ctrl-Z one sample carries the whole stop, and a workload that ended a
 * few ms before that sample's time still holds nearly all of it. */
static void test_stopped_by_overlap(void **state)
{
	struct machine m;
	struct warned w;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 2, "1,1", "0,0", ",\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	/* the stop, 5 s, reported at 5100 for the interval (100, 5100] */
	samples(&m, 5100, 1, "1,1", "0,0", ",\"vcpu_run_us\":[0,0],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":5000000");
	samples(&m, 5200, 2, "1,1", "0,0", ",\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	assert_true(machine_stopped_ms(&m, -INFINITY, INFINITY) == 5000);
	/* a window ending 13 ms before the sample: all but those 13 ms fit */
	assert_true(fabs(machine_stopped_ms(&m, 50, 5087) - 4987) < 1e-9);
	/* nothing before the stop's interval */
	assert_true(machine_stopped_ms(&m, 0, 100) == 0);
	/* the wait-or-stop loss counts it the same way */
	assert_true(fabs(machine_lost_ms(&m, 50, 5087) - 4987) < 1e-9);
	machine_release(&m);
	/* no qemu_stopped_us at all (older records): not known */
	setup(&m, &w);
	samples(&m, 0, 20, "2,0", "0,1", ",\"vcpu_run_us\":[100000,0]");
	assert_true(isnan(machine_stopped_ms(&m, 0, 2000)));
	machine_release(&m);
}

/* The host ran the VM for less than the limit over a longer window: the
 * check could not have failed, so it is not evaluated. */
static void test_wc_vacuous(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 30, "5,0", "0,1",
		",\"vcpu_run_us\":[9000,9000],\"vcpu_wait_us\":[91000,91000],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_true(r.wc_vacuous);
	assert_false(check(&r, MCHK_WORK_CONSERVATION)->evaluated);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->pass);
	machine_result_release(&r);
	machine_release(&m);
	/* a short window is the scenario's choice, not the host's */
	setup(&m, &w);
	samples(&m, 0, 4, "5,0", "0,1",
		",\"vcpu_run_us\":[9000,9000],\"vcpu_wait_us\":[91000,91000],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_false(r.wc_vacuous);
	machine_result_release(&r);
	machine_release(&m);
}

/* Samples of a stopped QEMU neither hold an imbalance nor a deep DSQ;
 * a runnable wait loses the stopped time. */
static void test_paused_samples(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_start\",\"cpus\":2,\"interval_ms\":100}");
	samples(&m, 0, 3, "1,1", "0,0", ",\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	samples(&m, 300, 20, "6,0", "0,1",
		",\"local_dsq\":[80,0],\"vcpu_run_us\":[0,0],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":100000");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":2300,\"nr_running\":[1,1],\"idle\":[0,0],"
	    "\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0,"
	    "\"max_wait_ms\":[2100,null]}");
	samples(&m, 2400, 3, "1,1", "0,0", ",\"vcpu_run_us\":[100000,100000],\"vcpu_wait_us\":[0,0],\"qemu_stopped_us\":0");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_IMBALANCE)->pass);
	assert_true(check(&r, MCHK_LOCAL_DSQ_DEPTH)->pass);
	/* waited 2100 ms on the guest's clock, 2000 of them stopped */
	assert_true(fabs(check(&r, MCHK_RUNNABLE_WAIT)->value - 100) < 1e-6);
	assert_true(check(&r, MCHK_RUNNABLE_WAIT)->pass);
	assert_true(r.stopped_ms == 2000);
	machine_result_release(&r);
	machine_release(&m);
}

/* Only CPUs sharing a cpuset are peers; CPUs in none are not judged. */
static void test_wc_cpusets(void **state)
{
	const char *apart[] = { "0-1", "2-3" }, *one[] = { "0", "0-1", NULL };
	const char *outside[] = { "0-1" };
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 10, "3,1,0,0", "0,0,1,1", NULL);
	eval(&m, apart, 2, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 0);
	machine_result_release(&r);
	/* a NULL cpuset is every CPU */
	eval(&m, one, 3, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 1000);
	assert_non_null(strstr(check(&r, MCHK_WORK_CONSERVATION)->message, "CPUs 2-3 idle"));
	machine_result_release(&r);
	eval(&m, outside, 1, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 0);
	machine_result_release(&r);
	machine_release(&m);
}

/* ---- imbalance, DSQ depth ------------------------------------------------ */

#define SHARE30 ",\"vcpu_run_us\":[30000,30000,30000,30000]," \
	"\"vcpu_wait_us\":[70000,70000,70000,70000],\"qemu_stopped_us\":0"

static void test_imbalance(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	/* a spike of 4 samples is not sustained */
	samples(&m, 0, 4, "8,1,1,1", "0,0,0,0", NULL);
	samples(&m, 400, 6, "2,1,1,1", "0,0,0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_IMBALANCE)->value == 2);
	assert_true(check(&r, MCHK_IMBALANCE)->pass);
	assert_true(fabs(r.phases[0].v[PM_MEAN_IMBALANCE] - (4 * 8 + 6 * 2) / 10.0) < 1e-9);
	machine_result_release(&r);
	/* All CPUs idle is balanced too: 1, not 0, in the mean. */
	samples(&m, 1000, 10, "0,0,0,0", "0,0,0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(fabs(r.phases[0].v[PM_MEAN_IMBALANCE] - (4 * 8 + 6 * 2 + 10) / 20.0) < 1e-9);
	machine_result_release(&r);
	/* min 0 counts as 1 */
	samples(&m, 2000, 5, "5,0,2,1", "0,1,0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_IMBALANCE)->value == 5);
	assert_false(check(&r, MCHK_IMBALANCE)->pass);
	assert_string_equal(check(&r, MCHK_IMBALANCE)->message,
			    "imbalance: CPU 0 had 5 runnable tasks while CPU 1 had 0, a ratio of"
			    " 5 or more held for 500 ms (at 2.0 s into the run; limit 4)");
	machine_result_release(&r);
	machine_release(&m);
	/* Under a busy host the span is told in the VM's run time: the
	 * vCPUs ran 30 ms of each 100 (the first sample counts one
	 * interval), and the check's span is the samples' host time.  A
	 * sample before the workload gives the first one its share. */
	setup4(&m, &w);
	samples(&m, 900, 1, "1,1,1,1", "0,0,0,0", SHARE30);
	samples(&m, 1000, 5, "8,1,1,1", "0,0,0,0", SHARE30);
	eval(&m, NULL, 0, &r);
	assert_false(check(&r, MCHK_IMBALANCE)->pass);
	assert_string_equal(check(&r, MCHK_IMBALANCE)->message,
			    "imbalance: CPU 0 had 8 runnable tasks while CPU 1 had 1, a ratio of"
			    " 8 or more held for 150 ms of VM run time (500 ms of host time, the"
			    " VM ran 30% of it) (at 0.0 s into the run; limit 4)");
	assert_true(check(&r, MCHK_IMBALANCE)->from_ms == 1000);
	assert_true(check(&r, MCHK_IMBALANCE)->to_ms == 1500);
	machine_result_release(&r);
	machine_release(&m);
}

static void test_dsq_depth(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	samples(&m, 0, 4, "1,1", "0,0", ",\"local_dsq\":[0,99]");
	samples(&m, 400, 1, "1,1", "0,0", ",\"local_dsq\":[0,51]");
	samples(&m, 500, 2, "1,1", "0,0", ",\"local_dsq\":[0,70]");
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_LOCAL_DSQ_DEPTH)->value == 51);
	assert_false(check(&r, MCHK_LOCAL_DSQ_DEPTH)->pass);
	assert_non_null(strstr(check(&r, MCHK_LOCAL_DSQ_DEPTH)->message,
			       "CPU 1 kept 51 or more tasks queued in its local DSQ for 500 ms"));
	machine_result_release(&r);
	machine_release(&m);
	/* EEVDF: no local_dsq, not evaluated */
	setup(&m, &w);
	samples(&m, 0, 10, "1,1", "0,0", NULL);
	eval(&m, NULL, 0, &r);
	assert_false(check(&r, MCHK_LOCAL_DSQ_DEPTH)->evaluated);
	assert_true(isnan(check(&r, MCHK_LOCAL_DSQ_DEPTH)->value));
	assert_false(check(&r, MCHK_RUNNABLE_WAIT)->evaluated);
	assert_false(check(&r, MCHK_FALLBACK_RATE)->evaluated);
	assert_false(check(&r, MCHK_STALL)->evaluated);
	assert_true(check(&r, MCHK_IMBALANCE)->evaluated);
	machine_result_release(&r);
	machine_release(&m);
}

/* ---- stall ---------------------------------------------------------------- */

#define STUCK(vcpu) ",\"clock_adv_us\":[100,0],\"vcpu_run_us\":[" vcpu "]"

static void test_stall(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	int t;

	(void)state;
	setup(&m, &w);
	t = samples(&m, 0, 5, "1,1", "0,0", STUCK("5,5"));
	t = samples(&m, t, 1, "1,1", "0,0", ",\"clock_adv_us\":[100,100],\"vcpu_run_us\":[5,5]");
	/* paused: no vCPU ran, not a stall */
	t = samples(&m, t, 10, "1,1", "0,0", STUCK("0,0"));
	/* idle: not a stall */
	t = samples(&m, t, 10, "1,0", "0,1", STUCK("5,5"));
	/* 4 samples: not sustained */
	t = samples(&m, t, 4, "1,1", "0,0", STUCK("5,5"));
	t = samples(&m, t, 1, "1,1", "1,1", STUCK("5,5"));
	t = samples(&m, t, 7, "1,1", "0,0", STUCK("5,5"));
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_STALL)->value == 2);
	assert_false(check(&r, MCHK_STALL)->pass);
	assert_string_equal(check(&r, MCHK_STALL)->message,
			    "stall: CPU 1's runqueue clock stood still for 700 ms while a task was"
			    " on it and the host ran its vCPU (from 3.1 s into the run); 2 stalls"
			    " in all");
	machine_result_release(&r);
	machine_release(&m);
	/* no vcpu_run_us at all: a paused VM cannot be told apart, so the
	 * check is not evaluated */
	setup(&m, &w);
	samples(&m, 0, 10, "1,1", "0,0", ",\"clock_adv_us\":[0,0]");
	eval(&m, NULL, 0, &r);
	assert_false(check(&r, MCHK_STALL)->evaluated);
	assert_true(isnan(r.phases[0].v[PM_STALLS]));
	machine_result_release(&r);
	machine_release(&m);
}

/* ---- runnable wait, event rates ------------------------------------------- */

static void test_wait_and_rates(void **state)
{
	static const int fb[] = { 0, 100, 200, 50, 150 };
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	for (int i = 0; i < 5; i++)
		rec(&m, "{\"type\":\"monitor\",\"t_ms\":%d,\"nr_running\":[1,1],"
		    "\"max_wait_ms\":[%s],\"events\":{\"select_cpu_fallback\":%d,"
		    "\"dispatch_keep_last\":%d}}", i * 100, i == 2 ? "null,2500" : "null,null",
		    fb[i], i);
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_RUNNABLE_WAIT)->value == 2500);
	assert_string_equal(check(&r, MCHK_RUNNABLE_WAIT)->message,
			    "runnable wait: a sched_ext task stalled, runnable but not run for 2500 ms on CPU 1 (at"
			    " 0.2 s into the run; limit 2000 ms)");
	/* 100 + 100 + 50 (reset: counts from 0) + 100 over 0.4 s */
	assert_true(fabs(check(&r, MCHK_FALLBACK_RATE)->value - 875) < 1e-9);
	assert_false(check(&r, MCHK_FALLBACK_RATE)->pass);
	/* One task per CPU: keeping it is right, not counted. */
	assert_true(check(&r, MCHK_KEEP_LAST_RATE)->value == 0);
	assert_true(check(&r, MCHK_KEEP_LAST_RATE)->pass);
	assert_non_null(strstr(check(&r, MCHK_FALLBACK_RATE)->message,
			       "fallback rate: 875 select_cpu_fallback events per second over 0.4 s"
			       " (limit 200/s)"));
	machine_result_release(&r);
	machine_release(&m);
}

/* Keep-last dispatches count while more tasks are runnable than CPUs
 * (both ends of an interval), per second of the whole run. */
static void test_keep_last_while_waiting(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	/* 0.5 s undersubscribed (40 keep-lasts a sample: not counted), then
	 * 0.5 s with 3 tasks on 2 CPUs (20 a sample: counted). */
	for (int i = 0; i <= 10; i++)
		rec(&m, "{\"type\":\"monitor\",\"t_ms\":%d,\"nr_running\":[%s],"
		    "\"events\":{\"dispatch_keep_last\":%d}}", i * 100,
		    i <= 5 ? "1,1" : "2,1", i <= 5 ? i * 40 : 200 + (i - 5) * 20);
	eval(&m, NULL, 0, &r);
	/* 4 intervals (6-7 ... 9-10) of 20, plus 5-6 which starts
	 * undersubscribed: 80 over 1 s */
	assert_true(fabs(check(&r, MCHK_KEEP_LAST_RATE)->value - 80) < 1e-9);
	assert_true(check(&r, MCHK_KEEP_LAST_RATE)->pass);
	machine_result_release(&r);
	machine_release(&m);
}

/* ---- window and phases ---------------------------------------------------- */

static void test_window_and_phases(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"scenario_start\",\"host_ms\":1000}");
	rec(&m, "{\"type\":\"step\",\"index\":0,\"at_ms\":0}");	/* old setup step */
	rec(&m, "{\"type\":\"step\",\"index\":1,\"at_ms\":100,\"host_ms\":1100}");
	rec(&m, "{\"type\":\"step\",\"index\":2,\"at_ms\":1100}");	/* start + at_ms */
	rec(&m, "{\"type\":\"stimulus\",\"step\":3,\"host_ms\":2150}");
	rec(&m, "{\"type\":\"step\",\"index\":3}");			/* its stimulus */
	rec(&m, "{\"type\":\"scenario_end\",\"host_ms\":3100}");
	/* outside the window: ignored, however bad */
	samples(&m, 0, 10, "9,0", "0,1", NULL);
	samples(&m, 1000, 10, "1,1", "0,0", NULL);
	samples(&m, 2000, 2, "1,1", "0,0", NULL);
	samples(&m, 2200, 9, "4,1", "0,0", NULL);
	samples(&m, 3200, 10, "9,0", "0,1", NULL);
	eval(&m, NULL, 0, &r);
	assert_int_equal(r.samples, 21);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 0);
	assert_int_equal(r.n_phases, 4);
	assert_true(r.phases[1].start_ms == 100 && r.phases[1].end_ms == 1100);
	assert_true(r.phases[2].start_ms == 1100);
	assert_true(r.phases[2].end_ms == 1150);
	assert_true(r.phases[3].start_ms == 1150 && r.phases[3].end_ms == 2100);
	assert_int_equal(r.phases[0].samples, 1);
	assert_int_equal(r.phases[1].samples, 10);
	assert_int_equal(r.phases[2].samples, 1);
	assert_int_equal(r.phases[3].samples, 9);
	assert_true(r.phases[3].v[PM_MEAN_IMBALANCE] > 3);
	/* phase 3 degraded against phase 1 (phase 2 is too short to judge
	 * or to be the baseline) */
	assert_int_equal(r.phases[3].degraded, 1u << PM_MEAN_IMBALANCE);
	assert_int_equal(r.phases[2].degraded, 0);
	machine_result_release(&r);
	machine_release(&m);
}

/* A scheduler that takes seconds to attach: the run's clock and window
 * start with the workload (the step-0 stimuli), as the guest's at_ms do,
 * not at scenario_start. */
static void test_origin_after_attach(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	const struct machine_check *c;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_start\",\"cpus\":2,\"interval_ms\":100}");
	rec(&m, "{\"type\":\"scenario_start\",\"host_ms\":1000}");
	rec(&m, "{\"type\":\"stimulus\",\"step\":0,\"at_ms\":0,\"host_ms\":5000}");
	rec(&m, "{\"type\":\"stimulus\",\"step\":0,\"at_ms\":2,\"host_ms\":5002}");
	rec(&m, "{\"type\":\"step\",\"index\":1,\"at_ms\":1000}");
	rec(&m, "{\"type\":\"scenario_end\",\"host_ms\":8000}");
	/* Before the workload: not judged, however it looks. */
	samples(&m, 1000, 30, "3,0", "0,1", BUSY);
	samples(&m, 5000, 10, "1,1", "0,0", BUSY);
	samples(&m, 6000, 10, "3,0", "0,1", BUSY);
	eval(&m, NULL, 0, &r);
	c = check(&r, MCHK_WORK_CONSERVATION);
	assert_true(c->value == 1000);
	assert_non_null(strstr(c->message, "from 1.0 s into the run"));
	assert_int_equal(r.n_phases, 2);
	assert_true(r.phases[1].start_ms == 1000);
	assert_int_equal(r.phases[0].samples, 10);
	machine_result_release(&r);
	machine_release(&m);
}

/* Iterations per second per phase, from the steps' running totals on
 * the guest's clock; a phase whose rate halves is degraded. */
static void test_phase_iteration_rate(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_start\",\"cpus\":2,\"interval_ms\":100}");
	rec(&m, "{\"type\":\"scenario_start\",\"host_ms\":1000}");
	rec(&m, "{\"type\":\"stimulus\",\"step\":0,\"at_ms\":0,\"host_ms\":1000}");
	rec(&m, "{\"type\":\"step\",\"index\":1,\"at_ms\":1000,\"host_ms\":2000,\"iterations\":4000}");
	rec(&m, "{\"type\":\"step\",\"index\":2,\"at_ms\":3000,\"host_ms\":4000,\"iterations\":12000}");
	rec(&m, "{\"type\":\"scenario_end\",\"host_ms\":5000,\"elapsed_ms\":4000,\"iterations\":13000}");
	samples(&m, 1000, 40, "1,1", "0,0", BUSY);
	eval(&m, NULL, 0, &r);
	assert_int_equal(r.n_phases, 3);
	assert_true(r.phases[0].v[PM_ITER_RATE] == 4000);
	assert_true(r.phases[1].v[PM_ITER_RATE] == 4000);
	assert_true(r.phases[2].v[PM_ITER_RATE] == 1000);
	assert_int_equal(r.phases[1].degraded & (1u << PM_ITER_RATE), 0);
	assert_int_equal(r.phases[2].degraded & (1u << PM_ITER_RATE), 1u << PM_ITER_RATE);
	assert_string_equal(machine_phase_metric_name(PM_ITER_RATE), "iterations_per_sec");
	machine_result_release(&r);
	machine_release(&m);
}

static void test_degrade_rules(void **state)
{
	(void)state;
	/* mean imbalance: more than 50% and at least 1.0 */
	assert_true(machine_degraded(PM_MEAN_IMBALANCE, 1.0, 2.0));
	assert_false(machine_degraded(PM_MEAN_IMBALANCE, 1.0, 1.9));
	assert_false(machine_degraded(PM_MEAN_IMBALANCE, 3.0, 4.4));
	assert_true(machine_degraded(PM_MEAN_IMBALANCE, 3.0, 4.6));
	/* idle-while-runnable: up by 500 ms */
	assert_true(machine_degraded(PM_IDLE_MS, 0, 500));
	assert_false(machine_degraded(PM_IDLE_MS, 1000, 1499));
	/* any new stall */
	assert_true(machine_degraded(PM_STALLS, 0, 1));
	assert_false(machine_degraded(PM_STALLS, 1, 1));
	assert_true(machine_degraded(PM_MAX_DSQ, 0, 10));
	assert_false(machine_degraded(PM_MAX_DSQ, 30, 44));
	assert_true(machine_degraded(PM_FALLBACK, 0, 20));
	assert_true(machine_degraded(PM_KEEP_LAST, 10, 30));
	/* never judged, never on missing data */
	assert_false(machine_degraded(PM_MAX_IMBALANCE, 1, 100));
	assert_false(machine_degraded(PM_MEAN_IMBALANCE, NAN, 5));
	assert_false(machine_degraded(PM_MEAN_IMBALANCE, 1, NAN));
	assert_false(machine_degraded(PM_IDLE_MS, 900, 0));
}

/* ---- bad input and caps ----------------------------------------------- */

static void test_malformed(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_start\",\"cpus\":2}");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":0,\"nr_running\":[1,-1]}");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":0,\"nr_running\":[1,2,3]}");
	rec(&m, "{\"type\":\"monitor\",\"nr_running\":[1,1]}");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":-1,\"nr_running\":[1,1]}");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":\"x\",\"nr_running\":[1,1]}");
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":5,\"nr_running\":[1,1],\"idle\":[0,7]}");
	assert_int_equal(m.n_samples, 1);	/* the last: nr_running is good */
	assert_int_equal(m.samples[0].have, MS_NR);
	assert_int_equal(m.cells[1].flags, 0);	/* the half-read idle left no bit */
	/* one warning per field */
	assert_int_equal(w.n, 3);
	assert_string_equal(w.last, "monitor.idle: expected an array of 0 and 1, got an array"
			    " holding something else; treated as missing (said once per field)");
	/* huge counts saturate rather than wrap */
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":6,\"nr_running\":[70000,0],\"local_dsq\":[0,1e6]}");
	assert_int_equal(m.cells[2].nr, 65535);
	assert_int_equal(m.cells[3].dsq, 65535);
	/* nothing usable: not stored */
	rec(&m, "{\"type\":\"monitor\",\"t_ms\":7}");
	assert_int_equal(m.n_samples, 2);
	rec(&m, "{\"type\":\"monitor_unavailable\",\"reason\":\"no\\nBTF\"}");
	assert_string_equal(m.unavailable, "no BTF");
	eval(&m, NULL, 0, &r);
	assert_true(r.any);
	machine_result_release(&r);
	machine_release(&m);
	/* only monitor_unavailable: nothing evaluated */
	setup(&m, &w);
	rec(&m, "{\"type\":\"monitor_unavailable\",\"reason\":\"kernel has no BTF\"}");
	eval(&m, NULL, 0, &r);
	assert_false(r.any);
	for (unsigned k = 0; k < MCHK_N; k++)
		assert_false(r.checks[k].evaluated);
	assert_int_equal(r.n_phases, 0);
	machine_result_release(&r);
	machine_release(&m);
}

static void test_caps(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;

	(void)state;
	setup(&m, &w);
	m.max_samples = 10;
	samples(&m, 0, 25, "1,1", "0,0", NULL);
	assert_int_equal(m.n_samples, 10);
	assert_int_equal(m.dropped, 15);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "later samples are ignored"));
	machine_release(&m);
	setup(&m, &w);
	m.max_cells = 9;
	samples(&m, 0, 6, "1,1", "0,0", NULL);
	assert_int_equal(m.n_samples, 4);
	machine_release(&m);
	/* the widest machine: 65536 CPUs, evaluated in linear time */
	setup(&m, &w);
	{
		struct strbuf nr = STRBUF_INIT, idle = STRBUF_INIT;

		strbuf_addstr(&nr, "9");
		strbuf_addstr(&idle, "0");
		for (size_t i = 1; i < MACHINE_MAX_CPUS; i++) {
			strbuf_addstr(&nr, ",0");
			strbuf_addstr(&idle, ",1");
		}
		samples(&m, 0, 6, nr.buf, idle.buf, NULL);
		strbuf_release(&nr);
		strbuf_release(&idle);
	}
	eval(&m, NULL, 0, &r);
	assert_true(check(&r, MCHK_WORK_CONSERVATION)->value == 600);
	assert_non_null(strstr(check(&r, MCHK_WORK_CONSERVATION)->message,
			       "CPUs 1-65535 idle for 600 ms while CPU 0 had 9 runnable tasks"));
	assert_true(check(&r, MCHK_IMBALANCE)->value == 9);
	machine_result_release(&r);
	/* one CPU more is refused */
	machine_release(&m);
	setup(&m, &w);
	{
		json_t *a = json_array(), *o = json_object();

		for (size_t i = 0; i <= MACHINE_MAX_CPUS; i++)
			json_array_append_new(a, json_integer(1));
		json_object_set_new(o, "type", json_string("monitor"));
		json_object_set_new(o, "t_ms", json_integer(1));
		json_object_set_new(o, "nr_running", a);
		machine_feed(&m, o, "monitor");
		json_decref(o);
	}
	assert_int_equal(m.n_samples, 0);
	assert_non_null(strstr(w.last, "an array of at most 65536 values"));
	machine_release(&m);
}

/* ---- output ------------------------------------------------------------- */

static void test_metrics_and_json(void **state)
{
	struct machine m;
	struct warned w;
	struct machine_result r;
	json_t *o = json_object(), *j, *p;

	(void)state;
	setup(&m, &w);
	rec(&m, "{\"type\":\"scenario_start\",\"host_ms\":0}");
	rec(&m, "{\"type\":\"step\",\"index\":1,\"host_ms\":50}");
	samples(&m, 100, 6, "3,1", "0,0", ",\"local_dsq\":[1,2]");
	eval(&m, NULL, 0, &r);
	machine_metrics(&r, o);
	assert_int_equal(json_integer_value(json_object_get(o, "max_imbalance_ratio")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "max_local_dsq_depth")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "phase1.mean_imbalance_ratio")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "phase1.idle_while_runnable_ms")), 0);
	assert_null(json_object_get(o, "stall_count"));		/* not evaluated */
	assert_null(json_object_get(o, "phase0.mean_imbalance_ratio"));	/* no samples */
	j = machine_json(&m, &r);
	assert_int_equal(json_integer_value(json_object_get(j, "samples")), 6);
	assert_true(json_is_null(json_object_get(j, "stall_count")));
	p = machine_phases_json(&r);
	assert_int_equal(json_array_size(p), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 1), "samples")), 6);
	json_decref(o);
	json_decref(j);
	json_decref(p);
	machine_result_release(&r);
	machine_release(&m);
	/* no monitor record at all: null */
	setup(&m, &w);
	eval(&m, NULL, 0, &r);
	j = machine_json(&m, &r);
	assert_true(json_is_null(j));
	json_decref(j);
	machine_result_release(&r);
	machine_release(&m);
}

/* ---- compare's phase metrics, the verdict's wiring ---------------------- */

static void test_phase_gates(void **state)
{
	const struct metric_gate *g;
	const char *base = NULL;

	(void)state;
	assert_int_equal(compare_metric_phase("phase12.stall_count", &base), 12);
	assert_string_equal(base, "stall_count");
	assert_int_equal(compare_metric_phase("phase0.x", NULL), 0);
	assert_int_equal(compare_metric_phase("phase.x", NULL), -1);
	assert_int_equal(compare_metric_phase("phase1", NULL), -1);
	assert_int_equal(compare_metric_phase("phase1.", NULL), -1);
	assert_int_equal(compare_metric_phase("phase99999999.x", NULL), -1);
	assert_int_equal(compare_metric_phase("worst_gap_ms", NULL), -1);
	/* the check table's gate for a machine metric, compare's own for the
	 * phase-only ones, none for the unknown */
	g = compare_gate_find("phase3.max_imbalance_ratio");
	assert_non_null(g);
	assert_string_equal(g->name, "max_imbalance_ratio");
	g = compare_gate_find("phase1.mean_imbalance_ratio");
	assert_non_null(g);
	assert_false(g->higher_is_better);
	assert_non_null(compare_gate_find("phase1.idle_while_runnable_ms"));
	assert_non_null(compare_gate_find("stall_count"));
	assert_null(compare_gate_find("phase1.scx_bogus"));
}

static void feed_lines(struct verdict *v, const char *text)
{
	unsigned long n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(verdict_feed_line(v, p, len, ++n, &err), 0);
		strbuf_release(&err);
		p += len + (nl != NULL);
	}
}

static void test_verdict_wiring(void **state)
{
	struct verdict v;
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	(void)state;
	verdict_init(&v);
	feed_lines(&v, "{\"type\":\"scenario_start\",\"name\":\"s\",\"host_ms\":0,"
		   "\"checks\":{\"max_imbalance_ratio\":null}}\n");
	for (int t = 0; t < 800; t += 100) {
		char line[256];

		snprintf(line, sizeof(line), "{\"type\":\"monitor\",\"t_ms\":%d,"
			 "\"nr_running\":[7,0],\"idle\":[0,1]}", t);
		feed_lines(&v, line);
	}
	feed_lines(&v, "{\"type\":\"scenario_end\",\"host_ms\":800}");
	verdict_finish(&v, NULL);
	assert_int_equal(v.result, VERDICT_FAIL);
	assert_int_equal(v.n_failures, 1);
	assert_string_equal(v.checks[v.n_checks - 1].check, "work_conservation");
	/* the scenario turned imbalance off: not listed */
	for (size_t i = 0; i < v.n_checks; i++)
		assert_string_not_equal(v.checks[i].check, "imbalance");
	j = verdict_to_json(&v, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "machine"),
							    "max_idle_while_runnable_ms")), 800);
	assert_int_equal(json_array_size(json_object_get(j, "phases")), 1);
	json_decref(j);
	verdict_format(&v, &sb);
	assert_non_null(strstr(sb.buf, "  work conservation: CPU 1 idle for 800 ms while CPU 0"
			       " had 7 runnable tasks (from 0.0 s into the run; limit 500 ms)\n"));
	assert_non_null(strstr(sb.buf, "\nPHASE  FROM_S"));
	strbuf_release(&sb);
	verdict_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wc_names_cpus),
		cmocka_unit_test(test_wc_names_cpus_despite_blip),
		cmocka_unit_test(test_wc_sustain),
		cmocka_unit_test(test_wc_paused_vcpu),
		cmocka_unit_test(test_wc_starved_host),
		cmocka_unit_test(test_vm_share_idle_guest),
		cmocka_unit_test(test_lost_short_stop),
		cmocka_unit_test(test_stopped_by_overlap),
		cmocka_unit_test(test_wc_vacuous),
		cmocka_unit_test(test_paused_samples),
		cmocka_unit_test(test_wc_halted_vcpus),
		cmocka_unit_test(test_wc_cpusets),
		cmocka_unit_test(test_imbalance),
		cmocka_unit_test(test_dsq_depth),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_wait_and_rates),
		cmocka_unit_test(test_keep_last_while_waiting),
		cmocka_unit_test(test_window_and_phases),
		cmocka_unit_test(test_origin_after_attach),
		cmocka_unit_test(test_phase_iteration_rate),
		cmocka_unit_test(test_degrade_rules),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_metrics_and_json),
		cmocka_unit_test(test_phase_gates),
		cmocka_unit_test(test_verdict_wiring),
	};

	diag_init("test_machine");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
