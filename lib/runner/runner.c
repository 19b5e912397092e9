#include "runner.h"
#include "clock.h"
#include "diag.h"
#include "progress.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* How often a runner whose next case cannot get host CPUs looks again. */
#define LOCK_RETRY_MS 250

/* Index of c's kernel in o->kernels (0 when it has none). */
static size_t kernel_index(const struct runner_opts *o, const struct gcase *c)
{
	size_t i;

	for (i = 0; c->kernel && i < o->n_kernels; i++)
		if (&o->kernels[i] == c->kernel)
			return i;
	return 0;
}

/* A sidecar that cannot be written is a failed run, not a warning: the
 * history would silently miss the case (tot->sidecar_errors makes
 * runner_run stop and return -1, exit 2). */
static char *write_sidecar(const struct runner_opts *o, const struct gcase *c,
			   unsigned repeat, const struct caserun_ctx *ctx, json_t *doc,
			   struct runner_totals *tot)
{
	const struct sidecar_dir *d = o->dirs ? o->dirs[kernel_index(o, c)] : NULL;
	struct strbuf err = STRBUF_INIT;
	char *path = NULL;

	if (d) {
		path = sidecar_write(d, c->name, repeat, ctx->run_id, doc, &err);
		if (!path) {
			progress_clear();
			diag("%s: %s", c->full_name, err.buf);
			tot->sidecar_errors++;
		}
	}
	json_decref(doc);
	strbuf_release(&err);
	return path;
}

static enum case_outcome outcome_of(const struct caserun *r, const struct runner_opts *o)
{
	if (r->interrupted)
		return CASE_INTERRUPTED;
	if (r->infra)
		return CASE_ERROR;
	switch (r->v.result) {
	case VERDICT_PASS:
		return CASE_PASS;
	case VERDICT_SKIP:
		return o->no_skip_mode ? CASE_FAIL : CASE_SKIP;
	case VERDICT_ERROR:
		return CASE_ERROR;
	default:		/* fail, inconclusive */
		return CASE_FAIL;
	}
}

static void count(struct runner_totals *tot, enum case_outcome oc)
{
	switch (oc) {
	case CASE_PASS: tot->passed++; break;
	case CASE_FAIL: tot->failed++; break;
	case CASE_SKIP: tot->skipped++; break;
	case CASE_INTERRUPTED: tot->interrupted++; break;
	case CASE_ERROR: tot->errors++; break;
	}
}

/* A case waiting to be run again after an infrastructure error. */
struct retry {
	const struct gcase *c;
	unsigned repeat, attempts;	/* attempts made so far */
	char *first_error;
};

struct retry_queue {
	struct retry *v;
	size_t n;
};

/* Judge and report one finished run.  Returns false when it is to be run
 * again (queued in q), true when the case is done. */
static bool finish_one(struct caserun *r, struct caserun_ctx *ctx, const struct runner_opts *o,
		       struct runner_totals *tot, struct retry_queue *q, bool may_retry)
{
	struct case_report rep = { .c = r->c, .repeat = r->repeat, .runs = o->runs };
	char *path = NULL;

	caserun_finish(r);
	rep.outcome = outcome_of(r, o);
	rep.secs = r->wall_ms / 1000.0;
	rep.start_ms = r->start_ms - ctx->t0_ms;
	rep.end_ms = rep.start_ms + r->wall_ms;
	rep.reason = r->infra ? r->infra : r->v.reason;
	rep.run = r;
	rep.attempts = r->attempt ? r->attempt : 1;
	rep.first_error = r->first_error;
	if (r->infra && may_retry && rep.attempts <= o->retries) {
		struct retry *e;

		q->v = xrealloc(q->v, (q->n + 1) * sizeof(*q->v));
		e = &q->v[q->n++];
		e->c = r->c;
		e->repeat = r->repeat;
		e->attempts = rep.attempts;
		e->first_error = r->first_error ? r->first_error : xstrdup(r->infra);
		r->first_error = NULL;
		rep.first_error = e->first_error;
		rep.retrying = true;
		tot->retried++;
		o->report(o->cb, &rep);
		caserun_release(r);
		return false;
	}
	/* An interrupted case measured nothing: no sidecar to mislead stats. */
	if (rep.outcome != CASE_INTERRUPTED)
		path = write_sidecar(o, r->c, r->repeat, ctx, caserun_sidecar(r, ctx), tot);
	rep.sidecar = path;
	count(tot, rep.outcome);
	o->report(o->cb, &rep);
	free(path);
	caserun_release(r);
	return true;
}

static void plan_skip(const struct gcase *c, struct caserun_ctx *ctx,
		      const struct runner_opts *o, struct runner_totals *tot)
{
	struct case_report rep = { .c = c, .repeat = 1, .runs = 1 };
	char *path = write_sidecar(o, c, 1, ctx, caserun_skip_sidecar(c, ctx), tot);

	rep.outcome = o->no_skip_mode ? CASE_FAIL : CASE_SKIP;
	rep.reason = c->skip_reason;
	progress_clear();
	rep.sidecar = path;
	count(tot, rep.outcome);
	o->report(o->cb, &rep);
	free(path);
}

/* ---- progress ----------------------------------------------------------- */

double runner_eta_secs(double elapsed, double done_est, double total_est, unsigned parallel)
{
	double left;

	if (!(total_est > done_est))
		return 0;
	if (done_est > 0 && elapsed > 0)
		left = elapsed * (total_est - done_est) / done_est;
	else
		left = total_est / (parallel ? parallel : 1) - elapsed;
	return left > 0 ? left : 0;
}

static void add_secs(struct strbuf *out, double secs)
{
	long long s = (long long)(secs + 0.5);

	if (s < 60)
		strbuf_addf(out, "%llds", s);
	else if (s < 3600)
		strbuf_addf(out, "%lldm %02llds", s / 60, s % 60);
	else
		strbuf_addf(out, "%lldh %02lldm", s / 3600, s % 3600 / 60);
}

void runner_progress_line(struct strbuf *out, size_t done, size_t total, size_t running,
			  double elapsed, double left)
{
	strbuf_addf(out, "%zu/%zu cases done, %zu running, ", done, total, running);
	add_secs(out, elapsed);
	strbuf_addstr(out, " elapsed, ~");
	add_secs(out, left);
	strbuf_addstr(out, " left");
}

static int block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* One runner_run: the cases, what runs, what waits, and the counts the
 * progress line needs. */
struct run_state {
	const struct gcase *cases;
	size_t n, next;			/* next plan case to start */
	unsigned rep;			/* its next repeat */
	struct caserun_ctx *ctx;
	const struct runner_opts *o;
	struct runner_totals *tot;
	struct caserun *running;	/* o->jobs slots; .c NULL when free */
	struct pollfd *pfd;
	struct retry_queue q;
	size_t nrun, total, done, runnable;
	double total_est, done_est;
	bool stopping, lock_wait;
	int sfd, rc;
};

/* Cases and estimated seconds the whole run holds. */
static void plan_totals(struct run_state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct gcase *c = &s->cases[i];

		s->total += c->skip_reason ? 1 : s->o->runs;
		if (!c->skip_reason) {
			s->runnable += s->o->runs;
			s->total_est += c->est_secs * s->o->runs;
		}
	}
}

/* A setup error: no new case starts, the run returns -1. */
static void setup_failed(struct run_state *s)
{
	s->rc = -1;
	s->stopping = true;
}

/* Start c (repeat crep) in a free slot once it has its host CPUs.
 * Returns 1 started, 0 when the CPUs are taken (try again later), -1 on
 * a setup error. */
static int start_case(struct run_state *s, const struct gcase *c, unsigned crep,
		      struct caserun **slot)
{
	struct strbuf err = STRBUF_INIT;
	struct hostlock lock;
	size_t i;
	int got = hostlock_try(&lock, c->slots, c->test->performance_mode, &err);

	if (got < 0) {
		diag("%s", err.buf);
	} else if (got) {
		for (i = 0; i < s->o->jobs && s->running[i].c; i++)
			;
		if (caserun_start(&s->running[i], s->ctx, c, crep, &lock, &err) < 0) {
			diag("%s: %s", c->full_name, err.buf);
			hostlock_release(&lock);
			got = -1;
		} else {
			*slot = &s->running[i];
			s->nrun++;
		}
	}
	strbuf_release(&err);
	return got;
}

/* Start what fits: free job slots and free host CPUs.  Retries go first:
 * their case has waited longest. */
static void start_ready(struct run_state *s)
{
	const struct runner_opts *o = s->o;

	s->lock_wait = false;
	if (s->tot->sidecar_errors && !s->stopping)
		setup_failed(s);	/* the next ones could not be kept either */
	while (!s->stopping && s->nrun < o->jobs && (s->q.n || s->next < s->n)) {
		const struct gcase *c = s->q.n ? s->q.v[0].c : &s->cases[s->next];
		struct caserun *r = NULL;
		int got;

		if (!s->q.n && c->skip_reason) {
			plan_skip(c, s->ctx, o, s->tot);
			s->done++;
			s->next++;
			continue;
		}
		got = start_case(s, c, s->q.n ? s->q.v[0].repeat : s->rep, &r);
		if (got < 0)
			setup_failed(s);
		if (got <= 0) {
			s->lock_wait = !got;	/* another runner has the CPUs */
			break;
		}
		if (s->q.n) {
			r->attempt = s->q.v[0].attempts + 1;
			r->first_error = s->q.v[0].first_error;
			memmove(s->q.v, s->q.v + 1, (s->q.n - 1) * sizeof(*s->q.v));
			s->q.n--;
			continue;
		}
		r->attempt = 1;
		if (++s->rep > o->runs) {
			s->rep = 1;
			s->next++;
		}
	}
}

static void show_progress(const struct run_state *s)
{
	struct strbuf line = STRBUF_INIT;
	double el = (monotonic_ms() - s->ctx->t0_ms) / 1000.0;
	unsigned par = (unsigned)(s->runnable < s->o->jobs ? s->runnable : s->o->jobs);

	if (!progress_enabled())
		return;
	runner_progress_line(&line, s->done, s->total, s->nrun, el,
			     runner_eta_secs(el, s->done_est, s->total_est, par));
	progress("%s", line.buf);
	strbuf_release(&line);
}

/* Wait for output, a finished child or a signal; returns the pollfds
 * filled (the signalfd first), or -1 when poll failed. */
static int wait_events(struct run_state *s)
{
	size_t np = 0, i;

	s->pfd[np++] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
	for (i = 0; i < s->o->jobs; i++) {
		const struct caserun *r = &s->running[i];

		if (!r->c)
			continue;
		if (r->out_fd >= 0)
			s->pfd[np++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
		if (r->err_fd >= 0)
			s->pfd[np++] = (struct pollfd){ .fd = r->err_fd, .events = POLLIN };
	}
	if (poll(s->pfd, np, s->lock_wait || !s->nrun ? LOCK_RETRY_MS : 1000) < 0 &&
	    errno != EINTR) {
		diag("poll: %s", strerror(errno));
		return -1;
	}
	return (int)np;
}

/* A stopping signal: no new case, the running ones asked to stop. */
static void on_signals(struct run_state *s)
{
	struct signalfd_siginfo si;
	size_t i;

	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (!s->stopping) {
			progress_clear();
			/* Sidecars only when the program writes them (not verify). */
			diag("%s: stopping %zu running %s%s%s", strsignal((int)si.ssi_signo),
			     s->nrun, s->o->noun ? s->o->noun : "case", s->nrun == 1 ? "" : "s",
			     s->o->dirs ? "; finished sidecars are kept" : "");
		}
		s->stopping = true;
		s->tot->interrupted_by_signal = true;
		s->tot->signal = (int)si.ssi_signo;
		for (i = 0; i < s->o->jobs; i++)
			if (s->running[i].c)
				caserun_interrupt(&s->running[i], (int)si.ssi_signo);
	}
}

/* Read what fd has for its case; at its end, judge and report it. */
static void on_output(struct run_state *s, int fd)
{
	size_t i;

	for (i = 0; i < s->o->jobs; i++) {
		struct caserun *r = &s->running[i];
		double est;

		if (!r->c || (r->out_fd != fd && r->err_fd != fd))
			continue;
		if (!caserun_read(r, fd)) {
			est = r->c->est_secs;
			progress_clear();
			s->nrun--;
			s->done_est += est;
			if (finish_one(r, s->ctx, s->o, s->tot, &s->q, !s->stopping))
				s->done++;
			else
				s->total_est += est;	/* it runs again */
		}
		return;
	}
}

/* The end of the run: anything still running goes now (a setup error
 * stopped the run), and retries that never got to run again are
 * interrupted, like the rest. */
static void finish_all(struct run_state *s)
{
	const struct runner_opts *o = s->o;
	size_t i;

	for (i = 0; i < o->jobs; i++)
		if (s->running[i].c) {
			caserun_interrupt(&s->running[i], SIGTERM);
			finish_one(&s->running[i], s->ctx, o, s->tot, &s->q, false);
		}
	for (i = 0; i < s->q.n; i++) {
		struct retry *e = &s->q.v[i];
		struct case_report r = { .c = e->c, .repeat = e->repeat, .runs = o->runs,
					 .outcome = CASE_INTERRUPTED,
					 .reason = "interrupted before its retry",
					 .attempts = e->attempts, .first_error = e->first_error };

		count(s->tot, CASE_INTERRUPTED);
		o->report(o->cb, &r);
		free(e->first_error);
	}
	free(s->q.v);
}

int runner_run(const struct gcase *cases, size_t n, struct caserun_ctx *ctx,
	       const struct runner_opts *o, struct runner_totals *tot)
{
	struct run_state s = { .cases = cases, .n = n, .rep = 1, .ctx = ctx, .o = o,
			       .tot = tot };
	sigset_t old;
	int np, k;

	memset(tot, 0, sizeof(*tot));
	ctx->t0_ms = monotonic_ms();
	plan_totals(&s);
	s.sfd = block_signals(&old);
	if (s.sfd < 0) {
		diag("signalfd: %s", strerror(errno));
		return -1;
	}
	s.running = xcalloc(o->jobs, sizeof(*s.running));
	s.pfd = xcalloc(2 * o->jobs + 1, sizeof(*s.pfd));
	for (;;) {
		start_ready(&s);
		if (!s.nrun && (s.stopping || (s.next >= n && !s.q.n)))
			break;
		show_progress(&s);
		np = wait_events(&s);
		if (np < 0) {
			s.rc = -1;
			break;
		}
		if (s.pfd[0].revents & POLLIN)
			on_signals(&s);
		for (k = 1; k < np; k++)
			if (s.pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				on_output(&s, s.pfd[k].fd);
	}
	if (tot->sidecar_errors)
		s.rc = -1;
	finish_all(&s);
	progress_clear();
	tot->secs = (monotonic_ms() - ctx->t0_ms) / 1000.0;
	close(s.sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(s.running);
	free(s.pfd);
	return s.rc;
}
