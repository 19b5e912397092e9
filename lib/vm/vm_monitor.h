/* The host-side monitor's life inside one VM run (lib/vm/vm.c).
 *
 * Before boot: find the kernel's BTF, give QEMU a QMP channel, and decide
 * whether the agent must send kernel_symbols (it need not when this kernel
 * image's symbols are cached: reading /proc/kallsyms costs the guest about
 * a second under TCG).  At agent_ready or kernel_symbols: ask QEMU over
 * QMP where it keeps the guest's RAM, open it for reading (guestmem.h),
 * and start sampling every interval.  At the end: a monitor_end record.
 *
 * Anything that keeps the monitor from working ends in one
 * monitor_unavailable record with the reason; the run itself goes on. */
#ifndef KTSTR_VM_MONITOR_H
#define KTSTR_VM_MONITOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "guestmem.h"
#include "qemu.h"
#include "vcpu_threads.h"

#define VM_MONITOR_DEFAULT_INTERVAL_MS 100

struct monitor;

struct vm_monitor {
	unsigned interval_ms;		/* 0: off */
	void (*emit)(json_t *rec, void *ctx);
	void *ctx;

	int qmp_fd;			/* our end of QEMU's QMP channel; -1: none */
	unsigned nodes;
	uint64_t node_bytes;		/* RAM per node */
	unsigned ncpus;
	int hz;				/* CONFIG_HZ when known, else 0 */
	char *btf_path;
	json_t *layout;			/* what the monitor reads where, from
					 * the cache or the BTF (monitor_layout.h) */
	char *layout_cache;		/* where this vmlinux's layout is cached */
	char *syms_cache;		/* where this image's symbols are cached */
	json_t *syms;			/* cached kernel_symbols record */

	bool running;			/* sampling */
	struct guestmem gm;
	struct monitor *mon;
	struct vcpu_threads vt;
	unsigned long long *vcpu_ns;
	unsigned long long *wait_ns;	/* host runqueue waits, as vcpu_ns */
	/* QEMU stopped (SIGSTOP) since stop_since_ms (-1: running), and the
	 * stopped time not yet reported in a sample. */
	long long stop_since_ms, stopped_ms;
	long long next_ms;
	unsigned samples;
	json_t *last;			/* the last sample, for vm_exit */
	/* The newest sample in which a runqueue clock advanced, and how
	 * many did: an idle guest can go a sample or two without a tick. */
	long long moving_ms;		/* its t_ms (moving 0: none yet) */
	int moving, moving_of;
};

/* Set up for a run of kernel (image path) with spec s; on success
 * s->qmp_fd is qmp[1] (QEMU's end of a socket pair whose other end, qmp[0],
 * the monitor reads; both stay the caller's to close) and request (the
 * agent's, may be NULL) gets
 * "kernel_symbols":true when the symbols must come from the guest.  The
 * monitor is off with interval_ms 0 (--no-monitor), without BTF and the
 * like, each time after a monitor_unavailable record saying why; and for
 * a shell, silently. */
void vm_monitor_prepare(struct vm_monitor *m, unsigned interval_ms, const char *kernel,
			struct qemu_spec *s, const int qmp[2], json_t *request,
			void (*emit)(json_t *, void *), void *ctx);
/* QEMU has started: unless the vmlinux's layout is cached, parse its BTF
 * now (~25 ms of CPU for a distro vmlinux), while the guest boots, so the
 * agent is not kept waiting for it at agent_ready, and cache the result. */
void vm_monitor_preload(struct vm_monitor *m);
/* The agent is ready: start when the symbols
 * are cached.  t_ms: ms since QEMU started. */
void vm_monitor_agent_ready(struct vm_monitor *m, pid_t qemu_pid, long long t_ms);
/* The guest's kernel_symbols record (not consumed): cache it and start. */
void vm_monitor_symbols(struct vm_monitor *m, const json_t *rec, pid_t qemu_pid,
			long long t_ms);
/* ms until the next sample is due (-1: none); take it when <= 0. */
long long vm_monitor_wait_ms(const struct vm_monitor *m, long long t_ms);
void vm_monitor_sample(struct vm_monitor *m, long long t_ms);
/* QEMU was stopped (SIGSTOP: stopped true) or continued at t_ms, as
 * waitpid told: the samples report the stopped time (qemu_stopped_us). */
void vm_monitor_qemu_stopped(struct vm_monitor *m, bool stopped, long long t_ms);
/* One line on what the last samples saw, for a VM that stopped answering
 * (empty when the monitor never sampled). */
void vm_monitor_describe(const struct vm_monitor *m, long long t_ms, struct strbuf *out);
/* monitor_end (when it ran), and let go of the guest's RAM. */
void vm_monitor_finish(struct vm_monitor *m, long long t_ms);

#endif
