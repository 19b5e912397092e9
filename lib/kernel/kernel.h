/* Finding a bootable kernel: the discovery chain and image checks. */
#ifndef KTSTR_KERNEL_H
#define KTSTR_KERNEL_H

#include "strbuf.h"

struct kernel_found {
	char *image;	/* bootable image (bzImage) */
	char *config;	/* its .config when known, else NULL */
	char *key;	/* cache key when it came from the cache, else NULL */
	char *source;	/* which step of the chain found it, for the records */
	char *version;	/* the cache entry's version, else NULL */
	char *flavour;	/* a Debian entry's flavour ("amd64"), else NULL */
};

/* Resolve the kernel to boot.  explicit (a --kernel argument) wins; then
 * KTSTR_TEST_KERNEL (set-but-empty is an error); KTSTR_KERNEL as a path,
 * version or cache key; the newest cache entry whose kconfig is current;
 * ./linux, ../linux, /lib/modules/$(uname -r)/build; installed kernels.
 * Returns 0, or -1 with one actionable sentence in err. */
int kernel_find(const char *explicit, struct kernel_found *kf, struct strbuf *err);
void kernel_found_release(struct kernel_found *kf);
/* The kernel one id names, with KTSTR_KERNEL's grammar (a path, version,
 * cache key or debian) and its fallback to a local kernel; what names the
 * input in err ("--kernel", "KTSTR_KERNEL").  The environment is not
 * consulted.  0, or -1 with one sentence in err. */
int kernel_find_id(const char *what, const char *id, struct kernel_found *kf,
		   struct strbuf *err);

/* Every kernel one id names, for runners that boot several: a path, a
 * cache key, "debian[:FLAVOUR]", an exact version or prefix (the highest cached
 * match), a range (one cached kernel per version in it, ascending) or ""
 * (the newest valid cache entry).  Only the cache and the filesystem are
 * consulted: nothing is downloaded or built.  Returns 0 with *n >= 1, or
 * -1 with one sentence in err that names the id and how to get a kernel
 * for it.  Free with kernel_found_free. */
int kernel_find_list(const char *id, struct kernel_found **out, size_t *n,
		     struct strbuf *err);
void kernel_found_free(struct kernel_found *v, size_t n);
/* A short name for case names and run directories: the version when
 * known ("7.3.4+deb13"; with its flavour for a Debian kernel of a
 * flavour other than cloud-amd64: "7.3.4+deb13-amd64", Debian's release
 * name, so two flavours of one version stay apart), else the cache key,
 * else the image's directory name.  Caller frees. */
char *kernel_found_label(const struct kernel_found *kf);

/* The kernel config that belongs to image: "config" or config-X beside
 * it (for vmlinuz-X, bzImage-X, vmlinux-X), else the image's own IKCONFIG
 * copy, extracted once into the cache.  NULL when there is none.  Caller
 * frees. */
char *kernel_config_for_image(const char *image);

/* 0 if path is a readable kernel config (has a CONFIG_ line); -1 with
 * one sentence naming it and the fix in err otherwise. */
int kernel_config_check(const char *path, struct strbuf *err);

/* 0 if path is an x86 bzImage; -1 with a reason in err otherwise. */
int kernel_image_check(const char *path, struct strbuf *err);

/* crc32 of ktstr.kconfig as 8 hex digits ("" when the file is missing). */
const char *kernel_kconfig_hash(void);

#endif
