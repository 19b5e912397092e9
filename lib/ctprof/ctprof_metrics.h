/* The ctprof metric table: every number a capture can hold, with its unit,
 * how it aggregates over a group of threads and which direction is good.
 *
 * One table is the single source of truth for compare, show and
 * metric-list, so a metric added to the capture shows up everywhere once it
 * is listed here.  Thread metrics are stored in each thread object under
 * their name; cgroup metrics live in the capture's "cgroups" object under
 * key (the name without its "cgroup_" prefix). */
#ifndef KTSTR_CTPROF_METRICS_H
#define KTSTR_CTPROF_METRICS_H

#include <stdbool.h>
#include <stddef.h>

enum ctprof_agg {
	CTPROF_AGG_SUM,		/* counters and times: add up */
	CTPROF_AGG_MEAN,	/* levels (nice, priority): average */
	CTPROF_AGG_MAX,		/* per-thread maxima: the largest */
	CTPROF_AGG_CGROUP,	/* read from the cgroup itself (--group-by cgroup) */
	CTPROF_AGG_NONE,	/* kept per thread, never aggregated */
};

enum ctprof_scope {
	CTPROF_SCOPE_THREAD,
	CTPROF_SCOPE_CGROUP,
};

struct ctprof_metric {
	const char *name;	/* metric name, unit suffix included */
	const char *key;	/* JSON key in the thread or cgroup object */
	const char *unit;	/* ns, us, ms, bytes, pct, count, cpus, ... */
	enum ctprof_agg agg;
	enum ctprof_scope scope;
	int better;		/* +1 higher is better, -1 lower, 0 neither */
	const char *source;	/* where the kernel shows it */
	const char *desc;
};

extern const struct ctprof_metric ctprof_metrics[];
extern const size_t ctprof_n_metrics;

/* Index of a metric by name, or -1.  A name without its unit suffix
 * ("sum_exec_runtime" for "sum_exec_runtime_ns") is accepted too. */
int ctprof_metric_find(const char *name);
/* True when the metric is aggregated and so can be compared or sorted on. */
bool ctprof_metric_comparable(const struct ctprof_metric *m);
const char *ctprof_agg_name(enum ctprof_agg agg);
/* "a, b, c": names of the comparable metrics (cgroup ones only when
 * with_cgroup).  Caller frees. */
char *ctprof_metric_names(bool with_cgroup);

#endif
