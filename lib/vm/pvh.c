/* The PVH vmlinux beside a bzImage (pvh.h). */
#include "pvh.h"
#include "fsutil.h"
#include "diag.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h): the 32-bit
 * physical entry point QEMU's PVH loader jumps to. */
#define XEN_NOTE_PHYS32_ENTRY 18

static bool notes_have_entry(const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name, desc;

		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		name = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		desc = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (name > len - off || desc > len - off - name)
			return false;
		if (nh.n_type == XEN_NOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(p + off, "Xen", 4))
			return true;
		off += name + desc;
	}
	return false;
}

bool pvh_elf_has_entry(const unsigned char *buf, size_t len)
{
	Elf64_Ehdr eh;
	size_t i;

	if (len < sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) || buf[EI_CLASS] != ELFCLASS64)
		return false;
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (size_t)eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return false;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			continue;
		if (notes_have_entry(buf + ph.p_offset, ph.p_filesz))
			return true;
	}
	return false;
}

/* The bzImage's version string ("7.3.4 (builder) #1 SMP ..."): the setup
 * header's kernel_version field (0x20e) points at it, 0x200 bytes short
 * of its file offset.  NULL when the header has none. */
static char *bzimage_version(const char *image)
{
	unsigned char hdr[0x210];
	char buf[256];
	uint16_t ptr;
	ssize_t n;
	int fd = open(image, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = pread(fd, hdr, sizeof(hdr), 0);
	memcpy(&ptr, hdr + 0x20e, sizeof(ptr));
	if (n != (ssize_t)sizeof(hdr) || !ptr ||
	    pread(fd, buf, sizeof(buf) - 1, (off_t)ptr + 0x200) <= 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	buf[sizeof(buf) - 1] = '\0';
	return buf[0] ? xstrdup(buf) : NULL;
}

/* The vmlinux carries the bzImage's version string: its linux_banner is
 * "Linux version RELEASE (BUILDER) (COMPILER) #N ...", the bzImage's
 * "RELEASE (BUILDER) #N ...", so the banner must start with the part
 * before " #" and end with the rest. */
static bool banner_in(const char *p, const char *end, const char *head, const char *tail)
{
	size_t t = strlen(tail);

	while ((p = memmem(p, (size_t)(end - p), head, strlen(head)))) {
		size_t n = strnlen(p, (size_t)(end - p) < 1024 ? (size_t)(end - p) : 1024);

		while (n && (p[n - 1] == '\n'))
			n--;
		if (n >= t && !memcmp(p + n - t, tail, t))
			return true;
		p++;
	}
	return false;
}

size_t pvh_rodata_at(const unsigned char *buf, size_t len, size_t *size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr names, sh;

	if (len < sizeof(eh))
		return 0;
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_shentsize != sizeof(sh) || eh.e_shoff > len || eh.e_shstrndx >= eh.e_shnum ||
	    (size_t)eh.e_shnum > (len - eh.e_shoff) / sizeof(sh))
		return 0;
	memcpy(&names, buf + eh.e_shoff + eh.e_shstrndx * sizeof(sh), sizeof(sh));
	if (names.sh_offset > len || names.sh_size > len - names.sh_offset)
		return 0;
	for (size_t i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, buf + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		/* The name with its NUL inside the table: ".rodata" exactly. */
		if (sh.sh_type != SHT_PROGBITS || sh.sh_name >= names.sh_size ||
		    names.sh_size - sh.sh_name < sizeof(".rodata") ||
		    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset ||
		    memcmp(buf + names.sh_offset + sh.sh_name, ".rodata", sizeof(".rodata")))
			continue;
		*size = sh.sh_size;
		return sh.sh_offset;
	}
	return 0;
}

/* .rodata first: in Debian's 7.3 vmlinux the banner sits 0xe0 bytes into
 * it, 20 MB into the 62 MB file, and scanning the file up to there cost
 * 5 ms before every boot.  The whole file when it is not there. */
static bool has_banner(const unsigned char *map, size_t len, const char *ver)
{
	const char *hash = strstr(ver, " #"), *all = (const char *)map;
	size_t at, size = 0;
	char *head;
	bool ok;

	if (!hash)
		return false;
	head = xasprintf("Linux version %.*s ", (int)(hash - ver), ver);
	at = pvh_rodata_at(map, len, &size);
	ok = (at && banner_in(all + at, all + at + size, head, hash + 1)) ||
	     banner_in(all, all + len, head, hash + 1);
	free(head);
	return ok;
}

char *pvh_vmlinux_for(const char *image)
{
	char *dir = path_dirname(image), *p = path_join(dir, "vmlinux");
	char *ver = bzimage_version(image);
	struct stat st;
	void *map = MAP_FAILED;
	bool ok = false;
	int fd = -1;

	free(dir);
	if (!ver || (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		goto out;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		goto out;
	ok = pvh_elf_has_entry(map, (size_t)st.st_size) &&
	     has_banner(map, (size_t)st.st_size, ver);
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	free(ver);
	if (!ok) {
		free(p);
		return NULL;
	}
	return p;
}
