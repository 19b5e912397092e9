/* The scheduler's death and the VM's failure (verdict_int.h): their
 * checks, the failures that follow from a death, and the console lines
 * shown for a run that failed outside the scenario. */
#include "verdict_int.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Console lines kept for an infrastructure failure. */
#define CONSOLE_TAIL_LINES 20

void vd_eval_scheduler(struct verdict *v, struct strbuf *msg)
{
	struct verdict_check *c;
	bool died = v->sched_event != NULL;
	bool gone = !died && v->scheduler && v->end_scheduler_alive == 0;

	if (!v->scheduler && !died)
		return;
	c = vd_add_check(v, "scheduler", NULL, NAN, NAN, VERDICT_NONE);
	if (!died && !gone)
		return;
	if (gone) {
		if (v->end_error)
			strbuf_addf(msg, "scheduler failed: %s", v->end_error);
		else
			strbuf_addstr(msg, "scheduler died: it was no longer running"
				      " at scenario_end");
		vd_fail_check(v, c, msg);
		return;
	}
	if (!strcmp(v->sched_event, "attach_failed"))
		strbuf_addstr(msg, "scheduler failed to attach");
	else
		strbuf_addstr(msg, "scheduler died");
	if (!isnan(v->sched_at_ms)) {
		strbuf_addstr(msg, " at +");
		vd_add_num(msg, v->sched_at_ms);
		strbuf_addstr(msg, "ms");
	}
	if (v->sched_reason && *v->sched_reason) {
		strbuf_addf(msg, ": %s", v->sched_reason);
	} else if (!isnan(v->sched_exit_code)) {
		strbuf_addstr(msg, ": exited with status ");
		vd_add_num(msg, v->sched_exit_code);
	} else {
		strbuf_addstr(msg, ": no reason given");
	}
	for (size_t i = 0; i < v->sched_kernel_log.n; i++)
		strvec_push(&c->kernel_log, v->sched_kernel_log.v[i]);
	for (size_t i = 0; i < v->sched_output.n; i++)
		strvec_push(&c->output, v->sched_output.v[i]);
	vd_fail_check(v, c, msg);
}

void vd_eval_vm(struct verdict *v, struct strbuf *msg)
{
	const char *r = v->vm_exit_reason;
	struct verdict_check *c;

	if (!r)
		return;
	c = vd_add_check(v, "vm", NULL, NAN, NAN, VERDICT_NONE);
	if (!strcmp(r, "panic")) {
		strbuf_addstr(msg, "guest kernel panic: ");
		strbuf_addstr(msg, v->vm_panic ? v->vm_panic :
			      v->vm_exit_message ? v->vm_exit_message : "no panic line captured");
		if (v->console_log)
			strbuf_addf(msg, " (console log: %s)", v->console_log);
		vd_fail_check(v, c, msg);
	} else if (!strcmp(r, "timeout") && !v->saw_end && !v->infra_reason) {
		strbuf_addstr(msg, "VM overran its timeout");
		if (!isnan(v->vm_wall_ms)) {
			strbuf_addstr(msg, " after ");
			vd_add_num(msg, v->vm_wall_ms);
			strbuf_addstr(msg, "ms");
		}
		if (v->vm_exit_message)
			strbuf_addf(msg, ": %s", v->vm_exit_message);
		vd_fail_check(v, c, msg);
	} else if (!strcmp(r, "no_agent") && !v->saw_end && !v->error_reason &&
		   !v->infra_reason) {
		strbuf_addstr(msg, "VM stopped before the scenario ended");
		if (v->vm_exit_message)
			strbuf_addf(msg, ": %s", v->vm_exit_message);
		vd_fail_check(v, c, msg);
	}
}

/* Failures that follow from a scheduler death (or failed attach): the
 * cgroups' unfairness, gaps, starvation and slow progress, and the machine
 * checks, are what a dead scheduler looks like, not causes of their own.
 * A gap that closed before the death is its own failure. */
void vd_mark_secondary(struct verdict *v)
{
	static const char *const follow[] = { "starvation", "spread", "gap",
		"p99_wake_latency", "iteration_rate", "migration_ratio" };
	bool died = false;
	size_t i, k;

	for (i = 0; i < v->n_checks; i++)
		if (!strcmp(v->checks[i].check, "scheduler") && !v->checks[i].pass)
			died = true;
	if (!died)
		return;
	for (i = 0; i < v->n_checks; i++) {
		struct verdict_check *c = &v->checks[i];
		bool sec = false;

		if (c->pass)
			continue;
		for (k = 0; k < ARRAY_SIZE(follow); k++)
			sec |= !strcmp(c->check, follow[k]);
		/* machine checks: run-wide, not the scheduler or the VM */
		sec |= !c->cgroup && !c->payload && strcmp(c->check, "scheduler") &&
		       strcmp(c->check, "vm");
		/* A payload's numbers suffer from the death as the workers'
		 * do; its crash or hang is its own. */
		sec |= !strcmp(c->check, "payload_metric");
		if (!isnan(c->ended_at_ms) && c->ended_at_ms < v->sched_at_ms)
			sec = false;
		if (sec) {
			c->secondary = true;
			v->n_secondary++;
		}
	}
}

/* The last lines of the console log file, for a run that failed before
 * or outside the scenario (vm_exit did not carry them), as ktstr-test
 * shows that file (caselog.h). */
void vd_read_console_tail(struct verdict *v)
{
	struct caselog l;

	if (v->console_tail.n || !v->console_log)
		return;
	if (caselog_read(v->console_log, 0, CONSOLE_TAIL_LINES, &l) < 0)
		return;
	for (size_t i = 0; i < l.tail.n; i++)
		strvec_push(&v->console_tail, l.tail.v[i]);
	v->console_tail_read = v->console_tail.n > 0;
	caselog_release(&l);
}

bool vd_vm_failed(const struct verdict *v)
{
	for (size_t i = 0; i < v->n_checks; i++)
		if (!strcmp(v->checks[i].check, "vm") && !v->checks[i].pass)
			return true;
	return false;
}

