/* ctprof capture files as ktstr-ctprof show/compare read them:
 * ctprof_load_buf (plain JSON or zstd, recognised by its magic; then
 * ctprof_validate), then both reports under every grouping, in both
 * formats, written to /dev/null.  compare runs the capture against
 * itself, which walks the delta code with every thread present twice. */
#include <stdio.h>
#include "ctprof.h"
#include "ctprof_compare.h"
#include "ctprof_report.h"
#include "fuzz.h"

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct ctprof_report_opts o;
	json_t *doc;
	int by;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		die_errno(2, "/dev/null");
	doc = ctprof_load_buf(data, size, "fuzz", &err);
	if (doc) {
		for (by = CTPROF_BY_ALL; by <= CTPROF_BY_CGROUP; by++) {
			memset(&o, 0, sizeof(o));
			o.by = (enum ctprof_group_by)by;
			o.json = by % 2;
			o.top = by == CTPROF_BY_COMM ? 2 : 0;
			ctprof_report_show(sink, "a", doc, &o);
			ctprof_report_compare(sink, "a", doc, "b", doc, &o);
		}
		json_decref(doc);
	}
	strbuf_release(&err);
	return 0;
}
