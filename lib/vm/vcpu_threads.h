/* How much host CPU time each guest vCPU got: QEMU's vCPU threads.
 *
 * The host-side monitor must not blame a scheduler for time the host did
 * not run the vCPU at all (a paused VM, an overloaded host).  QEMU names
 * its vCPU threads "CPU N/KVM" (KVM), "CPU N/TCG" (multi-threaded TCG) or
 * "ALL CPUs/TCG" (single-threaded TCG: one thread runs every vCPU in
 * turn), and /proc/PID/task/TID/schedstat's first two fields are the
 * time a thread has spent on a host CPU and waiting for one, in ns. */
#ifndef KTSTR_VCPU_THREADS_H
#define KTSTR_VCPU_THREADS_H

#include <stdbool.h>
#include <sys/types.h>

enum vcpu_threads_kind {
	VCPU_THREADS_NONE,	/* not found: no per-vCPU times */
	VCPU_THREADS_PER_CPU,	/* one thread per vCPU */
	VCPU_THREADS_SINGLE,	/* one thread for all vCPUs */
};

struct vcpu_threads {
	enum vcpu_threads_kind kind;
	pid_t pid;
	unsigned ncpus;
	pid_t *tids;		/* ncpus entries (PER_CPU), 1 (SINGLE) */
};

/* Find the vCPU threads of QEMU process pid for a guest of ncpus vCPUs,
 * under proc_root ("/proc", or a fake tree in tests).  Never fails:
 * kind NONE when they are not (yet) there. */
void vcpu_threads_find(struct vcpu_threads *vt, const char *proc_root, pid_t pid,
		       unsigned ncpus);
/* Cumulative host run time of each vCPU, in ns, into ns[ncpus], and the
 * time each waited on a host runqueue, ready to run but not given a CPU,
 * into wait_ns[ncpus] (under SINGLE every vCPU gets the one thread's).
 * A halted vCPU's thread sleeps: it neither runs nor waits.  false when
 * kind is NONE or a thread has gone. */
bool vcpu_threads_read(const struct vcpu_threads *vt, const char *proc_root,
		       unsigned long long *ns, unsigned long long *wait_ns);
const char *vcpu_threads_kind_name(enum vcpu_threads_kind k);
void vcpu_threads_release(struct vcpu_threads *vt);

#endif
