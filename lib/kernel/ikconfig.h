/* A kernel's own copy of its .config (CONFIG_IKCONFIG).
 *
 * With IKCONFIG the kernel carries its configuration as gzip data between
 * the markers "IKCFG_ST" and "IKCFG_ED".  In a bzImage that data sits
 * inside the compressed payload, so the payload is decompressed first
 * (gzip, xz, lzma, bzip2, lz4 or zstd, whichever the kernel was built
 * with).  Guests need the config because libbpf resolves the Kconfig
 * externs of BPF programs from /boot/config-$(uname -r). */
#ifndef KTSTR_IKCONFIG_H
#define KTSTR_IKCONFIG_H

#include <stddef.h>
#include "strbuf.h"

/* Find the IKCONFIG blob in buf (a decompressed kernel or any memory) and
 * append the decompressed config text to out.  Returns 1 when found, 0
 * when buf has no marker, -1 with a reason in err when the marker is
 * there but its data does not decompress. */
int ikconfig_from_buffer(const void *buf, size_t len, struct strbuf *out,
			 struct strbuf *err);

/* The same for a kernel image file: a bzImage (its payload is
 * decompressed) or an uncompressed vmlinux.  Returns 1, 0 or -1 as above;
 * -1 also when the file cannot be read. */
int ikconfig_from_image(const char *path, struct strbuf *out, struct strbuf *err);

#endif
