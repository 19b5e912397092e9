/* What the trace exporter's files share (trace_export.h is the public
 * face):
 *
 *   trace_export.c  keeping the records, assembling the trace, writing it
 *   trace_clock.c   the run's timeline: guest times onto the host clock
 *   trace_events.c  one trace event of each kind (M, C, X, i)
 *   trace_cpus.c    the CPU tracks from the monitor's samples
 *   trace_workers.c the cgroup processes and worker threads
 *   trace_marks.c   the scenario, stimuli, steps, the scheduler's lifecycle
 *   trace_checks.c  the verdict's failed checks */
#ifndef KTSTR_TRACE_INT_H
#define KTSTR_TRACE_INT_H

#include "trace_export.h"

#include <stdbool.h>

/* Process ids of the fixed tracks; cgroups get TPID_CGROUP0 + i. */
enum {
	TPID_RUN = 1,		/* scenario, stimuli, scheduler */
	TPID_CPUS = 2,
	TPID_CHECKS = 3,
	TPID_CGROUP0 = 10,
};
/* Thread ids, unique over the whole trace (Perfetto keys threads by
 * tid): the fixed tracks' lie above any guest pid. */
#define TTID_SCENARIO 5000001
#define TTID_STIMULI 5000002
#define TTID_SCHEDULER 5000003
#define TTID_CHECKS 5000004
#define TTID_CPU0 6000000
#define TTID_WORKER_NOPID 7000000	/* a worker record without pid */

/* The run's timeline in host ms (NAN unknown). */
struct trace_clock {
	double start_ms, end_ms;	/* scenario_start, scenario_end */
	double origin_ms;		/* the workload's start: at_ms 0 */
	double attach_ms;		/* scheduler attached's attach_ms:
					 * how long after its start */
};

void trace_clock_build(struct trace_clock *c, const json_t *recs);
/* A record's time in host ms: its host_ms, else origin + its at_ms
 * (field at_key); NAN when neither. */
double trace_clock_at(const struct trace_clock *c, const json_t *rec, const char *at_key);
/* A guest time (ms from the workload's start) in host ms. */
double trace_clock_guest(const struct trace_clock *c, double at_ms);
/* The number at key, or NAN (missing, null, not a finite number). */
double trace_num(const json_t *rec, const char *key);

/* Events, appended to ev.  Times in host ms. */
void trace_meta(json_t *ev, const char *what, int pid, long long tid, const char *name);
void trace_sort(json_t *ev, int pid, long long tid, int index);
void trace_counter(json_t *ev, int pid, const char *name, double t_ms, json_t *args);
/* A complete event; args (stolen) may be NULL, cname NULL for none. */
void trace_slice(json_t *ev, int pid, long long tid, const char *name, double t_ms,
		 double dur_ms, json_t *args, const char *cname);
/* An instant event: scope "t" (thread), "p" (process) or "g" (global). */
void trace_instant(json_t *ev, int pid, long long tid, const char *name, double t_ms,
		   const char *scope, json_t *args);

void trace_cpus(json_t *ev, const json_t *recs, const struct trace_clock *c);
void trace_workers(json_t *ev, const json_t *recs, const struct trace_clock *c);
void trace_marks(json_t *ev, const json_t *recs, const struct trace_clock *c);
void trace_checks(json_t *ev, const struct verdict *v, const struct trace_clock *c);

#endif
