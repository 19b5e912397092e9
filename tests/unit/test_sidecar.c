/* Unit tests for lib/sidecar.c: run ids, run source, project commit (in a
 * real temporary git repository), host context, metrics from a verdict,
 * the pre-clear / lock protocol, atomic no-clobber writes, loading with
 * corrupt files, and listing runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "run.h"
#include "sidecar.h"

/* ---- helpers ------------------------------------------------------------ */

static char *tmpdir(void)
{
	char *d = make_temp_dir("/tmp", "ktstr-test-sidecar.");

	assert_non_null(d);
	return d;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char *p = path_join(dir, name);

	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
	free(p);
}

/* Names in dir (hidden ones too), sorted, space-separated. */
static char *listing(const char *dir)
{
	struct strvec sv = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(&sv, e->d_name);
	closedir(d);
	strvec_sort(&sv);
	for (size_t i = 0; i < sv.n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", sv.v[i]);
	strvec_clear(&sv);
	return strbuf_detach(&sb, NULL);
}

static void unset_all(void)
{
	unsetenv("KTSTR_RUNS_ROOT");
	unsetenv("KTSTR_SIDECAR_DIR");
	unsetenv("KTSTR_PROJECT_COMMIT");
	unsetenv("KTSTR_CI");
}

/* ---- identity ----------------------------------------------------------- */

static void test_run_id(void **state)
{
	char *a = sidecar_new_run_id(), *b = sidecar_new_run_id();

	(void)state;
	/* YYYYMMDDTHHMMSSZ-xxxxxxxx */
	assert_int_equal(strlen(a), 25);
	for (int i = 0; i < 8; i++)
		assert_true(isdigit((unsigned char)a[i]));
	assert_int_equal(a[8], 'T');
	assert_int_equal(a[15], 'Z');
	assert_int_equal(a[16], '-');
	assert_int_equal(strspn(a + 17, "0123456789abcdef"), 8);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_run_source_and_root(void **state)
{
	char *root;

	(void)state;
	unset_all();
	assert_string_equal(sidecar_run_source(), "local");
	setenv("KTSTR_CI", "", 1);	/* empty means unset */
	assert_string_equal(sidecar_run_source(), "local");
	setenv("KTSTR_CI", "true", 1);
	assert_string_equal(sidecar_run_source(), "ci");
	unsetenv("KTSTR_CI");

	setenv("KTSTR_RUNS_ROOT", "/x/runs", 1);
	root = sidecar_runs_root();
	assert_string_equal(root, "/x/runs");
	free(root);
	unsetenv("KTSTR_RUNS_ROOT");
	setenv("XDG_STATE_HOME", "/state", 1);
	root = sidecar_runs_root();
	assert_string_equal(root, "/state/ktstr/runs");
	free(root);
	unsetenv("XDG_STATE_HOME");
}

static void test_project_commit(void **state)
{
	char *dir = tmpdir(), *c, *want;
	struct strbuf out = STRBUF_INIT;
	char *prog = find_program("git");

	(void)state;
	unset_all();
	/* not a repository */
	c = sidecar_project_commit(dir);
	assert_string_equal(c, "nogit");
	free(c);
	/* the variable wins */
	setenv("KTSTR_PROJECT_COMMIT", "feedfacecafe", 1);
	c = sidecar_project_commit(dir);
	assert_string_equal(c, "feedfacecafe");
	free(c);
	unsetenv("KTSTR_PROJECT_COMMIT");
	if (!prog)
		skip();
	free(prog);

	{
		char *cmd = xasprintf("cd '%s' && git init -q . && echo a >f && git add f &&"
				      " git -c user.name=t -c user.email=t@t commit -qm one",
				      dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	{
		const char *argv[] = { "git", "-C", dir, "rev-parse", "HEAD", NULL };

		assert_int_equal(run_capture(argv, &out, NULL), 0);
	}
	want = xstrndup(out.buf, 12);
	c = sidecar_project_commit(dir);
	assert_string_equal(c, want);
	free(c);
	free(want);
	/* an untracked file makes it dirty */
	put_file(dir, "new", "x");
	c = sidecar_project_commit(dir);
	want = xasprintf("%.12s-dirty", out.buf);
	assert_string_equal(c, want);
	free(c);
	free(want);
	strbuf_release(&out);
	rm_rf(dir);
	free(dir);
}

static void test_host_context(void **state)
{
	json_t *h = sidecar_host_context(), *t, *v;
	struct utsname u;
	const char *key;

	(void)state;
	assert_true(json_is_object(h));
	assert_true(json_integer_value(json_object_get(h, "cpus")) >= 1);
	assert_true(json_integer_value(json_object_get(h, "mem_total_kib")) > 0);
	assert_int_equal(uname(&u), 0);
	assert_string_equal(json_string_value(json_object_get(h, "arch")), u.machine);
	assert_string_equal(json_string_value(json_object_get(h, "kernel_release")),
			    u.release);
	assert_non_null(json_object_get(h, "cpu_model"));
	t = json_object_get(h, "sched_tunables");
	assert_true(json_is_object(t));
	json_object_foreach(t, key, v) {
		assert_int_equal(strncmp(key, "sched_", 6), 0);
		assert_true(json_is_number(v) || json_is_string(v));
	}
	/* a plain number file reads as a number */
	if (access("/proc/sys/kernel/sched_autogroup_enabled", R_OK) == 0)
		assert_true(json_is_integer(json_object_get(t, "sched_autogroup_enabled")));
	json_decref(h);
}

/* ---- metrics ------------------------------------------------------------ */

static void feed(struct verdict *v, const char *text)
{
	const char *p = text;
	unsigned long n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(verdict_feed_line(v, p, len, ++n, &err), 0);
		strbuf_release(&err);
		p += len + (nl ? 1 : 0);
	}
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		fail_msg("metric %s missing", k);
	return json_number_value(v);
}

static void test_metrics(void **state)
{
	struct verdict v;
	json_t *m;

	(void)state;
	verdict_init(&v);
	feed(&v,
	     "{\"type\":\"scenario_start\",\"name\":\"steady\",\"duration_ms\":5000,\"cpus\":4}\n"
	     "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_0\",\"background\":false,"
	     "\"spread_pct\":5.5,\"worst_gap_ms\":400,\"migrations\":10,\"iterations\":1000,"
	     "\"iterations_per_sec\":200,\"p50_wake_latency_us\":20,\"p99_wake_latency_us\":90,"
	     "\"isolation_violations\":0,\"starved_workers\":0}\n"
	     "{\"type\":\"cgroup_stats\",\"cgroup\":\"cg_1\",\"background\":false,"
	     "\"spread_pct\":12.5,\"worst_gap_ms\":300,\"migrations\":30,\"iterations\":600,"
	     "\"iterations_per_sec\":120,\"p50_wake_latency_us\":35,\"p99_wake_latency_us\":80,"
	     "\"isolation_violations\":2,\"starved_workers\":1}\n"
	     "{\"type\":\"cgroup_stats\",\"cgroup\":\"noise\",\"background\":true,"
	     "\"spread_pct\":99,\"worst_gap_ms\":9000,\"migrations\":5000,\"iterations\":1,"
	     "\"iterations_per_sec\":1,\"p99_wake_latency_us\":9999}\n"
	     "{\"type\":\"sched_ext_events\",\"deltas\":{\"SCX_EV_SELECT_CPU_FALLBACK\":7,"
	     "\"SCX_EV_DISPATCH_KEEP_LAST\":0}}\n"
	     "{\"type\":\"sched_ext_events\",\"deltas\":{\"SCX_EV_SELECT_CPU_FALLBACK\":5}}\n"
	     "{\"type\":\"scenario_end\",\"elapsed_ms\":5000,\"worst_spread_pct\":99}\n");
	verdict_finish(&v, NULL);
	m = sidecar_metrics(&v);
	/* the background cgroup is left out everywhere */
	assert_true(num(m, "worst_spread_pct") == 12.5);
	assert_true(num(m, "worst_gap_ms") == 400);
	assert_true(num(m, "total_migrations") == 40);
	assert_true(num(m, "worst_migration_ratio") == 0.05);
	assert_true(num(m, "worst_p99_wake_latency_us") == 90);
	assert_true(num(m, "worst_median_wake_latency_us") == 35);
	assert_true(num(m, "total_iterations") == 1600);
	assert_true(num(m, "min_iterations_per_sec") == 120);
	assert_true(num(m, "starved_workers") == 1);
	assert_true(num(m, "isolation_violations") == 2);
	assert_true(num(m, "scx_select_cpu_fallback") == 12);
	assert_true(json_is_integer(json_object_get(m, "total_iterations")));
	assert_true(json_is_real(json_object_get(m, "worst_spread_pct")));
	json_decref(m);
	verdict_release(&v);

	/* nothing measured: nothing made up */
	verdict_init(&v);
	feed(&v, "{\"type\":\"scenario_start\",\"name\":\"steady\",\"duration_ms\":5000}\n");
	verdict_finish(&v, NULL);
	m = sidecar_metrics(&v);
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
	verdict_release(&v);
}

/* ---- the run directory -------------------------------------------------- */

static json_t *doc(const char *case_name)
{
	return json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:{s:i}}", "type", "sidecar", "schema", 1,
			 "case", case_name, "suite", "demo", "test", "steady", "result",
			 "pass", "metrics", "worst_gap_ms", 100);
}

static void test_dir_lock_and_clear(void **state)
{
	char *root = tmpdir(), *p1, *p2, *l;
	struct sidecar_dir d1, d2, d3;
	struct strbuf err = STRBUF_INIT;
	json_t *o = doc("steady/tiny-2llc");

	(void)state;
	unset_all();
	setenv("KTSTR_RUNS_ROOT", root, 1);
	/* a previous run's sidecar, and a stranger's file */
	assert_int_equal(mkdir_p(root, 0755), 0);
	{
		char *dir = xasprintf("%s/6.14.2-abc_def", root);

		assert_int_equal(mkdir_p(dir, 0755), 0);
		put_file(dir, "old.r1.x.ktstr.json", "{}");
		put_file(dir, "notes.txt", "keep me");
		free(dir);
	}
	/* '/' in the commit or label never makes a subdirectory */
	assert_int_equal(sidecar_dir_open(&d1, "6.14.2", "abc/def", &err), 0);
	assert_string_equal(err.buf, "");
	p1 = xasprintf("%s/6.14.2-abc_def", root);
	assert_string_equal(d1.path, p1);
	assert_true(d1.cleared);
	assert_true(d1.lock_fd >= 0);
	l = listing(d1.path);
	assert_string_equal(l, ".lock notes.txt");
	free(l);

	p2 = sidecar_write(&d1, "steady/tiny-2llc", 1, "RUNA", o, &err);
	assert_non_null(p2);
	free(p2);
	/* a second runner while the first holds the dir: no clearing */
	assert_int_equal(sidecar_dir_open(&d2, "6.14.2", "abc/def", &err), 0);
	assert_false(d2.cleared);
	p2 = sidecar_write(&d2, "steady/tiny-2llc", 1, "RUNB", o, &err);
	assert_non_null(p2);
	free(p2);
	l = listing(d1.path);
	assert_string_equal(l, ".lock notes.txt steady_tiny-2llc.r1.RUNA.ktstr.json "
			    "steady_tiny-2llc.r1.RUNB.ktstr.json");
	free(l);
	/* while either holds it, nobody can take it exclusively */
	{
		char *lp = path_join(p1, ".lock");
		int fd = open(lp, O_RDWR);

		assert_true(fd >= 0);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		sidecar_dir_close(&d1);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		sidecar_dir_close(&d2);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
		close(fd);
		free(lp);
	}
	/* the next run starts clean */
	assert_int_equal(sidecar_dir_open(&d3, "6.14.2", "abc/def", &err), 0);
	assert_true(d3.cleared);
	l = listing(d3.path);
	assert_string_equal(l, ".lock notes.txt");
	free(l);
	sidecar_dir_close(&d3);
	assert_null(d3.path);

	json_decref(o);
	unsetenv("KTSTR_RUNS_ROOT");
	strbuf_release(&err);
	rm_rf(root);
	free(root);
	free(p1);
}

static void test_sidecar_dir_override(void **state)
{
	char *dir = tmpdir(), *sub = path_join(dir, "mine/deeper"), *l, *p;
	struct sidecar_dir d;
	struct strbuf err = STRBUF_INIT;
	json_t *o = doc("a/b");

	(void)state;
	unset_all();
	assert_int_equal(mkdir_p(sub, 0755), 0);
	put_file(sub, "old.r1.x.ktstr.json", "{}");
	setenv("KTSTR_SIDECAR_DIR", sub, 1);
	assert_int_equal(sidecar_dir_open(&d, "6.14.2", "abc", &err), 0);
	assert_string_equal(d.path, sub);
	assert_int_equal(d.lock_fd, -1);
	assert_false(d.cleared);
	p = sidecar_write(&d, "a/b", 2, "R", o, &err);
	assert_non_null(p);
	free(p);
	/* the operator's directory: nothing cleared, no lock file */
	l = listing(sub);
	assert_string_equal(l, "a_b.r2.R.ktstr.json old.r1.x.ktstr.json");
	free(l);
	sidecar_dir_close(&d);
	unsetenv("KTSTR_SIDECAR_DIR");
	json_decref(o);
	strbuf_release(&err);
	rm_rf(dir);
	free(dir);
	free(sub);
}

static void test_write(void **state)
{
	char *dir = tmpdir(), *p, *l;
	struct sidecar_dir d = { .path = dir, .lock_fd = -1 };
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	json_t *o = doc("odd name/../x"), *back;
	struct stat st;

	(void)state;
	p = sidecar_write(&d, "odd name/../x", 1, "20250101T000000Z-0a", o, &err);
	assert_non_null(p);
	assert_string_equal(path_basename(p),
			    "odd_name_.._x.r1.20250101T000000Z-0a.ktstr.json");
	assert_int_equal(strbuf_read_file(&text, p), 0);
	assert_int_equal(text.buf[text.len - 1], '\n');
	back = json_loads(text.buf, 0, NULL);
	assert_true(json_equal(back, o));
	json_decref(back);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* never replaced: the same name again is an error, the first intact */
	assert_null(sidecar_write(&d, "odd name/../x", 1, "20250101T000000Z-0a", o, &err));
	assert_non_null(strstr(err.buf, "already exists"));
	assert_non_null(strstr(err.buf, path_basename(p)));
	/* no temp file left behind either time */
	l = listing(dir);
	assert_string_equal(l, "odd_name_.._x.r1.20250101T000000Z-0a.ktstr.json");
	free(l);
	/* a leading dot never makes a hidden file */
	free(p);
	strbuf_reset(&err);
	p = sidecar_write(&d, ".hidden", 1, "R", o, &err);
	assert_non_null(p);
	assert_string_equal(path_basename(p), "_hidden.r1.R.ktstr.json");
	free(p);
	/* an unwritable place: NULL and why */
	d.path = "/proc/nonexistent-dir";
	strbuf_reset(&err);
	assert_null(sidecar_write(&d, "x", 1, "R", o, &err));
	assert_non_null(strstr(err.buf, "cannot create"));
	json_decref(o);
	strbuf_release(&err);
	strbuf_release(&text);
	rm_rf(dir);
	free(dir);
}

/* ---- reading ------------------------------------------------------------ */

#define GOOD(extra) "{\"type\":\"sidecar\",\"schema\":1,\"run_id\":\"R\"," \
	"\"suite\":\"demo\",\"test\":\"steady\",\"preset\":\"tiny-2llc\"," \
	"\"case\":\"steady/tiny-2llc\",\"scheduler\":{\"name\":\"scx_simple\"}," \
	"\"kernel\":{\"label\":\"6.14.2\"},\"project_commit\":\"abc\"," \
	"\"topology\":{\"spec\":\"1n2l2c1t\"},\"result\":\"pass\"" extra "}"

static void test_load(void **state)
{
	char *dir = tmpdir();
	struct sidecar_set set = { 0 };
	struct strbuf err = STRBUF_INIT;
	const struct sidecar *s;

	(void)state;
	put_file(dir, "a.ktstr.json", GOOD(",\"metrics\":{\"worst_gap_ms\":5},"
					   "\"host\":{\"arch\":\"aarch64\"},"
					   "\"scenario\":{\"work_types\":[\"cpu_spin\"]}"));
	put_file(dir, "b.ktstr.json", GOOD(""));
	put_file(dir, "c.ktstr.json", "{\"type\":\"sidecar\",\"schema\":1,");
	put_file(dir, "d.ktstr.json", "[1,2]");
	put_file(dir, "e.ktstr.json", "{\"type\":\"verdict\"}");
	put_file(dir, "f.ktstr.json", "{\"type\":\"sidecar\",\"schema\":2}");
	put_file(dir, "g.ktstr.json", GOOD(",\"metrics\":[1]"));
	put_file(dir, "h.ktstr.json", "");
	put_file(dir, "i.ktstr.json", "{\"type\":\"sidecar\",\"type\":\"sidecar\",\"schema\":1}");
	put_file(dir, ".j.ktstr.json.tmp.abc", GOOD(""));	/* being written */
	put_file(dir, "notes.json", GOOD(""));
	assert_int_equal(sidecar_load_dir(dir, &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.bad.n, 7);
	for (size_t i = 0; i < set.bad.n; i++)
		assert_int_equal(strncmp(set.bad.v[i], dir, strlen(dir)), 0);
	assert_non_null(strstr(set.bad.v[0], "c.ktstr.json: invalid JSON at line"));
	assert_non_null(strstr(set.bad.v[1], "d.ktstr.json: not a sidecar: the document is an array"));
	assert_non_null(strstr(set.bad.v[2], "e.ktstr.json: not a sidecar"));
	assert_non_null(strstr(set.bad.v[3], "f.ktstr.json: schema 2, this ktstr reads schema 1"));
	assert_non_null(strstr(set.bad.v[4], "g.ktstr.json: \"metrics\" is an array"));
	assert_non_null(strstr(set.bad.v[5], "h.ktstr.json: "));
	assert_non_null(strstr(set.bad.v[6], "i.ktstr.json: invalid JSON"));

	s = &set.v[0];
	assert_non_null(strstr(s->path, "/a.ktstr.json"));
	assert_string_equal(s->suite, "demo");
	assert_string_equal(s->test, "steady");
	assert_string_equal(s->preset, "tiny-2llc");
	assert_string_equal(s->case_name, "steady/tiny-2llc");
	assert_string_equal(s->scheduler, "scx_simple");
	assert_string_equal(s->kernel, "6.14.2");
	assert_string_equal(s->commit, "abc");
	assert_string_equal(s->topology, "1n2l2c1t");
	assert_string_equal(s->result, "pass");
	assert_string_equal(s->arch, "aarch64");
	assert_string_equal(s->timestamp, "");
	assert_string_equal(s->run_source, "");
	assert_int_equal(json_integer_value(json_object_get(s->metrics, "worst_gap_ms")), 5);
	assert_int_equal(json_array_size(s->work_types), 1);
	/* missing parts: empty, never NULL */
	s = &set.v[1];
	assert_string_equal(s->arch, "x86_64");
	assert_true(json_is_object(s->metrics) && !json_object_size(s->metrics));
	assert_true(json_is_array(s->work_types) && !json_array_size(s->work_types));
	sidecar_set_release(&set);

	/* an unreadable directory is the only hard error */
	assert_int_equal(sidecar_load_dir("/nonexistent/run", &set, &err), -1);
	assert_non_null(strstr(err.buf, "/nonexistent/run"));
	sidecar_set_release(&set);
	strbuf_release(&err);
	rm_rf(dir);
	free(dir);
}

/* The in-memory reader checks a document exactly as the directory reader
 * checks a file, and does not touch the file system. */
static void test_load_buf(void **state)
{
	static const char good[] = GOOD("");
	static const char cut[] = "{\"type\":\"sidecar\",\"schema\":1,";
	static const char other[] = "{\"type\":\"verdict\"}";
	struct sidecar_set set = { 0 };

	(void)state;
	sidecar_load_buf("/no/such/dir/a.ktstr.json", good, strlen(good), &set);
	sidecar_load_buf("b.ktstr.json", cut, strlen(cut), &set);
	sidecar_load_buf("c.ktstr.json", other, strlen(other), &set);
	/* the length bounds the text: the rest of the buffer is not read */
	sidecar_load_buf("d.ktstr.json", good, strlen(good) - 1, &set);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].path, "/no/such/dir/a.ktstr.json");
	assert_string_equal(set.v[0].test, "steady");
	assert_int_equal(set.bad.n, 3);
	assert_non_null(strstr(set.bad.v[0], "b.ktstr.json: invalid JSON at line 1"));
	assert_non_null(strstr(set.bad.v[1], "c.ktstr.json: not a sidecar"));
	assert_non_null(strstr(set.bad.v[2], "d.ktstr.json: invalid JSON"));
	sidecar_set_release(&set);
}

static void test_list_runs(void **state)
{
	char *root = tmpdir(), *d;
	struct sidecar_run *v;
	size_t n;

	(void)state;
	d = path_join(root, "k-old");
	mkdir_p(d, 0755);
	put_file(d, "x.ktstr.json", GOOD(",\"timestamp\":\"2025-01-01T00:00:00Z\""));
	put_file(d, "y.ktstr.json", GOOD(",\"timestamp\":\"2025-01-02T00:00:00Z\","
					  "\"host\":{\"arch\":\"aarch64\"}"));
	put_file(d, "z.ktstr.json", "broken");
	free(d);
	d = path_join(root, "k-new");
	mkdir_p(d, 0755);
	put_file(d, "x.ktstr.json", GOOD(",\"timestamp\":\"2025-03-01T00:00:00Z\""));
	free(d);
	/* an empty run: its mtime (now) makes it the newest */
	d = path_join(root, "k-empty");
	mkdir_p(d, 0755);
	free(d);
	d = path_join(root, ".hidden");
	mkdir_p(d, 0755);
	free(d);
	put_file(root, "stray-file", "");

	n = sidecar_list_runs(root, &v);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "k-empty");
	assert_int_equal(v[0].tests, 0);
	assert_int_equal(strlen(v[0].date), 20);
	assert_string_equal(v[0].arch, "x86_64");
	assert_string_equal(v[1].name, "k-new");
	assert_string_equal(v[1].date, "2025-03-01T00:00:00Z");
	assert_string_equal(v[2].name, "k-old");
	assert_int_equal(v[2].tests, 3);
	assert_string_equal(v[2].date, "2025-01-02T00:00:00Z");
	assert_string_equal(v[2].arch, "aarch64");
	assert_non_null(strstr(v[2].path, "/k-old"));
	sidecar_runs_free(v, n);

	assert_int_equal(sidecar_list_runs("/nonexistent/root", &v), 0);
	assert_null(v);
	rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_id),
		cmocka_unit_test(test_run_source_and_root),
		cmocka_unit_test(test_project_commit),
		cmocka_unit_test(test_host_context),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_dir_lock_and_clear),
		cmocka_unit_test(test_sidecar_dir_override),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_buf),
		cmocka_unit_test(test_list_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
