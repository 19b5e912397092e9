/* Building a kernel source tree for ktstr and storing it in the kernel
 * cache (lib/kernel/kcache.h): the cache key of a tree, make defconfig +
 * ktstr.kconfig + olddefconfig, make bzImage, and the staged publish.
 *
 * Functions returning int return a ktstr exit code, as lib/kernel/fetch.h
 * does: 0 ok, KTSTR_EXIT_FAIL when make failed (the build's fault),
 * KTSTR_EXIT_USAGE for a bad source or setup; the reason is one line in
 * err. */
#ifndef KTSTR_KBUILD_H
#define KTSTR_KBUILD_H

#include <jansson.h>
#include <stdbool.h>
#include "kcache.h"
#include "strbuf.h"

/* One tree to build, as ktstr-fetch describes it. */
struct kbuild_source {
	char *kind;		/* tarball, git, path or debian */
	char *path;
	char *version;		/* NULL until asked ('make kernelversion') */
	char *ref, *url;	/* git sources; NULL otherwise */
	bool dirty;		/* git tree with modified tracked files */
};

struct kbuild {
	char *root;		/* the kernel cache */
	unsigned long jobs;	/* make -j */
	bool force;		/* rebuild a cached key */
	struct strbuf extra;	/* --extra-kconfig content */
	char xkc[9];		/* its crc32, "" when none */
	char *failed_log;	/* after a failed make: its log, for the tail */
};

/* Ready b for builds into root (taken over): read the extra kconfig
 * fragment (extra_path may be NULL), check ktstr.kconfig is installed and
 * drop the caller's make settings (MAKEFLAGS, O=, ARCH=, ...) from the
 * environment so they never reach the kernel's Makefiles.  0 or -1. */
int kbuild_init(struct kbuild *b, char *root, const char *extra_path,
		struct strbuf *err);
void kbuild_release(struct kbuild *b);

/* 30% of the CPUs this process may use, at least 1. */
unsigned long kbuild_default_jobs(void);

/* The source a {"type":"source"} record names (copied into s; release
 * with kbuild_source_release).  0, or -1 with the problem in err. */
int kbuild_source_from_record(const json_t *rec, struct kbuild_source *s,
			      struct strbuf *err);
void kbuild_source_release(struct kbuild_source *s);

/* The cache key of s (asking make for its version when unknown, noting
 * in s->dirty a git tree with local changes).  Caller frees *key. */
int kbuild_cache_key(const struct kbuild *b, struct kbuild_source *s, char **key,
		     struct strbuf *err);

/* Which options ktstr needs are not =y in the config file, as a
 * ", "-separated list appended to missing ("<config> unreadable" when it
 * cannot be read).  Returns how many are missing (1 when unreadable). */
int kbuild_missing_options(const char *config, struct strbuf *missing);

/* The kernel for s in the cache: reused when its key is there (and not
 * forced or dirty), else built and stored under the store lock.  Kind
 * debian is an entry already.  e is filled (release it); *cached says it
 * was reused.  On a failed make b->failed_log names the log. */
int kbuild_get(struct kbuild *b, struct kbuild_source *s, struct kcache_entry *e,
	       bool *cached, struct strbuf *err);

/* The last lines (at most max) of a build log, appended to out. */
void kbuild_log_tail(const char *log, size_t max, struct strbuf *out);

#endif
