/* Pictures as display lists: what ktstr-stats --svg draws, computed
 * without any drawing library so it can be unit-tested, then painted by
 * lib/plot/plot_svg.c (cairo's SVG surface, pango for the text), which
 * only ktstr-stats links.
 *
 *   plot.c          the display list, the time axis, the load colours
 *   svg_timeline.c  a run's timeline from its trace (trace_export.h)
 *   svg_compare.c   two runs' gated metrics side by side (compare.h)
 *
 * Coordinates are SVG user units (1 unit = 1 px), origin top left. */
#ifndef KTSTR_PLOT_H
#define KTSTR_PLOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compare.h"

enum plot_kind { PLOT_RECT, PLOT_LINE, PLOT_TEXT };
enum plot_align { PLOT_LEFT, PLOT_CENTRE, PLOT_RIGHT };

struct plot_item {
	enum plot_kind kind;
	double x, y;		/* rect: top left; line: from; text: anchor
				 * (its top, aligned by align) */
	double w, h;		/* rect: size; line: to (x + w, y + h) */
	uint32_t rgb;		/* 0xRRGGBB */
	double alpha;		/* 1 opaque */
	double line_w;		/* line width; a rect with line_w > 0 is an
				 * outline, else filled */
	char *text;		/* PLOT_TEXT */
	double size;		/* font size, px */
	enum plot_align align;
	bool bold;
};

struct plot {
	double width, height;
	struct plot_item *v;
	size_t n, cap;
};

void plot_init(struct plot *p, double width);
void plot_release(struct plot *p);
void plot_rect(struct plot *p, double x, double y, double w, double h, uint32_t rgb,
	       double alpha);
void plot_frame(struct plot *p, double x, double y, double w, double h, uint32_t rgb,
		double line_w);
void plot_line(struct plot *p, double x0, double y0, double x1, double y1, uint32_t rgb,
	       double line_w);
void plot_text(struct plot *p, double x, double y, const char *text, double size,
	       uint32_t rgb, enum plot_align align, bool bold);

/* A time axis: host ms [t0_ms, t1_ms] onto x [x0, x1]. */
struct plot_axis {
	double t0_ms, t1_ms, x0, x1;
};
/* x of t, clamped to the axis. */
double plot_time_x(const struct plot_axis *a, double t_ms);
/* A tick step in seconds (1, 2 or 5 times a power of ten) that puts at
 * most max_ticks ticks on span_s seconds. */
double plot_tick_step(double span_s, int max_ticks);

/* The colours, shared by the pictures and their legends. */
#define PLOT_WHITE 0xffffff
#define PLOT_INK 0x222222
#define PLOT_GRID 0xcccccc
#define PLOT_FAIL 0xd62728		/* a failed check */
#define PLOT_FAIL_SECONDARY 0xf4a6a6	/* one that follows a scheduler death */
#define PLOT_STEP 0x6a3d9a		/* a step boundary */
#define PLOT_ATTACHED 0xa1d99b		/* the scheduler attached */
#define PLOT_RUN 0xd9d9d9		/* a worker running */
#define PLOT_GAP 0xfd8d3c		/* a worker's longest gap */
#define PLOT_PASS 0x2ca02c
#define PLOT_SIDE_A 0x7f7f7f		/* compare: the baseline */
#define PLOT_SIDE_B 0x1f77b4		/* compare: the run compared */
/* A CPU lane's colour for one monitor sample: nr_running 0 (or idle
 * without a count) light grey, then 1, 2, 3, 4 and more in darkening
 * blues; NAN for both: no colour (0, the lane stays white). */
uint32_t plot_load_rgb(double nr_running, double idle);

/* ktstr-stats --svg: the timeline of one run from its trace object
 * (trace_export_build), geometry in man/ktstr-stats.1:
 *   width 1200, time axis x 140..1180 over the scenario (extended to
 *   take in its steps and failed checks), host seconds;
 *   steps' labels at y 60, the scheduler row at y 80 (14 high), failed
 *   checks at y 98 (14 high), CPU lane i at y 120 + 24 i (20 high),
 *   then one 10-high row per worker every 12 (at most SVG_MAX_WORKERS),
 *   the seconds axis and the legend. */
#define SVG_W 1200.0
#define SVG_X0 140.0
#define SVG_X1 1180.0
#define SVG_SCHED_Y 80.0
#define SVG_CHECKS_Y 98.0
#define SVG_ROW_H 14.0
#define SVG_LANE_Y0 120.0
#define SVG_LANE_PITCH 24.0
#define SVG_LANE_H 20.0
#define SVG_WORKER_PITCH 12.0
#define SVG_WORKER_H 10.0
#define SVG_MAX_WORKERS 32
#define SVG_MAX_LANES 256
double svg_lane_y(size_t cpu);
void svg_timeline(const json_t *trace, struct plot *p);

/* ktstr-stats compare --svg: one panel per gated metric of a case that
 * both sides have, four to a row, each 290 x 190 from x 10 + 295 col,
 * y 70 + 200 row: bar A, bar B (mean), error bars mean +- standard
 * deviation, a red frame on a regression, green on an improvement. */
#define SVGC_COLS 4
#define SVGC_PANEL_W 290.0
#define SVGC_PANEL_H 190.0
#define SVGC_X0 10.0
#define SVGC_Y0 70.0
#define SVGC_PITCH_X 295.0
#define SVGC_PITCH_Y 200.0
/* The panels drawn: rows of r that are gated with both means known. */
bool svg_compare_shown(const struct compare_row *row);
void svg_compare(const struct compare_result *r, const char *a, const char *b,
		 struct plot *p);

#endif
