/* Unit tests for the host side of payloads: lib/vm/payload_host.c (the
 * programs found before boot, the include list) and the payload keys of
 * --cgroup specs (lib/vm/scenario_file.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "payload_host.h"
#include "strbuf.h"
#include "tmpdir.h"

struct fx {
	char dir[96];
	char *old_path;
};

/* A file of mode mode at dir/rel (parents made). */
static const char *mkfile(const char *dir, const char *rel, mode_t mode)
{
	const char *p = tmpdir_path(dir, rel);
	char *d = strdup(p), *slash = strrchr(d, '/');
	char cmd[600];
	FILE *f;

	*slash = '\0';
	snprintf(cmd, sizeof(cmd), "/bin/mkdir -p '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* PATH is dir/bin alone, holding cyclictest and fio. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *old = getenv("PATH");

	if (!f || tmpdir_create(f->dir, sizeof(f->dir), "payload-host"))
		return -1;
	f->old_path = strdup(old ? old : "");
	mkfile(f->dir, "bin/cyclictest", 0755);
	mkfile(f->dir, "bin/fio", 0755);
	setenv("PATH", tmpdir_path(f->dir, "bin"), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	setenv("PATH", f->old_path, 1);
	free(f->old_path);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void def(struct payload_def *d, const char *name, const char *program)
{
	memset(d, 0, sizeof(*d));
	d->name = (char *)name;
	d->program = (char *)program;
	d->cgroup = (char *)name;
	d->own_cgroup = true;
	d->copies = 1;
	d->form = (char *)"exit_code";
}

/* A plan of payloads (top level) and user includes; rc and err kept. */
static int plan(struct payload_def *defs, size_t n, const char *const *incs,
		struct payload_host_plan *p, struct strbuf *err)
{
	struct scenario s;
	struct strvec user = STRVEC_INIT;
	int rc;

	memset(&s, 0, sizeof(s));
	s.payloads = defs;
	s.n_payloads = n;
	for (; incs && *incs; incs++)
		strvec_push(&user, *incs);
	rc = payload_host_plan(&s, &user, p, err);
	strvec_clear(&user);
	return rc;
}

static void test_bare_name_from_path(void **state)
{
	struct fx *f = *state;
	struct payload_def d[2];
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;
	const char *incs[] = { "/etc/hostname", NULL };

	def(&d[0], "cyc", "cyclictest");
	def(&d[1], "io", "fio");
	assert_int_equal(plan(d, 2, incs, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0].path, tmpdir_path(f->dir, "bin/cyclictest"));
	assert_string_equal(p.v[0].guest_path, "/include-files/cyclictest");
	assert_string_equal(p.v[0].source, "PATH");
	assert_string_equal(p.v[0].package, "rt-tests");
	assert_int_equal(p.v[0].step, 0);
	/* The user's -i first, then the programs. */
	assert_int_equal(p.includes.n, 3);
	assert_string_equal(p.includes.v[0], "/etc/hostname");
	assert_string_equal(p.includes.v[1], tmpdir_path(f->dir, "bin/cyclictest"));
	assert_string_equal(p.includes.v[2], tmpdir_path(f->dir, "bin/fio"));
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

static void test_missing_program(void **state)
{
	struct payload_def d[2];
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	def(&d[0], "io", "fio");
	def(&d[1], "hb", "hackbench");
	assert_int_equal(plan(d, 2, NULL, &p, &err), -1);
	assert_string_equal(err.buf, "payload 'hb': program 'hackbench' not found in PATH; "
			    "install the Debian package rt-tests (contrib/install-deps does)");
	payload_host_plan_release(&p);
	strbuf_reset(&err);
	def(&d[0], "mine", "my-bench");
	assert_int_equal(plan(d, 1, NULL, &p, &err), -1);
	assert_string_equal(err.buf, "payload 'mine': program 'my-bench' not found in PATH; "
			    "install it, or give its path as the payload's program");
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

static void test_program_path(void **state)
{
	struct fx *f = *state;
	struct payload_def d;
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;
	const char *good = mkfile(f->dir, "opt/schbench", 0755);
	const char *noexec = mkfile(f->dir, "opt/plain", 0644);
	const char *gone = tmpdir_path(f->dir, "opt/gone");
	char *want;

	def(&d, "sch", good);
	assert_int_equal(plan(&d, 1, NULL, &p, &err), 0);
	assert_string_equal(p.v[0].path, good);
	assert_string_equal(p.v[0].source, "path");
	assert_string_equal(p.v[0].guest_path, "/include-files/schbench");
	assert_null(p.v[0].package);
	assert_int_equal(p.includes.n, 1);
	payload_host_plan_release(&p);

	def(&d, "sch", gone);
	assert_int_equal(plan(&d, 1, NULL, &p, &err), -1);
	want = xasprintf("payload 'sch': program '%s' does not exist on this host; ktstr-vm "
			 "packs it into the guest from there, so fix the path", gone);
	assert_string_equal(err.buf, want);
	free(want);
	payload_host_plan_release(&p);
	strbuf_reset(&err);

	def(&d, "sch", noexec);
	assert_int_equal(plan(&d, 1, NULL, &p, &err), -1);
	want = xasprintf("payload 'sch': program '%s' is not an executable file on this host; "
			 "ktstr-vm packs it into the guest from there, so fix the path or its "
			 "mode (chmod +x)", noexec);
	assert_string_equal(err.buf, want);
	free(want);
	payload_host_plan_release(&p);
	strbuf_reset(&err);

	/* A directory is no program either. */
	def(&d, "sch", tmpdir_path(f->dir, "opt"));
	assert_int_equal(plan(&d, 1, NULL, &p, &err), -1);
	assert_non_null(strstr(err.buf, "is not an executable file"));
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

static void test_dedupe(void **state)
{
	struct fx *f = *state;
	struct payload_def d[3];
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;
	const char *mine = mkfile(f->dir, "build/hackbench", 0755);
	const char *cyc = tmpdir_path(f->dir, "bin/cyclictest");
	const char *incs[] = { mine, cyc, NULL };

	/* hackbench is not in PATH: the -i file of that name is it; the
	 * cyclictest -i is the same file PATH finds; two payloads of one
	 * program pack it once. */
	def(&d[0], "hb", "hackbench");
	def(&d[1], "cyc", "cyclictest");
	def(&d[2], "cyc2", cyc);
	assert_int_equal(plan(d, 3, incs, &p, &err), 0);
	assert_string_equal(p.v[0].source, "include");
	assert_string_equal(p.v[0].path, mine);
	assert_string_equal(p.v[0].guest_path, "/include-files/hackbench");
	assert_string_equal(p.v[1].source, "include");
	assert_int_equal(p.includes.n, 2);
	assert_string_equal(p.includes.v[0], mine);
	assert_string_equal(p.includes.v[1], cyc);
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

static void test_clash(void **state)
{
	struct fx *f = *state;
	struct payload_def d[2];
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;
	const char *other = mkfile(f->dir, "other/fio", 0755);
	const char *incs[] = { other, NULL };
	const char *none[] = { NULL };
	char *want;

	/* The -i is named fio but is not the fio in PATH... it is taken as
	 * the program (an -i of that name wins). */
	def(&d[0], "io", "fio");
	assert_int_equal(plan(d, 1, incs, &p, &err), 0);
	assert_string_equal(p.v[0].path, other);
	assert_int_equal(p.includes.n, 1);
	payload_host_plan_release(&p);

	/* ... but a path program beside a different -i of its name clashes. */
	def(&d[0], "io", tmpdir_path(f->dir, "bin/fio"));
	assert_int_equal(plan(d, 1, incs, &p, &err), -1);
	want = xasprintf("payload 'io': program %s and -i %s are different files that would "
			 "both be /include-files/fio; drop or rename the -i",
			 tmpdir_path(f->dir, "bin/fio"), other);
	assert_string_equal(err.buf, want);
	free(want);
	payload_host_plan_release(&p);
	strbuf_reset(&err);

	/* So do two payloads' programs. */
	def(&d[0], "a", "fio");
	def(&d[1], "b", other);
	assert_int_equal(plan(d, 2, none, &p, &err), -1);
	assert_non_null(strstr(err.buf, "payload 'b': program "));
	assert_non_null(strstr(err.buf, "another payload's"));
	assert_null(strchr(err.buf, '\n'));
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

static void test_step_ops_and_records(void **state)
{
	struct fx *f = *state;
	struct scenario s;
	struct step steps[2];
	struct op ops[2];
	struct strvec user = STRVEC_INIT;
	struct payload_host_plan p;
	struct strbuf err = STRBUF_INIT;
	char *args[] = { (char *)"-m", (char *)"-q", NULL };
	json_t *rec;
	char *got, *want;

	memset(&s, 0, sizeof(s));
	memset(steps, 0, sizeof(steps));
	memset(ops, 0, sizeof(ops));
	ops[0].kind = OP_STOP;
	ops[1].kind = OP_START_PAYLOAD;
	def(&ops[1].payload, "cyc", "cyclictest");
	ops[1].payload.own_cgroup = false;
	ops[1].payload.cgroup = (char *)"rt";
	ops[1].payload.copies = 2;
	ops[1].payload.form = (char *)"cyclictest";
	ops[1].payload.args = args;
	ops[1].payload.n_args = 2;
	steps[1].ops = ops;
	steps[1].n_ops = 2;
	s.steps = steps;
	s.n_steps = 2;
	assert_int_equal(payload_host_plan(&s, &user, &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].step, 2);
	rec = payload_host_record(&p.v[0]);
	got = json_dumps(rec, JSON_COMPACT);
	want = xasprintf("{\"type\":\"payload_resolved\",\"name\":\"cyc\",\"program\":"
			 "\"cyclictest\",\"path\":\"%s\",\"guest_path\":"
			 "\"/include-files/cyclictest\",\"source\":\"PATH\",\"package\":"
			 "\"rt-tests\",\"cgroup\":\"rt\",\"own_cgroup\":false,\"copies\":2,"
			 "\"metrics\":\"cyclictest\",\"args\":[\"-m\",\"-q\"],\"step\":2}",
			 tmpdir_path(f->dir, "bin/cyclictest"));
	assert_string_equal(got, want);
	free(got);
	free(want);
	json_decref(rec);
	rec = payload_host_includes_record(&p);
	got = json_dumps(rec, JSON_COMPACT);
	want = xasprintf("{\"type\":\"includes_resolved\",\"paths\":[\"%s\"]}",
			 tmpdir_path(f->dir, "bin/cyclictest"));
	assert_string_equal(got, want);
	free(got);
	free(want);
	json_decref(rec);
	payload_host_plan_release(&p);
	strbuf_release(&err);
}

/* ---- --cgroup payload=... -------------------------------------------- */

static json_t *doc(const char *text)
{
	json_error_t e;
	json_t *d = json_loads(text, 0, &e);

	if (!d)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return d;
}

/* Add spec to d; its last cgroup and last payload must be as given
 * (payload NULL: none added). */
static void flag_ok(json_t *d, const char *spec, const char *cg, const char *pl)
{
	struct strbuf err = STRBUF_INIT;
	size_t n_before = json_array_size(json_object_get(d, "payloads"));
	json_t *arr;
	char *got;

	if (scenario_add_cgroup_flag(d, spec, &err))
		fail_msg("flag '%s' failed: %s", spec, err.buf);
	arr = json_object_get(d, "cgroups");
	got = json_dumps(json_array_get(arr, json_array_size(arr) - 1), JSON_COMPACT);
	if (strcmp(got, cg))
		fail_msg("flag '%s' gave cgroup %s, want %s", spec, got, cg);
	free(got);
	arr = json_object_get(d, "payloads");
	if (!pl) {
		assert_int_equal(json_array_size(arr), n_before);
	} else {
		assert_int_equal(json_array_size(arr), n_before + 1);
		got = json_dumps(json_array_get(arr, json_array_size(arr) - 1), JSON_COMPACT);
		if (strcmp(got, pl))
			fail_msg("flag '%s' gave payload %s, want %s", spec, got, pl);
		free(got);
	}
	strbuf_release(&err);
}

static void flag_bad(const char *spec, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	json_t *d = doc("{\"cgroups\":[{\"name\":\"taken\"}]}");

	if (!scenario_add_cgroup_flag(d, spec, &err))
		fail_msg("flag '%s' unexpectedly succeeded", spec);
	if (strncmp(err.buf, want, strlen(want)))
		fail_msg("flag '%s': error \"%s\", want prefix \"%s\"", spec, err.buf, want);
	assert_null(strchr(err.buf, '\n'));
	assert_int_equal(json_array_size(json_object_get(d, "cgroups")), 1);
	assert_null(json_object_get(d, "payloads"));
	json_decref(d);
	strbuf_release(&err);
}

static void test_flag_payload(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	json_t *d = json_object();

	(void)state;
	flag_ok(d, "hog:workers=2", "{\"name\":\"hog\",\"workers\":2}", NULL);
	/* A cgroup for a payload runs no workers unless workers= says. */
	flag_ok(d, "rt:payload=cyclictest,copies=2,metrics=cyclictest,"
		"args=-m -q  -t 2,-i 1000",
		"{\"name\":\"rt\",\"workers\":0}",
		"{\"args\":[\"-m\",\"-q\",\"-t\",\"2,-i\",\"1000\"],\"program\":\"cyclictest\","
		"\"copies\":2,\"metrics\":\"cyclictest\",\"cgroup\":\"rt\"}");
	/* The same program again is named after its cgroup. */
	flag_ok(d, "rt2:workers=1,cpuset=llc:0,payload=cyclictest",
		"{\"name\":\"rt2\",\"workers\":1,\"cpuset\":{\"llc\":0}}",
		"{\"program\":\"cyclictest\",\"cgroup\":\"rt2\",\"name\":\"cyclictest_rt2\"}");
	/* args= alone: no arguments at all (not the adapter's defaults). */
	flag_ok(d, "t:payload=/bin/true,args=", "{\"name\":\"t\",\"workers\":0}",
		"{\"args\":[],\"program\":\"/bin/true\",\"cgroup\":\"t\"}");
	flag_ok(d, "w:payload=fio,workers=0,args=--name=x,--rw=randread",
		"{\"name\":\"w\",\"workers\":0}",
		"{\"args\":[\"--name=x,--rw=randread\"],\"program\":\"fio\",\"cgroup\":\"w\"}");
	if (scenario_parse(d, &s, &err))
		fail_msg("%s", err.buf);
	assert_int_equal(s.n_payloads, 4);
	assert_string_equal(s.payloads[0].name, "cyclictest");
	assert_string_equal(s.payloads[1].name, "cyclictest_rt2");
	assert_int_equal(s.payloads[0].copies, 2);
	assert_int_equal(s.payloads[0].n_args, 5);
	assert_string_equal(s.payloads[0].cgroup, "rt");
	assert_false(s.payloads[0].own_cgroup);
	assert_int_equal(s.cgroups[1].workers, 0);
	scenario_release(&s);
	json_decref(d);
	strbuf_release(&err);
}

static void test_flag_payload_bad(void **state)
{
	(void)state;
	flag_bad("cg:copies=2", "copies= needs payload=PROGRAM");
	flag_bad("cg:workers=2,args=-x", "args= needs payload=PROGRAM");
	flag_bad("cg:args=-x", "args= needs payload=PROGRAM");
	flag_bad("cg:metrics=json", "metrics= needs payload=PROGRAM");
	flag_bad("cg:payload=", "payload=: payload needs a value");
	flag_bad("cg:payload=fio,copies=x", "copies=x: 'x' is not a whole number");
	flag_bad("cg:payload=fio,payload=fio", "payload=fio: payload is given more than once");
	flag_bad("cg:payload=fio,args", "args: expected args=ARG ..., the last key");
	flag_bad("cg:payload=fio,copies=0", "copies: ");
	flag_bad("cg:payload=fio,metrics=nope", "metrics: ");
	flag_bad("cg:workers=0", "workers: ");
	flag_bad("taken:payload=fio", "a cgroup named 'taken' is already defined");
	flag_bad("cg:frob=1", "frob=1: unknown key 'frob'; expected one of workers, work, "
		 "cpuset, nice, policy, rt_priority, pinned, background, payload, copies, "
		 "metrics, args");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bare_name_from_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_ops_and_records, setup, teardown),
		cmocka_unit_test(test_flag_payload),
		cmocka_unit_test(test_flag_payload_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
