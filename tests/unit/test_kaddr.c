/* Unit tests for lib/vm/guestmem.c and lib/kernel/kaddr.c: guest RAM layout on q35,
 * and kernel-address translation on a synthetic guest (fakeguest.h) with
 * 4- and 5-level page tables, 4K/2M/1G pages, holes and page crossings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeguest.h"
#include "guestmem.h"
#include "kaddr.h"

static void test_below_4g_rule(void **state)
{
	assert_int_equal(guestmem_below_4g(1ULL << 30), 1ULL << 30);
	assert_int_equal(guestmem_below_4g(0xafffffffULL), 0xafffffffULL);
	assert_int_equal(guestmem_below_4g(0xb0000000ULL), 0x80000000ULL);
	assert_int_equal(guestmem_below_4g(8ULL << 30), 0x80000000ULL);
}

/* len bytes of fresh anonymous memory, page i filled with seed + i. */
static uint8_t *pattern(size_t len, uint8_t seed)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i / 4096);
	return p;
}

static uint64_t hva_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Two backends (one per NUMA node) of 2 MiB, apart in our address space,
 * with an artificial low/high split at 3 MiB so both sides of the hole
 * are exercised; read as the monitor reads QEMU, through our own pid. */
static void test_guestmem_layout(void **state)
{
	uint8_t *node0 = pattern(2 << 20, 0), *node1 = pattern(2 << 20, 100);
	uint64_t hvas[2] = { hva_of(node0), hva_of(node1) };
	uint64_t sizes[2] = { 2 << 20, 2 << 20 };
	struct strbuf err = STRBUF_INIT;
	struct guestmem gm;
	uint8_t buf[8192];

	(void)state;
	assert_int_equal(guestmem_open(&gm, getpid(), hvas, sizes, 2, 3 << 20, &err), 0);
	assert_int_equal(gm.total, 4 << 20);
	assert_int_equal(guestmem_gpa_end(&gm), GUESTMEM_4G + (1 << 20));

	assert_int_equal(guestmem_read(&gm, 0x5000, buf, 1), 0);
	assert_int_equal(buf[0], 5);
	/* Low RAM crosses from node0 into node1 as one range. */
	assert_int_equal(guestmem_read(&gm, (2 << 20) - 4096, buf, 8192), 0);
	assert_int_equal(buf[0], (uint8_t)511);
	assert_int_equal(buf[4096], 100);
	/* RAM offset 3 MiB is at 4 GiB. */
	assert_int_equal(guestmem_read(&gm, GUESTMEM_4G, buf, 1), 0);
	assert_int_equal(buf[0], (uint8_t)(100 + 256));
	/* The guest writes while we read: we see its memory, not a copy. */
	node1[(1 << 20) + 7] = 0xee;
	assert_int_equal(guestmem_read(&gm, GUESTMEM_4G + 7, buf, 1), 0);
	assert_int_equal(buf[0], 0xee);
	/* The hole, straddling into it, past the end. */
	assert_false(guestmem_contains(&gm, 3 << 20, 1));
	assert_false(guestmem_contains(&gm, (3 << 20) - 4, 8));
	assert_false(guestmem_contains(&gm, 0xfffff000ULL, 1));
	assert_false(guestmem_contains(&gm, GUESTMEM_4G + (1 << 20), 1));
	assert_false(guestmem_contains(&gm, GUESTMEM_4G + (1 << 20) - 4, 8));
	assert_false(guestmem_contains(&gm, UINT64_MAX - 2, 8));
	assert_true(guestmem_contains(&gm, GUESTMEM_4G + (1 << 20) - 8, 8));
	assert_int_equal(guestmem_read(&gm, GUESTMEM_4G + (1 << 20) - 8, buf, 8), 0);
	assert_int_equal(guestmem_read(&gm, (3 << 20) - 4, buf, 8), -1);
	guestmem_close(&gm);
	assert_false(guestmem_contains(&gm, 0, 1));
	assert_int_equal(guestmem_read(&gm, 0, buf, 1), -1);

	/* Smaller sizes, then the automatic split: all of it is low. */
	sizes[1] = 1 << 20;
	assert_int_equal(guestmem_open(&gm, getpid(), hvas, sizes, 2, GUESTMEM_BELOW_4G_AUTO,
				       &err), 0);
	assert_int_equal(gm.total, 3 << 20);
	assert_int_equal(gm.below_4g, 3 << 20);
	assert_true(guestmem_contains(&gm, (3 << 20) - 1, 1));
	assert_false(guestmem_contains(&gm, GUESTMEM_4G, 1));
	guestmem_close(&gm);
	strbuf_release(&err);
	munmap(node0, 2 << 20);
	munmap(node1, 2 << 20);
}

/* The process went away (or unmapped its RAM): reads fail, not crash. */
static void test_guestmem_gone(void **state)
{
	uint8_t *ram = pattern(1 << 20, 7), buf[16];
	uint64_t hva = hva_of(ram), size = 1 << 20;
	struct strbuf err = STRBUF_INIT;
	struct guestmem gm;

	(void)state;
	assert_int_equal(guestmem_open(&gm, getpid(), &hva, &size, 1, GUESTMEM_BELOW_4G_AUTO,
				       &err), 0);
	assert_int_equal(guestmem_read(&gm, 0x3000, buf, 1), 0);
	assert_int_equal(buf[0], 10);
	munmap(ram, 1 << 20);
	assert_int_equal(guestmem_read(&gm, 0x3000, buf, 1), -1);
	guestmem_close(&gm);
	strbuf_release(&err);
}

static void test_guestmem_errors(void **state)
{
	uint8_t *ram = pattern(2 << 20, 0);
	uint64_t hva = hva_of(ram), big = 2 << 20, odd = 4097, ok = 1 << 20;
	struct strbuf err = STRBUF_INIT;
	struct guestmem gm;
	pid_t child;

	(void)state;
	/* Larger than what is mapped (its second half is unmapped here, so
	 * no neighbouring mapping can answer): the probe of its last page
	 * fails. */
	munmap(ram + (1 << 20), 1 << 20);
	assert_int_equal(guestmem_open(&gm, getpid(), &hva, &big, 1, GUESTMEM_BELOW_4G_AUTO,
				       &err), -1);
	assert_non_null(strstr(err.buf, "cannot read backend 0"));
	assert_int_equal(gm.pid, 0);
	strbuf_reset(&err);
	assert_int_equal(guestmem_open(&gm, getpid(), &hva, &odd, 1, GUESTMEM_BELOW_4G_AUTO,
				       &err), -1);
	assert_non_null(strstr(err.buf, "page size"));
	strbuf_reset(&err);
	hva += 1;
	assert_int_equal(guestmem_open(&gm, getpid(), &hva, &ok, 1, GUESTMEM_BELOW_4G_AUTO,
				       &err), -1);
	assert_non_null(strstr(err.buf, "not a page address"));
	hva -= 1;
	strbuf_reset(&err);
	assert_int_equal(guestmem_open(&gm, getpid(), &hva, &ok, 0, GUESTMEM_BELOW_4G_AUTO,
				       &err), -1);
	assert_non_null(strstr(err.buf, "no memory backends"));
	/* A process that has exited. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	strbuf_reset(&err);
	assert_int_equal(guestmem_open(&gm, child, &hva, &ok, 1, GUESTMEM_BELOW_4G_AUTO,
				       &err), -1);
	assert_non_null(strstr(err.buf, "cannot read backend 0"));
	strbuf_release(&err);
	munmap(ram, 1 << 20);
}

static void init_config(struct kaddr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->text = FG_TEXT_VA;
	c->kernel_code_phys = FG_TEXT_PA;
	c->page_offset_base_sym = FG_POB_SYM;
	c->init_top_pgt = FG_PGT_VA;
}

static void translation(int levels)
{
	struct fakeguest g;
	struct strbuf err = STRBUF_INIT;
	struct kaddr_config c;
	struct kaddr k;
	uint64_t pa, v, leaf, vm;
	uint8_t buf[32];
	unsigned long long walks;

	assert_int_equal(fg_create(&g, levels), 0);
	vm = g.vmalloc;
	/* vmalloc: three 4K pages, physically out of order, then a hole. */
	fg_map(&g, vm, 0x2003000, 1);
	fg_map(&g, vm + 0x1000, 0x2001000, 1);
	leaf = fg_map(&g, vm + 0x2000, 0x2005000, 1);
	fg_map(&g, vm + 0x200000, 0x2200000, 2);		/* a 2M page */
	fg_map(&g, vm + 0x40000000, 0, 3);		/* a 1G page */
	fg_map(&g, vm + 0x80000000, 0x3000000, 1);	/* 4K, far from the others */
	fg_map(&g, vm + 0x80001000, 0x7000000, 1);	/* beyond RAM (64 MiB) */
	fg_map(&g, 0xffffffffa0000000ULL, 0x2008000, 1);	/* modules without KASLR */
	fg_map(&g, 0xffffffffc0001000ULL, 0x2009000, 1);	/* modules with KASLR */
	fg_put64(&g, 0x2003ff8, 0x1111111111111111ULL);
	fg_put64(&g, 0x2001000, 0x2222222222222222ULL);
	fg_put64(&g, 0x2001ff8, 0x3333333333333333ULL);
	fg_put64(&g, 0x2212345, 0x4444444444444444ULL);
	fg_put64(&g, 0x0abcdef, 0x5555555555555555ULL);
	fg_put64(&g, 0x1234568, 0x6666666666666666ULL);
	assert_int_equal(fg_open_gm(&g, &err), 0);

	init_config(&c);
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), 0);
	assert_int_equal(k.levels, levels);
	assert_int_equal(k.phys_base, 0);
	assert_true(k.page_offset_base == g.pob);
	assert_int_equal(k.pgd, FG_PGT_PA);

	/* The other depth does not reach _text. */
	assert_int_equal(kaddr_walk(&k, levels == 5 ? 4 : 5, FG_TEXT_VA, &pa), -1);
	assert_int_equal(kaddr_walk(&k, 3, FG_TEXT_VA, &pa), -1);

	/* Image map, by arithmetic and by walk (2M pages). */
	assert_int_equal(kaddr_translate(&k, FG_TEXT_VA + 0x234568, &pa), 0);
	assert_int_equal(pa, 0x1234568);
	assert_int_equal(kaddr_walk(&k, levels, FG_TEXT_VA + 0x234568, &pa), 0);
	assert_int_equal(pa, 0x1234568);
	assert_int_equal(kaddr_read_u64(&k, FG_TEXT_VA + 0x234568, &v), 0);
	assert_true(v == 0x6666666666666666ULL);

	/* Module space is walked, not taken for the image map. */
	assert_int_equal(kaddr_translate(&k, 0xffffffffa0000010ULL, &pa), 0);
	assert_int_equal(pa, 0x2008010);
	assert_int_equal(kaddr_translate(&k, 0xffffffffc0001010ULL, &pa), 0);
	assert_int_equal(pa, 0x2009010);
	assert_int_equal(kaddr_translate(&k, 0xffffffffa0001000ULL, &pa), -1);

	/* Direct map, by arithmetic and by walk (a 1G page). */
	assert_int_equal(kaddr_translate(&k, g.pob + 0xabcdef, &pa), 0);
	assert_int_equal(pa, 0xabcdef);
	assert_int_equal(kaddr_walk(&k, levels, g.pob + 0xabcdef, &pa), 0);
	assert_int_equal(pa, 0xabcdef);
	assert_int_equal(kaddr_read_u64(&k, g.pob + 0xabcdef, &v), 0);
	assert_true(v == 0x5555555555555555ULL);
	/* Past the end of RAM in the direct map. */
	assert_int_equal(kaddr_translate(&k, g.pob + FG_RAM, &pa), -1);

	/* vmalloc 4K pages, a read crossing from one into the next. */
	assert_int_equal(kaddr_translate(&k, vm + 0x10, &pa), 0);
	assert_int_equal(pa, 0x2003010);
	assert_int_equal(kaddr_read(&k, vm + 0xff8, buf, 16), 0);
	memcpy(&v, buf, 8);
	assert_true(v == 0x1111111111111111ULL);
	memcpy(&v, buf + 8, 8);
	assert_true(v == 0x2222222222222222ULL);
	/* A read running into the unmapped page fails. */
	assert_int_equal(kaddr_read(&k, vm + 0x2ff8, buf, 16), -1);
	assert_int_equal(kaddr_translate(&k, vm + 0x3000, &pa), -1);
	/* 2M and 1G pages outside the linear maps. */
	assert_int_equal(kaddr_translate(&k, vm + 0x212345, &pa), 0);
	assert_int_equal(pa, 0x2212345);
	assert_int_equal(kaddr_read_u64(&k, vm + 0x212345, &v), 0);
	assert_true(v == 0x4444444444444444ULL);
	assert_int_equal(kaddr_translate(&k, vm + 0x40abcdef, &pa), 0);
	assert_int_equal(pa, 0xabcdef);
	assert_int_equal(kaddr_translate(&k, vm + 0x80000008, &pa), 0);
	assert_int_equal(pa, 0x3000008);
	/* Mapped, but to a PA with no RAM behind it. */
	assert_int_equal(kaddr_translate(&k, vm + 0x80001000, &pa), -1);
	/* Not mapped at all, anywhere in the tree. */
	assert_int_equal(kaddr_translate(&k, vm + 0x100000000ULL, &pa), -1);
	assert_int_equal(kaddr_translate(&k, 0xffffea0000000000ULL, &pa), -1);
	assert_int_equal(kaddr_translate(&k, 0, &pa), -1);

	/* The cache: a second read of the same page does not walk; a flush
	 * makes a cleared entry visible. */
	kaddr_flush(&k);
	walks = k.walks;
	assert_int_equal(kaddr_read_u64(&k, vm + 0x1ff8, &v), 0);
	assert_true(v == 0x3333333333333333ULL);
	assert_int_equal(k.walks, walks + 1);
	assert_int_equal(kaddr_read_u64(&k, vm + 0x1000, &v), 0);
	assert_true(v == 0x2222222222222222ULL);
	assert_int_equal(k.walks, walks + 1);
	assert_int_equal(kaddr_translate(&k, vm + 0x2000, &pa), 0);
	fg_put64(&g, leaf, 0);
	assert_int_equal(kaddr_translate(&k, vm + 0x2000, &pa), 0);	/* cached */
	kaddr_flush(&k);
	assert_int_equal(kaddr_translate(&k, vm + 0x2000, &pa), -1);

	/* Forcing the wrong depth is refused. */
	c.levels = levels == 5 ? 4 : 5;
	strbuf_reset(&err);
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	assert_non_null(strstr(err.buf, "do not map _text"));

	strbuf_release(&err);
	fg_destroy(&g);
}

static void test_translate_4level(void **state)
{
	translation(4);
}

static void test_translate_5level(void **state)
{
	translation(5);
}

/* Without page_offset_base, the direct map still works by walking. */
static void test_no_page_offset_base(void **state)
{
	struct fakeguest g;
	struct strbuf err = STRBUF_INIT;
	struct kaddr_config c;
	struct kaddr k;
	uint64_t pa;

	assert_int_equal(fg_create(&g, 5), 0);
	assert_int_equal(fg_open_gm(&g, &err), 0);
	init_config(&c);
	c.page_offset_base_sym = 0;
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), 0);
	assert_int_equal(k.page_offset_base, 0);
	assert_int_equal(kaddr_translate(&k, g.pob + 0x123456, &pa), 0);
	assert_int_equal(pa, 0x123456);
	assert_true(k.walks > 0);

	/* A page_offset_base the page tables disagree with is not used. */
	fg_put64(&g, fg_pa_of_image(FG_POB_SYM), g.pob + 0x40000000);
	c.page_offset_base_sym = FG_POB_SYM;
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), 0);
	assert_int_equal(k.page_offset_base, 0);
	strbuf_release(&err);
	fg_destroy(&g);
}

static void test_init_errors(void **state)
{
	struct fakeguest g;
	struct strbuf err = STRBUF_INIT;
	struct kaddr_config c;
	struct kaddr k;

	assert_int_equal(fg_create(&g, 4), 0);
	assert_int_equal(fg_open_gm(&g, &err), 0);
	init_config(&c);

	c.text = 0xffff888000000000ULL;
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	assert_non_null(strstr(err.buf, "not in the kernel image map"));

	init_config(&c);
	c.kernel_code_phys = FG_RAM + 0x1000000;
	strbuf_reset(&err);
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	assert_non_null(strstr(err.buf, "outside guest RAM"));

	init_config(&c);
	c.init_top_pgt = FG_PGT_VA + 8;
	strbuf_reset(&err);
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	assert_non_null(strstr(err.buf, "init_top_pgt"));

	/* Page tables wiped: neither depth maps _text. */
	init_config(&c);
	memset(g.ram + FG_PGT_PA, 0, 0x1000);
	strbuf_reset(&err);
	assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	assert_non_null(strstr(err.buf, "4- or 5-level"));

	/* Garbage page tables: no crash, a refusal. */
	{
		uint64_t i, x = 0x9e3779b97f4a7c15ULL;

		for (i = FG_PGT_PA; i < FG_PGT_END; i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			fg_put64(&g, i, x);
		}
		strbuf_reset(&err);
		assert_int_equal(kaddr_init(&k, &g.gm, &c, &err), -1);
	}
	strbuf_release(&err);
	fg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_below_4g_rule),
		cmocka_unit_test(test_guestmem_layout),
		cmocka_unit_test(test_guestmem_gone),
		cmocka_unit_test(test_guestmem_errors),
		cmocka_unit_test(test_translate_4level),
		cmocka_unit_test(test_translate_5level),
		cmocka_unit_test(test_no_page_offset_base),
		cmocka_unit_test(test_init_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
