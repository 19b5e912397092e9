#include "run.h"
#include "diag.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_fd(int want, int target)
{
	if (want == RUN_FD_INHERIT)
		return;
	if (want == RUN_FD_NULL) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0 && fd != target) {
			dup2(fd, target);
			close(fd);
		}
		return;
	}
	if (want != target)
		dup2(want, target);
	else
		fcntl(target, F_SETFD, 0);
}

pid_t run_spawn(const char *const argv[], const struct run_opts *o)
{
	struct run_opts def = RUN_OPTS_INIT;
	int errpipe[2];
	pid_t pid;
	int child_errno = 0;
	ssize_t n;

	if (!o)
		o = &def;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(errpipe[0]);
		close(errpipe[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		size_t i;
		sigset_t none;

		close(errpipe[0]);
		if (o->die_with_parent) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			/* Parent already gone before prctl took effect. */
			if (getppid() == 1)
				_exit(127);
		}
		if (o->new_pgrp)
			setpgid(0, 0);
		/* Best effort: a runner's reservation is advisory anyway. */
		if (o->affinity)
			sched_setaffinity(0, sizeof(*o->affinity), o->affinity);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* A shell starts a background job with SIGINT and SIGQUIT
		 * ignored, and an ignored signal survives exec: a runner
		 * started that way forwards the user's SIGINT to children that
		 * would drop it (it only reaches the runner because it blocks
		 * it for its signalfd).  Children start as from a terminal. */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		child_fd(o->stdin_fd, 0);
		child_fd(o->stdout_fd, 1);
		child_fd(o->stderr_fd, 2);
		for (i = 0; i < o->n_keep; i++)
			fcntl(o->keep_fds[i], F_SETFD, 0);
		for (i = 0; o->env_set && o->env_set[i]; i++)
			putenv((char *)o->env_set[i]);
		execvp(argv[0], (char *const *)argv);
		child_errno = errno;
		n = write(errpipe[1], &child_errno, sizeof(child_errno));
		(void)n;
		_exit(127);
	}
	close(errpipe[1]);
	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		errno = child_errno;
		return -1;
	}
	return pid;
}

int run_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int run_capture(const char *const argv[], struct strbuf *out, struct strbuf *err)
{
	struct run_opts o = RUN_OPTS_INIT;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	struct pollfd pfd[2];
	pid_t pid;

	o.stdin_fd = RUN_FD_NULL;
	if (out) {
		if (pipe2(po, O_CLOEXEC) < 0)
			return -1;
		o.stdout_fd = po[1];
	}
	if (err) {
		if (pipe2(pe, O_CLOEXEC) < 0) {
			if (out) {
				close(po[0]);
				close(po[1]);
			}
			return -1;
		}
		o.stderr_fd = pe[1];
	}
	pid = run_spawn(argv, &o);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	if (pid < 0) {
		int e = errno;

		if (po[0] >= 0)
			close(po[0]);
		if (pe[0] >= 0)
			close(pe[0]);
		errno = e;
		return -1;
	}
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int i;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n > 0) {
				strbuf_add(i ? err : out, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
	}
	return run_wait(pid);
}

char *find_program(const char *name)
{
	return path_search(name, getenv("PATH"));
}
