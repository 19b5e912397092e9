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
#include <stdlib.h>
#include <string.h>
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

static bool is_exec_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* <cache>/schedulers/<key>/<name>, the kernel's own key first, then any. */
static char *from_cache(const char *name, const char *kernel_key)
{
	char *root = ktstr_cache_dir("schedulers");
	char *found = NULL;
	struct dirent *de;
	DIR *d;

	if (!root)
		return NULL;
	if (kernel_key) {
		found = xasprintf("%s/%s/%s", root, kernel_key, name);
		if (is_exec_file(found))
			goto out;
		free(found);
		found = NULL;
	}
	d = opendir(root);
	while (d && !found && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s/%s", root, de->d_name, name);
		if (is_exec_file(p))
			found = p;
		else
			free(p);
	}
	if (d)
		closedir(d);
out:
	free(root);
	return found;
}

char *scheduler_resolve(const char *spec, const char *kernel_key, struct strbuf *err)
{
	char *var, *p;
	const char *v;

	if (strchr(spec, '/')) {
		p = path_expand_tilde(spec);
		if (is_exec_file(p))
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
		if (!is_exec_file(p)) {
			strbuf_addf(err, "%s=%s is not an executable file; fix or unset it",
				    env_get(var) ? var : "KTSTR_SCHEDULER", v);
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
