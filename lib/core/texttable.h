/* Aligned plain-text tables: the one table printer of the human reports
 * (ktstr-stats' history and phase tables, compare, --list-checks,
 * ktstr-ctprof): columns two spaces apart, each as wide as its widest
 * cell, chosen columns flush right, no trailing blanks.
 *
 *   struct text_table t = TEXT_TABLE_INIT(3);
 *   text_table_add(&t, (const char *[]){ "A", "B", "C" });
 *   text_table_render(&t, right, &out);     (releases t's cells)
 *
 * Text lines (text_table_line) between rows, such as the heading of each
 * group of rows, are printed as they are and keep the columns of every
 * group aligned with each other. */
#ifndef KTSTR_TEXTTABLE_H
#define KTSTR_TEXTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

struct text_table {
	size_t ncols;
	size_t indent;		/* spaces before each row (not text lines) */
	struct strvec cells;	/* row-major, header first */
	bool *text;		/* per row: a text line, not cells */
	size_t text_len;	/* rows text[] covers; later ones are cells */
};
#define TEXT_TABLE_INIT(n) { .ncols = (n), .cells = STRVEC_INIT }

/* Append one row of ncols cells (NULL cells print as ""). */
void text_table_add(struct text_table *t, const char *const *row);
/* Append one cell; rows fill left to right, ncols at a time. */
void text_table_cell(struct text_table *t, const char *cell);
void text_table_cellf(struct text_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append a line printed as it is (without its newline, which render adds;
 * "" for an empty line), after the last complete row. */
void text_table_line(struct text_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Render into out; right[c] (may be NULL) puts column c flush right.
 * Widths count characters (UTF-8 sequences), not bytes.  Releases the
 * cells. */
void text_table_render(struct text_table *t, const bool *right, struct strbuf *out);

#endif
