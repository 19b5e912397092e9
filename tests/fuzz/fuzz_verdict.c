/* A JSON-lines record stream into the check engine, as ktstr-stats verdict
 * reads it: every line through verdict_feed_line, then verdict_finish with
 * no threshold flags, then everything the verdict is rendered into (the
 * verdict record, the human report, the sidecar metrics).
 *
 * Inputs are capped at 4 KiB (-max_len in tests/fuzz/run): verdict_finish is
 * quadratic in the number of cgroups, which would make long inputs slow
 * without finding anything new. */
#include <math.h>
#include "fuzz.h"
#include "jsonl.h"
#include "scenario.h"
#include "sidecar.h"
#include "verdict.h"

static void quiet(void *ctx, unsigned long line, const char *msg)
{
	(void)ctx;
	(void)line;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict v;
	struct checks flags;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	unsigned long lineno = 0;
	json_t *rec;

	verdict_init(&v);
	v.warn = quiet;
	while (size) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;

		strbuf_reset(&err);
		verdict_feed_line(&v, (const char *)data, len, ++lineno, &err);
		data += nl ? len + 1 : len;
		size -= nl ? len + 1 : len;
	}
	checks_init(&flags);
	verdict_finish(&v, &flags);

	rec = verdict_to_json(&v, "fuzz");
	jsonl_encode(&out, rec);
	json_decref(rec);
	verdict_format(&v, &out);
	rec = sidecar_metrics(&v);
	jsonl_encode(&out, rec);
	json_decref(rec);
	for (size_t i = 0; i < v.n_checks; i++)
		(void)verdict_margin_pct(&v.checks[i]);

	verdict_release(&v);
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
