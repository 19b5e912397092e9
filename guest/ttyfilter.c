#include "ttyfilter.h"

#include <string.h>

unsigned dsr_filter(struct dsr_filter *f, const char *in, size_t n, struct strbuf *out)
{
	static const char q[] = DSR_QUERY;
	const size_t qlen = sizeof(q) - 1;
	unsigned found = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (in[i] == q[f->held]) {
			if (++f->held == qlen) {
				f->held = 0;
				found++;
			}
			continue;
		}
		/* Not a query after all: what was held is output.  Only the
		 * query's first byte is ESC, so a mismatch can only restart
		 * the match at this byte. */
		strbuf_add(out, q, f->held);
		f->held = 0;
		if (in[i] == q[0])
			f->held = 1;
		else
			strbuf_addch(out, in[i]);
	}
	return found;
}
