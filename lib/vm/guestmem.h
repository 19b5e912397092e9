/* Read-only view of a running guest's RAM, for host-side introspection.
 *
 * QEMU is started with file-backed, share=on memory backends, one per NUMA
 * node.  Their sizes, in order, make one "RAM offset" space of `total`
 * bytes, which the q35 machine lays out in guest-physical space as
 *
 *   RAM offsets [0, below_4g)      at guest-physical 0
 *   RAM offsets [below_4g, total)  at guest-physical 4 GiB
 *
 * (the gap below 4 GiB is PCI/MMIO space).  All backends are mapped
 * PROT_READ, MAP_SHARED, back to back in one reservation, so a range that
 * spans two backends is still one contiguous host range.
 *
 * The guest writes this memory while we read it: readers copy what they
 * need and must treat every value as untrusted. */
#ifndef KTSTR_GUESTMEM_H
#define KTSTR_GUESTMEM_H

#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

#define GUESTMEM_4G		0x100000000ULL
/* Pass as below_4g to apply guestmem_below_4g() to the total size. */
#define GUESTMEM_BELOW_4G_AUTO	UINT64_MAX

struct guestmem {
	const uint8_t *base;	/* RAM offset 0; NULL when closed */
	uint64_t total;		/* bytes of RAM */
	uint64_t below_4g;	/* RAM offsets [0, below_4g) sit at GPA 0 */
	size_t map_len;		/* bytes reserved at base */
};

/* q35's split: all of RAM below 4 GiB when it fits under 0xb0000000,
 * otherwise the first 2 GiB low and the rest from 4 GiB. */
uint64_t guestmem_below_4g(uint64_t total);

/* Map the n backend files in order.  sizes[i] is the backend's size in
 * bytes (0 or sizes NULL: the file's size); a file shorter than its size
 * is an error (reading past its end would fault).  Returns 0 or -1 with
 * err set; gm is left closed on failure. */
int guestmem_open(struct guestmem *gm, const char *const *paths, const uint64_t *sizes,
		  size_t n, uint64_t below_4g, struct strbuf *err);
/* The same from open file descriptors (not consumed: the caller may close
 * them, and unlink the files, right after this returns). */
int guestmem_open_fds(struct guestmem *gm, const int *fds, const uint64_t *sizes, size_t n,
		      uint64_t below_4g, struct strbuf *err);
void guestmem_close(struct guestmem *gm);

/* Host pointer to guest-physical [gpa, gpa+len), or NULL when any of it
 * is outside RAM (beyond the end, in the hole below 4 GiB, or straddling
 * it).  len 0 is treated as 1. */
const void *guestmem_ptr(const struct guestmem *gm, uint64_t gpa, size_t len);
/* Copy guest-physical [gpa, gpa+len) into buf; 0 or -1 (out of RAM). */
int guestmem_read(const struct guestmem *gm, uint64_t gpa, void *buf, size_t len);
/* One past the highest guest-physical address backed by RAM. */
uint64_t guestmem_gpa_end(const struct guestmem *gm);

#endif
