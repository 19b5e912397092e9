/* The scenario parser's JSON toolkit: the JSON path of the value at hand,
 * errors that start with it, and typed getters with their range checks
 * (whole numbers, fractions, booleans, strings, durations), shared by
 * the scenario_*.c files. */
#include "scenario_int.h"
#include "duration.h"
#include "jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sp_list_index(const char *const *list, const char *s)
{
	int i;

	for (i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

void sp_list_join(const char *const *list, struct strbuf *sb)
{
	size_t i;

	for (i = 0; list[i]; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", list[i]);
}

size_t sp_path_key(struct pctx *c, const char *key)
{
	size_t mark = c->path.len;

	if (c->path.len)
		strbuf_addch(&c->path, '.');
	strbuf_addstr(&c->path, key);
	return mark;
}

size_t sp_path_idx(struct pctx *c, size_t i)
{
	size_t mark = c->path.len;

	strbuf_addf(&c->path, "[%zu]", i);
	return mark;
}

void sp_path_pop(struct pctx *c, size_t mark)
{
	strbuf_setlen(&c->path, mark);
}

static void vperr(struct pctx *c, const char *fmt, va_list ap)
{
	if (c->path.len)
		strbuf_addf(c->err, "%s: ", c->path.buf);
	strbuf_vaddf(c->err, fmt, ap);
}

/* "PATH: message"; returns -1. */
int sp_perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr(c, fmt, ap);
	va_end(ap);
	return -1;
}

/* "PATH.key: message"; returns -1. */
int sp_perr_key(struct pctx *c, const char *key, const char *fmt, ...)
{
	size_t m = sp_path_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	vperr(c, fmt, ap);
	va_end(ap);
	sp_path_pop(c, m);
	return -1;
}

/* A short rendering of v for "got ..." (valid until the next call). */
const char *sp_show(struct pctx *c, const json_t *v)
{
	return json_brief(v, c->shown, sizeof(c->shown));
}

/* The value at key, treating JSON null as absent. */
const json_t *sp_get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

int sp_check_keys(struct pctx *c, const json_t *obj, const char *const *keys,
		      const char *what)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		struct strbuf l = STRBUF_INIT;
		size_t m;

		if (sp_list_index(keys, k) >= 0)
			continue;
		sp_list_join(keys, &l);
		m = sp_path_key(c, k);
		sp_perr(c, "unknown key%s; expected one of %s", what ? what : "", l.buf);
		sp_path_pop(c, m);
		strbuf_release(&l);
		return -1;
	}
	return 0;
}

bool sp_as_whole(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d == floor(d) && fabs(d) < 9e15) {
			*out = (long long)d;
			return true;
		}
	}
	return false;
}

/* Whole number in [min, max] at key; def when absent. */
int sp_get_whole(struct pctx *c, const json_t *obj, const char *key, long long min,
		     long long max, long long def, long long *out)
{
	const json_t *v = sp_get(obj, key);
	long long x;

	if (!v) {
		*out = def;
		return 0;
	}
	if (!sp_as_whole(v, &x) || x < min || x > max)
		return sp_perr_key(c, key, "must be a whole number from %lld to %lld, got %s",
				   min, max, sp_show(c, v));
	*out = x;
	return 0;
}

int sp_get_whole_req(struct pctx *c, const json_t *obj, const char *key,
			 long long min, long long max, long long *out)
{
	if (!sp_get(obj, key))
		return sp_perr_key(c, key, "missing; expected a whole number from %lld to %lld",
				   min, max);
	return sp_get_whole(c, obj, key, min, max, 0, out);
}

/* A fraction 0 < f <= 1 at key. */
int sp_get_frac(struct pctx *c, const json_t *obj, const char *key, double *out,
		    bool *present)
{
	const json_t *v = sp_get(obj, key);

	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_number(v) || !(json_number_value(v) > 0) ||
	    json_number_value(v) > 1 + FRAC_EPS)
		return sp_perr_key(c, key, "must be a fraction greater than 0 and at most 1, "
				   "got %s", sp_show(c, v));
	*out = json_number_value(v);
	if (*out > 1)
		*out = 1;
	return 0;
}

int sp_get_bool(struct pctx *c, const json_t *obj, const char *key, int *out)
{
	const json_t *v = sp_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return sp_perr_key(c, key, "must be true or false, got %s", sp_show(c, v));
	*out = json_is_true(v);
	return 0;
}

int sp_get_string(struct pctx *c, const json_t *obj, const char *key, const char **out)
{
	const json_t *v = sp_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return sp_perr_key(c, key, "must be a string, got %s", sp_show(c, v));
	*out = json_string_value(v);
	return 0;
}

/* A duration given as base ("50ms"), base_ms or base_us (numbers), at most
 * one of them, in [min_us, max_us]. */
int sp_get_duration_us(struct pctx *c, const json_t *obj, const char *base,
			   unsigned long long min_us, unsigned long long max_us,
			   unsigned long long *us, bool *present)
{
	char k_ms[40], k_us[40], b1[32], b2[32];
	const json_t *vb, *vm, *vu;
	const char *key;
	unsigned long long x;

	snprintf(k_ms, sizeof(k_ms), "%s_ms", base);
	snprintf(k_us, sizeof(k_us), "%s_us", base);
	vb = sp_get(obj, base);
	vm = sp_get(obj, k_ms);
	vu = sp_get(obj, k_us);
	*present = vb || vm || vu;
	if (!*present)
		return 0;
	if (!!vb + !!vm + !!vu > 1)
		return sp_perr(c, "give only one of %s, %s and %s", base, k_ms, k_us);
	if (vb) {
		key = base;
		if (!json_is_string(vb))
			return sp_perr_key(c, base, "must be a string with a unit such as "
					   "\"50ms\", got %s; for a plain number use %s "
					   "or %s",
					   sp_show(c, vb), k_ms, k_us);
		if (duration_parse_us(json_string_value(vb), &x))
			return sp_perr_key(c, base, "'%s' is not a duration; expected a number "
					   "with a unit (us, ms, s, m or h; none means "
					   "seconds), e.g. \"50ms\"",
					   json_string_value(vb));
	} else {
		const json_t *v = vm ? vm : vu;
		double d, mult = vm ? 1000 : 1;

		key = vm ? k_ms : k_us;
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) * mult > 1e15)
			return sp_perr_key(c, key, "must be a number of %s (0 or more), got %s",
					   vm ? "milliseconds" : "microseconds", sp_show(c, v));
		d = json_number_value(v) * mult;
		x = (unsigned long long)(d + 0.5);
	}
	if (x < min_us) {
		if (min_us == 1)
			return sp_perr_key(c, key, "must be more than 0");
		return sp_perr_key(c, key, "must be at least %s, got %s",
				   duration_format_us(b1, sizeof(b1), min_us),
				   duration_format_us(b2, sizeof(b2), x));
	}
	if (x > max_us)
		return sp_perr_key(c, key, "must be at most %s, got %s",
				   duration_format_us(b1, sizeof(b1), max_us),
				   duration_format_us(b2, sizeof(b2), x));
	*us = x;
	return 0;
}
