#include "kcache.h"
#include "clock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "jsonl.h"
#include "kernel_id.h"
#include "opts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

void kcache_crc32_hex(const void *buf, size_t len, char hex[9])
{
	snprintf(hex, 9, "%08lx", crc32(0L, (const Bytef *)buf, (uInt)len));
}

char *kcache_key_suffix(const char *kc, const char *xkc)
{
	if (xkc)
		return xasprintf("kc%s-xkc%s", kc, xkc);
	return xasprintf("kc%s", kc);
}

char *kcache_key_tarball(const char *version, const char *kc, const char *xkc)
{
	char *sfx = kcache_key_suffix(kc, xkc);
	char *k = xasprintf("%s-tarball-" KCACHE_ARCH "-%s", version, sfx);

	free(sfx);
	return k;
}

char *kcache_key_git(const char *ref, const char *hash7, const char *kc, const char *xkc)
{
	char *sfx = kcache_key_suffix(kc, xkc);
	char *k = xasprintf("%s-git-%.7s-" KCACHE_ARCH "-%s", ref, hash7, sfx);
	char *c;

	/* A ref like "origin/main" must stay one path component. */
	for (c = k; *c; c++)
		if (*c == '/')
			*c = '_';
	free(sfx);
	return k;
}

char *kcache_key_local(const char *hash7, bool dirty, const char *kc, const char *xkc)
{
	char *sfx = kcache_key_suffix(kc, xkc);
	char *k = xasprintf("local-%.7s%s-" KCACHE_ARCH "-%s", hash7,
			    dirty ? "-dirty" : "", sfx);

	free(sfx);
	return k;
}

int kcache_key_valid(const char *key)
{
	if (!key || !*key || key[0] == '.' || strchr(key, '/') || strlen(key) > 200)
		return -1;
	return 0;
}

static char *str_or(const json_t *meta, const char *k, const char *def)
{
	const json_t *v = json_object_get(meta, k);

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return def ? xstrdup(def) : NULL;
}

int kcache_load(const char *root, const char *key, const char *current_kc,
		struct kcache_entry *e)
{
	json_error_t jerr;
	json_t *meta, *src, *bm;
	char *mpath;
	const char *name;

	memset(e, 0, sizeof(*e));
	e->build_ms = -1;
	if (kcache_key_valid(key))
		return -1;
	e->dir = path_join(root, key);
	if (!is_directory(e->dir)) {
		free(e->dir);
		e->dir = NULL;
		return -1;
	}
	e->key = xstrdup(key);
	e->version = xstrdup("");
	e->source_type = xstrdup("");
	e->built_at = xstrdup("");
	mpath = path_join(e->dir, "metadata.json");
	meta = json_load_file(mpath, 0, &jerr);
	free(mpath);
	if (!meta) {
		e->error = xasprintf("metadata.json: %s", jerr.text);
		goto bad;
	}
	if (!json_is_object(meta)) {
		e->error = xstrdup("metadata.json: not a JSON object");
		goto bad;
	}
	name = json_string_value(json_object_get(meta, "image_name"));
	if (!name || !*name || strchr(name, '/') || name[0] == '.') {
		e->error = xstrdup("metadata.json: no valid image_name");
		goto bad;
	}
	e->image = path_join(e->dir, name);
	if (!is_regular_file(e->image)) {
		e->error = xasprintf("image %s is missing", name);
		free(e->image);
		e->image = NULL;
		goto bad;
	}
	free(e->version);
	free(e->built_at);
	free(e->source_type);
	e->version = str_or(meta, "version", "");
	e->built_at = str_or(meta, "built_at", "");
	src = json_object_get(meta, "source");
	e->source_type = str_or(src, "type", "");
	e->kconfig_hash = str_or(meta, "kconfig_hash", NULL);
	e->extra_kconfig_hash = str_or(meta, "extra_kconfig_hash", NULL);
	bm = json_object_get(meta, "build_ms");
	if (json_is_integer(bm))
		e->build_ms = json_integer_value(bm);
	e->stale = e->kconfig_hash && current_kc && *current_kc &&
		   strcmp(e->kconfig_hash, current_kc) != 0;
	e->meta = meta;
	return 0;
bad:
	json_decref(meta);
	e->corrupt = true;
	return 1;
}

void kcache_entry_release(struct kcache_entry *e)
{
	free(e->key);
	free(e->dir);
	free(e->image);
	free(e->version);
	free(e->source_type);
	free(e->built_at);
	free(e->kconfig_hash);
	free(e->extra_kconfig_hash);
	free(e->error);
	json_decref(e->meta);
	memset(e, 0, sizeof(*e));
}

static int newest_first(const void *a, const void *b)
{
	const struct kcache_entry *x = a, *y = b;
	int c;

	if (x->corrupt != y->corrupt)
		return x->corrupt ? 1 : -1;
	c = strcmp(y->built_at, x->built_at);
	if (c)
		return c;
	return strcmp(y->key, x->key);
}

const char *kcache_debian_flavour_preferred(void)
{
	const char *f = env_get("KTSTR_DEBIAN_FLAVOUR");

	return f ? f : KERNEL_DEBIAN_FLAVOUR;
}

char *kcache_debian_flavour(const struct kcache_entry *e)
{
	const char *f = e->meta ? json_string_value(json_object_get(e->meta, "flavour")) : NULL;
	const char *rel = e->meta ? json_string_value(json_object_get(e->meta, "release")) : NULL;
	const char *ver = e->version ? e->version : "";
	size_t vlen = strlen(ver), len;

	if (strncmp(e->key, "debian-", 7))
		return NULL;
	if (f && *f)
		return xstrdup(f);
	if (!rel || !*rel) {
		rel = e->key + 7;
		len = strlen(rel);
		if (len > strlen("-" KCACHE_ARCH) &&
		    !strcmp(rel + len - strlen("-" KCACHE_ARCH), "-" KCACHE_ARCH))
			len -= strlen("-" KCACHE_ARCH);
	} else {
		len = strlen(rel);
	}
	if (!vlen || len <= vlen + 1 || strncmp(rel, ver, vlen) || rel[vlen] != '-')
		return xstrdup("");
	return xstrndup(rel + vlen + 1, len - vlen - 1);
}

/* Is e a valid Debian entry of the flavour (want) or of another (!want)? */
static bool debian_of(const struct kcache_entry *e, const char *flavour, bool want)
{
	char *f;
	bool match;

	if (e->corrupt || !(f = kcache_debian_flavour(e)))
		return false;
	match = (strcmp(f, flavour) == 0) == want;
	free(f);
	return match;
}

/* Move each version's preferred-flavour Debian entry ahead of that
 * version's other Debian entries, keeping everything else in order. */
static void prefer_debian_flavour(struct kcache_entry *v, size_t n)
{
	const char *pref = kcache_debian_flavour_preferred();
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!debian_of(&v[i], pref, false))
			continue;
		for (j = i + 1; j < n; j++) {
			if (debian_of(&v[j], pref, true) && !strcmp(v[j].version, v[i].version)) {
				struct kcache_entry t = v[j];

				memmove(&v[i + 1], &v[i], (j - i) * sizeof(*v));
				v[i] = t;
				break;
			}
		}
	}
}

size_t kcache_list(const char *root, const char *current_kc, struct kcache_entry **out)
{
	struct kcache_entry *v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d = opendir(root);

	*out = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct kcache_entry e;

		if (de->d_name[0] == '.')
			continue;
		if (kcache_load(root, de->d_name, current_kc, &e) < 0)
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n++] = e;
	}
	closedir(d);
	if (n) {
		qsort(v, n, sizeof(*v), newest_first);
		prefer_debian_flavour(v, n);
	}
	*out = v;
	return n;
}

void kcache_list_free(struct kcache_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kcache_entry_release(&v[i]);
	free(v);
}

int kcache_newest(const char *root, const char *current_kc, struct kcache_entry *e)
{
	struct kcache_entry *v;
	size_t i, n = kcache_list(root, current_kc, &v);
	int rc = -1;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < n; i++) {
		if (!v[i].corrupt && !v[i].stale) {
			*e = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			rc = 0;
			break;
		}
	}
	kcache_list_free(v, n);
	return rc;
}

int kcache_lock_timeout(unsigned long long *ms, struct strbuf *err)
{
	const char *s = env_get("KTSTR_CACHE_STORE_LOCK_TIMEOUT");

	*ms = 10ULL * 60 * 1000;
	if (s && parse_duration_ms(s, ms) < 0) {
		strbuf_addf(err, "KTSTR_CACHE_STORE_LOCK_TIMEOUT='%s' is not a duration; "
			    "use e.g. 30s, 10m or 1h", s);
		return -1;
	}
	return 0;
}

int kcache_lock(const char *root, const char *key, unsigned long long timeout_ms,
		bool *waited, struct strbuf *err)
{
	char *ldir = path_join(root, ".locks");
	char *lpath = xasprintf("%s/%s.lock", ldir, key);
	unsigned long long start = monotonic_ms();
	int fd = -1;

	if (waited)
		*waited = false;
	if (kcache_key_valid(key)) {
		strbuf_addf(err, "invalid cache key '%s'", key);
		goto out;
	}
	if (mkdir_p(ldir, 0755) < 0) {
		strbuf_addf(err, "cannot create %s: %s", ldir, strerror(errno));
		goto out;
	}
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "cannot open %s: %s", lpath, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			strbuf_addf(err, "cannot lock %s: %s", lpath, strerror(errno));
			close(fd);
			fd = -1;
			goto out;
		}
		if (waited)
			*waited = true;
		if (monotonic_ms() - start >= timeout_ms) {
			strbuf_addf(err, "timed out after %llums waiting for the cache lock %s "
				    "(another build of %s is running); raise "
				    "KTSTR_CACHE_STORE_LOCK_TIMEOUT or wait for it",
				    timeout_ms, lpath, key);
			close(fd);
			fd = -1;
			goto out;
		}
		usleep(50 * 1000);
	}
out:
	free(ldir);
	free(lpath);
	return fd;
}

void kcache_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

char *kcache_stage(const char *root)
{
	char *d = make_temp_dir(root, ".tmp");

	/* mkdtemp makes it 0700; a published entry is readable by all. */
	if (d)
		chmod(d, 0755);
	return d;
}

int kcache_write_metadata(const char *dir, const json_t *meta)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = path_join(dir, "metadata.json");
	char *s = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc = -1;

	if (s) {
		strbuf_addstr(&sb, s);
		strbuf_addch(&sb, '\n');
		rc = write_file_atomic(path, sb.buf, sb.len, 0644);
	}
	free(s);
	free(path);
	strbuf_release(&sb);
	return rc;
}

int kcache_remove(const char *root, const char *key)
{
	char *dir, *trash;
	int rc = -1;

	if (kcache_key_valid(key)) {
		errno = EINVAL;
		return -1;
	}
	dir = path_join(root, key);
	trash = make_temp_dir(root, ".trash");
	if (trash) {
		/* rename(2) onto an empty directory replaces it. */
		if (rename(dir, trash) == 0) {
			rm_rf(trash);
			rc = 0;
		} else {
			int e = errno;

			rmdir(trash);
			errno = e;
		}
	}
	free(dir);
	free(trash);
	return rc;
}

unsigned kcache_remove_orphans(const char *root, long max_age_s)
{
	struct dirent *de;
	DIR *d = opendir(root);
	time_t now = time(NULL);
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (strncmp(de->d_name, ".tmp.", 5) && strncmp(de->d_name, ".trash.", 7))
			continue;
		p = path_join(root, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > max_age_s &&
		    rm_rf(p) == 0)
			n++;
		free(p);
	}
	closedir(d);
	return n;
}

int kcache_publish(const char *root, const char *staged, const char *key,
		   struct strbuf *err)
{
	char *dir;
	int rc = 0;

	if (kcache_key_valid(key)) {
		strbuf_addf(err, "invalid cache key '%s'", key);
		return -1;
	}
	dir = path_join(root, key);
	if (path_exists(dir) && kcache_remove(root, key) < 0) {
		strbuf_addf(err, "cannot replace %s: %s", dir, strerror(errno));
		rc = -1;
	} else if (rename(staged, dir) < 0) {
		strbuf_addf(err, "cannot publish %s: %s", dir, strerror(errno));
		rc = -1;
	} else {
		int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(dir);
	return rc;
}

