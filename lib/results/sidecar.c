/* Sidecars: writing one run's per-case documents and reading them back.
 * See sidecar.h for the layout, the lock protocol and the document. */
#include "sidecar.h"
#include "clock.h"
#include "diag.h"
#include "jsonl.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "run.h"
#include "sysctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ---- identity of a run -------------------------------------------------- */

char *sidecar_runs_root(void)
{
	const char *over = env_get("KTSTR_RUNS_ROOT");

	if (over)
		return path_expand_tilde(over);
	return ktstr_state_dir("runs");
}

char *sidecar_project_commit(const char *dir)
{
	const char *over = env_get("KTSTR_PROJECT_COMMIT");
	const char *rev[] = { "git", "-C", dir ? dir : ".", "rev-parse", "--short=12",
			      "HEAD", NULL };
	const char *st[] = { "git", "-C", dir ? dir : ".", "status", "--porcelain", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *ret;

	if (over)
		return xstrdup(over);
	/* git's complaints ("not a git repository") are captured and dropped:
	 * "nogit" says it. */
	if (run_capture(rev, &out, &err) != 0) {
		ret = xstrdup("nogit");
		goto out;
	}
	strbuf_trim(&out);
	if (!out.len) {
		ret = xstrdup("nogit");
		goto out;
	}
	ret = strbuf_detach(&out, NULL);
	strbuf_reset(&err);
	if (run_capture(st, &out, &err) == 0) {
		strbuf_trim(&out);
		if (out.len) {
			char *dirty = xasprintf("%s-dirty", ret);

			free(ret);
			ret = dirty;
		}
	}
out:
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

char *sidecar_new_run_id(void)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned int r;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* Two runners started in the same second still get different ids;
	 * the fallback only matters without getrandom(2). */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (unsigned int)getpid() * 2654435761u ^ (unsigned int)ts.tv_nsec;
	}
	return xasprintf("%s-%08x", stamp, r);
}

const char *sidecar_run_source(void)
{
	return env_get("KTSTR_CI") ? "ci" : "local";
}

/* ---- host context ------------------------------------------------------- */

/* Value of the first "key<blanks>:" line of a /proc file, trimmed. */
static char *proc_field(const char *path, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	size_t klen = strlen(key);
	char *line, *next, *ret = NULL;

	if (strbuf_read_file(&sb, path) < 0)
		goto out;
	for (line = sb.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen))
			continue;
		line += klen;
		line += strspn(line, " \t");
		if (*line != ':')
			continue;
		line++;
		line += strspn(line, " \t");
		ret = xstrdup(line);
		break;
	}
out:
	strbuf_release(&sb);
	return ret;
}

static long usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

json_t *sidecar_host_context(void)
{
	json_t *o = json_object();
	struct utsname u;
	char *model = proc_field("/proc/cpuinfo", "model name");
	char *mem = proc_field("/proc/meminfo", "MemTotal");
	long cpus = usable_cpus();

	json_object_set_new(o, "cpu_model", model ? json_string(model) : json_null());
	json_object_set_new(o, "cpus", cpus > 0 ? json_integer(cpus) : json_null());
	json_object_set_new(o, "mem_total_kib",
			    mem ? json_integer(strtoll(mem, NULL, 10)) : json_null());
	if (uname(&u) == 0) {
		json_object_set_new(o, "kernel_release", json_string(u.release));
		json_object_set_new(o, "arch", json_string(u.machine));
	} else {
		json_object_set_new(o, "kernel_release", json_null());
		json_object_set_new(o, "arch", json_null());
	}
	json_object_set_new(o, "sched_tunables", sysctl_json("/proc/sys/kernel", "sched_"));
	free(model);
	free(mem);
	return o;
}

/* ---- metrics of a verdict ---------------------------------------------- */

struct agg {
	double max, min, sum;
	bool any;
};

static void agg_add(struct agg *a, double x)
{
	if (isnan(x))
		return;
	if (!a->any || x > a->max)
		a->max = x;
	if (!a->any || x < a->min)
		a->min = x;
	a->sum = a->any ? a->sum + x : x;
	a->any = true;
}

static void put(json_t *o, const char *name, bool any, double x)
{
	if (!any || !isfinite(x))
		return;
	if (x == floor(x) && fabs(x) < 9e15)
		json_object_set_new(o, name, json_integer((json_int_t)x));
	else
		json_object_set_new(o, name, json_real(x));
}

json_t *sidecar_metrics(const struct verdict *v)
{
	struct agg spread = { 0 }, gap = { 0 }, migr = { 0 }, ratio = { 0 }, p99 = { 0 },
		   p50 = { 0 }, iter = { 0 }, rate = { 0 }, starved = { 0 }, iso = { 0 };
	json_t *o = json_object(), *val;
	const char *key;
	size_t i;

	for (i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		/* Background load is there to disturb, not to be measured. */
		if (g->background)
			continue;
		agg_add(&spread, g->spread_pct);
		agg_add(&gap, g->worst_gap_ms);
		agg_add(&migr, g->migrations);
		if (!isnan(g->migrations) && !isnan(g->iterations) && g->iterations > 0)
			agg_add(&ratio, g->migrations / g->iterations);
		agg_add(&p99, g->p99_wake_latency_us);
		agg_add(&p50, g->p50_wake_latency_us);
		agg_add(&iter, g->iterations);
		agg_add(&rate, g->iterations_per_sec);
		agg_add(&starved, g->starved_workers);
		agg_add(&iso, g->isolation_violations);
	}
	/* Without cgroup_stats, scenario_end's run-wide worst values stand in. */
	if (!spread.any)
		agg_add(&spread, v->end_worst_spread_pct);
	if (!gap.any)
		agg_add(&gap, v->end_worst_gap_ms);
	if (!migr.any)
		agg_add(&migr, v->end_migrations);

	put(o, "worst_spread_pct", spread.any, spread.max);
	put(o, "worst_gap_ms", gap.any, gap.max);
	put(o, "total_migrations", migr.any, migr.sum);
	put(o, "worst_migration_ratio", ratio.any, ratio.max);
	put(o, "worst_p99_wake_latency_us", p99.any, p99.max);
	put(o, "worst_median_wake_latency_us", p50.any, p50.max);
	put(o, "total_iterations", iter.any, iter.sum);
	put(o, "min_iterations_per_sec", rate.any, rate.min);
	put(o, "starved_workers", starved.any, starved.sum);
	put(o, "isolation_violations", iso.any, iso.sum);

	if (v->scx_events)
		json_object_foreach(v->scx_events, key, val) {
			const char *ev = key;
			char *name, *p;

			if (!json_is_number(val))
				continue;
			if (!strncasecmp(ev, "SCX_EV_", 7))
				ev += 7;
			name = xasprintf("scx_%s", ev);
			for (p = name; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			put(o, name, true, json_number_value(val));
			free(name);
		}
	/* The machine checks' values and the per-phase metrics, from the
	 * monitor's samples ("phase<N>.<metric>"); none without a monitor. */
	machine_metrics(&v->machine_result, o);
	return o;
}

/* ---- the run directory -------------------------------------------------- */

/* Characters kept in file and directory names; the rest become '_'. */
static char *safe_name(const char *s)
{
	char *r = xstrdup(s && *s ? s : "unknown"), *p;

	for (p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-+", *p))
			*p = '_';
	if (r[0] == '.')	/* never a hidden file, never ".." */
		r[0] = '_';
	return r;
}

char *sidecar_default_label(const char *commit, const struct gcase *cases, size_t n)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (commit && *commit && strcmp(commit, "nogit"))
		return xstrdup(commit);
	/* Outside a git tree the schedulers are what tells runs apart. */
	for (i = 0; i < n; i++) {
		/* A --scheduler variant's label, else the test's own scheduler. */
		const char *s = cases[i].test->scheduler;

		strvec_push_unique(&names, cases[i].sched ? cases[i].sched->label :
				   s ? path_basename(s) : "eevdf");
	}
	strvec_sort(&names);
	for (i = 0; i < names.n; i++)
		strbuf_addf(&sb, "%s%s", i ? "+" : "", names.v[i]);
	strvec_clear(&names);
	if (!sb.len)
		strbuf_addstr(&sb, "nogit");
	return strbuf_detach(&sb, NULL);
}

static bool is_sidecar_name(const char *name)
{
	size_t n = strlen(name), s = strlen(SIDECAR_SUFFIX);

	return name[0] != '.' && n > s && !strcmp(name + n - s, SIDECAR_SUFFIX);
}

bool sidecar_is_temp_name(const char *name, long *pid)
{
	static const char mark[] = SIDECAR_SUFFIX ".tmp.";
	const char *p = name[0] == '.' ? strstr(name, mark) : NULL;
	char *end;
	long v;

	*pid = 0;
	if (!p)
		return false;
	p += strlen(mark);
	/* ".{file}.tmp.{pid}.XXXXXX" (this writer), or ".{file}.tmp.XXXXXX"
	 * (fsutil's atomic_file, older runners): no pid to ask about. */
	if (*p >= '1' && *p <= '9') {
		errno = 0;
		v = strtol(p, &end, 10);
		if (!errno && *end == '.' && end[1] && v > 0)
			*pid = v;
	}
	return *p != '\0';
}

/* Is the writer with this pid gone?  EPERM: alive, someone else's. */
static bool pid_dead(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

size_t sidecar_sweep_temps(const char *dir, struct strvec *removed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		long pid;

		if (!sidecar_is_temp_name(e->d_name, &pid))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* A live writer's file is seconds old; the age rule covers
		 * names without a pid and pids from another pid namespace. */
		if (!pid_dead(pid) && now - st.st_mtime < SIDECAR_TEMP_MAX_AGE_SECS)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			continue;
		n++;
		if (removed)
			strvec_pushf(removed, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/* Sweep every run directory under root (and root itself: a
 * KTSTR_SIDECAR_DIR may be anywhere, it is swept on its own). */
static size_t sweep_root(const char *root, struct strvec *removed)
{
	DIR *d = opendir(root);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = path_join(root, e->d_name);
		if (is_directory(p))
			n += sidecar_sweep_temps(p, removed);
		free(p);
	}
	closedir(d);
	return n;
}

static int flock_retry(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

/* Open and flock {dir}/.lock with op; the fd, or -1 with err set. */
static int lock_dir(const char *dir, int op, struct strbuf *err)
{
	char *lock = path_join(dir, ".lock");
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		strbuf_addf(err, "'%s': cannot open the lock file: %s", lock, strerror(errno));
	} else if (flock_retry(fd, op) < 0) {
		strbuf_addf(err, "'%s': cannot lock: %s", lock, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(lock);
	return fd;
}

/* Is a runner holding run directory dir?  Only a lock file that exists
 * and cannot be taken exclusively says yes. */
static bool dir_live(const char *dir)
{
	char *lock = path_join(dir, ".lock");
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	bool live = false;

	if (fd >= 0) {
		if (flock_retry(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
			live = true;
		close(fd);
	}
	free(lock);
	return live;
}

static size_t count_sidecars(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += is_sidecar_name(e->d_name);
	closedir(d);
	return n;
}

bool sidecar_dir_has_sidecars(const char *dir)
{
	return count_sidecars(dir) > 0;
}

int sidecar_dir_open(struct sidecar_dir *d, const char *run_id, const char *kernel_label,
		     struct strbuf *err)
{
	const char *over = env_get("KTSTR_SIDECAR_DIR");
	char *root, *name;
	int root_fd;

	memset(d, 0, sizeof(*d));
	d->lock_fd = -1;
	if (over) {
		d->path = path_expand_tilde(over);
		if (mkdir_p(d->path, 0755) < 0) {
			strbuf_addf(err, "KTSTR_SIDECAR_DIR '%s': cannot create: %s",
				    d->path, strerror(errno));
			goto fail;
		}
		/* The operator's directory is shared on purpose: take the
		 * run lock shared, and sweep under it only what is stale. */
		if ((d->lock_fd = lock_dir(d->path, LOCK_SH, err)) < 0)
			goto fail;
		d->swept = sidecar_sweep_temps(d->path, NULL);
		d->foreign = count_sidecars(d->path);
		return 0;
	}
	root = sidecar_runs_root();
	if (!root) {
		strbuf_addstr(err, "no runs root: set HOME, XDG_STATE_HOME or KTSTR_RUNS_ROOT");
		return -1;
	}
	if (mkdir_p(root, 0755) < 0) {
		strbuf_addf(err, "runs root '%s': cannot create: %s", root, strerror(errno));
		free(root);
		return -1;
	}
	{
		char *k = safe_name(kernel_label), *id = safe_name(run_id);

		name = xasprintf("%s-%s", k, id);
		free(k);
		free(id);
	}
	d->path = path_join(root, name);
	free(name);
	/* Under the root lock: clean cannot remove the new directory before
	 * it is held, and sweeps do not race each other. */
	root_fd = lock_dir(root, LOCK_EX, err);
	if (root_fd >= 0)
		d->swept = sweep_root(root, NULL);
	free(root);
	if (root_fd < 0)
		goto fail;
	if (mkdir(d->path, 0755) < 0) {
		strbuf_addf(err, "run directory '%s': %s", d->path,
			    errno == EEXIST ? "already exists (run ids must be unique;"
					      " nothing was replaced)" : strerror(errno));
		close(root_fd);
		goto fail;
	}
	d->lock_fd = lock_dir(d->path, LOCK_SH, err);
	close(root_fd);
	if (d->lock_fd < 0)
		goto fail;
	return 0;
fail:
	sidecar_dir_close(d);
	return -1;
}

void sidecar_dir_close(struct sidecar_dir *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* drops the flock */
	d->lock_fd = -1;
	free(d->path);
	d->path = NULL;
}

/* The hint after "cannot write sidecar PATH: REASON". */
static const char *write_hint(int e)
{
	if (e == ENOSPC || e == EDQUOT)
		return "free space there, or set KTSTR_RUNS_ROOT (or KTSTR_SIDECAR_DIR)"
		       " to a directory on another filesystem";
	return "set KTSTR_RUNS_ROOT (or KTSTR_SIDECAR_DIR) to a writable directory";
}

char *sidecar_write(const struct sidecar_dir *d, const char *case_name, unsigned repeat,
		    const char *run_id, const json_t *doc, struct strbuf *err)
{
	char *stem = safe_name(case_name), *id = safe_name(run_id), *file, *path, *tmp;
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(10));
	int fd = -1, e;

	file = xasprintf("%s.r%u.%s%s", stem, repeat, id, SIDECAR_SUFFIX);
	path = path_join(d->path, file);
	/* The writer's pid in the temp name lets a sweep tell a dead
	 * writer's leftover from a file being written right now. */
	tmp = xasprintf("%s/.%s.tmp.%ld.XXXXXX", d->path, file, (long)getpid());
	free(stem);
	free(id);
	free(file);
	if (!text) {
		strbuf_addf(err, "cannot write sidecar %s: the document cannot be encoded"
			    " as JSON", path);
		goto fail;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		strbuf_addf(err, "cannot write sidecar %s: %s; %s", path, strerror(e),
			    write_hint(e));
		goto fail;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		e = errno;
		fd = -1;
		unlink(tmp);
		strbuf_addf(err, "cannot write sidecar %s: %s; %s", path, strerror(e),
			    write_hint(e));
		goto fail;
	}
	fd = -1;
	/* link(2), not rename(2): an existing file is never replaced. */
	if (link(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		if (e == EEXIST)
			strbuf_addf(err, "cannot write sidecar %s: it already exists (run ids"
				    " must be unique; the existing file was kept)", path);
		else
			strbuf_addf(err, "cannot write sidecar %s: %s; %s", path, strerror(e),
				    write_hint(e));
		goto fail;
	}
	unlink(tmp);		/* only the temp name goes */
	{
		int dfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(tmp);
	free(text);
	return path;
fail:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(text);
	free(path);
	return NULL;
}

/* ---- reading ------------------------------------------------------------ */

static const char *str_at(const json_t *o, const char *key, const char *sub)
{
	const json_t *v = json_object_get(o, key);

	if (sub)
		v = json_is_object(v) ? json_object_get(v, sub) : NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Check the document and fill the views; NULL, or why it is not a sidecar. */
static char *sidecar_view(struct sidecar *s)
{
	json_t *doc = s->doc, *type, *schema, *m, *sc, *wt;

	if (!json_is_object(doc))
		return xasprintf("not a sidecar: the document is %s, not an object",
				 json_kind_name(doc));
	type = json_object_get(doc, "type");
	if (!json_is_string(type) || strcmp(json_string_value(type), "sidecar"))
		return xstrdup("not a sidecar: \"type\" is not \"sidecar\"");
	schema = json_object_get(doc, "schema");
	if (!json_is_integer(schema))
		return xstrdup("not a sidecar: no integer \"schema\"");
	if (json_integer_value(schema) != SIDECAR_SCHEMA)
		return xasprintf("schema %lld, this ktstr reads schema %d",
				 (long long)json_integer_value(schema), SIDECAR_SCHEMA);
	m = json_object_get(doc, "metrics");
	if (m && !json_is_null(m) && !json_is_object(m))
		return xasprintf("\"metrics\" is %s, not an object", json_kind_name(m));
	sc = json_object_get(doc, "scenario");
	wt = json_is_object(sc) ? json_object_get(sc, "work_types") : NULL;
	if (wt && !json_is_null(wt) && !json_is_array(wt))
		return xasprintf("\"scenario.work_types\" is %s, not an array",
				 json_kind_name(wt));

	s->spare = json_pack("{s:{},s:[]}", "metrics", "work_types");
	s->metrics = json_is_object(m) ? m : json_object_get(s->spare, "metrics");
	s->work_types = json_is_array(wt) ? wt : json_object_get(s->spare, "work_types");
	s->run_id = str_at(doc, "run_id", NULL);
	s->run_source = str_at(doc, "run_source", NULL);
	s->timestamp = str_at(doc, "timestamp", NULL);
	s->suite = str_at(doc, "suite", NULL);
	s->test = str_at(doc, "test", NULL);
	s->preset = str_at(doc, "preset", NULL);
	s->case_name = str_at(doc, "case", NULL);
	s->scheduler = str_at(doc, "scheduler", "name");
	s->kernel = str_at(doc, "kernel", "label");
	s->commit = str_at(doc, "project_commit", NULL);
	s->result = str_at(doc, "result", NULL);
	s->topology = str_at(doc, "topology", "spec");
	s->arch = str_at(doc, "host", "arch");
	if (!*s->arch)
		s->arch = "x86_64";
	/* Older runners wrote no label: their run was named by the commit. */
	s->label = str_at(doc, "label", NULL);
	if (!*s->label)
		s->label = s->commit;
	s->accel = str_at(doc, "accel", NULL);
	return NULL;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct sidecar *)a)->path, ((const struct sidecar *)b)->path);
}

/* Add a parsed document (or, when doc is NULL, jerr's problem) to set. */
static void add_doc(const char *path, json_t *doc, const json_error_t *jerr,
		    struct sidecar_set *set)
{
	struct sidecar s = { .doc = doc };
	char *why;

	if (!s.doc) {
		if (jerr->line > 0)
			strvec_pushf(&set->bad, "%s: invalid JSON at line %d column %d: %s",
				     path, jerr->line, jerr->column, jerr->text);
		else
			strvec_pushf(&set->bad, "%s: %s", path, jerr->text);
		return;
	}
	if ((why = sidecar_view(&s))) {
		strvec_pushf(&set->bad, "%s: %s", path, why);
		free(why);
		json_decref(s.doc);
		return;
	}
	s.path = xstrdup(path);
	if (set->n == set->alloc) {
		set->alloc = set->alloc ? 2 * set->alloc : 16;
		set->v = xrealloc(set->v, set->alloc * sizeof(*set->v));
	}
	set->v[set->n++] = s;
}

/* Load one file into set (or its problem into set->bad). */
static void load_one(const char *path, struct sidecar_set *set)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	add_doc(path, doc, &jerr, set);
}

void sidecar_load_buf(const char *path, const char *buf, size_t len,
		      struct sidecar_set *set)
{
	json_error_t jerr;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	add_doc(path, doc, &jerr, set);
}

int sidecar_load_dir(const char *dir, struct sidecar_set *set, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct strvec names = STRVEC_INIT;
	size_t i;

	if (!d) {
		strbuf_addf(err, "'%s': cannot read the directory: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (is_sidecar_name(e->d_name))
			strvec_push(&names, e->d_name);
	closedir(d);
	strvec_sort(&names);
	for (i = 0; i < names.n; i++) {
		char *path = path_join(dir, names.v[i]);

		if (is_regular_file(path))
			load_one(path, set);
		else
			strvec_pushf(&set->bad, "%s: not a regular file", path);
		free(path);
	}
	strvec_clear(&names);
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), by_path);
	return 0;
}

void sidecar_set_release(struct sidecar_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].path);
		json_decref(set->v[i].doc);
		json_decref(set->v[i].spare);
	}
	free(set->v);
	set->v = NULL;
	set->n = set->alloc = 0;
	strvec_clear(&set->bad);
}

/* ---- listing runs ------------------------------------------------------- */

static char *mtime_iso(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return xstrdup("");
	return iso8601_utc(st.st_mtime);
}

static int newest_first(const void *a, const void *b)
{
	const struct sidecar_run *x = a, *y = b;
	int c = strcmp(y->date, x->date);

	return c ? c : strcmp(x->name, y->name);
}

/* Fill r from the sidecars of its directory. */
static void run_from_set(struct sidecar_run *r, const struct sidecar_set *set)
{
	const struct sidecar *newest = NULL;
	struct strvec scheds = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (!newest || strcmp(set->v[i].timestamp, newest->timestamp) > 0)
			newest = &set->v[i];
		if (*set->v[i].scheduler)
			strvec_push_unique(&scheds, set->v[i].scheduler);
	}
	strvec_sort(&scheds);
	for (i = 0; i < scheds.n; i++)
		strbuf_addf(&sb, "%s%s", i ? "+" : "", scheds.v[i]);
	r->schedulers = strbuf_detach(&sb, NULL);
	strvec_clear(&scheds);
	r->date = newest && *newest->timestamp ? xstrdup(newest->timestamp)
					       : mtime_iso(r->path);
	r->arch = xstrdup(newest ? newest->arch : "x86_64");
	r->id = xstrdup(newest ? newest->run_id : "");
	r->label = xstrdup(newest ? newest->label : "");
	r->kernel = xstrdup(newest ? newest->kernel : "");
	r->commit = xstrdup(newest ? newest->commit : "");
}

/* A run directory named {kernel}-{id} is called by its id when no other
 * directory has that id (a run over several kernels has one each). */
static void name_runs(struct sidecar_run *v, size_t n)
{
	size_t i, j, same;

	for (i = 0; i < n; i++) {
		size_t nl = strlen(v[i].name), il = strlen(v[i].id);
		bool own = il && nl > il && v[i].name[nl - il - 1] == '-' &&
			   !strcmp(v[i].name + nl - il, v[i].id);

		for (j = same = 0; own && j < n; j++)
			same += !strcmp(v[j].id, v[i].id);
		v[i].ref = xstrdup(own && same == 1 ? v[i].id : v[i].name);
	}
}

/* One run directory, or false when path is not one. */
static bool load_run(const char *path, const char *name, struct sidecar_run *r)
{
	struct sidecar_set set = { 0 };
	struct strbuf err = STRBUF_INIT;

	if (!is_directory(path) || sidecar_load_dir(path, &set, &err) < 0) {
		strbuf_release(&err);
		return false;
	}
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->path = xstrdup(path);
	r->tests = set.n + set.bad.n;	/* every sidecar file, readable or not */
	r->live = dir_live(path);
	run_from_set(r, &set);
	sidecar_set_release(&set);
	strbuf_release(&err);
	return true;
}

size_t sidecar_list_runs(const char *root, struct sidecar_run **out)
{
	DIR *d = opendir(root);
	struct dirent *e;
	struct sidecar_run *v = NULL;
	size_t n = 0, alloc = 0;

	*out = NULL;
	if (!d)
		return 0;
	/* Pointed at a run directory itself: that run, named by its path. */
	if (sidecar_dir_has_sidecars(root)) {
		closedir(d);
		v = xcalloc(1, sizeof(*v));
		if (!load_run(root, path_basename(root), v)) {
			free(v);
			return 0;
		}
		v->ref = xstrdup(root);
		*out = v;
		return 1;
	}
	while ((e = readdir(d))) {
		char *path;

		if (e->d_name[0] == '.')
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		path = path_join(root, e->d_name);
		n += load_run(path, e->d_name, &v[n]);
		free(path);
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), newest_first);
	name_runs(v, n);
	*out = v;
	return n;
}

void sidecar_runs_free(struct sidecar_run *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].ref);
		free(v[i].id);
		free(v[i].label);
		free(v[i].kernel);
		free(v[i].commit);
		free(v[i].schedulers);
		free(v[i].date);
		free(v[i].arch);
	}
	free(v);
}

long sidecar_find_run(const struct sidecar_run *v, size_t n, const char *arg,
		      char **path, char **note, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, hits = 0;
	long first = -1;

	*path = NULL;
	*note = NULL;
	if (!*arg) {
		strbuf_addstr(err, "empty run name");
		return -2;
	}
	if (strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, "..")) {
		if (is_directory(arg)) {
			*path = xstrdup(arg);
			return -1;
		}
		strbuf_addf(err, "run '%s' not found (no such directory)", arg);
		return -2;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, arg) || !strcmp(v[i].ref, arg))
			return (long)i;
	/* A run id names each of its kernels' directories. */
	for (i = 0; i < n; i++)
		if (*v[i].id && !strcmp(v[i].id, arg)) {
			strbuf_addf(&sb, "%s%s", hits ? ", " : "", v[i].name);
			if (!hits++)
				first = (long)i;
		}
	if (hits == 1)
		goto found;
	if (hits > 1) {
		strbuf_addf(err, "run id '%s' names %zu directories (one per kernel: %s);"
			    " name one of them", arg, hits, sb.buf);
		strbuf_release(&sb);
		return -2;
	}
	/* Labels repeat (the same commit tested twice): the newest wins. */
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].label, arg)) {
			if (!hits++)
				first = (long)i;
		}
	if (hits > 1)
		*note = xasprintf("label '%s' names %zu runs; using the newest, %s (name"
				  " another by its id)", arg, hits, v[first].ref);
	if (hits)
		goto found;
	/* A directory in the current one, as before runs had ids. */
	if (is_directory(arg)) {
		*path = xstrdup(arg);
		strbuf_release(&sb);
		return -1;
	}
	strbuf_addf(err, "run '%s' not found (no run directory, run id or label of that"
		    " name)", arg);
	strbuf_release(&sb);
	return -2;
found:
	strbuf_release(&sb);
	return first;
}

/* Move dir out of sight, then delete it: a listing never sees half a
 * run.  0, or -1 (left in place). */
static int remove_run(const char *root, const char *dir)
{
	char *trash = xasprintf("%s/.trash.XXXXXX", root);
	int rc = -1;

	if (mkdtemp(trash) && rename(dir, trash) == 0) {
		rc = 0;
		rm_rf(trash);
	} else {
		rmdir(trash);
	}
	free(trash);
	return rc;
}

int sidecar_clean(const char *root, long keep, struct strvec *runs, struct strvec *temps,
		  struct strbuf *err)
{
	struct sidecar_run *v;
	size_t n, i, kept = 0;
	int fd;

	if (!is_directory(root)) {
		strbuf_addf(err, "runs root '%s': no such directory", root);
		return -1;
	}
	fd = lock_dir(root, LOCK_EX, err);
	if (fd < 0)
		return -1;
	n = sidecar_list_runs(root, &v);
	/* v is newest first: the first keep runs with sidecars stay. */
	for (i = 0; i < n; i++) {
		bool empty = v[i].tests == 0;

		if (v[i].live) {
			kept += !empty;
			sidecar_sweep_temps(v[i].path, temps);
			continue;
		}
		if (!empty && (keep < 0 || kept < (size_t)keep)) {
			kept++;
			sidecar_sweep_temps(v[i].path, temps);
			continue;
		}
		if (remove_run(root, v[i].path) == 0)
			strvec_push(runs, v[i].ref);
	}
	/* Trash a killed clean left behind. */
	{
		DIR *d = opendir(root);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, ".trash.", 7)) {
				char *p = path_join(root, e->d_name);

				rm_rf(p);
				free(p);
			}
		if (d)
			closedir(d);
	}
	sidecar_runs_free(v, n);
	close(fd);
	return 0;
}
