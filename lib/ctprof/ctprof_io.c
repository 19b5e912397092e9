/* ctprof files: save and load, plain or zstd.
 *
 * Kept apart from the capture because it needs libzstd, which the static
 * guest agent does not link: the agent writes plain JSON with
 * ctprof_encode() and the host compresses if asked. */
#include "ctprof.h"
#include "diag.h"
#include "fsutil.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* Level 3 (zstd's default) compresses a capture about 10x in a few ms;
 * higher levels gain little on this kind of JSON. */
#define CTPROF_ZSTD_LEVEL 3
/* Refuse to inflate beyond this: a capture of a huge host is tens of MiB,
 * so anything bigger is a decompression bomb or garbage. */
#define CTPROF_MAX_JSON (1ULL << 30)

static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int ctprof_save(const json_t *snap, const char *path, struct strbuf *err)
{
	struct strbuf json = STRBUF_INIT;
	void *zbuf = NULL;
	const char *data;
	size_t len;
	int rc = 0;

	ctprof_encode(snap, &json);
	data = json.buf;
	len = json.len;
	if (!strcmp(path, "-")) {
		if (write_all(STDOUT_FILENO, data, len) < 0) {
			strbuf_addf(err, "stdout: cannot write: %s", strerror(errno));
			rc = -1;
		}
		strbuf_release(&json);
		return rc;
	}
	if (has_suffix(path, ".zst")) {
		size_t cap = ZSTD_compressBound(len), n;

		zbuf = xmalloc(cap);
		n = ZSTD_compress(zbuf, cap, json.buf, json.len, CTPROF_ZSTD_LEVEL);
		if (ZSTD_isError(n)) {
			strbuf_addf(err, "%s: zstd compression failed: %s", path, ZSTD_getErrorName(n));
			free(zbuf);
			strbuf_release(&json);
			return -1;
		}
		data = zbuf;
		len = n;
	}
	if (write_file_atomic(path, data, len, 0644) < 0) {
		strbuf_addf(err, "%s: cannot write: %s", path, strerror(errno));
		rc = -1;
	}
	free(zbuf);
	strbuf_release(&json);
	return rc;
}

/* Inflate a zstd stream (any number of frames) into out.  0 or -1. */
static int unzstd(const void *buf, size_t len, const char *name, struct strbuf *out,
		  struct strbuf *err)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t ret;
	int rc = -1;

	if (!ds) {
		strbuf_addf(err, "%s: out of memory for zstd", name);
		return -1;
	}
	ZSTD_initDStream(ds);
	for (;;) {
		ZSTD_outBuffer o;

		strbuf_grow(out, 1 << 20);
		o.dst = out->buf + out->len;
		o.size = out->alloc - out->len - 1;
		o.pos = 0;
		ret = ZSTD_decompressStream(ds, &o, &in);
		if (ZSTD_isError(ret)) {
			strbuf_addf(err, "%s: corrupt zstd data (%s)", name, ZSTD_getErrorName(ret));
			goto out;
		}
		strbuf_setlen(out, out->len + o.pos);
		if (out->len > CTPROF_MAX_JSON) {
			strbuf_addf(err, "%s: decompresses to more than %llu MiB; not a ktstr-ctprof "
				    "capture", name, CTPROF_MAX_JSON >> 20);
			goto out;
		}
		/* All input consumed and room left over: zstd has flushed
		 * everything it will ever produce from this input. */
		if (in.pos == in.size && o.pos < o.size)
			break;
	}
	/* Non-zero: zstd still expects more of the current frame. */
	if (ret) {
		strbuf_addf(err, "%s: truncated zstd data (the last frame is incomplete)", name);
		goto out;
	}
	rc = 0;
out:
	ZSTD_freeDStream(ds);
	return rc;
}

json_t *ctprof_load_buf(const void *buf, size_t len, const char *name, struct strbuf *err)
{
	struct strbuf plain = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	json_error_t jerr;
	json_t *doc;

	if (len >= sizeof(zstd_magic) && !memcmp(buf, zstd_magic, sizeof(zstd_magic))) {
		if (unzstd(buf, len, name, &plain, err) < 0) {
			strbuf_release(&plain);
			return NULL;
		}
		buf = plain.buf;
		len = plain.len;
	}
	if (!len) {
		strbuf_addf(err, "%s: empty file, not a ktstr-ctprof capture", name);
		strbuf_release(&plain);
		return NULL;
	}
	doc = json_loadb(buf, len, 0, &jerr);
	if (!doc) {
		/* jansson reports the end of input as the error position when
		 * the document stops early: say "truncated", which is what
		 * happened, rather than its parser-speak. */
		if ((size_t)jerr.position >= len || strstr(jerr.text, "premature end"))
			strbuf_addf(err, "%s: truncated JSON (the document ends early at byte %zu)",
				    name, len);
		else
			strbuf_addf(err, "%s: not valid JSON (line %d, column %d: %s)", name,
				    jerr.line, jerr.column, jerr.text);
		strbuf_release(&plain);
		return NULL;
	}
	strbuf_release(&plain);
	if (ctprof_validate(doc, &why) < 0) {
		strbuf_addf(err, "%s: %s", name, why.buf);
		strbuf_release(&why);
		json_decref(doc);
		return NULL;
	}
	strbuf_release(&why);
	return doc;
}

json_t *ctprof_load(const char *path, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	json_t *doc;

	if (!strcmp(path, "-")) {
		if (strbuf_read_fd(&raw, STDIN_FILENO) < 0) {
			strbuf_addf(err, "stdin: cannot read: %s", strerror(errno));
			strbuf_release(&raw);
			return NULL;
		}
		doc = ctprof_load_buf(raw.buf, raw.len, "stdin", err);
	} else {
		if (strbuf_read_file(&raw, path) < 0) {
			strbuf_addf(err, "%s: cannot read: %s", path, strerror(errno));
			strbuf_release(&raw);
			return NULL;
		}
		doc = ctprof_load_buf(raw.buf, raw.len, path, err);
	}
	strbuf_release(&raw);
	return doc;
}
