/* The one cpulist parser and printer (cpulist.h). */
#include "cpulist.h"

#include <ctype.h>
#include <string.h>

/* CPU numbers past this are errors before they can overflow anything. */
#define CPULIST_MAX_NUM 1000000000ul

static int cpulist_num(const char **p, unsigned long *out)
{
	unsigned long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > CPULIST_MAX_NUM)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

static int syntax(const char *list, struct strbuf *err)
{
	if (err)
		strbuf_addf(err, "'%s' is not a CPU list; expected CPU numbers and ranges "
			    "separated by commas, e.g. \"0-3,6\"", list);
	return -1;
}

/* One "lo" or "lo-hi" at *p, checked against ncpus. */
static int cpulist_range(const char *list, const char **p, unsigned ncpus,
			 unsigned long *lo, unsigned long *hi, struct strbuf *err)
{
	if (cpulist_num(p, lo))
		return syntax(list, err);
	*hi = *lo;
	if (**p == '-') {
		(*p)++;
		if (cpulist_num(p, hi))
			return syntax(list, err);
		if (*hi < *lo) {
			if (err)
				strbuf_addf(err, "'%s': the range %lu-%lu runs backwards", list,
					    *lo, *hi);
			return -1;
		}
	}
	if (*hi >= ncpus) {
		if (err)
			strbuf_addf(err, "'%s': CPU %lu is beyond the last CPU (%u)", list,
				    *lo >= ncpus ? *lo : (unsigned long)ncpus, ncpus - 1);
		return -1;
	}
	return 0;
}

/* Where the list ends: its end, or with CPULIST_KERNEL the first blank
 * after which there are only blanks. */
static size_t list_len(const char *s, unsigned flags)
{
	size_t n = strlen(s);

	if (flags & CPULIST_KERNEL)
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
	return n;
}

int cpulist_scan(const char *list, unsigned ncpus, unsigned flags, cpulist_range_fn *fn,
		 void *arg, struct strbuf *err)
{
	const char *p = list, *end;

	if (list && (flags & CPULIST_KERNEL))
		while (isspace((unsigned char)*p))
			p++;
	if (!list || !*p) {
		if (list && (flags & CPULIST_KERNEL))
			return 0;
		if (err)
			strbuf_addstr(err, "the CPU list is empty; expected CPU numbers and "
				      "ranges separated by commas, e.g. \"0-3,6\"");
		return -1;
	}
	end = p + list_len(p, flags);
	for (;;) {
		unsigned long lo, hi;

		if (cpulist_range(list, &p, ncpus, &lo, &hi, err))
			return -1;
		if (fn)
			fn((unsigned)lo, (unsigned)hi, arg);
		if (p == end)
			return 0;
		if (*p != ',')
			return syntax(list, err);
		p++;
	}
}

static void set_bools(unsigned lo, unsigned hi, void *arg)
{
	bool *mask = arg;
	unsigned i;

	for (i = lo; i <= hi; i++)
		mask[i] = true;
}

int cpulist_parse(const char *s, bool *mask, unsigned ncpus, struct strbuf *err)
{
	if (mask)
		memset(mask, 0, ncpus * sizeof(*mask));
	return cpulist_scan(s, ncpus, 0, mask ? set_bools : NULL, mask, err);
}

void cpulist_format_by(const void *mask, unsigned ncpus,
		       bool (*is_set)(const void *mask, unsigned cpu), struct strbuf *out)
{
	unsigned i = 0;
	bool first = true;

	while (i < ncpus) {
		unsigned j;

		if (!is_set(mask, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < ncpus && is_set(mask, j + 1); j++)
			;
		if (j == i)
			strbuf_addf(out, "%s%u", first ? "" : ",", i);
		else
			strbuf_addf(out, "%s%u-%u", first ? "" : ",", i, j);
		first = false;
		i = j + 1;
	}
}

static bool bool_is_set(const void *mask, unsigned cpu)
{
	return ((const bool *)mask)[cpu];
}

void cpulist_format(const bool *mask, unsigned ncpus, struct strbuf *out)
{
	cpulist_format_by(mask, ncpus, bool_is_set, out);
}
