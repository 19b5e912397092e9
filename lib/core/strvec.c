#include "strvec.h"
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void strvec_grow(struct strvec *sv)
{
	if (sv->n + 2 <= sv->alloc)
		return;
	sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
	sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
}

static void strvec_push_owned(struct strvec *sv, char *s)
{
	strvec_grow(sv);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_owned(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(KTSTR_EXIT_USAGE, "out of memory");
	va_end(ap);
	strvec_push_owned(sv, s);
}

bool strvec_contains(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

bool strvec_push_unique(struct strvec *sv, const char *s)
{
	if (strvec_contains(sv, s))
		return false;
	strvec_push(sv, s);
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(struct strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

void strvec_clear(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}

const char *const *strvec_argv(struct strvec *sv)
{
	static const char *const empty[1] = { NULL };

	return sv->n ? (const char *const *)sv->v : empty;
}
