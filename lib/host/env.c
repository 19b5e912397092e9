#include "env.h"
#include "diag.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Trimmed copies are kept for the life of the process: programs read a
 * handful of variables once, and callers may hold the pointers. */
struct env_cache {
	char *name;
	char *value;
	struct env_cache *next;
};
static struct env_cache *cache;

static void env_cache_free(void)
{
	while (cache) {
		struct env_cache *n = cache->next;

		free(cache->name);
		free(cache->value);
		free(cache);
		cache = n;
	}
}

const char *env_get(const char *name)
{
	const char *raw = getenv(name);
	const char *s, *e;
	struct env_cache *c;

	if (!raw)
		return NULL;
	s = raw;
	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e == s)
		return NULL;
	for (c = cache; c; c = c->next)
		if (!strcmp(c->name, name) && strlen(c->value) == (size_t)(e - s) &&
		    !strncmp(c->value, s, (size_t)(e - s)))
			return c->value;
	if (!cache)
		atexit(env_cache_free);
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	c->value = xstrndup(s, (size_t)(e - s));
	c->next = cache;
	cache = c;
	return c->value;
}

bool env_present(const char *name)
{
	return getenv(name) != NULL;
}

bool env_is_one(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

bool env_truthy(const char *name)
{
	const char *v = env_get(name);

	return v && strcmp(v, "0");
}

bool env_name_valid(const char *name)
{
	return name[0] && !isdigit((unsigned char)name[0]) &&
	       !name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789_")];
}
