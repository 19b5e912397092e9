#include "hostlock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"

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

unsigned hostlock_usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

char *hostlock_dir(void)
{
	const char *base = env_get("KTSTR_LOCK_DIR");

	return path_join(base ? base : "/tmp", "ktstr-locks");
}

void hostlock_release(struct hostlock *h)
{
	unsigned i;

	for (i = 0; i < h->n; i++)
		if (h->fds && h->fds[i] >= 0)
			close(h->fds[i]);	/* closing drops the flock */
	free(h->cpus);
	free(h->fds);
	memset(h, 0, sizeof(*h));
}

int hostlock_try(struct hostlock *h, unsigned slots, struct strbuf *err)
{
	cpu_set_t usable;
	char *dir;
	int cpu, rc = 0;

	memset(h, 0, sizeof(*h));
	if (sched_getaffinity(0, sizeof(usable), &usable) < 0)
		CPU_ZERO(&usable);
	if (!CPU_COUNT(&usable))
		CPU_SET(0, &usable);
	if (!slots)
		slots = 1;
	if (hostlock_bypassed()) {
		h->set = usable;
		return 1;
	}
	dir = hostlock_dir();
	if (mkdir_p(dir, 01777) < 0) {
		strbuf_addf(err, "lock directory %s: %s; set KTSTR_LOCK_DIR to a writable "
			    "directory", dir, strerror(errno));
		free(dir);
		return -1;
	}
	h->cpus = xcalloc(slots, sizeof(*h->cpus));
	h->fds = xcalloc(slots, sizeof(*h->fds));
	CPU_ZERO(&h->set);
	for (cpu = 0; cpu < CPU_SETSIZE && h->n < slots; cpu++) {
		char name[32];
		char *path;
		int fd;

		if (!CPU_ISSET(cpu, &usable))
			continue;
		snprintf(name, sizeof(name), "cpu-%d.lock", cpu);
		path = path_join(dir, name);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0) {
			strbuf_addf(err, "lock file %s: %s; set KTSTR_LOCK_DIR to a writable "
				    "directory", path, strerror(errno));
			free(path);
			rc = -1;
			break;
		}
		free(path);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;	/* busy: try the next CPU */
		}
		h->cpus[h->n] = (unsigned)cpu;
		h->fds[h->n++] = fd;
		CPU_SET(cpu, &h->set);
	}
	free(dir);
	if (!rc && h->n == slots)
		return 1;
	hostlock_release(h);
	return rc;
}
