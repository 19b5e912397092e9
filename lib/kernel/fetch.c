/* Kernel source fetching; see fetch.h. */
#include "fetch.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "progress.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRIES 3

static void curl_init_once(void)
{
	static bool done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
}

char *fetch_base_url(void)
{
	const char *e = env_get("KTSTR_KERNEL_ORG_URL");
	char *s = xstrdup(e ? e : "https://cdn.kernel.org/pub/linux/kernel");
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static char *releases_url(void)
{
	const char *e = env_get("KTSTR_KERNEL_RELEASES_URL");

	if (e)
		return xstrdup(e);
	if (env_get("KTSTR_KERNEL_ORG_URL")) {
		char *b = fetch_base_url(), *u = xasprintf("%s/releases.json", b);

		free(b);
		return u;
	}
	return xstrdup("https://www.kernel.org/releases.json");
}

static size_t buf_write(char *p, size_t sz, size_t n, void *ud)
{
	strbuf_add(ud, p, sz * n);
	return sz * n;
}

static void curl_common(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ktstr-fetch");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static void describe(struct strbuf *err, const char *url, CURLcode rc,
		     CURL *c, const char *ebuf)
{
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_HTTP_RETURNED_ERROR && code)
		strbuf_addf(err, "cannot fetch %s: HTTP %ld", url, code);
	else
		strbuf_addf(err, "cannot fetch %s: %s", url,
			    ebuf[0] ? ebuf : curl_easy_strerror(rc));
}

static void backoff(int attempt)
{
	sleep(1u << attempt);
}

int fetch_to_buf(const char *url, struct strbuf *out, struct strbuf *err)
{
	char ebuf[CURL_ERROR_SIZE];
	CURLcode rc = CURLE_OK;
	CURL *c;

	curl_init_once();
	c = curl_easy_init();
	if (!c) {
		strbuf_addf(err, "cannot fetch %s: curl initialisation failed", url);
		return KTSTR_EXIT_USAGE;
	}
	for (int t = 0; t < TRIES; t++) {
		long code = 0;

		if (t)
			backoff(t - 1);
		strbuf_reset(out);
		ebuf[0] = '\0';
		curl_easy_reset(c);
		curl_common(c, url);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			break;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 400 && code < 500)
			break;	/* not going to change */
	}
	if (rc != CURLE_OK)
		describe(err, url, rc, c, ebuf);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : 2;
}

void fetch_list_release(struct fetch_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->r[i].file);
		free(l->r[i].url);
	}
	free(l->r);
	memset(l, 0, sizeof(*l));
}

static int rel_cmp(const void *a, const void *b)
{
	return kernel_ver_cmp(&((const struct fetch_rel *)a)->ver,
			      &((const struct fetch_rel *)b)->ver);
}

void fetch_parse_sums(const char *text, const char *dir_url, struct fetch_list *l)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p, *name;
		size_t len = eol ? (size_t)(eol - p) : strlen(p), hexn = 0, nl;
		struct fetch_rel r;

		while (hexn < len && isxdigit((unsigned char)q[hexn]))
			hexn++;
		if (hexn != 64 || len < 66 || q[64] != ' ')
			goto next;
		name = q + 64;
		while (*name == ' ' || *name == '*')
			name++;
		nl = len - (size_t)(name - p);
		while (nl && (name[nl - 1] == '\r' || name[nl - 1] == ' '))
			nl--;
		if (nl < 14 || strncmp(name, "linux-", 6) ||
		    strncmp(name + nl - 7, ".tar.xz", 7))
			goto next;
		memset(&r, 0, sizeof(r));
		if (kernel_ver_parse(name + 6, nl - 13, &r.ver) || r.ver.n < 2)
			goto next;
		snprintf(r.version, sizeof(r.version), "%.*s", (int)(nl - 13), name + 6);
		memcpy(r.sha256, q, 64);
		for (int i = 0; i < 64; i++)
			r.sha256[i] = (char)tolower((unsigned char)r.sha256[i]);
		r.file = xstrndup(name, nl);
		r.url = xasprintf("%s/%s", dir_url, r.file);
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? l->alloc * 2 : 64;
			l->r = xrealloc(l->r, l->alloc * sizeof(*l->r));
		}
		l->r[l->n++] = r;
next:
		if (!eol)
			break;
		p = eol + 1;
	}
}

/* Every release of one major version, ascending. */
static int load_major(unsigned long major, struct fetch_list *l, struct strbuf *err)
{
	char *base = fetch_base_url();
	char *dir = xasprintf("%s/v%lu.x", base, major);
	char *url = xasprintf("%s/sha256sums.asc", dir);
	struct strbuf body = STRBUF_INIT;
	int rc = fetch_to_buf(url, &body, err);

	if (rc == 0) {
		fetch_parse_sums(body.buf, dir, l);
		if (l->n)
			qsort(l->r, l->n, sizeof(*l->r), rel_cmp);
	}
	strbuf_release(&body);
	free(url);
	free(dir);
	free(base);
	return rc;
}

static void take(struct fetch_list *out, struct fetch_rel *r)
{
	if (out->n == out->alloc) {
		out->alloc = out->alloc ? out->alloc * 2 : 16;
		out->r = xrealloc(out->r, out->alloc * sizeof(*out->r));
	}
	out->r[out->n++] = *r;
	r->file = r->url = NULL;
}

/* The newest major version named in releases.json. */
static int newest_major(unsigned long *major, struct strbuf *err)
{
	char *url = releases_url();
	struct strbuf body = STRBUF_INIT;
	json_t *root = NULL, *rels;
	json_error_t je;
	size_t i;
	json_t *r;
	int rc = fetch_to_buf(url, &body, err);

	*major = 0;
	if (rc)
		goto out;
	root = json_loadb(body.buf, body.len, 0, &je);
	rels = root ? json_object_get(root, "releases") : NULL;
	json_array_foreach(rels, i, r) {
		const char *v = json_string_value(json_object_get(r, "version"));
		const char *m = json_string_value(json_object_get(r, "moniker"));
		struct kernel_ver kv;

		if (!v || !m || (strcmp(m, "stable") && strcmp(m, "longterm")))
			continue;
		if (kernel_ver_parse(v, strlen(v), &kv) == 0 && kv.v[0] > *major)
			*major = kv.v[0];
	}
	if (!*major) {
		strbuf_addf(err, "%s: no stable release listed (not a kernel.org "
			    "releases.json?)", url);
		rc = KTSTR_EXIT_USAGE;
	}
out:
	json_decref(root);
	strbuf_release(&body);
	free(url);
	return rc;
}

/* Latest series (x.y) of l with at least 8 maintenance releases: its
 * highest release. */
static struct fetch_rel *latest_mature(struct fetch_list *l)
{
	for (size_t i = l->n; i-- > 0;) {
		struct fetch_rel *top = &l->r[i];
		size_t count = 0;

		for (size_t j = 0; j < l->n; j++)
			if (l->r[j].ver.v[0] == top->ver.v[0] &&
			    l->r[j].ver.v[1] == top->ver.v[1] && l->r[j].ver.v[2] > 0)
				count++;
		if (count >= 8)
			return top;
	}
	return NULL;
}

int fetch_resolve(const struct kernel_id *id, struct fetch_list *out, struct strbuf *err)
{
	struct fetch_list l = { 0 };
	unsigned long lo, hi;
	int rc = 0;

	switch (id->kind) {
	case KID_VERSION:
	case KID_PREFIX:
		lo = hi = id->ver.v[0];
		break;
	case KID_RANGE:
		lo = id->lo.v[0];
		hi = id->hi.v[0];
		break;
	case KID_LATEST:
		if ((rc = newest_major(&hi, err)))
			return rc;
		for (lo = hi; lo > 0 && lo + 2 > hi; lo--) {
			struct fetch_rel *r;

			fetch_list_release(&l);
			if ((rc = load_major(lo, &l, err)))
				break;
			if ((r = latest_mature(&l))) {
				take(out, r);
				break;
			}
		}
		fetch_list_release(&l);
		if (!rc && !out->n) {
			strbuf_addf(err, "no stable series with at least 8 maintenance "
				    "releases found under %luxx", hi);
			rc = KTSTR_EXIT_USAGE;
		}
		return rc;
	default:
		strbuf_addf(err, "kernel id '%s' does not name a kernel.org release",
			    id->text);
		return KTSTR_EXIT_USAGE;
	}
	for (unsigned long m = lo; m <= hi; m++) {
		fetch_list_release(&l);
		if ((rc = load_major(m, &l, err)))
			break;
		if (id->kind == KID_RANGE) {
			for (size_t i = 0; i < l.n; i++)
				if (kernel_ver_in_range(&l.r[i].ver, &id->lo, &id->hi))
					take(out, &l.r[i]);
			continue;
		}
		for (size_t i = l.n; i-- > 0;) {
			if (id->kind == KID_VERSION ? !kernel_ver_cmp(&l.r[i].ver, &id->ver)
			    : kernel_ver_has_prefix(&l.r[i].ver, &id->ver)) {
				take(out, &l.r[i]);
				break;
			}
		}
	}
	fetch_list_release(&l);
	if (!rc && !out->n) {
		strbuf_addf(err, "kernel id '%s': no such release on %s", id->text,
			    "kernel.org");
		rc = KTSTR_EXIT_USAGE;
	}
	return rc;
}

struct dl {
	FILE *f;
	curl_off_t base;
	const char *name;
};

static size_t file_write(char *p, size_t sz, size_t n, void *ud)
{
	struct dl *d = ud;

	return fwrite(p, sz, n, d->f);
}

static int xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut,
		curl_off_t un)
{
	struct dl *d = ud;

	if (dltotal > 0)
		progress("%s: %lld/%lld KiB", d->name, (long long)(d->base + dlnow) / 1024,
			 (long long)(d->base + dltotal) / 1024);
	return 0;
}

int fetch_download(const char *url, const char *dest, const char *sha256,
		   struct strbuf *err)
{
	char *part = xasprintf("%s.part", dest), *dir = path_dirname(dest);
	char ebuf[CURL_ERROR_SIZE], hex[SHA256_HEX_LEN + 1];
	CURLcode crc = CURLE_OK;
	struct dl d = { .name = path_basename(dest) };
	CURL *c = NULL;
	int rc = KTSTR_EXIT_USAGE;

	curl_init_once();
	if (mkdir_p(dir, 0755)) {
		strbuf_addf(err, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	c = curl_easy_init();
	for (int t = 0; t < TRIES; t++) {
		struct stat st;
		long code = 0;

		if (t)
			backoff(t - 1);
		d.f = fopen(part, "ab");
		if (!d.f) {
			strbuf_addf(err, "cannot write %s: %s", part, strerror(errno));
			goto out;
		}
		d.base = fstat(fileno(d.f), &st) == 0 ? st.st_size : 0;
		ebuf[0] = '\0';
		curl_easy_reset(c);
		curl_common(c, url);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, file_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, d.base);
		if (progress_enabled()) {
			curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer);
			curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
		}
		crc = curl_easy_perform(c);
		if (fclose(d.f) && crc == CURLE_OK) {
			strbuf_addf(err, "cannot write %s: %s", part, strerror(errno));
			goto out;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (crc == CURLE_HTTP_RETURNED_ERROR && code == 416 && d.base > 0) {
			crc = CURLE_OK;	/* .part already complete */
			break;
		}
		if (crc == CURLE_OK)
			break;
		if (code >= 400 && code < 500)
			break;
	}
	progress_clear();
	if (crc != CURLE_OK) {
		describe(err, url, crc, c, ebuf);
		goto out;
	}
	if (sha256_file_hex(part, hex)) {
		strbuf_addf(err, "cannot read %s: %s", part, strerror(errno));
		goto out;
	}
	if (strcmp(hex, sha256)) {
		unlink(part);
		strbuf_addf(err, "%s: sha256 mismatch: got %s, sha256sums.asc says %s; "
			    "nothing cached", url, hex, sha256);
		rc = KTSTR_EXIT_FAIL;
		goto out;
	}
	if (rename(part, dest)) {
		strbuf_addf(err, "cannot rename %s: %s", part, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (c)
		curl_easy_cleanup(c);
	free(part);
	free(dir);
	return rc;
}

static int copy_data(struct archive *ar, struct archive *aw)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(ar, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(aw, buf, size, off) != ARCHIVE_OK)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

int fetch_extract(const char *tarball, const char *dest_dir, struct strbuf *err)
{
	char *parent = path_dirname(dest_dir), *tmp = NULL, *src = NULL;
	const char *top = path_basename(dest_dir);
	struct archive *ar = archive_read_new(), *aw = archive_write_disk_new();
	struct archive_entry *e;
	int rc = 2, r;

	archive_read_support_filter_all(ar);
	archive_read_support_format_all(ar);
	archive_write_disk_set_options(aw, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	tmp = make_temp_dir(parent, ".extract-");
	if (!tmp) {
		strbuf_addf(err, "cannot create a directory under %s: %s", parent,
			    strerror(errno));
		goto out;
	}
	if (archive_read_open_filename(ar, tarball, 1 << 16) != ARCHIVE_OK) {
		strbuf_addf(err, "%s: %s", tarball, archive_error_string(ar));
		goto out;
	}
	while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *hl;
		char *p;

		if (!name || name[0] == '/') {
			strbuf_addf(err, "%s: unsafe path '%s'", tarball, name ? name : "");
			goto out;
		}
		p = xasprintf("%s/%s", tmp, name);
		archive_entry_set_pathname(e, p);
		free(p);
		if ((hl = archive_entry_hardlink(e)) != NULL) {
			p = xasprintf("%s/%s", tmp, hl);
			archive_entry_set_hardlink(e, p);
			free(p);
		}
		if (archive_write_header(aw, e) != ARCHIVE_OK ||
		    (archive_entry_size(e) > 0 && copy_data(ar, aw)) ||
		    archive_write_finish_entry(aw) != ARCHIVE_OK) {
			strbuf_addf(err, "%s: extracting %s: %s", tarball, name,
				    archive_error_string(aw) ? archive_error_string(aw)
				    : archive_error_string(ar));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		strbuf_addf(err, "%s: %s", tarball, archive_error_string(ar));
		goto out;
	}
	src = path_join(tmp, top);
	if (!is_directory(src)) {
		strbuf_addf(err, "%s: has no top directory %s/", tarball, top);
		goto out;
	}
	if (rename(src, dest_dir)) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = 0;	/* someone else got there first */
		else
			strbuf_addf(err, "cannot rename into %s: %s", dest_dir,
				    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(ar);
	archive_write_free(aw);
	if (tmp)
		rm_rf(tmp);
	free(tmp);
	free(src);
	free(parent);
	return rc;
}

static long mk_field(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		const char *q = p;

		if (strncmp(q, key, kl))
			continue;
		q += kl;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if (isdigit((unsigned char)*q))
			return strtol(q, NULL, 10);
		return *q == '\n' || *q == '\0' ? 0 : -1;
	}
	return -1;
}

int fetch_tree_version(const char *dir, char *buf, size_t size)
{
	char *mk = path_join(dir, "Makefile");
	struct strbuf sb = STRBUF_INIT;
	long v, p, s;
	int rc = -1;

	if (strbuf_read_file(&sb, mk) == 0 && strstr(sb.buf, "VERSION =")) {
		v = mk_field(sb.buf, "VERSION");
		p = mk_field(sb.buf, "PATCHLEVEL");
		s = mk_field(sb.buf, "SUBLEVEL");
		if (v >= 0 && p >= 0) {
			if (s > 0)
				snprintf(buf, size, "%ld.%ld.%ld", v, p, s);
			else
				snprintf(buf, size, "%ld.%ld", v, p);
			rc = 0;
		}
	}
	strbuf_release(&sb);
	free(mk);
	return rc;
}
