/* Payloads: metrics, names of forms and packages, command lines, output
 * tails, and the small text helpers the parsers share.  The forms'
 * parsing is in payload_forms.c, the adapters in payload_adapters*.c. */
#include "payload.h"
#include "payload_int.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "utf8.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- metrics ---- */

static struct pmetric *pmetrics_find(const struct pmetrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

void pmetrics_set(struct pmetrics *m, const char *name, double value, const char *unit,
		  enum payload_better better)
{
	struct pmetric *p;

	if (!isfinite(value))
		return;
	p = pmetrics_find(m, name);
	if (!p) {
		if (m->n == m->alloc) {
			m->alloc = m->alloc ? m->alloc * 2 : 16;
			m->v = xrealloc(m->v, m->alloc * sizeof(*m->v));
		}
		p = &m->v[m->n++];
		p->name = xstrdup(name);
	} else {
		free(p->unit);
	}
	p->value = value;
	p->unit = xstrdup(unit ? unit : "");
	p->better = better;
}

const struct pmetric *pmetrics_get(const struct pmetrics *m, const char *name)
{
	return pmetrics_find(m, name);
}

void pmetrics_release(struct pmetrics *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].unit);
	}
	free(m->v);
	m->v = NULL;
	m->n = m->alloc = 0;
}

json_t *pmetrics_to_json(const struct pmetrics *m)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < m->n; i++) {
		json_t *e = json_object();

		json_set_real(e, "value", m->v[i].value);
		json_set_str(e, "unit", m->v[i].unit);
		json_set_str(e, "better", payload_better_name(m->v[i].better));
		json_object_set_new(o, m->v[i].name, e);
	}
	return o;
}

const char *payload_better_name(enum payload_better b)
{
	switch (b) {
	case BETTER_LOWER:
		return "lower";
	case BETTER_HIGHER:
		return "higher";
	case BETTER_NONE:
		break;
	}
	return "none";
}

int payload_better_parse(const char *s, enum payload_better *b)
{
	if (!s)
		return -1;
	if (!strcmp(s, "lower"))
		*b = BETTER_LOWER;
	else if (!strcmp(s, "higher"))
		*b = BETTER_HIGHER;
	else if (!strcmp(s, "none"))
		*b = BETTER_NONE;
	else
		return -1;
	return 0;
}

/* ---- forms and packages ---- */

const struct payload_adapter *payload_adapter_find(const char *form)
{
	const struct payload_adapter *const *a;

	if (!form)
		return NULL;
	for (a = payload_adapters(); *a; a++)
		if (!strcmp((*a)->name, form))
			return *a;
	return NULL;
}

void payload_form_list(struct strbuf *out)
{
	const struct payload_adapter *const *a;

	strbuf_addstr(out, "exit_code, json, pattern");
	for (a = payload_adapters(); *a; a++)
		strbuf_addf(out, ", %s", (*a)->name);
}

const char *payload_default_form(const char *program)
{
	const struct payload_adapter *const *a;
	const char *base = program ? path_basename(program) : "";

	for (a = payload_adapters(); *a; a++)
		if (!strcmp((*a)->program, base))
			return (*a)->name;
	return "exit_code";
}

/* Programs without an adapter whose package is still worth naming in an
 * "install it" hint.  A NULL package: known, but not in Debian. */
static const struct {
	const char *program, *package;
} extra_packages[] = {
	{ "cyclicdeadline", "rt-tests" }, { "deadline_test", "rt-tests" },
	{ "oslat", "rt-tests" }, { "pi_stress", "rt-tests" },
	{ "pip_stress", "rt-tests" }, { "pmqtest", "rt-tests" },
	{ "ptsematest", "rt-tests" }, { "queuelat", "rt-tests" },
	{ "rt-migrate-test", "rt-tests" }, { "signaltest", "rt-tests" },
	{ "sigwaittest", "rt-tests" }, { "ssdd", "rt-tests" },
	{ "svsematest", "rt-tests" }, { "stress", "stress" },
	{ "iperf3", "iperf3" }, { "schbench", NULL },
};

const char *payload_package_of(const char *program)
{
	const struct payload_adapter *const *a;
	const char *base;
	size_t i;

	if (!program)
		return NULL;
	base = path_basename(program);
	for (a = payload_adapters(); *a; a++)
		if (!strcmp((*a)->program, base))
			return (*a)->package;
	for (i = 0; i < ARRAY_SIZE(extra_packages); i++)
		if (!strcmp(extra_packages[i].program, base))
			return extra_packages[i].package;
	return NULL;
}

/* ---- command lines ---- */

/* arg with every "{out}" and "{copy}" replaced. */
static char *substitute(const char *arg, unsigned copy, const char *outfile, bool *uses_out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = arg;

	while (*p) {
		if (!strncmp(p, "{out}", 5)) {
			strbuf_addstr(&sb, outfile ? outfile : "");
			*uses_out = true;
			p += 5;
		} else if (!strncmp(p, "{copy}", 6)) {
			strbuf_addf(&sb, "%u", copy);
			p += 6;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void push_substituted(struct strvec *argv, const char *arg, unsigned copy,
			     const char *outfile, bool *uses_out)
{
	char *s = substitute(arg, copy, outfile, uses_out);

	strvec_push(argv, s);
	free(s);
}

/* arg is the option name (the part of an output arg before '='): "--x",
 * "--x=V", or for a one-letter option "-h" also "-h500". */
static bool arg_is_option(const char *arg, const char *name, size_t name_len)
{
	if (strncmp(arg, name, name_len))
		return false;
	if (arg[name_len] == '\0' || arg[name_len] == '=')
		return true;
	return name_len == 2 && name[0] == '-' && name[1] != '-';
}

static bool args_give(const struct payload_def *d, const char *name, size_t name_len)
{
	size_t i;

	for (i = 0; d->args && d->args[i]; i++)
		if (arg_is_option(d->args[i], name, name_len))
			return true;
	return false;
}

/* The def's args already give output option opt ("--json={out}"), under
 * its own name or one of the adapter's aliases of it. */
static bool option_given(const struct payload_def *d, const struct payload_adapter *ad,
			 const char *opt)
{
	size_t len = strcspn(opt, "=");
	const char *const *al;

	if (args_give(d, opt, len))
		return true;
	for (al = ad->output_aliases; al && al[0] && al[1]; al += 2)
		if (strlen(al[1]) == len && !strncmp(al[1], opt, len) &&
		    args_give(d, al[0], strlen(al[0])))
			return true;
	return false;
}

void payload_argv(const struct payload_def *d, unsigned copy, const char *outfile,
		  struct strvec *argv, bool *uses_out)
{
	const struct payload_adapter *ad = payload_adapter_find(d->form);
	bool out = false;
	size_t i;

	strvec_push(argv, d->program);
	for (i = 0; d->args && d->args[i]; i++)
		push_substituted(argv, d->args[i], copy, outfile, &out);
	for (i = 0; ad && ad->output_args && ad->output_args[i]; i++)
		if (!option_given(d, ad, ad->output_args[i]))
			push_substituted(argv, ad->output_args[i], copy, outfile, &out);
	if (uses_out)
		*uses_out = out;
}

/* ---- output tails ---- */

/* Append one line, cut at 512 bytes on a character boundary. */
static void tail_push(json_t *arr, const char *line, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		size_t k = utf8_decode(line + pos, n - pos, NULL);

		if (k == 0)
			k = 1;
		if (pos + k > 512)
			break;
		pos += k;
	}
	json_array_append_new(arr, json_string_bytes(line, pos));
}

json_t *payload_output_tail(const char *text, size_t len, unsigned max_lines)
{
	json_t *arr = json_array();
	const char *end = text + len, *start = end;
	unsigned lines = 0;
	const char *p, *line;
	size_t n;

	if (!text || max_lines == 0)
		return arr;
	if (start > text && start[-1] == '\n')
		start--;
	/* Walk back over max_lines line breaks, then forward line by line. */
	while (start > text) {
		if (start[-1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	p = start;
	while ((line = payload_line(&p, end, &n)))
		tail_push(arr, line, n);
	return arr;
}

/* ---- text helpers for the parsers ---- */

bool payload_number_prefix(const char *s, size_t n, double *v, size_t *used)
{
	char buf[64], *e;
	size_t i = 0, k = 0;
	double x;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	/* strtod skips newlines, reads "inf", "nan" and hex: copy only what
	 * a decimal number can be made of. */
	while (i + k < n && k < sizeof(buf) - 1 && strchr("0123456789+-.eE", s[i + k]) &&
	       s[i + k] != '\0')
		k++;
	if (k == 0)
		return false;
	memcpy(buf, s + i, k);
	buf[k] = '\0';
	x = strtod(buf, &e);
	if (e == buf || !isfinite(x))
		return false;
	*v = x;
	if (used)
		*used = i + (size_t)(e - buf);
	return true;
}

bool payload_number(const char *s, size_t n, double *v)
{
	size_t used;

	if (!payload_number_prefix(s, n, v, &used))
		return false;
	while (used < n && isspace((unsigned char)s[used]))
		used++;
	return used == n;
}

const char *payload_line(const char **p, const char *end, size_t *n)
{
	const char *start = *p, *nl;

	if (start >= end)
		return NULL;
	nl = memchr(start, '\n', (size_t)(end - start));
	*p = nl ? nl + 1 : end;
	*n = (size_t)((nl ? nl : end) - start);
	if (*n && start[*n - 1] == '\r')
		(*n)--;
	return start;
}

bool payload_value_after(const char *line, size_t n, const char *label, double *v)
{
	size_t ll = strlen(label);
	const char *at = memmem(line, n, label, ll);

	if (!at)
		return false;
	at += ll;
	return payload_number_prefix(at, n - (size_t)(at - line), v, NULL);
}

bool payload_blank(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)text[i]))
			return false;
	return true;
}

json_t *payload_json_load(const char *text, size_t len, const char *what, struct strbuf *err)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);

	if (!doc)
		strbuf_addf(err, "not JSON (want %s): %s at line %d, column %d", what, je.text,
			    je.line, je.column);
	return doc;
}

bool payload_json_number(const json_t *v, double *out)
{
	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else
		return false;
	return true;
}
