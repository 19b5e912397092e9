/* ctprof: per-thread scheduling profiles of a whole machine.
 *
 * A capture is one JSON document:
 *
 *   {"format": "ktstr-ctprof", "version": 1,
 *    "capture": {when, how long, how many threads, taskstats or not},
 *    "host": {kernel, CPUs, memory, sched tunables, PSI, ...},
 *    "sched_ext": {state, root_ops, ...},
 *    "cgroups": {"/path": {cpu.stat and PSI fields}, ...},
 *    "threads": [{"pid", "tid", "comm", "pcomm", "cgroup", metrics...}, ...]}
 *
 * Metric fields are named as in ctprof_metrics.h.  A field the kernel does
 * not provide is absent, never zero.
 *
 * Capturing needs only libc and jansson so the static guest agent can link
 * it; compression lives in the file functions (ctprof_save/ctprof_load,
 * lib/ctprof/ctprof_io.c), which also need libzstd. */
#ifndef KTSTR_CTPROF_H
#define KTSTR_CTPROF_H

#include <jansson.h>
#include <stdbool.h>
#include "strbuf.h"

#define CTPROF_FORMAT "ktstr-ctprof"
#define CTPROF_VERSION 1

struct ctprof_capture_opts {
	const char *proc;	/* procfs root; NULL: /proc */
	const char *sys;	/* sysfs root; NULL: /sys */
	bool no_taskstats;	/* skip the netlink delay-accounting queries */
};

/* Capture every thread of every process.  Threads that exit during the
 * walk are left out.  0 with *out set (caller decrefs), or -1 with a
 * message in err (only when procfs itself cannot be read). */
int ctprof_capture(json_t **out, struct strbuf *err);
int ctprof_capture_with(const struct ctprof_capture_opts *o, json_t **out,
			struct strbuf *err);

/* Host-wide blocks of a capture (lib/core/ctprof_host.c). */
json_t *ctprof_host_info(const char *proc, const char *sys);
json_t *ctprof_sched_ext_info(const char *sys);
/* Fill every entry of cgroups ({"/path": {}}) from the cgroup v2 tree. */
void ctprof_cgroups_fill(json_t *cgroups, const char *proc);
/* Mount point of the cgroup v2 hierarchy from PROC/self/mountinfo, or NULL.
 * Caller frees. */
char *ctprof_cgroup2_mount(const char *proc);

/* The document as compact JSON plus a newline (what a plain file holds). */
void ctprof_encode(const json_t *snap, struct strbuf *out);
/* Check format, version and shape.  0, or -1 with the problem in err. */
int ctprof_validate(const json_t *doc, struct strbuf *err);

/* Write snap to path atomically (zstd-compressed when path ends in .zst);
 * "-" is stdout, uncompressed.  0, or -1 with "PATH: problem" in err and
 * nothing left at path. */
int ctprof_save(const json_t *snap, const char *path, struct strbuf *err);
/* Read a capture, plain or zstd (recognised by its magic number, whatever
 * the name); "-" is stdin.  NULL with "PATH: problem" in err on a missing
 * or unreadable file, corrupt or truncated zstd or JSON, or a document
 * that is not a ktstr-ctprof capture of a version we read. */
json_t *ctprof_load(const char *path, struct strbuf *err);
/* Same, from memory; name is used in messages. */
json_t *ctprof_load_buf(const void *buf, size_t len, const char *name, struct strbuf *err);

#endif
