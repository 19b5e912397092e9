/* Unit tests for lib/kernel/ikconfig.c and the config discovery in lib/kernel/kernel.c:
 * IKCONFIG found in raw memory, in synthetic bzImages whose payload is
 * gzip or zstd (with the size trailer kernels append), and config files
 * found beside an image by the /boot and ktstr-cache naming. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "diag.h"
#include "fsutil.h"
#include "ikconfig.h"
#include "kernel.h"
#include "tmpdir.h"

static const char config_text[] =
	"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
	"CONFIG_SCHED_CLASS_EXT=y\nCONFIG_BPF_SYSCALL=y\n# CONFIG_IKCONFIG is not set\n";

static void gzip_buf(const void *in, size_t len, struct strbuf *out)
{
	z_stream z = { 0 };
	unsigned char chunk[4096];
	int rc;

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		strbuf_add(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	assert_int_equal(rc, Z_STREAM_END);
	deflateEnd(&z);
}

/* What a kernel with CONFIG_IKCONFIG looks like around the blob: code
 * before, a decoy marker with no gzip after it, the marked blob, code
 * after. */
static void fake_kernel(struct strbuf *k)
{
	unsigned i;

	for (i = 0; i < 5000; i++)
		strbuf_addch(k, (int)(i * 7 % 251));
	strbuf_addstr(k, "printk: IKCFG_ST decoy");
	strbuf_addstr(k, "IKCFG_ST");
	gzip_buf(config_text, strlen(config_text), k);
	strbuf_addstr(k, "IKCFG_ED");
	for (i = 0; i < 3000; i++)
		strbuf_addch(k, (int)(i * 13 % 251));
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
	p[2] = v >> 16 & 0xff;
	p[3] = v >> 24 & 0xff;
}

/* A bzImage (boot protocol 2.15) whose payload is the given compressed
 * stream followed, as x86 kernels have it, by the uncompressed size:
 * setup_sects 3, so protected-mode code starts at 2048; the payload sits
 * 0x100 bytes into it. */
static void fake_bzimage(const char *path, const struct strbuf *payload, size_t raw_len)
{
	unsigned char size[4];
	struct strbuf img = STRBUF_INIT;
	unsigned char *h;
	size_t pm = 4 * 512, off = 0x100;

	strbuf_grow(&img, pm + off + payload->len);
	memset(img.buf, 0, pm + off);
	strbuf_setlen(&img, pm + off);
	h = (unsigned char *)img.buf;
	h[0x1f1] = 3;
	h[0x1fe] = 0x55;
	h[0x1ff] = 0xaa;
	memcpy(h + 0x202, "HdrS", 4);
	h[0x206] = 0x0f;
	h[0x207] = 0x02;
	put32(h + 0x248, (uint32_t)off);
	put32(h + 0x24c, (uint32_t)payload->len + 4);
	strbuf_add(&img, payload->buf, payload->len);
	put32(size, (uint32_t)raw_len);
	strbuf_add(&img, size, 4);
	strbuf_add(&img, "trailing", 8);
	assert_int_equal(write_file_atomic(path, img.buf, img.len, 0644), 0);
	strbuf_release(&img);
}

static void test_buffer_found(void **state)
{
	struct strbuf k = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	fake_kernel(&k);
	assert_int_equal(ikconfig_from_buffer(k.buf, k.len, &out, &err), 1);
	assert_string_equal(out.buf, config_text);
	strbuf_release(&k);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_buffer_absent_and_corrupt(void **state)
{
	struct strbuf k = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	static const char bad[] = "xxIKCFG_ST\x1f\x8b\x08garbage-that-is-not-deflate";

	(void)state;
	strbuf_addstr(&k, "no marker here, only IKCFG_S and KCFG_ST");
	assert_int_equal(ikconfig_from_buffer(k.buf, k.len, &out, &err), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(ikconfig_from_buffer(bad, sizeof(bad) - 1, &out, &err), -1);
	assert_non_null(strstr(err.buf, "not valid gzip"));
	assert_int_equal(out.len, 0);
	strbuf_release(&k);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_bzimage_gzip(void **state)
{
	char dir[64];
	struct strbuf k = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	const char *img;

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "ikconfig"), 0);
	img = tmpdir_path(dir, "bzImage");
	fake_kernel(&k);
	gzip_buf(k.buf, k.len, &gz);
	fake_bzimage(img, &gz, k.len);
	assert_int_equal(ikconfig_from_image(img, &out, &err), 1);
	assert_string_equal(out.buf, config_text);
	strbuf_release(&k);
	strbuf_release(&gz);
	strbuf_release(&out);
	strbuf_release(&err);
	assert_int_equal(tmpdir_remove(dir), 0);
}

/* zstd, as Debian builds its kernels. */
static void test_bzimage_zstd(void **state)
{
	char dir[64];
	struct strbuf k = STRBUF_INIT, z = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	const char *img;
	size_t n;

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "ikconfig"), 0);
	img = tmpdir_path(dir, "vmlinuz-9.9.9");
	fake_kernel(&k);
	strbuf_grow(&z, ZSTD_compressBound(k.len) + 4);
	n = ZSTD_compress(z.buf, ZSTD_compressBound(k.len), k.buf, k.len, 19);
	assert_false(ZSTD_isError(n));
	strbuf_setlen(&z, n);
	fake_bzimage(img, &z, k.len);
	assert_int_equal(ikconfig_from_image(img, &out, &err), 1);
	assert_string_equal(out.buf, config_text);

	/* A bzImage whose kernel has no IKCONFIG: found nothing, no error. */
	strbuf_reset(&k);
	strbuf_addstr(&k, "a kernel built without CONFIG_IKCONFIG");
	strbuf_reset(&z);
	gzip_buf(k.buf, k.len, &z);
	fake_bzimage(img, &z, k.len);
	strbuf_reset(&out);
	assert_int_equal(ikconfig_from_image(img, &out, &err), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(ikconfig_from_image(tmpdir_path(dir, "missing"), &out, &err), -1);
	assert_non_null(strstr(err.buf, "missing"));
	strbuf_release(&k);
	strbuf_release(&z);
	strbuf_release(&out);
	strbuf_release(&err);
	assert_int_equal(tmpdir_remove(dir), 0);
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* config-X beside vmlinuz-X (/boot, Debian packages), "config" beside any
 * image (the ktstr cache), else IKCONFIG extracted into the cache. */
static void test_config_for_image(void **state)
{
	char dir[64];
	struct strbuf k = STRBUF_INIT, gz = STRBUF_INIT, got = STRBUF_INIT;
	glob_t g;
	char *cfg;

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "kconfig"), 0);
	setenv("KTSTR_CACHE_DIR", tmpdir_path(dir, "cache"), 1);
	assert_int_equal(mkdir_p(tmpdir_path(dir, "boot"), 0755), 0);
	assert_int_equal(mkdir_p(tmpdir_path(dir, "cache"), 0755), 0);

	fake_kernel(&k);
	gzip_buf(k.buf, k.len, &gz);
	fake_bzimage(tmpdir_path(dir, "boot/vmlinuz-6.1.0-x"), &gz, k.len);
	write_text(tmpdir_path(dir, "boot/config-6.1.0-x"), "CONFIG_BESIDE=y\n");
	write_text(tmpdir_path(dir, "boot/config-6.1.0-other"), "CONFIG_OTHER=y\n");
	cfg = kernel_config_for_image(tmpdir_path(dir, "boot/vmlinuz-6.1.0-x"));
	assert_string_equal(cfg, tmpdir_path(dir, "boot/config-6.1.0-x"));
	free(cfg);

	/* "config" wins over config-X: it is what the cache stores. */
	write_text(tmpdir_path(dir, "boot/config"), "CONFIG_CACHE=y\n");
	cfg = kernel_config_for_image(tmpdir_path(dir, "boot/vmlinuz-6.1.0-x"));
	assert_string_equal(cfg, tmpdir_path(dir, "boot/config"));
	free(cfg);

	/* Alone in its directory: the IKCONFIG copy, cached. */
	assert_int_equal(mkdir_p(tmpdir_path(dir, "alone"), 0755), 0);
	fake_bzimage(tmpdir_path(dir, "alone/bzImage"), &gz, k.len);
	cfg = kernel_config_for_image(tmpdir_path(dir, "alone/bzImage"));
	assert_non_null(cfg);
	assert_int_equal(strncmp(cfg, tmpdir_path(dir, "cache/"), strlen(tmpdir_path(dir, "cache/"))), 0);
	assert_int_equal(strbuf_read_file(&got, cfg), 0);
	assert_string_equal(got.buf, config_text);
	free(cfg);

	/* Without IKCONFIG either: NULL, remembered by a negative entry so
	 * the next run does not decompress the image again. */
	strbuf_reset(&k);
	strbuf_addstr(&k, "no config in this kernel");
	strbuf_reset(&gz);
	gzip_buf(k.buf, k.len, &gz);
	assert_int_equal(mkdir_p(tmpdir_path(dir, "bare"), 0755), 0);
	fake_bzimage(tmpdir_path(dir, "bare/vmlinuz-7"), &gz, k.len);
	assert_null(kernel_config_for_image(tmpdir_path(dir, "bare/vmlinuz-7")));
	assert_int_equal(glob(tmpdir_path(dir, "cache/.kconfig/*.none"), 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	assert_null(kernel_config_for_image(tmpdir_path(dir, "bare/vmlinuz-7")));

	unsetenv("KTSTR_CACHE_DIR");
	strbuf_release(&k);
	strbuf_release(&gz);
	strbuf_release(&got);
	assert_int_equal(tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer_found),
		cmocka_unit_test(test_buffer_absent_and_corrupt),
		cmocka_unit_test(test_bzimage_gzip),
		cmocka_unit_test(test_bzimage_zstd),
		cmocka_unit_test(test_config_for_image),
	};

	diag_init("test_ikconfig");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
