/* A scenario run as a trace in the Chrome/Perfetto JSON trace-event format
 * ({"traceEvents": [...], "displayTimeUnit": "ms"}), for ktstr-stats
 * --trace: one track per CPU with the host-side monitor's counters, a
 * process per cgroup with a thread per worker (its run and its longest
 * gap), instant events for the stimuli, steps and the scheduler's
 * lifecycle, and the verdict's failed checks on a "checks" track.
 *
 *   struct trace_export t;
 *   trace_export_init(&t);
 *   trace_export_feed(&t, rec)            for each record, as read
 *   verdict_finish(&v, ...)
 *   json_t *trace = trace_export_build(&t, &v);
 *   trace_export_write(path, trace)
 *
 * Time: ts is in microseconds on the host's clock of the run (ms since
 * QEMU started: monitor t_ms and the host_ms ktstr-vm adds to the
 * timeline records).  Guest times (at_ms, from the workload's start) are
 * put on it through the first step-0 stimulus, as lib/vm/machine.c does.
 * A stream without host_ms (older runs) keeps the guest's clock. */
#ifndef KTSTR_TRACE_EXPORT_H
#define KTSTR_TRACE_EXPORT_H

#include <jansson.h>
#include "strbuf.h"
#include "verdict.h"

struct trace_export {
	json_t *recs;		/* the records the trace draws on, in order */
};

void trace_export_init(struct trace_export *t);
void trace_export_release(struct trace_export *t);
/* Keep rec (a reference) when the trace uses its type. */
void trace_export_feed(struct trace_export *t, const json_t *rec);
/* The trace object (new reference) from the kept records and the
 * finished verdict (its failed checks). */
json_t *trace_export_build(const struct trace_export *t, const struct verdict *v);

/* Whether path can take the trace (or the picture): its directory exists
 * and is writable, it is not a directory (then err suggests a file name
 * such as example): 0, or -1 with what is wrong in err. */
int trace_export_check_path(const char *path, const char *example, struct strbuf *err);
/* Write trace to path atomically (temp file, fsync, rename): 0, or -1
 * with errno set. */
int trace_export_write(const char *path, const json_t *trace);

#endif
