/* Scenarios: what runs in the guest, as data.
 *
 * A scenario is a JSON document (ktstr-scenario(5)).  The host parses it to
 * reject bad input before booting (errors name the JSON path of the bad
 * field, e.g. "$.cgroups[1].work.type"), resolves it against the VM's
 * topology, then sends the document itself to the guest agent, which parses
 * it again with this same code and runs it.  One parser, two users.
 *
 * Lifecycle of a run:
 *   t=0     every cgroup in "cgroups" is created, its workers forked and
 *           moved in, then released together;
 *   steps   run in order; each applies its ops, then holds;
 *           without steps the initial cgroups run for duration_ms;
 *   end     workers are stopped, telemetry collected, cgroups removed. */
#ifndef KTSTR_SCENARIO_H
#define KTSTR_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include "cpulist.h"	/* cpulist_parse, cpulist_format */
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

enum work_type {
	WORK_SPIN_WAIT,		/* burn CPU, one iteration per ~1 us of spinning */
	WORK_YIELD_HEAVY,	/* short spin then sched_yield() */
	WORK_MIXED,		/* spin, yield and short sleeps interleaved */
	WORK_BURSTY,		/* spin burst_us, sleep sleep_us, repeat */
	WORK_IO_SYNC,		/* write bytes + fdatasync to a private file */
	WORK_PIPE_IO,		/* worker pairs bounce bytes over pipes */
	WORK_FUTEX_PING_PONG,	/* worker pairs wake each other via futex */
	WORK_FUTEX_FAN_OUT,	/* one waker per fan waiters (shared futex) */
	WORK_CACHE_PRESSURE,	/* stride through kib of memory */
	WORK_FORK_EXIT,		/* fork a child that exits at once, reap it */
	WORK_NICE_SWEEP,	/* spin while cycling own nice -5..19 */
	WORK_AFFINITY_CHURN,	/* spin while re-pinning to random cgroup CPUs */
	WORK_POLICY_CHURN,	/* spin while cycling NORMAL/BATCH/IDLE */
	WORK_PAGE_FAULT_CHURN,	/* mmap kib, touch every page, munmap */
	WORK_MUTEX_CONTENTION,	/* all workers of the cgroup share one lock */
	WORK_SEQUENCE,		/* the phases below, in a loop */
	WORK__COUNT
};

enum phase_kind { PHASE_SPIN, PHASE_SLEEP, PHASE_YIELD, PHASE_IO };

struct work_phase {
	enum phase_kind kind;
	unsigned long long us;	/* spin/sleep length */
	unsigned count;		/* yield/io repetitions */
};

struct work_spec {
	enum work_type type;
	unsigned long long burst_us;	/* bursty (default 50 ms) */
	unsigned long long sleep_us;	/* bursty (default 100 ms), mixed */
	unsigned bytes;			/* io_sync (4096), pipe_io (64) */
	unsigned kib;			/* cache_pressure (4096), page_fault_churn (1024) */
	unsigned fan;			/* futex_fan_out waiters per waker (4) */
	struct work_phase *phases;	/* sequence */
	size_t n_phases;
};

enum sched_policy { POLICY_NORMAL, POLICY_BATCH, POLICY_IDLE, POLICY_FIFO, POLICY_RR };

enum cpuset_kind {
	CPUSET_NONE,		/* no restriction */
	CPUSET_LLC,		/* the CPUs of LLC index */
	CPUSET_NODE,		/* the CPUs of NUMA node index */
	CPUSET_LIST,		/* exact cpulist text, e.g. "0-1,4" */
	CPUSET_RANGE,		/* [start_frac, end_frac) of all CPUs */
	CPUSET_DISJOINT,	/* slice index of `of` equal disjoint slices */
	CPUSET_OVERLAP,		/* slice index of `of`, widened by frac of a
				 * slice into its neighbours */
};

struct cpuset_spec {
	enum cpuset_kind kind;
	unsigned index, of;
	double start_frac, end_frac, frac;
	char *list;
};

struct cgroup_def {
	char *name;		/* path under the scenario root; "a/b" nests */
	unsigned workers;	/* 0 only for a cgroup a payload runs in */
	struct work_spec work;
	struct cpuset_spec cpuset;
	enum sched_policy policy;
	int rt_priority;	/* FIFO/RR: 1..99 (default 1) */
	int nice;		/* -20..19 */
	bool pinned;		/* each worker pinned to one CPU of the cpuset */
	bool background;	/* load only: excluded from checks */
};

enum op_kind {
	OP_ADD,			/* def: create cgroup and start its workers */
	OP_REMOVE,		/* cgroup: stop workers (if any), remove it */
	OP_STOP,		/* cgroup: stop its workers, keep the cgroup */
	OP_SET_CPUSET,		/* cgroup, cpuset */
	OP_CLEAR_CPUSET,	/* cgroup: back to all CPUs */
	OP_SWAP_CPUSETS,	/* cgroup, other */
	OP_SET_AFFINITY,	/* cgroup, cpuset: sched_setaffinity on every worker */
	OP_MOVE_TASKS,		/* cgroup -> other: move count workers (0 = all) */
	OP_SPAWN,		/* cgroup: start count more workers of its def */
	OP_START_PAYLOAD,	/* payload: start the payload def (its copies) */
	OP_STOP_PAYLOAD,	/* payload.name: stop a running payload */
};

/* ---- payloads: real programs run as part of a scenario ----
 *
 * A payload is a program (a benchmark such as cyclictest, or the user's
 * own binary) run in a cgroup of the scenario, beside or instead of the
 * synthetic workers.  Its output becomes metrics through a form: the exit
 * code only, a JSON document, a list of patterns, or a named adapter
 * (lib/core/payload.h).  Each metric has a unit and a direction, and each
 * payload its checks (exit code, min/max per metric). */

enum payload_better { BETTER_NONE, BETTER_LOWER, BETTER_HIGHER };

/* One line-pattern of the "pattern" form: POSIX extended regex whose
 * first capture group is the value of metric. */
struct payload_pattern {
	char *regex;
	char *metric;
	char *unit;			/* "" when not given */
	enum payload_better better;
};

/* Unit and direction of a metric of the json/pattern forms. */
struct payload_describe {
	char *metric;
	char *unit;
	enum payload_better better;
};

/* A min or max limit on one metric. */
struct payload_limit {
	char *metric;
	double value;
};

#define PAYLOAD_MAX_COPIES 64u
#define PAYLOAD_MAX_ARGS 256u
#define PAYLOAD_MAX_PATTERNS 64u
#define PAYLOAD_MAX 64u			/* payloads per scenario */

struct payload_def {
	char *name;		/* [A-Za-z0-9_-], <= 64, unique in the scenario */
	char *program;		/* bare name (guest PATH, /include-files) or path */
	char **args;		/* NULL-terminated; the adapter's default
				 * args when the document gave none */
	size_t n_args;
	bool args_given;	/* "args" was in the document */
	char *cgroup;		/* the cgroup it runs in (its own name when
				 * own_cgroup) */
	bool own_cgroup;	/* no "cgroup": one of its own, made for it
				 * and removed once it has stopped */
	struct cpuset_spec cpuset;	/* own cgroup only */
	unsigned copies;	/* 1..PAYLOAD_MAX_COPIES */
	char *form;		/* "exit_code", "json", "pattern" or an
				 * adapter name ("cyclictest", ...) */
	struct payload_pattern *patterns;	/* form "pattern" */
	size_t n_patterns;
	struct payload_describe *describe;	/* json/pattern: units and
						 * directions by metric */
	size_t n_describe;
	unsigned long long timeout_ms;	/* 0: none; else stopped (and
					 * failed) this long after its start */
	int expect_exit;	/* expected exit code; -1: not checked */
	struct payload_limit *max, *min;
	size_t n_max, n_min;
};

struct op {
	enum op_kind kind;
	char *cgroup;
	char *other;
	struct cgroup_def def;	/* OP_ADD */
	struct payload_def payload;	/* OP_START_PAYLOAD (whole def),
					 * OP_STOP_PAYLOAD (name only) */
	struct cpuset_spec cpuset;
	unsigned count;
};

enum hold_kind {
	HOLD_FRAC,		/* frac of duration_ms */
	HOLD_MS,		/* fixed ms */
	HOLD_LOOP,		/* re-apply the step's ops every interval_ms
				 * for frac of duration_ms */
};

struct hold {
	enum hold_kind kind;
	double frac;
	unsigned long long ms;
	unsigned long long interval_ms;
};

struct step {
	struct op *ops;
	size_t n_ops;
	struct hold hold;
};

/* Thresholds.  NAN (or -1 for the on/off ones) means "not set here";
 * INFINITY means "off".  What each field means, its default, its accepted
 * spellings and its limits are rows of the check table (checktab.h), which
 * every reader and writer of these loops over. */
struct checks {
	double max_spread_pct;		/* off-CPU share spread in a cgroup */
	double max_gap_ms;		/* longest time a worker went unscheduled */
	double max_p99_wake_latency_us;
	double min_iterations_per_sec;	/* per worker */
	double max_migration_ratio;	/* migrations per iteration */
	int isolation;			/* workers stay in their cpuset */
	int starvation;			/* every worker does work */
	/* Machine checks, from ktstr-vm's host-side monitor records. */
	double max_idle_while_runnable_ms; /* work conservation */
	double max_imbalance_ratio;	/* max/max(1,min) nr_running */
	double max_local_dsq_depth;
	double max_runnable_wait_ms;	/* oldest sched_ext task's wait */
	double max_fallback_per_sec;	/* SELECT_CPU_FALLBACK */
	double max_keep_last_per_sec;	/* DISPATCH_KEEP_LAST */
	int stall;			/* rq clock stuck on a busy CPU */
};

struct requires {
	unsigned min_llcs, min_cpus, min_nodes;
	int smt;			/* -1 any, 0 must not, 1 must have */
};

struct scenario {
	char *name;
	char *description;
	unsigned long long duration_ms;	/* default 5000 */
	struct requires req;
	struct checks checks;
	struct cgroup_def *cgroups;
	size_t n_cgroups;
	struct step *steps;
	size_t n_steps;
	struct payload_def *payloads;	/* started at t=0, after the
					 * initial workers are released */
	size_t n_payloads;
};

/* Parse and validate doc.  On error returns -1 with one line in err that
 * starts with the JSON path of the bad field ("$.cgroups[0].workers: ...")
 * and says what is expected.  Unknown keys are errors too (typos must not
 * silently do nothing). */
int scenario_parse(const json_t *doc, struct scenario *s, struct strbuf *err);
void scenario_release(struct scenario *s);

/* Check s against a topology before boot.  Returns 0 when it can run,
 * 1 when it should be skipped (a requirement is not met; reason in why),
 * -1 when it is invalid for this topology (a cpuset beyond it; the JSON
 * path in why). */
int scenario_fit(const struct scenario *s, const struct ktstr_topo *t, struct strbuf *why);

/* The CPUs a cpuset spec selects on topology t (CPU numbering as ktstr-vm
 * lays it out: LLCs contiguous, nodes contiguous).  Writes a cpulist
 * ("0-3,6") into out; -1 with a reason when it selects nothing or CPUs
 * beyond t. */
int cpuset_resolve(const struct cpuset_spec *c, const struct ktstr_topo *t,
		   struct strbuf *out, struct strbuf *err);

/* Effective thresholds: scenario values over the check table's defaults. */
void checks_effective(const struct checks *in, struct checks *out);
/* Overlay: every field set in over replaces base's. */
void checks_overlay(struct checks *base, const struct checks *over);

const char *work_type_name(enum work_type t);
int work_type_parse(const char *s, enum work_type *t);
const char *op_kind_name(enum op_kind k);
const char *sched_policy_name(enum sched_policy p);

/* Canned scenarios live in share/ktstr/scenarios/<name>.json.  Loads one
 * by name or path; NULL with err on failure. */
json_t *scenario_load(const char *name_or_path, struct strbuf *err);

/* Quick scenarios from flags: "cg_0:workers=2,work=bursty:50ms:100ms,
 * cpuset=llc:0,nice=5,policy=batch".  Appends a cgroup object to the
 * "cgroups" array of doc; -1 with err naming the bad part. */
int scenario_add_cgroup_flag(json_t *doc, const char *spec, struct strbuf *err);

/* ---- Additions beyond the original contract (all in lib/core/scenario*.c) ---- */

#define KTSTR_MAX_WORKERS 1024u		/* per cgroup, and per spawn */
#define KTSTR_MAX_DURATION_MS 3600000ull	/* 1 h */
/* The shortest scenario: a run of a few slices and one or two monitor
 * samples fails the fairness checks on noise (EEVDF, 100 ms: spread 17%)
 * and cannot fail the others, so its verdict means nothing either way. */
#define KTSTR_MIN_DURATION_MS 1000ull	/* 1 s */

/* A --duration option's value (ktstr-vm, ktstr-export): 0, or -1 with
 * one line in err naming the option, what is wrong and the range. */
int scenario_duration_opt(const char *arg, unsigned long long *ms, struct strbuf *err);

/* Make ms the duration of scenario document doc, in place of the one it
 * had as duration, duration_ms or duration_us: the parser takes only one
 * of the three, so an override must drop all of them. */
void scenario_doc_set_duration_ms(json_t *doc, unsigned long long ms);

/* Every field "not set" (NAN / -1), the state scenario_parse starts from;
 * for building a command-line overlay for checks_overlay(). */
void checks_init(struct checks *c);

/* How long step i of s holds, in ms: frac * duration_ms rounded to the
 * nearest ms (HOLD_FRAC, HOLD_LOOP) or ms (HOLD_MS); 0 when i is out of
 * range.  Host and guest use this so they agree on the timeline. */
unsigned long long step_hold_ms(const struct scenario *s, size_t i);

/* The directory canned scenarios are read from: $KTSTR_SHARE_DIR/scenarios
 * when KTSTR_SHARE_DIR is set (empty means unset), else
 * <exe>/../share/ktstr/scenarios.  Caller frees. */
char *scenario_dir(void);
/* Names of the canned scenarios (files *.json there, without .json),
 * sorted, appended to names.  -1 with err when the directory is unreadable. */
int scenario_list_canned(struct strvec *names, struct strbuf *err);

#endif
