/* A synthetic x86-64 guest's RAM for tests of lib/kernel/kaddr.c and
 * lib/vm/monitor.c: anonymous memory of this process, written here and read
 * through lib/vm/guestmem.h as the monitor reads QEMU's (process_vm_readv on
 * our own pid), with kernel page tables built the way the kernel lays them
 * out (4 or 5 levels, 4K/2M/1G pages).
 *
 * Layout (RAM is FG_RAM bytes, all below 4 GiB):
 *   PA 0x1000000  _text (0xffffffff81000000), FG_IMAGE bytes of image,
 *                 mapped with 2M pages; phys_base is 0
 *   image +0x300000  page_offset_base (the variable)
 *   image +0x400000  init_top_pgt, then the page-table pages it needs
 *   the direct map: page_offset_base -> PA 0, one 1G page
 * Everything else is up to the test. */
#ifndef KTSTR_TEST_FAKEGUEST_H
#define KTSTR_TEST_FAKEGUEST_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guestmem.h"

#define FG_RAM		(64ULL << 20)
#define FG_TEXT_VA	0xffffffff81000000ULL
#define FG_TEXT_PA	0x1000000ULL
#define FG_IMAGE	(8ULL << 20)
#define FG_POB_SYM	(FG_TEXT_VA + 0x300000)
#define FG_PGT_VA	(FG_TEXT_VA + 0x400000)
#define FG_PGT_PA	(FG_TEXT_PA + 0x400000)
#define FG_PGT_END	(FG_TEXT_PA + 0x500000)
#define FG_POB4		0xffff888000000000ULL
#define FG_POB5		0xff11000000000000ULL
#define FG_VMALLOC4	0xffffc90000000000ULL
#define FG_VMALLOC5	0xffa0000000000000ULL

#define FG_P		0x1ULL
#define FG_RW		0x2ULL
#define FG_PS		0x80ULL
/* Bits a real entry carries that are not address bits: accessed, dirty,
 * global, a software bit, and NX. */
#define FG_NOISE	(0x20ULL | 0x40ULL | 0x100ULL | (1ULL << 58) | (1ULL << 63))

struct fakeguest {
	uint8_t *ram;
	int levels;
	uint64_t pob;		/* page_offset_base's value */
	uint64_t vmalloc;	/* a vmalloc-area address for the depth */
	uint64_t next_table;	/* next free page-table page */
	struct guestmem gm;
};

static inline uint64_t fg_pa_of_image(uint64_t va)
{
	return va - FG_TEXT_VA + FG_TEXT_PA;
}

static inline void fg_put64(struct fakeguest *g, uint64_t pa, uint64_t v)
{
	memcpy(g->ram + pa, &v, 8);
}

static inline uint64_t fg_get64(struct fakeguest *g, uint64_t pa)
{
	uint64_t v;

	memcpy(&v, g->ram + pa, 8);
	return v;
}

/* Map va -> pa with a page of 4K, 2M or 1G (page = 1, 2, 3: the level the
 * leaf entry sits at).  Returns the PA of the leaf entry (to clear it). */
static inline uint64_t fg_map(struct fakeguest *g, uint64_t va, uint64_t pa, int page)
{
	uint64_t table = FG_PGT_PA, e;
	int lvl;

	for (lvl = g->levels; lvl > page; lvl--) {
		uint64_t slot = table + ((va >> (12 + 9 * (lvl - 1))) & 511) * 8;

		e = fg_get64(g, slot);
		if (!(e & FG_P)) {
			uint64_t t = g->next_table;

			g->next_table += 0x1000;
			if (g->next_table > FG_PGT_END)
				abort();
			memset(g->ram + t, 0, 0x1000);
			e = t | FG_P | FG_RW | FG_NOISE;
			fg_put64(g, slot, e);
		}
		table = e & 0x000ffffffffff000ULL;
	}
	{
		uint64_t slot = table + ((va >> (12 + 9 * (page - 1))) & 511) * 8;

		fg_put64(g, slot, pa | FG_P | FG_RW | FG_NOISE | (page > 1 ? FG_PS : 0));
		return slot;
	}
}

/* Build the guest: 0 or -1. */
static inline int fg_create(struct fakeguest *g, int levels)
{
	uint64_t off;

	memset(g, 0, sizeof(*g));
	g->levels = levels;
	g->pob = levels == 5 ? FG_POB5 : FG_POB4;
	g->vmalloc = levels == 5 ? FG_VMALLOC5 : FG_VMALLOC4;
	g->next_table = FG_PGT_PA + 0x1000;
	g->ram = mmap(NULL, FG_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->ram == MAP_FAILED) {
		g->ram = NULL;
		return -1;
	}
	fg_put64(g, fg_pa_of_image(FG_POB_SYM), g->pob);
	for (off = 0; off < FG_IMAGE; off += 0x200000)
		fg_map(g, FG_TEXT_VA + off, FG_TEXT_PA + off, 2);
	fg_map(g, g->pob, 0, 3);
	return 0;
}

static inline int fg_open_gm(struct fakeguest *g, struct strbuf *err)
{
	uint64_t hva = (uint64_t)(uintptr_t)g->ram, size = FG_RAM;

	return guestmem_open(&g->gm, getpid(), &hva, &size, 1, GUESTMEM_BELOW_4G_AUTO, err);
}

static inline void fg_destroy(struct fakeguest *g)
{
	guestmem_close(&g->gm);
	if (g->ram)
		munmap(g->ram, FG_RAM);
	memset(g, 0, sizeof(*g));
}

#endif
