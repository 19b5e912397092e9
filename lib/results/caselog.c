/* Head and tail of a case's log files (caselog.h). */
#include "caselog.h"
#include "diag.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *caselog_clean_line(const char *s, size_t len, unsigned flags)
{
	bool fold = flags & CASELOG_ONE_LINE, cut = false;
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (!fold && len > CASELOG_LINE_MAX) {
		len = CASELOG_LINE_MAX;
		cut = true;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			c = fold ? ' ' : c == '\t' ? c : '?';
		strbuf_addch(&sb, (char)c);
	}
	while (fold && sb.len && sb.buf[sb.len - 1] == ' ')
		strbuf_setlen(&sb, sb.len - 1);
	if (cut)
		strbuf_addstr(&sb, "...");
	/* A cut in the middle of a character leaves bytes to replace. */
	utf8_repair(&out, sb.buf, sb.len);
	strbuf_release(&sb);
	return strbuf_detach(&out, NULL);
}

int caselog_read(const char *path, size_t head, size_t tail, struct caselog *out)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, **ring;
	size_t cap = 0, nring = 0, pos = 0, i;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (!f)
		return -1;
	ring = xcalloc(tail ? tail : 1, sizeof(*ring));
	while ((n = getline(&line, &cap, f)) >= 0) {
		out->lines++;
		if (out->head.n < head) {
			char *c = caselog_clean_line(line, (size_t)n, 0);

			strvec_push(&out->head, c);
			free(c);
			continue;
		}
		if (!tail)
			continue;
		/* Keep the raw line only: most of a big file scrolls past. */
		free(ring[pos]);
		ring[pos] = xstrndup(line, (size_t)n);
		pos = (pos + 1) % tail;
		if (nring < tail)
			nring++;
	}
	for (i = 0; i < nring; i++) {
		const char *raw = ring[(pos + tail - nring + i) % tail];
		char *c = caselog_clean_line(raw, strlen(raw), 0);

		strvec_push(&out->tail, c);
		free(c);
	}
	for (i = 0; i < (tail ? tail : 1); i++)
		free(ring[i]);
	free(ring);
	free(line);
	fclose(f);
	return 0;
}

void caselog_release(struct caselog *l)
{
	strvec_clear(&l->head);
	strvec_clear(&l->tail);
	l->lines = 0;
}

void caselog_format(struct strbuf *out, const char *title, const char *path,
		    size_t head, size_t tail)
{
	struct caselog l;
	size_t i, left;

	if (caselog_read(path, head, tail, &l) < 0) {
		strbuf_addf(out, "--- %s (%s: %s) ---\n", title, path, strerror(errno));
		return;
	}
	strbuf_addf(out, "--- %s (%s, %zu line%s) ---\n", title, path, l.lines,
		    l.lines == 1 ? "" : "s");
	for (i = 0; i < l.head.n; i++)
		strbuf_addf(out, "  %s\n", l.head.v[i]);
	left = l.lines - l.head.n - l.tail.n;
	if (left)
		strbuf_addf(out, "  [... %zu line%s ...]\n", left, left == 1 ? "" : "s");
	for (i = 0; i < l.tail.n; i++)
		strbuf_addf(out, "  %s\n", l.tail.v[i]);
	caselog_release(&l);
}
