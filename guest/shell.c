/* The "shell" request: an interactive /bin/sh on /dev/hvc0.
 *
 * hvc0 is the virtconsole port (KTSTR_SHELL_PORT_NAME) that the host wires
 * to the user's terminal, so the shell gets a real tty with job control
 * while the agent port stays free for the exit record. */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define SHELL_TTY "/dev/hvc0"
/* hvc devices appear when the console port is announced, which may lag
 * the agent port a little. */
#define TTY_WAIT_TRIES 300
#define TTY_WAIT_US 10000

static int open_tty(void)
{
	int i, fd = -1;

	for (i = 0; i < TTY_WAIT_TRIES; i++) {
		fd = open(SHELL_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 || (errno != ENOENT && errno != ENODEV && errno != ENXIO))
			break;
		usleep(TTY_WAIT_US);
	}
	return fd;
}

static void __attribute__((noreturn))
shell_child(int tty, const json_t *req)
{
	const char *term = json_get_str(req, "term");
	const char *colorterm = json_get_str(req, "colorterm");
	long long cols = json_get_int(req, "cols", 0);
	long long rows = json_get_int(req, "rows", 0);

	child_reset();
	/* New session so hvc0 can become its controlling tty: ^C, ^Z and
	 * job control then work as on a normal login. */
	setsid();
	if (ioctl(tty, TIOCSCTTY, 0) < 0)
		dprintf(tty, "ktstr-agent: TIOCSCTTY: %s\r\n", strerror(errno));
	dup2(tty, 0);
	dup2(tty, 1);
	dup2(tty, 2);
	if (cols > 0 && rows > 0 && cols <= 0xffff && rows <= 0xffff) {
		struct winsize ws = { .ws_row = (unsigned short)rows,
				      .ws_col = (unsigned short)cols };

		ioctl(0, TIOCSWINSZ, &ws);
	}
	setenv("TERM", term && *term ? term : "linux", 1);
	if (colorterm && *colorterm)
		setenv("COLORTERM", colorterm, 1);
	if (chdir("/root") < 0 && chdir("/") < 0)
		dprintf(2, "ktstr-agent: chdir: %s\n", strerror(errno));
	execl("/bin/sh", "sh", "-i", (char *)NULL);
	dprintf(2, "ktstr-agent: cannot run /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

static void wait_child(struct agent *ag, struct child *c)
{
	while (!c->done) {
		struct pollfd pfd[2] = {
			{ .fd = ag->sigfd, .events = POLLIN },
			{ .fd = ag->port, .events = 0 },
		};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			agent_fail(ag, "poll: %s", strerror(errno));
		if (port_hung_up(ag, pfd[1].revents))
			agent_host_gone();
		if (pfd[0].revents)
			child_reap(ag, c);
	}
}

void shell_run(struct agent *ag, const json_t *req)
{
	struct child c = { .pid = -1 };
	int tty = open_tty();

	if (tty < 0)
		agent_fail(ag, "shell: cannot open " SHELL_TTY ": %s (QEMU needs "
			   "-device virtconsole,name=" KTSTR_SHELL_PORT_NAME ")",
			   strerror(errno));
	c.pid = fork();
	if (c.pid < 0)
		agent_fail(ag, "shell: fork: %s", strerror(errno));
	if (c.pid == 0)
		shell_child(tty, req);
	close(tty);
	vlog("shell: pid %d on " SHELL_TTY, (int)c.pid);

	wait_child(ag, &c);
	if (port_send_final(ag, child_exit_record(c.status, false)) < 0)
		agent_host_gone();
}
