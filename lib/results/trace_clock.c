/* The run's timeline for the trace: the host clock of the monitor and of
 * the timeline records (host_ms), with guest times (at_ms, from the
 * workload's start) put on it through the first step-0 stimulus, the way
 * lib/vm/machine.c lines the samples up with the phases. */
#include "trace_int.h"
#include "jsonl.h"

#include <math.h>
#include <string.h>

double trace_num(const json_t *rec, const char *key)
{
	const json_t *j = json_object_get(rec, key);
	double x;

	if (!json_is_number(j))
		return NAN;
	x = json_number_value(j);
	return isfinite(x) ? x : NAN;
}

void trace_clock_build(struct trace_clock *c, const json_t *recs)
{
	const json_t *rec;
	size_t i;

	c->start_ms = c->end_ms = c->origin_ms = c->attach_ms = NAN;
	json_array_foreach(recs, i, rec) {
		const char *type = json_get_str(rec, "type");
		double host = trace_num(rec, "host_ms"), at = trace_num(rec, "at_ms");

		if (!strcmp(type, "scenario_start") && isnan(c->start_ms))
			c->start_ms = host;
		else if (!strcmp(type, "scenario_end") && isnan(c->end_ms))
			c->end_ms = host;
		else if (!strcmp(type, "stimulus") && trace_num(rec, "step") == 0 &&
			 isnan(c->origin_ms) && !isnan(host) && !isnan(at))
			c->origin_ms = host - at;
		else if (!strcmp(type, "scheduler") && isnan(c->attach_ms) &&
			 !strcmp(json_get_str(rec, "event") ? json_get_str(rec, "event") : "",
				 "attached"))
			c->attach_ms = trace_num(rec, "attach_ms");
	}
	/* No step-0 stimulus with both clocks: the scenario's start is the
	 * nearest guess; no host clock at all: the guest's (origin 0). */
	if (isnan(c->origin_ms))
		c->origin_ms = isnan(c->start_ms) ? 0 : c->start_ms;
	if (isnan(c->start_ms))
		c->start_ms = c->origin_ms;
	/* scenario_end without host_ms: from its elapsed_ms. */
	json_array_foreach(recs, i, rec) {
		if (isnan(c->end_ms) && !strcmp(json_get_str(rec, "type"), "scenario_end") &&
		    !isnan(trace_num(rec, "elapsed_ms")))
			c->end_ms = c->origin_ms + trace_num(rec, "elapsed_ms");
	}
}

double trace_clock_guest(const struct trace_clock *c, double at_ms)
{
	return isnan(at_ms) ? NAN : c->origin_ms + at_ms;
}

double trace_clock_at(const struct trace_clock *c, const json_t *rec, const char *at_key)
{
	double host = trace_num(rec, "host_ms");

	if (!isnan(host))
		return host;
	return at_key ? trace_clock_guest(c, trace_num(rec, at_key)) : NAN;
}
