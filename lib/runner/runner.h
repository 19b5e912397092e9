/* The test runner's loop: run planned cases in parallel without
 * oversubscribing host CPUs, judge each, write its sidecar, report it.
 *
 * At most `jobs` ktstr-vm children run at once, and each first reserves
 * its host CPU slots (lib/hostlock), so concurrent runners on one machine
 * share the CPUs too.  SIGINT/SIGTERM/SIGHUP stop the run in order: no new
 * case starts, running ones are asked to stop (their VMs go down with
 * them), finished sidecars stay; runner_run then returns with
 * interrupted set.
 *
 * A run that ends in an infrastructure error (caserun_finish: the VM never
 * reached the agent, QEMU or ktstr-vm failed) is started again, up to
 * `retries` more times, before it is reported; attempts that are retried
 * write no sidecar.  Its final outcome is CASE_ERROR, as is any run whose
 * verdict is an error: neither is a verdict on the scheduler. */
#ifndef KTSTR_RUNNER_H
#define KTSTR_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include "caserun.h"
#include "gauntlet.h"
#include "sidecar.h"

enum case_outcome { CASE_PASS, CASE_FAIL, CASE_SKIP, CASE_INTERRUPTED, CASE_ERROR };

/* One finished case, for the report. */
struct case_report {
	const struct gcase *c;
	unsigned repeat, runs;
	enum case_outcome outcome;
	double secs;
	long long start_ms, end_ms;	/* offsets from the runner's start */
	const char *reason;		/* skip / error reason, or NULL */
	const struct caserun *run;	/* NULL for plan-time skips */
	const char *sidecar;		/* path written, or NULL */
	unsigned attempts;		/* runs of this case (>= 1; 0 for plan skips) */
	const char *first_error;	/* the first attempt's infrastructure error,
					 * when it was retried; else NULL */
	bool retrying;			/* an infrastructure error that will be run
					 * again: not a result yet (no sidecar) */
};

struct runner_opts {
	unsigned jobs;
	unsigned runs;			/* repeats per case, >= 1 */
	unsigned retries;		/* extra attempts after an infrastructure
					 * error (0: none) */
	bool no_skip_mode;		/* skips count as failures */
	/* Called once per finished case, in completion order, and once per
	 * attempt that will be retried (rep->retrying). */
	void (*report)(void *cb, const struct case_report *rep);
	void *cb;
	/* Run directory per kernel (index into the kernel list), for sidecars;
	 * NULL entries: no sidecar. */
	const struct sidecar_dir *const *dirs;
	const struct gauntlet_kernel *kernels;
	size_t n_kernels;
	/* What a case is called in messages ("cell"); NULL: "case". */
	const char *noun;
};

struct runner_totals {
	size_t passed, failed, skipped, interrupted, errors;
	size_t sidecar_errors;		/* sidecars that could not be written */
	size_t retried;			/* attempts run again */
	double secs;
	bool interrupted_by_signal;
	int signal;
};

/* Seconds left, estimated: elapsed scaled by the estimated work left over
 * the estimated work done (case est_secs); before anything finished, the
 * estimated work spread over `parallel` slots less the time spent.  Never
 * negative. */
double runner_eta_secs(double elapsed, double done_est, double total_est, unsigned parallel);
/* The progress line: "3/10 cases done, 2 running, 42s elapsed, ~1m 05s
 * left". */
void runner_progress_line(struct strbuf *out, size_t done, size_t total, size_t running,
			  double elapsed, double left);

/* Run every case.  Returns 0, or -1 on a setup error or a sidecar that
 * could not be written (message printed; no new case starts after it). */
int runner_run(const struct gcase *cases, size_t n, struct caserun_ctx *ctx,
	       const struct runner_opts *o, struct runner_totals *tot);

#endif
