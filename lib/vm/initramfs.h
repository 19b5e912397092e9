/* Guest initramfs builder, shared by ktstr-initramfs and ktstr-vm.
 *
 * The image is an uncompressed newc cpio holding a minimal root: the
 * static guest agent as /init, busybox and its applet links, host tools
 * busybox lacks (chrt, pkill, bpftool, ...), /dev/console
 * and /dev/null nodes (PID 1 needs a console before devtmpfs is mounted),
 * operator includes under /include-files, extra host files at fixed guest
 * paths, and the shared-library closure of every dynamically linked ELF
 * among them.
 *
 * Output is a pure function of the inputs' guest paths, types, modes and
 * contents: entries are sorted, owned by root, dated 1970, numbered in
 * order.  Images are cached under a key derived from exactly those
 * things, so an unchanged input set costs one hashing pass. */
#ifndef KTSTR_INITRAMFS_H
#define KTSTR_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

/* Where the kernel config goes in the image.  The agent links
 * /boot/config-$(uname -r), the first place libbpf looks, to it at boot:
 * the release string is only certain once the kernel runs. */
#define INITRAMFS_KCONFIG_PATH "/boot/config"

/* One host file placed at an exact guest path. */
struct initramfs_file {
	const char *src;	/* host path (symlinks followed) */
	const char *dest;	/* absolute guest path */
};

struct initramfs_opts {
	/* Static guest agent, packed as /init (mode 0755).  Required. */
	const char *agent;
	/* busybox binary, packed as /bin/busybox with a symlink to it for every
	 * applet `busybox --list-full` prints.  NULL packs no busybox. */
	const char *busybox;
	/* Operator includes: a file lands at /include-files/<basename>, a
	 * directory at /include-files/<basename>/ with its tree (symlinks kept
	 * as symlinks).  Basenames must be unique. */
	const char *const *includes;
	size_t n_includes;
	/* Extra host files at exact guest paths (scheduler binary, kernel
	 * config, ...).  They override busybox applets and libraries at the
	 * same path; two inputs at one path are an error. */
	const struct initramfs_file *files;
	size_t n_files;
	/* Also pack chrt, taskset, pkill, pgrep and bpftool from the host (at
	 * their host paths, with their libraries) where busybox has no
	 * applet of that name; missing ones are skipped (and listed in
	 * initramfs_result.missing_tools).  Off by default: with their
	 * libraries they add ~7 MB, and under TCG the image costs about
	 * 30 ms of boot per MB (issue 16). */
	bool host_tools;
	/* The host tools' paths, NULL-terminated; NULL: initramfs_host_tools
	 * (a test hook). */
	const char *const *tool_paths;
	/* Also write the image here (atomically).  NULL: the cache copy only. */
	const char *output;
	/* NULL: ktstr_cache_dir("initramfs"). */
	const char *cache_dir;
	/* The caller does not report the image's sha256: a cache hit then
	 * skips reading the whole image to hash it (ktstr-vm, every boot). */
	bool no_sha256;
	/* Check every input and work out the key, but write nothing: no
	 * image, no cache entry (ktstr-vm --dry-run).  r->path stays NULL. */
	bool check_only;
};

struct initramfs_result {
	char *path;		/* output, or the cache file when no output was asked */
	unsigned long long bytes;	/* size of the .cpio */
	unsigned files;		/* archive entries, trailer excluded */
	char sha256[65];	/* of the .cpio bytes; "" on a cache hit
				 * with no_sha256 */
	char key[65];		/* cache key (content hash of the entry list) */
	bool cached;		/* the cache already held this image */
	/* host_tools: the tools busybox lacks that this host has not either
	 * (not there, or not an executable file), left out of the image. */
	struct strvec missing_tools;
};

/* Build (or find in the cache) the image described by o.  Returns 0 and
 * fills r (release with initramfs_result_release), or -1 with one line in
 * err naming the offending input and the fix; no partial file is left at
 * the cache or output path. */
int initramfs_build(const struct initramfs_opts *o, struct initramfs_result *r,
		    struct strbuf *err);
void initramfs_result_release(struct initramfs_result *r);
/* What host_tools packs (NULL-terminated host paths). */
extern const char *const initramfs_host_tools[];
/* A host tool that can be packed: a regular file we may read and run (its
 * stat in *st).  One the image wants but is not, is missing. */
struct stat;
bool initramfs_tool_usable(const char *path, struct stat *st);
/* One warning on stderr per r->missing_tools entry: a --tools the user
 * asked for that the guest will not have in full. */
void initramfs_warn_missing_tools(const struct initramfs_result *r);

/* The name an include goes by under /include-files: the last component
 * the user typed, so "-i ./data/" becomes /include-files/data ("." and
 * ".." fall back to the real directory name).  NULL when there is none
 * ("/").  Caller frees. */
char *initramfs_include_name(const char *inc);

#endif
