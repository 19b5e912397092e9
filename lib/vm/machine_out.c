/* The machine view's output: the sidecar's machine and phases objects,
 * the metrics and the text report with its phase table. */
#include "machine_eval.h"
#include "texttable.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void machine_add_num(struct strbuf *sb, double x)
{
	if (x == (double)(long long)x)
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, "%.3g", x);
}

static json_t *num_json(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == (double)(long long)x && x > -9e15 && x < 9e15)
		return json_integer((json_int_t)x);
	return json_real(round(x * 1000) / 1000);
}

json_t *machine_json(const struct machine *m, const struct machine_result *r)
{
	json_t *o;

	if (!m->saw_record)
		return json_null();
	o = json_object();
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	json_object_set_new(o, "interval_ms", num_json(r->interval_ms));
	json_object_set_new(o, "monitor_samples", num_json(m->end_samples));
	json_object_set_new(o, "skipped", num_json(m->end_skipped));
	json_object_set_new(o, "dropped", json_integer((json_int_t)m->dropped));
	json_object_set_new(o, "vcpu_threads", m->vcpu_threads ? json_string(m->vcpu_threads)
							       : json_null());
	json_object_set_new(o, "unavailable", m->unavailable ? json_string(m->unavailable)
							     : json_null());
	for (unsigned k = 0; k < MCHK_N; k++)
		json_object_set_new(o, r->checks[k].metric, num_json(r->checks[k].value));
	json_object_set_new(o, "qemu_stopped_ms", num_json(round(r->stopped_ms)));
	json_object_set_new(o, "vm_run_pct",
			    r->window_ms > 0 ? num_json(round(1000 * r->vm_run_ms / r->window_ms) / 10)
					     : json_null());
	return o;
}

json_t *machine_phases_json(const struct machine_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_phases; i++) {
		const struct machine_phase *ph = &r->phases[i];
		json_t *o = json_object(), *deg = json_array();

		json_object_set_new(o, "phase", json_integer(ph->index));
		json_object_set_new(o, "start_ms", num_json(ph->start_ms));
		json_object_set_new(o, "end_ms", num_json(ph->end_ms));
		json_object_set_new(o, "samples", json_integer((json_int_t)ph->samples));
		for (unsigned k = 0; k < PM_N; k++) {
			json_object_set_new(o, machine_phase_metric_name(k), num_json(ph->v[k]));
			if (ph->degraded & (1u << k))
				json_array_append_new(deg, json_string(machine_phase_metric_name(k)));
		}
		json_object_set_new(o, "degraded", deg);
		json_array_append_new(a, o);
	}
	return a;
}

static void put_metric(json_t *o, const char *name, double x)
{
	json_t *j = num_json(x);

	if (json_is_null(j))
		json_decref(j);
	else
		json_object_set_new(o, name, j);
}

void machine_metrics(const struct machine_result *r, json_t *metrics)
{
	char name[96];

	for (unsigned k = 0; k < MCHK_N; k++)
		if (r->checks[k].evaluated)
			put_metric(metrics, r->checks[k].metric, r->checks[k].value);
	for (size_t i = 0; i < r->n_phases; i++)
		for (unsigned k = 0; k < PM_N; k++) {
			snprintf(name, sizeof(name), "phase%u.%s", r->phases[i].index,
				 machine_phase_metric_name(k));
			put_metric(metrics, name, r->phases[i].v[k]);
		}
}

/* A table cell: "-" missing, integers and values from 100 up whole,
 * else 2 decimals below 10 and 1 below 100. */
/* A table figure: "-" when missing, whole numbers from 100 up, else two
 * or one decimals. */
static void fmt_num(struct strbuf *sb, double x)
{
	if (!isfinite(x))
		strbuf_addch(sb, '-');
	else if (x == (double)(long long)x || x >= 100)
		strbuf_addf(sb, "%.0f", x);
	else
		strbuf_addf(sb, x < 10 ? "%.2f" : "%.1f", x);
}

static void cell_num(struct strvec *cells, double x)
{
	struct strbuf sb = STRBUF_INIT;

	fmt_num(&sb, x);
	strvec_push(cells, sb.buf);
	strbuf_release(&sb);
}

#define PHASE_COLS (4 + PM_N + 1)

static void phase_table(const struct machine_result *r, struct strbuf *out)
{
	struct text_table t = TEXT_TABLE_INIT(PHASE_COLS);
	struct strvec *cells = &t.cells;
	const struct machine_phase *prev = NULL;
	bool right[PHASE_COLS];

	strvec_push(cells, "PHASE");
	strvec_push(cells, "FROM_S");
	strvec_push(cells, "TO_S");
	strvec_push(cells, "SAMPLES");
	for (unsigned k = 0; k < PM_N; k++)
		strvec_push(cells, machine_phase_metric_head(k));
	strvec_push(cells, "");
	for (size_t i = 0; i < r->n_phases; i++) {
		const struct machine_phase *ph = &r->phases[i];
		struct strbuf note = STRBUF_INIT;

		strvec_pushf(cells, "%u", ph->index);
		if (isnan(ph->start_ms))
			strvec_push(cells, "-");
		else
			strvec_pushf(cells, "%.1f", ph->start_ms / 1000.0);
		if (isnan(ph->end_ms))
			strvec_push(cells, "-");
		else
			strvec_pushf(cells, "%.1f", ph->end_ms / 1000.0);
		strvec_pushf(cells, "%zu", ph->samples);
		for (unsigned k = 0; k < PM_N; k++)
			cell_num(cells, ph->v[k]);
		for (unsigned k = 0; k < PM_N; k++) {
			if (!(ph->degraded & (1u << k)) || !prev)
				continue;
			strbuf_addstr(&note, note.len ? ", " : "DEGRADED: ");
			strbuf_addf(&note, "%s ", machine_phase_metric_name(k));
			fmt_num(&note, prev->v[k]);
			strbuf_addstr(&note, " -> ");
			fmt_num(&note, ph->v[k]);
		}
		strvec_push(cells, note.buf);
		strbuf_release(&note);
		if (ph->samples >= MACHINE_SUSTAIN)
			prev = ph;
	}
	/* Numbers flush right; the phase number and the note flush left. */
	for (size_t c = 0; c < PHASE_COLS; c++)
		right[c] = c && c + 1 < PHASE_COLS;
	text_table_render(&t, right, out);
}

void machine_format(const struct machine *m, const struct machine_result *r,
		    struct strbuf *out)
{
	if (!m->saw_record)
		return;
	if (m->unavailable)
		strbuf_addf(out, "monitor unavailable: %s; machine checks not evaluated\n",
			    m->unavailable);
	if (!r->any) {
		if (!m->unavailable)
			strbuf_addstr(out, "monitor: no samples inside the scenario;"
				      " machine checks not evaluated\n");
		return;
	}
	strbuf_addf(out, "monitor: %zu samples every %.0fms", r->samples, r->interval_ms);
	for (unsigned k = 0; k < MCHK_N; k++) {
		const struct machine_check *c = &r->checks[k];

		if (!c->evaluated)
			continue;
		strbuf_addf(out, " %s=", c->metric);
		machine_add_num(out, isfinite(c->value) && c->value >= 10 ? round(c->value)
								   : round(c->value * 100) / 100);
	}
	if (m->dropped)
		strbuf_addf(out, " (%zu samples over the cap ignored)", m->dropped);
	strbuf_addch(out, '\n');
	/* A busy vCPU thread runs ~99% of an unloaded host's time. */
	if (r->window_ms > 0 && r->vm_run_ms < 0.9 * r->window_ms) {
		strbuf_addf(out, "monitor: the host ran the VM %.0f%% of the workload's %.1f s (",
			    100 * r->vm_run_ms / r->window_ms, r->window_ms / 1000);
		if (r->stopped_ms > 0)
			strbuf_addf(out, "QEMU stopped for %.1f s", r->stopped_ms / 1000);
		if (r->window_ms - r->vm_run_ms - (r->stopped_ms > 0 ? r->stopped_ms : 0) >
		    0.05 * r->window_ms)
			strbuf_addstr(out, r->stopped_ms > 0 ? ", and a busy host" : "a busy host");
		strbuf_addstr(out, "): work conservation and runnable waits count only the"
			      " VM's run time\n");
	}
	phase_table(r, out);
}
