#include "guestmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
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
	free(gm->seg);
	memset(gm, 0, sizeof(*gm));
}

/* The RAM offset of guest-physical [gpa, gpa+len), or -1 when not all RAM. */
static int ram_offset(const struct guestmem *gm, uint64_t gpa, size_t len, uint64_t *off)
{
	if (!gm->pid)
		return -1;
	if (len == 0)
		len = 1;
	if (gpa < gm->below_4g) {
		if (len > gm->below_4g - gpa)
			return -1;
		*off = gpa;
		return 0;
	}
	if (gpa >= GUESTMEM_4G && gpa - GUESTMEM_4G < gm->total - gm->below_4g) {
		*off = gpa - GUESTMEM_4G + gm->below_4g;
		return len > gm->total - *off ? -1 : 0;
	}
	return -1;
}

bool guestmem_contains(const struct guestmem *gm, uint64_t gpa, size_t len)
{
	uint64_t off;

	return ram_offset(gm, gpa, len, &off) == 0;
}

/* RAM offsets [off, off+len) into buf: one remote piece per backend the
 * range touches (a range may span two nodes' backends). */
static int read_offsets(const struct guestmem *gm, uint64_t off, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote[8];
	unsigned long nr = 0;
	uint64_t at = off, left = len;
	ssize_t n;

	for (size_t i = 0; i < gm->nseg && left; i++) {
		const struct guestmem_seg *s = &gm->seg[i];
		uint64_t take;

		if (at < s->off || at >= s->off + s->len)
			continue;
		if (nr == sizeof(remote) / sizeof(remote[0]))
			return -1;
		take = s->off + s->len - at;
		if (take > left)
			take = left;
		remote[nr].iov_base = (void *)(uintptr_t)(s->hva + (at - s->off));
		remote[nr].iov_len = take;
		nr++;
		at += take;
		left -= take;
	}
	if (left)
		return -1;
	n = process_vm_readv(gm->pid, &local, 1, remote, nr, 0);
	return n == (ssize_t)len ? 0 : -1;
}

int guestmem_read(const struct guestmem *gm, uint64_t gpa, void *buf, size_t len)
{
	uint64_t off;

	if (ram_offset(gm, gpa, len, &off) < 0)
		return -1;
	if (len == 0)
		return 0;
	return read_offsets(gm, off, buf, len);
}

/* Read the first and last page of every backend: what fails here would
 * fail every sample. */
static int probe(const struct guestmem *gm, struct strbuf *err)
{
	long page = sysconf(_SC_PAGESIZE);
	char *buf = malloc((size_t)page);

	if (!buf) {
		strbuf_addstr(err, "guest memory: out of memory");
		return -1;
	}
	for (size_t i = 0; i < gm->nseg; i++) {
		const struct guestmem_seg *s = &gm->seg[i];
		uint64_t ends[2] = { s->off, s->off + s->len - (uint64_t)page };

		for (int e = 0; e < 2; e++) {
			errno = 0;
			if (read_offsets(gm, ends[e], buf, (size_t)page) == 0)
				continue;
			if (errno == EPERM || errno == EACCES)
				strbuf_addf(err, "guest memory: not allowed to read QEMU's memory "
					    "(pid %d): %s; the monitor reads it with "
					    "process_vm_readv, which needs ptrace access to QEMU "
					    "(kernel.yama.ptrace_scope 0 or 1, or CAP_SYS_PTRACE)",
					    (int)gm->pid, strerror(errno));
			else
				strbuf_addf(err, "guest memory: cannot read backend %zu of QEMU "
					    "(pid %d) at 0x%llx: %s", i, (int)gm->pid,
					    (unsigned long long)(s->hva + (ends[e] - s->off)),
					    errno ? strerror(errno) : "short read");
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

int guestmem_open(struct guestmem *gm, pid_t pid, const uint64_t *hvas,
		  const uint64_t *sizes, size_t n, uint64_t below_4g, struct strbuf *err)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t total = 0;

	memset(gm, 0, sizeof(*gm));
	if (n == 0 || pid <= 0) {
		strbuf_addstr(err, n ? "guest memory: no process" : "guest memory: no memory backends");
		return -1;
	}
	gm->seg = calloc(n, sizeof(*gm->seg));
	if (!gm->seg) {
		strbuf_addstr(err, "guest memory: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (sizes[i] == 0 || sizes[i] % (uint64_t)page) {
			strbuf_addf(err, "guest memory: backend %zu: size %llu is not a positive "
				    "multiple of the page size", i, (unsigned long long)sizes[i]);
			goto fail;
		}
		if (!hvas[i] || hvas[i] % (uint64_t)page) {
			strbuf_addf(err, "guest memory: backend %zu: address 0x%llx is not a "
				    "page address", i, (unsigned long long)hvas[i]);
			goto fail;
		}
		if (total + sizes[i] < total) {
			strbuf_addstr(err, "guest memory: total size overflows");
			goto fail;
		}
		gm->seg[i].off = total;
		gm->seg[i].len = sizes[i];
		gm->seg[i].hva = hvas[i];
		total += sizes[i];
	}
	if (below_4g == GUESTMEM_BELOW_4G_AUTO)
		below_4g = guestmem_below_4g(total);
	if (below_4g > GUESTMEM_4G) {
		strbuf_addf(err, "guest memory: %llu bytes below 4 GiB cannot fit there",
			    (unsigned long long)below_4g);
		goto fail;
	}
	gm->pid = pid;
	gm->nseg = n;
	gm->total = total;
	gm->below_4g = below_4g < total ? below_4g : total;
	if (probe(gm, err) < 0)
		goto fail;
	return 0;
fail:
	guestmem_close(gm);
	return -1;
}
