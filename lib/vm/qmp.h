/* A small synchronous QMP client, for the few questions ktstr-vm asks the
 * QEMU it started (where guest RAM sits in QEMU's address space).
 *
 * QEMU gets one end of a socketpair as a control-mode monitor chardev
 * (qemu_spec.qmp_fd); the other end is ours.  QMP speaks one JSON object
 * per line: a greeting, then one reply per command, with asynchronous
 * events ({"event": ...}) interleaved, which we skip. */
#ifndef KTSTR_QMP_H
#define KTSTR_QMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "jsonl.h"
#include "strbuf.h"

struct qmp {
	int fd;
	struct line_reader lr;
	int timeout_ms;		/* per reply */
};

/* Take fd (the caller keeps ownership), read the greeting and leave the
 * negotiation mode (qmp_capabilities).  0, or -1 with err set and q
 * released.  qmp_release may be called again either way. */
int qmp_open(struct qmp *q, int fd, int timeout_ms, struct strbuf *err);
void qmp_release(struct qmp *q);
/* Run command with args (may be NULL; not consumed).  Returns the reply's
 * "return" value (a new reference), or NULL with err set: QEMU's error,
 * a timeout, or a closed or garbled channel. */
json_t *qmp_execute(struct qmp *q, const char *command, const json_t *args,
		    struct strbuf *err);
/* An HMP command through human-monitor-command: its text output into out. */
int qmp_hmp(struct qmp *q, const char *command_line, struct strbuf *out,
	    struct strbuf *err);

/* One row of HMP's "info ramblock". */
struct qmp_ramblock {
	uint64_t offset;	/* in QEMU's RAM-offset space */
	uint64_t used;		/* bytes */
	uint64_t hva;		/* where QEMU has it mapped */
};

/* Find the block named name in the text of "info ramblock" (a header line
 * naming the columns Block Name, PSize, Offset, Used, Total and HVA, then
 * one row per block).  0, or -1 with err set when the block or the HVA
 * column is missing (older QEMU printed no HVA column). */
int qmp_ramblock_find(const char *text, const char *name, struct qmp_ramblock *out,
		      struct strbuf *err);

#endif
