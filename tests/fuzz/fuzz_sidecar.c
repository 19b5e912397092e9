/* Sidecar documents (*.ktstr.json) through the reader ktstr-stats uses
 * (sidecar_load_buf: the checks of sidecar_load_dir without the files),
 * then show and compare over them.  The input holds up to 8 documents
 * separated by NUL bytes (raw NULs cannot occur inside JSON text); they
 * go alternately to run A and run B. */
#include "compare.h"
#include "compare_report.h"
#include "fuzz.h"
#include "sidecar.h"
#include "stats_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sidecar_set a = { 0 }, b = { 0 };
	struct compare_result r;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int i;

	for (i = 0; i < 8 && (size || !i); i++) {
		const uint8_t *nul = memchr(data, '\0', size);
		size_t len = nul ? (size_t)(nul - data) : size;
		char path[32];

		snprintf(path, sizeof(path), "r/%d.ktstr.json", i);
		sidecar_load_buf(path, (const char *)data, len, i % 2 ? &b : &a);
		data += nul ? len + 1 : len;
		size -= nul ? len + 1 : len;
	}

	stats_report_cases("a", &a, NULL, false, &out);
	stats_report_cases("a", &a, NULL, true, &out);
	memset(&r, 0, sizeof(r));
	if (compare_runs(&a, &b, NULL, 0.05, &r, &err) == 0) {
		compare_report(&r, "a", "b", COMPARE_FMT_TEXT, true, &out);
		compare_report(&r, "a", "b", COMPARE_FMT_MARKDOWN, false, &out);
		compare_report(&r, "a", "b", COMPARE_FMT_JSON, false, &out);
	}
	compare_result_release(&r);

	sidecar_set_release(&a);
	sidecar_set_release(&b);
	strbuf_release(&out);
	strbuf_release(&err);
	return 0;
}
