/* ktstr-fetch: resolve kernel ids and fetch their sources (kernel.org
 * tarballs, git, local trees, Debian's prebuilt kernel), reporting each as
 * a JSON line. */
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fetch.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "kernel_id.h"
#include "opts.h"
#include "run.h"
#include "strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
"usage: ktstr-fetch [options] [ID...]\n"
"\n"
"Resolve kernel ids and fetch their sources into the ktstr cache, printing\n"
"one JSON line per source on stdout:\n"
"  {\"type\":\"source\",\"id\":..,\"version\":..,\"kind\":..,\"path\":..,...}\n"
"With no ID, fetch the latest stable series with at least 8 maintenance\n"
"releases.\n"
"\n"
"IDs: 6.14.2 (exact), 6.14 or 6 (highest release), 6.12..6.14 or\n"
"6.12..=6.14 (every release in the inclusive range), git+URL#tag=NAME,\n"
"git+URL#branch=NAME, git+URL#sha=<40-hex>, a path (/abs, ./rel, ~/dir),\n"
"a cache key, or debian (Debian's prebuilt sched_ext kernel).\n"
"\n"
"  -l, --list          print the resolved releases, download nothing\n"
"      --no-extract    download and verify tarballs but do not unpack them\n"
"  -j, --jobs N        download and unpack up to N releases of a range at\n"
"                      once (default KTSTR_KERNEL_PARALLELISM, else 1)\n"
"  -h, --help          show this help\n"
"      --version       show the version\n"
"\n"
"Environment: KTSTR_KERNEL_ORG_URL (default\n"
"https://cdn.kernel.org/pub/linux/kernel), KTSTR_KERNEL_RELEASES_URL,\n"
"KTSTR_CACHE_DIR, XDG_CACHE_HOME.\n"
"\n"
"Exit status: 0 fetched; 1 a download failed its sha256 check; 2 bad\n"
"usage, an unknown release or an unreachable server.\n";

enum { OPT_NO_EXTRACT = 0x100 };

static const struct option longopts[] = {
	{ "list", no_argument, NULL, 'l' },
	{ "no-extract", no_argument, NULL, OPT_NO_EXTRACT },
	{ "jobs", required_argument, NULL, 'j' },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static bool opt_list, opt_no_extract;
static unsigned long opt_jobs = 1;

static char *cache_sub(const char *kind)
{
	char *d = ktstr_cache_dir(kind);

	if (!d)
		die(2, "cannot locate a cache directory: set HOME, XDG_CACHE_HOME "
		    "or KTSTR_CACHE_DIR");
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

static int fetch_release(const struct kernel_id *id, const struct fetch_rel *r,
			 struct strbuf *err)
{
	char *tdir = cache_sub("tarballs"), *sdir = cache_sub("sources");
	char *tarball = path_join(tdir, r->file);
	char *top = xasprintf("linux-%s", r->version);
	char *src = path_join(sdir, top);
	bool cached = true;
	json_t *o;
	int rc = 0;

	if (!opt_no_extract && is_directory(src))
		goto emit;
	if (is_regular_file(tarball)) {
		char hex[SHA256_HEX_LEN + 1];

		if (sha256_file_hex(tarball, hex) || strcmp(hex, r->sha256))
			unlink(tarball);	/* damaged: fetch again */
	}
	if (!is_regular_file(tarball)) {
		cached = false;
		if ((rc = fetch_download(r->url, tarball, r->sha256, err)))
			goto out;
	}
	if (!opt_no_extract) {
		cached = false;
		if (mkdir_p(sdir, 0755)) {
			strbuf_addf(err, "cannot create %s: %s", sdir, strerror(errno));
			rc = 2;
			goto out;
		}
		if ((rc = fetch_extract(tarball, src, err)))
			goto out;
	}
emit:
	o = source_record(id, r->version, "tarball", opt_no_extract ? tarball : src);
	json_set_str(o, "tarball", tarball);
	json_set_str(o, "url", r->url);
	json_set_str(o, "sha256", r->sha256);
	json_set_bool(o, "cached", cached);
	jsonl_emit(stdout, o);
out:
	free(tdir);
	free(sdir);
	free(tarball);
	free(top);
	free(src);
	return rc;
}

struct job {
	pid_t pid;
	int fd;
};

static void start_job(const struct kernel_id *id, const struct fetch_rel *r,
		      struct job *j)
{
	int p[2];

	if (pipe(p))
		die_errno(2, "pipe");
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0)
		die_errno(2, "fork");
	if (j->pid == 0) {
		struct strbuf err = STRBUF_INIT;
		int rc;

		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(2);
		close(p[1]);
		rc = fetch_release(id, r, &err);
		if (rc)
			diag("%s", err.buf);
		fflush(NULL);
		_exit(rc);
	}
	close(p[1]);
	j->fd = p[0];
}

/* Collect one job: its records go to stdout in release order. */
static int finish_job(struct job *j)
{
	struct strbuf out = STRBUF_INIT;
	int rc;

	strbuf_read_fd(&out, j->fd);
	close(j->fd);
	rc = run_wait(j->pid);
	if (out.len)
		write_all(STDOUT_FILENO, out.buf, out.len);
	strbuf_release(&out);
	return rc < 0 ? 2 : rc;
}

/* Up to opt_jobs downloads at once, one child process each; children
 * report their own errors.  Returns the highest exit code. */
static int fetch_parallel(const struct kernel_id *id, const struct fetch_list *l)
{
	struct job *jobs = xcalloc(l->n, sizeof(*jobs));
	size_t next = 0;
	int worst = 0;

	for (size_t i = 0; i < l->n; i++) {
		int rc;

		while (next < l->n && next - i < opt_jobs) {
			start_job(id, &l->r[next], &jobs[next]);
			next++;
		}
		rc = finish_job(&jobs[i]);
		if (rc > worst)
			worst = rc;
	}
	free(jobs);
	return worst;
}

static int do_releases(const struct kernel_id *id, struct strbuf *err)
{
	struct fetch_list l = { 0 };
	int rc = fetch_resolve(id, &l, err);

	if (!rc && !opt_list && opt_jobs > 1 && l.n > 1) {
		rc = fetch_parallel(id, &l);
		fetch_list_release(&l);
		return rc;
	}
	for (size_t i = 0; !rc && i < l.n; i++) {
		if (opt_list) {
			json_t *o = jsonl_record("release");

			json_set_str(o, "id", id->text);
			json_set_str(o, "version", l.r[i].version);
			json_set_str(o, "url", l.r[i].url);
			json_set_str(o, "sha256", l.r[i].sha256);
			jsonl_emit(stdout, o);
		} else {
			rc = fetch_release(id, &l.r[i], err);
		}
	}
	fetch_list_release(&l);
	return rc;
}

static int do_path(const struct kernel_id *id, struct strbuf *err)
{
	char ver[64];
	json_t *o;

	if (!is_directory(id->path)) {
		strbuf_addf(err, "kernel id '%s': %s is not a directory", id->text, id->path);
		return 2;
	}
	if (fetch_tree_version(id->path, ver, sizeof(ver))) {
		strbuf_addf(err, "kernel id '%s': %s/Makefile has no 'VERSION =' line; "
			    "not a kernel source tree", id->text, id->path);
		return 2;
	}
	if (opt_list) {
		o = jsonl_record("release");
		json_set_str(o, "id", id->text);
		json_set_str(o, "version", ver);
		jsonl_emit(stdout, o);
		return 0;
	}
	o = source_record(id, ver, "path", id->path);
	json_set_bool(o, "cached", true);
	jsonl_emit(stdout, o);
	return 0;
}

static int do_git(const struct kernel_id *id, struct strbuf *err)
{
	char *git = find_program("git"), *sdir = NULL, *dest = NULL, *tmp = NULL;
	char hex[SHA256_HEX_LEN + 1], ver[64];
	struct strbuf out = STRBUF_INIT, gerr = STRBUF_INIT, key = STRBUF_INIT;
	bool cached = true;
	json_t *o;
	int rc = 2;

	if (opt_list) {
		o = jsonl_record("release");
		json_set_str(o, "id", id->text);
		json_set_str(o, "url", id->git_url);
		json_set_str(o, "ref", id->git_name);
		jsonl_emit(stdout, o);
		free(git);
		return 0;
	}
	if (!git) {
		strbuf_addf(err, "kernel id '%s': git is not installed; install git "
			    "or use a version or path", id->text);
		return 2;
	}
	strbuf_addf(&key, "%s#%d=%s", id->git_url, (int)id->git_ref, id->git_name);
	sha256_buf_hex(key.buf, key.len, hex);
	hex[12] = '\0';
	sdir = cache_sub("sources");
	dest = xasprintf("%s/git-%s", sdir, hex);
	if (!is_directory(dest)) {
		cached = false;
		tmp = make_temp_dir(sdir, ".git-");
		if (!tmp) {
			strbuf_addf(err, "cannot create a directory under %s: %s", sdir,
				    strerror(errno));
			goto out;
		}
		if (id->git_ref == KGIT_SHA) {
			const char *init[] = { "git", "init", "-q", tmp, NULL };
			const char *fetch[] = { "git", "-C", tmp, "fetch", "-q", "--depth",
						"1", id->git_url, id->git_name, NULL };
			const char *co[] = { "git", "-C", tmp, "checkout", "-q",
					     "FETCH_HEAD", NULL };

			if (run_capture(init, &out, &gerr) != 0 ||
			    run_capture(fetch, &out, &gerr) != 0 ||
			    run_capture(co, &out, &gerr) != 0)
				goto git_fail;
		} else {
			const char *clone[] = { "git", "clone", "-q", "--depth", "1",
						"--branch", id->git_name, id->git_url, tmp, NULL };

			rm_rf(tmp);
			if (run_capture(clone, &out, &gerr) != 0)
				goto git_fail;
		}
		if (rename(tmp, dest) && errno != EEXIST && errno != ENOTEMPTY) {
			strbuf_addf(err, "cannot rename into %s: %s", dest, strerror(errno));
			goto out;
		}
	}
	if (fetch_tree_version(dest, ver, sizeof(ver))) {
		strbuf_addf(err, "kernel id '%s': the checkout has no Makefile with "
			    "'VERSION ='; not a kernel tree", id->text);
		goto out;
	}
	o = source_record(id, ver, "git", dest);
	json_set_str(o, "url", id->git_url);
	json_set_str(o, "ref", id->git_name);
	json_set_bool(o, "cached", cached);
	jsonl_emit(stdout, o);
	rc = 0;
	goto out;
git_fail:
	strbuf_trim(&gerr);
	{
		char *nl = strchr(gerr.buf, '\n');

		if (nl)
			*nl = '\0';
	}
	strbuf_addf(err, "kernel id '%s': git could not fetch %s %s: %s", id->text,
		    id->git_url, id->git_name, gerr.len ? gerr.buf : "failed");
out:
	if (tmp)
		rm_rf(tmp);
	free(tmp);
	free(git);
	free(sdir);
	free(dest);
	strbuf_release(&out);
	strbuf_release(&gerr);
	strbuf_release(&key);
	return rc;
}

static int do_cache_key(const struct kernel_id *id, struct strbuf *err)
{
	char *kdir = cache_sub("kernels"), *p = path_join(kdir, id->path);
	int rc = 0;

	if (!is_directory(p)) {
		strbuf_addf(err, "kernel id '%s': no such cache entry in %s", id->text, kdir);
		rc = 2;
	} else {
		json_t *o = source_record(id, "", "cache", p);

		json_set_bool(o, "cached", true);
		jsonl_emit(stdout, o);
	}
	free(kdir);
	free(p);
	return rc;
}

static int do_debian(const struct kernel_id *id, struct strbuf *err)
{
	char *script = ktstr_share_path("fetch-debian-kernel");
	const char *argv[] = { script, NULL };
	struct strbuf out = STRBUF_INIT;
	json_t *in = NULL, *o;
	const char *k, *line;
	json_t *v;
	int rc;

	if (opt_list) {
		o = jsonl_record("release");
		json_set_str(o, "id", id->text);
		json_set_str(o, "kind", "debian");
		jsonl_emit(stdout, o);
		free(script);
		return 0;
	}
	rc = run_capture(argv, &out, NULL);	/* its diagnostics pass through */
	if (rc != 0) {
		strbuf_addf(err, "kernel id 'debian': %s failed (exit %d)", script, rc);
		rc = rc == 1 ? 1 : 2;
		goto out;
	}
	line = strrchr(out.buf, '{');
	line = line ? line : out.buf;
	in = json_loads(line, 0, NULL);
	if (!json_is_object(in)) {
		strbuf_addf(err, "kernel id 'debian': %s printed no JSON record", script);
		rc = 2;
		goto out;
	}
	o = jsonl_record("source");
	json_set_str(o, "id", id->text);
	json_object_foreach(in, k, v) {
		if (strcmp(k, "type") && strcmp(k, "id"))
			json_object_set(o, k, v);
	}
	json_set_str(o, "kind", "debian");
	jsonl_emit(stdout, o);
out:
	json_decref(in);
	strbuf_release(&out);
	free(script);
	return rc;
}

int main(int argc, char **argv)
{
	const char *par = env_get("KTSTR_KERNEL_PARALLELISM");
	int c, worst = 0;

	diag_init(argv[0]);
	if (par && parse_ulong(par, 1, 256, &opt_jobs))
		usage_error("KTSTR_KERNEL_PARALLELISM='%s': expected a whole number "
			    "from 1 to 256", par);
	while ((c = opts_getopt(argc, argv, "lj:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': opt_list = true; break;
		case OPT_NO_EXTRACT: opt_no_extract = true; break;
		case 'j':
			if (parse_ulong(optarg, 1, 256, &opt_jobs))
				usage_error("--jobs '%s': expected a whole number from 1 "
					    "to 256", optarg);
			break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}

	for (int i = optind; i < argc || (i == optind && optind == argc); i++) {
		const char *s = i < argc ? argv[i] : "";
		struct kernel_id id;
		struct strbuf err = STRBUF_INIT;
		int rc;

		if (kernel_id_parse(s, &id, &err)) {
			rc = 2;
		} else {
			switch (id.kind) {
			case KID_PATH: rc = do_path(&id, &err); break;
			case KID_GIT: rc = do_git(&id, &err); break;
			case KID_CACHE_KEY: rc = do_cache_key(&id, &err); break;
			case KID_DEBIAN: rc = do_debian(&id, &err); break;
			default: rc = do_releases(&id, &err); break;
			}
		}
		if (rc) {
			if (err.len)	/* parallel children speak for themselves */
				diag("%s", err.buf);
			if (rc > worst)
				worst = rc;
		}
		kernel_id_release(&id);
		strbuf_release(&err);
	}
	return worst;
}
