/* A scenario engine outside the VM, for tests of guest/ops.c, worker.c,
 * cgroupfs.c and scheduler.c.
 *
 * - The cgroup v2 mount is a temp directory (cgfs_set_mount).  A plain
 *   directory does not grow interface files on mkdir as cgroupfs does, so
 *   a test lays out the cgroups it uses beforehand (fe_cgroup); mkdir's
 *   EEXIST is accepted by the engine as for a cgroup that already exists.
 * - The agent port is a regular file: writes never block, and the test
 *   reads the records back from it (fe_records).
 * - SIGCHLD goes to a signalfd, as in the agent, so workers_stop and the
 *   scheduler's waits reap the test's children; SIGUSR1 has the engine's
 *   no-op handler.
 * - A tap replaces a control file by a FIFO whose reader thread keeps
 *   every write in order: what a regular file cannot show, since each
 *   write_control() overwrites the start of the last.
 * Tests run as root here: nothing may reach the real /sys/fs/cgroup, so
 * fe_init sets the mount before anything else. */
#ifndef KTSTR_TEST_FAKEENGINE_H
#define KTSTR_TEST_FAKEENGINE_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "engine.h"
#include "fsutil.h"
#include "jsonl.h"
#include "tmpdir.h"

#define FE_NBITS 64u

struct fakeengine {
	char dir[64];
	char mnt[128];			/* the fake cgroup v2 mount */
	struct agent ag;
	struct engine e;
	off_t port_off;			/* port bytes already returned */
};

/* A file (mode 0644) holding text; 0 or -1. */
static inline int fe_put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0)
		return -1;
	ret = write_all(fd, text, strlen(text));
	close(fd);
	return ret;
}

/* The whole of path, or "" when unreadable; caller frees. */
static inline char *fe_read(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_read_file(&sb, path);
	return strbuf_detach(&sb, NULL);
}

/* mnt/ktstr/rel (mnt/ktstr for ""), in one of 16 rotating buffers. */
static inline const char *fe_cg_path(const struct fakeengine *f, const char *rel)
{
	static char bufs[16][512];
	static unsigned n;
	char *b = bufs[n++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s%s%s", f->mnt, CG_ROOT_NAME, *rel ? "/" : "", rel);
	return b;
}

/* A cgroup directory as the kernel makes one (under the scenario root
 * unless name is ""), with effective as cpuset.cpus.effective. */
static inline int fe_cgroup(struct fakeengine *f, const char *name, const char *effective)
{
	static const char *const files[] = {
		"cgroup.procs", "cgroup.subtree_control", "cgroup.kill",
		"cpuset.cpus", "cpuset.mems",
	};
	char *dir = *name ? xasprintf("%s/%s/%s", f->mnt, CG_ROOT_NAME, name)
			  : xasprintf("%s/%s", f->mnt, CG_ROOT_NAME);
	char *eff = xasprintf("%s\n", effective);
	size_t i;
	int ret = mkdir_p(dir, 0755);

	for (i = 0; ret == 0 && i < sizeof(files) / sizeof(files[0]); i++)
		ret = fe_put(tmpdir_path(dir, files[i]), "");
	if (ret == 0)
		ret = fe_put(tmpdir_path(dir, "cpuset.cpus.effective"), eff);
	free(eff);
	free(dir);
	return ret;
}

static void fe_on_sigusr1(int sig)
{
	(void)sig;
}

/* An engine on topology topo ("nodes,llcs,cores,threads") with room for
 * nlocks cgroup locks; 0 or -1. */
static inline int fe_init(struct fakeengine *f, const char *name, const char *topo,
			  unsigned nlocks)
{
	struct strbuf err = STRBUF_INIT;
	struct engine *e = &f->e;

	struct sigaction sa = { .sa_handler = fe_on_sigusr1 };

	memset(f, 0, sizeof(*f));
	f->ag.port = f->ag.sigfd = -1;
	/* As scenario.c does before the first fork: workers inherit a stop
	 * signal that breaks sleeps (no SA_RESTART) and never kills. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	strbuf_init(&f->ag.outq, 0);
	if (tmpdir_create(f->dir, sizeof(f->dir), name) < 0)
		return -1;
	snprintf(f->mnt, sizeof(f->mnt), "%s/cgroup", f->dir);
	cgfs_set_mount(f->mnt);
	if (mkdir(f->mnt, 0755) < 0 ||
	    fe_put(tmpdir_path(f->mnt, "cgroup.subtree_control"), "") < 0)
		return -1;
	f->ag.port = open(tmpdir_path(f->dir, "port"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
	f->ag.sigfd = child_sigfd_setup();
	if (f->ag.port < 0 || f->ag.sigfd < 0)
		return -1;
	e->ag = &f->ag;
	e->kmsg = -1;
	e->worst_spread = e->worst_gap = NAN;
	if (topo_parse(topo, &e->topo, &err) < 0)
		return -1;
	strbuf_release(&err);
	e->ncpus = topo_cpus(&e->topo);
	e->nbits = FE_NBITS;
	e->nlocks = nlocks;
	e->ctl_size = sizeof(struct shm_ctl) + nlocks * sizeof(struct shm_lock);
	e->ctl = mmap(NULL, e->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (e->ctl == MAP_FAILED) {
		e->ctl = NULL;
		return -1;
	}
	return 0;
}

/* What scenario.c's cleanup does, but the fake tree goes with rm -rf. */
static inline void fe_fini(struct fakeengine *f)
{
	engine_release(&f->e, false);
	if (f->ag.port >= 0)
		close(f->ag.port);
	if (f->ag.sigfd >= 0)
		close(f->ag.sigfd);
	strbuf_release(&f->ag.outq);
	if (f->dir[0])
		tmpdir_remove(f->dir);
}

/* The records sent since the last call, as a JSON array. */
static inline json_t *fe_records(struct fakeengine *f)
{
	json_t *a = json_array();
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	char *line, *save = NULL;

	while ((n = pread(f->ag.port, buf, sizeof(buf), f->port_off)) > 0) {
		strbuf_add(&sb, buf, (size_t)n);
		f->port_off += n;
	}
	for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *rec = json_loads(line, 0, NULL);

		if (rec)
			json_array_append_new(a, rec);
	}
	strbuf_release(&sb);
	return a;
}

/* The nth (0-based) record of type in recs, or NULL. */
static inline json_t *fe_find(const json_t *recs, const char *type, unsigned nth)
{
	size_t i;
	json_t *r;

	json_array_foreach(recs, i, r) {
		const char *t = json_string_value(json_object_get(r, "type"));

		if (t && !strcmp(t, type) && nth-- == 0)
			return r;
	}
	return NULL;
}

static inline unsigned fe_count(const json_t *recs, const char *type)
{
	unsigned n = 0;

	while (fe_find(recs, type, n))
		n++;
	return n;
}

static inline const char *fe_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* ---- taps ---- */

struct tap {
	char path[512];
	pthread_t thread;
	pthread_mutex_t mu;
	char log[4096];
	size_t len;
	_Atomic int stop;
	bool running;
};

static void *tap_run(void *arg)
{
	struct tap *t = arg;

	for (;;) {
		/* Blocks until a writer opens the FIFO; EOF once it closes. */
		int fd = open(t->path, O_RDONLY | O_CLOEXEC);
		char buf[256];
		ssize_t n;

		if (fd < 0)
			return NULL;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			pthread_mutex_lock(&t->mu);
			if (t->len + (size_t)n < sizeof(t->log)) {
				memcpy(t->log + t->len, buf, (size_t)n);
				t->len += (size_t)n;
				t->log[t->len] = '\0';
			}
			pthread_mutex_unlock(&t->mu);
		}
		close(fd);
		if (atomic_load(&t->stop))
			return NULL;
	}
}

/* Replace path by a recording FIFO; 0 or -1. */
static inline int tap_start(struct tap *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	pthread_mutex_init(&t->mu, NULL);
	unlink(path);
	if (mkfifo(path, 0644) < 0 || pthread_create(&t->thread, NULL, tap_run, t) != 0)
		return -1;
	t->running = true;
	return 0;
}

/* Wait (at most 10 s) until the tap has recorded exactly want.  The
 * reader may lag the writer by a moment. */
static inline bool tap_saw(struct tap *t, const char *want)
{
	struct timespec ts = { 0, 5000000 };
	int i;

	bool same = false;

	for (i = 0; i < 2000 && !same; i++) {
		pthread_mutex_lock(&t->mu);
		same = !strcmp(t->log, want);
		pthread_mutex_unlock(&t->mu);
		if (!same)
			nanosleep(&ts, NULL);
	}
	return same;
}

/* What the tap has recorded so far; caller frees. */
static inline char *tap_text(struct tap *t)
{
	char *s;

	pthread_mutex_lock(&t->mu);
	s = xstrdup(t->log);
	pthread_mutex_unlock(&t->mu);
	return s;
}

static inline void tap_stop(struct tap *t)
{
	int fd;

	if (!t->running)
		return;
	atomic_store(&t->stop, 1);
	/* Release the reader from open(): our close is its EOF.  A
	 * non-blocking open fails while it is between two opens. */
	for (;;) {
		struct timespec ts = { 0, 1000000 };

		fd = open(t->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		if (pthread_tryjoin_np(t->thread, NULL) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_destroy(&t->mu);
	t->running = false;
}

#endif
