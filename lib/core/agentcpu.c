/* The agent's CPU share over the workload window (see agentcpu.h). */
#include "agentcpu.h"

#include <math.h>
#include <stddef.h>

uint64_t agentcpu_rusage_ns(const struct rusage *ru)
{
	uint64_t us = (uint64_t)ru->ru_utime.tv_sec * 1000000u + (uint64_t)ru->ru_utime.tv_usec +
		      (uint64_t)ru->ru_stime.tv_sec * 1000000u + (uint64_t)ru->ru_stime.tv_usec;

	return us * 1000u;
}

uint64_t agentcpu_self_ns(void)
{
	struct rusage ru;

	/* RUSAGE_SELF: the agent alone; reaped workers count under
	 * RUSAGE_CHILDREN, which is exactly what must not be charged. */
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return agentcpu_rusage_ns(&ru);
}

double agentcpu_pct(uint64_t cpu_ns, uint64_t wall_ns, unsigned ncpus)
{
	double cap = (double)wall_ns * (double)ncpus;

	if (cap <= 0)
		return NAN;
	return 100.0 * (double)cpu_ns / cap;
}
