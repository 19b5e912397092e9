/* The display list behind every picture (plot.h), and the pure parts of
 * the geometry: the time axis, its ticks, the load colours. */
#include "plot.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void plot_init(struct plot *p, double width)
{
	memset(p, 0, sizeof(*p));
	p->width = width;
}

void plot_release(struct plot *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static struct plot_item *add(struct plot *p, enum plot_kind kind, double x, double y,
			     double w, double h, uint32_t rgb)
{
	struct plot_item *it;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	it = &p->v[p->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->x = x;
	it->y = y;
	it->w = w;
	it->h = h;
	it->rgb = rgb;
	it->alpha = 1;
	return it;
}

void plot_rect(struct plot *p, double x, double y, double w, double h, uint32_t rgb,
	       double alpha)
{
	if (w > 0 && h > 0)
		add(p, PLOT_RECT, x, y, w, h, rgb)->alpha = alpha;
}

void plot_frame(struct plot *p, double x, double y, double w, double h, uint32_t rgb,
		double line_w)
{
	add(p, PLOT_RECT, x, y, w, h, rgb)->line_w = line_w;
}

void plot_line(struct plot *p, double x0, double y0, double x1, double y1, uint32_t rgb,
	       double line_w)
{
	add(p, PLOT_LINE, x0, y0, x1 - x0, y1 - y0, rgb)->line_w = line_w;
}

void plot_text(struct plot *p, double x, double y, const char *text, double size,
	       uint32_t rgb, enum plot_align align, bool bold)
{
	struct plot_item *it = add(p, PLOT_TEXT, x, y, 0, 0, rgb);

	it->text = xstrdup(text);
	it->size = size;
	it->align = align;
	it->bold = bold;
}

double plot_time_x(const struct plot_axis *a, double t_ms)
{
	double f;

	if (!(a->t1_ms > a->t0_ms) || isnan(t_ms))
		return a->x0;
	f = (t_ms - a->t0_ms) / (a->t1_ms - a->t0_ms);
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return a->x0 + f * (a->x1 - a->x0);
}

double plot_tick_step(double span_s, int max_ticks)
{
	static const double mult[] = { 1, 2, 5 };
	double p;

	if (!(span_s > 0) || max_ticks < 1)
		return 1;
	for (p = 0.001; p < 1e9; p *= 10)
		for (size_t i = 0; i < 3; i++)
			if (span_s / (p * mult[i]) <= max_ticks)
				return p * mult[i];
	return 1e9;
}

uint32_t plot_load_rgb(double nr_running, double idle)
{
	static const uint32_t blues[] = { 0xe3e3e3, 0x9ecae1, 0x4292c6, 0x2171b5, 0x08306b };

	if (isnan(nr_running)) {
		if (isnan(idle))
			return 0;
		return idle > 0 ? blues[0] : blues[1];
	}
	if (nr_running < 0.5)
		return blues[0];
	if (nr_running >= 4)
		return blues[4];
	return blues[(int)lround(nr_running)];
}
