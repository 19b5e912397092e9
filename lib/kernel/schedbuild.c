/* Scheduler tree builds against a cached kernel; see schedbuild.h. */
#include "schedbuild.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "hash.h"
#include "kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int schedbuild_kernel_entry(const struct schedbuild *o, char **entry, struct strbuf *err)
{
	struct kernel_found kf;
	char *dir, *meta;
	int rc;

	if (o->kernel_dir) {
		*entry = xstrdup(o->kernel_dir);
		return 0;
	}
	/* --kernel takes the one grammar for kernel ids, KTSTR_KERNEL's. */
	if (o->kernel)
		rc = kernel_find_id("--kernel", o->kernel, &kf, err);
	else
		rc = kernel_find(NULL, &kf, err);
	if (rc)
		return -1;
	dir = path_dirname(kf.image);
	meta = path_join(dir, "metadata.json");
	rc = 0;
	if (!is_regular_file(meta)) {
		strbuf_addf(err, "the kernel %s%s resolved to %s (via %s), which is not in "
			    "the kernel cache; pass --kernel with a cache key or version, or "
			    "build one with ktstr-fetch | ktstr-build",
			    o->kernel ? "--kernel " : "to build against",
			    o->kernel ? o->kernel : "", kf.image, kf.source);
		free(dir);
		dir = NULL;
		rc = -1;
	}
	*entry = dir;
	free(meta);
	kernel_found_release(&kf);
	return rc;
}

int schedbuild_out_dir(const char *tree, const char *entry, char **out,
		       struct strbuf *err)
{
	char hex[SHA256_HEX_LEN + 1], *root = ktstr_cache_dir("schedulers");
	char *e;
	size_t n;

	if (!root) {
		strbuf_addstr(err, "no cache directory: set KTSTR_CACHE_DIR or HOME, or "
			      "pass --out");
		return -1;
	}
	e = xstrdup(entry);
	n = strlen(e);
	while (n > 1 && e[n - 1] == '/')
		e[--n] = '\0';
	sha256_buf_hex(tree, strlen(tree), hex);
	*out = xasprintf("%s/%s/custom-%.12s", root, path_basename(e), hex);
	free(root);
	free(e);
	return 0;
}

static void push_args(const struct schedbuild *o, const char *helper, const char *real,
		      const char *entry, const char *out, struct strvec *argv)
{
	char jobs[32];

	snprintf(jobs, sizeof(jobs), "%lu", o->jobs);
	strvec_push(argv, helper);
	strvec_push(argv, "--sched");
	strvec_push(argv, real);
	strvec_push(argv, "--kernel-dir");
	strvec_push(argv, entry);
	strvec_push(argv, "--out");
	strvec_push(argv, out);
	strvec_push(argv, "-j");
	strvec_push(argv, jobs);
	if (o->clang) {
		strvec_push(argv, "--clang");
		strvec_push(argv, o->clang);
	}
}

int schedbuild_argv(const struct schedbuild *o, struct strvec *argv, struct strbuf *err)
{
	char *real = NULL, *entry = NULL, *out = NULL, *helper = NULL;
	int rc = -1;

	if (!is_directory(o->tree)) {
		strbuf_addf(err, "--sched %s: no such directory; pass a scheduler tree laid "
			    "out like the kernel's tools/sched_ext", o->tree);
		return -1;
	}
	if (schedbuild_kernel_entry(o, &entry, err))
		return -1;
	real = realpath(o->tree, NULL);
	if (!real) {
		strbuf_addf(err, "--sched %s: %s", o->tree, strerror(errno));
		goto out;
	}
	if (o->out)
		out = xstrdup(o->out);
	else if (schedbuild_out_dir(real, entry, &out, err))
		goto out;
	helper = ktstr_share_path("build-sched-tree");
	if (access(helper, X_OK) < 0) {
		strbuf_addf(err, "%s not found next to ktstr-build; is ktstr installed?",
			    helper);
		goto out;
	}
	push_args(o, helper, real, entry, out, argv);
	rc = 0;
out:
	free(real);
	free(entry);
	free(out);
	free(helper);
	return rc;
}
