/* The sh half of a reproducer.  It must run under any POSIX sh (dash,
 * busybox ash) on a machine with no ktstr: it extracts the archive that
 * follows it into a private temporary directory, hands everything else
 * to the agent, and removes the directory however it ends.  The agent,
 * not this script, checks that the machine fits (root, cgroup2,
 * sched_ext, topology): one place decides, in C. */
#include "export.h"
#include "diag.h"
#include "fsutil.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

/* @NAME@, @TOPO@, @VERSION@, @SCHED@, @NEEDS@ and @SKIP@ (the line the
 * archive starts on) are filled in by export_preamble(); no value may hold
 * a newline, or @SKIP@ would be off. */
static const char preamble[] =
"#!/bin/sh\n"
"# ktstr reproducer of scenario '@NAME@' (ktstr @VERSION@).  Run it as root\n"
"# on the machine to test: ./THIS_FILE [--duration DUR] [--json] [--keep].\n"
"# Everything after the line 'exit $rc' below is a tar.gz archive.\n"
"name='@NAME@' topo='@TOPO@' version='@VERSION@' sched='@SCHED@' skip=@SKIP@\n"
"me=${0##*/}\n"
"usage() {\n"
"\tcat <<EOF\n"
"usage: $me [--duration DUR] [--json] [--keep]\n"
"\n"
"Run the ktstr scenario '$name' on this machine (scheduler: $sched),\n"
"as exported by ktstr-export $version.  It needs root, cgroup v2,\n"
"@NEEDS@\n"
"and a CPU topology of $topo (NUMA nodes, LLCs, cores per LLC, threads\n"
"per core); anything else is refused with what differs (exit 2).  On a\n"
"hybrid cgroup setup, set KTSTR_CGROUP_WALK_ROOT to the cgroup2 mount and\n"
"KTSTR_HOST_CGROUP_PARENT to a directory in it (see ktstr-export(1)).\n"
"\n"
"  --duration DUR  run for DUR (e.g. 10s) instead of the scenario's own\n"
"  --json          JSON lines on stdout even on a terminal (pipe them into\n"
"                  ktstr-stats where ktstr is installed)\n"
"  --keep          keep the extracted directory and say where it is\n"
"  -h, --help      show this help\n"
"  --version       show the ktstr version that made this file\n"
"\n"
"Exit status: 0 pass, 1 fail, 2 refused or setup error, 128+N on signal N.\n"
"EOF\n"
"}\n"
"die() { echo \"$me: $*\" >&2; exit 2; }\n"
"dur= dur_given= json= keep=\n"
"while [ $# -gt 0 ]; do\n"
"\tcase $1 in\n"
"\t--duration) [ $# -ge 2 ] || die \"--duration needs a value, e.g. --duration 10s\"\n"
"\t\tdur=$2 dur_given=1; shift ;;\n"
"\t--duration=*) dur=${1#*=} dur_given=1 ;;\n"
"\t--json) json=1 ;;\n"
"\t--keep) keep=1 ;;\n"
"\t-h | --help) usage; exit 0 ;;\n"
"\t--version) echo \"$me (ktstr) $version\"; exit 0 ;;\n"
"\t*) die \"unknown argument '$1' (see '$me --help')\" ;;\n"
"\tesac\n"
"\tshift\n"
"done\n"
"case $dur in *[!0-9a-z.]*) die \"--duration '$dur': expected a duration such as 10s or 1500ms\" ;; esac\n"
"[ -n \"$dur\" ] || [ -z \"$dur_given\" ] ||\n"
"\tdie \"--duration '': expected a duration such as 10s or 1500ms\"\n"
"for t in tar mktemp tail; do\n"
"\tcommand -v $t >/dev/null 2>&1 || die \"'$t' not found in PATH; install it (busybox has it)\"\n"
"done\n"
"self=$0\n"
"# sh FILE gives $0 as typed; a bare name run through PATH may not.\n"
"case $self in */*) ;; *) [ -r \"$self\" ] || self=$(command -v -- \"$self\") ||\n"
"\tdie \"cannot find myself ($0); run it with a path, e.g. ./$me\" ;; esac\n"
"[ -r \"$self\" ] || die \"cannot read $self; run it with a path, e.g. ./$me\"\n"
"tmp=${TMPDIR:-/tmp}\n"
"dir=$(mktemp -d \"$tmp/ktstr-run.XXXXXX\") ||\n"
"\tdie \"cannot make a directory in $tmp; set TMPDIR to a writable directory\"\n"
"pid= rc=\n"
"cleanup() {\n"
"\tif [ -n \"$keep\" ]; then echo \"$me: kept $dir\" >&2; else rm -rf \"$dir\"; fi\n"
"}\n"
"stop() {\n"
"\t[ -z \"$pid\" ] || { kill -TERM \"$pid\" 2>/dev/null; wait \"$pid\"; }\n"
"\tcleanup; trap - EXIT; exit $((128 + $1))\n"
"}\n"
"trap cleanup EXIT\n"
"trap 'stop 1' HUP\n"
"trap 'stop 2' INT\n"
"trap 'stop 15' TERM\n"
"tail -n +$skip \"$self\" | tar -xzf - -C \"$dir\" ||\n"
"\tdie \"cannot extract the archive into $dir (full disk, or a truncated $me?)\"\n"
"[ -x \"$dir/ktstr-agent\" ] || die \"the archive has no agent; re-export $me\"\n"
"set -- --host --as \"$me\" --request \"$dir/request.json\" --expect-topo \"$topo\" --bundle \"$dir\"\n"
"[ -z \"$dur\" ] || set -- \"$@\" --duration \"$dur\"\n"
"# The agent runs in the background so that a signal reaches the traps at\n"
"# once (and is passed on to it).  A terminal gets the verdict, read from\n"
"# the records when the run is over; anything else the records as they come.\n"
"if [ -z \"$json\" ] && [ -t 1 ]; then\n"
"\techo \"$me: running scenario '$name' under $sched; the verdict follows\" >&2\n"
"\t\"$dir/ktstr-agent\" \"$@\" >\"$dir/records\" &\n"
"\tpid=$!\n"
"\twait \"$pid\"; rc=$?; pid=\n"
"\tif ! grep -q '\"type\":\"scenario_start\"' \"$dir/records\"; then\n"
"\t\t: # refused or failed before it began: the agent said why on stderr\n"
"\telif [ -x \"$dir/bin/ktstr-verdict\" ]; then\n"
"\t\t\"$dir/bin/ktstr-verdict\" <\"$dir/records\"\n"
"\telse\n"
"\t\tgrep -E '\"type\":\"(scenario_end|exit)\"' \"$dir/records\"\n"
"\tfi\n"
"else\n"
"\t\"$dir/ktstr-agent\" \"$@\" &\n"
"\tpid=$!\n"
"\twait \"$pid\"; rc=$?\n"
"fi\n"
"pid=\n"
"exit $rc\n";

const char *export_version(void)
{
	return KTSTR_VERSION;
}

int export_sh_safe(const char *v)
{
	for (; *v; v++)
		if (*v == '\'' || (unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

static void fill(struct strbuf *out, const char *key, const char *val)
{
	char *at = strstr(out->buf, key);
	struct strbuf sb = STRBUF_INIT;

	while (at) {
		size_t off = (size_t)(at - out->buf);

		strbuf_reset(&sb);
		strbuf_add(&sb, out->buf, off);
		strbuf_addstr(&sb, val);
		strbuf_addstr(&sb, at + strlen(key));
		strbuf_reset(out);
		strbuf_addstr(out, sb.buf);
		at = strstr(out->buf + off + strlen(val), key);
	}
	strbuf_release(&sb);
}

char *export_preamble(const struct export_spec *s)
{
	struct strbuf out = STRBUF_INIT;
	char skip[16];
	unsigned lines = 0;
	const char *p;

	for (p = preamble; *p; p++)
		lines += *p == '\n';
	snprintf(skip, sizeof(skip), "%u", lines + 1);
	strbuf_addstr(&out, preamble);
	fill(&out, "@NAME@", s->scenario);
	fill(&out, "@TOPO@", s->topo);
	fill(&out, "@VERSION@", KTSTR_VERSION);
	fill(&out, "@SCHED@", s->sched_host ? path_basename(s->sched_host) : "EEVDF");
	/* The agent checks sched_ext only when there is a scheduler to
	 * attach: an EEVDF export runs on any kernel. */
	fill(&out, "@NEEDS@", s->sched_host ?
	     "a kernel with sched_ext, no other sched_ext scheduler attached" :
	     "any kernel, sched_ext or not (it runs under whatever is attached)");
	fill(&out, "@SKIP@", skip);
	return strbuf_detach(&out, NULL);
}
