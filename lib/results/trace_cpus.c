/* The CPU tracks: a process "CPUs" with a thread "cpu N" per CPU.  Each
 * monitor sample becomes one counter event per CPU, "cpu N" with
 * nr_running, local_dsq and idle (Perfetto draws one counter track per
 * argument), and the stretches a CPU ran its idle task become "idle"
 * slices on its thread, so the lanes show at a glance where CPUs idled. */
#include "trace_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Element cpu of the per-CPU array key, or NAN. */
static double cell(const json_t *rec, const char *key, size_t cpu)
{
	const json_t *a = json_object_get(rec, key);
	const json_t *x = json_is_array(a) ? json_array_get(a, cpu) : NULL;

	if (json_is_boolean(x))
		return json_is_true(x);
	/* Counts and flags are >= 0; anything else is a malformed record. */
	return json_is_number(x) && json_number_value(x) >= 0 &&
	       json_number_value(x) < 9007199254740992.0 ? json_number_value(x) : NAN;
}

static size_t sample_cpus(const json_t *rec)
{
	const json_t *nr = json_object_get(rec, "nr_running");

	return json_is_array(nr) ? json_array_size(nr) : 0;
}

static void name_cpus(json_t *ev, size_t n)
{
	char name[32];

	trace_meta(ev, "process_name", TPID_CPUS, 0, "CPUs");
	trace_sort(ev, TPID_CPUS, 0, 1);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cpu %zu", i);
		trace_meta(ev, "thread_name", TPID_CPUS, TTID_CPU0 + (long long)i, name);
		trace_sort(ev, TPID_CPUS, TTID_CPU0 + (long long)i, (int)i);
	}
}

static void sample_counters(json_t *ev, const json_t *rec, double t, size_t n)
{
	static const char *const keys[] = { "nr_running", "local_dsq", "idle" };
	char name[32];

	for (size_t i = 0; i < n; i++) {
		json_t *args = json_object();

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			double x = cell(rec, keys[k], i);

			if (!isnan(x))
				json_object_set_new(args, keys[k], json_real(x));
		}
		/* A sample whose arrays were unreadable draws nothing: an
		 * empty counter has no series to put a point on. */
		if (!json_object_size(args)) {
			json_decref(args);
			continue;
		}
		snprintf(name, sizeof(name), "cpu %zu", i);
		trace_counter(ev, TPID_CPUS, name, t, args);
	}
}

void trace_cpus(json_t *ev, const json_t *recs, const struct trace_clock *c)
{
	const json_t *rec;
	size_t i, n = 0, cpu;
	double *idle_from = NULL, last = NAN;

	(void)c;	/* samples are on the host clock already */
	json_array_foreach(recs, i, rec) {
		if (!strcmp(json_get_str(rec, "type"), "monitor_start") &&
		    trace_num(rec, "cpus") > n && trace_num(rec, "cpus") <= 65536)
			n = (size_t)trace_num(rec, "cpus");
		else if (!strcmp(json_get_str(rec, "type"), "monitor") && sample_cpus(rec) > n)
			n = sample_cpus(rec) > 65536 ? 65536 : sample_cpus(rec);
	}
	if (!n)
		return;
	name_cpus(ev, n);
	idle_from = xmalloc(n * sizeof(*idle_from));
	for (cpu = 0; cpu < n; cpu++)
		idle_from[cpu] = NAN;
	json_array_foreach(recs, i, rec) {
		double t = trace_num(rec, "t_ms");

		if (strcmp(json_get_str(rec, "type"), "monitor") || isnan(t))
			continue;
		sample_counters(ev, rec, t, n);
		/* An idle stretch runs from the first idle sample to the
		 * first busy one. */
		for (cpu = 0; cpu < n; cpu++) {
			bool idle = cell(rec, "idle", cpu) == 1;

			if (idle && isnan(idle_from[cpu]))
				idle_from[cpu] = t;
			else if (!idle && !isnan(idle_from[cpu])) {
				trace_slice(ev, TPID_CPUS, TTID_CPU0 + (long long)cpu, "idle",
					    idle_from[cpu], t - idle_from[cpu], NULL, NULL);
				idle_from[cpu] = NAN;
			}
		}
		last = t;
	}
	for (cpu = 0; cpu < n; cpu++)
		if (!isnan(idle_from[cpu]) && last > idle_from[cpu])
			trace_slice(ev, TPID_CPUS, TTID_CPU0 + (long long)cpu, "idle",
				    idle_from[cpu], last - idle_from[cpu], NULL, NULL);
	free(idle_from);
}
