/* Read-only view of a running guest's RAM, for host-side introspection.
 *
 * QEMU allocates guest RAM as ordinary anonymous memory, one backend per
 * NUMA node (on a host with transparent huge pages, in 2 MiB pages: a
 * shared tmpfs file in 4 KiB pages made every boot about half again as
 * slow under TCG).  We read it out of QEMU's address space with
 * process_vm_readv(2), at the addresses QEMU reports for its RAM blocks
 * (lib/vm/qmp.h).  The backends' sizes, in order, make one "RAM offset"
 * space of `total` bytes, which the q35 machine lays out in guest-physical
 * space as
 *
 *   RAM offsets [0, below_4g)      at guest-physical 0
 *   RAM offsets [below_4g, total)  at guest-physical 4 GiB
 *
 * (the gap below 4 GiB is PCI/MMIO space).
 *
 * The guest writes this memory while we read it: readers copy what they
 * need and must treat every value as untrusted. */
#ifndef KTSTR_GUESTMEM_H
#define KTSTR_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "strbuf.h"

#define GUESTMEM_4G		0x100000000ULL
/* Pass as below_4g to apply guestmem_below_4g() to the total size. */
#define GUESTMEM_BELOW_4G_AUTO	UINT64_MAX

/* One backend: RAM offsets [off, off+len) at address hva in the process. */
struct guestmem_seg {
	uint64_t off, len, hva;
};

struct guestmem {
	pid_t pid;		/* the process holding the RAM; 0 when closed */
	struct guestmem_seg *seg;
	size_t nseg;
	uint64_t total;		/* bytes of RAM */
	uint64_t below_4g;	/* RAM offsets [0, below_4g) sit at GPA 0 */
};

/* q35's split: all of RAM below 4 GiB when it fits under 0xb0000000,
 * otherwise the first 2 GiB low and the rest from 4 GiB. */
uint64_t guestmem_below_4g(uint64_t total);

/* The n backends of process pid: backend i is sizes[i] bytes (a positive
 * multiple of the page size) at hvas[i].  One page at each end of every
 * backend is read as a check, so a process we may not read (ptrace
 * rules) or a wrong address fails here, not at the first sample.
 * Returns 0 or -1 with err set; gm is left closed on failure. */
int guestmem_open(struct guestmem *gm, pid_t pid, const uint64_t *hvas,
		  const uint64_t *sizes, size_t n, uint64_t below_4g, struct strbuf *err);
void guestmem_close(struct guestmem *gm);

/* Whether guest-physical [gpa, gpa+len) is all RAM (not beyond the end,
 * in the hole below 4 GiB, or straddling it).  len 0 is treated as 1. */
bool guestmem_contains(const struct guestmem *gm, uint64_t gpa, size_t len);
/* Copy guest-physical [gpa, gpa+len) into buf; 0, or -1 when it is not
 * all RAM or the process could not be read (it exited, say). */
int guestmem_read(const struct guestmem *gm, uint64_t gpa, void *buf, size_t len);
/* One past the highest guest-physical address backed by RAM. */
uint64_t guestmem_gpa_end(const struct guestmem *gm);

#endif
