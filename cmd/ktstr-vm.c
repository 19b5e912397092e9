/* ktstr-vm: boot a kernel in a VM with an exact CPU topology and run a
 * command (or a shell) in it, reporting everything as JSON lines. */
#include "agent_proto.h"
#include "budget.h"
#include "ctprof.h"
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "hostlock.h"
#include "hosttsc.h"
#include "initramfs.h"
#include "jsonl.h"
#include "kernel.h"
#include "opts.h"
#include "payload_host.h"
#include "progress.h"
#include "run.h"
#include "scenario.h"
#include "strvec.h"
#include "topo.h"
#include "vm.h"
#include "vm_prep.h"
#include "vm_request.h"
#include "vm_monitor.h"
#include "vm_schedlog.h"
#include "host_run.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Stands in for the initramfs path in a --dry-run command line. */
#define DRY_RUN_INITRD "<initramfs>"
/* What runs when no --exec, --shell, --scenario or --cgroup says. */
#define DEFAULT_SCENARIO "steady"

static const char usage_text[] =
"usage: ktstr-vm [options] [--exec CMD | --shell | --scenario NAME|FILE]\n"
"\n"
"Boot a kernel in QEMU with an exact CPU topology, run a command or a\n"
"scheduler scenario in the guest and print what happened as JSON lines on\n"
"stdout (see ktstr-records(7)); pipe a scenario run into ktstr-stats.\n"
"Without --exec, --shell, --scenario or --cgroup it runs the \"steady\"\n"
"scenario under the kernel's default scheduler (or --scheduler):\n"
"  ktstr-vm --topo 1,2,4,1 | ktstr-stats\n"
"\n"
"  -k, --kernel PATH        kernel image or build tree (default: discovery chain)\n"
"      --kconfig PATH       the kernel's .config for the guest's libbpf (default:\n"
"                           config or config-X beside the image, else IKCONFIG)\n"
"  -t, --topo N,L,C,T       NUMA nodes, LLCs in all (a multiple of N), cores per\n"
"                           LLC, threads per core; also 1n2l4c1t (default 1,1,2,1)\n"
"  -m, --memory MIB         guest memory (default 512 + 64 per vCPU)\n"
"      --accel MODE         auto, kvm, tcg or tcg-mt (default auto: KVM if /dev/kvm\n"
"                           works, else tcg; a KVM boot that fails is retried\n"
"                           once under tcg).  tcg runs every vCPU on one host\n"
"                           thread; tcg-mt gives each its own (for hosts with\n"
"                           many cores; it has oopsed guests while a scheduler\n"
"                           attached or detached, see ktstr-vm(1))\n"
"      --force              boot a --topo with more vCPUs than this host can run\n"
"                           in reasonable time, or --accel kvm where the probe\n"
"                           says KVM cannot run guests (refused otherwise)\n"
"      --append ARGS        extra kernel command line\n"
"  -e, --exec CMD           run CMD with /bin/sh -c in the guest\n"
"      --shell              interactive busybox shell on this terminal\n"
"                           (the guest gets --tools)\n"
"      --tools              add the host's bpftool, chrt, pgrep and pkill (the\n"
"                           ones busybox lacks, with their libraries) to the\n"
"                           guest; off by default, as each MB of image costs\n"
"                           boot time under TCG\n"
"  -s, --scenario NAME|FILE run a canned scenario or a scenario file\n"
"                           (see ktstr-scenario(5); default: steady)\n"
"      --cgroup SPEC        add a cgroup, e.g. cg_0:workers=2,work=bursty:50ms:100ms\n"
"                           (repeatable; alone it makes a quick scenario)\n"
"      --duration DURATION  scenario duration (default: the scenario's, 5s)\n"
"      --scheduler NAME|PATH  sched_ext scheduler to attach around the\n"
"                           scenario (default: the kernel's EEVDF; with --exec\n"
"                           or --shell it is only put at /usr/bin/NAME); a\n"
"                           name is looked up in\n"
"                           KTSTR_SCHEDULER_BIN_<NAME>, KTSTR_SCHEDULER, the\n"
"                           built-scheduler cache, then PATH\n"
"      --sched-arg ARG      argument for the scheduler (repeatable)\n"
"      --sched-output       echo the scheduler's output live to stderr (it is\n"
"                           always kept in a file beside the console log)\n"
"      --monitor-interval DURATION  host-side monitor of the guest kernel:\n"
"                           sample every runqueue this often (default 100ms)\n"
"      --no-monitor         do not read guest memory from the host\n"
"      --ctprof FILE        with a scenario: capture every guest thread's\n"
"                           scheduling profile at its end (see ktstr-ctprof(1);\n"
"                           zstd when FILE ends in .zst)\n"
"      --bpf-stats          with a scenario: each BPF program's run count and\n"
"                           run time over the workload (bpf_prog_stats records;\n"
"                           turns on kernel.bpf_stats_enabled; env\n"
"                           KTSTR_BPF_STATS non-empty); bpf_prog records come\n"
"                           with every scenario run under --scheduler\n"
"      --env K=V            set a variable for CMD, or a scenario's scheduler and\n"
"                           payloads, in the guest (repeatable)\n"
"  -i, --include PATH       put a file or directory under /include-files\n"
"                           (repeatable; shared libraries come along)\n"
"      --timeout DURATION   kill the VM after this long (default 10m; 0: never)\n"
"      --boot-timeout DURATION  give up when the guest agent has not started\n"
"                           this long after QEMU (default TCG 30s + 3s per\n"
"                           vCPU, KVM 15s + 0.5s per vCPU; 0: never)\n"
"      --raw                print the guest's stdout/stderr as plain text\n"
"                           instead of records\n"
"      --dmesg              verbose kernel console, echoed to stderr\n"
"      --console-log FILE   where the kernel console goes (default under\n"
"                           $XDG_STATE_HOME/ktstr/console)\n"
"      --qemu PATH          QEMU binary (default qemu-system-x86_64)\n"
"      --host               run the scenario on this machine, not in a VM\n"
"                           (root, cgroup v2; --topo then names the topology\n"
"                           this machine must have; see HOST MODE in\n"
"                           ktstr-vm(1))\n"
"      --dry-run            resolve the kernel, the scheduler and the QEMU\n"
"                           command line, print them as records and exit\n"
"                           without building the initramfs or booting\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"Exit status: the guest command's exit code; 1 if the guest panicked or\n"
"overran --timeout; 2 for bad usage or a VM that could not be set up\n"
"(a boot past --boot-timeout included); 3 when the scenario does not fit\n"
"the topology; 128+N when interrupted by signal N (141 when stdout was\n"
"closed).\n";

enum {
	OPT_ACCEL = 0x100, OPT_APPEND, OPT_SHELL, OPT_ENV, OPT_TIMEOUT, OPT_RAW,
	OPT_DMESG, OPT_CONSOLE_LOG, OPT_QEMU, OPT_CGROUP, OPT_DURATION, OPT_SCHEDULER,
	OPT_SCHED_ARG, OPT_CTPROF, OPT_DRY_RUN, OPT_MONITOR_INTERVAL, OPT_NO_MONITOR,
	OPT_BOOT_TIMEOUT, OPT_FORCE, OPT_SCHED_OUTPUT, OPT_KCONFIG, OPT_BPF_STATS, OPT_HOST,
	OPT_TOOLS,
};

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "kconfig", required_argument, NULL, OPT_KCONFIG },
	{ "topo", required_argument, NULL, 't' },
	{ "memory", required_argument, NULL, 'm' },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "exec", required_argument, NULL, 'e' },
	{ "shell", no_argument, NULL, OPT_SHELL },
	{ "tools", no_argument, NULL, OPT_TOOLS },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "include", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "dmesg", no_argument, NULL, OPT_DMESG },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "qemu", required_argument, NULL, OPT_QEMU },
	{ "scenario", required_argument, NULL, 's' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "sched-arg", required_argument, NULL, OPT_SCHED_ARG },
	{ "ctprof", required_argument, NULL, OPT_CTPROF },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "monitor-interval", required_argument, NULL, OPT_MONITOR_INTERVAL },
	{ "no-monitor", no_argument, NULL, OPT_NO_MONITOR },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "sched-output", no_argument, NULL, OPT_SCHED_OUTPUT },
	{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
	{ "host", no_argument, NULL, OPT_HOST },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *kernel, *topo, *append, *cmd, *console_log, *qemu;
	const char *scenario, *scheduler, *ctprof, *kconfig;
	unsigned long memory;
	enum vm_accel accel;
	bool shell, raw, dmesg, timeout_set, dry_run, no_monitor, monitor_interval_set;
	bool force, sched_output, boot_timeout_set, bpf_stats, host, tools;
	unsigned long long timeout_ms, duration_ms, monitor_interval_ms, boot_timeout_ms;
	struct strvec includes, cgroups, sched_args;
	json_t *env;
};

/* Options that only set a string or a flag of struct opts. */
static const struct { int opt; size_t off; } string_opts[] = {
	{ 'k', offsetof(struct opts, kernel) },
	{ OPT_KCONFIG, offsetof(struct opts, kconfig) },
	{ 't', offsetof(struct opts, topo) },
	{ OPT_APPEND, offsetof(struct opts, append) },
	{ 'e', offsetof(struct opts, cmd) },
	{ 's', offsetof(struct opts, scenario) },
	{ OPT_SCHEDULER, offsetof(struct opts, scheduler) },
	{ OPT_CTPROF, offsetof(struct opts, ctprof) },
	{ OPT_CONSOLE_LOG, offsetof(struct opts, console_log) },
	{ OPT_QEMU, offsetof(struct opts, qemu) },
}, flag_opts[] = {
	{ OPT_SHELL, offsetof(struct opts, shell) },
	{ OPT_RAW, offsetof(struct opts, raw) },
	{ OPT_DMESG, offsetof(struct opts, dmesg) },
	{ OPT_DRY_RUN, offsetof(struct opts, dry_run) },
	{ OPT_NO_MONITOR, offsetof(struct opts, no_monitor) },
	{ OPT_FORCE, offsetof(struct opts, force) },
	{ OPT_SCHED_OUTPUT, offsetof(struct opts, sched_output) },
	{ OPT_BPF_STATS, offsetof(struct opts, bpf_stats) },
	{ OPT_HOST, offsetof(struct opts, host) },
	{ OPT_TOOLS, offsetof(struct opts, tools) },
};

/* A string or flag option from the tables; false when c is neither. */
static bool set_simple(struct opts *o, int c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(string_opts); i++)
		if (string_opts[i].opt == c) {
			*(const char **)((char *)o + string_opts[i].off) = optarg;
			return true;
		}
	for (i = 0; i < ARRAY_SIZE(flag_opts); i++)
		if (flag_opts[i].opt == c) {
			*(bool *)((char *)o + flag_opts[i].off) = true;
			return true;
		}
	return false;
}

static void add_env(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *k;

	if (!eq || eq == arg)
		usage_error("--env '%s': expected NAME=VALUE", arg);
	/* The guest's sh drops a name it cannot export, without a word. */
	k = xstrndup(arg, (size_t)(eq - arg));
	if (!env_name_valid(k)) {
		/* One line, whatever the name holds. */
		for (char *p = k; *p; p++)
			if (iscntrl((unsigned char)*p))
				*p = '?';
		usage_error("--env: '%s' is not a variable name; use letters, digits and _, "
			    "not starting with a digit", k);
	}
	/* The agent sets it from the command line ktstr-vm boots with; a
	 * value from --env would tell the command a layout the VM lacks. */
	if (!strcmp(k, KTSTR_TOPO_ENV))
		usage_error("--env " KTSTR_TOPO_ENV ": the guest sets it to the VM's topology; "
			    "choose the topology with --topo N,L,C,T");
	json_object_set_new(o->env, k, json_string(eq + 1));
	free(k);
}

/* --timeout and --boot-timeout: a duration, 0 for none. */
static void set_timeout(const char *opt, const char *arg, unsigned long long *ms, bool *set)
{
	if (parse_duration_ms(arg, ms))
		usage_error("%s '%s': expected a duration such as 90s, %s or 0 for none", opt,
			    arg, !strcmp(opt, "--timeout") ? "10m" : "5m");
	*set = true;
}

/* The options that take a value to check or to collect. */
static void set_valued(struct opts *o, int c)
{
	switch (c) {
	case 'm':
		if (parse_ulong(optarg, 128, 1u << 20, &o->memory))
			usage_error("--memory '%s': expected MiB between 128 and "
				    "1048576, e.g. --memory 2048", optarg);
		break;
	case OPT_ACCEL:
		if (vm_accel_parse(optarg, &o->accel))
			usage_error("--accel '%s': expected " VM_ACCEL_CHOICES, optarg);
		break;
	case OPT_ENV: add_env(o, optarg); break;
	case 'i': strvec_push(&o->includes, optarg); break;
	case OPT_CGROUP: strvec_push(&o->cgroups, optarg); break;
	case OPT_SCHED_ARG: strvec_push(&o->sched_args, optarg); break;
	case OPT_TIMEOUT: set_timeout("--timeout", optarg, &o->timeout_ms, &o->timeout_set); break;
	case OPT_BOOT_TIMEOUT:
		set_timeout("--boot-timeout", optarg, &o->boot_timeout_ms, &o->boot_timeout_set);
		break;
	case OPT_DURATION:
		o->duration_ms = scenario_duration_arg(optarg);
		break;
	case OPT_MONITOR_INTERVAL:
		o->monitor_interval_set = true;
		if (parse_duration_ms(optarg, &o->monitor_interval_ms) ||
		    o->monitor_interval_ms < 10 || o->monitor_interval_ms > 10000)
			usage_error("--monitor-interval '%s': expected a duration "
				    "from 10ms to 10s, e.g. 100ms", optarg);
		break;
	case OPT_HELP: print_help_and_exit(usage_text);
	case OPT_VERSION: print_version_and_exit();
	default: usage_error("unknown option");
	}
}

/* KTSTR_BOOT_TIMEOUT, KTSTR_BPF_STATS and the accelerator probe's test
 * hook. */
static void apply_env(struct opts *o)
{
	const char *bt = env_get("KTSTR_BOOT_TIMEOUT");
	const char *forced = env_get(VM_ACCEL_DETECT_ENV);
	enum vm_accel a;

	if (!o->boot_timeout_set && bt) {
		if (parse_duration_ms(bt, &o->boot_timeout_ms))
			usage_error("KTSTR_BOOT_TIMEOUT='%s': expected a duration such as 90s, "
				    "5m or 0 for none; fix or unset it", bt);
		o->boot_timeout_set = true;
	}
	/* A switch: any value turns it on for a scenario run; an --exec or
	 * a --shell has nothing to measure and ignores it. */
	if (env_get("KTSTR_BPF_STATS") && (o->scenario || o->cgroups.n))
		o->bpf_stats = true;
	/* What the probe can answer: KVM or (single-threaded) TCG; or the
	 * device it probes instead of /dev/kvm. */
	if (forced && forced[0] != '/' &&
	    (vm_accel_parse(forced, &a) || a == VM_ACCEL_AUTO || a == VM_ACCEL_TCG_MT))
		usage_error("%s='%s': expected kvm, tcg or the absolute path of a device to "
			    "probe in /dev/kvm's place; fix or unset it", VM_ACCEL_DETECT_ENV, forced);
}

/* The first option given that shapes or watches a VM and so means nothing
 * with --host; NULL when there is none.  Each would otherwise be accepted
 * and silently ignored (--raw even dropped every record). */
static const char *host_vm_only_option(const struct opts *o)
{
	const struct { bool given; const char *name; } vm_only[] = {
		{ o->kernel, "--kernel" }, { o->kconfig, "--kconfig" },
		{ o->append, "--append" }, { o->qemu, "--qemu" },
		{ o->accel != VM_ACCEL_AUTO, "--accel" }, { o->includes.n, "--include" },
		{ o->console_log, "--console-log" }, { o->dry_run, "--dry-run" },
		{ o->memory, "--memory" }, { o->force, "--force" },
		{ o->timeout_set, "--timeout" }, { o->boot_timeout_set, "--boot-timeout" },
		{ o->raw, "--raw" }, { o->dmesg, "--dmesg" },
		{ json_object_size(o->env), "--env" }, { o->tools, "--tools" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vm_only); i++)
		if (vm_only[i].given)
			return vm_only[i].name;
	return NULL;
}

/* --host has no VM: the options that shape one do not apply.  Called
 * before the environment is applied, so that KTSTR_BOOT_TIMEOUT or
 * KTSTR_VERBOSE left set for VM runs do not refuse a host run. */
static void check_host_combinations(const struct opts *o)
{
	const char *vm_only = host_vm_only_option(o);

	if (o->cmd || o->shell)
		usage_error("--host runs a scenario on this machine, not --exec or --shell; "
			    "drop one");
	if (o->no_monitor || o->monitor_interval_set)
		usage_error("--host: %s is for a VM's monitor; host mode samples every "
			    "KTSTR_STALL_POLL_MS (default 500) instead; drop it",
			    o->no_monitor ? "--no-monitor" : "--monitor-interval");
	if (vm_only)
		usage_error("--host runs on this machine and its running kernel: %s is for a "
			    "VM; drop it", vm_only);
}

/* Options that need, or exclude, one another. */
static void check_combinations(struct opts *o)
{
	bool scenario = o->scenario || o->cgroups.n;

	if (o->duration_ms && !scenario)
		usage_error("--duration needs --scenario or --cgroup");
	if (o->sched_args.n && !o->scheduler)
		usage_error("--sched-arg needs --scheduler");
	if (o->sched_output && !o->scheduler)
		usage_error("--sched-output needs --scheduler");
	if (o->no_monitor && o->monitor_interval_set)
		usage_error("--no-monitor and --monitor-interval contradict each other; "
			    "pick one");
	if (o->no_monitor)
		o->monitor_interval_ms = 0;
	if (o->ctprof && !scenario)
		usage_error("--ctprof needs --scenario or --cgroup");
	if (o->bpf_stats && !scenario)
		usage_error("--bpf-stats needs a scenario, not --exec or --shell; drop one");
	/* --exec's command gets them, and a scenario's scheduler and
	 * payloads; --shell would run without them, without a word. */
	if (json_object_size(o->env) && o->shell)
		usage_error("--env sets variables for --exec's command or a scenario's "
			    "scheduler and payloads; --shell runs without them: drop --env");
	if (o->shell && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		usage_error("--shell needs a terminal on stdin and stdout");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	o->timeout_ms = 600000;
	o->monitor_interval_ms = VM_MONITOR_DEFAULT_INTERVAL_MS;
	o->accel = VM_ACCEL_AUTO;
	while ((c = opts_getopt(argc, argv, "k:t:m:e:i:s:h", longopts, NULL)) != -1)
		if (!set_simple(o, c))
			set_valued(o, c);
	if (optind < argc)
		usage_error("unexpected argument '%s'; quote the guest command: "
			    "--exec '%s ...'", argv[optind], argv[optind]);
	if (!!o->shell + !!o->cmd + !!(o->scenario || o->cgroups.n) > 1)
		usage_error("--exec, --shell and --scenario/--cgroup are exclusive; pick one");
	/* Nothing to run named: the baseline scenario, so that the records
	 * make a verdict when piped into ktstr-stats. */
	if (!o->shell && !o->cmd && !o->scenario && !o->cgroups.n)
		o->scenario = DEFAULT_SCENARIO;
	if (o->host)
		check_host_combinations(o);
	apply_env(o);
	check_combinations(o);
}

/* Fail before booting when an output file could not be written later. */
static void check_output_dir(const char *opt, const char *path)
{
	char *dir = path_dirname(path);

	if (access(dir, W_OK) < 0)
		die(KTSTR_EXIT_USAGE, "%s %s: cannot write into %s: %s; choose a writable "
		    "path", opt, path, dir, strerror(errno));
	free(dir);
}

/* Where the console log goes (--console-log, else under the XDG state
 * directory), checked before anything slow, and by --dry-run, which
 * writes nothing. */
static void check_console_log(const char *given)
{
	struct strbuf err = STRBUF_INIT;
	char *dir = given ? NULL : ktstr_state_dir("console");
	char *path = given ? xstrdup(given) : dir ? path_join(dir, "vm.log") : NULL;

	if (path && path_creatable(path, &err) < 0) {
		/* Not needed for the message: freed before the exit, where
		 * LeakSanitizer would count it lost. */
		free(path);
		if (given)
			die(KTSTR_EXIT_USAGE, "--console-log %s: %s; choose a writable path",
			    given, err.buf);
		die(KTSTR_EXIT_USAGE, "the console log under %s: %s; set XDG_STATE_HOME to a "
		    "writable directory or pass --console-log", dir, err.buf);
	}
	free(path);
	free(dir);
	strbuf_release(&err);
}

struct emit_ctx {
	bool raw, shell;
	bool tools;		/* the guest has the host tools (--tools) */
	char *missing_tool;	/* one the command wanted without --tools */
	const char *ctprof;	/* where a guest ctprof snapshot goes */
	bool stdout_gone;	/* the records cannot be written any more */
	int stdout_errno;	/* why (EPIPE: nobody reads them) */
	/* Scenario progress on a terminal (lib/host/progress.h). */
	char *scenario;		/* from scenario_start, while it runs */
	long long sc_start_ms;	/* its host_ms */
	long long sc_duration_ms, sc_steps, sc_step;
};

/* "scenario steady: step 2 of 3, 4s left" from the host's clock. */
static void show_scenario_progress(struct emit_ctx *e, long long t_ms)
{
	long long left;

	if (!e->scenario)
		return;
	left = e->sc_start_ms + e->sc_duration_ms - t_ms;
	if (left < 0)
		left = 0;
	if (e->sc_steps > 0 && e->sc_step > 0)
		progress("scenario %s: step %lld of %lld, %llds left", e->scenario,
			 e->sc_step, e->sc_steps, (left + 999) / 1000);
	else
		progress("scenario %s: %llds left", e->scenario, (left + 999) / 1000);
}

static void tick(void *data, long long t_ms)
{
	show_scenario_progress(data, t_ms);
}

static void track_scenario(struct emit_ctx *e, const char *type, json_t *rec)
{
	if (!strcmp(type, "scenario_start")) {
		free(e->scenario);
		e->scenario = xstrdup(json_get_str(rec, "name") ? json_get_str(rec, "name") : "?");
		e->sc_start_ms = json_get_int(rec, "host_ms", 0);
		e->sc_duration_ms = json_get_int(rec, "duration_ms", 0);
		e->sc_steps = json_get_int(rec, "steps", 0);
		e->sc_step = 0;
		show_scenario_progress(e, e->sc_start_ms);
	} else if (!strcmp(type, "step") && e->scenario) {
		e->sc_step = json_get_int(rec, "index", e->sc_step);
		show_scenario_progress(e, json_get_int(rec, "host_ms", e->sc_start_ms));
	} else if (!strcmp(type, "scenario_end")) {
		free(e->scenario);
		e->scenario = NULL;
		progress_clear();
	}
}

/* Swap the guest's (large) ctprof record for a note of where it went. */
static json_t *save_ctprof(json_t *rec, const char *path)
{
	json_t *snap = json_object_get(rec, "snapshot");
	struct strbuf err = STRBUF_INIT;
	json_t *out;

	if (!path) {
		out = jsonl_record("ctprof_error");
		json_set_str(out, "message", "snapshot received but no --ctprof path");
	} else if (ctprof_save(snap, path, &err) < 0) {
		diag("--ctprof %s: %s", path, err.buf);
		out = jsonl_record("ctprof_error");
		json_set_str(out, "message", err.buf);
	} else {
		out = jsonl_record("ctprof_saved");
		json_set_str(out, "path", path);
		json_set_int(out, "threads",
			     (long long)json_array_size(json_object_get(snap, "threads")));
		json_set_int(out, "at_ms", json_get_int(rec, "at_ms", -1));
		/* What the capture cost the guest, outside the workload window. */
		if (json_object_get(rec, "capture_ms"))
			json_object_set(out, "capture_ms", json_object_get(rec, "capture_ms"));
		if (json_object_get(rec, "capture_cpu_ms"))
			json_object_set(out, "capture_cpu_ms",
					json_object_get(rec, "capture_cpu_ms"));
	}
	json_decref(rec);
	strbuf_release(&err);
	return out;
}

/* stdout cannot be written.  The reader went away (^C on a pipeline,
 * `| head`): not worth a line.  Either way stop writing and let vm_run
 * tear the VM down. */
static void output_failed(struct emit_ctx *e)
{
	e->stdout_errno = errno;
	e->stdout_gone = true;
	vm_output_gone(e->stdout_errno);
	host_run_output_gone();
}

/* The exit status, and the line that says why, once stdout failed: a
 * reader that went away needs neither (128+SIGPIPE as set); records lost
 * another way (a full disk) are a setup error, whatever the guest did. */
static int output_failure_code(const struct emit_ctx *e, int code)
{
	if (!e->stdout_gone || e->stdout_errno == EPIPE)
		return code;
	diag("cannot write records to stdout: %s; the VM was stopped",
	     strerror(e->stdout_errno));
	return KTSTR_EXIT_USAGE;
}

/* "sh: pkill: not found" from the guest's shell: the name, when it is one
 * of the tools --tools packs (caller frees), else NULL. */
static char *tool_not_found(const char *line)
{
	size_t i, n;

	if (!line || strncmp(line, "sh: ", 4))
		return NULL;
	line += 4;
	for (i = 0; initramfs_host_tools[i]; i++) {
		const char *name = path_basename(initramfs_host_tools[i]);

		n = strlen(name);
		if (!strncmp(line, name, n) && !strcmp(line + n, ": not found"))
			return xstrdup(name);
	}
	return NULL;
}

static void emit(json_t *rec, void *data)
{
	struct emit_ctx *e = data;
	const char *type = json_get_str(rec, "type");

	if (!e->tools && !e->missing_tool && !strcmp(type, "output") &&
	    !strcmp(json_get_str(rec, "stream") ?: "", "stderr"))
		e->missing_tool = tool_not_found(json_get_str(rec, "line"));

	if (!strcmp(type, "vm_start")) {
		progress("booting %s (%s, %lld vCPUs)", json_get_str(rec, "topology"),
			 json_get_str(rec, "accel"), json_get_int(rec, "vcpus", 0));
	} else if (!strcmp(type, "agent_ready")) {
		progress_clear();
	} else if (!strcmp(type, "vm_exit")) {
		progress_clear();
		free(e->scenario);
		e->scenario = NULL;
	}
	track_scenario(e, type, rec);
	if (!strcmp(type, "ctprof")) {
		rec = save_ctprof(rec, e->ctprof);
		type = json_get_str(rec, "type");
	}
	if (e->shell) {
		json_decref(rec);
		return;
	}
	if (e->raw) {
		if (!strcmp(type, "output")) {
			const char *stream = json_get_str(rec, "stream");
			const char *line = json_get_str(rec, "line");
			FILE *f = stream && !strcmp(stream, "stderr") ? stderr : stdout;

			progress_clear();
			if (f == stdout && e->stdout_gone)
				;
			else if ((fprintf(f, "%s\n", line ? line : "") < 0 || fflush(f) == EOF) &&
				 f == stdout)
				output_failed(e);
		}
		json_decref(rec);
		return;
	}
	if (e->stdout_gone) {
		json_decref(rec);
		return;
	}
	/* Records and the progress line share a terminal: no half lines. */
	if (isatty(STDOUT_FILENO))
		progress_clear();
	if (jsonl_emit(stdout, rec) < 0)
		output_failed(e);
}

static int exit_code_for(const struct vm_result *r)
{
	switch (r->end) {
	case VM_END_EXITED: return r->exit_code;
	/* Before its agent started the VM was never set up: as a boot past
	 * its deadline, a setup error (ktstr-test calls it an ERROR). */
	case VM_END_NO_AGENT: return r->boot_ms < 0 ? KTSTR_EXIT_USAGE : KTSTR_EXIT_FAIL;
	case VM_END_TIMEOUT:
	case VM_END_PANIC: return KTSTR_EXIT_FAIL;
	case VM_END_INTERRUPTED: return KTSTR_EXIT_SIGNAL + r->signal;
	case VM_END_BOOT_TIMEOUT: return KTSTR_EXIT_USAGE;
	default: return KTSTR_EXIT_USAGE;
	}
}

/* --accel kvm where the probe already knows KVM cannot run a guest (no
 * /dev/kvm, or a CPU without vmx or svm, whose KVM halts or spins the
 * guest): refused at once instead of after the boot deadline, which
 * would blame the kernel for being slow. */
static void check_kvm(const struct opts *o)
{
	char why[VM_ACCEL_REASON_MAX];

	if (o->accel != VM_ACCEL_KVM || o->force ||
	    vm_accel_resolve_why(VM_ACCEL_AUTO, why, sizeof(why)) == VM_ACCEL_KVM)
		return;
	usage_error("--accel kvm: %s, so KVM cannot run the guest; use --accel tcg (or auto, "
		    "which falls back to it), or add --force to try KVM anyway", why);
}

/* The vCPU rule ktstr-test applies to its presets (budget.h): beyond it a
 * boot alone can take longer than the watchdog, so say so before booting. */
static void check_vcpus(const struct opts *o, const struct ktstr_topo *topo)
{
	struct strbuf err = STRBUF_INIT, shortt = STRBUF_INIT;
	bool kvm = vm_accel_resolve(o->accel) == VM_ACCEL_KVM;

	if (o->force || !budget_vcpu_check(topo, kvm, hostlock_usable_cpus(), &err)) {
		strbuf_release(&err);
		return;
	}
	topo_format_short(topo, &shortt);
	usage_error("--topo %s: %s; ask for fewer CPUs, or add --force to boot it anyway",
		    o->topo ? o->topo : shortt.buf, err.buf);
}

/* Load, complete and validate the scenario; NULL when none was asked for.
 * Exits 2 on a bad scenario or a payload program that is not there, and 3
 * (after a scenario_skip record) when it does not fit the topology.  pl
 * gets the payloads and the includes (the -i paths and their programs). */
static json_t *prepare_scenario(const struct opts *o, const struct ktstr_topo *topo,
				 unsigned long long *duration_ms, struct checks *checks,
				 struct payload_host_plan *pl)
{
	static const struct scenario none;

	struct strbuf err = STRBUF_INIT, shortt = STRBUF_INIT;
	struct scenario s;
	json_t *doc, *rec;
	int fit;

	if (!o->scenario && !o->cgroups.n) {
		payload_host_plan(&none, &o->includes, pl, &err);
		return NULL;
	}
	fit = vm_scenario_prepare(o->scenario, &o->cgroups, o->duration_ms, topo, &doc, &s, &err);
	if (fit < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	if (fit > 0) {
		rec = jsonl_record("scenario_skip");
		topo_format_short(topo, &shortt);
		json_set_str(rec, "name", s.name);
		json_set_str(rec, "topology", shortt.buf);
		/* As vm_start names it (null: the kernel's default), so that a
		 * skip alone still says which scheduler it was for. */
		json_set_str(rec, "scheduler", o->scheduler ? path_basename(o->scheduler) : NULL);
		json_set_str(rec, "reason", err.buf);
		jsonl_emit(stdout, rec);
		diag("skipping scenario '%s' on %s: %s", s.name, shortt.buf, err.buf);
		exit(KTSTR_EXIT_SKIP);
	}
	/* Before boot: a missing benchmark is one line naming its package. */
	if (payload_host_plan(&s, &o->includes, pl, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	*duration_ms = s.duration_ms;
	/* The guest reports the thresholds the host resolved: the check
	 * table's defaults are the host's alone. */
	checks_effective(&s.checks, checks);
	scenario_release(&s);
	strbuf_release(&err);
	return doc;
}

/* --dry-run: what a real run would boot, without building or booting
 * anything.  The initramfs does not exist yet and QEMU's channels are not
 * open, so the qemu_argv record carries placeholders for them. */
static int dry_run(struct vm_config *vc, const struct kernel_found *kf,
		   const char *sched_spec, const char *sched_host, const char *sched_guest,
		   const struct payload_host_plan *pl, bool tools)
{
	struct qemu_spec s;
	struct strvec argv = STRVEC_INIT;
	struct strbuf cmdline = STRBUF_INIT, err = STRBUF_INIT;
	char *qemu_path = find_program(vc->qemu);
	struct initramfs_result ir;
	json_t *rec, *arr;
	size_t i;

	/* Every error a real run would meet before booting, before any
	 * record: the includes, files and tools as the image build checks
	 * them (writing nothing), and QEMU. */
	if (vm_initramfs_prepare(&pl->includes, kf->config, sched_host, sched_guest, tools, true,
				 &ir, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	initramfs_result_release(&ir);
	strbuf_release(&err);
	if (!qemu_path)
		die(KTSTR_EXIT_USAGE, "%s", vm_qemu_missing(vc->qemu));

	rec = jsonl_record("kernel_resolved");
	json_set_str(rec, "image", kf->image);
	if (kf->key)
		json_set_str(rec, "key", kf->key);
	else
		json_object_set_new(rec, "key", json_null());
	json_set_str(rec, "source", kf->source);
	json_object_set_new(rec, "config", kf->config ? json_string(kf->config) : json_null());
	jsonl_emit(stdout, rec);
	if (sched_host) {
		rec = jsonl_record("scheduler_resolved");
		json_set_str(rec, "name", sched_spec);
		json_set_str(rec, "path", sched_host);
		json_set_str(rec, "guest_path", sched_guest);
		jsonl_emit(stdout, rec);
	}
	for (i = 0; i < pl->n; i++)
		jsonl_emit(stdout, payload_host_record(&pl->v[i]));
	if (pl->includes.n)
		jsonl_emit(stdout, payload_host_includes_record(pl));
	/* Whether the image gets the host tools, and which of them this host
	 * lacks (by the build's own test; the build does not miss one that
	 * busybox has an applet for, which a dry run does not ask busybox). */
	rec = jsonl_record("initramfs_resolved");
	json_object_set_new(rec, "tools", json_boolean(tools));
	arr = json_array();
	for (i = 0; tools && initramfs_host_tools[i]; i++) {
		struct stat st;

		if (!initramfs_tool_usable(initramfs_host_tools[i], &st))
			json_array_append_new(arr, json_string(initramfs_host_tools[i]));
	}
	json_object_set_new(rec, "missing_tools", arr);
	jsonl_emit(stdout, rec);
	vc->initrd = DRY_RUN_INITRD;
	vm_qemu_spec(vc, qemu_path, -1, -1, &s, &cmdline);
	if (vc->monitor_interval_ms && vc->mode != VM_MODE_SHELL)
		s.qmp = true;
	qemu_build_argv(&s, &argv);
	rec = jsonl_record("qemu_argv");
	arr = json_array();
	for (i = 0; i < argv.n; i++)
		json_array_append_new(arr, json_string(argv.v[i]));
	json_object_set_new(rec, "argv", arr);
	/* As vm_start's: the -bios image, null for QEMU's default; the
	 * accelerator and why. */
	json_set_str(rec, "firmware", s.firmware);
	json_set_str(rec, "accel", vm_accel_name(s.accel));
	json_set_str(rec, "accel_reason", s.accel_reason);
	if (jsonl_emit(stdout, rec) < 0 || fflush(stdout) == EOF) {
		/* A reader that went away: 128+SIGPIPE and no message, as a
		 * real run ends (ktstr-vm(1) EXIT STATUS). */
		if (errno == EPIPE)
			exit(128 + SIGPIPE);
		die_errno(KTSTR_EXIT_USAGE, "writing records to stdout");
	}
	strvec_clear(&argv);
	strbuf_release(&cmdline);
	free(s.pvh_kernel);
	free(qemu_path);
	return 0;
}

/* Everything a run resolves before it boots, and releases after. */
struct vm_plan {
	struct opts o;
	struct ktstr_topo topo;
	struct kernel_found kf;
	char *sched_host, *sched_guest;	/* the scheduler, or NULL */
	json_t *doc;			/* the scenario, or NULL */
	unsigned long long duration_ms;	/* its duration */
	struct checks checks;		/* its effective thresholds */
	struct payload_host_plan payloads;	/* and the includes */
	struct vm_config vc;
};

/* The kernel image to boot and its config (--kconfig wins). */
static void resolve_kernel(struct vm_plan *p)
{
	struct strbuf err = STRBUF_INIT;

	if (kernel_find(p->o.kernel, &p->kf, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	strbuf_reset(&err);
	if (kernel_image_check(p->kf.image, &err))
		die(KTSTR_EXIT_USAGE, "%s (found via %s)", err.buf, p->kf.source);
	if (p->o.kconfig) {
		if (kernel_config_check(p->o.kconfig, &err))
			usage_error("--kconfig: %s", err.buf);
		free(p->kf.config);
		p->kf.config = xstrdup(p->o.kconfig);
	}
	if (p->o.scheduler) {
		p->sched_host = scheduler_resolve(p->o.scheduler, p->kf.key, &err);
		if (!p->sched_host)
			die(KTSTR_EXIT_USAGE, "%s", err.buf);
		p->sched_guest = xasprintf("/usr/bin/%s", path_basename(p->sched_host));
		/* Only a scenario attaches it: say so rather than let a
		 * command run under EEVDF while the user thinks otherwise. */
		if ((p->o.cmd || p->o.shell) && !p->o.dry_run)
			diag("--scheduler with %s: %s is put at %s in the guest, not attached; "
			     "start it in the command, or run a scenario to have it attached",
			     p->o.shell ? "--shell" : "--exec", p->o.scheduler, p->sched_guest);
	}
	strbuf_release(&err);
}

/* What both a dry run and a boot describe to QEMU. */
static void base_config(struct vm_plan *p)
{
	const struct opts *o = &p->o;
	struct vm_config *vc = &p->vc;
	char msg[512];

	/* Before anything is printed or built (vm_run checks it again). */
	if (qemu_firmware_check(msg, sizeof(msg)) < 0 || host_tsc_env_check(msg, sizeof(msg)) < 0)
		die(KTSTR_EXIT_USAGE, "%s", msg);
	if (host_tsc_env_warning(msg, sizeof(msg)))
		diag("%s", msg);
	vc->qemu = o->qemu ? o->qemu : env_get("KTSTR_QEMU") ? env_get("KTSTR_QEMU")
							     : "qemu-system-x86_64";
	vc->kernel = p->kf.image;
	vc->kernel_source = p->kf.source;
	vc->topo = p->topo;
	vc->memory_mib = (unsigned)o->memory;
	vc->accel = o->accel;
	vc->append = o->append;
	vc->verbose = o->dmesg || env_is_one("KTSTR_VERBOSE");
	vc->mode = o->shell ? VM_MODE_SHELL : VM_MODE_EXEC;
	vc->monitor_interval_ms = (unsigned)o->monitor_interval_ms;
}

/* Auto did not get KVM: say why to a person at a terminal, or one who
 * asked for detail (--dmesg, KTSTR_VERBOSE=1).  The records always say it
 * (accel_reason). */
static void note_accel(const struct vm_plan *p)
{
	char why[VM_ACCEL_REASON_MAX];

	if (p->o.accel != VM_ACCEL_AUTO || (!isatty(STDERR_FILENO) && !p->vc.verbose))
		return;
	if (vm_accel_resolve_why(VM_ACCEL_AUTO, why, sizeof(why)) == VM_ACCEL_TCG)
		diag("running under TCG, which is slower, since KVM is not usable: %s", why);
}

/* What to run in the guest, and for how long at most. */
static void run_config(struct vm_plan *p)
{
	const struct opts *o = &p->o;
	struct vm_config *vc = &p->vc;

	if (o->shell)
		vc->request = vm_request_shell();
	else if (p->doc) {
		vc->request = vm_request_scenario(p->doc, &p->checks, p->sched_guest, &o->sched_args,
						  &p->topo);
		if (json_object_size(o->env))
			json_object_set(vc->request, "env", o->env);
	}
	else
		vc->request = vm_request_exec(o->cmd, o->env);
	vc->timeout_ms = o->shell ? 0 : o->timeout_ms;
	/* A long scenario must not trip the default watchdog. */
	if (p->doc && !o->timeout_set && p->duration_ms * 2 + 300000 > vc->timeout_ms)
		vc->timeout_ms = p->duration_ms * 2 + 300000;
	vc->boot_timeout_ms = o->boot_timeout_set ? (long long)o->boot_timeout_ms : -1;
	vc->sched_output_echo = o->sched_output;
	vc->tick = tick;
	if (o->ctprof)
		json_set_bool(vc->request, "ctprof", true);
	if (o->bpf_stats && p->doc)
		json_set_bool(vc->request, "bpf_stats", true);
}

/* Build the initramfs, boot, stream the records; the exit code. */
static int boot(struct vm_plan *p)
{
	struct initramfs_result ir = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct emit_ctx ectx = { .ctprof = p->o.ctprof, .raw = p->o.raw, .shell = p->o.shell,
				 .tools = p->o.tools || p->o.shell };
	struct vm_result r;
	char *log, *sched_log;
	int code;

	/* A Ctrl-C while the initramfs is written would leave its temp file
	 * in the cache.  Hold the stopping signals from here on: vm_run's
	 * signalfd reads one that came meanwhile and tears the VM down as for
	 * any interrupt (exit 128+N). */
	vm_hold_stop_signals();
	/* A person at a --shell reaches for the tools; a measured run
	 * does not pay their boot time unless asked (issue 16). */
	if (vm_initramfs_prepare(&p->payloads.includes, p->kf.config, p->sched_host, p->sched_guest,
				 p->o.tools || p->o.shell, false, &ir, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	log = p->o.console_log ? xstrdup(p->o.console_log) : vm_console_log_default();
	sched_log = vm_schedlog_path_for(log);
	p->vc.initrd = ir.path;
	p->vc.console_log = log;
	p->vc.console_log_given = p->o.console_log != NULL;
	p->vc.sched_output_log = sched_log;
	run_config(p);
	if (vm_run(&p->vc, emit, &ectx, &r) < 0)
		die(KTSTR_EXIT_USAGE, "%s", r.message);
	/* A reader that went away needs no line; every other end does. */
	if (r.end != VM_END_EXITED && !(r.end == VM_END_INTERRUPTED && r.signal == SIGPIPE) &&
	    !(ectx.stdout_gone && ectx.stdout_errno != EPIPE))
		diag("%s", r.message);
	code = output_failure_code(&ectx, exit_code_for(&r));
	if (ectx.missing_tool)
		diag("the guest has no %s: it is packed only with --tools (or --shell)",
		     ectx.missing_tool);
	free(ectx.missing_tool);
	free(ectx.scenario);
	free(sched_log);
	free(log);
	initramfs_result_release(&ir);
	strbuf_release(&err);
	return code;
}

/* --host: the scenario on this machine, fitted to its topology (the
 * agent refuses to run when --topo names another one). */
static int host_mode(struct vm_plan *p)
{
	struct strbuf err = STRBUF_INIT;
	struct emit_ctx ectx = { .ctprof = p->o.ctprof, .raw = p->o.raw, .tools = true };
	struct host_run_config hc = { .sched_output_echo = p->o.sched_output };
	char *agent = ktstr_libexec_path("ktstr-agent");
	char *log, *sched_log;
	int code;

	if (p->o.topo) {
		if (topo_parse(p->o.topo, &p->topo, &err))
			usage_error("--topo '%s': %s", p->o.topo, err.buf);
		hc.expect_topo = p->o.topo;
	} else if (host_topology(agent, &p->topo, &err) < 0) {
		die(KTSTR_EXIT_USAGE, "this machine's topology: %s; name it with --topo if "
		    "the scenario needs none of its structure", err.buf);
	}
	p->doc = prepare_scenario(&p->o, &p->topo, &p->duration_ms, &p->checks, &p->payloads);
	if (p->o.scheduler) {
		p->sched_host = scheduler_resolve(p->o.scheduler, NULL, &err);
		if (!p->sched_host)
			die(KTSTR_EXIT_USAGE, "%s", err.buf);
	}
	hc.request = vm_request_scenario(p->doc, &p->checks, p->sched_host, &p->o.sched_args,
					 &p->topo);
	if (p->o.ctprof)
		json_set_bool(hc.request, "ctprof", true);
	if (p->o.bpf_stats)
		json_set_bool(hc.request, "bpf_stats", true);
	hc.agent = agent;
	log = vm_console_log_default();
	sched_log = vm_schedlog_path_for(log);
	hc.sched_output_log = sched_log;
	code = output_failure_code(&ectx, host_run(&hc, emit, &ectx));
	p->vc.request = hc.request;
	free(ectx.scenario);
	free(sched_log);
	free(log);
	free(agent);
	strbuf_release(&err);
	return code;
}

int main(int argc, char **argv)
{
	struct vm_plan p = { .o = { .includes = STRVEC_INIT, .cgroups = STRVEC_INIT,
				    .sched_args = STRVEC_INIT } };
	struct strbuf err = STRBUF_INIT;
	int code;

	diag_init(argv[0]);
	/* A closed stdout is an EPIPE to handle (emit), not a death that
	 * would skip tearing the VM down. */
	signal(SIGPIPE, SIG_IGN);
	p.o.env = json_object();
	parse_args(argc, argv, &p.o);
	if (p.o.ctprof)
		check_output_dir("--ctprof", p.o.ctprof);
	if (p.o.host) {
		code = host_mode(&p);
		goto out;
	}
	if (topo_parse(p.o.topo ? p.o.topo : "1,1,2,1", &p.topo, &err))
		usage_error("--topo '%s': %s", p.o.topo, err.buf);
	check_vcpus(&p.o, &p.topo);
	check_kvm(&p.o);
	check_console_log(p.o.console_log);
	p.doc = prepare_scenario(&p.o, &p.topo, &p.duration_ms, &p.checks, &p.payloads);
	resolve_kernel(&p);
	base_config(&p);
	note_accel(&p);
	if (p.o.dry_run)
		code = dry_run(&p.vc, &p.kf, p.o.scheduler, p.sched_host, p.sched_guest,
			       &p.payloads, p.o.tools || p.o.shell);
	else
		code = boot(&p);
out:
	free(p.sched_host);
	free(p.sched_guest);
	json_decref(p.vc.request);
	json_decref(p.doc);
	kernel_found_release(&p.kf);
	payload_host_plan_release(&p.payloads);
	strvec_clear(&p.o.includes);
	strvec_clear(&p.o.cgroups);
	strvec_clear(&p.o.sched_args);
	json_decref(p.o.env);
	strbuf_release(&err);
	return code;
}
