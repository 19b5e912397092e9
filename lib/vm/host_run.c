/* ktstr-vm --host's side of a host-mode run (host_run.h). */
#include "host_run.h"
#include "diag.h"
#include "jsonl.h"
#include "topo_record.h"
#include "vm_schedlog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECORD_MAX (16u << 20)

static volatile bool output_gone;

void host_run_output_gone(void)
{
	output_gone = true;
}

/* Start agent with args; its stdin and stdout are pipes (in_fd to write,
 * out_fd to read), its stderr ours. */
static pid_t spawn_agent(const char *agent, const char *const *args, int *in_fd, int *out_fd)
{
	int in[2], outp[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		const char *argv[8] = { agent };
		size_t n = 1;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(outp[1], 1);
		while (*args && n < ARRAY_SIZE(argv) - 1)
			argv[n++] = *args++;
		argv[n] = NULL;
		execv(agent, (char *const *)argv);
		dprintf(2, "ktstr-vm: cannot run %s: %s\n", agent, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (pid < 0) {
		close(in[1]);
		close(outp[0]);
		return -1;
	}
	*in_fd = in[1];
	*out_fd = outp[0];
	return pid;
}

int host_topology(const char *agent, struct ktstr_topo *t, struct strbuf *err)
{
	static const char *const args[] = { "--host", "--as", "ktstr-vm", "--topology", NULL };
	struct strbuf sb = STRBUF_INIT, perr = STRBUF_INIT;
	int in, outfd, status = 0, ret = -1;
	json_t *rec = NULL;
	pid_t pid = spawn_agent(agent, args, &in, &outfd);

	if (pid < 0) {
		strbuf_addf(err, "cannot start %s: %s", agent, strerror(errno));
		return -1;
	}
	close(in);
	strbuf_read_fd(&sb, outfd);
	close(outfd);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		strbuf_addf(err, "%s --host --topology failed (status %d)", agent, status);
	else if (!(rec = jsonl_parse(sb.buf, strcspn(sb.buf, "\n"), &perr)))
		strbuf_addf(err, "%s --host --topology printed no record: %s", agent, perr.buf);
	else if (topo_from_record(rec, t, err) == 0)
		ret = 0;
	json_decref(rec);
	strbuf_release(&sb);
	strbuf_release(&perr);
	return ret;
}

struct hr {
	const struct host_run_config *c;
	void (*emit)(json_t *, void *);
	void *ctx;
	struct vm_schedlog sched;
	struct jsonl_reader rd;
};

/* A record from the agent (borrowed): the scheduler's lines go to its
 * log, everything else to emit. */
static void record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct hr *h = ctx;
	const char *type = json_get_str(rec, "type");
	char msg[512];

	(void)lineno;
	if (type && !strcmp(type, "sched_output")) {
		const char *line = json_get_str(rec, "line");

		vm_schedlog_line(&h->sched, line ? line : "", line ? strlen(line) : 0);
		return;
	}
	if (type && !strcmp(type, "scheduler")) {
		const char *ev = json_get_str(rec, "event");

		if (ev && !strcmp(ev, "started") && vm_schedlog_open(&h->sched, msg, sizeof(msg)) < 0)
			diag("%s", msg);
		if (vm_schedlog_opened(&h->sched))
			json_set_str(rec, "output_log", h->sched.path);
	}
	h->emit(json_incref(rec), h->ctx);
}

static void bad(void *ctx, unsigned long lineno, const char *why)
{
	(void)ctx;
	diag("ignoring line %lu from the agent: %s", lineno, why);
}

static const struct jsonl_ops agent_ops = { .record = record, .bad = bad };

static int stop_fd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int host_run(const struct host_run_config *c, void (*emit)(json_t *, void *), void *ctx)
{
	const char *args[8] = { "--host", "--as", "ktstr-vm" };
	struct hr h = { .c = c, .emit = emit, .ctx = ctx };
	struct strbuf req = STRBUF_INIT;
	sigset_t old;
	int in, outfd, sigfd, status = 0, stop = 0;
	size_t n = 3;
	pid_t pid;

	if (c->expect_topo) {
		args[n++] = "--expect-topo";
		args[n++] = c->expect_topo;
	}
	args[n] = NULL;
	vm_schedlog_init(&h.sched, c->sched_output_log, c->sched_output_echo);
	jsonl_reader_init(&h.rd, RECORD_MAX, &agent_ops, &h);
	sigfd = stop_fd(&old);
	pid = spawn_agent(c->agent, args, &in, &outfd);
	if (pid < 0)
		die(KTSTR_EXIT_USAGE, "cannot start %s: %s", c->agent, strerror(errno));
	/* The agent reads the whole request before it writes a record. */
	jsonl_encode(&req, c->request);
	if (write(in, req.buf, req.len) != (ssize_t)req.len)
		diag("cannot send the request to %s: %s", c->agent, strerror(errno));
	close(in);
	strbuf_release(&req);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = outfd, .events = POLLIN },
					 { .fd = sigfd, .events = POLLIN } };
		char buf[16384];
		ssize_t r;

		if (poll(pfd, 2, output_gone ? 0 : 1000) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			/* The agent stops, cleans up and says so; wait for it. */
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				stop = stop ? stop : (int)si.ssi_signo;
				kill(pid, (int)si.ssi_signo);
			}
		}
		if (output_gone && !stop) {
			stop = SIGPIPE;
			kill(pid, SIGTERM);
		}
		if (!pfd[0].revents)
			continue;
		r = read(outfd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		jsonl_reader_feed(&h.rd, buf, (size_t)r);
	}
	close(outfd);
	waitpid(pid, &status, 0);
	close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	jsonl_reader_release(&h.rd);
	vm_schedlog_release(&h.sched);
	if (stop)
		return KTSTR_EXIT_SIGNAL + stop;
	if (WIFSIGNALED(status))
		return KTSTR_EXIT_SIGNAL + WTERMSIG(status);
	return WEXITSTATUS(status);
}
