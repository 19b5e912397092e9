/* A kernel id's source into the cache; see fetch_source.h. */
#include "fetch_source.h"
#include "diag.h"
#include "dirs.h"
#include "fetch.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *cache_sub(const char *kind, struct strbuf *err)
{
	char *d = ktstr_cache_dir(kind);

	if (!d)
		strbuf_addstr(err, "cannot locate a cache directory: set HOME, "
			      "XDG_CACHE_HOME or KTSTR_CACHE_DIR");
	return d;
}

static json_t *source_record(const struct kernel_id *id, const char *version,
			     const char *kind, const char *path)
{
	json_t *o = jsonl_record("source");

	json_set_str(o, "id", id->text);
	json_set_str(o, "version", version);
	json_set_str(o, "kind", kind);
	json_set_str(o, "path", path);
	return o;
}

static json_t *release_record(const struct kernel_id *id)
{
	json_t *o = jsonl_record("release");

	json_set_str(o, "id", id->text);
	return o;
}

/* ---- kernel.org releases ------------------------------------------------ */

/* The verified tarball, downloaded unless a good copy is cached;
 * *cached cleared when it was fetched. */
static int get_tarball(const struct fetch_rel *r, const char *tarball, bool *cached,
		       struct strbuf *err)
{
	if (is_regular_file(tarball)) {
		char hex[SHA256_HEX_LEN + 1];

		if (sha256_file_hex(tarball, hex) || strcmp(hex, r->sha256))
			unlink(tarball);	/* damaged: fetch again */
	}
	if (is_regular_file(tarball))
		return 0;
	*cached = false;
	return fetch_download(r->url, tarball, r->sha256, err);
}

static int fetch_release(const struct kernel_id *id, const struct fetch_rel *r,
			 const struct fetch_opts *o, struct strbuf *err)
{
	char *tdir = cache_sub("tarballs", err), *sdir = cache_sub("sources", err);
	char *tarball = NULL, *src = NULL;
	bool cached = true;
	json_t *rec;
	int rc = KTSTR_EXIT_USAGE;

	if (!tdir || !sdir)
		goto out;
	tarball = path_join(tdir, r->file);
	src = xasprintf("%s/linux-%s", sdir, r->version);
	rc = 0;
	if (o->no_extract || !is_directory(src)) {
		if ((rc = get_tarball(r, tarball, &cached, err)))
			goto out;
	}
	if (!o->no_extract && !is_directory(src)) {
		cached = false;
		if (mkdir_p(sdir, 0755)) {
			strbuf_addf(err, "cannot create %s: %s", sdir, strerror(errno));
			rc = KTSTR_EXIT_USAGE;
			goto out;
		}
		if ((rc = fetch_extract(tarball, src, err)))
			goto out;
	}
	rec = source_record(id, r->version, "tarball", o->no_extract ? tarball : src);
	json_set_str(rec, "tarball", tarball);
	json_set_str(rec, "url", r->url);
	json_set_str(rec, "sha256", r->sha256);
	json_set_bool(rec, "cached", cached);
	o->emit(rec, o->ctx);
out:
	free(tdir);
	free(sdir);
	free(tarball);
	free(src);
	return rc;
}

struct job {
	pid_t pid;
	int fd;
};

/* A child's records go down its pipe. */
static void emit_to_fd(json_t *rec, void *ctx)
{
	jsonl_emit_fd(*(int *)ctx, rec);
}

static int start_job(const struct kernel_id *id, const struct fetch_rel *r,
		     const struct fetch_opts *o, struct job *j, struct strbuf *err)
{
	int p[2];

	if (pipe(p)) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0) {
		strbuf_addf(err, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (j->pid == 0) {
		struct fetch_opts co = *o;
		struct strbuf cerr = STRBUF_INIT;
		int rc;

		close(p[0]);
		co.emit = emit_to_fd;
		co.ctx = &p[1];
		rc = fetch_release(id, r, &co, &cerr);
		if (rc)
			diag("%s", cerr.buf);
		fflush(NULL);
		_exit(rc);
	}
	close(p[1]);
	j->fd = p[0];
	return 0;
}

/* Collect one job: its records are passed on in release order. */
static int finish_job(struct job *j, const struct fetch_opts *o)
{
	struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
	const char *p, *nl;
	int rc;

	strbuf_read_fd(&out, j->fd);
	close(j->fd);
	rc = run_wait(j->pid);
	for (p = out.buf; p < out.buf + out.len; p = nl + 1) {
		json_t *rec;

		nl = memchr(p, '\n', (size_t)(out.buf + out.len - p));
		if (!nl)
			nl = out.buf + out.len;
		rec = jsonl_parse(p, (size_t)(nl - p), &perr);
		if (rec)
			o->emit(rec, o->ctx);
	}
	strbuf_release(&perr);
	strbuf_release(&out);
	return rc < 0 ? KTSTR_EXIT_USAGE : rc;
}

/* Up to o->jobs downloads at once, one child process each; children
 * report their own errors.  Returns the highest exit code. */
static int fetch_parallel(const struct kernel_id *id, const struct fetch_list *l,
			  const struct fetch_opts *o, struct strbuf *err)
{
	struct job *jobs = xcalloc(l->n, sizeof(*jobs));
	size_t next = 0;
	bool broken = false;	/* no more children: collect those running */
	int worst = 0;

	for (size_t i = 0; i < l->n; i++) {
		int rc;

		while (!broken && next < l->n && next - i < o->jobs) {
			if (start_job(id, &l->r[next], o, &jobs[next], err)) {
				broken = true;
				worst = KTSTR_EXIT_USAGE;
				break;
			}
			next++;
		}
		if (i >= next)
			break;
		rc = finish_job(&jobs[i], o);
		if (rc > worst)
			worst = rc;
	}
	free(jobs);
	return worst;
}

static int do_releases(const struct kernel_id *id, const struct fetch_opts *o,
		       struct strbuf *err)
{
	struct fetch_list l = { 0 };
	int rc = fetch_resolve(id, &l, err);

	if (!rc && !o->list && o->jobs > 1 && l.n > 1) {
		rc = fetch_parallel(id, &l, o, err);
		fetch_list_release(&l);
		return rc;
	}
	for (size_t i = 0; !rc && i < l.n; i++) {
		if (o->list) {
			json_t *rec = release_record(id);

			json_set_str(rec, "version", l.r[i].version);
			json_set_str(rec, "url", l.r[i].url);
			json_set_str(rec, "sha256", l.r[i].sha256);
			o->emit(rec, o->ctx);
		} else {
			rc = fetch_release(id, &l.r[i], o, err);
		}
	}
	fetch_list_release(&l);
	return rc;
}

/* ---- trees, cache keys ---------------------------------------------------- */

static int do_path(const struct kernel_id *id, const struct fetch_opts *o,
		   struct strbuf *err)
{
	char ver[64];
	json_t *rec;

	if (!is_directory(id->path)) {
		strbuf_addf(err, "kernel id '%s': %s is not a directory", id->text, id->path);
		return KTSTR_EXIT_USAGE;
	}
	if (fetch_tree_version(id->path, ver, sizeof(ver))) {
		strbuf_addf(err, "kernel id '%s': %s/Makefile has no 'VERSION =' line; "
			    "not a kernel source tree", id->text, id->path);
		return KTSTR_EXIT_USAGE;
	}
	if (o->list) {
		rec = release_record(id);
		json_set_str(rec, "version", ver);
	} else {
		rec = source_record(id, ver, "path", id->path);
		json_set_bool(rec, "cached", true);
	}
	o->emit(rec, o->ctx);
	return 0;
}

static int do_cache_key(const struct kernel_id *id, const struct fetch_opts *o,
			struct strbuf *err)
{
	char *kdir = cache_sub("kernels", err), *p;
	int rc = 0;

	if (!kdir)
		return KTSTR_EXIT_USAGE;
	p = path_join(kdir, id->path);
	if (!is_directory(p)) {
		strbuf_addf(err, "kernel id '%s': no such cache entry in %s", id->text, kdir);
		rc = KTSTR_EXIT_USAGE;
	} else {
		json_t *rec = source_record(id, "", "cache", p);

		json_set_bool(rec, "cached", true);
		o->emit(rec, o->ctx);
	}
	free(kdir);
	free(p);
	return rc;
}

/* ---- git ------------------------------------------------------------------ */

/* Shallow-fetch the id's ref into the fresh directory tmp; 0, or -1 with
 * git's first line of complaint in err. */
static int git_fetch(const struct kernel_id *id, const char *tmp, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, gerr = STRBUF_INIT;
	char *nl;
	int rc = 0;

	if (id->git_ref == KGIT_SHA) {
		const char *init[] = { "git", "init", "-q", tmp, NULL };
		const char *fetch[] = { "git", "-C", tmp, "fetch", "-q", "--depth", "1",
					id->git_url, id->git_name, NULL };
		const char *co[] = { "git", "-C", tmp, "checkout", "-q", "FETCH_HEAD", NULL };

		if (run_capture(init, &out, &gerr) != 0 ||
		    run_capture(fetch, &out, &gerr) != 0 ||
		    run_capture(co, &out, &gerr) != 0)
			rc = -1;
	} else {
		const char *clone[] = { "git", "clone", "-q", "--depth", "1", "--branch",
					id->git_name, id->git_url, tmp, NULL };

		rm_rf(tmp);
		if (run_capture(clone, &out, &gerr) != 0)
			rc = -1;
	}
	if (rc) {
		strbuf_trim(&gerr);
		if ((nl = strchr(gerr.buf, '\n')))
			*nl = '\0';
		strbuf_addf(err, "kernel id '%s': git could not fetch %s %s: %s", id->text,
			    id->git_url, id->git_name, gerr.len && *gerr.buf ? gerr.buf : "failed");
	}
	strbuf_release(&out);
	strbuf_release(&gerr);
	return rc;
}

/* The checkout of the id in the source cache, cloned unless there. */
static int git_checkout(const struct kernel_id *id, const char *dest, struct strbuf *err)
{
	char *sdir = path_dirname(dest), *tmp = make_temp_dir(sdir, ".git-");
	int rc = -1;

	if (!tmp) {
		strbuf_addf(err, "cannot create a directory under %s: %s", sdir,
			    strerror(errno));
	} else if (git_fetch(id, tmp, err) == 0) {
		if (rename(tmp, dest) && errno != EEXIST && errno != ENOTEMPTY)
			strbuf_addf(err, "cannot rename into %s: %s", dest, strerror(errno));
		else
			rc = 0;
	}
	if (tmp)
		rm_rf(tmp);
	free(tmp);
	free(sdir);
	return rc;
}

/* <source cache>/git-<12 hex of url, ref kind and name>. */
static char *git_dest(const struct kernel_id *id, struct strbuf *err)
{
	char hex[SHA256_HEX_LEN + 1], *sdir = cache_sub("sources", err), *dest;
	char *key;

	if (!sdir)
		return NULL;
	key = xasprintf("%s#%d=%s", id->git_url, (int)id->git_ref, id->git_name);
	sha256_buf_hex(key, strlen(key), hex);
	hex[12] = '\0';
	dest = xasprintf("%s/git-%s", sdir, hex);
	free(key);
	free(sdir);
	return dest;
}

static int do_git(const struct kernel_id *id, const struct fetch_opts *o,
		  struct strbuf *err)
{
	char *git = find_program("git"), *dest = NULL, ver[64];
	bool cached = true;
	json_t *rec;
	int rc = KTSTR_EXIT_USAGE;

	if (o->list) {
		rec = release_record(id);
		json_set_str(rec, "url", id->git_url);
		json_set_str(rec, "ref", id->git_name);
		o->emit(rec, o->ctx);
		rc = 0;
	} else if (!git) {
		strbuf_addf(err, "kernel id '%s': git is not installed; install git or use "
			    "a version or path", id->text);
	} else if ((dest = git_dest(id, err)) &&
		   (is_directory(dest) || (cached = false, git_checkout(id, dest, err) == 0))) {
		if (fetch_tree_version(dest, ver, sizeof(ver))) {
			strbuf_addf(err, "kernel id '%s': the checkout has no Makefile with "
				    "'VERSION ='; not a kernel tree", id->text);
		} else {
			rec = source_record(id, ver, "git", dest);
			json_set_str(rec, "url", id->git_url);
			json_set_str(rec, "ref", id->git_name);
			json_set_bool(rec, "cached", cached);
			o->emit(rec, o->ctx);
			rc = 0;
		}
	}
	free(git);
	free(dest);
	return rc;
}

/* ---- Debian ------------------------------------------------------------- */

int fetch_script_record(const char *out, size_t len, json_t **rec, struct strbuf *err)
{
	size_t end = len, start;

	while (end && (out[end - 1] == '\n' || out[end - 1] == '\r'))
		end--;
	for (start = end; start && out[start - 1] != '\n'; start--)
		;
	if (start == end) {
		strbuf_addstr(err, "no output");
		return -1;
	}
	*rec = jsonl_parse(out + start, end - start, err);
	return *rec ? 0 : -1;
}

static int do_debian(const struct kernel_id *id, const struct fetch_opts *o,
		     struct strbuf *err)
{
	char *script = ktstr_share_path("fetch-debian-kernel");
	/* debian:FLAVOUR wins over KTSTR_DEBIAN_FLAVOUR, which the script
	 * reads when no --flavour is given. */
	const char *argv[] = { script, id->flavour ? "--flavour" : NULL, id->flavour, NULL };
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	json_t *in = NULL, *rec, *v;
	const char *k;
	int rc = 0;

	if (o->list) {
		rec = release_record(id);
		json_set_str(rec, "kind", "debian");
		if (id->flavour)
			json_set_str(rec, "flavour", id->flavour);
		o->emit(rec, o->ctx);
		goto out;
	}
	rc = run_capture(argv, &out, NULL);	/* its diagnostics pass through */
	if (rc != 0) {
		strbuf_addf(err, "kernel id '%s': %s failed (exit %d)", id->text, script, rc);
		rc = rc == KTSTR_EXIT_FAIL ? KTSTR_EXIT_FAIL : KTSTR_EXIT_USAGE;
		goto out;
	}
	if (fetch_script_record(out.buf, out.len, &in, &why)) {
		strbuf_addf(err, "kernel id '%s': %s printed no JSON record", id->text, script);
		rc = KTSTR_EXIT_USAGE;
		goto out;
	}
	rec = jsonl_record("source");
	json_set_str(rec, "id", id->text);
	json_object_foreach(in, k, v) {
		if (strcmp(k, "type") && strcmp(k, "id"))
			json_object_set(rec, k, v);
	}
	json_set_str(rec, "kind", "debian");
	o->emit(rec, o->ctx);
out:
	json_decref(in);
	strbuf_release(&out);
	strbuf_release(&why);
	free(script);
	return rc;
}

int fetch_source(const struct kernel_id *id, const struct fetch_opts *o,
		 struct strbuf *err)
{
	switch (id->kind) {
	case KID_PATH: return do_path(id, o, err);
	case KID_GIT: return do_git(id, o, err);
	case KID_CACHE_KEY: return do_cache_key(id, o, err);
	case KID_DEBIAN: return do_debian(id, o, err);
	default: return do_releases(id, o, err);
	}
}
