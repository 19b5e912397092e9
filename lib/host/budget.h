/* Budget selection: under a time budget, greedily pick the cases that
 * cover the most distinct values of (scenario feature, topology shape,
 * scheduler), using measured durations from earlier runs when known.
 *
 * Coverage features of a case: the test's features (testfile.h), the
 * preset's shape ("llcs:<n>", "smt:<0|1>", "nodes:<n>", "preset:<name>")
 * and "sched:<name|eevdf>".  Each step picks the case with the most new
 * features per estimated second (ties: fewer seconds, then sorted order);
 * a case that does not fit the remaining budget is passed over. */
#ifndef KTSTR_BUDGET_H
#define KTSTR_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include "gauntlet.h"
#include "strbuf.h"
#include "topo.h"

/* The vCPU rule: how many vCPUs one VM may have on this host and still
 * finish in reasonable time.  Under KVM every vCPU is a host thread, so a
 * VM gets at most one vCPU per usable host CPU; under TCG one QEMU thread
 * runs every vCPU in turn, so the bound is KTSTR_TCG_VCPUS_PER_HOST_CPU
 * vCPUs per usable host CPU (beyond that a boot alone takes minutes).
 * ktstr-test drops presets above it; ktstr-vm refuses such a --topo. */
#define KTSTR_TCG_VCPUS_PER_HOST_CPU 8u
/* host_cpus 0 counts as 1. */
unsigned budget_vcpu_cap(bool kvm, unsigned host_cpus);
/* The rule in words, for messages: "TCG: 8 vCPUs per usable host CPU". */
const char *budget_vcpu_rule(bool kvm);
/* 0 when topo fits the cap; -1 with "N vCPUs is more than this host can
 * run in reasonable time (...)" in err otherwise. */
int budget_vcpu_check(const struct ktstr_topo *topo, bool kvm, unsigned host_cpus,
		      struct strbuf *err);

/* Seconds assumed for a case never measured: boot + duration + slack,
 * times a slowdown factor (1.0: the estimate already assumes TCG). */
#define KTSTR_BUDGET_BOOT_SECS 8.0
#define KTSTR_BUDGET_SLACK_SECS 2.0
#define KTSTR_BUDGET_FACTOR 1.0
double budget_estimate_secs(const struct gcase *c);

/* Replace est_secs of every case that will run with the newest measured
 * wall time of the same case: the "wall_ms" of the *.ktstr.json sidecar
 * under runs_root/{dir}/ whose "case" is the case's full_name (the suite
 * first, as the sidecar writer spells it) and with the greatest
 * "timestamp" (ISO 8601, compared as text).  Unreadable or malformed
 * files, and a missing runs_root, are ignored. */
void budget_apply_history(struct gcase *v, size_t n, const char *runs_root);

/* KTSTR_BUDGET_SECS / --budget: a positive number, fractional allowed.
 * 0 ok, -1 with the reason in err. */
int budget_parse(const char *s, double *secs, struct strbuf *err);

struct budget_report {
	size_t selected, total;
	double selected_secs, budget_secs;
	size_t features_covered, features_total;
};

/* Select within budget_secs; the kept cases are moved to the front of v in
 * their original order, the rest released.  Cases with a skip reason cost
 * nothing and are always kept.  Returns the new count. */
size_t budget_select(struct gcase *v, size_t n, double budget_secs,
		     struct budget_report *rep);

#endif
