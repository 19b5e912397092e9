/* The one duration parser (duration.h).  It lives in lib/core because the
 * guest agent parses scenario documents, whose work parameters, holds and
 * intervals are durations too. */
#include "duration.h"
#include "diag.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Anything at or above this many ns would not fit the unsigned 64-bit
 * result after rounding (2^64 is about 1.845e19). */
#define DURATION_LIMIT_NS 1.8e19

static const struct {
	const char *unit;
	double ns;
} units[] = {
	{ "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 6e10 }, { "h", 3.6e12 },
	{ "", 1e9 },	/* a bare number is seconds */
};

int duration_parse_ns(const char *s, unsigned long long *ns)
{
	size_t n, i;
	char *end;
	double v;

	if (!s)
		return -1;
	/* Plain decimals only: strtod alone would take signs, blanks, hex
	 * floats, exponents, "inf" and "nan". */
	n = strspn(s, "0123456789.");
	if (!n || strcspn(s, "0123456789") >= n)
		return -1;
	v = strtod(s, &end);
	if (end != s + n || !isfinite(v))
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		double r;

		if (strcmp(s + n, units[i].unit))
			continue;
		r = v * units[i].ns + 0.5;
		if (r >= DURATION_LIMIT_NS)
			return -1;
		*ns = (unsigned long long)r;
		return 0;
	}
	return -1;
}

static int parse_in(const char *s, unsigned long long unit_ns, unsigned long long *out)
{
	unsigned long long ns;

	if (duration_parse_ns(s, &ns))
		return -1;
	*out = ns / unit_ns + (ns % unit_ns >= (unit_ns + 1) / 2);
	return 0;
}

int duration_parse_us(const char *s, unsigned long long *us)
{
	return parse_in(s, 1000, us);
}

int duration_parse_ms(const char *s, unsigned long long *ms)
{
	return parse_in(s, 1000000, ms);
}

const char *duration_format_us(char *buf, size_t len, unsigned long long us)
{
	if (us && us % 3600000000ull == 0)
		snprintf(buf, len, "%lluh", us / 3600000000ull);
	else if (us && us % 60000000 == 0)
		snprintf(buf, len, "%llum", us / 60000000);
	else if (us && us % 1000000 == 0)
		snprintf(buf, len, "%llus", us / 1000000);
	else if (us && us % 1000 == 0)
		snprintf(buf, len, "%llums", us / 1000);
	else
		snprintf(buf, len, "%lluus", us);
	return buf;
}
