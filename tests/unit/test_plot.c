/* Unit tests for the pictures' layout (lib/results/plot.c,
 * svg_timeline.c, svg_compare.c), without cairo: the time axis and its
 * ticks, the load colours, and the display lists of real runs
 * (tests/fixtures/trace, tests/fixtures/stats): one lane per CPU at the
 * documented y, the failed gap check in red at its time, a step line at
 * each step's time, one compare panel per gated metric with a red frame
 * on a regression. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonl.h"
#include "plot.h"
#include "trace_export.h"
#include "verdict.h"

#define FIXTURES "tests/fixtures/"

/* The timeline of one stored run. */
static void timeline(const char *path, struct plot *p)
{
	struct trace_export t;
	struct verdict v;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");
	json_t *trace;

	assert_non_null(f);
	verdict_init(&v);
	trace_export_init(&t);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *rec = json_loadb(line, (size_t)n, 0, NULL);

		if (rec && json_get_str(rec, "type")) {
			verdict_feed(&v, rec);
			trace_export_feed(&t, rec);
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
	verdict_finish(&v, NULL);
	trace = trace_export_build(&t, &v);
	svg_timeline(trace, p);
	json_decref(trace);
	trace_export_release(&t);
	verdict_release(&v);
}

static size_t count(const struct plot *p, enum plot_kind kind, uint32_t rgb, double y)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].kind == kind && p->v[i].rgb == rgb && (isnan(y) || p->v[i].y == y) &&
		     p->v[i].line_w == 0;
	return n;
}

static const struct plot_item *find_text(const struct plot *p, const char *text)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == PLOT_TEXT && !strcmp(p->v[i].text, text))
			return &p->v[i];
	return NULL;
}

static void test_axis(void **state)
{
	struct plot_axis a = { 1000, 3000, 100, 300 };
	struct plot_axis empty = { 5, 5, 10, 20 };

	(void)state;
	assert_true(plot_time_x(&a, 1000) == 100);
	assert_true(plot_time_x(&a, 2000) == 200);
	assert_true(plot_time_x(&a, 3000) == 300);
	assert_true(plot_time_x(&a, 0) == 100);		/* clamped */
	assert_true(plot_time_x(&a, 9000) == 300);
	assert_true(plot_time_x(&a, NAN) == 100);
	assert_true(plot_time_x(&empty, 5) == 10);
	assert_true(plot_tick_step(10, 12) == 1);
	assert_true(plot_tick_step(5.5, 12) == 0.5);
	assert_true(plot_tick_step(30, 12) == 5);
	assert_true(plot_tick_step(0.01, 12) == 0.001);
	assert_true(plot_tick_step(200, 12) == 20);
	assert_true(plot_tick_step(0, 12) == 1);
}

static void test_load_colours(void **state)
{
	(void)state;
	assert_int_equal(plot_load_rgb(NAN, NAN), 0);
	assert_int_equal(plot_load_rgb(0, 1), 0xe3e3e3);
	assert_int_equal(plot_load_rgb(NAN, 1), 0xe3e3e3);
	assert_int_equal(plot_load_rgb(NAN, 0), 0x9ecae1);
	assert_int_equal(plot_load_rgb(1, 0), 0x9ecae1);
	assert_int_equal(plot_load_rgb(2, 0), 0x4292c6);
	assert_int_equal(plot_load_rgb(3, 0), 0x2171b5);
	assert_int_equal(plot_load_rgb(4, 0), 0x08306b);
	assert_int_equal(plot_load_rgb(40, 0), 0x08306b);
	/* darker with load, so a busier CPU always reads darker */
	for (int i = 0; i < 4; i++) {
		uint32_t a = plot_load_rgb(i, 0), b = plot_load_rgb(i + 1, 0);

		assert_true(((a >> 16) & 0xff) + ((a >> 8) & 0xff) + (a & 0xff) >
			    ((b >> 16) & 0xff) + ((b >> 8) & 0xff) + (b & 0xff));
	}
	assert_true(svg_lane_y(0) == 120 && svg_lane_y(3) == 192);
}

/* Any blue of the load scale, which only the CPU lanes (and the legend,
 * below them) use. */
static bool is_load(uint32_t rgb)
{
	return rgb && (rgb == plot_load_rgb(0, 0) || rgb == plot_load_rgb(1, 0) ||
		       rgb == plot_load_rgb(2, 0) || rgb == plot_load_rgb(3, 0) ||
		       rgb == plot_load_rgb(4, 0));
}

static void test_timeline_gap_failure(void **state)
{
	struct plot p;
	size_t lanes[5] = { 0 }, fail = 0, i;
	const struct plot_item *fx = NULL;

	(void)state;
	timeline(FIXTURES "trace/steady-fail-gap.jsonl", &p);
	assert_true(p.width == SVG_W);
	for (i = 0; i < p.n; i++) {
		const struct plot_item *it = &p.v[i];

		if (it->kind != PLOT_RECT || it->line_w > 0)
			continue;
		for (size_t l = 0; l < 5; l++)
			if (is_load(it->rgb) && it->y == svg_lane_y(l) && it->h == SVG_LANE_H)
				lanes[l]++;
		if (it->rgb == PLOT_FAIL && it->y == SVG_CHECKS_Y) {
			fail++;
			fx = it;
		}
	}
	/* 4 CPUs, a cell per monitor sample (65) in each, no fifth lane */
	for (i = 0; i < 4; i++)
		assert_int_equal(lanes[i], 65);
	assert_int_equal(lanes[4], 0);
	assert_non_null(find_text(&p, "cpu 3"));
	assert_null(find_text(&p, "cpu 4"));
	/* the gap from 8503 ms for 2500 ms, on the scenario's axis */
	assert_int_equal(fail, 1);
	assert_non_null(fx);
	{
		const struct plot_item *s = find_text(&p, "FAIL");

		assert_non_null(s);
		assert_int_equal(s->rgb, PLOT_FAIL);
	}
	assert_non_null(find_text(&p, "FAIL gap cg_1"));
	assert_true(fx->x > SVG_X0 && fx->x + fx->w < SVG_X1);
	/* x is linear in time: the 2500 ms are (x1 - x0) / span of it */
	{
		double per_ms = fx->w / 2500.0;
		double t0 = 8503.0 - (fx->x - SVG_X0) / per_ms;
		double t1 = t0 + (SVG_X1 - SVG_X0) / per_ms;

		/* the scenario: from host 7503 - 1 ms... to 12684 ms (its end) */
		assert_true(fabs(t1 - 12684) < 1);
		assert_true(t0 > 6000 && t0 < 7600);
	}
	/* 4 workers, each a run and a longest gap (and the legend's swatch) */
	assert_int_equal(count(&p, PLOT_RECT, PLOT_RUN, NAN), 4 + 1);
	assert_int_equal(count(&p, PLOT_RECT, PLOT_GAP, NAN), 4 + 1);
	plot_release(&p);
}

static void test_timeline_steps(void **state)
{
	struct plot p;
	size_t steps = 0;
	/* monitor-phases: scenario 3000..8100 ms, steps at 3100, 4700, 6300 */
	double want[] = { 3100, 4700, 6300 };

	(void)state;
	timeline(FIXTURES "stats/monitor-phases.jsonl", &p);
	for (size_t i = 0; i < p.n; i++) {
		const struct plot_item *it = &p.v[i];
		double t;

		if (it->kind != PLOT_LINE || it->rgb != PLOT_STEP)
			continue;
		t = 3000 + (it->x - SVG_X0) / (SVG_X1 - SVG_X0) * 5100;
		assert_true(steps < 3);
		assert_true(fabs(t - want[steps]) < 0.01);
		assert_true(it->w == 0 && it->y < SVG_SCHED_Y && it->y + it->h > svg_lane_y(3));
		steps++;
	}
	assert_int_equal(steps, 3);
	assert_non_null(find_text(&p, "step 2"));
	assert_non_null(find_text(&p, "PASS"));
	assert_int_equal(count(&p, PLOT_RECT, PLOT_FAIL, SVG_CHECKS_Y), 0);
	plot_release(&p);
}

static void test_timeline_empty(void **state)
{
	json_t *trace = json_pack("{s:[], s:{}}", "traceEvents", "otherData");
	struct plot p;

	(void)state;
	svg_timeline(trace, &p);
	assert_true(p.height > 100);
	assert_non_null(find_text(&p, "?"));	/* the title's unknowns */
	plot_release(&p);
	json_decref(trace);
}

static void test_compare_panels(void **state)
{
	struct compare_row rows[4] = {
		{ .case_key = "demo steady/tiny", .metric = "worst_gap_ms", .a_mean = 400,
		  .b_mean = 1600, .a_sd = 20, .b_sd = 100, .na = 3, .nb = 3, .gated = true,
		  .regression = true, .unit = "ms", .p_value = 0.001, .delta = 1200 },
		{ .case_key = "demo steady/tiny", .metric = "total_migrations", .a_mean = 40,
		  .b_mean = 40, .a_sd = NAN, .b_sd = NAN, .na = 1, .nb = 1, .gated = true,
		  .unit = "", .p_value = NAN },
		{ .case_key = "demo steady/tiny", .metric = "other", .a_mean = 1, .b_mean = 2,
		  .gated = false, .unit = "" },
		{ .case_key = "demo steady/tiny", .metric = "gone", .a_mean = 1, .b_mean = NAN,
		  .gated = true, .unit = "" },
	};
	struct compare_result r = { .rows = rows, .n = 4, .regressions = 1 };
	struct plot p;
	size_t frames = 0, red = 0, bars_b = 0, err_lines = 0;

	(void)state;
	svg_compare(&r, "base", "new", &p);
	for (size_t i = 0; i < p.n; i++) {
		const struct plot_item *it = &p.v[i];

		if (it->kind == PLOT_RECT && it->line_w > 0) {
			assert_true(it->x == SVGC_X0 + SVGC_PITCH_X * (double)frames);
			assert_true(it->y == SVGC_Y0);
			frames++;
			red += it->rgb == PLOT_FAIL;
		}
		bars_b += it->kind == PLOT_RECT && it->rgb == PLOT_SIDE_B && it->y > SVGC_Y0;
		err_lines += it->kind == PLOT_LINE && it->line_w == 1.5;
	}
	assert_int_equal(frames, 2);	/* the ungated and the one-sided left out */
	assert_int_equal(red, 1);
	assert_int_equal(bars_b, 2);
	assert_int_equal(err_lines, 6);	/* two error bars of three lines */
	assert_non_null(find_text(&p, "B 1600 ms (n=3)"));
	assert_true(p.height == SVGC_Y0 + SVGC_PITCH_Y + 10);
	plot_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axis),
		cmocka_unit_test(test_load_colours),
		cmocka_unit_test(test_timeline_gap_failure),
		cmocka_unit_test(test_timeline_steps),
		cmocka_unit_test(test_timeline_empty),
		cmocka_unit_test(test_compare_panels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
