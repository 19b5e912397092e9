/* ktstr-initramfs: build (or fetch from the cache) a guest initramfs and
 * describe it as one JSON line.  All the work is in lib/vm/initramfs.c, which
 * ktstr-vm calls directly; this is only argument handling. */
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "initramfs.h"
#include "jsonl.h"
#include "kernel.h"
#include "opts.h"
#include "run.h"
#include "strvec.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
	"usage: ktstr-initramfs [-i PATH]... [-o OUTPUT] [--agent PATH] [--busybox PATH]\n"
	"                       [--kconfig PATH] [--tools]\n"
	"\n"
	"Build an uncompressed cpio initramfs for ktstr guests: the guest agent\n"
	"as /init, busybox with its applet links, and the given includes (plus the\n"
	"shared libraries of any dynamically linked program among them).  Images\n"
	"are cached by content; an unchanged input set is not rebuilt.\n"
	"Prints one JSON line describing the image.\n"
	"\n"
	"  -i, --include PATH   pack a file as /include-files/NAME or a directory\n"
	"                       tree as /include-files/NAME/ (repeatable)\n"
	"  -o, --output FILE    also write the image to FILE (default: cache only)\n"
	"      --agent PATH     guest agent for /init (default: the installed ktstr-agent)\n"
	"      --busybox PATH   busybox binary (default: $KTSTR_BUSYBOX_PATH, else PATH)\n"
	"      --kconfig PATH   the kernel's .config, packed as /boot/config; the agent\n"
	"                       links /boot/config-$(uname -r) to it for libbpf\n"
	"      --tools          also pack the host's bpftool, chrt, taskset, pgrep and\n"
	"                       pkill (the ones busybox lacks) with their libraries\n"
	"  -h, --help           show this help and exit\n"
	"      --version        show the version and exit\n"
	"\n"
	"Exit status: 0 built or found, 2 bad input or setup.\n";

enum { OPT_AGENT = 0x2000, OPT_BUSYBOX, OPT_KCONFIG, OPT_TOOLS };

static const struct option longopts[] = {
	{ "include", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "busybox", required_argument, NULL, OPT_BUSYBOX },
	{ "kconfig", required_argument, NULL, OPT_KCONFIG },
	{ "tools", no_argument, NULL, OPT_TOOLS },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* --busybox, then KTSTR_BUSYBOX_PATH, then PATH.  Caller frees. */
static char *pick_busybox(const char *flag)
{
	const char *env = env_get("KTSTR_BUSYBOX_PATH");
	char *found;

	if (flag)
		return xstrdup(flag);
	if (env)
		return xstrdup(env);
	found = find_program("busybox");
	if (!found)
		die(KTSTR_EXIT_USAGE, "busybox not found in PATH; install busybox-static, "
		    "set KTSTR_BUSYBOX_PATH or pass --busybox PATH");
	return found;
}

static void emit(const struct initramfs_result *r)
{
	json_t *rec = jsonl_record("initramfs");

	json_set_str(rec, "path", r->path);
	json_set_int(rec, "bytes", (long long)r->bytes);
	json_set_int(rec, "files", r->files);
	json_set_str(rec, "sha256", r->sha256);
	json_set_bool(rec, "cached", r->cached);
	if (jsonl_emit(stdout, rec) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write to stdout");
}

int main(int argc, char **argv)
{
	struct strvec includes = STRVEC_INIT;
	struct initramfs_opts o = { .agent = NULL };
	struct initramfs_result r;
	struct strbuf err = STRBUF_INIT;
	const char *agent_flag = NULL, *busybox_flag = NULL, *kconfig = NULL;
	struct initramfs_file kfile;
	char *agent, *busybox;
	int c;

	diag_init(argv[0]);
	while ((c = opts_getopt(argc, argv, "i:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': strvec_push(&includes, optarg); break;
		case 'o': o.output = optarg; break;
		case OPT_AGENT: agent_flag = optarg; break;
		case OPT_BUSYBOX: busybox_flag = optarg; break;
		case OPT_KCONFIG: kconfig = optarg; break;
		case OPT_TOOLS: o.host_tools = true; break;
		case OPT_HELP: print_help_and_exit(usage);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	if (kconfig) {
		if (kernel_config_check(kconfig, &err))
			usage_error("--kconfig: %s", err.buf);
		kfile.src = kconfig;
		kfile.dest = INITRAMFS_KCONFIG_PATH;
		o.files = &kfile;
		o.n_files = 1;
	}
	agent = agent_flag ? xstrdup(agent_flag) : ktstr_libexec_path("ktstr-agent");
	busybox = pick_busybox(busybox_flag);
	o.agent = agent;
	o.busybox = busybox;
	o.includes = strvec_argv(&includes);
	o.n_includes = includes.n;
	if (initramfs_build(&o, &r, &err) < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	initramfs_warn_missing_tools(&r);
	emit(&r);
	initramfs_result_release(&r);
	strbuf_release(&err);
	strvec_clear(&includes);
	free(agent);
	free(busybox);
	return KTSTR_EXIT_PASS;
}
