/* The scenario engine: the guest side of lib/core/scenario.h.
 *
 * One request {"type":"scenario",...} runs a scenario with real processes
 * in real cgroup v2 cgroups, optionally under a sched_ext scheduler, and
 * streams telemetry records (see scenario.c for the record list).
 *
 * Files, one job each:
 *   scenario.c   request handling, the event loop, steps, records
 *   ops.c        creating cgroups and applying the ops (stimulus)
 *   cgroupfs.c   cgroup v2 operations under /sys/fs/cgroup/ktstr
 *   worker.c     forking, placing, starting, stopping and reaping workers
 *   payload.c    real programs (payloads): their copies, stops, records
 *   work_*.c     the work types (the loops a worker runs)
 *   telemetry.c  the worker-side probes (gaps, CPUs, wake latencies) and
 *                the records built from them
 *   scheduler.c  the scheduler's lifecycle (start, attach, watch, detach)
 *   bpfprog.c    the scheduler's BPF programs and their run cost (libbpf)
 *   cpumask.c    CPU bitmaps and cpulist text
 *
 * Telemetry travels through shared memory, not pipes: every worker owns a
 * struct wslot in a MAP_SHARED anonymous mapping created before it is
 * forked, writes its counters there as it runs, and the engine reads them
 * after the worker has exited.  A worker that crashes or has to be killed
 * therefore still reports everything up to its last iteration. */
#ifndef KTSTR_GUEST_ENGINE_H
#define KTSTR_GUEST_ENGINE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"
#include "jsonl.h"
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

/* ---- cpumask.c: CPU sets as arrays of 64-bit words ---- */

#define MASK_WORDS(nbits) (((size_t)(nbits) + 63) / 64)

/* Parse a kernel cpulist ("0-3,6"; "" is the empty set; blanks around
 * it, such as a file's newline, are ignored) into mask, which has room
 * for nbits CPUs; -1 on bad syntax or a CPU >= nbits.  The grammar is
 * lib/core/cpulist.c's, shared with the host. */
int mask_parse(const char *list, uint64_t *mask, unsigned nbits);
/* Append mask as a cpulist ("" when empty). */
void mask_format(const uint64_t *mask, unsigned nbits, struct strbuf *out);
unsigned mask_weight(const uint64_t *mask, unsigned nbits);
/* The (n mod weight)-th set CPU, or -1 for an empty mask. */
int mask_nth(const uint64_t *mask, unsigned nbits, unsigned n);

static inline bool mask_test(const uint64_t *m, unsigned cpu)
{
	return (m[cpu / 64] >> (cpu % 64)) & 1;
}

static inline void mask_set(uint64_t *m, unsigned cpu)
{
	m[cpu / 64] |= 1ull << (cpu % 64);
}

/* ---- shared memory ---- */

/* Wake latency samples kept per worker (reservoir sampling beyond). */
#define WAKE_SAMPLES 4096
/* Every futex wait a worker does is bounded by this, so a worker whose
 * partner is gone still notices its stop flag. */
#define FUTEX_WAIT_NS 100000000ull

enum wstate { WS_FORKED, WS_RUNNING, WS_DONE };

struct shm_lock {
	_Alignas(64) _Atomic uint32_t word;
};

/* Scenario-wide, mapped before the first fork. */
struct shm_ctl {
	_Atomic uint32_t go;		/* start barrier of the initial workers */
	/* Seqlock over every worker's allowed mask: odd while the engine
	 * changes cpusets, affinities or cgroup membership.  A worker only
	 * counts an isolation violation when the epoch was even and the same
	 * before and after its CPU sample (see telemetry.c). */
	_Alignas(64) _Atomic uint32_t epoch;
	/* One lock per cgroup name for mutex_contention, so that workers
	 * spawned later share the lock of those started first. */
	struct shm_lock locks[];
};

/* One per worker.  Groups written by different parties sit on different
 * cache lines so the probes do not bounce lines with the engine. */
struct wslot {
	/* engine -> worker */
	_Atomic uint32_t stop;

	/* worker <-> worker (pipe_io, futex_*) */
	_Alignas(64) _Atomic uint32_t ping;	/* futex: bumped to wake this worker */
	_Atomic uint32_t ack;		/* fan-out waker: waiters done */
	_Atomic uint64_t wake_ts;	/* this worker's clock just before it woke someone */
	_Atomic uint64_t ack_ts;	/* fan-out: last waiter's clock at its ack */

	/* worker -> engine, final once state is WS_DONE */
	_Alignas(64) _Atomic uint32_t state;
	/* Last tick while meaning to run, 0 while blocked on purpose: lets
	 * the engine close the gap of a worker that never ran again. */
	_Atomic uint64_t last_tick_ns;
	_Atomic uint64_t iterations;
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC, absolute */
	uint64_t cpu_ns;		/* CPU time used while working */
	int64_t run_delay_ns;		/* /proc/self/schedstat delta, -1 unknown */
	int64_t sched_migrations;	/* se.nr_migrations delta, -1 unknown */
	uint64_t migrations;		/* changes of sched_getcpu() seen */
	uint64_t max_gap_ns, max_gap_at_ns;
	int32_t max_gap_cpu;
	uint32_t nsamples;
	uint64_t wake_count;		/* samples offered (>= nsamples) */
	uint64_t samples[WAKE_SAMPLES];	/* wake latencies, ns */
	/* allowed (engine-written under the epoch), seen, violations:
	 * MASK_WORDS(nbits) words each */
	uint64_t masks[];
};

/* ---- the engine ---- */

struct batch;

struct cgroup {
	char *name;
	const struct cgroup_def *def;	/* work of workers spawned here */
	unsigned lock;			/* index into shm_ctl.locks */
	bool live;			/* created and not removed */
	char *cpus;			/* what was written to cpuset.cpus, or NULL */
	uint64_t *effective;		/* cpuset.cpus.effective */
	unsigned next_index;		/* index of the next worker spawned */
	bool reported;			/* cgroup_stats sent */
};

struct worker {
	pid_t pid;
	struct wslot *slot;
	size_t cg;			/* index into engine.cgs (current cgroup) */
	size_t origin;			/* the cgroup it was spawned in */
	const struct cgroup_def *def;	/* what it runs */
	unsigned index;			/* within the cgroup it was spawned in */
	bool exited;			/* reaped: status valid */
	int status;
	bool stopping;			/* stop requested */
	bool killed;			/* SIGKILLed by the engine after the stop timeout */
	uint64_t stop_ns;		/* when the stop was requested */
	bool reported;			/* worker record sent */
	bool discarded;			/* spawn failed: not reported at all */
	uint64_t exit_ns;		/* when it was reaped */
};

struct sched_run;

/* One copy of a started payload (payload.c). */
struct pcopy {
	unsigned index;
	pid_t pid;			/* its process group too; 0: never ran */
	uint64_t start_ns, exit_ns;	/* CLOCK_MONOTONIC */
	long long deadline_ms;		/* monotonic_ms() of its timeout, 0: none */
	long long kill_ms;		/* SIGKILL due (after the SIGINT), 0: none */
	const char *stopped_by;		/* NULL until a stop is requested */
	bool exited;			/* reaped (or given up): status valid */
	int status;
	bool killed;			/* SIGKILLed after the grace */
	bool reported;			/* stop (and metrics) records sent */
	char *error;			/* why it could not run, or NULL */
	char *out;			/* its {out} file */
	bool uses_out;			/* the output is that file, not stdout */
};

/* One started payload def and its copies. */
struct prun {
	const struct payload_def *def;	/* in e->sc: lives as long as e */
	unsigned step;			/* that started it; 0 = initial */
	long cg;			/* its cgroup in e->cgs, -1 none */
	struct cgroup_def own;		/* the def of its own cgroup */
	bool removed;			/* own cgroup removed */
	struct pcopy *c;
	unsigned n;
};

/* bpfprog.c: one BPF program of the scheduler. */
struct bpf_prog_fig {
	uint32_t id;
	char *name;
	const char *prog_type;		/* libbpf's name for it, static */
	uint32_t verified_insns, xlated_bytes, jited_bytes, nr_maps;
	uint64_t run_cnt, run_time_ns;	/* as last read */
	uint64_t base_cnt, base_ns;	/* at the window's start */
	bool base_ok;			/* the window's start read it */
};

/* What bpfprog.c keeps over a scenario. */
struct bpfprobe {
	bool stats;			/* the request's bpf_stats */
	bool listed;			/* before holds the IDs before the spawn */
	uint32_t *before;
	size_t nbefore;
	struct bpf_prog_fig *progs;	/* the scheduler's, sorted by name */
	size_t n;
	long long base_ms;		/* monotonic_ms() at the window's start */
	bool windowed;			/* the window has started, not ended */
};

struct engine {
	struct agent *ag;
	struct scenario sc;
	bool parsed;
	bool ctprof;			/* request asked for a ctprof capture */
	struct ktstr_topo topo;
	unsigned ncpus;			/* CPUs of the topology */
	unsigned nbits;			/* bitmap size: max(possible CPUs, ncpus) */

	struct shm_ctl *ctl;
	size_t ctl_size;
	unsigned nlocks;

	struct cgroup *cgs;
	size_t ncgs, cgs_alloc;
	struct worker *ws;
	size_t nws, ws_alloc;
	struct batch **batches;
	size_t nbatches;
	struct prun **pruns;		/* payloads started, in order */
	size_t npruns;

	struct sched_run *sched;	/* NULL without a scheduler */
	struct bpfprobe bpf;		/* its BPF programs */
	int kmsg;			/* /dev/kmsg, positioned at scenario start */

	size_t next_lock;

	/* scenario_end summary, filled as cgroup_stats go out */
	double worst_spread, worst_gap;
	uint64_t migrations;

	uint64_t t0_ns;			/* release of the initial workers */
	/* The agent's own CPU time (agentcpu.h): at t0, then over the
	 * workload window, which closes once every worker has stopped. */
	uint64_t agent0_ns, agent_ns, window_ns;
	bool window_closed;
	bool started;			/* t0 valid */
	bool abort;			/* scheduler died: end early */
};

/* Milliseconds since the initial workers started (0 before). */
long long engine_at_ms(const struct engine *e);
/* Serve events until monotonic_ms() reaches deadline_ms or the engine aborts:
 * reaping, scheduler output and health, host hang-up. */
void engine_wait(struct engine *e, long long deadline_ms);
/* Reap every exited child and route the status to its owner. */
void engine_reap(struct engine *e);
/* Everything the engine holds, stopped and freed (the scenario's
 * cgroups removed too when teardown_cgroups). */
void engine_release(struct engine *e, bool teardown_cgroups);
/* Queue a record; engine_flush sends what is queued. */
void engine_emit(struct engine *e, json_t *rec);
void engine_flush(struct engine *e);

/* scenario.c: worker records of the stopped workers with select(w) not
 * yet sent (select NULL: every worker, at the end); the cgroup_stats of
 * cgroup cg unless sent or it never had workers. */
void report_workers(struct engine *e, bool (*select)(const struct engine *e,
		    const struct worker *w, const void *arg), const void *arg);
void report_cgroup(struct engine *e, size_t cg);

/* ---- ops.c ---- */

/* Create the cgroup of def with its cpuset and fork its workers, held at
 * *go (see workers_spawn); what was done goes to detail.  The index in
 * e->cgs, or -1 with err. */
long cg_add(struct engine *e, const struct cgroup_def *def, _Atomic uint32_t **go,
	    struct strbuf *detail, struct strbuf *err);
/* Apply one op of step (1-based; 0 is the initial setup) and report it. */
void apply_op(struct engine *e, unsigned step, const struct op *op);
void emit_stimulus(struct engine *e, long long at, unsigned step, enum op_kind k,
		   const char *cg, const char *detail, const char *error);
/* The same with "cpus": where the op lets the cgroup's workers run now
 * (set_affinity), for ktstr-stats' machine checks. */
void emit_stimulus_cpus(struct engine *e, long long at, unsigned step, enum op_kind k,
			const char *cg, const char *detail, const char *error, const char *cpus);

/* The live cgroup called name, or -1. */
long cg_lookup(const struct engine *e, const char *name);

/* ---- payload.c ---- */

#define PAYLOAD_DIR "/tmp/ktstr-payload"

/* Keep the copies' output under dir instead of PAYLOAD_DIR (copied): for
 * the unit tests. */
void payload_set_dir(const char *dir);
const char *payload_dir(void);
/* Start the copies of d in step (0: the initial payloads): create its own
 * cgroup when it has one, fork and exec each copy, send their start
 * records.  detail gets "NAME xCOPIES: ARGV"; -1 with err when a copy
 * could not run (its stop record says why). */
int payload_start(struct engine *e, const struct payload_def *d, unsigned step,
		  struct strbuf *detail, struct strbuf *err);
/* The scenario's top-level payloads, each with a step 0 stimulus. */
void payloads_start_initial(struct engine *e);
/* OP_STOP_PAYLOAD: stop payload name; its cgroup (for the stimulus) or
 * NULL. */
const char *payload_stop_op(struct engine *e, const char *name, struct strbuf *detail,
			    struct strbuf *err);
/* Stop the running copies of payload name (NULL: all) for reason
 * ("stop_op", "end", "abort") and wait for them, bounded: SIGINT, then
 * SIGKILL after the grace.  Their records go out.  Returns how many
 * copies were running. */
unsigned payloads_stop(struct engine *e, const char *name, const char *reason);
/* The same for the payloads running in cgroup tree (it and below). */
unsigned payloads_stop_in(struct engine *e, const char *tree, const char *reason);
/* Route a reaped pid; false when it is not a payload copy. */
bool payloads_on_exit(struct engine *e, pid_t pid, int status);
/* Due timeouts and SIGKILLs, then the records of the copies reaped. */
void payloads_tick(struct engine *e);
/* monotonic_ms() of the next deadline payloads_tick has to act on, -1:
 * none. */
long long payloads_next_ms(const struct engine *e);
/* Records of the reaped copies not yet reported; own cgroups whose
 * payload has ended are removed. */
void payloads_report(struct engine *e);
/* Copies that were started (forked and exec'd or not). */
unsigned payloads_started(const struct engine *e);
/* Kill whatever still runs (bounded wait for it) and free. */
void payloads_release(struct engine *e);
/* payload_dir()/NAME.COPY.EXT; caller frees. */
char *payload_file(const struct payload_def *d, unsigned copy, const char *ext);

/* payload_rec.c: the records of a copy.  Start: {"type":"payload",
 * "event":"start",...} with the argv it runs.  Stop: the stop record,
 * then (a form other than exit_code, when it ran) payload_metrics from
 * its output. */
void payload_emit_start(struct engine *e, const struct prun *r, const struct pcopy *c,
			const struct strvec *argv);
void payload_emit_stop(struct engine *e, const struct prun *r, const struct pcopy *c);

/* ---- cgroupfs.c ---- */

#define CG_MOUNT "/sys/fs/cgroup"
#define CG_ROOT_NAME "ktstr"

/* Use dir instead of CG_MOUNT (copied): for the unit tests, which lay
 * out a fake tree in a temp directory.  Before any other cgfs_ call. */
void cgfs_set_mount(const char *dir);
/* CG_MOUNT/CG_ROOT_NAME, the directory every scenario cgroup is under. */
const char *cgfs_root(void);

/* Remove leftovers of an earlier run, create the root and enable the cpu
 * and cpuset controllers down to it. */
int cgfs_setup_root(struct strbuf *err);
/* Create name (may nest: "outer/a") with controllers enabled in every
 * intermediate cgroup. */
int cgfs_create(const char *name, struct strbuf *err);
/* Host mode without the cpuset controller (after cgfs_setup_root): true,
 * with a line in err saying so and how to get it. */
bool cgfs_cpuset_missing(struct strbuf *err);
/* Write cpuset.cpus and cpuset.mems; cpus "" clears (back to the parent's
 * CPUs), mems NULL leaves cpuset.mems alone. */
int cgfs_set_cpuset(const char *name, const char *cpus, const char *mems,
		    struct strbuf *err);
/* cpuset.cpus.effective into out (trimmed). */
int cgfs_effective(const char *name, struct strbuf *out);
/* Move pid into the cgroup. */
int cgfs_attach(const char *name, pid_t pid, struct strbuf *err);
/* Kill what runs in name (cgroup.kill), keep the cgroup. */
void cgfs_kill(const char *name);
/* Kill what runs in name (cgroup.kill) and remove it; intermediate
 * cgroups created for it stay until cgfs_teardown. */
int cgfs_remove(const char *name, struct strbuf *err);
/* Kill and remove everything under cgfs_root(), the root included. */
void cgfs_teardown(void);
/* Kill and remove dir and everything below it (host mode's run
 * directory, hostcg.h). */
void cgfs_destroy_dir(const char *dir);
/* Host mode: go on without cpuset when it cannot be enabled. */
void cgfs_cpuset_optional(bool optional);

/* ---- worker.c ---- */

/* Fork count workers of cgroup cg's def into it, placed and configured
 * but held at the start barrier *go; a NULL *go is set to a barrier of
 * their own.  Returns the index of the first new worker in e->ws, or -1
 * with err (those forked are then killed and discarded). */
long workers_spawn(struct engine *e, size_t cg, unsigned count,
		   _Atomic uint32_t **go, struct strbuf *err);
/* Open a start barrier. */
void workers_release(_Atomic uint32_t *go);
/* Stop the running workers w with select(e, w, arg) true and wait for
 * them to exit (killing any that outlast the stop timeout). */
void workers_stop(struct engine *e, bool (*select)(const struct engine *e,
		  const struct worker *w, const void *arg), const void *arg);
/* Stop every running worker and wait, bounded by the stop timeout, until
 * each has exited, without reaping any: their telemetry is final and
 * their threads stay in /proc (as zombies) for a ctprof capture taken
 * after the workload.  workers_stop reaps them afterwards.  True when
 * every worker exited in time. */
bool workers_stop_unreaped(struct engine *e);
/* Route a reaped pid; false when it is not a worker. */
bool workers_on_exit(struct engine *e, pid_t pid, int status);
/* Re-pin a cgroup's pinned workers to its current cpuset. */
void workers_repin(struct engine *e, size_t cg);
/* Refresh every worker's allowed mask from its cgroup's effective cpuset.
 * Call between epoch_begin and epoch_end. */
void workers_refresh_allowed(struct engine *e);
void epoch_begin(struct engine *e);
void epoch_end(struct engine *e);
/* Unmap every batch. */
void workers_release_all(struct engine *e);
/* Bytes of one worker slot, masks included. */
size_t wslot_size(unsigned nbits);
static inline uint64_t *wslot_allowed(struct wslot *s)
{
	return s->masks;
}
static inline uint64_t *wslot_seen(struct wslot *s, unsigned nbits)
{
	return s->masks + MASK_WORDS(nbits);
}
static inline uint64_t *wslot_viol(struct wslot *s, unsigned nbits)
{
	return s->masks + 2 * MASK_WORDS(nbits);
}

/* ---- inside a worker process ---- */

/* What a worker's loop works with; lives in the worker process only. */
struct wctx {
	struct wslot *self;
	/* pipe_io / futex_ping_pong: the partner, NULL when unpaired;
	 * futex_fan_out: the waker (for a waiter), NULL for the waker. */
	struct wslot *peer;
	bool leader;			/* pair: starts the exchange */
	unsigned nfan;			/* fan-out waker: its waiters */
	int rfd, wfd;			/* pipe_io ends, -1 otherwise */
	_Atomic uint32_t *lock;		/* mutex_contention */
	_Atomic uint32_t *epoch;
	const struct work_spec *spec;
	const uint64_t *cg_cpus;	/* affinity_churn: allowed CPUs */
	unsigned nbits;
	/* probe state (telemetry.c) */
	uint64_t last_ns;		/* previous timestamp, 0 after a block */
	uint64_t last_cpu_ns;		/* when the CPU was last sampled */
	uint64_t max_gap_ns;
	int last_cpu;
	uint64_t iters;
	uint64_t rng;
	uint64_t cpu0_ns;		/* baselines taken by w_begin */
	int64_t run_delay0, migrations0;
};

typedef void (*work_fn)(struct wctx *w);

/* telemetry.c: the probes */
uint64_t now_ns(void);
/* The worker is running now: gap accounting against the previous
 * timestamp, periodic CPU sampling.  Returns the timestamp. */
uint64_t w_tick(struct wctx *w);
/* The worker is about to sleep or block on purpose: the time until its
 * next tick is not a gap. */
static inline void w_block(struct wctx *w)
{
	w->last_ns = 0;
	w->last_cpu_ns = 0;
	atomic_store_explicit(&w->self->last_tick_ns, 0, memory_order_relaxed);
}
/* One unit of work done. */
void w_iter(struct wctx *w);
void w_wake_sample(struct wctx *w, uint64_t lat_ns);
static inline bool w_stopping(const struct wctx *w)
{
	return atomic_load_explicit(&w->self->stop, memory_order_relaxed);
}
/* Spin (ticking) for ns, or until asked to stop. */
void w_spin(struct wctx *w, uint64_t ns);
/* Sleep until the absolute CLOCK_MONOTONIC time target; a completed sleep
 * gives a wake latency sample (actual - intended wake time). */
void w_sleep_until(struct wctx *w, uint64_t target);
void w_sleep(struct wctx *w, uint64_t ns);
uint64_t w_rand(struct wctx *w);
/* Start and end of the worker's run: baselines, then final telemetry. */
void w_begin(struct wctx *w);
void w_end(struct wctx *w);

/* futex helpers (work_sync.c) */
/* Wait while *word == val, at most FUTEX_WAIT_NS (or a signal). */
void futex_wait_bounded(_Atomic uint32_t *word, uint32_t val);
void futex_wake_n(_Atomic uint32_t *word, int n);

/* The work loops, each returning when the worker is asked to stop. */
work_fn work_lookup(enum work_type t);
void work_spin_wait(struct wctx *w);
void work_yield_heavy(struct wctx *w);
void work_mixed(struct wctx *w);
void work_bursty(struct wctx *w);
void work_sequence(struct wctx *w);
void work_io_sync(struct wctx *w);
void work_cache_pressure(struct wctx *w);
void work_page_fault_churn(struct wctx *w);
void work_pipe_io(struct wctx *w);
void work_futex_ping_pong(struct wctx *w);
void work_futex_fan_out(struct wctx *w);
void work_mutex_contention(struct wctx *w);
void work_fork_exit(struct wctx *w);
void work_nice_sweep(struct wctx *w);
void work_affinity_churn(struct wctx *w);
void work_policy_churn(struct wctx *w);
/* work_mem.c: one write+fdatasync of bytes at offset 0 of *fd (sequence's
 * io phase and io_sync); opens a private file under /tmp when *fd < 0 and
 * allocates *buf when NULL.  False when the I/O failed. */
bool w_io_once(struct wctx *w, int *fd, char **buf, unsigned bytes);

/* ---- telemetry.c: engine side ---- */

/* The worker record for e->ws[i]. */
json_t *telemetry_worker_record(struct engine *e, size_t i);
/* The cgroup_stats record of cgroup cg (all workers that ended in it).
 * Adds to the scenario_end summary in e (worst spread and gap count only
 * cgroups that are not background). */
json_t *telemetry_cgroup_record(struct engine *e, size_t cg);
/* Set key to val, or null for NaN (jansson refuses NaN). */
void json_set_real_or_null(json_t *o, const char *key, double val);

/* ---- scheduler.c ---- */

#define SCX_DIR "/sys/kernel/sched_ext"

/* Read sched_ext's state from dir instead of SCX_DIR (copied): for the
 * unit tests' fake sysfs. */
void sched_set_scx_dir(const char *dir);

/* Start the scheduler of the request ({"path":..,"args":[..]}) and wait
 * for it to attach.  0 attached; -1 it did not (attach_failed sent). */
int sched_start(struct engine *e, const json_t *spec);
/* Called from the engine's waits: drain output; check health when force,
 * when the process has exited, or every HEALTH_MS.  Sets e->abort (after sending "died") when the scheduler is
 * gone. */
void sched_poll(struct engine *e, bool force);
/* poll(2) fd of the scheduler's output, -1 if none. */
int sched_fd(const struct engine *e);
/* poll(2) fd to watch for POLLIN while the scheduler is attached (the
 * engine's /dev/kmsg), -1 when there is nothing to watch; when it is
 * readable, call sched_on_kmsg: it reads the kernel's lines and checks
 * health at once when one says the scheduler was disabled. */
int sched_kmsg_fd(const struct engine *e);
void sched_on_kmsg(struct engine *e);
/* Milliseconds until sched_poll wants to run again (-1: never). */
long long sched_next_ms(const struct engine *e);
/* Route a reaped pid; false when it is not the scheduler. */
bool sched_on_exit(struct engine *e, pid_t pid, int status);
/* End of scenario: events deltas, SIGINT, wait, "detached".  True when
 * the scheduler was still attached at the end. */
bool sched_finish(struct engine *e);
/* Is the scheduler still attached (null record when there is none)? */
bool sched_alive(const struct engine *e);
/* Its name, for scenario_start (NULL without one). */
const char *sched_name_of(const json_t *spec);
/* Free it, killing it first if it still runs. */
void sched_release(struct engine *e);

/* ---- bpfprog.c ---- */

/* The IDs of after that are not in before, ascending, into out (room for
 * na); both inputs are sorted in place.  Returns how many. */
size_t bpf_ids_new(uint32_t *before, size_t nb, uint32_t *after, size_t na, uint32_t *out);
/* By name, then ID. */
void bpf_figs_sort(struct bpf_prog_fig *v, size_t n);
/* {"type":"bpf_prog","scheduler":..,"id":..,...,"t_ms":t_ms}. */
json_t *bpf_prog_record(const char *sched, const struct bpf_prog_fig *f, long long t_ms);
/* {"type":"bpf_prog_stats",...}: run_cnt and run_time_ns less f's
 * base_cnt and base_ns; ns_per_run null when nothing ran. */
json_t *bpf_stats_record(const struct bpf_prog_fig *f, uint64_t run_cnt, uint64_t run_time_ns,
			 long long window_ms);
/* Before the scheduler is forked: bpf_stats_enabled=1 when e->bpf.stats,
 * and the IDs already loaded.  Failures send a bpf_probe_error record. */
void bpfprobe_before_spawn(struct engine *e);
/* Right after the attach: the bpf_prog records of scheduler sched. */
void bpfprobe_attached(struct engine *e, const char *sched);
/* With bpf_stats: the counters as the workload starts, and the
 * bpf_prog_stats records once it has stopped. */
void bpfprobe_window_start(struct engine *e);
void bpfprobe_window_end(struct engine *e);
void bpfprobe_release(struct engine *e);

#endif
