/* Booting the uncompressed vmlinux through its PVH entry point instead of
 * the bzImage: under TCG the bzImage's own zstd decompressor runs emulated
 * and costs over a second of boot per VM (measured; tests/bench/run). */
#ifndef KTSTR_PVH_H
#define KTSTR_PVH_H

#include <stdbool.h>
#include <stddef.h>

/* The ELF image (len bytes at buf) has a PT_NOTE with the Xen
 * PHYS32_ENTRY note, which QEMU's -kernel needs to boot it as PVH. */
bool pvh_elf_has_entry(const unsigned char *buf, size_t len);

/* Where the ELF image's .rodata section lies (*size its length); 0 when
 * it has none or the section headers do not parse.  Where the version
 * banner is looked for first. */
size_t pvh_rodata_at(const unsigned char *buf, size_t len, size_t *size);

/* The vmlinux to boot for bzImage image: the "vmlinux" beside it (the
 * kernel cache keeps one there), when it has a PVH entry and carries the
 * same version string as the bzImage's header (so a stale vmlinux is
 * never booted in place of a rebuilt image).  NULL: boot the bzImage.
 * Caller frees. */
char *pvh_vmlinux_for(const char *image);

/* Set (to anything): boot the bzImage even when a PVH vmlinux is there
 * (ktstr-vm(1); tests/bench/run measures both). */
#define VM_BOOT_BZIMAGE_ENV "KTSTR_BOOT_BZIMAGE"


#endif
