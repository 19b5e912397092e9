/* The run's own track (process "run"): the scenario as one slice, every
 * step as a global instant (a line across all tracks), every stimulus
 * as an instant on "stimuli", and the scheduler's lifecycle on
 * "scheduler": started, attached, died (with the kernel's reason) or
 * detached as instants, and its time attached as a slice.
 *
 * Scheduler records carry no host_ms: attached is put at the workload's
 * start (the engine starts the workers right after the attach), started
 * attach_ms before it, died at its at_ms, detached at scenario_end (the
 * engine detaches just before writing it).  A record with host_ms or
 * at_ms of its own uses that. */
#include "trace_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void copy_field(json_t *args, const json_t *rec, const char *key)
{
	const json_t *j = json_object_get(rec, key);

	if (j)
		json_object_set(args, key, (json_t *)j);
}

static void step(json_t *ev, const struct trace_clock *c, const json_t *rec)
{
	double t = trace_clock_at(c, rec, "at_ms"), idx = trace_num(rec, "index");
	json_t *args;
	char *name;

	if (isnan(t) || idx == 0)	/* step 0 is the setup, not a phase */
		return;
	args = json_object();
	copy_field(args, rec, "index");
	copy_field(args, rec, "hold_ms");
	copy_field(args, rec, "iterations");
	name = xasprintf("step %.0f", idx);
	trace_instant(ev, TPID_RUN, TTID_STIMULI, name, t, "g", args);
	free(name);
}

static void stimulus(json_t *ev, const struct trace_clock *c, const json_t *rec)
{
	const char *op = json_get_str(rec, "op"), *cg = json_get_str(rec, "cgroup");
	double t = trace_clock_at(c, rec, "at_ms");
	json_t *args = json_object();
	char *name;

	if (isnan(t))
		t = c->origin_ms;
	copy_field(args, rec, "step");
	copy_field(args, rec, "detail");
	copy_field(args, rec, "cpus");
	copy_field(args, rec, "error");
	name = xasprintf("%s%s%s%s", op ? op : "op", cg ? " " : "", cg ? cg : "",
			 json_object_get(rec, "error") ? " (failed)" : "");
	trace_instant(ev, TPID_RUN, TTID_STIMULI, name, t, "t", args);
	free(name);
}

/* Where the scheduler's attached slice began (NAN: not attached yet). */
struct sched_state {
	double attached;
};

static void scheduler(json_t *ev, const struct trace_clock *c, const json_t *rec,
		      struct sched_state *s)
{
	const char *e = json_get_str(rec, "event"), *reason = json_get_str(rec, "reason");
	double t = trace_clock_at(c, rec, "at_ms");
	json_t *args = json_object();
	const char *scope = "t";
	char *name;

	if (!e)
		e = "?";
	if (!strcmp(e, "attached") && isnan(t))
		t = c->origin_ms;
	else if (!strcmp(e, "started") && isnan(t))
		t = isnan(c->attach_ms) ? c->start_ms : c->origin_ms - c->attach_ms;
	else if (!strcmp(e, "detached") && isnan(t))
		t = isnan(c->end_ms) ? c->origin_ms : c->end_ms;
	else if (isnan(t))
		t = c->start_ms;
	copy_field(args, rec, "name");
	copy_field(args, rec, "ops");
	copy_field(args, rec, "pid");
	copy_field(args, rec, "attach_ms");
	copy_field(args, rec, "detach_ms");
	copy_field(args, rec, "exit_code");
	copy_field(args, rec, "clean");
	copy_field(args, rec, "reason");
	copy_field(args, rec, "kernel_log");
	if (!strcmp(e, "died") || !strcmp(e, "attach_failed"))
		scope = "g";	/* everything after it follows from it */
	name = reason ? xasprintf("scheduler %s: %s", e, reason) : xasprintf("scheduler %s", e);
	trace_instant(ev, TPID_RUN, TTID_SCHEDULER, name, t, scope, args);
	free(name);
	if (!strcmp(e, "attached"))
		s->attached = t;
	else if ((!strcmp(e, "died") || !strcmp(e, "detached")) && !isnan(s->attached)) {
		trace_slice(ev, TPID_RUN, TTID_SCHEDULER, "attached", s->attached,
			    t - s->attached, NULL, NULL);
		s->attached = NAN;
	}
}

static void name_tracks(json_t *ev)
{
	trace_meta(ev, "process_name", TPID_RUN, 0, "run");
	trace_sort(ev, TPID_RUN, 0, 0);
	trace_meta(ev, "thread_name", TPID_RUN, TTID_SCENARIO, "scenario");
	trace_sort(ev, TPID_RUN, TTID_SCENARIO, 0);
	trace_meta(ev, "thread_name", TPID_RUN, TTID_STIMULI, "stimuli");
	trace_sort(ev, TPID_RUN, TTID_STIMULI, 1);
	trace_meta(ev, "thread_name", TPID_RUN, TTID_SCHEDULER, "scheduler");
	trace_sort(ev, TPID_RUN, TTID_SCHEDULER, 2);
}

void trace_marks(json_t *ev, const json_t *recs, const struct trace_clock *c)
{
	struct sched_state s = { NAN };
	const json_t *rec, *start = NULL;
	size_t i;

	name_tracks(ev);
	json_array_foreach(recs, i, rec) {
		const char *type = json_get_str(rec, "type");

		if (!strcmp(type, "step"))
			step(ev, c, rec);
		else if (!strcmp(type, "stimulus"))
			stimulus(ev, c, rec);
		else if (!strcmp(type, "scheduler"))
			scheduler(ev, c, rec, &s);
		else if (!strcmp(type, "scenario_start") && !start)
			start = rec;
	}
	if (start) {
		json_t *args = json_object();
		const char *name = json_get_str(start, "name");
		char *title = xasprintf("scenario %s", name ? name : "?");

		copy_field(args, start, "duration_ms");
		copy_field(args, start, "scheduler");
		copy_field(args, start, "topo");
		trace_slice(ev, TPID_RUN, TTID_SCENARIO, title, c->start_ms,
			    (isnan(c->end_ms) ? c->start_ms : c->end_ms) - c->start_ms, args, NULL);
		free(title);
	}
}
