#include "ctprof_taskstats.h"
#include "diag.h"
#include "jsonl.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* Room for any reply: struct taskstats is well under 1 KiB in every
 * version, the family lookup a few hundred bytes more. */
#define REPLY_MAX 8192

struct request {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[64];
};

/* Delay fields by their offset in struct taskstats; a field is present
 * when the kernel's struct (the attribute's length) reaches it.  irq_* came
 * in version 14, right after wpcopy_delay_total, and may be newer than the
 * installed header. */
#define TS_OFF(f) offsetof(struct taskstats, f)
#define TS_IRQ_COUNT (TS_OFF(wpcopy_delay_total) + 8)
static const struct {
	const char *name;
	size_t off;
	bool always;	/* valid without delay accounting (from sched_info) */
} ts_fields[] = {
	{ "cpu_delay_count", TS_OFF(cpu_count), true },
	{ "cpu_delay_ns", TS_OFF(cpu_delay_total), true },
	{ "blkio_delay_count", TS_OFF(blkio_count), false },
	{ "blkio_delay_ns", TS_OFF(blkio_delay_total), false },
	{ "swapin_delay_count", TS_OFF(swapin_count), false },
	{ "swapin_delay_ns", TS_OFF(swapin_delay_total), false },
	{ "freepages_delay_count", TS_OFF(freepages_count), false },
	{ "freepages_delay_ns", TS_OFF(freepages_delay_total), false },
	{ "thrashing_delay_count", TS_OFF(thrashing_count), false },
	{ "thrashing_delay_ns", TS_OFF(thrashing_delay_total), false },
	{ "compact_delay_count", TS_OFF(compact_count), false },
	{ "compact_delay_ns", TS_OFF(compact_delay_total), false },
	{ "wpcopy_delay_count", TS_OFF(wpcopy_count), false },
	{ "wpcopy_delay_ns", TS_OFF(wpcopy_delay_total), false },
	{ "irq_delay_count", TS_IRQ_COUNT, false },
	{ "irq_delay_ns", TS_IRQ_COUNT + 8, false },
};

static void add_attr(struct request *r, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void init_request(struct request *r, uint16_t type, uint8_t cmd, uint8_t version,
			 uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = NLM_F_REQUEST;
	r->n.nlmsg_seq = seq;
	r->g.cmd = cmd;
	r->g.version = version;
}

/* Send r and receive the reply with its sequence number into buf.
 * Returns the reply's length; 0 with *nl_err set when the kernel answered
 * with an error; -1 with errno set when the socket failed. */
static ssize_t transact(int fd, struct request *r, char *buf, size_t size, int *nl_err)
{
	*nl_err = 0;
	if (send(fd, r, r->n.nlmsg_len, 0) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(fd, buf, size, 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n < NLMSG_HDRLEN || h->nlmsg_len > (size_t)n) {
			errno = EPROTO;
			return -1;
		}
		/* A reply to an earlier request that timed out: not ours. */
		if (h->nlmsg_seq != r->n.nlmsg_seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
				errno = EPROTO;
				return -1;
			}
			*nl_err = e->error ? -e->error : EPROTO;
			return 0;
		}
		return n;
	}
}

/* First attribute of the given type in [p, p+len), or NULL. */
static const struct nlattr *find_attr(const char *p, size_t len, uint16_t type)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = a->nla_len, step = NLA_ALIGN(alen);

		if (alen < NLA_HDRLEN || alen > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (step >= len)
			return NULL;
		p += step;
		len -= step;
	}
	return NULL;
}

static int resolve_family(struct ctprof_taskstats *ts, struct strbuf *why)
{
	static const char name[] = TASKSTATS_GENL_NAME;
	struct request r;
	char buf[REPLY_MAX];
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	const struct nlattr *id;
	ssize_t n;
	int nl_err;

	init_request(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, ++ts->seq);
	add_attr(&r, CTRL_ATTR_FAMILY_NAME, name, sizeof(name));
	n = transact(ts->fd, &r, buf, sizeof(buf), &nl_err);
	if (n < 0) {
		strbuf_addf(why, "generic netlink: %s", strerror(errno));
		return -1;
	}
	if (!nl_err && (size_t)n < NLMSG_LENGTH(GENL_HDRLEN))
		nl_err = EPROTO;
	if (nl_err) {
		strbuf_addf(why, "no %s generic netlink family (%s): kernel without "
			    "CONFIG_TASKSTATS, or not the initial network namespace",
			    name, strerror(nl_err));
		return -1;
	}
	id = find_attr(buf + NLMSG_LENGTH(GENL_HDRLEN),
		       h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), CTRL_ATTR_FAMILY_ID);
	if (!id || id->nla_len < NLA_HDRLEN + sizeof(uint16_t)) {
		strbuf_addstr(why, "generic netlink: family lookup reply without an id");
		return -1;
	}
	memcpy(&ts->family, (const char *)id + NLA_HDRLEN, sizeof(uint16_t));
	return 0;
}

int ctprof_taskstats_open(struct ctprof_taskstats *ts, bool delayacct, struct strbuf *why)
{
	struct timeval tv = { .tv_sec = 2 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	json_t *probe;
	int rc;

	memset(ts, 0, sizeof(*ts));
	ts->delayacct = delayacct;
	ts->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (ts->fd < 0) {
		strbuf_addf(why, "netlink socket: %s", strerror(errno));
		return -1;
	}
	/* A kernel that never answers must not hang the capture. */
	setsockopt(ts->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(ts->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		strbuf_addf(why, "netlink bind: %s", strerror(errno));
		ctprof_taskstats_close(ts);
		return -1;
	}
	if (resolve_family(ts, why) < 0) {
		ctprof_taskstats_close(ts);
		return -1;
	}
	/* Probe with our own thread: TASKSTATS_CMD_GET needs CAP_NET_ADMIN,
	 * and finding that out once beats failing for every thread. */
	probe = json_object();
	rc = ctprof_taskstats_query(ts, (pid_t)syscall(SYS_gettid), probe);
	json_decref(probe);
	if (rc < 0) {
		strbuf_addf(why, "taskstats query refused: %s",
			    errno == EPERM ? "needs CAP_NET_ADMIN (run as root)" : strerror(errno));
		ctprof_taskstats_close(ts);
		return -1;
	}
	return 0;
}

void ctprof_taskstats_close(struct ctprof_taskstats *ts)
{
	if (ts->fd >= 0)
		close(ts->fd);
	ts->fd = -1;
}

int ctprof_taskstats_parse(const void *msg, size_t len, pid_t tid, bool delayacct,
			   json_t *thread)
{
	const struct nlmsghdr *h = msg;
	const struct nlattr *aggr, *pid_attr, *stats;
	const char *payload;
	size_t plen, i, slen;
	uint32_t pid;

	if (len < NLMSG_LENGTH(GENL_HDRLEN) || h->nlmsg_len > len ||
	    h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return -1;
	payload = (const char *)msg + NLMSG_LENGTH(GENL_HDRLEN);
	plen = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	aggr = find_attr(payload, plen, TASKSTATS_TYPE_AGGR_PID);
	if (!aggr)
		return -1;
	payload = (const char *)aggr + NLA_HDRLEN;
	plen = aggr->nla_len - NLA_HDRLEN;
	pid_attr = find_attr(payload, plen, TASKSTATS_TYPE_PID);
	stats = find_attr(payload, plen, TASKSTATS_TYPE_STATS);
	if (!pid_attr || !stats || pid_attr->nla_len < NLA_HDRLEN + sizeof(pid))
		return -1;
	memcpy(&pid, (const char *)pid_attr + NLA_HDRLEN, sizeof(pid));
	if (pid != (uint32_t)tid)
		return -1;
	slen = stats->nla_len - NLA_HDRLEN;
	for (i = 0; i < ARRAY_SIZE(ts_fields); i++) {
		uint64_t v;

		if (ts_fields[i].off + sizeof(v) > slen)
			continue;
		if (!ts_fields[i].always && !delayacct)
			continue;
		/* Attribute payloads are only 4-byte aligned. */
		memcpy(&v, (const char *)stats + NLA_HDRLEN + ts_fields[i].off, sizeof(v));
		json_set_int(thread, ts_fields[i].name, (long long)v);
	}
	return 0;
}

int ctprof_taskstats_query(struct ctprof_taskstats *ts, pid_t tid, json_t *thread)
{
	struct request r;
	char buf[REPLY_MAX];
	uint32_t pid = (uint32_t)tid;
	ssize_t n;
	int nl_err;

	if (ts->fd < 0) {
		errno = EBADF;
		return -1;
	}
	init_request(&r, ts->family, TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, ++ts->seq);
	add_attr(&r, TASKSTATS_CMD_ATTR_PID, &pid, sizeof(pid));
	n = transact(ts->fd, &r, buf, sizeof(buf), &nl_err);
	if (n < 0) {
		/* The socket itself failed (timeout included): stop asking. */
		int err = errno;

		ctprof_taskstats_close(ts);
		errno = err;
		return -1;
	}
	if (nl_err) {
		errno = nl_err;
		return -1;
	}
	if (ctprof_taskstats_parse(buf, (size_t)n, tid, ts->delayacct, thread) < 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}
