/* ktstr-export: write a self-contained reproducer NAME.run of a scenario
 * under a scheduler, to run on a machine without ktstr (lib/export). */
#include "diag.h"
#include "dirs.h"
#include "elfdeps.h"
#include "export.h"
#include "fsutil.h"
#include "kernel.h"
#include "opts.h"
#include "payload_host.h"
#include "scenario.h"
#include "strvec.h"
#include "topo.h"
#include "vm_prep.h"
#include "vm_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* What a VM run defaults to, so that an export of the same options runs
 * the same thing. */
#define DEFAULT_SCENARIO "steady"
#define DEFAULT_TOPO "1,1,2,1"

static const char usage_text[] =
"usage: ktstr-export [options] [-o FILE]\n"
"\n"
"Write one executable file that reruns a scenario under a scheduler on\n"
"another machine that has no ktstr: a sh preamble plus an archive with\n"
"the static agent, the scheduler and its libraries, the scenario and the\n"
"includes.  On that machine, as root: ./FILE [--duration DUR] [--json].\n"
"It refuses (exit 2) a machine whose CPU topology is not --topo, or that\n"
"lacks cgroup v2 or sched_ext, or has another scheduler attached.\n"
"  ktstr-export --scenario steady --scheduler scx_simple -o steady.run\n"
"\n"
"  -s, --scenario NAME|FILE canned scenario or scenario file (default steady)\n"
"      --cgroup SPEC        add a cgroup, e.g. cg_0:workers=2 (repeatable)\n"
"      --duration DURATION  the scenario's duration (the run file's\n"
"                           --duration overrides it there)\n"
"      --scheduler NAME|PATH  sched_ext scheduler (default: the kernel's\n"
"                           EEVDF), found as ktstr-vm finds it\n"
"      --sched-arg ARG      argument for the scheduler (repeatable)\n"
"  -t, --topo N,L,C,T       the topology the target must have (default 1,1,2,1)\n"
"  -i, --include PATH       a file or directory for the scenario's payloads\n"
"                           (repeatable; shared libraries come along)\n"
"  -k, --kernel ID          the kernel whose built schedulers a --scheduler\n"
"                           name is looked up among (default: discovery chain)\n"
"  -o, --output FILE        where to write (default ./SCENARIO.run)\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"Exit status: 0 written; 2 bad usage, a missing input or an unwritable FILE.\n";

enum { OPT_CGROUP = 0x100, OPT_DURATION, OPT_SCHEDULER, OPT_SCHED_ARG };

static const struct option longopts[] = {
	{ "scenario", required_argument, NULL, 's' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "sched-arg", required_argument, NULL, OPT_SCHED_ARG },
	{ "topo", required_argument, NULL, 't' },
	{ "include", required_argument, NULL, 'i' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *scenario, *scheduler, *topo, *kernel, *output;
	unsigned long long duration_ms;
	struct strvec cgroups, sched_args, includes;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = opts_getopt(argc, argv, "s:t:i:k:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->scenario = optarg; break;
		case 't': o->topo = optarg; break;
		case 'k': o->kernel = optarg; break;
		case 'o': o->output = optarg; break;
		case 'i': strvec_push(&o->includes, optarg); break;
		case OPT_CGROUP: strvec_push(&o->cgroups, optarg); break;
		case OPT_SCHEDULER:
			/* As ktstr-verify says it: "eevdf" is no sched_ext
			 * scheduler to look up, it is what no --scheduler means. */
			if (!*optarg || !strcasecmp(optarg, "eevdf"))
				usage_error("--scheduler '%s': expected a sched_ext scheduler's "
					    "name or path; EEVDF is the kernel's default, so leave "
					    "out --scheduler to export under it", optarg);
			o->scheduler = optarg;
			break;
		case OPT_SCHED_ARG: strvec_push(&o->sched_args, optarg); break;
		case OPT_DURATION:
			o->duration_ms = scenario_duration_arg(optarg);
			break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'; the output file goes with -o FILE",
			    argv[optind]);
	if (o->sched_args.n && !o->scheduler)
		usage_error("--sched-arg needs --scheduler");
	if (!o->scenario && !o->cgroups.n)
		o->scenario = DEFAULT_SCENARIO;
	if (o->output && !*o->output)
		usage_error("-o '': expected a file name, e.g. -o steady.run");
}

/* The scheduler binary, resolved as ktstr-vm resolves it: a name looks
 * among the schedulers built for -k's kernel (or the discovered one; none
 * found is no error here, the name may still be in PATH). */
static char *resolve_scheduler(const struct opts *o)
{
	struct kernel_found kf = { 0 };
	struct strbuf err = STRBUF_INIT;
	char *path;
	int found;

	found = kernel_find(o->kernel, &kf, &err) == 0;
	if (!found && o->kernel)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	strbuf_reset(&err);
	path = scheduler_resolve(o->scheduler, found ? kf.key : NULL, &err);
	if (!path)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	if (found)
		kernel_found_release(&kf);
	strbuf_release(&err);
	return path;
}

/* What ktstr-vm would send a VM's agent, with the scheduler where the
 * bundle keeps it. */
static json_t *build_request(const struct opts *o, const struct ktstr_topo *topo,
			     const char *sched_rel, struct payload_host_plan *pl, char **name)
{
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	struct checks checks;
	json_t *doc, *req;
	int fit;

	fit = vm_scenario_prepare(o->scenario, &o->cgroups, o->duration_ms, topo, &doc, &s, &err);
	if (fit < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	if (fit > 0)
		die(KTSTR_EXIT_USAGE, "scenario '%s' does not fit --topo %s: %s; export it for "
		    "a larger topology", s.name, o->topo ? o->topo : DEFAULT_TOPO, err.buf);
	if (payload_host_plan(&s, &o->includes, pl, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	checks_effective(&s.checks, &checks);
	req = vm_request_scenario(doc, &checks, sched_rel, &o->sched_args, topo);
	*name = xstrdup(s.name);
	scenario_release(&s);
	json_decref(doc);
	strbuf_release(&err);
	return req;
}

static json_t *build_manifest(const struct opts *o, const char *name, const char *topo,
			      const char *sched_host, const char *sched_rel)
{
	json_t *m = json_object(), *sch, *args = json_array(), *inc = json_array();
	size_t i;

	json_object_set_new(m, "type", json_string("ktstr_export"));
	json_object_set_new(m, "scenario", json_string(name));
	json_object_set_new(m, "topo", json_string(topo));
	json_object_set_new(m, "ktstr_version", json_string(export_version()));
	for (i = 0; i < o->sched_args.n; i++)
		json_array_append_new(args, json_string(o->sched_args.v[i]));
	if (sched_host) {
		sch = json_object();
		json_object_set_new(sch, "name", json_string(path_basename(sched_host)));
		json_object_set_new(sch, "path", json_string(sched_rel));
		json_object_set_new(sch, "args", args);
		json_object_set_new(m, "scheduler", sch);
	} else {
		json_decref(args);
		json_object_set_new(m, "scheduler", json_null());
	}
	for (i = 0; i < o->includes.n; i++)
		json_array_append_new(inc, json_string(path_basename(o->includes.v[i])));
	json_object_set_new(m, "includes", inc);
	return m;
}

/* The static verdict printer beside the agent, when it was built. */
static char *find_verdict(void)
{
	char *p = ktstr_libexec_path("ktstr-verdict");

	if (p && access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o = { .cgroups = STRVEC_INIT, .sched_args = STRVEC_INIT,
			  .includes = STRVEC_INIT };
	struct payload_host_plan pl = { 0 };
	struct strbuf err = STRBUF_INIT, topo_s = STRBUF_INIT;
	struct export_spec spec = { 0 };
	struct ktstr_topo topo;
	char *sched_host = NULL, *sched_rel = NULL, *name = NULL, *out, *agent;

	diag_init(argv[0]);
	parse_args(argc, argv, &o);
	if (topo_parse(o.topo ? o.topo : DEFAULT_TOPO, &topo, &err))
		usage_error("--topo '%s': %s", o.topo, err.buf);
	topo_format(&topo, &topo_s);
	agent = ktstr_libexec_path("ktstr-agent");
	if (!agent || access(agent, R_OK) < 0)
		die(KTSTR_EXIT_USAGE, "the static agent %s is missing; build it (make)",
		    agent ? agent : "ktstr-agent");
	/* An empty or half-written agent (a build in progress) would be
	 * bundled and fail only on the target, as "the archive has no agent". */
	if (!elf_is_program(agent))
		die(KTSTR_EXIT_USAGE, "the static agent %s is not an x86-64 ELF program (empty "
		    "or half-written?); rebuild it (make)", agent);
	if (o.scheduler) {
		sched_host = resolve_scheduler(&o);
		sched_rel = xasprintf("sched/%s", path_basename(sched_host));
	}
	spec.request = build_request(&o, &topo, sched_rel, &pl, &name);
	out = o.output ? xstrdup(o.output) : xasprintf("%s.run", name);
	/* rename() onto a directory fails only after the whole archive is
	 * written, with EISDIR or EBUSY, which reads like a disk problem. */
	if (is_directory(out))
		die(KTSTR_EXIT_USAGE, "-o %s: is a directory; name the file to write, e.g. "
		    "-o %s/%s.run", out, out, name);
	if (!export_sh_safe(name))
		die(KTSTR_EXIT_USAGE, "scenario name '%s' has a quote or control character; "
		    "rename it", name);
	if (sched_host && !export_sh_safe(path_basename(sched_host)))
		die(KTSTR_EXIT_USAGE, "--scheduler %s: the file name has a quote or control "
		    "character; copy it to a plain name", sched_host);
	spec.agent = agent;
	spec.verdict = find_verdict();
	spec.sched_host = sched_host;
	spec.sched_rel = sched_rel;
	spec.includes = &pl.includes;
	spec.scenario = name;
	spec.topo = topo_s.buf;
	spec.manifest = build_manifest(&o, name, topo_s.buf, sched_host, sched_rel);
	if (export_write(&spec, out, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	diag("wrote %s (scenario %s, topology %s, scheduler %s)", out, name, topo_s.buf,
	     sched_host ? path_basename(sched_host) : "EEVDF");
	free((char *)spec.verdict);
	json_decref(spec.manifest);
	json_decref(spec.request);
	payload_host_plan_release(&pl);
	free(out);
	free(name);
	free(agent);
	free(sched_host);
	free(sched_rel);
	strvec_clear(&o.cgroups);
	strvec_clear(&o.sched_args);
	strvec_clear(&o.includes);
	strbuf_release(&err);
	strbuf_release(&topo_s);
	return 0;
}
