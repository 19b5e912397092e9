/* The initramfs image: its cache key, the cpio writer and the cache
 * and output files (initramfs.h).  The entry list is initramfs_tree.c's. */
#include "initramfs.h"
#include "initramfs_tree.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Part of every cache key: change it whenever the bytes this file writes
 * for a given entry list would change (layout, encoding, compression). */
#define FORMAT_VERSION "ktstr-initramfs 2 newc uncompressed"

/* One NUL-terminated field: the terminator keeps "ab"+"c" apart from "a"+"bc". */
static void key_field(struct sha256 *h, const char *s)
{
	sha256_update(h, s, strlen(s) + 1);
}

/* The cache key covers everything that shapes the output bytes. */
static void cache_key(const struct build *b, char key[SHA256_HEX_LEN + 1])
{
	struct sha256 h;
	size_t i;

	sha256_init(&h);
	key_field(&h, FORMAT_VERSION);
	for (i = 0; i < b->n; i++) {
		const struct ent *e = &b->v[i];
		char num[64];

		key_field(&h, e->path);
		snprintf(num, sizeof(num), "%o %u:%u", (unsigned)e->mode, e->rmajor, e->rminor);
		key_field(&h, num);
		key_field(&h, e->link ? e->link : "");
		key_field(&h, S_ISREG(e->mode) ? e->sha : "");
	}
	sha256_final_hex(&h, key);
}

/* Where archive bytes go: an fd (or nowhere), hashed and counted on the way. */
struct sink {
	int fd;
	struct sha256 h;
	unsigned long long bytes;
	int err;	/* errno of the first failed write */
};

static int sink_write(struct sink *s, const void *buf, size_t len)
{
	const char *p = buf;

	sha256_update(&s->h, buf, len);
	s->bytes += len;
	while (s->fd >= 0 && len) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->err = errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static la_ssize_t archive_sink_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	struct sink *s = data;

	if (sink_write(s, buf, len) < 0) {
		archive_set_error(a, s->err, "%s", strerror(s->err));
		return -1;
	}
	return (la_ssize_t)len;
}

/* Stream a regular file into the archive, insisting it is still the file
 * that was hashed: the cache key promised those exact bytes. */
static int write_body(struct archive *a, const struct ent *e, struct strbuf *err)
{
	char buf[IO_CHUNK];
	char sha[SHA256_HEX_LEN + 1];
	unsigned long long total = 0;
	struct sha256 h;
	int fd = open(e->src, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		strbuf_addf(err, "cannot read %s (%s): %s", e->src, e->what, strerror(errno));
		return -1;
	}
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || total + (unsigned long long)n > e->size)
			break;
		sha256_update(&h, buf, (size_t)n);
		total += (unsigned long long)n;
		if (archive_write_data(a, buf, (size_t)n) != n) {
			strbuf_addf(err, "cannot write the initramfs: %s", archive_error_string(a));
			close(fd);
			sha256_final_hex(&h, sha);
			return -1;
		}
	}
	close(fd);
	sha256_final_hex(&h, sha);
	if (total != e->size || strcmp(sha, e->sha)) {
		strbuf_addf(err, "%s (%s) changed while the initramfs was being built; "
			    "run again once it is stable", e->src, e->what);
		return -1;
	}
	return 0;
}

static int write_entry(struct archive *a, struct archive_entry *ae, size_t ino,
		       const struct ent *e, struct strbuf *err)
{
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, 0, 0);
	archive_entry_set_ino64(ae, (la_int64_t)ino);
	archive_entry_set_nlink(ae, e->nlink);
	/* The cpio writer insists on a size even for bodiless entries. */
	archive_entry_set_size(ae, S_ISREG(e->mode) ? (la_int64_t)e->size : 0);
	if (S_ISLNK(e->mode))
		archive_entry_set_symlink(ae, e->link);
	if (S_ISCHR(e->mode)) {
		archive_entry_set_rdevmajor(ae, e->rmajor);
		archive_entry_set_rdevminor(ae, e->rminor);
	}
	if (archive_write_header(a, ae) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot write the initramfs entry /%s: %s", e->path,
			    archive_error_string(a));
		return -1;
	}
	return S_ISREG(e->mode) ? write_body(a, e, err) : 0;
}

static struct archive *archive_open_sink(struct sink *s, struct strbuf *err)
{
	struct archive *a = archive_write_new();

	if (!a)
		die(KTSTR_EXIT_USAGE, "out of memory");
	/* Uncompressed: under TCG the guest's gunzip of a gzip image cost
	 * more boot than QEMU's loading the bigger file saves (measured:
	 * about 0.35 s of host CPU per boot; tests/bench/run).
	 * bytes_in_last_block=1: no block padding after the trailer. */
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, s, NULL, archive_sink_cb, NULL) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot set up the cpio writer: %s", archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Write the whole archive into s (which hashes and counts it). */
static int write_archive(const struct build *b, struct sink *s, struct strbuf *err)
{
	struct archive_entry *ae = archive_entry_new();
	struct archive *a;
	size_t i;
	int ret = 0;

	a = archive_open_sink(s, err);
	if (!a) {
		archive_entry_free(ae);
		return -1;
	}
	for (i = 0; i < b->n && ret == 0; i++)
		ret = write_entry(a, ae, i + 1, &b->v[i], err);
	if (ret == 0 && archive_write_close(a) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot finish the initramfs: %s", archive_error_string(a));
		ret = -1;
	}
	archive_write_free(a);
	archive_entry_free(ae);
	return ret;
}

/* Copy a finished image (the cache file) into a sink. */
static int copy_to_sink(const char *path, struct sink *s, struct strbuf *err)
{
	char buf[IO_CHUNK];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		strbuf_addf(err, "cannot read cached initramfs %s: %s; remove it and retry",
			    path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "cannot read cached initramfs %s: %s; remove it and "
				    "retry", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (sink_write(s, buf, (size_t)n) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static void output_error(struct strbuf *err, const char *path, int e)
{
	strbuf_addf(err, "cannot write output %s: %s; choose a writable path or create "
		    "its directory first", path, strerror(e));
}

static void sink_init(struct sink *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	sha256_init(&s->h);
}

/* Finish the hash; when r is given it receives the sink's hash and size. */
static void sink_finish(struct sink *s, struct initramfs_result *r)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_final_hex(&s->h, hex);
	if (r) {
		memcpy(r->sha256, hex, sizeof(hex));
		r->bytes = s->bytes;
	}
}

/* Build into the cache file, atomically.  *no_cache is set when the cache
 * itself is unusable (as opposed to the build failing). */
static int write_cache(const struct build *b, const char *path, struct sink *s,
		       bool *no_cache, struct strbuf *err)
{
	struct atomic_file af;
	char *dir = path_dirname(path);
	int ret;

	*no_cache = false;
	if (mkdir_p(dir, 0755) < 0 || atomic_file_open(&af, path, 0644) < 0) {
		strbuf_addf(err, "cannot write the initramfs cache in %s: %s; set "
			    "KTSTR_CACHE_DIR to a writable directory", dir, strerror(errno));
		*no_cache = true;
		free(dir);
		return -1;
	}
	free(dir);
	s->fd = af.fd;
	ret = write_archive(b, s, err);
	if (ret < 0 && s->err) {
		strbuf_reset(err);
		strbuf_addf(err, "cannot write the initramfs cache file %s: %s; free some "
			    "space or set KTSTR_CACHE_DIR elsewhere", path, strerror(s->err));
	}
	if (ret < 0) {
		atomic_file_abort(&af);
		return -1;
	}
	if (atomic_file_commit(&af) < 0) {
		strbuf_addf(err, "cannot write the initramfs cache file %s: %s; free some "
			    "space or set KTSTR_CACHE_DIR elsewhere", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Make sure the cache holds the image; on success *cache is the cache file
 * (NULL when there is no usable cache and an output will be built directly). */
static int fill_cache(const struct initramfs_opts *o, const struct build *b,
		      struct initramfs_result *r, char **cache, struct strbuf *err)
{
	char *dir = o->cache_dir ? xstrdup(o->cache_dir) : ktstr_cache_dir("initramfs");
	struct sink s;
	bool no_cache;
	int ret;

	if (!dir) {
		if (o->output)
			return 0;
		strbuf_addstr(err, "no initramfs cache directory (HOME unset); set "
			      "KTSTR_CACHE_DIR or pass an output path");
		return -1;
	}
	*cache = xasprintf("%s/%s.cpio", dir, r->key);
	free(dir);
	r->cached = is_regular_file(*cache);
	if (r->cached)
		return 0;
	sink_init(&s, -1);
	ret = write_cache(b, *cache, &s, &no_cache, err);
	sink_finish(&s, r);
	/* With an output path a read-only cache only costs the next run time. */
	if (ret < 0 && no_cache && o->output) {
		strbuf_reset(err);
		free(*cache);
		*cache = NULL;
		return 0;
	}
	return ret;
}

/* Put the image at the output temp file: copied from the cache, or built
 * straight into it when there is no cache.  r gets the output's hash. */
static int fill_output(const struct initramfs_opts *o, const struct build *b,
		       const char *cache, int fd, struct initramfs_result *r,
		       struct strbuf *err)
{
	struct sink s;
	int ret;

	sink_init(&s, fd);
	ret = cache ? copy_to_sink(cache, &s, err) : write_archive(b, &s, err);
	sink_finish(&s, r);
	if (ret < 0 && s.err) {
		strbuf_reset(err);
		output_error(err, o->output, s.err);
	}
	return ret;
}

/* Cache hit without output: the result still reports the file's hash. */
static int hash_cached(const char *cache, struct initramfs_result *r, struct strbuf *err)
{
	struct sink s;
	int ret;

	sink_init(&s, -1);
	ret = copy_to_sink(cache, &s, err);
	sink_finish(&s, r);
	return ret;
}

static int produce(const struct initramfs_opts *o, const struct build *b,
		   const struct atomic_file *out, struct initramfs_result *r,
		   struct strbuf *err)
{
	char *cache = NULL;
	int ret = fill_cache(o, b, r, &cache, err);

	if (ret == 0 && o->output)
		ret = fill_output(o, b, cache, out->fd, r, err);
	else if (ret == 0 && r->cached && !o->no_sha256)
		ret = hash_cached(cache, r, err);
	else if (ret == 0 && r->cached) {
		struct stat st;

		r->bytes = stat(cache, &st) == 0 ? (unsigned long long)st.st_size : 0;
	}
	if (o->output) {
		r->path = xstrdup(o->output);
		free(cache);
	} else {
		r->path = cache;
	}
	return ret;
}

int initramfs_build(const struct initramfs_opts *o, struct initramfs_result *r,
		    struct strbuf *err)
{
	struct build b = { .v = NULL };
	struct atomic_file out = { .fd = -1 };
	int ret = -1;

	memset(r, 0, sizeof(*r));
	/* Claim the output first: an unwritable destination should fail
	 * before seconds of hashing and compressing. */
	if (o->output && atomic_file_open(&out, o->output, 0644) < 0) {
		output_error(err, o->output, errno);
		return -1;
	}
	if (initramfs_collect(o, &b, err) == 0) {
		cache_key(&b, r->key);
		r->files = (unsigned)b.n;
		r->missing_tools = b.missing;
		b.missing = (struct strvec)STRVEC_INIT;
		ret = o->check_only ? 0 : produce(o, &b, &out, r, err);
		/* Only a build that worked teaches the next one anything. */
		if (ret == 0 && !o->check_only)
			inmemo_save(&b.memo);
	}
	if (o->output) {
		if (ret == 0 && atomic_file_commit(&out) < 0) {
			output_error(err, o->output, errno);
			ret = -1;
		}
		if (ret < 0)
			atomic_file_abort(&out);
	}
	build_release(&b);
	if (ret < 0)
		initramfs_result_release(r);
	return ret;
}

void initramfs_warn_missing_tools(const struct initramfs_result *r)
{
	size_t i;

	for (i = 0; i < r->missing_tools.n; i++)
		diag("--tools: %s is not an executable file on this host, so the guest goes "
		     "without it; install its package (util-linux, procps or bpftool)",
		     r->missing_tools.v[i]);
}

void initramfs_result_release(struct initramfs_result *r)
{
	free(r->path);
	strvec_clear(&r->missing_tools);
	memset(r, 0, sizeof(*r));
}
