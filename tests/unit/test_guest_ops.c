/* Unit tests for guest/ops.c: the ops of a parsed scenario applied to
 * live (forked, cheap) workers in a fake cgroup tree (fakeengine.h).
 * Each op must leave the cgroup files, the workers and the engine's
 * bookkeeping as the op says, and report itself in one "stimulus" record
 * whose detail (and error, when the kernel refuses) the host shows.
 *
 * The fake has no kernel behind it: cpuset.cpus.effective only changes
 * when a test writes it, as the kernel would after the op. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeengine.h"

#define W "{\"type\":\"bursty\",\"burst\":\"1ms\",\"sleep\":\"20ms\"}"

/* Two CPUs on two nodes, so cpuset.mems follows the CPUs. */
#define TOPO "2,2,1,1"

/* The ops every test picks from (step 0's op k). */
static const char doc_text[] =
	"{\"name\":\"ops\",\"duration\":\"1s\",\"cgroups\":["
	"{\"name\":\"cg_0\",\"workers\":2,\"work\":" W ",\"cpuset\":{\"cpus\":\"0\"}},"
	"{\"name\":\"cg_1\",\"workers\":1,\"work\":" W "},"
	"{\"name\":\"cg_p\",\"workers\":2,\"work\":" W ",\"pinned\":true}"
	"],\"steps\":[{\"ops\":["
	"{\"op\":\"set_cpuset\",\"cgroup\":\"cg_1\",\"cpuset\":{\"cpus\":\"1\"}},"	/* 0 */
	"{\"op\":\"swap_cpusets\",\"cgroup\":\"cg_0\",\"with\":\"cg_1\"},"		/* 1 */
	"{\"op\":\"clear_cpuset\",\"cgroup\":\"cg_0\"},"				/* 2 */
	"{\"op\":\"set_affinity\",\"cgroup\":\"cg_0\",\"cpuset\":{\"cpus\":\"1\"}},"	/* 3 */
	"{\"op\":\"move_tasks\",\"cgroup\":\"cg_0\",\"to\":\"cg_1\",\"count\":1},"	/* 4 */
	"{\"op\":\"spawn\",\"cgroup\":\"cg_1\",\"count\":2},"				/* 5 */
	"{\"op\":\"stop\",\"cgroup\":\"cg_1\"},"					/* 6 */
	"{\"op\":\"add\",\"cgroup\":{\"name\":\"cg_2\",\"workers\":1,\"work\":" W "}},"	/* 7 */
	"{\"op\":\"set_cpuset\",\"cgroup\":\"cg_p\",\"cpuset\":{\"cpus\":\"1\"}},"	/* 8 */
	"{\"op\":\"set_affinity\",\"cgroup\":\"cg_0\",\"cpuset\":{\"cpus\":\"0-1\"}},"	/* 9 */
	"{\"op\":\"remove\",\"cgroup\":\"cg_0\"}"					/* 10 */
	"]}]}";

struct rig {
	struct fakeengine f;
	struct scenario sc;
	_Atomic uint32_t *go;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct strbuf err = STRBUF_INIT;
	json_t *doc = json_loads(doc_text, 0, NULL);
	int ret;

	if (!r || !doc || fe_init(&r->f, "ops", TOPO, 8) < 0)
		return -1;
	ret = scenario_parse(doc, &r->sc, &err);
	json_decref(doc);
	if (ret < 0) {
		fprintf(stderr, "scenario_parse: %s\n", err.buf);
		fe_fini(&r->f);
		free(r);
	}
	strbuf_release(&err);
	*state = r;
	return ret;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fe_fini(&r->f);
	scenario_release(&r->sc);
	free(r);
	return 0;
}

static const struct op *op(struct rig *r, size_t k)
{
	assert_true(k < r->sc.steps[0].n_ops);
	return &r->sc.steps[0].ops[k];
}

/* Lay out and add initial cgroup i, with the effective CPUs the kernel
 * would show; its workers wait at the rig's shared barrier. */
static long add(struct rig *r, size_t i, const char *effective)
{
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	long idx;

	assert_int_equal(fe_cgroup(&r->f, r->sc.cgroups[i].name, effective), 0);
	idx = cg_add(&r->f.e, &r->sc.cgroups[i], &r->go, &detail, &err);
	if (idx < 0)
		fail_msg("cg_add %s: %s", r->sc.cgroups[i].name, err.buf);
	strbuf_release(&detail);
	strbuf_release(&err);
	return idx;
}

static void start(struct rig *r)
{
	workers_release(r->go);
}

static void assert_file(const char *path, const char *want)
{
	char *got = fe_read(path);

	assert_string_equal(got, want);
	free(got);
}

/* Apply op k as step 1; its stimulus record (the last one sent). */
static json_t *apply(struct rig *r, size_t k)
{
	json_t *recs, *rec;
	unsigned n;

	json_decref(fe_records(&r->f));
	apply_op(&r->f.e, 1, op(r, k));
	recs = fe_records(&r->f);
	n = fe_count(recs, "stimulus");
	assert_true(n >= 1);
	rec = json_incref(fe_find(recs, "stimulus", n - 1));
	json_decref(recs);
	assert_int_equal(json_integer_value(json_object_get(rec, "step")), 1);
	return rec;
}

static int only_cpu(pid_t pid)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	if (CPU_COUNT(&set) != 1)
		return -1;
	return CPU_ISSET(0, &set) ? 0 : 1;
}

static unsigned live_in(const struct engine *e, size_t cg)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < e->nws; i++)
		n += e->ws[i].cg == cg && !e->ws[i].exited;
	return n;
}

static void test_cg_add(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	_Atomic uint32_t *go = NULL;

	assert_int_equal(fe_cgroup(&r->f, "cg_0", "0"), 0);
	assert_int_equal(cg_add(e, &r->sc.cgroups[0], &go, &detail, &err), 0);
	assert_string_equal(detail.buf, "2 workers bursty, cpuset 0");
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.cpus"), "0");
	/* CPU 0 is on node 0. */
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.mems"), "0");
	assert_string_equal(e->cgs[0].cpus, "0");
	assert_true(e->cgs[0].live);
	assert_int_equal(e->cgs[0].effective[0], 0x1);
	assert_int_equal(e->nws, 2);
	assert_non_null(go);

	/* Twice the same name while it lives: refused, nothing forked. */
	strbuf_reset(&detail);
	assert_int_equal(cg_add(e, &r->sc.cgroups[0], &go, &detail, &err), -1);
	assert_string_equal(err.buf, "cgroup cg_0 already exists");
	assert_int_equal(e->nws, 2);
	workers_release(go);
	strbuf_release(&detail);
	strbuf_release(&err);
}

static void test_cg_add_fails(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	_Atomic uint32_t *go = NULL;
	char *want = xasprintf("mkdir %s: %s", fe_cg_path(&r->f, "cg_1"), strerror(ENOENT));

	/* No scenario root: the cgroup cannot be made. */
	assert_int_equal(cg_add(e, &r->sc.cgroups[1], &go, &detail, &err), -1);
	assert_string_equal(err.buf, want);
	assert_int_equal(e->nws, 0);
	/* The entry stays for cleanup, but is not live. */
	assert_int_equal(e->ncgs, 1);
	assert_false(e->cgs[0].live);
	free(want);
	strbuf_release(&detail);
	strbuf_release(&err);
}

static void test_set_cpuset(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec;
	uint32_t epoch;

	add(r, 1, "0-1");
	start(r);
	epoch = atomic_load(&e->ctl->epoch);
	/* What the kernel will show once cpuset.cpus is written. */
	assert_int_equal(fe_put(fe_cg_path(&r->f, "cg_1/cpuset.cpus.effective"), "1\n"), 0);
	rec = apply(r, 0);
	assert_string_equal(fe_str(rec, "op"), "set_cpuset");
	assert_string_equal(fe_str(rec, "cgroup"), "cg_1");
	assert_string_equal(fe_str(rec, "detail"), "cpuset 1");
	assert_null(json_object_get(rec, "error"));
	assert_file(fe_cg_path(&r->f, "cg_1/cpuset.cpus"), "1");
	/* CPU 1 is on node 1. */
	assert_file(fe_cg_path(&r->f, "cg_1/cpuset.mems"), "1");
	assert_string_equal(e->cgs[0].cpus, "1");
	/* Done under the epoch (odd, then even again), and the worker's
	 * allowed mask follows the effective CPUs. */
	assert_int_equal(atomic_load(&e->ctl->epoch), epoch + 2);
	assert_int_equal(e->cgs[0].effective[0], 0x2);
	assert_int_equal(wslot_allowed(e->ws[0].slot)[0], 0x2);
	json_decref(rec);
}

static void test_missing_cgroup(void **state)
{
	struct rig *r = *state;
	json_t *rec;

	/* cg_1 was never added (or is gone): reported, not fatal. */
	rec = apply(r, 0);
	assert_string_equal(fe_str(rec, "error"), "no cgroup cg_1");
	assert_string_equal(fe_str(rec, "detail"), "");
	json_decref(rec);
	add(r, 0, "0");
	/* The other side of a swap is looked up too. */
	rec = apply(r, 1);
	assert_string_equal(fe_str(rec, "error"), "no cgroup cg_1");
	json_decref(rec);
	start(r);
}

static void test_kernel_refuses(void **state)
{
	struct rig *r = *state;
	json_t *rec;
	char *want;

	add(r, 1, "0-1");
	start(r);
	/* A cpuset.cpus the kernel does not offer, as on cgroup v2 without
	 * the cpuset controller. */
	assert_int_equal(unlink(fe_cg_path(&r->f, "cg_1/cpuset.cpus")), 0);
	rec = apply(r, 0);
	want = xasprintf("write \"1\" to %s: %s", fe_cg_path(&r->f, "cg_1/cpuset.cpus"),
			 strerror(ENOENT));
	assert_string_equal(fe_str(rec, "error"), want);
	assert_null(r->f.e.cgs[0].cpus);
	/* The epoch is closed whatever happened. */
	assert_int_equal(atomic_load(&r->f.e.ctl->epoch) % 2, 0);
	free(want);
	json_decref(rec);
}

static void test_swap_and_clear(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec;

	add(r, 0, "0");
	add(r, 1, "0-1");
	start(r);
	/* Empty, to tell a write from what cg_add wrote. */
	assert_int_equal(fe_put(fe_cg_path(&r->f, "cg_0/cpuset.mems"), ""), 0);
	rec = apply(r, 1);
	assert_string_equal(fe_str(rec, "detail"), "cpuset 0 <-> cg_1 cpuset (all)");
	/* cg_0 cleared (a newline: back to its parent's CPUs and nodes),
	 * cg_1 gets CPU 0 and its node. */
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.cpus"), "\n");
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.mems"), "\n");
	assert_file(fe_cg_path(&r->f, "cg_1/cpuset.cpus"), "0");
	assert_file(fe_cg_path(&r->f, "cg_1/cpuset.mems"), "0");
	assert_null(e->cgs[0].cpus);
	assert_string_equal(e->cgs[1].cpus, "0");
	json_decref(rec);

	assert_int_equal(fe_put(fe_cg_path(&r->f, "cg_0/cpuset.cpus"), "x"), 0);
	rec = apply(r, 2);
	assert_string_equal(fe_str(rec, "op"), "clear_cpuset");
	assert_string_equal(fe_str(rec, "detail"), "cpuset cleared");
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.cpus"), "\n");
	json_decref(rec);
}

static void test_set_affinity(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec;

	add(r, 0, "0-1");
	start(r);
	rec = apply(r, 3);
	assert_string_equal(fe_str(rec, "detail"), "affinity 1 on 2 workers");
	/* Where the workers may run now, for the host's machine checks. */
	assert_string_equal(fe_str(rec, "cpus"), "1");
	assert_int_equal(only_cpu(e->ws[0].pid), 1);
	assert_int_equal(only_cpu(e->ws[1].pid), 1);
	/* The cgroup's cpuset is not touched. */
	assert_string_equal(e->cgs[0].cpus, "0");
	assert_file(fe_cg_path(&r->f, "cg_0/cpuset.cpus"), "0");
	json_decref(rec);

	rec = apply(r, 9);
	assert_string_equal(fe_str(rec, "detail"), "affinity 0-1 on 2 workers");
	assert_int_equal(only_cpu(e->ws[0].pid), -1);
	json_decref(rec);
}

static void test_move_tasks(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	struct tap tap;
	json_t *rec;
	char pid[16];

	add(r, 0, "0");
	add(r, 1, "1");
	start(r);
	assert_int_equal(tap_start(&tap, fe_cg_path(&r->f, "cg_1/cgroup.procs")), 0);
	rec = apply(r, 4);
	assert_string_equal(fe_str(rec, "detail"), "1 tasks -> cg_1");
	/* The first of cg_0's workers moved: written to cg_1's procs, its
	 * bookkeeping and allowed mask follow; where it began stays. */
	snprintf(pid, sizeof(pid), "%d", (int)e->ws[0].pid);
	assert_true(tap_saw(&tap, pid));
	tap_stop(&tap);
	assert_int_equal(e->ws[0].cg, 1);
	assert_int_equal(e->ws[0].origin, 0);
	assert_int_equal(e->ws[1].cg, 0);
	assert_int_equal(wslot_allowed(e->ws[0].slot)[0], 0x2);
	assert_int_equal(wslot_allowed(e->ws[1].slot)[0], 0x1);
	json_decref(rec);
}

static void test_spawn_and_stop(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec, *recs;
	size_t i;

	add(r, 0, "0-1");
	add(r, 1, "0-1");
	start(r);
	rec = apply(r, 5);
	assert_string_equal(fe_str(rec, "detail"), "2 workers");
	assert_int_equal(e->nws, 5);
	/* Numbered on from the cgroup's first workers, and started at once. */
	assert_int_equal(e->ws[3].index, 1);
	assert_int_equal(e->ws[4].index, 2);
	for (i = 0; i < 1000 && !atomic_load(&e->ws[4].slot->iterations); i++)
		poll(NULL, 0, 10);
	assert_true(atomic_load(&e->ws[4].slot->iterations) > 0);
	json_decref(rec);

	json_decref(fe_records(&r->f));
	apply_op(e, 1, op(r, 6));
	recs = fe_records(&r->f);
	assert_string_equal(fe_str(fe_find(recs, "stimulus", 0), "detail"), "3 workers stopped");
	/* Each stopped worker is reported as it stops; the cgroup stays. */
	assert_int_equal(fe_count(recs, "worker"), 3);
	assert_int_equal(live_in(e, 1), 0);
	assert_int_equal(live_in(e, 0), 2);
	assert_true(e->cgs[1].live);
	json_decref(recs);
}

static void test_remove(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *recs, *rec;
	const char *files[] = { "cgroup.procs", "cgroup.subtree_control", "cgroup.kill",
				"cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective" };
	size_t i;

	add(r, 0, "0");
	add(r, 1, "0-1");
	start(r);
	/* cgroupfs lets a cgroup with only interface files go; a plain
	 * directory must be empty. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *rel = xasprintf("cg_0/%s", files[i]);

		assert_int_equal(unlink(fe_cg_path(&r->f, rel)), 0);
		free(rel);
	}
	json_decref(fe_records(&r->f));
	apply_op(e, 1, op(r, 10));
	recs = fe_records(&r->f);
	/* Workers and cgroup reported before the stimulus. */
	assert_int_equal(fe_count(recs, "worker"), 2);
	rec = fe_find(recs, "cgroup_stats", 0);
	assert_non_null(rec);
	assert_string_equal(fe_str(rec, "cgroup"), "cg_0");
	rec = fe_find(recs, "stimulus", 0);
	assert_string_equal(fe_str(rec, "op"), "remove");
	assert_string_equal(fe_str(rec, "detail"), "2 workers stopped");
	assert_null(json_object_get(rec, "error"));
	assert_false(is_directory(fe_cg_path(&r->f, "cg_0")));
	assert_false(e->cgs[0].live);
	assert_true(e->cgs[1].live);
	assert_int_equal(live_in(e, 1), 1);
	json_decref(recs);

	/* Gone: ops on it are errors now. */
	rec = apply(r, 2);
	assert_string_equal(fe_str(rec, "error"), "no cgroup cg_0");
	json_decref(rec);
}

static void test_add_op(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec;
	size_t i;

	assert_int_equal(fe_cgroup(&r->f, "cg_2", "0-1"), 0);
	rec = apply(r, 7);
	assert_string_equal(fe_str(rec, "op"), "add");
	assert_string_equal(fe_str(rec, "cgroup"), "cg_2");
	assert_string_equal(fe_str(rec, "detail"), "1 workers bursty");
	assert_int_equal(e->nws, 1);
	/* Released by the op itself. */
	for (i = 0; i < 1000 && !atomic_load(&e->ws[0].slot->iterations); i++)
		poll(NULL, 0, 10);
	assert_true(atomic_load(&e->ws[0].slot->iterations) > 0);
	json_decref(rec);
}

static void test_cpuset_repins(void **state)
{
	struct rig *r = *state;
	struct engine *e = &r->f.e;
	json_t *rec;

	add(r, 2, "0-1");
	start(r);
	assert_int_equal(only_cpu(e->ws[0].pid), 0);
	assert_int_equal(only_cpu(e->ws[1].pid), 1);
	assert_int_equal(fe_put(fe_cg_path(&r->f, "cg_p/cpuset.cpus.effective"), "1\n"), 0);
	rec = apply(r, 8);
	assert_null(json_object_get(rec, "error"));
	/* Pinned workers follow the cpuset. */
	assert_int_equal(only_cpu(e->ws[0].pid), 1);
	assert_int_equal(only_cpu(e->ws[1].pid), 1);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cg_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cg_add_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_cpuset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_affinity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuset_repins, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
