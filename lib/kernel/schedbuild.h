/* Building a C sched_ext scheduler tree (laid out like the kernel's
 * tools/sched_ext) against a cached kernel: which cache entry, where the
 * binaries go, and the command line of share/ktstr/build-sched-tree, which
 * does the compiling and prints the records. */
#ifndef KTSTR_SCHEDBUILD_H
#define KTSTR_SCHEDBUILD_H

#include "strbuf.h"
#include "strvec.h"

struct schedbuild {
	const char *tree;	/* the scheduler tree */
	const char *kernel;	/* --kernel: an id, KTSTR_KERNEL's grammar */
	const char *kernel_dir;	/* --kernel-dir: a cache entry directory */
	const char *out;	/* NULL: the scheduler cache */
	const char *clang;	/* NULL: the helper picks one */
	unsigned long jobs;
};

/* The cache entry directory to build against: kernel_dir as given, else
 * the kernel the id names, else the discovery chain (as ktstr-vm); it
 * must be a kernel cache entry.  Caller frees *entry.  0 or -1. */
int schedbuild_kernel_entry(const struct schedbuild *o, char **entry, struct strbuf *err);

/* Default output directory for tree built against entry:
 * <scheduler cache>/<entry's key>/custom-<sha256 of tree, 12 hex>.
 * tree should be a real path.  Caller frees *out.  0 or -1. */
int schedbuild_out_dir(const char *tree, const char *entry, char **out,
		       struct strbuf *err);

/* The helper's argv (argv[0] its full path), ready for exec.  0 or -1
 * with the problem (missing tree, kernel, helper) in err. */
int schedbuild_argv(const struct schedbuild *o, struct strvec *argv, struct strbuf *err);

#endif
