#include "kaddr.h"

#include <string.h>

#define PAGE_SIZE_4K	0x1000ULL
#define PTE_PRESENT	0x1ULL
#define PTE_PSE		0x80ULL		/* large page, at the PUD and PMD levels */
/* Physical-address bits of an entry: 12..51 (52 is the architectural
 * maximum; NX is bit 63, software bits 52..62 and 9..11). */
#define PTE_ADDR_MASK	0x000ffffffffff000ULL
#define PUD_1G_MASK	0x000fffffc0000000ULL
#define PMD_2M_MASK	0x000fffffffe00000ULL

static int read_entry(const struct kaddr *k, uint64_t table, unsigned idx, uint64_t *e)
{
	/* An aligned 8-byte copy: the kernel's copy of it is not torn. */
	return guestmem_read(k->gm, table + idx * 8ULL, e, sizeof(*e));
}

int kaddr_walk(const struct kaddr *k, int levels, uint64_t va, uint64_t *pa)
{
	uint64_t table = k->pgd, e;
	int lvl;

	if (levels != 4 && levels != 5)
		return -1;
	for (lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (lvl - 1);
		unsigned idx = (va >> shift) & 511;

		if (read_entry(k, table, idx, &e) < 0 || !(e & PTE_PRESENT))
			return -1;
		if (lvl == 3 && (e & PTE_PSE)) {
			*pa = (e & PUD_1G_MASK) | (va & ((1ULL << 30) - 1));
			return 0;
		}
		if (lvl == 2 && (e & PTE_PSE)) {
			*pa = (e & PMD_2M_MASK) | (va & ((1ULL << 21) - 1));
			return 0;
		}
		table = e & PTE_ADDR_MASK;
	}
	*pa = table | (va & (PAGE_SIZE_4K - 1));
	return 0;
}

void kaddr_flush(struct kaddr *k)
{
	memset(k->cache, 0, sizeof(k->cache));
}

static int in_ram(const struct kaddr *k, uint64_t pa)
{
	return guestmem_contains(k->gm, pa, 1);
}

static int in_image(const struct kaddr *k, uint64_t va)
{
	return va >= KADDR_START_KERNEL_MAP && va < k->image_end;
}

int kaddr_translate(struct kaddr *k, uint64_t va, uint64_t *pa)
{
	uint64_t vpage = va & ~(PAGE_SIZE_4K - 1), ppage;
	unsigned slot;

	if (in_image(k, va)) {
		*pa = va - KADDR_START_KERNEL_MAP + k->phys_base;
		return in_ram(k, *pa) ? 0 : -1;
	}
	if (k->page_offset_base && va >= k->page_offset_base &&
	    va - k->page_offset_base < k->direct_end) {
		*pa = va - k->page_offset_base;
		return in_ram(k, *pa) ? 0 : -1;
	}
	if (vpage == 0)
		return -1;
	slot = (unsigned)(va >> 12) % KADDR_CACHE;
	if (k->cache[slot].vpage == vpage) {
		*pa = k->cache[slot].ppage | (va & (PAGE_SIZE_4K - 1));
		return 0;
	}
	k->walks++;
	if (kaddr_walk(k, k->levels, vpage, &ppage) < 0 || !in_ram(k, ppage))
		return -1;
	k->cache[slot].vpage = vpage;
	k->cache[slot].ppage = ppage;
	*pa = ppage | (va & (PAGE_SIZE_4K - 1));
	return 0;
}

int kaddr_read(struct kaddr *k, uint64_t va, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		size_t chunk = PAGE_SIZE_4K - (va & (PAGE_SIZE_4K - 1));
		uint64_t pa;

		if (chunk > len)
			chunk = len;
		if (kaddr_translate(k, va, &pa) < 0 ||
		    guestmem_read(k->gm, pa, out, chunk) < 0)
			return -1;
		out += chunk;
		va += chunk;	/* wraps only past the last byte read */
		len -= chunk;
	}
	return 0;
}

int kaddr_read_u64(struct kaddr *k, uint64_t va, uint64_t *v)
{
	return kaddr_read(k, va, v, sizeof(*v));
}

int kaddr_read_u32(struct kaddr *k, uint64_t va, uint32_t *v)
{
	return kaddr_read(k, va, v, sizeof(*v));
}

static const char *level_name(int levels)
{
	return levels == 5 ? "5-level" : "4-level";
}

int kaddr_init(struct kaddr *k, const struct guestmem *gm, const struct kaddr_config *c,
	       struct strbuf *err)
{
	uint64_t text_pa, pa, pob = 0;
	int ok[6] = { 0 }, direct_ok[6] = { 0 };
	int lv;

	memset(k, 0, sizeof(*k));
	k->gm = gm;
	k->direct_end = guestmem_gpa_end(gm);
	if (c->text - KADDR_START_KERNEL_MAP >= KADDR_IMAGE_MAP_SIZE) {
		strbuf_addf(err, "_text 0x%llx is not in the kernel image map",
			    (unsigned long long)c->text);
		return -1;
	}
	k->phys_base = c->kernel_code_phys - (c->text - KADDR_START_KERNEL_MAP);
	k->image_end = c->text + KADDR_IMAGE_SPAN;
	if (k->image_end > KADDR_START_KERNEL_MAP + KADDR_IMAGE_MAP_SIZE)
		k->image_end = KADDR_START_KERNEL_MAP + KADDR_IMAGE_MAP_SIZE;
	text_pa = c->kernel_code_phys;
	if (!in_ram(k, text_pa)) {
		strbuf_addf(err, "kernel code at 0x%llx is outside guest RAM (%llu MiB)",
			    (unsigned long long)text_pa, (unsigned long long)(gm->total >> 20));
		return -1;
	}
	if (!in_image(k, c->init_top_pgt)) {
		strbuf_addf(err, "init_top_pgt 0x%llx is not in the kernel image map",
			    (unsigned long long)c->init_top_pgt);
		return -1;
	}
	k->pgd = c->init_top_pgt - KADDR_START_KERNEL_MAP + k->phys_base;
	if ((k->pgd & (PAGE_SIZE_4K - 1)) || !guestmem_contains(gm, k->pgd, PAGE_SIZE_4K)) {
		strbuf_addf(err, "init_top_pgt (PA 0x%llx) is not a page of guest RAM",
			    (unsigned long long)k->pgd);
		return -1;
	}
	if (c->page_offset_base_sym) {
		uint64_t at = c->page_offset_base_sym - KADDR_START_KERNEL_MAP + k->phys_base;

		if (!in_image(k, c->page_offset_base_sym) ||
		    guestmem_read(gm, at, &pob, sizeof(pob)) < 0) {
			strbuf_addf(err, "cannot read page_offset_base at 0x%llx",
				    (unsigned long long)c->page_offset_base_sym);
			return -1;
		}
	}
	for (lv = 4; lv <= 5; lv++) {
		if (c->levels && c->levels != lv)
			continue;
		ok[lv] = kaddr_walk(k, lv, c->text, &pa) == 0 && pa == text_pa;
		direct_ok[lv] = pob && kaddr_walk(k, lv, pob + text_pa, &pa) == 0 && pa == text_pa;
	}
	if (ok[4] && ok[5])	/* only a tie-break: take the depth the direct map agrees with */
		ok[direct_ok[5] && !direct_ok[4] ? 4 : 5] = 0;
	k->levels = ok[5] ? 5 : ok[4] ? 4 : 0;
	if (!k->levels) {
		strbuf_addf(err, "kernel page tables at PA 0x%llx do not map _text 0x%llx to "
			    "0x%llx with %s paging", (unsigned long long)k->pgd,
			    (unsigned long long)c->text, (unsigned long long)text_pa,
			    c->levels ? level_name(c->levels) : "4- or 5-level");
		return -1;
	}
	/* Use the direct-map arithmetic only once the page tables confirm it. */
	if (direct_ok[k->levels])
		k->page_offset_base = pob;
	return 0;
}
