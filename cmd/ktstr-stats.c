/* ktstr-stats: read the JSON-lines records of scenario runs and judge them.
 *
 * Built around subcommands; "verdict" is the only one so far and the
 * default when none is named.  The checks themselves live in lib/verdict.c
 * so a test runner can judge runs without going through this program. */
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "opts.h"
#include "scenario.h"
#include "strbuf.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest record line read whole; longer ones are reported and skipped. */
#define MAX_LINE (16u << 20)
/* Malformed lines reported one by one per input; the rest are counted. */
#define MAX_BAD_LINE_REPORTS 20

static const char usage_text[] =
"usage: ktstr-stats [verdict] [options] [FILE...]\n"
"\n"
"Judge a scenario run from its JSON-lines records (the output of\n"
"ktstr-vm --scenario), read from FILE or stdin (\"-\").  Each FILE is one\n"
"run and gets its own verdict.\n"
"\n"
"  ktstr-vm --topo 1,2,4,1 --scheduler ./scx_simple --scenario steady | ktstr-stats\n"
"\n"
"Output:\n"
"      --json                   print one JSON verdict record per run instead\n"
"                               of the report (see ktstr-records(7))\n"
"      --pass-through           copy the input to stdout unchanged and print\n"
"                               the report on stderr (with --json, the verdict\n"
"                               record is appended to stdout)\n"
"\n"
"Thresholds (these win over the scenario's own; N is a plain number,\n"
"'off' disables the check):\n"
"      --max-spread-pct N       per-cgroup off-CPU spread (default 15)\n"
"      --max-gap-ms N           longest time a worker went unscheduled\n"
"                               (default 2000)\n"
"      --max-p99-wake-us N      p99 wakeup latency (default off)\n"
"      --min-iter-rate N        cgroup iterations per second (default off)\n"
"      --max-migration-ratio N  migrations per iteration (default off)\n"
"      --isolation, --no-isolation\n"
"                               workers stay inside their cpuset (default on)\n"
"      --starvation, --no-starvation\n"
"                               every worker makes progress (default on)\n"
"\n"
"  -h, --help                   show this help and exit\n"
"      --version                show the version and exit\n"
"\n"
"Exit status: 0 pass, 1 fail, 3 skipped or inconclusive, 2 error (bad\n"
"usage, unreadable input, no records, or a run that could not be set up).\n"
"With several inputs the worst wins: 2 over 1 over 3 over 0.\n";

enum {
	OPT_JSON = 0x100, OPT_PASS_THROUGH, OPT_MAX_SPREAD, OPT_MAX_GAP, OPT_MAX_P99,
	OPT_MIN_RATE, OPT_MAX_MIGR, OPT_ISOLATION, OPT_NO_ISOLATION, OPT_STARVATION,
	OPT_NO_STARVATION,
};

static const struct option verdict_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pass-through", no_argument, NULL, OPT_PASS_THROUGH },
	{ "max-spread-pct", required_argument, NULL, OPT_MAX_SPREAD },
	{ "max-gap-ms", required_argument, NULL, OPT_MAX_GAP },
	{ "max-p99-wake-us", required_argument, NULL, OPT_MAX_P99 },
	{ "min-iter-rate", required_argument, NULL, OPT_MIN_RATE },
	{ "max-migration-ratio", required_argument, NULL, OPT_MAX_MIGR },
	{ "isolation", no_argument, NULL, OPT_ISOLATION },
	{ "no-isolation", no_argument, NULL, OPT_NO_ISOLATION },
	{ "starvation", no_argument, NULL, OPT_STARVATION },
	{ "no-starvation", no_argument, NULL, OPT_NO_STARVATION },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct verdict_opts {
	bool json, pass_through;
	struct checks flags;
};

/* N (plain decimal, >= 0) or "off" (INFINITY, as verdict.h wants). */
static void parse_threshold(const char *opt, const char *s, double *out)
{
	char *end;
	double x;

	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		*out = INFINITY;
		return;
	}
	if (*s && strspn(s, "0123456789.") == strlen(s)) {
		errno = 0;
		x = strtod(s, &end);
		if (!errno && !*end && end != s && x >= 0 && x < 1e15) {
			*out = x;
			return;
		}
	}
	usage_error("--%s '%s': expected a number such as 20 or 0.5, or 'off'", opt, s);
}

static void parse_verdict_args(int argc, char **argv, struct verdict_opts *o)
{
	struct checks *f = &o->flags;
	int c;

	checks_init(f);
	while ((c = getopt_long(argc, argv, "h", verdict_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: o->json = true; break;
		case OPT_PASS_THROUGH: o->pass_through = true; break;
		case OPT_MAX_SPREAD: parse_threshold("max-spread-pct", optarg, &f->max_spread_pct); break;
		case OPT_MAX_GAP: parse_threshold("max-gap-ms", optarg, &f->max_gap_ms); break;
		case OPT_MAX_P99:
			parse_threshold("max-p99-wake-us", optarg, &f->max_p99_wake_latency_us);
			break;
		case OPT_MIN_RATE:
			parse_threshold("min-iter-rate", optarg, &f->min_iterations_per_sec);
			break;
		case OPT_MAX_MIGR:
			parse_threshold("max-migration-ratio", optarg, &f->max_migration_ratio);
			break;
		case OPT_ISOLATION: f->isolation = 1; break;
		case OPT_NO_ISOLATION: f->isolation = 0; break;
		case OPT_STARVATION: f->starvation = 1; break;
		case OPT_NO_STARVATION: f->starvation = 0; break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
}

/* ---- reading one input -------------------------------------------------- */

struct input {
	const char *name;		/* as shown in messages: path or "stdin" */
	unsigned long bad_reported;
};

struct sink {
	bool pass_through, stdout_broken, at_line_start;
	unsigned reports;		/* human reports printed so far */
};

static void warn_cb(void *ctx, unsigned long line, const char *msg)
{
	struct input *in = ctx;

	if (line)
		diag("%s:%lu: %s", in->name, line, msg);
	else
		diag("%s: %s", in->name, msg);
}

static void copy_out(struct sink *s, const char *buf, size_t len)
{
	if (!s->pass_through || s->stdout_broken || !len)
		return;
	if (write_all(STDOUT_FILENO, buf, len) < 0) {
		diag("writing records to stdout: %s; no longer copying them",
		     strerror(errno));
		s->stdout_broken = true;
		return;
	}
	s->at_line_start = buf[len - 1] == '\n';
}

static void bad_line(struct input *in, unsigned long lineno, const char *why)
{
	if (in->bad_reported++ < MAX_BAD_LINE_REPORTS)
		diag("%s:%lu: %s; line ignored", in->name, lineno, why);
	else if (in->bad_reported == MAX_BAD_LINE_REPORTS + 1)
		diag("%s:%lu: more lines that are not records; no longer reporting"
		     " them one by one", in->name, lineno);
}

static void one_line(struct verdict *v, struct input *in, unsigned long lineno,
		     const char *line, size_t len)
{
	struct strbuf err = STRBUF_INIT;

	if (verdict_feed_line(v, line, len, lineno, &err) < 0)
		bad_line(in, lineno, err.buf);
	strbuf_release(&err);
}

/* Feed everything readable from fd.  Returns 0, or -1 after a read error
 * (reported here). */
static int read_input(int fd, struct verdict *v, struct input *in, struct sink *s)
{
	struct line_reader lr;
	char buf[65536];
	unsigned long lineno = 0;
	bool in_long = false, truncated;
	const char *line;
	size_t len;
	ssize_t n;
	int ret = 0;

	line_reader_init(&lr, MAX_LINE);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag("%s: cannot read: %s", in->name, strerror(errno));
			ret = -1;
			break;
		}
		if (n == 0)
			break;
		copy_out(s, buf, (size_t)n);
		line_reader_feed(&lr, buf, (size_t)n);
		while ((line = line_reader_next(&lr, &len, &truncated))) {
			if (truncated) {
				if (!in_long) {
					lineno++;
					v->bad_lines++;
					bad_line(in, lineno, "line longer than 16 MiB");
				}
				in_long = true;
			} else if (in_long) {
				in_long = false;	/* the long line's tail */
			} else {
				one_line(v, in, ++lineno, line, len);
			}
		}
	}
	/* A last line without a newline still counts. */
	if (!ret && (line = line_reader_rest(&lr, &len)) && !in_long)
		one_line(v, in, ++lineno, line, len);
	if (in->bad_reported > MAX_BAD_LINE_REPORTS)
		diag("%s: %lu lines in all were not records and were ignored",
		     in->name, v->bad_lines);
	line_reader_release(&lr);
	return ret;
}

/* ---- the verdict subcommand --------------------------------------------- */

static void print_json(struct sink *s, json_t *rec)
{
	struct strbuf sb = STRBUF_INIT;

	if (s->pass_through && !s->at_line_start)
		strbuf_addch(&sb, '\n');
	jsonl_encode(&sb, rec);
	json_decref(rec);
	if (s->stdout_broken)
		;
	else if (write_all(STDOUT_FILENO, sb.buf, sb.len) < 0)
		die_errno(KTSTR_EXIT_USAGE, "writing the verdict to stdout");
	else
		s->at_line_start = true;
	strbuf_release(&sb);
}

static enum verdict_result judge(const struct verdict_opts *o, const char *path,
				 bool several, struct sink *s)
{
	struct input in = { .name = strcmp(path, "-") ? path : "stdin" };
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	enum verdict_result r;
	int fd = STDIN_FILENO;
	char *problem = NULL;

	verdict_init(&v);
	v.warn = warn_cb;
	v.warn_ctx = &in;
	if (strcmp(path, "-") && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		problem = xasprintf("cannot open: %s", strerror(errno));
		diag("%s: %s", in.name, problem);
	} else if (read_input(fd, &v, &in, s) < 0) {
		problem = xstrdup("cannot read the input");
	}
	if (fd != STDIN_FILENO && fd >= 0)
		close(fd);

	verdict_finish(&v, &o->flags);
	if (problem) {
		v.result = VERDICT_ERROR;
		free(v.reason);
		v.reason = problem;
	} else if (!v.records) {
		/* Nothing to judge: one line says so, whatever the format. */
		diag("%s: %s", in.name, v.reason);
	}
	r = v.result;

	if (o->json) {
		print_json(s, verdict_to_json(&v, in.name));
	} else if (!problem && v.records) {
		FILE *f = o->pass_through ? stderr : stdout;

		if (s->reports++)
			strbuf_addch(&out, '\n');
		if (several)
			strbuf_addf(&out, "==> %s <==\n", in.name);
		verdict_format(&v, &out);
		fflush(stdout);
		fwrite(out.buf, 1, out.len, f);
		fflush(f);
	}
	strbuf_release(&out);
	verdict_release(&v);
	return r;
}

static int cmd_verdict(int argc, char **argv)
{
	struct verdict_opts o = { 0 };
	struct sink s = { .at_line_start = true };
	enum verdict_result worst = VERDICT_PASS;
	int i, n;

	parse_verdict_args(argc, argv, &o);
	s.pass_through = o.pass_through;
	if (o.pass_through)	/* a closed reader must not cost the verdict */
		signal(SIGPIPE, SIG_IGN);
	n = argc - optind;
	if (!n && isatty(STDIN_FILENO))
		usage_error("no input: pipe a run's records in (ktstr-vm ... |"
			    " ktstr-stats) or name a file");
	if (!n)
		return verdict_exit_code(judge(&o, "-", false, &s));
	for (i = optind; i < argc; i++)
		worst = verdict_worst(worst, judge(&o, argv[i], n > 1, &s));
	return verdict_exit_code(worst);
}

/* ---- subcommands -------------------------------------------------------- */

static const struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "verdict", cmd_verdict },
};

int main(int argc, char **argv)
{
	size_t i;

	diag_init(argv[0]);
	/* "ktstr-stats NAME ..." runs a subcommand; anything else is the
	 * default one (a file named like a subcommand: ./NAME). */
	if (argc > 1)
		for (i = 0; i < ARRAY_SIZE(subcommands); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].run(argc - 1, argv + 1);
	return cmd_verdict(argc, argv);
}
