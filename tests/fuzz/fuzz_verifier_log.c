/* A scheduler's output through verifier_log_extract, and each failure's
 * log through verifier_log_collapse with the defaults and with the
 * smallest thresholds (period 1, 3 repeats: the most folding).  Every
 * line the collapse keeps, markers aside, must be a line of its input in
 * order, and the count it returns must be the lines it left out (abort
 * otherwise: the fuzzer reports it as a crash). */
#include <stdio.h>
#include "fuzz.h"
#include "verifier_log.h"

static bool is_marker(const char *s)
{
	unsigned long long n;
	int end = -1;

	return sscanf(s, "... %llu iterations collapsed ...%n", &n, &end) == 1 &&
	       end > 0 && s[end] == '\0';
}

static void check(const struct strvec *in, unsigned period, unsigned repeats)
{
	struct strvec out = STRVEC_INIT;
	size_t removed = verifier_log_collapse(in, &out, period, repeats);
	size_t i = 0, j, kept = 0, in_markers = 0;

	for (j = 0; j < in->n; j++)
		in_markers += is_marker(in->v[j]);
	for (j = 0; j < out.n; j++) {
		if (is_marker(out.v[j]))
			continue;
		while (i < in->n && strcmp(in->v[i], out.v[j]))
			i++;
		if (i == in->n)
			abort();
		i++;
		kept++;
	}
	/* Markers the input already had may fold away like any line. */
	if (kept > in->n || removed > in->n || kept + removed + in_markers < in->n)
		abort();
	strvec_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct verifier_failure *v;
	size_t n, k;

	if (verifier_log_extract((const char *)data, size, &v, &n, &err))
		abort();
	for (k = 0; k < n; k++) {
		if (!v[k].program || !v[k].error)
			abort();
		check(&v[k].log, VERIFIER_MIN_PERIOD, VERIFIER_MIN_REPEATS);
		check(&v[k].log, 1, 3);
	}
	verifier_failures_free(v, n);
	strbuf_release(&err);
	return 0;
}
