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

int runner_run(const struct gcase *cases, size_t n, struct caserun_ctx *ctx,
	       const struct runner_opts *o, struct runner_totals *tot)
{
	struct caserun *running = xcalloc(o->jobs, sizeof(*running));
	struct pollfd *pfd = xcalloc(2 * o->jobs + 1, sizeof(*pfd));
	struct retry_queue q = { NULL, 0 };
	size_t next = 0, nrun = 0, total = 0, done = 0, runnable = 0, i;
	unsigned rep = 1;
	long long t0 = monotonic_ms();
	double total_est = 0, done_est = 0;
	bool stopping = false, lock_wait = false;
	sigset_t old;
	int sfd, rc = 0;

	memset(tot, 0, sizeof(*tot));
	ctx->t0_ms = t0;
	for (i = 0; i < n; i++) {
		total += cases[i].skip_reason ? 1 : o->runs;
		if (!cases[i].skip_reason) {
			runnable += o->runs;
			total_est += cases[i].est_secs * o->runs;
		}
	}
	sfd = block_signals(&old);
	if (sfd < 0) {
		diag("signalfd: %s", strerror(errno));
		free(running);
		free(pfd);
		return -1;
	}

	for (;;) {
		/* Start what fits: free job slots and free host CPUs.  Retries
		 * go first: their case has waited longest. */
		lock_wait = false;
		if (tot->sidecar_errors && !stopping) {
			stopping = true;	/* the next ones could not be kept either */
			rc = -1;
		}
		while (!stopping && nrun < o->jobs && (q.n || next < n)) {
			const struct gcase *c = q.n ? q.v[0].c : &cases[next];
			unsigned crep = q.n ? q.v[0].repeat : rep;
			struct hostlock lock;
			struct strbuf err = STRBUF_INIT;
			int got;

			if (!q.n && c->skip_reason) {
				plan_skip(c, ctx, o, tot);
				done++;
				next++;
				continue;
			}
			got = hostlock_try(&lock, c->slots, c->test->performance_mode, &err);
			if (got < 0) {
				diag("%s", err.buf);
				strbuf_release(&err);
				rc = -1;
				stopping = true;
				break;
			}
			if (!got) {
				lock_wait = true;	/* another runner has the CPUs */
				strbuf_release(&err);
				break;
			}
			for (i = 0; i < o->jobs && running[i].c; i++)
				;
			if (caserun_start(&running[i], ctx, c, crep, &lock, &err) < 0) {
				diag("%s: %s", c->full_name, err.buf);
				hostlock_release(&lock);
				strbuf_release(&err);
				rc = -1;
				stopping = true;
				break;
			}
			strbuf_release(&err);
			nrun++;
			if (q.n) {
				running[i].attempt = q.v[0].attempts + 1;
				running[i].first_error = q.v[0].first_error;
				memmove(q.v, q.v + 1, (q.n - 1) * sizeof(*q.v));
				q.n--;
				continue;
			}
			running[i].attempt = 1;
			if (++rep > o->runs) {
				rep = 1;
				next++;
			}
		}
		if (!nrun && (stopping || (next >= n && !q.n)))
			break;
		if (progress_enabled()) {
			struct strbuf line = STRBUF_INIT;
			double el = (monotonic_ms() - t0) / 1000.0;

			runner_progress_line(&line, done, total, nrun, el,
					     runner_eta_secs(el, done_est, total_est,
							     (unsigned)(runnable < o->jobs ?
									runnable : o->jobs)));
			progress("%s", line.buf);
			strbuf_release(&line);
		}

		/* Wait for output, a finished child or a signal. */
		size_t np = 0;
		pfd[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (i = 0; i < o->jobs; i++) {
			if (!running[i].c)
				continue;
			if (running[i].out_fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = running[i].out_fd, .events = POLLIN };
			if (running[i].err_fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = running[i].err_fd, .events = POLLIN };
		}
		if (poll(pfd, np, lock_wait || !nrun ? LOCK_RETRY_MS : 1000) < 0 &&
		    errno != EINTR) {
			diag("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (!stopping) {
					progress_clear();
					diag("%s: stopping %zu running case%s; finished "
					     "sidecars are kept", strsignal((int)si.ssi_signo),
					     nrun, nrun == 1 ? "" : "s");
				}
				stopping = true;
				tot->interrupted_by_signal = true;
				tot->signal = (int)si.ssi_signo;
				for (i = 0; i < o->jobs; i++)
					if (running[i].c)
						caserun_interrupt(&running[i]);
			}
		}
		for (size_t k = 1; k < np; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (i = 0; i < o->jobs; i++) {
				struct caserun *r = &running[i];
				double est;

				if (!r->c || (r->out_fd != pfd[k].fd && r->err_fd != pfd[k].fd))
					continue;
				if (!caserun_read(r, pfd[k].fd)) {
					est = r->c->est_secs;
					progress_clear();
					nrun--;
					done_est += est;
					if (finish_one(r, ctx, o, tot, &q, !stopping))
						done++;
					else
						total_est += est;	/* it runs again */
				}
				break;
			}
		}
	}
	if (tot->sidecar_errors)
		rc = -1;
	/* A setup error stops the run; anything still running goes now. */
	for (i = 0; i < o->jobs; i++)
		if (running[i].c) {
			caserun_interrupt(&running[i]);
			finish_one(&running[i], ctx, o, tot, &q, false);
		}
	/* Retries that never got to run again: interrupted, like the rest. */
	for (i = 0; i < q.n; i++) {
		struct case_report r = { .c = q.v[i].c, .repeat = q.v[i].repeat, .runs = o->runs,
					 .outcome = CASE_INTERRUPTED,
					 .reason = "interrupted before its retry",
					 .attempts = q.v[i].attempts,
					 .first_error = q.v[i].first_error };

		count(tot, CASE_INTERRUPTED);
		o->report(o->cb, &r);
		free(q.v[i].first_error);
	}
	free(q.v);
	progress_clear();
	tot->secs = (monotonic_ms() - t0) / 1000.0;
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(running);
	free(pfd);
	return rc;
}
