/* ktstr-test: run a directory of scheduler tests over the gauntlet of
 * topology presets and kernels, in parallel, with nextest-style output,
 * sidecars for ktstr-stats, JUnit for CI, budgets and shards; with several
 * schedulers or kernels, an A/B comparison at the end. */
#include "abcompare.h"
#include "budget.h"
#include "caselog.h"
#include "caserun.h"
#include "clock.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "hosttsc.h"
#include "jsonl.h"
#include "junit.h"
#include "opts.h"
#include "qemu.h"
#include "runner.h"
#include "shard_env.h"
#include "sidecar.h"
#include "suite.h"
#include "suite_html.h"
#include "testfile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char usage_text[] =
"usage: ktstr-test [options] [PATH...]\n"
"\n"
"Run scheduler tests: each PATH is a test file or a directory of them (a\n"
"suite; see ktstr-test(5)); default ./ktstr-tests.  Every test is expanded\n"
"over the topology presets that satisfy its constraints and fit this host,\n"
"and over every kernel given, and the cases run in parallel in VMs\n"
"(ktstr-vm ... | ktstr-stats underneath).  One line per case:\n"
"\n"
"    PASS [  11.34s] suite test/preset[/kernel][/scheduler]\n"
"\n"
"  -k, --kernel ID          kernel to test (repeatable; a version, prefix,\n"
"                           range such as 6.12..7.0, cache key, \"debian\",\n"
"                           \"debian:amd64\" (Debian's generic build) or\n"
"                           path; default KTSTR_KERNEL_LIST, else the\n"
"                           discovery chain of ktstr-vm)\n"
"      --scheduler NAME     the scheduler of the tests whose \"scheduler\" is\n"
"                           \"{scheduler}\" (repeatable: an A/B run; a name,\n"
"                           a path, or eevdf for the kernel's own)\n"
"  -E, --filter PATTERN     only cases whose name matches (glob or substring)\n"
"  -j, --jobs N             cases at once (default: usable host CPUs)\n"
"      --shard K/N|auto     run shard K of N (deterministic split; 1-based);\n"
"                           auto: from the CI engine (KTSTR_SHARD_INDEX and\n"
"                           KTSTR_SHARD_TOTAL, GitLab, Kubernetes indexed\n"
"                           Jobs, Slurm arrays; see ktstr-test(1));\n"
"                           default KTSTR_SHARD\n"
"      --budget SECS        pick the cases that cover the most within SECS\n"
"                           (default KTSTR_BUDGET_SECS)\n"
"      --runs N             run every case N times (for compare's t-test)\n"
"      --label TEXT         name the run for ktstr-stats (default: the\n"
"                           project's git commit, else the schedulers)\n"
"      --retries N          run a case again up to N times after an\n"
"                           infrastructure error (default 1; 0: never)\n"
"      --junit FILE         write a JUnit XML report\n"
"      --html DIR           write a static HTML report of the run to\n"
"                           DIR/index.html, with each case's sidecar,\n"
"                           console log, records, trace and timeline\n"
"                           picture (.svg, shown on the page) in DIR/cases/\n"
"      --list               print the planned cases and exit\n"
"      --json               JSON lines instead of the human lines\n"
"      --accel MODE         auto, kvm, tcg or tcg-mt (passed to ktstr-vm)\n"
"      --no-skip-mode       skips count as failures (KTSTR_NO_SKIP_MODE)\n"
"      --no-perf-mode       skip performance_mode tests (KTSTR_NO_PERF_MODE)\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"An infrastructure error (the VM never reached the guest agent, QEMU or\n"
"ktstr-vm failed) is an ERROR, not a FAIL: it says nothing about the\n"
"scheduler.  With several --scheduler or --kernel values the run ends with\n"
"an A/B comparison of their cases (as ktstr-stats compare).\n"
"\n"
"Sidecars go to {runs root}/{kernel}-{run id}/, a new directory for every\n"
"run (KTSTR_RUNS_ROOT, default ~/.local/state/ktstr/runs; KTSTR_SIDECAR_DIR\n"
"overrides); read them with ktstr-stats list/show/compare, prune them\n"
"with ktstr-stats clean.  The shards of a fleet share a run id\n"
"(KTSTR_RUN_ID, else the CI engine's pipeline id), so 'ktstr-stats list\n"
"--dir A --dir B ...' over their runs roots shows them as one run.  On a\n"
"terminal a progress line shows the cases\n"
"done and the time left (KTSTR_NO_PROGRESS=1 turns it off).\n"
"\n"
"Exit status: 0 nothing failed; 1 a case failed; 2 no case failed but one\n"
"ended in an error (after its retries), a sidecar could not be written, or\n"
"bad usage (an -E matching no case), a bad test file or no kernel; 3 the\n"
"budget fits no case; 130 interrupted.  An empty shard exits 0.\n";

enum {
	OPT_SHARD = 0x100, OPT_BUDGET, OPT_RUNS, OPT_JUNIT, OPT_LIST, OPT_JSON,
	OPT_ACCEL, OPT_NO_SKIP, OPT_NO_PERF, OPT_LABEL, OPT_SCHED, OPT_RETRIES, OPT_HTML,
};

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "filter", required_argument, NULL, 'E' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "no-skip-mode", no_argument, NULL, OPT_NO_SKIP },
	{ "no-perf-mode", no_argument, NULL, OPT_NO_PERF },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "scheduler", required_argument, NULL, OPT_SCHED },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	struct strvec kernels, filters, scheds;
	unsigned jobs, runs, shard_k, shard_n;
	long retries;			/* -1: not given */
	double budget;
	const char *junit, *html, *accel, *label;	/* accel: as given, for ktstr-vm */
	const char *shard;		/* --shard as given: K/N or auto */
	const char *shard_source;	/* where shard_k/shard_n came from */
	const char *no_skip;		/* what asked for it: the flag or the
					 * variable's name; NULL: off */
	enum vm_accel accel_mode;
	bool list, json, no_perf;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long n;
	int c;

	while ((c = opts_getopt(argc, argv, "hk:E:j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': strvec_push(&o->kernels, optarg); break;
		case 'E': strvec_push(&o->filters, optarg); break;
		case 'j':
			if (parse_ulong(optarg, 1, 1024, &n) < 0)
				usage_error("--jobs '%s': expected a number from 1 to 1024", optarg);
			o->jobs = (unsigned)n;
			break;
		case OPT_SHARD: o->shard = optarg; break;
		case OPT_BUDGET:
			if (budget_parse(optarg, &o->budget, &err) < 0)
				usage_error("--budget %s", err.buf);
			break;
		case OPT_RUNS:
			if (parse_ulong(optarg, 1, 100, &n) < 0)
				usage_error("--runs '%s': expected a number from 1 to 100", optarg);
			o->runs = (unsigned)n;
			break;
		case OPT_JUNIT:
			if (!*optarg)
				usage_error("--junit '': expected a file for the report");
			o->junit = optarg;
			break;
		case OPT_HTML:
			if (!*optarg)
				usage_error("--html '': expected a directory for the report");
			o->html = optarg;
			break;
		case OPT_LIST: o->list = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_ACCEL:
			if (vm_accel_parse(optarg, &o->accel_mode))
				usage_error("--accel '%s': expected " VM_ACCEL_CHOICES, optarg);
			o->accel = optarg;
			break;
		case OPT_NO_SKIP: o->no_skip = "--no-skip-mode"; break;
		case OPT_NO_PERF: o->no_perf = true; break;
		case OPT_LABEL:
			if (sidecar_label_check(optarg, &err) < 0)
				usage_error("--label '%s': %s", optarg, err.buf);
			o->label = optarg;
			break;
		case OPT_SCHED: strvec_push(&o->scheds, optarg); break;
		case OPT_RETRIES:
			if (parse_ulong(optarg, 0, 10, &n) < 0)
				usage_error("--retries '%s': expected a number from 0 to 10", optarg);
			o->retries = (long)n;
			break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	strbuf_release(&err);
}

/* --shard, else KTSTR_SHARD: K/N, or auto from the CI engine's variables;
 * a shard the engine chose is named on stderr. */
static void apply_shard(struct opts *o)
{
	struct strbuf err = STRBUF_INIT;
	struct shard_choice sc;
	const char *from = o->shard ? "--shard" : "KTSTR_SHARD";
	const char *spec = o->shard ? o->shard : env_get("KTSTR_SHARD");

	if (!spec)
		return;
	if (shard_resolve(spec, from, env_get, &sc, &err) < 0)
		usage_error("%s", err.buf);
	o->shard_k = sc.k;
	o->shard_n = sc.n;
	o->shard_source = sc.source;
	if (!strcmp(spec, "auto"))
		diag("shard %u of %u (from %s)", sc.k, sc.n, sc.source);
	strbuf_release(&err);
}

/* Environment defaults, after the flags (flags win). */
static void apply_env(struct opts *o)
{
	struct strbuf err = STRBUF_INIT;
	const char *s;
	char msg[512];

	/* Presence-only, as the seeds say: even an empty value turns it on. */
	if (!o->no_skip && getenv("KTSTR_NO_SKIP_MODE"))
		o->no_skip = "KTSTR_NO_SKIP_MODE";
	if (env_get("KTSTR_NO_PERF_MODE"))
		o->no_perf = true;
	if (!o->budget && (s = env_get("KTSTR_BUDGET_SECS"))) {
		if (budget_parse(s, &o->budget, &err) < 0) {
			diag("KTSTR_BUDGET_SECS %s; ignoring it and running every case", err.buf);
			o->budget = 0;
		}
	}
	apply_shard(o);
	/* ktstr-vm would refuse it in every case: say so once. */
	if (host_tsc_env_check(msg, sizeof(msg)) < 0)
		die(KTSTR_EXIT_USAGE, "%s", msg);
	if (!o->jobs)
		o->jobs = hostlock_usable_cpus();
	if (!o->runs)
		o->runs = 1;
	if (o->retries < 0)
		o->retries = 1;		/* one more try outlives a passing glitch */
	strbuf_release(&err);
}

/* ---- reporting ---------------------------------------------------------- */

struct report_state {
	bool json;
	const char *no_skip;		/* opts.no_skip */
	unsigned retries;
	struct suite_junit junit;
	struct suite_html html;		/* --html: the cases, for the page */
	const struct gcase *cases;	/* the plan, for the page's order */
	unsigned runs;
	struct strvec scheds_seen;	/* the page's schedulers */
	/* for the A/B comparison: which variant wrote which sidecar */
	struct abcmp ab;
	const struct gauntlet_kernel *kernels;
	const struct gauntlet_sched *scheds;
};

/* Console and scheduler output lines shown in a report. */
#define CONSOLE_TAIL_LINES 20
#define SCHED_HEAD_LINES 40
#define SCHED_TAIL_LINES 40

static const char *outcome_word(enum case_outcome oc)
{
	switch (oc) {
	case CASE_PASS: return "PASS";
	case CASE_FAIL: return "FAIL";
	case CASE_SKIP: return "SKIP";
	case CASE_ERROR: return "ERROR";
	default: return "INTR";
	}
}

static char *case_label(const struct case_report *rep)
{
	if (rep->runs > 1)
		return xasprintf("%s #%u", rep->c->full_name, rep->repeat);
	return xstrdup(rep->c->full_name);
}

static bool check_failed(const struct caserun *r, const char *check)
{
	size_t i;

	for (i = 0; r && i < r->v.n_checks; i++)
		if (!r->v.checks[i].pass && !r->v.checks[i].by_host &&
		    !strcmp(r->v.checks[i].check, check))
			return true;
	return false;
}

/* The guest's console is worth showing when the VM itself went wrong: an
 * infrastructure error, a panic, a timeout. */
static bool show_console(const struct case_report *rep)
{
	return rep->run && rep->run->v.console_log &&
	       (rep->outcome == CASE_ERROR || rep->retrying || check_failed(rep->run, "vm"));
}

/* ktstr-vm's stderr, less its own copy of the console's last lines when
 * the console log is shown from the file. */
static void add_err_tail(struct strbuf *block, const struct caserun *r, bool console_shown)
{
	bool in_console = false;
	size_t i, n = 0;

	for (i = 0; i < r->err_tail.n; i++) {
		const char *l = r->err_tail.v[i];

		if (console_shown && strstr(l, "last kernel console lines")) {
			in_console = true;
			continue;
		}
		if (in_console && !strncmp(l, "  | ", 4))
			continue;
		in_console = false;
		if (!n++)
			strbuf_addstr(block, "--- ktstr-vm stderr ---\n");
		strbuf_addf(block, "%s\n", l);
	}
}

/* The failure block: what a person needs to see why the case did not pass;
 * a skip failed by no_skip names the flag or variable that asked. */
static void failure_block(const struct case_report *rep, const char *no_skip,
			  struct strbuf *block)
{
	const struct caserun *r = rep->run;
	bool console = show_console(rep);

	if (!r) {
		if (rep->outcome == CASE_FAIL && rep->reason)
			strbuf_addf(block, "skipped, and %s turns skips into failures: %s\n",
				    no_skip ? no_skip : "--no-skip-mode", rep->reason);
		return;
	}
	if (rep->outcome != CASE_FAIL && rep->outcome != CASE_ERROR)
		return;
	/* An infrastructure error has no verdict worth reading, unless the
	 * host decided the run: then the verdict says what it took. */
	if (!r->infra || r->v.host_reason) {
		strbuf_addstr(block, "--- verdict ---\n");
		verdict_format(&r->v, block);
	}
	/* The scheduler's whole output, when ktstr-vm kept it: the head
	 * holds what the verifier rejected, the tail how it ended.  Without
	 * the file, the verdict above shows the lines the record carried. */
	if (check_failed(r, "scheduler") && r->sched_log)
		caselog_format(block, "scheduler output", r->sched_log, SCHED_HEAD_LINES,
			       SCHED_TAIL_LINES);
	if (r->infra || r->v.result == VERDICT_ERROR || r->v.result == VERDICT_INCONCLUSIVE)
		add_err_tail(block, r, console);
	/* The console's last lines: a verdict shown above already carries
	 * them (for its error or its failed "vm" check), so only an
	 * infrastructure error, shown without one, reads them here. */
	if (console && r->infra && !r->v.host_reason)
		caselog_format(block, "console log", r->v.console_log, 0, CONSOLE_TAIL_LINES);
}

static void report_json(const struct case_report *rep, const char *sched)
{
	json_t *rec = jsonl_record("case_result");
	const struct caserun *r = rep->run;

	json_set_str(rec, "case", rep->c->full_name);
	json_set_str(rec, "suite", rep->c->test->suite);
	json_set_str(rec, "test", rep->c->test->name);
	json_set_str(rec, "preset", rep->c->preset ? rep->c->preset->name : NULL);
	json_set_str(rec, "kernel", rep->c->kernel ? rep->c->kernel->label : NULL);
	json_set_str(rec, "scheduler", sched);
	json_set_int(rec, "repeat", rep->repeat);
	json_set_str(rec, "outcome", outcome_word(rep->outcome));
	json_set_str(rec, "result", r ? caserun_result_name(r) :
		     rep->outcome == CASE_INTERRUPTED ? "error" : "skip");
	json_set_int(rec, "wall_ms", (long long)(rep->secs * 1000));
	json_set_int(rec, "start_ms", rep->start_ms);
	json_set_int(rec, "end_ms", rep->end_ms);
	json_set_str(rec, "reason", rep->reason);
	json_set_int(rec, "attempts", rep->attempts);
	json_set_str(rec, "first_error", rep->first_error);
	json_set_str(rec, "console_log", r ? r->v.console_log : NULL);
	if (show_console(rep)) {
		struct caselog l;
		json_t *a = json_array();
		size_t i;

		if (caselog_read(r->v.console_log, 0, CONSOLE_TAIL_LINES, &l) == 0) {
			for (i = 0; i < l.tail.n; i++)
				json_array_append_new(a, json_string(l.tail.v[i]));
			caselog_release(&l);
		}
		json_object_set_new(rec, "console_tail", a);
	} else {
		json_object_set_new(rec, "console_tail", json_null());
	}
	json_set_str(rec, "scheduler_output_log", r ? r->sched_log : NULL);
	json_set_str(rec, "sidecar", rep->sidecar);
	jsonl_emit(stdout, rec);
}

/* A run that will go again: not a result yet, so a line for people and
 * nothing for programs (the case_result counts the attempts). */
static void report_retry(const struct report_state *st, const struct case_report *rep,
			 const char *label)
{
	if (st->json)
		return;
	printf("RETRY [%8.2fs] %s: %s (attempt %u of %u; running it again)\n", rep->secs,
	       label, rep->reason, rep->attempts, st->retries + 1);
	fflush(stdout);
}

/* "PASS [  11.34s] suite test/preset", and what the reader needs below. */
static void report_line(const struct case_report *rep, const char *label,
			const struct strbuf *block)
{
	struct strbuf line = STRBUF_INIT;
	const char *word = outcome_word(rep->outcome);

	if (!rep->run)
		strbuf_addf(&line, "%4s [%9s] %s: %s", word, "", label,
			    rep->reason ? rep->reason : "skipped");
	else if (rep->outcome == CASE_ERROR)
		strbuf_addf(&line, "%4s [%8.2fs] %s: %s", word, rep->secs, label,
			    rep->reason ? rep->reason : "error");
	else
		strbuf_addf(&line, "%4s [%8.2fs] %s", word, rep->secs, label);
	if (rep->attempts > 1)
		strbuf_addf(&line, " (%u attempts)", rep->attempts);
	strbuf_addch(&line, '\n');
	if (rep->first_error && rep->reason && strcmp(rep->first_error, rep->reason))
		strbuf_addf(&line, "first attempt: %s\n", rep->first_error);
	strbuf_add(&line, block->buf, block->len);
	fwrite(line.buf, 1, line.len, stdout);
	fflush(stdout);
	strbuf_release(&line);
}

static void report_cb(void *cb, const struct case_report *rep)
{
	struct report_state *st = cb;
	struct strbuf block = STRBUF_INIT;
	char *label = case_label(rep);
	const char *sched = gcase_scheduler(rep->c);

	sched = rep->c->sched ? rep->c->sched->label : sched ? path_basename(sched) : "eevdf";
	if (rep->retrying) {
		report_retry(st, rep, label);
		free(label);
		return;
	}
	failure_block(rep, st->no_skip, &block);
	if (st->json)
		report_json(rep, sched);
	else
		report_line(rep, label, &block);
	if (rep->sidecar)
		abcmp_add(&st->ab, rep->c->kernel ? (size_t)(rep->c->kernel - st->kernels) : 0,
			  rep->c->sched ? (size_t)(rep->c->sched - st->scheds) : ABCMP_OWN,
			  rep->sidecar);
	suite_junit_add(&st->junit, rep, label, &block);
	if (st->html.dir)
		suite_html_add(&st->html, rep, (size_t)(rep->c - st->cases) * st->runs + rep->repeat,
			       label, rep->c->kernel ? rep->c->kernel->label : st->kernels[0].label,
			       sched, st->junit.v[st->junit.n - 1].message, &block);
	strvec_push_unique(&st->scheds_seen, sched);
	free(label);
	strbuf_release(&block);
}

/* ---- main --------------------------------------------------------------- */

/* One ktstr-test run, everything main sets up and releases. */
struct suite_run {
	struct opts o;
	struct ktest *tests;
	size_t ntests;
	struct gauntlet_kernel *kernels;
	size_t nk;
	struct gauntlet_sched *scheds;
	size_t ns;
	struct gcase *cases;
	size_t ncases;
	struct sidecar_dir *dirs;
	const struct sidecar_dir **dirp;
	const char **klabels, **slabels;
	char *runs_root, *workdir, *commit, *run_id, *label;
	enum { EMPTIED_NOT, EMPTIED_BY_SHARD, EMPTIED_BY_BUDGET } emptied_by;	/* what left no case */
	struct caserun_ctx ctx;
	struct report_state st;
	struct runner_totals tot;
};

/* --list: the plan, whole or exit 2 (a write error is not a plan). */
static void print_plan(const struct gcase *c, size_t n, bool json)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (json) {
			json_t *rec = jsonl_record("case_plan");

			json_set_str(rec, "case", c[i].full_name);
			json_set_str(rec, "suite", c[i].test->suite);
			json_set_str(rec, "test", c[i].test->name);
			json_set_str(rec, "preset", c[i].preset ? c[i].preset->name : NULL);
			json_set_str(rec, "topology", c[i].preset ? c[i].preset->spec : NULL);
			json_set_str(rec, "kernel", c[i].kernel ? c[i].kernel->label : NULL);
			json_set_str(rec, "scheduler", c[i].sched ? c[i].sched->label :
				     c[i].test->scheduler ? path_basename(c[i].test->scheduler)
							  : "eevdf");
			json_set_real(rec, "est_secs", c[i].est_secs);
			json_set_int(rec, "host_cpus_reserved", c[i].slots);
			json_set_str(rec, "skip_reason", c[i].skip_reason);
			if (jsonl_emit(stdout, rec) < 0)
				stdout_write_failed("the plan");
		} else if (c[i].skip_reason) {
			printf("%s (skip: %s)\n", c[i].full_name, c[i].skip_reason);
		} else {
			printf("%s\n", c[i].full_name);
		}
	}
	stdout_flush("the plan");
}

/* The tests of PATH..., else of ./ktstr-tests.  0, or -1 said. */
static int load_tests(struct suite_run *r, int argc, char **argv)
{
	static const char *def_path[] = { "ktstr-tests" };
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	if (optind < argc)
		rc = ktest_load_paths((const char *const *)argv + optind, (size_t)(argc - optind),
				      &r->tests, &r->ntests, &err);
	else if (is_directory(def_path[0]))
		rc = ktest_load_paths(def_path, 1, &r->tests, &r->ntests, &err);
	else
		usage_error("no tests given and no ./ktstr-tests directory; name a test "
			    "file or a suite directory");
	if (rc < 0)
		diag("%s", err.buf);
	strbuf_release(&err);
	return rc;
}

/* The --scheduler values and the kernels the cases vary over.  0, or -1
 * said. */
static int resolve_variants(struct suite_run *r)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int rc = 0;

	if (gauntlet_scheds_resolve(&r->o.scheds, &r->scheds, &r->ns, &err) < 0)
		usage_error("%s", err.buf);
	for (i = 0; r->ns && i < r->ntests && !r->tests[i].sched_param; i++)
		;
	if (r->ns && i == r->ntests)
		usage_error("--scheduler %s: no test takes its scheduler from the command "
			    "line; write \"scheduler\": \"%s\" in the tests to run "
			    "under it (ktstr-test(5))", r->o.scheds.v[0], KTEST_SCHED_PLACEHOLDER);
	if (suite_kernels_resolve(&r->o.kernels, env_get("KTSTR_KERNEL_LIST"), &r->kernels,
				  &r->nk, &err) < 0) {
		diag("%s", err.buf);
		rc = -1;
	}
	strbuf_release(&err);
	return rc;
}

static void print_budget(const struct budget_report *b, bool json)
{
	json_t *rec;

	diag("budget %gs: %zu of %zu cases selected (est %.1fs), covering %zu of "
	     "%zu features", b->budget_secs, b->selected, b->total, b->selected_secs,
	     b->features_covered, b->features_total);
	if (!json)
		return;
	rec = jsonl_record("budget");
	json_set_real(rec, "budget_secs", b->budget_secs);
	json_set_int(rec, "selected", (long long)b->selected);
	json_set_int(rec, "total", (long long)b->total);
	json_set_real(rec, "selected_secs", b->selected_secs);
	json_set_int(rec, "features_covered", (long long)b->features_covered);
	json_set_int(rec, "features_total", (long long)b->features_total);
	if (jsonl_emit(stdout, rec) < 0)
		stdout_write_failed("the plan");
}

/* The cases: the gauntlet of every test, less what --filter, --shard
 * and --budget leave out.  0, or -1 said. */
static int plan_cases(struct suite_run *r)
{
	struct gauntlet_opts go = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct budget_report brep;
	enum vm_accel accel;
	size_t i;

	/* Whether the VMs will run under KVM, by the probe ktstr-vm uses, and
	 * whether each vCPU gets its own host thread (KVM, tcg-mt). */
	accel = vm_accel_resolve(r->o.accel_mode);
	go.kvm = accel == VM_ACCEL_KVM;
	go.thread_per_vcpu = vm_accel_thread_per_vcpu(accel);
	go.host_cpus = hostlock_usable_cpus();
	go.no_perf_mode = r->o.no_perf;
	go.kernels = r->kernels;
	go.n_kernels = r->nk;
	go.scheds = r->scheds;
	go.n_scheds = r->ns;
	if (gauntlet_expand(r->tests, r->ntests, &go, &r->cases, &r->ncases, &err) < 0) {
		diag("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	/* A filter that matches nothing is a typo, not an empty run. */
	for (i = 0; i < r->o.filters.n; i++) {
		r->ncases = gauntlet_filter(r->cases, r->ncases, r->o.filters.v[i]);
		if (!r->ncases) {
			diag("-E '%s': no case%s matches it; 'ktstr-test --list' names the cases",
			     r->o.filters.v[i], i ? " left by the -E before it" : "");
			return -1;
		}
	}
	if (r->o.shard_n && r->ncases &&
	    !(r->ncases = gauntlet_shard(r->cases, r->ncases, r->o.shard_k, r->o.shard_n)))
		r->emptied_by = EMPTIED_BY_SHARD;
	r->runs_root = sidecar_runs_root();
	/* Measured wall times for a budget and for --list's est_secs, which
	 * otherwise showed the static estimate beside a history that knew
	 * better. */
	if ((r->o.budget > 0 || r->o.list) && r->ncases && r->runs_root)
		budget_apply_history(r->cases, r->ncases, r->runs_root);
	if (r->o.budget > 0 && r->ncases) {
		r->ncases = budget_select(r->cases, r->ncases, r->o.budget, &brep);
		print_budget(&brep, r->o.json);
		if (!r->ncases)
			r->emptied_by = EMPTIED_BY_BUDGET;
	}
	return 0;
}

/* The shard record (--json): which shard, from where, under which run id. */
static void print_shard(const struct suite_run *r, const char *id_source)
{
	json_t *rec;

	if (!r->o.json || !r->o.shard_n)
		return;
	rec = jsonl_record("shard");
	json_set_int(rec, "index", r->o.shard_k);
	json_set_int(rec, "total", r->o.shard_n);
	json_set_str(rec, "source", r->o.shard_source);
	json_set_str(rec, "run_id", r->run_id);
	json_set_str(rec, "run_id_source", id_source);
	jsonl_emit(stdout, rec);
}

/* The run id: KTSTR_RUN_ID, else for a shard the one its CI engine gives
 * every shard alike (so ktstr-stats merges their roots), else a new one
 * (none for --list, which makes no run).  0, or -1 said. */
static int shared_run_id(struct suite_run *r)
{
	struct strbuf err = STRBUF_INIT;
	const char *src;

	if (shard_run_id(env_get, r->o.shard_n > 0, &r->run_id, &src, &err) < 0) {
		diag("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	if (r->run_id && strcmp(src, "KTSTR_RUN_ID"))
		diag("run id %s (from %s, shared by the shards)", r->run_id, src);
	if (!r->run_id && r->o.shard_n)
		diag("shard %u of %u: no run id shared by the shards (set KTSTR_RUN_ID"
		     " alike in every shard), so ktstr-stats lists each as its own run",
		     r->o.shard_k, r->o.shard_n);
	if (!r->run_id) {
		r->run_id = r->o.list ? NULL : sidecar_new_run_id();
		src = "new";
	}
	print_shard(r, src);
	return 0;
}

/* What the cases' sidecars and the A/B comparison need: a work
 * directory, the run's id and label, a sidecar directory per kernel.
 * 0, or -1 said. */
static int prepare_run(struct suite_run *r)
{
	struct strbuf err = STRBUF_INIT;
	char *tdir;
	int rc;

	r->workdir = make_temp_dir(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "ktstr-test-");
	if (!r->workdir) {
		diag("cannot create a temp directory: %s", strerror(errno));
		return -1;
	}
	/* The commit of the project the tests live in, not of ktstr. */
	tdir = path_dirname(r->tests[0].path);
	r->commit = sidecar_project_commit(tdir);
	free(tdir);
	/* ktstr-stats reads A:B:C; a runner writes to one root. */
	if (env_get("KTSTR_RUNS_ROOT") && strchr(env_get("KTSTR_RUNS_ROOT"), ':') &&
	    !env_get("KTSTR_SIDECAR_DIR")) {
		diag("KTSTR_RUNS_ROOT '%s' names several roots; ktstr test writes to one:"
		     " set it to a single directory", env_get("KTSTR_RUNS_ROOT"));
		return -1;
	}
	if (shared_run_id(r) < 0)
		return -1;
	r->label = r->o.label ? xstrdup(r->o.label)
			      : sidecar_default_label(r->commit, r->cases, r->ncases);
	rc = suite_sidecar_dirs_open(r->run_id, r->kernels, r->nk, &r->dirs, &r->dirp, &err);
	/* Other runs' sidecars stay; mixing them is the operator's call. */
	if (r->dirs[0].foreign)
		diag("KTSTR_SIDECAR_DIR %s already holds %zu sidecars of earlier runs;"
		     " adding this run's (%s) beside them", r->dirs[0].path,
		     r->dirs[0].foreign, r->run_id);
	if (rc < 0)
		diag("sidecars: %s", err.buf);
	strbuf_release(&err);
	return rc;
}

/* The runner's context and the report's state. */
static void setup_reports(struct suite_run *r, struct runner_opts *ro)
{
	struct caserun_ctx *ctx = &r->ctx;
	struct report_state *st = &r->st;
	size_t i;

	ctx->vm_prog = suite_vm_prog();
	ctx->default_kernel = &r->kernels[0];
	ctx->workdir = r->workdir;
	ctx->accel = r->o.accel;
	ctx->run_id = r->run_id;
	ctx->run_source = sidecar_run_source();
	ctx->commit = r->commit;
	ctx->label = r->label;
	ctx->host = sidecar_host_context();
	ctx->keep_records = r->o.html != NULL;
	st->json = r->o.json;
	st->no_skip = r->o.no_skip;
	st->html.dir = r->o.html;
	st->cases = r->cases;
	st->runs = r->o.runs;
	st->retries = (unsigned)r->o.retries;
	st->kernels = r->kernels;
	st->scheds = r->scheds;
	r->klabels = xcalloc(r->nk, sizeof(*r->klabels));
	for (i = 0; i < r->nk; i++)
		r->klabels[i] = r->kernels[i].label;
	r->slabels = xcalloc(r->ns ? r->ns : 1, sizeof(*r->slabels));
	for (i = 0; i < r->ns; i++)
		r->slabels[i] = r->scheds[i].label;
	st->ab.kernels = r->klabels;
	st->ab.n_kernels = r->nk;
	st->ab.scheds = r->slabels;
	st->ab.n_scheds = r->ns;
	*ro = (struct runner_opts){
		.jobs = r->o.jobs, .runs = r->o.runs, .retries = (unsigned)r->o.retries,
		.no_skip_mode = r->o.no_skip != NULL, .report = report_cb, .cb = st,
		.dirs = r->dirp, .kernels = r->kernels, .n_kernels = r->nk,
	};
}

static int exit_code(const struct runner_totals *tot)
{
	if (tot->interrupted_by_signal)
		return KTSTR_EXIT_SIGNAL + tot->signal;
	/* A failure is about the scheduler and wins; an error left after its
	 * retries means the run could not say. */
	return tot->failed ? KTSTR_EXIT_FAIL : tot->errors ? KTSTR_EXIT_USAGE : KTSTR_EXIT_PASS;
}

/* The A/B comparison, when the run had variants to compare. */
static void print_comparison(struct suite_run *r, bool json)
{
	struct strbuf cmp = STRBUF_INIT;

	if (r->tot.interrupted_by_signal || !abcmp_wanted(&r->st.ab))
		return;
	abcmp_run(&r->st.ab, json, &cmp);
	if (json)
		fwrite(cmp.buf, 1, cmp.len, stdout);
	else if (cmp.len)
		printf("\n%s", cmp.buf);
	strbuf_release(&cmp);
}

static void print_summary(struct suite_run *r)
{
	const struct runner_totals *tot = &r->tot;
	json_t *rec;

	if (!r->o.json) {
		printf("Summary [%8.2fs] %zu passed, %zu failed, %zu error%s, %zu skipped",
		       tot->secs, tot->passed, tot->failed, tot->errors,
		       tot->errors == 1 ? "" : "s", tot->skipped);
		/* As the HTML page counts them (JUnit: errors of type interrupted). */
		if (tot->interrupted)
			printf(", %zu interrupted", tot->interrupted);
		printf("%s%s\n", tot->sidecar_errors ? " (sidecars NOT kept: see above)" : "",
		       tot->interrupted_by_signal ? " (interrupted)" : "");
		print_comparison(r, false);
		fflush(stdout);
		return;
	}
	/* The comparison's records come before test_summary, which stays last. */
	print_comparison(r, true);
	rec = jsonl_record("test_summary");
	json_set_int(rec, "passed", (long long)tot->passed);
	json_set_int(rec, "failed", (long long)tot->failed);
	json_set_int(rec, "errors", (long long)tot->errors);
	json_set_int(rec, "skipped", (long long)tot->skipped);
	json_set_int(rec, "interrupted", (long long)tot->interrupted);
	json_set_int(rec, "retried", (long long)tot->retried);
	json_set_int(rec, "wall_ms", (long long)(tot->secs * 1000));
	json_set_str(rec, "run_dir", r->dirs[0].path);
	json_set_str(rec, "run_id", r->run_id);
	json_set_str(rec, "label", r->label);
	jsonl_emit(stdout, rec);
}

/* --junit, in the directories check_reports found could be made; a
 * report that cannot be written turns a pass into exit 2. */
static int write_junit(const struct suite_run *r, int rc)
{
	/* UTC with its Z, as ktstr-stats junit and ktstr-selftests write it. */
	char *ts = iso8601_utc(time(NULL)), *dir = path_dirname(r->o.junit);

	if (mkdir_p(dir, 0755) < 0 ||
	    junit_write(r->o.junit, "ktstr", r->st.junit.v, r->st.junit.n, ts) < 0) {
		diag("--junit %s: cannot write: %s", r->o.junit, strerror(errno));
		if (rc == KTSTR_EXIT_PASS)
			rc = KTSTR_EXIT_USAGE;
	}
	free(dir);
	free(ts);
	return rc;
}

/* "host1: 8 CPUs, Intel(R) Xeon(R) ..., Linux 6.1.0-18-amd64 x86_64". */
static char *host_line(const json_t *host)
{
	struct strbuf sb = STRBUF_INIT;
	struct utsname u;

	strbuf_addstr(&sb, uname(&u) == 0 ? u.nodename : "?");
	if (json_get_int(host, "cpus", -1) > 0)
		strbuf_addf(&sb, ": %lld CPUs", json_get_int(host, "cpus", -1));
	if (json_get_str(host, "cpu_model"))
		strbuf_addf(&sb, ", %s", json_get_str(host, "cpu_model"));
	if (json_get_str(host, "kernel_release"))
		strbuf_addf(&sb, ", Linux %s %s", json_get_str(host, "kernel_release"),
			    json_get_str(host, "arch") ? json_get_str(host, "arch") : "");
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

/* --html; a report that cannot be written turns a pass into exit 2. */
static int write_html(struct suite_run *r, int rc, const char *started)
{
	struct strbuf err = STRBUF_INIT;
	struct html_summary s = {
		.title = r->label, .run_id = r->run_id, .started = started,
		.kernels = r->klabels, .n_kernels = r->nk,
		.schedulers = strvec_argv(&r->st.scheds_seen), .n_schedulers = r->st.scheds_seen.n,
		.wall_secs = r->tot.secs, .interrupted = r->tot.interrupted_by_signal,
	};
	char *host = host_line(r->ctx.host), *stats = suite_sibling_prog("ktstr-stats");

	s.host = host;
	if (suite_html_write(&r->st.html, &s, stats, &err) < 0) {
		diag("--html %s: %s", r->o.html, err.buf);
		if (rc == KTSTR_EXIT_PASS)
			rc = KTSTR_EXIT_USAGE;
	}
	free(host);
	free(stats);
	strbuf_release(&err);
	return rc;
}

/* The reports are written after the run: --html DIR and --junit FILE
 * must be writable before the first VM starts, not found otherwise an
 * hour of VMs later; so must the CPU lock directory every case takes
 * its locks in.  0, or -1 said. */
static int check_reports(const struct suite_run *r)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	if (r->o.html && suite_html_prepare(r->o.html, &err) < 0) {
		diag("--html %s: %s; name a directory you can write", r->o.html, err.buf);
		rc = -1;
	} else if (r->o.junit && path_creatable(r->o.junit, &err) < 0) {
		diag("--junit %s: %s; name a file you can write", r->o.junit, err.buf);
		rc = -1;
	} else if (hostlock_dir_check(&err) < 0) {
		diag("%s", err.buf);
		rc = -1;
	}
	strbuf_release(&err);
	return rc;
}

/* No case to run (a filter matching nothing was refused earlier): a
 * shard of a fleet left empty is normal, a budget that fits nothing is
 * no pass.  The exit code. */
static int nothing_to_run(const struct suite_run *r)
{
	if (r->emptied_by == EMPTIED_BY_SHARD) {
		diag("shard %u of %u: no case falls to this shard (fewer cases than "
		     "shards); nothing to run", r->o.shard_k, r->o.shard_n);
		return KTSTR_EXIT_PASS;
	}
	if (r->emptied_by == EMPTIED_BY_BUDGET) {
		diag("budget %gs: no case fits in it, so nothing ran; give a larger "
		     "--budget or KTSTR_BUDGET_SECS", r->o.budget);
		return KTSTR_EXIT_SKIP;
	}
	diag("no case to run: the tests expand to none");
	return KTSTR_EXIT_SKIP;
}

/* Plan, set up and run the cases; the exit code. */
static int run_suite(struct suite_run *r, int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct runner_opts ro;
	char started[40];
	struct tm tm;
	int rc;

	if (load_tests(r, argc, argv) < 0 || resolve_variants(r) < 0 || plan_cases(r) < 0)
		return KTSTR_EXIT_USAGE;
	/* A scheduler ktstr-vm would not find is a typo, not a VM's error. */
	if (suite_scheds_check(r->cases, r->ncases, r->nk ? r->kernels[0].key : NULL,
			       &err) < 0) {
		diag("%s", err.buf);
		strbuf_release(&err);
		return KTSTR_EXIT_USAGE;
	}
	if (r->o.list) {
		/* The shard record leads the plan, as it leads a run. */
		if (shared_run_id(r) < 0)
			return KTSTR_EXIT_USAGE;
		print_plan(r->cases, r->ncases, r->o.json);
		return r->ncases ? KTSTR_EXIT_PASS : nothing_to_run(r);
	}
	if (!r->ncases)
		return nothing_to_run(r);
	if (check_reports(r) < 0 || prepare_run(r) < 0)
		return KTSTR_EXIT_USAGE;
	gmtime_r(&(time_t){ time(NULL) }, &tm);
	strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S UTC", &tm);
	setup_reports(r, &ro);
	rc = runner_run(r->cases, r->ncases, &r->ctx, &ro, &r->tot) < 0 ? KTSTR_EXIT_USAGE
									: exit_code(&r->tot);
	print_summary(r);
	if (r->o.junit)
		rc = write_junit(r, rc);
	if (r->o.html)
		rc = write_html(r, rc, started);
	return rc;
}

static void release(struct suite_run *r)
{
	suite_sidecar_dirs_close(r->dirs, r->dirp, r->nk);
	if (r->workdir)
		rm_rf(r->workdir);
	free(r->workdir);
	free(r->runs_root);
	free(r->commit);
	free(r->run_id);
	free(r->label);
	free((char *)r->ctx.vm_prog);
	json_decref(r->ctx.host);
	suite_junit_release(&r->st.junit);
	suite_html_release(&r->st.html);
	strvec_clear(&r->st.scheds_seen);
	abcmp_release(&r->st.ab);
	free(r->klabels);
	free(r->slabels);
	gauntlet_scheds_free(r->scheds, r->ns);
	gauntlet_free(r->cases, r->ncases);
	suite_kernels_free(r->kernels, r->nk);
	ktest_free_all(r->tests, r->ntests);
	strvec_clear(&r->o.kernels);
	strvec_clear(&r->o.filters);
	strvec_clear(&r->o.scheds);
}

int main(int argc, char **argv)
{
	struct suite_run r = {
		.o = { .kernels = STRVEC_INIT, .filters = STRVEC_INIT, .scheds = STRVEC_INIT,
		       .retries = -1 },
		.st = { .junit = SUITE_JUNIT_INIT, .html = { .text = STRVEC_INIT },
			.scheds_seen = STRVEC_INIT },
	};
	int rc;

	diag_init(argv[0]);
	parse_args(argc, argv, &r.o);
	apply_env(&r.o);
	rc = run_suite(&r, argc, argv);
	release(&r);
	return rc;
}
