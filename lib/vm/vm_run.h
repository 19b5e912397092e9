/* Private to lib/vm/vm*.c: one boot's state, shared by the run and event
 * loop (vm.c) and the console's handling (vm_console.c). */
#ifndef KTSTR_VM_RUN_H
#define KTSTR_VM_RUN_H

#include "vm.h"
#include "jsonl.h"
#include "vm_monitor.h"
#include "vm_schedlog.h"

/* Console lines kept for the failure tail (stderr and vm_exit's
 * console_tail). */
#define CONSOLE_TAIL 20

struct vm_run {
	const struct vm_config *c;
	void (*emit)(json_t *, void *);
	void *ctx;
	struct vm_result *r;

	int con_fd, agent_fd, qerr_fd, sig_fd, log_fd;
	struct line_reader con_lr, agent_lr;
	/* Bytes for the agent its socket has not taken yet.  The request is
	 * queued as QEMU starts, before the guest has opened its port (QEMU
	 * reads the socket only once it has), and may not fit the socket's
	 * buffer; the rest goes out as the event loop sees POLLOUT. */
	struct strbuf to_agent;
	size_t to_agent_off;
	struct strbuf qemu_stderr;
	char *tail[CONSOLE_TAIL];
	unsigned tail_pos;
	char panic_line[256];
	struct vm_monitor mon;
	struct vm_schedlog sched;
	enum vm_accel accel;	/* resolved for this attempt */
	long long boot_deadline_ms;	/* after start_ms; 0: none */
	long long start_ms, exit_seen_ms, last_tick_ms;
	/* Time spent stopped by job control (Ctrl-Z): not counted against
	 * --timeout or the boot deadline. */
	long long job_stopped_ms;
	bool may_retry;		/* KVM chosen by auto: a failed boot retries on TCG */
	bool ready, exit_seen, qemu_gone;
	/* The request could not be written: the agent's end went away,
	 * often because QEMU itself is dying (classify_qemu_exit). */
	bool request_failed;
	bool log_written;	/* the console said anything at all */
	bool log_kept;		/* the log is there to name in vm_exit */
	int qemu_status;
};

/* Write what of v->to_agent the agent's socket takes now: 0 (the rest
 * waits for POLLOUT), -1 with errno when the agent's end is gone. */
int vm_agent_flush(struct vm_run *v);
/* Queue rec (its reference is taken) and flush. */
int vm_agent_send(struct vm_run *v, json_t *rec);

/* Console output from QEMU: into the log, echoed under --verbose, its last
 * lines and any panic line remembered. */
void vm_console_feed(struct vm_run *v, const char *buf, size_t n);
/* The remembered lines: on stderr, and as a vm_exit's console_tail. */
void vm_console_tail_show(const struct vm_run *v);
json_t *vm_console_tail_json(const struct vm_run *v);

/* vm_end.c */
void vm_set_message(struct vm_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* After QEMU is gone: the run's end and message from QEMU's exit, the
 * console's panic line and its stderr, unless the guest already said. */
void vm_classify_exit(struct vm_run *v);
/* QEMU's stderr says it halted the guest without exiting (a KVM error);
 * sets the run's message. */
bool vm_qemu_halted(struct vm_run *v);

#endif
