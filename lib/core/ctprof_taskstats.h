/* Per-task delay accounting through the kernel's taskstats generic-netlink
 * family (TASKSTATS_CMD_GET by pid), with raw netlink sockets: libc only, so
 * the static guest agent can use it too.
 *
 * Taskstats is optional.  When the family is missing, the socket cannot be
 * opened, or we lack CAP_NET_ADMIN, opening fails with a reason and the
 * capture simply has no taskstats fields. */
#ifndef KTSTR_CTPROF_TASKSTATS_H
#define KTSTR_CTPROF_TASKSTATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "strbuf.h"

struct ctprof_taskstats {
	int fd;
	uint16_t family;
	uint32_t seq;
	/* Only the CPU delay is kept when delay accounting is off
	 * (kernel.task_delayacct=0): the other totals are then never
	 * updated, and a zero the kernel did not measure is not data. */
	bool delayacct;
};

/* 0, or -1 with the reason in why. */
int ctprof_taskstats_open(struct ctprof_taskstats *ts, bool delayacct, struct strbuf *why);
void ctprof_taskstats_close(struct ctprof_taskstats *ts);

/* Add tid's delay fields to thread.  0 on success; -1 when the kernel had
 * nothing for it (the thread exited) or the socket failed (then
 * ts->fd is closed and later calls fail at once). */
int ctprof_taskstats_query(struct ctprof_taskstats *ts, pid_t tid, json_t *thread);

/* Decode one TASKSTATS_CMD_NEW reply (a whole netlink message) for tid.
 * Exposed for tests.  0, or -1 if it is not a stats reply for tid. */
int ctprof_taskstats_parse(const void *msg, size_t len, pid_t tid, bool delayacct,
			   json_t *thread);

#endif
