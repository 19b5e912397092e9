/* ktstr-selftests: the kernel's own sched_ext selftests
 * (tools/testing/selftests/sched_ext) in VMs, one record per test.  The
 * runner binary comes from the scheduler cache (share/ktstr/build-schedulers
 * builds it beside the schedulers); lib/selftests plans the VMs, writes
 * their guest scripts and reads the runner's output back. */
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "hostlock.h"
#include "jsonl.h"
#include "junit.h"
#include "kernel.h"
#include "opts.h"
#include "progress.h"
#include "qemu.h"
#include "run.h"
#include "selftests.h"
#include "suite.h"
#include "topo.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
"usage: ktstr-selftests [options]\n"
"\n"
"Run the kernel's sched_ext selftests (tools/testing/selftests/sched_ext)\n"
"in VMs and report one result per test.  The selftests runner is the one\n"
"share/ktstr/build-schedulers built for the kernel (built now when missing,\n"
"for a Debian kernel of the cache).\n"
"\n"
"  -k, --kernel ID          kernel to boot (path, version, cache key; default:\n"
"                           ktstr-vm's discovery chain)\n"
"      --topo N,L,C,T       guest topology (default 1,1,4,1)\n"
"  -j, --jobs N             split the tests over N VMs run at once (default 1)\n"
"  -t, --test PATTERN       run the tests matching PATTERN (a name or a glob;\n"
"                           repeatable; default every test)\n"
"      --list               print the names of the tests -t chooses and exit\n"
"                           (--json: selftest_plan records)\n"
"      --runner PATH        the selftests runner binary (KTSTR_SELFTESTS_RUNNER;\n"
"                           default: the scheduler cache's, for this kernel)\n"
"      --junit FILE         write a JUnit XML report\n"
"      --json               JSON lines (selftest..., selftests_summary) instead\n"
"                           of the human report\n"
"      --accel MODE         auto, kvm, tcg or tcg-mt (passed to ktstr-vm)\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"nohz_tick needs nohz_full= CPUs: it runs in a VM of its own booted with\n"
"nohz_full= on every CPU but the first.\n"
"\n"
"Exit status: 0 no test failed; 1 a test failed; 2 bad usage or a setup\n"
"error; 128+N interrupted by signal N.\n";

enum { OPT_TOPO = 0x100, OPT_LIST, OPT_RUNNER, OPT_JUNIT, OPT_JSON, OPT_ACCEL };

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "topo", required_argument, NULL, OPT_TOPO },
	{ "jobs", required_argument, NULL, 'j' },
	{ "test", required_argument, NULL, 't' },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "runner", required_argument, NULL, OPT_RUNNER },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *kernel, *topo_s, *runner, *junit, *accel;
	struct ktstr_topo topo;
	enum vm_accel accel_mode;
	struct strvec pats;
	unsigned jobs;
	bool list, json;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long n;
	int c;

	while ((c = opts_getopt(argc, argv, "hk:j:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case OPT_TOPO:
			if (topo_parse(optarg, &o->topo, &err) < 0)
				usage_error("--topo '%s': %s", optarg, err.buf);
			o->topo_s = optarg;
			break;
		case 'j':
			if (parse_ulong(optarg, 1, 64, &n) < 0)
				usage_error("--jobs '%s': expected a number from 1 to 64", optarg);
			o->jobs = (unsigned)n;
			break;
		case 't':
			if (!*optarg)
				usage_error("--test '': expected a test name or glob");
			strvec_push(&o->pats, optarg);
			break;
		case OPT_LIST: o->list = true; break;
		case OPT_RUNNER: o->runner = optarg; break;
		case OPT_JUNIT:
			if (!*optarg)
				usage_error("--junit '': expected a file name");
			o->junit = optarg;
			break;
		case OPT_JSON: o->json = true; break;
		case OPT_ACCEL:
			if (vm_accel_parse(optarg, &o->accel_mode))
				usage_error("--accel '%s': expected " VM_ACCEL_CHOICES, optarg);
			o->accel = optarg;
			break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'; tests are chosen with -t", argv[optind]);
	if (!o->topo_s && topo_parse(o->topo_s = "1,1,4,1", &o->topo, &err) < 0)
		die(KTSTR_EXIT_USAGE, "default topology: %s", err.buf);
	if (!o->runner)
		o->runner = env_get("KTSTR_SELFTESTS_RUNNER");
	if (!o->jobs)
		o->jobs = 1;
	strbuf_release(&err);
}

/* ---- the runner binary -------------------------------------------------- */

static char *cached_runner(const char *key)
{
	char *root = ktstr_cache_dir("schedulers");
	char *p = root && key ? xasprintf("%s/%s/selftests/runner", root, key) : NULL;

	free(root);
	if (p && access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* Build the kernel's schedulers and selftests into the cache (once; later
 * runs find them).  Its records are not ours: stdout goes to /dev/null. */
static void build_runner(const struct kernel_found *kf)
{
	char *helper = ktstr_share_path("build-schedulers");
	char *dir = path_dirname(kf->image);
	const char *argv[] = { helper, "--kernel-dir", dir, NULL };
	struct run_opts ro = RUN_OPTS_INIT;
	pid_t pid;

	diag("no selftests runner built for %s yet; building it (share/ktstr/build-schedulers)",
	     kf->key);
	ro.stdout_fd = RUN_FD_NULL;
	ro.die_with_parent = true;
	pid = helper ? run_spawn(argv, &ro) : -1;
	if (pid < 0 || run_wait(pid) != 0)
		diag("build-schedulers --kernel-dir %s failed", dir);
	free(helper);
	free(dir);
}

/* Only Debian kernels of the cache have a linux-source package to build
 * the selftests from (build-schedulers says so itself, at length). */
static bool debian_entry(const char *image)
{
	char *dir = path_dirname(image), *meta = path_join(dir, "metadata.json");
	json_t *doc = json_load_file(meta, 0, NULL);
	const char *type = json_get_str(json_object_get(doc, "source"), "type");
	bool yes = type && !strcmp(type, "debian");

	json_decref(doc);
	free(meta);
	free(dir);
	return yes;
}

static char *find_runner(const struct opts *o, const struct kernel_found *kf)
{
	char *p;

	if (o->runner) {
		if (access(o->runner, X_OK) == 0)
			return xstrdup(o->runner);
		die(KTSTR_EXIT_USAGE, "%s%s: %s; pass the selftests runner that build-schedulers "
		    "builds (<cache>/schedulers/KEY/selftests/runner)",
		    env_get("KTSTR_SELFTESTS_RUNNER") == o->runner ? "KTSTR_SELFTESTS_RUNNER="
		    : "--runner ", o->runner,
		    path_exists(o->runner) ? "not an executable file" : "no such file");
	}
	if ((p = cached_runner(kf->key)))
		return p;
	if (kf->key && debian_entry(kf->image) && (build_runner(kf), p = cached_runner(kf->key)))
		return p;
	die(KTSTR_EXIT_USAGE, "no selftests runner for kernel %s: build it with "
	    "share/ktstr/build-schedulers --kernel-dir DIR (a Debian kernel of the ktstr "
	    "cache), or pass --runner PATH", kf->key ? kf->key : kf->image);
}

static void list_tests(const char *runner, struct strvec *all)
{
	const char *argv[] = { runner, "-l", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int rc = run_capture(argv, &out, &err);

	if (rc != 0 || st_list_parse(out.buf, all) < 0)
		die(KTSTR_EXIT_USAGE, "%s -l: %s; is it the sched_ext selftests runner?",
		    runner, rc ? "it failed" : "it listed no tests");
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ---- VMs ---------------------------------------------------------------- */

struct vm {
	struct st_group *g;
	pid_t pid;
	struct hostlock lock;
	char *out_path, *err_path;
	long long t0_ms;
	bool done;
};

struct run {
	struct opts o;
	struct kernel_found kf;
	char *runner, *vm_prog, *workdir;
	struct strvec all, sel;
	struct st_group *groups;
	size_t ngroups;
	struct vm *vms;
	unsigned slots;
	size_t passed, skipped, failed, errors;
	struct junit_case *jc;
	size_t njc;
	struct strvec jtext;
	long long t0_ms;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Push each argument up to the NULL. */
static void push_all(struct strvec *sv, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, sv);
	while ((s = va_arg(ap, const char *)))
		strvec_push(sv, s);
	va_end(ap);
}

static void vm_argv(const struct run *r, const struct vm *v, struct strvec *argv)
{
	struct strbuf script = STRBUF_INIT;
	/* -i puts a file at /include-files/<its base name>. */
	char *guest = path_join("/include-files", path_basename(r->runner));

	st_script(v->g, guest, &script);
	free(guest);
	push_all(argv, r->vm_prog, "--kernel", r->kf.image, "--topo", r->o.topo_s,
		     "-i", r->runner, NULL);
	/* About 200 s for all 33 under TCG: a minute a test is generous. */
	strvec_pushf(argv, "--timeout=%zus", 120 + 60 * v->g->tests.n);
	if (r->o.accel)
		push_all(argv, "--accel", r->o.accel, NULL);
	if (v->g->append)
		push_all(argv, "--append", v->g->append, NULL);
	push_all(argv, "--exec", script.buf, NULL);
	strbuf_release(&script);
}

static int vm_start(struct run *r, struct vm *v)
{
	struct strvec argv = STRVEC_INIT;
	struct run_opts ro = RUN_OPTS_INIT;
	int out, err;

	v->out_path = xasprintf("%s/vm%zu.out", r->workdir, (size_t)(v - r->vms));
	v->err_path = xasprintf("%s/vm%zu.err", r->workdir, (size_t)(v - r->vms));
	out = open(v->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = open(v->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	vm_argv(r, v, &argv);
	ro.stdin_fd = RUN_FD_NULL;
	ro.stdout_fd = out;
	ro.stderr_fd = err;
	ro.die_with_parent = true;
	ro.affinity = hostlock_bypassed() ? NULL : &v->lock.set;
	v->pid = out < 0 || err < 0 ? -1 : run_spawn(strvec_argv(&argv), &ro);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	strvec_clear(&argv);
	v->t0_ms = now_ms();
	return v->pid < 0 ? -1 : 0;
}

/* ---- reading a VM's records --------------------------------------------- */

struct vm_end {
	bool have_exit;		/* the guest command's exit record */
	char *reason, *message;	/* vm_exit's */
};

static void feed_record(struct st_parser *p, struct vm_end *e, const json_t *rec)
{
	const char *type = json_get_str(rec, "type");

	if (!type)
		return;
	if (!strcmp(type, "output") && json_get_str(rec, "line"))
		st_parser_line(p, json_get_str(rec, "line"));
	else if (!strcmp(type, "exit"))
		e->have_exit = true;
	else if (!strcmp(type, "vm_exit") && !e->reason) {
		e->reason = xstrdup(json_get_str(rec, "reason") ? json_get_str(rec, "reason") : "?");
		if (json_get_str(rec, "message"))
			e->message = xstrdup(json_get_str(rec, "message"));
	}
}

/* The last non-empty line of a file, or NULL. */
static char *last_line_of(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *end, *start, *s = NULL;

	if (strbuf_read_file(&sb, path) >= 0) {
		strbuf_trim(&sb);
		end = sb.buf + sb.len;
		start = end;
		while (start > sb.buf && start[-1] != '\n')
			start--;
		if (start < end)
			s = xstrndup(start, (size_t)(end - start));
	}
	strbuf_release(&sb);
	return s;
}

/* Feed the VM's records to p; returns why tests without a result failed
 * (NULL when the guest command ran to its end).  Caller frees. */
static char *vm_read(const struct vm *v, int status, struct st_parser *p)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct vm_end e = { 0 };
	char *line, *save = NULL, *why = NULL, *last;

	if (strbuf_read_file(&sb, v->out_path) >= 0)
		for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_t *rec = jsonl_parse(line, strlen(line), &err);

			if (rec)
				feed_record(p, &e, rec);
			json_decref(rec);
			strbuf_setlen(&err, 0);
		}
	if (!e.have_exit) {
		last = last_line_of(v->err_path);
		if (e.reason)
			why = xasprintf("the VM ended before the runner finished (%s%s%s)", e.reason,
					e.message ? ": " : "", e.message ? e.message : "");
		else
			why = xasprintf("ktstr-vm exited with status %d before the runner finished%s%s",
					status, last ? ": " : "", last ? last : "");
		free(last);
	}
	free(e.reason);
	free(e.message);
	strbuf_release(&sb);
	strbuf_release(&err);
	return why;
}

/* ---- reporting ---------------------------------------------------------- */

static json_t *tail_json(const struct st_test *t)
{
	json_t *a = json_array();
	size_t i = t->output.n > ST_TAIL_LINES ? t->output.n - ST_TAIL_LINES : 0;

	for (; i < t->output.n; i++)
		json_array_append_new(a, json_string_bytes(t->output.v[i], strlen(t->output.v[i])));
	return a;
}

static json_t *test_record(const struct run *r, const struct vm *v, const struct st_test *t)
{
	json_t *rec = jsonl_record("selftest");

	json_set_str(rec, "name", t->name);
	json_set_str(rec, "result", st_result_name(t->result));
	if (t->result != ST_PASS && t->reason)
		json_set_bytes(rec, "reason", t->reason, strlen(t->reason));
	else
		json_set_str(rec, "reason", NULL);
	if (t->result == ST_FAIL)
		json_object_set_new(rec, "output", tail_json(t));
	if (t->duration_ms >= 0)
		json_set_int(rec, "duration_ms", t->duration_ms);
	json_set_int(rec, "vm", (long long)(v - r->vms));
	json_set_str(rec, "append", v->g->append);
	return rec;
}

static void human_line(const struct st_test *t)
{
	size_t i = t->output.n > ST_TAIL_LINES ? t->output.n - ST_TAIL_LINES : 0;

	printf("%-4s ", t->result == ST_PASS ? "PASS" : t->result == ST_SKIP ? "SKIP" :
	       t->result == ST_FAIL ? "FAIL" : "ERROR");
	if (t->duration_ms >= 0)
		printf("[%7.2fs] ", (double)t->duration_ms / 1000);
	else
		printf("[%8s] ", "");
	printf("%s%s%s\n", t->name, t->reason && t->result != ST_PASS ? ": " : "",
	       t->reason && t->result != ST_PASS ? t->reason : "");
	for (; t->result == ST_FAIL && i < t->output.n; i++)
		printf("    | %s\n", t->output.v[i]);
	fflush(stdout);
}

static void junit_add(struct run *r, const struct st_test *t)
{
	struct junit_case *c;
	struct strbuf detail = STRBUF_INIT;
	size_t i = t->output.n > ST_TAIL_LINES ? t->output.n - ST_TAIL_LINES : 0;

	r->jc = xrealloc(r->jc, (r->njc + 1) * sizeof(*r->jc));
	c = &r->jc[r->njc++];
	memset(c, 0, sizeof(*c));
	c->suite = "sched_ext selftests";
	strvec_push(&r->jtext, t->name);
	c->name = r->jtext.v[r->jtext.n - 1];
	/* Interrupted: an <error>, as ktstr-test reports a case a signal stopped. */
	c->status = t->result == ST_PASS ? JUNIT_PASS : t->result == ST_SKIP ? JUNIT_SKIP :
		    t->result == ST_FAIL ? JUNIT_FAIL : JUNIT_ERROR;
	c->secs = t->duration_ms >= 0 ? (double)t->duration_ms / 1000 : 0;
	if (t->reason && t->result != ST_PASS) {
		strvec_push(&r->jtext, t->reason);
		c->message = r->jtext.v[r->jtext.n - 1];
	}
	for (; t->result == ST_FAIL && i < t->output.n; i++)
		strbuf_addf(&detail, "%s\n", t->output.v[i]);
	if (detail.len) {
		strvec_push(&r->jtext, detail.buf);
		c->detail = r->jtext.v[r->jtext.n - 1];
	}
	c->type = t->result == ST_FAIL ? "selftest" : NULL;
	strbuf_release(&detail);
}

/* A VM ended (or was stopped by a signal: interrupted): read it, report
 * its tests. */
static void vm_finish(struct run *r, struct vm *v, int status, bool interrupted)
{
	struct st_parser p;
	char *why;
	size_t i;

	v->done = true;
	hostlock_release(&v->lock);
	progress_clear();
	st_parser_init(&p, &v->g->tests);
	why = vm_read(v, status, &p);
	if (interrupted)
		st_parser_finish_interrupted(&p);
	else
		st_parser_finish(&p, why);
	for (i = 0; i < p.n; i++) {
		const struct st_test *t = &p.tests[i];

		r->passed += t->result == ST_PASS;
		r->skipped += t->result == ST_SKIP;
		r->failed += t->result == ST_FAIL;
		r->errors += t->result == ST_ERROR;
		if (r->o.json)
			jsonl_emit(stdout, test_record(r, v, t));
		else
			human_line(t);
		junit_add(r, t);
	}
	if (why && !interrupted && !r->o.json)
		diag("VM %zu: %s", (size_t)(v - r->vms), why);
	free(why);
	st_parser_release(&p);
}

/* ---- the run ------------------------------------------------------------ */

/* Start the next VM when a job slot and its host CPUs are free.  1
 * started, 0 not now, -1 a setup error (said). */
static int try_start(struct run *r, size_t next, size_t running)
{
	struct strbuf err = STRBUF_INIT;
	struct vm *v = &r->vms[next];
	int rc;

	if (running >= r->o.jobs)
		return 0;
	rc = hostlock_try(&v->lock, r->slots, false, &err);
	if (rc < 0)
		diag("host CPU reservation: %s", err.buf);
	strbuf_release(&err);
	if (rc <= 0)
		return rc;
	if (vm_start(r, v) < 0) {
		diag("cannot start %s: %s", r->vm_prog, strerror(errno));
		hostlock_release(&v->lock);
		return -1;
	}
	return 1;
}

/* Reap whatever ended; returns how many. */
static size_t reap(struct run *r)
{
	size_t i, n = 0;
	int status;

	for (i = 0; i < r->ngroups; i++) {
		struct vm *v = &r->vms[i];

		if (v->pid <= 0 || v->done || waitpid(v->pid, &status, WNOHANG) != v->pid)
			continue;
		vm_finish(r, v, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			  false);
		n++;
	}
	return n;
}

static void stop_all(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ngroups; i++)
		if (r->vms[i].pid > 0 && !r->vms[i].done)
			kill(r->vms[i].pid, SIGTERM);
	/* What they finished counts; the rest is reported interrupted. */
	for (i = 0; i < r->ngroups; i++)
		if (r->vms[i].pid > 0 && !r->vms[i].done) {
			waitpid(r->vms[i].pid, NULL, 0);
			vm_finish(r, &r->vms[i], 0, true);
		}
}

/* 0 when every VM ran, -1 on a setup error or a signal. */
static int run_vms(struct run *r)
{
	size_t next = 0, running = 0;
	int rc = 0;

	r->vms = xcalloc(r->ngroups, sizeof(*r->vms));
	for (next = 0; next < r->ngroups; next++)
		r->vms[next].g = &r->groups[next];
	next = 0;
	while ((next < r->ngroups || running) && !got_signal) {
		while (next < r->ngroups && (rc = try_start(r, next, running)) > 0) {
			next++;
			running++;
		}
		if (next < r->ngroups && rc < 0)
			break;
		running -= reap(r);
		progress("%zu of %zu VMs done, %zu running, %llds", next - running, r->ngroups,
			 running, (now_ms() - r->t0_ms) / 1000);
		if (next < r->ngroups || running)
			usleep(100 * 1000);
	}
	progress_clear();
	if (got_signal || running) {
		stop_all(r);
		return -1;
	}
	return 0;
}

static void summary(struct run *r)
{
	long long wall = now_ms() - r->t0_ms;
	json_t *rec;

	if (!r->o.json) {
		printf("\nselftests on %s: %zu passed, %zu skipped, %zu failed", r->kf.image,
		       r->passed, r->skipped, r->failed);
		if (got_signal || r->errors)
			printf(", %zu interrupted", r->errors);
		printf(" of %zu in %zu VM%s, %.1fs%s\n", r->sel.n, r->ngroups,
		       r->ngroups == 1 ? "" : "s", (double)wall / 1000,
		       got_signal ? " (interrupted)" : "");
		return;
	}
	rec = jsonl_record("selftests_summary");
	json_set_str(rec, "kernel", r->kf.image);
	json_set_str(rec, "kernel_key", r->kf.key);
	json_set_str(rec, "topology", r->o.topo_s);
	json_set_str(rec, "runner", r->runner);
	json_set_int(rec, "tests", (long long)r->sel.n);
	json_set_int(rec, "passed", (long long)r->passed);
	json_set_int(rec, "skipped", (long long)r->skipped);
	json_set_int(rec, "failed", (long long)r->failed);
	json_set_int(rec, "errors", (long long)r->errors);
	json_set_int(rec, "vms", (long long)r->ngroups);
	json_set_int(rec, "wall_ms", wall);
	json_set_str(rec, "junit", r->o.junit);
	json_set_bool(rec, "interrupted", got_signal != 0);
	jsonl_emit(stdout, rec);
}

/* --junit FILE is written after the VMs: find out before the runner is
 * looked for (or built) that it can be.  Exits 2 when not. */
static void check_junit(const struct opts *o)
{
	struct strbuf err = STRBUF_INIT;

	if (o->junit && !o->list && path_creatable(o->junit, &err) < 0)
		die(KTSTR_EXIT_USAGE, "--junit %s: %s; name a file you can write", o->junit,
		    err.buf);
	strbuf_release(&err);
}

/* In the directories check_junit found could be made. */
static int write_junit(struct run *r)
{
	char ts[32], *dir;
	time_t now = time(NULL);
	int rc = 0;

	if (!r->o.junit)
		return 0;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	dir = path_dirname(r->o.junit);
	if (mkdir_p(dir, 0755) < 0 ||
	    junit_write(r->o.junit, "ktstr selftests", r->jc, r->njc, ts) < 0) {
		diag("--junit %s: cannot write it: %s", r->o.junit, strerror(errno));
		rc = -1;
	}
	free(dir);
	return rc;
}

/* --list: the tests -t chose, by name, or with --json where each would
 * run (selftest_plan records). */
static void list_plan(const struct run *r)
{
	size_t g, i;

	for (i = 0; !r->o.json && i < r->sel.n; i++)
		printf("%s\n", r->sel.v[i]);
	for (g = 0; r->o.json && g < r->ngroups; g++)
		for (i = 0; i < r->groups[g].tests.n; i++) {
			json_t *rec = jsonl_record("selftest_plan");

			json_set_str(rec, "name", r->groups[g].tests.v[i]);
			json_set_int(rec, "vm", (long long)g);
			json_set_str(rec, "append", r->groups[g].append);
			jsonl_emit(stdout, rec);
		}
}

/* Kernel, runner, test list, plan.  Exits on a setup error. */
static void prepare(struct run *r)
{
	struct strbuf err = STRBUF_INIT;

	if ((r->o.kernel ? kernel_find_id("--kernel", r->o.kernel, &r->kf, &err)
			 : kernel_find(NULL, &r->kf, &err)) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	r->runner = find_runner(&r->o, &r->kf);
	list_tests(r->runner, &r->all);
	if (st_select(&r->all, &r->o.pats, &r->sel, &err) < 0)
		usage_error("%s", err.buf);
	r->ngroups = st_plan(&r->all, &r->sel, r->o.jobs, topo_cpus(&r->o.topo), &r->groups);
	r->slots = gauntlet_vm_slots(&r->o.topo,
				     vm_accel_thread_per_vcpu(vm_accel_resolve(r->o.accel_mode)),
				     hostlock_usable_cpus());
	r->vm_prog = suite_vm_prog();
	strbuf_release(&err);
}

static void release(struct run *r)
{
	if (r->workdir)
		rm_rf(r->workdir);
	free(r->workdir);
	if (r->vms) {
		size_t i;

		for (i = 0; i < r->ngroups; i++) {
			free(r->vms[i].out_path);
			free(r->vms[i].err_path);
		}
	}
	free(r->vms);
	st_groups_free(r->groups, r->ngroups);
	free(r->jc);
	strvec_clear(&r->jtext);
	strvec_clear(&r->all);
	strvec_clear(&r->sel);
	strvec_clear(&r->o.pats);
	free(r->runner);
	free(r->vm_prog);
	kernel_found_release(&r->kf);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

int main(int argc, char **argv)
{
	struct run r = { .o = { .pats = STRVEC_INIT }, .all = STRVEC_INIT, .sel = STRVEC_INIT,
			 .jtext = STRVEC_INIT };
	int rc = KTSTR_EXIT_PASS;

	diag_init(argv[0]);
	parse_args(argc, argv, &r.o);
	check_junit(&r.o);
	prepare(&r);
	if (r.o.list) {
		list_plan(&r);
		stdout_flush("the test list");
		release(&r);
		return 0;
	}
	r.workdir = make_temp_dir(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "ktstr-selftests-");
	if (!r.workdir)
		die(KTSTR_EXIT_USAGE, "cannot create a temp directory: %s", strerror(errno));
	catch_signals();
	r.t0_ms = now_ms();
	if (run_vms(&r) < 0 && !got_signal)
		rc = KTSTR_EXIT_USAGE;
	summary(&r);
	if (write_junit(&r) < 0 && rc == KTSTR_EXIT_PASS)
		rc = KTSTR_EXIT_USAGE;
	if (got_signal)
		rc = KTSTR_EXIT_SIGNAL + got_signal;
	else if (r.failed)
		rc = KTSTR_EXIT_FAIL;
	release(&r);
	return rc;
}
