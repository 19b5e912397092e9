/* UTF-8: the library's one check and repair.
 *
 * Anything that turns outside bytes (console lines, kernel strings, a
 * scheduler's output) into JSON strings or XML text goes through here, so
 * every report replaces the same bytes the same way: each byte that does
 * not start a well-formed sequence becomes one U+FFFD, and decoding
 * resumes at the next byte. */
#ifndef KTSTR_UTF8_H
#define KTSTR_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

/* The Unicode replacement character U+FFFD, encoded. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Length of the well-formed sequence at s (left > 0 bytes available), its
 * code point in *cp (may be NULL); 0 when the sequence is malformed,
 * overlong, a surrogate, beyond U+10FFFF or cut short by the end. */
size_t utf8_decode(const char *s, size_t left, uint32_t *cp);
/* Append len bytes of buf to out with every byte that is not part of a
 * well-formed sequence, and every NUL, replaced with U+FFFD. */
void utf8_repair(struct strbuf *out, const char *buf, size_t len);

#endif
