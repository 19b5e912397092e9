/* The virtio-serial port to the host.
 *
 * Delivery before power-off.  write() on a virtio port returns once the
 * buffer is queued, not when QEMU has taken it, and QEMU holds queued
 * buffers while a slow host reader throttles it; powering off then drops
 * them, "exit" record included.  So the last record is acknowledged: the
 * host answers it with {"type":"ack"} once it has read it, which means it
 * has read everything before it too, and only then does the agent power
 * off (or when the host hangs up, or after ACK_WAIT_MS).
 *
 * Writes are blocking: the driver then sleeps (rather than failing) while
 * the queue is full or no host is connected.  Before the first connection
 * that is the wait we want; after a disconnect it would last forever, so
 * each write runs under an alarm and checks for a hang-up when
 * interrupted. */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define VPORT_DIR "/sys/class/virtio-ports"
/* Ports are added and named by control messages after the driver has
 * probed, so they can show up a little after /init starts (slowly under
 * TCG). */
#define PORT_FIND_MS 10000
#define RETRY_US 10000
/* Largest request line accepted (a command can embed a whole script). */
#define REQUEST_MAX (16u << 20)
/* How often a write sleeping for the host wakes up to check on it. */
#define WRITE_ALARM_S 2
/* How long the final record may wait for the host's ack. */
#define ACK_WAIT_MS 10000

/* /dev/vportNpM of the port named name, or NULL; caller frees. */
static char *find_port_dev(const char *name)
{
	DIR *d = opendir(VPORT_DIR);
	struct dirent *de;
	char *dev = NULL;

	if (!d)
		return NULL;
	while (!dev && (de = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		char *path;

		if (strncmp(de->d_name, "vport", 5))
			continue;
		path = xasprintf(VPORT_DIR "/%s/name", de->d_name);
		if (strbuf_read_file(&sb, path) == 0) {
			strbuf_trim(&sb);
			if (!strcmp(sb.buf, name))
				dev = xasprintf("/dev/%s", de->d_name);
		}
		free(path);
		strbuf_release(&sb);
	}
	closedir(d);
	return dev;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* No SA_RESTART: the alarm exists to break a write out of its sleep. */
static void alarm_setup(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

int port_use(int fd)
{
	alarm_setup();
	return fd;
}

int port_open(void)
{
	long long deadline = monotonic_ms() + PORT_FIND_MS;

	for (;;) {
		char *dev = find_port_dev(KTSTR_AGENT_PORT_NAME);

		if (dev) {
			int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);

			/* ENOENT: sysfs is ahead of devtmpfs; retry. */
			if (fd >= 0) {
				vlog("agent port is %s", dev);
				alarm_setup();
			} else if (errno != ENOENT) {
				diag("cannot open %s: %s; powering off", dev, strerror(errno));
			}
			if (fd >= 0 || errno != ENOENT) {
				free(dev);
				return fd;
			}
			free(dev);
		}
		if (monotonic_ms() >= deadline)
			break;
		usleep(RETRY_US);
	}
	diag("no virtio-serial port named %s in " VPORT_DIR " after %d s: "
	     "QEMU needs -device virtio-serial-pci and "
	     "-device virtserialport,name=%s; powering off",
	     KTSTR_AGENT_PORT_NAME, PORT_FIND_MS / 1000, KTSTR_AGENT_PORT_NAME);
	return -1;
}

bool port_hung_up(const struct agent *ag, short revents)
{
	/* Before the first connection POLLHUP only means "not yet". */
	return ag->host_seen && (revents & (POLLHUP | POLLERR | POLLNVAL));
}

static bool host_left(const struct agent *ag)
{
	struct pollfd pfd = { .fd = ag->port, .events = 0 };

	return poll(&pfd, 1, 0) > 0 && port_hung_up(ag, pfd.revents);
}

static int port_write(struct agent *ag, const char *buf, size_t len)
{
	unsigned waits = 0;

	while (len) {
		ssize_t n;

		alarm(WRITE_ALARM_S);
		n = write(ag->port, buf, len);
		alarm(0);
		if (n > 0) {
			ag->host_seen = true;
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			if (host_left(ag)) {
				errno = EPIPE;
				return -1;
			}
			if (!ag->host_seen && ++waits == 5)
				diag("waiting for the host to connect to %s",
				     KTSTR_AGENT_PORT_NAME);
			continue;
		}
		/* 0: the driver found no free descriptor after all; it does
		 * not sleep for that, so give QEMU a moment. */
		if (n == 0) {
			usleep(1000);
			continue;
		}
		return -1;
	}
	return 0;
}

void port_queue(struct agent *ag, json_t *rec)
{
	jsonl_encode(&ag->outq, rec);
	json_decref(rec);
}

int port_flush(struct agent *ag)
{
	int ret = port_write(ag, ag->outq.buf, ag->outq.len);

	strbuf_reset(&ag->outq);
	/* A flood must not pin its peak size for the rest of the run. */
	if (ag->outq.alloc > (1u << 20))
		strbuf_release(&ag->outq);
	return ret;
}

int port_send(struct agent *ag, json_t *rec)
{
	port_queue(ag, rec);
	return port_flush(ag);
}

/* Wait until the host acknowledges, hangs up, or ACK_WAIT_MS passes. */
static void port_wait_ack(struct agent *ag)
{
	long long deadline = monotonic_ms() + ACK_WAIT_MS;
	struct line_reader lr;

	line_reader_init(&lr, 4096);
	for (;;) {
		struct pollfd pfd = { .fd = ag->port, .events = POLLIN };
		long long left = deadline - monotonic_ms();
		const char *line;
		char buf[4096];
		size_t len;
		ssize_t n;

		while ((line = line_reader_next(&lr, &len, NULL)))
			if (len && memmem(line, len, "\"ack\"", 5))
				goto out;
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (port_hung_up(ag, pfd.revents) && !(pfd.revents & POLLIN))
			break;
		n = read(ag->port, buf, sizeof(buf));
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		if (n > 0)
			line_reader_feed(&lr, buf, (size_t)n);
	}
	vlog("no ack from the host for the final record");
out:
	line_reader_release(&lr);
}

int port_send_final(struct agent *ag, json_t *rec)
{
	if (port_send(ag, rec) < 0)
		return -1;
	port_wait_ack(ag);
	return 0;
}

/* Feed what the port has into lr; powers off on disconnect.  One read
 * per POLLIN: the fd is blocking, and POLLIN promises one read only. */
static void port_fill(struct agent *ag, struct line_reader *lr)
{
	char buf[4096];
	ssize_t n = read(ag->port, buf, sizeof(buf));

	if (n > 0)
		line_reader_feed(lr, buf, (size_t)n);
	else if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	else
		/* 0: the kernel's "no host connected". */
		agent_host_gone();
}

json_t *port_read_request(struct agent *ag, struct strbuf *err)
{
	struct line_reader lr;
	json_t *req = NULL;

	line_reader_init(&lr, REQUEST_MAX);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ag->port, .events = POLLIN },
			{ .fd = ag->sigfd, .events = POLLIN },
		};
		const char *line;
		size_t len;
		bool cut;

		line = line_reader_next(&lr, &len, &cut);
		if (line) {
			if (cut)
				strbuf_addf(err, "request longer than %u bytes", REQUEST_MAX);
			else
				req = jsonl_parse(line, len, err);
			break;
		}
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			agent_fail(ag, "poll: %s", strerror(errno));
		if (pfd[1].revents)
			child_reap(ag, NULL);
		if (pfd[0].revents)
			port_fill(ag, &lr);
	}
	line_reader_release(&lr);
	return req;
}
