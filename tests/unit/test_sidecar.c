/* Unit tests for lib/results/sidecar.c: run ids, run source, project commit (in a
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "run.h"
#include "gauntlet.h"
#include "sidecar.h"
#include "testfile.h"

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
	     "{\"type\":\"scenario_end\",\"elapsed_ms\":5000,\"worst_spread_pct\":99,"
	     "\"agent_cpu_ms\":22.5,\"agent_cpu_pct\":0.113}\n");
	verdict_finish(&v, NULL);
	m = sidecar_metrics(&v);
	/* the agent's own share, as the guest reported it */
	assert_true(num(m, "agent_cpu_pct") == 0.113);
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

/* Regression: a run was {kernel}-{commit} and the next run with the same
 * commit (every run outside a git tree: "nogit") cleared it.  Now every
 * run has its own directory, earlier ones are left alone, and a second
 * open of the same run id is an error rather than a shared directory. */
static void test_dir_per_run(void **state)
{
	char *root = tmpdir(), *p, *l, *old;
	struct sidecar_dir d1, d2, d3;
	struct strbuf err = STRBUF_INIT;
	json_t *o = doc("steady/tiny-2llc");

	(void)state;
	unset_all();
	setenv("KTSTR_RUNS_ROOT", root, 1);
	/* an old-layout run: kept as it is */
	old = xasprintf("%s/6.14.2-nogit", root);
	assert_int_equal(mkdir_p(old, 0755), 0);
	put_file(old, "old.r1.x.ktstr.json", "{}");
	/* '/' in the kernel label or the id never makes a subdirectory */
	assert_int_equal(sidecar_dir_open(&d1, "RUN/A", "6.14.2", &err), 0);
	assert_string_equal(err.buf, "");
	p = xasprintf("%s/6.14.2-RUN_A", root);
	assert_string_equal(d1.path, p);
	free(p);
	assert_true(d1.lock_fd >= 0);
	assert_int_equal(d1.foreign, 0);
	p = sidecar_write(&d1, "steady/tiny-2llc", 1, "RUN/A", o, &err);
	assert_non_null(p);
	free(p);
	assert_int_equal(sidecar_dir_open(&d2, "RUNB", "6.14.2", &err), 0);
	p = sidecar_write(&d2, "steady/tiny-2llc", 1, "RUNB", o, &err);
	assert_non_null(p);
	free(p);
	l = listing(root);
	assert_string_equal(l, ".lock 6.14.2-RUNB 6.14.2-RUN_A 6.14.2-nogit");
	free(l);
	l = listing(old);
	assert_string_equal(l, "old.r1.x.ktstr.json");
	free(l);
	l = listing(d1.path);
	assert_string_equal(l, ".lock steady_tiny-2llc.r1.RUN_A.ktstr.json");
	free(l);
	/* the same run id again: never shared, never replaced */
	assert_int_equal(sidecar_dir_open(&d3, "RUNB", "6.14.2", &err), -1);
	assert_non_null(strstr(err.buf, "6.14.2-RUNB': already exists"));
	assert_null(d3.path);
	/* while a runner holds its directory, nobody can take it exclusively */
	{
		char *lp = path_join(d1.path, ".lock");
		int fd = open(lp, O_RDWR);

		assert_true(fd >= 0);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		sidecar_dir_close(&d1);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
		close(fd);
		free(lp);
	}
	sidecar_dir_close(&d2);
	assert_null(d2.path);

	json_decref(o);
	unsetenv("KTSTR_RUNS_ROOT");
	strbuf_release(&err);
	rm_rf(root);
	free(root);
	free(old);
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
	assert_int_equal(sidecar_dir_open(&d, "R", "6.14.2", &err), 0);
	assert_string_equal(d.path, sub);
	assert_true(d.lock_fd >= 0);
	/* the earlier sidecar is counted, so the runner can say so */
	assert_int_equal(d.foreign, 1);
	p = sidecar_write(&d, "a/b", 2, "R", o, &err);
	assert_non_null(p);
	free(p);
	/* the operator's directory: nothing cleared */
	l = listing(sub);
	assert_string_equal(l, ".lock a_b.r2.R.ktstr.json old.r1.x.ktstr.json");
	free(l);
	sidecar_dir_close(&d);
	unsetenv("KTSTR_SIDECAR_DIR");
	json_decref(o);
	strbuf_release(&err);
	rm_rf(dir);
	free(dir);
	free(sub);
}

/* Make path's mtime secs seconds ago. */
static void age(const char *dir, const char *name, long secs)
{
	char *p = path_join(dir, name);
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

static void test_temp_names(void **state)
{
	long pid;

	(void)state;
	assert_true(sidecar_is_temp_name(".a.r1.R.ktstr.json.tmp.1234.Xy9abc", &pid));
	assert_int_equal(pid, 1234);
	/* fsutil's atomic_file names: no pid */
	assert_true(sidecar_is_temp_name(".a.r1.R.ktstr.json.tmp.Xy9abc", &pid));
	assert_int_equal(pid, 0);
	assert_true(sidecar_is_temp_name(".a.ktstr.json.tmp.123456", &pid));
	assert_int_equal(pid, 0);	/* no '.' after the digits: mkstemp's */
	assert_false(sidecar_is_temp_name("a.ktstr.json.tmp.1.x", &pid));
	assert_false(sidecar_is_temp_name(".a.ktstr.json", &pid));
	assert_false(sidecar_is_temp_name(".a.ktstr.json.tmp.", &pid));
	assert_false(sidecar_is_temp_name(".lock", &pid));
}

/* Regression: a runner killed between write and link left its temp file
 * for ever.  Dead writers' and old ones go; live and young ones stay. */
static void test_sweep_temps(void **state)
{
	char *dir = tmpdir(), *live, *l;
	struct strvec gone = STRVEC_INIT;
	pid_t child;

	(void)state;
	/* a pid that surely is dead: a reaped child's */
	child = fork();
	if (!child)
		_exit(0);
	assert_true(child > 0);
	waitpid(child, NULL, 0);
	{
		char *dead = xasprintf(".a.r1.R.ktstr.json.tmp.%ld.AAAAAA", (long)child);

		put_file(dir, dead, "{");
		free(dead);
	}
	live = xasprintf(".b.r1.R.ktstr.json.tmp.%ld.BBBBBB", (long)getpid());
	put_file(dir, live, "{");
	put_file(dir, ".c.r1.R.ktstr.json.tmp.CCCCCC", "{");	/* young, no pid */
	put_file(dir, ".d.r1.R.ktstr.json.tmp.DDDDDD", "{");	/* old, no pid */
	age(dir, ".d.r1.R.ktstr.json.tmp.DDDDDD", SIDECAR_TEMP_MAX_AGE_SECS + 5);
	put_file(dir, ".e.r1.R.ktstr.json.tmp.1.EEEEEE", "{");	/* init: alive */
	age(dir, ".e.r1.R.ktstr.json.tmp.1.EEEEEE", SIDECAR_TEMP_MAX_AGE_SECS + 5);
	put_file(dir, "f.r1.R.ktstr.json", "{}");
	put_file(dir, ".notes.tmp.1.x", "");
	assert_int_equal(sidecar_sweep_temps(dir, &gone), 3);
	strvec_sort(&gone);
	assert_int_equal(gone.n, 3);
	assert_non_null(strstr(gone.v[0], "/.a.r1.R.ktstr.json.tmp."));
	assert_non_null(strstr(gone.v[1], "/.d.r1.R.ktstr.json.tmp.DDDDDD"));
	assert_non_null(strstr(gone.v[2], "/.e.r1.R.ktstr.json.tmp.1.EEEEEE"));
	l = listing(dir);
	{
		char *want = xasprintf("%s .c.r1.R.ktstr.json.tmp.CCCCCC .notes.tmp.1.x "
				       "f.r1.R.ktstr.json", live);

		assert_string_equal(l, want);
		free(want);
	}
	free(l);
	/* a new run sweeps every run directory under the root */
	{
		struct sidecar_dir d;
		struct strbuf err = STRBUF_INIT;
		char *other = path_join(dir, "sub");

		assert_int_equal(mkdir_p(other, 0755), 0);
		put_file(other, ".x.ktstr.json.tmp.XXXXXX", "{");
		age(other, ".x.ktstr.json.tmp.XXXXXX", SIDECAR_TEMP_MAX_AGE_SECS + 5);
		unset_all();
		setenv("KTSTR_RUNS_ROOT", dir, 1);
		assert_int_equal(sidecar_dir_open(&d, "R2", "k", &err), 0);
		assert_int_equal(d.swept, 1);
		l = listing(other);
		assert_string_equal(l, "");
		free(l);
		sidecar_dir_close(&d);
		unsetenv("KTSTR_RUNS_ROOT");
		strbuf_release(&err);
		free(other);
	}
	strvec_clear(&gone);
	free(live);
	rm_rf(dir);
	free(dir);
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
	/* an unwritable place: NULL and one line saying what to do */
	d.path = "/proc/nonexistent-dir";
	strbuf_reset(&err);
	assert_null(sidecar_write(&d, "x", 1, "R", o, &err));
	assert_string_equal(err.buf, "cannot write sidecar /proc/nonexistent-dir/x.r1.R.ktstr.json:"
			    " No such file or directory; set KTSTR_RUNS_ROOT (or"
			    " KTSTR_SIDECAR_DIR) to a writable directory");
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

/* A new-layout sidecar of run id, label and kernel, with a timestamp. */
#define RUN_DOC(id, label, kernel, sched, ts) "{\"type\":\"sidecar\",\"schema\":1," \
	"\"run_id\":\"" id "\",\"label\":\"" label "\",\"timestamp\":\"" ts "\"," \
	"\"suite\":\"demo\",\"test\":\"steady\",\"case\":\"steady/x\"," \
	"\"scheduler\":{\"name\":\"" sched "\"},\"kernel\":{\"label\":\"" kernel "\"}," \
	"\"project_commit\":\"nogit\",\"result\":\"pass\"}"

static void put_run(const char *root, const char *dir, const char *file, const char *text)
{
	char *d = path_join(root, dir);

	assert_int_equal(mkdir_p(d, 0755), 0);
	if (file)
		put_file(d, file, text);
	free(d);
}

/* Runs by id, by label (the newest of several), by directory name, by
 * path; a run over two kernels is two directories of one id. */
static void test_find_run(void **state)
{
	char *root = tmpdir(), *path, *note;
	struct strbuf err = STRBUF_INIT;
	struct sidecar_run *v;
	size_t n;

	(void)state;
	put_run(root, "6.14-R1", "a.ktstr.json", RUN_DOC("R1", "mine", "6.14", "scx_simple",
							 "2025-01-01T00:00:00Z"));
	put_run(root, "6.14-R1", "b.ktstr.json", RUN_DOC("R1", "mine", "6.14", "eevdf",
							 "2025-01-01T00:00:01Z"));
	put_run(root, "6.14-R2", "a.ktstr.json", RUN_DOC("R2", "mine", "6.14", "scx_simple",
							 "2025-01-02T00:00:00Z"));
	put_run(root, "6.14-R3", "a.ktstr.json", RUN_DOC("R3", "two", "6.14", "eevdf",
							 "2025-01-03T00:00:00Z"));
	put_run(root, "7.0-R3", "a.ktstr.json", RUN_DOC("R3", "two", "7.0", "eevdf",
							"2025-01-03T00:00:00Z"));
	/* the old layout: no label (the commit stands in) */
	put_run(root, "6.14-abc", "a.ktstr.json", GOOD(",\"timestamp\":\"2024-01-01T00:00:00Z\""));
	n = sidecar_list_runs(root, &v);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].name, "6.14-R3");	/* same date: by name */
	assert_string_equal(v[0].ref, "6.14-R3");	/* its id is shared */
	assert_string_equal(v[1].ref, "7.0-R3");
	assert_string_equal(v[2].ref, "R2");
	assert_string_equal(v[3].ref, "R1");
	assert_string_equal(v[3].schedulers, "eevdf+scx_simple");
	assert_string_equal(v[3].label, "mine");
	assert_string_equal(v[3].kernel, "6.14");
	assert_string_equal(v[3].id, "R1");
	assert_false(v[3].live);
	assert_string_equal(v[4].ref, "6.14-abc");
	assert_string_equal(v[4].label, "abc");
	assert_string_equal(v[4].id, "R");

	assert_int_equal(sidecar_find_run(v, n, "R1", &path, &note, &err), 3);
	assert_null(note);
	assert_int_equal(sidecar_find_run(v, n, "6.14-R1", &path, &note, &err), 3);
	assert_int_equal(sidecar_find_run(v, n, "R", &path, &note, &err), 4);
	assert_int_equal(sidecar_find_run(v, n, "abc", &path, &note, &err), 4);
	/* a label several runs have: the newest, with a note */
	assert_int_equal(sidecar_find_run(v, n, "mine", &path, &note, &err), 2);
	assert_non_null(note);
	assert_string_equal(note, "label 'mine' names 2 runs; using the newest, R2 (name"
			    " another by its id)");
	free(note);
	/* an id with two kernels: name one */
	assert_int_equal(sidecar_find_run(v, n, "R3", &path, &note, &err), -2);
	assert_string_equal(err.buf, "run id 'R3' names 2 directories (one per kernel:"
			    " 6.14-R3, 7.0-R3); name one of them");
	strbuf_reset(&err);
	assert_int_equal(sidecar_find_run(v, n, "nope", &path, &note, &err), -2);
	assert_string_equal(err.buf, "run 'nope' not found (no run directory, run id or"
			    " label of that name)");
	strbuf_reset(&err);
	/* a path */
	{
		char *p = path_join(root, "6.14-R2");

		assert_int_equal(sidecar_find_run(v, n, p, &path, &note, &err), -1);
		assert_string_equal(path, p);
		free(path);
		free(p);
	}
	assert_int_equal(sidecar_find_run(v, n, "/no/such/run", &path, &note, &err), -2);
	assert_non_null(strstr(err.buf, "no such directory"));
	sidecar_runs_free(v, n);

	/* the root a run directory itself: that run, named by its path */
	{
		char *p = path_join(root, "6.14-R2");

		n = sidecar_list_runs(p, &v);
		assert_int_equal(n, 1);
		assert_string_equal(v[0].ref, p);
		assert_string_equal(v[0].id, "R2");
		sidecar_runs_free(v, n);
		free(p);
	}
	strbuf_release(&err);
	rm_rf(root);
	free(root);
}

/* Three shards' roots of run id S (one case each) and another run: one
 * run of 3 sidecars, its directories every root's, its cases in file
 * name order as one directory's, a file in two roots read once. */
static void test_list_roots(void **state)
{
	char *r1 = tmpdir(), *r2 = tmpdir(), *r3 = tmpdir();
	const char *roots[] = { r1, r2, r3, "/nonexistent/root" };
	struct strvec dups = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct sidecar_set set = { 0 };
	struct sidecar_run *v;
	size_t n;

	(void)state;
	put_run(r1, "6.14-S", "b.ktstr.json", RUN_DOC("S", "fleet", "6.14", "eevdf",
						       "2025-01-01T00:00:02Z"));
	put_run(r2, "6.14-S", "c.ktstr.json", RUN_DOC("S", "fleet", "6.14", "scx_simple",
						       "2025-01-01T00:00:05Z"));
	put_run(r3, "6.14-S", "a.ktstr.json", RUN_DOC("S", "fleet", "6.14", "eevdf",
						       "2025-01-01T00:00:01Z"));
	put_run(r3, "6.14-S", "b.ktstr.json", RUN_DOC("S", "fleet", "6.14", "eevdf",
						       "2025-01-01T00:00:02Z"));
	put_run(r2, "6.14-T", "a.ktstr.json", RUN_DOC("T", "other", "6.14", "eevdf",
						       "2024-01-01T00:00:00Z"));
	n = sidecar_list_roots(roots, 4, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].ref, "S");
	/* b.ktstr.json in two roots counts once, as it is read once */
	assert_int_equal(v[0].tests, 3);
	assert_string_equal(v[0].date, "2025-01-01T00:00:05Z");
	assert_string_equal(v[0].schedulers, "eevdf+scx_simple");
	assert_int_equal(v[0].dirs.n, 3);
	assert_string_equal(v[1].ref, "T");
	assert_int_equal(v[1].dirs.n, 1);
	assert_int_equal(sidecar_load_dirs(&v[0].dirs, &set, &dups, &err), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(path_basename(set.v[0].path), "a.ktstr.json");
	assert_string_equal(path_basename(set.v[1].path), "b.ktstr.json");
	assert_string_equal(path_basename(set.v[2].path), "c.ktstr.json");
	assert_int_equal(dups.n, 1);
	assert_non_null(strstr(dups.v[0], "b.ktstr.json"));
	sidecar_set_release(&set);
	sidecar_runs_free(v, n);
	/* one root: as sidecar_list_runs */
	n = sidecar_list_roots(roots + 1, 1, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].ref, "S");
	assert_int_equal(v[0].tests, 1);
	sidecar_runs_free(v, n);
	strvec_clear(&dups);
	strbuf_release(&err);
	rm_rf(r1);
	rm_rf(r2);
	rm_rf(r3);
	free(r1);
	free(r2);
	free(r3);
}

/* clean --keep N: the N newest runs with sidecars stay, a running one is
 * never removed, empty runs go, stale temp files of kept runs go. */
static void test_clean(void **state)
{
	char *root = tmpdir(), *l, *dir;
	struct strvec runs = STRVEC_INIT, temps = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int fd;

	(void)state;
	put_run(root, "k-R1", "a.ktstr.json", RUN_DOC("R1", "x", "k", "eevdf",
						      "2025-01-01T00:00:00Z"));
	put_run(root, "k-R2", "a.ktstr.json", RUN_DOC("R2", "x", "k", "eevdf",
						      "2025-01-02T00:00:00Z"));
	put_run(root, "k-R3", "a.ktstr.json", RUN_DOC("R3", "x", "k", "eevdf",
						      "2025-01-03T00:00:00Z"));
	put_run(root, "k-R4", "a.ktstr.json", RUN_DOC("R4", "x", "k", "eevdf",
						      "2025-01-04T00:00:00Z"));
	put_run(root, "k-empty", NULL, NULL);
	put_run(root, ".trash.abcdef", "junk", "x");	/* a killed clean's */
	dir = path_join(root, "k-R4");
	put_file(dir, ".a.ktstr.json.tmp.XXXXXX", "{");
	age(dir, ".a.ktstr.json.tmp.XXXXXX", SIDECAR_TEMP_MAX_AGE_SECS + 5);
	free(dir);
	/* R1, the oldest, is being written by a runner */
	dir = path_join(root, "k-R1/.lock");
	fd = open(dir, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	free(dir);

	/* without --keep: only the empty run and the stale temp file */
	assert_int_equal(sidecar_clean(root, -1, &runs, &temps, &err), 0);
	assert_int_equal(runs.n, 1);
	assert_string_equal(runs.v[0], "k-empty");
	assert_int_equal(temps.n, 1);
	assert_non_null(strstr(temps.v[0], "k-R4/.a.ktstr.json.tmp.XXXXXX"));
	strvec_clear(&runs);
	strvec_clear(&temps);
	l = listing(root);
	assert_string_equal(l, ".lock k-R1 k-R2 k-R3 k-R4");
	free(l);
	/* --keep 1: R4 stays, R1 is running, R2 and R3 go */
	assert_int_equal(sidecar_clean(root, 1, &runs, &temps, &err), 0);
	strvec_sort(&runs);
	assert_int_equal(runs.n, 2);
	assert_string_equal(runs.v[0], "R2");
	assert_string_equal(runs.v[1], "R3");
	l = listing(root);
	assert_string_equal(l, ".lock k-R1 k-R4");
	free(l);
	strvec_clear(&runs);
	/* the runner is done: --keep 0 takes everything */
	close(fd);
	assert_int_equal(sidecar_clean(root, 0, &runs, &temps, &err), 0);
	assert_int_equal(runs.n, 2);
	l = listing(root);
	assert_string_equal(l, ".lock");
	free(l);
	strvec_clear(&runs);
	strvec_clear(&temps);
	assert_int_equal(sidecar_clean("/nonexistent/root", 0, &runs, &temps, &err), -1);
	assert_non_null(strstr(err.buf, "no such directory"));
	strbuf_release(&err);
	rm_rf(root);
	free(root);
}

/* The default label: the commit, else the schedulers of the cases. */
static void test_default_label(void **state)
{
	struct ktest t[2] = { 0 };
	struct gcase c[3] = { 0 };
	char *l;

	(void)state;
	t[0].scheduler = "/path/to/scx_simple";
	t[1].scheduler = NULL;
	c[0].test = &t[0];
	c[1].test = &t[1];
	c[2].test = &t[0];
	l = sidecar_default_label("abcdef123456", c, 3);
	assert_string_equal(l, "abcdef123456");
	free(l);
	l = sidecar_default_label("nogit", c, 3);
	assert_string_equal(l, "eevdf+scx_simple");
	free(l);
	l = sidecar_default_label("nogit", c, 1);
	assert_string_equal(l, "scx_simple");
	free(l);
	l = sidecar_default_label(NULL, c, 0);
	assert_string_equal(l, "nogit");
	free(l);
}

/* Under ktstr test --scheduler A --scheduler B the cases' schedulers are
 * the variants, not the test's "{scheduler}" placeholder. */
static void test_default_label_variants(void **state)
{
	struct ktest t = { .scheduler = "{scheduler}" };
	struct gauntlet_sched a = { .label = "eevdf" }, b = { .label = "scx_simple" };
	struct gcase c[2] = { { .test = &t, .sched = &a }, { .test = &t, .sched = &b } };
	char *l;

	(void)state;
	l = sidecar_default_label("nogit", c, 2);
	assert_string_equal(l, "eevdf+scx_simple");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_id),
		cmocka_unit_test(test_run_source_and_root),
		cmocka_unit_test(test_project_commit),
		cmocka_unit_test(test_host_context),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_dir_per_run),
		cmocka_unit_test(test_sidecar_dir_override),
		cmocka_unit_test(test_temp_names),
		cmocka_unit_test(test_sweep_temps),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_buf),
		cmocka_unit_test(test_list_runs),
		cmocka_unit_test(test_find_run),
		cmocka_unit_test(test_list_roots),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_default_label),
		cmocka_unit_test(test_default_label_variants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
