/* Booting a ktstr VM and talking to its agent.
 *
 * vm_run() owns the QEMU process from spawn to reap: it wires the serial
 * console to a log file, exchanges JSON lines with the guest agent, enforces
 * the watchdog, spots kernel panics, and guarantees that no QEMU process
 * outlives it (signals, errors and crashes included). */
#ifndef KTSTR_VM_H
#define KTSTR_VM_H

#include <jansson.h>
#include <stdbool.h>
#include "qemu.h"
#include "topo.h"

enum vm_mode { VM_MODE_EXEC, VM_MODE_SHELL };

struct vm_config {
	const char *qemu;		/* binary name or path */
	const char *kernel;
	const char *kernel_source;	/* discovery step, for the vm_start record */
	const char *initrd;
	struct ktstr_topo topo;
	unsigned memory_mib;		/* 0: qemu_default_memory_mib() */
	enum vm_accel accel;		/* AUTO: detect */
	const char *accel_reason;	/* NULL, or why in the resolved
					 * accelerator's place (the TCG retry) */
	const char *append;		/* extra kernel command line */
	bool verbose;			/* loud console, echoed to stderr */
	enum vm_mode mode;		/* SHELL wires the terminal to the guest */
	json_t *request;		/* sent to the agent once it is ready
					 * (exec, shell or scenario; see
					 * agent_proto.h) */
	unsigned long long timeout_ms;	/* whole-VM watchdog, 0 = none */
	long long boot_timeout_ms;	/* QEMU start to agent_ready: < 0 the
					 * default for the accelerator and vCPU
					 * count (vm_boot_timeout_ms), 0 none */
	const char *console_log;	/* kernel console is written here */
	bool console_log_given;		/* the user named it: kept even empty */
	unsigned monitor_interval_ms;	/* host-side monitor (lib/vm/vm_monitor.h)
					 * sample interval; 0: off */
	const char *sched_output_log;	/* the scheduler's output goes here
					 * (lib/vm/vm_schedlog.h); NULL: not kept */
	bool sched_output_echo;		/* and live to stderr */
	/* Called from the event loop at least once a second with the host
	 * ms since QEMU started (progress lines); may be NULL. */
	void (*tick)(void *ctx, long long t_ms);
};

/* The default boot deadline: TCG 30 s + 3 s per vCPU (one host thread
 * boots every vCPU in turn), KVM 15 s + 0.5 s per vCPU. */
#define VM_BOOT_TCG_BASE_MS 30000ll
#define VM_BOOT_TCG_PER_VCPU_MS 3000ll
#define VM_BOOT_KVM_BASE_MS 15000ll
#define VM_BOOT_KVM_PER_VCPU_MS 500ll
long long vm_boot_timeout_ms(enum vm_accel a, unsigned vcpus);

/* Why the VM ended. */
enum vm_end {
	VM_END_EXITED,		/* the guest command finished */
	VM_END_TIMEOUT,		/* watchdog fired */
	VM_END_PANIC,		/* guest kernel panicked */
	VM_END_AGENT_ERROR,	/* agent reported it could not run the request */
	VM_END_NO_AGENT,	/* QEMU stopped before the agent reported */
	VM_END_QEMU_ERROR,	/* QEMU refused to start or died */
	VM_END_INTERRUPTED,	/* SIGINT/SIGTERM/SIGHUP, or stdout closed */
	VM_END_BOOT_TIMEOUT,	/* no agent_ready by the boot deadline */
};
const char *vm_end_name(enum vm_end e);

struct vm_result {
	enum vm_end end;
	int exit_code;			/* guest command's code when EXITED */
	long long boot_ms;		/* QEMU start to agent_ready, -1 if never */
	long long wall_ms;
	int signal;			/* signal that interrupted us (SIGPIPE:
					 * vm_output_gone(EPIPE)) */
	char message[512];		/* one-line explanation when not EXITED */
};

/* The QEMU description vm_run() boots from c: accelerator resolved,
 * memory rounded, kernel command line built into cmdline (which s then
 * points into).  The fds are the host ends QEMU inherits. */
void vm_qemu_spec(const struct vm_config *c, const char *qemu_path, int console_fd,
		  int agent_fd, struct qemu_spec *s, struct strbuf *cmdline);

/* Block SIGINT, SIGTERM and SIGHUP ahead of vm_run, for work before it
 * that must not be cut short (a cache file being written): vm_run's
 * signalfd then takes a pending one and stops the run as for any
 * interrupt. */
void vm_hold_stop_signals(void);

/* Each record (host-made or from the guest) is handed to emit, which takes
 * the reference.  Returns 0 when the VM ran (see r->end), -1 on a setup
 * failure before QEMU started (message in r->message).
 *
 * Under VM_ACCEL_AUTO, when KVM was chosen and the run ends before the
 * agent started with a boot timeout or a QEMU failure, it is retried once
 * under TCG: an accel_retry record and a line on stderr say so, and a
 * second vm_start follows. */
int vm_run(const struct vm_config *c, void (*emit)(json_t *rec, void *ctx), void *ctx,
	   struct vm_result *r);

/* The records cannot be written any more, for errno err: the running
 * vm_run() stops the VM at once (and does not retry it under TCG).  For
 * EPIPE (the reader went away) as if interrupted by SIGPIPE, unless a
 * real signal that arrived with it (a ^C reaching the whole pipeline)
 * says otherwise; for another error (a full disk) with a message saying
 * so.  Safe to call from emit, also before the loop runs. */
void vm_output_gone(int err);

/* Why QEMU (--qemu, KTSTR_QEMU or the default name) cannot be run: a
 * name not found in PATH, or a path that is no executable file.  A
 * static buffer. */
const char *vm_qemu_missing(const char *qemu);

#endif
