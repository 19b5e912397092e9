/* One test case run: a ktstr-vm child whose records are judged live by
 * the check engine (lib/verdict) and turned into a sidecar document.
 *
 * The runner owns scheduling (lib/hostlock, --jobs) and retries; a caserun
 * owns one child: its pipes, the records seen, the stderr tail, the
 * verdict, and whether the run failed for reasons of the machine rather
 * than of the scheduler (an infrastructure error, see caserun_finish). */
#ifndef KTSTR_CASERUN_H
#define KTSTR_CASERUN_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "gauntlet.h"
#include "hostlock.h"
#include "jsonl.h"
#include "strbuf.h"
#include "strvec.h"
#include "verdict.h"

/* What every case of one runner invocation shares. */
struct caserun_ctx {
	const char *vm_prog;		/* ktstr-vm to spawn */
	const struct gauntlet_kernel *default_kernel;	/* for cases with none */
	const char *workdir;		/* the runner's temp dir */
	const char *accel;		/* "auto", "kvm", "tcg" */
	const char *run_id, *run_source, *commit;
	const char *label;		/* the run's label (ktstr-test --label) */
	json_t *host;			/* sidecar_host_context() */
	long long t0_ms;		/* runner start (CLOCK_MONOTONIC) */
	/* Keep each run's records (ktstr-vm's stdout, byte for byte) in
	 * workdir/STEM.records.jsonl, for pictures drawn after the run
	 * (ktstr-test --html). */
	bool keep_records;
};

struct caserun {
	const struct gcase *c;
	unsigned repeat;		/* 1-based */
	pid_t pid;
	int out_fd, err_fd;		/* -1 once at EOF */
	struct hostlock lock;
	struct jsonl_reader out, err;	/* records; ktstr-vm's stderr as text */
	struct verdict v;
	struct strvec err_tail;		/* last stderr lines of ktstr-vm */
	json_t *agent_ready, *cgroups, *stimulus, *scenario_end;
	json_t *sysctls;	/* scenario_start's, for the sidecar */
	char *accel;			/* vm_start's: "kvm" or "tcg" */
	long long start_ms, wall_ms;
	int exit_code;			/* ktstr-vm's; -1 until reaped */
	bool interrupted;
	char *scenario_path;
	/* Set by caserun_finish: why this was an infrastructure error (one
	 * line), or NULL when the verdict stands. */
	char *infra;
	char *sched_log;		/* the scheduler record's output_log, if any */
	/* With ctx->keep_records: the file the records go to (it outlives
	 * the caserun, in the runner's workdir), else NULL. */
	char *records_path;
	int records_fd;			/* -1 once closed */
	/* For ktstr-verify: the BPF programs the agent read after attach and
	 * their run figures (ktstr-records(7) bpf_prog, bpf_prog_stats, in
	 * order), why the guest could not read them, whether the scheduler
	 * attached, and its first
	 * attach_failed or died record (output and output_log: the load
	 * failure's text). */
	json_t *bpf_progs, *bpf_stats;
	char *bpf_probe_error;		/* the first bpf_probe_error's message */
	bool sched_attached;
	json_t *sched_fail;
	/* Kept by the runner across retries (caserun_start clears them). */
	unsigned attempt;		/* 1-based */
	char *first_error;		/* the first attempt's infra reason */
};

/* Spawn ktstr-vm for case c (repeat r) under the reservation in lock (moved
 * into the caserun).  Returns 0, or -1 with the reason in err (nothing
 * left running). */
int caserun_start(struct caserun *r, const struct caserun_ctx *ctx, const struct gcase *c,
		  unsigned repeat, struct hostlock *lock, struct strbuf *err);
/* Read what fd has (one of r's); returns false once both pipes are done. */
bool caserun_read(struct caserun *r, int fd);
/* Reap the child (blocking) and judge the run.  Then r->infra is set
 * when the run says nothing about the scheduler, because:
 *   - ktstr-vm ended without a vm_exit record (a host-side error: it
 *     could not set up the VM, or it crashed or was killed);
 *   - QEMU failed (vm_exit reason qemu_error), at any point;
 *   - the VM never reached the guest agent: vm_exit reason no_agent,
 *     timeout or boot_timeout before agent_ready.
 * A check that failed for its own reasons (anything but the "vm" check)
 * is decisive and keeps the run a failure; a kernel panic, an agent
 * error and a timeout after boot are failures too.  An interrupted run is
 * never an infrastructure error. */
void caserun_finish(struct caserun *r);
/* The infrastructure-error rule of caserun_finish, over a judged run
 * (r->v finished, r->exit_code, r->interrupted, r->err_tail): the reason,
 * which the caller frees, or NULL. */
char *caserun_infra_reason(const struct caserun *r);
/* The run's result as reported: "error" for an infrastructure error,
 * else the verdict's. */
const char *caserun_result_name(const struct caserun *r);
/* Ask the child to stop with sig, the one that stopped the run, so its
 * reason names what the user sent; the case then counts as interrupted. */
void caserun_interrupt(struct caserun *r, int sig);
/* The sidecar document for a finished case. */
json_t *caserun_sidecar(const struct caserun *r, const struct caserun_ctx *ctx);
/* A sidecar for a case that never ran (plan-time skip). */
json_t *caserun_skip_sidecar(const struct gcase *c, const struct caserun_ctx *ctx);
void caserun_release(struct caserun *r);

/* "1n2l2c1t" and friends for a topology, as a sidecar object. */
json_t *caserun_topology_json(const struct ktstr_topo *t);

#endif
