/* Unit tests for guest/scheduler.c: the scheduler's lifecycle (start,
 * attach, watch, detach) with a shell script as the scheduler and a fake
 * /sys/kernel/sched_ext that the script (or the test, playing the kernel)
 * writes.  /dev/kmsg is a packet-mode pipe: one record per read, as the
 * real one gives.  What is checked is the record stream the host sees. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeengine.h"

/* Attaches when started (ops "fake_ops", two event counters), says
 * hello, and on SIGINT detaches and exits 0. */
static const char good_sched[] =
	"#!/bin/sh\n"
	"d=\"$1\"\n"
	"trap 'echo disabled >\"$d/state\"; rm -f \"$d/root/ops\"; echo bye; exit 0' INT\n"
	"mkdir -p \"$d/root\"\n"
	"printf 'SCX_EV_A 10\\nSCX_EV_B 1\\n' >\"$d/root/events\"\n"
	"echo fake_ops >\"$d/root/ops\"\n"
	"echo \"hello from $(basename \"$0\")\"\n"
	"echo enabled >\"$d/state\"\n"
	"while :; do sleep 0.02; done\n";

/* Gives up before attaching, as libbpf does without a kernel config. */
static const char no_kconfig_sched[] =
	"#!/bin/sh\n"
	"echo 'libbpf: failed to open system Kconfig'\n"
	"echo 'libbpf: failed to load object'\n"
	"exit 1\n";

struct rig {
	struct fakeengine f;
	char scx[256];
	int kmsg_w;			/* the kernel's end of the fake kmsg */
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	int p[2];

	if (!r || fe_init(&r->f, "scheduler", "1,1,2,1", 1) < 0)
		return -1;
	snprintf(r->scx, sizeof(r->scx), "%s/sched_ext", r->f.dir);
	if (mkdir(r->scx, 0755) < 0 || fe_put(tmpdir_path(r->scx, "state"), "disabled\n") < 0)
		return -1;
	sched_set_scx_dir(r->scx);
	if (pipe2(p, O_DIRECT | O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	r->f.e.kmsg = p[0];
	r->kmsg_w = p[1];
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fe_fini(&r->f);
	close(r->kmsg_w);
	free(r);
	return 0;
}

/* A script named name in the rig's directory; its path. */
static const char *script(struct rig *r, const char *name, const char *text)
{
	const char *path = tmpdir_path(r->f.dir, name);

	assert_int_equal(fe_put(path, text), 0);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static json_t *spec_of(const char *path, const char *arg)
{
	return json_pack("{s:s, s:[s]}", "path", path, "args", arg);
}

/* One /dev/kmsg record: "prio,seq,usec,flags;message". */
static void kmsg(struct rig *r, const char *msg)
{
	static unsigned seq;
	char *rec = xasprintf("3,%u,1000,-;%s\n", seq++, msg);

	assert_int_equal(write(r->kmsg_w, rec, strlen(rec)), (ssize_t)strlen(rec));
	free(rec);
}

static const json_t *event(const json_t *recs, const char *ev)
{
	size_t i;
	json_t *rec;

	json_array_foreach(recs, i, rec)
		if (!strcmp(fe_str(rec, "type"), "scheduler") && !strcmp(fe_str(rec, "event"), ev))
			return rec;
	return NULL;
}

/* Did the output ring (an "output" array) keep line? */
static bool has_line(const json_t *rec, const char *line)
{
	const json_t *out = json_object_get(rec, "output");
	size_t i;
	json_t *l;

	json_array_foreach(out, i, l)
		if (!strcmp(json_string_value(l), line))
			return true;
	return false;
}

static void test_name_of(void **state)
{
	json_t *spec = json_pack("{s:s}", "path", "/usr/bin/scx_rusty");

	(void)state;
	assert_string_equal(sched_name_of(spec), "scx_rusty");
	json_decref(spec);
	spec = json_object();
	assert_null(sched_name_of(spec));
	json_decref(spec);
}

static void test_attach_and_detach(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of(script(r, "scx_fake", good_sched), r->scx), *recs;
	const json_t *rec, *d;
	char *st;

	assert_int_equal(sched_start(e, spec), 0);
	recs = fe_records(&r->f);
	rec = event(recs, "started");
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "name"), "scx_fake");
	assert_true(json_integer_value(json_object_get(rec, "pid")) > 0);
	rec = event(recs, "attached");
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "ops"), "fake_ops");
	assert_true(json_integer_value(json_object_get(rec, "attach_ms")) >= 0);
	/* Output goes to the host line by line as it comes. */
	assert_string_equal(fe_str(fe_find(recs, "sched_output", 0), "line"), "hello from scx_fake");
	assert_true(sched_alive(e));
	assert_true(sched_fd(e) >= 0);
	assert_true(sched_next_ms(e) > 0);
	json_decref(recs);

	/* The kernel counts on while it runs; healthy polls are silent. */
	assert_int_equal(fe_put(tmpdir_path(r->scx, "root/events"),
				"SCX_EV_A 15\nSCX_EV_B 1\n"), 0);
	sched_poll(e, true);
	assert_false(e->abort);

	assert_true(sched_finish(e));
	recs = fe_records(&r->f);
	rec = fe_find(recs, "sched_ext_events", 0);
	assert_non_null(rec);
	d = json_object_get(rec, "deltas");
	assert_int_equal(json_integer_value(json_object_get(d, "SCX_EV_A")), 5);
	assert_int_equal(json_integer_value(json_object_get(d, "SCX_EV_B")), 0);
	assert_null(json_object_get(rec, "partial"));
	rec = event(recs, "detached");
	assert_non_null(rec);
	assert_true(json_is_true(json_object_get(rec, "clean")));
	assert_int_equal(json_integer_value(json_object_get(rec, "exit_code")), 0);
	/* A clean detach carries no output. */
	assert_null(json_object_get(rec, "output"));
	assert_false(sched_alive(e));
	st = fe_read(tmpdir_path(r->scx, "state"));
	assert_string_equal(st, "disabled\n");
	free(st);
	/* Detached: a second finish has nothing to do. */
	assert_false(sched_finish(e));
	json_decref(recs);
	json_decref(spec);
}

static void test_died_kernel_reason(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of(script(r, "scx_fake", good_sched), r->scx), *recs;
	const json_t *rec, *klog;

	assert_int_equal(sched_start(e, spec), 0);
	json_decref(fe_records(&r->f));
	/* The kernel ejects it: state leaves "enabled", kmsg says why. */
	kmsg(r, "sched_ext: other noise");
	kmsg(r, "sched_ext: BPF scheduler \"fake_ops\" disabled (runtime error)");
	kmsg(r, "sched_ext: fake_ops: stall on CPU 1");
	assert_int_equal(fe_put(tmpdir_path(r->scx, "state"), "disabled\n"), 0);
	sched_poll(e, true);
	assert_true(e->abort);
	assert_false(sched_alive(e));
	assert_int_equal(sched_next_ms(e), -1);

	recs = fe_records(&r->f);
	rec = event(recs, "died");
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "reason"), "runtime error");
	/* The "disabled" line and what follows it, not the noise before. */
	klog = json_object_get(rec, "kernel_log");
	assert_int_equal(json_array_size(klog), 2);
	assert_string_equal(json_string_value(json_array_get(klog, 1)),
			    "sched_ext: fake_ops: stall on CPU 1");
	/* Still running when it was declared dead. */
	assert_true(json_is_null(json_object_get(rec, "exit_code")));
	assert_true(has_line(rec, "hello from scx_fake"));
	json_decref(recs);

	/* The end: partial counters, no detach, the process stopped. */
	assert_false(sched_finish(e));
	recs = fe_records(&r->f);
	assert_true(json_is_true(json_object_get(fe_find(recs, "sched_ext_events", 0),
						 "partial")));
	assert_null(event(recs, "detached"));
	json_decref(recs);
	json_decref(spec);
}

static void test_died_process_exit(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of(script(r, "scx_fake", good_sched), r->scx), *recs;
	const json_t *rec;
	pid_t pid;

	assert_int_equal(sched_start(e, spec), 0);
	recs = fe_records(&r->f);
	pid = (pid_t)json_integer_value(json_object_get(event(recs, "started"), "pid"));
	json_decref(recs);
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* Reaped as the engine reaps; state still reads "enabled". */
	while (!e->abort) {
		poll(NULL, 0, 10);
		engine_reap(e);
		sched_poll(e, true);
	}
	recs = fe_records(&r->f);
	rec = event(recs, "died");
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "reason"), "process exited with status 137");
	assert_int_equal(json_integer_value(json_object_get(rec, "exit_code")), 137);
	json_decref(recs);
	json_decref(spec);
}

static void test_exec_fails(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of("/nonexistent/scx_none", "x"), *recs;
	const json_t *rec;

	assert_int_equal(sched_start(e, spec), -1);
	recs = fe_records(&r->f);
	assert_non_null(event(recs, "started"));
	rec = event(recs, "attach_failed");
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "name"), "scx_none");
	assert_string_equal(fe_str(rec, "reason"),
			    "process exited with status 127 before attaching");
	assert_int_equal(json_integer_value(json_object_get(rec, "exit_code")), 127);
	assert_true(has_line(rec, "ktstr-agent: cannot run /nonexistent/scx_none: "
			     "No such file or directory"));
	assert_null(event(recs, "attached"));
	assert_false(sched_alive(e));
	/* Nothing attached: nothing to finish. */
	assert_false(sched_finish(e));
	json_decref(recs);
	json_decref(spec);
}

static void test_bad_spec(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = json_pack("{s:[s]}", "args", "x"), *recs;
	const json_t *rec;

	assert_int_equal(sched_start(e, spec), -1);
	recs = fe_records(&r->f);
	/* Never started: no "started", no exit code. */
	assert_null(event(recs, "started"));
	rec = event(recs, "attach_failed");
	assert_string_equal(fe_str(rec, "reason"), "scheduler.path must be a string");
	assert_string_equal(fe_str(rec, "name"), "?");
	assert_null(json_object_get(rec, "exit_code"));
	json_decref(recs);
	json_decref(spec);
	sched_release(e);

	spec = json_pack("{s:s, s:[s,i]}", "path", "/bin/true", "args", "a", 3);
	assert_int_equal(sched_start(e, spec), -1);
	recs = fe_records(&r->f);
	assert_string_equal(fe_str(event(recs, "attach_failed"), "reason"),
			    "scheduler.args[1] must be a string");
	json_decref(recs);
	json_decref(spec);
}

static void test_no_kconfig_hint(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of(script(r, "scx_nokconfig", no_kconfig_sched), r->scx), *recs;
	const json_t *rec;
	const char *reason;

	assert_int_equal(sched_start(e, spec), -1);
	recs = fe_records(&r->f);
	rec = event(recs, "attach_failed");
	assert_non_null(rec);
	assert_non_null(strstr(fe_str(rec, "hint"), "--kconfig"));
	/* The reason, which the verdict shows, carries the fix too. */
	reason = fe_str(rec, "reason");
	assert_true(!strncmp(reason, "process exited with status 1 before attaching (",
			     strlen("process exited with status 1 before attaching (")));
	assert_non_null(strstr(reason, fe_str(rec, "hint")));
	assert_true(has_line(rec, "libbpf: failed to load object"));
	json_decref(recs);
	json_decref(spec);
}

static void test_release_kills(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *spec = spec_of(script(r, "scx_fake", good_sched), r->scx), *recs;
	pid_t pid;

	assert_int_equal(sched_start(e, spec), 0);
	recs = fe_records(&r->f);
	pid = (pid_t)json_integer_value(json_object_get(event(recs, "started"), "pid"));
	json_decref(recs);
	sched_release(e);
	assert_null(e->sched);
	/* Killed and reaped: the pid is gone. */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(sched_fd(e), -1);
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_of),
		cmocka_unit_test_setup_teardown(test_attach_and_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_died_kernel_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_died_process_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_kconfig_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_kills, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
