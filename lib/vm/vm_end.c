/* How a run ended: the names of the ends, and what QEMU's exit says
 * when the guest did not report one itself. */
#include "vm_run.h"
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

const char *vm_end_name(enum vm_end e)
{
	static const char *const names[] = {
		[VM_END_EXITED] = "exited",
		[VM_END_TIMEOUT] = "timeout",
		[VM_END_PANIC] = "panic",
		[VM_END_AGENT_ERROR] = "agent_error",
		[VM_END_NO_AGENT] = "no_agent",
		[VM_END_QEMU_ERROR] = "qemu_error",
		[VM_END_INTERRUPTED] = "interrupted",
		[VM_END_BOOT_TIMEOUT] = "boot_timeout",
	};
	return e < ARRAY_SIZE(names) ? names[e] : "unknown";
}

void vm_set_message(struct vm_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* First meaningful line of QEMU's stderr, without its "qemu-system-x86_64: " prefix. */
static const char *qemu_error_line(struct vm_run *v)
{
	char *s = v->qemu_stderr.buf, *nl, *colon;

	strbuf_trim(&v->qemu_stderr);
	if (!*s)
		return "QEMU exited without a message";
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	colon = strstr(s, ": ");
	if (colon && !strncmp(s, "qemu-system", 11))
		return colon + 2;
	return s;
}

void vm_classify_exit(struct vm_run *v)
{
	struct vm_result *r = v->r;
	const struct ktstr_topo *t = &v->c->topo;

	/* A request that could not be sent because QEMU crashed under it is
	 * QEMU's failure: a status with a signal comes from QEMU's own death,
	 * as our kill (vm.c's kill_qemu) reaps without keeping the status. */
	if (v->exit_seen && !(v->request_failed && v->qemu_gone && WIFSIGNALED(v->qemu_status)))
		return;
	if (v->panic_line[0]) {
		r->end = VM_END_PANIC;
		vm_set_message(r, "guest kernel panic: %s", v->panic_line);
	} else if (WIFSIGNALED(v->qemu_status)) {
		/* Not our kill (that sets exit_seen): QEMU crashed, which
		 * says nothing about the guest or its scheduler. */
		r->end = VM_END_QEMU_ERROR;
		vm_set_message(r, "QEMU died of %s%s%s", strsignal(WTERMSIG(v->qemu_status)),
			       v->qemu_stderr.len ? ": " : "",
			       v->qemu_stderr.len ? qemu_error_line(v) : "");
	} else if (v->ready && WIFEXITED(v->qemu_status) && WEXITSTATUS(v->qemu_status) &&
		   v->qemu_stderr.len) {
		r->end = VM_END_QEMU_ERROR;
		vm_set_message(r, "QEMU failed after boot (exit %d): %s",
			       WEXITSTATUS(v->qemu_status), qemu_error_line(v));
	} else if (!v->ready && v->qemu_stderr.len) {
		const char *line = qemu_error_line(v);

		r->end = VM_END_QEMU_ERROR;
		if (strstr(line, "max CPUs") || strstr(line, "SMP CPUs"))
			vm_set_message(r, "--topo %u,%u,%u,%u: %s; ask for fewer CPUs",
				       t->nodes, t->llcs, t->cores, t->threads, line);
		else
			vm_set_message(r, "QEMU failed: %s", line);
	} else if (!v->ready) {
		r->end = VM_END_NO_AGENT;
		/* A log about to be removed as empty is nothing to point at. */
		if (v->log_kept)
			vm_set_message(r, "the VM stopped before the guest agent started "
				       "(is the kernel bootable with virtio-serial? see %s)",
				       v->c->console_log);
		else
			vm_set_message(r, "the VM stopped before the guest agent started, and the "
				       "kernel printed nothing on the console (is it a bootable "
				       "x86_64 kernel with virtio-serial? --dmesg shows its boot "
				       "messages)");
	} else {
		r->end = VM_END_NO_AGENT;
		vm_set_message(r, "the VM stopped before the guest command finished "
			       "(see %s)", v->c->console_log);
	}
}


/* QEMU said on stderr that it halted the guest for good without exiting:
 * KVM could not run it ("KVM internal error", say an emulation failure
 * on a host without vmx/svm, or "KVM: entry failed").  QEMU then pauses
 * the VM and waits; rather than wait out the boot deadline, the run ends
 * here as qemu_error, which under --accel auto is retried under TCG.
 * Sets the message when so. */
bool vm_qemu_halted(struct vm_run *v)
{
	static const char *const fatal[] = { "KVM internal error", "KVM: entry failed" };
	const char *err = v->qemu_stderr.buf;

	for (size_t i = 0; err && i < ARRAY_SIZE(fatal); i++) {
		const char *at = strstr(err, fatal[i]);
		const char *nl;

		if (!at)
			continue;
		nl = strchr(at, '\n');
		vm_set_message(v->r, "QEMU halted the guest: %.*s", nl ? (int)(nl - at) : (int)strlen(at), at);
		return true;
	}
	return false;
}
