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

/* Map fds[i] (or, with fds NULL, paths[i]) back to back. */
static int open_common(struct guestmem *gm, const char *const *paths, const int *fds,
		       const uint64_t *sizes, size_t n, uint64_t below_4g, struct strbuf *err)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t *len = NULL;
	int *own = NULL;
	uint64_t total = 0, off;
	uint8_t *base = MAP_FAILED;
	size_t i;
	int rc = -1;

	memset(gm, 0, sizeof(*gm));
	if (n == 0) {
		strbuf_addstr(err, "guest memory: no memory backends");
		return -1;
	}
	len = calloc(n, sizeof(*len));
	own = malloc(n * sizeof(*own));
	if (!len || !own) {
		strbuf_addstr(err, "guest memory: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		own[i] = -1;
	for (i = 0; i < n; i++) {
		const char *what = fds ? "memory backend fd" : paths[i];
		struct stat st;
		int fd;

		if (fds) {
			fd = fds[i];
		} else {
			fd = own[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				strbuf_addf(err, "guest memory: cannot open %s: %s", paths[i],
					    strerror(errno));
				goto out;
			}
		}
		if (fstat(fd, &st) < 0) {
			strbuf_addf(err, "guest memory: cannot stat %s: %s", what, strerror(errno));
			goto out;
		}
		len[i] = sizes && sizes[i] ? sizes[i] : (uint64_t)st.st_size;
		if (len[i] == 0 || len[i] % (uint64_t)page) {
			strbuf_addf(err, "guest memory: %s: size %llu is not a positive multiple "
				    "of the page size", what, (unsigned long long)len[i]);
			goto out;
		}
		if ((uint64_t)st.st_size < len[i]) {
			strbuf_addf(err, "guest memory: %s has %llu bytes, less than its backend "
				    "size %llu", what, (unsigned long long)st.st_size,
				    (unsigned long long)len[i]);
			goto out;
		}
		if (total + len[i] < total) {
			strbuf_addstr(err, "guest memory: total size overflows");
			goto out;
		}
		total += len[i];
	}
	if (below_4g == GUESTMEM_BELOW_4G_AUTO)
		below_4g = guestmem_below_4g(total);
	if (below_4g > GUESTMEM_4G) {
		strbuf_addf(err, "guest memory: %llu bytes below 4 GiB cannot fit there",
			    (unsigned long long)below_4g);
		goto out;
	}
	/* Reserve the whole span, then lay each file over its part. */
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		strbuf_addf(err, "guest memory: cannot reserve %llu bytes: %s",
			    (unsigned long long)total, strerror(errno));
		goto out;
	}
	for (i = 0, off = 0; i < n; off += len[i], i++) {
		int fd = fds ? fds[i] : own[i];

		if (mmap(base + off, len[i], PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    MAP_FAILED) {
			strbuf_addf(err, "guest memory: cannot map %s: %s",
				    fds ? "memory backend fd" : paths[i], strerror(errno));
			goto out;
		}
	}
	gm->base = base;
	gm->total = total;
	gm->below_4g = below_4g < total ? below_4g : total;
	gm->map_len = total;
	base = MAP_FAILED;
	rc = 0;
out:
	if (base != MAP_FAILED)
		munmap(base, total);
	if (own)
		for (i = 0; i < n; i++)
			if (own[i] >= 0)
				close(own[i]);
	free(own);
	free(len);
	return rc;
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
