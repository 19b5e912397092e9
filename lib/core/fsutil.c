#include "fsutil.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(struct atomic_file *af, const char *path, mode_t mode)
{
	char *dir = path_dirname(path);

	af->path = xstrdup(path);
	af->tmp = xasprintf("%s/.%s.tmp.XXXXXX", dir, path_basename(path));
	free(dir);
	af->fd = mkostemp(af->tmp, O_CLOEXEC);
	if (af->fd < 0) {
		int err = errno;

		free(af->path);
		free(af->tmp);
		af->path = af->tmp = NULL;
		errno = err;
		return -1;
	}
	if (fchmod(af->fd, mode) < 0) {
		int err = errno;

		atomic_file_abort(af);
		errno = err;
		return -1;
	}
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char *dir = path_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int atomic_file_commit(struct atomic_file *af)
{
	int err;

	if (fsync(af->fd) < 0 || close(af->fd) < 0) {
		err = errno;
		af->fd = -1;
		atomic_file_abort(af);
		errno = err;
		return -1;
	}
	af->fd = -1;
	if (rename(af->tmp, af->path) < 0) {
		err = errno;
		atomic_file_abort(af);
		errno = err;
		return -1;
	}
	fsync_dir_of(af->path);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
	return 0;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct atomic_file af;
	if (atomic_file_open(&af, path, mode) < 0)
		return -1;
	if (write_all(af.fd, buf, len) < 0) {
		int err = errno;

		atomic_file_abort(&af);
		errno = err;
		return -1;
	}
	return atomic_file_commit(&af);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_control(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	err = errno;
	close(fd);
	errno = err;
	return n < 0 ? -1 : 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;

	/* Start past a leading '/' (never mkdir ""), but not past the NUL
	 * of an empty path. */
	for (s = *p ? p + 1 : p; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		free(p);
		return -1;
	}
	free(p);
	if (!is_directory(path)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* access(2) says yes to root everywhere but on a read-only mount, and
 * /proc says yes and then refuses the mkdir: only trying tells.  The
 * probe (a directory made and removed, or the file opened without
 * truncating) leaves nothing behind. */
int path_creatable(const char *path, struct strbuf *err)
{
	struct stat st;
	char *dir, *probe;
	int fd, rc = -1;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			strbuf_addf(err, "%s is a directory", path);
			return -1;
		}
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0) {
			strbuf_addf(err, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* The nearest ancestor that exists is where mkdir -p would start. */
	dir = path_dirname(path);
	while (stat(dir, &st) < 0 && (errno == ENOENT || errno == ENOTDIR) &&
	       strcmp(dir, "/") && strcmp(dir, ".")) {
		char *up = path_dirname(dir);

		free(dir);
		dir = up;
	}
	if (stat(dir, &st) < 0) {
		strbuf_addf(err, "%s: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "%s is not a directory", dir);
	} else {
		probe = path_join(dir, ".ktstr-probe-XXXXXX");
		if (mkdtemp(probe)) {
			rmdir(probe);
			rc = 0;
		} else {
			strbuf_addf(err, "cannot create anything in %s: %s", dir, strerror(errno));
		}
		free(probe);
	}
	free(dir);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return path_exists(path) ? -1 : 0;
}

char *make_temp_dir(const char *dir, const char *prefix)
{
	char *tmpl;

	if (mkdir_p(dir, 0755) < 0)
		return NULL;
	tmpl = xasprintf("%s/%s.XXXXXX", dir, prefix);
	if (!mkdtemp(tmpl)) {
		int err = errno;

		free(tmpl);
		errno = err;
		return NULL;
	}
	return tmpl;
}

struct aged { char *path; struct timespec mtime; };

static int newest_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->path, y->path);
}

unsigned prune_old_files(const char *dir, const char *prefix, unsigned keep)
{
	struct aged *files = NULL;
	size_t n = 0, alloc = 0, i;
	unsigned removed = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		path = path_join(dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			files = xrealloc(files, alloc * sizeof(*files));
		}
		files[n].path = path;
		files[n++].mtime = st.st_mtim;
	}
	closedir(d);
	if (n)
		qsort(files, n, sizeof(*files), newest_first);
	for (i = 0; i < n; i++) {
		if (i >= keep && unlink(files[i].path) == 0)
			removed++;
		free(files[i].path);
	}
	free(files);
	return removed;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool is_regular_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool is_executable_file(const char *path)
{
	return is_regular_file(path) && access(path, X_OK) == 0;
}

char *path_search(const char *name, const char *path_var)
{
	const char *p, *end;

	if (strchr(name, '/'))
		return is_executable_file(name) ? xstrdup(name) : NULL;
	if (!path_var || !*path_var)
		path_var = "/usr/local/bin:/usr/bin:/bin";
	for (p = path_var; ; p = end + 1) {
		char *cand;

		end = strchrnul(p, ':');
		/* An empty entry is the current directory. */
		cand = end == p ? xasprintf("./%s", name)
				: xasprintf("%.*s/%s", (int)(end - p), p, name);
		if (is_executable_file(cand))
			return cand;
		free(cand);
		if (!*end)
			return NULL;
	}
}

bool is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	/* All trailing slashes go, even the root's: "/" + "etc" is "/etc". */
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *file_name_sanitize(char *s)
{
	for (char *p = s; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			*p = '_';
	return s;
}

char *path_expand_tilde(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}
