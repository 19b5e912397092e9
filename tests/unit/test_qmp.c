/* Unit tests for lib/vm/qmp.c: "info ramblock" as QEMU 10 prints it, and the
 * QMP exchange against a scripted peer on a socket pair (a child process
 * that answers as QEMU does: greeting, events interleaved, errors). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmp.h"

/* Copied from a QEMU 10.0.2 q35 run (two NUMA backends), CRLFs and all. */
static const char RAMBLOCK[] =
	"              Block Name    PSize              Offset               Used              Total                HVA  RO\r\n"
	"              ktstr-mem0    4 KiB  0x0000000000000000 0x0000000010000000 0x0000000010000000 0x00007f5fdfe00000  rw\r\n"
	"              ktstr-mem1    2 MiB  0x0000000010000000 0x0000000010000000 0x0000000010000000 0x00007f5ec0000000  rw\r\n"
	"   0000:00:01.0/vga.vram    4 KiB  0x0000000020080000 0x0000000001000000 0x0000000001000000 0x00007f6035400000  rw\r\n"
	"                 pc.bios    4 KiB  0x0000000020000000 0x0000000000040000 0x0000000000040000 0x00007f6036a00000  ro\r\n";

static void test_ramblock_parse(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct qmp_ramblock rb;

	(void)state;
	assert_int_equal(qmp_ramblock_find(RAMBLOCK, "ktstr-mem0", &rb, &err), 0);
	assert_int_equal(rb.offset, 0);
	assert_int_equal(rb.used, 0x10000000);
	assert_int_equal(rb.hva, 0x7f5fdfe00000ULL);
	assert_int_equal(qmp_ramblock_find(RAMBLOCK, "ktstr-mem1", &rb, &err), 0);
	assert_int_equal(rb.offset, 0x10000000);
	assert_int_equal(rb.hva, 0x7f5ec0000000ULL);
	/* A name that only prefixes another's is not that block. */
	assert_int_equal(qmp_ramblock_find(RAMBLOCK, "ktstr-mem", &rb, &err), -1);
	assert_non_null(strstr(err.buf, "no RAM block named ktstr-mem"));
	strbuf_reset(&err);
	/* An older QEMU: no HVA column. */
	assert_int_equal(qmp_ramblock_find("  Block Name    PSize   Offset   Used   Total\r\n"
					   "  ktstr-mem0  4 KiB  0x0 0x1000 0x1000\r\n",
					   "ktstr-mem0", &rb, &err), -1);
	assert_non_null(strstr(err.buf, "HVA"));
	strbuf_reset(&err);
	assert_int_equal(qmp_ramblock_find("", "ktstr-mem0", &rb, &err), -1);
	assert_non_null(strstr(err.buf, "no table"));
	strbuf_reset(&err);
	/* A row cut short. */
	assert_int_equal(qmp_ramblock_find("Block Name PSize Offset Used Total HVA RO\n"
					   "ktstr-mem0 4 KiB 0x0 0x1000\n", "ktstr-mem0", &rb,
					   &err), -1);
	assert_non_null(strstr(err.buf, "does not have"));
	strbuf_release(&err);
}

/* The peer: read a command line, write the scripted answer, for each of
 * script's entries (NULL answer: close instead). */
struct step {
	const char *expect;	/* substring of the command, or NULL: none read */
	const char *answer;
};

static pid_t peer(int fd, const struct step *script, size_t n, const char *greeting)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid)
		return pid;
	if (greeting && write(fd, greeting, strlen(greeting)) < 0)
		_exit(3);
	for (size_t i = 0; i < n; i++) {
		char buf[4096];
		size_t len = 0;

		if (script[i].expect) {
			while (len < sizeof(buf) - 1) {
				ssize_t r = read(fd, buf + len, 1);

				if (r <= 0)
					_exit(4);
				if (buf[len++] == '\n')
					break;
			}
			buf[len] = 0;
			if (!strstr(buf, script[i].expect))
				_exit(5);
		}
		if (!script[i].answer)
			_exit(0);
		if (write(fd, script[i].answer, strlen(script[i].answer)) < 0)
			_exit(3);
	}
	pause();
	_exit(0);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, " \
	"\"major\": 10}}, \"capabilities\": [\"oob\"]}}\r\n"

static void test_exchange(void **state)
{
	const struct step script[] = {
		{ "\"execute\":\"qmp_capabilities\"", "{\"return\": {}}\r\n" },
		/* An event first, split over two writes' worth of text. */
		{ "info ramblock", "{\"timestamp\": {\"seconds\": 1}, \"event\": \"RESUME\"}\r\n"
				   "{\"return\": \"Block Name PSize Offset Used Total HVA RO\\r\\n"
				   "ktstr-mem0 4 KiB 0x0 0x1000 0x1000 0x7f0000000000 rw\\r\\n\"}\r\n" },
		{ "query-nothing", "{\"error\": {\"class\": \"CommandNotFound\", "
				   "\"desc\": \"The command query-nothing has not been found\"}}\r\n" },
		{ "query-status", NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct qmp_ramblock rb;
	struct qmp q;
	int sv[2];
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = peer(sv[1], script, 4, GREETING);
	close(sv[1]);
	assert_int_equal(qmp_open(&q, sv[0], 5000, &err), 0);
	assert_int_equal(qmp_hmp(&q, "info ramblock", &out, &err), 0);
	assert_int_equal(qmp_ramblock_find(out.buf, "ktstr-mem0", &rb, &err), 0);
	assert_int_equal(rb.hva, 0x7f0000000000ULL);
	assert_null(qmp_execute(&q, "query-nothing", NULL, &err));
	assert_non_null(strstr(err.buf, "query-nothing failed: The command query-nothing"));
	strbuf_reset(&err);
	/* The peer hangs up instead of answering. */
	assert_null(qmp_execute(&q, "query-status", NULL, &err));
	assert_non_null(strstr(err.buf, "closed"));
	qmp_release(&q);
	close(sv[0]);
	reap(pid);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* qmp_open against a peer that only writes greeting (NULL: nothing) must
 * fail within timeout_ms with want in the error. */
static void open_fails(const char *greeting, int timeout_ms, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	struct qmp q;
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = peer(sv[1], NULL, 0, greeting);
	assert_int_equal(qmp_open(&q, sv[0], timeout_ms, &err), -1);
	if (!strstr(err.buf, want))
		fail_msg("error \"%s\" does not say \"%s\"", err.buf, want);
	qmp_release(&q);
	close(sv[0]);
	close(sv[1]);
	reap(pid);
	strbuf_release(&err);
}

static void test_bad_peers(void **state)
{
	(void)state;
	/* Silent: the timeout. */
	open_fails(NULL, 200, "no answer within 200 ms");
	/* Not QMP at all. */
	open_fails("login: \r\n", 2000, "not a JSON object");
	/* JSON, but not the greeting. */
	open_fails("{\"return\": {}}\n", 2000, "greeting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ramblock_parse),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_bad_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
