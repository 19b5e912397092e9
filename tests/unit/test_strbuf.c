/* Unit tests for lib/core/strbuf.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"

static void test_init_empty(void **state)
{
	struct strbuf a = STRBUF_INIT, b;

	assert_non_null(a.buf);
	assert_string_equal(a.buf, "");
	assert_int_equal(a.len, 0);
	strbuf_init(&b, 0);
	assert_string_equal(b.buf, "");
	assert_int_equal(b.alloc, 0);
	/* Release and reset of a never-grown buffer are no-ops. */
	strbuf_reset(&a);
	strbuf_release(&a);
	strbuf_release(&b);
	assert_string_equal(a.buf, "");
	/* The shared empty buffer must never be written. */
	assert_int_equal(strbuf_empty[0], '\0');
}

static void test_init_hint(void **state)
{
	struct strbuf sb;

	strbuf_init(&sb, 1000);
	assert_true(sb.alloc > 1000);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
	assert_int_equal(sb.alloc, 0);
	assert_int_equal(sb.len, 0);
}

static void test_add(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "hello");
	strbuf_addch(&sb, ',');
	strbuf_addch(&sb, ' ');
	strbuf_add(&sb, "world!!!", 5);
	assert_string_equal(sb.buf, "hello, world");
	assert_int_equal(sb.len, 12);
	strbuf_add(&sb, "", 0);
	assert_int_equal(sb.len, 12);
	strbuf_release(&sb);
}

static void test_add_binary(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	static const char bin[] = { 'a', '\0', 'b', '\xff' };

	strbuf_add(&sb, bin, sizeof(bin));
	assert_int_equal(sb.len, 4);
	assert_memory_equal(sb.buf, bin, 4);
	assert_int_equal(sb.buf[4], '\0');
	strbuf_addch(&sb, 0);
	assert_int_equal(sb.len, 5);
	assert_int_equal(sb.buf[4], '\0');
	strbuf_release(&sb);
}

static void test_grow_large(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < 100000; i++)
		strbuf_addch(&sb, 'a' + (int)(i % 26));
	assert_int_equal(sb.len, 100000);
	assert_true(sb.alloc > sb.len);
	for (i = 0; i < 100000; i++)
		assert_int_equal(sb.buf[i], 'a' + (int)(i % 26));
	assert_int_equal(sb.buf[100000], '\0');
	strbuf_release(&sb);
}

static void test_grow_overflow_dies(void **state)
{
	/* A size overflow must die rather than silently "succeed". */
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct strbuf sb = STRBUF_INIT;

		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(90);
		strbuf_addstr(&sb, "x");
		strbuf_grow(&sb, SIZE_MAX);
		_exit(91);	/* must not get here */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
}

static void test_addf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1000];

	strbuf_addf(&sb, "%d-%s", 42, "x");
	assert_string_equal(sb.buf, "42-x");
	/* Output longer than the first guess exercises the second pass. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&sb, "[%s]", big);
	assert_int_equal(sb.len, 4 + 2 + 999);
	assert_int_equal(sb.buf[4], '[');
	assert_int_equal(sb.buf[5 + 999], ']');
	assert_int_equal(sb.buf[sb.len], '\0');
	assert_int_equal(strlen(sb.buf), sb.len);
	strbuf_addf(&sb, "%s", "");
	assert_int_equal(sb.len, 1005);
	strbuf_release(&sb);
}

static void test_addf_boundary(void **state)
{
	/* Fill so the remaining space is exactly what the output needs, one
	 * less, and one more. */
	size_t fill;

	for (fill = 0; fill < 200; fill++) {
		struct strbuf sb = STRBUF_INIT;
		size_t i;

		for (i = 0; i < fill; i++)
			strbuf_addch(&sb, '.');
		strbuf_addf(&sb, "%s%d", "abcdefghijklmnopqrstuvwxyz0123456789", 12345);
		assert_int_equal(sb.len, fill + 41);
		assert_int_equal(strlen(sb.buf), sb.len);
		assert_string_equal(sb.buf + fill,
				    "abcdefghijklmnopqrstuvwxyz012345678912345");
		strbuf_release(&sb);
	}
}

static void test_setlen_reset(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "abcdef");
	strbuf_setlen(&sb, 3);
	assert_string_equal(sb.buf, "abc");
	assert_int_equal(sb.len, 3);
	strbuf_reset(&sb);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	strbuf_addstr(&sb, "z");
	assert_string_equal(sb.buf, "z");
	strbuf_release(&sb);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	strbuf_addstr(&sb, "owned");
	s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "owned");
	assert_int_equal(len, 5);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
	assert_string_equal(sb.buf, "");
	free(s);

	/* Detaching an empty buffer still gives a free()able string. */
	s = strbuf_detach(&sb, NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_true(s != strbuf_empty);
	free(s);
}

static void check_trim(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, in);
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, want);
	assert_int_equal(sb.len, strlen(want));
	strbuf_release(&sb);
}

static void test_trim(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	check_trim("  a b  ", "a b");
	check_trim("\t\n x\r\n", "x");
	check_trim("none", "none");
	check_trim("   ", "");
	check_trim("", "");
	check_trim("lead ", "lead");
	check_trim(" trail", "trail");
	strbuf_trim(&sb);	/* never grown */
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

static char tmpdir[] = "/tmp/ktstr-test-strbuf.XXXXXX";

static int setup_tmp(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_read_fd_pipe(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc\ndef", 7), 7);
	close(p[1]);
	strbuf_addstr(&sb, ">");
	assert_int_equal(strbuf_read_fd(&sb, p[0]), 7);
	close(p[0]);
	assert_string_equal(sb.buf, ">abc\ndef");
	strbuf_release(&sb);
}

static void test_read_fd_error(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "keep");
	errno = 0;
	assert_int_equal(strbuf_read_fd(&sb, -1), -1);
	assert_int_equal(errno, EBADF);
	assert_string_equal(sb.buf, "keep");
	assert_int_equal(sb.len, 4);
	strbuf_release(&sb);
}

static void test_read_file(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char path[512];
	size_t n = 3 * 8192 + 17, i;
	char *data = malloc(n);
	FILE *f;

	assert_non_null(data);
	for (i = 0; i < n; i++)
		data[i] = (char)(i * 7);
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_int_equal(sb.len, n);
	assert_memory_equal(sb.buf, data, n);
	assert_int_equal(sb.buf[n], '\0');
	free(data);
	strbuf_release(&sb);

	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(strbuf_read_file(&sb, path), 0);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_read_file_missing(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char path[512];

	snprintf(path, sizeof(path), "%s/nope", tmpdir);
	errno = 0;
	assert_int_equal(strbuf_read_file(&sb, path), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(sb.len, 0);
	/* A directory opens but cannot be read. */
	assert_int_equal(strbuf_read_file(&sb, tmpdir), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_init_hint),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_binary),
		cmocka_unit_test(test_grow_large),
		cmocka_unit_test(test_grow_overflow_dies),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_addf_boundary),
		cmocka_unit_test(test_setlen_reset),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_read_fd_pipe),
		cmocka_unit_test(test_read_fd_error),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_file_missing),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
