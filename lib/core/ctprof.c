/* ctprof capture: walk /proc/PID/task/TID for every thread and build the
 * capture document (see ctprof.h).
 *
 * Speed matters (a busy host has thousands of threads and the capture
 * should not disturb it), so files are opened relative to directory fds
 * and read into one reused buffer; the only per-thread allocations are the
 * JSON values themselves. */
#include "ctprof.h"
#include "ctprof_parse.h"
#include "ctprof_taskstats.h"
#include "diag.h"
#include "jsonl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct walk {
	struct strbuf buf;		/* contents of the file just read */
	long clk_tck;
	struct ctprof_taskstats ts;
	bool have_ts;
	char *cgmnt;			/* cgroup v2 mount point, or NULL */
	json_t *cg_whole;		/* path -> does it hold whole processes? */
	json_t *threads, *cgroups;
	long long n_procs, n_vanished;
};

/* What a process's threads share. */
struct proc {
	long pid;
	json_t *pcomm;
	/* Where its threads' cgroup comes from: each thread's own file, or
	 * the process's (cgroup set, or NULL without cgroup v2). */
	bool cg_per_thread;
	json_t *cgroup;
};

static bool gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

/* Read dirfd/name into w->buf.  0, or -1 with errno set.
 *
 * The per-thread files are seq_files generated whole by one show() call,
 * so a read that comes back short has everything: stopping there saves the
 * read that would return 0, a quarter of the syscalls of the walk. */
static int read_at(struct walk *w, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t room;
	ssize_t n;
	int err = 0;

	strbuf_reset(&w->buf);
	if (fd < 0)
		return -1;
	strbuf_grow(&w->buf, 16384);
	room = w->buf.alloc - 1;
	do
		n = read(fd, w->buf.buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = errno;
	} else {
		strbuf_setlen(&w->buf, (size_t)n);
		if ((size_t)n == room && strbuf_read_fd(&w->buf, fd) < 0)
			err = errno;
	}
	close(fd);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* A read of an optional file failed: has the thread gone, or does this
 * kernel (or our privilege) just not provide the file?  ENOENT means
 * either, so look at "stat", which every live thread has. */
static bool thread_gone(int tdir, int err)
{
	struct stat st;

	if (err == ESRCH)
		return true;
	if (err != ENOENT)
		return false;
	return fstatat(tdir, "stat", &st, 0) < 0;
}

/* Read an optional per-thread file and hand it to parse.  Returns -1 only
 * when the thread has gone. */
static int optional(struct walk *w, int tdir, const char *name,
		    int (*parse)(const char *, json_t *), json_t *t)
{
	if (read_at(w, tdir, name) < 0)
		return thread_gone(tdir, errno) ? -1 : 0;
	parse(w->buf.buf, t);
	return 0;
}

static int parse_cgroup_into(const char *text, json_t *t)
{
	char *path = ctprof_parse_cgroup(text);

	if (!path)
		return 0;
	json_set_bytes(t, "cgroup", path, strlen(path));
	free(path);
	return 1;
}

static int parse_schedstat_into(const char *text, json_t *t)
{
	return ctprof_parse_schedstat(text, t);
}

/* One thread, or NULL if it exited while we looked. */
static json_t *capture_thread(struct walk *w, int tdir, const struct proc *p, long tid)
{
	json_t *t;
	const char *cg;

	/* stat first: if it cannot be read the thread is gone (or we may not
	 * look at it at all), and nothing else is worth reading. */
	if (read_at(w, tdir, "stat") < 0)
		return NULL;
	t = json_object();
	json_set_int(t, "pid", p->pid);
	json_set_int(t, "tid", tid);
	json_object_set(t, "pcomm", p->pcomm);
	if (ctprof_parse_stat(w->buf.buf, w->clk_tck, t) < 0)
		goto gone;
	if (p->cgroup)
		json_object_set(t, "cgroup", p->cgroup);
	if ((p->cg_per_thread && optional(w, tdir, "cgroup", parse_cgroup_into, t) < 0) ||
	    optional(w, tdir, "status", ctprof_parse_status, t) < 0 ||
	    optional(w, tdir, "sched", ctprof_parse_sched, t) < 0 ||
	    optional(w, tdir, "schedstat", parse_schedstat_into, t) < 0 ||
	    optional(w, tdir, "io", ctprof_parse_io, t) < 0)
		goto gone;
	if (w->have_ts && ctprof_taskstats_query(&w->ts, (pid_t)tid, t) < 0 &&
	    w->ts.fd >= 0 && gone(errno))
		goto gone;
	cg = json_get_str(t, "cgroup");
	if (cg && !json_object_get(w->cgroups, cg))
		json_object_set_new(w->cgroups, cg, json_object());
	return t;
gone:
	json_decref(t);
	return NULL;
}

/* Trimmed first line of MNT/PATH/name equals want. */
static bool cgroup_file_is(const char *mnt, const char *path, const char *name, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	char *f = xasprintf("%s%s/%s", mnt, strcmp(path, "/") ? path : "", name);
	bool res = false;

	if (strbuf_read_file(&sb, f) == 0) {
		strbuf_trim(&sb);
		res = !strcmp(sb.buf, want);
	}
	strbuf_release(&sb);
	free(f);
	return res;
}

/* Whether the root cgroup has a threaded child (it can serve as a threaded
 * domain).  Unknown counts as yes. */
static bool root_has_threaded_child(const char *mnt)
{
	DIR *d = opendir(mnt);
	struct dirent *e;
	bool found = false;

	if (!d)
		return true;
	while (!found && (e = readdir(d))) {
		char *child;

		if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) || e->d_name[0] == '.')
			continue;
		child = xasprintf("/%s", e->d_name);
		found = cgroup_file_is(mnt, child, "cgroup.type", "threaded");
		free(child);
	}
	closedir(d);
	return found;
}

/* Must every thread of a process whose leader is in cgroup path be there
 * too?  Threads of one process can only be split across a threaded
 * subtree, so yes when path is a plain "domain" cgroup, or the root
 * without threaded children.  Then one read of PID/cgroup serves all its
 * threads, a sixth of the files of the walk.  Cached per path. */
static bool cgroup_holds_whole_processes(struct walk *w, const char *path)
{
	json_t *cached = json_object_get(w->cg_whole, path);
	bool whole;

	if (cached)
		return json_is_true(cached);
	if (!w->cgmnt)
		whole = false;
	else if (!strcmp(path, "/"))
		whole = !root_has_threaded_child(w->cgmnt);
	else
		whole = cgroup_file_is(w->cgmnt, path, "cgroup.type", "domain");
	json_object_set_new(w->cg_whole, path, json_boolean(whole));
	return whole;
}

/* Decide where p's threads get their cgroup from (see struct proc). */
static void process_cgroup(struct walk *w, int pdir, struct proc *p)
{
	char *path;

	p->cg_per_thread = true;
	if (read_at(w, pdir, "cgroup") < 0)
		return;
	path = ctprof_parse_cgroup(w->buf.buf);
	if (!path) {
		/* No cgroup v2 line for the process: none for its threads. */
		p->cg_per_thread = false;
		return;
	}
	if (cgroup_holds_whole_processes(w, path)) {
		p->cgroup = json_string_bytes(path, strlen(path));
		p->cg_per_thread = false;
	}
	free(path);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The process's name, from PID/comm (only its final newline dropped: a
 * comm may hold any other byte). */
static json_t *read_pcomm(struct walk *w, int pdir)
{
	if (read_at(w, pdir, "comm") < 0)
		return NULL;
	if (w->buf.len && w->buf.buf[w->buf.len - 1] == '\n')
		strbuf_setlen(&w->buf, w->buf.len - 1);
	return json_string_bytes(w->buf.buf, w->buf.len);
}

static void capture_process(struct walk *w, int procfd, const char *name)
{
	struct proc p = { .pid = strtol(name, NULL, 10) };
	int pdir, tasks;
	DIR *d;
	struct dirent *e;

	pdir = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0)
		return;
	p.pcomm = read_pcomm(w, pdir);
	if (p.pcomm)
		process_cgroup(w, pdir, &p);
	tasks = p.pcomm ? openat(pdir, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	close(pdir);
	if (tasks < 0 || !(d = fdopendir(tasks))) {
		if (tasks >= 0)
			close(tasks);
		goto out;
	}
	w->n_procs++;
	while ((e = readdir(d))) {
		int tdir;
		json_t *t;

		if (!all_digits(e->d_name))
			continue;
		tdir = openat(tasks, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tdir < 0) {
			w->n_vanished++;
			continue;
		}
		t = capture_thread(w, tdir, &p, strtol(e->d_name, NULL, 10));
		close(tdir);
		if (t)
			json_array_append_new(w->threads, t);
		else
			w->n_vanished++;
	}
	closedir(d);
out:
	json_decref(p.pcomm);
	json_decref(p.cgroup);
}

static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Delay accounting switch; absent sysctl (older kernels, where it was on
 * unless booted with nodelayacct) counts as on. */
static bool delayacct_on(const char *proc)
{
	char *p = xasprintf("%s/sys/kernel/task_delayacct", proc);
	struct strbuf sb = STRBUF_INIT;
	long long v = 1;

	if (strbuf_read_file(&sb, p) == 0)
		ctprof_parse_ll(sb.buf, &v);
	strbuf_release(&sb);
	free(p);
	return v != 0;
}

int ctprof_capture_with(const struct ctprof_capture_opts *o, json_t **out,
			struct strbuf *err)
{
	const char *proc = o && o->proc ? o->proc : "/proc";
	const char *sys = o && o->sys ? o->sys : "/sys";
	struct walk w = { .buf = STRBUF_INIT };
	struct strbuf why = STRBUF_INIT;
	long long t0_real = clock_ns(CLOCK_REALTIME), t0 = clock_ns(CLOCK_MONOTONIC);
	json_t *doc, *cap;
	struct dirent *e;
	DIR *d;

	d = opendir(proc);
	if (!d) {
		strbuf_addf(err, "cannot read %s: %s", proc, strerror(errno));
		return -1;
	}
	w.clk_tck = sysconf(_SC_CLK_TCK);
	if (w.clk_tck <= 0)
		w.clk_tck = 100;
	w.threads = json_array();
	w.cgroups = json_object();
	w.cg_whole = json_object();
	w.cgmnt = ctprof_cgroup2_mount(proc);
	w.ts.fd = -1;
	/* Without delay accounting taskstats only repeats schedstat (its CPU
	 * delay is sched_info's run_delay and pcount): not worth a netlink
	 * round trip per thread. */
	if (o && o->no_taskstats)
		strbuf_addstr(&why, "disabled by the caller");
	else if (!delayacct_on(proc))
		strbuf_addstr(&why, "delay accounting is off (kernel.task_delayacct=0); "
			      "the CPU delay is in run_delay_ns");
	else
		w.have_ts = ctprof_taskstats_open(&w.ts, true, &why) == 0;

	while ((e = readdir(d)))
		if (all_digits(e->d_name))
			capture_process(&w, dirfd(d), e->d_name);
	closedir(d);
	if (w.have_ts && w.ts.fd < 0) {
		/* The socket failed part way: later threads have no fields. */
		w.have_ts = false;
		strbuf_addstr(&why, "netlink socket failed during the capture");
	}
	if (w.have_ts)
		ctprof_taskstats_close(&w.ts);
	ctprof_cgroups_fill(w.cgroups, proc);

	doc = json_object();
	json_set_str(doc, "format", CTPROF_FORMAT);
	json_set_int(doc, "version", CTPROF_VERSION);
	cap = json_object();
	json_set_str(cap, "ktstr_version", KTSTR_VERSION);
	json_set_int(cap, "realtime_ns", t0_real);
	json_set_int(cap, "monotonic_ns", t0);
	json_set_int(cap, "processes", w.n_procs);
	json_set_int(cap, "threads", (long long)json_array_size(w.threads));
	json_set_int(cap, "vanished_threads", w.n_vanished);
	json_set_bool(cap, "taskstats", w.have_ts);
	if (!w.have_ts)
		json_set_str(cap, "taskstats_error", why.buf);
	json_object_set_new(doc, "capture", cap);
	json_object_set_new(doc, "host", ctprof_host_info(proc, sys));
	json_object_set_new(doc, "sched_ext", ctprof_sched_ext_info(sys));
	json_object_set_new(doc, "cgroups", w.cgroups);
	json_object_set_new(doc, "threads", w.threads);
	/* Everything but the encoding: what a caller waits for. */
	json_set_int(cap, "duration_ns", clock_ns(CLOCK_MONOTONIC) - t0);
	strbuf_release(&w.buf);
	strbuf_release(&why);
	json_decref(w.cg_whole);
	free(w.cgmnt);
	*out = doc;
	return 0;
}

int ctprof_capture(json_t **out, struct strbuf *err)
{
	return ctprof_capture_with(NULL, out, err);
}

void ctprof_encode(const json_t *snap, struct strbuf *out)
{
	/* A snapshot is one JSON line like any record; jsonl_encode's ten
	 * significant digits keep PSI averages as the kernel printed them
	 * ("3.11", not "3.1099999999999999") through load/save. */
	jsonl_encode(out, snap);
}

int ctprof_validate(const json_t *doc, struct strbuf *err)
{
	const char *format;
	json_t *v, *threads, *t;
	size_t i;

	if (!json_is_object(doc)) {
		strbuf_addstr(err, "not a ktstr-ctprof capture (not a JSON object)");
		return -1;
	}
	format = json_get_str(doc, "format");
	if (!format || strcmp(format, CTPROF_FORMAT)) {
		strbuf_addf(err, "not a ktstr-ctprof capture (no \"format\": \"%s\")", CTPROF_FORMAT);
		return -1;
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v)) {
		strbuf_addstr(err, "ktstr-ctprof capture without an integer \"version\"");
		return -1;
	}
	if (json_integer_value(v) != CTPROF_VERSION) {
		strbuf_addf(err, "ktstr-ctprof format version %lld; this ktstr reads version %d",
			    (long long)json_integer_value(v), CTPROF_VERSION);
		return -1;
	}
	threads = json_object_get(doc, "threads");
	if (!json_is_array(threads)) {
		strbuf_addstr(err, "ktstr-ctprof capture without a \"threads\" array");
		return -1;
	}
	json_array_foreach(threads, i, t) {
		if (!json_is_object(t) || !json_is_integer(json_object_get(t, "tid"))) {
			strbuf_addf(err, "ktstr-ctprof capture: thread #%zu is not an object "
				    "with a \"tid\"", i);
			return -1;
		}
	}
	v = json_object_get(doc, "cgroups");
	if (v && !json_is_object(v)) {
		strbuf_addstr(err, "ktstr-ctprof capture: \"cgroups\" is not an object");
		return -1;
	}
	v = json_object_get(doc, "host");
	if (v && !json_is_object(v)) {
		strbuf_addstr(err, "ktstr-ctprof capture: \"host\" is not an object");
		return -1;
	}
	return 0;
}
