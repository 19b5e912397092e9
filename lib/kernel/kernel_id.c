/* Kernel id grammar; see kernel_id.h. */
#include "kernel_id.h"
#include "diag.h"
#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char kernel_id_forms[] =
	"exact version (6.14.2), prefix (6.14 or 6: the highest release), "
	"nothing (the latest stable series), inclusive range (6.12..6.14 or "
	"6.12..=6.14), git source (git+URL#tag=NAME, git+URL#branch=NAME or "
	"git+URL#sha=<40-hex>), path (/abs, ./rel, ../rel or ~/dir), cache key "
	"(6.14.2-tarball-x86_64-kc<8-hex>, local-<7-hex>..., debian-...), debian "
	"or debian:FLAVOUR (debian:amd64)";

const char *kernel_id_kind_name(enum kernel_id_kind k)
{
	switch (k) {
	case KID_LATEST: return "latest";
	case KID_VERSION: return "version";
	case KID_PREFIX: return "prefix";
	case KID_RANGE: return "range";
	case KID_GIT: return "git";
	case KID_PATH: return "path";
	case KID_CACHE_KEY: return "cache";
	case KID_DEBIAN: return "debian";
	}
	return "?";
}

int kernel_ver_parse(const char *s, size_t len, struct kernel_ver *v)
{
	size_t i = 0;

	memset(v, 0, sizeof(*v));
	if (len == 0)
		return -1;
	while (i < len) {
		unsigned long n = 0;
		size_t start = i;

		if (v->n == 3)
			return -1;
		while (i < len && isdigit((unsigned char)s[i])) {
			if (n > 100000000UL)
				return -1;
			n = n * 10 + (unsigned long)(s[i] - '0');
			i++;
		}
		if (i == start || i - start > 9)
			return -1;
		v->v[v->n++] = n;
		if (i < len) {
			if (s[i] != '.' || i + 1 == len)
				return -1;
			i++;
		}
	}
	return 0;
}

int kernel_ver_cmp(const struct kernel_ver *a, const struct kernel_ver *b)
{
	for (int i = 0; i < 3; i++) {
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	}
	return 0;
}

bool kernel_ver_has_prefix(const struct kernel_ver *v, const struct kernel_ver *prefix)
{
	for (int i = 0; i < prefix->n; i++)
		if (v->v[i] != prefix->v[i])
			return false;
	return true;
}

bool kernel_ver_in_range(const struct kernel_ver *v, const struct kernel_ver *lo,
			 const struct kernel_ver *hi)
{
	if (kernel_ver_cmp(v, lo) < 0)
		return false;
	if (kernel_ver_has_prefix(v, hi))
		return true;
	return kernel_ver_cmp(v, hi) <= 0;
}

void kernel_ver_format(const struct kernel_ver *v, char *buf, size_t size)
{
	if (v->n <= 1 && v->v[1] == 0 && v->v[2] == 0)
		snprintf(buf, size, "%lu", v->v[0]);
	else if (v->n <= 2 || v->v[2] == 0)
		snprintf(buf, size, "%lu.%lu", v->v[0], v->v[1]);
	else
		snprintf(buf, size, "%lu.%lu.%lu", v->v[0], v->v[1], v->v[2]);
}

void kernel_id_release(struct kernel_id *id)
{
	free(id->text);
	free(id->git_url);
	free(id->git_name);
	free(id->path);
	free(id->flavour);
	memset(id, 0, sizeof(*id));
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Does the text after a version look like "-tarball-ARCH-kcXXXXXXXX..."? */
static bool is_tarball_key(const char *s)
{
	const char *t = strstr(s, "-tarball-");
	const char *kc;
	struct kernel_ver v;

	if (!t || kernel_ver_parse(s, (size_t)(t - s), &v))
		return false;
	t += strlen("-tarball-");
	kc = strstr(t, "-kc");
	if (!kc || kc == t)
		return false;
	kc += 3;
	return strlen(kc) >= 8 && all_hex(kc, 8) &&
		(kc[8] == '\0' || kc[8] == '-' || kc[8] == '.' || kc[8] == '_');
}

static bool is_cache_key(const char *s)
{
	if (!strncmp(s, "local-", 6))
		return strlen(s + 6) >= 7 && all_hex(s + 6, 7);
	if (!strncmp(s, "debian-", 7))
		return s[7] != '\0';
	return is_tarball_key(s);
}

static int fail(struct strbuf *err, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct strbuf *err, const char *text, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(err, "kernel id '%s': ", text);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_git(const char *s, struct kernel_id *id, struct strbuf *err)
{
	const char *url = s + 4, *hash = strrchr(url, '#');
	const char *name;

	if (!hash || hash == url)
		return fail(err, s, "a git source needs a URL and a ref: "
			    "git+URL#tag=NAME, git+URL#branch=NAME or git+URL#sha=<40-hex>");
	if (!strncmp(hash + 1, "tag=", 4))
		id->git_ref = KGIT_TAG, name = hash + 5;
	else if (!strncmp(hash + 1, "branch=", 7))
		id->git_ref = KGIT_BRANCH, name = hash + 8;
	else if (!strncmp(hash + 1, "sha=", 4))
		id->git_ref = KGIT_SHA, name = hash + 5;
	else
		return fail(err, s, "unknown git ref '%s'; use #tag=NAME, "
			    "#branch=NAME or #sha=<40-hex>", hash + 1);
	if (!*name)
		return fail(err, s, "empty git ref name after '%.*s'",
			    (int)strcspn(hash, "=") + 1, hash);
	if (id->git_ref == KGIT_SHA && (strlen(name) != 40 || !all_hex(name, 40)))
		return fail(err, s, "git sha '%s' must be the full 40-hex commit id "
			    "(abbreviated shas cannot be fetched)", name);
	id->kind = KID_GIT;
	id->git_url = xstrndup(url, (size_t)(hash - url));
	id->git_name = xstrdup(name);
	return 0;
}

/* debian:FLAVOUR.  The flavour ends up in a package name and a cache key:
 * lower-case words joined by single dashes, as Debian names them. */
static int parse_debian_flavour(const char *s, struct kernel_id *id, struct strbuf *err)
{
	const char *f = s + strlen("debian:"), *q;

	for (q = f; *q; q++) {
		bool word = islower((unsigned char)*q) || isdigit((unsigned char)*q);

		if (!word && !(*q == '-' && q > f && q[-1] != '-' && q[1]))
			break;
	}
	if (!*f || *q || !islower((unsigned char)*f))
		return fail(err, s, "'%s' is not a Debian kernel flavour (lower-case letters, "
			    "digits and inner dashes); use debian:amd64 or debian:cloud-amd64", f);
	id->kind = KID_DEBIAN;
	id->flavour = xstrdup(f);
	return 0;
}

static int parse_range(const char *s, const char *dots, struct kernel_id *id,
		       struct strbuf *err)
{
	const char *b = dots + 2;

	if (*b == '=')
		b++;
	if (kernel_ver_parse(s, (size_t)(dots - s), &id->lo) ||
	    kernel_ver_parse(b, strlen(b), &id->hi))
		return fail(err, s, "a range needs two versions, e.g. 6.12..6.14 "
			    "or 6.12..=6.14");
	if (kernel_ver_cmp(&id->lo, &id->hi) > 0) {
		char lo[64], hi[64];

		kernel_ver_format(&id->lo, lo, sizeof(lo));
		kernel_ver_format(&id->hi, hi, sizeof(hi));
		return fail(err, s, "range start %s is after its end %s; swap the "
			    "endpoints (%s..%s)", lo, hi, hi, lo);
	}
	id->kind = KID_RANGE;
	return 0;
}

int kernel_id_parse(const char *s, struct kernel_id *id, struct strbuf *err)
{
	struct strbuf t = STRBUF_INIT;
	const char *p, *dots;
	int rc = 0;

	memset(id, 0, sizeof(*id));
	strbuf_addstr(&t, s ? s : "");
	strbuf_trim(&t);
	id->text = strbuf_detach(&t, NULL);
	p = id->text;

	if (!*p) {
		id->kind = KID_LATEST;
		return 0;
	}
	for (const char *q = p; *q; q++) {
		if (isspace((unsigned char)*q) || iscntrl((unsigned char)*q))
			return fail(err, p, "contains whitespace; expected one of: %s",
				    kernel_id_forms);
	}
	if (!strncmp(p, "git+", 4))
		return parse_git(p, id, err);
	if (p[0] == '/' || p[0] == '~' || !strcmp(p, ".") || !strcmp(p, "..") ||
	    !strncmp(p, "./", 2) || !strncmp(p, "../", 3)) {
		if (p[0] == '~' && p[1] != '\0' && p[1] != '/')
			return fail(err, p, "~user paths are not supported; use ~/dir "
				    "or an absolute path");
		id->kind = KID_PATH;
		id->path = path_expand_tilde(p);
		return 0;
	}
	if (!strcmp(p, "debian")) {
		id->kind = KID_DEBIAN;
		return 0;
	}
	if (!strncmp(p, "debian:", 7))
		return parse_debian_flavour(p, id, err);
	if ((dots = strstr(p, "..")) != NULL && isdigit((unsigned char)p[0]))
		return parse_range(p, dots, id, err);
	if (kernel_ver_parse(p, strlen(p), &id->ver) == 0) {
		id->kind = id->ver.n == 3 ? KID_VERSION : KID_PREFIX;
		return 0;
	}
	if (is_cache_key(p)) {
		id->kind = KID_CACHE_KEY;
		id->path = xstrdup(p);
		return 0;
	}
	rc = fail(err, p, "not a kernel id; expected one of: %s", kernel_id_forms);
	return rc;
}
