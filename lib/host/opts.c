#include "opts.h"
#include "diag.h"
#include "duration.h"
#include "scenario.h"
#include "strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void print_version_and_exit(void)
{
	if (printf("%s (ktstr) %s\n", ktstr_prog, KTSTR_VERSION) < 0)
		stdout_write_failed("the version");
	stdout_flush("the version");
	exit(KTSTR_EXIT_PASS);
}

/* A help that did not reach stdout (> /dev/full) is not a success. */
void print_help_and_exit(const char *text)
{
	if (fputs(text, stdout) == EOF)
		stdout_write_failed("the help");
	stdout_flush("the help");
	exit(KTSTR_EXIT_PASS);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ktstr_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", ktstr_prog);
	exit(KTSTR_EXIT_USAGE);
}

/* The option as the user wrote it: a long one from argv (up to any
 * "=value"), a short one from optopt. */
static void bad_option(char *const argv[], int ch)
{
	const char *arg = argv[optind - 1];
	int len;

	if (optopt && !(arg[0] == '-' && arg[1] == '-'))
		usage_error(ch == ':' ? "option '-%c' needs a value" : "unknown option '-%c'",
			    optopt);
	len = (int)strcspn(arg, "=");
	/* getopt_long sets optopt to the option's code when a known long
	 * option that takes no value got "=value" (0 when it is unknown). */
	if (ch == '?' && optopt && arg[len] == '=')
		usage_error("option '%.*s' takes no value; drop the '%s'", len, arg, arg + len);
	usage_error(ch == ':' ? "option '%.*s' needs a value" : "unknown option '%.*s'",
		    len, arg);
}

int opts_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts, int *longindex)
{
	char spec[128];
	const char *body = shortopts;
	size_t mode = 0;
	int ch;

	/* A leading ':' makes getopt tell a missing value (':') from an
	 * unknown option ('?'); it goes after any '+' or '-' mode flag. */
	if (*body == '+' || *body == '-')
		mode = 1;
	if (strlen(shortopts) + 2 > sizeof(spec))
		die(KTSTR_EXIT_USAGE, "option string too long");
	memcpy(spec, shortopts, mode);
	spec[mode] = ':';
	strcpy(spec + mode + 1, body + mode);
	opterr = 0;
	ch = getopt_long(argc, argv, spec, longopts, longindex);
	if (ch == '?' || ch == ':')
		bad_option(argv, ch);
	return ch;
}

const struct subcmd *subcmd_find(const struct subcmd_table *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < t->n; i++)
		if (!strcmp(name, t->cmds[i].name))
			return &t->cmds[i];
	return NULL;
}

void subcmd_names(const struct subcmd_table *t, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (i)
			strbuf_addstr(out, i + 1 == t->n ? " or " : ", ");
		strbuf_addstr(out, t->cmds[i].name);
	}
}

int subcmd_dispatch(const struct subcmd_table *t, int argc, char **argv)
{
	const struct subcmd *sc = argc > 1 ? subcmd_find(t, argv[1]) : NULL;
	struct strbuf names = STRBUF_INIT;
	const char *a = argc > 1 ? argv[1] : NULL;

	if (sc)
		return sc->run(argc - 1, argv + 1);
	if (t->fallback)
		return t->fallback(argc, argv);
	if (a && (!strcmp(a, "help") || !strcmp(a, "-h") || !strcmp(a, "--help")))
		print_help_and_exit(t->usage);
	if (a && !strcmp(a, "--version"))
		print_version_and_exit();
	subcmd_names(t, &names);
	if (!a)
		usage_error("missing command: %s", names.buf);
	usage_error("unknown command '%s'; expected %s", a, names.buf);
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

unsigned long long scenario_duration_arg(const char *arg)
{
	struct strbuf why = STRBUF_INIT;
	unsigned long long ms;

	if (scenario_duration_opt(arg, &ms, &why))
		usage_error("%s", why.buf);
	return ms;
}
