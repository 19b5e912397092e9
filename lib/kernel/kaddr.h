/* x86-64 kernel virtual addresses -> guest-physical, for reading a running
 * guest kernel's memory from the host (lib/vm/guestmem.h).
 *
 * Three kinds of address:
 *   - the kernel image map, [__START_KERNEL_map, _text + 256 MiB):
 *       PA = VA - __START_KERNEL_map + phys_base;
 *   - the direct map, [page_offset_base, +end of RAM):
 *       PA = VA - page_offset_base;
 *   - anything else (vmalloc, dynamic per-CPU chunks, modules): a walk of
 *     the kernel page tables rooted at init_top_pgt, 4 or 5 levels.
 * The depth is found at init by walking a known mapping (_text must land on
 * its image-map PA) with each depth.
 *
 * Walk results are cached per page until kaddr_flush(): call it once per
 * sample so a remapped vmalloc page is never read through a stale entry. */
#ifndef KTSTR_KADDR_H
#define KTSTR_KADDR_H

#include <stddef.h>
#include <stdint.h>
#include "guestmem.h"
#include "strbuf.h"

#define KADDR_START_KERNEL_MAP	0xffffffff80000000ULL
#define KADDR_IMAGE_MAP_SIZE	0x40000000ULL	/* KERNEL_IMAGE_SIZE with KASLR */
/* The image-map arithmetic is used from __START_KERNEL_map to this far
 * past _text (a kernel image is far smaller), and never into the module
 * area, which starts at +512 MiB without KASLR. */
#define KADDR_IMAGE_SPAN	0x10000000ULL
#define KADDR_CACHE		16

struct kaddr_config {
	uint64_t text;			/* VA of _text */
	uint64_t kernel_code_phys;	/* start of "Kernel code" in /proc/iomem */
	uint64_t page_offset_base_sym;	/* VA of the variable page_offset_base; 0: unknown */
	uint64_t init_top_pgt;		/* VA of init_top_pgt */
	int levels;			/* 4 or 5 to force; 0: detect */
};

struct kaddr {
	const struct guestmem *gm;
	uint64_t phys_base;		/* PA of __START_KERNEL_map */
	uint64_t image_end;		/* end of the image-map shortcut */
	uint64_t page_offset_base;	/* 0: no direct-map shortcut */
	uint64_t direct_end;		/* bytes of physical space in the direct map */
	uint64_t pgd;			/* PA of init_top_pgt */
	int levels;
	unsigned long long walks;	/* page walks done (not cache hits) */
	struct {
		uint64_t vpage, ppage;	/* vpage 0: empty slot */
	} cache[KADDR_CACHE];
};

/* Set up k over gm (borrowed; must outlive k).  Reads page_offset_base
 * from guest memory and detects the paging depth.  0, or -1 with err. */
int kaddr_init(struct kaddr *k, const struct guestmem *gm, const struct kaddr_config *c,
	       struct strbuf *err);
/* Forget cached page walks. */
void kaddr_flush(struct kaddr *k);

/* Guest-physical address of va; 0 or -1 (not mapped, or not RAM). */
int kaddr_translate(struct kaddr *k, uint64_t va, uint64_t *pa);
/* The page-table walk alone (no image/direct-map shortcut, no cache), with
 * the given depth; 0 or -1. */
int kaddr_walk(const struct kaddr *k, int levels, uint64_t va, uint64_t *pa);
/* Copy [va, va+len) of kernel memory into buf, page by page.  0, or -1 if
 * any byte is unmapped (buf then holds garbage). */
int kaddr_read(struct kaddr *k, uint64_t va, void *buf, size_t len);
/* Typed reads of one naturally sized value; 0 or -1. */
int kaddr_read_u64(struct kaddr *k, uint64_t va, uint64_t *v);
int kaddr_read_u32(struct kaddr *k, uint64_t va, uint32_t *v);

#endif
