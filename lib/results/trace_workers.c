/* The worker tracks: a process per cgroup (in order of first appearance)
 * with a thread per worker.  On it a "run" slice, from when its cgroup
 * was added (its step's add stimulus, else the workload's start) for its
 * wall_time_us, and its longest gap as a slice: the worker records carry
 * only the worst gap (max_gap_ms, starting at max_gap_at_ms on the
 * guest's clock, closed on max_gap_cpu). */
#include "trace_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Host ms at which cgroup's workers were started: its first add
 * stimulus, else the workload's start. */
static double added_at(const json_t *recs, const struct trace_clock *c, const char *cgroup)
{
	const json_t *rec;
	size_t i;

	json_array_foreach(recs, i, rec) {
		const char *op = json_get_str(rec, "op"), *cg = json_get_str(rec, "cgroup");
		double t = trace_clock_at(c, rec, "at_ms");

		if (!strcmp(json_get_str(rec, "type"), "stimulus") && op && cg &&
		    !strcmp(op, "add") && !strcmp(cg, cgroup) && !isnan(t))
			return t;
	}
	return c->origin_ms;
}

/* The process id of cgroup, named on first sight. */
static int cgroup_pid(json_t *ev, json_t *seen, const char *cgroup)
{
	json_t *j = json_object_get(seen, cgroup);
	int pid;
	char *name;

	if (j)
		return (int)json_integer_value(j);
	pid = TPID_CGROUP0 + (int)json_object_size(seen);
	json_object_set_new(seen, cgroup, json_integer(pid));
	name = xasprintf("cgroup %s", cgroup);
	trace_meta(ev, "process_name", pid, 0, name);
	trace_sort(ev, pid, 0, pid);
	free(name);
	return pid;
}

static void worker(json_t *ev, json_t *seen, const json_t *recs, const struct trace_clock *c,
		   const json_t *rec, long long *nopid)
{
	const char *cg = json_get_str(rec, "cgroup"), *from = json_get_str(rec, "moved_from");
	double index = trace_num(rec, "index"), wpid = trace_num(rec, "pid");
	double wall = trace_num(rec, "wall_time_us"), gap = trace_num(rec, "max_gap_ms");
	double gap_at = trace_num(rec, "max_gap_at_ms"), start;
	long long tid = wpid > 0 && wpid < TTID_SCENARIO ? (long long)wpid : (*nopid)++;
	int pid = cgroup_pid(ev, seen, cg ? cg : "?");
	json_t *args;
	char *name;

	name = isnan(wpid) ? xasprintf("worker %.0f", index)
			   : xasprintf("worker %.0f (pid %.0f)", index, wpid);
	trace_meta(ev, "thread_name", pid, tid, name);
	trace_sort(ev, pid, tid, isnan(index) ? 0 : (int)index);
	free(name);
	start = added_at(recs, c, from ? from : cg ? cg : "?");
	if (!isnan(wall)) {
		args = json_object();
		json_object_set(args, "work", json_object_get(rec, "work"));
		json_object_set(args, "iterations", json_object_get(rec, "iterations"));
		json_object_set(args, "off_cpu_pct", json_object_get(rec, "off_cpu_pct"));
		json_object_set(args, "migrations", json_object_get(rec, "migrations"));
		json_object_set(args, "cpus_used", json_object_get(rec, "cpus_used"));
		json_object_set(args, "cpuset", json_object_get(rec, "cpuset"));
		/* json_object_set of NULL fails and leaves the key out. */
		trace_slice(ev, pid, tid, "run", start, wall / 1000.0, args, NULL);
	}
	if (gap > 0 && !isnan(gap_at)) {
		args = json_object();
		json_set_real(args, "max_gap_ms", gap);
		json_object_set(args, "max_gap_cpu", json_object_get(rec, "max_gap_cpu"));
		trace_slice(ev, pid, tid, "longest gap", trace_clock_guest(c, gap_at), gap, args,
			    "bad");
	}
}

void trace_workers(json_t *ev, const json_t *recs, const struct trace_clock *c)
{
	json_t *seen = json_object();
	const json_t *rec;
	long long nopid = TTID_WORKER_NOPID;
	size_t i;

	json_array_foreach(recs, i, rec)
		if (!strcmp(json_get_str(rec, "type"), "worker"))
			worker(ev, seen, recs, c, rec, &nopid);
	json_decref(seen);
}
