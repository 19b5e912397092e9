/* Kernel sources from kernel.org (tarballs), git, local trees and Debian.
 *
 * Release discovery reads kernel.org's per-major sha256sums.asc
 * ("<sha256>  linux-6.14.2.tar.xz" lines), which both lists every release
 * and carries the published checksums; the bare id also consults
 * releases.json for the newest major.  The base URL is KTSTR_KERNEL_ORG_URL
 * (default https://cdn.kernel.org/pub/linux/kernel); releases.json is
 * KTSTR_KERNEL_RELEASES_URL, else <KTSTR_KERNEL_ORG_URL>/releases.json when
 * that is set, else https://www.kernel.org/releases.json.
 *
 * Functions returning int return a ktstr exit code (0 ok, 1 checksum
 * mismatch, 2 setup/network error) with a one-line message in err. */
#ifndef KTSTR_FETCH_H
#define KTSTR_FETCH_H
#include <stdbool.h>
#include <stddef.h>
#include "kernel_id.h"
#include "strbuf.h"

struct fetch_rel {
	struct kernel_ver ver;
	char version[64];	/* "6.14.2", "6.14" for x.y.0 */
	char *file;		/* "linux-6.14.2.tar.xz" */
	char *url;
	char sha256[65];
};

struct fetch_list {
	struct fetch_rel *r;
	size_t n, alloc;
};

/* Default is the kernel.org CDN; trailing slashes dropped.  Caller frees. */
char *fetch_base_url(void);
/* GET url into out.  On failure err gets "cannot fetch URL: <curl error>". */
int fetch_to_buf(const char *url, struct strbuf *out, struct strbuf *err);
/* Parse sha256sums.asc text, appending linux-*.tar.xz entries. */
void fetch_parse_sums(const char *text, const char *dir_url, struct fetch_list *l);
/* Versions named by a version/prefix/range/latest id, ascending. */
int fetch_resolve(const struct kernel_id *id, struct fetch_list *out, struct strbuf *err);
void fetch_list_release(struct fetch_list *l);

/* Download url to dest via "<dest>.part" (resumed if present, three tries
 * with backoff), verify sha256, rename into place. */
int fetch_download(const char *url, const char *dest, const char *sha256,
		   struct strbuf *err);
/* Extract a tarball whose top directory is linux-<ver>/ so that
 * dest_dir (".../linux-<ver>") appears atomically. */
int fetch_extract(const char *tarball, const char *dest_dir, struct strbuf *err);
/* "VERSION = 6" etc. from a tree's Makefile into buf; 0 or -1. */
int fetch_tree_version(const char *dir, char *buf, size_t size);
#endif
