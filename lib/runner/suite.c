#include "suite.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "kernel.h"
#include "vm_request.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- kernels ------------------------------------------------------------ */

static void add_kernel(struct gauntlet_kernel **v, size_t *n, const struct kernel_found *kf,
		       const char *label)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].image, kf->image))
			return;		/* the same kernel named twice */
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].label = label ? xstrdup(label) : kernel_found_label(kf);
	(*v)[*n].image = xstrdup(kf->image);
	(*v)[*n].key = kf->key ? xstrdup(kf->key) : NULL;
	(*n)++;
}

/* KTSTR_KERNEL_LIST: "label=path;label=path". */
static int kernels_from_list(const char *list, struct gauntlet_kernel **v, size_t *n,
			     struct strbuf *err)
{
	char *copy = xstrdup(list), *save = NULL, *item;
	int rc = 0;

	for (item = strtok_r(copy, ";", &save); item && !rc; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct kernel_found kf;
		struct strbuf kerr = STRBUF_INIT;

		if (!eq || eq == item || !eq[1]) {
			strbuf_addf(err, "KTSTR_KERNEL_LIST entry '%s': expected LABEL=PATH; "
				    "entries are separated by ';'", item);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (kernel_find(eq + 1, &kf, &kerr) < 0) {
			strbuf_addf(err, "KTSTR_KERNEL_LIST entry '%s': %s", item, kerr.buf);
			rc = -1;
		} else {
			add_kernel(v, n, &kf, item);
		}
		kernel_found_release(&kf);
		strbuf_release(&kerr);
	}
	free(copy);
	return rc;
}

static int kernels_from_names(const struct strvec *names, struct gauntlet_kernel **v,
			      size_t *n, struct strbuf *err)
{
	struct strbuf kerr = STRBUF_INIT;
	size_t i, j;

	for (i = 0; i < names->n; i++) {
		struct kernel_found *kf;
		size_t nk;

		if (kernel_find_list(names->v[i], &kf, &nk, &kerr) < 0) {
			/* The lookup's messages name the kernel already, some as
			 * "--kernel=PATH": say --kernel once. */
			if (!strncmp(kerr.buf, "--kernel", 8))
				strbuf_addstr(err, kerr.buf);
			else
				strbuf_addf(err, "--kernel: %s", kerr.buf);
			strbuf_release(&kerr);
			return -1;
		}
		for (j = 0; j < nk; j++)
			add_kernel(v, n, &kf[j], NULL);
		kernel_found_free(kf, nk);
	}
	strbuf_release(&kerr);
	return 0;
}

int suite_kernels_resolve(const struct strvec *names, const char *list,
			  struct gauntlet_kernel **v, size_t *n, struct strbuf *err)
{
	struct kernel_found kf;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if (names->n)
		return kernels_from_names(names, v, n, err);
	if (list)
		return kernels_from_list(list, v, n, err);
	if (kernel_find(NULL, &kf, err) < 0)
		rc = -1;
	else
		add_kernel(v, n, &kf, NULL);
	kernel_found_release(&kf);
	return rc;
}

void suite_kernels_free(struct gauntlet_kernel *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].image);
		free(v[i].key);
	}
	free(v);
}

/* ---- ktstr-vm and sidecar directories ----------------------------------- */

char *suite_sibling_prog(const char *name)
{
	char *dir = ktstr_exe_dir();
	char *p = dir ? path_join(dir, name) : NULL;

	free(dir);
	if (p && access(p, X_OK) == 0)
		return p;
	free(p);
	return xstrdup(name);
}

char *suite_vm_prog(void)
{
	return suite_sibling_prog("ktstr-vm");
}

int suite_sidecar_dirs_open(const char *run_id, const struct gauntlet_kernel *kernels,
			    size_t nk, struct sidecar_dir **dirs,
			    const struct sidecar_dir ***dirp, struct strbuf *err)
{
	size_t i;

	*dirs = xcalloc(nk, sizeof(**dirs));
	*dirp = xcalloc(nk, sizeof(**dirp));
	for (i = 0; i < nk; i++)
		(*dirs)[i].lock_fd = -1;
	for (i = 0; i < nk; i++) {
		if (sidecar_dir_open(&(*dirs)[i], run_id, kernels[i].label, err) < 0)
			return -1;
		(*dirp)[i] = &(*dirs)[i];
	}
	return 0;
}

void suite_sidecar_dirs_close(struct sidecar_dir *dirs, const struct sidecar_dir **dirp,
			      size_t nk)
{
	size_t i;

	for (i = 0; dirs && i < nk; i++)
		sidecar_dir_close(&dirs[i]);
	free(dirs);
	free(dirp);
}

int suite_scheds_check(const struct gcase *c, size_t n, const char *default_key,
		       struct strbuf *err)
{
	struct strvec done = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	const char *key, *sched, *msg;
	size_t i;
	char *p;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		sched = gcase_scheduler(&c[i]);
		if (!sched || c[i].skip_reason)
			continue;
		key = c[i].kernel && c[i].kernel->key ? c[i].kernel->key : default_key;
		/* Once per scheduler and kernel: a suite repeats them a lot. */
		p = xasprintf("%s\t%s", key ? key : "", sched);
		if (!strvec_push_unique(&done, p)) {
			free(p);
			continue;
		}
		free(p);
		p = scheduler_resolve(sched, key, &why);
		if (p) {
			free(p);
			continue;
		}
		/* A test file's value is not --scheduler: name the file. */
		msg = why.buf;
		if (c[i].sched)
			strbuf_addstr(err, msg);
		else
			strbuf_addf(err, "%s: $.scheduler: %s", c[i].test->path,
				    strncmp(msg, "--scheduler ", 12) ? msg : msg + 12);
		rc = -1;
	}
	strvec_clear(&done);
	strbuf_release(&why);
	return rc;
}

/* ---- JUnit -------------------------------------------------------------- */

static const char *keep(struct suite_junit *j, char *s)
{
	strvec_push(&j->text, s);
	free(s);
	return j->text.v[j->text.n - 1];
}

static enum junit_status junit_status_of(enum case_outcome oc)
{
	switch (oc) {
	case CASE_PASS: return JUNIT_PASS;
	case CASE_SKIP: return JUNIT_SKIP;
	case CASE_FAIL: return JUNIT_FAIL;
	default: return JUNIT_ERROR;
	}
}

void suite_junit_add(struct suite_junit *j, const struct case_report *rep, const char *label,
		     const struct strbuf *detail)
{
	const struct caserun *r = rep->run;
	struct junit_case *jc;
	size_t i;

	j->v = xrealloc(j->v, (j->n + 1) * sizeof(*j->v));
	jc = &j->v[j->n++];
	memset(jc, 0, sizeof(*jc));
	jc->suite = rep->c->test->suite;
	jc->name = keep(j, xstrdup(label + strlen(rep->c->test->suite) + 1));
	jc->secs = rep->secs;
	jc->status = junit_status_of(rep->outcome);
	/* The JUnit message: the first failed check, else why it did not run. */
	for (i = 0; rep->outcome == CASE_FAIL && r && i < r->v.n_checks && !jc->message; i++)
		if (!r->v.checks[i].pass && !r->v.checks[i].by_host && r->v.checks[i].message) {
			jc->message = keep(j, xstrdup(r->v.checks[i].message));
			jc->type = r->v.checks[i].check;
		}
	if (rep->outcome == CASE_ERROR)
		jc->type = r && r->infra ? "infrastructure" : "error";
	/* JUnit has no "interrupted": an error, told apart by its type. */
	if (rep->outcome == CASE_INTERRUPTED)
		jc->type = "interrupted";
	if (!jc->message && (rep->reason || rep->outcome == CASE_FAIL))
		jc->message = keep(j, xstrdup(rep->reason ? rep->reason : "check failed"));
	if (detail->len)
		jc->detail = keep(j, xstrdup(detail->buf));
}

void suite_junit_release(struct suite_junit *j)
{
	free(j->v);
	strvec_clear(&j->text);
	j->v = NULL;
	j->n = 0;
}
