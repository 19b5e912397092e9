/* Unit tests for guest/ttyfilter.c: cursor-position queries taken out of
 * the shell's output, whole or split across reads, and nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ttyfilter.h"

/* Feed text in chunks of size step; return the output, count queries. */
static void run(const char *in, size_t step, struct strbuf *out, unsigned *q)
{
	struct dsr_filter f = { 0 };
	size_t n = strlen(in), i;

	*q = 0;
	for (i = 0; i < n; i += step)
		*q += dsr_filter(&f, in + i, n - i < step ? n - i : step, out);
	/* What a caller does at the end: give back a held partial query. */
	strbuf_add(out, DSR_QUERY, f.held);
}

static void check(const char *in, const char *want, unsigned want_q)
{
	size_t step;

	for (step = 1; step <= strlen(in) + 1; step++) {
		struct strbuf out = STRBUF_INIT;
		unsigned q;

		run(in, step, &out, &q);
		if (strcmp(out.buf, want) || q != want_q)
			fail_msg("chunks of %zu: got \"%s\" (%u queries), want \"%s\" (%u)",
				 step, out.buf, q, want, want_q);
		strbuf_release(&out);
	}
}

static void test_query_after_prompt(void **state)
{
	(void)state;
	check("/root # \033[6n", "/root # ", 1);
	check("\033[6n\033[6nls\r\n", "ls\r\n", 2);
}

static void test_other_escapes_pass(void **state)
{
	(void)state;
	/* Colours, cursor moves, a lone ESC and near misses stay. */
	check("\033[1;32mok\033[0m \033[6 \033[5n \033\033[6n\033[K", "\033[1;32mok\033[0m \033[6 \033[5n \033\033[K", 1);
	check("plain text", "plain text", 0);
	check("ends in \033[6", "ends in \033[6", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_after_prompt),
		cmocka_unit_test(test_other_escapes_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
