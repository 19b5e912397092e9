/* Records grouped by cgroup name, and what verdict_finish derives per
 * group (verdict_int.h). */
#include "verdict_int.h"
#include "diag.h"
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* CPUs tracked in a cgroup's cpus_used union. */
#define CPUS_MAX 4096

/* The k-th cgroup_stats record and worker of a group. */
struct verdict_cgroup *vd_group_cgroup(const struct verdict *v,
					   const struct verdict_group *gr, size_t k)
{
	return &v->cgroups[v->group_idx[gr->first + k]];
}

struct verdict_worker *vd_group_worker(const struct verdict *v,
					   const struct verdict_group *gr, size_t k)
{
	return &v->workers[v->group_idx[gr->first + gr->n_cgroups + k] - v->n_cgroups];
}

/* ---- grouping by cgroup name ------------------------------------------- */

/* Records are grouped by sorting once (ids: cgroup_stats records first,
 * then workers offset by n_cgroups), so the work stays O(n log n) however
 * many cgroups a stream names: a scan per name would be quadratic. */
static const char *id_name(const struct verdict *v, size_t id)
{
	return id < v->n_cgroups ? v->cgroups[id].name : v->workers[id - v->n_cgroups].cgroup;
}

static int cmp_id(const void *a, const void *b, void *ctx)
{
	const struct verdict *v = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(id_name(v, x), id_name(v, y));

	return c ? c : x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
	size_t x = ((const struct verdict_group *)a)->order;
	size_t y = ((const struct verdict_group *)b)->order;

	return x < y ? -1 : x > y;
}

/* Fill v->groups in order of first appearance (cgroup_stats records
 * first, then names seen only in worker records).  A group is checked
 * when it has a non-background cgroup_stats record, or workers and no
 * background record. */
void vd_group_records(struct verdict *v)
{
	size_t n = v->n_cgroups + v->n_workers, i, j;

	v->group_idx = xcalloc(n + 1, sizeof(*v->group_idx));
	v->groups = xcalloc(n + 1, sizeof(*v->groups));
	for (i = 0; i < n; i++)
		v->group_idx[i] = i;
	qsort_r(v->group_idx, n, sizeof(*v->group_idx), cmp_id, v);
	for (i = 0; i < n; i = j) {
		struct verdict_group *gr = &v->groups[v->n_groups++];
		bool bg = false, plain = false;
		size_t first_plain = SIZE_MAX;

		gr->name = id_name(v, v->group_idx[i]);
		gr->first = i;
		for (j = i; j < n && !strcmp(id_name(v, v->group_idx[j]), gr->name); j++) {
			size_t id = v->group_idx[j];

			if (id >= v->n_cgroups) {
				gr->n_workers++;
				continue;
			}
			gr->n_cgroups++;
			if (v->cgroups[id].background) {
				bg = true;
			} else if (!plain) {
				plain = true;
				first_plain = id;
			}
		}
		gr->checked = plain || (gr->n_workers && !bg);
		gr->lead = first_plain;
		gr->order = plain ? first_plain : v->group_idx[i + gr->n_cgroups];
		if (!plain && !gr->n_workers)
			gr->order = v->group_idx[i];
	}
	qsort(v->groups, v->n_groups, sizeof(*v->groups), cmp_group);
	for (i = 0; i < v->n_groups; i++)
		for (j = 0; j < v->groups[i].n_cgroups; j++)
			vd_group_cgroup(v, &v->groups[i], j)->group = i;
}

/* Add the CPUs of cpulist s ("0-3,6") below CPUS_MAX to mask; returns how
 * many were new.  *top: one past the highest CPU set so far, so clearing
 * and formatting the mask costs what was used, not CPUS_MAX. */
static size_t mask_add(bool *mask, const char *s, long *top)
{
	size_t added = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			break;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				break;
		}
		for (long c = a; c <= b && c < CPUS_MAX; c++) {
			if (!mask[c]) {
				mask[c] = true;
				added++;
			}
			if (c >= *top)
				*top = c + 1;
		}
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			break;
	}
	return added;
}

/* The length of the run, for a cgroup that never ran: scenario_end's,
 * else the planned duration, else its longest-lived worker's. */
static double run_length_ms(const struct verdict *v, const struct verdict_group *gr)
{
	double wall = NAN;

	if (!isnan(v->end_elapsed_ms))
		return v->end_elapsed_ms;
	if (!isnan(v->duration_ms))
		return v->duration_ms;
	for (size_t i = 0; i < gr->n_workers; i++)
		wall = vd_nan_max(wall, vd_group_worker(v, gr, i)->wall_time_us / 1000);
	return wall;
}

/* Per group: the CPUs its workers used, and the gap of a cgroup that
 * never ran (the guest reports 0 there: no gap ever closed). */
void vd_derive_groups(struct verdict *v)
{
	bool *mask = xcalloc(CPUS_MAX, sizeof(*mask));
	struct strbuf sb = STRBUF_INIT;

	for (size_t gi = 0; gi < v->n_groups; gi++) {
		const struct verdict_group *gr = &v->groups[gi];
		size_t used = 0, with_list = 0, idle = 0;
		long top = 0;
		double len;

		for (size_t i = 0; i < gr->n_workers; i++) {
			const struct verdict_worker *w = vd_group_worker(v, gr, i);

			if (w->cpus_used) {
				used += mask_add(mask, w->cpus_used, &top);
				with_list++;
			}
			idle += w->iterations == 0;
		}
		strbuf_reset(&sb);
		if (with_list)
			cpulist_format(mask, (unsigned)top, &sb);
		memset(mask, 0, (size_t)top * sizeof(*mask));
		len = run_length_ms(v, gr);
		for (size_t k = 0; k < gr->n_cgroups; k++) {
			struct verdict_cgroup *g = vd_group_cgroup(v, gr, k);
			bool none = g->iterations == 0 ||
				    (isnan(g->iterations) && gr->n_workers && idle == gr->n_workers);

			if (with_list) {
				g->cpus_used = xstrdup(sb.buf);
				g->n_cpus_used = (double)used;
			}
			if (none && !g->background && g->workers != 0 && !isnan(len) &&
			    !(g->worst_gap_ms >= len)) {
				g->never_ran = true;
				g->worst_gap_ms = len;
				g->worst_gap_cpu = NAN;
				g->worst_gap_at_ms = 0;
			}
		}
	}
	strbuf_release(&sb);
	free(mask);
}
