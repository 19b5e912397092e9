/* Cursor-position queries taken out of the shell's output.
 *
 * busybox's line editor writes ESC [ 6 n (DSR, "where is the cursor?")
 * after every prompt and waits for the terminal to answer.  Not every
 * terminal on the host end does (pipes under script(1), logs, editors'
 * shell buffers, the test's pty), and there the query shows as raw
 * bytes.  The shell proxy removes each query from the stream on its way
 * out and answers it itself. */
#ifndef KTSTR_GUEST_TTYFILTER_H
#define KTSTR_GUEST_TTYFILTER_H

#include <stddef.h>
#include "strbuf.h"

#define DSR_QUERY "\033[6n"
/* The answer given for every query: row 1, column 1.  busybox only uses
 * the column to notice text left before its prompt, so the cost of the
 * made-up position is that it assumes none. */
#define DSR_ANSWER "\033[1;1R"

struct dsr_filter {
	size_t held;	/* bytes of a possible query withheld from the last chunk */
};

/* Append in[0..n) to out without the queries in it, which may straddle
 * chunks (a partial one at the end is held back for the next call).
 * Returns how many queries were removed. */
unsigned dsr_filter(struct dsr_filter *f, const char *in, size_t n, struct strbuf *out);

#endif
