/* ktstr-stats: read the JSON-lines records of scenario runs and judge them,
 * and browse and compare the run history (sidecars).
 *
 * Built around subcommands: "verdict" (the default when none is named),
 * "list", "show", "compare" and "clean".  The checks live in lib/results/verdict.c, the
 * history in lib/results/sidecar.c and lib/results/compare.c, the tables in
 * lib/results/stats_report.c, so a test runner can use them without going through
 * this program. */
#include "checktab.h"
#include "compare.h"
#include "compare_report.h"
#include "env.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"
#include "junit_sidecars.h"
#include "opts.h"
#include "plot.h"
#include "plot_svg.h"
#include "scenario.h"
#include "sidecar.h"
#include "stats_report.h"
#include "strbuf.h"
#include "trace_export.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
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

static const char usage_head[] =
"usage: ktstr-stats [verdict] [options] [FILE...]\n"
"   or: ktstr-stats --list-checks [--json]\n"
"   or: ktstr-stats list [--dir ROOT] [--json]\n"
"   or: ktstr-stats show [RUN] [--dir ROOT] [filters] [--json]\n"
"   or: ktstr-stats compare A B [--dir ROOT] [filters] [--alpha P]\n"
"                        [--format text|markdown|json]\n"
"   or: ktstr-stats junit [RUN] [--dir ROOT]... [filters] [-o FILE]\n"
"   or: ktstr-stats clean [--keep N] [--dir ROOT]\n"
"\n"
"list, show, compare and clean read the run history ktstr test writes (one\n"
"sidecar per case); see 'ktstr-stats list --help'.\n"
"\n"
"Judge a scenario run from its JSON-lines records (the output of\n"
"ktstr-vm --scenario), read from FILE or stdin (\"-\").  Each FILE is one\n"
"run and gets its own verdict; an input holding a second run (runs\n"
"appended with >>) is an error (exit status 2).\n"
"\n"
"  ktstr-vm --topo 1,2,4,1 --scheduler ./scx_simple --scenario steady | ktstr-stats\n"
"\n"
"Output:\n"
"      --json                   print one JSON verdict record per run instead\n"
"                               of the report (see ktstr-records(7))\n"
"      --pass-through           copy the input to stdout unchanged and print\n"
"                               the report on stderr (with --json, the verdict\n"
"                               record is appended to stdout)\n"
"      --trace FILE.json        also write the run as a trace for Perfetto or\n"
"                               chrome://tracing (one input only)\n"
"      --svg FILE.svg           also draw the run's timeline as an SVG picture:\n"
"                               a lane per CPU shaded by load, the workers,\n"
"                               steps, the scheduler, failed checks in red\n"
"                               (one input only)\n"
"      --list-checks            print the table of checks and exit (with\n"
"                               --json, one check_def record per check)\n"
"\n"
"Payload checks (over the scenario's and the test file's; repeatable):\n"
"      --metric-max PAYLOAD.METRIC=V\n"
"                               fail when the metric of any copy of the\n"
"                               payload is above V, or missing\n"
"      --metric-min PAYLOAD.METRIC=V\n"
"                               fail when it is below V, or missing\n"
"\n"
"Thresholds (these win over the scenario's own; N is a plain number,\n"
"'off' disables the check; see --list-checks):\n";

static const char usage_tail[] =
"\n"
"  -h, --help                   show this help and exit\n"
"      --version                show the version and exit\n"
"\n"
"Exit status: 0 pass, 1 fail, 3 skipped or inconclusive, 2 error (bad\n"
"usage, unreadable input, no records, a run that could not be set up, a VM\n"
"that never reached its agent, QEMU or the host failing, or stdout that\n"
"could not be written whole).  With several inputs the worst wins: 2 over\n"
"1 over 3 over 0.  list, show, compare, junit and clean: 0 ok, 1 compare\n"
"found a regression, 3 compare compared nothing, 2 error (see 'ktstr-stats\n"
"list --help').\n"
"\n"
"On SIGINT (Ctrl-C in 'ktstr-vm ... | ktstr-stats') the input is still read\n"
"to its end and judged; a run cut short is inconclusive.  A second SIGINT\n"
"stops at once.\n";

enum {
	OPT_JSON = 0x100, OPT_PASS_THROUGH, OPT_LIST_CHECKS, OPT_METRIC_MAX, OPT_METRIC_MIN,
	OPT_TRACE, OPT_SVG,
};

/* A threshold option's getopt value: row i of the check table, the --no-
 * form of a switch being the odd one.  Above OPT_VERSION. */
#define OPT_CHECK 0x2000
#define OPT_CHECK_ROW(c) (((c) - OPT_CHECK) / 2)
#define OPT_CHECK_NEG(c) (((c) - OPT_CHECK) % 2)

static const struct option verdict_fixed_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pass-through", no_argument, NULL, OPT_PASS_THROUGH },
	{ "list-checks", no_argument, NULL, OPT_LIST_CHECKS },
	{ "metric-max", required_argument, NULL, OPT_METRIC_MAX },
	{ "metric-min", required_argument, NULL, OPT_METRIC_MIN },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "svg", required_argument, NULL, OPT_SVG },
	KTSTR_COMMON_OPTIONS,
};

/* The options of the verdict subcommand: the fixed ones, then one per
 * spelling of each threshold of the check table (--KEY, --ALIAS, and
 * --no-KEY for a switch), so a new check gets its option without code
 * here.  Names are kept in names until verdict_opts_release. */
struct verdict_optset {
	struct option *v;
	size_t n;
	struct strvec names;
};

static void optset_add(struct verdict_optset *os, const char *prefix, const char *key,
		       int has_arg, int val)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, prefix);
	check_flag_name(key, &sb);
	strvec_push(&os->names, sb.buf);
	os->v[os->n++] = (struct option){ NULL, has_arg, NULL, val };
	strbuf_release(&sb);
}

static void optset_build(struct verdict_optset *os)
{
	const struct check_def *t;
	size_t i, j, n, cap, first;

	t = checktab(&n);
	cap = ARRAY_SIZE(verdict_fixed_opts) + 1;
	for (i = 0; i < n; i++)
		cap += 2 + CHECK_MAX_ALIASES;
	os->v = xcalloc(cap, sizeof(*os->v));
	for (i = 0; i < ARRAY_SIZE(verdict_fixed_opts); i++)
		os->v[os->n++] = verdict_fixed_opts[i];
	first = os->n;
	for (i = 0; i < n; i++) {
		const struct check_def *d = &t[i];
		int arg = d->kind == CHECK_LIMIT ? required_argument : no_argument;
		int val = OPT_CHECK + 2 * (int)i;

		if (d->kind == CHECK_ALWAYS)
			continue;
		optset_add(os, "", d->key, arg, val);
		for (j = 0; d->aliases[j]; j++)
			optset_add(os, "", d->aliases[j], arg, val);
		if (d->kind == CHECK_SWITCH)
			optset_add(os, "no-", d->key, no_argument, val + 1);
	}
	/* The strvec may move its strings' array, not the strings. */
	for (i = first; i < os->n; i++)
		os->v[i].name = os->names.v[i - first];
}

static void optset_release(struct verdict_optset *os)
{
	free(os->v);
	strvec_clear(&os->names);
}

/* text wrapped to 79 columns, continuation lines indented by indent. */
static void add_wrapped(struct strbuf *sb, size_t col, size_t indent, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > indent && col + 1 + w > 79) {
			strbuf_addf(sb, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			strbuf_addch(sb, ' ');
			col++;
		}
		strbuf_add(sb, p, w);
		col += w;
		p += w;
		p += strspn(p, " ");
	}
	strbuf_addch(sb, '\n');
}

/* The thresholds part of --help, from the check table. */
static void threshold_help(struct strbuf *sb)
{
	const struct check_def *t;
	size_t i, j, n;

	t = checktab(&n);
	for (i = 0; i < n; i++) {
		const struct check_def *d = &t[i];
		struct strbuf opt = STRBUF_INIT, text = STRBUF_INIT;

		if (d->kind == CHECK_ALWAYS)
			continue;
		strbuf_addstr(&opt, "      --");
		check_flag_name(d->key, &opt);
		if (d->kind == CHECK_LIMIT) {
			strbuf_addstr(&opt, " N");
		} else {
			strbuf_addstr(&opt, ", --no-");
			check_flag_name(d->key, &opt);
		}
		strbuf_addstr(&text, d->help);
		strbuf_addstr(&text, " (default ");
		check_default_format(d, &text);
		strbuf_addch(&text, ')');
		for (j = 0; d->aliases[j]; j++) {
			strbuf_addstr(&text, j ? ", --" : "; also --");
			check_flag_name(d->aliases[j], &text);
		}
		strbuf_addstr(sb, opt.buf);
		if (opt.len + 1 > 31) {
			strbuf_addf(sb, "\n%31s", "");
			add_wrapped(sb, 31, 31, text.buf);
		} else {
			strbuf_addf(sb, "%*s", (int)(31 - opt.len), "");
			add_wrapped(sb, 31, 31, text.buf);
		}
		strbuf_release(&opt);
		strbuf_release(&text);
	}
}

static void __attribute__((noreturn)) verdict_help_and_exit(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, usage_head);
	threshold_help(&sb);
	strbuf_addstr(&sb, usage_tail);
	print_help_and_exit(sb.buf);
}

struct verdict_opts {
	bool json, pass_through, list_checks;
	struct checks flags;
	json_t *payload_checks;	/* --metric-max/--metric-min, or NULL */
	const char *trace;	/* --trace FILE, or NULL */
	const char *svg;	/* --svg FILE, or NULL */
	bool trace_failed;	/* it (or the SVG) could not be written: exit 2 */
};

/* --metric-max / --metric-min PAYLOAD.METRIC=V */
static void parse_metric_flag(struct verdict_opts *o, const char *opt, const char *bound,
			      const char *arg)
{
	struct strbuf err = STRBUF_INIT;

	if (verdict_metric_flag(&o->payload_checks, bound, arg, &err) < 0)
		usage_error("--%s '%s': %s", opt, arg, err.buf);
	strbuf_release(&err);
}

/* N (plain decimal, within the row's limits) or "off" (INFINITY, as
 * verdict.h wants). */
static void parse_threshold(const struct check_def *d, const char *opt, const char *s,
			    double *out)
{
	struct strbuf want = STRBUF_INIT;
	char *end;
	double x;

	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		*out = INFINITY;
		return;
	}
	if (*s && strspn(s, "0123456789.") == strlen(s)) {
		errno = 0;
		x = strtod(s, &end);
		if (!errno && !*end && end != s && x < 1e15 && check_limit_valid(d, x)) {
			*out = x;
			return;
		}
	}
	check_limit_expect(d, &want);
	/* The example is the check's own default, which is always valid. */
	if (isnan(d->def))
		usage_error("--%s '%s': expected %s, or 'off'", opt, s, want.buf);
	usage_error("--%s '%s': expected %s such as %g, or 'off'", opt, s, want.buf, d->def);
}

static void parse_verdict_args(int argc, char **argv, struct verdict_opts *o)
{
	struct verdict_optset os = { 0 };
	const struct check_def *t;
	struct checks *f = &o->flags;
	size_t nrows;
	int c, idx;

	checks_init(f);
	t = checktab(&nrows);
	optset_build(&os);
	while ((c = opts_getopt(argc, argv, "h", os.v, &idx)) != -1) {
		if (c >= OPT_CHECK && (size_t)OPT_CHECK_ROW(c) < nrows) {
			const struct check_def *d = &t[OPT_CHECK_ROW(c)];

			if (d->kind == CHECK_LIMIT)
				parse_threshold(d, os.v[idx].name, optarg, check_limit(f, d));
			else
				*check_switch(f, d) = !OPT_CHECK_NEG(c);
			continue;
		}
		switch (c) {
		case OPT_JSON: o->json = true; break;
		case OPT_PASS_THROUGH: o->pass_through = true; break;
		case OPT_LIST_CHECKS: o->list_checks = true; break;
		case OPT_METRIC_MAX: parse_metric_flag(o, "metric-max", "max", optarg); break;
		case OPT_METRIC_MIN: parse_metric_flag(o, "metric-min", "min", optarg); break;
		case OPT_TRACE: o->trace = optarg; break;
		case OPT_SVG: o->svg = optarg; break;
		case OPT_HELP: verdict_help_and_exit();
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	optset_release(&os);
}

/* --list-checks: the check table, for people or (--json) for programs. */
static int list_checks(bool json)
{
	struct strbuf out = STRBUF_INIT;
	const struct check_def *t;
	size_t i, n;

	t = checktab(&n);
	if (json) {
		for (i = 0; i < n; i++) {
			json_t *rec = check_def_json(&t[i]);

			jsonl_encode(&out, rec);
			json_decref(rec);
		}
	} else {
		checktab_format(&out);
		strbuf_addstr(&out, "\nOptions: --KEY N or --KEY off for a limit (with '-' for '_'),\n"
			      "--KEY / --no-KEY for an on/off check; aliases are older spellings,\n"
			      "accepted everywhere the key is.\n");
	}
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout))
		die_errno(KTSTR_EXIT_USAGE, "writing to stdout");
	strbuf_release(&out);
	return KTSTR_EXIT_PASS;
}

/* ---- reading one input -------------------------------------------------- */

struct input {
	const char *name;		/* as shown in messages: path or "stdin" */
	unsigned long bad_reported;
};

struct sink {
	bool pass_through, stdout_broken, at_line_start;
	bool write_failed;		/* stdout lost data (not a closed
					 * reader): exit 2 */
	unsigned reports;		/* human reports printed so far */
};

/* SIGINT while reading.  `ktstr-vm ... | ktstr-stats` gets one ^C in both
 * programs: ktstr-vm stops the VM and still writes vm_exit, so the first
 * one here is noted and the input read to its end, to judge what the run
 * got to.  A second one stops us (the default action). */
static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
	if (got_sigint++)
		signal(sig, SIG_DFL), raise(sig);
}

static void trap_sigint(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };

	/* No SA_RESTART: read() returns EINTR, so the notice goes out at
	 * once; the loop then reads on. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* Said once, from the read loop (not from the handler). */
static void note_sigint(const struct input *in)
{
	static bool noted;

	if (got_sigint && !noted) {
		noted = true;
		diag("%s: interrupted; reading the rest of the input to judge the run"
		     " (interrupt again to stop now)", in->name);
	}
}

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
		/* A reader that went away (| head) must not cost the verdict;
		 * a copy that lost data (a full disk) must not pass for a
		 * whole one. */
		if (errno == EPIPE) {
			diag("writing records to stdout: %s; no longer copying them",
			     strerror(errno));
		} else {
			diag("writing records to stdout: %s; the copy is incomplete"
			     " (exit status 2)", strerror(errno));
			s->write_failed = true;
		}
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

/* What the record callbacks of one input's reader need. */
struct feed {
	struct verdict *v;
	struct input *in;
	struct sink *s;
	struct trace_export *trace;	/* --trace, or NULL */
};

static void feed_record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct feed *f = ctx;

	f->v->line = lineno;
	verdict_feed(f->v, rec);
	if (f->trace)
		trace_export_feed(f->trace, rec);
}

static void feed_bad(void *ctx, unsigned long lineno, const char *why)
{
	struct feed *f = ctx;

	f->v->bad_lines++;
	bad_line(f->in, lineno, why);
}

static void feed_chunk(void *ctx, const char *buf, size_t len)
{
	struct feed *f = ctx;

	note_sigint(f->in);
	copy_out(f->s, buf, len);
}

/* Feed everything readable from fd.  Returns 0, or -1 after a read error
 * (reported here). */
static int read_input(int fd, struct verdict *v, struct input *in, struct sink *s,
		      struct trace_export *trace)
{
	static const struct jsonl_ops ops = {
		.record = feed_record, .bad = feed_bad, .chunk = feed_chunk,
	};
	struct feed f = { .v = v, .in = in, .s = s, .trace = trace };
	struct jsonl_reader r;
	int ret;

	jsonl_reader_init(&r, MAX_LINE, &ops, &f);
	ret = jsonl_reader_read(&r, fd);
	note_sigint(in);
	/* A non-blocking stdin that runs dry (1) is a read error here too. */
	if (ret != 0)
		diag("%s: cannot read: %s", in->name, strerror(errno));
	else
		jsonl_reader_finish(&r);	/* a last line without a newline counts */
	if (in->bad_reported > MAX_BAD_LINE_REPORTS)
		diag("%s: %lu lines in all were not records and were ignored",
		     in->name, v->bad_lines);
	jsonl_reader_release(&r);
	return ret ? -1 : 0;
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

/* --svg: the trace drawn as a picture, written whole. */
static void write_svg(struct verdict_opts *o, const json_t *trace)
{
	struct plot p;

	svg_timeline(trace, &p);
	if (plot_svg_write(&p, o->svg) < 0) {
		diag("--svg %s: cannot write: %s; check the path and the free space", o->svg,
		     strerror(errno));
		o->trace_failed = true;
	}
	plot_release(&p);
}

/* --trace and --svg: the run as a trace and its picture, each written
 * whole; a failure is one line and exit status 2, the verdict stands. */
static void write_trace(struct verdict_opts *o, const struct trace_export *t,
			const struct verdict *v, const char *name, bool problem)
{
	json_t *trace;

	if ((!o->trace && !o->svg) || problem)	/* the input could not be read: said */
		return;
	if (!v->records) {
		diag("%s: no records, so no %s; %s not written", name,
		     o->trace ? "trace" : "picture", o->trace ? o->trace : o->svg);
		o->trace_failed = true;
		return;
	}
	trace = trace_export_build(t, v);
	if (o->trace && trace_export_write(o->trace, trace) < 0) {
		diag("--trace %s: cannot write: %s; check the path and the free space",
		     o->trace, strerror(errno));
		o->trace_failed = true;
	}
	if (o->svg)
		write_svg(o, trace);
	json_decref(trace);
}

static enum verdict_result judge(struct verdict_opts *o, const char *path,
				 bool several, struct sink *s)
{
	struct trace_export trace;
	struct input in = { .name = strcmp(path, "-") ? path : "stdin" };
	struct verdict v;
	struct strbuf out = STRBUF_INIT;
	enum verdict_result r;
	int fd = STDIN_FILENO;
	char *problem = NULL;

	verdict_init(&v);
	trace_export_init(&trace);
	v.warn = warn_cb;
	v.warn_ctx = &in;
	/* Built from the flags, so the shape is right by construction. */
	if (o->payload_checks)
		verdict_payload_overlay(&v, o->payload_checks, &out);
	strbuf_reset(&out);
	if (strcmp(path, "-") && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		problem = xasprintf("cannot open: %s", strerror(errno));
		diag("%s: %s", in.name, problem);
	} else if (read_input(fd, &v, &in, s, o->trace || o->svg ? &trace : NULL) < 0) {
		problem = xstrdup("cannot read the input");
	}
	if (fd != STDIN_FILENO && fd >= 0)
		close(fd);

	v.interrupted = got_sigint != 0;
	verdict_finish(&v, &o->flags);
	if (!problem && v.next_run) {
		/* Two runs read as one would mix their cgroups under one
		 * verdict: said in one line, no report (v.reason for --json). */
		diag("%s:%lu: a second run starts here (%s); one input is one run:"
		     " give each run its own file (ktstr-stats A.jsonl B.jsonl judges each)",
		     in.name, v.next_run_line, v.next_run);
		problem = xstrdup(v.reason);
	}
	if (problem) {
		v.result = VERDICT_ERROR;
		free(v.reason);
		v.reason = problem;
	} else if (!v.records) {
		/* Nothing to judge: one line says so, whatever the format. */
		diag("%s: %s", in.name, v.reason);
	}
	r = v.result;
	write_trace(o, &trace, &v, in.name, problem != NULL);
	trace_export_release(&trace);

	if (o->json) {
		print_json(s, verdict_to_json(&v, in.name));
	} else if (!problem && v.records) {
		FILE *f = o->pass_through ? stderr : stdout;

		if (s->reports++)
			strbuf_addch(&out, '\n');
		if (several)
			strbuf_addf(&out, "==> %s <==\n", in.name);
		verdict_format(&v, &out);
		if (fflush(stdout) && !o->pass_through)
			die_errno(KTSTR_EXIT_USAGE, "writing the report to stdout");
		if ((fwrite(out.buf, 1, out.len, f) != out.len || fflush(f)) &&
		    f == stdout)
			die_errno(KTSTR_EXIT_USAGE, "writing the report to stdout");
	}
	strbuf_release(&out);
	verdict_release(&v);
	return r;
}

/* --trace or --svg FILE (path; NULL when not given): one file of one run,
 * at a path that can be written; else usage, exit 2.  what names the
 * file ("one WHAT is one run"), example a file name for the hint. */
static void check_run_output(const char *flag, const char *path, const char *what,
			     const char *example, int n_inputs)
{
	struct strbuf err = STRBUF_INIT;

	if (!path)
		return;
	if (n_inputs > 1)
		usage_error("%s %s: one %s is one run; name one input (%d given)", flag, path,
			    what, n_inputs);
	if (trace_export_check_path(path, example, &err) < 0)
		usage_error("%s %s: %s", flag, path, err.buf);
	strbuf_release(&err);
}

static int cmd_verdict(int argc, char **argv)
{
	struct verdict_opts o = { 0 };
	struct sink s = { .at_line_start = true };
	enum verdict_result worst = VERDICT_PASS;
	int i, n;

	parse_verdict_args(argc, argv, &o);
	if (o.list_checks)
		return list_checks(o.json);
	s.pass_through = o.pass_through;
	if (o.pass_through)	/* a closed reader must not cost the verdict */
		signal(SIGPIPE, SIG_IGN);
	n = argc - optind;
	check_run_output("--trace", o.trace, "trace", "run.trace.json", n);
	check_run_output("--svg", o.svg, "picture", "run.svg", n);
	if (!n && isatty(STDIN_FILENO))
		usage_error("no input: pipe a run's records in (ktstr-vm ... |"
			    " ktstr-stats) or name a file");
	trap_sigint();
	if (!n)
		worst = judge(&o, "-", false, &s);
	for (i = optind; i < argc; i++)
		worst = verdict_worst(worst, judge(&o, argv[i], n > 1, &s));
	json_decref(o.payload_checks);
	/* Whatever went to stdout must have got there whole. */
	if (fflush(stdout) || ferror(stdout) || fclose(stdout))
		die_errno(KTSTR_EXIT_USAGE, "writing to stdout");
	if (s.write_failed)
		die(KTSTR_EXIT_USAGE, "stdout: the copy of the records%s is incomplete"
		    " (a write failed)", o.json ? " and the verdict record" : "");
	if (o.trace_failed)
		return KTSTR_EXIT_USAGE;
	return verdict_exit_code(worst);
}

/* ---- the run history: list, show, compare, clean ----------------------- */

static const char history_usage_text[] =
"usage: ktstr-stats list [--dir ROOT] [--json|--table]\n"
"   or: ktstr-stats show [RUN] [--dir ROOT] [filters] [--json|--table]\n"
"   or: ktstr-stats compare A B [--dir ROOT] [filters] [--alpha P] [--all]\n"
"                        [--phase N[,N...]] [--format text|markdown|json]\n"
"                        [--svg FILE.svg]\n"
"   or: ktstr-stats junit [RUN] [--dir ROOT] [filters] [-o FILE]\n"
"   or: ktstr-stats clean [--keep N] [--dir ROOT] [--json|--table]\n"
"\n"
"Every ktstr test run writes one sidecar (*.ktstr.json) per case into its\n"
"own run directory {kernel}-{run id} under the runs root; runs are kept\n"
"until 'clean' prunes them.\n"
"\n"
"  list      the runs, newest first (RUN, LABEL, KERNEL, SCHEDULERS, TESTS,\n"
"            DATE, ARCH)\n"
"  show      the cases of RUN (default: the newest run with sidecars)\n"
"  compare   the cases of run A (the baseline) against run B: per metric the\n"
"            means, the change with its unit, the t-test's p and a verdict:\n"
"            REGRESSION or improvement (past both gates and significant),\n"
"            noise (past the gates, not significant: 1 sample, or p >= alpha),\n"
"            changed (a neutral metric such as migrations); a BPF\n"
"            program's cost (bpf.PROG.ns_per_run, from ktstr-vm --bpf-stats)\n"
"            is a REGRESSION 25% dearer, from one sample a side too\n"
"  junit     the JUnit XML report of RUN (default: the newest with sidecars),\n"
"            one testcase per sidecar, to stdout or -o FILE\n"
"  clean     remove stale temp files, runs without sidecars, and with\n"
"            --keep N every run but the N newest (running ones are kept)\n"
"\n"
"RUN, A and B are run ids or directory names from 'ktstr-stats list', labels\n"
"(ktstr test --label; the newest run with it), or directory paths (with a\n"
"'/'); --dir may also name one run directory.\n"
"\n"
"Several roots (repeat --dir, or KTSTR_RUNS_ROOT=A:B:C), such as the\n"
"artifact directories of a CI fleet's shards, read as one history: the\n"
"directories of one run id (the shards of one run) are one run.\n"
"\n"
"      --dir ROOT               runs root (repeatable; default:\n"
"                               KTSTR_RUNS_ROOT, ':'-separated roots, else\n"
"                               $XDG_STATE_HOME/ktstr/runs)\n"
"  -o, --output FILE            junit: write the report to FILE\n"
"                               (atomically) instead of stdout\n"
"      --json                   JSON lines (see ktstr-records(7)); list, show\n"
"                               and clean print them when stdout is not a\n"
"                               terminal\n"
"      --table                  a table even when stdout is not a terminal\n"
"      --format F               compare: text (default), markdown (a table to\n"
"                               paste into a review) or json (as --json)\n"
"      --alpha P                t-test level for compare (default 0.05)\n"
"      --all                    compare: every metric, changed or not\n"
"      --phase N[,N...]         compare: only the per-phase metrics\n"
"                               (phase<N>.*) of phase N (repeatable)\n"
"      --svg FILE.svg           compare: also draw every gated metric both\n"
"                               runs have, A's and B's bars side by side\n"
"                               with error bars (+- one standard deviation)\n"
"      --keep N                 clean: keep the N newest runs\n"
"\n"
"Filters (show, compare and junit; a case must match all given):\n"
"      --kernel K               kernel label starts with K\n"
"      --scheduler S            scheduler name (\"eevdf\": the kernel's own)\n"
"      --topology T             topology preset name or spec (1n2l2c1t or\n"
"                               1,2,2,1)\n"
"      --work-type W            the scenario uses work type W\n"
"      --commit C               project commit starts with C\n"
"      --run-source local|ci    where the run happened\n"
"      --test NAME              test or case name, a shell glob: steady,\n"
"                               steady/tiny-2llc, 'steady/*'\n"
"\n"
"  -h, --help                   show this help and exit\n"
"      --version                show the version and exit\n"
"\n"
"Exit status: 0 ok (compare: no regression), 1 compare found a regression,\n"
"3 compare compared nothing (no case in both runs, or none measured on both\n"
"sides), 2 error (missing runs root or run, a run without sidecars, bad\n"
"usage).\n";

enum {
	OPT_DIR = 0x200, OPT_HJSON, OPT_TABLE, OPT_FORMAT, OPT_ALPHA, OPT_ALL, OPT_PHASE,
	OPT_KEEP, OPT_F_KERNEL, OPT_F_SCHED, OPT_F_TOPO, OPT_F_WORK, OPT_F_COMMIT,
	OPT_F_SOURCE, OPT_F_TEST, OPT_OUTPUT, OPT_CSVG,
};

static const struct option history_longopts[] = {
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "json", no_argument, NULL, OPT_HJSON },
	{ "table", no_argument, NULL, OPT_TABLE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "phase", required_argument, NULL, OPT_PHASE },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "kernel", required_argument, NULL, OPT_F_KERNEL },
	{ "scheduler", required_argument, NULL, OPT_F_SCHED },
	{ "topology", required_argument, NULL, OPT_F_TOPO },
	{ "work-type", required_argument, NULL, OPT_F_WORK },
	{ "commit", required_argument, NULL, OPT_F_COMMIT },
	{ "run-source", required_argument, NULL, OPT_F_SOURCE },
	{ "test", required_argument, NULL, OPT_F_TEST },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "svg", required_argument, NULL, OPT_CSVG },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct history_opts {
	const char *cmd;		/* "list", "show", "compare", "junit", "clean" */
	struct strvec dirs;		/* --dir, in order */
	const char *output;		/* junit -o */
	const char *svg;		/* compare --svg */
	int json;			/* 1 --json, 0 --table, -1 by stdout */
	enum compare_format format;
	bool all, filtered;
	long keep;			/* clean --keep; -1 without */
	double alpha;
	struct compare_filter filter;
	char **args;			/* positional arguments */
	int nargs;
	unsigned *phases;		/* --phase, into filter */
	size_t n_phases;
};

/* --phase N[,N...]: phase numbers, added to o->phases (duplicates kept
 * once). */
static void parse_phases(struct history_opts *o, const char *arg)
{
	const char *p = arg;

	if (strcmp(o->cmd, "compare"))
		usage_error("%s: --phase applies to compare", o->cmd);
	for (;;) {
		unsigned long n;
		char *end;
		size_t i;

		errno = 0;
		n = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : ULONG_MAX;
		if (errno || n > 999999 || (*end && *end != ','))
			usage_error("--phase '%s': expected phase numbers separated by"
				    " commas, such as 1 or 1,3", arg);
		for (i = 0; i < o->n_phases && o->phases[i] != n; i++)
			;
		if (i == o->n_phases) {
			o->phases = xrealloc(o->phases, (o->n_phases + 1) * sizeof(*o->phases));
			o->phases[o->n_phases++] = (unsigned)n;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	o->filter.phases = o->phases;
	o->filter.n_phases = o->n_phases;
}

/* Options that belong to one subcommand only. */
static void only_for(const struct history_opts *o, const char *opt, const char *cmd)
{
	if (strcmp(o->cmd, cmd))
		usage_error("%s: --%s applies to %s", o->cmd, opt, cmd);
}

static void parse_history_args(int argc, char **argv, struct history_opts *o)
{
	struct compare_filter *f = &o->filter;
	bool filters_ok = !strcmp(o->cmd, "show") || !strcmp(o->cmd, "compare") ||
			  !strcmp(o->cmd, "junit");
	unsigned long n;
	char *end;
	int c;

	o->json = -1;
	o->alpha = 0.05;
	o->keep = -1;
	while ((c = opts_getopt(argc, argv, "ho:", history_longopts, NULL)) != -1) {
		if (c >= OPT_F_KERNEL && c <= OPT_F_TEST) {
			if (!filters_ok)
				usage_error("%s: filters apply to show, compare and junit, not %s",
					    o->cmd, o->cmd);
			o->filtered = true;
		}
		switch (c) {
		case OPT_DIR: strvec_push(&o->dirs, optarg); break;
		case 'o':
		case OPT_OUTPUT:
			only_for(o, "output", "junit");
			o->output = optarg;
			break;
		case OPT_HJSON: o->json = 1; o->format = COMPARE_FMT_JSON; break;
		case OPT_TABLE: o->json = 0; break;
		case OPT_ALL: o->all = true; break;
		case OPT_PHASE: parse_phases(o, optarg); break;
		case OPT_CSVG:
			only_for(o, "svg", "compare");
			o->svg = optarg;
			break;
		case OPT_FORMAT:
			only_for(o, "format", "compare");
			if (compare_format_parse(optarg, &o->format) < 0)
				usage_error("--format '%s': expected text, markdown or json",
					    optarg);
			o->json = o->format == COMPARE_FMT_JSON;
			break;
		case OPT_KEEP:
			only_for(o, "keep", "clean");
			if (parse_ulong(optarg, 0, LONG_MAX, &n) < 0)
				usage_error("--keep '%s': expected a whole number, such as"
					    " --keep 10", optarg);
			o->keep = (long)n;
			break;
		case OPT_ALPHA:
			errno = 0;
			o->alpha = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->alpha > 0 && o->alpha < 1))
				usage_error("--alpha '%s': expected a level between 0 and 1,"
					    " such as 0.05", optarg);
			break;
		case OPT_F_KERNEL: f->kernel = optarg; break;
		case OPT_F_SCHED: f->scheduler = optarg; break;
		case OPT_F_TOPO: f->topology = optarg; break;
		case OPT_F_WORK: f->work_type = optarg; break;
		case OPT_F_COMMIT: f->commit = optarg; break;
		case OPT_F_SOURCE:
			if (strcmp(optarg, "local") && strcmp(optarg, "ci"))
				usage_error("--run-source '%s': expected 'local' or 'ci'", optarg);
			f->run_source = optarg;
			break;
		case OPT_F_TEST: f->test = optarg; break;
		case OPT_HELP: print_help_and_exit(history_usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
}

static bool want_json(const struct history_opts *o)
{
	return o->json < 0 ? !isatty(STDOUT_FILENO) : o->json;
}

/* The runs roots: --dir (repeatable), else KTSTR_RUNS_ROOT (':'-separated),
 * else the default.  One the user named must exist: a typo is an error,
 * not an empty history.  The default may be missing (nothing run yet):
 * *missing is set then.  roots->v[0] also names the history in messages. */
static void runs_roots(const struct history_opts *o, struct strvec *roots, bool *missing)
{
	const char *env = env_get("KTSTR_RUNS_ROOT");
	const char *from = o->dirs.n ? "--dir" : env ? "KTSTR_RUNS_ROOT" : NULL;
	char *copy, *p, *tok, *save = NULL, *root;
	size_t i;

	if (o->dirs.n) {
		for (i = 0; i < o->dirs.n; i++) {
			root = path_expand_tilde(o->dirs.v[i]);
			strvec_push(roots, root);
			free(root);
		}
	} else if (env) {
		copy = xstrdup(env);
		for (p = copy; (tok = strtok_r(p, ":", &save)); p = NULL) {
			root = path_expand_tilde(tok);
			strvec_push(roots, root);
			free(root);
		}
		free(copy);
	} else if ((root = sidecar_runs_root())) {
		strvec_push(roots, root);
		free(root);
	}
	if (!roots->n)
		die(KTSTR_EXIT_USAGE, "%s: no runs root: set HOME or KTSTR_RUNS_ROOT,"
		    " or pass --dir", o->cmd);
	*missing = !is_directory(roots->v[0]);
	for (i = 0; from && i < roots->n; i++)
		if (!is_directory(roots->v[i]))
			die(KTSTR_EXIT_USAGE, "%s: runs root '%s' (from %s) %s; check the path"
			    " ('ktstr test' writes runs to KTSTR_RUNS_ROOT, default"
			    " ~/.local/state/ktstr/runs)", o->cmd, roots->v[i], from,
			    path_exists(roots->v[i]) ? "is not a directory" : "does not exist");
}

/* The roots for messages: "A" or "A, B and 2 more". */
static char *roots_text(const struct strvec *roots)
{
	if (roots->n == 1)
		return xstrdup(roots->v[0]);
	if (roots->n == 2)
		return xasprintf("%s and %s", roots->v[0], roots->v[1]);
	return xasprintf("%s, %s and %zu more", roots->v[0], roots->v[1], roots->n - 2);
}

/* The history of every root, shards of one run merged. */
static size_t list_history(const struct strvec *roots, struct sidecar_run **runs)
{
	return sidecar_list_roots((const char *const *)roots->v, roots->n, runs);
}

static void print_out(struct strbuf *out)
{
	if (out->len && (fwrite(out->buf, 1, out->len, stdout) != out->len ||
			 fflush(stdout)))
		die_errno(KTSTR_EXIT_USAGE, "writing to stdout");
	strbuf_release(out);
}

/* A run's directories (one per root it was sharded over) from its id,
 * label, name or path (sidecar_find_run), into dirs. */
static void resolve_run(const struct history_opts *o, const struct strvec *roots,
			const struct sidecar_run *runs, size_t n, const char *run,
			struct strvec *dirs)
{
	struct strbuf err = STRBUF_INIT;
	char *path, *note, *where;
	long i = sidecar_find_run(runs, n, run, &path, &note, &err);
	size_t j;

	if (i == -2) {
		where = roots_text(roots);
		die(KTSTR_EXIT_USAGE, "%s: %s under %s; 'ktstr-stats list' shows the runs",
		    o->cmd, err.buf, where);
	}
	if (note)
		diag("%s: %s", o->cmd, note);
	for (j = 0; i >= 0 && j < runs[i].dirs.n; j++)
		strvec_push(dirs, runs[i].dirs.v[j]);
	if (i < 0)
		strvec_push(dirs, path);
	free(path);
	free(note);
	strbuf_release(&err);
}

/* Load a run, reporting each unreadable sidecar on its own line. */
static void load_run(const struct history_opts *o, const char *run,
		     const struct strvec *dirs, struct sidecar_set *set)
{
	struct strbuf err = STRBUF_INIT;
	struct strvec dups = STRVEC_INIT;
	size_t i;

	if (sidecar_load_dirs(dirs, set, &dups, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s: run '%s': %s", o->cmd, run, err.buf);
	for (i = 0; i < set->bad.n; i++)
		diag("%s; skipped", set->bad.v[i]);
	for (i = 0; i < dups.n; i++)
		diag("%s: run '%s': %s is in another root too; read once", o->cmd, run,
		     dups.v[i]);
	strvec_clear(&dups);
	strbuf_release(&err);
}

static size_t count_matching(const struct sidecar_set *set, const struct compare_filter *f)
{
	size_t i, n = 0;

	for (i = 0; i < set->n; i++)
		n += compare_filter_match(f, &set->v[i]);
	return n;
}

/* Die unless set has a sidecar matching the filters, in one line. */
static void need_sidecars(const struct history_opts *o, const char *run,
			  const struct strvec *dirs, const struct sidecar_set *set)
{
	char *path = roots_text(dirs);

	if (!set->n && !set->bad.n)
		die(KTSTR_EXIT_USAGE, "%s: run '%s' has no sidecars (%s is empty);"
		    " run ktstr test first", o->cmd, run, path);
	if (!set->n)
		die(KTSTR_EXIT_USAGE, "%s: run '%s' has no readable sidecars (%zu in %s,"
		    " all unreadable)", o->cmd, run, set->bad.n, path);
	if (!count_matching(set, &o->filter))
		die(KTSTR_EXIT_USAGE, "%s: run '%s' has no sidecars matching the filters"
		    " (%zu in %s)", o->cmd, run, set->n, path);
	free(path);
}

static void history_release(struct history_opts *o, struct strvec *roots)
{
	strvec_clear(&o->dirs);
	strvec_clear(roots);
	free(o->phases);
}

static int cmd_list(int argc, char **argv)
{
	struct history_opts o = { .cmd = "list" };
	struct strbuf out = STRBUF_INIT;
	struct strvec roots = STRVEC_INIT;
	struct sidecar_run *runs;
	bool missing;
	char *where;
	size_t n;

	parse_history_args(argc, argv, &o);
	if (o.nargs)
		usage_error("list: unexpected argument '%s'", o.args[0]);
	runs_roots(&o, &roots, &missing);
	n = list_history(&roots, &runs);
	if (!n) {
		where = roots_text(&roots);
		diag("list: no runs under %s; ktstr test writes them", where);
		free(where);
	} else {
		stats_report_runs(runs, n, want_json(&o), &out);
	}
	print_out(&out);
	sidecar_runs_free(runs, n);
	history_release(&o, &roots);
	return KTSTR_EXIT_PASS;
}

/* Newer runs passed over, named in the note; the rest counted. */
#define PASSED_OVER_NAMED 3

/* The newest run with a sidecar file: an interrupted run, one whose setup
 * failed, or one still running before its first case ends leaves its
 * directory empty, and must not hide the runs before it.  The runs passed
 * over are said in one line.  With none that has any, the newest (whose
 * emptiness need_sidecars reports). */
static size_t newest_with_sidecars(const struct history_opts *o,
				   const struct sidecar_run *runs, size_t nruns)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < nruns && !runs[i].tests; i++)
		if (i < PASSED_OVER_NAMED)
			strbuf_addf(&sb, "%s'%s' (%s)", i ? ", " : "", runs[i].ref,
				    runs[i].live ? "still running, no case finished yet"
						 : "empty: interrupted, or its setup failed");
	if (i > PASSED_OVER_NAMED)
		strbuf_addf(&sb, " and %zu more", i - PASSED_OVER_NAMED);
	if (i == nruns)
		i = 0;
	else if (i)
		diag("%s: using '%s', the newest run with sidecars; passed over %zu newer"
		     " run%s without any: %s", o->cmd, runs[i].ref, i, i == 1 ? "" : "s",
		     sb.buf);
	strbuf_release(&sb);
	return i;
}

/* RUN, or the newest run: its name in *run, its directories in dirs. */
static void pick_run(const struct history_opts *o, const struct strvec *roots,
		     const struct sidecar_run *runs, size_t nruns, const char **run,
		     struct strvec *dirs)
{
	char *where;
	size_t i;

	if (o->nargs > 1)
		usage_error("%s: one run at a time ('%s' is extra)", o->cmd, o->args[1]);
	if (o->nargs) {
		*run = o->args[0];
		resolve_run(o, roots, runs, nruns, *run, dirs);
		return;
	}
	if (!nruns) {
		where = roots_text(roots);
		die(KTSTR_EXIT_USAGE, "%s: no runs under %s; run ktstr test first", o->cmd,
		    where);
	}
	i = newest_with_sidecars(o, runs, nruns);
	*run = runs[i].ref;
	for (size_t j = 0; j < runs[i].dirs.n; j++)
		strvec_push(dirs, runs[i].dirs.v[j]);
}

/* One run of the history, as show and junit read it: its name, the
 * directories it spans (one per root it was sharded over) and their
 * sidecars.  run points into runs, so both live until one_run_close. */
struct one_run {
	struct strvec roots, dirs;
	struct sidecar_set set;
	struct sidecar_run *runs;
	size_t nruns;
	const char *run;
};

static void one_run_open(int argc, char **argv, struct history_opts *o, struct one_run *r)
{
	bool missing;

	*r = (struct one_run){ .roots = STRVEC_INIT, .dirs = STRVEC_INIT };
	parse_history_args(argc, argv, o);
	runs_roots(o, &r->roots, &missing);
	r->nruns = list_history(&r->roots, &r->runs);
	pick_run(o, &r->roots, r->runs, r->nruns, &r->run, &r->dirs);
	load_run(o, r->run, &r->dirs, &r->set);
	need_sidecars(o, r->run, &r->dirs, &r->set);
}

static void one_run_close(struct history_opts *o, struct one_run *r)
{
	sidecar_set_release(&r->set);
	sidecar_runs_free(r->runs, r->nruns);
	strvec_clear(&r->dirs);
	history_release(o, &r->roots);
}

static int cmd_show(int argc, char **argv)
{
	struct history_opts o = { .cmd = "show" };
	struct strbuf out = STRBUF_INIT;
	struct one_run r;

	one_run_open(argc, argv, &o, &r);
	stats_report_cases(r.run, &r.set, &o.filter, want_json(&o), &out);
	print_out(&out);
	one_run_close(&o, &r);
	return KTSTR_EXIT_PASS;
}

/* junit: the run's report, as ktstr-test --junit writes it, from the
 * sidecars of every root the run was sharded over. */
static int cmd_junit(int argc, char **argv)
{
	struct history_opts o = { .cmd = "junit" };
	struct strbuf out = STRBUF_INIT;
	struct junit_sidecars j;
	struct one_run r;

	one_run_open(argc, argv, &o, &r);
	junit_from_sidecars(&r.set, &o.filter, &j);
	if (o.output) {
		/* As ktstr-test --junit: the directories on the way are made. */
		char *dir = path_dirname(o.output);
		bool bad = mkdir_p(dir, 0755) < 0 ||
			   junit_write(o.output, "ktstr", j.v, j.n, j.timestamp) < 0;

		/* Freed before dying: LeakSanitizer runs at exit (free keeps
		 * errno, glibc 2.33 on). */
		free(dir);
		if (bad)
			die_errno(KTSTR_EXIT_USAGE, "junit: cannot write %s", o.output);
	} else {
		junit_render(&out, "ktstr", j.v, j.n, j.timestamp);
		print_out(&out);
	}
	junit_sidecars_release(&j);
	one_run_close(&o, &r);
	return KTSTR_EXIT_PASS;
}

/* compare --svg: the gated metrics drawn; a failure is one line. */
static int compare_svg(const struct history_opts *o, const struct compare_result *r)
{
	struct plot p;
	int ret;

	svg_compare(r, o->args[0], o->args[1], &p);
	ret = plot_svg_write(&p, o->svg);
	if (ret < 0)
		diag("compare: --svg %s: cannot write: %s; check the path and the free space",
		     o->svg, strerror(errno));
	plot_release(&p);
	return ret;
}

/* Two sorted lists of distinct names hold the same names. */
static bool same_list(const struct strvec *a, const struct strvec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* --phase N that no matching sample of either run has compares nothing
 * for N: each is said in one line; true when that is every phase given. */
static bool phases_absent(const struct history_opts *o, const struct sidecar_set *a,
			  const struct sidecar_set *b)
{
	struct strbuf miss = STRBUF_INIT;
	size_t i, n = 0;
	bool all;

	for (i = 0; i < o->n_phases; i++)
		if (!compare_set_has_phase(a, &o->filter, o->phases[i]) &&
		    !compare_set_has_phase(b, &o->filter, o->phases[i]))
			strbuf_addf(&miss, "%s%u", n++ ? "," : "", o->phases[i]);
	all = n && n == o->n_phases;
	if (n)
		diag("compare: --phase %s: no sample of '%s' or '%s' has phase%s %s"
		     " (no phase<N>.* metric)%s; 'ktstr-stats show RUN --json' lists a"
		     " case's metrics", miss.buf, o->args[0], o->args[1], n == 1 ? "" : "s",
		     miss.buf, all ? ", so nothing was compared" : "");
	strbuf_release(&miss);
	return all;
}

static int cmd_compare(int argc, char **argv)
{
	struct history_opts o = { .cmd = "compare" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec roots = STRVEC_INIT, da = STRVEC_INIT, db = STRVEC_INIT;
	struct sidecar_set a = { 0 }, b = { 0 };
	struct sidecar_run *runs;
	struct compare_result r;
	size_t nruns;
	bool missing;
	int ret;

	parse_history_args(argc, argv, &o);
	if (o.nargs != 2)
		usage_error("compare: expected two runs, A and B ('ktstr-stats list'"
			    " shows them)");
	if (o.svg) {
		if (trace_export_check_path(o.svg, "compare.svg", &err) < 0)
			usage_error("compare: --svg %s: %s", o.svg, err.buf);
		strbuf_reset(&err);
	}
	runs_roots(&o, &roots, &missing);
	nruns = list_history(&roots, &runs);
	resolve_run(&o, &roots, runs, nruns, o.args[0], &da);
	resolve_run(&o, &roots, runs, nruns, o.args[1], &db);
	/* Two names for one run (its id and its label, say) are a slip. */
	if (same_list(&da, &db))
		diag("compare: '%s' and '%s' are the same run, so every case is compared"
		     " with itself; name two runs ('ktstr-stats list' shows them)",
		     o.args[0], o.args[1]);
	load_run(&o, o.args[0], &da, &a);
	load_run(&o, o.args[1], &db, &b);
	need_sidecars(&o, o.args[0], &da, &a);
	need_sidecars(&o, o.args[1], &db, &b);
	if (compare_runs(&a, &b, &o.filter, o.alpha, &r, &err) < 0)
		die(KTSTR_EXIT_USAGE, "compare: %s", err.buf);
	compare_report(&r, o.args[0], o.args[1], o.format, o.all, &out);
	print_out(&out);
	ret = r.regressions ? KTSTR_EXIT_FAIL : KTSTR_EXIT_PASS;
	/* A side whose cases were all skipped ran no VM, so it has no
	 * accelerator to differ in (ACCEL "-"). */
	if (r.a.samples > r.a.skips && r.b.samples > r.b.skips &&
	    !same_list(&r.a.accels, &r.b.accels))
		diag("compare: the runs used different accelerators (see ACCEL): under TCG,"
		     " rates, latencies and gaps measure the emulator as much as the"
		     " scheduler, so those deltas compare machines, not schedulers");
	/* Nothing compared is not "no regression": a CI job must not read
	 * it as a pass.  The usual cause is a run of several schedulers,
	 * whose case keys end in the scheduler's name. */
	if (!r.cases_both) {
		diag("compare: no case is in both runs ('%s' has %zu, '%s' %zu), so nothing"
		     " was compared%s", o.args[0], r.cases_a, o.args[1], r.cases_b,
		     o.filter.scheduler ? "" : "; a run of several schedulers names each"
		     " case .../SCHEDULER: pick one with --scheduler NAME");
		ret = KTSTR_EXIT_SKIP;
	} else if (!r.cases_judged) {
		diag("compare: every sample of the %zu case%s in both runs is an error, a"
		     " skip or inconclusive on one side at least (the VM or the host failed"
		     " or disturbed the run, or the case did not fit), so nothing was"
		     " compared", r.cases_both,
		     r.cases_both == 1 ? "" : "s");
		ret = KTSTR_EXIT_SKIP;
	} else if (o.n_phases && phases_absent(&o, &a, &b)) {
		ret = KTSTR_EXIT_SKIP;
	}
	if (o.svg && compare_svg(&o, &r) < 0)
		ret = KTSTR_EXIT_USAGE;
	compare_result_release(&r);
	sidecar_set_release(&a);
	sidecar_set_release(&b);
	sidecar_runs_free(runs, nruns);
	strbuf_release(&err);
	strvec_clear(&da);
	strvec_clear(&db);
	history_release(&o, &roots);
	return ret;
}

/* clean one root; its removals added to out. */
static void clean_root(const struct history_opts *o, const char *root, bool json,
		       struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	struct strvec gone = STRVEC_INIT, temps = STRVEC_INIT;
	size_t i;

	if (!is_directory(root)) {
		diag("clean: no runs under %s; nothing to clean", root);
		return;
	}
	if (sidecar_dir_has_sidecars(root))
		die(KTSTR_EXIT_USAGE, "clean: %s is a run directory, not a runs root; point"
		    " --dir at the directory above it", root);
	if (sidecar_clean(root, o->keep, &gone, &temps, &err) < 0)
		die(KTSTR_EXIT_USAGE, "clean: %s", err.buf);
	for (i = 0; i < gone.n + temps.n; i++) {
		bool run = i < gone.n;
		const char *what = run ? gone.v[i] : temps.v[i - gone.n];

		if (json) {
			json_t *rec = jsonl_record("clean_removed");

			json_set_str(rec, "kind", run ? "run" : "temp");
			json_set_str(rec, "name", what);
			jsonl_encode(out, rec);
			json_decref(rec);
		} else {
			strbuf_addf(out, "removed %s %s\n", run ? "run" : "temp file", what);
		}
	}
	strvec_clear(&gone);
	strvec_clear(&temps);
	strbuf_release(&err);
}

/* clean: each root on its own (--keep N counts per root). */
static int cmd_clean(int argc, char **argv)
{
	struct history_opts o = { .cmd = "clean" };
	struct strbuf out = STRBUF_INIT;
	struct strvec roots = STRVEC_INIT;
	bool missing, json;
	size_t i;

	parse_history_args(argc, argv, &o);
	if (o.nargs)
		usage_error("clean: unexpected argument '%s' (--keep N keeps the N newest"
			    " runs)", o.args[0]);
	runs_roots(&o, &roots, &missing);
	json = want_json(&o);
	for (i = 0; i < roots.n; i++)
		clean_root(&o, roots.v[i], json, &out);
	print_out(&out);
	history_release(&o, &roots);
	return KTSTR_EXIT_PASS;
}

/* ---- subcommands -------------------------------------------------------- */

static const struct subcmd subcommands[] = {
	{ "verdict", cmd_verdict },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "compare", cmd_compare },
	{ "junit", cmd_junit },
	{ "clean", cmd_clean },
};

int main(int argc, char **argv)
{
	/* "ktstr-stats NAME ..." runs a subcommand; anything else is the
	 * default one (a file named like a subcommand: ./NAME), which has
	 * its own --help and --version. */
	static const struct subcmd_table table = {
		subcommands, ARRAY_SIZE(subcommands), NULL, cmd_verdict,
	};

	diag_init(argv[0]);
	return subcmd_dispatch(&table, argc, argv);
}
