/* The command-line value grammars: --topo (topo_parse), durations
 * (duration.h: --duration, --timeout, ..., and scenario files), --cgroup specs
 * (scenario_add_cgroup_flag, then scenario_parse and scenario_fit as
 * ktstr-vm does), cpulists (cpulist.h, exact and kernel forms) and whole numbers
 * (parse_ulong).  The first byte picks the grammar, the rest is the
 * argument; for --cgroup, newlines separate repeated flags.  Where a
 * value can be printed back, the printed form must parse to the same
 * value (abort otherwise: the fuzzer reports it as a crash). */
#include <jansson.h>
#include <limits.h>
#include "cpulist.h"
#include "duration.h"
#include "fuzz.h"
#include "jsonl.h"
#include "opts.h"
#include "scenario.h"
#include "topo.h"

static void fuzz_topo(const char *s)
{
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct ktstr_topo t, u, w;
	unsigned cpu, n;

	if (topo_parse(s, &t, &err) == 0) {
		n = topo_cpus(&t);
		(void)topo_llcs_per_node(&t);
		for (cpu = 0; cpu < n && cpu < 512; cpu++) {
			(void)topo_cpu_llc(&t, cpu);
			(void)topo_cpu_node(&t, cpu);
		}
		topo_format(&t, &a);
		topo_format_short(&t, &b);
		if (topo_parse(a.buf, &u, &err) || topo_parse(b.buf, &w, &err) ||
		    memcmp(&t, &u, sizeof(t)) || memcmp(&t, &w, sizeof(t)))
			abort();
	}
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void fuzz_cgroups(char *s)
{
	static const struct ktstr_topo topo = { 1, 1, 2, 1 };
	struct strbuf err = STRBUF_INIT;
	json_t *doc = json_object();
	struct scenario sc;
	char *line, *save = NULL;
	int ok = 1;

	json_set_str(doc, "name", "custom");
	for (line = strtok_r(s, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save))
		ok = scenario_add_cgroup_flag(doc, line, &err) == 0;
	if (ok && scenario_parse(doc, &sc, &err) == 0) {
		scenario_fit(&sc, &topo, &err);
		scenario_release(&sc);
	}
	json_decref(doc);
	strbuf_release(&err);
}

/* Every form of the one grammar; what is printed back parses the same. */
static void fuzz_duration(const char *s)
{
	unsigned long long ns, us, ms, again;
	char buf[32];

	if (duration_parse_ns(s, &ns))
		return;
	if (duration_parse_us(s, &us) || duration_parse_ms(s, &ms) ||
	    parse_duration_ms(s, &again) || again != ms || us > ns / 1000 + 1 ||
	    ms > us / 1000 + 1)
		abort();
	/* Exact while the nanoseconds fit a double's 53 bits. */
	if (us <= 1000000000000ULL &&
	    (duration_parse_us(duration_format_us(buf, sizeof(buf), us), &again) ||
	     again != us))
		abort();
}

static void fuzz_cpulist(const char *s)
{
	enum { NCPUS = 128 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	bool mask[NCPUS], again[NCPUS];

	if (cpulist_parse(s, mask, NCPUS, &err) == 0) {
		cpulist_format(mask, NCPUS, &out);
		if (cpulist_parse(out.buf, again, NCPUS, &err) ||
		    memcmp(mask, again, sizeof(mask)))
			abort();
	}
	/* Whatever the exact form takes, the kernel form takes too. */
	strbuf_reset(&err);
	if (cpulist_scan(s, NCPUS, CPULIST_KERNEL, NULL, NULL, &err) && out.len)
		abort();
	strbuf_release(&err);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long ul;
	char *s;

	if (!size)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		fuzz_topo(s);
		break;
	case 1:
		fuzz_duration(s);
		break;
	case 2:
		fuzz_cgroups(s);
		break;
	case 3:
		fuzz_cpulist(s);
		break;
	case 4:
		parse_ulong(s, 0, ULONG_MAX, &ul);
		parse_ulong(s, 1, 4096, &ul);
		break;
	}
	free(s);
	return 0;
}
