/* The /proc and cgroup text parsers a ctprof capture is built from
 * (lib/core/ctprof_parse.c): /proc/PID/task/TID/{sched,stat,schedstat,io,
 * status,cgroup}, cgroup cpu.stat and PSI files, cpulists, sched values
 * and single numbers.  The first byte picks the parser, the rest is the
 * file's text; whatever it sets must encode as JSON. */
#include <jansson.h>
#include "ctprof_parse.h"
#include "fuzz.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;
	json_t *obj;
	long long ll;
	bool split;
	char *s;

	if (!size)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	obj = json_object();
	switch (data[0] % 11) {
	case 0: ctprof_parse_sched(s, obj); break;
	case 1: ctprof_parse_stat(s, 100, obj); break;
	case 2: ctprof_parse_schedstat(s, obj); break;
	case 3: ctprof_parse_io(s, obj); break;
	case 4: ctprof_parse_status(s, obj); break;
	case 5: free(ctprof_parse_cgroup(s)); break;
	case 6: ctprof_cpulist_count(s); break;
	case 7: ctprof_parse_cpu_stat(s, obj); break;
	case 8: ctprof_parse_psi(s, "cpu", obj); break;
	case 9: ctprof_parse_sched_value(s, &ll, &split); break;
	case 10: ctprof_parse_ll(s, &ll); break;
	}
	jsonl_encode(&out, obj);
	json_decref(obj);
	strbuf_release(&out);
	free(s);
	return 0;
}
