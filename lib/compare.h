/* Comparing two runs' sidecars: per case and metric, a change is a
 * regression only when both its absolute and its relative size pass the
 * metric's gate, in the metric's bad direction; with at least two samples
 * on each side a Welch t-test (alpha 0.05) must also reject "same mean",
 * so noise is not reported as a regression.
 *
 * Default gates (absolute / relative).  Those of the metrics a check maps
 * to are rows of the check table (checktab.h: gate_abs, gate_rel_pct,
 * higher_is_better), listed first in its order; then compare's own:
 *   worst_spread_pct             5     / 25 %   (check table)
 *   worst_gap_ms                 500   / 50 %   (check table)
 *   worst_p99_wake_latency_us    50    / 25 %   (check table)
 *   min_iterations_per_sec       10    / 10 %   (check table) higher is better
 *   worst_migration_ratio        0.05  / 25 %   (check table)
 *   isolation_violations         0     / 0 %    (check table)
 *   starved_workers              0     / 0 %    (check table)
 *   the machine checks' metrics                 (check table)
 *   total_migrations             10    / 30 %
 *   worst_median_wake_latency_us 20    / 25 %
 *   total_iterations             100   / 10 %  higher is better
 * Per-phase metrics "phase<N>.<name>" are gated as <name> (the machine
 * metrics of the check table), else:
 *   mean_imbalance_ratio         1     / 50 %
 *   idle_while_runnable_ms       250   / 50 %
 * Other metrics found in sidecars are shown but not gated.
 *
 * A case whose result went from pass (every sample) to fail (any sample)
 * is a regression too, reported as metric "result" (gate 0 / 0 %, higher
 * is better, a_mean/b_mean the fraction of passing samples); fail to pass
 * is an improvement.  Changes to or from skip or error are not judged.
 *
 * Additions to the first cut: the "result" pseudo-gate (found by
 * compare_gate_find, not listed by compare_gates), commit matched as a
 * prefix, test as a glob. */
#ifndef KTSTR_COMPARE_H
#define KTSTR_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "sidecar.h"
#include "strbuf.h"

struct metric_gate {
	const char *name;
	double abs, rel_pct;
	bool higher_is_better;
};

const struct metric_gate *compare_gates(size_t *n);
const struct metric_gate *compare_gate_find(const char *name);
/* N of a per-phase metric "phase<N>.<name>" (with *base set to <name>
 * when base is not NULL); -1 for any other name. */
long compare_metric_phase(const char *name, const char **base);

/* Welch's two-sample t-test: the two-sided p-value for "equal means".
 * NAN when either side has fewer than 2 samples or both variances are 0
 * and the means are equal; 0 when variances are 0 and means differ. */
double welch_p_value(const double *a, size_t na, const double *b, size_t nb);

/* Filters: NULL fields match everything; a sidecar matches when every
 * given field equals (kernel: label prefix; commit: prefix, so a short
 * hash works; topology: preset name or spec; work_type: any of its work
 * types; test: a shell glob against the test name or the case name). */
struct compare_filter {
	const char *kernel, *scheduler, *topology, *work_type, *commit, *run_source,
		   *test;
	/* Not a sidecar filter: when n_phases, compare_runs compares only
	 * the phase<N>.* metrics of these phases (no "result" row, no
	 * run-wide metrics). */
	const unsigned *phases;
	size_t n_phases;
};
bool compare_filter_match(const struct compare_filter *f, const struct sidecar *s);

/* One metric of one case, compared. */
struct compare_row {
	char *case_key;		/* "suite test/preset" (kernel and commit are
				 * what differ between runs, so not part) */
	const char *metric;	/* borrowed from the gate table or the sets'
				 * documents: valid while they live */
	double a_mean, b_mean;	/* NAN when a side lacks it */
	size_t na, nb;
	double delta, delta_pct;
	double p_value;		/* NAN when not computed */
	bool gated, regression, improvement;
};
/* Rows come per case key (sorted), "result" first when the result
 * changed, then the gated metrics in table order, then the per-phase
 * metrics by phase and name, then the others by name; a metric neither
 * side has is left out. */

struct compare_result {
	struct compare_row *rows;
	size_t n;
	size_t cases_a, cases_b, cases_both;
	size_t regressions, improvements;
	struct strvec only_a, only_b;	/* case keys present on one side */
};

/* Compare sets a and b (already loaded) under filter f (may be NULL);
 * alpha is the t-test level (0.05).  Returns 0, or -1 when either side
 * has no matching sidecar (err says which). */
int compare_runs(const struct sidecar_set *a, const struct sidecar_set *b,
		 const struct compare_filter *f, double alpha,
		 struct compare_result *r, struct strbuf *err);
void compare_result_release(struct compare_result *r);

#endif
