/* Payloads: real programs run as part of a scenario (lib/core/payload.h).
 *
 * A started payload def is a struct prun holding its copies (struct
 * pcopy).  Each copy is forked into a process group of its own, moves
 * itself into the payload's cgroup and execs the program, with stdin from
 * /dev/null and stdout/stderr in files under payload_dir() (files, not
 * pipes: nothing has to drain them while the engine waits, and the
 * output survives the copy for the metrics).  An exec that fails is
 * reported back through a close-on-exec pipe, so the start already knows
 * whether the program runs at all.
 *
 * Stopping is SIGINT to the copy's process group (benchmarks print their
 * summary on SIGINT), then SIGKILL after STOP_GRACE_MS (and cgroup.kill
 * for a cgroup of its own, which catches what left the group).  Timeouts
 * and SIGKILLs are deadlines engine_wait wakes up for (payloads_next_ms),
 * so a hanging payload never holds up the steps; the stops of an op, of
 * the end or of an abort wait for the copies, bounded.
 *
 * Records are payload_rec.c's; reaped copies are reported by
 * payloads_report, and an own cgroup is removed once every copy of its
 * payload has been.
 *
 * A copy must never run agent code after fork: it leaves with _exit()
 * only (exit() would run the agent's atexit power-off). */
#include "bundle.h"
#include "engine.h"
#include "diag.h"
#include "fsutil.h"
#include "payload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STOP_GRACE_MS 3000
#define KILL_WAIT_MS 2000
/* How long a start waits for a copy to exec (or say why it cannot). */
#define EXEC_WAIT_MS 5000
#define POLL_MS 100
/* Where ktstr-vm puts the files of -i and the payloads' programs. */
#define INCLUDE_DIR "/include-files"

static char *pl_dir;

void payload_set_dir(const char *dir)
{
	free(pl_dir);
	pl_dir = xstrdup(dir);
}

const char *payload_dir(void)
{
	if (!pl_dir)
		pl_dir = xstrdup(PAYLOAD_DIR);
	return pl_dir;
}

char *payload_file(const struct payload_def *d, unsigned copy, const char *ext)
{
	return xasprintf("%s/%s.%u.%s", payload_dir(), d->name, copy, ext);
}

/* ---- starting a copy ---- */

/* What the child needs, all prepared before the fork. */
struct spawn {
	const char *path;		/* to exec */
	char *const *argv;
	const char *program;		/* as the def says, for messages */
	char *procs;			/* the cgroup's cgroup.procs */
	int out, err, pipe[2];
};

static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	_exit(127);
}

static void __attribute__((noreturn)) copy_child(const struct spawn *s)
{
	char pid[24];
	int null;

	child_reset();
	setpgid(0, 0);
	child_default_signals();
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	/* Before exec, so not one instruction of it runs elsewhere. */
	if (write_control(s->procs, pid) < 0)
		child_fail(s->pipe[1], "move into %s: %s", s->procs, strerror(errno));
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(s->out, 1) < 0 || dup2(s->err, 2) < 0)
		child_fail(s->pipe[1], "redirect stdio: %s", strerror(errno));
	/* Nothing of the agent's (port, signalfd, output files) beyond exec;
	 * the pipe is close-on-exec already. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	bundle_exec(s->path, s->argv, true);
	child_fail(s->pipe[1], "exec %s: %s", s->program, strerror(errno));
}

/* A path that does not exist here may be one ktstr-vm copied in. */
static char *exec_path(const char *program)
{
	if (!strchr(program, '/') || access(program, F_OK) == 0)
		return xstrdup(program);
	return xasprintf(INCLUDE_DIR "/%s", path_basename(program));
}

/* Wait for the child's exec: EOF when it succeeded, the reason when not. */
static void read_exec_error(int fd, struct pcopy *c)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n = 0;
	int r;

	do
		r = poll(&p, 1, EXEC_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		n = read(fd, buf, sizeof(buf) - 1);
	if (r == 0)
		vlog("payload pid %d: no exec within %d ms", (int)c->pid, EXEC_WAIT_MS);
	if (n > 0) {
		buf[n] = '\0';
		c->error = xstrdup(buf);
	}
}

static int open_out(const char *path, struct strbuf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		strbuf_addf(err, "open %s: %s", path, strerror(errno));
	return fd;
}

static void spawn_close(struct spawn *s)
{
	int *fds[] = { &s->out, &s->err, &s->pipe[0], &s->pipe[1] };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	free(s->procs);
}

/* Fork and exec copy c of run r; -1 with err when it cannot even be
 * forked (an exec failure is the copy's error, found later). */
static int spawn(struct engine *e, struct prun *r, struct pcopy *c, struct strvec *argv,
		 struct strbuf *err)
{
	const struct payload_def *d = r->def;
	char *so = payload_file(d, c->index, "stdout"), *se = payload_file(d, c->index, "stderr");
	char *path = exec_path(d->program);
	struct spawn s = {
		.path = path, .argv = argv->v, .program = d->program,
		.out = -1, .err = -1, .pipe = { -1, -1 },
	};
	int ret = -1;

	s.procs = xasprintf("%s/%s/cgroup.procs", cgfs_root(), e->cgs[r->cg].name);
	if (mkdir_p(payload_dir(), 0755) < 0) {
		strbuf_addf(err, "mkdir %s: %s", payload_dir(), strerror(errno));
		goto out;
	}
	if ((s.out = open_out(so, err)) < 0 || (s.err = open_out(se, err)) < 0)
		goto out;
	if (pipe2(s.pipe, O_CLOEXEC) < 0) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		goto out;
	}
	c->pid = fork();
	if (c->pid == 0)
		copy_child(&s);
	if (c->pid < 0) {
		c->pid = 0;
		strbuf_addf(err, "fork: %s", strerror(errno));
		goto out;
	}
	/* Both sides set the group: signals may come before the child ran. */
	setpgid(c->pid, c->pid);
	c->start_ns = now_ns();
	/* From start_ns rounded up, so the stop never comes before
	 * timeout_ms of wall_ms (a later monotonic_ms() rounded down could
	 * end a 300 ms timeout at 299). */
	if (d->timeout_ms)
		c->deadline_ms = (long long)((c->start_ns + 999999) / 1000000) +
				 (long long)d->timeout_ms;
	close(s.pipe[1]);
	s.pipe[1] = -1;
	read_exec_error(s.pipe[0], c);
	ret = 0;
out:
	spawn_close(&s);
	free(so);
	free(se);
	free(path);
	return ret;
}

/* A copy that never ran: reported as exit 127 with why. */
static void copy_failed(struct pcopy *c, const char *why)
{
	c->pid = 0;
	c->exited = true;
	c->status = 127 << 8;
	c->start_ns = c->exit_ns = now_ns();
	free(c->error);
	c->error = xstrdup(why);
}

static void copy_start(struct engine *e, struct prun *r, struct pcopy *c, const char *cg_err)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	c->out = payload_file(r->def, c->index, "out");
	payload_argv(r->def, c->index, c->out, &argv, &c->uses_out);
	/* An old file would pass for this run's output. */
	unlink(c->out);
	if (cg_err)
		copy_failed(c, cg_err);
	else if (spawn(e, r, c, &argv, &err) < 0)
		copy_failed(c, err.buf);
	payload_emit_start(e, r, c, &argv);
	strvec_clear(&argv);
	strbuf_release(&err);
}

/* The cgroup r runs in: made for it (own_cgroup) or a live one. */
static int run_cgroup(struct engine *e, struct prun *r, struct strbuf *err)
{
	const struct payload_def *d = r->def;
	struct strbuf detail = STRBUF_INIT;
	_Atomic uint32_t *go = NULL;

	if (!d->own_cgroup) {
		r->cg = cg_lookup(e, d->cgroup);
		if (r->cg < 0)
			strbuf_addf(err, "no cgroup %s", d->cgroup);
		return r->cg < 0 ? -1 : 0;
	}
	r->own.name = d->cgroup;
	r->own.cpuset = d->cpuset;
	r->cg = cg_add(e, &r->own, &go, &detail, err);
	strbuf_release(&detail);
	if (r->cg < 0) {
		long left = cg_lookup(e, d->cgroup);

		/* Half made (the cpuset refused): not for anyone else. */
		if (left >= 0) {
			e->cgs[left].live = false;
			cgfs_remove(d->cgroup, &detail);
			strbuf_release(&detail);
		}
		r->removed = true;
	}
	return r->cg < 0 ? -1 : 0;
}

static void add_detail(const struct payload_def *d, struct strbuf *detail)
{
	struct strvec argv = STRVEC_INIT;
	char *out = payload_file(d, 0, "out");
	bool uses_out;
	size_t i;

	payload_argv(d, 0, out, &argv, &uses_out);
	strbuf_addf(detail, "%s x%u:", d->name, d->copies);
	for (i = 0; i < argv.n; i++)
		strbuf_addf(detail, " %s", argv.v[i]);
	strvec_clear(&argv);
	free(out);
}

int payload_start(struct engine *e, const struct payload_def *d, unsigned step,
		  struct strbuf *detail, struct strbuf *err)
{
	struct prun *r = xcalloc(1, sizeof(*r));
	struct strbuf cg_err = STRBUF_INIT;
	unsigned i;

	r->def = d;
	r->step = step;
	r->n = d->copies ? d->copies : 1;
	r->c = xcalloc(r->n, sizeof(*r->c));
	e->pruns = xrealloc(e->pruns, (e->npruns + 1) * sizeof(*e->pruns));
	e->pruns[e->npruns++] = r;
	add_detail(d, detail);
	run_cgroup(e, r, &cg_err);
	for (i = 0; i < r->n; i++) {
		r->c[i].index = i;
		copy_start(e, r, &r->c[i], cg_err.len ? cg_err.buf : NULL);
		if (r->c[i].error && !err->len)
			strbuf_addf(err, "copy %u: %s", i, r->c[i].error);
	}
	engine_flush(e);
	strbuf_release(&cg_err);
	return err->len ? -1 : 0;
}

void payloads_start_initial(struct engine *e)
{
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < e->sc.n_payloads && !e->abort; i++) {
		const struct payload_def *d = &e->sc.payloads[i];
		long long at = engine_at_ms(e);

		strbuf_reset(&detail);
		strbuf_reset(&err);
		if (payload_start(e, d, 0, &detail, &err) < 0)
			vlog("payload %s: %s", d->name, err.buf);
		emit_stimulus(e, at, 0, OP_START_PAYLOAD, d->cgroup, detail.buf, err.buf);
	}
	engine_flush(e);
	strbuf_release(&detail);
	strbuf_release(&err);
}

/* ---- stopping ---- */

/* Which payloads a stop is for: by name, or all that run in a cgroup
 * tree; neither: all. */
struct psel {
	const char *name, *tree;
};

static bool run_selected(const struct prun *r, const struct psel *s)
{
	const char *cg = r->def->cgroup;
	size_t len = s->tree ? strlen(s->tree) : 0;

	if (s->name)
		return !strcmp(r->def->name, s->name);
	return !s->tree || (!strncmp(cg, s->tree, len) && (cg[len] == '\0' || cg[len] == '/'));
}

static void begin_stop(struct pcopy *c, const char *reason)
{
	if (c->exited || c->stopped_by)
		return;
	c->stopped_by = reason;
	c->kill_ms = monotonic_ms() + STOP_GRACE_MS;
	kill(-c->pid, SIGINT);
}

static void kill_copy(struct engine *e, struct prun *r, struct pcopy *c)
{
	unsigned i;

	vlog("payload %s copy %u did not stop within %d ms of SIGINT; killing it",
	     r->def->name, c->index, STOP_GRACE_MS);
	c->killed = true;
	kill(-c->pid, SIGKILL);
	if (!r->def->own_cgroup || r->cg < 0 || r->removed)
		return;
	/* Its own cgroup: what escaped the group dies too, once no copy
	 * there is still within its grace. */
	for (i = 0; i < r->n; i++)
		if (!r->c[i].exited && !r->c[i].killed)
			return;
	cgfs_kill(e->cgs[r->cg].name);
}

void payloads_tick(struct engine *e)
{
	long long now = monotonic_ms();
	size_t i;
	unsigned k;

	for (i = 0; i < e->npruns; i++) {
		struct prun *r = e->pruns[i];

		for (k = 0; k < r->n; k++) {
			struct pcopy *c = &r->c[k];

			if (c->exited)
				continue;
			if (!c->stopped_by && c->deadline_ms && now >= c->deadline_ms)
				begin_stop(c, "timeout");
			else if (c->stopped_by && !c->killed && now >= c->kill_ms)
				kill_copy(e, r, c);
		}
	}
	payloads_report(e);
}

long long payloads_next_ms(const struct engine *e)
{
	long long next = -1;
	size_t i;
	unsigned k;

	for (i = 0; i < e->npruns; i++) {
		const struct prun *r = e->pruns[i];

		for (k = 0; k < r->n; k++) {
			const struct pcopy *c = &r->c[k];
			long long t = 0;

			if (c->exited || c->killed)
				continue;
			if (c->stopped_by)
				t = c->kill_ms;
			else if (c->deadline_ms)
				t = c->deadline_ms;
			if (t && (next < 0 || t < next))
				next = t;
		}
	}
	return next;
}

/* Running copies of the selected payloads. */
static unsigned running(const struct engine *e, const struct psel *s)
{
	unsigned n = 0, k;
	size_t i;

	for (i = 0; i < e->npruns; i++)
		if (run_selected(e->pruns[i], s))
			for (k = 0; k < e->pruns[i]->n; k++)
				n += !e->pruns[i]->c[k].exited;
	return n;
}

/* Copies that outlived their SIGKILL by KILL_WAIT_MS (stuck in the
 * kernel): reported as killed, whatever becomes of them. */
static void give_up(struct engine *e, const struct psel *s)
{
	size_t i;
	unsigned k;

	for (i = 0; i < e->npruns; i++) {
		struct prun *r = e->pruns[i];

		for (k = 0; k < r->n && run_selected(r, s); k++) {
			if (r->c[k].exited)
				continue;
			diag("payload %s copy %u (pid %d) not reaped %d ms after SIGKILL",
			     r->def->name, k, (int)r->c[k].pid, KILL_WAIT_MS);
			r->c[k].exited = true;
			r->c[k].killed = true;
			r->c[k].status = SIGKILL;
			r->c[k].exit_ns = now_ns();
		}
	}
}

static unsigned stop_sel(struct engine *e, const struct psel *s, const char *reason)
{
	long long hard = monotonic_ms() + STOP_GRACE_MS + KILL_WAIT_MS;
	unsigned n;
	size_t i;
	unsigned k;

	/* One that has ended on its own is not stopped by us. */
	engine_reap(e);
	n = running(e, s);
	for (i = 0; i < e->npruns; i++)
		for (k = 0; k < e->pruns[i]->n && run_selected(e->pruns[i], s); k++)
			begin_stop(&e->pruns[i]->c[k], reason);
	while (running(e, s)) {
		struct pollfd p = { .fd = e->ag->sigfd, .events = POLLIN };
		long long now = monotonic_ms();

		if (now >= hard) {
			give_up(e, s);
			break;
		}
		poll(&p, 1, POLL_MS);
		engine_reap(e);
		payloads_tick(e);
		sched_poll(e, false);
	}
	payloads_report(e);
	return n;
}

unsigned payloads_stop(struct engine *e, const char *name, const char *reason)
{
	struct psel s = { .name = name };

	return stop_sel(e, &s, reason);
}

unsigned payloads_stop_in(struct engine *e, const char *tree, const char *reason)
{
	struct psel s = { .tree = tree };

	return stop_sel(e, &s, reason);
}

const char *payload_stop_op(struct engine *e, const char *name, struct strbuf *detail,
			    struct strbuf *err)
{
	const char *cg = NULL;
	unsigned n;
	size_t i;

	for (i = 0; i < e->npruns; i++)
		if (!strcmp(e->pruns[i]->def->name, name))
			cg = e->pruns[i]->def->cgroup;
	if (!cg) {
		strbuf_addf(err, "no payload %s was started", name);
		return NULL;
	}
	n = payloads_stop(e, name, "stop_op");
	strbuf_addf(detail, "%s: %u copies stopped", name, n);
	return cg;
}

bool payloads_on_exit(struct engine *e, pid_t pid, int status)
{
	size_t i;
	unsigned k;

	for (i = 0; i < e->npruns; i++) {
		struct prun *r = e->pruns[i];

		for (k = 0; k < r->n; k++) {
			struct pcopy *c = &r->c[k];

			if (c->pid == pid && !c->exited) {
				c->exited = true;
				c->status = status;
				c->exit_ns = now_ns();
				return true;
			}
		}
	}
	return false;
}

void payloads_report(struct engine *e)
{
	struct strbuf err = STRBUF_INIT;
	bool sent = false;
	size_t i;
	unsigned k, done;

	for (i = 0; i < e->npruns; i++) {
		struct prun *r = e->pruns[i];

		for (k = done = 0; k < r->n; k++) {
			if (r->c[k].exited && !r->c[k].reported) {
				payload_emit_stop(e, r, &r->c[k]);
				r->c[k].reported = true;
				sent = true;
			}
			done += r->c[k].reported;
		}
		if (done < r->n || !r->def->own_cgroup || r->cg < 0 || r->removed)
			continue;
		e->cgs[r->cg].live = false;
		r->removed = true;
		if (cgfs_remove(e->cgs[r->cg].name, &err) < 0)
			vlog("payload %s: %s", r->def->name, err.buf);
		strbuf_reset(&err);
	}
	if (sent)
		engine_flush(e);
	strbuf_release(&err);
}

unsigned payloads_started(const struct engine *e)
{
	unsigned n = 0, k;
	size_t i;

	for (i = 0; i < e->npruns; i++)
		for (k = 0; k < e->pruns[i]->n; k++)
			n += e->pruns[i]->c[k].pid > 0;
	return n;
}

void payloads_release(struct engine *e)
{
	const struct psel all = { NULL, NULL };
	long long deadline = monotonic_ms() + KILL_WAIT_MS;
	size_t i;
	unsigned k;

	for (i = 0; i < e->npruns; i++)
		for (k = 0; k < e->pruns[i]->n; k++)
			if (!e->pruns[i]->c[k].exited && e->pruns[i]->c[k].pid > 0)
				kill(-e->pruns[i]->c[k].pid, SIGKILL);
	while (running(e, &all) && monotonic_ms() < deadline) {
		struct pollfd p = { .fd = e->ag->sigfd, .events = POLLIN };

		poll(&p, 1, POLL_MS);
		engine_reap(e);
	}
	for (i = 0; i < e->npruns; i++) {
		for (k = 0; k < e->pruns[i]->n; k++) {
			free(e->pruns[i]->c[k].error);
			free(e->pruns[i]->c[k].out);
		}
		free(e->pruns[i]->c);
		free(e->pruns[i]);
	}
	free(e->pruns);
	e->pruns = NULL;
	e->npruns = 0;
}
