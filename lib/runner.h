/* The test runner's loop: run planned cases in parallel without
 * oversubscribing host CPUs, judge each, write its sidecar, report it.
 *
 * At most `jobs` ktstr-vm children run at once, and each first reserves
 * its host CPU slots (lib/hostlock), so concurrent runners on one machine
 * share the CPUs too.  SIGINT/SIGTERM/SIGHUP stop the run in order: no new
 * case starts, running ones are asked to stop (their VMs go down with
 * them), finished sidecars stay; runner_run then returns with
 * interrupted set. */
#ifndef KTSTR_RUNNER_H
#define KTSTR_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include "caserun.h"
#include "gauntlet.h"
#include "sidecar.h"

enum case_outcome { CASE_PASS, CASE_FAIL, CASE_SKIP, CASE_INTERRUPTED };

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
};

struct runner_opts {
	unsigned jobs;
	unsigned runs;			/* repeats per case, >= 1 */
	bool no_skip_mode;		/* skips count as failures */
	/* Called once per finished case, in completion order. */
	void (*report)(void *cb, const struct case_report *rep);
	void *cb;
	/* Run directory per kernel (index into the kernel list), for sidecars;
	 * NULL entries: no sidecar. */
	const struct sidecar_dir *const *dirs;
	const struct gauntlet_kernel *kernels;
	size_t n_kernels;
};

struct runner_totals {
	size_t passed, failed, skipped, interrupted;
	size_t sidecar_errors;		/* sidecars that could not be written */
	double secs;
	bool interrupted_by_signal;
	int signal;
};

/* Run every case.  Returns 0, or -1 on a setup error or a sidecar that
 * could not be written (message printed; no new case starts after it). */
int runner_run(const struct gcase *cases, size_t n, struct caserun_ctx *ctx,
	       const struct runner_opts *o, struct runner_totals *tot);

#endif
