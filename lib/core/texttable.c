#include "texttable.h"
#include "diag.h"

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

void text_table_render(struct text_table *t, const bool *right, struct strbuf *out)
{
	size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(*w)), r, c, rows;

	rows = t->ncols ? t->cells.n / t->ncols : 0;
	for (r = 0; r < rows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells.v[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (r = 0; r < rows; r++) {
		size_t start = out->len;

		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells.v[r * t->ncols + c];

			if (c)
				strbuf_addstr(out, "  ");
			if (right && right[c])
				strbuf_addf(out, "%*s", (int)w[c], s);
			else
				strbuf_addf(out, "%-*s", (int)w[c], s);
		}
		while (out->len > start && out->buf[out->len - 1] == ' ')
			strbuf_setlen(out, out->len - 1);
		strbuf_addch(out, '\n');
	}
	free(w);
	strvec_clear(&t->cells);
}
