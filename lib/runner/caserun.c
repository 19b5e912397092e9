#include "caserun.h"
#include "clock.h"
#include "diag.h"
#include "fsutil.h"
#include "run.h"
#include "sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest record line kept whole; the check engine skips longer ones. */
#define MAX_LINE (16u << 20)
/* ktstr-vm stderr lines kept for the failure block. */
#define ERR_TAIL_LINES 40

/* A file-name-safe version of a case name. */
static char *safe_stem(const char *name, unsigned repeat)
{
	return file_name_sanitize(xasprintf("%s.r%u", name, repeat));
}

json_t *caserun_topology_json(const struct ktstr_topo *t)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *o = json_object();

	topo_format_short(t, &sb);
	json_set_str(o, "spec", sb.buf);
	json_set_int(o, "nodes", t->nodes);
	json_set_int(o, "llcs", t->llcs);
	json_set_int(o, "cores_per_llc", t->cores);
	json_set_int(o, "threads_per_core", t->threads);
	json_set_int(o, "cpus", topo_cpus(t));
	strbuf_release(&sb);
	return o;
}

static const struct gauntlet_kernel *case_kernel(const struct gcase *c,
						 const struct caserun_ctx *ctx)
{
	return c->kernel ? c->kernel : ctx->default_kernel;
}

/* The scheduler's lifecycle: its output file, and for ktstr-verify
 * whether it attached and how it failed first. */
static void collect_sched(struct caserun *r, json_t *rec)
{
	const char *ev = json_get_str(rec, "event");

	if (json_get_str(rec, "output_log")) {
		/* ktstr-vm keeps the scheduler's whole output in a file: the
		 * record's output array holds only its last lines. */
		free(r->sched_log);
		r->sched_log = xstrdup(json_get_str(rec, "output_log"));
	}
	if (ev && !strcmp(ev, "attached"))
		r->sched_attached = true;
	else if (ev && !r->sched_fail && (!strcmp(ev, "attach_failed") || !strcmp(ev, "died")))
		r->sched_fail = json_incref(rec);
}

/* Keep what the sidecar wants beyond the verdict's own digest. */
static void collect(struct caserun *r, json_t *rec)
{
	const char *type = json_get_str(rec, "type");

	if (!type)
		return;
	if (!strcmp(type, "vm_start")) {
		/* Which accelerator ran the case: compare says so, as TCG and
		 * KVM timings are not comparable. */
		free(r->accel);
		r->accel = json_get_str(rec, "accel") ? xstrdup(json_get_str(rec, "accel")) : NULL;
	} else if (!strcmp(type, "agent_ready")) {
		json_decref(r->agent_ready);
		r->agent_ready = json_incref(rec);
	} else if (!strcmp(type, "cgroup_stats")) {
		json_array_append(r->cgroups, rec);
	} else if (!strcmp(type, "stimulus")) {
		json_array_append(r->stimulus, rec);
	} else if (!strcmp(type, "scenario_start")) {
		json_decref(r->sysctls);
		r->sysctls = json_incref(json_object_get(rec, "sysctls"));
	} else if (!strcmp(type, "scenario_end")) {
		json_decref(r->scenario_end);
		r->scenario_end = json_incref(rec);
	} else if (!strcmp(type, "bpf_prog")) {
		json_array_append(r->bpf_progs, rec);
	} else if (!strcmp(type, "bpf_prog_stats")) {
		json_array_append(r->bpf_stats, rec);
	} else if (!strcmp(type, "bpf_probe_error") && !r->bpf_probe_error) {
		r->bpf_probe_error = xasprintf("%s: %s", json_get_str(rec, "stage") ?
					       json_get_str(rec, "stage") : "?",
					       json_get_str(rec, "message") ?
					       json_get_str(rec, "message") : "no message");
	} else if (!strcmp(type, "scheduler")) {
		collect_sched(r, rec);
	}
}

static void on_record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct caserun *r = ctx;

	r->v.line = lineno;
	verdict_feed(&r->v, rec);
	collect(r, rec);
}

/* Counted, not reported one by one: the verdict says how many. */
static void on_bad(void *ctx, unsigned long lineno, const char *why)
{
	struct caserun *r = ctx;

	r->v.bad_lines++;
}

static void err_line(void *ctx, const char *line, size_t len)
{
	struct caserun *r = ctx;

	if (r->err_tail.n == ERR_TAIL_LINES) {
		free(r->err_tail.v[0]);
		memmove(r->err_tail.v, r->err_tail.v + 1,
			(r->err_tail.n - 1) * sizeof(*r->err_tail.v));
		r->err_tail.v[--r->err_tail.n] = NULL;
	}
	strvec_pushf(&r->err_tail, "%.*s", (int)len, line);
}

/* ktstr-vm's stdout is the record stream the verdict reads; its stderr
 * is text, the last lines of which go in the failure block. */
/* The records as ktstr-vm wrote them, before they are split into lines:
 * a copy for ktstr-stats to draw from once the run is over.  A copy that
 * cannot be written only costs the report its pictures, so it is dropped
 * with one line, not the run. */
static void on_chunk(void *ctx, const char *buf, size_t len)
{
	struct caserun *r = ctx;

	if (r->records_fd < 0 || !len)
		return;
	if (write_all(r->records_fd, buf, len) < 0) {
		diag("%s: cannot write: %s; the report will lack this case's pictures",
		     r->records_path, strerror(errno));
		close(r->records_fd);
		r->records_fd = -1;
		unlink(r->records_path);
	}
}

/* ctx->keep_records: the file on_chunk copies the records to.  A retried
 * attempt starts it again, so it holds the attempt reported.  0, or -1
 * with err. */
static int open_records(struct caserun *r, const struct caserun_ctx *ctx, const char *stem,
			struct strbuf *err)
{
	r->records_path = xasprintf("%s/%s.records.jsonl", ctx->workdir, stem);
	r->records_fd = open(r->records_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r->records_fd < 0) {
		strbuf_addf(err, "cannot write %s: %s", r->records_path, strerror(errno));
		return -1;
	}
	return 0;
}

static const struct jsonl_ops out_ops = { .record = on_record, .bad = on_bad,
					   .chunk = on_chunk };
static const struct jsonl_ops err_ops = { .line = err_line };

/* A caserun with nothing open yet, holding lock (moved in). */
static void caserun_init(struct caserun *r, const struct gcase *c, unsigned repeat,
			 struct hostlock *lock)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->repeat = repeat;
	r->out_fd = r->err_fd = -1;
	r->exit_code = -1;
	r->records_fd = -1;
	r->lock = *lock;
	memset(lock, 0, sizeof(*lock));
	verdict_init(&r->v);
	/* Checked when the test file was loaded. */
	if (c->test->payload_checks)
		verdict_payload_overlay(&r->v, c->test->payload_checks, NULL);
	jsonl_reader_init(&r->out, MAX_LINE, &out_ops, r);
	jsonl_reader_init(&r->err, 64 * 1024, &err_ops, r);
	r->cgroups = json_array();
	r->stimulus = json_array();
	r->bpf_progs = json_array();
	r->bpf_stats = json_array();
}

int caserun_start(struct caserun *r, const struct caserun_ctx *ctx, const struct gcase *c,
		  unsigned repeat, struct hostlock *lock, struct strbuf *err)
{
	const struct ktest *t = c->test;
	const struct gauntlet_kernel *k = case_kernel(c, ctx);
	struct strvec argv = STRVEC_INIT;
	struct strbuf topo = STRBUF_INIT;
	struct run_opts ro = RUN_OPTS_INIT;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char *stem;
	size_t i;

	caserun_init(r, c, repeat, lock);
	/* The scenario goes to ktstr-vm as a file: canned or inline alike,
	 * with the test's duration already applied. */
	stem = safe_stem(c->name, repeat);
	r->scenario_path = xasprintf("%s/%s.scenario.json", ctx->workdir, stem);
	if (ctx->keep_records && open_records(r, ctx, stem, err) < 0) {
		free(stem);
		goto fail;
	}
	free(stem);
	if (json_dump_file(t->scenario_doc, r->scenario_path, JSON_COMPACT) < 0) {
		strbuf_addf(err, "cannot write %s: %s", r->scenario_path, strerror(errno));
		goto fail;
	}

	topo_format(&c->preset->topo, &topo);
	strvec_push(&argv, ctx->vm_prog);
	strvec_pushf(&argv, "--kernel=%s", k->image);
	strvec_pushf(&argv, "--topo=%s", topo.buf);
	strvec_pushf(&argv, "--scenario=%s", r->scenario_path);
	if (gcase_scheduler(c))
		strvec_pushf(&argv, "--scheduler=%s", gcase_scheduler(c));
	for (i = 0; i < t->sched_args.n; i++)
		strvec_pushf(&argv, "--sched-arg=%s", t->sched_args.v[i]);
	if (ctx->accel)
		strvec_pushf(&argv, "--accel=%s", ctx->accel);
	if (t->bpf_stats)
		strvec_push(&argv, "--bpf-stats");
	/* The gauntlet applied the vCPU rule (budget.h) to the whole host;
	 * pinned to its share of it, ktstr-vm's own check would count less. */
	strvec_push(&argv, "--force");
	/* A run that overstays its duration by minutes is stuck, not slow. */
	strvec_pushf(&argv, "--timeout=%llums",
		     t->timeout_ms ? t->timeout_ms : t->duration_ms + 180000ull);
	if (t->append)
		strvec_pushf(&argv, "--append=%s", t->append);
	/* The test's env: the scheduler's and the payloads' in the guest. */
	for (i = 0; i < t->env.n; i++)
		strvec_pushf(&argv, "--env=%s", t->env.v[i]);

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	ro.stdin_fd = RUN_FD_NULL;
	ro.stdout_fd = outp[1];
	ro.stderr_fd = errp[1];
	ro.new_pgrp = true;		/* ^C reaches the runner, which stops us in order */
	ro.die_with_parent = true;	/* a killed runner takes its VMs along */
	ro.affinity = &r->lock.set;
	r->start_ms = monotonic_ms();
	r->pid = run_spawn(strvec_argv(&argv), &ro);
	if (r->pid < 0) {
		strbuf_addf(err, "cannot run %s: %s", ctx->vm_prog, strerror(errno));
		goto fail;
	}
	close(outp[1]);
	close(errp[1]);
	r->out_fd = outp[0];
	r->err_fd = errp[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
	strvec_clear(&argv);
	strbuf_release(&topo);
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	strvec_clear(&argv);
	strbuf_release(&topo);
	caserun_release(r);
	return -1;
}

bool caserun_read(struct caserun *r, int fd)
{
	bool is_out = fd == r->out_fd;
	struct jsonl_reader *jr = is_out ? &r->out : &r->err;

	if (jsonl_reader_read(jr, fd) != 1) {
		/* EOF (or a dead pipe): the unterminated tail counts. */
		jsonl_reader_finish(jr);
		close(fd);
		if (is_out) {
			r->out_fd = -1;
			if (r->records_fd >= 0)
				close(r->records_fd);
			r->records_fd = -1;
		}
		else
			r->err_fd = -1;
	}
	return r->out_fd >= 0 || r->err_fd >= 0;
}

void caserun_interrupt(struct caserun *r, int sig)
{
	r->interrupted = true;
	if (r->pid > 0 && r->exit_code < 0)
		kill(r->pid, sig);
}

/* Whether a check other than "vm" failed: such a failure is the
 * scheduler's (or the workload's), whatever happened to the VM after. */
static bool own_failure(const struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->n_checks; i++)
		if (!v->checks[i].pass && !v->checks[i].by_host && strcmp(v->checks[i].check, "vm"))
			return true;
	return false;
}

char *caserun_infra_reason(const struct caserun *r)
{
	const struct verdict *v = &r->v;
	const char *why = v->vm_exit_reason, *msg = v->vm_exit_message;

	if (r->interrupted || own_failure(v))
		return NULL;
	if (!why) {
		if (r->exit_code > 128)
			return xasprintf("ktstr-vm was killed by signal %d before the VM run "
					 "finished", r->exit_code - 128);
		return xasprintf("ktstr-vm exited with status %d without running the VM "
				 "to its end%s", r->exit_code,
				 r->err_tail.n ? " (its last words are below)" : "");
	}
	if (!strcmp(why, "qemu_error"))
		return xstrdup(msg ? msg : "QEMU failed without a message");	/* says "QEMU" */
	/* The host kept the VM from running (stopped, or too busy): the run
	 * says nothing about the scheduler, and another attempt may. */
	if (v->result == VERDICT_INCONCLUSIVE && v->host_reason)
		return xstrdup(v->host_reason);
	if (v->saw_agent_ready)
		return NULL;
	/* ktstr-vm's message already says the agent never started; the
	 * reason goes in front of it rather than saying so twice. */
	if (!strcmp(why, "no_agent") || !strcmp(why, "timeout") || !strcmp(why, "boot_timeout"))
		return msg ? xasprintf("%s: %s", why, msg)
			   : xasprintf("the VM never reached the guest agent (%s)", why);
	return NULL;
}

const char *caserun_result_name(const struct caserun *r)
{
	return r->infra ? "error" : verdict_result_name(r->v.result);
}

void caserun_finish(struct caserun *r)
{
	if (r->out_fd >= 0)
		while (caserun_read(r, r->out_fd) && r->out_fd >= 0)
			;
	if (r->err_fd >= 0)
		while (caserun_read(r, r->err_fd) && r->err_fd >= 0)
			;
	if (r->pid > 0 && r->exit_code < 0)
		r->exit_code = run_wait(r->pid);
	r->wall_ms = monotonic_ms() - r->start_ms;
	hostlock_release(&r->lock);
	verdict_finish(&r->v, &r->c->test->thresholds);
	free(r->infra);
	r->infra = caserun_infra_reason(r);
}

/* ---- sidecars ----------------------------------------------------------- */

static json_t *base_doc(const struct gcase *c, const struct caserun_ctx *ctx, unsigned repeat)
{
	const struct ktest *t = c->test;
	const struct gauntlet_kernel *k = case_kernel(c, ctx);
	const char *sched = gcase_scheduler(c);
	json_t *doc = jsonl_record("sidecar"), *o, *a;
	char *now = iso8601_utc(time(NULL));
	size_t i;

	json_set_int(doc, "schema", SIDECAR_SCHEMA);
	json_set_str(doc, "run_id", ctx->run_id);
	json_set_str(doc, "label", ctx->label);
	json_set_str(doc, "run_source", ctx->run_source);
	json_set_str(doc, "timestamp", now);
	free(now);
	json_set_str(doc, "suite", t->suite);
	json_set_str(doc, "test", t->name);
	json_set_str(doc, "preset", c->preset ? c->preset->name : NULL);
	json_set_str(doc, "case", c->full_name);
	json_set_int(doc, "repeat", repeat);
	json_object_set_new(doc, "topology", c->preset ?
			    caserun_topology_json(&c->preset->topo) : json_null());

	o = json_object();
	json_set_str(o, "name", sched ? path_basename(sched) : "eevdf");
	json_set_str(o, "path", sched && strchr(sched, '/') ? sched : NULL);
	a = json_array();
	for (i = 0; i < t->sched_args.n; i++)
		json_array_append_new(a, json_string(t->sched_args.v[i]));
	json_object_set_new(o, "args", a);
	json_object_set_new(doc, "scheduler", o);

	o = json_object();
	json_set_str(o, "name", t->scenario_name);
	json_set_int(o, "duration_ms", (long long)t->duration_ms);
	a = json_array();
	for (i = 0; i < t->features.n; i++)
		json_array_append_new(a, json_string(t->features.v[i]));
	json_object_set_new(o, "features", a);
	a = json_array();
	for (i = 0; i < t->features.n; i++)
		if (!strncmp(t->features.v[i], "work:", 5))
			json_array_append_new(a, json_string(t->features.v[i] + 5));
	json_object_set_new(o, "work_types", a);
	json_object_set_new(doc, "scenario", o);

	o = json_object();
	json_set_str(o, "label", k ? k->label : NULL);
	json_set_str(o, "key", k ? k->key : NULL);
	json_set_str(o, "image", k ? k->image : NULL);
	json_object_set_new(doc, "kernel", o);
	json_set_str(doc, "project_commit", ctx->commit);
	json_object_set(doc, "host", ctx->host);
	return doc;
}

json_t *caserun_skip_sidecar(const struct gcase *c, const struct caserun_ctx *ctx)
{
	json_t *doc = base_doc(c, ctx, 1);

	json_set_str(doc, "result", "skip");
	json_set_str(doc, "reason", c->skip_reason);
	json_set_int(doc, "exit_code", 3);
	json_set_int(doc, "wall_ms", 0);
	json_set_str(doc, "accel", NULL);	/* no VM ran */
	json_object_set_new(doc, "metrics", json_object());
	return doc;
}

json_t *caserun_sidecar(const struct caserun *r, const struct caserun_ctx *ctx)
{
	json_t *doc = base_doc(r->c, ctx, r->repeat), *g, *kernel;
	const json_t *ready = r->agent_ready;

	json_set_str(doc, "result", caserun_result_name(r));
	json_set_str(doc, "reason", r->infra ? r->infra : r->v.reason);
	json_set_int(doc, "exit_code", r->exit_code);
	json_set_int(doc, "wall_ms", r->wall_ms);
	json_set_str(doc, "accel", r->accel);
	json_object_set_new(doc, "verdict", verdict_to_json(&r->v, r->c->full_name));
	json_object_set_new(doc, "metrics", sidecar_metrics(&r->v));
	json_object_set_new(doc, "metric_info", sidecar_metric_info(&r->v));
	json_object_set_new(doc, "payloads", sidecar_payloads(&r->v));
	json_object_set_new(doc, "bpf_programs", sidecar_bpf_programs(&r->v));
	json_object_set(doc, "cgroups", r->cgroups);
	json_object_set_new(doc, "scenario_end", r->scenario_end ?
			    json_incref(r->scenario_end) : json_null());
	json_object_set(doc, "stimulus", r->stimulus);
	json_object_set_new(doc, "sched_ext_events", json_deep_copy(r->v.scx_events));

	g = json_object();
	json_set_str(g, "kernel_release", ready ? json_get_str(ready, "kernel_release") : NULL);
	json_set_str(g, "cmdline", ready ? json_get_str(ready, "cmdline") : NULL);
	json_object_set_new(g, "sysctls", json_is_object(r->sysctls) ?
			    json_deep_copy(r->sysctls) : json_object());
	json_object_set_new(doc, "guest", g);
	kernel = json_object_get(doc, "kernel");
	json_set_str(kernel, "release", ready ? json_get_str(ready, "kernel_release") : NULL);
	return doc;
}

void caserun_release(struct caserun *r)
{
	if (r->pid > 0 && r->exit_code < 0) {
		kill(r->pid, SIGKILL);
		r->exit_code = run_wait(r->pid);
	}
	if (r->out_fd >= 0)
		close(r->out_fd);
	if (r->err_fd >= 0)
		close(r->err_fd);
	hostlock_release(&r->lock);
	jsonl_reader_release(&r->out);
	jsonl_reader_release(&r->err);
	verdict_release(&r->v);
	strvec_clear(&r->err_tail);
	json_decref(r->agent_ready);
	json_decref(r->sysctls);
	json_decref(r->cgroups);
	json_decref(r->stimulus);
	json_decref(r->scenario_end);
	json_decref(r->bpf_progs);
	json_decref(r->bpf_stats);
	json_decref(r->sched_fail);
	free(r->bpf_probe_error);
	free(r->accel);
	if (r->scenario_path)
		unlink(r->scenario_path);
	free(r->scenario_path);
	free(r->infra);
	free(r->sched_log);
	free(r->first_error);
	/* The records file stays for the report; only the fd goes. */
	if (r->records_path && r->records_fd >= 0)
		close(r->records_fd);
	free(r->records_path);
	memset(r, 0, sizeof(*r));
	r->out_fd = r->err_fd = -1;
}
