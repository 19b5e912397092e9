/* What ktstr-test sets up around runner_run: the kernels of the run, the
 * ktstr-vm it starts, a sidecar directory per kernel and the JUnit cases
 * its reports make. */
#ifndef KTSTR_SUITE_H
#define KTSTR_SUITE_H

#include <stddef.h>
#include "gauntlet.h"
#include "junit.h"
#include "runner.h"
#include "sidecar.h"
#include "strbuf.h"
#include "strvec.h"

/* The kernels to run on: each of names (--kernel: versions, ranges, keys,
 * paths; one name may stand for several), else list (KTSTR_KERNEL_LIST,
 * "label=path;label=path"), else the discovery chain's one.  A kernel
 * named twice is kept once.  0, or -1 with err. */
int suite_kernels_resolve(const struct strvec *names, const char *list,
			  struct gauntlet_kernel **v, size_t *n, struct strbuf *err);
void suite_kernels_free(struct gauntlet_kernel *v, size_t n);

/* The scheduler of every case in c[0..n) that will run, resolved as
 * ktstr-vm resolves it for the case's kernel (default_key: the key of a
 * case with no kernel of its own), so a name that is not built, not in
 * PATH or a bad path stops the run before any case.  0, or -1 with one
 * line in err naming --scheduler or the test file's $.scheduler. */
int suite_scheds_check(const struct gcase *c, size_t n, const char *default_key,
		       struct strbuf *err);

/* The ktstr-vm beside this program, else "ktstr-vm" from PATH. */
char *suite_vm_prog(void);
/* Likewise for another ktstr program (name: "ktstr-stats"). */
char *suite_sibling_prog(const char *name);

/* Open a sidecar directory of run_id for every kernel; dirs and dirp get
 * nk entries (dirp[i] = &dirs[i]) to close with suite_sidecar_dirs_close
 * whatever this returns.  0, or -1 with err. */
int suite_sidecar_dirs_open(const char *run_id, const struct gauntlet_kernel *kernels,
			    size_t nk, struct sidecar_dir **dirs,
			    const struct sidecar_dir ***dirp, struct strbuf *err);
void suite_sidecar_dirs_close(struct sidecar_dir *dirs, const struct sidecar_dir **dirp,
			      size_t nk);

/* The JUnit cases of a run, with the strings they point at. */
struct suite_junit {
	struct junit_case *v;
	size_t n;
	struct strvec text;
};
#define SUITE_JUNIT_INIT { NULL, 0, STRVEC_INIT }

/* Add rep's case, named label (its full name, the suite first) with
 * detail (the failure block, or empty): the first failed check's message,
 * else why it did not run. */
void suite_junit_add(struct suite_junit *j, const struct case_report *rep, const char *label,
		     const struct strbuf *detail);
void suite_junit_release(struct suite_junit *j);

#endif
