/* The check engine behind ktstr-stats (verdict.h): names, number helpers,
 * lifecycle and thresholds; verdict_int.h says where the rest lives. */
#include "verdict_int.h"
#include "checktab.h"
#include "diag.h"
#include "scenario.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

const char *verdict_result_name(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "fail";
	case VERDICT_SKIP: return "skip";
	case VERDICT_INCONCLUSIVE: return "inconclusive";
	case VERDICT_ERROR: return "error";
	}
	return "error";
}

int verdict_exit_code(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return KTSTR_EXIT_PASS;
	case VERDICT_FAIL: return KTSTR_EXIT_FAIL;
	case VERDICT_SKIP:
	case VERDICT_INCONCLUSIVE: return KTSTR_EXIT_SKIP;
	case VERDICT_ERROR: return KTSTR_EXIT_USAGE;
	}
	return KTSTR_EXIT_USAGE;
}

static int result_rank(enum verdict_result r)
{
	switch (r) {
	case VERDICT_PASS: return 0;
	case VERDICT_SKIP:
	case VERDICT_INCONCLUSIVE: return 1;
	case VERDICT_FAIL: return 2;
	case VERDICT_ERROR: return 3;
	}
	return 3;
}

enum verdict_result verdict_worst(enum verdict_result a, enum verdict_result b)
{
	return result_rank(b) > result_rank(a) ? b : a;
}

/* No libm here: the programs do not link it. */
static bool integral(double x)
{
	return isfinite(x) && x > -9007199254740992.0 && x < 9007199254740992.0 &&
	       (double)(long long)x == x;
}

double vd_max2(double a, double b)
{
	return a > b ? a : b;
}

double vd_nan_add(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a + b; }
double vd_nan_max(double a, double b) { return isnan(a) ? b : isnan(b) ? a : vd_max2(a, b); }

/* "3500", "5.1", "0.125": integers whole, other values to 6 significant
 * digits, so a value just under a limit does not print as the limit. */
void vd_add_num(struct strbuf *sb, double x)
{
	if (isnan(x))
		strbuf_addch(sb, '?');
	else if (integral(x))
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, "%.6g", x);
}

/* A stats value with its unit ("12.3%", "890ms"), or "?" when missing.
 * Percentages keep one decimal; other values are rounded to whole units
 * from 10 up, to one decimal below (the JSON keeps them exact). */
void vd_add_stat(struct strbuf *sb, double x, const char *unit)
{
	if (isnan(x)) {
		strbuf_addch(sb, '?');
		return;
	}
	if (!strcmp(unit, "%") || (!integral(x) && x < 10 && x > -10))
		strbuf_addf(sb, "%.1f", x);
	else
		strbuf_addf(sb, "%.0f", x);
	strbuf_addstr(sb, unit);
}

json_t *vd_json_num(double x)
{
	if (isnan(x) || isinf(x))
		return json_null();
	if (integral(x))
		return json_integer((json_int_t)x);
	return json_real(x);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* The machine view's input problems go out as the engine's own. */
static void machine_warn(void *ctx, const char *msg)
{
	verdict_warn(ctx, "%s", msg);
}

void verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	checks_init(&v->scenario_checks);
	checks_init(&v->limits);
	v->duration_ms = v->start_cpus = NAN;
	v->sched_at_ms = v->sched_exit_code = NAN;
	v->end_elapsed_ms = v->end_workers = v->end_cpus = NAN;
	v->end_migrations = v->end_worst_spread_pct = v->end_worst_gap_ms = NAN;
	v->end_agent_cpu_ms = v->end_agent_cpu_pct = NAN;
	v->end_scheduler_alive = -1;
	v->cmd_exit_code = NAN;
	v->vm_wall_ms = NAN;
	v->scx_events = json_object();
	v->affinity = json_object();
	machine_init(&v->machine);
	v->machine.warn = machine_warn;
	v->machine.warn_ctx = v;
	v->result = VERDICT_ERROR;
}

/* What verdict_finish derived from the records, so it can run again. */
static void derived_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->n_cgroups; i++) {
		free(v->cgroups[i].cpus_used);
		v->cgroups[i].cpus_used = NULL;
		v->cgroups[i].n_cpus_used = NAN;
		v->cgroups[i].group = SIZE_MAX;
	}
	free(v->groups);
	free(v->group_idx);
	v->groups = NULL;
	v->group_idx = NULL;
	v->n_groups = 0;
	strvec_clear(&v->notes);
	if (v->console_tail_read) {
		strvec_clear(&v->console_tail);
		v->console_tail_read = false;
	}
}

static void check_release(struct verdict_check *c)
{
	free(c->cgroup);
	free(c->payload);
	free(c->message);
	strvec_clear(&c->kernel_log);
	strvec_clear(&c->output);
}

void vd_checks_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->n_checks; i++)
		check_release(&v->checks[i]);
	free(v->checks);
	v->checks = NULL;
	v->n_checks = v->alloc_checks = v->n_failures = 0;
	machine_result_release(&v->machine_result);
	free(v->reason);
	v->reason = NULL;
	free(v->host_reason);
	v->host_reason = NULL;
	v->n_secondary = v->n_by_host = 0;
	derived_clear(v);
}

void verdict_release(struct verdict *v)
{
	size_t i;

	vd_checks_clear(v);
	free(v->scenario);
	free(v->topology);
	free(v->scheduler);
	free(v->sched_event);
	free(v->sched_reason);
	strvec_clear(&v->sched_kernel_log);
	strvec_clear(&v->sched_output);
	for (i = 0; i < v->n_cgroups; i++) {
		free(v->cgroups[i].name);
		free(v->cgroups[i].cpuset);
		free(v->cgroups[i].violating_cpus);
	}
	free(v->cgroups);
	for (i = 0; i < v->n_workers; i++) {
		free(v->workers[i].cgroup);
		free(v->workers[i].cpus_used);
	}
	free(v->workers);
	vd_payloads_release(v);
	vd_bpf_release(v);
	json_decref(v->scx_events);
	json_decref(v->affinity);
	machine_release(&v->machine);
	free(v->skip_reason);
	free(v->error_reason);
	free(v->infra_reason);
	free(v->accel);
	free(v->end_error);
	free(v->vm_exit_reason);
	free(v->vm_exit_message);
	free(v->vm_panic);
	free(v->console_log);
	strvec_clear(&v->output_tail);
	strvec_clear(&v->console_tail);
	strvec_clear(&v->warnings);
	strvec_clear(&v->warned);
	memset(v, 0, sizeof(*v));
}

void verdict_warn(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	strvec_push(&v->warnings, msg);
	if (v->warn)
		v->warn(v->warn_ctx, v->line, msg);
	free(msg);
}

void verdict_warn_field(struct verdict *v, const char *type, const char *key,
			const char *want)
{
	char *k = xasprintf("%s.%s", type, key);

	if (strvec_push_unique(&v->warned, k))
		verdict_warn(v, "%s: expected %s; treated as missing (said once per field)",
			     k, want);
	free(k);
}

/* ---- thresholds --------------------------------------------------------- */

/* The check table's defaults are applied in one place, checks_effective,
 * for ktstr-vm's request as here; "off" is NAN in the result. */
void verdict_thresholds(const struct checks *scen, const struct checks *flags,
			struct checks *out)
{
	const struct check_def *t;
	struct checks given;
	size_t i, n;

	checks_init(&given);
	if (scen)
		checks_overlay(&given, scen);
	if (flags)
		checks_overlay(&given, flags);
	checks_effective(&given, out);
	t = checktab(&n);
	for (i = 0; i < n; i++)
		if (t[i].kind == CHECK_LIMIT && isinf(check_limit_get(out, &t[i])))
			*check_limit(out, &t[i]) = NAN;
}

/* ---- evaluation --------------------------------------------------------- */

double verdict_margin_pct(const struct verdict_check *c)
{
	if (c->bound == VERDICT_NONE || isnan(c->value) || isnan(c->limit) || c->limit == 0)
		return NAN;
	if (c->bound == VERDICT_AT_MOST)
		return (c->limit - c->value) / c->limit * 100.0;
	return (c->value - c->limit) / c->limit * 100.0;
}

