/* What ktstr-verify runs: which schedulers, which presets, and the probe
 * test each cell runs through the test runner (lib/runner). */
#ifndef KTSTR_VERIFY_PLAN_H
#define KTSTR_VERIFY_PLAN_H

#include <stdbool.h>
#include "gauntlet.h"
#include "strbuf.h"
#include "strvec.h"
#include "testfile.h"

/* The presets a verify run covers unless --preset narrows it: one LLC,
 * two LLCs, two LLCs with SMT, so topology-dependent code paths (LLC
 * and SMT masks) are loaded on each shape. */
#define VERIFY_DEFAULT_PRESETS { "tiny-1llc", "tiny-2llc", "smt-2llc" }

/* The schedulers built into the ktstr cache, as ktstr-vm --scheduler NAME
 * finds them: the names of the "scheduler" binaries in the manifest.json
 * of <cache>/schedulers/<key> for each key in keys (NULL entries and keys
 * without a build skipped), else of every build in the cache; without a
 * manifest, the executable scx_* files of the directory.  Sorted, each
 * once, appended to out.  Returns how many were found. */
size_t verify_discover_schedulers(const char *const *keys, size_t nkeys, struct strvec *out);

/* Kernels whose labels are equal (two builds of one version) get their
 * cache key as label, or failing that their position ("7.3.4-2"), so
 * every cell keeps its own grid column and result file. */
void verify_unclash_kernels(struct gauntlet_kernel *k, size_t n);

/* Split "a,b c" (commas or blanks) into out: KTSTR_VERIFIER_SCHEDULER. */
void verify_split_list(const char *s, struct strvec *out);

/* The presets to run: names as given (each known, each once; an error
 * lists the known ones), else the defaults; either way only those this
 * host can run (budget_vcpu_cap): a named one beyond it is an error, a
 * default one is left out.  0, or -1 with one line in err. */
int verify_presets(const struct strvec *names, bool kvm, unsigned host_cpus,
		   struct strvec *out, struct strbuf *err);

/* The probe test of one preset: every scheduler of the run ("{scheduler}"),
 * ktstr-vm --bpf-stats, and one spin_wait worker per CPU for duration_ms.
 * Named "pINDEX-PRESET" in suite "verify", so cells start preset by
 * preset in the order given.  0, or -1 with err. */
int verify_probe_test(const struct preset *p, unsigned index, unsigned long long duration_ms,
		      struct ktest *t, struct strbuf *err);

#endif
