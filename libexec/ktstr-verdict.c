/* ktstr-verdict: the human verdict of one run's records on stdin, for an
 * exported reproducer (ktstr-export(1)) on a machine without ktstr.
 *
 * It is ktstr-stats' verdict without anything else: the same engine
 * (lib/results/verdict.c) and report, linked statically against jansson
 * and libm only so it runs anywhere the static agent runs.  Its exit
 * status is the verdict's, as ktstr-stats'; the run file reports the
 * agent's. */
#include "diag.h"
#include "jsonl.h"
#include "verdict.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ktstr-stats' limit: one record line is at most this long. */
#define MAX_LINE (16u << 20)

static void on_record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct verdict *v = ctx;

	v->line = lineno;
	verdict_feed(v, rec);
}

static void on_bad(void *ctx, unsigned long lineno, const char *why)
{
	struct verdict *v = ctx;

	v->bad_lines++;
}

int main(int argc, char **argv)
{
	static const struct jsonl_ops ops = { .record = on_record, .bad = on_bad };
	struct jsonl_reader r;
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	int code;

	diag_init(argv[0]);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: ktstr-verdict <RECORDS\n\nThe verdict of one run's records "
		     "(as ktstr-stats prints it).");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		puts("ktstr-verdict (ktstr) " KTSTR_VERSION);
		return 0;
	}
	verdict_init(&v);
	jsonl_reader_init(&r, MAX_LINE, &ops, &v);
	if (jsonl_reader_read(&r, STDIN_FILENO) != 0)
		diag("cannot read the records on stdin");
	else
		jsonl_reader_finish(&r);
	jsonl_reader_release(&r);
	verdict_finish(&v, NULL);
	if (v.records)
		verdict_format(&v, &out);
	else
		strbuf_addf(&out, "%s\n", v.reason ? v.reason : "no records");
	fwrite(out.buf, 1, out.len, stdout);
	code = verdict_exit_code(v.result);
	strbuf_release(&out);
	verdict_release(&v);
	return code;
}
