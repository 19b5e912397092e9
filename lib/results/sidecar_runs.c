/* Sidecars on disk: the runs root's run directories, their locks and
 * temp files, writing a document into place, listing, finding and
 * cleaning runs.  See sidecar.h for the layout and the lock protocol. */
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
		n += sidecar_is_name(e->d_name);
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

/* ---- listing runs ------------------------------------------------------- */

static char *mtime_iso(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return xstrdup("");
	return iso8601_utc(st.st_mtime);
}

int sidecar_run_newest_first(const void *a, const void *b)
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
void sidecar_name_runs(struct sidecar_run *v, size_t n)
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
	strvec_push(&r->dirs, path);
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
		qsort(v, n, sizeof(*v), sidecar_run_newest_first);
	sidecar_name_runs(v, n);
	*out = v;
	return n;
}

void sidecar_run_release(struct sidecar_run *r)
{
	free(r->name);
	free(r->path);
	free(r->ref);
	free(r->id);
	free(r->label);
	free(r->kernel);
	free(r->commit);
	free(r->schedulers);
	free(r->date);
	free(r->arch);
	strvec_clear(&r->dirs);
}

void sidecar_runs_free(struct sidecar_run *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sidecar_run_release(&v[i]);
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

int sidecar_label_check(const char *label, struct strbuf *err)
{
	if (!*label || strchr(label, '\n')) {
		strbuf_addstr(err, "expected a non-empty one-line name");
		return -1;
	}
	if (strchr(label, '/') || !strcmp(label, ".") || !strcmp(label, "..")) {
		strbuf_addstr(err, "ktstr-stats takes a name with '/' (or . and ..) for a "
			      "path and could never find the run by it; use another "
			      "character, e.g. '-'");
		return -1;
	}
	return 0;
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
