#include "qmp.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Replies are small; the largest we ask for is a few kilobytes of HMP text. */
#define QMP_MAX_LINE (1u << 20)

/* The next complete JSON object QEMU sends, within the timeout. */
static json_t *read_object(struct qmp *q, long long deadline_ms, struct strbuf *err)
{
	for (;;) {
		const char *line;
		bool truncated;
		size_t len;
		char buf[4096];
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		long long left;
		ssize_t n;
		int rc;

		while ((line = line_reader_next(&q->lr, &len, &truncated))) {
			json_error_t je;
			json_t *obj;

			if (truncated) {
				strbuf_addstr(err, "QMP: a reply longer than 1 MiB");
				return NULL;
			}
			while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
				len--;
			if (!len)
				continue;
			obj = json_loadb(line, len, 0, &je);
			if (!json_is_object(obj)) {
				json_decref(obj);
				strbuf_addf(err, "QMP: not a JSON object: %.60s", line);
				return NULL;
			}
			return obj;
		}
		left = deadline_ms - monotonic_ms();
		if (left <= 0) {
			strbuf_addf(err, "QMP: no answer within %d ms", q->timeout_ms);
			return NULL;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			strbuf_addf(err, "QMP: poll: %s", strerror(errno));
			return NULL;
		}
		if (rc == 0)
			continue;
		n = read(q->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			strbuf_addf(err, "QMP: channel closed%s%s", n < 0 ? ": " : "",
				    n < 0 ? strerror(errno) : "");
			return NULL;
		}
		line_reader_feed(&q->lr, buf, (size_t)n);
	}
}

json_t *qmp_execute(struct qmp *q, const char *command, const json_t *args,
		    struct strbuf *err)
{
	long long deadline = monotonic_ms() + q->timeout_ms;
	json_t *cmd = json_object();

	json_object_set_new(cmd, "execute", json_string(command));
	if (args)
		json_object_set(cmd, "arguments", (json_t *)args);
	/* One compact line, as QMP wants it (the channel blocks). */
	if (jsonl_emit_fd(q->fd, cmd) < 0) {
		strbuf_addf(err, "QMP: cannot send %s: %s", command, strerror(errno));
		return NULL;
	}
	for (;;) {
		json_t *reply = read_object(q, deadline, err), *v;

		if (!reply)
			return NULL;
		if ((v = json_object_get(reply, "return"))) {
			json_incref(v);
			json_decref(reply);
			return v;
		}
		if ((v = json_object_get(reply, "error"))) {
			const char *desc = json_string_value(json_object_get(v, "desc"));

			strbuf_addf(err, "QMP: %s failed: %s", command, desc ? desc : "no reason given");
			json_decref(reply);
			return NULL;
		}
		/* An event (or anything else that is not our reply). */
		json_decref(reply);
	}
}

int qmp_open(struct qmp *q, int fd, int timeout_ms, struct strbuf *err)
{
	json_t *greeting, *r;

	q->fd = fd;
	q->timeout_ms = timeout_ms;
	line_reader_init(&q->lr, QMP_MAX_LINE);
	greeting = read_object(q, monotonic_ms() + timeout_ms, err);
	if (!greeting)
		goto fail;
	if (!json_object_get(greeting, "QMP")) {
		strbuf_addstr(err, "QMP: the first message is not QEMU's greeting");
		json_decref(greeting);
		goto fail;
	}
	json_decref(greeting);
	r = qmp_execute(q, "qmp_capabilities", NULL, err);
	if (!r)
		goto fail;
	json_decref(r);
	return 0;
fail:
	qmp_release(q);
	return -1;
}

void qmp_release(struct qmp *q)
{
	line_reader_release(&q->lr);
	q->fd = -1;
}

int qmp_hmp(struct qmp *q, const char *command_line, struct strbuf *out,
	    struct strbuf *err)
{
	json_t *args = json_pack("{s:s}", "command-line", command_line);
	json_t *r = qmp_execute(q, "human-monitor-command", args, err);

	json_decref(args);
	if (!r)
		return -1;
	if (!json_is_string(r)) {
		strbuf_addf(err, "QMP: %s: the answer is not text", command_line);
		json_decref(r);
		return -1;
	}
	strbuf_add(out, json_string_value(r), json_string_length(r));
	json_decref(r);
	return 0;
}

/* The hex columns of "info ramblock", in the order QEMU may print them.
 * A row's PSize is text with a space ("4 KiB"), so rows are matched to
 * the header by the rank of each hex field, not by counting words. */
static const char *const hex_cols[] = { "Offset", "Used", "Total", "HVA" };
#define N_HEX_COLS (sizeof(hex_cols) / sizeof(hex_cols[0]))

/* Rank of column col among the hex columns of the header, or -1. */
static int hex_rank(const char *hdr, const char *col)
{
	const char *at = strstr(hdr, col), *other;
	int rank = 0;

	if (!at)
		return -1;
	for (size_t i = 0; i < N_HEX_COLS; i++)
		if ((other = strstr(hdr, hex_cols[i])) && other < at)
			rank++;
	return rank;
}

static int parse_hex(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno || end == s || *end ? -1 : 0;
}

/* The hex fields (0x...) of a row, in order, after its first word (the
 * block name, returned in *name). */
static int row_fields(char *row, char **name, uint64_t *hex, int max)
{
	char *save = NULL, *tok = strtok_r(row, " \t\r", &save);
	int n = 0;

	*name = tok;
	while (tok && (tok = strtok_r(NULL, " \t\r", &save)) && n < max) {
		if (strncmp(tok, "0x", 2))
			continue;
		if (parse_hex(tok, &hex[n]) < 0)
			return -1;
		n++;
	}
	return n;
}

int qmp_ramblock_find(const char *text, const char *name, struct qmp_ramblock *out,
		      struct strbuf *err)
{
	char *copy = strdup(text), *save = NULL, *line;
	int r_off = -1, r_used = -1, r_hva = -1, rc = -1;
	bool header = false;

	if (!copy) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t hex[N_HEX_COLS];
		char *row_name;
		int n;

		if (!header) {
			if (!strstr(line, "Block Name"))
				continue;
			header = true;
			r_off = hex_rank(line, "Offset");
			r_used = hex_rank(line, "Used");
			r_hva = hex_rank(line, "HVA");
			if (r_off < 0 || r_used < 0 || r_hva < 0) {
				strbuf_addstr(err, "QEMU's \"info ramblock\" has no Offset, Used "
					      "and HVA columns; the monitor needs a QEMU that prints them");
				goto out;
			}
			continue;
		}
		n = row_fields(line, &row_name, hex, (int)N_HEX_COLS);
		if (!row_name || strcmp(row_name, name))
			continue;
		if (n <= r_off || n <= r_used || n <= r_hva) {
			strbuf_addf(err, "QEMU's \"info ramblock\" row for %s does not have "
				    "its offset, size and address in hex", name);
			goto out;
		}
		out->offset = hex[r_off];
		out->used = hex[r_used];
		out->hva = hex[r_hva];
		rc = 0;
		goto out;
	}
	if (!header)
		strbuf_addstr(err, "QEMU's \"info ramblock\" printed no table");
	else
		strbuf_addf(err, "QEMU has no RAM block named %s", name);
out:
	free(copy);
	return rc;
}
