/* Where the host-side monitor finds what it reads in the guest kernel's
 * structs: member offsets and sizes, sched_ext's event counters and
 * enable states, all from the kernel's BTF by name.
 *
 * Parsing a distro vmlinux's BTF (6 MB of it) costs ktstr-vm ~25 ms of
 * host CPU every run, for a few hundred bytes of result that only change
 * with the vmlinux.  So the layout also has a JSON form that vm_monitor.c
 * caches per vmlinux; a cached layout is untrusted input like any other
 * (monitor_layout_parse checks every figure). */
#ifndef KTSTR_MONITOR_LAYOUT_H
#define KTSTR_MONITOR_LAYOUT_H

#include <jansson.h>
#include <stdbool.h>
#include "kbtf.h"
#include "strbuf.h"

/* Bumped whenever what the layout holds changes: an older cache entry is
 * then read from BTF again. */
#define MONITOR_LAYOUT_VERSION 1

/* A member: offset and size in bytes, or off -1 if the kernel lacks it. */
struct fld {
	long off, size;
};

struct mon_event {
	char *name;	/* lowercased, without SCX_EV_ */
	long off, size;
};

struct mon_state {
	long long value;
	char name[32];	/* "enabled" for SCX_ENABLED */
};

struct monitor_layout {
	struct fld rq_nr_running, rq_curr, rq_idle, rq_clock, rq_scx_nr_running,
		rq_local_dsq, rq_runnable_list, rq_cpu;
	struct fld task_runnable_node, task_runnable_at;
	struct fld sched_name, sched_exit_kind, sched_pcpu, sched_event_stats_cpu;
	long pcpu_event_stats;		/* offset of event_stats in scx_sched_pcpu */
	long ev_size;			/* sizeof(struct scx_event_stats), or <= 0 */
	struct mon_event *ev;
	int n_ev;
	long long scx_enabled_value;	/* SCX_ENABLED, or -1 */
	struct mon_state states[16];
	int n_states;
};

static inline bool fld_has(const struct fld *f)
{
	return f->off >= 0;
}

/* From the kernel's BTF.  0, or -1 with err when it has no struct rq with
 * an integer nr_running (the one member the monitor cannot do without). */
int monitor_layout_read(struct monitor_layout *l, const struct kbtf *btf, struct strbuf *err);
/* The JSON form (new reference), with MONITOR_LAYOUT_VERSION. */
json_t *monitor_layout_json(const struct monitor_layout *l);
/* Back from JSON: 0, or -1 with err naming what is wrong (another version,
 * a member out of range, no rq.nr_running); l is then empty. */
int monitor_layout_parse(struct monitor_layout *l, const json_t *j, struct strbuf *err);
void monitor_layout_release(struct monitor_layout *l);

#endif
