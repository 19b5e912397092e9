/* Writing a reproducer (export.h): the preamble, then the archive, into
 * a temp file that replaces out only when complete. */
#include "export.h"
#include "diag.h"
#include "export_tar.h"
#include "fsutil.h"
#include "initramfs_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A JSON document as one line plus newline, into the archive. */
static int add_json(struct export_tar *t, const char *name, json_t *doc, struct strbuf *err)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	char *line = xasprintf("%s\n", s ? s : "null");
	int ret = export_tar_add_mem(t, name, line, strlen(line), 0644, err);

	free(line);
	free(s);
	return ret;
}

static int add_includes(struct export_tar *t, const struct strvec *inc, struct strbuf *err)
{
	size_t i;

	for (i = 0; inc && i < inc->n; i++) {
		char *name = initramfs_include_name(inc->v[i]);
		char *dest;
		int ret;

		if (!name) {
			strbuf_addf(err, "include %s: cannot name it in the bundle; give a "
				    "narrower path", inc->v[i]);
			return -1;
		}
		dest = xasprintf("include-files/%s", name);
		ret = export_tar_add_tree(t, inc->v[i], dest, err);
		free(dest);
		free(name);
		if (ret)
			return -1;
	}
	return 0;
}

static int add_all(struct export_tar *t, const struct export_spec *s, struct strbuf *err)
{
	if (export_tar_add_file(t, s->agent, "ktstr-agent", err) ||
	    add_json(t, "request.json", s->request, err) ||
	    add_json(t, "manifest.json", s->manifest, err))
		return -1;
	if (s->sched_host && export_tar_add_file(t, s->sched_host, s->sched_rel, err))
		return -1;
	if (s->verdict && export_tar_add_file(t, s->verdict, "bin/ktstr-verdict", err))
		return -1;
	return add_includes(t, s->includes, err);
}

int export_write(const struct export_spec *s, const char *out, struct strbuf *err)
{
	struct atomic_file af;
	struct export_tar *t;
	char *pre;
	int ret;

	if (atomic_file_open(&af, out, 0755) < 0) {
		strbuf_addf(err, "-o %s: cannot create a file beside it: %s; choose a writable "
			    "path", out, strerror(errno));
		return -1;
	}
	pre = export_preamble(s);
	ret = write_all(af.fd, pre, strlen(pre));
	free(pre);
	if (ret < 0) {
		strbuf_addf(err, "-o %s: %s", out, strerror(errno));
		goto fail;
	}
	t = export_tar_open(af.fd, err);
	if (!t)
		goto fail;
	ret = add_all(t, s, err);
	if (export_tar_close(t, ret ? NULL : err) < 0 || ret)
		goto fail;
	/* The umask must not make it unrunnable. */
	if (fchmod(af.fd, 0755) < 0 || atomic_file_commit(&af) < 0) {
		strbuf_addf(err, "-o %s: cannot write it: %s; check the disk", out,
			    strerror(errno));
		goto fail;
	}
	atomic_file_abort(&af);
	return 0;
fail:
	atomic_file_abort(&af);
	return -1;
}
