/* Scenario files (ktstr-scenario(5)): the JSON text as scenario_load reads
 * it, scenario_parse, then what ktstr-vm and the guest do with a parsed
 * scenario before running it: fit it to a few topologies, resolve every
 * cpuset on them, work out each step's hold and the effective checks. */
#include <jansson.h>
#include "fuzz.h"
#include "scenario.h"
#include "topo.h"

static const struct ktstr_topo topos[] = {
	{ 1, 1, 1, 1 }, { 1, 2, 2, 1 }, { 2, 4, 2, 2 },
};

static void resolve(const struct cpuset_spec *c, const struct ktstr_topo *t)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	cpuset_resolve(c, t, &out, &err);
	strbuf_release(&out);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	struct checks eff;
	json_error_t jerr;
	json_t *doc;
	size_t t, i, j;

	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return 0;
	memset(&s, 0, sizeof(s));
	if (scenario_parse(doc, &s, &err) == 0) {
		checks_effective(&s.checks, &eff);
		for (i = 0; i <= s.n_steps; i++)
			(void)step_hold_ms(&s, i);
		for (t = 0; t < sizeof(topos) / sizeof(topos[0]); t++) {
			strbuf_reset(&err);
			scenario_fit(&s, &topos[t], &err);
			for (i = 0; i < s.n_cgroups; i++)
				resolve(&s.cgroups[i].cpuset, &topos[t]);
			for (i = 0; i < s.n_steps; i++)
				for (j = 0; j < s.steps[i].n_ops; j++) {
					resolve(&s.steps[i].ops[j].cpuset, &topos[t]);
					resolve(&s.steps[i].ops[j].def.cpuset, &topos[t]);
				}
		}
	}
	scenario_release(&s);
	json_decref(doc);
	strbuf_release(&err);
	return 0;
}
