/* ktstr-stats --trace: keep the records a trace draws on while the run
 * is read, assemble the trace once the verdict is in, write it whole
 * (trace_export.h).  The tracks are drawn in trace_cpus.c,
 * trace_workers.c, trace_marks.c and trace_checks.c. */
#include "trace_int.h"
#include "fsutil.h"
#include "jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The record types the trace uses; the rest (output lines, BPF
 * programs, ...) are not kept. */
static const char *const kept[] = {
	"scenario_start", "scenario_end", "step", "stimulus", "worker", "scheduler",
	"monitor_start", "monitor",
};

void trace_export_init(struct trace_export *t)
{
	t->recs = json_array();
}

void trace_export_release(struct trace_export *t)
{
	json_decref(t->recs);
	t->recs = NULL;
}

void trace_export_feed(struct trace_export *t, const json_t *rec)
{
	const char *type = json_get_str(rec, "type");

	if (!type)
		return;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (!strcmp(type, kept[i])) {
			json_array_append(t->recs, (json_t *)rec);
			return;
		}
}

json_t *trace_export_build(const struct trace_export *t, const struct verdict *v)
{
	json_t *trace = json_object(), *ev = json_array(), *meta = json_object();
	struct trace_clock c;

	trace_clock_build(&c, t->recs);
	trace_marks(ev, t->recs, &c);
	trace_cpus(ev, t->recs, &c);
	trace_checks(ev, v, &c);
	trace_workers(ev, t->recs, &c);
	json_object_set_new(trace, "traceEvents", ev);
	json_set_str(trace, "displayTimeUnit", "ms");
	/* Free-form metadata the viewers show with the trace. */
	json_set_str(meta, "generator", "ktstr-stats --trace");
	json_set_str(meta, "scenario", v->scenario);
	json_set_str(meta, "scheduler", v->scheduler ? v->scheduler : "eevdf");
	json_set_str(meta, "topology", v->topology);
	json_set_str(meta, "result", verdict_result_name(v->result));
	json_set_str(meta, "clock", "host ms since QEMU started (monitor t_ms, host_ms)");
	json_object_set_new(trace, "otherData", meta);
	return trace;
}

int trace_export_check_path(const char *path, const char *example, struct strbuf *err)
{
	char *dir;
	int ret = 0;

	if (!*path) {
		strbuf_addstr(err, "an empty file name");
		return -1;
	}
	if (is_directory(path)) {
		strbuf_addf(err, "is a directory; name a file such as %s", example);
		return -1;
	}
	dir = path_dirname(path);
	if (!is_directory(dir)) {
		strbuf_addf(err, "directory %s does not exist; create it first", dir);
		ret = -1;
	} else if (access(dir, W_OK | X_OK) < 0) {
		strbuf_addf(err, "directory %s is not writable: %s", dir, strerror(errno));
		ret = -1;
	}
	free(dir);
	return ret;
}

int trace_export_write(const char *path, const json_t *trace)
{
	char *s = json_dumps(trace, JSON_COMPACT | JSON_REAL_PRECISION(10));
	int ret;

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	ret = write_file_atomic(path, s, strlen(s), 0644);
	free(s);
	return ret;
}
