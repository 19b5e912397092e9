/* The scheduler's BPF programs in the verdict (verdict_int.h): the agent's
 * bpf_prog records (what the verifier said of each program at attach)
 * and bpf_prog_stats records (what each cost over the measured window,
 * with ktstr-vm --bpf-stats), their part of the verdict record and of
 * the report.  They are figures, not checks: a program's cost depends on
 * the host and the emulator as much as on the scheduler, so it fails no
 * single run; "ktstr-stats compare" judges it between runs. */
#include "verdict_int.h"
#include "diag.h"
#include "jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Programs listed in the report; a scheduler loads a few dozen at most,
 * so more than this is a stream gone wrong. */
#define BPF_LINES_MAX 64

/* ---- intake ------------------------------------------------------------- */

/* A number field, NAN when missing, null or not a non-negative number
 * (warned): every figure of these records is a count, a size or a time. */
static double num(struct verdict *v, const json_t *rec, const char *type, const char *key)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return NAN;
	if (!json_is_number(j) || !isfinite(json_number_value(j)) ||
	    json_number_value(j) < 0) {
		verdict_warn_field(v, type, key, "a number >= 0");
		return NAN;
	}
	return json_number_value(j);
}

/* Replace *dst with the string field key when the record has one. */
static void set_str(struct verdict *v, const json_t *rec, const char *type,
		    const char *key, char **dst)
{
	json_t *j = json_object_get(rec, key);

	if (!j || json_is_null(j))
		return;
	if (!json_is_string(j)) {
		verdict_warn_field(v, type, key, "a string");
		return;
	}
	free(*dst);
	*dst = vd_one_line(json_string_value(j));
}

/* The program a record is about: by id when it has one (names repeat
 * across schedulers' objects, ids do not within a boot), else by name;
 * made on first sight.  NULL when the record names neither. */
static struct verdict_bpf_prog *prog_of(struct verdict *v, const json_t *rec,
					const char *type)
{
	const char *name = json_get_str(rec, "name");
	double id = num(v, rec, type, "id");
	struct verdict_bpf_prog *p;

	if (!name && isnan(id)) {
		verdict_warn_field(v, type, "name", "a program name or an id");
		return NULL;
	}
	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		p = &v->bpf_progs[i];
		if (!isnan(id) && !isnan(p->id) ? p->id == id
						 : name && p->name && !strcmp(p->name, name))
			return p;
	}
	if (v->n_bpf_progs == v->alloc_bpf_progs) {
		v->alloc_bpf_progs = v->alloc_bpf_progs ? 2 * v->alloc_bpf_progs : 8;
		v->bpf_progs = xrealloc(v->bpf_progs, v->alloc_bpf_progs * sizeof(*p));
	}
	p = &v->bpf_progs[v->n_bpf_progs++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->verified_insns = p->xlated_bytes = p->jited_bytes = p->nr_maps = NAN;
	p->run_cnt = p->run_time_ns = p->ns_per_run = p->window_ms = NAN;
	return p;
}

void vd_feed_bpf_prog(struct verdict *v, const json_t *rec)
{
	static const char T[] = "bpf_prog";
	struct verdict_bpf_prog *p = prog_of(v, rec, T);

	if (!p)
		return;
	p->have_prog = true;
	set_str(v, rec, T, "name", &p->name);
	set_str(v, rec, T, "prog_type", &p->prog_type);
	set_str(v, rec, T, "scheduler", &p->scheduler);
	p->verified_insns = num(v, rec, T, "verified_insns");
	p->xlated_bytes = num(v, rec, T, "xlated_bytes");
	p->jited_bytes = num(v, rec, T, "jited_bytes");
	p->nr_maps = num(v, rec, T, "nr_maps");
}

void vd_feed_bpf_prog_stats(struct verdict *v, const json_t *rec)
{
	static const char T[] = "bpf_prog_stats";
	struct verdict_bpf_prog *p = prog_of(v, rec, T);

	if (!p)
		return;
	p->have_stats = true;
	set_str(v, rec, T, "name", &p->name);
	set_str(v, rec, T, "prog_type", &p->prog_type);
	p->run_cnt = num(v, rec, T, "run_cnt");
	p->run_time_ns = num(v, rec, T, "run_time_ns");
	p->ns_per_run = num(v, rec, T, "ns_per_run");
	p->window_ms = num(v, rec, T, "window_ms");
	/* The agent rounds ns_per_run; the exact quotient when it can be had. */
	if (p->run_cnt > 0 && !isnan(p->run_time_ns))
		p->ns_per_run = p->run_time_ns / p->run_cnt;
	else if (p->run_cnt == 0)
		p->ns_per_run = NAN;
}

void vd_bpf_release(struct verdict *v)
{
	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		free(v->bpf_progs[i].name);
		free(v->bpf_progs[i].prog_type);
		free(v->bpf_progs[i].scheduler);
	}
	free(v->bpf_progs);
	v->bpf_progs = NULL;
	v->n_bpf_progs = v->alloc_bpf_progs = 0;
}

/* ---- the verdict record ------------------------------------------------- */

json_t *verdict_bpf_programs_json(const struct verdict *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		const struct verdict_bpf_prog *p = &v->bpf_progs[i];
		json_t *o = json_object();

		json_object_set_new(o, "id", vd_json_num(p->id));
		json_set_str(o, "name", p->name);
		json_set_str(o, "prog_type", p->prog_type);
		json_set_str(o, "scheduler", p->scheduler);
		json_object_set_new(o, "verified_insns", vd_json_num(p->verified_insns));
		json_object_set_new(o, "xlated_bytes", vd_json_num(p->xlated_bytes));
		json_object_set_new(o, "jited_bytes", vd_json_num(p->jited_bytes));
		json_object_set_new(o, "nr_maps", vd_json_num(p->nr_maps));
		json_object_set_new(o, "run_cnt", vd_json_num(p->run_cnt));
		json_object_set_new(o, "run_time_ns", vd_json_num(p->run_time_ns));
		json_object_set_new(o, "ns_per_run", vd_json_num(p->ns_per_run));
		json_object_set_new(o, "window_ms", vd_json_num(p->window_ms));
		json_array_append_new(a, o);
	}
	return a;
}

/* ---- the report --------------------------------------------------------- */

/* "bpf programs (scx_simple, cost over 2004ms):" */
static void format_head(const struct verdict *v, bool stats, struct strbuf *out)
{
	const char *sched = NULL;
	double window = NAN;

	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		if (!sched)
			sched = v->bpf_progs[i].scheduler;
		if (isnan(window))
			window = v->bpf_progs[i].window_ms;
	}
	strbuf_addstr(out, "bpf programs");
	if (sched || stats)
		strbuf_addstr(out, " (");
	if (sched)
		strbuf_addf(out, "%s%s", sched, stats ? ", " : "");
	if (stats) {
		strbuf_addstr(out, "cost over ");
		vd_add_stat(out, window, "ms");
	}
	strbuf_addstr(out, sched || stats ? "):\n" : ":\n");
}

static void format_prog(const struct verdict_bpf_prog *p, int name_w, int type_w,
			bool stats, struct strbuf *out)
{
	strbuf_addf(out, "  %-*s %-*s verified_insns=", name_w, p->name ? p->name : "?",
		    type_w, p->prog_type ? p->prog_type : "?");
	vd_add_num(out, p->verified_insns);
	if (stats) {
		strbuf_addstr(out, " run_cnt=");
		vd_add_num(out, p->run_cnt);
		strbuf_addstr(out, " ns/run=");
		/* nothing ran: no cost to speak of, rather than one unknown */
		if (p->run_cnt == 0)
			strbuf_addch(out, '-');
		else
			vd_add_num(out, isnan(p->ns_per_run) ? NAN
							  : round(p->ns_per_run * 10) / 10);
	}
	strbuf_addch(out, '\n');
}

void vd_format_bpf(const struct verdict *v, struct strbuf *out)
{
	int name_w = 1, type_w = 1;
	bool stats = false;

	if (!v->n_bpf_progs)
		return;
	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		const struct verdict_bpf_prog *p = &v->bpf_progs[i];
		int nw = p->name ? (int)strlen(p->name) : 1;
		int tw = p->prog_type ? (int)strlen(p->prog_type) : 1;

		name_w = nw > name_w && nw < 64 ? nw : name_w;
		type_w = tw > type_w && tw < 32 ? tw : type_w;
		stats |= p->have_stats;
	}
	format_head(v, stats, out);
	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		if (i == BPF_LINES_MAX) {
			strbuf_addf(out, "  [... %zu more programs; all of them are in the"
				    " records]\n", v->n_bpf_progs - BPF_LINES_MAX);
			break;
		}
		format_prog(&v->bpf_progs[i], name_w, type_w, stats, out);
	}
}
