/* A ktstr-verify cell's record (verify_cell.h). */
#include "verify_cell.h"
#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"
#include "strvec.h"
#include "verifier_log.h"

#include <string.h>

/* A field of rec copied as it is (null when absent). */
static void copy_field(json_t *dst, const char *key, const json_t *rec, const char *from)
{
	json_t *v = rec ? json_object_get(rec, from) : NULL;

	json_object_set_new(dst, key, v ? json_deep_copy(v) : json_null());
}

static const json_t *stats_for(const json_t *stats, json_int_t id)
{
	size_t i;
	json_t *s;

	json_array_foreach(stats, i, s) {
		json_t *sid = json_object_get(s, "id");

		if (json_is_integer(sid) && json_integer_value(sid) == id)
			return s;
	}
	return NULL;
}

json_t *verify_cell_programs(const json_t *progs, const json_t *stats)
{
	json_t *out = json_array(), *p;
	size_t i;

	json_array_foreach(progs, i, p) {
		json_t *o = json_object(), *id = json_object_get(p, "id");
		const json_t *s = json_is_integer(id) && stats ?
			stats_for(stats, json_integer_value(id)) : NULL;

		copy_field(o, "name", p, "name");
		copy_field(o, "prog_type", p, "prog_type");
		copy_field(o, "verified_insns", p, "verified_insns");
		copy_field(o, "xlated_bytes", p, "xlated_bytes");
		copy_field(o, "jited_bytes", p, "jited_bytes");
		copy_field(o, "nr_maps", p, "nr_maps");
		copy_field(o, "run_cnt", s, "run_cnt");
		copy_field(o, "run_time_ns", s, "run_time_ns");
		copy_field(o, "ns_per_run", s, "ns_per_run");
		json_array_append_new(out, o);
	}
	return out;
}

/* The failure's text: the whole output when the caller has it, else the
 * last lines the scheduler record carried. */
static char *failure_text(const struct verify_cell_in *in, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *out = in->sched_fail ? json_object_get(in->sched_fail, "output") : NULL, *l;
	size_t i;

	if (in->output) {
		/* Bytes, not a C string: the output may hold NULs. */
		char *copy = xmalloc(in->output_len + 1);

		memcpy(copy, in->output, in->output_len);
		copy[in->output_len] = '\0';
		*len = in->output_len;
		return copy;
	}
	json_array_foreach(out, i, l)
		if (json_is_string(l))
			strbuf_addf(&sb, "%s\n", json_string_value(l));
	return strbuf_detach(&sb, len);
}

static json_t *strvec_json(const struct strvec *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

/* failed_program, error, log and log_lines_raw of a load failure. */
static void add_failure(json_t *cell, const struct verify_cell_in *in)
{
	struct verifier_failure *f = NULL;
	struct strbuf err = STRBUF_INIT;
	struct strvec col = STRVEC_INIT;
	size_t n = 0, len;
	char *text = failure_text(in, &len);

	if (verifier_log_extract(text, len, &f, &n, &err) < 0)
		n = 0;		/* not a verifier failure we can show */
	if (n) {
		/* The first program libbpf gave up on: the load stops there. */
		json_set_str(cell, "failed_program", f[0].program);
		json_set_str(cell, "error", f[0].error);
		if (in->raw)
			json_object_set_new(cell, "log", strvec_json(&f[0].log));
		else {
			verifier_log_collapse(&f[0].log, &col, VERIFIER_MIN_PERIOD,
					      VERIFIER_MIN_REPEATS);
			json_object_set_new(cell, "log", strvec_json(&col));
		}
		json_set_int(cell, "log_lines_raw", (long long)f[0].log.n);
	}
	verifier_failures_free(f, n);
	strvec_clear(&col);
	strbuf_release(&err);
	free(text);
}

/* The result and its reason; the failure fields when it failed. */
static void judge(json_t *cell, const struct verify_cell_in *in)
{
	const char *why = in->sched_fail ? json_get_str(in->sched_fail, "reason") : NULL;
	const char *ev = in->sched_fail ? json_get_str(in->sched_fail, "event") : NULL;
	bool have_progs = in->progs && json_array_size(in->progs) > 0;

	if (in->error) {
		json_set_str(cell, "result", "error");
		json_set_str(cell, "reason", in->error);
	} else if (!in->attached && in->sched_fail) {
		json_set_str(cell, "result", "fail");
		json_object_set_new(cell, "reason", json_sprintf(
			"the scheduler %s: %s", ev && !strcmp(ev, "died") ?
			"died before it attached" : "did not attach", why ? why : "no reason given"));
		add_failure(cell, in);
		return;
	} else if (!in->attached) {
		json_set_str(cell, "result", "error");
		json_set_str(cell, "reason", "the scheduler neither attached nor failed to "
			     "(no scheduler attach record); the run ended before it");
	} else if (!have_progs) {
		json_set_str(cell, "result", "error");
		if (in->probe_error)
			json_object_set_new(cell, "reason", json_sprintf(
				"the scheduler attached but the guest could not read its BPF "
				"programs (%s)", in->probe_error));
		else
			json_set_str(cell, "reason", "the scheduler attached but the guest "
				     "reported no bpf_prog records: is the guest agent built "
				     "with its BPF probe?");
	} else {
		json_set_str(cell, "result", "pass");
		/* Verified and attached: a later death is the probe's concern,
		 * worth a note, not a verifier verdict. */
		if (in->sched_fail)
			json_object_set_new(cell, "reason", json_sprintf(
				"verified and attached, then died: %s", why ? why : "no reason given"));
		else
			json_object_set_new(cell, "reason", json_null());
	}
}

json_t *verify_cell_build(const struct verify_cell_in *in)
{
	static const char *const order[] = { "result", "reason", "programs", "failed_program",
					     "error", "log", "log_lines_raw" };
	json_t *cell = jsonl_record("verifier_cell");
	size_t i;

	json_set_str(cell, "scheduler", in->scheduler);
	json_set_str(cell, "kernel", in->kernel);
	json_set_str(cell, "kernel_image", in->kernel_image);
	json_set_str(cell, "preset", in->preset);
	json_set_str(cell, "topology", in->topology);
	/* The documented key order; judge fills them in place. */
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		json_object_set_new(cell, order[i], json_null());
	judge(cell, in);
	json_object_set_new(cell, "programs", in->progs && !in->error ?
			    verify_cell_programs(in->progs, in->stats) : json_array());
	json_set_int(cell, "wall_ms", in->wall_ms);
	json_set_str(cell, "accel", in->accel);
	return cell;
}

char *verify_cell_file_name(const char *sched, const char *kernel, const char *preset)
{
	char *s = xasprintf("%s__%s__%s.json", sched, kernel, preset), *p;

	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '+' ||
		      *p == '-'))
			*p = '_';
	return s;
}
