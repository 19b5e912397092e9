#include "hostlock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"

#include <dirent.h>
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

void hostlock_release(struct hostlock *h)
{
	unsigned i;

	for (i = 0; i < h->nfds; i++)
		close(h->fds[i]);	/* closing drops the flock */
	free(h->cpus);
	free(h->fds);
	memset(h, 0, sizeof(*h));
}

/* ---- host LLCs ---------------------------------------------------------- */

/* First CPU of a cpulist such as "4-7,12"; -1 when unreadable. */
static int first_cpu_of(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int cpu = -1;

	if (strbuf_read_file(&sb, path) == 0 && sb.len && sb.buf[0] >= '0' && sb.buf[0] <= '9')
		cpu = atoi(sb.buf);
	strbuf_release(&sb);
	return cpu;
}

/* The first CPU sharing cpu's highest-level cache, or -1. */
static int llc_of_cpu(const char *dir, int cpu)
{
	char *cache = xasprintf("%s/cpu%d/cache", dir, cpu);
	DIR *d = opendir(cache);
	struct dirent *de;
	int best_level = -1, llc = -1;

	while (d && (de = readdir(d))) {
		char *lvl_path, *list_path;
		struct strbuf lvl = STRBUF_INIT;
		int level, first;

		if (strncmp(de->d_name, "index", 5))
			continue;
		lvl_path = xasprintf("%s/%s/level", cache, de->d_name);
		list_path = xasprintf("%s/%s/shared_cpu_list", cache, de->d_name);
		if (strbuf_read_file(&lvl, lvl_path) == 0 &&
		    (level = atoi(lvl.buf)) > best_level &&
		    (first = first_cpu_of(list_path)) >= 0) {
			best_level = level;
			llc = first;
		}
		strbuf_release(&lvl);
		free(lvl_path);
		free(list_path);
	}
	if (d)
		closedir(d);
	free(cache);
	return llc;
}

void hostlock_read_llcs(const char *sysfs_cpu_dir, const cpu_set_t *usable,
			int llc_of[CPU_SETSIZE])
{
	int cpu, first = -1;
	bool known = true;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		llc_of[cpu] = -1;
		if (!CPU_ISSET(cpu, usable))
			continue;
		if (first < 0)
			first = cpu;
		llc_of[cpu] = llc_of_cpu(sysfs_cpu_dir, cpu);
		if (llc_of[cpu] < 0)
			known = false;
	}
	/* Partial information is no information: one LLC for all. */
	for (cpu = 0; !known && cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, usable))
			llc_of[cpu] = first;
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

int hostlock_try_on(struct hostlock *h, unsigned slots, bool whole_llcs,
		    const cpu_set_t *usable, const int llc_of[CPU_SETSIZE],
		    struct strbuf *err)
{
	struct llc_group *g = NULL;
	size_t ng = 0, i;
	char *dir;
	int cpu, rc = 0;

	memset(h, 0, sizeof(*h));
	CPU_ZERO(&h->set);
	if (!slots)
		slots = 1;
	if (hostlock_bypassed()) {
		h->set = *usable;
		return 1;
	}
	dir = hostlock_dir();
	if (mkdir_p(dir, 0777) < 0) {
		strbuf_addf(err, "lock directory %s: %s; set KTSTR_LOCK_DIR to a writable "
			    "directory", dir, strerror(errno));
		free(dir);
		return -1;
	}
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, usable))
			continue;
		for (i = 0; i < ng && g[i].id != llc_of[cpu]; i++)
			;
		if (i == ng) {
			g = xrealloc(g, (ng + 1) * sizeof(*g));
			g[ng++] = (struct llc_group){ .id = llc_of[cpu] };
		}
		g[i].n++;
	}
	fit_slots = slots;
	qsort(g, ng, sizeof(*g), by_fit);

	h->cpus = xcalloc(CPU_SETSIZE, sizeof(*h->cpus));
	for (i = 0; i < ng && h->n < slots && !rc; i++) {
		char name[32];
		unsigned before = h->n, before_fds = h->nfds;
		int lfd;

		snprintf(name, sizeof(name), "llc-%d.lock", g[i].id);
		lfd = lock_file(dir, name, whole_llcs ? LOCK_EX : LOCK_SH, err);
		if (lfd == -2) {
			rc = -1;
			break;
		}
		if (lfd < 0)
			continue;	/* a performance-mode run owns this LLC */
		hold(h, lfd);
		for (cpu = 0; cpu < CPU_SETSIZE && (whole_llcs || h->n < slots); cpu++) {
			int fd;

			if (!CPU_ISSET(cpu, usable) || llc_of[cpu] != g[i].id)
				continue;
			snprintf(name, sizeof(name), "cpu-%d.lock", cpu);
			fd = lock_file(dir, name, LOCK_EX, err);
			if (fd == -2) {
				rc = -1;
				break;
			}
			if (fd < 0) {
				if (whole_llcs)
					break;	/* not whole: give this LLC back */
				continue;
			}
			hold(h, fd);
			h->cpus[h->n++] = (unsigned)cpu;
			CPU_SET(cpu, &h->set);
		}
		if (!rc && (h->n == before || (whole_llcs && h->n - before != g[i].n))) {
			/* Nothing (or not all of it) here: let the LLC go. */
			while (h->nfds > before_fds)
				close(h->fds[--h->nfds]);
			while (h->n > before)
				CPU_CLR(h->cpus[--h->n], &h->set);
		}
	}
	free(g);
	free(dir);
	if (!rc && h->n >= slots)
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
		hostlock_read_llcs("/sys/devices/system/cpu", &usable, llc_of);
		read = true;
	}
	return hostlock_try_on(h, slots, whole_llcs, &usable, llc_of, err);
}
