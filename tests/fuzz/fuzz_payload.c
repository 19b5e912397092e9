/* Payload output through payload_metrics_parse: the first byte picks the
 * form (json, pattern, or one of the adapters), the rest is what the
 * program wrote.  Whatever parses must hold only finite metrics with
 * names and units, and survive pmetrics_to_json; a failure must come
 * with one line in err; the output's tail must always be made (abort
 * otherwise: the fuzzer reports it as a crash). */
#include <jansson.h>
#include <math.h>
#include "fuzz.h"
#include "payload.h"

/* Patterns of the pattern form: a number after a word, a group that may
 * hold something else, and a describe override. */
static struct payload_pattern patterns[] = {
	{ .regex = "^([0-9.eE+-]+) usecs/op", .metric = "usecs", .unit = "us",
	  .better = BETTER_LOWER },
	{ .regex = "Time: *([^ ]*)", .metric = "time_s", .unit = "s", .better = BETTER_LOWER },
	{ .regex = "(x*)y", .metric = "xs", .unit = "" },
};
static struct payload_describe describe[] = {
	{ .metric = "time_s", .unit = "ms", .better = BETTER_HIGHER },
	{ .metric = "min_us", .unit = NULL, .better = BETTER_NONE },
};

static const char *form_of(uint8_t b)
{
	const struct payload_adapter *const *a = payload_adapters();
	size_t n = 0;

	while (a[n])
		n++;
	b %= (uint8_t)(n + 2);
	if (b == 0)
		return "json";
	if (b == 1)
		return "pattern";
	return a[b - 2]->name;
}

static void check(const struct pmetrics *m)
{
	json_t *j;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!m->v[i].name || !m->v[i].unit || !isfinite(m->v[i].value) ||
		    pmetrics_get(m, m->v[i].name) != &m->v[i])
			abort();
	j = pmetrics_to_json(m);
	if (!j || json_object_size(j) != m->n)
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload_def d = { .patterns = patterns, .n_patterns = 3,
				 .describe = describe, .n_describe = 2 };
	struct strbuf err = STRBUF_INIT;
	struct pmetrics m = { 0 };
	json_t *tail;
	char *text;

	if (size < 1)
		return 0;
	d.form = (char *)form_of(data[0]);
	text = fuzz_str(data + 1, size - 1);
	if (payload_metrics_parse(&d, text, size - 1, &m, &err) == 0)
		check(&m);
	else if (!err.len || strchr(err.buf, '\n'))
		abort();
	tail = payload_output_tail(text, size - 1, 20);
	if (!tail || json_array_size(tail) > 20)
		abort();
	json_decref(tail);
	pmetrics_release(&m);
	strbuf_release(&err);
	free(text);
	return 0;
}
