/* Command-line conventions shared by every program: --help/--version,
 * usage errors, number and duration parsing. */
#ifndef KTSTR_OPTS_H
#define KTSTR_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* Long options every program accepts; pair with OPT_HELP/OPT_VERSION. */
#define OPT_HELP 'h'
#define OPT_VERSION 0x1000
#define KTSTR_COMMON_OPTIONS \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ "version", no_argument, NULL, OPT_VERSION }

/* "<prog> (ktstr) <version>" on stdout, exit 0. */
void print_version_and_exit(void) __attribute__((noreturn));
/* The usage text on stdout, exit 0. */
void print_help_and_exit(const char *text) __attribute__((noreturn));
/* One line on stderr, "<prog>: message (see '<prog> --help')", exit 2. */
void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* getopt_long with the ktstr messages, the one option loop of every
 * program: getopt's own messages are off, and an unknown option or a
 * missing value ends the program through usage_error() with one line
 * naming it.  Returns what getopt_long returns otherwise. */
int opts_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts, int *longindex);

/* One subcommand of a program run as "<prog> NAME [ARGS...]". */
struct subcmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* gets argv from NAME on */
};

struct subcmd_table {
	const struct subcmd *cmds;
	size_t n;
	const char *usage;		/* the program's help text */
	/* When set, run with the whole argv when argv[1] names no
	 * subcommand (help and --version included: it has its own);
	 * otherwise that is a usage error. */
	int (*fallback)(int argc, char **argv);
};

/* The subcommand argv[1] names, or NULL. */
const struct subcmd *subcmd_find(const struct subcmd_table *t, const char *name);
/* "a, b or c": the names, for messages. */
void subcmd_names(const struct subcmd_table *t, struct strbuf *out);
/* Run the subcommand argv[1] names and return its exit code.  Without a
 * fallback: help, -h and --help print the usage and --version the
 * version (exit 0); no name, or one that is not a subcommand, is one
 * line through usage_error(). */
int subcmd_dispatch(const struct subcmd_table *t, int argc, char **argv);

/* Whole decimal number in [min, max]; 0 ok, -1 otherwise. */
int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Duration in ms: duration_parse_ms (duration.h: "500us", "250ms", "30s",
 * "2m", "1h", "1.5s"; a bare number is seconds), named for the option
 * parsers.  0 ok, -1 on bad syntax or overflow. */
int parse_duration_ms(const char *s, unsigned long long *ms);
/* A scenario's --duration (ktstr-vm, ktstr-export, ktstr-verify): its
 * milliseconds, or usage_error() with scenario_duration_opt's line. */
unsigned long long scenario_duration_arg(const char *arg);

#endif
