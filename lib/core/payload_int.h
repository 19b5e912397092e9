/* What payload.c and the adapters' parsers share (not an interface: the
 * rest of ktstr uses payload.h). */
#ifndef KTSTR_PAYLOAD_INT_H
#define KTSTR_PAYLOAD_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "payload.h"
#include "strbuf.h"

/* The adapters' parsers, in the shape of payload_adapter.parse. */
int payload_parse_cyclictest(const char *text, size_t len, struct pmetrics *m,
			     struct strbuf *err);
int payload_parse_fio(const char *text, size_t len, struct pmetrics *m, struct strbuf *err);
int payload_parse_stress_ng(const char *text, size_t len, struct pmetrics *m,
			    struct strbuf *err);
int payload_parse_hackbench(const char *text, size_t len, struct pmetrics *m,
			    struct strbuf *err);
int payload_parse_sysbench(const char *text, size_t len, struct pmetrics *m,
			   struct strbuf *err);
int payload_parse_perf_bench(const char *text, size_t len, struct pmetrics *m,
			     struct strbuf *err);

/* The number at the start of s[0..n) (blanks before it skipped), finite;
 * *used (may be NULL) is how many bytes it took, blanks included.  Text
 * after it is allowed ("5.0003s", "1.934 [sec]"). */
bool payload_number_prefix(const char *s, size_t n, double *v, size_t *used);
/* All of s[0..n) is one finite number, blanks around it allowed. */
bool payload_number(const char *s, size_t n, double *v);
/* The next line of [*p, end) without its "\n" or "\r\n": its start and
 * length in *n, *p moved past it; NULL when nothing is left. */
const char *payload_line(const char **p, const char *end, size_t *n);
/* The line (of n bytes) contains label, followed by a number: that
 * number.  "events per second:  4805.35" with "events per second:". */
bool payload_value_after(const char *line, size_t n, const char *label, double *v);
/* Nothing but blanks and newlines. */
bool payload_blank(const char *text, size_t len);
/* The JSON document text is, or NULL with one line in err:
 * "not JSON (want WHAT): <why> at line L, column C". */
json_t *payload_json_load(const char *text, size_t len, const char *what, struct strbuf *err);
/* An integer or real: its value. */
bool payload_json_number(const json_t *v, double *out);

#endif
