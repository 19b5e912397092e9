/* The machine view behind ktstr-stats: the host-side monitor's samples of
 * the guest kernel (monitor_start, monitor, monitor_end and
 * monitor_unavailable records, ktstr-records(7)), the checks on them and
 * the per-phase metrics.
 *
 *   struct machine m;
 *   machine_init(&m);
 *   machine_feed(&m, rec, type)          for each monitor* record
 *   machine_timeline(&m, rec, type)      for scenario_start, step,
 *                                        stimulus, scenario_end
 *   machine_eval(&m, cpusets, n, &limits, &result)
 *
 * Storage is compact and bounded: per sample a small header, per CPU 6
 * bytes (nr_running and the local DSQ depth saturate at 65535; idle, a
 * still clock and whether the host ran the vCPU are bits).  At most
 * MACHINE_MAX_CPUS CPUs per sample, MACHINE_MAX_SAMPLES samples and
 * MACHINE_MAX_CELLS per-CPU values in all; past that, samples are dropped
 * with one warning.  Evaluation is linear in the stored values (times the
 * number of distinct cpusets, at most MACHINE_MAX_GROUPS).
 *
 * "Sustained" is MACHINE_SUSTAIN consecutive samples; a stretch of k
 * samples lasts k * interval_ms.  Only samples inside the scenario window
 * (scenario_start.host_ms .. scenario_end.host_ms; an unknown end is open)
 * count.  The checks (limits from struct checks; the algorithms are in
 * machine_checks.c and ktstr-stats(1)):
 *   work_conservation  longest stretch a CPU was idle (idle and
 *                      nr_running 0, its vCPU run by the host) while a CPU
 *                      sharing a cpuset with it had nr_running >= 2
 *   imbalance          worst max/max(1,min) nr_running ratio held over a
 *                      sustained window
 *   local_dsq_depth    worst depth a CPU's local DSQ held over a window
 *   stall              count of sustained stretches in which a busy CPU's
 *                      rq clock did not advance while the host ran its vCPU
 *                      (on a real machine, host mode: while it was online)
 *   runnable_wait      max of max_wait_ms
 *   fallback_rate,     select_cpu_fallback / dispatch_keep_last events per
 *   keep_last_rate     second over the window (counter resets tolerated)
 * A check whose data is absent is not evaluated. */
#ifndef KTSTR_MACHINE_H
#define KTSTR_MACHINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"

#define MACHINE_SUSTAIN 5
#define MACHINE_DEFAULT_INTERVAL_MS 100.0
#define MACHINE_MAX_CPUS 65536u		/* KTSTR_TOPO_MAX_CPUS */
#define MACHINE_MAX_SAMPLES (1u << 19)
#define MACHINE_MAX_CELLS (1u << 22)
#define MACHINE_MAX_PHASES 256u
#define MACHINE_MAX_GROUPS 32u

/* One CPU in one sample. */
struct machine_cell {
	uint16_t nr, dsq;	/* nr_running, local_dsq (saturated) */
	uint8_t flags;		/* MC_* */
};
#define MC_IDLE		0x01	/* rq->curr == rq->idle */
#define MC_CLOCK_STILL	0x02	/* clock_adv_us == 0 */
#define MC_VCPU_RAN	0x04	/* vcpu_run_us > 0, or online 1 (host mode) */

struct machine_sample {
	double t_ms;		/* host ms since QEMU started */
	double fallback, keep_last;	/* cumulative event totals; NAN absent */
	double max_wait_ms;	/* over the CPUs; NAN when none */
	/* The share of the time since the previous sample the host let the
	 * VM run (machine.c, vm_share): 1 less the longest vCPU thread's wait
	 * for a host CPU and the time QEMU was stopped.  NAN when the record
	 * does not say (older records, host mode) or there is no previous
	 * sample. */
	double vm_share;
	double stopped_ms;	/* qemu_stopped_us / 1000; NAN absent */
	size_t cell;		/* index of CPU 0's cell */
	uint32_t ncpu;
	uint32_t wait_cpu;
	uint8_t have;		/* MS_*: which per-CPU arrays were usable */
};
#define MS_NR		0x01
#define MS_IDLE		0x02
#define MS_DSQ		0x04
#define MS_CLOCK	0x08
#define MS_VCPU		0x10
#define MS_WAIT		0x20

struct machine {
	/* Set by the caller: problems with the input, one line each. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	/* Caps (the MACHINE_MAX_ defaults; tests lower them). */
	size_t max_samples, max_cells;

	bool saw_start, saw_end, saw_record;	/* any monitor* record */
	unsigned cpus;			/* monitor_start.cpus; 0 unknown */
	double interval_ms;		/* monitor_start.interval_ms */
	char *vcpu_threads;		/* "per_cpu", "single", "none" */
	bool host;			/* monitor_start "source":"host": real CPUs */
	char *unavailable;		/* monitor_unavailable reason */
	double end_samples, end_skipped;	/* monitor_end; NAN missing */

	struct machine_sample *samples;
	size_t n_samples, alloc_samples;
	bool unsorted;			/* a sample came before the one fed ahead of it */
	struct machine_cell *cells;
	size_t n_cells, alloc_cells;
	size_t dropped;			/* samples over the caps */

	/* The scenario's timeline, in host ms (NAN unknown).  origin is when
	 * the workload started, the zero of the guest's at_ms (the first
	 * step-0 stimulus's host_ms - at_ms): later than scenario_start by
	 * however long the scheduler took to attach. */
	double start_host_ms, end_host_ms, origin_host_ms;
	struct machine_step {
		double host_ms, at_ms, iterations;
	} *steps;
	double end_elapsed_ms, end_iterations;	/* scenario_end; NAN unknown */
	size_t n_steps, alloc_steps;
	double stim_host_ms[MACHINE_MAX_PHASES];	/* first stimulus per step */

	struct strvec warned;		/* fields already warned about */
};

/* How long, of host time [from_ms, to_ms], the host did not run the VM:
 * each sample interval overlapping it gives its lost time (1 minus the
 * sample's vm_share, times the interval), up to the overlap; an upper
 * bound, as the samples do not say where in an interval it fell.  0 when
 * the samples say nothing (no such fields, nothing overlapping). */
double machine_lost_ms(const struct machine *m, double from_ms, double to_ms);
/* How long QEMU was stopped in (from_ms, to_ms], by the same rule (a
 * sample's stop counts as far as its interval overlaps the span); NAN
 * when no sample there carries qemu_stopped_us (an older ktstr-vm). */
double machine_stopped_ms(const struct machine *m, double from_ms, double to_ms);

void machine_init(struct machine *m);
void machine_release(struct machine *m);

/* A monitor_start, monitor, monitor_end or monitor_unavailable record;
 * other types are ignored.  Malformed fields are warned about once per
 * field and treated as missing. */
void machine_feed(struct machine *m, const json_t *rec, const char *type);
/* host_ms (and step's at_ms) of scenario_start, step, stimulus and
 * scenario_end. */
void machine_timeline(struct machine *m, const json_t *rec, const char *type);

/* The machine checks, in the check table's names. */
enum machine_check_id {
	MCHK_WORK_CONSERVATION,
	MCHK_IMBALANCE,
	MCHK_LOCAL_DSQ_DEPTH,
	MCHK_STALL,
	MCHK_RUNNABLE_WAIT,
	MCHK_FALLBACK_RATE,
	MCHK_KEEP_LAST_RATE,
	MCHK_N,
};

struct machine_check {
	const char *name;	/* "work_conservation", ... */
	const char *metric;	/* its sidecar metric */
	bool evaluated;		/* its data was there */
	double value;		/* NAN when not evaluated */
	double limit;		/* NAN: off */
	bool pass;
	char *message;		/* one line, failures only */
	/* When the value was seen, on the monitor's clock (host ms): the
	 * worst stretch or sample behind it, the whole window for a rate;
	 * NAN when not evaluated.  ktstr-stats --trace marks failures there. */
	double from_ms, to_ms;
};

/* Per-phase metrics. */
enum machine_phase_metric {
	PM_MEAN_IMBALANCE,	/* mean of the per-sample ratio */
	PM_MAX_IMBALANCE,	/* sustained, as the check */
	PM_MAX_DSQ,		/* sustained, as the check */
	PM_STALLS,		/* stalls that began in the phase */
	PM_IDLE_MS,		/* idle-while-runnable ms, summed over CPUs */
	PM_FALLBACK,		/* per second */
	PM_KEEP_LAST,		/* per second */
	PM_ITER_RATE,		/* worker iterations per second (higher is
				 * better), from the step records */
	PM_N,
};

/* Name (JSON key and sidecar "phase<N>.<name>"), table heading. */
const char *machine_phase_metric_name(enum machine_phase_metric k);

struct machine_phase {
	unsigned index;		/* 0: before step 1; N: from step N */
	double start_ms, end_ms;	/* since scenario start; NAN open */
	size_t samples;
	double v[PM_N];		/* NAN when not derivable */
	unsigned degraded;	/* bit k: v[k] degraded against the phase
				 * before (see machine_degraded) */
};

struct machine_result {
	bool any;		/* monitor samples in the scenario window */
	size_t samples;		/* ... how many */
	double interval_ms;
	/* Host time the window's samples cover, and how much of it the host
	 * ran the VM (vm_share); NAN without thread times. */
	double window_ms, vm_run_ms;
	/* How long QEMU was stopped in the window (NAN: not said).  A stop
	 * makes the guest's clock jump, and its kernel charges the jump to
	 * whatever ran: timing checks cannot be trusted after one. */
	double stopped_ms;
	/* work_conservation could not have failed: the window is longer
	 * than its limit, but the host ran the VM for less (the check is
	 * then not evaluated; the verdict is inconclusive). */
	bool wc_vacuous;
	struct machine_check checks[MCHK_N];
	struct machine_phase *phases;
	size_t n_phases;
};

/* Evaluate.  cpusets: the run's cgroups' cpulists (NULL entries: every
 * CPU); n 0 means every CPU is one set.  limits: effective thresholds
 * (NAN off; stall a switch).  r is filled (release it). */
void machine_eval(const struct machine *m, const char *const *cpusets, size_t n,
		  const struct checks *limits, struct machine_result *r);
void machine_result_release(struct machine_result *r);

/* Whether metric k of cur degraded against prev (both phases with at
 * least MACHINE_SUSTAIN samples): rises past both an absolute and a
 * relative step (see machine_eval.c, phase_metrics). */
bool machine_degraded(enum machine_phase_metric k, double prev, double cur);

/* The machine part of the verdict record: {"samples", ..., metrics} and
 * the "phases" array. */
json_t *machine_json(const struct machine *m, const struct machine_result *r);
json_t *machine_phases_json(const struct machine_result *r);
/* Sidecar metrics: the checks' metrics and "phase<N>.<name>". */
void machine_metrics(const struct machine_result *r, json_t *metrics);
/* Human report lines: the machine summary and the phase table. */
void machine_format(const struct machine *m, const struct machine_result *r,
		    struct strbuf *out);

#endif
