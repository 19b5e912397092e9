/* CPU sets for the scenario engine, as the kernel prints them: cpulists
 * ("0-3,6") on the outside, arrays of 64-bit words inside (those live in
 * shared memory, where a cpu_set_t's fixed 1024 bits would not fit every
 * topology ktstr accepts). */
#include "engine.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char **p, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	*v = strtoul(*p, &end, 10);
	if (errno)
		return -1;
	*p = end;
	return 0;
}

int mask_parse(const char *list, uint64_t *mask, unsigned nbits)
{
	const char *p = list;

	memset(mask, 0, MASK_WORDS(nbits) * sizeof(*mask));
	while (isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p)) {
		unsigned long a, b, c;

		if (parse_num(&p, &a) < 0)
			return -1;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_num(&p, &b) < 0 || b < a)
				return -1;
		}
		if (b >= nbits)
			return -1;
		for (c = a; c <= b; c++)
			mask_set(mask, (unsigned)c);
		if (*p == ',')
			p++;
		else if (*p && !isspace((unsigned char)*p))
			return -1;
	}
	return 0;
}

void mask_format(const uint64_t *mask, unsigned nbits, struct strbuf *out)
{
	unsigned c = 0;
	bool first = true;

	while (c < nbits) {
		unsigned end;

		if (!mask_test(mask, c)) {
			c++;
			continue;
		}
		for (end = c; end + 1 < nbits && mask_test(mask, end + 1); end++)
			;
		strbuf_addf(out, first ? "%u" : ",%u", c);
		if (end > c)
			strbuf_addf(out, "-%u", end);
		first = false;
		c = end + 1;
	}
}

unsigned mask_weight(const uint64_t *mask, unsigned nbits)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < MASK_WORDS(nbits); i++)
		n += (unsigned)__builtin_popcountll(mask[i]);
	return n;
}

int mask_nth(const uint64_t *mask, unsigned nbits, unsigned n)
{
	unsigned w = mask_weight(mask, nbits), c;

	if (!w)
		return -1;
	n %= w;
	for (c = 0; c < nbits; c++)
		if (mask_test(mask, c) && n-- == 0)
			return (int)c;
	return -1;
}
