#include "vm_request.h"
#include "checktab.h"
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "jsonl.h"
#include "run.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

json_t *vm_request_exec(const char *cmd, json_t *env)
{
	json_t *req = jsonl_record("exec");

	json_set_str(req, "cmd", cmd);
	if (env && json_object_size(env))
		json_object_set(req, "env", env);
	return req;
}

json_t *vm_request_shell(void)
{
	json_t *req = jsonl_record("shell");
	const char *term = getenv("TERM");
	const char *colorterm = getenv("COLORTERM");
	struct winsize ws = { 0 };

	json_set_str(req, "term", term && *term ? term : "linux");
	if (colorterm && *colorterm)
		json_set_str(req, "colorterm", colorterm);
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		json_set_int(req, "cols", ws.ws_col);
		json_set_int(req, "rows", ws.ws_row);
	}
	return req;
}

json_t *vm_request_scenario(json_t *doc, const struct checks *checks, const char *guest_path,
			    const struct strvec *args, const struct ktstr_topo *t)
{
	json_t *req = jsonl_record("scenario");
	struct strbuf topo = STRBUF_INIT;

	json_object_set(req, "scenario", doc);
	json_object_set_new(req, "checks", checks_to_json(checks, false));
	if (guest_path) {
		json_t *sched = json_object();
		json_t *a = json_array();
		size_t i;

		json_set_str(sched, "path", guest_path);
		for (i = 0; args && i < args->n; i++)
			json_array_append_new(a, json_string(args->v[i]));
		json_object_set_new(sched, "args", a);
		json_object_set_new(req, "scheduler", sched);
	} else {
		json_object_set_new(req, "scheduler", json_null());
	}
	topo_format(t, &topo);
	json_set_str(req, "topo", topo.buf);
	strbuf_release(&topo);
	return req;
}

char *scheduler_env_name(const char *name)
{
	char *v = xasprintf("KTSTR_SCHEDULER_BIN_%s", name);
	char *p;

	for (p = v + strlen("KTSTR_SCHEDULER_BIN_"); *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	return v;
}

/* Whether the kernel can exec p as a scheduler: an ELF binary or a #!
 * script (a wrapper that starts the real one).  Anything else would only
 * fail in the guest, or on an exported reproducer's target, as an exec
 * error far from the option that named it. */
static bool is_runnable_format(const char *p)
{
	unsigned char m[4] = { 0 };
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return true;	/* unreadable: exec will say why */
	n = read(fd, m, sizeof(m));
	close(fd);
	return (n >= 4 && !memcmp(m, "\177ELF", 4)) || (n >= 2 && m[0] == '#' && m[1] == '!');
}

/* The version of the kernel cache entry key ("7.3.4+deb13"), else NULL.
 * Schedulers are cached under their kernel's key, so this is how a
 * scheduler build learns which kernel version it was built for. */
static char *kernel_version_of(const char *key)
{
	char *root = ktstr_cache_dir("kernels");
	char *meta = root ? xasprintf("%s/%s/metadata.json", root, key) : NULL;
	json_t *doc = meta ? json_load_file(meta, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(doc, "version"));
	char *ret = v && *v ? xstrdup(v) : NULL;

	json_decref(doc);
	free(meta);
	free(root);
	return ret;
}

/* A candidate build: its rank (0 same kernel version, 1 any other), then
 * the newest binary (mtime) wins. */
struct sched_cand {
	char *path;
	int rank;
	struct timespec mtime;
};

static bool cand_better(const struct sched_cand *a, const struct sched_cand *b)
{
	if (!b->path || a->rank != b->rank)
		return !b->path || a->rank < b->rank;
	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec > b->mtime.tv_sec;
	return a->mtime.tv_nsec > b->mtime.tv_nsec;
}

/* <cache>/schedulers/<key>/<name>: the kernel's own key first; else the
 * newest build for a kernel of the same version (another flavour of a
 * Debian kernel: its programs are CO-RE, so they load on any kernel with
 * BTF); else the newest build for any kernel. */
static char *from_cache(const char *name, const char *kernel_key)
{
	char *root = ktstr_cache_dir("schedulers");
	char *ver = kernel_key ? kernel_version_of(kernel_key) : NULL;
	struct sched_cand best = { 0 };
	struct dirent *de;
	DIR *d;

	if (!root)
		return NULL;
	if (kernel_key) {
		best.path = xasprintf("%s/%s/%s", root, kernel_key, name);
		if (is_executable_file(best.path))
			goto out;
		free(best.path);
		best.path = NULL;
	}
	d = opendir(root);
	while (d && (de = readdir(d))) {
		struct sched_cand c = { 0 };
		struct stat st;
		char *v;

		if (de->d_name[0] == '.')
			continue;
		c.path = xasprintf("%s/%s/%s", root, de->d_name, name);
		if (!is_executable_file(c.path) || stat(c.path, &st)) {
			free(c.path);
			continue;
		}
		v = ver ? kernel_version_of(de->d_name) : NULL;
		c.rank = v && !strcmp(v, ver) ? 0 : 1;
		c.mtime = st.st_mtim;
		free(v);
		if (cand_better(&c, &best)) {
			free(best.path);
			best = c;
		} else {
			free(c.path);
		}
	}
	if (d)
		closedir(d);
out:
	free(ver);
	free(root);
	return best.path;
}

char *scheduler_resolve(const char *spec, const char *kernel_key, struct strbuf *err)
{
	char *var, *p;
	const char *v;

	if (strchr(spec, '/')) {
		p = path_expand_tilde(spec);
		if (is_executable_file(p) && !is_runnable_format(p)) {
			strbuf_addf(err, "--scheduler %s: neither an ELF binary nor a #! script; "
				    "pass the path of a built scheduler binary", spec);
			free(p);
			return NULL;
		}
		if (is_executable_file(p))
			return p;
		strbuf_addf(err, "--scheduler %s: %s; pass the path of a built "
			    "scheduler binary", spec,
			    path_exists(p) ? "not an executable file" : "no such file");
		free(p);
		return NULL;
	}
	var = scheduler_env_name(spec);
	v = env_get(var);
	if (v || (v = env_get("KTSTR_SCHEDULER"))) {
		p = path_expand_tilde(v);
		if (!is_executable_file(p) || !is_runnable_format(p)) {
			strbuf_addf(err, "%s=%s is not %s; fix or unset it",
				    env_get(var) ? var : "KTSTR_SCHEDULER", v,
				    is_executable_file(p) ? "an ELF binary or a #! script" :
				    "an executable file");
			free(p);
			p = NULL;
		}
		free(var);
		return p;
	}
	free(var);
	if ((p = from_cache(spec, kernel_key)))
		return p;
	if ((p = find_program(spec)))
		return p;
	strbuf_addf(err, "--scheduler %s: not found in the ktstr scheduler cache or "
		    "PATH; build the kernel's schedulers with share/ktstr/build-schedulers "
		    "or pass a path", spec);
	return NULL;
}
