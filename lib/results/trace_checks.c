/* The verdict's failed checks as red slices on a "checks" track, each at
 * its time where the verdict knows it: a gap from where the worst gap
 * began to where it closed, a scheduler death from the death to the end
 * of the scenario, a machine check over the stretch of samples behind
 * its value (machine.h: from_ms, to_ms); any other check (spread,
 * starvation, a payload's) holds for the whole run, so its slice spans
 * the scenario.  A failure that follows from the scheduler's death is
 * marked secondary and drawn in a duller colour. */
#include "trace_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Where check c held, in host ms; *exact whether that is its own time. */
static void check_span(const struct verdict *v, const struct verdict_check *k,
		       const struct trace_clock *c, double *from, double *to, bool *exact)
{
	double end = isnan(c->end_ms) ? c->start_ms : c->end_ms;

	*from = c->start_ms;
	*to = end;
	*exact = false;
	if (!strcmp(k->check, "gap") && !isnan(k->ended_at_ms) && !isnan(k->value)) {
		*from = trace_clock_guest(c, k->ended_at_ms - k->value);
		*to = trace_clock_guest(c, k->ended_at_ms);
		*exact = true;
	} else if (!strcmp(k->check, "scheduler") && !isnan(v->sched_at_ms)) {
		*from = trace_clock_guest(c, v->sched_at_ms);
		*to = end > *from ? end : *from;
		*exact = true;
	}
	/* A machine check: its worst stretch, on the monitor's clock. */
	for (size_t i = 0; i < MCHK_N; i++) {
		const struct machine_check *m = &v->machine_result.checks[i];

		if (m->name && !strcmp(m->name, k->check) && m->from_ms >= 0 &&
		    m->to_ms >= m->from_ms) {
			*from = m->from_ms;
			*to = m->to_ms;
			*exact = true;
		}
	}
}

static json_t *check_args(const struct verdict_check *k, bool exact)
{
	json_t *a = json_object();

	json_set_str(a, "check", k->check);
	if (k->cgroup)
		json_set_str(a, "cgroup", k->cgroup);
	if (k->payload)
		json_set_str(a, "payload", k->payload);
	if (k->message)
		json_set_str(a, "message", k->message);
	if (isfinite(k->value))
		json_set_real(a, "value", k->value);
	if (isfinite(k->limit))
		json_set_real(a, "limit", k->limit);
	json_set_bool(a, "secondary", k->secondary);
	json_set_str(a, "time", exact ? "its own" : "the whole run (the check has no time)");
	return a;
}

void trace_checks(json_t *ev, const struct verdict *v, const struct trace_clock *c)
{
	trace_meta(ev, "process_name", TPID_CHECKS, 0, "checks");
	trace_sort(ev, TPID_CHECKS, 0, 2);
	trace_meta(ev, "thread_name", TPID_CHECKS, TTID_CHECKS, "failed checks");
	for (size_t i = 0; i < v->n_checks; i++) {
		const struct verdict_check *k = &v->checks[i];
		double from, to;
		bool exact;
		char *name;

		if (k->pass)
			continue;
		check_span(v, k, c, &from, &to, &exact);
		if (k->cgroup)
			name = xasprintf("FAIL %s %s", k->check, k->cgroup);
		else if (k->payload)
			name = xasprintf("FAIL %s %s", k->check, k->payload);
		else
			name = xasprintf("FAIL %s", k->check);
		trace_slice(ev, TPID_CHECKS, TTID_CHECKS, name, from, to - from,
			    check_args(k, exact), k->secondary ? "bad" : "terrible");
		free(name);
	}
}
