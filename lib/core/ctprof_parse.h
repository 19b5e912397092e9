/* Parsers for the /proc and cgroup text files a ctprof capture reads.
 *
 * Each takes the file's contents and sets the fields it understood on a
 * JSON object; a field the text does not have is left absent, never set to
 * zero, so "the kernel lacks it" and "it is zero" stay distinguishable.
 * Pure functions of their input (no I/O), so they are unit-tested with
 * fixture strings. */
#ifndef KTSTR_CTPROF_PARSE_H
#define KTSTR_CTPROF_PARSE_H

#include <jansson.h>
#include <stdbool.h>

/* /proc/.../sched ("key : value" lines).  Values printed as "ms.nnnnnn"
 * become integer ns.  Returns the number of fields set. */
int ctprof_parse_sched(const char *text, json_t *thread);

/* /proc/.../stat.  The comm is whatever lies between the first '(' and the
 * last ')', so names with spaces and parentheses survive.  Tick counts are
 * converted with clk_tck (sysconf(_SC_CLK_TCK)).  0, or -1 if malformed. */
int ctprof_parse_stat(const char *text, long clk_tck, json_t *thread);

/* /proc/.../schedstat: "run_ns delay_ns timeslices".  0 or -1. */
int ctprof_parse_schedstat(const char *text, json_t *thread);

/* /proc/.../io ("rchar: N" lines).  Returns the number of fields set. */
int ctprof_parse_io(const char *text, json_t *thread);

/* /proc/.../status: affinity and context-switch counts.  Fields set. */
int ctprof_parse_status(const char *text, json_t *thread);

/* The cgroup v2 path from /proc/.../cgroup (the "0::" line); NULL when the
 * thread has none (cgroup v1 only).  Caller frees. */
char *ctprof_parse_cgroup(const char *text);

/* CPUs in a kernel cpulist ("0-3,8,10-11"); -1 if malformed. */
int ctprof_cpulist_count(const char *list);

/* cgroup cpu.stat ("usage_usec N" lines) as cpu_*_us / cpu_nr_* fields. */
int ctprof_parse_cpu_stat(const char *text, json_t *cgroup);

/* A PSI file ("some avg10=.. avg60=.. avg300=.. total=..") as
 * <res>_some_avg10_pct, ..., <res>_full_total_us fields. */
int ctprof_parse_psi(const char *text, const char *res, json_t *obj);

/* A sched value: "123" (as is) or "5.285170" (ms with ns digits, to ns).
 * 0 or -1. */
int ctprof_parse_sched_value(const char *s, long long *out, bool *was_split);

/* The whole-number content of a small file ("100\n", "-1"); 0 or -1. */
int ctprof_parse_ll(const char *s, long long *out);

#endif
