#include "dirs.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "strbuf.h"

#include <errno.h>
#include <sys/stat.h>

#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static char *xdg_dir(const char *var, const char *fallback, const char *kind)
{
	const char *base = env_get(var);
	const char *home = env_get("HOME");

	if (base && base[0] == '/')
		return xasprintf("%s/ktstr/%s", base, kind);
	if (!home)
		return NULL;
	return xasprintf("%s/%s/ktstr/%s", home, fallback, kind);
}

char *ktstr_cache_dir(const char *kind)
{
	const char *over = env_get("KTSTR_CACHE_DIR");

	if (over) {
		char *root = path_expand_tilde(over);
		char *ret;

		if (!strcmp(kind, "kernels"))
			return root;
		ret = xasprintf("%s/.%s", root, kind);
		free(root);
		return ret;
	}
	return xdg_dir("XDG_CACHE_HOME", ".cache", kind);
}

int ktstr_cache_dir_check(const char *root, struct strbuf *err)
{
	const char *over = env_get("KTSTR_CACHE_DIR");
	struct stat st;

	if (stat(root, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
	} else if (errno == ENOENT) {
		return 0;
	}
	if (over)
		strbuf_addf(err, "KTSTR_CACHE_DIR=%s: %s; point it at a directory "
			    "(it is the kernel cache) or unset it", over, strerror(errno));
	else
		strbuf_addf(err, "kernel cache %s: %s; fix it or set KTSTR_CACHE_DIR "
			    "to a directory", root, strerror(errno));
	return -1;
}

char *ktstr_state_dir(const char *kind)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state", kind);
}

char *ktstr_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return path_dirname(buf);
}

/* Without /proc the installed layout is looked for from the current
 * directory. */
static char *exe_dir(void)
{
	char *dir = ktstr_exe_dir();

	return dir ? dir : xstrdup(".");
}

char *ktstr_libexec_path(const char *name)
{
	char *dir = exe_dir();
	char *p = xasprintf("%s/../libexec/ktstr/%s", dir, name);

	free(dir);
	return p;
}

char *ktstr_share_path(const char *name)
{
	char *dir = exe_dir();
	char *p = xasprintf("%s/../share/ktstr/%s", dir, name);

	free(dir);
	return p;
}
