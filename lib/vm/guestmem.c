#include "guestmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define Q35_LOWMEM_LIMIT	0xb0000000ULL
#define Q35_LOWMEM_SPLIT	0x80000000ULL

uint64_t guestmem_below_4g(uint64_t total)
{
	return total < Q35_LOWMEM_LIMIT ? total : Q35_LOWMEM_SPLIT;
}

uint64_t guestmem_gpa_end(const struct guestmem *gm)
{
	if (gm->total <= gm->below_4g)
		return gm->total;
	return GUESTMEM_4G + (gm->total - gm->below_4g);
}

void guestmem_close(struct guestmem *gm)
{
	if (gm->base && gm->map_len)
		munmap((void *)gm->base, gm->map_len);
	memset(gm, 0, sizeof(*gm));
}

/* A backend's mapped length: its given size (0: the file's), a positive
 * multiple of the page size that the file has room for. */
static int backend_len(int fd, const char *what, uint64_t size, uint64_t *len,
		       struct strbuf *err)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;

	if (fstat(fd, &st) < 0) {
		strbuf_addf(err, "guest memory: cannot stat %s: %s", what, strerror(errno));
		return -1;
	}
	*len = size ? size : (uint64_t)st.st_size;
	if (*len == 0 || *len % (uint64_t)page) {
		strbuf_addf(err, "guest memory: %s: size %llu is not a positive multiple "
			    "of the page size", what, (unsigned long long)*len);
		return -1;
	}
	if ((uint64_t)st.st_size < *len) {
		strbuf_addf(err, "guest memory: %s has %llu bytes, less than its backend "
			    "size %llu", what, (unsigned long long)st.st_size,
			    (unsigned long long)*len);
		return -1;
	}
	return 0;
}

/* Open (paths) or take (fds) every backend into fd[] and size it into
 * len[]; *total is their sum. */
static int size_backends(const char *const *paths, const int *fds, const uint64_t *sizes,
			 size_t n, int *fd, uint64_t *len, uint64_t *total,
			 struct strbuf *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *what = fds ? "memory backend fd" : paths[i];

		fd[i] = fds ? fds[i] : open(paths[i], O_RDONLY | O_CLOEXEC);
		if (!fds && fd[i] < 0) {
			strbuf_addf(err, "guest memory: cannot open %s: %s", paths[i],
				    strerror(errno));
			return -1;
		}
		if (backend_len(fd[i], what, sizes ? sizes[i] : 0, &len[i], err) < 0)
			return -1;
		if (*total + len[i] < *total) {
			strbuf_addstr(err, "guest memory: total size overflows");
			return -1;
		}
		*total += len[i];
	}
	return 0;
}

/* Reserve the whole span, then lay each backend over its part.  NULL on
 * failure, with nothing left mapped. */
static uint8_t *map_backends(const char *const *paths, const int *fds, const int *fd,
			     const uint64_t *len, size_t n, uint64_t total, struct strbuf *err)
{
	uint8_t *base = mmap(NULL, total, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t off = 0;

	if (base == MAP_FAILED) {
		strbuf_addf(err, "guest memory: cannot reserve %llu bytes: %s",
			    (unsigned long long)total, strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < n; off += len[i], i++) {
		if (mmap(base + off, len[i], PROT_READ, MAP_SHARED | MAP_FIXED, fd[i], 0) ==
		    MAP_FAILED) {
			strbuf_addf(err, "guest memory: cannot map %s: %s",
				    fds ? "memory backend fd" : paths[i], strerror(errno));
			munmap(base, total);
			return NULL;
		}
	}
	return base;
}

/* Map fds[i] (or, with fds NULL, paths[i]) back to back. */
static int open_common(struct guestmem *gm, const char *const *paths, const int *fds,
		       const uint64_t *sizes, size_t n, uint64_t below_4g, struct strbuf *err)
{
	uint64_t *len = NULL, total = 0;
	uint8_t *base = NULL;
	int *fd = NULL;
	size_t i;

	memset(gm, 0, sizeof(*gm));
	if (n == 0) {
		strbuf_addstr(err, "guest memory: no memory backends");
		return -1;
	}
	len = calloc(n, sizeof(*len));
	fd = malloc(n * sizeof(*fd));
	if (!len || !fd) {
		strbuf_addstr(err, "guest memory: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		fd[i] = -1;
	if (size_backends(paths, fds, sizes, n, fd, len, &total, err) < 0)
		goto out;
	if (below_4g == GUESTMEM_BELOW_4G_AUTO)
		below_4g = guestmem_below_4g(total);
	if (below_4g > GUESTMEM_4G) {
		strbuf_addf(err, "guest memory: %llu bytes below 4 GiB cannot fit there",
			    (unsigned long long)below_4g);
		goto out;
	}
	base = map_backends(paths, fds, fd, len, n, total, err);
	if (base) {
		gm->base = base;
		gm->total = total;
		gm->below_4g = below_4g < total ? below_4g : total;
		gm->map_len = total;
	}
out:
	/* The mappings hold the files; the fds we opened are done with. */
	for (i = 0; !fds && fd && i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	free(len);
	return base ? 0 : -1;
}

int guestmem_open(struct guestmem *gm, const char *const *paths, const uint64_t *sizes,
		  size_t n, uint64_t below_4g, struct strbuf *err)
{
	return open_common(gm, paths, NULL, sizes, n, below_4g, err);
}

int guestmem_open_fds(struct guestmem *gm, const int *fds, const uint64_t *sizes, size_t n,
		      uint64_t below_4g, struct strbuf *err)
{
	return open_common(gm, NULL, fds, sizes, n, below_4g, err);
}

const void *guestmem_ptr(const struct guestmem *gm, uint64_t gpa, size_t len)
{
	uint64_t off;

	if (!gm->base)
		return NULL;
	if (len == 0)
		len = 1;
	if (gpa < gm->below_4g) {
		if (len > gm->below_4g - gpa)
			return NULL;
		off = gpa;
	} else if (gpa >= GUESTMEM_4G && gpa - GUESTMEM_4G < gm->total - gm->below_4g) {
		off = gpa - GUESTMEM_4G + gm->below_4g;
		if (len > gm->total - off)
			return NULL;
	} else {
		return NULL;
	}
	return gm->base + off;
}

int guestmem_read(const struct guestmem *gm, uint64_t gpa, void *buf, size_t len)
{
	const void *p = guestmem_ptr(gm, gpa, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}
