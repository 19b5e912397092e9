/* Unit tests for lib/selftests: test selection, the VM plan (families,
 * nohz_tick's own VM), the guest script and the runner-output parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "selftests.h"

/* The runner's list on the Debian 7.3.4 build, as `runner -l` prints it. */
static const char list_text[] =
	"create_dsq\ndequeue\ndequeue_iter\ndequeue_remote\nenq_last_no_enq_fails\n"
	"ddsp_bogus_dsq_fail\nddsp_vtimelocal_fail\ndsp_local_on\nenable_cmask\n"
	"enq_select_cpu\nexit\nhotplug\ninit_enable_count\nmaximal\nmaybe_null\nminimal\n"
	"non_scx_kfunc_deny\nnohz_tick\nnuma\nallowed_cpus\npeek_dsq\nprog_run\nreload_loop\n"
	"select_cpu_dfl\nselect_cpu_dfl_nodispatch\nselect_cpu_dispatch\n"
	"select_cpu_dispatch_bad_dsq\nselect_cpu_dispatch_dbl_dsp\nselect_cpu_vtime\n"
	"rt_stall\nexample\ntotal_bw\ncyclic_kick_wait\n\n";

static void load_all(struct strvec *all)
{
	assert_int_equal(st_list_parse(list_text, all), 0);
	assert_int_equal(all->n, 33);
}

static void test_list(void **state)
{
	struct strvec v = STRVEC_INIT;

	(void)state;
	load_all(&v);
	assert_string_equal(v.v[0], "create_dsq");
	assert_string_equal(v.v[32], "cyclic_kick_wait");
	strvec_clear(&v);
	/* a help text or garbage is no list */
	assert_int_equal(st_list_parse("Usage: runner [-t TEST]\n\n", &v), -1);
	assert_int_equal(st_list_parse("", &v), -1);
	strvec_clear(&v);
}

static void test_select(void **state)
{
	struct strvec all = STRVEC_INIT, pats = STRVEC_INIT, out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	load_all(&all);
	assert_int_equal(st_select(&all, &pats, &out, &err), 0);
	assert_int_equal(out.n, 33);
	strvec_clear(&out);
	strvec_push(&pats, "select_cpu_dispatch*");
	strvec_push(&pats, "exit");
	assert_int_equal(st_select(&all, &pats, &out, &err), 0);
	/* the runner's order, not the patterns' */
	assert_int_equal(out.n, 4);
	assert_string_equal(out.v[0], "exit");
	assert_string_equal(out.v[1], "select_cpu_dispatch");
	assert_string_equal(out.v[3], "select_cpu_dispatch_dbl_dsp");
	strvec_clear(&out);
	strvec_push(&pats, "exits");
	assert_int_equal(st_select(&all, &pats, &out, &err), -1);
	assert_non_null(strstr(err.buf, "'exits'"));
	strbuf_release(&err);
	strvec_clear(&all);
	strvec_clear(&pats);
	strvec_clear(&out);
}

static void test_append(void **state)
{
	char *a;

	(void)state;
	a = st_test_append("nohz_tick", 4);
	assert_string_equal(a, "nohz_full=1-3");
	free(a);
	a = st_test_append("nohz_tick", 2);
	assert_string_equal(a, "nohz_full=1");
	free(a);
	assert_null(st_test_append("nohz_tick", 1));
	assert_null(st_test_append("minimal", 4));
}

static size_t group_of(const struct st_group *g, size_t n, const char *name)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < g[i].tests.n; j++)
			if (!strcmp(g[i].tests.v[j], name))
				return i;
	fail_msg("%s is in no group", name);
	return n;
}

static void test_plan(void **state)
{
	struct strvec all = STRVEC_INIT;
	struct st_group *g;
	size_t n, i, total = 0;

	(void)state;
	load_all(&all);
	n = st_plan(&all, &all, 3, 4, &g);
	/* three VMs of the shared tests and nohz_tick's own */
	assert_int_equal(n, 4);
	assert_string_equal(g[3].tests.v[0], "nohz_tick");
	assert_string_equal(g[3].append, "nohz_full=1-3");
	assert_int_equal(g[3].tests.n, 1);
	for (i = 0; i < 3; i++) {
		assert_null(g[i].append);
		/* balanced: 32 tests over 3 VMs */
		assert_true(g[i].tests.n >= 9 && g[i].tests.n <= 12);
		total += g[i].tests.n;
	}
	assert_int_equal(total, 32);
	/* families stay together */
	assert_int_equal(group_of(g, n, "dequeue"), group_of(g, n, "dequeue_remote"));
	assert_int_equal(group_of(g, n, "select_cpu_dispatch"),
			 group_of(g, n, "select_cpu_dispatch_dbl_dsp"));
	assert_int_equal(group_of(g, n, "select_cpu_dfl"),
			 group_of(g, n, "select_cpu_dfl_nodispatch"));
	st_groups_free(g, n);
	/* more jobs than families: one VM per family, none empty */
	n = st_plan(&all, &all, 64, 4, &g);
	/* 32 tests less 5 that share an invocation, and nohz_tick */
	assert_int_equal(n, 27 + 1);
	for (i = 0; i < n; i++)
		assert_true(g[i].tests.n >= 1);
	st_groups_free(g, n);
	/* one CPU: nohz_tick cannot get nohz_full=, it runs with the rest */
	n = st_plan(&all, &all, 1, 1, &g);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].tests.n, 33);
	st_groups_free(g, n);
	strvec_clear(&all);
}

static void test_script(void **state)
{
	struct st_group g = { STRVEC_INIT, NULL };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strvec_push(&g.tests, "dequeue");
	strvec_push(&g.tests, "dequeue_iter");
	strvec_push(&g.tests, "exit");
	st_script(&g, "/include-files/runner", &sb);
	/* dequeue's invocation runs dequeue_iter too */
	assert_non_null(strstr(sb.buf, "for f in dequeue exit; do"));
	assert_non_null(strstr(sb.buf, "r='/include-files/runner'"));
	assert_non_null(strstr(sb.buf, "-q -t \"$f\" 2>&1"));
	assert_non_null(strstr(sb.buf, ST_MARK " end $f $rc $u"));
	strbuf_release(&sb);
	strvec_clear(&g.tests);
}

static void feed(struct st_parser *p, const char *text)
{
	char *copy = xstrdup(text), *save = NULL, *line;

	/* strtok_r would drop empty lines, which the runner prints */
	for (line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		if (*line || save)
			st_parser_line(p, line);
	}
	free(copy);
	(void)save;
}

static struct strvec names(const char *a, const char *b, const char *c)
{
	struct strvec v = STRVEC_INIT;

	strvec_push(&v, a);
	if (b)
		strvec_push(&v, b);
	if (c)
		strvec_push(&v, c);
	return v;
}

/* The buffered-stdout order: stderr first, then the blocks. */
static void test_parse_results(void **state)
{
	struct strvec want = names("minimal", "nohz_tick", "exit");
	struct st_parser p;

	(void)state;
	st_parser_init(&p, &want);
	feed(&p, ST_MARK " begin minimal 3.50\n"
		 "===== START =====\nTEST: minimal\nOUTPUT:\n"
		 "ok 1 minimal # \n=====  END  =====\n\n\n=============================\n\n"
		 "RESULTS:\n\nPASSED:  1\nSKIPPED: 0\nFAILED:  0\n"
		 ST_MARK " end minimal 0 5.75\n"
		 ST_MARK " begin nohz_tick 5.80\n"
		 "Skipping test: nohz_full is not set\n"
		 "===== START =====\nTEST: nohz_tick\nOUTPUT:\n"
		 "ok 1 nohz_tick # SKIP \n=====  END  =====\n"
		 "=============================\nRESULTS:\nSkipped tests:\n  - nohz_tick\n"
		 ST_MARK " end nohz_tick 0 5.90\n"
		 ST_MARK " begin exit 6.00\n"
		 "ERR: exit.c:30\nExpected skel (0x0)\n"
		 "===== START =====\nTEST: exit\nOUTPUT:\n"
		 "not ok 1 exit # \n=====  END  =====\n"
		 "=============================\nFailed tests:\n  - exit\n"
		 ST_MARK " end exit 0 9.00\n");
	st_parser_finish(&p, NULL);
	assert_int_equal(p.tests[0].result, ST_PASS);
	assert_int_equal(p.tests[0].duration_ms, 2250);
	assert_null(p.tests[0].reason);
	assert_int_equal(p.tests[0].output.n, 0);
	assert_int_equal(p.tests[1].result, ST_SKIP);
	assert_string_equal(p.tests[1].reason, "Skipping test: nohz_full is not set");
	assert_int_equal(p.tests[2].result, ST_FAIL);
	assert_string_equal(p.tests[2].reason, "Expected skel (0x0)");
	assert_int_equal(p.tests[2].output.n, 2);
	assert_string_equal(p.tests[2].output.v[0], "ERR: exit.c:30");
	assert_int_equal(p.tests[2].duration_ms, 3000);
	st_parser_release(&p);
	strvec_clear(&want);
}

/* A family invocation: the unwanted member is dropped, durations are
 * not known per test, output inside a block goes to its test. */
static void test_parse_family(void **state)
{
	struct strvec want = names("dequeue", "dequeue_remote", NULL);
	struct st_parser p;

	(void)state;
	st_parser_init(&p, &want);
	feed(&p, ST_MARK " begin dequeue 1.0\n"
		 "===== START =====\nTEST: dequeue\nOUTPUT:\nok 1 dequeue # \n=====  END  =====\n"
		 "===== START =====\nTEST: dequeue_iter\nOUTPUT:\niter noise\n"
		 "not ok 2 dequeue_iter # \n=====  END  =====\n"
		 "===== START =====\nTEST: dequeue_remote\nOUTPUT:\nremote said this\n"
		 "not ok 3 dequeue_remote # \n=====  END  =====\n"
		 ST_MARK " end dequeue 0 20.0\n");
	st_parser_finish(&p, NULL);
	assert_int_equal(p.tests[0].result, ST_PASS);
	assert_int_equal(p.tests[0].duration_ms, -1);
	assert_int_equal(p.tests[1].result, ST_FAIL);
	assert_int_equal(p.tests[1].output.n, 1);
	assert_string_equal(p.tests[1].reason, "remote said this");
	st_parser_release(&p);
	strvec_clear(&want);
}

/* A runner that crashed, and a VM that ended mid-way. */
static void test_parse_crash(void **state)
{
	struct strvec want = names("hotplug", "numa", "total_bw");
	struct st_parser p;

	(void)state;
	st_parser_init(&p, &want);
	feed(&p, ST_MARK " begin hotplug 1.0\n"
		 "===== START =====\nTEST: hotplug\nOUTPUT:\nlast words\n"
		 ST_MARK " end hotplug 139 2.0\n"
		 ST_MARK " begin numa 2.0\n"
		 "===== START =====\nTEST: numa\nOUTPUT:\n");
	st_parser_finish(&p, "the VM ended before the runner finished (timeout)");
	assert_int_equal(p.tests[0].result, ST_FAIL);
	assert_non_null(strstr(p.tests[0].reason, "killed by signal 11"));
	assert_string_equal(p.tests[0].output.v[0], "last words");
	assert_int_equal(p.tests[1].result, ST_FAIL);
	assert_non_null(strstr(p.tests[1].reason, "(timeout)"));
	assert_int_equal(p.tests[2].result, ST_FAIL);
	assert_non_null(strstr(p.tests[2].reason, "(timeout)"));
	st_parser_release(&p);
	strvec_clear(&want);
}

/* A signal stopped the VM mid-way: what finished keeps its result, the
 * rest is an error (interrupted), never a failure of the test. */
static void test_parse_interrupted(void **state)
{
	struct strvec want = names("minimal", "numa", "total_bw");
	struct st_parser p;

	(void)state;
	st_parser_init(&p, &want);
	feed(&p, ST_MARK " begin minimal 1.0\n"
		 "===== START =====\nTEST: minimal\nOUTPUT:\nok 1 minimal # \n=====  END  =====\n"
		 ST_MARK " end minimal 0 2.0\n"
		 ST_MARK " begin numa 2.0\n"
		 "===== START =====\nTEST: numa\nOUTPUT:\n");
	st_parser_finish_interrupted(&p);
	assert_int_equal(p.tests[0].result, ST_PASS);
	assert_int_equal(p.tests[1].result, ST_ERROR);
	assert_string_equal(p.tests[1].reason, "interrupted before it finished");
	assert_int_equal(p.tests[2].result, ST_ERROR);
	assert_string_equal(st_result_name(ST_ERROR), "error");
	st_parser_release(&p);
	strvec_clear(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_parse_results),
		cmocka_unit_test(test_parse_family),
		cmocka_unit_test(test_parse_crash),
		cmocka_unit_test(test_parse_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
