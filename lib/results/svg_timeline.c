/* ktstr-stats --svg: a run's timeline as a display list (plot.h), drawn
 * from its trace (trace_export_build) so the picture and the Perfetto
 * trace say the same thing: the CPU lanes from the monitor's counters,
 * the workers' runs and longest gaps, the steps, the scheduler's
 * lifecycle and the failed checks, each where the trace puts it. */
#include "plot.h"
#include "trace_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl {
	struct plot *p;
	const json_t *ev;		/* traceEvents */
	const json_t *meta;	/* otherData */
	struct plot_axis ax;
	size_t lanes, workers, workers_drawn;
	json_t *rows;		/* "pid/tid" -> worker row */
	double bottom;		/* y below the last row */
};

static double ev_ms(const json_t *e, const char *key)
{
	double us = trace_num(e, key);

	return isnan(us) ? NAN : us / 1000.0;
}

static bool is(const json_t *e, const char *ph, int pid)
{
	const char *p = json_get_str(e, "ph");

	return p && !strcmp(p, ph) && trace_num(e, "pid") == pid;
}

static long long tid_of(const json_t *e)
{
	double t = trace_num(e, "tid");

	return isnan(t) ? -1 : (long long)t;
}

static void widen(double *t0, double *t1, double a, double b)
{
	if (!isnan(a) && (isnan(*t0) || a < *t0))
		*t0 = a;
	if (!isnan(b) && (isnan(*t1) || b > *t1))
		*t1 = b;
}

/* The scenario's span, else every event's, widened by the steps and the
 * failed checks so none is cut off. */
static void find_range(struct tl *t)
{
	double t0 = NAN, t1 = NAN, a0 = NAN, a1 = NAN;
	const json_t *e;
	size_t i;

	json_array_foreach(t->ev, i, e) {
		double ts = ev_ms(e, "ts"), dur = ev_ms(e, "dur");
		const char *ph = json_get_str(e, "ph"), *name = json_get_str(e, "name");

		if (!ph || !strcmp(ph, "M"))
			continue;
		widen(&a0, &a1, ts, isnan(dur) ? ts : ts + dur);
		if (is(e, "X", TPID_RUN) && tid_of(e) == TTID_SCENARIO)
			widen(&t0, &t1, ts, ts + dur);
		else if (is(e, "X", TPID_CHECKS) ||
			 (is(e, "i", TPID_RUN) && name && !strncmp(name, "step ", 5)))
			widen(&t0, &t1, ts, isnan(dur) ? ts : ts + dur);
	}
	if (isnan(t0)) {
		t0 = a0;
		t1 = a1;
	}
	if (isnan(t0))
		t0 = t1 = 0;
	if (!(t1 > t0))
		t1 = t0 + 1000;
	t->ax = (struct plot_axis){ t0, t1, SVG_X0, SVG_X1 };
}

static const char *meta_str(const struct tl *t, const char *key)
{
	const char *s = json_get_str(t->meta, key);

	return s ? s : "?";
}

static void title(struct tl *t)
{
	const char *result = meta_str(t, "result");
	char *s = xasprintf("%s  \u00b7  %s  \u00b7  %s", meta_str(t, "scenario"),
			    meta_str(t, "scheduler"), meta_str(t, "topology"));
	char *r = xasprintf("%s", result);

	for (char *c = r; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	plot_text(t->p, 10, 8, s, 16, PLOT_INK, PLOT_LEFT, true);
	plot_text(t->p, SVG_X1, 8, r, 16, !strcmp(result, "pass") ? PLOT_PASS : PLOT_FAIL,
		  PLOT_RIGHT, true);
	plot_text(t->p, 10, 32,
		  "per CPU: tasks runnable (monitor nr_running); red: failed checks;"
		  " time: seconds on the host clock since the VM started", 11, 0x555555,
		  PLOT_LEFT, false);
	free(s);
	free(r);
}

/* The CPU count: the trace names one thread per CPU. */
static size_t count_lanes(const json_t *ev)
{
	const json_t *e;
	size_t i, n = 0;

	json_array_foreach(ev, i, e)
		if (is(e, "M", TPID_CPUS) && tid_of(e) >= TTID_CPU0 &&
		    !strcmp(json_get_str(e, "name") ? json_get_str(e, "name") : "", "thread_name"))
			n++;
	return n > SVG_MAX_LANES ? SVG_MAX_LANES : n;
}

double svg_lane_y(size_t cpu)
{
	return SVG_LANE_Y0 + SVG_LANE_PITCH * (double)cpu;
}

/* A stretch of lane cpu in the colour of its sample. */
static void lane_cell(struct tl *t, size_t cpu, double from, double to, uint32_t rgb)
{
	/* On whole pixels: neighbouring cells then meet without a seam of
	 * antialiasing, and several samples to a pixel share it. */
	double x0 = round(plot_time_x(&t->ax, from)), x1 = round(plot_time_x(&t->ax, to));

	if (rgb)
		plot_rect(t->p, x0, svg_lane_y(cpu), x1 - x0, SVG_LANE_H, rgb, 1);
}

/* Each counter sample colours its lane up to the next sample of that
 * CPU; the last one for as long as the one before it. */
static void cpu_lanes(struct tl *t)
{
	double *at = xcalloc(t->lanes, sizeof(double)), *step = xcalloc(t->lanes, sizeof(double));
	uint32_t *rgb = xcalloc(t->lanes, sizeof(uint32_t));
	const json_t *e;
	size_t i, cpu;
	char label[32];

	for (cpu = 0; cpu < t->lanes; cpu++) {
		at[cpu] = NAN;
		snprintf(label, sizeof(label), "cpu %zu", cpu);
		plot_text(t->p, SVG_X0 - 8, svg_lane_y(cpu) + 3, label, 11, PLOT_INK, PLOT_RIGHT,
			  false);
		plot_frame(t->p, SVG_X0, svg_lane_y(cpu), SVG_X1 - SVG_X0, SVG_LANE_H, PLOT_GRID, 1);
	}
	json_array_foreach(t->ev, i, e) {
		const char *name = json_get_str(e, "name");
		const json_t *args = json_object_get(e, "args");
		double ts = ev_ms(e, "ts");
		unsigned long c;

		if (!is(e, "C", TPID_CPUS) || !name || sscanf(name, "cpu %lu", &c) != 1 ||
		    c >= t->lanes || isnan(ts))
			continue;
		if (!isnan(at[c]) && ts > at[c]) {
			lane_cell(t, c, at[c], ts, rgb[c]);
			step[c] = ts - at[c];
		}
		at[c] = ts;
		rgb[c] = plot_load_rgb(trace_num(args, "nr_running"), trace_num(args, "idle"));
	}
	for (cpu = 0; cpu < t->lanes; cpu++)
		if (!isnan(at[cpu]))
			lane_cell(t, cpu, at[cpu], at[cpu] + step[cpu], rgb[cpu]);
	free(at);
	free(step);
	free(rgb);
}

static void row_label(struct tl *t, double y, const char *label)
{
	plot_text(t->p, SVG_X0 - 8, y + 1, label, 10, PLOT_INK, PLOT_RIGHT, false);
	plot_frame(t->p, SVG_X0, y, SVG_X1 - SVG_X0, SVG_ROW_H, PLOT_GRID, 1);
}

/* A labelled tick at t on the scheduler row. */
static void sched_tick(struct tl *t, double ts, const char *name, uint32_t rgb,
		       double *free_x)
{
	double x = plot_time_x(&t->ax, ts);
	bool right_half = x > (SVG_X0 + SVG_X1) / 2 + 300;

	plot_line(t->p, x, SVG_SCHED_Y, x, SVG_SCHED_Y + SVG_ROW_H, rgb, 2);
	/* A label that would run into the one before it is left out (the
	 * trace has them all). */
	if (x < *free_x)
		return;
	*free_x = x + 6 * (double)strlen(name);
	/* Near the right edge the label goes left of its tick. */
	plot_text(t->p, right_half ? x - 3 : x + 3, SVG_SCHED_Y + 1,
		  strncmp(name, "scheduler ", 10) ? name : name + 10, 9, rgb,
		  right_half ? PLOT_RIGHT : PLOT_LEFT, false);
}

static void scheduler_row(struct tl *t)
{
	const json_t *e;
	size_t i;

	double free_x = 0;

	row_label(t, SVG_SCHED_Y, "scheduler");
	json_array_foreach(t->ev, i, e) {
		double ts = ev_ms(e, "ts"), x0 = plot_time_x(&t->ax, ts);

		if (tid_of(e) != TTID_SCHEDULER || isnan(ts))
			continue;
		if (is(e, "X", TPID_RUN))
			plot_rect(t->p, x0, SVG_SCHED_Y,
				  plot_time_x(&t->ax, ts + ev_ms(e, "dur")) - x0, SVG_ROW_H,
				  PLOT_ATTACHED, 1);
	}
	/* The ticks over the slices, so they show at the slice's edges. */
	json_array_foreach(t->ev, i, e) {
		const char *name = json_get_str(e, "name");

		if (tid_of(e) == TTID_SCHEDULER && is(e, "i", TPID_RUN) && name)
			sched_tick(t, ev_ms(e, "ts"), name,
				   strstr(name, "died") || strstr(name, "failed") ? PLOT_FAIL
										  : PLOT_INK,
				   &free_x);
	}
}

/* Failed checks: a red bar on their row and a red veil over the CPU
 * lanes at the same time. */
static void checks_row(struct tl *t)
{
	const json_t *e;
	size_t i;

	row_label(t, SVG_CHECKS_Y, "failed checks");
	json_array_foreach(t->ev, i, e) {
		double ts = ev_ms(e, "ts"), x0 = plot_time_x(&t->ax, ts), x1, w;
		bool secondary = json_is_true(json_object_get(json_object_get(e, "args"),
							      "secondary"));
		const char *name = json_get_str(e, "name");

		if (!is(e, "X", TPID_CHECKS) || isnan(ts))
			continue;
		x1 = plot_time_x(&t->ax, ts + ev_ms(e, "dur"));
		w = x1 - x0 < 2 ? 2 : x1 - x0;	/* an instant stays visible */
		plot_rect(t->p, x0, SVG_CHECKS_Y, w, SVG_ROW_H,
			  secondary ? PLOT_FAIL_SECONDARY : PLOT_FAIL, 1);
		if (t->lanes)
			plot_rect(t->p, x0, SVG_LANE_Y0, w,
				  svg_lane_y(t->lanes - 1) + SVG_LANE_H - SVG_LANE_Y0, PLOT_FAIL,
				  0.2);
		if (name)
			plot_text(t->p, x0 + 3, SVG_CHECKS_Y + 1, name, 9,
				  secondary ? PLOT_INK : PLOT_WHITE, PLOT_LEFT, true);
	}
}

static double worker_y(const struct tl *t, size_t row)
{
	double top = t->lanes ? svg_lane_y(t->lanes - 1) + SVG_LANE_H + 10 : SVG_LANE_Y0;

	return top + SVG_WORKER_PITCH * (double)row;
}

static char *row_key(const json_t *e)
{
	return xasprintf("%.0f/%lld", trace_num(e, "pid"), tid_of(e));
}

/* The cgroup a worker's process stands for ("cgroup X" in the trace). */
static const char *cgroup_name(const struct tl *t, double pid)
{
	const json_t *e;
	size_t i;

	json_array_foreach(t->ev, i, e) {
		const char *n = json_get_str(json_object_get(e, "args"), "name");

		if (is(e, "M", (int)pid) && tid_of(e) == 0 && n && !strncmp(n, "cgroup ", 7))
			return n + 7;
	}
	return "?";
}

/* A row per worker thread, in the trace's order, up to SVG_MAX_WORKERS. */
static void worker_rows(struct tl *t)
{
	const json_t *e;
	size_t i;

	json_array_foreach(t->ev, i, e) {
		const char *what = json_get_str(e, "name");
		const char *n = json_get_str(json_object_get(e, "args"), "name");
		double pid = trace_num(e, "pid");
		char *key, *label;

		if (!(pid >= TPID_CGROUP0) || !is(e, "M", (int)pid) || tid_of(e) <= 0 || !what ||
		    strcmp(what, "thread_name"))
			continue;
		t->workers++;
		if (t->workers_drawn == SVG_MAX_WORKERS)
			continue;
		key = row_key(e);
		json_object_set_new(t->rows, key, json_integer((json_int_t)t->workers_drawn));
		label = xasprintf("%s %s", cgroup_name(t, pid), n ? n : "worker");
		/* "worker 0 (pid 123)": the pid is in the trace, not needed here */
		if (strchr(label, '('))
			*strchr(label, '(') = 0;
		plot_text(t->p, SVG_X0 - 8, worker_y(t, t->workers_drawn) - 1, label, 8, PLOT_INK,
			  PLOT_RIGHT, false);
		t->workers_drawn++;
		free(key);
		free(label);
	}
}

/* Each worker's run, and its longest gap over it. */
static void worker_slices(struct tl *t, const char *which, uint32_t rgb)
{
	const json_t *e;
	size_t i;

	json_array_foreach(t->ev, i, e) {
		double pid = trace_num(e, "pid"), ts = ev_ms(e, "ts"), x0, x1;
		const char *name = json_get_str(e, "name");
		const json_t *row;
		char *key;

		if (!(pid >= TPID_CGROUP0) || !is(e, "X", (int)pid) || !name ||
		    strcmp(name, which) || isnan(ts))
			continue;
		key = row_key(e);
		row = json_object_get(t->rows, key);
		free(key);
		if (!row)
			continue;
		x0 = plot_time_x(&t->ax, ts);
		x1 = plot_time_x(&t->ax, ts + ev_ms(e, "dur"));
		plot_rect(t->p, x0, worker_y(t, (size_t)json_integer_value(row)),
			  x1 - x0 < 1 ? 1 : x1 - x0, SVG_WORKER_H, rgb, 1);
	}
}

static void workers(struct tl *t)
{
	char *more;

	worker_rows(t);
	worker_slices(t, "run", PLOT_RUN);
	worker_slices(t, "longest gap", PLOT_GAP);
	t->bottom = t->workers_drawn ? worker_y(t, t->workers_drawn) : worker_y(t, 0) - 6;
	if (t->workers > t->workers_drawn) {
		more = xasprintf("%zu more workers not drawn (see --trace)",
				 t->workers - t->workers_drawn);
		plot_text(t->p, SVG_X0, t->bottom, more, 9, 0x555555, PLOT_LEFT, false);
		t->bottom += 14;
		free(more);
	}
}

/* Steps: a line across every row, labelled above them. */
static void steps(struct tl *t)
{
	const json_t *e;
	size_t i;

	json_array_foreach(t->ev, i, e) {
		const char *name = json_get_str(e, "name");
		double x;

		if (!is(e, "i", TPID_RUN) || !name || strncmp(name, "step ", 5))
			continue;
		x = plot_time_x(&t->ax, ev_ms(e, "ts"));
		plot_line(t->p, x, SVG_SCHED_Y - 4, x, t->bottom, PLOT_STEP, 2);
		plot_text(t->p, x, 60, name, 10, PLOT_STEP, PLOT_CENTRE, true);
	}
}

/* The seconds axis under the rows. */
static void axis(struct tl *t)
{
	double y = t->bottom + 6, span = (t->ax.t1_ms - t->ax.t0_ms) / 1000.0;
	double dt = plot_tick_step(span, 12), s;
	char label[32];

	plot_line(t->p, SVG_X0, y, SVG_X1, y, PLOT_INK, 1);
	for (s = ceil(t->ax.t0_ms / 1000.0 / dt - 1e-9) * dt; s * 1000.0 <= t->ax.t1_ms + 1e-6;
	     s += dt) {
		double x = plot_time_x(&t->ax, s * 1000.0);

		plot_line(t->p, x, y, x, y + 5, PLOT_INK, 1);
		snprintf(label, sizeof(label), "%g", round(s / dt) * dt + 0.0);	/* no "-0" */
		plot_text(t->p, x, y + 7, label, 10, PLOT_INK, PLOT_CENTRE, false);
	}
	plot_text(t->p, SVG_X0 - 8, y + 7, "s", 10, PLOT_INK, PLOT_RIGHT, false);
	t->bottom = y + 26;
}

/* What the colours mean, in one row at the bottom. */
static void legend(struct tl *t)
{
	static const struct { uint32_t rgb; const char *what; } keys[] = {
		{ 0xe3e3e3, "0 runnable" }, { 0x9ecae1, "1" }, { 0x4292c6, "2" },
		{ 0x2171b5, "3" }, { 0x08306b, "4+" }, { PLOT_ATTACHED, "attached" },
		{ PLOT_RUN, "worker ran" }, { PLOT_GAP, "longest gap" },
		{ PLOT_STEP, "step" }, { PLOT_FAIL, "failed check" },
	};
	double x = SVG_X0, y = t->bottom;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		plot_rect(t->p, x, y, 12, 12, keys[i].rgb, 1);
		plot_text(t->p, x + 16, y, keys[i].what, 10, PLOT_INK, PLOT_LEFT, false);
		x += 16 + 8 * (double)strlen(keys[i].what) + 14;
	}
	t->bottom = y + 20;
}

void svg_timeline(const json_t *trace, struct plot *p)
{
	struct tl t = {
		.p = p,
		.ev = json_object_get(trace, "traceEvents"),
		.meta = json_object_get(trace, "otherData"),
		.rows = json_object(),
	};

	plot_init(p, SVG_W);
	find_range(&t);
	t.lanes = count_lanes(t.ev);
	title(&t);
	cpu_lanes(&t);
	scheduler_row(&t);
	workers(&t);
	checks_row(&t);
	steps(&t);
	axis(&t);
	legend(&t);
	p->height = t.bottom;
	json_decref(t.rows);
}
