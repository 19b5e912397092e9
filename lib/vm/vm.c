#include "vm_run.h"
#include "clock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "jsonl.h"
#include "progress.h"
#include "pvh.h"
#include "run.h"
#include "strvec.h"
#include "agent_proto.h"
#include "vm_monitor.h"
#include "vm_schedlog.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* After the guest reports "exit" it powers off; give it this long. */
#define POWEROFF_GRACE_MS 15000

long long vm_boot_timeout_ms(enum vm_accel a, unsigned vcpus)
{
	if (a == VM_ACCEL_KVM)
		return VM_BOOT_KVM_BASE_MS + VM_BOOT_KVM_PER_VCPU_MS * vcpus;
	return VM_BOOT_TCG_BASE_MS + VM_BOOT_TCG_PER_VCPU_MS * vcpus;
}

/* Set by vm_output_gone(), consumed by the event loop; output_broken
 * stays set, so that no retry boots a VM whose records go nowhere. */
static volatile int output_gone;
static bool output_broken;

const char *vm_qemu_missing(const char *qemu)
{
	static char msg[PATH_MAX + 160];

	if (strchr(qemu, '/'))
		snprintf(msg, sizeof(msg), "QEMU %s is not an executable file; give --qemu "
			 "(or KTSTR_QEMU) the path of qemu-system-x86_64", qemu);
	else
		snprintf(msg, sizeof(msg), "%s not found in PATH; install QEMU "
			 "(contrib/install-deps) or set KTSTR_QEMU to its path", qemu);
	return msg;
}

void vm_output_gone(int err)
{
	output_gone = err ? err : EIO;
	output_broken = true;
}

/* The one QEMU we own, for the atexit safety net. */
static pid_t qemu_pid = -1;

static void kill_qemu(void)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		waitpid(qemu_pid, NULL, 0);
		qemu_pid = -1;
	}
}

/* The request could not be delivered.  Before agent_ready that means QEMU
 * is gone or going, and its exit says why (vm_classify_exit); after it,
 * the run ends here as an agent error. */
static void request_lost(struct vm_run *v, int err)
{
	strbuf_reset(&v->to_agent);
	v->to_agent_off = 0;
	if (!v->ready || v->exit_seen)
		return;
	vm_set_message(v->r, "cannot send the request to the guest agent: %s", strerror(err));
	v->r->end = VM_END_AGENT_ERROR;
	v->request_failed = true;
	v->exit_seen = true;
	v->exit_seen_ms = monotonic_ms();
}

/* Queued as soon as QEMU runs: the agent finds it waiting when it has
 * announced itself, instead of waiting a round trip for it. */
static void send_request(struct vm_run *v)
{
	if (vm_agent_send(v, json_incref(v->c->request)) < 0)
		request_lost(v, errno);
}

/* The agent powers off only after we acknowledge its final record: until
 * then QEMU may still hold records we have not read. */
static void ack_final(struct vm_run *v)
{
	if (vm_agent_send(v, jsonl_record("ack")) < 0)
		diag("cannot acknowledge the guest's final record: %s", strerror(errno));
}

/* A scheduler lifecycle record: the output file starts with the
 * scheduler, its path goes into every such record, and a failure shows
 * the head and tail of what the scheduler printed. */
static void scheduler_record(struct vm_run *v, json_t *rec)
{
	const char *event = json_get_str(rec, "event");
	char msg[512];

	if (event && !strcmp(event, "started") && vm_schedlog_open(&v->sched, msg, sizeof(msg)) < 0)
		diag("%s", msg);
	if (vm_schedlog_opened(&v->sched))
		json_set_str(rec, "output_log", v->sched.path);
	if (!event || !(!strcmp(event, "attach_failed") || !strcmp(event, "died") ||
			(!strcmp(event, "detached") && !json_is_true(json_object_get(rec, "clean")))))
		return;
	progress_clear();
	if (!v->sched.lines) {
		diag("scheduler %s %s (%s); it printed nothing",
		     json_get_str(rec, "name") ? json_get_str(rec, "name") : "?",
		     !strcmp(event, "attach_failed") ? "failed to attach" :
		     !strcmp(event, "died") ? "died" : "did not detach cleanly",
		     json_get_str(rec, "reason") ? json_get_str(rec, "reason") : "no reason given");
		return;
	}
	diag("scheduler %s %s (%s); its output (%zu lines%s%s):",
	     json_get_str(rec, "name") ? json_get_str(rec, "name") : "?",
	     !strcmp(event, "attach_failed") ? "failed to attach" :
	     !strcmp(event, "died") ? "died" : "did not detach cleanly",
	     json_get_str(rec, "reason") ? json_get_str(rec, "reason") : "no reason given",
	     v->sched.lines, vm_schedlog_opened(&v->sched) ? ", all in " : "",
	     vm_schedlog_opened(&v->sched) ? v->sched.path : "");
	vm_schedlog_show(&v->sched, stderr);
}

static void handle_record(struct vm_run *v, json_t *rec)
{
	const char *type = json_get_str(rec, "type");
	long long t_ms = monotonic_ms() - v->start_ms;

	if (!strcmp(type, "sched_output")) {
		const char *line = json_get_str(rec, "line");

		vm_schedlog_line(&v->sched, line ? line : "", line ? strlen(line) : 0);
		json_decref(rec);
		return;
	}
	if (!strcmp(type, "scheduler"))
		scheduler_record(v, rec);
	if (!strcmp(type, "kernel_symbols")) {
		vm_monitor_symbols(&v->mon, rec, qemu_pid, t_ms);
		json_decref(rec);
		return;
	}
	if (agent_record_on_timeline(type))
		json_set_int(rec, "host_ms", t_ms);
	if (!strcmp(type, "agent_ready") && !v->ready) {
		v->ready = true;
		v->r->boot_ms = t_ms;
		json_set_int(rec, "boot_ms", v->r->boot_ms);
		v->emit(rec, v->ctx);
		vm_monitor_agent_ready(&v->mon, qemu_pid, t_ms);
		/* Still queued: the guest has its port open now, so this is
		 * where a socket that will not take it shows. */
		if (vm_agent_flush(v) < 0)
			request_lost(v, errno);
		return;
	}
	if (!strcmp(type, "exit") && !v->exit_seen) {
		v->exit_seen = true;
		v->exit_seen_ms = monotonic_ms();
		v->r->end = VM_END_EXITED;
		v->r->exit_code = (int)json_get_int(rec, "exit_code", 1);
		ack_final(v);
	} else if (!strcmp(type, "agent_error") && !v->exit_seen) {
		v->exit_seen = true;
		v->exit_seen_ms = monotonic_ms();
		v->r->end = VM_END_AGENT_ERROR;
		vm_set_message(v->r, "guest agent: %s",
			       json_get_str(rec, "message") ? json_get_str(rec, "message") : "error");
		ack_final(v);
	}
	v->emit(rec, v->ctx);
}

static void handle_agent(struct vm_run *v, const char *buf, size_t n)
{
	const char *line;
	size_t len;
	bool cut;

	line_reader_feed(&v->agent_lr, buf, n);
	while ((line = line_reader_next(&v->agent_lr, &len, &cut))) {
		struct strbuf err = STRBUF_INIT;
		json_t *rec;

		if (!len)
			continue;
		rec = cut ? NULL : jsonl_parse(line, len, &err);
		if (!rec)
			diag("ignoring malformed record from the guest agent (%s): %.80s",
			     cut ? "line too long" : err.buf, line);
		else
			handle_record(v, rec);
		strbuf_release(&err);
	}
}

/* Read what is there; returns false at EOF or error. */
static bool drain(int fd, void (*fn)(struct vm_run *, const char *, size_t),
		  struct vm_run *v)
{
	char buf[16384];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (fn)
				fn(v, buf, (size_t)n);
			else
				strbuf_add(&v->qemu_stderr, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* The signals that stop a run, taken through the signalfd. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void vm_hold_stop_signals(void)
{
	sigset_t set;

	stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* job_control: also take the terminal's SIGTSTP (Ctrl-Z) and the SIGCONT
 * that ends it (job_stop). */
static int setup_signals(sigset_t *old, bool job_control)
{
	sigset_t set;

	stop_signals(&set);
	sigaddset(&set, SIGCHLD);
	if (job_control) {
		sigaddset(&set, SIGTSTP);
		sigaddset(&set, SIGCONT);
	}
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* QEMU's state changes: its exit, and a stop (SIGSTOP) or continue,
 * which the monitor counts as time the host took from the guest. */
static void reap_qemu(struct vm_run *v)
{
	int st;

	while (qemu_pid > 0 && waitpid(qemu_pid, &st, WNOHANG | WUNTRACED | WCONTINUED) == qemu_pid) {
		if (WIFSTOPPED(st) || WIFCONTINUED(st)) {
			vm_monitor_qemu_stopped(&v->mon, WIFSTOPPED(st), monotonic_ms() - v->start_ms);
			continue;
		}
		v->qemu_status = st;
		qemu_pid = -1;
		v->qemu_gone = true;
	}
}

/* Ctrl-Z.  QEMU has a process group of its own (spawn_qemu), so the
 * terminal's SIGTSTP stops only us, and the guest would run on with
 * nobody reading it.  Stop QEMU, then ourselves; on SIGCONT (fg or bg)
 * QEMU goes on too.  The stop is time the host took from the VM, counted
 * as a SIGSTOP to QEMU is (qemu_stopped_us): waitpid's own report of
 * QEMU's stop would only be read after ours ended.  Not against
 * --timeout or the boot deadline either. */
static void job_stop(struct vm_run *v)
{
	long long t = monotonic_ms(), now;
	bool held = qemu_pid > 0 && kill(qemu_pid, SIGSTOP) == 0;

	if (held)
		vm_monitor_qemu_stopped(&v->mon, true, t - v->start_ms);
	progress_clear();
	raise(SIGSTOP);
	/* Continued. */
	now = monotonic_ms();
	v->job_stopped_ms += now - t;
	if (!held)
		return;
	/* One sample before QEMU goes on: it carries the whole stop and
	 * ends exactly where the stop did.  The guest, whose clock jumps by
	 * the stop, may end its workload at once; the verdict counts the
	 * stop by its overlap with the workload (machine_stopped_ms). */
	vm_monitor_qemu_stopped(&v->mon, false, now - v->start_ms);
	vm_monitor_sample(&v->mon, now - v->start_ms);
	if (qemu_pid > 0)
		kill(qemu_pid, SIGCONT);
}

static void on_signal(struct vm_run *v)
{
	struct signalfd_siginfo si;

	while (read(v->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_qemu(v);
			continue;
		}
		if (si.ssi_signo == SIGTSTP) {
			job_stop(v);
			continue;
		}
		/* The end of a stop (handled in job_stop), or a stray one. */
		if (si.ssi_signo == SIGCONT)
			continue;
		/* A real signal wins over a closed stdout seen first. */
		if (v->r->end != VM_END_INTERRUPTED || !v->r->signal ||
		    v->r->signal == SIGPIPE) {
			v->r->end = VM_END_INTERRUPTED;
			v->r->signal = (int)si.ssi_signo;
			vm_set_message(v->r, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
			v->exit_seen = true;
		}
		kill_qemu();
		v->qemu_gone = true;
	}
}

static int open_log(const struct vm_config *c, struct vm_result *r)
{
	const char *path = c->console_log;
	const char *opt = c->console_log_given ? "--console-log " : "the console log ";
	char *dir = path_dirname(path);
	int fd;

	if (mkdir_p(dir, 0755) < 0) {
		vm_set_message(r, "%s%s: cannot create %s: %s; choose a writable "
			       "path", opt, path, dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		vm_set_message(r, "%s%s: %s; choose a writable path", opt, path,
			       strerror(errno));
	return fd;
}

/* A scenario run names its scenario and scheduler (null: the kernel's
 * default) already in vm_start, so a run that never reaches the agent is
 * still reported under its names. */
static void scenario_names(const json_t *req, json_t *rec)
{
	const char *type = req ? json_string_value(json_object_get(req, "type")) : NULL;
	const json_t *sched;
	const char *path;

	if (!type || strcmp(type, "scenario"))
		return;
	json_set_str(rec, "scenario",
		     json_string_value(json_object_get(json_object_get(req, "scenario"), "name")));
	sched = json_object_get(req, "scheduler");
	path = json_string_value(json_object_get(sched, "path"));
	json_set_str(rec, "scheduler", path ? path_basename(path) : NULL);
}

static void emit_start(struct vm_run *v, const struct qemu_spec *s)
{
	struct strbuf topo = STRBUF_INIT, shortt = STRBUF_INIT;
	json_t *rec = jsonl_record("vm_start");

	topo_format(&s->topo, &topo);
	topo_format_short(&s->topo, &shortt);
	json_set_str(rec, "kernel", v->c->kernel);
	json_set_str(rec, "kernel_source", v->c->kernel_source);
	json_set_str(rec, "boot_image", s->kernel);
	json_set_str(rec, "initramfs", v->c->initrd);
	/* The -bios image, null for QEMU's default (SeaBIOS). */
	json_set_str(rec, "firmware", s->firmware);
	json_set_str(rec, "accel", vm_accel_name(s->accel));
	/* Why this one: the probe's finding under auto, --accel, the retry. */
	json_set_str(rec, "accel_reason", s->accel_reason);
	/* "single" or "multi" under TCG, null under KVM: which threading ran
	 * (tcg-mt is never picked by auto, so a record says so). */
	json_set_str(rec, "tcg_thread", vm_accel_tcg_thread(s->accel));
	json_set_str(rec, "topo", topo.buf);
	json_set_str(rec, "topology", shortt.buf);
	json_set_int(rec, "vcpus", topo_cpus(&s->topo));
	json_set_int(rec, "memory_mib", s->memory_mib);
	json_set_str(rec, "console_log", v->c->console_log);
	json_set_str(rec, "cmdline", s->cmdline);
	json_set_str(rec, "mode", v->c->mode == VM_MODE_SHELL ? "shell" : "exec");
	scenario_names(v->c->request, rec);
	v->emit(rec, v->ctx);
	strbuf_release(&topo);
	strbuf_release(&shortt);
}

static void emit_exit(struct vm_run *v)
{
	struct vm_result *r = v->r;
	json_t *rec = jsonl_record("vm_exit");

	json_set_str(rec, "reason", vm_end_name(r->end));
	json_set_int(rec, "exit_code", r->end == VM_END_EXITED ? r->exit_code : -1);
	json_set_int(rec, "wall_ms", r->wall_ms);
	if (r->boot_ms >= 0)
		json_set_int(rec, "boot_ms", r->boot_ms);
	else
		json_object_set_new(rec, "boot_ms", json_null());
	if (r->end != VM_END_EXITED)
		json_set_str(rec, "message", r->message);
	if (v->panic_line[0])
		json_set_str(rec, "panic", v->panic_line);
	json_set_str(rec, "console_log", v->log_kept ? v->c->console_log : NULL);
	if (r->end == VM_END_BOOT_TIMEOUT || r->end == VM_END_NO_AGENT ||
	    r->end == VM_END_QEMU_ERROR || r->end == VM_END_PANIC)
		json_object_set_new(rec, "console_tail", vm_console_tail_json(v));
	if (vm_schedlog_opened(&v->sched))
		json_set_str(rec, "sched_output_log", v->sched.path);
	v->emit(rec, v->ctx);
}

static void stop_qemu(struct vm_run *v, enum vm_end end)
{
	v->r->end = end;
	v->exit_seen = true;
	kill_qemu();
	v->qemu_gone = true;
}

/* Nobody reads the records any more.  A ^C reaches every process of the
 * pipeline at once, so a SIGINT or SIGTERM is pending by the time the
 * reader's death shows as EPIPE: read it first, it names the real cause. */
static void on_output_gone(struct vm_run *v)
{
	int err = output_gone;

	output_gone = 0;
	on_signal(v);
	if (v->qemu_gone || v->exit_seen)
		return;
	if (err == EPIPE) {
		v->r->signal = SIGPIPE;
		vm_set_message(v->r, "stdout was closed (broken pipe); stopped the VM");
	} else {
		vm_set_message(v->r, "cannot write records to stdout (%s); stopped the VM",
			       strerror(err));
	}
	stop_qemu(v, VM_END_INTERRUPTED);
}

static void boot_timed_out(struct vm_run *v)
{
	struct strbuf seen = STRBUF_INIT;
	bool console = false;
	unsigned i;

	for (i = 0; i < CONSOLE_TAIL && !console; i++)
		console = v->tail[i] != NULL;
	vm_monitor_describe(&v->mon, monotonic_ms() - v->start_ms, &seen);
	vm_set_message(v->r, "the guest agent did not start within the %lld%s boot deadline "
		       "(%s, %u vCPUs)%s%s; %s; give it longer with --boot-timeout "
		       "or KTSTR_BOOT_TIMEOUT",
		       v->boot_deadline_ms % 1000 ? v->boot_deadline_ms : v->boot_deadline_ms / 1000,
		       v->boot_deadline_ms % 1000 ? " ms" : " s", vm_accel_name(v->accel),
		       topo_cpus(&v->c->topo), seen.len ? "; " : "", seen.buf,
		       console ? "see the console tail"
			       : "the kernel printed nothing on the console yet");
	strbuf_release(&seen);
	stop_qemu(v, VM_END_BOOT_TIMEOUT);
}

/* --timeout ran out: say how far the guest got and stop QEMU. */
static void overran(struct vm_run *v, long long now)
{
	struct strbuf seen = STRBUF_INIT;

	vm_monitor_describe(&v->mon, now - v->start_ms, &seen);
	vm_set_message(v->r, "the VM overran --timeout %llu ms and was killed%s%s%s",
		       v->c->timeout_ms, v->ready ? "" : " before the guest agent started",
		       seen.len ? "; " : "", seen.buf);
	strbuf_release(&seen);
	stop_qemu(v, VM_END_TIMEOUT);
}

static void sooner(long long *wait, long long left)
{
	if (left < *wait)
		*wait = left;
}

/* The watchdogs and timers: false when one stopped QEMU, else *wait is cut
 * to the next time one of them is due. */
static bool watchdogs(struct vm_run *v, long long now, long long *wait)
{
	const struct vm_config *c = v->c;
	long long left, due;

	if (c->timeout_ms && !v->exit_seen) {
		left = v->start_ms + v->job_stopped_ms + (long long)c->timeout_ms - now;
		if (left <= 0) {
			overran(v, now);
			return false;
		}
		sooner(wait, left);
	}
	if (v->boot_deadline_ms && !v->ready && !v->exit_seen) {
		left = v->start_ms + v->job_stopped_ms + v->boot_deadline_ms - now;
		if (left <= 0) {
			boot_timed_out(v);
			return false;
		}
		sooner(wait, left);
	}
	if (c->tick) {
		if (now - v->last_tick_ms >= 1000) {
			v->last_tick_ms = now;
			c->tick(v->ctx, now - v->start_ms);
		}
		sooner(wait, v->last_tick_ms + 1000 - now);
	}
	due = vm_monitor_wait_ms(&v->mon, now - v->start_ms);
	if (due >= 0)
		sooner(wait, due);
	if (v->exit_seen && now - v->exit_seen_ms > POWEROFF_GRACE_MS) {
		diag("guest did not power off within %d s; killing QEMU",
		     POWEROFF_GRACE_MS / 1000);
		kill_qemu();
		v->qemu_gone = true;
		return false;
	}
	return true;
}

/* One wait for the console, the agent, QEMU's stderr and signals, and
 * whatever they brought. */
static void poll_channels(struct vm_run *v, long long wait)
{
	struct pollfd p[4] = {
		{ .fd = v->con_fd, .events = POLLIN },
		{ .fd = v->agent_fd, .events = POLLIN },
		{ .fd = v->qerr_fd, .events = POLLIN },
		{ .fd = v->sig_fd, .events = POLLIN },
	};

	if (v->to_agent.len)
		p[1].events |= POLLOUT;

	if (poll(p, 4, (int)wait) < 0 && errno != EINTR)
		die_errno(KTSTR_EXIT_USAGE, "poll");
	if (p[0].revents && !drain(v->con_fd, vm_console_feed, v))
		v->con_fd = -1;
	if ((p[1].revents & POLLOUT) && vm_agent_flush(v) < 0)
		request_lost(v, errno);
	if ((p[1].revents & ~POLLOUT) && !drain(v->agent_fd, handle_agent, v))
		v->agent_fd = -1;
	if (p[2].revents && !drain(v->qerr_fd, NULL, v))
		v->qerr_fd = -1;
	if (p[2].revents && !v->exit_seen && vm_qemu_halted(v))
		stop_qemu(v, VM_END_QEMU_ERROR);
	if (p[3].revents)
		on_signal(v);
	if (output_gone)
		on_output_gone(v);
}

/* The main loop: console, agent, QEMU's stderr, signals, watchdogs. */
static void event_loop(struct vm_run *v)
{
	while (!v->qemu_gone) {
		long long now = monotonic_ms(), wait = 1000;

		if (!watchdogs(v, now, &wait))
			break;
		poll_channels(v, wait);
		now = monotonic_ms() - v->start_ms;
		if (!v->qemu_gone && vm_monitor_wait_ms(&v->mon, now) == 0)
			vm_monitor_sample(&v->mon, now);
	}
	/* QEMU is gone: collect whatever it left in the pipes. */
	if (v->con_fd >= 0)
		drain(v->con_fd, vm_console_feed, v);
	if (v->agent_fd >= 0)
		drain(v->agent_fd, handle_agent, v);
	if (v->qerr_fd >= 0)
		drain(v->qerr_fd, NULL, v);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* KVM chosen by auto failed before the guest agent started: worth one
 * more try under TCG (a /dev/kvm that opens but cannot run this guest). */
static bool retry_under_tcg(const struct vm_run *v)
{
	return v->may_retry && !v->ready &&
	       (v->r->end == VM_END_BOOT_TIMEOUT || v->r->end == VM_END_QEMU_ERROR);
}

static void emit_accel_retry(struct vm_run *v)
{
	json_t *rec = jsonl_record("accel_retry");

	json_set_str(rec, "from", "kvm");
	json_set_str(rec, "to", "tcg");
	json_set_str(rec, "reason", vm_end_name(v->r->end));
	json_set_str(rec, "message", v->r->message);
	json_set_int(rec, "wall_ms", v->r->wall_ms);
	json_object_set_new(rec, "console_tail", vm_console_tail_json(v));
	progress_clear();
	diag("KVM failed before the guest agent started (%s); retrying once under TCG",
	     v->r->message);
	v->emit(rec, v->ctx);
}

/* The VM's channels: the console, agent and QMP socket pairs and QEMU's
 * stderr pipe; [0] is our end, [1] QEMU's.  QEMU gets the QMP one only
 * when the host-side monitor runs (vm_monitor_prepare). */
struct channels {
	int con[2], agent[2], qmp[2], qerr[2];
};

#define CHANNELS_INIT { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } }

static void close_pair(int fd[2])
{
	for (unsigned i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

static void close_pair_end(int fd[2], unsigned end)
{
	if (fd[end] >= 0)
		close(fd[end]);
	fd[end] = -1;
}

static void close_channels(struct channels *ch)
{
	close_pair(ch->con);
	close_pair(ch->agent);
	close_pair(ch->qmp);
	close_pair(ch->qerr);
}

static int open_channels(struct channels *ch, struct vm_result *r)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch->con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch->agent) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch->qmp) < 0 ||
	    pipe2(ch->qerr, O_CLOEXEC) < 0) {
		vm_set_message(r, "cannot create VM channels: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Everything the loop needs but QEMU itself; undone by run_release. */
static void run_init(struct vm_run *v, const struct qemu_spec *s, bool allow_retry,
		     sigset_t *oldmask)
{
	static bool atexit_set;
	const struct vm_config *c = v->c;

	line_reader_init(&v->con_lr, 4096);
	/* Records are small except a ctprof snapshot, which can be megabytes. */
	line_reader_init(&v->agent_lr, 64u << 20);
	strbuf_init(&v->to_agent, 0);
	v->to_agent_off = 0;
	strbuf_init(&v->qemu_stderr, 0);
	/* As spawn_qemu's new_pgrp: a --shell QEMU shares our group. */
	v->sig_fd = setup_signals(oldmask, !s->shell);
	if (!atexit_set)
		atexit(kill_qemu);
	atexit_set = true;
	v->accel = s->accel;
	v->may_retry = allow_retry && s->accel == VM_ACCEL_KVM;
	v->boot_deadline_ms = c->boot_timeout_ms < 0 ?
		vm_boot_timeout_ms(s->accel, topo_cpus(&c->topo)) : c->boot_timeout_ms;
	vm_schedlog_init(&v->sched, c->sched_output_log, c->sched_output_echo);
}

static void run_release(struct vm_run *v, const sigset_t *oldmask)
{
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (v->sig_fd >= 0)
		close(v->sig_fd);
	line_reader_release(&v->con_lr);
	line_reader_release(&v->agent_lr);
	strbuf_release(&v->to_agent);
	strbuf_release(&v->qemu_stderr);
	for (unsigned i = 0; i < CONSOLE_TAIL; i++)
		free(v->tail[i]);
	vm_schedlog_release(&v->sched);
}

/* Start QEMU on QEMU's ends of ch (closed here either way); ours go into
 * v, nonblocking. */
static int spawn_qemu(struct vm_run *v, const struct qemu_spec *s, struct strvec *argv,
		      struct channels *ch)
{
	struct run_opts ro = RUN_OPTS_INIT;
	int keep[3] = { ch->con[1], ch->agent[1], ch->qmp[1] };
	int err;

	ro.keep_fds = keep;
	ro.n_keep = s->qmp ? 3 : 2;
	ro.stdin_fd = s->shell ? RUN_FD_INHERIT : RUN_FD_NULL;
	ro.stdout_fd = s->shell ? RUN_FD_INHERIT : RUN_FD_NULL;
	ro.stderr_fd = ch->qerr[1];
	ro.die_with_parent = true;
	/* Own process group, so a terminal ^C reaches only us and we decide
	 * how QEMU stops.  Not for --shell: QEMU then owns the terminal and
	 * must stay in the foreground group or SIGTTIN stops it; its raw
	 * mode turns ^C into a byte for the guest anyway. */
	ro.new_pgrp = !s->shell;
	v->start_ms = monotonic_ms();
	v->last_tick_ms = v->start_ms;
	qemu_pid = run_spawn(strvec_argv(argv), &ro);
	err = errno;
	close(ch->con[1]);
	close(ch->agent[1]);
	close(ch->qerr[1]);
	ch->con[1] = ch->agent[1] = ch->qerr[1] = -1;
	/* QEMU holds the QMP end now (when it was given it); the monitor
	 * reads ours, closed with the channels after the run. */
	close_pair_end(ch->qmp, 1);
	if (qemu_pid < 0) {
		vm_set_message(v->r, "cannot start %s: %s", s->qemu, strerror(err));
		return -1;
	}
	v->con_fd = ch->con[0];
	v->agent_fd = ch->agent[0];
	v->qerr_fd = ch->qerr[0];
	nonblock(v->con_fd);
	nonblock(v->agent_fd);
	nonblock(v->qerr_fd);
	return 0;
}

/* QEMU is gone: the result, then vm_exit (0) or the TCG retry (1). */
static int finish_run(struct vm_run *v)
{
	struct vm_result *r = v->r;

	kill_qemu();
	r->wall_ms = monotonic_ms() - v->start_ms;
	vm_monitor_finish(&v->mon, r->wall_ms);
	/* QEMU that never booted leaves an empty log: not worth keeping.
	 * A guest that booted quietly (loglevel=4) may have written nothing
	 * either, and a log the user named is theirs: both stay.  Decided
	 * before the message, which names the log only when it stays. */
	v->log_kept = v->log_written || v->ready || v->c->console_log_given;
	vm_classify_exit(v);
	if (!v->log_kept)
		unlink(v->c->console_log);
	if (retry_under_tcg(v)) {
		emit_accel_retry(v);
		return 1;
	}
	if (r->end != VM_END_EXITED && r->end != VM_END_INTERRUPTED) {
		progress_clear();
		vm_console_tail_show(v);
	}
	emit_exit(v);
	return 0;
}

/* One boot.  0: the VM ran (vm_exit emitted); 1: retry under TCG (no
 * vm_exit); -1: setup failure before QEMU started. */
static int run_once(const struct vm_config *c, void (*emit)(json_t *, void *), void *ctx,
		    struct vm_result *r, bool allow_retry)
{
	struct vm_run v = { .c = c, .emit = emit, .ctx = ctx, .r = r,
			    .con_fd = -1, .agent_fd = -1, .qerr_fd = -1, .sig_fd = -1,
			    .log_fd = -1 };
	struct channels ch = CHANNELS_INIT;
	struct qemu_spec s = { 0 };
	struct strvec argv = STRVEC_INIT;
	struct strbuf cmdline = STRBUF_INIT;
	sigset_t oldmask;
	char *qemu_path;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->boot_ms = -1;
	r->exit_code = -1;
	qemu_path = find_program(c->qemu);
	if (!qemu_path) {
		vm_set_message(r, "%s", vm_qemu_missing(c->qemu));
		return -1;
	}
	/* Said here, before QEMU would fail on it less clearly. */
	if (qemu_firmware_check(r->message, sizeof(r->message)) < 0) {
		free(qemu_path);
		return -1;
	}
	v.log_fd = open_log(c, r);
	if (v.log_fd < 0) {
		free(qemu_path);
		return -1;
	}
	if (open_channels(&ch, r) == 0) {
		vm_qemu_spec(c, qemu_path, ch.con[1], ch.agent[1], &s, &cmdline);
		/* vm_start stays the first record, before any monitor_unavailable. */
		emit_start(&v, &s);
		vm_monitor_prepare(&v.mon, c->monitor_interval_ms, c->kernel, &s, ch.qmp,
				   c->request, emit, ctx);
		qemu_build_argv(&s, &argv);
		run_init(&v, &s, allow_retry, &oldmask);
		if (spawn_qemu(&v, &s, &argv, &ch) == 0) {
			send_request(&v);
			vm_monitor_preload(&v.mon);
			event_loop(&v);
			rc = finish_run(&v);
		}
		run_release(&v, &oldmask);
	}
	vm_monitor_finish(&v.mon, r->wall_ms);
	close_channels(&ch);
	if (v.log_fd >= 0)
		close(v.log_fd);
	strvec_clear(&argv);
	strbuf_release(&cmdline);
	free(s.pvh_kernel);
	free(qemu_path);
	return rc;
}

int vm_run(const struct vm_config *c, void (*emit)(json_t *, void *), void *ctx,
	   struct vm_result *r)
{
	struct vm_config tcg;
	char why[VM_ACCEL_REASON_MAX];
	int rc = run_once(c, emit, ctx, r, c->accel == VM_ACCEL_AUTO);

	if (rc != 1 || output_broken)
		return rc;
	tcg = *c;
	tcg.accel = VM_ACCEL_TCG;
	snprintf(why, sizeof(why), "KVM failed before the guest agent started (%s); "
		 "retried under TCG", vm_end_name(r->end));
	tcg.accel_reason = why;
	return run_once(&tcg, emit, ctx, r, false);
}
