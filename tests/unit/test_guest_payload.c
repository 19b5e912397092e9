/* Unit tests for guest/payload.c and payload_rec.c: real /bin/sh payload
 * copies run in a fake cgroup tree (fakeengine.h), their records read back
 * from the fake port.  What is checked: the start and stop records'
 * fields, exit codes and signals, the exec failure reported through the
 * pipe, the SIGINT-then-SIGKILL stop of one that ignores SIGINT, the
 * timeout enforced from engine_wait, the {out} file parsed into
 * payload_metrics, the stimulus of the payload ops, a cgroup of the
 * payload's own, and a workers-free cgroup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeengine.h"

#define CG "pl"

struct rig {
	struct fakeengine f;
	struct cgroup_def cg;		/* "pl": no workers */
	char outdir[256];
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	_Atomic uint32_t *go = NULL;
	long idx;

	if (!r || fe_init(&r->f, "payload", "1,1,2,1", 4) < 0)
		return -1;
	snprintf(r->outdir, sizeof(r->outdir), "%s/out", r->f.dir);
	payload_set_dir(r->outdir);
	r->cg.name = CG;
	if (fe_cgroup(&r->f, CG, "0-1") < 0)
		return -1;
	idx = cg_add(&r->f.e, &r->cg, &go, &detail, &err);
	if (idx < 0 || go) {
		fprintf(stderr, "cg_add: %s\n", err.buf);
		return -1;
	}
	/* A workers-free cgroup says so and forks nothing. */
	if (strcmp(detail.buf, "no workers") || r->f.e.nws) {
		fprintf(stderr, "cg_add detail: %s\n", detail.buf);
		return -1;
	}
	strbuf_release(&detail);
	strbuf_release(&err);
	r->f.e.t0_ns = now_ns();
	r->f.e.started = true;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fe_fini(&r->f);
	free(r);
	return 0;
}

/* A def of /bin/sh -c script in CG, exit code checked against 0. */
static void sh_def(struct payload_def *d, const char *name, const char *script)
{
	static char *args[4][3];
	static unsigned n;
	char **a = args[n++ % 4];

	memset(d, 0, sizeof(*d));
	a[0] = "-c";
	a[1] = (char *)script;
	a[2] = NULL;
	d->name = (char *)name;
	d->program = "/bin/sh";
	d->args = a;
	d->n_args = 2;
	d->args_given = true;
	d->cgroup = CG;
	d->copies = 1;
	d->form = "exit_code";
	d->expect_exit = 0;
}

static int start(struct rig *r, const struct payload_def *d)
{
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	int ret = payload_start(&r->f.e, d, 1, &detail, &err);

	strbuf_release(&detail);
	strbuf_release(&err);
	return ret;
}

/* Serve the engine until every copy of the last payload started is
 * reported (at most 10 s). */
static void wait_reported(struct rig *r)
{
	struct engine *e = &r->f.e;
	struct prun *p = e->pruns[e->npruns - 1];
	long long end = monotonic_ms() + 10000;
	unsigned k, done = 0;

	while (monotonic_ms() < end) {
		for (k = done = 0; k < p->n; k++)
			done += p->c[k].reported;
		if (done == p->n)
			return;
		engine_wait(e, monotonic_ms() + 50);
	}
	fail_msg("payload %s: %u of %u copies reported in 10 s", p->def->name, done, p->n);
}

/* The payload record of event for copy of name in recs. */
static json_t *event(const json_t *recs, const char *ev, const char *name, long long copy)
{
	json_t *rec;
	unsigned i;

	for (i = 0; (rec = fe_find(recs, "payload", i)); i++)
		if (!strcmp(fe_str(rec, "event"), ev) && !strcmp(fe_str(rec, "name"), name) &&
		    json_integer_value(json_object_get(rec, "copy")) == copy)
			return rec;
	fail_msg("no payload %s record for %s copy %lld", ev, name, copy);
	return NULL;
}

static long long ival(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static bool tail_has(const json_t *rec, const char *line)
{
	const json_t *tail = json_object_get(rec, "output_tail"), *v;
	size_t i;

	json_array_foreach(tail, i, v)
		if (!strcmp(json_string_value(v), line))
			return true;
	return false;
}

static void test_exit_code(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *st, *sp, *checks;
	char *procs;
	pid_t pid;

	sh_def(&d, "three", "echo hello; echo oops >&2; exit 3");
	assert_int_equal(start(r, &d), 0);
	pid = r->f.e.pruns[0]->c[0].pid;
	assert_true(pid > 0);
	wait_reported(r);
	recs = fe_records(&r->f);
	st = event(recs, "start", "three", 0);
	assert_int_equal(ival(st, "pid"), pid);
	assert_int_equal(ival(st, "copies"), 1);
	assert_int_equal(ival(st, "step"), 1);
	assert_string_equal(fe_str(st, "cgroup"), CG);
	assert_string_equal(fe_str(st, "program"), "/bin/sh");
	assert_string_equal(fe_str(st, "metrics"), "exit_code");
	assert_int_equal(json_array_size(json_object_get(st, "argv")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "argv"), 2)),
			    d.args[1]);
	checks = json_object_get(st, "checks");
	assert_int_equal(ival(checks, "exit_code"), 0);
	assert_true(json_is_object(json_object_get(checks, "max")));
	sp = event(recs, "stop", "three", 0);
	assert_int_equal(ival(sp, "exit_code"), 3);
	assert_true(json_is_null(json_object_get(sp, "signal")));
	assert_true(json_is_false(json_object_get(sp, "killed")));
	assert_string_equal(fe_str(sp, "stopped_by"), "exit");
	assert_null(json_object_get(sp, "error"));
	/* Not the expected exit code: the output goes with it. */
	assert_true(tail_has(sp, "hello"));
	assert_true(tail_has(sp, "oops"));
	assert_int_equal(fe_count(recs, "payload_metrics"), 0);
	/* The copy moved itself into the cgroup before exec. */
	procs = fe_read(fe_cg_path(&r->f, CG "/cgroup.procs"));
	assert_int_equal(atoi(procs), pid);
	free(procs);
	assert_int_equal(payloads_started(&r->f.e), 1);
	json_decref(recs);
}

/* An exit code not checked (null): no tail whatever it is. */
static void test_clean_exit(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *sp;

	sh_def(&d, "fine", "echo fine; exit 5");
	d.expect_exit = -1;
	assert_int_equal(start(r, &d), 0);
	wait_reported(r);
	recs = fe_records(&r->f);
	assert_true(json_is_null(json_object_get(json_object_get(event(recs, "start", "fine", 0),
								 "checks"), "exit_code")));
	sp = event(recs, "stop", "fine", 0);
	assert_int_equal(ival(sp, "exit_code"), 5);
	assert_null(json_object_get(sp, "output_tail"));
	json_decref(recs);
}

static void test_exec_failure(void **state)
{
	struct rig *r = *state;
	struct payload_def d, bare;
	json_t *recs, *sp;

	sh_def(&d, "nope", "");
	d.program = "/nonexistent/ktstr-no-such-program";
	d.n_args = 0;
	d.args[0] = NULL;
	assert_int_equal(start(r, &d), -1);
	wait_reported(r);
	sh_def(&bare, "bare", "");
	bare.program = "ktstr-no-such-program";
	bare.n_args = 0;
	bare.args[0] = NULL;
	assert_int_equal(start(r, &bare), -1);
	wait_reported(r);
	recs = fe_records(&r->f);
	sp = event(recs, "stop", "nope", 0);
	assert_int_equal(ival(sp, "exit_code"), 127);
	assert_string_equal(fe_str(sp, "error"),
			    "exec /nonexistent/ktstr-no-such-program: No such file or directory");
	assert_true(json_is_array(json_object_get(sp, "output_tail")));
	assert_string_equal(fe_str(event(recs, "stop", "bare", 0), "error"),
			    "exec ktstr-no-such-program: No such file or directory");
	json_decref(recs);
}

/* SIGINT ignored (by sh and, inherited, by sleep): killed after the
 * grace. */
static void test_killed_after_grace(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *sp;
	long long t0;

	sh_def(&d, "stubborn", "trap '' INT; echo stubborn; while :; do sleep 0.05; done");
	assert_int_equal(start(r, &d), 0);
	/* Let the trap be set before the stop. */
	engine_wait(&r->f.e, monotonic_ms() + 300);
	t0 = monotonic_ms();
	assert_int_equal(payloads_stop(&r->f.e, NULL, "end"), 1);
	assert_true(monotonic_ms() - t0 >= 2900);
	assert_true(r->f.e.pruns[0]->c[0].reported);
	recs = fe_records(&r->f);
	sp = event(recs, "stop", "stubborn", 0);
	assert_string_equal(fe_str(sp, "stopped_by"), "end");
	assert_true(json_is_true(json_object_get(sp, "killed")));
	assert_int_equal(ival(sp, "signal"), SIGKILL);
	assert_true(json_is_null(json_object_get(sp, "exit_code")));
	assert_true(tail_has(sp, "stubborn"));
	json_decref(recs);
}

static void test_timeout(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *sp;
	long long wall;

	sh_def(&d, "slow", "sleep 30");
	d.timeout_ms = 300;
	assert_int_equal(start(r, &d), 0);
	assert_true(payloads_next_ms(&r->f.e) > 0);
	wait_reported(r);
	recs = fe_records(&r->f);
	sp = event(recs, "stop", "slow", 0);
	assert_string_equal(fe_str(sp, "stopped_by"), "timeout");
	assert_true(json_is_false(json_object_get(sp, "killed")));
	wall = ival(sp, "wall_ms");
	/* Stopped by the timeout (never before it), not by the end of its
	 * 30 s sleep; how soon after is make bench's business, not a
	 * test's. */
	assert_true(wall >= 300 && wall < 29000);
	/* Ran too long: a failure, shown with its output. */
	assert_true(json_is_array(json_object_get(sp, "output_tail")));
	assert_int_equal(payloads_next_ms(&r->f.e), -1);
	json_decref(recs);
}

/* A stop_payload op on one that honours SIGINT; and the start op. */
static void test_ops(void **state)
{
	struct rig *r = *state;
	struct op start_op = { .kind = OP_START_PAYLOAD }, stop_op = { .kind = OP_STOP_PAYLOAD };
	json_t *recs, *sp, *stim;

	sh_def(&start_op.payload, "loop", "while :; do sleep 0.05; done");
	start_op.payload.copies = 2;
	stop_op.payload.name = "loop";
	apply_op(&r->f.e, 2, &start_op);
	engine_wait(&r->f.e, monotonic_ms() + 200);
	apply_op(&r->f.e, 3, &stop_op);
	recs = fe_records(&r->f);
	stim = fe_find(recs, "stimulus", 0);
	assert_int_equal(ival(stim, "step"), 2);
	assert_string_equal(fe_str(stim, "cgroup"), CG);
	assert_string_equal(fe_str(stim, "detail"),
			    "loop x2: /bin/sh -c while :; do sleep 0.05; done");
	assert_null(json_object_get(stim, "error"));
	stim = fe_find(recs, "stimulus", 1);
	assert_int_equal(ival(stim, "step"), 3);
	assert_string_equal(fe_str(stim, "cgroup"), CG);
	assert_string_equal(fe_str(stim, "detail"), "loop: 2 copies stopped");
	sp = event(recs, "stop", "loop", 1);
	assert_string_equal(fe_str(sp, "stopped_by"), "stop_op");
	assert_true(json_is_false(json_object_get(sp, "killed")));
	/* Died of our SIGINT: nothing to show. */
	assert_int_equal(ival(sp, "signal"), SIGINT);
	assert_null(json_object_get(sp, "output_tail"));
	assert_int_equal(ival(event(recs, "start", "loop", 1), "copies"), 2);
	json_decref(recs);
	/* Stopping it again, or one never started, is an op error. */
	stop_op.payload.name = "never";
	apply_op(&r->f.e, 3, &stop_op);
	recs = fe_records(&r->f);
	assert_string_equal(fe_str(fe_find(recs, "stimulus", 0), "error"),
			    "no payload never was started");
	json_decref(recs);
}

/* {out} and {copy}: each copy's own file, parsed into metrics. */
static void test_out_metrics(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *m, *pm;
	unsigned k;

	sh_def(&d, "js", "printf '{\"lat\": 12.5, \"copy\": {copy}}' >{out}; echo not json");
	d.form = "json";
	d.copies = 2;
	assert_int_equal(start(r, &d), 0);
	wait_reported(r);
	recs = fe_records(&r->f);
	assert_int_equal(fe_count(recs, "payload_metrics"), 2);
	for (k = 0; k < 2; k++) {
		pm = fe_find(recs, "payload_metrics", k);
		assert_string_equal(fe_str(pm, "name"), "js");
		assert_string_equal(fe_str(pm, "form"), "json");
		assert_null(json_object_get(pm, "error"));
		m = json_object_get(pm, "metrics");
		assert_true(json_real_value(json_object_get(json_object_get(m, "lat"), "value")) ==
			    12.5);
		assert_true(json_number_value(json_object_get(json_object_get(m, "copy"), "value")) ==
			    (double)ival(pm, "copy"));
	}
	json_decref(recs);
}

/* Output that does not parse: the error and what was parsed. */
static void test_bad_output(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *pm;

	sh_def(&d, "garbage", "echo this is not json");
	d.form = "json";
	assert_int_equal(start(r, &d), 0);
	wait_reported(r);
	recs = fe_records(&r->f);
	pm = fe_find(recs, "payload_metrics", 0);
	assert_non_null(pm);
	assert_non_null(fe_str(pm, "error"));
	assert_true(tail_has(pm, "this is not json"));
	assert_int_equal(json_object_size(json_object_get(pm, "metrics")), 0);
	json_decref(recs);
}

/* No cgroup of that name: every copy reported as never run. */
static void test_no_cgroup(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs, *sp;

	sh_def(&d, "lost", "exit 0");
	d.cgroup = "absent";
	assert_int_equal(start(r, &d), -1);
	payloads_report(&r->f.e);
	recs = fe_records(&r->f);
	assert_true(json_is_null(json_object_get(event(recs, "start", "lost", 0), "pid")));
	sp = event(recs, "stop", "lost", 0);
	assert_int_equal(ival(sp, "exit_code"), 127);
	assert_string_equal(fe_str(sp, "error"), "no cgroup absent");
	assert_int_equal(payloads_started(&r->f.e), 0);
	json_decref(recs);
}

/* A cgroup of its own: made with the cpuset, killed and removed once the
 * payload has ended (the fake tree keeps the directory: rmdir of a
 * directory with files fails). */
static void test_own_cgroup(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	json_t *recs;
	char *s;
	long cg;

	sh_def(&d, "mine", "exit 0");
	d.own_cgroup = true;
	d.cgroup = "mine";
	d.cpuset.kind = CPUSET_LIST;
	d.cpuset.list = "1";
	assert_int_equal(fe_cgroup(&r->f, "mine", "1"), 0);
	assert_int_equal(start(r, &d), 0);
	cg = r->f.e.pruns[0]->cg;
	assert_true(cg >= 0);
	s = fe_read(fe_cg_path(&r->f, "mine/cpuset.cpus"));
	assert_string_equal(s, "1");
	free(s);
	wait_reported(r);
	assert_false(r->f.e.cgs[cg].live);
	assert_true(r->f.e.pruns[0]->removed);
	s = fe_read(fe_cg_path(&r->f, "mine/cgroup.kill"));
	assert_string_equal(s, "1");
	free(s);
	recs = fe_records(&r->f);
	assert_string_equal(fe_str(event(recs, "start", "mine", 0), "cgroup"), "mine");
	/* A cgroup without workers has no cgroup_stats. */
	report_cgroup(&r->f.e, (size_t)cg);
	report_cgroup(&r->f.e, 0);
	engine_flush(&r->f.e);
	json_decref(recs);
	recs = fe_records(&r->f);
	assert_int_equal(fe_count(recs, "cgroup_stats"), 0);
	json_decref(recs);
}

/* Removing the cgroup stops its payloads first, as an op would. */
static void test_remove_stops(void **state)
{
	struct rig *r = *state;
	struct op rm = { .kind = OP_REMOVE, .cgroup = CG };
	struct payload_def d;
	json_t *recs, *sp;

	sh_def(&d, "inside", "while :; do sleep 0.05; done");
	assert_int_equal(start(r, &d), 0);
	engine_wait(&r->f.e, monotonic_ms() + 200);
	apply_op(&r->f.e, 2, &rm);
	assert_true(r->f.e.pruns[0]->c[0].reported);
	recs = fe_records(&r->f);
	sp = event(recs, "stop", "inside", 0);
	assert_string_equal(fe_str(sp, "stopped_by"), "stop_op");
	assert_int_equal(ival(sp, "signal"), SIGINT);
	json_decref(recs);
}

/* An add op of a cgroup without workers: no barrier to open. */
static void test_add_no_workers(void **state)
{
	struct rig *r = *state;
	struct op add = { .kind = OP_ADD, .def = { .name = "empty" } };
	json_t *recs, *stim;

	assert_int_equal(fe_cgroup(&r->f, "empty", "0-1"), 0);
	apply_op(&r->f.e, 1, &add);
	recs = fe_records(&r->f);
	stim = fe_find(recs, "stimulus", 0);
	assert_string_equal(fe_str(stim, "detail"), "no workers");
	assert_null(json_object_get(stim, "error"));
	assert_true(cg_lookup(&r->f.e, "empty") >= 0);
	assert_int_equal(r->f.e.nws, 0);
	json_decref(recs);
}

/* engine_release kills what still runs. */
static void test_release_kills(void **state)
{
	struct rig *r = *state;
	struct payload_def d;
	pid_t pid;

	sh_def(&d, "left", "trap '' INT; while :; do sleep 0.05; done");
	assert_int_equal(start(r, &d), 0);
	pid = r->f.e.pruns[0]->c[0].pid;
	payloads_release(&r->f.e);
	assert_int_equal(r->f.e.npruns, 0);
	assert_true(kill(pid, 0) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_no_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_kills, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
