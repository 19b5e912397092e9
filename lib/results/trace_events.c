/* One trace event of each kind the exporter writes, as the trace-event
 * format defines them: ph "M" (metadata: names and order of processes
 * and threads), "C" (counters, per process), "X" (complete: ts and dur),
 * "i" (instant, with a scope).  ts and dur are microseconds.  An event
 * whose time is unknown or negative (a malformed record) is left out:
 * the format has no place for it. */
#include "trace_int.h"
#include "jsonl.h"

#include <math.h>

/* Host ms to the format's microseconds, whole (Perfetto rounds anyway;
 * whole numbers keep the file short). */
static json_t *us(double ms)
{
	return json_integer((json_int_t)llround(ms * 1000.0));
}

static json_t *event(const char *ph, const char *name, int pid, long long tid)
{
	json_t *e = json_object();

	json_set_str(e, "name", name);
	json_set_str(e, "ph", ph);
	json_set_int(e, "pid", pid);
	json_set_int(e, "tid", tid);
	return e;
}

void trace_meta(json_t *ev, const char *what, int pid, long long tid, const char *name)
{
	json_t *e = event("M", what, pid, tid), *args = json_object();

	json_set_int(e, "ts", 0);
	json_set_str(args, "name", name);
	json_object_set_new(e, "args", args);
	json_array_append_new(ev, e);
}

void trace_sort(json_t *ev, int pid, long long tid, int index)
{
	json_t *e = event("M", tid ? "thread_sort_index" : "process_sort_index", pid, tid);
	json_t *args = json_object();

	json_set_int(e, "ts", 0);
	json_set_int(args, "sort_index", index);
	json_object_set_new(e, "args", args);
	json_array_append_new(ev, e);
}

/* Whether t_ms can be a ts; args (stolen) are dropped when not. */
static bool placeable(double t_ms, json_t *args)
{
	if (t_ms >= 0 && t_ms < 9e12)
		return true;
	json_decref(args);
	return false;
}

void trace_counter(json_t *ev, int pid, const char *name, double t_ms, json_t *args)
{
	json_t *e;

	if (!placeable(t_ms, args))
		return;
	e = event("C", name, pid, 0);

	json_object_set_new(e, "ts", us(t_ms));
	json_object_set_new(e, "args", args);
	json_array_append_new(ev, e);
}

void trace_slice(json_t *ev, int pid, long long tid, const char *name, double t_ms,
		 double dur_ms, json_t *args, const char *cname)
{
	json_t *e;

	if (!placeable(t_ms, args))
		return;
	e = event("X", name, pid, tid);

	json_object_set_new(e, "ts", us(t_ms));
	json_object_set_new(e, "dur", us(dur_ms > 0 ? dur_ms : 0));
	if (cname)
		json_set_str(e, "cname", cname);
	json_object_set_new(e, "args", args ? args : json_object());
	json_array_append_new(ev, e);
}

void trace_instant(json_t *ev, int pid, long long tid, const char *name, double t_ms,
		   const char *scope, json_t *args)
{
	json_t *e;

	if (!placeable(t_ms, args))
		return;
	e = event("i", name, pid, tid);

	json_object_set_new(e, "ts", us(t_ms));
	json_set_str(e, "s", scope);
	json_object_set_new(e, "args", args ? args : json_object());
	json_array_append_new(ev, e);
}
