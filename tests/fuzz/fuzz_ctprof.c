/* ctprof capture files as ktstr-ctprof show/compare read them:
 * ctprof_load_buf (plain JSON or zstd, recognised by its magic; then
 * ctprof_validate), then both reports under one of the groupings, in one
 * of the formats, written to /dev/null.  compare runs the capture against
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
		/* One grouping and format per input (from its length, which
		 * mutations keep changing): all four per input cost 4x the
		 * time for no more coverage. */
		by = (int)(size % 4);
		memset(&o, 0, sizeof(o));
		o.by = (enum ctprof_group_by)by;
		o.json = size / 4 % 2;
		o.top = by == CTPROF_BY_COMM ? 2 : 0;
		ctprof_report_show(sink, "a", doc, &o);
		ctprof_report_compare(sink, "a", doc, "b", doc, &o);
		json_decref(doc);
	}
	strbuf_release(&err);
	return 0;
}
