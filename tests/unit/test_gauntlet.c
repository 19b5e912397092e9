/* Unit tests for lib/runner/gauntlet.c: the preset table, host capacity,
 * constraints, expansion naming, filters and shards. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "gauntlet.h"

static char tmpdir[PATH_MAX];

static int setup_group(void **state)
{
	char cwd[2048];
	char share[PATH_MAX];

	(void)state;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(share, sizeof(share), "%s/share/ktstr", cwd);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ktstr-test-gauntlet.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return setenv("KTSTR_SHARE_DIR", share, 1);
}

static int teardown_group(void **state)
{
	(void)state;
	return rm_rf(tmpdir);
}

/* Load a test from text (' for ") written to <tmpdir>/<suite>/<name>.json. */
static void mktest(const char *suite, const char *name, const char *text, struct ktest *t)
{
	char *dir = xasprintf("%s/%s", tmpdir, suite);
	char *path = xasprintf("%s/%s.json", dir, name), *s = xstrdup(text), *p;
	struct strbuf err = STRBUF_INIT;

	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, s, strlen(s), 0644), 0);
	if (ktest_load(path, NULL, t, &err))
		fail_msg("ktest_load: %s", err.buf);
	strbuf_release(&err);
	free(s);
	free(path);
	free(dir);
}

static struct gauntlet_kernel one_kernel = { "7.3.4", "/boot/a", NULL };

/* TCG on a 2-CPU host: capacity 16 vCPUs. */
static struct gauntlet_opts tcg2(void)
{
	struct gauntlet_opts o = { .kvm = false, .host_cpus = 2, .kernels = &one_kernel,
				   .n_kernels = 1 };

	return o;
}

static void expand_ok(const struct ktest *t, size_t nt, const struct gauntlet_opts *o,
		      struct gcase **v, size_t *n)
{
	struct strbuf err = STRBUF_INIT;

	if (gauntlet_expand(t, nt, o, v, n, &err))
		fail_msg("gauntlet_expand: %s", err.buf);
	strbuf_release(&err);
}

/* The preset names of v, space separated, in order. */
static char *preset_names(const struct gcase *v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", v[i].preset ? v[i].preset->name : "-");
	return strbuf_detach(&sb, NULL);
}

static void assert_presets(const struct gcase *v, size_t n, const char *want)
{
	char *got = preset_names(v, n);

	if (strcmp(got, want))
		fail_msg("presets: got \"%s\", want \"%s\"", got, want);
	free(got);
}

/* ---- table ------------------------------------------------------------ */

static void test_table(void **state)
{
	static const struct { const char *name, *spec; } known[] = {
		{ "tiny-1llc", "1n1l4c1t" }, { "tiny-2llc", "1n2l2c1t" },
		{ "odd-3llc", "1n3l3c1t" }, { "smt-2llc", "1n2l2c2t" },
		{ "medium-4llc", "1n4l4c2t" }, { "numa2-4llc", "2n4l4c1t" },
	};
	size_t n, i, j;
	const struct preset *p = preset_table(&n);

	(void)state;
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
		struct ktstr_topo t;

		if (topo_parse(p[i].spec, &t, &err))
			fail_msg("%s: spec %s does not parse: %s", p[i].name, p[i].spec, err.buf);
		assert_memory_equal(&t, &p[i].topo, sizeof(t));
		topo_format_short(&p[i].topo, &sb);
		assert_string_equal(sb.buf, p[i].spec);
		assert_true(p[i].about && *p[i].about && !strchr(p[i].about, '\n'));
		assert_true(p[i].memory_mb >= 512);
		assert_int_equal(p[i].topo.llcs % p[i].topo.nodes, 0);
		if (i)
			assert_true(topo_cpus(&p[i - 1].topo) <= topo_cpus(&p[i].topo));
		for (j = 0; j < i; j++)
			assert_string_not_equal(p[i].name, p[j].name);
		assert_ptr_equal(preset_find(p[i].name), &p[i]);
		strbuf_release(&err);
		strbuf_release(&sb);
	}
	for (i = 0; i < ARRAY_SIZE(known); i++) {
		const struct preset *k = preset_find(known[i].name);

		assert_non_null(k);
		assert_string_equal(k->spec, known[i].spec);
	}
	assert_string_equal(p[0].name, "tiny-1llc");
	assert_null(preset_find("nope"));
	assert_null(preset_find(NULL));
}

/* man/ktstr-test.5 lists the same table, row for row. */
static void test_table_in_man_page(void **state)
{
	struct strbuf page = STRBUF_INIT;
	size_t n, i;
	const struct preset *p = preset_table(&n);
	const char *prev = NULL;

	(void)state;
	assert_int_equal(strbuf_read_file(&page, "man/ktstr-test.5"), 0);
	for (i = 0; i < n; i++) {
		char *row = xasprintf("\n%s\t%s\t%u\t%s\n", p[i].name, p[i].spec,
				      topo_cpus(&p[i].topo), p[i].about);
		const char *at = strstr(page.buf, row);

		if (!at)
			fail_msg("man/ktstr-test.5 lacks the row for %s: %s", p[i].name, row + 1);
		assert_true(!prev || at > prev);
		prev = at;
		free(row);
	}
	strbuf_release(&page);
}

static void test_capacity(void **state)
{
	struct ktstr_topo t16 = { 2, 4, 4, 1 }, t4 = { 1, 1, 4, 1 };

	(void)state;
	assert_int_equal(gauntlet_vm_slots(&t16, true, 8), 8);
	assert_int_equal(gauntlet_vm_slots(&t4, true, 8), 4);
	assert_int_equal(gauntlet_vm_slots(&t16, false, 8), 1);
	assert_int_equal(gauntlet_vm_slots(&t4, false, 8), 1);
	/* A 2-CPU host: a thread-per-vCPU VM reserves both, never more. */
	assert_int_equal(gauntlet_vm_slots(&t4, true, 2), 2);
	assert_int_equal(gauntlet_vm_slots(&t4, true, 0), 1);
}

static void test_capacity_filter(void **state)
{
	struct gauntlet_opts o = tcg2();
	struct gcase *v;
	struct ktest t;
	size_t n, i;

	(void)state;
	mktest("cap", "all", "{'scenario': 'steady', 'duration': '3s'}", &t);
	/* TCG, 2 CPUs: up to 16 vCPUs */
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "numa2-4llc odd-3llc odd-5llc odd-7llc smt-2llc smt-3llc "
		       "tiny-1llc tiny-2llc");
	for (i = 0; i < n; i++) {
		assert_null(v[i].skip_reason);
		assert_int_equal(v[i].slots, 1);
		assert_true(v[i].est_secs == 8 + 3 + 2);
		assert_null(v[i].kernel);
	}
	gauntlet_free(v, n);

	/* tcg-mt, 2 CPUs: TCG's vCPU cap (the same presets), but a host
	 * thread per vCPU, so each VM reserves min(vCPUs, 2) host CPUs */
	o.thread_per_vcpu = true;
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "numa2-4llc odd-3llc odd-5llc odd-7llc smt-2llc smt-3llc "
		       "tiny-1llc tiny-2llc");
	for (i = 0; i < n; i++) {
		unsigned cpus = topo_cpus(&v[i].preset->topo);

		assert_int_equal(v[i].slots, cpus < 2 ? cpus : 2);
	}
	gauntlet_free(v, n);

	/* KVM, 8 CPUs: up to 8 vCPUs, each VM takes its vCPUs in slots */
	o.kvm = true;
	o.host_cpus = 8;
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "smt-2llc tiny-1llc tiny-2llc");
	assert_int_equal(v[0].slots, 8);
	assert_int_equal(v[1].slots, 4);
	gauntlet_free(v, n);
	ktest_release(&t);
}

static void test_constraints_match(void **state)
{
	struct topo_constraints c = { 0, 0, 0, 0, 0, 0, -1 };
	struct ktstr_topo t = { 1, 2, 2, 2 };
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 1);
	c.min_llcs = 3;
	assert_int_equal(topo_constraints_match(&c, &t, &why), 0);
	assert_non_null(strstr(why.buf, "min_llcs"));
	c.min_llcs = 0;
	c.max_cpus = 4;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 0);
	c.max_cpus = 8;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 1);
	c.smt = 0;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 0);
	c.smt = 1;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 1);
	c.min_nodes = 2;
	assert_int_equal(topo_constraints_match(&c, &t, NULL), 0);
	strbuf_release(&why);
}

static void test_constraints_expand(void **state)
{
	struct gauntlet_opts o = tcg2();
	struct gcase *v;
	struct ktest t;
	size_t n;

	(void)state;
	mktest("con", "llc3", "{'scenario': 'steady', 'topology': {'min_llcs': 3}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "numa2-4llc odd-3llc odd-5llc odd-7llc smt-3llc");
	gauntlet_free(v, n);
	ktest_release(&t);

	mktest("con", "smt", "{'scenario': 'steady', 'topology': {'smt': true}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "smt-2llc smt-3llc");
	gauntlet_free(v, n);
	ktest_release(&t);

	mktest("con", "onenode", "{'scenario': 'steady', 'topology': {'max_numa_nodes': 1, "
	       "'min_cpus': 12, 'max_llcs': 5}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "odd-5llc smt-3llc");
	gauntlet_free(v, n);
	ktest_release(&t);

	/* the scenario's own requirements drop presets too */
	mktest("con", "req", "{'scenario': {'requires': {'min_llcs': 4}, "
	       "'cgroups': [{'name': 'a', 'workers': 1}]}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "numa2-4llc odd-5llc odd-7llc");
	gauntlet_free(v, n);
	ktest_release(&t);

	/* and so does a cpuset the preset cannot provide */
	mktest("con", "llc4", "{'scenario': {'cgroups': [{'name': 'a', 'workers': 1, "
	       "'cpuset': {'llc': 4}}]}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "odd-5llc odd-7llc");
	gauntlet_free(v, n);
	ktest_release(&t);
}

static void test_nothing_fits(void **state)
{
	struct gauntlet_opts o = tcg2();
	struct gcase *v;
	struct ktest t;
	size_t n;

	(void)state;
	mktest("none", "big", "{'scenario': 'steady', 'topology': {'min_llcs': 8}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 1);
	assert_null(v[0].preset);
	assert_null(v[0].kernel);
	assert_string_equal(v[0].name, "big/-");
	assert_string_equal(v[0].full_name, "none big/-");
	assert_non_null(v[0].skip_reason);
	assert_non_null(strstr(v[0].skip_reason, "no preset satisfies min_llcs=8 within this "
			       "host's capacity of 16 vCPUs"));
	assert_true(v[0].est_secs == 0);
	assert_int_equal(v[0].slots, 0);
	gauntlet_free(v, n);
	ktest_release(&t);

	mktest("none", "huge", "{'scenario': 'steady', 'topology': {'min_llcs': 100}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].skip_reason, "no preset satisfies min_llcs=100");
	gauntlet_free(v, n);
	ktest_release(&t);

	/* scenario requirement merged into the message */
	mktest("none", "req", "{'scenario': {'requires': {'min_nodes': 8}, "
	       "'cgroups': [{'name': 'a', 'workers': 1}]}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].skip_reason, "no preset satisfies min_numa_nodes=8");
	gauntlet_free(v, n);
	ktest_release(&t);

	/* KVM on a 2-CPU host cannot run even the smallest preset */
	o.kvm = true;
	mktest("none", "any", "{'scenario': 'steady'}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(v[0].skip_reason, "capacity of 2 vCPUs"));
	assert_non_null(strstr(v[0].skip_reason, "tiny-1llc"));
	gauntlet_free(v, n);
	ktest_release(&t);
}

static void test_explicit_presets(void **state)
{
	struct gauntlet_opts o = tcg2();
	struct strbuf err = STRBUF_INIT;
	struct gcase *v;
	struct ktest t;
	size_t n;

	(void)state;
	mktest("exp", "named", "{'scenario': 'steady', 'presets': ['medium-4llc-nosmt', 'tiny-2llc', "
	       "'smt-2llc'], 'topology': {'smt': false}}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_presets(v, n, "medium-4llc-nosmt smt-2llc tiny-2llc");
	assert_non_null(v[0].skip_reason);
	assert_non_null(strstr(v[0].skip_reason, "capacity of 16 vCPUs"));
	assert_non_null(v[1].skip_reason);
	assert_non_null(strstr(v[1].skip_reason, "smt: false"));
	assert_null(v[2].skip_reason);
	gauntlet_free(v, n);

	/* an unknown preset (set behind ktest_load's back) is an error */
	free(t.presets.v[0]);
	t.presets.v[0] = xstrdup("bogus-9llc");
	assert_int_equal(gauntlet_expand(&t, 1, &o, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, t.path));
	assert_non_null(strstr(err.buf, "unknown preset 'bogus-9llc'"));
	assert_non_null(strstr(err.buf, "tiny-1llc, tiny-2llc"));
	assert_null(v);
	assert_int_equal(n, 0);
	strbuf_release(&err);
	ktest_release(&t);
}

static void test_kernels_and_names(void **state)
{
	struct gauntlet_kernel ks[2] = { { "6.14.2", "/a", NULL }, { "7.0", "/b", "k" } };
	struct gauntlet_opts o = tcg2();
	struct ktest t[2];
	struct gcase *v;
	size_t n, i;

	(void)state;
	mktest("kn", "beta", "{'scenario': 'steady', 'presets': ['tiny-1llc', 'tiny-2llc']}", &t[0]);
	mktest("kn", "alpha", "{'scenario': 'steady', 'presets': ['smt-2llc']}", &t[1]);
	expand_ok(t, 2, &o, &v, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "alpha/smt-2llc");
	assert_string_equal(v[0].full_name, "kn alpha/smt-2llc");
	assert_string_equal(v[1].name, "beta/tiny-1llc");
	assert_string_equal(v[2].name, "beta/tiny-2llc");
	assert_ptr_equal(v[0].test, &t[1]);
	gauntlet_free(v, n);

	o.kernels = ks;
	o.n_kernels = 2;
	expand_ok(t, 2, &o, &v, &n);
	assert_int_equal(n, 6);
	assert_string_equal(v[0].name, "alpha/smt-2llc/6.14.2");
	assert_string_equal(v[1].name, "alpha/smt-2llc/7.0");
	assert_string_equal(v[5].full_name, "kn beta/tiny-2llc/7.0");
	assert_ptr_equal(v[0].kernel, &ks[0]);
	assert_ptr_equal(v[1].kernel, &ks[1]);
	for (i = 1; i < n; i++)
		assert_true(strcmp(v[i - 1].full_name, v[i].full_name) < 0);
	gauntlet_free(v, n);
	ktest_release(&t[0]);
	ktest_release(&t[1]);
}

/* --scheduler: placeholder tests run under each; others as they are. */
static void test_schedulers(void **state)
{
	struct gauntlet_sched sc[2] = { { "scx_a", "scx_a" }, { "eevdf", NULL } };
	struct gauntlet_kernel ks[2] = { { "6.14.2", "/a", NULL }, { "7.0", "/b", "k" } };
	struct gauntlet_opts o = tcg2();
	struct strbuf err = STRBUF_INIT;
	struct ktest t[2];
	struct gcase *v;
	size_t n;

	(void)state;
	mktest("ab", "own", "{'scenario': 'steady', 'scheduler': 'scx_own', "
	       "'presets': ['tiny-1llc']}", &t[0]);
	mktest("ab", "param", "{'scenario': 'steady', 'scheduler': '{scheduler}', "
	       "'presets': ['tiny-1llc']}", &t[1]);

	/* Without --scheduler the placeholder has nothing to take. */
	assert_int_equal(gauntlet_expand(t, 2, &o, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "param.json: $.scheduler: \"{scheduler}\""));
	assert_non_null(strstr(err.buf, "--scheduler"));
	strbuf_release(&err);

	/* One: no suffix, as with one kernel. */
	o.scheds = sc;
	o.n_scheds = 1;
	expand_ok(t, 2, &o, &v, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "own/tiny-1llc");
	assert_null(v[0].sched);
	assert_string_equal(gcase_scheduler(&v[0]), "scx_own");
	assert_string_equal(v[1].name, "param/tiny-1llc");
	assert_ptr_equal(v[1].sched, &sc[0]);
	assert_string_equal(gcase_scheduler(&v[1]), "scx_a");
	gauntlet_free(v, n);

	/* Two, over two kernels: the scheduler's label ends the name. */
	o.n_scheds = 2;
	o.kernels = ks;
	o.n_kernels = 2;
	expand_ok(t, 2, &o, &v, &n);
	assert_int_equal(n, 6);
	assert_string_equal(v[0].name, "own/tiny-1llc/6.14.2");
	assert_string_equal(v[2].name, "param/tiny-1llc/6.14.2/eevdf");
	assert_null(gcase_scheduler(&v[2]));
	assert_string_equal(v[3].name, "param/tiny-1llc/6.14.2/scx_a");
	assert_string_equal(v[5].full_name, "ab param/tiny-1llc/7.0/scx_a");
	assert_ptr_equal(v[5].kernel, &ks[1]);
	assert_ptr_equal(v[5].sched, &sc[0]);
	gauntlet_free(v, n);
	ktest_release(&t[0]);
	ktest_release(&t[1]);
}

static void test_scheds_resolve(void **state)
{
	struct strvec in = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct gauntlet_sched *v;
	char *p;
	size_t n;

	(void)state;
	/* Names as given, eevdf as none, repeats once. */
	strvec_push(&in, "scx_simple");
	strvec_push(&in, "eevdf");
	strvec_push(&in, "scx_simple");
	assert_int_equal(gauntlet_scheds_resolve(&in, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].label, "scx_simple");
	assert_string_equal(v[0].sched, "scx_simple");
	assert_string_equal(v[1].label, "eevdf");
	assert_null(v[1].sched);
	gauntlet_scheds_free(v, n);
	strvec_clear(&in);

	/* Two builds of one scheduler: told apart by their directories; a
	 * name of the same base name keeps its own. */
	for (const char *d = "old"; d; d = strcmp(d, "old") ? NULL : "new") {
		p = xasprintf("%s/%s", tmpdir, d);
		assert_int_equal(mkdir_p(p, 0755), 0);
		free(p);
		p = xasprintf("%s/%s/scx_x", tmpdir, d);
		assert_int_equal(write_file_atomic(p, "x", 1, 0755), 0);
		strvec_push(&in, p);
		free(p);
	}
	strvec_push(&in, "scx_x");
	assert_int_equal(gauntlet_scheds_resolve(&in, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].label, "old-scx_x");
	assert_string_equal(v[1].label, "new-scx_x");
	assert_string_equal(v[2].label, "scx_x");
	assert_int_equal(v[0].sched[0], '/');
	gauntlet_scheds_free(v, n);
	strvec_clear(&in);

	/* Bad: a path that is not there, a directory, nothing. */
	strvec_push(&in, "./no/such/scx_x");
	assert_int_equal(gauntlet_scheds_resolve(&in, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "--scheduler ./no/such/scx_x: No such file"));
	assert_null(v);
	strbuf_reset(&err);
	strvec_clear(&in);
	strvec_push(&in, tmpdir);
	assert_int_equal(gauntlet_scheds_resolve(&in, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "is a directory"));
	strbuf_reset(&err);
	strvec_clear(&in);
	strvec_push(&in, "");
	assert_int_equal(gauntlet_scheds_resolve(&in, &v, &n, &err), -1);
	assert_non_null(strstr(err.buf, "--scheduler '': expected"));
	strvec_clear(&in);
	strbuf_release(&err);
}

static void test_perf_mode(void **state)
{
	struct gauntlet_opts o = tcg2();
	struct gcase *v;
	struct ktest t;
	size_t n, i;

	(void)state;
	mktest("perf", "p", "{'scenario': 'steady', 'performance_mode': true, "
	       "'presets': ['tiny-1llc', 'tiny-2llc']}", &t);
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 2);
	assert_null(v[0].skip_reason);
	gauntlet_free(v, n);
	o.no_perf_mode = true;
	expand_ok(&t, 1, &o, &v, &n);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_non_null(v[i].skip_reason);
		assert_non_null(strstr(v[i].skip_reason, "KTSTR_NO_PERF_MODE"));
		assert_true(v[i].est_secs == 0);
	}
	gauntlet_free(v, n);
	ktest_release(&t);
}

/* ---- filter and shards ------------------------------------------------ */

static void expand_all(struct ktest t[2], struct gcase **v, size_t *n)
{
	struct gauntlet_opts o = tcg2();

	mktest("flt", "steady_a", "{'scenario': 'steady'}", &t[0]);
	mktest("flt", "other_b", "{'scenario': 'steady', 'topology': {'min_llcs': 3}}", &t[1]);
	expand_ok(t, 2, &o, v, n);
	assert_int_equal(*n, 13);
}

static void test_filter(void **state)
{
	struct ktest t[2];
	struct gcase *v;
	size_t n;

	(void)state;
	expand_all(t, &v, &n);
	n = gauntlet_filter(v, n, "odd");		/* substring */
	assert_int_equal(n, 6);
	n = gauntlet_filter(v, n, "steady_a/*");	/* glob on the name */
	assert_presets(v, n, "odd-3llc odd-5llc odd-7llc");
	gauntlet_free(v, n);
	ktest_release(&t[0]);
	ktest_release(&t[1]);

	expand_all(t, &v, &n);
	n = gauntlet_filter(v, n, "flt other_b/*");	/* glob on the full name */
	assert_int_equal(n, 5);
	n = gauntlet_filter(v, n, "*/odd-[35]llc");
	assert_presets(v, n, "odd-3llc odd-5llc");
	n = gauntlet_filter(v, n, "nothing");
	assert_int_equal(n, 0);
	gauntlet_free(v, n);
	ktest_release(&t[0]);
	ktest_release(&t[1]);

	/* a glob must match the whole name; a substring need not */
	expand_all(t, &v, &n);
	n = gauntlet_filter(v, n, "steady_a");
	assert_int_equal(n, 8);
	n = gauntlet_filter(v, n, "steady_?");
	assert_int_equal(n, 0);
	gauntlet_free(v, n);
	ktest_release(&t[0]);
	ktest_release(&t[1]);
}

static void test_shards(void **state)
{
	struct ktest t[2];
	struct gcase *all, *v;
	size_t nall, n, i, j, k, seen = 0;
	int *hits;

	(void)state;
	expand_all(t, &all, &nall);
	hits = calloc(nall, sizeof(*hits));
	for (k = 1; k <= 3; k++) {
		struct gauntlet_opts o = tcg2();

		expand_ok(t, 2, &o, &v, &n);
		n = gauntlet_shard(v, n, (unsigned)k, 3);
		/* 13 cases: shards of 5, 4, 4 */
		assert_int_equal(n, k == 1 ? 5 : 4);
		for (i = 0; i < n; i++) {
			for (j = 0; j < nall && strcmp(all[j].full_name, v[i].full_name); j++)
				;
			assert_true(j < nall);
			assert_int_equal(j % 3, k - 1);
			hits[j]++;
			seen++;
		}
		gauntlet_free(v, n);
	}
	assert_int_equal(seen, nall);
	for (j = 0; j < nall; j++)
		assert_int_equal(hits[j], 1);
	/* 1/1 keeps everything */
	assert_int_equal(gauntlet_shard(all, nall, 1, 1), nall);
	free(hits);
	gauntlet_free(all, nall);
	ktest_release(&t[0]);
	ktest_release(&t[1]);
}

static void test_shard_parse(void **state)
{
	static const struct { const char *in, *msg; } bad[] = {
		{ "4/3", "--shard 4/3: K must be between 1 and N, e.g. 1/3" },
		{ "0/3", "--shard 0/3: K must be between 1 and N, e.g. 1/3" },
		{ "1/0", "--shard 1/0: N must be at least 1, e.g. 1/3" },
		{ "a/b", "--shard a/b: expected K/N with whole numbers K and N, e.g. 1/3" },
		{ "1", "--shard 1: expected K/N" },
		{ "", "--shard : expected K/N" },
		{ "1/3/4", "--shard 1/3/4: expected K/N" },
		{ "-1/3", "--shard -1/3: expected K/N" },
		{ " 1/3", "--shard  1/3: expected K/N" },
		{ "1/", "--shard 1/: expected K/N" },
		{ "/3", "--shard /3: expected K/N" },
		{ "99999999999/1", "--shard 99999999999/1: expected K/N" },
	};
	struct strbuf err = STRBUF_INIT;
	unsigned k = 0, n = 0;
	size_t i;

	(void)state;
	assert_int_equal(shard_parse("1/3", &k, &n, &err), 0);
	assert_int_equal(k, 1);
	assert_int_equal(n, 3);
	assert_int_equal(shard_parse("3/3", &k, &n, &err), 0);
	assert_int_equal(k, 3);
	assert_int_equal(shard_parse("1/1", &k, &n, &err), 0);
	assert_int_equal(err.len, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&err);
		if (!shard_parse(bad[i].in, &k, &n, &err))
			fail_msg("shard_parse(\"%s\") succeeded", bad[i].in);
		if (strncmp(err.buf, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("shard_parse(\"%s\"): got \"%s\", want \"%s...\"", bad[i].in,
				 err.buf, bad[i].msg);
	}
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_in_man_page),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_capacity_filter),
		cmocka_unit_test(test_constraints_match),
		cmocka_unit_test(test_constraints_expand),
		cmocka_unit_test(test_nothing_fits),
		cmocka_unit_test(test_explicit_presets),
		cmocka_unit_test(test_kernels_and_names),
		cmocka_unit_test(test_schedulers),
		cmocka_unit_test(test_scheds_resolve),
		cmocka_unit_test(test_perf_mode),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_shard_parse),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
