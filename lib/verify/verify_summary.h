/* ktstr-verify's summary over its cells: the verifier_summary record and
 * the human report (per program the lo..hi of verified_insns and its share
 * of the limit, a pass/fail grid of scheduler x kernel/preset, and the
 * failing cells with their collapsed logs). */
#ifndef KTSTR_VERIFY_SUMMARY_H
#define KTSTR_VERIFY_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include "strbuf.h"

struct verify_summary {
	json_t *cells;		/* the verifier_cell records, in completion order */
	size_t passed, failed, errors;
};

void verify_summary_init(struct verify_summary *s);
/* Keep a copy of one verifier_cell record and count its result. */
void verify_summary_add(struct verify_summary *s, const json_t *cell);
/* The verifier_summary record (new reference); programs sorted by
 * scheduler then program, failing cells by scheduler, kernel, preset. */
json_t *verify_summary_record(const struct verify_summary *s, long long wall_ms);
/* The human report, appended to out. */
void verify_summary_human(const struct verify_summary *s, struct strbuf *out);
void verify_summary_release(struct verify_summary *s);

#endif
