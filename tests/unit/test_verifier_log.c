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

#include <stdbool.h>
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

static void read_fixture(const char *name, struct strbuf *text)
{
	char path[256];

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	if (strbuf_read_file(text, path))
		fail_msg("%s: cannot read it; run the test from the top of the tree", path);
}

/* Every line of out but the markers is a line of in, in order, and the
 * count of those left out is what the collapse returned. */
static void assert_folded_from(const struct strvec *in, const struct strvec *out, size_t removed)
{
	size_t i = 0, j, kept = 0, markers = 0;
	unsigned long long r;
	char c;

	for (j = 0; j < out->n; j++) {
		if (sscanf(out->v[j], "... %llu iterations collapsed ...%c", &r, &c) == 1 &&
		    strstr(out->v[j], " iterations collapsed ...")) {
			markers++;
			continue;
		}
		while (i < in->n && strcmp(in->v[i], out->v[j]))
			i++;
		assert_true(i < in->n);
		i++;
		kept++;
	}
	assert_int_equal(in->n - kept, removed);
	assert_int_equal(out->n, kept + markers);
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

	/* A loop the compiler unrolled: the same instructions at other
	 * indexes; a jump's target state printed after it. */
	for (k = 0; k < 4; k++) {
		strvec_pushf(&in, "%u: (71) r2 = *(u8 *)(r1 +0)        ; R1=%u", 10 + 5 * k, k);
		strvec_pushf(&in, "%u: (07) r1 += 1", 11 + 5 * k);
		strvec_pushf(&in, "%u: (15) if r2 == 0x0 goto pc+9 %u: R2=%u", 12 + 5 * k, 22 + 5 * k, k);
		strvec_pushf(&in, "%u: R1_w=%u", 13 + 5 * k, k);
		strvec_push(&in, "; if (!c) @ x.bpf.c:9  ");
	}
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 10);
	assert_string_equal(out.v[5], "... 2 iterations collapsed ...");
	assert_string_equal(out.v[6], in.v[15]);
	strvec_clear(&out);
	strvec_clear(&in);
}

/* A loop in a loop whose inner trip count grows: the first pass folds
 * each inner run, the second the outer loop, whose iterations then differ
 * only in their inner markers. */
static void test_collapse_nested(void **state)
{
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	unsigned k, j;
	size_t removed;

	(void)state;
	for (k = 0; k < 6; k++) {
		strvec_pushf(&in, "1: (bf) r6 = r1 ; R6=%u", k);
		strvec_push(&in, "; outer @ x.bpf.c:3");
		for (j = 0; j < 4 + k; j++) {
			strvec_pushf(&in, "2: (07) r2 += 1 ; R2=%u", j);
			strvec_push(&in, "3: (0f) r3 += r2");
			strvec_push(&in, "; inner @ x.bpf.c:5");
			strvec_push(&in, "4: (a5) if r2 < 0x9 goto pc-3");
			strvec_pushf(&in, "from 4 to 2: R2=%u", j);
		}
	}
	removed = verifier_log_collapse(&in, &out, 5, 3);
	/* Two outer iterations of 2 + 5 + 1 + 5 lines around a marker. */
	assert_int_equal(out.n, 13 + 1 + 13);
	assert_string_equal(out.v[7], "... 2 iterations collapsed ...");
	assert_string_equal(out.v[13], "... 4 iterations collapsed ...");
	assert_string_equal(out.v[14], "1: (bf) r6 = r1 ; R6=5");
	assert_string_equal(out.v[21], "... 7 iterations collapsed ...");
	assert_folded_from(&in, &out, removed);
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
		strvec_pushf(&in, "%u: (b7) r0 = %u", 1000 + k, k);
	assert_int_equal(verifier_log_collapse(&in, &out, 5, 3), 998 * 150);
	assert_int_equal(out.n, 301 + 50000);
	assert_string_equal(out.v[150], "... 998 iterations collapsed ...");
	strvec_clear(&out);
	strvec_clear(&in);
}

/* The rejected scheduler (tests/fixtures/verifier/sched, loaded on the
 * Debian 7.3.4 cloud kernel): 48 iterations of a 9-line loop body, then
 * the error and the kernel's explanation, which walks the same 48
 * branches again. */
static void test_real_rejected(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct strvec out = STRVEC_INIT;
	struct verifier_failure *v;
	size_t n, removed, j, markers = 0;
	bool error_kept = false;

	(void)state;
	read_fixture("badloop-7.3.4-cloud.log", &text);
	extract(text.buf, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].program, "badloop_enqueue");
	assert_string_equal(v[0].error, "libbpf: prog 'badloop_enqueue': failed to load: -EACCES");
	assert_int_equal(v[0].log.n, 1252);
	assert_string_equal(v[0].log.v[0], "0: R1=ctx() R10=fp0");
	assert_string_equal(v[0].log.v[1251],
			    "processed 354 insns (limit 1000000) max_states_per_insn 3 "
			    "total_states 5 peak_states 5 mark_read 0");
	removed = verifier_log_collapse(&v[0].log, &out, VERIFIER_MIN_PERIOD, VERIFIER_MIN_REPEATS);
	assert_folded_from(&v[0].log, &out, removed);
	assert_true(out.n < 200);
	for (j = 0; j < out.n; j++) {
		markers += !strcmp(out.v[j], "... 45 iterations collapsed ...");
		error_kept |= !strcmp(out.v[j],
				      "invalid access to map value, value_size=384 off=384 size=8");
	}
	assert_int_equal(markers, 2);
	assert_true(error_kept);
	/* The last iteration is there with its own state. */
	assert_true(strvec_contains(&out, "18: (55) if r2 != 0x180 goto pc-7     ; R2=384"));
	assert_string_equal(out.v[out.n - 1], v[0].log.v[1251]);
	strvec_clear(&out);
	/* --raw's counterpart: nothing repeats 49 times. */
	assert_int_equal(verifier_log_collapse(&v[0].log, &out, 5, 49), 0);
	strvec_clear(&out);
	verifier_failures_free(v, n);
	strbuf_release(&text);
}

/* The fixed program loaded: libbpf printed every program's log (-l 1)
 * and none of them is a failure. */
static void test_real_loaded(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct verifier_failure *v;
	size_t n;

	(void)state;
	read_fixture("goodloop-level1-7.3.4-cloud.log", &text);
	extract(text.buf, &v, &n);
	assert_int_equal(n, 0);
	verifier_failures_free(v, n);
	strbuf_release(&text);
}

/* The fixed program's log at level 2, the first 4467 lines of the output
 * (the whole is 400 KB): every iteration backtracks over all the earlier
 * ones, a loop in a loop, which the second pass folds. */
static void test_real_level2(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct strvec in = STRVEC_INIT, out = STRVEC_INIT;
	const char *p, *eol;
	size_t removed;
	bool in_log = false;

	(void)state;
	read_fixture("goodloop-level2-head-7.3.4-cloud.log", &text);
	for (p = text.buf; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			break;
		if (in_log)
			strvec_pushf(&in, "%.*s", (int)(eol - p), p);
		else if (!strncmp(p, "libbpf: prog 'badloop_enqueue': -- BEGIN", 40))
			in_log = true;
	}
	assert_int_equal(in.n, 4285);
	removed = verifier_log_collapse(&in, &out, VERIFIER_MIN_PERIOD, VERIFIER_MIN_REPEATS);
	assert_folded_from(&in, &out, removed);
	/* One pass alone leaves about 1900 lines. */
	assert_true(out.n < 1000);
	strvec_clear(&out);
	strvec_clear(&in);
	strbuf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_one),
		cmocka_unit_test(test_extract_cases),
		cmocka_unit_test(test_collapse_loop),
		cmocka_unit_test(test_collapse_edges),
		cmocka_unit_test(test_collapse_normalise),
		cmocka_unit_test(test_collapse_nested),
		cmocka_unit_test(test_collapse_large),
		cmocka_unit_test(test_real_rejected),
		cmocka_unit_test(test_real_loaded),
		cmocka_unit_test(test_real_level2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
