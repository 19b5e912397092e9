/* The host-side monitor's life inside one VM run (lib/vm/vm.c).
 *
 * Before boot: find the kernel's BTF, make a private directory (on tmpfs)
 * for the guest RAM files QEMU maps shared, and decide whether the agent
 * must send kernel_symbols (it need not when this kernel image's symbols
 * are cached: reading /proc/kallsyms costs the guest about a second under
 * TCG).  At agent_ready or kernel_symbols: map the RAM files, unlink them
 * and the directory at once (QEMU keeps its mappings; a crash of ours can
 * no longer leave them behind), and start sampling every interval.  At
 * the end: a monitor_end record.
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

	char *mem_dir;			/* until the files are mapped */
	unsigned nodes;
	uint64_t node_bytes;		/* RAM per node */
	unsigned ncpus;
	int hz;				/* CONFIG_HZ when known, else 0 */
	char *btf_path;
	char *syms_cache;		/* where this image's symbols are cached */
	json_t *syms;			/* cached kernel_symbols record */

	bool running;			/* sampling */
	struct guestmem gm;
	struct monitor *mon;
	struct vcpu_threads vt;
	unsigned long long *vcpu_ns;
	long long next_ms;
	unsigned samples;
	json_t *last;			/* the last sample, for vm_exit */
};

/* Set up for a run of kernel (image path) with spec s; on success s->mem_dir
 * points into m and request (the agent's, may be NULL) gets
 * "kernel_symbols":true when the symbols must come from the guest.  The
 * monitor is off with interval_ms 0 (--no-monitor), without BTF and the
 * like, each time after a monitor_unavailable record saying why; and for
 * a shell, silently. */
void vm_monitor_prepare(struct vm_monitor *m, unsigned interval_ms, const char *kernel,
			struct qemu_spec *s, json_t *request,
			void (*emit)(json_t *, void *), void *ctx);
/* The agent is ready (QEMU has mapped the RAM): start when the symbols
 * are cached.  t_ms: ms since QEMU started. */
void vm_monitor_agent_ready(struct vm_monitor *m, pid_t qemu_pid, long long t_ms);
/* The guest's kernel_symbols record (not consumed): cache it and start. */
void vm_monitor_symbols(struct vm_monitor *m, const json_t *rec, pid_t qemu_pid,
			long long t_ms);
/* ms until the next sample is due (-1: none); take it when <= 0. */
long long vm_monitor_wait_ms(const struct vm_monitor *m, long long t_ms);
void vm_monitor_sample(struct vm_monitor *m, long long t_ms);
/* One line on what the last samples saw, for a VM that stopped answering
 * (empty when the monitor never sampled). */
void vm_monitor_describe(const struct vm_monitor *m, long long t_ms, struct strbuf *out);
/* monitor_end (when it ran), unmap, remove what is left on disk. */
void vm_monitor_finish(struct vm_monitor *m, long long t_ms);

#endif
