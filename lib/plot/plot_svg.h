/* Painting a display list (lib/results/plot.h) as an SVG file with
 * cairo's SVG surface and pango for the text.  Only ktstr-stats links
 * this folder (and cairo, pango): the static agent and ktstr-verdict
 * never do (Makefile, PLOT_SRC). */
#ifndef KTSTR_PLOT_SVG_H
#define KTSTR_PLOT_SVG_H

#include "plot.h"

/* Write p to path atomically (temp file, fsync, rename): 0, or -1 with
 * errno set (EIO when cairo failed). */
int plot_svg_write(const struct plot *p, const char *path);

#endif
