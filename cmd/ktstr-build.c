/* ktstr-build: configure and build a kernel for ktstr and store it in the
 * kernel cache; list and prune the cache; build a scheduler tree against a
 * cached kernel.  The work is in lib/kernel (kbuild.c, kcache.c,
 * schedbuild.c); this is argument handling and output. */
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "jsonl.h"
#include "kbuild.h"
#include "kcache.h"
#include "kernel.h"
#include "opts.h"
#include "schedbuild.h"
#include "strvec.h"
#include "texttable.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
"usage: ktstr-build [options] [--source DIR]\n"
"       ktstr-fetch VERSION | ktstr-build [options]\n"
"       ktstr-build --sched DIR [--kernel ID | --kernel-dir ENTRY] [--out DIR]\n"
"       ktstr-build list\n"
"       ktstr-build clean [--keep N]\n"
"\n"
"Configure a kernel source tree with ktstr.kconfig, build it and store the\n"
"bzImage, config, vmlinux and metadata.json in the kernel cache\n"
"(KTSTR_CACHE_DIR, else ~/.cache/ktstr/kernels).  One JSON line\n"
"{\"type\":\"kernel\",...} per kernel on stdout.  Without --source, reads\n"
"ktstr-fetch's {\"type\":\"source\",...} lines from stdin.\n"
"\n"
"  -s, --source DIR         kernel source tree to build (in place)\n"
"      --extra-kconfig FILE fragment appended after ktstr.kconfig (last wins);\n"
"                           adds an -xkc<crc32> segment to the cache key\n"
"  -j, --jobs N             parallel make jobs (default KTSTR_CPU_CAP, else 30%\n"
"                           of the CPUs this process may use, at least 1);\n"
"                           --cpu-cap N is the same option\n"
"  -f, --force              rebuild even when the key is already cached\n"
"      --keep N             with clean: keep the N newest valid entries\n"
"\n"
"With --sched, build a C sched_ext scheduler tree laid out like the kernel's\n"
"tools/sched_ext (NAME.bpf.c + NAME.c pairs, include/scx) against a cached\n"
"kernel's BTF into static binaries; one {\"type\":\"scheduler\"} line each and\n"
"a final {\"type\":\"sched_build\"} line.\n"
"      --sched DIR          the scheduler tree\n"
"      --kernel ID          cache key, version or path of the kernel (default:\n"
"                           the discovery chain, as ktstr-vm)\n"
"      --kernel-dir ENTRY   a kernel cache entry directory\n"
"      --out DIR            where the binaries go (default: the scheduler\n"
"                           cache, <kernel key>/custom-<hash of DIR>)\n"
"      --clang PATH         BPF compiler (default: the newest clang >= 22)\n"
"\n"
"  -h, --help               show this help\n"
"      --version            show the version\n"
"\n"
"Exit status: 0 built or reused; 1 the build failed; 2 bad usage, a\n"
"missing source or a config that lost an option ktstr needs (with --sched:\n"
"a missing tree, no *.bpf.c, a kernel without BTF).\n";

enum { OPT_EXTRA = 0x100, OPT_KEEP, OPT_SCHED, OPT_KERNEL, OPT_KERNEL_DIR, OPT_OUT,
       OPT_CLANG, OPT_CPU_CAP };

static const struct option longopts[] = {
	{ "source", required_argument, NULL, 's' },
	{ "extra-kconfig", required_argument, NULL, OPT_EXTRA },
	{ "jobs", required_argument, NULL, 'j' },
	{ "cpu-cap", required_argument, NULL, OPT_CPU_CAP },
	{ "force", no_argument, NULL, 'f' },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "kernel-dir", required_argument, NULL, OPT_KERNEL_DIR },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "clang", required_argument, NULL, OPT_CLANG },
	KTSTR_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *sub;	/* list, clean or NULL */
	const char *source, *extra_path, *keep_arg;
	const char *jobs_arg, *jobs_opt;	/* the value and the option's name */
	bool force;
	struct schedbuild sched;	/* --sched mode */
};

static unsigned long resolve_jobs(const struct opts *o)
{
	const char *env = env_get("KTSTR_CPU_CAP");
	unsigned long jobs;

	if (o->jobs_arg) {
		if (parse_ulong(o->jobs_arg, 1, 4096, &jobs))
			usage_error("%s '%s': expected a whole number of CPUs, at least 1, "
				    "e.g. %s 4", o->jobs_opt, o->jobs_arg, o->jobs_opt);
	} else if (env) {
		if (parse_ulong(env, 1, 4096, &jobs))
			die(KTSTR_EXIT_USAGE, "KTSTR_CPU_CAP='%s': expected a whole number "
			    "of CPUs, at least 1; unset it for the default (30%% of "
			    "allowed CPUs)", env);
	} else {
		jobs = kbuild_default_jobs();
	}
	return jobs;
}

static void emit_kernel(const struct kcache_entry *e, bool cached)
{
	json_t *r = jsonl_record("kernel");

	json_set_str(r, "key", e->key);
	json_set_str(r, "version", e->version);
	json_set_str(r, "path", e->dir);
	json_set_str(r, "image", e->image);
	json_set_bool(r, "cached", cached);
	json_set_int(r, "build_ms", e->build_ms < 0 ? 0 : e->build_ms);
	jsonl_emit(stdout, r);
}

/* Get the kernel for s (reused or built) and report it; dies on failure,
 * after the tail of a failed make's log. */
static void do_source(struct kbuild *b, struct kbuild_source *s)
{
	struct kcache_entry e;
	struct strbuf err = STRBUF_INIT;
	bool cached;
	int rc = kbuild_get(b, s, &e, &cached, &err);

	if (rc) {
		if (b->failed_log) {
			struct strbuf tail = STRBUF_INIT;

			kbuild_log_tail(b->failed_log, 20, &tail);
			fputs(tail.buf, stderr);
			strbuf_release(&tail);
		}
		die(rc, "%s", err.buf);
	}
	emit_kernel(&e, cached);
	kcache_entry_release(&e);
}

struct stdin_ctx {
	struct kbuild *b;
	size_t kernels;
};

/* One stdin record: a source to build, or a record for the next stage. */
static void on_record(void *ctx, unsigned long lineno, json_t *rec)
{
	struct stdin_ctx *c = ctx;
	struct strbuf err = STRBUF_INIT;
	struct kbuild_source s;

	if (strcmp(json_get_str(rec, "type"), "source")) {
		/* Other records pass through for the next stage. */
		jsonl_emit(stdout, json_incref(rec));
		return;
	}
	if (kbuild_source_from_record(rec, &s, &err))
		die(KTSTR_EXIT_USAGE, "stdin line %lu: %s", lineno, err.buf);
	do_source(c->b, &s);
	kbuild_source_release(&s);
	c->kernels++;
}

static void on_bad(void *ctx, unsigned long lineno, const char *why)
{
	die(KTSTR_EXIT_USAGE, "stdin line %lu: %s", lineno, why);
}

static void read_stdin(struct kbuild *b)
{
	static const struct jsonl_ops ops = { .record = on_record, .bad = on_bad };
	struct stdin_ctx c = { .b = b };
	struct jsonl_reader r;

	jsonl_reader_init(&r, 1 << 20, &ops, &c);
	if (jsonl_reader_read(&r, 0) < 0)
		die_errno(KTSTR_EXIT_USAGE, "reading stdin");
	jsonl_reader_finish(&r);
	jsonl_reader_release(&r);
	if (!c.kernels)
		die(KTSTR_EXIT_USAGE, "no {\"type\":\"source\"} records on stdin; pass "
		    "--source DIR or pipe ktstr-fetch into ktstr-build");
}

static const char *status_of(const struct kcache_entry *e)
{
	return e->corrupt ? "corrupt" : e->stale ? "stale-kconfig" : "valid";
}

static void set_str_or_null(json_t *r, const char *key, const char *val)
{
	if (val)
		json_set_str(r, key, val);
	else
		json_object_set_new(r, key, json_null());
}

static void emit_cache_entry(const struct kcache_entry *e)
{
	json_t *r = jsonl_record("cache_entry");

	json_set_str(r, "key", e->key);
	json_set_str(r, "path", e->dir);
	json_set_str(r, "status", status_of(e));
	if (e->corrupt) {
		json_set_str(r, "error", e->error);
	} else {
		json_set_str(r, "version", e->version);
		json_set_str(r, "source", e->source_type);
		json_set_str(r, "image", e->image);
		json_set_str(r, "built_at", e->built_at);
		set_str_or_null(r, "kconfig_hash", e->kconfig_hash);
		set_str_or_null(r, "extra_kconfig_hash", e->extra_kconfig_hash);
		if (e->build_ms >= 0)
			json_set_int(r, "build_ms", e->build_ms);
	}
	if (jsonl_emit(stdout, r) < 0)
		stdout_write_failed("the cache list");
}

static int cmd_list(const char *root)
{
	struct kcache_entry *v;
	size_t i, n = kcache_list(root, kernel_kconfig_hash(), &v);
	struct text_table t = TEXT_TABLE_INIT(5);
	struct strbuf out = STRBUF_INIT;
	bool tty = isatty(1);

	text_table_add(&t, (const char *[]){ "KEY", "VERSION", "SOURCE", "BUILT", "STATUS" });
	for (i = 0; i < n; i++) {
		const struct kcache_entry *e = &v[i];

		if (tty)
			text_table_add(&t, (const char *[]){ e->key, e->version, e->source_type,
							     e->built_at, status_of(e) });
		else
			emit_cache_entry(e);
	}
	text_table_render(&t, NULL, &out);
	if (tty)
		fputs(out.buf, stdout);
	strbuf_release(&out);
	stdout_flush("the cache list");
	for (i = 0; i < n; i++)
		if (v[i].corrupt)
			diag("%s: corrupt cache entry (%s); remove it with 'ktstr-build clean'",
			     v[i].dir, v[i].error);
	kcache_list_free(v, n);
	return KTSTR_EXIT_PASS;
}

static int cmd_clean(const char *root, const char *keep_arg)
{
	struct kcache_entry *v;
	unsigned long keep = 0, kept = 0;
	size_t i, n;
	bool tty = isatty(1);
	int rc = KTSTR_EXIT_PASS;

	if (keep_arg && parse_ulong(keep_arg, 0, ULONG_MAX, &keep))
		usage_error("--keep '%s': expected a whole number, e.g. --keep 2", keep_arg);
	n = kcache_list(root, kernel_kconfig_hash(), &v);
	for (i = 0; i < n; i++) {
		const struct kcache_entry *e = &v[i];

		if (!e->corrupt && kept < keep) {
			kept++;
			continue;
		}
		if (kcache_remove(root, e->key) < 0) {
			diag("cannot remove %s: %s", e->dir, strerror(errno));
			rc = KTSTR_EXIT_FAIL;
		} else if (tty) {
			printf("removed %s\n", e->key);
		} else {
			json_t *r = jsonl_record("cache_removed");

			json_set_str(r, "key", e->key);
			json_set_str(r, "status", status_of(e));
			jsonl_emit(stdout, r);
		}
	}
	kcache_list_free(v, n);
	/* Staging takes seconds (the build itself happens in the source tree),
	 * so a staging dir untouched for an hour belongs to nobody. */
	kcache_remove_orphans(root, 3600);
	return rc;
}

/* ktstr-build --sched: the helper builds and prints the records. */
static int cmd_sched(const struct schedbuild *sb)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	if (schedbuild_argv(sb, &argv, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	fflush(stdout);
	execv(argv.v[0], (char *const *)strvec_argv(&argv));
	die_errno(KTSTR_EXIT_USAGE, "cannot run %s", argv.v[0]);
}

static void parse_options(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = opts_getopt(argc, argv, "s:j:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->source = optarg; break;
		case OPT_EXTRA: o->extra_path = optarg; break;
		case 'j': o->jobs_arg = optarg; o->jobs_opt = "--jobs"; break;
		case OPT_CPU_CAP: o->jobs_arg = optarg; o->jobs_opt = "--cpu-cap"; break;
		case 'f': o->force = true; break;
		case OPT_KEEP: o->keep_arg = optarg; break;
		case OPT_SCHED: o->sched.tree = optarg; break;
		case OPT_KERNEL: o->sched.kernel = optarg; break;
		case OPT_KERNEL_DIR: o->sched.kernel_dir = optarg; break;
		case OPT_OUT: o->sched.out = optarg; break;
		case OPT_CLANG: o->sched.clang = optarg; break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		o->sub = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Options that only go with some modes. */
static void check_modes(const struct opts *o)
{
	const struct schedbuild *sb = &o->sched;

	if (o->sub && strcmp(o->sub, "list") && strcmp(o->sub, "clean"))
		usage_error("unknown command '%s'; expected list or clean", o->sub);
	if (o->keep_arg && (!o->sub || strcmp(o->sub, "clean")))
		usage_error("--keep only goes with 'clean'");
	if (!sb->tree && (sb->kernel || sb->kernel_dir || sb->out || sb->clang))
		usage_error("--kernel, --kernel-dir, --out and --clang go with --sched DIR");
	if (sb->tree && (o->sub || o->source || o->extra_path || o->force))
		usage_error("--sched builds a scheduler tree; it does not combine with "
			    "list, clean, --source, --extra-kconfig or --force");
	if (sb->kernel && sb->kernel_dir)
		usage_error("--kernel and --kernel-dir both name the kernel; pass one");
}

static char *cache_root(void)
{
	struct strbuf err = STRBUF_INIT;
	char *root = ktstr_cache_dir("kernels");

	if (!root)
		die(KTSTR_EXIT_USAGE, "no kernel cache directory: set KTSTR_CACHE_DIR or HOME");
	if (ktstr_cache_dir_check(root, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	return root;
}

/* Build --source, or every source record on stdin. */
static int cmd_build(const struct opts *o, char *root)
{
	struct kbuild b = { .force = o->force };
	struct strbuf err = STRBUF_INIT;

	b.jobs = resolve_jobs(o);
	if (kbuild_init(&b, root, o->extra_path, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	if (o->source) {
		struct kbuild_source s = { .kind = xstrdup("path"), .path = xstrdup(o->source) };

		do_source(&b, &s);
		kbuild_source_release(&s);
	} else {
		if (isatty(0))
			usage_error("no source: pass --source DIR or pipe ktstr-fetch "
				    "output into ktstr-build");
		read_stdin(&b);
	}
	kbuild_release(&b);
	return KTSTR_EXIT_PASS;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	char *root;
	int rc;

	diag_init(argv[0]);
	parse_options(argc, argv, &o);
	check_modes(&o);
	if (o.sched.tree) {
		o.sched.jobs = resolve_jobs(&o);
		return cmd_sched(&o.sched);
	}
	root = cache_root();
	if (!o.sub)
		return cmd_build(&o, root);
	rc = !strcmp(o.sub, "list") ? cmd_list(root) : cmd_clean(root, o.keep_arg);
	free(root);
	return rc;
}
