/* ktstr-vm --host: a scenario on this machine instead of in a VM.
 *
 * The work is the agent's (`ktstr-agent --host`, guest/hostmode.c): it
 * checks the machine, runs the request in cgroups under
 * KTSTR_HOST_CGROUP_PARENT, samples its stall monitor and cleans up.  This
 * side asks it for the topology, sends it the request and hands each
 * record to the same emit callback a VM run uses, keeping the
 * scheduler's output in its log file as a VM run does. */
#ifndef KTSTR_HOST_RUN_H
#define KTSTR_HOST_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include "strbuf.h"
#include "topo.h"

/* This machine's topology, from the agent's guest_topology record.  -1
 * with err when the agent cannot run or the machine is not uniform. */
int host_topology(const char *agent, struct ktstr_topo *t, struct strbuf *err);

struct host_run_config {
	const char *agent;		/* the ktstr-agent binary */
	json_t *request;		/* a scenario request (borrowed) */
	const char *expect_topo;	/* --topo given: refuse any other; or NULL */
	const char *sched_output_log;	/* the scheduler's output file, or NULL */
	bool sched_output_echo;		/* and on stderr as it comes */
};

/* Run it; every record goes to emit.  Returns the agent's exit code (the
 * scenario's, 2 for a refusal, 128+N for a signal: one that reaches this
 * process is passed on to the agent, which stops and cleans up first). */
int host_run(const struct host_run_config *c, void (*emit)(json_t *, void *), void *ctx);
/* The emit callback's reader went away: stop the run. */
void host_run_output_gone(void);

#endif
