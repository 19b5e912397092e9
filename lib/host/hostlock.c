#include "hostlock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "hostllc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

bool hostlock_bypassed(void)
{
	return env_get("KTSTR_BYPASS_LLC_LOCKS") != NULL;
}

static void usable_set(cpu_set_t *set)
{
	if (sched_getaffinity(0, sizeof(*set), set) < 0)
		CPU_ZERO(set);
	if (!CPU_COUNT(set))
		CPU_SET(0, set);
}

unsigned hostlock_usable_cpus(void)
{
	cpu_set_t set;

	usable_set(&set);
	return (unsigned)CPU_COUNT(&set);
}

char *hostlock_dir(void)
{
	const char *base = env_get("KTSTR_LOCK_DIR");

	return path_join(base ? base : "/tmp", "ktstr-locks");
}

int hostlock_dir_check(struct strbuf *err)
{
	const char *base = env_get("KTSTR_LOCK_DIR"), *why = NULL;
	char *dir;

	if (hostlock_bypassed())
		return 0;
	/* Made when missing, but only inside an existing directory. */
	if (base && path_exists(base) && !is_directory(base)) {
		why = "not a directory";
	} else if (base && !path_exists(base)) {
		char *parent = path_dirname(base);

		if (!is_directory(parent))
			why = "its parent directory does not exist";
		free(parent);
	}
	if (why) {
		strbuf_addf(err, "KTSTR_LOCK_DIR=%s: %s; name a directory that every ktstr "
			    "run on this host shares, or unset it (default /tmp)", base, why);
		return -1;
	}
	dir = hostlock_dir();
	if (mkdir_p(dir, 0777) < 0) {
		strbuf_addf(err, "lock directory %s: %s; set KTSTR_LOCK_DIR to a writable "
			    "directory", dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

void hostlock_release(struct hostlock *h)
{
	unsigned i;

	for (i = 0; i < h->nfds; i++)
		close(h->fds[i]);	/* closing drops the flock */
	free(h->cpus);
	free(h->fds);
	memset(h, 0, sizeof(*h));
}

/* ---- reserving ---------------------------------------------------------- */

static int lock_file(const char *dir, const char *name, int how, struct strbuf *err)
{
	char *path = path_join(dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0) {
		strbuf_addf(err, "lock file %s: %s; set KTSTR_LOCK_DIR to a writable "
			    "directory", path, strerror(errno));
		free(path);
		return -2;
	}
	free(path);
	if (flock(fd, how | LOCK_NB) < 0) {
		close(fd);
		return -1;	/* busy */
	}
	return fd;
}

static void hold(struct hostlock *h, int fd)
{
	h->fds = xrealloc(h->fds, (h->nfds + 1) * sizeof(*h->fds));
	h->fds[h->nfds++] = fd;
}

struct llc_group {
	int id;			/* first CPU of the LLC */
	unsigned n, free;	/* usable CPUs in it; of those, not locked */
};

/* Best fit first: the smallest LLC that holds every slot alone, then the
 * rest largest first, so a VM spans as few LLCs as it can. */
static unsigned fit_slots;
static int by_fit(const void *a, const void *b)
{
	const struct llc_group *x = a, *y = b;
	bool fx = x->n >= fit_slots, fy = y->n >= fit_slots;

	if (fx != fy)
		return fx ? -1 : 1;
	if (x->n != y->n)
		return fx ? (x->n < y->n ? -1 : 1) : (x->n > y->n ? -1 : 1);
	return x->id - y->id;
}

/* The LLCs the usable CPUs are in, with how many of them each holds, in
 * the order to try them for slots CPUs. */
static struct llc_group *llc_groups(const cpu_set_t *usable, const int llc_of[CPU_SETSIZE],
				    unsigned slots, size_t *ng)
{
	struct llc_group *g = NULL;
	size_t i;

	*ng = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, usable))
			continue;
		for (i = 0; i < *ng && g[i].id != llc_of[cpu]; i++)
			;
		if (i == *ng) {
			g = xrealloc(g, (*ng + 1) * sizeof(*g));
			g[(*ng)++] = (struct llc_group){ .id = llc_of[cpu] };
		}
		g[i].n++;
	}
	fit_slots = slots;
	qsort(g, *ng, sizeof(*g), by_fit);
	return g;
}

/* What one attempt needs besides the holder. */
struct want {
	const char *dir;
	unsigned slots;
	bool whole_llcs;
	const cpu_set_t *usable;
	const int *llc_of;
};

/* Lock CPUs of LLC g (for whole_llcs, every one or none) until h holds
 * w->slots.  -1 when a lock file cannot be made (err set); else 0, with
 * what this LLC gave kept only when it gave something (all of it for
 * whole_llcs). */
static int take_llc(struct hostlock *h, const struct want *w, const struct llc_group *g,
		    struct strbuf *err)
{
	unsigned before = h->n, before_fds = h->nfds;
	char name[32];
	int fd;

	snprintf(name, sizeof(name), "llc-%d.lock", g->id);
	fd = lock_file(w->dir, name, w->whole_llcs ? LOCK_EX : LOCK_SH, err);
	if (fd == -2)
		return -1;
	if (fd < 0)
		return 0;	/* a performance-mode run owns this LLC */
	hold(h, fd);
	for (int cpu = 0; cpu < CPU_SETSIZE && (w->whole_llcs || h->n < w->slots); cpu++) {
		if (!CPU_ISSET(cpu, w->usable) || w->llc_of[cpu] != g->id)
			continue;
		snprintf(name, sizeof(name), "cpu-%d.lock", cpu);
		fd = lock_file(w->dir, name, LOCK_EX, err);
		if (fd == -2)
			return -1;
		if (fd < 0 && w->whole_llcs)
			break;	/* not whole: give this LLC back */
		if (fd < 0)
			continue;
		hold(h, fd);
		h->cpus[h->n++] = (unsigned)cpu;
		CPU_SET(cpu, &h->set);
	}
	if (h->n == before || (w->whole_llcs && h->n - before != g->n)) {
		/* Nothing (or not all of it) here: let the LLC go. */
		while (h->nfds > before_fds)
			close(h->fds[--h->nfds]);
		while (h->n > before)
			CPU_CLR(h->cpus[--h->n], &h->set);
	}
	return 0;
}

int hostlock_try_on(struct hostlock *h, unsigned slots, bool whole_llcs,
		    const cpu_set_t *usable, const int llc_of[CPU_SETSIZE],
		    struct strbuf *err)
{
	struct want w = { .slots = slots ? slots : 1, .whole_llcs = whole_llcs,
			  .usable = usable, .llc_of = llc_of };
	struct llc_group *g;
	size_t ng, i;
	char *dir;
	int rc = 0;

	memset(h, 0, sizeof(*h));
	CPU_ZERO(&h->set);
	if (hostlock_bypassed()) {
		h->set = *usable;
		return 1;
	}
	if (hostlock_dir_check(err) < 0)
		return -1;
	dir = hostlock_dir();
	w.dir = dir;
	g = llc_groups(usable, llc_of, w.slots, &ng);
	h->cpus = xcalloc(CPU_SETSIZE, sizeof(*h->cpus));
	for (i = 0; i < ng && h->n < w.slots && !rc; i++)
		rc = take_llc(h, &w, &g[i], err);
	free(g);
	free(dir);
	if (!rc && h->n >= w.slots)
		return 1;
	hostlock_release(h);
	return rc;
}

int hostlock_try(struct hostlock *h, unsigned slots, bool whole_llcs, struct strbuf *err)
{
	static int llc_of[CPU_SETSIZE];
	static bool read;
	cpu_set_t usable;

	usable_set(&usable);
	/* The host's cache layout does not change under a running runner. */
	if (!read) {
		hostllc_map(HOSTLLC_SYSFS, &usable, llc_of);
		read = true;
	}
	return hostlock_try_on(h, slots, whole_llcs, &usable, llc_of, err);
}
