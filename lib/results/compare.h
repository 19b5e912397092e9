/* Comparing two runs' sidecars: per case and metric, the means of each
 * side's samples, the change, and a verdict on it.
 *
 * Every metric has a direction: lower is better, higher is better, or
 * neutral (a change in itself is neither good nor bad: fewer migrations
 * can be a scheduler that balances too little).  A changed metric is
 *   within_gate  when it moved by no more than its absolute or its
 *                relative gate (both must be passed),
 *   noise        past the gates (or ungated) but without statistical
 *                support: fewer than 2 samples on a side, or a Welch
 *                t-test p-value >= alpha,
 *   changed      supported, for a neutral or ungated metric,
 *   regression / improvement  supported, in the bad / good direction.
 * So one sample a side never makes a regression out of a metric: run the
 * cases with --runs N for that.
 *
 * Default gates (absolute / relative).  Those of the metrics a check maps
 * to are rows of the check table (checktab.h: gate_abs, gate_rel_pct,
 * higher_is_better), listed first in its order; then compare's own:
 *   worst_spread_pct             5     / 25 %   (check table)
 *   worst_gap_ms                 500   / 50 %   (check table)
 *   worst_p99_wake_latency_us    50    / 25 %   (check table)
 *   min_iterations_per_sec       10    / 10 %   (check table) higher is better
 *   worst_migration_ratio        0.05  / 25 %   (check table) neutral here
 *   isolation_violations         0     / 0 %    (check table)
 *   starved_workers              0     / 0 %    (check table)
 *   the machine checks' metrics                 (check table)
 *   total_migrations             10    / 30 %   neutral
 *   worst_median_wake_latency_us 20    / 25 %
 *   total_iterations             100   / 10 %   higher is better
 * Per-phase metrics "phase<N>.<name>" are gated as <name> (the machine
 * metrics of the check table), else:
 *   mean_imbalance_ratio         1     / 50 %
 *   idle_while_runnable_ms       250   / 50 %
 * Payload metrics "payload.NAME.METRIC" are gated 0 / 5 % in the
 * direction the sidecar's metric_info gives them (lower, higher; none is
 * neutral), with its unit; without metric_info they are like the others.
 * A BPF program's cost "bpf.PROG.ns_per_run" is gated 0 / 25 % (a move of
 * exactly 25 % counts), lower is better, in ns; when either side has a
 * single sample (no repeats) the gate alone decides, else Welch's p must
 * be below alpha too.  "bpf.PROG.verified_insns" is not gated but is
 * "changed" (and shown) whenever it moved: the verifier is deterministic,
 * so any move is real.  "bpf.PROG.run_cnt" is like the others below.
 *
 * Other metrics found in sidecars are shown, neutral and not gated.
 *
 * The outcome of a case is the pseudo-metric "result" (gate 0 / 0 %,
 * higher is better): a_mean and b_mean are the fractions of passing
 * samples among those that passed or failed.  A case that passed in every
 * such sample of a and failed in any of b is a regression; fail to pass
 * an improvement; any other change of the fraction "changed".  A failed check is a verdict with its reason, not a
 * measurement, so this row needs no t-test.  Samples whose result is
 * "error" (the infrastructure failed: no VM, no records) say nothing
 * about the scheduler: they are left out of the result row and of every
 * metric, and counted per side instead.  Inconclusive runs (cut short,
 * or disturbed past what their verdict would judge) are too: figures
 * taken while the host starved the VM are the host's, not the
 * scheduler's.  Skips are left out of the result row; they have no
 * figures.
 *
 * Additions to the first cut: the "result" pseudo-gate (found by
 * compare_gate_find, not listed by compare_gates), commit matched as a
 * prefix, test as a glob, directions, noise, errors, the sides' run
 * descriptions. */
#ifndef KTSTR_COMPARE_H
#define KTSTR_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "sidecar.h"
#include "strbuf.h"
#include "strvec.h"

enum compare_dir { COMPARE_LOWER_BETTER, COMPARE_HIGHER_BETTER, COMPARE_NEUTRAL };

struct metric_gate {
	const char *name;
	double abs, rel_pct;
	bool higher_is_better;	/* the check table's (or compare's) sense */
	enum compare_dir dir;	/* what compare judges by */
};

/* "lower_better", "higher_better", "neutral". */
const char *compare_dir_name(enum compare_dir d);
/* The unit of a metric from its name: "ms", "us", "%", "/s" or "". */
const char *compare_metric_unit(const char *metric);

const struct metric_gate *compare_gates(size_t *n);
const struct metric_gate *compare_gate_find(const char *name);
/* N of a per-phase metric "phase<N>.<name>" (with *base set to <name>
 * when base is not NULL); -1 for any other name. */
long compare_metric_phase(const char *name, const char **base);

/* The mean of x[0..n) and its sample variance (divided by n - 1, as
 * Welch's test takes it); n must be at least 2. */
void sample_mean_var(const double *x, size_t n, double *mean, double *var);

/* Welch's two-sample t-test: the two-sided p-value for "equal means".
 * NAN when either side has fewer than 2 samples or both variances are 0
 * and the means are equal; 0 when variances are 0 and means differ. */
double welch_p_value(const double *a, size_t na, const double *b, size_t nb);

/* Filters: NULL fields match everything; a sidecar matches when every
 * given field equals (kernel: label prefix; commit: prefix, so a short
 * hash works; topology: preset name or spec; work_type: any of its work
 * types; test: a shell glob against the test name, the sidecar's case
 * name with or without its "suite " prefix, test/preset or
 * test/preset/scheduler). */
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
/* Does a sidecar of set matching f have a metric of phase (phase<N>.*)? */
bool compare_set_has_phase(const struct sidecar_set *set, const struct compare_filter *f,
			   unsigned phase);

/* One metric of one case, compared. */
struct compare_row {
	char *case_key;		/* "suite test/preset" (kernel and commit are
				 * what differ between runs, so not part) */
	const char *metric;	/* borrowed from the gate table or the sets'
				 * documents: valid while they live */
	double a_mean, b_mean;	/* NAN when a side lacks it */
	double a_sd, b_sd;	/* sample standard deviations (n - 1), NAN
				 * below 2 samples (compare --svg's error bars) */
	size_t na, nb;
	double delta, delta_pct;
	double p_value;		/* NAN when not computed */
	enum compare_dir dir;
	const char *unit;	/* "ms", "us", ... or "": compare_metric_unit's,
				 * or a payload metric's from metric_info
				 * (borrowed like metric) */
	bool gated;		/* has a gate */
	double gate_abs, gate_rel_pct;	/* the gate applied; NAN when none
					 * (the TCG rule can widen the table's) */
	bool notable;		/* ungated, but shown whenever it moved (a
				 * BPF program's verified_insns) */
	bool past_gate;		/* moved by more than both gates */
	bool significant;	/* t-test p < alpha (the result row: always) */
	bool regression, improvement, noise, changed;
};
/* Rows come per case key (sorted), "result" first when the result
 * changed, then the gated metrics in table order, then the per-phase
 * metrics by phase and name, then the others by name; a metric neither
 * side has is left out. */

/* The row's verdict word: "regression", "improvement", "noise",
 * "changed", "within_gate" or "unchanged". */
const char *compare_row_status(const struct compare_row *r);

/* What one side of a comparison is made of (its matching sidecars). */
struct compare_side {
	struct strvec ids, labels, schedulers, kernels, accels;	/* distinct, sorted */
	size_t samples;		/* sidecars */
	size_t cases;		/* case keys */
	size_t errors;		/* samples with result "error" */
	size_t skips;		/* samples with result "skip": no VM ran,
				 * so no accelerator */
	size_t inconclusive;	/* samples with result "inconclusive" */
	struct strvec error_cases;	/* the errors' case keys, distinct */
	struct strvec inconclusive_cases;	/* the inconclusive ones' */
};

struct compare_result {
	struct compare_row *rows;
	size_t n;
	size_t cases_a, cases_b, cases_both;
	size_t cases_judged;	/* of cases_both, with a sample on each side
				 * that measured something (not an error,
				 * skip or inconclusive) */
	size_t regressions, improvements;
	size_t noise, changed;	/* gated rows only */
	struct strvec only_a, only_b;	/* case keys present on one side */
	struct compare_side a, b;
	double alpha;
};

/* Compare sets a and b (already loaded) under filter f (may be NULL);
 * alpha is the t-test level (0.05).  Returns 0, or -1 when either side
 * has no matching sidecar (err says which). */
int compare_runs(const struct sidecar_set *a, const struct sidecar_set *b,
		 const struct compare_filter *f, double alpha,
		 struct compare_result *r, struct strbuf *err);
void compare_result_release(struct compare_result *r);

#endif
