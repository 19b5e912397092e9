/* Child processes as seen by PID 1.
 *
 * Every orphan in the VM is reparented to the agent, so it reaps with
 * waitpid(-1) and picks out the one child it is waiting for; the exit
 * status of that child can therefore never be "stolen" by a separate
 * waitpid on an orphan.  SIGCHLD is blocked and read from a signalfd so
 * that child exits wake the same poll() loops that move output. */
#include "agent.h"
#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int child_sigfd_setup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void child_reap_each(struct agent *ag, bool (*claim)(pid_t, int, void *), void *ctx)
{
	struct signalfd_siginfo si;

	/* Drain first: signals coalesce, so waitpid below decides who exited,
	 * not the number of siginfos. */
	while (read(ag->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		if (!claim || !claim(pid, status, ctx))
			vlog("reaped orphan %d", (int)pid);
	}
}

static bool claim_child(pid_t pid, int status, void *ctx)
{
	struct child *c = ctx;

	if (!c || pid != c->pid)
		return false;
	c->done = true;
	c->status = status;
	return true;
}

void child_reap(struct agent *ag, struct child *c)
{
	child_reap_each(ag, claim_child, c);
}

void child_stdio(int out, int err)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Dispositions before the mask: a signal let through by the new
	 * mask must not run a handler of PID 1's (in a vfork child it
	 * would run on the agent's memory). */
	child_default_signals();
	child_reset();
	/* Own session and process group: the agent can kill the whole
	 * thing, and nothing in it can grab the agent's console. */
	setsid();
	if (null >= 0)
		dup2(null, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (chdir("/") < 0)
		child_write_err("ktstr-agent: chdir /: ", errno);
}

void child_write_err(const char *what, int err)
{
	const char *desc = strerrordesc_np(err);
	struct iovec iov[] = {
		{ (void *)what, strlen(what) },
		{ (void *)(desc ? desc : "unknown error"), strlen(desc ? desc : "unknown error") },
		{ "\n", 1 },
	};

	if (writev(2, iov, 3) < 0)
		return;
}

void child_reset(void)
{
	sigset_t none;

	/* The signal mask survives exec; a blocked SIGCHLD would break
	 * job control and "wait" in the shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Nothing outlives the agent that started it: in a VM the agent
	 * never dies, on a host (host mode) a killed agent takes its
	 * workers, payloads and scheduler with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

void child_default_signals(void)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE };

	/* An ignored signal survives exec: a program started by an agent
	 * that ignores SIGINT could not be stopped with it, and every clean
	 * stop would turn into a kill. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		signal(sigs[i], SIG_DFL);
	/* And every handler of the agent's (SIGALRM for the port, SIGUSR1 in
	 * a scenario, ...): exec resets them, but a vfork child runs on the
	 * agent's memory until then.  The agent catches no real-time
	 * signal, so the standard ones are enough. */
	for (int sig = 1; sig < 32; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
}

json_t *child_exit_record(int status, bool timed_out)
{
	json_t *rec = jsonl_record("exit");

	if (WIFSIGNALED(status)) {
		json_set_int(rec, "exit_code", 128 + WTERMSIG(status));
		json_set_int(rec, "signal", WTERMSIG(status));
	} else {
		json_set_int(rec, "exit_code", WEXITSTATUS(status));
	}
	if (timed_out)
		json_set_bool(rec, "timed_out", true);
	return rec;
}
