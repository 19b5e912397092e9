/* The "exec" request: run /bin/sh -c CMD (or CMD's program directly when
 * it needs no shell) and stream its output as records.
 *
 * The command is done when its /bin/sh (or program) exits.  Whatever it left running
 * is then killed (its process group and anything that escaped it with
 * setsid: the VM powers off next anyway), so a background daemon holding
 * the output pipes cannot keep the run open.  Data already in the pipes is
 * still delivered. */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Bound on reading the pipes after the command exited and everything was
 * killed: only a writer stuck in the kernel can hold them this long. */
#define DRAIN_MS 2000
/* Reads per stream per poll round, so a flood on one stream cannot
 * starve the other or the timeout check. */
#define READS_PER_ROUND 16

struct stream {
	int fd;			/* read end, -1 at EOF */
	const char *name;	/* "stdout" / "stderr" */
	struct line_reader lr;
};

struct run {
	struct child c;
	struct stream out, err;
	long long deadline;	/* timeout_ms expiry, 0 = none */
	long long drain_end;	/* set once the command has exited */
	bool timed_out;
};

/* One pipe's worth (64 KiB by default); static as the agent has one thread. */
static char readbuf[65536];

static int check_request(const json_t *req, struct strbuf *err)
{
	const json_t *env = json_object_get(req, "env");
	const json_t *to = json_object_get(req, "timeout_ms");
	const char *key;
	json_t *val;

	if (!json_get_str(req, "cmd")) {
		strbuf_addstr(err, "\"cmd\" must be a string");
		return -1;
	}
	if (to && !json_is_null(to) && (!json_is_integer(to) || json_integer_value(to) < 0)) {
		strbuf_addstr(err, "\"timeout_ms\" must be a non-negative integer");
		return -1;
	}
	if (!env || json_is_null(env))
		return 0;
	if (!json_is_object(env)) {
		strbuf_addstr(err, "\"env\" must be an object of strings");
		return -1;
	}
	json_object_foreach((json_t *)env, key, val) {
		if (!*key || strchr(key, '=') || !json_is_string(val)) {
			strbuf_addf(err, "bad \"env\" entry \"%s\": names must be non-empty "
				    "without '=', values strings", key);
			return -1;
		}
	}
	return 0;
}

/* The command's environment: the agent's own with the request's "env" on
 * top, as a fresh array (the agent's environ is left alone).  Built before
 * vfork: the child borrows our memory until it execs and must not
 * allocate.  Free with free_envp(). */
static char **build_envp(const json_t *env)
{
	size_t n = 0, k = 0, extra = json_is_object(env) ? json_object_size(env) : 0;
	const char *key;
	json_t *val;
	char **v;

	while (environ[n])
		n++;
	v = xcalloc(n + extra + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (extra && json_object_getn(env, environ[i], klen))
			continue;
		v[k++] = xstrdup(environ[i]);
	}
	if (extra)
		json_object_foreach((json_t *)env, key, val)
			v[k++] = xasprintf("%s=%s", key, json_string_value(val));
	return v;
}

static void free_envp(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The value of name in envp, or NULL. */
static const char *envp_get(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (; *envp; envp++)
		if (!strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* vfork, not fork: under TCG copying PID 1's page tables and then taking
 * its copy-on-write faults cost 5-15 ms of a ~2 s boot (issue 16).  The
 * child only makes system calls (child_stdio is written for this) and
 * execs; the parent sleeps until then.  Signal dispositions are the
 * child's own (no CLONE_SIGHAND), so child_stdio resets them as after a
 * fork.  posix_spawn would do the same, but glibc's leaves its two
 * internal signals ignored in the child, and an ignored signal survives
 * exec.
 *
 * prog, when not NULL, is cmd's program found in the command's own PATH
 * and words its argv (cmdwords.c: a line of plain words), looked up by
 * the caller as the child must not allocate.  Should that exec fail, the
 * shell runs the line after all, so errors and their exit codes (126,
 * 127) are the shell's. */
static pid_t spawn_command(const char *cmd, const char *prog, char **words,
			   char **envp, int out, int err)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	pid_t pid = vfork();

	if (pid == 0) {
		static const char msg[] = "ktstr-agent: cannot run /bin/sh: ";

		child_stdio(out, err);
		if (prog)
			execve(prog, words, envp);
		execve("/bin/sh", argv, envp);
		/* No stdio or strerror here: both may allocate. */
		child_write_err(msg, errno);
		_exit(127);
	}
	return pid;
}

static void send_line(struct agent *ag, const char *stream, const char *line, size_t len)
{
	json_t *rec = jsonl_record("output");

	json_set_str(rec, "stream", stream);
	json_set_bytes(rec, "line", line, len);
	port_queue(ag, rec);
}

/* Send every complete line the reader holds, in one write. */
static void stream_emit_lines(struct agent *ag, struct stream *s)
{
	const char *line;
	size_t len;
	bool cut;

	while ((line = line_reader_next(&s->lr, &len, &cut)))
		send_line(ag, s->name, line, len);
	if (port_flush(ag) < 0)
		agent_host_gone();
}

static void stream_close(struct agent *ag, struct stream *s)
{
	const char *rest;
	size_t len;

	stream_emit_lines(ag, s);
	rest = line_reader_rest(&s->lr, &len);
	if (rest) {
		send_line(ag, s->name, rest, len);
		if (port_flush(ag) < 0)
			agent_host_gone();
	}
	close(s->fd);
	s->fd = -1;
}

/* Move what the pipe has into records.  to_eof: the writers are dead, take
 * everything that is left. */
static void stream_pump(struct agent *ag, struct stream *s, bool to_eof)
{
	int i;

	for (i = 0; s->fd >= 0 && (to_eof || i < READS_PER_ROUND); i++) {
		ssize_t n = read(s->fd, readbuf, sizeof(readbuf));

		if (n > 0) {
			line_reader_feed(&s->lr, readbuf, (size_t)n);
			stream_emit_lines(ag, s);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		stream_close(ag, s);
	}
}

static int poll_timeout(const struct run *r)
{
	long long now = monotonic_ms(), until = -1;

	if (r->deadline && !r->c.done && !r->timed_out)
		until = r->deadline;
	if (r->drain_end)
		until = r->drain_end;
	if (until < 0)
		return -1;
	if (until <= now)
		return 0;
	return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

static void check_deadlines(struct agent *ag, struct run *r)
{
	long long now = monotonic_ms();

	if (r->deadline && !r->c.done && !r->timed_out && now >= r->deadline) {
		vlog("timeout: killing process group %d", (int)r->c.pid);
		kill(-r->c.pid, SIGKILL);
		r->timed_out = true;
	}
	if (r->drain_end && now >= r->drain_end) {
		/* Give up on a writer that would not die; keep what it wrote. */
		vlog("output pipes still open %d ms after exit; closing them", DRAIN_MS);
		stream_pump(ag, &r->out, true);
		stream_pump(ag, &r->err, true);
		if (r->out.fd >= 0)
			stream_close(ag, &r->out);
		if (r->err.fd >= 0)
			stream_close(ag, &r->err);
	}
}

static void on_reap(struct agent *ag, struct run *r)
{
	bool was_done = r->c.done;

	child_reap(ag, &r->c);
	if (r->c.done && !was_done) {
		vlog("command exited (status 0x%x)", r->c.status);
		/* Leftovers: its process group outlives the shell, and
		 * setsid'ed daemons left the group.  Only the agent (exempt
		 * from kill(-1) as the caller) needs to survive. */
		kill(-1, SIGKILL);
		r->drain_end = monotonic_ms() + DRAIN_MS;
	}
}

static void run_loop(struct agent *ag, struct run *r)
{
	while (!r->c.done || r->out.fd >= 0 || r->err.fd >= 0) {
		struct pollfd pfd[4] = {
			{ .fd = r->out.fd, .events = POLLIN },
			{ .fd = r->err.fd, .events = POLLIN },
			{ .fd = ag->sigfd, .events = POLLIN },
			/* No events asked: only to notice the host leaving. */
			{ .fd = ag->port, .events = 0 },
		};

		if (poll(pfd, 4, poll_timeout(r)) < 0 && errno != EINTR)
			agent_fail(ag, "poll: %s", strerror(errno));
		if (port_hung_up(ag, pfd[3].revents))
			agent_host_gone();
		if (pfd[0].revents)
			stream_pump(ag, &r->out, false);
		if (pfd[1].revents)
			stream_pump(ag, &r->err, false);
		if (pfd[2].revents)
			on_reap(ag, r);
		check_deadlines(ag, r);
	}
}

static void stream_init(struct stream *s, const char *name, int fd)
{
	s->fd = fd;
	s->name = name;
	line_reader_init(&s->lr, KTSTR_AGENT_MAX_LINE);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void exec_run(struct agent *ag, const json_t *req)
{
	struct strbuf err = STRBUF_INIT;
	struct run r = { .c.pid = -1 };
	long long timeout = json_get_int(req, "timeout_ms", 0);
	struct strvec words = STRVEC_INIT;
	const char *cmd;
	char *prog = NULL;
	int outp[2], errp[2];
	char **envp;

	if (check_request(req, &err) < 0)
		agent_fail(ag, "exec: %s", err.buf);
	strbuf_release(&err);
	cmd = json_get_str(req, "cmd");
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		agent_fail(ag, "exec: pipe: %s", strerror(errno));
	envp = build_envp(json_object_get(req, "env"));
	if (cmd_plain_words(cmd, &words))
		prog = path_search(words.v[0], envp_get(envp, "PATH"));
	r.c.pid = spawn_command(cmd, prog, words.v, envp, outp[1], errp[1]);
	if (r.c.pid < 0)
		agent_fail(ag, "exec: vfork: %s", strerror(errno));
	free_envp(envp);
	strvec_clear(&words);
	close(outp[1]);
	close(errp[1]);
	stream_init(&r.out, "stdout", outp[0]);
	stream_init(&r.err, "stderr", errp[0]);
	if (timeout > 0)
		r.deadline = monotonic_ms() + timeout;
	vlog("exec: pid %d: %s%s", (int)r.c.pid, prog ? "" : "sh -c ", cmd);
	free(prog);

	run_loop(ag, &r);
	line_reader_release(&r.out.lr);
	line_reader_release(&r.err.lr);
	if (port_send_final(ag, child_exit_record(r.c.status, r.timed_out)) < 0)
		agent_host_gone();
}
