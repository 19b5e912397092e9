/* The host-mode monitor: ktstr-vm's host-side monitor (lib/vm/monitor.h)
 * for a run on a real machine, where there is no guest memory to read.
 * It samples the running kernel's per-CPU state from the files the kernel
 * itself prints and writes the same records, monitor_start, monitor and
 * monitor_end, with the same field names (ktstr-records(7)), so
 * ktstr-stats's machine view (lib/vm/machine.h) judges a host run as it
 * judges a VM.  It lives in lib/core for the static agent's --host mode.
 *
 *   struct hostmon *h = hostmon_open("", hostmon_poll_ms(getenv(...)), &err);
 *   if (!h) -> emit {"type":"monitor_unavailable","reason":err.buf}
 *   emit hostmon_start_record(h, t_ms)
 *   every interval: rec = hostmon_sample(h, t_ms); if (rec) emit rec
 *   emit hostmon_end_record(h, t_ms); hostmon_close(h)
 *
 * The caller owns the records (json_decref them after emitting); t_ms is
 * the caller's clock, the one it stamps host_ms with on the timeline
 * records.  One monitor belongs to one thread at a time.
 *
 * Sources, all under root ("" for the running kernel):
 *   /sys/kernel/debug/sched/debug (or /proc/sched_debug on kernels before
 *       5.13): per CPU nr_running, curr->pid (idle when 0) and the rq
 *       clock; the CPUs it lists are the online ones.
 *   /proc/stat: per-CPU idle share, only when the above is unreadable
 *       (debugfs not mounted, kernel lockdown): "idle" and "online" only.
 *   /sys/devices/system/cpu/present: how many CPUs the arrays hold;
 *   /sys/devices/system/cpu/online: read with each sample, so a CPU that
 *       is online but missing from the debug file (a cut read) skips the
 *       sample instead of showing as offline.
 *   /sys/kernel/sched_ext/state, root/ops, root/events: scx_state,
 *       scx_ops and events, when sched_ext has them.
 * Each file is opened, read to its end and closed once per sample; no
 * per-task files are read.  The kernel does walk every task for each CPU
 * to print the debug file's task tables, so one sample costs the kernel
 * O(CPUs x tasks): monitor_end's sample_us_mean says what it cost.
 *
 * The monitor runs on the machine it watches: the CPU running it when it
 * reads the debug file shows the monitor's thread as current.  That CPU's
 * nr_running is counted without it and it is idle when nothing else was
 * queued there, as a VM's host-side monitor would have seen it; the
 * record names the CPU in "monitor_cpu". */
#ifndef KTSTR_HOSTMON_H
#define KTSTR_HOSTMON_H

#include <jansson.h>
#include "strbuf.h"

#define HOSTMON_DEFAULT_POLL_MS 500
#define HOSTMON_MIN_POLL_MS 10
#define HOSTMON_MAX_POLL_MS 60000

struct hostmon;

/* Open the monitor and take a first, baseline reading (so the first
 * sample's clock_adv_us and idle share cover a real interval).  root: ""
 * for this machine, else a directory standing in for / (tests).
 * interval_ms is only reported.  NULL with err saying why when neither
 * the debug file nor /proc/stat gives per-CPU state: err's text is meant
 * for a monitor_unavailable reason. */
struct hostmon *hostmon_open(const char *root, int interval_ms, struct strbuf *err);
void hostmon_close(struct hostmon *h);

/* monitor_start: t_ms, cpus, interval_ms, "source":"host", cpu_source
 * ("sched_debug" or "proc_stat"), cpu_file (the path read), fields,
 * events (the counter names readable now, often none before a scheduler
 * attaches), sched_ext (whether the kernel has it). */
json_t *hostmon_start_record(struct hostmon *h, long long t_ms);
/* One monitor record, or NULL when the sample had to be skipped (counted
 * in monitor_end's "skipped", the reason in its last_skip_reason). */
json_t *hostmon_sample(struct hostmon *h, long long t_ms);
/* monitor_end: t_ms, samples, skipped, sample_us_mean, sample_us_max,
 * last_skip_reason when something was skipped. */
json_t *hostmon_end_record(struct hostmon *h, long long t_ms);

/* KTSTR_STALL_POLL_MS: NULL, empty, 0, or anything but a decimal number
 * gives HOSTMON_DEFAULT_POLL_MS; a number is bounded to
 * [HOSTMON_MIN_POLL_MS, HOSTMON_MAX_POLL_MS]. */
int hostmon_poll_ms(const char *env_value);

/* Accessors, for the caller's diagnostics and for tests. */
int hostmon_cpus(const struct hostmon *h);
const char *hostmon_cpu_source(const struct hostmon *h);	/* "sched_debug", "proc_stat" */
const char *hostmon_last_skip_reason(const struct hostmon *h);	/* "" when none */
/* The thread id taken as the monitor's own (default: the calling
 * thread's, at each sample); tests set the pid their fixture shows. */
void hostmon_set_self_tid(struct hostmon *h, long tid);

#endif
