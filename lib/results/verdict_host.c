/* The host's part in a run: failures it caused and checks it made
 * powerless.
 *
 * The guest's clock runs on while the host does not run the VM (a paused
 * QEMU, a host too busy to give it a CPU), and the monitor's vcpu_run_us
 * says how much of each interval it did run (machine_lost_ms).  A worker's
 * gap that is over its limit only by such time was the host's doing, not
 * the scheduler's; and when the host ran the VM for less than the
 * work_conservation limit over a whole window that was longer, no
 * scheduler could have failed that check.  Either way a pass would claim
 * what the run cannot show, so the verdict is inconclusive, and a real
 * failure elsewhere still fails the run.
 *
 * Only the worst gap per cgroup is known: with it discounted, a lesser one
 * may still be over the limit, so even then the run is not a pass. */
#include "verdict_int.h"
#include "diag.h"

#include <math.h>

/* Share of a failure's time the host must have taken before it is blamed
 * on the host: all of the excess over the limit. */
static bool host_explains(const struct verdict_check *c, double lost)
{
	return lost > 0 && c->value - lost <= c->limit;
}

static void mark(struct verdict *v, struct verdict_check *c, double lost)
{
	struct strbuf sb = STRBUF_INIT;

	c->by_host = true;
	c->host_lost_ms = lost;
	strbuf_addf(&sb, "%s; the host did not run the VM for ", c->message);
	vd_add_num(&sb, round(lost));
	strbuf_addstr(&sb, " ms of it");
	free(c->message);
	c->message = strbuf_detach(&sb, NULL);
	v->n_failures--;
	v->n_by_host++;
}

void vd_mark_host(struct verdict *v)
{
	const struct machine *m = &v->machine;
	const struct machine_result *r = &v->machine_result;
	double origin = m->origin_host_ms;

	for (size_t i = 0; i < v->n_checks && !isnan(origin); i++) {
		struct verdict_check *c = &v->checks[i];
		double from, to, lost;

		if (c->pass || c->secondary || strcmp(c->check, "gap") || isnan(c->ended_at_ms) ||
		    isnan(c->value) || isnan(c->limit))
			continue;
		to = origin + c->ended_at_ms;
		from = to - c->value;
		lost = machine_lost_ms(m, from, to);
		if (host_explains(c, lost))
			mark(v, c, lost);
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
