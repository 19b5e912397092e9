#include "ikconfig.h"
#include "diag.h"

#include <archive.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define MARK_START "IKCFG_ST"
#define MARK_LEN 8
/* A decompressed kernel is tens of MB; anything this large is not one. */
#define MAX_KERNEL_BYTES (1ULL << 30)
/* A .config is a few hundred KB; this bounds a corrupt blob's output. */
#define MAX_CONFIG_BYTES (16U << 20)

static int gunzip(const unsigned char *in, size_t len, struct strbuf *out,
		  struct strbuf *err)
{
	unsigned char chunk[65536];
	z_stream z = { 0 };
	size_t start = out->len;
	int rc;

	/* 16 + MAX_WBITS: a gzip header, not zlib or raw deflate. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		strbuf_addstr(err, "cannot initialise zlib");
		return -1;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			strbuf_addf(err, "its IKCONFIG data is not valid gzip (%s)",
				    z.msg ? z.msg : "truncated");
			break;
		}
		strbuf_add(out, chunk, sizeof(chunk) - z.avail_out);
		if (out->len - start > MAX_CONFIG_BYTES) {
			strbuf_addstr(err, "its IKCONFIG data decompresses to more than 16 MB");
			rc = Z_DATA_ERROR;
			break;
		}
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		strbuf_setlen(out, start);
		return -1;
	}
	return 0;
}

int ikconfig_from_buffer(const void *buf, size_t len, struct strbuf *out,
			 struct strbuf *err)
{
	const unsigned char *p = buf, *end = p + len;

	/* The marker text also appears in code that prints it (scripts,
	 * kernel/configs.c strings), so try every occurrence until one is
	 * followed by gzip data. */
	while (p < end) {
		const unsigned char *m = memmem(p, (size_t)(end - p), MARK_START, MARK_LEN);
		const unsigned char *gz;

		if (!m)
			return 0;
		gz = m + MARK_LEN;
		if (end - gz >= 2 && gz[0] == 0x1f && gz[1] == 0x8b)
			return gunzip(gz, (size_t)(end - gz), out, err) < 0 ? -1 : 1;
		p = m + 1;
	}
	return 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The compressed kernel inside a bzImage, per the x86 boot protocol
 * (2.08+): payload_offset/payload_length at 0x248/0x24c count from the
 * start of the protected-mode code, which follows (setup_sects + 1)
 * sectors.  0 when img is not such a bzImage. */
static int bzimage_payload(const unsigned char *img, size_t len, size_t *off, size_t *plen)
{
	unsigned setup_sects;
	size_t base;

	if (len < 0x250 || img[0x1fe] != 0x55 || img[0x1ff] != 0xaa ||
	    memcmp(img + 0x202, "HdrS", 4))
		return 0;
	if ((img[0x206] | img[0x207] << 8) < 0x208)
		return 0;
	setup_sects = img[0x1f1] ? img[0x1f1] : 4;
	base = ((size_t)setup_sects + 1) * 512;
	*off = base + le32(img + 0x248);
	*plen = le32(img + 0x24c);
	if (*off >= len || !*plen || *plen > len - *off)
		return 0;
	/* x86 kernels append the uncompressed size (le32) to the stream and
	 * count it in payload_length; a decoder would take it for the start
	 * of a second, corrupt stream.  It is always larger than the
	 * compressed data, which tells it from the end of a bare stream. */
	if (*plen > 4 && le32(img + *off + *plen - 4) > *plen)
		*plen -= 4;
	return 1;
}

/* Decompress one compressed stream of whatever kind libarchive knows.
 * An error after some output still leaves the part of the kernel that
 * came out, which is worth searching. */
static int decompress(const unsigned char *in, size_t len, struct strbuf *out,
		      struct strbuf *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char chunk[65536];
	int rc = -1;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, in, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		strbuf_addf(err, "its compressed kernel is in a format libarchive cannot "
			    "read (%s)", archive_error_string(a) ? archive_error_string(a) : "?");
		goto out;
	}
	if (archive_filter_count(a) < 2) {
		strbuf_addstr(err, "its kernel payload is not compressed in a known format");
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, sizeof(chunk));

		if (n == 0)
			break;
		if (n < 0) {
			if (out->len)
				break;
			strbuf_addf(err, "cannot decompress its kernel payload: %s",
				    archive_error_string(a) ? archive_error_string(a) : "?");
			goto out;
		}
		strbuf_add(out, chunk, (size_t)n);
		if (out->len > MAX_KERNEL_BYTES) {
			strbuf_addstr(err, "its kernel payload decompresses to more than 1 GB");
			goto out;
		}
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

int ikconfig_from_image(const char *path, struct strbuf *out, struct strbuf *err)
{
	struct strbuf img = STRBUF_INIT, kern = STRBUF_INIT, why = STRBUF_INIT;
	size_t off, plen;
	int rc;

	if (strbuf_read_file(&img, path) < 0) {
		strbuf_addf(err, "cannot read kernel image %s: %s", path, strerror(errno));
		strbuf_release(&img);
		return -1;
	}
	if (!bzimage_payload((unsigned char *)img.buf, img.len, &off, &plen)) {
		/* An uncompressed vmlinux, or anything else: look as it is. */
		rc = ikconfig_from_buffer(img.buf, img.len, out, &why);
	} else if (decompress((unsigned char *)img.buf + off, plen, &kern, &why) < 0) {
		rc = -1;
	} else {
		rc = ikconfig_from_buffer(kern.buf, kern.len, out, &why);
	}
	if (rc < 0)
		strbuf_addf(err, "kernel image %s: %s", path, why.buf);
	strbuf_release(&img);
	strbuf_release(&kern);
	strbuf_release(&why);
	return rc;
}
