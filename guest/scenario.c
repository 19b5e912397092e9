/* The "scenario" request: run a lib/core/scenario.h scenario for real.
 *
 * Request: {"type":"scenario","scenario":{...},"scheduler":{"path":P,
 * "args":[..]}|null,"topo":"N,L,C,T"[,"bpf_stats":true][,"env":{NAME:VALUE}]}.  The document
 * is parsed again here with the host's parser (scenario_parse) and run:
 * cgroups under /sys/fs/cgroup/ktstr, forked workers, the steps' ops, the
 * scheduler's lifecycle.  Records, in order (field names are a contract with
 * ktstr-stats; units in the names):
 *
 *   scenario_start   name, duration_ms, cpus, topo, scheduler, checks, sysctls
 *   scheduler        started / attached / attach_failed (scheduler.c)
 *   bpf_prog         after attached: one per BPF program the scheduler
 *                    loaded, sorted by name (bpfprog.c)
 *   stimulus         one per op applied: at_ms, step, op, cgroup, detail
 *                    [, error]; the initial cgroups are step 0 "add",
 *                    the top-level payloads step 0 "start_payload";
 *                    start_payload's detail is "NAME xCOPIES: ARGV",
 *                    stop_payload's "NAME: N copies stopped", cgroup
 *                    the payload's
 *   payload          event "start", one per copy of a payload started
 *                    (top-level ones at t=0 right after the workers'
 *                    release, step 0): name, copy, copies, pid (null
 *                    when it never ran), at_ms, step, cgroup, program,
 *                    argv, metrics (the form), checks {exit_code, max,
 *                    min} (payload_rec.c)
 *   step             index (1-based: step 0 is the initial setup), at_ms,
 *                    hold_ms, iterations (of the measured workers so far)
 *   scheduler        died (then the run ends early)
 *   payload          event "stop", when the copy is reaped: name, copy,
 *                    pid, at_ms, wall_ms, stopped_by (exit, stop_op,
 *                    timeout, end, abort), exit_code (null when it died
 *                    of a signal), signal (or null), killed[, error when
 *                    it could not run, exit_code 127][, output_tail]
 *   payload_metrics  after the stop, forms other than exit_code: name,
 *                    copy, form, metrics {NAME: {value, unit, better}}
 *                    [, error, output_tail when the output did not parse]
 *                    (the payloads stop at the end before the workers)
 *   bpf_prog_stats   with "bpf_stats":true, once the workers have
 *                    stopped: each program's run_cnt and run_time_ns over
 *                    the workload (bpfprog.c)
 *   worker           one per worker, when it has stopped (telemetry.c)
 *   cgroup_stats     one per cgroup that had workers, when it is removed
 *                    or at the end (none for a cgroup of payloads only)
 *   sched_ext_events deltas of /sys/kernel/sched_ext/root/events
 *   scheduler        detached
 *   scenario_end     elapsed_ms, workers, payloads (copies started),
 *                    cpus, migrations, iterations,
 *                    worst_spread_pct, worst_gap_ms, scheduler_alive,
 *                    agent_cpu_ms, agent_cpu_pct, agent_window_ms (the
 *                    agent's own CPU over the workload window)
 *   scenario_error   instead, when the request cannot be run at all
 *   exit             exit_code 0 when the engine ran to its end (even if
 *                    the scheduler died: the verdict is ktstr-stats'), 1
 *                    when the scheduler never attached, 2 on
 *                    scenario_error.
 *
 * Every wait is bounded, and whatever happens the cgroup tree is killed
 * and removed before the exit record goes out. */
#include "engine.h"
#include "agentcpu.h"
#include "checktab.h"
#include "ctprof.h"
#include "agent_proto.h"
#include "diag.h"
#include "jsonl.h"
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_OK 0
#define EXIT_NO_ATTACH 1
#define EXIT_ERROR 2
/* Shortest loop interval: re-applying ops is not free under TCG. */
#define MIN_LOOP_MS 10ull

/* ---- event loop ---- */

long long engine_at_ms(const struct engine *e)
{
	return e->started ? (long long)((now_ns() - e->t0_ns) / 1000000) : 0;
}

void engine_emit(struct engine *e, json_t *rec)
{
	port_queue(e->ag, rec);
}

void engine_flush(struct engine *e)
{
	if (port_flush(e->ag) < 0)
		agent_host_gone();
}

static bool engine_claim(pid_t pid, int status, void *ctx)
{
	struct engine *e = ctx;

	return workers_on_exit(e, pid, status) || payloads_on_exit(e, pid, status) ||
	       sched_on_exit(e, pid, status);
}

void engine_reap(struct engine *e)
{
	child_reap_each(e->ag, engine_claim, e);
}

void engine_wait(struct engine *e, long long deadline)
{
	while (!e->abort) {
		long long now = monotonic_ms(), until = deadline, next = sched_next_ms(e);
		long long pnext = payloads_next_ms(e);
		struct pollfd pfd[4] = {
			{ .fd = e->ag->sigfd, .events = POLLIN },
			/* No events asked: only to notice the host leaving. */
			{ .fd = e->ag->port, .events = 0 },
			{ .fd = sched_fd(e), .events = POLLIN },
			/* The kernel logs every scheduler disable. */
			{ .fd = sched_kmsg_fd(e), .events = POLLIN },
		};

		if (now >= deadline)
			break;
		if (next >= 0 && next < until)
			until = next;
		if (pnext >= 0 && pnext < until)
			until = pnext;
		if (until - now > 1000)
			until = now + 1000;
		if (poll(pfd, 4, until > now ? (int)(until - now) : 0) < 0 && errno != EINTR)
			agent_fail(e->ag, "poll: %s", strerror(errno));
		if (port_hung_up(e->ag, pfd[1].revents))
			agent_host_gone();
		if (pfd[0].revents)
			engine_reap(e);
		/* Timeouts, SIGKILLs after the grace, records of those reaped. */
		payloads_tick(e);
		if (pfd[3].revents)
			sched_on_kmsg(e);
		sched_poll(e, false);
	}
}

/* ---- records ---- */

static void scenario_error(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void scenario_error(struct engine *e, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *rec = jsonl_record("scenario_error");
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	vlog("scenario_error: %s", sb.buf);
	json_set_str(rec, "message", sb.buf);
	engine_emit(e, rec);
	engine_flush(e);
	strbuf_release(&sb);
}

/* checks: the thresholds the host resolved (vm_request_scenario), reported
 * as they came: the check table's defaults are the host's to apply.  A
 * request without them gets the scenario's own settings, and the reader
 * its defaults for the rest. */
static void emit_start(struct engine *e, const json_t *sched, const json_t *checks)
{
	json_t *rec = jsonl_record("scenario_start");
	struct strbuf topo = STRBUF_INIT;

	topo_format(&e->topo, &topo);
	json_set_str(rec, "name", e->sc.name);
	json_set_int(rec, "duration_ms", (long long)e->sc.duration_ms);
	json_set_int(rec, "cpus", e->ncpus);
	json_set_str(rec, "topo", topo.buf);
	json_set_str(rec, "scheduler", json_is_object(sched) ? sched_name_of(sched) : NULL);
	json_set_int(rec, "steps", (long long)e->sc.n_steps);
	json_object_set_new(rec, "checks", json_is_object(checks) ? json_deep_copy(checks)
					   : checks_to_json(&e->sc.checks, true));
	/* The scheduler knobs this run is judged under, for the sidecar;
	 * read before any worker starts. */
	json_object_set_new(rec, "sysctls", sysctl_json("/proc/sys/kernel", "sched_"));
	engine_emit(e, rec);
	engine_flush(e);
	strbuf_release(&topo);
}

/* Worker records of every stopped worker w with select(w) not yet sent;
 * select NULL: the end, every worker, even one that could not be reaped. */
void report_workers(struct engine *e, bool (*select)(const struct engine *e,
		    const struct worker *w, const void *arg), const void *arg)
{
	size_t i;

	for (i = 0; i < e->nws; i++) {
		struct worker *w = &e->ws[i];

		if (w->reported || w->discarded || (select && (!w->exited || !select(e, w, arg))))
			continue;
		engine_emit(e, telemetry_worker_record(e, i));
		w->reported = true;
	}
	engine_flush(e);
}

void report_cgroup(struct engine *e, size_t cg)
{
	size_t i;

	if (e->cgs[cg].reported)
		return;
	for (i = 0; i < e->nws; i++)
		if (e->ws[i].cg == cg && !e->ws[i].discarded)
			break;
	if (i == e->nws)
		return;		/* never had workers: nothing to say */
	e->cgs[cg].reported = true;
	engine_emit(e, telemetry_cgroup_record(e, cg));
}

/* ---- steps ---- */

/* Step i of the scenario; its records say index i + 1 (0 is the initial
 * setup).  The hold comes from step_hold_ms, as on the host, so both
 * sides agree on the timeline. */

/* Work done so far by the measured (not background) workers: step records
 * carry it so ktstr-stats can tell each phase's iteration rate. */
static uint64_t iterations_so_far(const struct engine *e)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < e->nws; i++) {
		const struct worker *w = &e->ws[i];

		if (w->discarded || !w->slot || (w->def && w->def->background))
			continue;
		n += atomic_load_explicit(&w->slot->iterations, memory_order_relaxed);
	}
	return n;
}

static void run_step(struct engine *e, size_t si)
{
	const struct step *st = &e->sc.steps[si];
	unsigned index = (unsigned)si + 1;
	long long start = monotonic_ms(), hold = (long long)step_hold_ms(&e->sc, si);
	long long end = start + hold;
	json_t *rec = jsonl_record("step");
	size_t i;

	json_set_int(rec, "index", index);
	json_set_int(rec, "at_ms", engine_at_ms(e));
	json_set_int(rec, "hold_ms", hold);
	json_set_int(rec, "iterations", (long long)iterations_so_far(e));
	engine_emit(e, rec);
	engine_flush(e);
	for (i = 0; i < st->n_ops && !e->abort; i++)
		apply_op(e, index, &st->ops[i]);
	if (st->hold.kind == HOLD_LOOP) {
		long long iv = (long long)(st->hold.interval_ms > MIN_LOOP_MS ?
					   st->hold.interval_ms : MIN_LOOP_MS);
		long long next;

		for (next = start + iv; next < end && !e->abort; next += iv) {
			engine_wait(e, next);
			for (i = 0; i < st->n_ops && !e->abort; i++)
				apply_op(e, index, &st->ops[i]);
		}
	}
	engine_wait(e, end);
}

/* ---- setup and the run ---- */

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* Workers inherit this handler from birth, so a stop signal can never
 * kill one that is still starting; no SA_RESTART, so it breaks sleeps. */
static void stop_signal_setup(void)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* The agent runs SCHED_FIFO while a scenario runs: however broken the
 * scheduler under test or however greedy the workers, it keeps its
 * deadlines (stop, detach, report).  Reset-on-fork keeps workers and the
 * scheduler on the default policy. */
static void agent_priority(bool rt)
{
	struct sched_param sp = { .sched_priority = rt ? 99 : 0 };

	if (sched_setscheduler(0, rt ? SCHED_FIFO | SCHED_RESET_ON_FORK : SCHED_OTHER, &sp) < 0)
		vlog("agent %s: %s", rt ? "SCHED_FIFO" : "SCHED_OTHER", strerror(errno));
}

static int setup_topo(struct engine *e, const json_t *req)
{
	struct strbuf err = STRBUF_INIT;
	const char *t = json_get_str(req, "topo");
	char fallback[64];
	long conf = sysconf(_SC_NPROCESSORS_CONF);

	if (!t)
		t = getenv(KTSTR_TOPO_ENV);
	if (!t) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);

		snprintf(fallback, sizeof(fallback), "1,1,%ld,1", online > 0 ? online : 1);
		t = fallback;
	}
	if (topo_parse(t, &e->topo, &err) < 0) {
		scenario_error(e, "topo \"%s\": %s", t, err.buf);
		strbuf_release(&err);
		return -1;
	}
	e->ncpus = topo_cpus(&e->topo);
	e->nbits = conf > (long)e->ncpus ? (unsigned)conf : e->ncpus;
	strbuf_release(&err);
	return 0;
}

static int setup_ctl(struct engine *e)
{
	size_t i, j, n = e->sc.n_cgroups + 1;

	for (i = 0; i < e->sc.n_steps; i++)
		for (j = 0; j < e->sc.steps[i].n_ops; j++)
			n += e->sc.steps[i].ops[j].kind == OP_ADD;
	e->nlocks = (unsigned)n;
	e->ctl_size = sizeof(struct shm_ctl) + n * sizeof(struct shm_lock);
	e->ctl = mmap(NULL, e->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (e->ctl == MAP_FAILED) {
		e->ctl = NULL;
		scenario_error(e, "mmap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void kmsg_open(struct engine *e)
{
	e->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	/* Only what the kernel says from now on is about this run. */
	if (e->kmsg >= 0)
		lseek(e->kmsg, 0, SEEK_END);
}

/* The per-thread profile, taken after the workload window has closed:
 * the workers have stopped (their records are final) but are not reaped
 * yet, so their threads are still in it, as zombies with their final
 * counters; the scheduler still runs.  Taken inside the window, the walk
 * of /proc ran at SCHED_FIFO on a CPU the workers needed (seconds under
 * TCG) and changed the verdict it was meant to explain (issue 16).  The
 * payloads were stopped just before, so their processes are not in it.
 * Sent whole; the host saves it. */
static void emit_ctprof(struct engine *e)
{
	struct strbuf err = STRBUF_INIT;
	json_t *snap = NULL, *rec;
	long long at = engine_at_ms(e);
	uint64_t cpu0 = agentcpu_self_ns(), t0 = now_ns();

	if (ctprof_capture(&snap, &err) < 0) {
		rec = jsonl_record("ctprof_error");
		json_set_str(rec, "message", err.buf);
	} else {
		rec = jsonl_record("ctprof");
		json_set_int(rec, "at_ms", at);
		json_set_int(rec, "capture_ms", (long long)((now_ns() - t0) / 1000000));
		json_set_int(rec, "capture_cpu_ms",
			     (long long)((agentcpu_self_ns() - cpu0) / 1000000));
		json_object_set_new(rec, "snapshot", snap);
	}
	engine_emit(e, rec);
	engine_flush(e);
	strbuf_release(&err);
}

/* The workload window ends when every worker has stopped: the agent's
 * CPU time from the release of the workers to here is what it took from
 * them.  Later work (reports, the ctprof capture, teardown) is not.  The
 * BPF cost window closes here too, so a capture's own scheduling is not
 * charged to the scheduler's programs. */
static void window_close(struct engine *e)
{
	bpfprobe_window_end(e);
	if (e->window_closed || !e->started)
		return;
	e->window_closed = true;
	e->agent_ns = agentcpu_self_ns() - e->agent0_ns;
	e->window_ns = now_ns() - e->t0_ns;
}

static void emit_agent_cpu(struct engine *e, json_t *rec)
{
	json_set_real_or_null(rec, "agent_cpu_ms", (double)e->agent_ns / 1e6);
	json_set_real_or_null(rec, "agent_cpu_pct",
			      agentcpu_pct(e->agent_ns, e->window_ns, e->ncpus));
	json_set_int(rec, "agent_window_ms", (long long)(e->window_ns / 1000000));
}

static void finish(struct engine *e)
{
	uint64_t iterations;
	long long elapsed = engine_at_ms(e);
	json_t *rec;
	size_t i, n = 0;
	bool alive;

	/* Before the workers: the payloads see the load to their end. */
	payloads_stop(e, NULL, e->abort ? "abort" : "end");
	if (e->ctprof) {
		workers_stop_unreaped(e);
		window_close(e);
		emit_ctprof(e);
	}
	workers_stop(e, NULL, NULL);
	window_close(e);
	iterations = iterations_so_far(e);
	report_workers(e, NULL, NULL);
	for (i = 0; i < e->ncgs; i++)
		report_cgroup(e, i);
	engine_flush(e);
	alive = sched_finish(e);
	for (i = 0; i < e->nws; i++)
		n += !e->ws[i].discarded;
	rec = jsonl_record("scenario_end");
	json_set_int(rec, "elapsed_ms", elapsed);
	json_set_int(rec, "workers", (long long)n);
	json_set_int(rec, "payloads", payloads_started(e));
	json_set_int(rec, "cpus", e->ncpus);
	json_set_int(rec, "migrations", (long long)e->migrations);
	json_set_int(rec, "iterations", (long long)iterations);
	json_set_real_or_null(rec, "worst_spread_pct", e->worst_spread);
	json_set_real_or_null(rec, "worst_gap_ms", e->worst_gap);
	emit_agent_cpu(e, rec);
	if (e->sched)
		json_set_bool(rec, "scheduler_alive", alive);
	else
		json_object_set_new(rec, "scheduler_alive", json_null());
	engine_emit(e, rec);
	engine_flush(e);
}

static void emit_no_attach_end(struct engine *e)
{
	json_t *rec = jsonl_record("scenario_end");

	json_set_int(rec, "elapsed_ms", 0);
	json_set_int(rec, "workers", 0);
	json_set_int(rec, "payloads", 0);
	json_set_int(rec, "cpus", e->ncpus);
	json_set_int(rec, "migrations", 0);
	json_object_set_new(rec, "worst_spread_pct", json_null());
	json_object_set_new(rec, "worst_gap_ms", json_null());
	json_set_bool(rec, "scheduler_alive", false);
	json_set_str(rec, "error", "the scheduler did not attach");
	engine_emit(e, rec);
	engine_flush(e);
}

/* Whether a step of the scenario writes a cpuset: a set, clear or swap,
 * or a cgroup added with one (the initial cgroups fail in cg_add). */
static bool steps_set_cpusets(const struct scenario *sc)
{
	size_t i, j;

	for (i = 0; i < sc->n_steps; i++)
		for (j = 0; j < sc->steps[i].n_ops; j++) {
			const struct op *op = &sc->steps[i].ops[j];

			if (op->kind == OP_SET_CPUSET || op->kind == OP_CLEAR_CPUSET ||
			    op->kind == OP_SWAP_CPUSETS ||
			    (op->kind == OP_ADD && op->def.cpuset.kind != CPUSET_NONE))
				return true;
		}
	return false;
}

/* The request's "env": variables for the programs the scenario starts
 * (the scheduler and the payloads inherit the agent's environment; the
 * workers are the agent's own forks and exec nothing).  Checked whole
 * before any is set. */
static int apply_env(struct engine *e, const json_t *env)
{
	const char *k;
	json_t *v;

	if (!env)
		return 0;
	if (!json_is_object(env)) {
		scenario_error(e, "\"env\" must be an object of strings");
		return -1;
	}
	json_object_foreach((json_t *)env, k, v)
		if (!json_is_string(v) || !k[0] || strchr(k, '=')) {
			scenario_error(e, "\"env\": \"%s\" must be a name without = and a string",
				       k);
			return -1;
		}
	json_object_foreach((json_t *)env, k, v)
		setenv(k, json_string_value(v), 1);
	return 0;
}

static int run(struct engine *e, const json_t *req)
{
	const json_t *doc = json_object_get(req, "scenario");
	const json_t *sched = json_object_get(req, "scheduler");
	struct strbuf err = STRBUF_INIT, detail = STRBUF_INIT;
	_Atomic uint32_t *go;
	size_t i;

	if (!json_is_object(doc)) {
		scenario_error(e, "\"scenario\" must be an object");
		return EXIT_ERROR;
	}
	if (sched && !json_is_null(sched) && !json_is_object(sched)) {
		scenario_error(e, "\"scheduler\" must be an object or null");
		return EXIT_ERROR;
	}
	if (apply_env(e, json_object_get(req, "env")) < 0)
		return EXIT_ERROR;
	e->ctprof = json_is_true(json_object_get(req, "ctprof"));
	e->bpf.stats = json_is_true(json_object_get(req, "bpf_stats"));
	if (scenario_parse(doc, &e->sc, &err) < 0) {
		scenario_error(e, "%s", err.buf);
		strbuf_release(&err);
		return EXIT_ERROR;
	}
	e->parsed = true;
	if (setup_topo(e, req) < 0)
		return EXIT_ERROR;
	emit_start(e, sched, json_object_get(req, "checks"));

	stop_signal_setup();
	agent_priority(true);
	kmsg_open(e);
	if (cgfs_setup_root(&err) < 0) {
		scenario_error(e, "%s", err.buf);
		strbuf_release(&err);
		return EXIT_ERROR;
	}
	/* Host mode without cpuset: an op that sets one would fail halfway
	 * (a stimulus error) and the scenario, about cpusets, would be judged
	 * as if they held.  Refuse it now, as a bad initial cgroup is. */
	if (steps_set_cpusets(&e->sc) && cgfs_cpuset_missing(&err)) {
		scenario_error(e, "%s", err.buf);
		strbuf_release(&err);
		return EXIT_ERROR;
	}
	if (setup_ctl(e) < 0)
		return EXIT_ERROR;
	if (json_is_object(sched) && sched_start(e, sched) < 0) {
		emit_no_attach_end(e);
		return EXIT_NO_ATTACH;
	}

	go = &e->ctl->go;
	for (i = 0; i < e->sc.n_cgroups; i++) {
		const struct cgroup_def *def = &e->sc.cgroups[i];

		strbuf_reset(&detail);
		if (cg_add(e, def, &go, &detail, &err) < 0) {
			scenario_error(e, "cgroup %s: %s", def->name, err.buf);
			strbuf_release(&err);
			strbuf_release(&detail);
			return EXIT_ERROR;
		}
		/* Recorded before the start so sending them does not
		 * disturb the first moments of the run; at_ms is 0. */
		emit_stimulus(e, 0, 0, OP_ADD, def->name, detail.buf, NULL);
	}
	strbuf_release(&detail);
	engine_flush(e);
	bpfprobe_window_start(e);
	e->agent0_ns = agentcpu_self_ns();
	e->t0_ns = now_ns();
	e->started = true;
	workers_release(go);
	payloads_start_initial(e);

	if (!e->sc.n_steps)
		engine_wait(e, monotonic_ms() + (long long)e->sc.duration_ms);
	for (i = 0; i < e->sc.n_steps && !e->abort; i++)
		run_step(e, i);
	finish(e);
	strbuf_release(&err);
	return EXIT_OK;
}

void engine_release(struct engine *e, bool teardown_cgroups)
{
	size_t i;

	payloads_release(e);
	if (e->nws)
		workers_stop(e, NULL, NULL);
	sched_release(e);
	bpfprobe_release(e);
	if (teardown_cgroups)
		cgfs_teardown();
	engine_reap(e);
	workers_release_all(e);
	for (i = 0; i < e->ncgs; i++) {
		free(e->cgs[i].name);
		free(e->cgs[i].cpus);
		free(e->cgs[i].effective);
	}
	free(e->cgs);
	free(e->ws);
	if (e->ctl)
		munmap(e->ctl, e->ctl_size);
	if (e->kmsg >= 0)
		close(e->kmsg);
	if (e->parsed)
		scenario_release(&e->sc);
}

static void cleanup(struct engine *e)
{
	engine_release(e, true);
	agent_priority(false);
}

void scenario_run(struct agent *ag, const json_t *req)
{
	struct engine e = {
		.ag = ag, .kmsg = -1, .worst_spread = NAN, .worst_gap = NAN,
	};
	int code = run(&e, req);
	json_t *rec = jsonl_record("exit");

	cleanup(&e);
	json_set_int(rec, "exit_code", code);
	if (port_send_final(ag, rec) < 0)
		agent_host_gone();
}
