/* Work types that exercise memory and the page cache: cache_pressure,
 * page_fault_churn and io_sync (also sequence's io phase).
 *
 * One iteration: cache_pressure, a full pass over its buffer;
 * page_fault_churn, one mmap/touch/munmap cycle; io_sync, one write plus
 * fdatasync.  /tmp is a tmpfs in the guest, so the I/O path is CPU work
 * in the kernel rather than device waits: time across it counts toward
 * gaps like any other running time. */
#include "engine.h"
#include "diag.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CACHE_LINE 64
#define TICK_BYTES 4096u

void work_cache_pressure(struct wctx *w)
{
	size_t size = (size_t)(w->spec->kib ? w->spec->kib : 4096) * 1024;
	volatile unsigned char *buf = xcalloc(size, 1);

	while (!w_stopping(w)) {
		size_t off;

		for (off = 0; off < size && !w_stopping(w); off += CACHE_LINE) {
			buf[off]++;
			if (off % TICK_BYTES == 0)
				w_tick(w);
		}
		w_iter(w);
	}
	free((void *)buf);
}

void work_page_fault_churn(struct wctx *w)
{
	size_t size = (size_t)(w->spec->kib ? w->spec->kib : 1024) * 1024;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	while (!w_stopping(w)) {
		unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t off;

		if (p == MAP_FAILED) {
			/* Out of memory for now: back off instead of spinning
			 * on a failing system call. */
			w_sleep(w, 1000000);
			continue;
		}
		for (off = 0; off < size; off += page) {
			p[off] = 1;
			w_tick(w);
		}
		munmap(p, size);
		w_iter(w);
	}
}

bool w_io_once(struct wctx *w, int *fd, char **buf, unsigned bytes)
{
	if (!*buf) {
		*buf = xmalloc(bytes ? bytes : 1);
		memset(*buf, 'k', bytes);
	}
	if (*fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/tmp/ktstr-io-%d", (int)getpid());
		*fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		/* Private and self-cleaning: nobody else needs the name. */
		unlink(path);
		if (*fd < 0)
			return false;
	}
	w_tick(w);
	if (pwrite(*fd, *buf, bytes, 0) < 0 || fdatasync(*fd) < 0)
		return false;
	w_tick(w);
	return true;
}

void work_io_sync(struct wctx *w)
{
	unsigned bytes = w->spec->bytes ? w->spec->bytes : 4096;
	char *buf = NULL;
	int fd = -1;

	while (!w_stopping(w)) {
		if (w_io_once(w, &fd, &buf, bytes))
			w_iter(w);
		else	/* /tmp unusable: stay alive, idle, and report 0 work */
			w_sleep(w, 100000000);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
}
