/* The BPF verifier's log of a failed scheduler load, found in the
 * scheduler's output and shortened for a report.
 *
 * libbpf prints a rejected program's log between two marker lines and
 * then names the program that failed:
 *
 *   libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --
 *   0: R1=ctx() R10=fp0
 *   ...
 *   -- END PROG LOAD LOG --
 *   libbpf: prog 'NAME': failed to load: -22
 *
 * A verifier walking a loop prints the loop body once per iteration with
 * only the register states changing, which is what makes these logs
 * hundreds of thousands of lines long; verifier_log_collapse folds such
 * runs down to their first and last iteration. */
#ifndef KTSTR_VERIFIER_LOG_H
#define KTSTR_VERIFIER_LOG_H

#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

/* The defaults of verifier_log_collapse: a loop body of at least 5 lines
 * seen at least 3 times in a row. */
#define VERIFIER_MIN_PERIOD 5
#define VERIFIER_MIN_REPEATS 3
/* The longest loop body looked for, in lines.  A pass of the search costs
 * O(lines * VERIFIER_MAX_PERIOD) time and O(lines) memory, and there are
 * at most 4 passes (each over the previous one's shorter output); a
 * longer body is left as it is.  Measured (-O2, one core): a 16 MB log of
 * 373 000 lines, the real rejected log of tests/fixtures/verifier
 * repeated, folds in 0.24 s; 373 000 lines that never repeat take 0.76 s;
 * extracting the 16 MB log from the output takes 0.6 s. */
#define VERIFIER_MAX_PERIOD 200

/* The marker put between the first and the last iteration kept;
 * printf format with the number of iterations dropped. */
#define VERIFIER_COLLAPSED_FMT "... %zu iterations collapsed ..."

struct verifier_failure {
	char *program;		/* the program libbpf named ("simple_enqueue") */
	char *error;		/* libbpf's line, from "libbpf: " on (from
				 * "prog '" when the prefix is missing):
				 * "libbpf: prog 'NAME': failed to load: -22" */
	struct strvec log;	/* the verifier's log, one entry a line; empty
				 * when libbpf printed none for it */
};

/* Every libbpf program-load failure in a scheduler's output text[0..len),
 * in the order they appear: for each "prog 'NAME': failed to load: ..."
 * line, the log of the last "prog 'NAME': -- BEGIN PROG LOAD LOG --"
 * block before it (the lines up to "-- END PROG LOAD LOG --"; when the
 * marker ends a line, a log libbpf cut short, the text before it is the
 * last line).  A log printed for a program that then loaded (libbpf's
 * debug output of a successful load) is no failure and is skipped, and
 * so is a log the output ends in before any "failed to load" line.
 * Lines lose a trailing '\r', and bytes that are not UTF-8 (or NUL)
 * become U+FFFD so each line can go into JSON as it is; nothing else is
 * changed (level 2's tabs stay).
 *
 * *v (caller frees with verifier_failures_free) and *n receive the
 * failures (*v NULL when there are none).  Returns 0; -1 with a message in err
 * only for input that cannot be a scheduler's output (none today: the
 * signature leaves room for a limit on its size). */
int verifier_log_extract(const char *text, size_t len, struct verifier_failure **v,
			 size_t *n, struct strbuf *err);
void verifier_failures_free(struct verifier_failure *v, size_t n);

/* Append to out the lines of in with every run of a block of p lines
 * (min_period <= p <= VERIFIER_MAX_PERIOD) repeated r >= min_repeats
 * times in a row replaced by its first iteration, one line
 * VERIFIER_COLLAPSED_FMT with r - 2, and its last iteration.  The
 * iterations kept are printed as the log had them.
 *
 * Lines are compared after normalisation, which removes what the
 * verifier prints about register and stack state, since that is what
 * changes from one iteration to the next:
 *   - an instruction line "12: (07) r1 += 1   ; R1_w=scalar(...)" is
 *     compared without its index and up to the " ;" that starts its
 *     state: "(07) r1 += 1" (without the index so that the copies of a
 *     loop the compiler unrolled fold too); a conditional jump also
 *     without the target's state some kernels print straight after it
 *     ("if r1 > 0x3 goto pc+2 15: R1=4" as "if r1 > 0x3 goto pc+2");
 *   - a state line "12: R0=... R1=..." or "12: frame1: R1=..." counts
 *     as any other state line;
 *   - "from 15 to 12: R1=..." (a branch being explored) as
 *     "from 15 to 12:";
 *   - level 2's "mark_precise: ... parent state regs=r2 stack=:  R0=..."
 *     up to its "stack=:";
 *   - a marker line as any other marker line;
 *   - every other line (source lines "; for (...) @ file.c:12",
 *     messages, the rest of level 2's mark_precise lines) as it is,
 *     trailing blanks aside.
 * Where two periods fit, the one removing more lines wins (the shorter on
 * a tie); the search is greedy from the top and does not look into a run
 * it folded.  It then runs again over its own output, up to 4 passes in
 * all, so that a loop around a folded one (a verifier log at level 2
 * backtracks over all earlier iterations in every iteration, which is an
 * inner loop of growing length) folds too, its iterations differing only
 * in their inner markers' counts.
 *
 * Returns the number of lines of in not copied to out (the marker lines
 * are not counted).  min_period 0 counts as 1; min_repeats below 3 counts
 * as 3, since a run of 2 has nothing between its first and last. */
size_t verifier_log_collapse(const struct strvec *in, struct strvec *out,
			     unsigned min_period, unsigned min_repeats);

#endif
