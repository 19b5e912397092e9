#include "payload_host.h"
#include "diag.h"
#include "fsutil.h"
#include "initramfs.h"
#include "jsonl.h"
#include "payload.h"
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void host_add(struct payload_host_plan *p, const struct payload_def *d, size_t step)
{
	struct payload_host *h;
	size_t i;

	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	h = &p->v[p->n++];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(d->name ? d->name : "");
	h->program = xstrdup(d->program ? d->program : "");
	h->cgroup = d->cgroup ? xstrdup(d->cgroup) : NULL;
	h->own_cgroup = d->own_cgroup;
	h->copies = d->copies;
	h->form = d->form ? xstrdup(d->form) : NULL;
	h->args = (struct strvec)STRVEC_INIT;
	for (i = 0; i < d->n_args; i++)
		strvec_push(&h->args, d->args[i]);
	h->step = step;
}

/* Every payload of s in the order they start: the top level's, then each
 * step's start_payload ops. */
static void collect(const struct scenario *s, struct payload_host_plan *p)
{
	size_t i, j;

	for (i = 0; i < s->n_payloads; i++)
		host_add(p, &s->payloads[i], 0);
	for (i = 0; i < s->n_steps; i++)
		for (j = 0; j < s->steps[i].n_ops; j++)
			if (s->steps[i].ops[j].kind == OP_START_PAYLOAD)
				host_add(p, &s->steps[i].ops[j].payload, i + 1);
}

/* Two paths name the same file; a path that cannot be read counts as the
 * same, as the initramfs build reports the -i that does not exist. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return true;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A bare name: the -i file of that name, then PATH. */
static int find_bare(struct payload_host *h, const struct strvec *user, struct strbuf *err)
{
	const char *pkg = payload_package_of(h->program);
	size_t i;

	for (i = 0; i < user->n; i++) {
		char *name = initramfs_include_name(user->v[i]);
		bool match = name && !strcmp(name, h->program) && is_executable_file(user->v[i]);

		free(name);
		if (match) {
			h->path = xstrdup(user->v[i]);
			h->source = "include";
			return 0;
		}
	}
	h->path = find_program(h->program);
	h->source = "PATH";
	if (h->path && is_executable_file(h->path))
		return 0;
	if (pkg)
		strbuf_addf(err, "payload '%s': program '%s' not found in PATH; install the "
			    "Debian package %s (contrib/install-deps does)", h->name, h->program,
			    pkg);
	else
		strbuf_addf(err, "payload '%s': program '%s' not found in PATH; install it, "
			    "or give its path as the payload's program", h->name, h->program);
	return -1;
}

static int resolve_one(struct payload_host *h, const struct strvec *user, struct strbuf *err)
{
	h->package = payload_package_of(h->program);
	if (!strchr(h->program, '/'))
		return find_bare(h, user, err);
	h->source = "path";
	if (!is_executable_file(h->program)) {
		strbuf_addf(err, "payload '%s': program '%s' %s on this host; ktstr-vm packs it "
			    "into the guest from there, so fix the path%s", h->name, h->program,
			    access(h->program, F_OK) ? "does not exist" :
			    "is not an executable file", access(h->program, F_OK) ? "" :
			    " or its mode (chmod +x)");
		return -1;
	}
	h->path = xstrdup(h->program);
	return 0;
}

/* Add h's program to the includes unless the same file is there already;
 * a different file under the same /include-files name is an error. */
static int include_program(struct payload_host_plan *p, struct payload_host *h,
			   size_t n_user, struct strbuf *err)
{
	char *name = initramfs_include_name(h->path);
	size_t i;
	int rc = 0;

	h->guest_path = xasprintf("/include-files/%s", name ? name : "");
	for (i = 0; name && i < p->includes.n; i++) {
		char *other = initramfs_include_name(p->includes.v[i]);
		bool clash = other && !strcmp(other, name);

		free(other);
		if (!clash)
			continue;
		if (!same_file(p->includes.v[i], h->path)) {
			strbuf_addf(err, "payload '%s': program %s and %s %s are different files "
				    "that would both be /include-files/%s; %s", h->name, h->path,
				    i < n_user ? "-i" : "another payload's", p->includes.v[i],
				    name, i < n_user ? "drop or rename the -i" :
				    "give one of them another name");
			rc = -1;
		}
		goto out;
	}
	if (name)
		strvec_push(&p->includes, h->path);
out:
	free(name);
	return rc;
}

int payload_host_plan(const struct scenario *s, const struct strvec *user_includes,
		      struct payload_host_plan *p, struct strbuf *err)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->includes = (struct strvec)STRVEC_INIT;
	for (i = 0; i < user_includes->n; i++)
		strvec_push(&p->includes, user_includes->v[i]);
	collect(s, p);
	for (i = 0; i < p->n; i++)
		if (resolve_one(&p->v[i], user_includes, err) ||
		    include_program(p, &p->v[i], user_includes->n, err))
			return -1;
	return 0;
}

void payload_host_plan_release(struct payload_host_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct payload_host *h = &p->v[i];

		free(h->name);
		free(h->program);
		free(h->path);
		free(h->guest_path);
		free(h->cgroup);
		free(h->form);
		strvec_clear(&h->args);
	}
	free(p->v);
	strvec_clear(&p->includes);
	memset(p, 0, sizeof(*p));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *payload_host_record(const struct payload_host *h)
{
	json_t *rec = jsonl_record("payload_resolved");
	json_t *args = json_array();
	size_t i;

	json_set_str(rec, "name", h->name);
	json_set_str(rec, "program", h->program);
	json_object_set_new(rec, "path", str_or_null(h->path));
	json_object_set_new(rec, "guest_path", str_or_null(h->guest_path));
	json_object_set_new(rec, "source", str_or_null(h->source));
	json_object_set_new(rec, "package", str_or_null(h->package));
	json_object_set_new(rec, "cgroup", str_or_null(h->cgroup));
	json_set_bool(rec, "own_cgroup", h->own_cgroup);
	json_set_int(rec, "copies", h->copies);
	json_object_set_new(rec, "metrics", str_or_null(h->form));
	for (i = 0; i < h->args.n; i++)
		json_array_append_new(args, json_string(h->args.v[i]));
	json_object_set_new(rec, "args", args);
	json_set_int(rec, "step", (long long)h->step);
	return rec;
}

json_t *payload_host_includes_record(const struct payload_host_plan *p)
{
	json_t *rec = jsonl_record("includes_resolved");
	json_t *paths = json_array();
	size_t i;

	for (i = 0; i < p->includes.n; i++)
		json_array_append_new(paths, json_string(p->includes.v[i]));
	json_object_set_new(rec, "paths", paths);
	return rec;
}
