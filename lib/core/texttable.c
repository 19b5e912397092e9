#include "texttable.h"
#include "diag.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void text_table_add(struct text_table *t, const char *const *row)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		strvec_push(&t->cells, row[i] ? row[i] : "");
}

void text_table_cell(struct text_table *t, const char *cell)
{
	strvec_push(&t->cells, cell ? cell : "");
}

void text_table_cellf(struct text_table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(&t->cells, sb.buf);
	strbuf_release(&sb);
}

void text_table_line(struct text_table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	size_t row, i;
	va_list ap;

	while (t->cells.n % t->ncols)	/* an unfinished row ends here */
		strvec_push(&t->cells, "");
	row = t->cells.n / t->ncols;
	/* A text line takes a row of cells: its text, then empty ones. */
	t->text = xrealloc(t->text, (row + 1) * sizeof(*t->text));
	for (i = t->text_len; i < row; i++)
		t->text[i] = false;
	t->text[row] = true;
	t->text_len = row + 1;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(&t->cells, sb.buf);
	for (i = 1; i < t->ncols; i++)
		strvec_push(&t->cells, "");
	strbuf_release(&sb);
}

static bool is_text(const struct text_table *t, size_t row)
{
	return row < t->text_len && t->text[row];
}

/* Characters in s: each well-formed UTF-8 sequence, or stray byte, is one
 * column on a terminal (wide CJK aside). */
static size_t width(const char *s)
{
	size_t n = 0, left = strlen(s), len;

	for (; left; n++) {
		len = utf8_decode(s, left, NULL);
		len = len ? len : 1;
		s += len;
		left -= len;
	}
	return n;
}

static void pad(struct strbuf *out, size_t n)
{
	while (n--)
		strbuf_addch(out, ' ');
}

static void render_row(const struct text_table *t, const char *const *cells,
		       const size_t *w, const bool *right, struct strbuf *out)
{
	size_t start = out->len, c;

	pad(out, t->indent);
	for (c = 0; c < t->ncols; c++) {
		size_t fill = w[c] - width(cells[c]);

		if (c)
			strbuf_addstr(out, "  ");
		if (right && right[c])
			pad(out, fill);
		strbuf_addstr(out, cells[c]);
		if (!(right && right[c]))
			pad(out, fill);
	}
	while (out->len > start && out->buf[out->len - 1] == ' ')
		strbuf_setlen(out, out->len - 1);
	strbuf_addch(out, '\n');
}

void text_table_render(struct text_table *t, const bool *right, struct strbuf *out)
{
	size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(*w)), r, c, rows;

	rows = t->ncols ? t->cells.n / t->ncols : 0;
	for (r = 0; r < rows; r++)
		for (c = 0; c < t->ncols && !is_text(t, r); c++) {
			size_t l = width(t->cells.v[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (r = 0; r < rows; r++) {
		const char *const *cells = (const char *const *)t->cells.v + r * t->ncols;

		if (is_text(t, r))
			strbuf_addf(out, "%s\n", cells[0]);
		else
			render_row(t, cells, w, right, out);
	}
	free(w);
	free(t->text);
	t->text = NULL;
	t->text_len = 0;
	strvec_clear(&t->cells);
}
