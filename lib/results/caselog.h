/* The head and tail of a log file a case left behind (the guest's console
 * log, the scheduler's output), for ktstr-test's reports.
 *
 * Lines come back cleaned for a terminal and for JSON: a trailing '\r'
 * dropped, other control characters (tab aside) shown as '?', invalid
 * UTF-8 replaced with U+FFFD, and a line longer than CASELOG_LINE_MAX
 * bytes cut there with "..." added.  The whole file is read once; only
 * the lines asked for are kept, so a multi-megabyte verifier log costs
 * its read and no more. */
#ifndef KTSTR_CASELOG_H
#define KTSTR_CASELOG_H

#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

#define CASELOG_LINE_MAX 400

struct caselog {
	struct strvec head;	/* the first lines (at most the head asked for) */
	struct strvec tail;	/* the last lines after those, in order; never
				 * overlapping head */
	size_t lines;		/* lines in the file */
};

/* A copy of s[0..len) cleaned as above, or with CASELOG_ONE_LINE fit for
 * one line of a report (a name, a message): every control character,
 * newlines and tabs included, becomes a space, trailing spaces go, and
 * nothing is cut. */
#define CASELOG_ONE_LINE 0x1u
char *caselog_clean_line(const char *s, size_t len, unsigned flags);

/* Read path keeping its first `head` and last `tail` lines.  0, or -1
 * with errno set (nothing kept). */
int caselog_read(const char *path, size_t head, size_t tail, struct caselog *out);
void caselog_release(struct caselog *l);

/* "--- TITLE (PATH, N lines) ---", the head, "[... K lines ...]" when
 * lines were left out, the tail; each line indented by two spaces.  A
 * file that cannot be read gets a one-line note instead. */
void caselog_format(struct strbuf *out, const char *title, const char *path,
		    size_t head, size_t tail);

#endif
