/* ktstr-ctprof: per-thread scheduling profiles, captured and compared.
 * The work is in lib/ctprof*.c; this is argument handling and output. */
#include "ctprof.h"
#include "ctprof_compare.h"
#include "ctprof_metrics.h"
#include "ctprof_report.h"
#include "diag.h"
#include "jsonl.h"
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
"usage: ktstr-ctprof capture [-o FILE] [--no-taskstats]\n"
"       ktstr-ctprof compare A B [-g KEY] [-s METRIC] [-n N] [-m LIST] [--json]\n"
"       ktstr-ctprof show FILE [-g KEY] [-s METRIC] [-n N] [-m LIST] [--json]\n"
"       ktstr-ctprof metric-list [--json]\n"
"       ktstr-ctprof convert IN OUT\n"
"\n"
"Per-thread scheduling profiles: capture the scheduler, CPU, I/O and delay\n"
"counters of every thread on this machine, then compare two captures group\n"
"by group to see what a change did to every thread.\n"
"\n"
"  -o, --output FILE     capture: write here instead of stdout (FILE.zst is\n"
"                        zstd-compressed; '-' is stdout)\n"
"      --no-taskstats    capture: skip the netlink delay-accounting queries\n"
"  -g, --group-by KEY    all, pcomm, comm or cgroup (default comm)\n"
"  -s, --sort METRIC     order groups by this metric: its |delta| (compare) or\n"
"                        value (show); default sum_exec_runtime_ns\n"
"  -n, --top N           only the first N groups\n"
"  -m, --metrics LIST    only these metrics, comma-separated\n"
"      --json            JSON lines instead of a table (see ktstr-records(7))\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Counters are cumulative, so delta = B - A: a thread alive in both adds its\n"
"growth, one new in B its whole counter, one that exited its loss.\n"
"convert rewrites a capture, compressing or not by OUT's name.\n"
"\n"
"Exit status: 0 success; 2 bad usage, or a capture that cannot be read or\n"
"written.\n";

enum { OPT_JSON = 0x2000, OPT_NO_TASKSTATS };

#define DEFAULT_SORT "sum_exec_runtime_ns"

struct cli {
	const char *output;
	bool no_taskstats;
	struct ctprof_report_opts r;
	bool *metrics;
};

static const struct option capture_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "no-taskstats", no_argument, NULL, OPT_NO_TASKSTATS },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const struct option report_opts[] = {
	{ "group-by", required_argument, NULL, 'g' },
	{ "sort", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 'n' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "json", no_argument, NULL, OPT_JSON },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const struct option list_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const struct option plain_opts[] = {
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* A metric for --sort or --metrics: known and comparable under the chosen
 * grouping, else a usage error listing what is valid. */
static size_t pick_metric(const char *name, const char *flag, enum ctprof_group_by by)
{
	int i = ctprof_metric_find(name);
	char *valid;

	if (i >= 0 && ctprof_metrics[i].scope == CTPROF_SCOPE_CGROUP && by != CTPROF_BY_CGROUP)
		usage_error("%s '%s': a per-cgroup metric, only with --group-by cgroup", flag, name);
	if (i >= 0 && ctprof_metric_comparable(&ctprof_metrics[i]))
		return (size_t)i;
	valid = ctprof_metric_names(by == CTPROF_BY_CGROUP);
	if (i >= 0)
		usage_error("%s '%s': kept per thread but not aggregated; valid: %s",
			    flag, name, valid);
	usage_error("%s: unknown metric '%s'; valid: %s", flag, name, valid);
}

static void parse_args(int argc, char **argv, const struct option *longopts,
		       const char *shortopts, struct cli *c)
{
	const char *group_by = NULL, *sort = NULL, *metrics = NULL;
	unsigned long top;
	int ch;

	c->r.by = CTPROF_BY_COMM;
	while ((ch = opts_getopt(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': c->output = optarg; break;
		case OPT_NO_TASKSTATS: c->no_taskstats = true; break;
		case 'g': group_by = optarg; break;
		case 's': sort = optarg; break;
		case 'm': metrics = optarg; break;
		case 'n':
			if (parse_ulong(optarg, 1, 1000000000, &top))
				usage_error("--top '%s': expected a whole number of groups, 1 or more",
					    optarg);
			c->r.top = top;
			break;
		case OPT_JSON: c->r.json = true; break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	/* Caught here: later it is a write error that names no file. */
	if (c->output && !*c->output)
		usage_error("-o '': expected a file name, or - for stdout");
	/* Group first: which metrics are valid depends on it. */
	if (group_by && ctprof_group_by_parse(group_by, &c->r.by))
		usage_error("--group-by: unknown key '%s'; valid: %s", group_by,
			    CTPROF_GROUP_BY_NAMES);
	c->r.sort = sort ? pick_metric(sort, "--sort", c->r.by)
			 : (size_t)ctprof_metric_find(DEFAULT_SORT);
	if (metrics) {
		char *list = xstrdup(metrics), *tok, *save = NULL;

		c->metrics = xcalloc(ctprof_n_metrics, sizeof(*c->metrics));
		bool any = false;

		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			c->metrics[pick_metric(tok, "--metrics", c->r.by)] = any = true;
		free(list);
		/* None would print groups with no columns. */
		if (!any)
			usage_error("--metrics '%s': expected metric names, comma-separated (see "
				    "'ktstr-ctprof metric-list')", metrics);
		c->r.metrics = c->metrics;
	}
}

static json_t *load_or_die(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	json_t *doc = ctprof_load(path, &err);

	if (!doc)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	strbuf_release(&err);
	return doc;
}

static void save_or_die(const json_t *doc, const char *path)
{
	struct strbuf err = STRBUF_INIT;

	if (ctprof_save(doc, path, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	strbuf_release(&err);
}

static int cmd_capture(int argc, char **argv)
{
	struct cli c = { 0 };
	struct ctprof_capture_opts o = { 0 };
	struct strbuf err = STRBUF_INIT;
	const json_t *cap;
	json_t *doc, *rec;
	struct stat st;

	parse_args(argc, argv, capture_opts, "o:h", &c);
	if (optind < argc)
		usage_error("capture: unexpected argument '%s'", argv[optind]);
	o.no_taskstats = c.no_taskstats;
	if (ctprof_capture_with(&o, &doc, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	strbuf_release(&err);
	if (!c.output || !strcmp(c.output, "-")) {
		save_or_die(doc, "-");
		json_decref(doc);
		return KTSTR_EXIT_PASS;
	}
	save_or_die(doc, c.output);
	/* Written to a file: say what was captured, as a record. */
	cap = json_object_get(doc, "capture");
	rec = jsonl_record("ctprof_capture");
	json_set_str(rec, "path", c.output);
	json_set_int(rec, "bytes", stat(c.output, &st) == 0 ? (long long)st.st_size : -1);
	json_set_int(rec, "threads", json_get_int(cap, "threads", 0));
	json_set_int(rec, "processes", json_get_int(cap, "processes", 0));
	json_set_int(rec, "cgroups", (long long)json_object_size(json_object_get(doc, "cgroups")));
	json_set_int(rec, "duration_ns", json_get_int(cap, "duration_ns", 0));
	json_object_set(rec, "taskstats", json_object_get(cap, "taskstats"));
	json_decref(doc);
	if (jsonl_emit(stdout, rec) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write to stdout");
	return KTSTR_EXIT_PASS;
}

static int cmd_compare(int argc, char **argv)
{
	struct cli c = { 0 };
	json_t *a, *b;

	parse_args(argc, argv, report_opts, "g:s:n:m:h", &c);
	if (argc - optind != 2)
		usage_error("compare: expected two captures, A and B (got %d)", argc - optind);
	a = load_or_die(argv[optind]);
	b = load_or_die(argv[optind + 1]);
	if (ctprof_report_compare(stdout, argv[optind], a, argv[optind + 1], b, &c.r) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write to stdout");
	json_decref(a);
	json_decref(b);
	free(c.metrics);
	return KTSTR_EXIT_PASS;
}

static int cmd_show(int argc, char **argv)
{
	struct cli c = { 0 };
	json_t *doc;

	parse_args(argc, argv, report_opts, "g:s:n:m:h", &c);
	if (argc - optind != 1)
		usage_error("show: expected one capture (got %d)", argc - optind);
	doc = load_or_die(argv[optind]);
	if (ctprof_report_show(stdout, argv[optind], doc, &c.r) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write to stdout");
	json_decref(doc);
	free(c.metrics);
	return KTSTR_EXIT_PASS;
}

static int cmd_metric_list(int argc, char **argv)
{
	struct cli c = { 0 };

	parse_args(argc, argv, list_opts, "h", &c);
	if (optind < argc)
		usage_error("metric-list: unexpected argument '%s'", argv[optind]);
	if (ctprof_report_metrics(stdout, c.r.json) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write to stdout");
	return KTSTR_EXIT_PASS;
}

static int cmd_convert(int argc, char **argv)
{
	struct cli c = { 0 };
	json_t *doc;

	parse_args(argc, argv, plain_opts, "h", &c);
	if (argc - optind != 2)
		usage_error("convert: expected IN and OUT (got %d arguments)", argc - optind);
	doc = load_or_die(argv[optind]);
	save_or_die(doc, argv[optind + 1]);
	json_decref(doc);
	return KTSTR_EXIT_PASS;
}

static const struct subcmd commands[] = {
	{ "capture", cmd_capture },
	{ "compare", cmd_compare },
	{ "show", cmd_show },
	{ "metric-list", cmd_metric_list },
	{ "convert", cmd_convert },
};

int main(int argc, char **argv)
{
	static const struct subcmd_table table = {
		commands, ARRAY_SIZE(commands), usage_text, NULL,
	};

	diag_init(argv[0]);
	return subcmd_dispatch(&table, argc, argv);
}
