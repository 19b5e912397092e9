/* JUnit XML reports (junit.h). */
#include "junit.h"
#include "diag.h"
#include "fsutil.h"
#include "strvec.h"
#include "utf8.h"

#include <math.h>
#include <string.h>

/* XML 1.0 Char, minus carriage return (see junit.h). */
static bool xml_char(uint32_t cp)
{
	return cp == '\t' || cp == '\n' || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static void escape(struct strbuf *out, const char *s, bool attr)
{
	const char *p = s ? s : "";
	size_t left = strlen(p), len;

	while (left) {
		uint32_t cp = 0;

		/* An invalid byte is replaced on its own: resume at the next. */
		len = utf8_decode(p, left, &cp);
		if (!len || !xml_char(cp))
			strbuf_addstr(out, UTF8_REPLACEMENT);
		else if (cp == '&')
			strbuf_addstr(out, "&amp;");
		else if (cp == '<')
			strbuf_addstr(out, "&lt;");
		else if (cp == '>')
			strbuf_addstr(out, "&gt;");
		else if (cp == '"')
			strbuf_addstr(out, "&quot;");
		else if (cp == '\'')
			strbuf_addstr(out, "&apos;");
		/* Parsers turn raw tabs and newlines in attributes into spaces. */
		else if (attr && cp == '\n')
			strbuf_addstr(out, "&#10;");
		else if (attr && cp == '\t')
			strbuf_addstr(out, "&#9;");
		else
			strbuf_add(out, p, len);
		len = len ? len : 1;
		p += len;
		left -= len;
	}
}

void junit_escape(struct strbuf *out, const char *s)
{
	escape(out, s, false);
}

static void attr(struct strbuf *out, const char *name, const char *value)
{
	strbuf_addf(out, " %s=\"", name);
	escape(out, value, true);
	strbuf_addch(out, '"');
}

static void attr_secs(struct strbuf *out, double secs)
{
	strbuf_addf(out, " time=\"%.3f\"", isfinite(secs) && secs > 0 ? secs : 0.0);
}

struct tally {
	size_t tests, failures, errors, skipped;
	double secs;
};

static void count(struct tally *t, const struct junit_case *c)
{
	t->tests++;
	t->failures += c->status == JUNIT_FAIL;
	t->errors += c->status == JUNIT_ERROR;
	t->skipped += c->status == JUNIT_SKIP;
	if (isfinite(c->secs) && c->secs > 0)
		t->secs += c->secs;
}

static void attr_tally(struct strbuf *out, const struct tally *t)
{
	strbuf_addf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		    t->tests, t->failures, t->errors, t->skipped);
	attr_secs(out, t->secs);
}

static const char *suite_of(const struct junit_case *c)
{
	return c->suite ? c->suite : "ktstr";
}

static void render_case(struct strbuf *out, const struct junit_case *c)
{
	const char *tag = c->status == JUNIT_FAIL ? "failure" :
			  c->status == JUNIT_ERROR ? "error" : NULL;

	strbuf_addstr(out, "    <testcase");
	attr(out, "classname", suite_of(c));
	attr(out, "name", c->name ? c->name : "");
	attr_secs(out, c->secs);
	if (!tag && c->status != JUNIT_SKIP && !c->out) {
		strbuf_addstr(out, "/>\n");
		return;
	}
	strbuf_addstr(out, ">\n");
	if (tag) {
		strbuf_addf(out, "      <%s", tag);
		attr(out, "message", c->message ? c->message : tag);
		attr(out, "type", c->type ? c->type : tag);
		if (c->detail) {
			strbuf_addch(out, '>');
			escape(out, c->detail, false);
			strbuf_addf(out, "</%s>\n", tag);
		} else {
			strbuf_addstr(out, "/>\n");
		}
	} else if (c->status == JUNIT_SKIP) {
		strbuf_addstr(out, "      <skipped");
		if (c->message)
			attr(out, "message", c->message);
		strbuf_addstr(out, "/>\n");
	}
	if (c->out) {
		strbuf_addstr(out, "      <system-out>");
		escape(out, c->out, false);
		strbuf_addstr(out, "</system-out>\n");
	}
	strbuf_addstr(out, "    </testcase>\n");
}

void junit_render(struct strbuf *out, const char *name, const struct junit_case *c,
		  size_t n, const char *timestamp)
{
	struct strvec suites = STRVEC_INIT;
	struct tally all = { 0 };
	size_t i, j;

	for (i = 0; i < n; i++) {
		strvec_push_unique(&suites, suite_of(&c[i]));
		count(&all, &c[i]);
	}
	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	attr(out, "name", name ? name : "ktstr");
	attr_tally(out, &all);
	strbuf_addstr(out, ">\n");
	for (i = 0; i < suites.n; i++) {
		struct tally t = { 0 };

		for (j = 0; j < n; j++)
			if (!strcmp(suite_of(&c[j]), suites.v[i]))
				count(&t, &c[j]);
		strbuf_addstr(out, "  <testsuite");
		attr(out, "name", suites.v[i]);
		attr_tally(out, &t);
		if (timestamp)
			attr(out, "timestamp", timestamp);
		strbuf_addstr(out, ">\n");
		for (j = 0; j < n; j++)
			if (!strcmp(suite_of(&c[j]), suites.v[i]))
				render_case(out, &c[j]);
		strbuf_addstr(out, "  </testsuite>\n");
	}
	strbuf_addstr(out, "</testsuites>\n");
	strvec_clear(&suites);
}

int junit_write(const char *path, const char *name, const struct junit_case *c,
		size_t n, const char *timestamp)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	junit_render(&sb, name, c, n, timestamp);
	rc = write_file_atomic(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return rc;
}
