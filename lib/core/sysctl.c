/* Kernel tunables as JSON (sysctl.h). */
#include "sysctl.h"
#include "diag.h"
#include "strbuf.h"
#include "strvec.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A tunable's text as a JSON number when it is one, else a string. */
static json_t *tunable_value(const char *s)
{
	char *end;
	long long ll;
	double d;

	if (!*s)
		return json_string("");
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (!errno && !*end)
		return json_integer(ll);
	errno = 0;
	d = strtod(s, &end);
	if (!errno && !*end && isfinite(d))
		return json_real(d);
	return json_string(s);
}

json_t *sysctl_json(const char *dir, const char *prefix)
{
	json_t *o = json_object();
	DIR *d = opendir(dir);
	size_t plen = strlen(prefix);
	struct dirent *e;
	struct strvec names = STRVEC_INIT;
	size_t i;

	if (!d)
		return o;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, plen))
			strvec_push(&names, e->d_name);
	closedir(d);
	strvec_sort(&names);
	for (i = 0; i < names.n; i++) {
		struct strbuf sb = STRBUF_INIT;
		char *path = xasprintf("%s/%s", dir, names.v[i]);

		/* Some are write-only or root-only: those are simply absent. */
		if (strbuf_read_file(&sb, path) == 0) {
			strbuf_trim(&sb);
			json_object_set_new(o, names.v[i], tunable_value(sb.buf));
		}
		strbuf_release(&sb);
		free(path);
	}
	strvec_clear(&names);
	return o;
}
