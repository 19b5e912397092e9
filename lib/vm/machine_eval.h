/* Private to lib/vm/machine*.c: the evaluation state machine_eval.c
 * builds and the checks in machine_checks.c read. */
#ifndef KTSTR_MACHINE_EVAL_H
#define KTSTR_MACHINE_EVAL_H

#include "machine.h"

#include <math.h>

/* One evaluation: the samples inside the scenario window by position
 * (time order), their phases and the cpuset groups. */
struct ev {
	const struct machine *m;
	struct machine_result *r;
	const struct checks *L;
	double lo, hi;		/* the window: host ms, -/+INFINITY when open */
	size_t *pos;		/* sample indices in the window, by time */
	size_t n;
	unsigned *phase;	/* phase of each position */
	unsigned maxc;		/* most CPUs of any sample */
	bool *considered;	/* maxc: in some cgroup's cpuset */
	bool *group;		/* ngroups * maxc */
	unsigned ngroups;
	bool *busy;		/* ngroups: some CPU with nr_running >= 2 */
	double t0;		/* scenario start, for "s into the run" */
	double iv;
};

/* The sample at position p, and CPU cpu's cell in it. */
static inline const struct machine_sample *S(const struct ev *e, size_t p)
{
	return &e->m->samples[e->pos[p]];
}

static inline const struct machine_cell *C(const struct ev *e, size_t p, unsigned cpu)
{
	return &e->m->cells[S(e, p)->cell + cpu];
}

/* Seconds from the run's start to position p, for messages. */
static inline double since_start(const struct ev *e, size_t p)
{
	double x = S(e, p)->t_ms - e->t0;

	return x > 0 ? x / 1000.0 : 0;
}

/* Host mode: CPU i was offline at position p (its "online" was 0), so
 * it holds no tasks by choice and takes no part in the balance. */
static inline bool offline_at(const struct ev *e, size_t p, unsigned i)
{
	return e->m->host && (S(e, p)->have & MS_VCPU) && !(C(e, p, i)->flags & MC_VCPU_RAN);
}

/* Host ms position p covers in a run of positions from a: its gap to
 * the one before, one interval for the first.  *run gets how much of it
 * the host let the VM run (vm_share; all of it when that is unknown). */
static inline double pos_ms(const struct ev *e, size_t p, size_t a, double *run)
{
	double d = p == a ? e->iv : S(e, p)->t_ms - S(e, p - 1)->t_ms;
	double share = S(e, p)->vm_share;

	*run = isnan(share) ? d : d * share;
	return d;
}

/* The host all but held the VM in the interval before position p (QEMU
 * stopped, or its vCPU threads waiting for a host CPU, 95% of it or
 * more): its samples show a frozen guest, not the scheduler's doing.
 * Records without that say so when no vCPU thread ran at all.  Never in
 * host mode, where the flag is a CPU's "online". */
#define VM_PAUSED_SHARE 0.05
static inline bool vm_paused(const struct ev *e, size_t p)
{
	const struct machine_sample *s = S(e, p);

	if (e->m->host)
		return false;
	if (!isnan(s->vm_share))
		return s->vm_share < VM_PAUSED_SHARE;
	if (!(s->have & MS_VCPU))
		return false;
	for (unsigned i = 0; i < s->ncpu; i++)
		if (C(e, p, i)->flags & MC_VCPU_RAN)
			return false;
	return true;
}

/* The checks (machine_checks.c), run over the window in this order. */
void machine_eval_wc(struct ev *e);
void machine_eval_imbalance(struct ev *e);
void machine_eval_dsq(struct ev *e);
void machine_eval_stall(struct ev *e);
void machine_eval_wait(struct ev *e);
void machine_eval_rate(struct ev *e, bool keep_last);

/* A phase metric's table heading (machine_eval.c). */
const char *machine_phase_metric_head(enum machine_phase_metric k);

/* A figure in a message: whole when it is, else 3 significant digits
 * (machine_out.c). */
void machine_add_num(struct strbuf *sb, double x);

#endif
