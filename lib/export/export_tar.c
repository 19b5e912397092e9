/* The reproducer's archive (export_tar.h).  Entries carry no owner and
 * mtime 0, so the same inputs make the same bytes. */
#include "export_tar.h"
#include "diag.h"
#include "elfdeps.h"
#include "fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct export_tar {
	struct archive *a;
	struct archive_entry *ae;
	struct strvec names;	/* entries written, so none twice */
	struct strvec dirs;	/* directory entries written */
};

struct export_tar *export_tar_open(int fd, struct strbuf *err)
{
	struct export_tar *t = xcalloc(1, sizeof(*t));

	t->a = archive_write_new();
	t->ae = archive_entry_new();
	if (archive_write_set_format_ustar(t->a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(t->a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot start the archive: %s; check that libarchive was "
			    "built with zlib", archive_error_string(t->a));
		export_tar_close(t, NULL);
		return NULL;
	}
	return t;
}

static int header(struct export_tar *t, const char *name, unsigned mode, size_t size,
		  struct strbuf *err)
{
	archive_entry_clear(t->ae);
	archive_entry_set_pathname(t->ae, name);
	archive_entry_set_mode(t->ae, mode);
	archive_entry_set_size(t->ae, S_ISREG(mode) ? (la_int64_t)size : 0);
	archive_entry_set_mtime(t->ae, 0, 0);
	if (archive_write_header(t->a, t->ae) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot add %s to the archive: %s", name,
			    archive_error_string(t->a));
		return -1;
	}
	return 0;
}

/* The directory entries above name, once each, so that every extracted
 * directory is 0755 whatever the target's umask. */
static int parents(struct export_tar *t, const char *name, struct strbuf *err)
{
	const char *s;
	char *d;
	int ret = 0;

	for (s = strchr(name, '/'); s && !ret; s = strchr(s + 1, '/')) {
		d = xstrndup(name, (size_t)(s - name));
		if (!strvec_contains(&t->dirs, d)) {
			strvec_push(&t->dirs, d);
			ret = header(t, d, S_IFDIR | 0755, 0, err);
		}
		free(d);
	}
	return ret;
}

int export_tar_add_mem(struct export_tar *t, const char *name, const void *buf, size_t len,
		       unsigned mode, struct strbuf *err)
{
	if (strvec_contains(&t->names, name))
		return 0;
	strvec_push(&t->names, name);
	if (parents(t, name, err) || header(t, name, S_IFREG | mode, len, err))
		return -1;
	if (len && archive_write_data(t->a, buf, len) != (la_ssize_t)len) {
		strbuf_addf(err, "cannot write %s into the archive: %s", name,
			    archive_error_string(t->a));
		return -1;
	}
	return 0;
}

/* Copy a host file's bytes as one entry. */
static int add_bytes(struct export_tar *t, const char *host, const char *name, unsigned mode,
		     struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if (strbuf_read_file(&sb, host) < 0) {
		strbuf_addf(err, "cannot read %s: %s; check the path", host, strerror(errno));
		strbuf_release(&sb);
		return -1;
	}
	ret = export_tar_add_mem(t, name, sb.buf, sb.len, mode, err);
	strbuf_release(&sb);
	return ret;
}

/* Every library host needs, and its loader, flattened into lib/ under
 * the names the loader asks for (the last component of each path, which
 * is the soname or, for the loader, its PT_INTERP basename). */
static int add_closure(struct export_tar *t, const char *host, struct strbuf *err)
{
	struct strvec libs = STRVEC_INIT;
	size_t i;
	int ret = 0;

	if (!elf_is_dynamic(host))
		return 0;
	if (elf_closure(host, &libs, err) < 0) {
		strvec_clear(&libs);
		return -1;
	}
	for (i = 0; i < libs.n && !ret; i++) {
		char *name = xasprintf("lib/%s", path_basename(libs.v[i]));

		ret = add_bytes(t, libs.v[i], name, 0755, err);
		free(name);
	}
	strvec_clear(&libs);
	return ret;
}

int export_tar_add_file(struct export_tar *t, const char *host, const char *name,
			struct strbuf *err)
{
	struct stat st;

	if (stat(host, &st) < 0 || !S_ISREG(st.st_mode)) {
		strbuf_addf(err, "%s: %s; give a regular file", host,
			    errno && !S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file");
		return -1;
	}
	if (add_bytes(t, host, name, (st.st_mode & 0111) ? 0755 : 0644, err) < 0)
		return -1;
	return add_closure(t, host, err);
}

int export_tar_add_tree(struct export_tar *t, const char *host, const char *name,
			struct strbuf *err)
{
	struct dirent **ents;
	struct stat st;
	int n, i, ret = 0;

	if (stat(host, &st) < 0) {
		strbuf_addf(err, "-i %s: %s; check the path", host, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return export_tar_add_file(t, host, name, err);
	if (!S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "%s is not a regular file or directory; include a narrower "
			    "path", host);
		return -1;
	}
	if (!strvec_contains(&t->dirs, name)) {
		strvec_push(&t->dirs, name);
		if (parents(t, name, err) || header(t, name, S_IFDIR | 0755, 0, err))
			return -1;
	}
	n = scandir(host, &ents, NULL, alphasort);
	if (n < 0) {
		strbuf_addf(err, "cannot list %s: %s; check the -i path", host, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (!ret && strcmp(e, ".") && strcmp(e, "..")) {
			char *h = path_join(host, e), *g = path_join(name, e);

			ret = export_tar_add_tree(t, h, g, err);
			free(h);
			free(g);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int export_tar_close(struct export_tar *t, struct strbuf *err)
{
	int ret = 0;

	if (archive_write_close(t->a) != ARCHIVE_OK) {
		if (err)
			strbuf_addf(err, "cannot finish the archive: %s",
				    archive_error_string(t->a));
		ret = -1;
	}
	archive_write_free(t->a);
	archive_entry_free(t->ae);
	strvec_clear(&t->names);
	strvec_clear(&t->dirs);
	free(t);
	return ret;
}
