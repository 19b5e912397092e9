/* Host mode's cgroups (issue 15): where a run lives on a real machine and
 * how it is undone.
 *
 * A run gets one directory, PARENT/ktstr-host-PID, under
 * KTSTR_HOST_CGROUP_PARENT (default /sys/fs/cgroup/ktstr).  Inside it the
 * engine (with the scheduler and payloads it starts) sits in "agent" and
 * the scenario's cgroups under "ktstr" (cgfs_root), so one cgroup.kill of
 * the run directory stops everything the run started.  The directory
 * carries the xattr user.ktstr.owner = "PID STARTTIME BOOT_ID"; a later
 * run removes a ktstr-host-* directory only when that marker names a
 * process that is gone, and never a directory without it. */
#ifndef KTSTR_GUEST_HOSTCG_H
#define KTSTR_GUEST_HOSTCG_H

#include <stdbool.h>
#include <sys/types.h>
#include "strbuf.h"

#define HOSTCG_MOUNT "/sys/fs/cgroup"
#define HOSTCG_DEFAULT_PARENT HOSTCG_MOUNT "/ktstr"
#define HOSTCG_PREFIX "ktstr-host-"
#define HOSTCG_XATTR "user.ktstr.owner"

struct hostcg {
	char *parent;		/* KTSTR_HOST_CGROUP_PARENT, checked */
	char *walk_root;	/* KTSTR_CGROUP_WALK_ROOT, checked */
	char *run;		/* parent/ktstr-host-PID, once made */
	char *agent;		/* run/agent */
	bool cpuset;		/* cpuset reaches the run directory */
};

/* Read and check the two variables (empty means unset): the parent must
 * be an absolute path strictly below /sys/fs/cgroup with no ".."
 * component, the walk root /sys/fs/cgroup itself or a directory the
 * parent is under.  -1 with err naming the variable and the fix;
 * *which gets "cgroup_parent" or "walk_root". */
int hostcg_config(struct hostcg *h, const char **which, struct strbuf *err);
/* 0 when dir is on a cgroup2 filesystem, -1 with err otherwise. */
int hostcg_check_v2(const char *dir, struct strbuf *err);
/* Remove the ktstr-host-* directories under the parent whose owner is
 * gone (by marker); returns how many. */
unsigned hostcg_clean_stale(const struct hostcg *h);
/* Make the parent (if missing), enable cpuset and cpu from the walk root
 * down to it where they are offered, make the run directory with its
 * marker and the agent leaf.  -1 with err. */
int hostcg_create(struct hostcg *h, struct strbuf *err);
/* Kill every process in the run directory and remove it. */
void hostcg_destroy(struct hostcg *h);
void hostcg_release(struct hostcg *h);

/* Owner checks, exposed for the unit tests: the marker for pid, and
 * whether a marker names a live process. */
char *hostcg_marker(pid_t pid);
bool hostcg_marker_alive(const char *marker);

#endif
