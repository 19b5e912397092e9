/* ktstr-stats compare --svg: every gated metric both runs measured, as
 * a small panel of its own (its own scale: milliseconds and ratios do
 * not share an axis): the baseline's bar and the other run's, each at
 * its mean with an error bar of +- one standard deviation of the
 * repeats (the spread Welch's test weighs), framed in red when compare
 * calls the change a regression, in green when an improvement. */
#include "plot.h"
#include "compare_report.h"
#include "diag.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool svg_compare_shown(const struct compare_row *row)
{
	return row->gated && isfinite(row->a_mean) && isfinite(row->b_mean);
}

/* The panel's value range: 0 and every bar with its error bar. */
static void value_range(const struct compare_row *r, double *lo, double *hi)
{
	double v[] = {
		0, r->a_mean, r->b_mean,
		r->a_mean + (isfinite(r->a_sd) ? r->a_sd : 0),
		r->a_mean - (isfinite(r->a_sd) ? r->a_sd : 0),
		r->b_mean + (isfinite(r->b_sd) ? r->b_sd : 0),
		r->b_mean - (isfinite(r->b_sd) ? r->b_sd : 0),
	};

	*lo = *hi = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
	if (*hi - *lo <= 0)
		*hi = *lo + 1;
	*hi += (*hi - *lo) * 0.1;
}

struct panel {
	double x, y;		/* top left */
	double lo, hi;		/* values at the plot's bottom and top */
};

#define PANEL_TOP 40.0		/* the plot area within a panel */
#define PANEL_BOTTOM 150.0

static double value_y(const struct panel *pn, double v)
{
	return pn->y + PANEL_BOTTOM - (v - pn->lo) / (pn->hi - pn->lo) *
					    (PANEL_BOTTOM - PANEL_TOP);
}

/* One side's bar, error bar and label, centred on cx. */
static void bar(struct plot *p, const struct panel *pn, double cx, double mean, double sd,
		size_t n, const char *side, const char *unit, uint32_t rgb)
{
	double y0 = value_y(pn, 0), y1 = value_y(pn, mean);
	char val[64], label[96];

	plot_rect(p, cx - 30, y1 < y0 ? y1 : y0, 60, fabs(y0 - y1), rgb, 1);
	if (isfinite(sd) && sd > 0) {
		double ya = value_y(pn, mean - sd), yb = value_y(pn, mean + sd);

		plot_line(p, cx, ya, cx, yb, PLOT_INK, 1.5);
		plot_line(p, cx - 8, ya, cx + 8, ya, PLOT_INK, 1.5);
		plot_line(p, cx - 8, yb, cx + 8, yb, PLOT_INK, 1.5);
	}
	compare_fmt_value(val, sizeof(val), mean, unit, false);
	snprintf(label, sizeof(label), "%s %s (n=%zu)", side, val, n);
	plot_text(p, cx, pn->y + PANEL_BOTTOM + 4, label, 9, PLOT_INK, PLOT_CENTRE, false);
}

static void panel(struct plot *p, const struct compare_row *r, size_t k)
{
	struct panel pn = {
		.x = SVGC_X0 + SVGC_PITCH_X * (double)(k % SVGC_COLS),
		.y = SVGC_Y0 + SVGC_PITCH_Y * (double)(k / SVGC_COLS),
	};
	const char *status = compare_row_status(r);
	uint32_t frame = r->regression ? PLOT_FAIL : r->improvement ? PLOT_PASS : PLOT_GRID;
	char note[96], delta[48];

	value_range(r, &pn.lo, &pn.hi);
	plot_frame(p, pn.x, pn.y, SVGC_PANEL_W, SVGC_PANEL_H, frame,
		   r->regression || r->improvement ? 4 : 2);
	plot_text(p, pn.x + 8, pn.y + 6, r->metric, 11, PLOT_INK, PLOT_LEFT, true);
	plot_text(p, pn.x + 8, pn.y + 21, r->case_key, 9, 0x555555, PLOT_LEFT, false);
	plot_line(p, pn.x + 40, value_y(&pn, 0), pn.x + SVGC_PANEL_W - 20, value_y(&pn, 0),
		  PLOT_INK, 1);
	bar(p, &pn, pn.x + 95, r->a_mean, r->a_sd, r->na, "A", r->unit, PLOT_SIDE_A);
	bar(p, &pn, pn.x + 205, r->b_mean, r->b_sd, r->nb, "B", r->unit, PLOT_SIDE_B);
	compare_fmt_value(delta, sizeof(delta), r->delta, r->unit, true);
	if (isfinite(r->p_value))
		snprintf(note, sizeof(note), "%s  %s  p=%.3g", status, delta, r->p_value);
	else
		snprintf(note, sizeof(note), "%s  %s", status, delta);
	plot_text(p, pn.x + 8, pn.y + PANEL_BOTTOM + 20, note, 10,
		  r->regression ? PLOT_FAIL : r->improvement ? PLOT_PASS : PLOT_INK, PLOT_LEFT,
		  r->regression || r->improvement);
}

void svg_compare(const struct compare_result *r, const char *a, const char *b,
		 struct plot *p)
{
	size_t k = 0;
	char *s;

	plot_init(p, SVGC_X0 + SVGC_PITCH_X * SVGC_COLS);
	s = xasprintf("A %s  vs  B %s", a, b);
	plot_text(p, 10, 8, s, 16, PLOT_INK, PLOT_LEFT, true);
	free(s);
	s = xasprintf("gated metrics: bars at the mean, error bars +- one standard deviation"
		      " of the repeats; %zu regressions (red), %zu improvements (green)",
		      r->regressions, r->improvements);
	plot_text(p, 10, 32, s, 11, 0x555555, PLOT_LEFT, false);
	free(s);
	plot_rect(p, 10, 50, 12, 12, PLOT_SIDE_A, 1);
	plot_text(p, 26, 50, "A (baseline)", 10, PLOT_INK, PLOT_LEFT, false);
	plot_rect(p, 120, 50, 12, 12, PLOT_SIDE_B, 1);
	plot_text(p, 136, 50, "B", 10, PLOT_INK, PLOT_LEFT, false);
	for (size_t i = 0; i < r->n; i++)
		if (svg_compare_shown(&r->rows[i]))
			panel(p, &r->rows[i], k++);
	if (!k)
		plot_text(p, 10, SVGC_Y0, "no gated metric that both runs measured", 12,
			  PLOT_INK, PLOT_LEFT, false);
	p->height = SVGC_Y0 + SVGC_PITCH_Y * (double)((k + SVGC_COLS - 1) / SVGC_COLS) + 10;
	if (!k)
		p->height += 30;
}
