/* The sched_ext scheduler's lifecycle during a scenario.
 *
 *   start    fork/exec path args, stdout+stderr into a pipe that is drained
 *            all along: every line goes to the host as a sched_output
 *            record (ktstr-vm keeps them in a file) and into a ring of the
 *            last RING_LINES lines for the lifecycle records;
 *   attach   wait (at most ATTACH_TIMEOUT_MS; scx_qmap takes ~3 s under
 *            TCG) until /sys/kernel/sched_ext/state is "enabled" and
 *            root/ops names a scheduler; then its BPF programs
 *            (bpfprog.c, which lists the IDs before the fork too);
 *   watch    the process must be alive and the state still "enabled";
 *            otherwise it died, and the kernel's reason comes from
 *            /dev/kmsg: `sched_ext: BPF scheduler "X" disabled (REASON)`
 *            and the lines the kernel prints after it.  Checked at once
 *            when the process exits (SIGCHLD) or the kernel logs that
 *            line (the engine polls /dev/kmsg: the kernel logs every
 *            disable), and every HEALTH_MS as a fallback.  Each check
 *            costs the guest ~1 ms under TCG, so checking every 100 ms
 *            took ~1% of a 1-vCPU guest's CPU from the workers it
 *            measures;
 *   detach   SIGINT, wait DETACH_WAIT_MS for the exit (then SIGKILL: not
 *            clean) and for the state to read "disabled" again.
 * root/events exists only while a scheduler is attached, so it is read at
 * attach, on every check, and one last time before SIGINT; the deltas are
 * between the first and the last good read (a scheduler that died has
 * "partial" ones, up to a check old). */
#include "engine.h"
#include "bundle.h"
#include "diag.h"
#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RING_LINES 50
#define KLOG_LINES 30
#define ATTACH_TIMEOUT_MS 20000
#define ATTACH_POLL_MS 20
#define HEALTH_MS 1000
#define DETACH_WAIT_MS 5000
/* How long to wait for the kernel's "disabled" line once the scheduler is
 * seen gone, and for the lines that follow it. */
#define KLOG_WAIT_MS 1000
#define KLOG_TAIL_MS 200
#define OUT_MAX_LINE 4096

struct sched_run {
	struct engine *e;		/* where sched_output records go */
	char *name;
	pid_t pid;
	bool exited;
	int status;
	int outfd;
	struct line_reader lr;
	char *ring[RING_LINES];
	size_t ring_next, ring_n;
	long long start_ms;
	long long next_health_ms;
	bool attached, alive;
	json_t *ev_base, *ev_last;
	/* kernel log since the scenario started */
	struct line_reader klr;
	char *kreason;			/* REASON of the "disabled" line */
	json_t *klog;			/* that line and up to KLOG_LINES after it */
	json_t *kscx;			/* other sched_ext lines (attach failures) */
	bool no_kconfig;		/* libbpf said it found no kernel config */
};

/* libbpf's words when a BPF program uses Kconfig externs and neither
 * /boot/config-$(uname -r) nor /proc/config.gz exists. */
#define NO_KCONFIG_MARK "failed to open system Kconfig"
#define NO_KCONFIG_HINT "the guest has no kernel config for libbpf; pass --kconfig " \
	"PATH, or put the kernel's config beside the image as config-X for vmlinuz-X, " \
	"or as config"

const char *sched_name_of(const json_t *spec)
{
	const char *path = json_get_str(spec, "path");

	return path ? path_basename(path) : NULL;
}

int sched_fd(const struct engine *e)
{
	return e->sched ? e->sched->outfd : -1;
}

long long sched_next_ms(const struct engine *e)
{
	return e->sched && e->sched->alive ? e->sched->next_health_ms : -1;
}

int sched_kmsg_fd(const struct engine *e)
{
	return e->sched && e->sched->alive ? e->kmsg : -1;
}

bool sched_alive(const struct engine *e)
{
	return e->sched && e->sched->alive;
}

bool sched_on_exit(struct engine *e, pid_t pid, int status)
{
	struct sched_run *s = e->sched;

	if (!s || pid != s->pid || s->exited)
		return false;
	s->exited = true;
	s->status = status;
	return true;
}

static int exit_code_of(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* ---- output ring ---- */

/* One line of output: streamed to the host whole (a verifier log's head
 * names the failing program), and kept in the ring. */
static void ring_add(struct sched_run *s, const char *line, size_t len)
{
	json_t *rec = jsonl_record("sched_output");

	json_set_bytes(rec, "line", line, len);
	engine_emit(s->e, rec);
	/* Noted as it passes: the ring may have dropped it by the time the
	 * scheduler gives up. */
	if (memmem(line, len, NO_KCONFIG_MARK, strlen(NO_KCONFIG_MARK)))
		s->no_kconfig = true;
	free(s->ring[s->ring_next]);
	s->ring[s->ring_next] = xstrndup(line, len);
	s->ring_next = (s->ring_next + 1) % RING_LINES;
	if (s->ring_n < RING_LINES)
		s->ring_n++;
}

/* Move what the pipe holds into the ring; at EOF keep the unterminated
 * tail too and close the pipe. */
static void drain_output(struct sched_run *s)
{
	char buf[4096];
	bool got = false;

	while (s->outfd >= 0) {
		ssize_t n = read(s->outfd, buf, sizeof(buf));
		const char *line;
		size_t len;

		if (n > 0) {
			got = true;
			line_reader_feed(&s->lr, buf, (size_t)n);
			while ((line = line_reader_next(&s->lr, &len, NULL)))
				ring_add(s, line, len);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		line = line_reader_rest(&s->lr, &len);
		if (line) {
			got = true;
			ring_add(s, line, len);
		}
		close(s->outfd);
		s->outfd = -1;
	}
	/* Live on the host (--sched-output), not at the next record; but
	 * not while waiting for the attach, whose 20 ms polls must not miss
	 * a scheduler that is ejected moments after it is enabled: the
	 * attached or attach_failed record flushes these anyway. */
	if (got && s->attached)
		engine_flush(s->e);
}

static json_t *ring_json(const struct sched_run *s)
{
	json_t *a = json_array();
	size_t i, start = (s->ring_next + RING_LINES - s->ring_n) % RING_LINES;

	for (i = 0; i < s->ring_n; i++) {
		const char *l = s->ring[(start + i) % RING_LINES];

		json_array_append_new(a, json_string_bytes(l, strlen(l)));
	}
	return a;
}

/* ---- kernel log ---- */

static void klog_line(struct sched_run *s, const char *msg, size_t len)
{
	static const char tag[] = "sched_ext: BPF scheduler \"";
	/* Repaired, not dropped: a scheduler's death message with one bad
	 * byte is still the reason it died. */
	json_t *str = json_string_bytes(msg, len);
	const char *p;
	char *text = xstrdup(json_string_value(str));

	if (s->klog && json_array_size(s->klog) <= KLOG_LINES) {
		json_array_append(s->klog, str);
	} else if (!s->kreason && (p = strstr(text, tag)) && strstr(p, "\" disabled (")) {
		const char *open = strstr(p, "\" disabled (") + 12;
		const char *close = strrchr(open, ')');

		s->kreason = close ? xstrndup(open, (size_t)(close - open)) : xstrdup(open);
		s->klog = json_array();
		json_array_append(s->klog, str);
	} else if (strstr(text, "sched_ext") && json_array_size(s->kscx) < KLOG_LINES) {
		json_array_append(s->kscx, str);
	}
	json_decref(str);
	free(text);
}

/* Read every record /dev/kmsg has for us.  A record is
 * "prio,seq,usec,flags;message" plus optional " KEY=value" lines. */
static void klog_drain(struct engine *e)
{
	struct sched_run *s = e->sched;
	char buf[8192];

	if (e->kmsg < 0)
		return;
	for (;;) {
		ssize_t n = read(e->kmsg, buf, sizeof(buf) - 1);
		const char *msg, *end;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip ahead */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf[n] = '\0';
		msg = strchr(buf, ';');
		if (!msg)
			continue;
		msg++;
		end = strchr(msg, '\n');
		klog_line(s, msg, end ? (size_t)(end - msg) : strlen(msg));
	}
}

/* Give the kernel time to print why the scheduler went away. */
static void klog_settle(struct engine *e)
{
	long long deadline = monotonic_ms() + KLOG_WAIT_MS, tail = 0;

	for (;;) {
		struct pollfd pfd = { .fd = e->kmsg, .events = POLLIN };
		long long now = monotonic_ms();

		klog_drain(e);
		if (e->sched->kreason && !tail)
			tail = now + KLOG_TAIL_MS;
		if (e->kmsg < 0 || now >= deadline || (tail && now >= tail))
			break;
		poll(&pfd, 1, 20);
	}
}

static json_t *klog_json(const struct sched_run *s)
{
	if (s->klog)
		return json_deep_copy(s->klog);
	return json_deep_copy(s->kscx);
}

/* ---- sysfs ---- */

static char *scx_dir;

void sched_set_scx_dir(const char *dir)
{
	free(scx_dir);
	scx_dir = xstrdup(dir);
}

static char *read_scx(const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/%s", scx_dir ? scx_dir : SCX_DIR, file);

	if (strbuf_read_file(&sb, path) < 0) {
		free(path);
		strbuf_release(&sb);
		return NULL;
	}
	free(path);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

static bool state_is(const char *want)
{
	char *st = read_scx("state");
	bool ret = st && !strcmp(st, want);

	free(st);
	return ret;
}

/* root/events: "NAME VALUE" lines; NULL when not attached. */
static json_t *read_events(void)
{
	char *text = read_scx("root/events"), *line, *save = NULL;
	json_t *o;

	if (!text)
		return NULL;
	o = json_object();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128];
		long long v;

		if (sscanf(line, "%127s %lld", key, &v) == 2)
			json_object_set_new(o, key, json_integer(v));
	}
	free(text);
	return o;
}

static void events_update(struct sched_run *s)
{
	json_t *ev = read_events();

	if (!ev)
		return;
	json_decref(s->ev_last);
	s->ev_last = ev;
}

static void emit_events(struct engine *e, bool partial)
{
	struct sched_run *s = e->sched;
	json_t *rec, *d;
	const char *key;
	json_t *v;

	if (!s->ev_base || !s->ev_last)
		return;
	rec = jsonl_record("sched_ext_events");
	d = json_object();
	json_object_foreach(s->ev_last, key, v) {
		long long base = json_get_int(s->ev_base, key, 0);

		json_object_set_new(d, key, json_integer(json_integer_value(v) - base));
	}
	json_object_set_new(rec, "deltas", d);
	if (partial)
		json_set_bool(rec, "partial", true);
	engine_emit(e, rec);
}

/* ---- lifecycle ---- */

static void __attribute__((noreturn))
sched_child(const char *path, char **argv, int out)
{
	child_stdio(out, out);
	bundle_exec(path, argv, false);
	dprintf(2, "ktstr-agent: cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

static void free_argv(char **argv)
{
	size_t i;

	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static char **build_argv(const char *path, const json_t *args, struct strbuf *err)
{
	size_t n = json_is_array(args) ? json_array_size(args) : 0, i;
	char **argv = xcalloc(n + 2, sizeof(*argv));

	argv[0] = xstrdup(path);
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(args, i));

		if (!a) {
			strbuf_addf(err, "scheduler.args[%zu] must be a string", i);
			free_argv(argv);
			return NULL;
		}
		argv[i + 1] = xstrdup(a);
	}
	return argv;
}

/* Wait up to ms for the process to exit, serving the pipe and reaping. */
static void wait_exit(struct engine *e, long long ms)
{
	struct sched_run *s = e->sched;
	long long deadline = monotonic_ms() + ms;

	while (!s->exited) {
		struct pollfd pfd[2] = {
			{ .fd = e->ag->sigfd, .events = POLLIN },
			{ .fd = s->outfd, .events = POLLIN },
		};
		long long left = deadline - monotonic_ms();

		if (left <= 0)
			break;
		poll(pfd, 2, left > 50 ? 50 : (int)left);
		drain_output(s);
		engine_reap(e);
	}
}

/* Stop a scheduler that is not wanted any more (attach failed, died). */
static void sched_kill(struct engine *e)
{
	struct sched_run *s = e->sched;

	if (s->exited || s->pid <= 0)
		return;
	kill(s->pid, SIGINT);
	wait_exit(e, 2000);
	if (!s->exited) {
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
		wait_exit(e, 2000);
	}
}

/* A failure with a known fix carries it: in "hint", and after the reason,
 * which is what the verdict shows.  Takes and returns reason. */
static char *with_hint(const struct sched_run *s, json_t *rec, char *reason)
{
	char *r;

	if (!s->no_kconfig)
		return reason;
	json_set_str(rec, "hint", NO_KCONFIG_HINT);
	r = xasprintf("%s (%s)", reason, NO_KCONFIG_HINT);
	free(reason);
	return r;
}

static void attach_failed(struct engine *e, const char *why)
{
	struct sched_run *s = e->sched;
	json_t *rec = jsonl_record("scheduler");
	char *reason;

	klog_settle(e);
	if (s->kreason)
		reason = xasprintf("%s", s->kreason);
	else if (s->exited && s->pid > 0)
		reason = xasprintf("process exited with status %d before attaching",
				   exit_code_of(s->status));
	else
		reason = xasprintf("%s", why);
	sched_kill(e);
	drain_output(s);
	reason = with_hint(s, rec, reason);
	json_set_str(rec, "event", "attach_failed");
	json_set_str(rec, "name", s->name);
	json_set_str(rec, "reason", reason);
	json_object_set_new(rec, "output", ring_json(s));
	json_object_set_new(rec, "kernel_log", klog_json(s));
	if (s->exited && s->pid > 0)
		json_set_int(rec, "exit_code", exit_code_of(s->status));
	engine_emit(e, rec);
	engine_flush(e);
	free(reason);
}

static struct sched_run *sched_new(struct engine *e, const char *path)
{
	struct sched_run *s = xcalloc(1, sizeof(*s));

	e->sched = s;
	s->e = e;
	s->outfd = -1;
	s->name = xstrdup(path ? path_basename(path) : "?");
	s->kscx = json_array();
	line_reader_init(&s->lr, OUT_MAX_LINE);
	return s;
}

/* Fork and exec the scheduler with its output into s->outfd.  -1 with
 * err when it could not be started at all. */
static int sched_spawn(struct sched_run *s, const json_t *spec, struct strbuf *err)
{
	const char *path = json_get_str(spec, "path");
	char **argv;
	int p[2];

	if (!path) {
		strbuf_addstr(err, "scheduler.path must be a string");
		return -1;
	}
	argv = build_argv(path, json_object_get(spec, "args"), err);
	if (!argv)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		free_argv(argv);
		return -1;
	}
	s->start_ms = monotonic_ms();
	s->pid = fork();
	if (s->pid == 0)
		sched_child(path, argv, p[1]);
	close(p[1]);
	free_argv(argv);
	s->outfd = p[0];
	fcntl(s->outfd, F_SETFL, fcntl(s->outfd, F_GETFL) | O_NONBLOCK);
	if (s->pid < 0) {
		strbuf_addf(err, "fork: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A lifecycle record {"type":"scheduler","event":event,"name":..}. */
static json_t *sched_record(const struct sched_run *s, const char *event)
{
	json_t *rec = jsonl_record("scheduler");

	json_set_str(rec, "event", event);
	json_set_str(rec, "name", s->name);
	return rec;
}

/* Wait for sched_ext to report the scheduler enabled: its ops name (the
 * caller frees), or NULL with err when it exited or timed out first. */
static char *wait_attach(struct engine *e, struct strbuf *err)
{
	struct sched_run *s = e->sched;
	long long deadline = s->start_ms + ATTACH_TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = e->ag->sigfd, .events = POLLIN },
			{ .fd = s->outfd, .events = POLLIN },
		};
		char *st, *ops;

		drain_output(s);
		engine_reap(e);
		st = read_scx("state");
		ops = read_scx("root/ops");
		if (st && !strcmp(st, "enabled") && ops && *ops) {
			free(st);
			return ops;
		}
		free(ops);
		if (s->exited || monotonic_ms() >= deadline) {
			strbuf_addf(err, "not attached after %d s (state: %s)",
				    ATTACH_TIMEOUT_MS / 1000, st ? st : "no sched_ext");
			free(st);
			return NULL;
		}
		free(st);
		poll(pfd, 2, ATTACH_POLL_MS);
	}
}

int sched_start(struct engine *e, const json_t *spec)
{
	struct sched_run *s = sched_new(e, json_get_str(spec, "path"));
	struct strbuf err = STRBUF_INIT;
	char *ops = NULL;
	json_t *rec;
	int ret = -1;

	/* Before the fork: the programs loaded from here on are its. */
	bpfprobe_before_spawn(e);
	if (sched_spawn(s, spec, &err) < 0) {
		s->exited = true;
		attach_failed(e, err.buf);
		goto out;
	}
	rec = sched_record(s, "started");
	json_set_int(rec, "pid", s->pid);
	engine_emit(e, rec);
	engine_flush(e);

	ops = wait_attach(e, &err);
	if (!ops) {
		attach_failed(e, err.buf);
		goto out;
	}
	s->attached = s->alive = true;
	s->ev_base = read_events();
	s->ev_last = json_deep_copy(s->ev_base);
	s->next_health_ms = monotonic_ms() + HEALTH_MS;
	rec = sched_record(s, "attached");
	json_set_str(rec, "ops", ops);
	json_set_int(rec, "attach_ms", monotonic_ms() - s->start_ms);
	engine_emit(e, rec);
	engine_flush(e);
	bpfprobe_attached(e, s->name);
	ret = 0;
out:
	free(ops);
	strbuf_release(&err);
	return ret;
}

static void died(struct engine *e)
{
	struct sched_run *s = e->sched;
	json_t *rec = jsonl_record("scheduler");
	long long at = engine_at_ms(e);
	char *reason;

	s->alive = false;
	e->abort = true;
	klog_settle(e);
	/* The process usually follows the kernel's verdict within moments;
	 * its exit status completes the picture. */
	if (!s->exited)
		wait_exit(e, 500);
	drain_output(s);
	if (s->kreason)
		reason = xstrdup(s->kreason);
	else if (s->exited)
		reason = xasprintf("process exited with status %d", exit_code_of(s->status));
	else
		reason = xstrdup("sched_ext state left \"enabled\"");
	reason = with_hint(s, rec, reason);
	json_set_str(rec, "event", "died");
	json_set_str(rec, "name", s->name);
	json_set_int(rec, "at_ms", at);
	json_set_str(rec, "reason", reason);
	json_object_set_new(rec, "kernel_log", klog_json(s));
	if (s->exited)
		json_set_int(rec, "exit_code", exit_code_of(s->status));
	else
		json_object_set_new(rec, "exit_code", json_null());
	json_object_set_new(rec, "output", ring_json(s));
	engine_emit(e, rec);
	engine_flush(e);
	free(reason);
}

/* Only a disable line makes it a check: a chatty kernel costs reads, not
 * sysfs visits. */
void sched_on_kmsg(struct engine *e)
{
	struct sched_run *s = e->sched;

	if (!s || !s->alive)
		return;
	klog_drain(e);
	if (s->kreason)
		sched_poll(e, true);
}

void sched_poll(struct engine *e, bool force)
{
	struct sched_run *s = e->sched;
	long long now;

	if (!s)
		return;
	drain_output(s);
	if (!s->alive)
		return;
	now = monotonic_ms();
	if (!force && !s->exited && now < s->next_health_ms)
		return;
	s->next_health_ms = now + HEALTH_MS;
	klog_drain(e);
	if (s->exited || !state_is("enabled")) {
		died(e);
		return;
	}
	events_update(s);
}

bool sched_finish(struct engine *e)
{
	struct sched_run *s = e->sched;
	long long t0, deadline;
	bool clean = true;
	json_t *rec;

	if (!s || !s->attached)
		return false;
	/* One last health check so a death at the very end is not reported
	 * as a detach. */
	sched_poll(e, true);
	if (!s->alive) {
		emit_events(e, true);
		sched_kill(e);
		s->attached = false;
		return false;
	}
	events_update(s);
	emit_events(e, false);
	t0 = monotonic_ms();
	kill(s->pid, SIGINT);
	wait_exit(e, DETACH_WAIT_MS);
	if (!s->exited) {
		clean = false;
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
		wait_exit(e, 2000);
	}
	deadline = t0 + DETACH_WAIT_MS;
	while (!state_is("disabled") && monotonic_ms() < deadline)
		poll(NULL, 0, 10);
	if (!state_is("disabled"))
		clean = false;
	if (!s->exited || exit_code_of(s->status) != 0)
		clean = false;
	s->alive = false;
	drain_output(s);
	rec = jsonl_record("scheduler");
	json_set_str(rec, "event", "detached");
	json_set_str(rec, "name", s->name);
	json_set_int(rec, "detach_ms", monotonic_ms() - t0);
	if (s->exited)
		json_set_int(rec, "exit_code", exit_code_of(s->status));
	else
		json_object_set_new(rec, "exit_code", json_null());
	json_set_bool(rec, "clean", clean);
	if (!clean)
		json_object_set_new(rec, "output", ring_json(s));
	engine_emit(e, rec);
	engine_flush(e);
	s->attached = false;
	return true;
}

void sched_release(struct engine *e)
{
	struct sched_run *s = e->sched;
	size_t i;

	if (!s)
		return;
	if (!s->exited && s->pid > 0) {
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
		wait_exit(e, 2000);
	}
	if (s->outfd >= 0)
		close(s->outfd);
	line_reader_release(&s->lr);
	for (i = 0; i < RING_LINES; i++)
		free(s->ring[i]);
	json_decref(s->ev_base);
	json_decref(s->ev_last);
	json_decref(s->klog);
	json_decref(s->kscx);
	free(s->kreason);
	free(s->name);
	free(s);
	e->sched = NULL;
}
