/* A display list as SVG (plot_svg.h).  Cairo writes into memory and the
 * file is written whole at the end, so a failure never leaves half a
 * picture behind; units are px (cairo's default, pt, would make every
 * consumer scale the picture by 4/3). */
#include "plot_svg.h"
#include "fsutil.h"
#include "strbuf.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#ifdef __SANITIZE_ADDRESS__
/* fontconfig keeps one small block of its own for the life of the
 * process (256 bytes, on every run).  FcFini() would free it, but it
 * asserts, and aborts, when pango's fontconfig thread (pango 1.50 starts
 * one with each font map) has not finished yet: that raced in about one
 * run in twenty.  So the sanitizer build tells LeakSanitizer to ignore
 * leaks allocated inside fontconfig instead; anything else still counts. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

/* Without this, every run would log which suppression it used, and the
 * tests count any sanitizer log as a failure. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

static cairo_status_t to_strbuf(void *closure, const unsigned char *data, unsigned int len)
{
	strbuf_add(closure, (const char *)data, len);
	return CAIRO_STATUS_SUCCESS;
}

static void colour(cairo_t *cr, uint32_t rgb, double alpha)
{
	cairo_set_source_rgba(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
			      (rgb & 0xff) / 255.0, alpha);
}

static void text(cairo_t *cr, PangoContext *ctx, const struct plot_item *it)
{
	PangoLayout *l = pango_layout_new(ctx);
	PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans");
	int w, h;

	pango_font_description_set_absolute_size(fd, it->size * PANGO_SCALE);
	if (it->bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_text(l, it->text, -1);
	pango_layout_get_pixel_size(l, &w, &h);
	cairo_move_to(cr, it->align == PLOT_RIGHT ? it->x - w
			  : it->align == PLOT_CENTRE ? it->x - w / 2.0 : it->x, it->y);
	pango_cairo_show_layout(cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
}

static void paint(cairo_t *cr, PangoContext *ctx, const struct plot *p)
{
	colour(cr, PLOT_WHITE, 1);
	cairo_paint(cr);
	for (size_t i = 0; i < p->n; i++) {
		const struct plot_item *it = &p->v[i];

		colour(cr, it->rgb, it->alpha);
		switch (it->kind) {
		case PLOT_RECT:
			cairo_rectangle(cr, it->x, it->y, it->w, it->h);
			if (it->line_w > 0) {
				cairo_set_line_width(cr, it->line_w);
				cairo_stroke(cr);
			} else {
				cairo_fill(cr);
			}
			break;
		case PLOT_LINE:
			cairo_set_line_width(cr, it->line_w);
			cairo_move_to(cr, it->x, it->y);
			cairo_line_to(cr, it->x + it->w, it->y + it->h);
			cairo_stroke(cr);
			break;
		case PLOT_TEXT:
			text(cr, ctx, it);
			break;
		}
	}
}

int plot_svg_write(const struct plot *p, const char *path)
{
	struct strbuf svg = STRBUF_INIT;
	cairo_surface_t *s;
	cairo_status_t st;
	PangoFontMap *fm;
	PangoContext *ctx;
	cairo_t *cr;
	int ret;

	s = cairo_svg_surface_create_for_stream(to_strbuf, &svg, p->width, p->height);
	cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX);
	cr = cairo_create(s);
	/* A font map of our own rather than pango's per-thread default, so
	 * it is freed once the picture is painted: ktstr's programs run
	 * leak-checked under ASan. */
	fm = pango_cairo_font_map_new();
	ctx = pango_font_map_create_context(fm);
	pango_cairo_update_context(cr, ctx);
	paint(cr, ctx, p);
	st = cairo_status(cr);
	g_object_unref(ctx);
	pango_fc_font_map_shutdown(PANGO_FC_FONT_MAP(fm));
	g_object_unref(fm);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	cairo_debug_reset_static_data();
	if (st != CAIRO_STATUS_SUCCESS) {
		strbuf_release(&svg);
		errno = st == CAIRO_STATUS_NO_MEMORY ? ENOMEM : EIO;
		return -1;
	}
	ret = write_file_atomic(path, svg.buf, svg.len, 0644);
	strbuf_release(&svg);
	return ret;
}
