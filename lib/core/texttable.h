/* Aligned plain-text tables for the human reports (ktstr-stats' history
 * tables, its phase table, --list-checks): columns two spaces apart,
 * numeric columns flush right, no trailing blanks.
 *
 *   struct text_table t = TEXT_TABLE_INIT(3);
 *   text_table_add(&t, (const char *[]){ "A", "B", "C" });
 *   text_table_render(&t, right, &out);     (releases t's cells) */
#ifndef KTSTR_TEXTTABLE_H
#define KTSTR_TEXTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

struct text_table {
	size_t ncols;
	struct strvec cells;	/* row-major, header first */
};
#define TEXT_TABLE_INIT(n) { .ncols = (n), .cells = STRVEC_INIT }

/* Append one row of ncols cells (NULL cells print as ""). */
void text_table_add(struct text_table *t, const char *const *row);
/* Append one cell; rows fill left to right, ncols at a time. */
void text_table_cell(struct text_table *t, const char *cell);
void text_table_cellf(struct text_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Render into out; right[c] (may be NULL) puts column c flush right.
 * Releases the cells. */
void text_table_render(struct text_table *t, const bool *right, struct strbuf *out);

#endif
