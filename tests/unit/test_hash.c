/* Unit tests for lib/host/hash.c: SHA-256 against the FIPS 180-2 vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MSG_448   "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA_448   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static char tmpdir[] = "/tmp/ktstr-test-hash.XXXXXX";

static int setup_tmp(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_buf_vectors(void **state)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf_hex("", 0, hex);
	assert_string_equal(hex, SHA_EMPTY);
	sha256_buf_hex("abc", 3, hex);
	assert_string_equal(hex, SHA_ABC);
	sha256_buf_hex(MSG_448, strlen(MSG_448), hex);
	assert_string_equal(hex, SHA_448);
	assert_int_equal(strlen(hex), SHA256_HEX_LEN);
}

static void test_hex_format(void **state)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t i;

	memset(hex, 'X', sizeof(hex));
	sha256_buf_hex("abc", 3, hex);
	assert_int_equal(hex[SHA256_HEX_LEN], '\0');
	for (i = 0; i < SHA256_HEX_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", hex[i]));
}

static void test_incremental(void **state)
{
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 h;
	char chunk[1000];
	size_t i;

	/* The million-'a' vector, fed 1000 bytes at a time. */
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&h);
	for (i = 0; i < 1000; i++)
		sha256_update(&h, chunk, sizeof(chunk));
	sha256_final_hex(&h, hex);
	assert_string_equal(hex, SHA_MILLION_A);
	assert_null(h.ctx);

	/* Byte at a time equals one shot; empty updates change nothing. */
	sha256_init(&h);
	for (i = 0; i < strlen(MSG_448); i++) {
		sha256_update(&h, MSG_448 + i, 1);
		sha256_update(&h, "", 0);
	}
	sha256_final_hex(&h, hex);
	assert_string_equal(hex, SHA_448);

	sha256_init(&h);
	sha256_final_hex(&h, hex);
	assert_string_equal(hex, SHA_EMPTY);
}

static void test_binary(void **state)
{
	static const unsigned char zero[3] = { 0, 0, 0 };
	char a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];

	sha256_buf_hex(zero, 3, a);
	sha256_buf_hex(zero, 2, b);
	assert_string_not_equal(a, b);
	/* Known: sha256 of a single NUL byte. */
	sha256_buf_hex(zero, 1, a);
	assert_string_equal(a, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

static void test_file(void **state)
{
	char hex[SHA256_HEX_LEN + 1];

	write_file(tmp_path("abc"), "abc", 3);
	assert_int_equal(sha256_file_hex(tmp_path("abc"), hex), 0);
	assert_string_equal(hex, SHA_ABC);

	write_file(tmp_path("empty"), "", 0);
	assert_int_equal(sha256_file_hex(tmp_path("empty"), hex), 0);
	assert_string_equal(hex, SHA_EMPTY);
}

static void test_file_large(void **state)
{
	/* Larger than the 64 KiB read buffer and not a multiple of it. */
	char hex[SHA256_HEX_LEN + 1];
	size_t n = 1000000, i;
	char *buf = malloc(n);

	assert_non_null(buf);
	memset(buf, 'a', n);
	write_file(tmp_path("million"), buf, n);
	assert_int_equal(sha256_file_hex(tmp_path("million"), hex), 0);
	assert_string_equal(hex, SHA_MILLION_A);

	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 131 + 7);
	write_file(tmp_path("mixed"), buf, 200003);
	{
		char want[SHA256_HEX_LEN + 1];

		sha256_buf_hex(buf, 200003, want);
		assert_int_equal(sha256_file_hex(tmp_path("mixed"), hex), 0);
		assert_string_equal(hex, want);
	}
	free(buf);
}

static void test_file_errors(void **state)
{
	char hex[SHA256_HEX_LEN + 1];

	errno = 0;
	assert_int_equal(sha256_file_hex(tmp_path("missing"), hex), -1);
	assert_int_equal(errno, ENOENT);
	/* A directory opens but fails to read; the context is still freed
	 * (LeakSanitizer would say otherwise). */
	errno = 0;
	assert_int_equal(sha256_file_hex(tmpdir, hex), -1);
	assert_int_equal(errno, EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_vectors),
		cmocka_unit_test(test_hex_format),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_large),
		cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
