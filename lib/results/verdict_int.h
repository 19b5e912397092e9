/* What the check engine's files share (verdict.h is the public face):
 *
 *   verdict.c         names, number helpers, lifecycle, thresholds
 *   verdict_feed.c    record intake: typed field access, one reader per
 *                     record type
 *   verdict_group.c   records grouped by cgroup name, and what is derived
 *                     per group (CPUs used, a cgroup that never ran)
 *   verdict_eval.c    the per-cgroup and machine checks, and the outcome
 *   verdict_death.c   the scheduler's death and the VM's failure: their
 *                     checks, the failures that follow from them, and the
 *                     console lines shown for them
 *   verdict_host.c    failures the host caused (a paused or starved VM)
 *                     and checks it made powerless
 *   verdict_payload.c the payloads' records and checks
 *   verdict_bpf.c     the scheduler's BPF programs (no checks)
 *   verdict_json.c    the verdict record
 *   verdict_format.c  the human report */
#ifndef KTSTR_VERDICT_INT_H
#define KTSTR_VERDICT_INT_H

#include "verdict.h"
#include "caselog.h"

#include <string.h>

/* Human report: workers listed per cgroup in the worker detail lines. */
#define WORKER_LINES_MAX 8

/* A copy of s (NULL: "") fit for one line of text: control characters
 * (newlines included) become spaces, trailing whitespace goes. */
static inline char *vd_one_line(const char *s)
{
	return caselog_clean_line(s ? s : "", s ? strlen(s) : 0, CASELOG_ONE_LINE);
}

double vd_max2(double a, double b);
/* Sum and maximum where NAN (missing) counts as nothing. */
double vd_nan_add(double a, double b);
double vd_nan_max(double a, double b);
/* "3500", "5.1", "0.125": integers whole, other values to 6 significant
 * digits; "?" when missing. */
void vd_add_num(struct strbuf *sb, double x);
/* A stats value with its unit ("12.3%", "890ms"), or "?" when missing. */
void vd_add_stat(struct strbuf *sb, double x, const char *unit);
/* A number, integral ones as integers; null when not finite. */
json_t *vd_json_num(double x);
/* "worker 3 (pid 80)". */
void vd_add_worker_id(struct strbuf *sb, const struct verdict_worker *w);

/* Forget what verdict_finish derived, so it can run again. */
void vd_checks_clear(struct verdict *v);

/* Append a check (its pass decided by bound); fail_check marks it failed
 * with msg as its message and empties msg. */
struct verdict_check *vd_add_check(struct verdict *v, const char *check,
				   const char *cgroup, double value, double limit,
				   enum verdict_bound bound);
void vd_fail_check(struct verdict *v, struct verdict_check *c, struct strbuf *msg);

/* verdict_group.c: fill v->groups, then each group's derived values. */
void vd_group_records(struct verdict *v);
void vd_derive_groups(struct verdict *v);
/* The k-th cgroup_stats record and worker of a group. */
struct verdict_cgroup *vd_group_cgroup(const struct verdict *v,
				       const struct verdict_group *gr, size_t k);
struct verdict_worker *vd_group_worker(const struct verdict *v,
				       const struct verdict_group *gr, size_t k);

/* verdict_death.c */
void vd_eval_vm(struct verdict *v, struct strbuf *msg);
void vd_eval_scheduler(struct verdict *v, struct strbuf *msg);
void vd_mark_secondary(struct verdict *v);
/* After the checks and vd_mark_secondary: the failures the host's not
 * running the VM explains (by_host, no longer counted in n_failures), and
 * v->host_reason when the run cannot pass because of the host. */
void vd_mark_host(struct verdict *v);
bool vd_vm_failed(const struct verdict *v);
void vd_read_console_tail(struct verdict *v);

/* verdict_payload.c: the payload and payload_metrics records, the
 * payload checks, their part of the verdict record and the report. */
void vd_feed_payload(struct verdict *v, const json_t *rec);
void vd_feed_payload_metrics(struct verdict *v, const json_t *rec);
void vd_eval_payloads(struct verdict *v, struct strbuf *msg);
void vd_format_payloads(const struct verdict *v, struct strbuf *out);
void vd_payloads_release(struct verdict *v);

/* verdict_bpf.c: the bpf_prog and bpf_prog_stats records and the "bpf
 * programs:" block of the report. */
void vd_feed_bpf_prog(struct verdict *v, const json_t *rec);
void vd_feed_bpf_prog_stats(struct verdict *v, const json_t *rec);
void vd_format_bpf(const struct verdict *v, struct strbuf *out);
void vd_bpf_release(struct verdict *v);

/* Run-wide numbers: scenario_end's, else summed from cgroup_stats. */
struct vd_totals {
	double workers, cpus, migrations, worst_spread_pct, worst_gap_ms;
};
void vd_totals(const struct verdict *v, struct vd_totals *t);

#endif
