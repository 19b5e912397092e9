#include "opts.h"
#include "diag.h"
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void print_version_and_exit(void)
{
	printf("%s (ktstr) %s\n", ktstr_prog, KTSTR_VERSION);
	exit(0);
}

void print_help_and_exit(const char *text)
{
	fputs(text, stdout);
	exit(0);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", ktstr_prog);
	exit(KTSTR_EXIT_USAGE);
}

int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The grammar is duration.h's, the one every program and file shares. */
int parse_duration_ms(const char *s, unsigned long long *ms)
{
	return duration_parse_ms(s, ms);
}
