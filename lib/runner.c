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
	switch (r->v.result) {
	case VERDICT_PASS:
		return CASE_PASS;
	case VERDICT_SKIP:
		return o->no_skip_mode ? CASE_FAIL : CASE_SKIP;
	default:		/* fail, error, inconclusive */
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
	}
}

static void finish_one(struct caserun *r, struct caserun_ctx *ctx,
		       const struct runner_opts *o, struct runner_totals *tot)
{
	struct case_report rep = { .c = r->c, .repeat = r->repeat, .runs = o->runs };
	char *path = NULL;

	caserun_finish(r);
	rep.outcome = outcome_of(r, o);
	rep.secs = r->wall_ms / 1000.0;
	rep.start_ms = r->start_ms - ctx->t0_ms;
	rep.end_ms = rep.start_ms + r->wall_ms;
	rep.reason = r->v.reason;
	rep.run = r;
	/* An interrupted case measured nothing: no sidecar to mislead stats. */
	if (rep.outcome != CASE_INTERRUPTED)
		path = write_sidecar(o, r->c, r->repeat, ctx, caserun_sidecar(r, ctx), tot);
	rep.sidecar = path;
	count(tot, rep.outcome);
	o->report(o->cb, &rep);
	free(path);
	caserun_release(r);
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
	size_t next = 0, nrun = 0, total = 0, done = 0, i;
	unsigned rep = 1;
	long long t0 = monotonic_ms();
	bool stopping = false, lock_wait = false;
	sigset_t old;
	int sfd, rc = 0;

	memset(tot, 0, sizeof(*tot));
	ctx->t0_ms = t0;
	for (i = 0; i < n; i++)
		total += cases[i].skip_reason ? 1 : o->runs;
	sfd = block_signals(&old);
	if (sfd < 0) {
		diag("signalfd: %s", strerror(errno));
		free(running);
		free(pfd);
		return -1;
	}

	for (;;) {
		/* Start what fits: free job slots and free host CPUs. */
		lock_wait = false;
		if (tot->sidecar_errors && !stopping) {
			stopping = true;	/* the next ones could not be kept either */
			rc = -1;
		}
		while (!stopping && !tot->sidecar_errors && next < n && nrun < o->jobs) {
			const struct gcase *c = &cases[next];
			struct hostlock lock;
			struct strbuf err = STRBUF_INIT;
			int got;

			if (c->skip_reason) {
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
			if (caserun_start(&running[i], ctx, c, rep, &lock, &err) < 0) {
				diag("%s: %s", c->full_name, err.buf);
				hostlock_release(&lock);
				strbuf_release(&err);
				rc = -1;
				stopping = true;
				break;
			}
			strbuf_release(&err);
			nrun++;
			if (++rep > o->runs) {
				rep = 1;
				next++;
			}
		}
		if (!nrun && (stopping || next >= n))
			break;
		if (progress_enabled())
			progress("%zu/%zu cases done, %zu running", done, total, nrun);

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

				if (!r->c || (r->out_fd != pfd[k].fd && r->err_fd != pfd[k].fd))
					continue;
				if (!caserun_read(r, pfd[k].fd)) {
					progress_clear();
					finish_one(r, ctx, o, tot);
					nrun--;
					done++;
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
			finish_one(&running[i], ctx, o, tot);
		}
	progress_clear();
	tot->secs = (monotonic_ms() - t0) / 1000.0;
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(running);
	free(pfd);
	return rc;
}
