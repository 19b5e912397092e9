#include "kernel.h"
#include <jansson.h>
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "hash.h"
#include "ikconfig.h"
#include "kcache.h"
#include "kernel_id.h"
#include "strvec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define IMAGE_REL "arch/x86/boot/bzImage"
#define KERNEL_HINT "pass --kernel PATH, set KTSTR_TEST_KERNEL to an image, or " \
	"fetch one with share/ktstr/fetch-debian-kernel"

int kernel_image_check(const char *path, struct strbuf *err)
{
	unsigned char hdr[0x210];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4)) {
		strbuf_addf(err, "%s is an uncompressed ELF vmlinux; pass the bzImage "
			    "(arch/x86/boot/bzImage or /boot/vmlinuz-*)", path);
		return -1;
	}
	/* Boot protocol: 0x55AA at 0x1fe and "HdrS" at 0x202. */
	if (n < (ssize_t)sizeof(hdr) || hdr[0x1fe] != 0x55 || hdr[0x1ff] != 0xaa ||
	    memcmp(hdr + 0x202, "HdrS", 4)) {
		strbuf_addf(err, "%s is not an x86 kernel image (no bzImage boot "
			    "header); pass arch/x86/boot/bzImage or /boot/vmlinuz-*", path);
		return -1;
	}
	return 0;
}

const char *kernel_kconfig_hash(void)
{
	static char hex[9];
	struct strbuf sb = STRBUF_INIT;
	char *path;

	if (hex[0])
		return hex;
	path = ktstr_share_path("ktstr.kconfig");
	if (strbuf_read_file(&sb, path) == 0)
		kcache_crc32_hex(sb.buf, sb.len, hex);
	free(path);
	strbuf_release(&sb);
	return hex;
}

/* The config file named beside an image: "config" (the ktstr cache's
 * layout), or config-X for an image named vmlinuz-X, bzImage-X or
 * vmlinux-X (the layout of /boot and of Debian's kernel packages). */
static char *config_beside(const char *image)
{
	static const char *const prefixes[] = { "vmlinuz-", "bzImage-", "vmlinux-" };
	char *dir = path_dirname(image), *cfg = path_join(dir, "config");
	const char *base = path_basename(image);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes) && !is_regular_file(cfg); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(base, prefixes[i], n) && base[n]) {
			char *name = xasprintf("config-%s", base + n);

			free(cfg);
			cfg = path_join(dir, name);
			free(name);
		}
	}
	free(dir);
	if (!is_regular_file(cfg)) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* The image's own IKCONFIG copy, extracted once into the cache.  Entries
 * are keyed by the image's path, size, mtime and inode, so a rebuilt
 * image is looked at afresh; an empty ".none" file remembers an image
 * without IKCONFIG, which saves decompressing it on every run. */
static char *config_from_ikconfig(const char *image)
{
	struct strbuf key = STRBUF_INIT, cfg = STRBUF_INIT, err = STRBUF_INIT;
	char hex[SHA256_HEX_LEN + 1], *dir = ktstr_cache_dir("kconfig");
	char *path = NULL, *none = NULL, real[PATH_MAX];
	struct stat st;
	int rc;

	if (!dir || !realpath(image, real) || stat(real, &st) < 0)
		goto out;
	strbuf_addf(&key, "%s\n%lld\n%lld.%09ld\n%llu", real, (long long)st.st_size,
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (unsigned long long)st.st_ino);
	sha256_buf_hex(key.buf, key.len, hex);
	path = xasprintf("%s/%s.config", dir, hex);
	none = xasprintf("%s/%s.none", dir, hex);
	if (is_regular_file(path) || is_regular_file(none))
		goto out;
	rc = ikconfig_from_image(real, &cfg, &err);
	if (rc < 0)
		diag("no kernel config from %s: %s", image, err.buf);
	/* A negative entry that cannot be written only costs the next run
	 * time; a config that cannot be written is reported below.  An image
	 * that could not be read is not remembered: it says so every run. */
	if (rc >= 0 && mkdir_p(dir, 0755) == 0) {
		if (rc > 0)
			write_file_atomic(path, cfg.buf, cfg.len, 0644);
		else
			write_file_atomic(none, "", 0, 0644);
	}
	if (rc > 0 && !is_regular_file(path))
		diag("cannot cache the kernel config found in %s under %s; pass "
		     "--kconfig PATH instead", image, dir);
out:
	if (path && !is_regular_file(path)) {
		free(path);
		path = NULL;
	}
	free(none);
	free(dir);
	strbuf_release(&key);
	strbuf_release(&cfg);
	strbuf_release(&err);
	return path;
}

char *kernel_config_for_image(const char *image)
{
	char *cfg = config_beside(image);

	return cfg ? cfg : config_from_ikconfig(image);
}

int kernel_config_check(const char *path, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = -1;

	if (!is_regular_file(path))
		strbuf_addf(err, "%s %s; pass the kernel's .config (e.g. /boot/config-X)",
			    path, path_exists(path) ? "is not a regular file" : "does not exist");
	else if (strbuf_read_file(&sb, path) < 0)
		strbuf_addf(err, "cannot read %s: %s; fix its permissions", path, strerror(errno));
	else if (!strstr(sb.buf, "CONFIG_"))
		strbuf_addf(err, "%s is not a kernel config (no CONFIG_ line); pass the "
			    "kernel's .config (e.g. /boot/config-X)", path);
	else
		rc = 0;
	strbuf_release(&sb);
	return rc;
}

static void found_set(struct kernel_found *kf, const char *image, const char *config,
		      const char *key, const char *source)
{
	kf->image = xstrdup(image);
	kf->config = config && is_regular_file(config) ? xstrdup(config)
		: kernel_config_for_image(image);
	kf->key = key ? xstrdup(key) : NULL;
	kf->source = xstrdup(source);
	kf->version = NULL;
}

void kernel_found_release(struct kernel_found *kf)
{
	free(kf->image);
	free(kf->config);
	free(kf->key);
	free(kf->source);
	free(kf->version);
	free(kf->flavour);
	memset(kf, 0, sizeof(*kf));
}

/* An explicit path: an image file, or a build tree holding one. */
static int from_path(const char *what, const char *raw, struct kernel_found *kf,
		     struct strbuf *err)
{
	char *p = path_expand_tilde(raw);
	int rc = -1;

	if (is_directory(p)) {
		char *img = path_join(p, IMAGE_REL);
		char *cfg = path_join(p, ".config");

		if (is_regular_file(img)) {
			found_set(kf, img, cfg, NULL, what);
			rc = 0;
		} else {
			strbuf_addf(err, "%s=%s is a directory without %s; build the "
				    "kernel there or point at the image file", what, raw, IMAGE_REL);
		}
		free(img);
		free(cfg);
	} else if (!path_exists(p)) {
		strbuf_addf(err, "%s=%s does not exist; %s", what, raw, KERNEL_HINT);
	} else {
		struct strbuf why = STRBUF_INIT;

		if (kernel_image_check(p, &why) == 0) {
			char *dir = path_dirname(p);
			char *cfg = path_join(dir, "config");

			found_set(kf, p, cfg, NULL, what);
			free(dir);
			free(cfg);
			rc = 0;
		} else {
			strbuf_addf(err, "%s: %s", what, why.buf);
		}
		strbuf_release(&why);
	}
	free(p);
	return rc;
}

static void found_from_entry(struct kernel_found *kf, const struct kcache_entry *e,
			     const char *source)
{
	char *cfg = path_join(e->dir, "config");

	found_set(kf, e->image, cfg, e->key, source);
	if (e->version && *e->version)
		kf->version = xstrdup(e->version);
	kf->flavour = kcache_debian_flavour(e);
	free(cfg);
}

/* Newest valid entry (by built_at) whose kconfig matches ours. */
static int from_cache_scan(const char *root, struct kernel_found *kf)
{
	struct kcache_entry e;

	if (kcache_newest(root, kernel_kconfig_hash(), &e))
		return -1;
	found_from_entry(kf, &e, "cache");
	kcache_entry_release(&e);
	return 0;
}

/* Exact lookup of one cache key; 0 found, 1 not. */
static int from_cache_key(const char *root, const char *key, const char *what,
			  struct kernel_found *kf)
{
	struct kcache_entry e;
	int rc = 1;

	if (kcache_load(root, key, NULL, &e) == 0) {
		found_from_entry(kf, &e, what);
		rc = 0;
	}
	kcache_entry_release(&e);
	return rc;
}

/* The newest valid debian-* entry (kcache_list puts the preferred flavour
 * first on a version tie), of the flavour when one is given; 0 found, 1
 * not. */
static int from_cache_debian(const char *root, const char *what, const char *flavour,
			     struct kernel_found *kf)
{
	struct kcache_entry *v;
	size_t n = kcache_list(root, NULL, &v), i;
	int rc = 1;

	for (i = 0; i < n && rc; i++) {
		char *f = v[i].corrupt ? NULL : kcache_debian_flavour(&v[i]);
		bool skip = !f || (flavour && strcmp(f, flavour));

		free(f);
		if (skip)
			continue;
		found_from_entry(kf, &v[i], what);
		rc = 0;
	}
	kcache_list_free(v, n);
	return rc;
}

/* A kernel id (KTSTR_KERNEL's value or --kernel's argument, named by
 * what in messages), parsed with the one kernel id grammar (lib/kernel_id).
 * A version or cache key is an exact cache lookup.  Returns 0 found, 1 not
 * found (the caller then skips the general cache scan, so an unrelated
 * cached kernel is never substituted), -1 error. */
static int from_id(const char *root, const char *what, const char *val,
		   struct kernel_found *kf, struct strbuf *err)
{
	struct kernel_id id;
	char *key;
	int rc;

	if (kernel_id_parse(val, &id, err) < 0) {
		kernel_id_release(&id);
		strbuf_addf(err, " (from %s)", what);
		return -1;
	}
	if (!root && id.kind != KID_PATH && id.kind != KID_RANGE && id.kind != KID_GIT) {
		strbuf_addf(err, "%s=%s needs the kernel cache, but no cache "
			    "directory is known; set KTSTR_CACHE_DIR or HOME", what, val);
		kernel_id_release(&id);
		return -1;
	}
	switch (id.kind) {
	case KID_PATH:
		rc = from_path(what, val, kf, err) == 0 ? 0 : -1;
		break;
	case KID_RANGE:
	case KID_GIT:
	case KID_LATEST:
		strbuf_addf(err, "%s=%s: ranges and git sources are not "
			    "supported in the %s one version, cache key "
			    "or path (build others with ktstr-fetch | ktstr-build)", what, val,
			    strncmp(what, "--", 2) ? "variable; set it to" : "option; give it");
		rc = -1;
		break;
	case KID_CACHE_KEY:
		rc = from_cache_key(root, id.path, what, kf);
		break;
	case KID_DEBIAN:
		rc = from_cache_debian(root, what, id.flavour, kf);
		break;
	default:	/* KID_VERSION, KID_PREFIX: the tarball key, as given */
		key = kcache_key_tarball(id.text, kernel_kconfig_hash(), NULL);
		rc = from_cache_key(root, key, what, kf);
		free(key);
		break;
	}
	kernel_id_release(&id);
	return rc;
}

static int from_host(struct kernel_found *kf)
{
	struct utsname u;
	struct strvec cands = STRVEC_INIT;
	size_t i;
	int rc = -1;

	uname(&u);
	strvec_push(&cands, "./linux/" IMAGE_REL);
	strvec_push(&cands, "../linux/" IMAGE_REL);
	strvec_pushf(&cands, "/lib/modules/%s/build/" IMAGE_REL, u.release);
	strvec_pushf(&cands, "/lib/modules/%s/vmlinuz", u.release);
	strvec_pushf(&cands, "/boot/vmlinuz-%s", u.release);
	strvec_push(&cands, "/boot/vmlinuz");
	for (i = 0; i < cands.n && rc; i++) {
		struct strbuf why = STRBUF_INIT;

		if (is_regular_file(cands.v[i]) &&
		    kernel_image_check(cands.v[i], &why) == 0 &&
		    access(cands.v[i], R_OK) == 0) {
			char *cfg = i < 3 ? xasprintf("%.*s.config",
				(int)(strlen(cands.v[i]) - strlen(IMAGE_REL)), cands.v[i])
				: xasprintf("/boot/config-%s", u.release);

			found_set(kf, cands.v[i], cfg, NULL, "host");
			free(cfg);
			rc = 0;
		}
		strbuf_release(&why);
	}
	strvec_clear(&cands);
	return rc;
}

/* An id the user named: the cache or a path, else a local kernel (which
 * the caller may still refuse), but never an unrelated cached one. */
static int find_by_id(const char *root, const char *what, const char *id,
		      struct kernel_found *kf, struct strbuf *err)
{
	int rc = from_id(root, what, id, kf, err);

	if (rc <= 0)
		return rc;
	if (from_host(kf) == 0)
		return 0;
	strbuf_addf(err, "%s=%s is not in the kernel cache (%s) and no local kernel "
		    "was found; %s", what, id, root ? root : "unset", KERNEL_HINT);
	return -1;
}

int kernel_find_id(const char *what, const char *id, struct kernel_found *kf,
		   struct strbuf *err)
{
	char *root = ktstr_cache_dir("kernels");
	int rc;

	memset(kf, 0, sizeof(*kf));
	rc = find_by_id(root, what, id, kf, err);
	free(root);
	return rc;
}

int kernel_find(const char *explicit, struct kernel_found *kf, struct strbuf *err)
{
	const char *test_kernel = getenv("KTSTR_TEST_KERNEL");
	const char *ktstr_kernel = env_get("KTSTR_KERNEL");
	char *root = ktstr_cache_dir("kernels");
	int rc;

	memset(kf, 0, sizeof(*kf));
	if (explicit) {
		rc = from_path("--kernel", explicit, kf, err);
	} else if (test_kernel && !*test_kernel) {
		strbuf_addstr(err, "KTSTR_TEST_KERNEL not found: the variable is set "
			      "but empty; unset it or point it at a kernel image");
		rc = -1;
	} else if (test_kernel) {
		rc = from_path("KTSTR_TEST_KERNEL", test_kernel, kf, err);
	} else if (ktstr_kernel) {
		rc = find_by_id(root, "KTSTR_KERNEL", ktstr_kernel, kf, err);
	} else if ((root && from_cache_scan(root, kf) == 0) || from_host(kf) == 0) {
		rc = 0;
	} else {
		strbuf_addf(err, "no kernel found in the cache, ./linux, ../linux or "
			    "/boot; %s", KERNEL_HINT);
		rc = -1;
	}
	free(root);
	return rc;
}

/* ---- several kernels from one id (test runners) ------------------------- */

/* The numeric head of a cache entry's version ("7.3.4" of "7.3.4+deb13");
 * -1 when it has none. */
static int entry_ver(const struct kcache_entry *e, struct kernel_ver *v)
{
	size_t len = strspn(e->version ? e->version : "", "0123456789.");

	while (len && e->version[len - 1] == '.')
		len--;
	return len ? kernel_ver_parse(e->version, len, v) : -1;
}

static void list_push(struct kernel_found **out, size_t *n, const struct kcache_entry *e,
		      const char *source)
{
	*out = xrealloc(*out, (*n + 1) * sizeof(**out));
	memset(&(*out)[*n], 0, sizeof(**out));
	found_from_entry(&(*out)[(*n)++], e, source);
}

/* Versions and ranges against the valid cache entries.  kcache_list sorts
 * newest-built first, so the first entry of a version is the one kept. */
static void list_from_cache(const char *root, const struct kernel_id *id,
			    struct kernel_found **out, size_t *n)
{
	struct kcache_entry *v;
	size_t cnt = kcache_list(root, kernel_kconfig_hash(), &v), i, j, best = cnt;
	struct kernel_ver ver, bestver = { { 0 }, 0 };

	for (i = 0; i < cnt; i++) {
		if (v[i].corrupt || entry_ver(&v[i], &ver) < 0)
			continue;
		switch (id->kind) {
		case KID_VERSION:
			if (!kernel_ver_cmp(&ver, &id->ver) && best == cnt)
				best = i;
			break;
		case KID_PREFIX:
			if (kernel_ver_has_prefix(&ver, &id->ver) &&
			    (best == cnt || kernel_ver_cmp(&ver, &bestver) > 0)) {
				best = i;
				bestver = ver;
			}
			break;
		case KID_RANGE: {
			bool dup = false;

			if (!kernel_ver_in_range(&ver, &id->lo, &id->hi))
				break;
			for (j = 0; j < *n && !dup; j++) {
				struct kcache_entry tmp = { .version = (*out)[j].version };
				struct kernel_ver other;

				dup = entry_ver(&tmp, &other) == 0 && !kernel_ver_cmp(&other, &ver);
			}
			if (!dup)
				list_push(out, n, &v[i], "range");
			break;
		}
		default:
			break;
		}
	}
	if (best < cnt)
		list_push(out, n, &v[best], "version");
	kcache_list_free(v, cnt);
}

static int cmp_found_ver(const void *a, const void *b)
{
	struct kcache_entry x = { .version = ((const struct kernel_found *)a)->version };
	struct kcache_entry y = { .version = ((const struct kernel_found *)b)->version };
	struct kernel_ver vx, vy;

	entry_ver(&x, &vx);
	entry_ver(&y, &vy);
	return kernel_ver_cmp(&vx, &vy);
}

/* An image inside a cache entry named by path still has a version: its
 * metadata.json says so. */
static void version_from_metadata(struct kernel_found *kf)
{
	char *dir = path_dirname(kf->image), *meta = path_join(dir, "metadata.json");
	json_t *doc = json_load_file(meta, 0, NULL);
	const char *v = doc ? json_string_value(json_object_get(doc, "version")) : NULL;

	if (v && *v && !kf->version)
		kf->version = xstrdup(v);
	if (doc && kf->version && !kf->flavour) {
		struct kcache_entry e = { .key = (char *)path_basename(dir),
					  .version = kf->version, .meta = doc };

		kf->flavour = kcache_debian_flavour(&e);
	}
	json_decref(doc);
	free(meta);
	free(dir);
}

int kernel_find_list(const char *idstr, struct kernel_found **out, size_t *n,
		     struct strbuf *err)
{
	char *root = ktstr_cache_dir("kernels");
	struct kernel_id id;
	struct kcache_entry e;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (kernel_id_parse(idstr, &id, err) < 0) {
		kernel_id_release(&id);
		free(root);
		return -1;
	}
	if (id.kind != KID_PATH && !root) {
		strbuf_addf(err, "kernel '%s' needs the kernel cache, but no cache directory "
			    "is known; set KTSTR_CACHE_DIR or HOME", idstr);
		rc = -1;
		goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	switch (id.kind) {
	case KID_PATH:
		if (from_path("--kernel", idstr, *out, err) == 0) {
			*n = 1;
			version_from_metadata(*out);
		} else {
			rc = -1;
		}
		goto out;
	case KID_GIT:
		strbuf_addf(err, "kernel '%s' is a git source: build it first with "
			    "`ktstr-fetch '%s' | ktstr-build` and pass the cache key it prints",
			    idstr, idstr);
		rc = -1;
		goto out;
	case KID_CACHE_KEY:
		if (from_cache_key(root, id.path, "KTSTR_KERNEL", *out) == 0)
			*n = 1;
		break;
	case KID_DEBIAN:
		if (from_cache_debian(root, "KTSTR_KERNEL", id.flavour, *out) == 0)
			*n = 1;
		break;
	case KID_LATEST:
		if (kcache_newest(root, kernel_kconfig_hash(), &e) == 0) {
			found_from_entry(*out, &e, "cache");
			kcache_entry_release(&e);
			*n = 1;
		}
		break;
	default:
		free(*out);
		*out = NULL;
		list_from_cache(root, &id, out, n);
		if (*n > 1)
			qsort(*out, *n, sizeof(**out), cmp_found_ver);
		break;
	}
	if (!*n) {
		strbuf_addf(err, "kernel '%s': no kernel in the cache (%s) matches; get one "
			    "with `ktstr-fetch '%s' | ktstr-build` (or "
			    "share/ktstr/fetch-debian-kernel), and see `ktstr-build list`",
			    idstr, root, idstr);
		rc = -1;
	}
out:
	if (rc < 0) {
		kernel_found_free(*out, *n ? *n : (*out ? 1 : 0));
		*out = NULL;
		*n = 0;
	}
	kernel_id_release(&id);
	free(root);
	return rc;
}

void kernel_found_free(struct kernel_found *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kernel_found_release(&v[i]);
	free(v);
}

static bool image_named_by_dir(const char *base)
{
	return !strcmp(base, "bzImage") || !strcmp(base, "vmlinux") ||
	       !strncmp(base, "vmlinuz", 7) || !strcmp(base, "Image");
}

char *kernel_found_label(const struct kernel_found *kf)
{
	char *dir, *label;
	size_t len;

	if (kf->version && *kf->version && kf->flavour && *kf->flavour &&
	    strcmp(kf->flavour, KERNEL_DEBIAN_FLAVOUR))
		return xasprintf("%s-%s", kf->version, kf->flavour);
	if (kf->version && *kf->version)
		return xstrdup(kf->version);
	if (kf->key)
		return xstrdup(kf->key);
	/* A build tree's image: name the tree, not "boot". */
	len = strlen(kf->image);
	if (len > strlen("/" IMAGE_REL) &&
	    !strcmp(kf->image + len - strlen("/" IMAGE_REL), "/" IMAGE_REL)) {
		char *tree = xstrndup(kf->image, len - strlen("/" IMAGE_REL));

		label = xstrdup(path_basename(tree));
		free(tree);
		return label;
	}
	/* An image under its conventional name is named by its directory
	 * (.../linux-7.1/bzImage); any other file, or one in "." or "/",
	 * by its own name ("./bad" is "bad", not "."). */
	dir = path_dirname(kf->image);
	label = xstrdup(path_basename(dir));
	if (!image_named_by_dir(path_basename(kf->image)) || !strcmp(label, ".") ||
	    !strcmp(label, "/") || !*label) {
		free(label);
		label = xstrdup(path_basename(kf->image));
	}
	free(dir);
	return label;
}
