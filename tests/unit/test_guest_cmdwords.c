/* Unit tests for guest/cmdwords.c: which --exec lines the agent runs
 * without a shell.  A wrong "plain" would run a line differently from
 * /bin/sh, so every shell feature here must be sent to the shell. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent.h"

/* cmd is plain, and its words joined by '|' are want. */
static void expect_words(const char *cmd, const char *want)
{
	struct strvec w = STRVEC_INIT;
	struct strbuf got = STRBUF_INIT;

	if (!cmd_plain_words(cmd, &w))
		fail_msg("\"%s\" was sent to the shell", cmd);
	for (size_t i = 0; i < w.n; i++)
		strbuf_addf(&got, "%s%s", i ? "|" : "", w.v[i]);
	assert_null(w.v[w.n]);
	assert_string_equal(got.buf, want);
	strbuf_release(&got);
	strvec_clear(&w);
}

static void expect_shell(const char *cmd)
{
	struct strvec w = STRVEC_INIT;

	strvec_push(&w, "left over");
	if (cmd_plain_words(cmd, &w))
		fail_msg("\"%s\" would run without the shell", cmd);
	assert_int_equal(w.n, 0);
	strvec_clear(&w);
}

static void test_plain(void **state)
{
	(void)state;
	expect_words("true", "true");
	expect_words("cat /sys/kernel/sched_ext/state", "cat|/sys/kernel/sched_ext/state");
	expect_words("  ./my-test\t--fast  --n=3 a,b:c+d@e ", "./my-test|--fast|--n=3|a,b:c+d@e");
	expect_words("/include-files/scx_simple -v", "/include-files/scx_simple|-v");
	/* Builtins that busybox runs the same way as programs. */
	expect_words("echo hello", "echo|hello");
	expect_words("kill -0 1", "kill|-0|1");
}

static void test_shell_syntax(void **state)
{
	static const char *const lines[] = {
		"", "   ", "\t",
		"echo $HOME", "echo ${x}", "echo `date`", "echo $(date)",
		"echo 'a b'", "echo \"a\"", "echo a\\ b",
		"ls *", "ls ?", "ls [ab]", "echo ~", "echo ~/x",
		"a; b", "a && b", "a || b", "a | b", "a &",
		"a > f", "a < f", "a 2>&1", "(a)", "{ a; }",
		"a # comment", "a\nb", "kill %1", "echo !x", "echo a^b",
		"FOO=1 env", "=x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		expect_shell(lines[i]);
}

/* Reserved words and builtins with no program, or a different one. */
static void test_shell_words(void **state)
{
	static const char *const lines[] = {
		"exit 7", "cd /tmp", "export A", "exec cat", ". /x", ": x",
		"if", "while", "for", "wait", "set -e", "unset A", "trap x INT",
		"ulimit -n", "umask 022", "read x", "command -v ls", "type ls",
		"eval x", "source /x", "shift", "return 1", "local x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		expect_shell(lines[i]);
	/* Only in the program's place: as arguments they are words. */
	expect_words("echo exit cd if", "echo|exit|cd|if");
	expect_words("env A=1 prog", "env|A=1|prog");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_shell_syntax),
		cmocka_unit_test(test_shell_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
