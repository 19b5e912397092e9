/* Kernel ids: the one grammar every ktstr program accepts for "which
 * kernel" (KTSTR_KERNEL, ktstr-fetch arguments, --kernel).
 *
 *   6.14.2                  exact version
 *   6.14, 6                 prefix: the highest 6.14.y / 6.x.y released
 *   "" (or all blanks)      latest stable series with >= 8 maintenance releases
 *   6.12..6.14, 6.12..=6.14 inclusive range (every release in between)
 *   git+URL#tag=NAME, git+URL#branch=NAME, git+URL#sha=<40 hex>
 *   /abs, ./rel, ../rel, ~/dir  a source tree used in place
 *   6.14.2-tarball-x86_64-kc1a2b3c4d..., local-abc1234..., debian-...  cache key
 *   debian                  Debian's prebuilt sched_ext kernel (newest cached
 *                           entry; the default flavour wins a version tie)
 *   debian:FLAVOUR          that flavour only: debian:amd64 (the generic
 *                           build), debian:cloud-amd64 */
#ifndef KTSTR_KERNEL_ID_H
#define KTSTR_KERNEL_ID_H
#include <stdbool.h>
#include "strbuf.h"

enum kernel_id_kind {
	KID_LATEST,	/* bare / empty */
	KID_VERSION,	/* exact x.y.z */
	KID_PREFIX,	/* x or x.y */
	KID_RANGE,
	KID_GIT,
	KID_PATH,
	KID_CACHE_KEY,
	KID_DEBIAN,
};

enum kernel_git_ref { KGIT_TAG, KGIT_BRANCH, KGIT_SHA };

/* A release number with 1 to 3 components; missing ones read as 0. */
struct kernel_ver {
	unsigned long v[3];
	int n;
};

struct kernel_id {
	enum kernel_id_kind kind;
	char *text;			/* the id as given (trimmed) */
	struct kernel_ver ver;		/* KID_VERSION, KID_PREFIX */
	struct kernel_ver lo, hi;	/* KID_RANGE, both inclusive */
	enum kernel_git_ref git_ref;	/* KID_GIT */
	char *git_url, *git_name;	/* KID_GIT */
	char *path;			/* KID_PATH (~ expanded), KID_CACHE_KEY */
	char *flavour;			/* KID_DEBIAN: "amd64" of debian:amd64, else NULL */
};

/* Debian's default kernel flavour: what "debian" fetches and prefers. */
#define KERNEL_DEBIAN_FLAVOUR "cloud-amd64"

/* The accepted forms, for error messages. */
extern const char kernel_id_forms[];

/* Parse s into id.  0 on success; -1 with a one-line message in err naming
 * the id and the fix.  id must be released either way. */
int kernel_id_parse(const char *s, struct kernel_id *id, struct strbuf *err);
void kernel_id_release(struct kernel_id *id);
const char *kernel_id_kind_name(enum kernel_id_kind k);

/* "6", "6.14", "6.14.2": 0 or -1.  Only digits and dots. */
int kernel_ver_parse(const char *s, size_t len, struct kernel_ver *v);
/* Compare with missing components as 0. */
int kernel_ver_cmp(const struct kernel_ver *a, const struct kernel_ver *b);
/* True when v's first prefix->n components equal prefix's. */
bool kernel_ver_has_prefix(const struct kernel_ver *v, const struct kernel_ver *prefix);
/* v within [lo, hi], where hi covers everything it is a prefix of. */
bool kernel_ver_in_range(const struct kernel_ver *v, const struct kernel_ver *lo,
			 const struct kernel_ver *hi);
/* Format as kernel.org names releases: "6.14" for x.y.0, "6.14.2"
 * otherwise, "6" for a one-component prefix. */
void kernel_ver_format(const struct kernel_ver *v, char *buf, size_t size);
#endif
