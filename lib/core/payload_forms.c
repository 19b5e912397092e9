/* A payload copy's output into metrics: dispatch by form, the generic
 * json and pattern forms, and the def's describe overrides. */
#include "payload.h"
#include "payload_int.h"
#include "diag.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* ---- json: every numeric leaf by its dotted path ---- */

static int json_leaves(const json_t *v, struct strbuf *path, struct pmetrics *m,
		       struct strbuf *err);

static int json_child(const json_t *v, const char *key, struct strbuf *path,
		      struct pmetrics *m, struct strbuf *err)
{
	size_t mark = path->len;
	int rc;

	if (mark)
		strbuf_addch(path, '.');
	strbuf_addstr(path, key);
	rc = json_leaves(v, path, m, err);
	strbuf_setlen(path, mark);
	return rc;
}

static int json_leaves(const json_t *v, struct strbuf *path, struct pmetrics *m,
		       struct strbuf *err)
{
	const char *key;
	json_t *child;
	size_t i;
	double x;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (json_child(child, key, path, m, err))
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			char idx[32];

			snprintf(idx, sizeof(idx), "%zu", i);
			if (json_child(child, idx, path, m, err))
				return -1;
		}
	} else if (payload_json_number(v, &x)) {
		if (m->n >= PAYLOAD_MAX_METRICS) {
			strbuf_addf(err, "the JSON has more than %u numeric values; use the "
				    "pattern form to pick the ones that matter",
				    PAYLOAD_MAX_METRICS);
			return -1;
		}
		pmetrics_set(m, path->buf, x, "", BETTER_NONE);
	}
	return 0;
}

static int parse_json_form(const char *text, size_t len, struct pmetrics *m,
			   struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	json_t *doc;
	int rc;

	if (payload_blank(text, len)) {
		strbuf_addstr(err, "the output is empty; expected one JSON document");
		return -1;
	}
	doc = payload_json_load(text, len, "one JSON document", err);
	if (!doc)
		return -1;
	rc = json_leaves(doc, &path, m, err);
	json_decref(doc);
	strbuf_release(&path);
	if (rc == 0 && m->n == 0) {
		strbuf_addstr(err, "the JSON document has no numeric values; expected at "
			      "least one number (strings and booleans are not metrics)");
		rc = -1;
	}
	return rc;
}

/* ---- pattern: each line against the def's regexes ---- */

static int compile_patterns(const struct payload_def *d, regex_t *re, size_t *n_ok,
			    struct strbuf *err)
{
	char msg[256];

	for (*n_ok = 0; *n_ok < d->n_patterns; (*n_ok)++) {
		const struct payload_pattern *p = &d->patterns[*n_ok];
		int rc = regcomp(&re[*n_ok], p->regex, REG_EXTENDED);

		if (rc) {
			regerror(rc, &re[*n_ok], msg, sizeof(msg));
			strbuf_addf(err, "pattern '%s' is not a POSIX extended regex: %s",
				    p->regex, msg);
			return -1;
		}
		if (re[*n_ok].re_nsub < 1) {
			regfree(&re[(*n_ok)++]);
			strbuf_addf(err, "pattern '%s' has no capture group; its first "
				    "group '(...)' is the value of %s", p->regex, p->metric);
			return -1;
		}
	}
	return 0;
}

/* Match one line (NUL-terminated) against every pattern. */
static int match_line(const struct payload_def *d, const regex_t *re, const char *line,
		      unsigned lineno, struct pmetrics *m, struct strbuf *err)
{
	regmatch_t g[2];
	size_t i;
	double v;

	for (i = 0; i < d->n_patterns; i++) {
		const struct payload_pattern *p = &d->patterns[i];
		size_t n;

		if (regexec(&re[i], line, 2, g, 0) != 0 || g[1].rm_so < 0)
			continue;
		n = (size_t)(g[1].rm_eo - g[1].rm_so);
		if (!payload_number(line + g[1].rm_so, n, &v)) {
			strbuf_addf(err, "pattern '%s' matched line %u, but its group \"%.*s\" "
				    "is not a number", p->regex, lineno, (int)(n > 40 ? 40 : n),
				    line + g[1].rm_so);
			return -1;
		}
		pmetrics_set(m, p->metric, v, p->unit, p->better);
	}
	return 0;
}

static int parse_pattern_form(const struct payload_def *d, const char *text, size_t len,
			      struct pmetrics *m, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	const char *p = text, *end = text + len, *line;
	unsigned lineno = 0;
	regex_t *re;
	size_t n, n_ok, i;
	int rc;

	if (d->n_patterns == 0) {
		strbuf_addstr(err, "the pattern form has no patterns; give "
			      "\"patterns\": [{\"regex\": ..., \"metric\": ...}]");
		return -1;
	}
	re = xcalloc(d->n_patterns, sizeof(*re));
	rc = compile_patterns(d, re, &n_ok, err);
	while (rc == 0 && (line = payload_line(&p, end, &n))) {
		strbuf_reset(&buf);
		strbuf_add(&buf, line, n);
		rc = match_line(d, re, buf.buf, ++lineno, m, err);
	}
	for (i = 0; i < n_ok; i++)
		regfree(&re[i]);
	free(re);
	strbuf_release(&buf);
	if (rc == 0 && m->n == 0) {
		strbuf_addf(err, "no line of the output matched any of the %zu pattern%s "
			    "(the first: '%s')", d->n_patterns, d->n_patterns == 1 ? "" : "s",
			    d->patterns[0].regex);
		rc = -1;
	}
	return rc;
}

/* ---- dispatch ---- */

static void apply_describe(const struct payload_def *d, struct pmetrics *m)
{
	size_t i;

	for (i = 0; i < d->n_describe; i++) {
		const struct payload_describe *ds = &d->describe[i];
		const struct pmetric *p = pmetrics_get(m, ds->metric);
		char *unit;

		if (!p)
			continue;
		/* No unit given: the metric keeps its own. */
		unit = xstrdup(ds->unit ? ds->unit : p->unit);
		pmetrics_set(m, ds->metric, p->value, unit, ds->better);
		free(unit);
	}
}

int payload_metrics_parse(const struct payload_def *d, const char *text, size_t len,
			  struct pmetrics *m, struct strbuf *err)
{
	const char *form = d->form ? d->form : "exit_code";
	const struct payload_adapter *ad;
	struct strbuf list = STRBUF_INIT;
	int rc;

	if (!text)
		text = "", len = 0;
	if (!strcmp(form, "exit_code"))
		return 0;
	if (!strcmp(form, "json")) {
		rc = parse_json_form(text, len, m, err);
	} else if (!strcmp(form, "pattern")) {
		rc = parse_pattern_form(d, text, len, m, err);
	} else if ((ad = payload_adapter_find(form))) {
		rc = ad->parse(text, len, m, err);
	} else {
		payload_form_list(&list);
		strbuf_addf(err, "unknown metrics form '%s'; expected one of: %s", form, list.buf);
		strbuf_release(&list);
		return -1;
	}
	if (rc == 0)
		apply_describe(d, m);
	return rc;
}
