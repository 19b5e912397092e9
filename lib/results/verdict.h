/* The check engine: turn the records of one scenario run (ktstr-records(7))
 * into a verdict.
 *
 *   struct verdict v;
 *   verdict_init(&v);
 *   for each line:  verdict_feed_line(&v, line, len, lineno, &err);
 *   verdict_finish(&v, &flag_thresholds);   (NULL: scenario + defaults)
 *   v.result, v.checks[], verdict_to_json(&v), verdict_format(&v, &sb)
 *
 * Records are ingested one at a time, in any order within the run, so a
 * live consumer can feed them as they arrive; unknown record types and
 * fields are ignored.  What begins a second run (next_run) ends the
 * reading: one input is one run.
 * Values of the wrong type (a string where a number belongs, a negative
 * count, ...) are treated as missing and reported once per record type and
 * field through verdict.warn.  Nothing in the input can make the engine
 * abort.
 *
 * The host-side monitor's records (monitor_start, monitor, monitor_end,
 * monitor_unavailable) go to the machine view (machine.h), which adds the
 * machine checks and the phases; a run without them is judged as before.
 *
 * Outcome precedence (first match wins):
 *   error         the input holds a second run (next_run): records of
 *                 two runs would be judged as one
 *   error         no records, or no ktstr record at all
 *   error         the infrastructure failed: vm_exit qemu_error,
 *                 boot_timeout or host_error, no_agent or timeout before
 *                 the guest agent came up.  Whatever else the stream said,
 *                 such a run says nothing about the scheduler: never fail.
 *   fail          any check failed (decisive even in a truncated stream:
 *                 every record the engine reads is final when emitted)
 *   error         scenario_error, agent_error, vm_exit agent_error, a
 *                 scenario_end with an "error", or a finished VM run that
 *                 never started a scenario
 *   skip          scenario_skip
 *   inconclusive  no scenario_end (truncated, interrupted, guest exited),
 *                 or the reader was interrupted (verdict.interrupted) and
 *                 the stream has a vm_start but no vm_exit
 *   pass
 *
 * Payloads (payload and payload_metrics records, verdict_payload.c): each
 * copy is judged by payload_exit, payload_hang, payload_output and
 * payload_metric, with the start record's checks under the caller's
 * overlay (verdict_payload_overlay).  A cgroup with no workers (a
 * payload's own) gets no worker checks, so a run of payloads alone is
 * judged on them.
 *
 * After a scheduler death, the per-cgroup and machine failures that follow
 * from it (unfairness, gaps, starvation, slow progress) are marked
 * secondary: reported under the death, not as failures of their own. */
#ifndef KTSTR_VERDICT_H
#define KTSTR_VERDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "machine.h"
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"

enum verdict_result {
	VERDICT_PASS,
	VERDICT_FAIL,
	VERDICT_SKIP,
	VERDICT_INCONCLUSIVE,
	VERDICT_ERROR,
};

/* "pass", "fail", "skip", "inconclusive", "error". */
const char *verdict_result_name(enum verdict_result r);
/* 0 pass, 1 fail, 3 skip/inconclusive, 2 error (diag.h). */
int verdict_exit_code(enum verdict_result r);
/* The worse of two results, for several runs: error > fail >
 * skip/inconclusive > pass (between skip and inconclusive, a). */
enum verdict_result verdict_worst(enum verdict_result a, enum verdict_result b);

/* Direction of a threshold. */
enum verdict_bound {
	VERDICT_AT_MOST,	/* value <= limit passes */
	VERDICT_AT_LEAST,	/* value >= limit passes */
	VERDICT_NONE,		/* no numeric limit (scheduler, vm) */
};

/* One evaluated check. */
struct verdict_check {
	const char *check;	/* "starvation", "crash", "spread", "gap",
				 * "isolation", "p99_wake_latency",
				 * "iteration_rate", "migration_ratio",
				 * "scheduler", "vm" */
	char *cgroup;		/* NULL for run-wide checks */
	double value, limit;	/* NAN when not numeric */
	enum verdict_bound bound;
	bool pass;
	bool secondary;		/* a failure that follows from the
				 * scheduler's death (the first failure) */
	double ended_at_ms;	/* gap: when it closed (run time), else NAN */
	bool by_host;		/* a failure the host's not running the VM
				 * explains (verdict_host.c): not counted */
	double host_lost_ms;	/* ... how long the host did not run it */
	char *message;		/* one line, failures only */
	struct strvec kernel_log;	/* scheduler failures: the kernel's */
	struct strvec output;		/* and the scheduler's own lines
					 * (payload checks: the payload's
					 * output tail) */
	char *payload;			/* payload checks: its name, else NULL */
	int copy;			/* ... and the copy (0-based) */
};

/* How far value is from limit, in percent of limit: positive inside,
 * negative past it.  NAN when there is no numeric limit or it is 0. */
double verdict_margin_pct(const struct verdict_check *c);

/* What a cgroup_stats record said.  NAN: missing. */
struct verdict_cgroup {
	char *name;
	bool background;
	char *cpuset;			/* cpulist, or NULL */
	char *violating_cpus;		/* cpulist, or NULL */
	double workers, cpus, spread_pct, worst_gap_ms, worst_gap_cpu,
	       worst_gap_at_ms, migrations, iterations, iterations_per_sec,
	       p50_wake_latency_us, p99_wake_latency_us, wake_samples,
	       isolation_violations, starved_workers;
	/* set by verdict_finish */
	bool never_ran;			/* no iteration at all: worst_gap_ms
					 * was set to the whole run */
	char *cpus_used;		/* union of its workers' cpus_used */
	double n_cpus_used;		/* CPUs in it; NAN: unknown */
	size_t group;			/* index in verdict.groups */
};

/* All records of one cgroup name (verdict_finish): cgroup_stats records
 * and workers, as indices into verdict.group_idx[first..first+n). */
struct verdict_group {
	const char *name;
	size_t first, n_cgroups, n_workers;	/* cgroups first, then workers */
	size_t order;				/* first appearance */
	bool checked;
	bool failed;				/* one of its checks failed */
	size_t lead;				/* its first non-background
						 * cgroup record, or SIZE_MAX */
};

/* What a worker record said. */
struct verdict_worker {
	char *cgroup;
	double index, pid, iterations;	/* NAN: missing */
	double off_cpu_pct, wall_time_us;	/* NAN: missing */
	char *cpus_used;		/* cpulist, or NULL */
	bool crashed, stop_timeout;
	int signal;			/* 0: none reported */
};

/* One copy of a payload: what its payload (start, stop) and
 * payload_metrics records said (verdict_payload.c). */
struct verdict_payload {
	char *name;
	int copy;
	bool started, stopped, have_metrics;
	char *program, *form;		/* start: program, metrics (form) */
	json_t *checks;			/* start: checks, or NULL */
	double timeout_ms;		/* start: timeout_ms, NAN when none */
	char *stopped_by;		/* stop: "exit", "stop_op", ... */
	double at_ms, wall_ms;		/* NAN: missing */
	double exit_code;		/* NAN: null (signaled) or missing */
	int signal;			/* 0: none */
	bool killed;
	char *error;			/* stop: it could not run */
	struct strvec output_tail;	/* stop's output_tail */
	json_t *metrics;		/* {NAME: {value, unit, better}} */
	char *metrics_error;		/* payload_metrics: did not parse */
	struct strvec metrics_tail;	/* ... with the output's tail */
};

/* One BPF program the scheduler loaded: its bpf_prog record (the
 * verifier's figures, at attach) and its bpf_prog_stats record (the run
 * cost over the measured window; ktstr-vm --bpf-stats only)
 * (verdict_bpf.c).  Numbers are NAN when missing or null. */
struct verdict_bpf_prog {
	char *name, *prog_type, *scheduler;
	double id;
	double verified_insns, xlated_bytes, jited_bytes, nr_maps;
	bool have_prog, have_stats;
	double run_cnt, run_time_ns, ns_per_run, window_ms;
};

struct verdict {
	/* Set by the caller (optional): called for each problem with the
	 * input that does not stop the verdict, with the line number passed
	 * to verdict_feed_line (0 when unknown). */
	void (*warn)(void *ctx, unsigned long line, const char *msg);
	void *warn_ctx;

	/* ---- what the stream said ---- */
	unsigned long line;		/* current input line, for warnings */
	unsigned long records;		/* parsed records */
	unsigned long known;		/* ... of a type ktstr-stats knows */
	unsigned long bad_lines;	/* lines that were not records */
	char *scenario;			/* scenario_start name */
	char *topology;			/* "1n2l2c1t" */
	char *scheduler;		/* name, or NULL for the kernel's own */
	bool saw_vm_start, saw_agent_ready, saw_start, saw_end, saw_skip;
	bool retrying;			/* accel_retry: another vm_start of
					 * the same run follows */
	/* One input is one run: the record that begins another (a second
	 * scenario_start, a vm_start that is not ktstr-vm's TCG retry, ...)
	 * is noted here and it and everything after it go unread. */
	const char *next_run;		/* what it was, or NULL */
	unsigned long next_run_line;	/* its line (record number when the
					 * caller passes no lines) */
	bool default_sched;		/* vm_start named no scheduler */
	char *accel;			/* vm_start accel: "kvm", "tcg" */
	/* Set by the caller: the reader got SIGINT (the run was cut short
	 * if the stream does not finish with vm_exit). */
	bool interrupted;
	double duration_ms, start_cpus;
	struct checks scenario_checks;	/* from scenario_start: NAN/-1 not
					 * set, INFINITY off (null there) */

	/* first scheduler death or attach failure */
	char *sched_event;		/* "died" or "attach_failed", or NULL */
	char *sched_reason;
	double sched_at_ms, sched_exit_code;
	struct strvec sched_kernel_log, sched_output;

	struct verdict_cgroup *cgroups;
	size_t n_cgroups, alloc_cgroups;
	struct verdict_worker *workers;
	size_t n_workers, alloc_workers;
	struct verdict_payload *payloads;	/* per payload and copy, in
						 * order of first record */
	size_t n_payloads, alloc_payloads;
	/* Set by the caller (verdict_payload_overlay): the payload checks
	 * of the test file or ktstr-stats' flags, over the start records'
	 * own: {NAME: {"max": {M: V}, "min": {M: V}, "exit_code": N|null}}. */
	json_t *payload_overlay;
	struct verdict_bpf_prog *bpf_progs;	/* by id (else name), in
						 * order of first record */
	size_t n_bpf_progs, alloc_bpf_progs;
	json_t *scx_events;		/* sched_ext event totals: {KEY: N} */
	json_t *affinity;		/* {cgroup: cpulist} of its last
					 * set_affinity, for the machine checks */
	struct machine machine;		/* monitor samples and the timeline
					 * (machine.h) */

	/* scenario_end: NAN when missing */
	double end_elapsed_ms, end_workers, end_cpus, end_migrations,
	       end_worst_spread_pct, end_worst_gap_ms;
	/* The guest agent's own CPU over the workload window (agentcpu.h):
	 * above AGENT_CPU_WARN_PCT the measurement may have disturbed the
	 * run, which the verdict says without failing it. */
	double end_agent_cpu_ms, end_agent_cpu_pct;
	int end_scheduler_alive;	/* -1 unknown */
	char *end_error;		/* scenario_end "error": the run did
					 * not really happen */

	char *skip_reason;
	char *error_reason;		/* first setup problem */
	char *infra_reason;		/* the VM or the host failed */
	double cmd_exit_code;		/* exit record; NAN when none */
	char *vm_exit_reason, *vm_exit_message, *vm_panic, *console_log;
	double vm_wall_ms;
	struct strvec output_tail;	/* last guest output lines */
	struct strvec console_tail;	/* vm_exit console_tail, else (at
					 * finish, for an error or a VM
					 * failure) the console_log file's */
	bool console_tail_read;		/* ... read from the file */

	struct strvec warnings;		/* every warning, in order */
	struct strvec warned;		/* keys already warned about */

	/* ---- filled by verdict_finish ---- */
	enum verdict_result result;
	char *reason;			/* skip/inconclusive/error: why */
	struct checks limits;		/* effective: NAN/0 = off */
	struct verdict_check *checks;
	size_t n_checks, alloc_checks;
	size_t n_failures, n_secondary, n_by_host;
	char *host_reason;		/* inconclusive because of the host
					 * (verdict_host.c), or NULL */
	struct verdict_group *groups;	/* by first appearance */
	size_t n_groups;
	size_t *group_idx;		/* cgroup and worker indices */
	struct strvec notes;		/* facts that qualify the numbers
					 * (accel=tcg) */
	struct machine_result machine_result;	/* the machine checks'
						 * values and the phases */
};

void verdict_init(struct verdict *v);
void verdict_release(struct verdict *v);

/* Parse one line of input and feed it.  Blank lines are ignored.  Returns
 * 0, or -1 when the line is not a record, with the reason in err
 * ("invalid JSON at column 12: ...") and bad_lines counted.  Integers too
 * big for 64 bits are read as reals rather than rejected. */
int verdict_feed_line(struct verdict *v, const char *line, size_t len,
		      unsigned long lineno, struct strbuf *err);
/* Feed one parsed record (not consumed). */
void verdict_feed(struct verdict *v, const json_t *rec);
/* Report a problem with the input at v->line (and keep it in warnings). */
void verdict_warn(struct verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "TYPE.KEY: expected WANT; treated as missing", once per field and run:
 * a stream that gets one field wrong gets it wrong on every line. */
void verdict_warn_field(struct verdict *v, const char *type, const char *key,
			const char *want);

/* Effective thresholds: flags over the scenario's over the check table's
 * defaults (checktab.h), for every row of that table.  In
 * scenario and flags, NAN / -1 mean "not given" and INFINITY means "off"
 * (for the min_ threshold too).  In out, a NAN limit means the check is
 * off. */
void verdict_thresholds(const struct checks *scenario, const struct checks *flags,
			struct checks *out);

/* Payload checks over the start records' (ktstr-test's payload_checks,
 * ktstr-stats --metric-max/--metric-min): overlay is an object
 * {NAME: {"max": {METRIC: V}, "min": {METRIC: V}, "exit_code": N|null}},
 * merged key by key into v->payload_overlay (the later wins).  0, or -1
 * with one line in err (naming where, "$.NAME.max.METRIC") when the
 * shape is wrong (err may be NULL); nothing is merged then.  v NULL
 * only checks. */
int verdict_payload_overlay(struct verdict *v, const json_t *overlay, struct strbuf *err);
/* Add "PAYLOAD.METRIC=V" (PAYLOAD: up to the first dot) as a bound
 * ("max" or "min") to *overlay (created when NULL).  0, or -1 with
 * "expected PAYLOAD.METRIC=NUMBER such as cyclictest.p99_us=100" in err. */
int verdict_metric_flag(json_t **overlay, const char *bound, const char *arg,
			struct strbuf *err);

/* Evaluate every check and decide the outcome.  flags may be NULL. */
void verdict_finish(struct verdict *v, const struct checks *flags);

/* The verdict record (ktstr-records(7), "RECORDS FROM ktstr-stats").
 * source may be NULL. */
json_t *verdict_to_json(const struct verdict *v, const char *source);
/* The payloads' summary, one object per payload copy: name, copy,
 * program, form, stopped_by, exit_code, signal, killed, wall_ms, error,
 * metrics_error, metrics {NAME: {value, unit, better}}, and output_tail
 * when the records carried one (the verdict record's "payloads"). */
json_t *verdict_payloads_json(const struct verdict *v);
/* The BPF programs' summary, one object per program (the verdict
 * record's "bpf_programs"): id, name, prog_type, scheduler,
 * verified_insns, xlated_bytes, jited_bytes, nr_maps, and run_cnt,
 * run_time_ns, ns_per_run, window_ms (null without a bpf_prog_stats
 * record).  Never judged: a program's cost fails no run. */
json_t *verdict_bpf_programs_json(const struct verdict *v);
/* The human report: the header line, failures, then the stats block. */
void verdict_format(const struct verdict *v, struct strbuf *out);
/* Just the header: "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple]". */
void verdict_format_title(const struct verdict *v, struct strbuf *out);

#endif
