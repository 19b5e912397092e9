/* The "shell" request: an interactive /bin/sh for the user's terminal.
 *
 * hvc0 is the virtconsole port (KTSTR_SHELL_PORT_NAME) that the host wires
 * to the user's terminal; the shell runs on a pty relayed to it (a real
 * tty with job control), while the agent port stays free for the exit
 * record. */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "ttyfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
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
shell_child(const char *pts, const json_t *req)
{
	const char *term = json_get_str(req, "term");
	const char *colorterm = json_get_str(req, "colorterm");
	int tty;

	child_reset();
	/* New session so the pty can become its controlling tty: ^C, ^Z and
	 * job control then work as on a normal login. */
	setsid();
	tty = open(pts, O_RDWR);
	if (tty < 0) {
		dprintf(2, "ktstr-agent: cannot open %s: %s\n", pts, strerror(errno));
		_exit(127);
	}
	if (ioctl(tty, TIOCSCTTY, 0) < 0)
		dprintf(tty, "ktstr-agent: TIOCSCTTY: %s\r\n", strerror(errno));
	dup2(tty, 0);
	dup2(tty, 1);
	dup2(tty, 2);
	if (tty > 2)
		close(tty);
	setenv("TERM", term && *term ? term : "linux", 1);
	if (colorterm && *colorterm)
		setenv("COLORTERM", colorterm, 1);
	/* PWD follows the chdir: the agent exports PWD=/ for everything else. */
	if (chdir("/root") == 0)
		setenv("PWD", "/root", 1);
	else if (chdir("/") < 0)
		dprintf(2, "ktstr-agent: chdir: %s\n", strerror(errno));
	execl("/bin/sh", "sh", "-i", (char *)NULL);
	dprintf(2, "ktstr-agent: cannot run /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

/* The shell runs on a pty whose other end the agent copies to and from
 * hvc0, so that cursor-position queries can be taken out on the way (see
 * ttyfilter.h).  hvc0 itself is raw: the pty's line discipline does the
 * echo, line editing and ^C for the shell. */
struct proxy {
	int tty, master;
	struct dsr_filter filter;
};

static int open_pty(const json_t *req, char **pts)
{
	long long cols = json_get_int(req, "cols", 0);
	long long rows = json_get_int(req, "rows", 0);
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !ptsname(m)) {
		if (m >= 0)
			close(m);
		return -1;
	}
	*pts = xstrdup(ptsname(m));
	if (cols > 0 && rows > 0 && cols <= 0xffff && rows <= 0xffff) {
		struct winsize ws = { .ws_row = (unsigned short)rows,
				      .ws_col = (unsigned short)cols };

		ioctl(m, TIOCSWINSZ, &ws);
	}
	return m;
}

static void make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
}

/* Shell output to the host, without the queries; each one is answered.
 * Returns false once the pty has no writer left. */
static bool pump_out(struct proxy *p)
{
	char buf[4096];
	struct strbuf out = STRBUF_INIT;
	ssize_t n = read(p->master, buf, sizeof(buf));
	unsigned q;

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	q = dsr_filter(&p->filter, buf, (size_t)n, &out);
	if (out.len && write_all(p->tty, out.buf, out.len) < 0)
		vlog("shell: write to " SHELL_TTY ": %s", strerror(errno));
	while (q--)
		write_all(p->master, DSR_ANSWER, strlen(DSR_ANSWER));
	strbuf_release(&out);
	return true;
}

static void pump_in(struct proxy *p)
{
	char buf[4096];
	ssize_t n = read(p->tty, buf, sizeof(buf));

	if (n > 0)
		write_all(p->master, buf, (size_t)n);
}

static void proxy_loop(struct agent *ag, struct proxy *p, struct child *c)
{
	bool open_ = true, tty_ok = true;

	while (!c->done) {
		struct pollfd pfd[4] = {
			{ .fd = ag->sigfd, .events = POLLIN },
			{ .fd = ag->port, .events = 0 },
			{ .fd = tty_ok ? p->tty : -1, .events = POLLIN },
			{ .fd = open_ ? p->master : -1, .events = POLLIN },
		};

		if (poll(pfd, 4, -1) < 0 && errno != EINTR)
			agent_fail(ag, "poll: %s", strerror(errno));
		if (port_hung_up(ag, pfd[1].revents))
			agent_host_gone();
		if (pfd[3].revents)
			open_ = pump_out(p);
		if (pfd[2].revents & POLLIN)
			pump_in(p);
		else if (pfd[2].revents)
			tty_ok = false;	/* the console went away; wait for the shell */
		if (pfd[0].revents)
			child_reap(ag, c);
	}
	/* What the shell wrote last (its "exit") is still in the pty. */
	while (open_) {
		struct pollfd pfd = { .fd = p->master, .events = POLLIN };

		open_ = poll(&pfd, 1, 0) > 0 && pump_out(p);
	}
	if (p->filter.held)
		write_all(p->tty, DSR_QUERY, p->filter.held);
}

void shell_run(struct agent *ag, const json_t *req)
{
	struct child c = { .pid = -1 };
	struct proxy p = { .tty = open_tty() };
	char *pts = NULL;

	if (p.tty < 0)
		agent_fail(ag, "shell: cannot open " SHELL_TTY ": %s (QEMU needs "
			   "-device virtconsole,name=" KTSTR_SHELL_PORT_NAME ")",
			   strerror(errno));
	p.master = open_pty(req, &pts);
	if (p.master < 0)
		agent_fail(ag, "shell: cannot allocate a pty: %s (is devpts mounted?)",
			   strerror(errno));
	make_raw(p.tty);
	c.pid = fork();
	if (c.pid < 0)
		agent_fail(ag, "shell: fork: %s", strerror(errno));
	if (c.pid == 0)
		shell_child(pts, req);
	vlog("shell: pid %d on %s, relayed to " SHELL_TTY, (int)c.pid, pts);
	free(pts);

	proxy_loop(ag, &p, &c);
	close(p.master);
	close(p.tty);
	if (port_send_final(ag, child_exit_record(c.status, false)) < 0)
		agent_host_gone();
}
