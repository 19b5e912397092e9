/* The initramfs entry list: what goes in the image, at which guest path,
 * from where (initramfs_tree.h). */
#include "initramfs_tree.h"
#include "diag.h"
#include "dirs.h"
#include "elfdeps.h"
#include "fsutil.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ent_release(struct ent *e)
{
	free(e->path);
	free(e->src);
	free(e->link);
	free(e->what);
}

void build_release(struct build *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		ent_release(&b->v[i]);
	free(b->v);
	strvec_clear(&b->elves);
	strvec_clear(&b->libs);
	strvec_clear(&b->missing);
	inmemo_release(&b->memo);
	memset(b, 0, sizeof(*b));
}

/* Canonical guest path: components joined by '/', no leading slash, no
 * "." or empty components.  NULL for "..", which could escape a directory,
 * and for the root itself. */
static char *guest_path(const char *p)
{
	struct strbuf sb = STRBUF_INIT;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);

		if (len == 2 && !strncmp(p, "..", 2)) {
			strbuf_release(&sb);
			return NULL;
		}
		if (len && !(len == 1 && *p == '.')) {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, len);
		}
		p = *end ? end + 1 : end;
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static struct ent *add_ent(struct build *b, char *path, mode_t mode, enum rank rank,
			   const char *what)
{
	struct ent *e;

	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 256;
		b->v = xrealloc(b->v, b->alloc * sizeof(*b->v));
	}
	e = &b->v[b->n];
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->mode = mode;
	e->rank = rank;
	e->seq = b->n++;
	e->what = xstrdup(what);
	return e;
}

/* The add_* helpers take ownership of path. */
static void add_dir(struct build *b, char *path, mode_t perm, enum rank rank, const char *what)
{
	add_ent(b, path, S_IFDIR | perm, rank, what);
}

static void add_reg(struct build *b, char *path, const char *src, mode_t perm,
		    enum rank rank, const char *what)
{
	add_ent(b, path, S_IFREG | perm, rank, what)->src = xstrdup(src);
}

static void add_symlink(struct build *b, char *path, const char *target, enum rank rank,
			const char *what)
{
	add_ent(b, path, S_IFLNK | 0777, rank, what)->link = xstrdup(target);
}

static void add_chr(struct build *b, char *path, mode_t perm, unsigned maj, unsigned min)
{
	struct ent *e = add_ent(b, path, S_IFCHR | perm, RANK_SKELETON, "the base layout");

	e->rmajor = maj;
	e->rminor = min;
}

/* The root every guest starts from.  /dev/console and /dev/null exist
 * before devtmpfs is mounted so that PID 1 has a console and a sink. */
static void add_skeleton(struct build *b)
{
	static const struct { const char *path; mode_t perm; } dirs[] = {
		{ "bin", 0755 }, { "dev", 0755 }, { "etc", 0755 },
		{ "include-files", 0755 }, { "lib", 0755 }, { "lib64", 0755 },
		{ "mnt", 0755 }, { "proc", 0555 }, { "root", 0700 }, { "run", 0755 },
		{ "sbin", 0755 }, { "sys", 0555 }, { "tmp", 01777 }, { "usr", 0755 },
		{ "usr/bin", 0755 }, { "usr/lib", 0755 }, { "usr/sbin", 0755 },
		{ "var", 0755 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		add_dir(b, xstrdup(dirs[i].path), dirs[i].perm, RANK_SKELETON, "the base layout");
	add_chr(b, xstrdup("dev/console"), 0600, 5, 1);
	add_chr(b, xstrdup("dev/null"), 0666, 1, 3);
}

/* stat() a host input that must be a readable regular file. */
static int check_regular(const char *path, const char *role, const char *fix,
			 struct stat *st, struct strbuf *err)
{
	int fd;

	if (stat(path, st) < 0) {
		if (errno == ENOENT)
			strbuf_addf(err, "%s %s does not exist; %s", role, path, fix);
		else
			strbuf_addf(err, "cannot access %s %s: %s; %s", role, path,
				    strerror(errno), fix);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		strbuf_addf(err, "%s %s is not a regular file; %s", role, path, fix);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "cannot read %s %s: %s; fix its permissions or %s",
			    role, path, strerror(errno), fix);
		return -1;
	}
	close(fd);
	return 0;
}

static int add_agent(struct build *b, const char *agent, struct strbuf *err)
{
	struct stat st;
	char *what;

	if (!agent) {
		strbuf_addstr(err, "no guest agent given; build ktstr-agent (make) or pass its path");
		return -1;
	}
	if (check_regular(agent, "guest agent", "build it with make or pass --agent PATH",
			  &st, err) < 0)
		return -1;
	/* Anything else packs fine and leaves a guest whose kernel panics
	 * with no init, long after the mistake. */
	if (!elf_is_program(agent)) {
		strbuf_addf(err, "guest agent %s is not an x86-64 ELF program; build it with make "
			    "or pass --agent PATH", agent);
		return -1;
	}
	what = xasprintf("guest agent %s", agent);
	add_reg(b, xstrdup("init"), agent, 0755, RANK_EXPLICIT, what);
	strvec_push_unique(&b->elves, agent);
	free(what);
	return 0;
}

/* Applets not linked.  sbin/modprobe: the kernel runs its module loader
 * (modprobe_path, /sbin/modprobe) for every request_module(), wait=1:
 * twice while it loads its certificates at boot and once on every bpffs
 * mount (bpf_preload).  The image carries no modules, so each run of
 * busybox modprobe under TCG (20-60 ms) found nothing; with no file there
 * the request fails at once, as on the raw-QEMU floor.  `busybox modprobe`
 * still works. */
static bool applet_skipped(const char *path)
{
	return !strcmp(path, "bin/busybox") || !strcmp(path, "sbin/modprobe");
}

/* One symlink per applet, at the path busybox itself says it belongs. */
static int add_applets(struct build *b, const char *busybox, struct strbuf *err)
{
	/* A bare name would be looked up in PATH by exec; we mean this file. */
	char *exe = strchr(busybox, '/') ? xstrdup(busybox) : xasprintf("./%s", busybox);
	const char *argv[] = { exe, "--list-full", NULL };
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	char *what, *line, *save = NULL;
	const char *known = NULL;
	struct stat st;
	bool have_st = stat(busybox, &st) == 0;
	int rc = 0;

	if (have_st)
		known = inmemo_get_applets(&b->memo, busybox, &st);
	if (known) {
		strbuf_addstr(&out, known);
	} else {
		rc = run_capture(argv, &out, &errout);
		if (rc == 0 && have_st)
			inmemo_put_applets(&b->memo, busybox, &st, out.buf);
	}
	free(exe);
	if (rc != 0) {
		if (rc < 0)
			strbuf_addf(err, "cannot run busybox %s: %s; ", busybox, strerror(errno));
		else
			strbuf_addf(err, "busybox %s --list-full exited with status %d; ",
				    busybox, rc);
		strbuf_addstr(err, "use a full busybox build, e.g. from the busybox-static package");
		strbuf_release(&out);
		strbuf_release(&errout);
		return -1;
	}
	what = xasprintf("busybox applet list of %s", busybox);
	for (line = strtok_r(out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = guest_path(line);

		if (!path || applet_skipped(path)) {
			free(path);
			continue;
		}
		add_symlink(b, path, "/bin/busybox", RANK_APPLET, what);
	}
	free(what);
	strbuf_release(&out);
	strbuf_release(&errout);
	return 0;
}

static int add_busybox(struct build *b, const char *busybox, struct strbuf *err)
{
	struct stat st;
	char *what;

	if (!busybox)
		return 0;
	if (check_regular(busybox, "busybox", "install busybox-static or set KTSTR_BUSYBOX_PATH",
			  &st, err) < 0)
		return -1;
	if (access(busybox, X_OK) < 0) {
		strbuf_addf(err, "busybox %s is not executable; chmod +x it or point "
			    "KTSTR_BUSYBOX_PATH at a working busybox", busybox);
		return -1;
	}
	what = xasprintf("busybox %s", busybox);
	add_reg(b, xstrdup("bin/busybox"), busybox, 0755, RANK_EXPLICIT, what);
	free(what);
	strvec_push_unique(&b->elves, busybox);
	return add_applets(b, busybox, err);
}

char *initramfs_include_name(const char *inc)
{
	char *copy = xstrdup(inc), *name = NULL;
	size_t len = strlen(copy);
	const char *base;

	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	base = path_basename(copy);
	if (*base && strcmp(base, ".") && strcmp(base, "..") && strcmp(copy, "/")) {
		name = xstrdup(base);
	} else {
		char buf[PATH_MAX];

		if (realpath(inc, buf) && strcmp(buf, "/"))
			name = xstrdup(path_basename(buf));
	}
	free(copy);
	return name;
}

static int walk_include(struct build *b, const char *host, const char *guest,
			const char *what, struct strbuf *err);

/* One directory entry inside an included tree (not followed if a link). */
static int add_tree_entry(struct build *b, const char *host, const char *guest,
			  const char *what, struct strbuf *err)
{
	struct stat st;

	if (lstat(host, &st) < 0) {
		strbuf_addf(err, "cannot access %s (in %s): %s; fix its permissions or "
			    "include a narrower path", host, what, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(host, target, sizeof(target) - 1);

		if (n < 0) {
			strbuf_addf(err, "cannot read symlink %s (in %s): %s", host, what,
				    strerror(errno));
			return -1;
		}
		target[n] = '\0';
		add_symlink(b, xstrdup(guest), target, RANK_EXPLICIT, what);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		add_dir(b, xstrdup(guest), st.st_mode & 0777, RANK_EXPLICIT, what);
		return walk_include(b, host, guest, what, err);
	}
	if (S_ISREG(st.st_mode)) {
		if (check_regular(host, "file", "include a narrower path", &st, err) < 0)
			return -1;
		add_reg(b, xstrdup(guest), host, st.st_mode & 0777, RANK_EXPLICIT, what);
		strvec_push_unique(&b->elves, host);
		return 0;
	}
	strbuf_addf(err, "%s (in %s) is a device, fifo or socket, which cannot be packed; "
		    "remove it or include a narrower path", host, what);
	return -1;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_include(struct build *b, const char *host, const char *guest,
			const char *what, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *d = opendir(host);
	size_t i;
	int ret = 0;

	if (!d) {
		strbuf_addf(err, "cannot read directory %s (in %s): %s; fix its permissions",
			    host, what, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	closedir(d);
	/* readdir order depends on the filesystem; fix it for reproducible errors. */
	qsort(names.v, names.n, sizeof(*names.v), cmp_cstr);
	for (i = 0; i < names.n && ret == 0; i++) {
		char *hp = path_join(host, names.v[i]);
		char *gp = path_join(guest, names.v[i]);

		ret = add_tree_entry(b, hp, gp, what, err);
		free(hp);
		free(gp);
	}
	strvec_clear(&names);
	return ret;
}

static int add_include(struct build *b, const char *inc, const char *name, struct strbuf *err)
{
	struct stat st;
	char *guest = xasprintf("include-files/%s", name);
	char *what = xasprintf("include %s", inc);
	int ret = 0;

	if (stat(inc, &st) < 0) {
		strbuf_addf(err, "include %s %s; check the -i path", inc,
			    errno == ENOENT ? "does not exist" : strerror(errno));
		ret = -1;
	} else if (S_ISDIR(st.st_mode)) {
		add_dir(b, xstrdup(guest), st.st_mode & 0777, RANK_EXPLICIT, what);
		ret = walk_include(b, inc, guest, what, err);
	} else if (S_ISREG(st.st_mode)) {
		ret = check_regular(inc, "include", "check the -i path", &st, err);
		if (ret == 0) {
			add_reg(b, xstrdup(guest), inc, st.st_mode & 0777, RANK_EXPLICIT, what);
			strvec_push_unique(&b->elves, inc);
		}
	} else {
		strbuf_addf(err, "include %s is not a regular file or directory; check the -i path",
			    inc);
		ret = -1;
	}
	free(guest);
	free(what);
	return ret;
}

static int add_includes(struct build *b, const char *const *incs, size_t n, struct strbuf *err)
{
	char **names = xcalloc(n ? n : 1, sizeof(*names));
	size_t i, j;
	int ret = 0;

	/* Validate every name before walking anything, so a clash is reported
	 * without first reading a large tree. */
	for (i = 0; i < n && ret == 0; i++) {
		names[i] = initramfs_include_name(incs[i]);
		if (!names[i]) {
			strbuf_addf(err, "include %s has no usable name; include a named "
				    "subdirectory instead", incs[i]);
			ret = -1;
		}
		for (j = 0; j < i && ret == 0; j++) {
			if (!strcmp(names[i], names[j])) {
				strbuf_addf(err, "includes %s and %s both map to /include-files/%s; "
					    "rename one or include their parent directory",
					    incs[j], incs[i], names[i]);
				ret = -1;
			}
		}
	}
	for (i = 0; i < n && ret == 0; i++)
		ret = add_include(b, incs[i], names[i], err);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

static int add_files(struct build *b, const struct initramfs_file *f, size_t n,
		     struct strbuf *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct stat st;
		char *dest = f[i].dest && f[i].dest[0] == '/' ? guest_path(f[i].dest) : NULL;
		char *what;

		if (!dest) {
			strbuf_addf(err, "guest path '%s' for %s must be absolute, below / and "
				    "free of '..'", f[i].dest ? f[i].dest : "(null)",
				    f[i].src ? f[i].src : "(null)");
			return -1;
		}
		if (!f[i].src)
			strbuf_addf(err, "no host file given for guest path %s", f[i].dest);
		if (!f[i].src || check_regular(f[i].src, "file", "check the host path",
					       &st, err) < 0) {
			free(dest);
			return -1;
		}
		what = xasprintf("file %s", f[i].src);
		add_reg(b, dest, f[i].src, st.st_mode & 0777, RANK_EXPLICIT, what);
		strvec_push_unique(&b->elves, f[i].src);
		free(what);
	}
	return 0;
}

/* Pack a library at the path the loader opens.  When that path is (or goes
 * through) a symlink, the guest gets a symlink there and the real file at
 * its resolved path, so both the loader path and the file exist. */
static int add_library(struct build *b, const char *lib, const char *needer,
		       struct strbuf *err)
{
	char real[PATH_MAX];
	struct stat st;
	char *what, *gl, *gr;

	if (!strvec_push_unique(&b->libs, lib))
		return 0;
	if (!realpath(lib, real) || stat(real, &st) < 0) {
		strbuf_addf(err, "cannot resolve library %s needed by %s: %s; check the "
			    "host installation", lib, needer, strerror(errno));
		return -1;
	}
	what = xasprintf("library %s (needed by %s)", lib, needer);
	gl = guest_path(lib);
	gr = guest_path(real);
	/* A loader path with ".." (from $ORIGIN/..) cannot be recreated
	 * verbatim; the resolved file is still packed. */
	if (gl && strcmp(gl, gr))
		add_symlink(b, gl, real, RANK_LIBRARY, what);
	else
		free(gl);
	add_reg(b, gr, real, st.st_mode & 0777, RANK_LIBRARY, what);
	free(what);
	return 0;
}

static int add_closures(struct build *b, struct strbuf *err)
{
	size_t i, k;

	for (i = 0; i < b->elves.n; i++) {
		struct strvec libs = STRVEC_INIT;
		int ret = elf_closure(b->elves.v[i], &libs, err);

		for (k = 0; k < libs.n && ret == 0; k++)
			ret = add_library(b, libs.v[k], b->elves.v[i], err);
		strvec_clear(&libs);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* Every ancestor of every entry, as an implied directory. */
static void add_parents(struct build *b)
{
	size_t i, n = b->n;

	for (i = 0; i < n; i++) {
		char *p = xstrdup(b->v[i].path), *slash;

		while ((slash = strrchr(p, '/'))) {
			*slash = '\0';
			add_dir(b, xstrdup(p), 0755, RANK_PARENT, "a parent directory");
		}
		free(p);
	}
}

static int cmp_ent(const void *pa, const void *pb)
{
	const struct ent *a = pa, *b = pb;
	int c = strcmp(a->path, b->path);

	if (c)
		return c;
	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hash and size of a regular entry's source, computed once, or taken
 * from the memo (NULL: none) when the file is unchanged since. */
static int ent_hash(struct ent *e, struct inmemo *memo, struct strbuf *err)
{
	char buf[IO_CHUNK];
	struct sha256 h;
	struct stat st;
	bool have_st;
	int fd;

	if (e->hashed)
		return 0;
	fd = open(e->src, O_RDONLY | O_CLOEXEC);
	have_st = fd >= 0 && fstat(fd, &st) == 0;
	if (have_st && memo && inmemo_get_hash(memo, e->src, &st, e->sha, &e->size)) {
		close(fd);
		e->hashed = true;
		return 0;
	}
	if (fd < 0) {
		strbuf_addf(err, "cannot read %s (%s): %s; fix its permissions", e->src,
			    e->what, strerror(errno));
		return -1;
	}
	sha256_init(&h);
	e->size = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "cannot read %s (%s): %s", e->src, e->what,
				    strerror(errno));
			close(fd);
			sha256_final_hex(&h, e->sha);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
		e->size += (unsigned long long)n;
	}
	close(fd);
	sha256_final_hex(&h, e->sha);
	e->hashed = true;
	if (have_st && memo)
		inmemo_put_hash(memo, e->src, &st, e->sha, e->size);
	return 0;
}

/* Two same-rank claims on one path are fine only if they agree. */
static int ent_agree(struct ent *a, struct ent *b, bool *same, struct strbuf *err)
{
	*same = false;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		return 0;
	switch (a->mode & S_IFMT) {
	case S_IFDIR:
		*same = true;
		return 0;
	case S_IFLNK:
		*same = !strcmp(a->link, b->link);
		return 0;
	case S_IFCHR:
		*same = a->mode == b->mode && a->rmajor == b->rmajor && a->rminor == b->rminor;
		return 0;
	default:
		if (a->mode != b->mode)
			return 0;
		if (!strcmp(a->src, b->src)) {
			*same = true;
			return 0;
		}
		if (ent_hash(a, NULL, err) < 0 || ent_hash(b, NULL, err) < 0)
			return -1;
		*same = !strcmp(a->sha, b->sha);
		return 0;
	}
}

/* Sort, then keep one entry per path: the best-ranked, after checking
 * that equal-ranked rivals agree with it. */
static int merge(struct build *b, struct strbuf *err)
{
	size_t i, out = 0;
	int ret = 0;

	qsort(b->v, b->n, sizeof(*b->v), cmp_ent);
	for (i = 0; i < b->n; i++) {
		struct ent *keep = out ? &b->v[out - 1] : NULL;
		bool same = true;

		if (!keep || strcmp(keep->path, b->v[i].path)) {
			b->v[out++] = b->v[i];
			continue;
		}
		if (ret == 0 && keep->rank == b->v[i].rank) {
			ret = ent_agree(keep, &b->v[i], &same, err);
			if (ret == 0 && !same) {
				strbuf_addf(err, "%s and %s both want guest path /%s; "
					    "drop or move one of them", keep->what,
					    b->v[i].what, keep->path);
				ret = -1;
			}
		}
		ent_release(&b->v[i]);
	}
	b->n = out;
	return ret;
}

static struct ent *find_ent(struct build *b, const char *path)
{
	struct ent key = { .path = (char *)path };
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key.path, b->v[mid].path);

		if (!c)
			return &b->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Parents must be directories (an explicit file may have displaced one),
 * and directory link counts follow the usual 2 + subdirectories rule. */
static int check_parents(struct build *b, struct strbuf *err)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		b->v[i].nlink = S_ISDIR(b->v[i].mode) ? 2 : 1;
	for (i = 0; i < b->n; i++) {
		struct ent *e = &b->v[i], *parent;
		char *slash = strrchr(e->path, '/');
		char *pp;

		if (!slash)
			continue;
		pp = xstrndup(e->path, (size_t)(slash - e->path));
		parent = find_ent(b, pp);
		free(pp);
		/* add_parents() guarantees a parent entry; merge() may have
		 * let an explicit file win over the implied directory. */
		if (!S_ISDIR(parent->mode)) {
			strbuf_addf(err, "%s puts a non-directory at /%s, but %s needs a "
				    "directory there for /%s; move one of them",
				    parent->what, parent->path, e->what, e->path);
			return -1;
		}
		if (S_ISDIR(e->mode))
			parent->nlink++;
	}
	return 0;
}

static int finalize(struct build *b, struct strbuf *err)
{
	size_t i;

	add_parents(b);
	if (merge(b, err) < 0 || check_parents(b, err) < 0)
		return -1;
	for (i = 0; i < b->n; i++)
		if (S_ISREG(b->v[i].mode) && ent_hash(&b->v[i], &b->memo, err) < 0)
			return -1;
	return 0;
}

static bool have_applet(const struct build *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].rank == RANK_APPLET && !strcmp(path_basename(b->v[i].path), name))
			return true;
	return false;
}

/* Tools a person debugging a scheduler in the guest reaches for.  busybox
 * provides some of them (taskset in Debian's busybox-static); the others
 * come from the host at the same path, with their libraries.  A tool the
 * host lacks is left out: the image stays buildable, and the guest's
 * "not found" names it. */
const char *const initramfs_host_tools[] = {
	"/usr/bin/chrt", "/usr/bin/taskset",		/* util-linux */
	"/usr/bin/pkill", "/usr/bin/pgrep",		/* procps */
	"/usr/sbin/bpftool",				/* bpftool */
	NULL,
};

bool initramfs_tool_usable(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && S_ISREG(st->st_mode) && access(path, R_OK | X_OK) == 0;
}

static void add_tools(struct build *b, const char *const *tools)
{
	size_t i;

	if (!tools)
		tools = initramfs_host_tools;
	for (i = 0; tools[i]; i++) {
		struct stat st;
		char *what;

		if (have_applet(b, path_basename(tools[i])))
			continue;
		if (!initramfs_tool_usable(tools[i], &st)) {
			strvec_push(&b->missing, tools[i]);
			continue;
		}
		what = xasprintf("host tool %s", tools[i]);
		add_reg(b, guest_path(tools[i]), tools[i], st.st_mode & 0777, RANK_TOOL, what);
		strvec_push_unique(&b->elves, tools[i]);
		free(what);
	}
}

static int collect(const struct initramfs_opts *o, struct build *b, struct strbuf *err)
{
	add_skeleton(b);
	if (add_agent(b, o->agent, err) < 0 ||
	    add_busybox(b, o->busybox, err) < 0)
		return -1;
	if (o->host_tools)
		add_tools(b, o->tool_paths);
	if (add_includes(b, o->includes, o->n_includes, err) < 0 ||
	    add_files(b, o->files, o->n_files, err) < 0 ||
	    add_closures(b, err) < 0)
		return -1;
	return finalize(b, err);
}

int initramfs_collect(const struct initramfs_opts *o, struct build *b, struct strbuf *err)
{
	char *dir = o->cache_dir ? xstrdup(o->cache_dir) : ktstr_cache_dir("initramfs");

	inmemo_load(&b->memo, dir);
	free(dir);
	return collect(o, b, err);
}
