/* ktstr-verify: does every BPF program of a scheduler verify, and how close
 * is it to the verifier's limit, on each kernel and topology?  A grid of
 * cells (scheduler x kernel x preset), each a VM run through the test
 * runner (lib/runner) that loads the scheduler, reads its programs in the
 * guest and counts their runs under a short probe; a rejected load keeps
 * the verifier's log, loop iterations collapsed. */
#include "caserun.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "hostlock.h"
#include "jsonl.h"
#include "opts.h"
#include "progress.h"
#include "qemu.h"
#include "runner.h"
#include "suite.h"
#include "testfile.h"
#include "vm_request.h"
#include "verify_cell.h"
#include "verify_plan.h"
#include "verify_summary.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
"usage: ktstr-verify [options]\n"
"\n"
"Verify sched_ext schedulers' BPF programs over kernels and topologies.\n"
"Every cell (scheduler x kernel x preset) boots a VM, starts the scheduler\n"
"and, once it attached, reads each BPF program it loaded (verified\n"
"instructions, sizes, maps) and counts their runs under a short probe (one\n"
"spinning worker per CPU).  A scheduler that does not load fails its cell\n"
"with the verifier's log, repeated loop iterations collapsed.  One line per\n"
"cell, then per program the lo..hi of verified instructions against the\n"
"limit (1000000), a pass/fail grid and the failing cells.\n"
"\n"
"      --scheduler NAME     a scheduler to verify (repeatable; a name ktstr-vm\n"
"                           finds, or a path); default KTSTR_VERIFIER_SCHEDULER\n"
"                           (names split by commas or blanks), else every\n"
"                           scheduler built into the ktstr cache\n"
"  -k, --kernel ID          kernel (repeatable; a version, range such as\n"
"                           6.12..7.0, cache key, \"debian\" or path; default\n"
"                           KTSTR_KERNEL_LIST, else ktstr-vm's discovery)\n"
"      --preset NAME        topology preset (repeatable; default tiny-1llc,\n"
"                           tiny-2llc and smt-2llc, those this host can run)\n"
"      --raw                verifier logs verbatim, no loop collapsing\n"
"                           (KTSTR_VERIFIER_RAW)\n"
"      --result-dir DIR     write each cell's record to DIR/SCHED__KERNEL__PRESET.json\n"
"                           and the summary to DIR/summary.json\n"
"                           (KTSTR_VERIFIER_RESULT_DIR)\n"
"  -j, --jobs N             cells at once (default: usable host CPUs)\n"
"      --duration TIME      the probe's length (default 2s, 1s to 1h)\n"
"      --retries N          run a cell again up to N times after an\n"
"                           infrastructure error (default 1)\n"
"      --accel MODE         auto, kvm, tcg or tcg-mt (passed to ktstr-vm)\n"
"      --json               JSON lines (verifier_cell..., verifier_summary)\n"
"                           instead of the human report\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"A cell passes when the scheduler attached and its programs were read; the\n"
"probe's fairness does not count.  It fails when the scheduler did not\n"
"load.  An ERROR (the VM never reached the guest agent, ...) says nothing\n"
"about the scheduler.\n"
"\n"
"Exit status: 0 every cell passed; 1 a cell failed; 2 bad usage, a setup\n"
"error, or cells in error and none failed; 130 interrupted.\n";

enum {
	OPT_SCHED = 0x100, OPT_PRESET, OPT_RAW, OPT_RESULT_DIR, OPT_DURATION, OPT_RETRIES,
	OPT_ACCEL, OPT_JSON,
};

static const struct option longopts[] = {
	{ "scheduler", required_argument, NULL, OPT_SCHED },
	{ "kernel", required_argument, NULL, 'k' },
	{ "preset", required_argument, NULL, OPT_PRESET },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "result-dir", required_argument, NULL, OPT_RESULT_DIR },
	{ "jobs", required_argument, NULL, 'j' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "json", no_argument, NULL, OPT_JSON },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	struct strvec scheds, kernels, presets;
	const char *result_dir, *accel;
	enum vm_accel accel_mode;
	unsigned long long duration_ms;
	unsigned jobs;
	long retries;			/* -1: not given */
	bool raw, json;
	bool scheds_from_env;		/* scheds came from KTSTR_VERIFIER_SCHEDULER */
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	unsigned long n;
	int c;

	while ((c = opts_getopt(argc, argv, "hk:j:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SCHED:
			if (!*optarg || !strcmp(optarg, "eevdf"))
				usage_error("--scheduler '%s': expected a sched_ext scheduler's "
					    "name or path (EEVDF has no BPF programs)", optarg);
			strvec_push(&o->scheds, optarg);
			break;
		case 'k': strvec_push(&o->kernels, optarg); break;
		case OPT_PRESET: strvec_push(&o->presets, optarg); break;
		case OPT_RAW: o->raw = true; break;
		case OPT_RESULT_DIR:
			if (!*optarg)
				usage_error("--result-dir '': expected a directory");
			o->result_dir = optarg;
			break;
		case 'j':
			if (parse_ulong(optarg, 1, 1024, &n) < 0)
				usage_error("--jobs '%s': expected a number from 1 to 1024", optarg);
			o->jobs = (unsigned)n;
			break;
		case OPT_DURATION: o->duration_ms = scenario_duration_arg(optarg); break;
		case OPT_RETRIES:
			if (parse_ulong(optarg, 0, 10, &n) < 0)
				usage_error("--retries '%s': expected a number from 0 to 10", optarg);
			o->retries = (long)n;
			break;
		case OPT_ACCEL:
			if (vm_accel_parse(optarg, &o->accel_mode))
				usage_error("--accel '%s': expected " VM_ACCEL_CHOICES, optarg);
			o->accel = optarg;
			break;
		case OPT_JSON: o->json = true; break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'; schedulers go with --scheduler",
			    argv[optind]);
}

/* Environment defaults, after the flags (flags win). */
static void apply_env(struct opts *o)
{
	const char *s;

	if (!o->scheds.n && (s = env_get("KTSTR_VERIFIER_SCHEDULER"))) {
		verify_split_list(s, &o->scheds);
		o->scheds_from_env = true;
	}
	if (!o->raw && env_get("KTSTR_VERIFIER_RAW"))
		o->raw = true;
	if (!o->result_dir)
		o->result_dir = env_get("KTSTR_VERIFIER_RESULT_DIR");
	if (!o->duration_ms)
		o->duration_ms = 2000;
	if (!o->jobs)
		o->jobs = hostlock_usable_cpus();
	if (o->retries < 0)
		o->retries = 1;
}

/* ---- one run ------------------------------------------------------------ */

struct verify_run {
	struct opts o;
	struct gauntlet_kernel *kernels;
	size_t nk;
	struct gauntlet_sched *scheds;
	size_t ns;
	struct ktest *tests;
	size_t ntests;
	struct gcase *cases;
	size_t ncases;
	char *workdir;
	struct caserun_ctx ctx;
	struct runner_totals tot;
	struct verify_summary sum;
	size_t write_errors;
};

/* The scheduler values: each a path that exists or a name ktstr-vm
 * finds for the first kernel, so a typo stops the run before any boot.
 * 0, or -1 said. */
static int resolve_schedulers(struct verify_run *r)
{
	struct strbuf err = STRBUF_INIT;
	const char **keys = xcalloc(r->nk, sizeof(*keys));
	size_t i;

	for (i = 0; i < r->nk; i++)
		keys[i] = r->kernels[i].key;
	if (!r->o.scheds.n && !verify_discover_schedulers(keys, r->nk, &r->o.scheds))
		usage_error("no scheduler given and none built in the ktstr cache; name one "
			    "with --scheduler, or build the kernel's with "
			    "share/ktstr/build-schedulers (or ktstr-build --sched)");
	free(keys);
	for (i = 0; i < r->o.scheds.n; i++) {
		const char *spec = r->o.scheds.v[i];
		char *p = scheduler_resolve(spec, r->kernels[0].key, &err);
		size_t flag = strlen("--scheduler ") + strlen(spec);

		if (!p) {
			/* Its line names --scheduler; the value came from the variable. */
			if (r->o.scheds_from_env && err.len > flag &&
			    !strncmp(err.buf, "--scheduler ", 12) && !strncmp(err.buf + flag, ": ", 2))
				diag("KTSTR_VERIFIER_SCHEDULER: %s%s", spec, err.buf + flag);
			else
				diag("%s", err.buf);
			strbuf_release(&err);
			return -1;
		}
		free(p);
	}
	if (gauntlet_scheds_resolve(&r->o.scheds, &r->scheds, &r->ns, &err) < 0)
		usage_error("%s", err.buf);
	strbuf_release(&err);
	return 0;
}

/* Kernels, schedulers, presets, and the cells they make.  0, or -1 said. */
static int plan(struct verify_run *r)
{
	struct gauntlet_opts go = { 0 };
	struct strvec presets = STRVEC_INIT;
	enum vm_accel accel;
	struct strbuf err = STRBUF_INIT;
	int rc = -1;
	size_t i;

	accel = vm_accel_resolve(r->o.accel_mode);
	go.kvm = accel == VM_ACCEL_KVM;
	go.thread_per_vcpu = vm_accel_thread_per_vcpu(accel);
	go.host_cpus = hostlock_usable_cpus();
	if (verify_presets(&r->o.presets, go.kvm, go.host_cpus, &presets, &err) < 0)
		usage_error("%s", err.buf);
	if (suite_kernels_resolve(&r->o.kernels, env_get("KTSTR_KERNEL_LIST"), &r->kernels,
				  &r->nk, &err) < 0 || !r->nk) {
		diag("%s", err.len ? err.buf : "no kernel found");
		goto out;
	}
	verify_unclash_kernels(r->kernels, r->nk);
	if (resolve_schedulers(r) < 0)
		goto out;
	r->tests = xcalloc(presets.n, sizeof(*r->tests));
	for (i = 0; i < presets.n; i++, r->ntests++)
		if (verify_probe_test(preset_find(presets.v[i]), (unsigned)i, r->o.duration_ms,
				      &r->tests[i], &err) < 0) {
			diag("the probe test: %s", err.buf);
			goto out;
		}
	go.kernels = r->kernels;
	go.n_kernels = r->nk;
	go.scheds = r->scheds;
	go.n_scheds = r->ns;
	if (gauntlet_expand(r->tests, r->ntests, &go, &r->cases, &r->ncases, &err) < 0) {
		diag("%s", err.buf);
		goto out;
	}
	rc = 0;
out:
	strvec_clear(&presets);
	strbuf_release(&err);
	return rc;
}

/* ---- reporting ---------------------------------------------------------- */

static const struct gauntlet_kernel *cell_kernel(const struct verify_run *r,
						 const struct gcase *c)
{
	return c->kernel ? c->kernel : &r->kernels[0];
}

/* The scheduler's whole output, when ktstr-vm kept it in a file. */
static char *read_output(const struct caserun *run, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;

	*len = 0;
	if (!run || !run->sched_log || strbuf_read_file(&sb, run->sched_log) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, len);
}

static json_t *cell_record(const struct verify_run *r, const struct case_report *rep)
{
	const struct caserun *run = rep->run;
	const struct gauntlet_kernel *k = cell_kernel(r, rep->c);
	struct strbuf topo = STRBUF_INIT;
	struct verify_cell_in in = { 0 };
	json_t *cell;
	char *out;

	topo_format_short(&rep->c->preset->topo, &topo);
	in.scheduler = rep->c->sched->label;
	in.kernel = k->label;
	in.kernel_image = k->image;
	in.preset = rep->c->preset->name;
	in.topology = topo.buf;
	in.wall_ms = run ? run->wall_ms : 0;
	in.accel = run ? run->accel : NULL;
	in.raw = r->o.raw;
	if (rep->outcome == CASE_INTERRUPTED)
		in.error = "interrupted before the cell finished";
	else if (!run)
		in.error = rep->reason ? rep->reason : "not run";
	else if (run->infra)
		in.error = run->infra;
	if (run) {
		in.attached = run->sched_attached;
		in.sched_fail = run->sched_fail;
		in.progs = run->bpf_progs;
		in.stats = run->bpf_stats;
		in.probe_error = run->bpf_probe_error;
	}
	out = read_output(run, &in.output_len);
	in.output = out;
	cell = verify_cell_build(&in);
	free(out);
	strbuf_release(&topo);
	return cell;
}

/* Write one JSON document to dir/name atomically; a failure is said and
 * counted (it turns a passing run's exit into 2). */
static void write_result(struct verify_run *r, const char *name, const json_t *doc)
{
	char *path = path_join(r->o.result_dir, name);
	struct strbuf sb = STRBUF_INIT;

	/* As the records on stdout: json_dumps' 17 digits print 0.0007 as
	 * 0.00069999999999999999. */
	jsonl_encode(&sb, doc);
	if (write_file_atomic(path, sb.buf, sb.len, 0644) < 0) {
		progress_clear();
		diag("--result-dir: cannot write %s: %s", path, strerror(errno));
		r->write_errors++;
	}
	strbuf_release(&sb);
	free(path);
}

/* "PASS [   6.21s] scx_simple 7.3.4 tiny-2llc: 7 programs, at most 312
 * verified instructions". */
static void human_line(const json_t *cell, double secs)
{
	const char *res = json_get_str(cell, "result");
	const json_t *progs = json_object_get(cell, "programs"), *p;
	long long hi = 0;
	size_t i;

	json_array_foreach(progs, i, p)
		if (json_get_int(p, "verified_insns", 0) > hi)
			hi = json_get_int(p, "verified_insns", 0);
	printf("%-5s [%8.2fs] %s %s %s", !strcmp(res, "pass") ? "PASS" :
	       !strcmp(res, "fail") ? "FAIL" : "ERROR", secs, json_get_str(cell, "scheduler"),
	       json_get_str(cell, "kernel"), json_get_str(cell, "preset"));
	if (!strcmp(res, "pass"))
		printf(": %zu program%s, at most %lld verified instructions",
		       json_array_size(progs), json_array_size(progs) == 1 ? "" : "s", hi);
	else if (json_get_str(cell, "failed_program"))
		printf(": program %s: %s", json_get_str(cell, "failed_program"),
		       json_get_str(cell, "error"));
	else
		printf(": %s", json_get_str(cell, "reason"));
	printf("\n");
	fflush(stdout);
}

static void report_cb(void *cb, const struct case_report *rep)
{
	struct verify_run *r = cb;
	json_t *cell;

	if (rep->retrying) {
		if (!r->o.json)
			printf("RETRY [%8.2fs] %s %s %s: %s (attempt %u of %ld)\n", rep->secs,
			       rep->c->sched->label, cell_kernel(r, rep->c)->label,
			       rep->c->preset->name, rep->reason, rep->attempts,
			       r->o.retries + 1);
		fflush(stdout);
		return;
	}
	cell = cell_record(r, rep);
	if (r->o.json)
		jsonl_emit(stdout, json_incref(cell));	/* it drops a reference */
	else
		human_line(cell, rep->secs);
	if (r->o.result_dir) {
		char *name = verify_cell_file_name(json_get_str(cell, "scheduler"),
						   json_get_str(cell, "kernel"),
						   json_get_str(cell, "preset"));

		write_result(r, name, cell);
		free(name);
	}
	verify_summary_add(&r->sum, cell);
	json_decref(cell);
}

/* The summary: a record (stdout with --json; summary.json in the result
 * directory) and the human report (stdout, or stderr on a terminal with
 * --json so a person watching still sees it). */
static void print_summary(struct verify_run *r)
{
	json_t *rec = verify_summary_record(&r->sum, (long long)(r->tot.secs * 1000));
	struct strbuf human = STRBUF_INIT;
	FILE *hf = r->o.json ? (isatty(STDERR_FILENO) ? stderr : NULL) : stdout;

	if (r->o.json)
		jsonl_emit(stdout, json_incref(rec));
	if (r->o.result_dir)
		write_result(r, "summary.json", rec);
	if (hf) {
		verify_summary_human(&r->sum, &human);
		size_t ncells = json_array_size(r->sum.cells);

		fprintf(hf, "\n%sSummary [%8.2fs] %zu cell%s: %zu passed, %zu failed, %zu "
			"error%s%s\n", human.buf, r->tot.secs, ncells, ncells == 1 ? "" : "s",
			r->sum.passed, r->sum.failed, r->sum.errors, r->sum.errors == 1 ? "" : "s",
			r->tot.interrupted_by_signal ? " (interrupted)" : "");
		fflush(hf);
	}
	strbuf_release(&human);
	json_decref(rec);
}

static int exit_code(const struct verify_run *r)
{
	if (r->tot.interrupted_by_signal)
		return KTSTR_EXIT_SIGNAL + r->tot.signal;
	if (r->sum.failed)
		return KTSTR_EXIT_FAIL;
	return r->sum.errors || r->write_errors ? KTSTR_EXIT_USAGE : KTSTR_EXIT_PASS;
}

static int run_cells(struct verify_run *r)
{
	struct runner_opts ro = {
		.jobs = r->o.jobs, .runs = 1, .retries = (unsigned)r->o.retries,
		.report = report_cb, .cb = r, .kernels = r->kernels, .n_kernels = r->nk,
		.noun = "cell",
	};
	int rc;

	if (r->o.result_dir && mkdir_p(r->o.result_dir, 0755) < 0) {
		diag("--result-dir %s: cannot create it: %s", r->o.result_dir, strerror(errno));
		return KTSTR_EXIT_USAGE;
	}
	r->workdir = make_temp_dir(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
				   "ktstr-verify-");
	if (!r->workdir) {
		diag("cannot create a temp directory: %s", strerror(errno));
		return KTSTR_EXIT_USAGE;
	}
	r->ctx.vm_prog = suite_vm_prog();
	r->ctx.default_kernel = &r->kernels[0];
	r->ctx.workdir = r->workdir;
	r->ctx.accel = r->o.accel;
	r->ctx.host = json_object();
	rc = runner_run(r->cases, r->ncases, &r->ctx, &ro, &r->tot);
	print_summary(r);
	return rc < 0 ? KTSTR_EXIT_USAGE : exit_code(r);
}

static void release(struct verify_run *r)
{
	if (r->workdir)
		rm_rf(r->workdir);
	free(r->workdir);
	free((char *)r->ctx.vm_prog);
	json_decref(r->ctx.host);
	verify_summary_release(&r->sum);
	gauntlet_free(r->cases, r->ncases);
	ktest_free_all(r->tests, r->ntests);
	gauntlet_scheds_free(r->scheds, r->ns);
	suite_kernels_free(r->kernels, r->nk);
	strvec_clear(&r->o.scheds);
	strvec_clear(&r->o.kernels);
	strvec_clear(&r->o.presets);
}

int main(int argc, char **argv)
{
	struct verify_run r = {
		.o = { .scheds = STRVEC_INIT, .kernels = STRVEC_INIT, .presets = STRVEC_INIT,
		       .retries = -1 },
	};
	int rc;

	diag_init(argv[0]);
	parse_args(argc, argv, &r.o);
	apply_env(&r.o);
	verify_summary_init(&r.sum);
	rc = plan(&r) < 0 ? KTSTR_EXIT_USAGE : run_cells(&r);
	release(&r);
	return rc;
}
