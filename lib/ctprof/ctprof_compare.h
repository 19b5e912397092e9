/* Grouping, aggregation and deltas over ctprof captures.
 *
 * Threads are grouped by a key (everything, process name, thread name or
 * cgroup; kworker names without the "-workqueue" suffix the kernel keeps
 * changing) and every comparable metric of ctprof_metrics[] is aggregated
 * per group: sums for counters and times, means for levels, maxima for
 * per-thread maxima, and the cgroup's own numbers when grouping by cgroup.
 *
 * Deltas are B - A of the aggregates.  Counters are cumulative since each
 * thread started, so a thread alive in both captures contributes its
 * growth, a thread new in B its whole counter, and a thread that exited
 * before B takes its whole counter out (a delta can be negative).  A group
 * only in B ("new") or only in A ("gone") compares summed metrics against
 * an empty sum of 0; other aggregates have no delta then. */
#ifndef KTSTR_CTPROF_COMPARE_H
#define KTSTR_CTPROF_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum ctprof_group_by {
	CTPROF_BY_ALL,
	CTPROF_BY_PCOMM,
	CTPROF_BY_COMM,
	CTPROF_BY_CGROUP,
};
#define CTPROF_GROUP_BY_NAMES "all, pcomm, comm, cgroup"

/* 0, or -1 for an unknown name. */
int ctprof_group_by_parse(const char *s, enum ctprof_group_by *by);
const char *ctprof_group_by_name(enum ctprof_group_by by);

/* An aggregate; absent when no thread of the group had the field. */
struct ctprof_value {
	bool present;
	bool real;		/* value in r (means, PSI averages), else in i */
	long long i;
	double r;
};

struct ctprof_group {
	char *key;
	size_t threads;
	struct ctprof_value *v;	/* one per entry of ctprof_metrics[] */
};

struct ctprof_groups {
	enum ctprof_group_by by;
	struct ctprof_group *g;
	size_t n;
	size_t threads;		/* in the whole capture */
};

/* Group and aggregate the threads of a (validated) capture. */
void ctprof_group(const json_t *snap, enum ctprof_group_by by, struct ctprof_groups *out);
void ctprof_groups_release(struct ctprof_groups *gs);
/* Order groups by the value of metric (largest first), then by key. */
void ctprof_groups_sort(struct ctprof_groups *gs, size_t metric);

enum ctprof_status { CTPROF_BOTH, CTPROF_NEW, CTPROF_GONE };
const char *ctprof_status_name(enum ctprof_status st);

struct ctprof_delta {
	struct ctprof_value a, b;	/* as aggregated; absent on a missing side */
	struct ctprof_value d;		/* b - a, absent when undefined */
	bool has_pct;			/* a present and non-zero */
	double pct;			/* 100 * d / |a| */
};

/* The delta of one metric between two aggregates of a group with this
 * status (a or b may be NULL for a group missing on that side). */
void ctprof_delta(size_t metric, const struct ctprof_group *a, const struct ctprof_group *b,
		  enum ctprof_status st, struct ctprof_delta *out);

struct ctprof_pair {
	const char *key;
	enum ctprof_status status;
	const struct ctprof_group *a, *b;	/* NULL on the missing side */
};

struct ctprof_comparison {
	struct ctprof_pair *p;
	size_t n;
};

/* Match the groups of two captures by key and order the pairs by the
 * absolute delta of metric, largest first (then by key).  The pairs point
 * into a and b, which must outlive the comparison. */
void ctprof_compare(const struct ctprof_groups *a, const struct ctprof_groups *b,
		    size_t metric, struct ctprof_comparison *out);
void ctprof_comparison_release(struct ctprof_comparison *c);

/* A value as a double (0 when absent), for sorting. */
double ctprof_value_num(const struct ctprof_value *v);

#endif
