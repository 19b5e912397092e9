/* ktstr-verify's cell and summary over what a guest sends: the input is
 * JSON lines (scheduler, bpf_prog, bpf_prog_stats and bpf_probe_error
 * records, kept as lib/runner's caserun keeps them), then after a NUL
 * byte the scheduler's output text.  Each cell is built collapsed and
 * raw, both go into a summary, whose record and human report are made;
 * a cell must come out with one of the three results. */
#include "fuzz.h"
#include "jsonl.h"
#include "verify_cell.h"
#include "verify_summary.h"

struct seen {
	json_t *progs, *stats, *fail;
	bool attached;
	const char *probe_error;
};

static void keep(struct seen *s, json_t *rec)
{
	const char *type = json_get_str(rec, "type"), *ev = json_get_str(rec, "event");

	if (!type)
		return;
	if (!strcmp(type, "bpf_prog"))
		json_array_append(s->progs, rec);
	else if (!strcmp(type, "bpf_prog_stats"))
		json_array_append(s->stats, rec);
	else if (!strcmp(type, "bpf_probe_error") && !s->probe_error)
		s->probe_error = "probe: failed";
	else if (!strcmp(type, "scheduler") && ev && !strcmp(ev, "attached"))
		s->attached = true;
	else if (!strcmp(type, "scheduler") && !s->fail)
		s->fail = json_incref(rec);
}

static void add(struct verify_summary *sum, const struct verify_cell_in *in)
{
	json_t *cell = verify_cell_build(in);
	const char *r = json_get_str(cell, "result");

	if (!r || (strcmp(r, "pass") && strcmp(r, "fail") && strcmp(r, "error")))
		abort();
	verify_summary_add(sum, cell);
	json_decref(cell);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { json_array(), json_array(), NULL, false, NULL };
	struct verify_cell_in in = { .scheduler = "scx_f", .kernel = "k", .preset = "tiny-1llc",
				     .topology = "1n1l4c1t", .accel = "tcg" };
	const uint8_t *nul = memchr(data, '\0', size);
	size_t rlen = nul ? (size_t)(nul - data) : size;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct verify_summary sum;
	const char *p = (const char *)data, *end = p + rlen;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *rec = jsonl_parse(p, len, &err);

		if (rec && json_is_object(rec))
			keep(&s, rec);
		json_decref(rec);
		strbuf_setlen(&err, 0);
		p += len + (nl ? 1 : 0);
	}
	in.attached = s.attached;
	in.sched_fail = s.fail;
	in.progs = s.progs;
	in.stats = s.stats;
	in.probe_error = s.probe_error;
	if (nul) {
		in.output = (const char *)nul + 1;
		in.output_len = size - rlen - 1;
	}
	verify_summary_init(&sum);
	add(&sum, &in);
	in.raw = true;
	in.preset = "smt-2llc";
	add(&sum, &in);
	json_decref(verify_summary_record(&sum, 1));
	verify_summary_human(&sum, &out);
	verify_summary_release(&sum);
	strbuf_release(&out);
	strbuf_release(&err);
	json_decref(s.progs);
	json_decref(s.stats);
	json_decref(s.fail);
	return 0;
}
