/* ktstr-agent main: set up the VM, report it, run one request, power off.
 * Only what PID 1 does at boot lives here; everything a unit test may
 * reach is in the other guest files (log.c, poweroff.c, ...). */
#include "agent.h"
#include "agent_proto.h"
#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Library code reports fatal errors with exit(); as PID 1 that would panic
 * the kernel, so turn it into an orderly power-off instead. */
static void exit_poweroff(void)
{
	/* A forked child (a scenario worker, say) that reaches exit() must
	 * not power the VM off on its parent's behalf. */
	if (getpid() != 1)
		_exit(KTSTR_EXIT_FAIL);
	diag("exit() called in PID 1; powering off instead");
	agent_poweroff();
}

/* KTSTR_* tokens on the kernel command line.  The kernel would also pass
 * them in our environment, but the environment is rebuilt from scratch
 * below, so read them from the authoritative source. */
static void read_cmdline(char **topo)
{
	struct strbuf sb = STRBUF_INIT;
	char *tok, *save = NULL;

	*topo = NULL;
	if (strbuf_read_file(&sb, "/proc/cmdline") < 0) {
		diag("cannot read /proc/cmdline; using defaults");
		return;
	}
	for (tok = strtok_r(sb.buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, KTSTR_TOPO_ENV "=", strlen(KTSTR_TOPO_ENV "="))) {
			free(*topo);
			*topo = xstrdup(tok + strlen(KTSTR_TOPO_ENV "="));
		} else if (!strcmp(tok, "KTSTR_VERBOSE=1")) {
			agent_verbose = true;
		}
	}
	strbuf_release(&sb);
}

/* A clean, predictable environment for everything we start; the kernel
 * hands init stray command-line words as variables. */
static void env_setup(const char *topo)
{
	clearenv();
	/* /include-files last: -i files and payload programs ktstr-vm packs
	 * there run by bare name, without shadowing busybox or host tools. */
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin:/include-files", 1);
	setenv("HOME", "/root", 1);
	/* Every child runs in /, and a shell would export this: a command
	 * exec'd without one (cmdwords.c) sees the same. */
	setenv("PWD", "/", 1);
	/* What the kernel gives init by default; tools expect it set. */
	setenv("TERM", "linux", 1);
	if (topo)
		setenv(KTSTR_TOPO_ENV, topo, 1);
	if (agent_verbose)
		setenv("KTSTR_VERBOSE", "1", 1);
}

/* libbpf looks for the kernel config at /boot/config-$(uname -r) (the
 * kernel has no IKCONFIG; scx_central needs it).  The initramfs carries it
 * as /boot/config when the host knows it. */
static void boot_config_link(void)
{
	struct utsname u;
	char *link;

	if (access("/boot/config", F_OK) < 0 || uname(&u) < 0)
		return;
	link = xasprintf("/boot/config-%s", u.release);
	if (symlink("/boot/config", link) < 0 && errno != EEXIST)
		vlog("symlink %s: %s", link, strerror(errno));
	free(link);
}

static void send_hello(struct agent *ag, long long init_uptime_ms)
{
	if (port_send(ag, sysinfo_topology()) < 0 ||
	    port_send(ag, sysinfo_ready(init_uptime_ms)) < 0)
		agent_host_gone();
	vlog("agent_ready sent");
}

static void run_request(struct agent *ag)
{
	struct strbuf err = STRBUF_INIT;
	json_t *req = port_read_request(ag, &err);
	const char *type;

	if (!req)
		agent_fail(ag, "bad request: %s", err.buf);
	type = json_get_str(req, "type");
	vlog("request: %s", type);
	/* The host-side monitor's map of the kernel, before anything runs. */
	if (json_is_true(json_object_get(req, "kernel_symbols")) &&
	    port_send(ag, ksyms_record()) < 0)
		agent_host_gone();
	if (!strcmp(type, "exec"))
		exec_run(ag, req);
	else if (!strcmp(type, "shell"))
		shell_run(ag, req);
	else if (!strcmp(type, "scenario"))
		scenario_run(ag, req);
	else
		agent_fail(ag, "unknown request type \"%s\" (expected exec, shell or scenario)",
			   type);
	json_decref(req);
	strbuf_release(&err);
}

int main(int argc, char **argv)
{
	struct agent ag = { .port = -1, .sigfd = -1, .outq = STRBUF_INIT };
	long long init_uptime_ms = sysinfo_uptime_ms();
	char *topo;

	diag_init("ktstr-agent");
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--host"))
			host_main(argc, argv);
	/* Everything below (mounting over /dev, powering off) is only sane
	 * as the init of a throwaway VM. */
	if (getpid() != 1)
		die(KTSTR_EXIT_USAGE, "must run as PID 1 (/init) inside the ktstr VM, or with --host on a machine (see --host --help)");
	atexit(exit_poweroff);

	mounts_early();
	read_cmdline(&topo);
	mounts_setup();
	env_setup(topo);
	free(topo);
	boot_config_link();
	vlog("filesystems ready");

	ag.sigfd = child_sigfd_setup();
	if (ag.sigfd < 0)
		agent_fail(&ag, "signalfd: %m");
	ag.port = port_open();
	if (ag.port < 0)
		agent_poweroff();
	send_hello(&ag, init_uptime_ms);
	run_request(&ag);
	agent_poweroff();
}
