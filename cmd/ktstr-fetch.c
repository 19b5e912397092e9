/* ktstr-fetch: resolve kernel ids and fetch their sources (kernel.org
 * tarballs, git, local trees, Debian's prebuilt kernel), reporting each as
 * a JSON line.  The work is in lib/kernel/fetch_source.c; this is only
 * argument handling. */
#include "diag.h"
#include "env.h"
#include "fetch_source.h"
#include "jsonl.h"
#include "kernel_id.h"
#include "opts.h"
#include "strbuf.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] =
"usage: ktstr-fetch [options] [ID...]\n"
"\n"
"Resolve kernel ids and fetch their sources into the ktstr cache, printing\n"
"one JSON line per source on stdout:\n"
"  {\"type\":\"source\",\"id\":..,\"version\":..,\"kind\":..,\"path\":..,...}\n"
"With no ID, fetch the latest stable series with at least 8 maintenance\n"
"releases.\n"
"\n"
"IDs: 6.14.2 (exact), 6.14 or 6 (highest release), 6.12..6.14 or\n"
"6.12..=6.14 (every release in the inclusive range), git+URL#tag=NAME,\n"
"git+URL#branch=NAME, git+URL#sha=<40-hex>, a path (/abs, ./rel, ~/dir),\n"
"a cache key, debian (Debian's prebuilt sched_ext kernel, flavour\n"
"KTSTR_DEBIAN_FLAVOUR or cloud-amd64) or debian:FLAVOUR (debian:amd64:\n"
"Debian's generic build).\n"
"\n"
"  -l, --list          print the resolved releases, download nothing\n"
"      --no-extract    download and verify tarballs but do not unpack them\n"
"  -j, --jobs N        download and unpack up to N releases of a range at\n"
"                      once (default KTSTR_KERNEL_PARALLELISM, else 1)\n"
"  -h, --help          show this help\n"
"      --version       show the version\n"
"\n"
"Environment: KTSTR_KERNEL_ORG_URL (default\n"
"https://cdn.kernel.org/pub/linux/kernel), KTSTR_KERNEL_RELEASES_URL,\n"
"KTSTR_CACHE_DIR, XDG_CACHE_HOME.\n"
"\n"
"Exit status: 0 fetched; 1 a download failed its sha256 check; 2 bad\n"
"usage, an unknown release or an unreachable server.\n";

enum { OPT_NO_EXTRACT = 0x100 };

static const struct option longopts[] = {
	{ "list", no_argument, NULL, 'l' },
	{ "no-extract", no_argument, NULL, OPT_NO_EXTRACT },
	{ "jobs", required_argument, NULL, 'j' },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static void emit(json_t *rec, void *ctx)
{
	(void)ctx;
	jsonl_emit(stdout, rec);
}

static void parse_options(int argc, char **argv, struct fetch_opts *o)
{
	const char *par = env_get("KTSTR_KERNEL_PARALLELISM");
	int c;

	o->jobs = 1;
	if (par && parse_ulong(par, 1, 256, &o->jobs))
		usage_error("KTSTR_KERNEL_PARALLELISM='%s': expected a whole number "
			    "from 1 to 256", par);
	while ((c = opts_getopt(argc, argv, "lj:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->list = true; break;
		case OPT_NO_EXTRACT: o->no_extract = true; break;
		case 'j':
			if (parse_ulong(optarg, 1, 256, &o->jobs))
				usage_error("--jobs '%s': expected a whole number from 1 "
					    "to 256", optarg);
			break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
}

int main(int argc, char **argv)
{
	struct fetch_opts o = { .emit = emit };
	int worst = KTSTR_EXIT_PASS;

	diag_init(argv[0]);
	parse_options(argc, argv, &o);
	/* No id: the default series, as the empty id. */
	for (int i = optind; i < argc || (i == optind && optind == argc); i++) {
		struct kernel_id id;
		struct strbuf err = STRBUF_INIT;
		int rc;

		if (kernel_id_parse(i < argc ? argv[i] : "", &id, &err))
			rc = KTSTR_EXIT_USAGE;
		else
			rc = fetch_source(&id, &o, &err);
		if (rc) {
			if (err.len)	/* parallel children speak for themselves */
				diag("%s", err.buf);
			if (rc > worst)
				worst = rc;
		}
		kernel_id_release(&id);
		strbuf_release(&err);
	}
	return worst;
}
