/* Unit tests for lib/vm/pvh.c: which vmlinux may be booted through its PVH
 * entry in a bzImage's place. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "pvh.h"

#define VER "7.3.4-test (builder@host) #1 SMP PREEMPT_DYNAMIC Test (2026-11-15)"
#define BANNER "Linux version 7.3.4-test (builder@host) (gcc 14) " \
	"#1 SMP PREEMPT_DYNAMIC Test (2026-11-15)\n"

/* A 64-bit ELF with one PT_NOTE holding a "Xen" note of type note_type,
 * then text.  Returns its length. */
static size_t make_elf(unsigned char *buf, size_t cap, unsigned note_type, const char *text)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 8, .n_type = note_type };
	size_t off = sizeof(eh) + sizeof(ph), n = off;

	memset(buf, 0, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_NOTE;
	ph.p_offset = off;
	ph.p_filesz = sizeof(nh) + 4 + 8;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + n, &nh, sizeof(nh));
	n += sizeof(nh);
	memcpy(buf + n, "Xen", 4);
	n += 4 + 8;
	assert_true(n + strlen(text) + 1 <= cap);
	memcpy(buf + n, text, strlen(text) + 1);
	return n + strlen(text) + 1;
}

static void elf_note(void **state)
{
	unsigned char buf[512];
	size_t n;

	(void)state;
	n = make_elf(buf, sizeof(buf), 18, "");
	assert_true(pvh_elf_has_entry(buf, n));
	/* Another Xen note is not the entry point. */
	n = make_elf(buf, sizeof(buf), 17, "");
	assert_false(pvh_elf_has_entry(buf, n));
	/* A note running past the segment is no note. */
	n = make_elf(buf, sizeof(buf), 18, "");
	assert_false(pvh_elf_has_entry(buf, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 8));
	assert_false(pvh_elf_has_entry((const unsigned char *)"MZ not an ELF", 13));
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A bzImage header whose kernel_version field points at ver. */
static void write_bzimage(const char *path, const char *ver)
{
	unsigned char img[0x400] = { 0 };
	uint16_t ptr = 0x100;

	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	memcpy(img + 0x20e, &ptr, sizeof(ptr));
	memcpy(img + 0x200 + ptr, ver, strlen(ver) + 1);
	write_file(path, img, sizeof(img));
}

/* A bzImage of version VER and the path for a vmlinux beside it, in a
 * fresh directory. */
struct pair {
	char dir[32];
	char *img, *vml;
};

static void pair_open(struct pair *p)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/ktstr-test-pvh-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	p->img = path_join(p->dir, "bzImage");
	p->vml = path_join(p->dir, "vmlinux");
	write_bzimage(p->img, VER);
}

static void pair_close(struct pair *p)
{
	unlink(p->vml);
	unlink(p->img);
	rmdir(p->dir);
	free(p->img);
	free(p->vml);
}

/* The vmlinux beside the bzImage is the one to boot. */
static void assert_boots_vmlinux(const struct pair *p)
{
	char *got = pvh_vmlinux_for(p->img);

	assert_non_null(got);
	assert_string_equal(got, p->vml);
	free(got);
}

static void beside(void **state)
{
	unsigned char elf[1024];
	struct pair p;
	size_t n;

	(void)state;
	pair_open(&p);
	/* No vmlinux: boot the bzImage. */
	assert_null(pvh_vmlinux_for(p.img));
	/* The matching vmlinux with a PVH entry. */
	n = make_elf(elf, sizeof(elf), 18, BANNER);
	write_file(p.vml, elf, n);
	assert_boots_vmlinux(&p);
	/* A stale vmlinux: another build number. */
	write_bzimage(p.img, "7.3.4-test (builder@host) #2 SMP PREEMPT_DYNAMIC Test (2026-11-15)");
	assert_null(pvh_vmlinux_for(p.img));
	/* The right version without the PVH entry. */
	write_bzimage(p.img, VER);
	n = make_elf(elf, sizeof(elf), 17, BANNER);
	write_file(p.vml, elf, n);
	assert_null(pvh_vmlinux_for(p.img));
	pair_close(&p);
}

/* make_elf's image with section headers after it: a null section,
 * .rodata over the text, and the section-name table.  shoff_bad: point
 * e_shoff past the end instead.  Returns the new length. */
static size_t add_sections(unsigned char *buf, size_t cap, size_t n, size_t text_at,
			   bool shoff_bad)
{
	static const char names[] = "\0.rodata\0.shstrtab";
	Elf64_Shdr sh[3] = { { 0 } };
	Elf64_Ehdr eh;
	size_t names_at = n, shoff = (n + sizeof(names) + 7) & ~(size_t)7;

	assert_true(shoff + sizeof(sh) <= cap);
	memcpy(buf + names_at, names, sizeof(names));
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_offset = text_at,
			      .sh_size = names_at - text_at };
	sh[2] = (Elf64_Shdr){ .sh_name = 9, .sh_type = SHT_STRTAB, .sh_offset = names_at,
			      .sh_size = sizeof(names) };
	memcpy(buf + shoff, sh, sizeof(sh));
	memcpy(&eh, buf, sizeof(eh));
	eh.e_shoff = shoff_bad ? 1 << 20 : shoff;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	memcpy(buf, &eh, sizeof(eh));
	return shoff + sizeof(sh);
}

/* With section headers the banner is looked for in .rodata first; bad
 * headers fall back to the whole file, with the same answer. */
static void rodata_first(void **state)
{
	size_t text_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + sizeof(Elf64_Nhdr) + 12;
	unsigned char elf[2048];
	struct pair p;
	size_t n;

	(void)state;
	pair_open(&p);
	for (int bad = 0; bad < 2; bad++) {
		n = make_elf(elf, sizeof(elf), 18, BANNER);
		n = add_sections(elf, sizeof(elf), n, text_at, bad);
		write_file(p.vml, elf, n);
		assert_boots_vmlinux(&p);
		/* A stale banner is stale whichever way it is found. */
		n = make_elf(elf, sizeof(elf), 18, "Linux version 7.3.4-test (builder@host) (gcc 14) "
			     "#2 SMP PREEMPT_DYNAMIC Test (2026-11-15)\n");
		n = add_sections(elf, sizeof(elf), n, text_at, bad);
		write_file(p.vml, elf, n);
		assert_null(pvh_vmlinux_for(p.img));
	}
	pair_close(&p);
}

/* pvh_rodata_at on good headers, then on each way they can lie. */
static void rodata_headers(void **state)
{
	size_t text_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + sizeof(Elf64_Nhdr) + 12;
	unsigned char elf[2048];
	size_t n, shoff, size = 0;
	Elf64_Ehdr eh;
	Elf64_Shdr sh;

	(void)state;
	n = make_elf(elf, sizeof(elf), 18, BANNER);
	n = add_sections(elf, sizeof(elf), n, text_at, false);
	assert_int_equal(pvh_rodata_at(elf, n, &size), text_at);
	assert_int_equal(size, strlen(BANNER) + 1);
	memcpy(&eh, elf, sizeof(eh));
	shoff = eh.e_shoff;
#define LIE(field, value) do { \
		Elf64_Ehdr bad = eh; \
		bad.field = value; \
		memcpy(elf, &bad, sizeof(bad)); \
		assert_int_equal(pvh_rodata_at(elf, n, &size), 0); \
		memcpy(elf, &eh, sizeof(eh)); \
	} while (0)
	LIE(e_shoff, n + 1);
	LIE(e_shoff, (Elf64_Off)-1);
	LIE(e_shnum, 60000);
	LIE(e_shstrndx, 3);
	LIE(e_shentsize, 40);
#undef LIE
	/* The file cut short inside the section headers. */
	assert_int_equal(pvh_rodata_at(elf, shoff + sizeof(sh), &size), 0);
	/* Too short for an ELF header at all. */
	assert_int_equal(pvh_rodata_at(elf, 10, &size), 0);
	/* .rodata's name past the end of the name table. */
	memcpy(&sh, elf + shoff + sizeof(sh), sizeof(sh));
	sh.sh_name = 5000;
	memcpy(elf + shoff + sizeof(sh), &sh, sizeof(sh));
	assert_int_equal(pvh_rodata_at(elf, n, &size), 0);
	/* A name that only starts like it (".rod" at the table's end). */
	sh.sh_name = 1;
	memcpy(elf + shoff + sizeof(sh), &sh, sizeof(sh));
	memcpy(&sh, elf + shoff + 2 * sizeof(sh), sizeof(sh));
	sh.sh_size = 5;
	memcpy(elf + shoff + 2 * sizeof(sh), &sh, sizeof(sh));
	assert_int_equal(pvh_rodata_at(elf, n, &size), 0);
	/* .rodata running past the end of the file. */
	sh.sh_size = 19;
	memcpy(elf + shoff + 2 * sizeof(sh), &sh, sizeof(sh));
	memcpy(&sh, elf + shoff + sizeof(sh), sizeof(sh));
	sh.sh_size = n;
	memcpy(elf + shoff + sizeof(sh), &sh, sizeof(sh));
	assert_int_equal(pvh_rodata_at(elf, n, &size), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elf_note),
		cmocka_unit_test(beside),
		cmocka_unit_test(rodata_first),
		cmocka_unit_test(rodata_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
