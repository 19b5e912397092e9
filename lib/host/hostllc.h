/* The host's last-level caches, read from sysfs: which CPUs share one.
 * The one reader of the host's cache layout (hostlock.c reserves CPUs by
 * it); the guest agent reads its own VM's layout in guest/sysinfo.c. */
#ifndef KTSTR_HOSTLLC_H
#define KTSTR_HOSTLLC_H

#include <sched.h>

#define HOSTLLC_SYSFS "/sys/devices/system/cpu"

/* The LLC of each CPU in usable, read under sysfs_cpu_dir (HOSTLLC_SYSFS
 * but for tests): llc_of[cpu] = the first CPU in the shared_cpu_list of
 * cpu's highest-level cache (the largest level among cache/index*).  When
 * a usable CPU has no readable cache information, the information is
 * partial, and partial information is none: every usable CPU is then in
 * one LLC (llc_of = the first usable CPU).  CPUs not in usable get -1. */
void hostllc_map(const char *sysfs_cpu_dir, const cpu_set_t *usable,
		 int llc_of[CPU_SETSIZE]);

#endif
