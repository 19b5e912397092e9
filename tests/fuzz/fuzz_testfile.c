/* Test files (ktstr-test(5)) through ktest_load, the entry point
 * ktstr-test uses: it only reads a path, so the input is written to a file
 * in a scratch directory first.  Canned scenario names resolve against the
 * repository's share/ktstr/scenarios (build/fuzz/share/ktstr is a link,
 * as build/share/ktstr is for the programs). */
#include "fuzz.h"
#include "testfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *path;
	struct strbuf err = STRBUF_INIT;
	struct ktest t;

	if (!path)
		path = path_join(fuzz_scratch(), "steady_fair.json");
	fuzz_write_file(path, data, size);
	ktest_load(path, "fuzz", &t, &err);
	ktest_release(&t);
	strbuf_release(&err);
	return 0;
}
