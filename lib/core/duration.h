/* Durations as people type them, one grammar for every program, file and
 * flag: a plain decimal number (digits with at most one '.', no sign, no
 * exponent, no blanks) followed by one of the units us, ms, s, m, h, or by
 * nothing, which means seconds.  "500us", "50ms", "1.5s", "2m", "1h", "5".
 *
 * Values are rounded to the nearest unit of the caller's precision; the
 * limit is what fits in 64 bits of nanoseconds (about 584 years), so any
 * overflow is a syntax-level error rather than a wrapped value. */
#ifndef KTSTR_DURATION_H
#define KTSTR_DURATION_H

#include <stddef.h>

/* s in nanoseconds; -1 (out untouched) on bad syntax or overflow. */
int duration_parse_ns(const char *s, unsigned long long *ns);
/* The same, rounded to the nearest microsecond / millisecond. */
int duration_parse_us(const char *s, unsigned long long *us);
int duration_parse_ms(const char *s, unsigned long long *ms);

/* us in the largest unit that divides it exactly ("1h", "90s", "1500us"),
 * for messages; returns buf. */
const char *duration_format_us(char *buf, size_t len, unsigned long long us);

#endif
