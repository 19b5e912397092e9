/* Tables and records of the run history (stats_report.h). */
#include "stats_report.h"
#include "diag.h"
#include "jsonl.h"
#include "strvec.h"
#include "texttable.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Integers as integers, the rest with about 4 significant digits but
 * never in exponent form above 1; "-" missing. */
static void fmt_num(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else if (isinf(x))
		snprintf(buf, len, "%sinf", x < 0 ? "-" : "+");
	else if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, len, "%.0f", x);
	else if (fabs(x) >= 100)
		snprintf(buf, len, "%.1f", x);
	else if (fabs(x) >= 1)
		snprintf(buf, len, "%.2f", x);
	else
		snprintf(buf, len, "%.3g", x);
	if (strchr(buf, '.') && !strchr(buf, 'e')) {	/* 6.50 -> 6.5 */
		char *e = buf + strlen(buf);

		while (e[-1] == '0')
			*--e = '\0';
		if (e[-1] == '.')
			e[-1] = '\0';
	}
}

static double metric(const struct sidecar *s, const char *name)
{
	json_t *v = json_object_get(s->metrics, name);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- list --------------------------------------------------------------- */

void stats_report_runs(const struct sidecar_run *v, size_t n, bool json,
		       struct strbuf *out)
{
	static const bool right[] = { false, false, false, false, true, false, false };
	const char *head[] = { "RUN", "LABEL", "KERNEL", "SCHEDULERS", "TESTS", "DATE",
			       "ARCH" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	size_t i;

	if (json) {
		for (i = 0; i < n; i++) {
			json_t *o = jsonl_record("run");

			json_set_str(o, "run", v[i].ref);
			json_set_str(o, "dir", v[i].name);
			json_set_str(o, "path", v[i].path);
			json_set_str(o, "id", v[i].id);
			json_set_str(o, "label", v[i].label);
			json_set_str(o, "kernel", v[i].kernel);
			json_set_str(o, "commit", v[i].commit);
			json_set_str(o, "schedulers", v[i].schedulers);
			json_set_int(o, "tests", (long long)v[i].tests);
			json_set_str(o, "date", v[i].date);
			json_set_str(o, "arch", v[i].arch);
			json_set_bool(o, "live", v[i].live);
			jsonl_encode(out, o);
			json_decref(o);
		}
		return;
	}
	text_table_add(&t, head);
	for (i = 0; i < n; i++) {
		text_table_cell(&t, v[i].ref);
		text_table_cell(&t, *v[i].label ? v[i].label : "-");
		text_table_cell(&t, *v[i].kernel ? v[i].kernel : "-");
		text_table_cell(&t, *v[i].schedulers ? v[i].schedulers : "-");
		text_table_cellf(&t, "%zu", v[i].tests);
		/* A run still being written says so where its date goes. */
		text_table_cellf(&t, "%s%s", v[i].date, v[i].live ? " (running)" : "");
		text_table_cell(&t, v[i].arch);
	}
	text_table_render(&t, right, out);
}

/* ---- show --------------------------------------------------------------- */

/* "suite test/preset[...]": the runner writes its case names whole, with
 * the suite in front; sidecars of older writers, and hand-made ones, name
 * only test/preset, and get the suite added. */
static const char *case_label(const struct sidecar *s, struct strbuf *sb)
{
	const char *name = *s->case_name ? s->case_name : *s->test ? s->test : "?";
	size_t sl = strlen(s->suite);

	strbuf_reset(sb);
	if (sl && !(!strncmp(name, s->suite, sl) && name[sl] == ' '))
		strbuf_addf(sb, "%s ", s->suite);
	strbuf_addstr(sb, name);
	return sb->buf;
}

json_t *stats_case_json(const char *run, const struct sidecar *s)
{
	json_t *o = jsonl_record("case");
	json_t *rep = json_object_get(s->doc, "repeat");
	json_t *wall = json_object_get(s->doc, "wall_ms");
	json_t *reason = json_object_get(s->doc, "reason");

	json_set_str(o, "run", run);
	json_set_str(o, "path", s->path);
	json_set_str(o, "case", s->case_name);
	json_set_str(o, "suite", s->suite);
	json_set_str(o, "test", s->test);
	json_set_str(o, "preset", s->preset);
	json_set_str(o, "topology", s->topology);
	json_set_str(o, "scheduler", s->scheduler);
	json_set_str(o, "kernel", s->kernel);
	json_set_str(o, "commit", s->commit);
	json_set_str(o, "run_source", s->run_source);
	json_set_str(o, "run_id", s->run_id);
	json_set_str(o, "timestamp", s->timestamp);
	json_set_str(o, "arch", s->arch);
	json_object_set_new(o, "repeat", json_is_integer(rep) ? json_copy(rep) : json_null());
	json_set_str(o, "result", s->result);
	json_object_set_new(o, "reason", json_is_string(reason) ? json_copy(reason)
								  : json_null());
	json_object_set_new(o, "wall_ms", json_is_number(wall) ? json_copy(wall) : json_null());
	json_object_set(o, "metrics", s->metrics);
	return o;
}

size_t stats_report_cases(const char *run, const struct sidecar_set *set,
			  const struct compare_filter *f, bool json, struct strbuf *out)
{
	static const char *const cols[] = { "worst_spread_pct", "worst_gap_ms",
		"total_iterations", "worst_p99_wake_latency_us", "total_migrations" };
	static const bool right[] = { false, true, false, true, true, true, true, true };
	const char *head[] = { "CASE", "REPEAT", "RESULT", "SPREAD_PCT", "GAP_MS",
			       "ITERATIONS", "P99_WAKE_US", "MIGRATIONS" };
	struct text_table t = TEXT_TABLE_INIT(ARRAY_SIZE(head));
	struct strbuf label = STRBUF_INIT;
	size_t i, c, shown = 0;

	text_table_add(&t, head);
	for (i = 0; i < set->n; i++) {
		const struct sidecar *s = &set->v[i];
		char nums[ARRAY_SIZE(cols)][32], rep[32];
		const char *row[ARRAY_SIZE(head)];
		json_t *r = json_object_get(s->doc, "repeat");

		if (!compare_filter_match(f, s))
			continue;
		shown++;
		if (json) {
			json_t *o = stats_case_json(run, s);

			jsonl_encode(out, o);
			json_decref(o);
			continue;
		}
		fmt_num(rep, sizeof(rep), json_is_integer(r) ? (double)json_integer_value(r)
							      : NAN);
		row[0] = case_label(s, &label);
		row[1] = rep;
		row[2] = *s->result ? s->result : "?";
		for (c = 0; c < ARRAY_SIZE(cols); c++) {
			fmt_num(nums[c], sizeof(nums[c]), metric(s, cols[c]));
			row[3 + c] = nums[c];
		}
		text_table_add(&t, row);
		/* the table copies the cells, label can be reused */
	}
	if (!json && shown)
		text_table_render(&t, right, out);
	strvec_clear(&t.cells);
	strbuf_release(&label);
	return shown;
}
