/* The host's part in a run: failures it caused and checks it made
 * powerless.
 *
 * The guest's clock runs on while the host does not run the VM (a stopped
 * QEMU, a host too busy to give it a CPU), and the monitor's vcpu_wait_us
 * and qemu_stopped_us say how much of each interval that was
 * (machine_lost_ms).  A worker's gap that is over its limit only by such
 * time was the host's doing, not the scheduler's; and when the host ran
 * the VM for less than the work_conservation limit over a whole window
 * that was longer, no scheduler could have failed that check.  Either way
 * a pass would claim what the run cannot show, so the verdict is
 * inconclusive, and a real failure elsewhere still fails the run.
 *
 * Only the worst gap per cgroup is known: with it discounted, a lesser one
 * may still be over the limit, so even then the run is not a pass.  And a
 * stop (SIGSTOP) disturbs more than the time it took, as does a host that
 * ran the VM for under half the workload: see STOP_DISTURBS_MS and
 * HOST_SHARE_MIN. */
#include "verdict_int.h"
#include "diag.h"

#include <math.h>
#include <stdarg.h>

/* A stop of QEMU this long in the workload makes the cgroups' timing
 * checks the host's: the guest's clock jumps by the stop when QEMU goes
 * on, and its kernel charges the jump to whatever was running (an EEVDF
 * run stopped 2 s read spreads of 28% and 33% against a 15% limit). */
#define STOP_DISTURBS_MS 200
/* A host that ran the VM for less than this share of the workload does
 * the same in many small pieces: each time a vCPU thread waits for a
 * host CPU, the guest's clock runs on and is charged to whatever that
 * vCPU was running.  Under half, most of what the timing checks measure
 * is the host's waits, not the scheduler's choices. */
#define HOST_SHARE_MIN 0.5

/* What a stop disturbs: the cgroups' checks that are timings. */
static bool timing_check(const char *check)
{
	static const char *const timed[] = { "spread", "gap", "p99_wake_latency",
		"iteration_rate" };

	for (size_t k = 0; k < ARRAY_SIZE(timed); k++)
		if (!strcmp(check, timed[k]))
			return true;
	return false;
}

/* A gap is the host's when the time the host took covers all of its
 * excess over the limit. */
static bool host_explains(const struct verdict_check *c, double lost)
{
	return lost > 0 && c->value - lost <= c->limit;
}

/* Add to a failure's message what the host took. */
static void amend(struct verdict_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void amend(struct verdict_check *c, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&sb, c->message);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(c->message);
	c->message = strbuf_detach(&sb, NULL);
}

/* The failure is the host's, which took host_ms of the run from it (the
 * caller has said how in its message). */
static void mark(struct verdict *v, struct verdict_check *c, double host_ms)
{
	c->by_host = true;
	c->host_lost_ms = host_ms;
	v->n_failures--;
	v->n_by_host++;
}

void vd_mark_host(struct verdict *v)
{
	const struct machine *m = &v->machine;
	const struct machine_result *r = &v->machine_result;
	double origin = m->origin_host_ms;
	bool stopped = r->stopped_ms >= STOP_DISTURBS_MS;
	/* NAN-safe: without thread times (an older ktstr-vm) the share is
	 * not known and nothing is marked for it. */
	bool busy = !stopped && r->window_ms > 0 && r->vm_run_ms < HOST_SHARE_MIN * r->window_ms;

	for (size_t i = 0; i < v->n_checks; i++) {
		struct verdict_check *c = &v->checks[i];

		if (c->pass || c->secondary || !c->cgroup || !timing_check(c->check))
			continue;
		if (!strcmp(c->check, "gap") && !isnan(origin) && !isnan(c->ended_at_ms) &&
		    !isnan(c->value) && !isnan(c->limit)) {
			double to = origin + c->ended_at_ms;
			double lost = machine_lost_ms(m, to - c->value, to);

			if (host_explains(c, lost)) {
				amend(c, "; the host did not run the VM for %.0f ms of it",
				      round(lost));
				mark(v, c, lost);
				continue;
			}
			/* In part: still the scheduler's, saying how much
			 * the host took. */
			if (!stopped && !busy && lost > 0.05 * c->value)
				amend(c, " (the host did not run the VM for %.0f ms of it)",
				      round(lost));
		}
		if (stopped) {
			amend(c, "; QEMU was stopped for %.0f ms during the workload (the"
			      " guest's clock jumped)", round(r->stopped_ms));
			mark(v, c, r->stopped_ms);
		} else if (busy) {
			amend(c, "; the host ran the VM for only %.0f%% of the workload (the"
			      " guest's clock ran on while its vCPUs waited for a host CPU)",
			      100 * r->vm_run_ms / r->window_ms);
			mark(v, c, r->window_ms - r->vm_run_ms);
		}
	}
	if (v->n_by_host) {
		for (size_t i = 0; i < v->n_checks; i++)
			if (v->checks[i].by_host) {
				v->host_reason = xasprintf("the host, not the scheduler: %s",
							   v->checks[i].message);
				break;
			}
	} else if (r->wc_vacuous) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "work_conservation could not have failed: the host ran"
			      " the VM for ");
		vd_add_num(&sb, round(r->vm_run_ms));
		strbuf_addstr(&sb, " ms of the workload's ");
		vd_add_num(&sb, round(r->window_ms));
		strbuf_addf(&sb, " ms (%.0f%%), under the check's ", 100 * r->vm_run_ms / r->window_ms);
		vd_add_num(&sb, r->checks[MCHK_WORK_CONSERVATION].limit);
		strbuf_addstr(&sb, " ms limit; rerun on a less busy host");
		v->host_reason = strbuf_detach(&sb, NULL);
	}
}
