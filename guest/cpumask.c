/* CPU sets for the scenario engine, as the kernel prints them: cpulists
 * ("0-3,6") on the outside, arrays of 64-bit words inside (those live in
 * shared memory, where a cpu_set_t's fixed 1024 bits would not fit every
 * topology ktstr accepts). */
#include "engine.h"
#include "cpulist.h"

#include <string.h>

static void set_words(unsigned lo, unsigned hi, void *arg)
{
	uint64_t *mask = arg;
	unsigned c;

	for (c = lo; c <= hi; c++)
		mask_set(mask, c);
}

/* The list grammar is lib/core/cpulist.c's; the kernel's files end in a
 * newline and may be empty. */
int mask_parse(const char *list, uint64_t *mask, unsigned nbits)
{
	memset(mask, 0, MASK_WORDS(nbits) * sizeof(*mask));
	return cpulist_scan(list, nbits, CPULIST_KERNEL, set_words, mask, NULL);
}

static bool word_is_set(const void *mask, unsigned cpu)
{
	return mask_test(mask, cpu);
}

void mask_format(const uint64_t *mask, unsigned nbits, struct strbuf *out)
{
	cpulist_format_by(mask, nbits, word_is_set, out);
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
