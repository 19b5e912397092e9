/* Private to lib/vm/initramfs*.c: the image's entry list.
 * initramfs_tree.c gathers it from the inputs (skeleton, agent, busybox,
 * includes, files, tools, library closures), resolves clashes, sorts it and
 * hashes every regular file; initramfs.c keys the cache on it and writes it. */
#ifndef KTSTR_INITRAMFS_TREE_H
#define KTSTR_INITRAMFS_TREE_H

#include "initramfs.h"
#include "initramfs_memo.h"
#include "hash.h"
#include "strvec.h"

#include <sys/types.h>

#define IO_CHUNK 65536

/* When two inputs claim one guest path the higher rank wins; equal ranks
 * must agree or the build fails.  Operator input beats anything derived. */
enum rank {
	RANK_PARENT,	/* implied parent directory */
	RANK_SKELETON,	/* the fixed root layout */
	RANK_APPLET,	/* busybox applet link */
	RANK_TOOL,	/* host tool packed where busybox has no applet */
	RANK_LIBRARY,	/* shared-library closure */
	RANK_EXPLICIT,	/* agent, busybox, includes, files */
};

struct ent {
	char *path;		/* guest path without the leading '/' */
	mode_t mode;		/* S_IF* | permission bits */
	char *src;		/* regular file: host source */
	char *link;		/* symlink: target */
	unsigned rmajor, rminor;	/* device node */
	enum rank rank;
	size_t seq;		/* insertion order, keeps the sort stable */
	char *what;		/* the input it came from, for messages */
	bool hashed;
	char sha[SHA256_HEX_LEN + 1];
	unsigned long long size;
	unsigned nlink;
};

struct build {
	struct ent *v;
	size_t n, alloc;
	struct strvec elves;	/* explicit regular files to scan for libraries */
	struct strvec libs;	/* library paths already packed */
	struct inmemo memo;	/* input hashes and applet lists of past builds */
	struct strvec missing;	/* host tools not found (initramfs_opts.host_tools) */
};

/* Fill b from o: sorted by guest path, one entry per path, parents
 * present, regular files hashed.  0, or -1 with the offending input and
 * the fix in err.  Release b with build_release either way; what was
 * learnt about the inputs is kept only by inmemo_save(&b->memo), which
 * the caller does once the image is safely in the cache. */
int initramfs_collect(const struct initramfs_opts *o, struct build *b, struct strbuf *err);
void build_release(struct build *b);

#endif
