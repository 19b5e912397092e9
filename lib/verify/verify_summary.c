/* ktstr-verify's summary (verify_summary.h). */
#include "verify_summary.h"
#include "diag.h"
#include "gauntlet.h"
#include "jsonl.h"
#include "strvec.h"
#include "texttable.h"
#include "verify_cell.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void verify_summary_init(struct verify_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->cells = json_array();
}

void verify_summary_release(struct verify_summary *s)
{
	json_decref(s->cells);
	memset(s, 0, sizeof(*s));
}

static const char *cstr(const json_t *c, const char *key)
{
	const char *v = json_get_str(c, key);

	return v ? v : "";
}

void verify_summary_add(struct verify_summary *s, const json_t *cell)
{
	const char *r = cstr(cell, "result");

	json_array_append_new(s->cells, json_deep_copy(cell));
	if (!strcmp(r, "pass"))
		s->passed++;
	else if (!strcmp(r, "fail"))
		s->failed++;
	else
		s->errors++;
}

/* ---- per program ---------------------------------------------------- */

struct prog_row {
	const char *sched, *prog;
	long long lo, hi;
	double ns_lo, ns_hi;	/* NAN: no run figures */
	size_t cells;
};

struct prog_rows {
	struct prog_row *v;
	size_t n;
};

static struct prog_row *row_for(struct prog_rows *r, const char *sched, const char *prog)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].sched, sched) && !strcmp(r->v[i].prog, prog))
			return &r->v[i];
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n] = (struct prog_row){ sched, prog, 0, 0, NAN, NAN, 0 };
	return &r->v[r->n++];
}

static void add_prog(struct prog_rows *r, const char *sched, const json_t *p)
{
	const char *name = json_get_str(p, "name");
	json_t *ns = json_object_get(p, "ns_per_run");
	long long insns = json_get_int(p, "verified_insns", -1);
	struct prog_row *row;

	if (!name || insns < 0)
		return;
	row = row_for(r, sched, name);
	if (!row->cells++ || insns < row->lo)
		row->lo = insns;
	if (row->cells == 1 || insns > row->hi)
		row->hi = insns;
	if (json_is_number(ns)) {
		double v = json_number_value(ns);

		if (isnan(row->ns_lo) || v < row->ns_lo)
			row->ns_lo = v;
		if (isnan(row->ns_hi) || v > row->ns_hi)
			row->ns_hi = v;
	}
}

static int cmp_row(const void *a, const void *b)
{
	const struct prog_row *x = a, *y = b;
	int c = strcmp(x->sched, y->sched);

	return c ? c : strcmp(x->prog, y->prog);
}

/* Every program of the cells that passed, sorted; strings point into s. */
static struct prog_rows prog_rows(const struct verify_summary *s)
{
	struct prog_rows r = { NULL, 0 };
	json_t *c, *p;
	size_t i, j;

	json_array_foreach(s->cells, i, c) {
		if (strcmp(cstr(c, "result"), "pass"))
			continue;
		json_array_foreach(json_object_get(c, "programs"), j, p)
			add_prog(&r, cstr(c, "scheduler"), p);
	}
	if (r.n > 1)
		qsort(r.v, r.n, sizeof(*r.v), cmp_row);
	return r;
}

/* To 4 decimals: one instruction of the limit is 0.0001%. */
static double pct_of_limit(long long insns)
{
	return round(1e6 * (double)insns / (double)VERIFY_LIMIT_INSNS) / 1e4;
}

/* ---- the record --------------------------------------------------------- */

static int cmp_cell(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	int c = strcmp(cstr(x, "scheduler"), cstr(y, "scheduler"));

	if (!c)
		c = strcmp(cstr(x, "kernel"), cstr(y, "kernel"));
	return c ? c : strcmp(cstr(x, "preset"), cstr(y, "preset"));
}

/* The cells of one result (NULL: all), sorted; borrowed references. */
static const json_t **sorted_cells(const struct verify_summary *s, const char *result, size_t *n)
{
	const json_t **v = xcalloc(json_array_size(s->cells) + 1, sizeof(*v));
	json_t *c;
	size_t i;

	*n = 0;
	json_array_foreach(s->cells, i, c)
		if (!result || !strcmp(cstr(c, "result"), result))
			v[(*n)++] = c;
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_cell);
	return v;
}

json_t *verify_summary_record(const struct verify_summary *s, long long wall_ms)
{
	json_t *rec = jsonl_record("verifier_summary"), *a;
	struct prog_rows r = prog_rows(s);
	const json_t **fails;
	size_t i, n;

	json_set_int(rec, "cells", (long long)json_array_size(s->cells));
	json_set_int(rec, "passed", (long long)s->passed);
	json_set_int(rec, "failed", (long long)s->failed);
	json_set_int(rec, "errors", (long long)s->errors);
	json_set_int(rec, "limit_insns", VERIFY_LIMIT_INSNS);
	a = json_array();
	for (i = 0; i < r.n; i++) {
		json_t *o = json_object();

		json_set_str(o, "scheduler", r.v[i].sched);
		json_set_str(o, "program", r.v[i].prog);
		json_set_int(o, "verified_insns_min", r.v[i].lo);
		json_set_int(o, "verified_insns_max", r.v[i].hi);
		json_set_real(o, "max_pct_of_limit", pct_of_limit(r.v[i].hi));
		json_set_int(o, "cells", (long long)r.v[i].cells);
		json_array_append_new(a, o);
	}
	json_object_set_new(rec, "programs", a);
	a = json_array();
	fails = sorted_cells(s, "fail", &n);
	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		json_set_str(o, "scheduler", json_get_str(fails[i], "scheduler"));
		json_set_str(o, "kernel", json_get_str(fails[i], "kernel"));
		json_set_str(o, "preset", json_get_str(fails[i], "preset"));
		json_set_str(o, "failed_program", json_get_str(fails[i], "failed_program"));
		json_array_append_new(a, o);
	}
	json_object_set_new(rec, "failing", a);
	json_set_int(rec, "wall_ms", wall_ms);
	free(fails);
	free(r.v);
	return rec;
}

/* ---- the human report --------------------------------------------------- */

static void human_programs(const struct verify_summary *s, struct strbuf *out)
{
	static const bool right[] = { false, false, true, true, true, true };
	struct text_table t = TEXT_TABLE_INIT(6);
	struct prog_rows r = prog_rows(s);
	size_t i;

	if (!r.n)
		return;
	strbuf_addf(out, "verified instructions per program (lo..hi over the cells that "
		    "passed; limit %lld):\n", VERIFY_LIMIT_INSNS);
	t.indent = 2;
	text_table_add(&t, (const char *[]){ "SCHEDULER", "PROGRAM", "VERIFIED_INSNS",
					     "OF LIMIT", "CELLS", "NS/RUN" });
	for (i = 0; i < r.n; i++) {
		const struct prog_row *p = &r.v[i];

		text_table_cell(&t, p->sched);
		text_table_cell(&t, p->prog);
		if (p->lo == p->hi)
			text_table_cellf(&t, "%lld", p->hi);
		else
			text_table_cellf(&t, "%lld..%lld", p->lo, p->hi);
		text_table_cellf(&t, "%.2f%%", pct_of_limit(p->hi));
		text_table_cellf(&t, "%zu", p->cells);
		if (isnan(p->ns_lo))
			text_table_cell(&t, "-");
		else if (p->ns_lo == p->ns_hi)
			text_table_cellf(&t, "%.1f", p->ns_lo);
		else
			text_table_cellf(&t, "%.1f..%.1f", p->ns_lo, p->ns_hi);
	}
	text_table_render(&t, right, out);
	strbuf_addch(out, '\n');
	free(r.v);
}

static const char *grid_word(const json_t *c)
{
	const char *r = cstr(c, "result");

	return !strcmp(r, "pass") ? "pass" : !strcmp(r, "fail") ? "FAIL" : "error";
}

/* A grid column: one kernel and preset. */
struct grid_col {
	const char *kernel, *preset;
};

/* Presets in the gauntlet's order (small to large), unknown ones last. */
static size_t preset_rank(const char *name)
{
	const struct preset *p = preset_find(name);
	size_t n;

	return p ? (size_t)(p - preset_table(&n)) : (size_t)-1;
}

static int cmp_col(const void *a, const void *b)
{
	const struct grid_col *x = a, *y = b;
	int c = strcmp(x->kernel, y->kernel);
	size_t rx, ry;

	if (c)
		return c;
	rx = preset_rank(x->preset);
	ry = preset_rank(y->preset);
	return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x->preset, y->preset);
}

/* The distinct columns of the cells, sorted; strings point into v. */
static struct grid_col *grid_cols(const json_t **v, size_t n, size_t *ncols)
{
	struct grid_col *cols = xcalloc(n + 1, sizeof(*cols));
	size_t i, j;

	*ncols = 0;
	for (i = 0; i < n; i++) {
		struct grid_col c = { cstr(v[i], "kernel"), cstr(v[i], "preset") };

		for (j = 0; j < *ncols && cmp_col(&cols[j], &c); j++)
			;
		if (j == *ncols)
			cols[(*ncols)++] = c;
	}
	if (*ncols > 1)
		qsort(cols, *ncols, sizeof(*cols), cmp_col);
	return cols;
}

static const char *grid_cell(const json_t **v, size_t n, const char *sched,
			     const struct grid_col *col)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (!strcmp(cstr(v[k], "scheduler"), sched) &&
		    !strcmp(cstr(v[k], "kernel"), col->kernel) &&
		    !strcmp(cstr(v[k], "preset"), col->preset))
			return grid_word(v[k]);
	return "-";
}

/* Rows: schedulers, sorted; columns: kernel/preset, by kernel then in
 * the presets' order. */
static void human_grid(const struct verify_summary *s, struct strbuf *out)
{
	struct strvec rows = STRVEC_INIT;
	struct grid_col *cols;
	struct text_table t;
	const json_t **v;
	size_t i, j, n, ncols;

	v = sorted_cells(s, NULL, &n);
	for (i = 0; i < n; i++)
		strvec_push_unique(&rows, cstr(v[i], "scheduler"));
	cols = grid_cols(v, n, &ncols);
	t = (struct text_table)TEXT_TABLE_INIT(ncols + 1);
	t.indent = 2;
	strbuf_addstr(out, "pass/fail grid (scheduler x kernel/preset):\n");
	text_table_cell(&t, "SCHEDULER");
	for (j = 0; j < ncols; j++)
		text_table_cellf(&t, "%s/%s", cols[j].kernel, cols[j].preset);
	for (i = 0; i < rows.n; i++) {
		text_table_cell(&t, rows.v[i]);
		for (j = 0; j < ncols; j++)
			text_table_cell(&t, grid_cell(v, n, rows.v[i], &cols[j]));
	}
	text_table_render(&t, NULL, out);
	strbuf_addch(out, '\n');
	strvec_clear(&rows);
	free(cols);
	free(v);
}

/* Whether two log lines match, kernel addresses aside: hex numbers of 8
 * digits or more (map and kfunc addresses) differ from boot to boot. */
static bool same_line(const char *a, const char *b)
{
	while (*a && *b) {
		size_t na = 0, nb = 0;

		if (!strncmp(a, "0x", 2) && !strncmp(b, "0x", 2)) {
			na = strspn(a + 2, "0123456789abcdef");
			nb = strspn(b + 2, "0123456789abcdef");
		}
		if (na >= 8 && nb >= 8) {
			a += 2 + na;
			b += 2 + nb;
			continue;
		}
		if (*a++ != *b++)
			return false;
	}
	return *a == *b;
}

static bool same_log(const json_t *a, const json_t *b)
{
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		return false;
	for (i = 0; i < json_array_size(a); i++) {
		const char *x = json_string_value(json_array_get(a, i));
		const char *y = json_string_value(json_array_get(b, i));

		if (!x || !y || !same_line(x, y))
			return false;
	}
	return true;
}

/* One failing cell; a log already shown for an earlier cell is named,
 * not repeated (the same scheduler usually fails alike on every preset). */
static void human_failure(const json_t *c, const json_t **shown, size_t nshown,
			  struct strbuf *out)
{
	const json_t *log = json_object_get(c, "log");
	size_t i, j;
	json_t *l;

	strbuf_addf(out, "  %s on %s %s: %s\n", cstr(c, "scheduler"), cstr(c, "kernel"),
		    cstr(c, "preset"), cstr(c, "reason"));
	if (json_get_str(c, "failed_program"))
		strbuf_addf(out, "    program %s: %s\n", cstr(c, "failed_program"),
			    cstr(c, "error"));
	if (!json_is_array(log) || !json_array_size(log))
		return;
	for (i = 0; i < nshown; i++)
		if (same_log(json_object_get(shown[i], "log"), log)) {
			strbuf_addf(out, "    verifier log: as for %s on %s %s above\n",
				    cstr(shown[i], "scheduler"), cstr(shown[i], "kernel"),
				    cstr(shown[i], "preset"));
			return;
		}
	strbuf_addf(out, "    verifier log (%zu lines, %lld before collapsing):\n",
		    json_array_size(log), json_get_int(c, "log_lines_raw", 0));
	json_array_foreach(log, j, l)
		strbuf_addf(out, "    | %s\n", json_string_value(l) ? json_string_value(l) : "");
}

static void human_failures(const struct verify_summary *s, struct strbuf *out)
{
	const json_t **v;
	size_t i, n;

	v = sorted_cells(s, "fail", &n);
	if (n)
		strbuf_addstr(out, "failing cells:\n");
	for (i = 0; i < n; i++)
		human_failure(v[i], v, i, out);
	free(v);
	v = sorted_cells(s, "error", &n);
	if (n)
		strbuf_addstr(out, "cells in error (no verdict on the scheduler):\n");
	for (i = 0; i < n; i++)
		strbuf_addf(out, "  %s on %s %s: %s\n", cstr(v[i], "scheduler"),
			    cstr(v[i], "kernel"), cstr(v[i], "preset"), cstr(v[i], "reason"));
	free(v);
}

void verify_summary_human(const struct verify_summary *s, struct strbuf *out)
{
	human_programs(s, out);
	if (json_array_size(s->cells))
		human_grid(s, out);
	human_failures(s, out);
}
