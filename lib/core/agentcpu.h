/* The agent's own CPU time over a scenario's workload window, as a share
 * of what the guest's CPUs could run in that window (issue 16).
 *
 * The agent is PID 1 and runs SCHED_FIFO during a scenario: every
 * millisecond it spends there is taken from the workers it measures.
 * scenario_end reports agent_cpu_ms and agent_cpu_pct so the verdict can
 * say whether the measurement disturbed the run; ktstr-stats warns above
 * AGENT_CPU_WARN_PCT. */
#ifndef KTSTR_AGENTCPU_H
#define KTSTR_AGENTCPU_H

#include <stdint.h>
#include <sys/resource.h>

/* Above this share the agent may have disturbed the run (a warning, not
 * a failure). */
#define AGENT_CPU_WARN_PCT 1.0

/* User plus system time of a struct rusage, in ns. */
uint64_t agentcpu_rusage_ns(const struct rusage *ru);

/* This process's own CPU time (its threads, not its children) in ns;
 * 0 when getrusage fails. */
uint64_t agentcpu_self_ns(void);

/* cpu_ns as a percentage of ncpus * wall_ns, the guest's CPU capacity
 * over the window; NaN when that capacity is 0. */
double agentcpu_pct(uint64_t cpu_ns, uint64_t wall_ns, unsigned ncpus);

#endif
