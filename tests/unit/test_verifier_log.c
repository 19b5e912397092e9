/* Unit tests for lib/results/verifier_log*.c: libbpf's load failures found
 * in a scheduler's output, and the verifier's loop iterations folded.
 * Synthetic logs pin the rules; the real ones (tests/fixtures/verifier,
 * captured in the guest from tests/fixtures/verifier/sched) show they
 * hold on what the kernel prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_log.h"

#define FIXTURES "tests/fixtures/verifier/"

static void extract(const char *text, struct verifier_failure **v, size_t *n)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(verifier_log_extract(text, strlen(text), v, n, &err), 0);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

static void test_extract_one(void **state)
{
	const char *text =
		"scx_x: starting\n"
		"libbpf: prog 'x_enqueue': BPF program load failed: -EACCES\n"
		"libbpf: prog 'x_enqueue': -- BEGIN PROG LOAD LOG --\r\n"
		"0: R1=ctx() R10=fp0\r\n"
		"; int x(void) @ x.bpf.c:3\n"
		"0: (b7) r0 = 0                        ; R0_w=0\n"
		"invalid access to map value, value_size=8 off=8 size=8\n"
		"processed 4 insns (limit 1000000) max_states_per_insn 0\n"
		"-- END PROG LOAD LOG --\n"
		"libbpf: prog 'x_enqueue': failed to load: -13\n"
		"libbpf: failed to load object 'scx_x'\n";
	struct verifier_failure *v;
	size_t n;

	(void)state;
	extract(text, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].program, "x_enqueue");
	assert_string_equal(v[0].error, "libbpf: prog 'x_enqueue': failed to load: -13");
	assert_int_equal(v[0].log.n, 5);
	assert_string_equal(v[0].log.v[0], "0: R1=ctx() R10=fp0");
	assert_string_equal(v[0].log.v[3],
			    "invalid access to map value, value_size=8 off=8 size=8");
	assert_string_equal(v[0].log.v[4],
			    "processed 4 insns (limit 1000000) max_states_per_insn 0");
	verifier_failures_free(v, n);
}

/* A log printed for a program that loaded (libbpf's debug output) is no
 * failure; a failure with no log keeps an empty one; a log cut short ends
 * in the marker; a prefix before libbpf's is dropped from the error; bytes
 * that are not UTF-8 are replaced. */
static void test_extract_cases(void **state)
{
	const char *text =
		"libbpf: prog 'good': -- BEGIN PROG LOAD LOG --\n"
		"func#0 @0\n"
		"processed 2 insns\n"
		"-- END PROG LOAD LOG --\n"
		"libbpf: prog 'bad': -- BEGIN PROG LOAD LOG --\n"
		"0: (b7) r0 = 0 \xff\n"
		"1: (95) exit-- END PROG LOAD LOG --\n"
		"12:00:01 libbpf: prog 'bad': failed to load: -E2BIG\n"
		"prog 'nolog': failed to load: -524\n";
	struct verifier_failure *v;
	size_t n;

	(void)state;
	extract(text, &v, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].program, "bad");
	assert_string_equal(v[0].error, "libbpf: prog 'bad': failed to load: -E2BIG");
	assert_int_equal(v[0].log.n, 2);
	assert_string_equal(v[0].log.v[0], "0: (b7) r0 = 0 \xef\xbf\xbd");
	assert_string_equal(v[0].log.v[1], "1: (95) exit");
	assert_string_equal(v[1].program, "nolog");
	assert_string_equal(v[1].error, "prog 'nolog': failed to load: -524");
	assert_int_equal(v[1].log.n, 0);
	verifier_failures_free(v, n);

	extract("", &v, &n);
	assert_int_equal(n, 0);
	verifier_failures_free(v, n);
	/* Cut short inside a log: nothing named a failure. */
	extract("libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n0: (b7) r0 = 0", &v, &n);
	assert_int_equal(n, 0);
	verifier_failures_free(v, n);
}

/* A loop body of 6 lines as the verifier prints it: the instructions and
 * the source line are the same every time, the register states are not. */
static void push_iteration(struct strvec *sv, unsigned k)
{
	strvec_pushf(sv, "; for (i = 0; i < n; i++) @ x.bpf.c:%u", 20);
	strvec_pushf(sv, "5: (bf) r1 = r6                       ; R1_w=scalar(id=%u,umax=%u) R6=%u", k, k, k);
	strvec_pushf(sv, "6: (07) r1 += 1                       ; R1_w=%u", k + 1);
	strvec_pushf(sv, "7: (a5) if r1 < 0x40 goto pc-3        ; R1_w=%u", k + 1);
	strvec_pushf(sv, "8: R0=%u R1=%u R10=fp0", k, k + 1);
	strvec_pushf(sv, "from 7 to 5: R1_w=%u R10=fp0", k + 1);
}

static void test_collapse_loop(void **state)
{
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	unsigned k;

	(void)state;
	strvec_push(&in, "func#0 @0");
	strvec_push(&in, "0: R1=ctx() R10=fp0");
	for (k = 0; k < 40; k++)
		push_iteration(&in, k);
	strvec_push(&in, "9: (79) r0 = *(u64 *)(r7 +64)");
	strvec_push(&in, "invalid access to map value, value_size=64 off=64 size=8");
	assert_int_equal(verifier_log_collapse(&in, &out, VERIFIER_MIN_PERIOD,
					       VERIFIER_MIN_REPEATS), 38 * 6);
	assert_int_equal(out.n, 2 + 6 + 1 + 6 + 2);
	assert_string_equal(out.v[0], "func#0 @0");
	/* The first iteration as printed, then the marker, then the last. */
	assert_string_equal(out.v[2], in.v[2]);
	assert_string_equal(out.v[3], in.v[3]);
	assert_string_equal(out.v[8], "... 38 iterations collapsed ...");
	assert_string_equal(out.v[9], in.v[2 + 39 * 6]);
	assert_string_equal(out.v[10], in.v[3 + 39 * 6]);
	assert_string_equal(out.v[15], "9: (79) r0 = *(u64 *)(r7 +64)");
	assert_string_equal(out.v[16], in.v[in.n - 1]);
	strvec_clear(&out);

	/* Raised thresholds: 40 repeats are not 41, a body of 6 is not 7. */
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 41), 0);
	assert_int_equal(out.n, in.n);
	strvec_clear(&out);
	assert_int_equal(verifier_log_collapse(&in, &out, 7, 3), 240 - 12 * 2);
	/* ...but twice the body is 12 lines, 20 times. */
	assert_string_equal(out.v[14], "... 18 iterations collapsed ...");
	strvec_clear(&out);
	strvec_clear(&in);
}

static void test_collapse_edges(void **state)
{
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	unsigned k;

	(void)state;
	/* Nothing at all, and a log without repeats, come back unchanged. */
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 0);
	assert_int_equal(out.n, 0);
	for (k = 0; k < 50; k++)
		strvec_pushf(&in, "%u: (b7) r%u = %u", k, k % 10, k);
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 0);
	assert_int_equal(out.n, 50);
	assert_string_equal(out.v[49], in.v[49]);
	strvec_clear(&out);
	strvec_clear(&in);

	/* Two iterations are left as they are; three fold to 1 + marker + 1.
	 * A body of 4 lines is below the default period. */
	for (k = 0; k < 2; k++)
		push_iteration(&in, k);
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 0);
	assert_int_equal(out.n, 12);
	strvec_clear(&out);
	push_iteration(&in, 2);
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 6);
	assert_int_equal(out.n, 13);
	assert_string_equal(out.v[6], "... 1 iterations collapsed ...");
	strvec_clear(&out);
	strvec_clear(&in);
	for (k = 0; k < 30; k++) {
		strvec_push(&in, "1: (07) r1 += 1");
		strvec_push(&in, "2: (05) goto pc-2");
		strvec_push(&in, "3: R1=1");
		strvec_push(&in, "from 2 to 1: R1=2");
	}
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 120 - 16);
	strvec_clear(&out);
	assert_int_equal(verifier_log_collapse(&in, &out, 4, 3), 120 - 8);
	strvec_clear(&out);
	strvec_clear(&in);
}

/* The normalisation: instruction text up to its state; state lines and
 * branch lines by their position; anything else whole. */
static void test_collapse_normalise(void **state)
{
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	unsigned k;

	(void)state;
	/* Differing instruction text never folds, nor do differing messages. */
	for (k = 0; k < 5; k++) {
		strvec_push(&in, "1: (07) r1 += 1   ; R1=1");
		strvec_pushf(&in, "2: (07) r2 += %u   ; R2=1", k);
		strvec_push(&in, "3: R1=1");
		strvec_push(&in, "4: (05) goto pc-4");
		strvec_push(&in, "from 4 to 1: R1=1");
	}
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 0);
	strvec_clear(&out);
	strvec_clear(&in);
	for (k = 0; k < 5; k++) {
		strvec_pushf(&in, "5: (07) r1 += 1 ; R1=%u", k);
		strvec_pushf(&in, "5: frame1: R1=%u", k);
		strvec_pushf(&in, "from 6 to 5: frame1: R1=%u", k);
		strvec_pushf(&in, "mark_precise: frame0: regs=r1 stack= before 5: (07) r1 += 1%s",
			     k % 2 ? "  " : "");
		strvec_pushf(&in, "message %u", k);
	}
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 0);
	strvec_clear(&out);
	for (k = 0; k < 5; k++)
		free(in.v[k * 5 + 4]), in.v[k * 5 + 4] = strdup("message");
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 15);
	assert_string_equal(out.v[5], "... 3 iterations collapsed ...");
	assert_string_equal(out.v[6], "5: (07) r1 += 1 ; R1=4");
	strvec_clear(&out);
	strvec_clear(&in);
}

/* A long log: a 150-line body 1000 times, then 50 000 distinct lines; the
 * search must neither miss the body nor take long (it runs under ASan). */
static void test_collapse_large(void **state)
{
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	unsigned k, j;

	(void)state;
	for (k = 0; k < 1000; k++)
		for (j = 0; j < 150; j++)
			strvec_pushf(&in, "%u: (07) r1 += %u    ; R1=%u", j, j, k);
	for (k = 0; k < 50000; k++)
		strvec_pushf(&in, "%u: (b7) r0 = 0", 1000 + k);
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 998 * 150);
	assert_int_equal(out.n, 301 + 50000);
	assert_string_equal(out.v[150], "... 998 iterations collapsed ...");
	strvec_clear(&out);
	strvec_clear(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_one),
		cmocka_unit_test(test_extract_cases),
		cmocka_unit_test(test_collapse_loop),
		cmocka_unit_test(test_collapse_edges),
		cmocka_unit_test(test_collapse_normalise),
		cmocka_unit_test(test_collapse_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
