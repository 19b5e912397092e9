#include "ctprof_metrics.h"
#include "diag.h"
#include "strbuf.h"

#include <string.h>

#define T(name, unit, agg, better, src, desc) \
	{ name, name, unit, CTPROF_AGG_##agg, CTPROF_SCOPE_THREAD, better, src, desc }
/* Cgroup metrics carry a "cgroup_" prefix in their name so a table row says
 * where the number came from; the JSON key inside the cgroup object drops it. */
#define C(key, unit, better, src, desc) \
	{ "cgroup_" key, key, unit, CTPROF_AGG_CGROUP, CTPROF_SCOPE_CGROUP, better, src, desc }
#define PSI(res, kind) \
	C(res "_" kind "_avg10_pct", "pct", -1, res ".pressure", \
	  "share of the last 10 s that " kind " tasks stalled on " res), \
	C(res "_" kind "_avg60_pct", "pct", -1, res ".pressure", \
	  "share of the last 60 s that " kind " tasks stalled on " res), \
	C(res "_" kind "_total_us", "us", -1, res ".pressure", \
	  "cumulative time " kind " tasks stalled on " res)

const struct ctprof_metric ctprof_metrics[] = {
	/* /proc/PID/task/TID/sched: the scheduler's own accounting. */
	T("sum_exec_runtime_ns", "ns", SUM, +1, "sched", "CPU time consumed"),
	T("nr_switches", "count", SUM, 0, "sched", "context switches"),
	T("nr_voluntary_switches", "count", SUM, 0, "sched", "switches out by blocking"),
	T("nr_involuntary_switches", "count", SUM, -1, "sched", "switches out by preemption"),
	T("nr_migrations", "count", SUM, -1, "sched", "moves to another CPU"),
	T("slice_ns", "ns", MEAN, 0, "sched", "time slice (se.slice, or ext.slice on sched_ext)"),
	T("ext_enabled", "threads", SUM, 0, "sched", "threads run by a sched_ext scheduler"),
	T("wait_sum_ns", "ns", SUM, -1, "sched (schedstats)", "time runnable but not running"),
	T("wait_count", "count", SUM, 0, "sched (schedstats)", "waits for a CPU"),
	T("wait_max_ns", "ns", MAX, -1, "sched (schedstats)", "longest wait for a CPU"),
	T("sleep_sum_ns", "ns", SUM, 0, "sched (schedstats)", "time sleeping (sum_sleep_runtime)"),
	T("sleep_max_ns", "ns", MAX, 0, "sched (schedstats)", "longest sleep"),
	T("block_sum_ns", "ns", SUM, 0, "sched (schedstats)", "time blocked (sum_block_runtime)"),
	T("block_max_ns", "ns", MAX, 0, "sched (schedstats)", "longest block"),
	T("iowait_sum_ns", "ns", SUM, -1, "sched (schedstats)", "time in I/O wait"),
	T("iowait_count", "count", SUM, 0, "sched (schedstats)", "I/O waits"),
	T("exec_max_ns", "ns", MAX, 0, "sched (schedstats)", "longest single run"),
	T("slice_max_ns", "ns", MAX, 0, "sched (schedstats)", "longest slice"),
	T("nr_wakeups", "count", SUM, 0, "sched (schedstats)", "wakeups"),
	T("nr_wakeups_sync", "count", SUM, 0, "sched (schedstats)", "synchronous wakeups"),
	T("nr_wakeups_migrate", "count", SUM, 0, "sched (schedstats)", "wakeups onto another CPU"),
	T("nr_wakeups_local", "count", SUM, 0, "sched (schedstats)", "wakeups on the waker's CPU"),
	T("nr_wakeups_remote", "count", SUM, 0, "sched (schedstats)", "wakeups on another CPU"),
	T("nr_wakeups_affine", "count", SUM, 0, "sched (schedstats)", "affine wakeups taken"),
	T("nr_wakeups_affine_attempts", "count", SUM, 0, "sched (schedstats)", "affine wakeups tried"),
	T("nr_wakeups_passive", "count", SUM, 0, "sched (schedstats)", "passive wakeups"),
	T("nr_wakeups_idle", "count", SUM, 0, "sched (schedstats)", "wakeups onto an idle CPU"),
	T("nr_migrations_cold", "count", SUM, 0, "sched (schedstats)", "cache-cold migrations"),
	T("nr_failed_migrations_affine", "count", SUM, 0, "sched (schedstats)", "migrations refused by affinity"),
	T("nr_failed_migrations_running", "count", SUM, 0, "sched (schedstats)", "migrations refused: running"),
	T("nr_failed_migrations_hot", "count", SUM, 0, "sched (schedstats)", "migrations refused: cache-hot"),
	T("nr_forced_migrations", "count", SUM, 0, "sched (schedstats)", "forced migrations"),
	T("core_forceidle_sum_ns", "ns", SUM, -1, "sched (schedstats)", "core-scheduling forced idle"),
	T("numa_pages_migrated", "count", SUM, 0, "sched (NUMA balancing)", "pages moved by NUMA balancing"),
	T("numa_faults", "count", SUM, 0, "sched (NUMA balancing)", "NUMA hinting faults"),
	/* /proc/PID/task/TID/schedstat (sched_info). */
	T("run_time_ns", "ns", SUM, +1, "schedstat", "time on a CPU"),
	T("run_delay_ns", "ns", SUM, -1, "schedstat", "time runnable, waiting on a runqueue"),
	T("timeslices", "count", SUM, 0, "schedstat", "times run on a CPU"),
	/* /proc/PID/task/TID/stat. */
	T("utime_us", "us", SUM, 0, "stat", "user CPU time (tick sampled)"),
	T("stime_us", "us", SUM, 0, "stat", "system CPU time (tick sampled)"),
	T("minflt", "count", SUM, -1, "stat", "minor page faults"),
	T("majflt", "count", SUM, -1, "stat", "major page faults"),
	T("nice", "nice", MEAN, 0, "stat", "nice value"),
	T("priority", "prio", MEAN, 0, "stat", "kernel priority as /proc shows it"),
	T("rt_priority", "prio", MEAN, 0, "stat", "real-time priority"),
	T("policy", "policy", NONE, 0, "stat", "scheduling policy (0 normal, 7 ext, ...)"),
	T("last_cpu", "cpu", NONE, 0, "stat", "CPU the thread last ran on"),
	T("start_time_ms", "ms", NONE, 0, "stat", "start time after boot"),
	/* /proc/PID/task/TID/status. */
	T("voluntary_ctxt_switches", "count", SUM, 0, "status", "voluntary context switches"),
	T("nonvoluntary_ctxt_switches", "count", SUM, -1, "status", "involuntary context switches"),
	T("cpus_allowed_count", "cpus", MEAN, 0, "status", "CPUs in the affinity mask"),
	T("cpus_allowed", "cpulist", NONE, 0, "status", "affinity mask (Cpus_allowed_list)"),
	/* /proc/PID/task/TID/io. */
	T("rchar_bytes", "bytes", SUM, 0, "io", "bytes read by syscalls"),
	T("wchar_bytes", "bytes", SUM, 0, "io", "bytes written by syscalls"),
	T("syscr", "count", SUM, 0, "io", "read syscalls"),
	T("syscw", "count", SUM, 0, "io", "write syscalls"),
	T("read_bytes", "bytes", SUM, 0, "io", "bytes read from storage"),
	T("write_bytes", "bytes", SUM, 0, "io", "bytes written to storage"),
	T("cancelled_write_bytes", "bytes", SUM, 0, "io", "written bytes truncated away"),
	/* Taskstats (delay accounting) over generic netlink. */
	T("cpu_delay_ns", "ns", SUM, -1, "taskstats", "waiting for a CPU"),
	T("cpu_delay_count", "count", SUM, 0, "taskstats", "CPU delays recorded"),
	T("blkio_delay_ns", "ns", SUM, -1, "taskstats", "waiting for block I/O"),
	T("blkio_delay_count", "count", SUM, 0, "taskstats", "block I/O delays recorded"),
	T("swapin_delay_ns", "ns", SUM, -1, "taskstats", "waiting for swap-in"),
	T("swapin_delay_count", "count", SUM, 0, "taskstats", "swap-in delays recorded"),
	T("freepages_delay_ns", "ns", SUM, -1, "taskstats", "waiting for memory reclaim"),
	T("freepages_delay_count", "count", SUM, 0, "taskstats", "reclaim delays recorded"),
	T("thrashing_delay_ns", "ns", SUM, -1, "taskstats", "waiting on thrashing pages"),
	T("thrashing_delay_count", "count", SUM, 0, "taskstats", "thrashing delays recorded"),
	T("compact_delay_ns", "ns", SUM, -1, "taskstats", "waiting for memory compaction"),
	T("compact_delay_count", "count", SUM, 0, "taskstats", "compaction delays recorded"),
	T("wpcopy_delay_ns", "ns", SUM, -1, "taskstats", "waiting for write-protect copies"),
	T("wpcopy_delay_count", "count", SUM, 0, "taskstats", "write-protect copy delays recorded"),
	T("irq_delay_ns", "ns", SUM, -1, "taskstats", "time stolen by IRQ/softirq"),
	T("irq_delay_count", "count", SUM, 0, "taskstats", "IRQ delays recorded"),
	/* The cgroup (v2) itself: cpu.stat and PSI. */
	C("cpu_usage_us", "us", 0, "cpu.stat", "CPU time of the cgroup (usage_usec)"),
	C("cpu_user_us", "us", 0, "cpu.stat", "user CPU time (user_usec)"),
	C("cpu_system_us", "us", 0, "cpu.stat", "system CPU time (system_usec)"),
	C("cpu_nr_periods", "count", 0, "cpu.stat", "bandwidth periods elapsed"),
	C("cpu_nr_throttled", "count", -1, "cpu.stat", "periods throttled"),
	C("cpu_throttled_us", "us", -1, "cpu.stat", "time throttled (throttled_usec)"),
	C("cpu_nr_bursts", "count", 0, "cpu.stat", "bandwidth bursts"),
	C("cpu_burst_us", "us", 0, "cpu.stat", "time in bursts (burst_usec)"),
	PSI("cpu", "some"), PSI("cpu", "full"),
	PSI("memory", "some"), PSI("memory", "full"),
	PSI("io", "some"), PSI("io", "full"),
};
const size_t ctprof_n_metrics = ARRAY_SIZE(ctprof_metrics);

int ctprof_metric_find(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < ctprof_n_metrics; i++)
		if (!strcmp(ctprof_metrics[i].name, name))
			return (int)i;
	/* Unit-less spelling: the name followed by "_<unit>". */
	for (i = 0; i < ctprof_n_metrics; i++) {
		const struct ctprof_metric *m = &ctprof_metrics[i];

		if (n && !strncmp(m->name, name, n) && m->name[n] == '_' &&
		    !strcmp(m->name + n + 1, m->unit))
			return (int)i;
	}
	return -1;
}

bool ctprof_metric_comparable(const struct ctprof_metric *m)
{
	return m->agg != CTPROF_AGG_NONE;
}

const char *ctprof_agg_name(enum ctprof_agg agg)
{
	switch (agg) {
	case CTPROF_AGG_SUM: return "sum";
	case CTPROF_AGG_MEAN: return "mean";
	case CTPROF_AGG_MAX: return "max";
	case CTPROF_AGG_CGROUP: return "cgroup";
	case CTPROF_AGG_NONE: return "none";
	}
	return "?";
}

char *ctprof_metric_names(bool with_cgroup)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ctprof_n_metrics; i++) {
		const struct ctprof_metric *m = &ctprof_metrics[i];

		if (!ctprof_metric_comparable(m))
			continue;
		if (m->scope == CTPROF_SCOPE_CGROUP && !with_cgroup)
			continue;
		strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", m->name);
	}
	return strbuf_detach(&sb, NULL);
}
