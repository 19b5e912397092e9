/* ktstr-build: configure and build a kernel for ktstr and store it in the
 * kernel cache; list and prune the cache. */
#include "clock.h"
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "kcache.h"
#include "kernel.h"
#include "opts.h"
#include "progress.h"
#include "run.h"
#include "strvec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
"  -j, --cpu-cap N          parallel make jobs (default KTSTR_CPU_CAP, else 30%\n"
"                           of the CPUs this process may use, at least 1)\n"
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
       OPT_CLANG };

static const struct option longopts[] = {
	{ "source", required_argument, NULL, 's' },
	{ "extra-kconfig", required_argument, NULL, OPT_EXTRA },
	{ "cpu-cap", required_argument, NULL, 'j' },
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

static const char *const required_opts[] = {
	"CONFIG_SCHED_CLASS_EXT", "CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF_SYSCALL",
	"CONFIG_KPROBE_EVENTS", "CONFIG_BPF_EVENTS", "CONFIG_FTRACE",
};

struct opts {
	const char *source, *extra_path, *cpu_cap_arg, *keep_arg;
	const char *sched, *kernel, *kernel_dir, *out, *clang;	/* --sched mode */
	bool force;
	unsigned long jobs;
	struct strbuf extra;	/* extra kconfig content */
	char xkc[9];		/* its crc32, "" when none */
	char *root;		/* cache dir */
};

static unsigned long default_jobs(void)
{
	cpu_set_t set;
	unsigned long n = 1, j;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = (unsigned long)CPU_COUNT(&set);
	j = n * 30 / 100;
	return j ? j : 1;
}

static void resolve_jobs(struct opts *o)
{
	const char *env = env_get("KTSTR_CPU_CAP");

	if (o->cpu_cap_arg) {
		if (parse_ulong(o->cpu_cap_arg, 1, 4096, &o->jobs))
			usage_error("--cpu-cap '%s': expected a whole number of CPUs, at "
				    "least 1, e.g. --cpu-cap 4", o->cpu_cap_arg);
	} else if (env) {
		if (parse_ulong(env, 1, 4096, &o->jobs))
			die(KTSTR_EXIT_USAGE, "KTSTR_CPU_CAP='%s': expected a whole number "
			    "of CPUs, at least 1; unset it for the default (30%% of "
			    "allowed CPUs)", env);
	} else {
		o->jobs = default_jobs();
	}
}

/* Run make in src with its output appended to the log; exit code. */
static int run_make(const char *src, int logfd, const char *const *args)
{
	struct strvec argv = STRVEC_INIT;
	struct run_opts ro = RUN_OPTS_INIT;
	pid_t pid;
	int rc;

	strvec_push(&argv, "make");
	strvec_push(&argv, "-C");
	strvec_push(&argv, src);
	for (; *args; args++)
		strvec_push(&argv, *args);
	ro.stdin_fd = RUN_FD_NULL;
	ro.stdout_fd = logfd;
	ro.stderr_fd = logfd;
	ro.die_with_parent = true;
	pid = run_spawn((const char *const *)argv.v, &ro);
	strvec_clear(&argv);
	if (pid < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot run make");
	rc = run_wait(pid);
	return rc;
}

/* Capture one trimmed line of a command's stdout; NULL on failure. */
static char *capture_line(const char *const *argv)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *r = NULL;

	if (run_capture(argv, &out, &err) == 0) {
		strbuf_trim(&out);
		if (out.len && !strchr(out.buf, '\n'))
			r = xstrdup(out.buf);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
	if (n == 0 && fsync(out) < 0)
		n = -1;
	close(in);
	if (close(out) < 0)
		n = -1;
	return n < 0 ? -1 : 0;
}

/* Which required options did not end up =y in config; "" when all did. */
static void missing_options(const char *config, struct strbuf *missing)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (strbuf_read_file(&sb, config) < 0) {
		strbuf_addf(missing, "%s unreadable", config);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(required_opts); i++) {
		char *want = xasprintf("\n%s=y\n", required_opts[i]);
		struct strbuf nl = STRBUF_INIT;

		strbuf_addch(&nl, '\n');
		strbuf_add(&nl, sb.buf, sb.len);
		strbuf_addch(&nl, '\n');
		if (!strstr(nl.buf, want))
			strbuf_addf(missing, "%s%s", missing->len ? ", " : "", required_opts[i]);
		strbuf_release(&nl);
		free(want);
	}
	strbuf_release(&sb);
}

struct source {
	const char *kind;	/* tarball, git, path */
	char *path;
	char *version;		/* may be NULL until asked */
	char *ref, *url;
	bool dirty;		/* git tree with modified tracked files */
};

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

static char *cache_key(struct opts *o, struct source *s)
{
	const char *kc = kernel_kconfig_hash();
	const char *xkc = o->xkc[0] ? o->xkc : NULL;

	if (!s->version) {
		const char *argv[] = { "make", "-s", "-C", s->path, "kernelversion", NULL };

		s->version = capture_line(argv);
		if (!s->version)
			die(KTSTR_EXIT_USAGE, "%s: 'make kernelversion' failed; is this a "
			    "kernel source tree?", s->path);
	}
	if (!strcmp(s->kind, "tarball"))
		return kcache_key_tarball(s->version, kc, xkc);
	{
		const char *rev[] = { "git", "-C", s->path, "rev-parse", "--show-toplevel", NULL };
		const char *head[] = { "git", "-C", s->path, "rev-parse", "HEAD", NULL };
		const char *st[] = { "git", "-C", s->path, "status", "--porcelain",
				     "--untracked-files=no", NULL };
		char *top = capture_line(rev), *real = realpath(s->path, NULL);
		char *hash = NULL, *key;
		bool dirty = false;

		/* Only the tree's own repository counts, not one it sits inside. */
		if (top && real && !strcmp(top, real))
			hash = capture_line(head);
		if (hash) {
			struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

			if (run_capture(st, &out, &err) != 0 || out.len)
				dirty = true;
			strbuf_release(&out);
			strbuf_release(&err);
		} else {
			/* Not a git tree: identify it by its location. */
			char hex[9];
			const char *p = real ? real : s->path;

			kcache_crc32_hex(p, strlen(p), hex);
			hash = xstrdup(hex);
		}
		s->dirty = dirty;
		if (!strcmp(s->kind, "git"))
			key = kcache_key_git(s->ref ? s->ref : "HEAD", hash, kc, xkc);
		else
			key = kcache_key_local(hash, dirty, kc, xkc);
		free(top);
		free(real);
		free(hash);
		return key;
	}
}

static void log_tail(const char *log)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, lines = 0;

	if (strbuf_read_file(&sb, log) < 0)
		return;
	for (i = sb.len; i > 0; i--)
		if (sb.buf[i - 1] == '\n' && ++lines > 20)
			break;
	fprintf(stderr, "%s", sb.buf + i);
	strbuf_release(&sb);
}

static long long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Configure, build, stage and publish; exits on failure. */
static void build_one(struct opts *o, struct source *s, const char *key)
{
	char *kconfig = ktstr_share_path("ktstr.kconfig");
	char *config = path_join(s->path, ".config");
	char *logdir = ktstr_state_dir("build");
	char *log = logdir ? xasprintf("%s/%s.log", logdir, key) : NULL;
	char jobs[32];
	struct strbuf frag = STRBUF_INIT, missing = STRBUF_INIT, err = STRBUF_INIT;
	struct timespec t0;
	const char *defconfig[] = { "defconfig", NULL };
	const char *olddef[] = { "olddefconfig", NULL };
	const char *bz[] = { jobs, "bzImage", NULL };
	char *staged, *img, *vml, *dst;
	json_t *meta, *src;
	char *now;
	int logfd, fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!log || mkdir_p(logdir, 0755) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot create the build log directory %s",
			  logdir ? logdir : "(no HOME)");
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot write %s", log);
	if (strbuf_read_file(&frag, kconfig) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot read %s", kconfig);

	progress("%s: make defconfig", key);
	if (run_make(s->path, logfd, defconfig)) {
		progress_clear();
		log_tail(log);
		die(KTSTR_EXIT_FAIL, "%s: make defconfig failed; full log in %s", s->path, log);
	}
	/* ktstr.kconfig, then the extra fragment: kconfig's last one wins. */
	strbuf_addch(&frag, '\n');
	if (o->extra.len) {
		strbuf_add(&frag, o->extra.buf, o->extra.len);
		strbuf_addch(&frag, '\n');
	}
	fd = open(config, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write_all(fd, frag.buf, frag.len) < 0 || close(fd) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot append to %s", config);
	progress("%s: make olddefconfig", key);
	if (run_make(s->path, logfd, olddef)) {
		progress_clear();
		log_tail(log);
		die(KTSTR_EXIT_FAIL, "%s: make olddefconfig failed; full log in %s",
		    s->path, log);
	}
	missing_options(config, &missing);
	if (missing.len) {
		char *pahole = find_program("pahole");
		bool no_pahole = !pahole;

		free(pahole);
		progress_clear();
		die(KTSTR_EXIT_USAGE, "%s: the configured kernel lacks %s, which ktstr "
		    "needs%s; %s", s->path, missing.buf,
		    o->extra.len ? " (check --extra-kconfig)" : "",
		    strstr(missing.buf, "DEBUG_INFO_BTF") && no_pahole ?
		    "CONFIG_DEBUG_INFO_BTF needs pahole: install dwarves and retry" :
		    "fix the config (dependencies?) and retry");
	}
	snprintf(jobs, sizeof(jobs), "-j%lu", o->jobs);
	progress("%s: make %s bzImage (log: %s)", key, jobs, log);
	if (run_make(s->path, logfd, bz)) {
		progress_clear();
		log_tail(log);
		die(KTSTR_EXIT_FAIL, "%s: kernel build failed; full log in %s", s->path, log);
	}
	close(logfd);
	img = path_join(s->path, "arch/x86/boot/bzImage");
	vml = path_join(s->path, "vmlinux");
	if (kernel_image_check(img, &err))
		die(KTSTR_EXIT_FAIL, "build finished but %s", err.buf);

	progress("%s: storing in %s", key, o->root);
	staged = kcache_stage(o->root);
	if (!staged)
		die_errno(KTSTR_EXIT_USAGE, "cannot create a staging directory in %s", o->root);
	dst = path_join(staged, "bzImage");
	if (copy_file(img, dst) < 0)
		goto io_fail;
	free(dst);
	dst = path_join(staged, "config");
	if (copy_file(config, dst) < 0)
		goto io_fail;
	free(dst);
	dst = path_join(staged, "vmlinux");
	if (is_regular_file(vml) && copy_file(vml, dst) < 0)
		goto io_fail;
	free(dst);
	dst = NULL;

	meta = json_object();
	json_set_str(meta, "version", s->version);
	src = json_object();
	json_set_str(src, "type", s->kind);
	json_set_str(src, "path", s->path);
	if (s->url)
		json_set_str(src, "url", s->url);
	if (s->ref)
		json_set_str(src, "ref", s->ref);
	json_object_set_new(meta, "source", src);
	json_set_str(meta, "arch", KCACHE_ARCH);
	json_set_str(meta, "image_name", "bzImage");
	json_set_str(meta, "kconfig_hash", kernel_kconfig_hash());
	if (o->xkc[0])
		json_set_str(meta, "extra_kconfig_hash", o->xkc);
	else
		json_object_set_new(meta, "extra_kconfig_hash", json_null());
	now = iso8601_utc(time(NULL));
	json_set_str(meta, "built_at", now);
	free(now);
	json_set_int(meta, "build_ms", elapsed_ms(&t0));
	if (kcache_write_metadata(staged, meta) < 0)
		goto io_fail;
	json_decref(meta);
	if (kcache_publish(o->root, staged, key, &err)) {
		rm_rf(staged);
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	}
	progress_clear();
	free(staged);
	free(img);
	free(vml);
	free(kconfig);
	free(config);
	free(logdir);
	free(log);
	strbuf_release(&frag);
	strbuf_release(&missing);
	strbuf_release(&err);
	return;
io_fail:
	{
		int e = errno;

		rm_rf(staged);
		errno = e;
		die_errno(KTSTR_EXIT_USAGE, "cannot store the kernel in %s%s%s", o->root,
			  dst ? " at " : "", dst ? dst : "");
	}
}

static void load_or_die(struct opts *o, const char *key, struct kcache_entry *e)
{
	if (kcache_load(o->root, key, kernel_kconfig_hash(), e) != 0)
		die(KTSTR_EXIT_USAGE, "cache entry %s/%s is not usable after the build%s%s",
		    o->root, key, e->error ? ": " : "", e->error ? e->error : "");
}

static void do_source(struct opts *o, struct source *s)
{
	struct kcache_entry e = { 0 };
	struct strbuf err = STRBUF_INIT;
	unsigned long long timeout;
	char *key;
	bool waited, force;
	int lock;

	if (!is_directory(s->path))
		die(KTSTR_EXIT_USAGE, "source %s is not a directory", s->path);
	key = cache_key(o, s);
	/* A dirty tree's key does not pin its contents: always rebuild. */
	force = o->force || s->dirty;
	if (!force && kcache_load(o->root, key, kernel_kconfig_hash(), &e) == 0) {
		emit_kernel(&e, true);
		kcache_entry_release(&e);
		free(key);
		return;
	}
	kcache_entry_release(&e);
	if (kcache_lock_timeout(&timeout, &err))
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	if (mkdir_p(o->root, 0755) < 0)
		die_errno(KTSTR_EXIT_USAGE, "cannot create the kernel cache %s", o->root);
	progress("%s: taking the cache lock", key);
	lock = kcache_lock(o->root, key, timeout, &waited, &err);
	progress_clear();
	if (lock < 0)
		die(KTSTR_EXIT_USAGE, "%s", err.buf);
	/* Another build may have stored it while we waited. */
	if ((!force || waited) &&
	    kcache_load(o->root, key, kernel_kconfig_hash(), &e) == 0) {
		kcache_unlock(lock);
		emit_kernel(&e, true);
		kcache_entry_release(&e);
		free(key);
		return;
	}
	kcache_entry_release(&e);
	build_one(o, s, key);
	kcache_unlock(lock);
	load_or_die(o, key, &e);
	emit_kernel(&e, false);
	kcache_entry_release(&e);
	free(key);
	strbuf_release(&err);
}

static void do_debian(struct opts *o, const char *raw)
{
	struct kcache_entry e;
	char *path = xstrdup(raw), *dir;
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	dir = path_dirname(path);
	if (kcache_load(dir, path_basename(path), NULL, &e) != 0)
		die(KTSTR_EXIT_USAGE, "debian kernel %s is not a usable cache entry%s%s",
		    path, e.error ? ": " : "", e.error ? e.error : "");
	emit_kernel(&e, true);
	kcache_entry_release(&e);
	free(dir);
	free(path);
}

/* One stdin record; returns true when it named a kernel. */
static bool handle_line(struct opts *o, const char *line, size_t len, size_t lineno)
{
	struct strbuf err = STRBUF_INIT;
	json_t *rec;
	const char *kind, *path;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return false;
	rec = jsonl_parse(line, len, &err);
	if (!rec)
		die(KTSTR_EXIT_USAGE, "stdin line %zu: %s", lineno, err.buf);
	strbuf_release(&err);
	if (strcmp(json_get_str(rec, "type"), "source")) {
		/* Other records pass through for the next stage. */
		jsonl_emit(stdout, rec);
		return false;
	}
	kind = json_get_str(rec, "kind");
	path = json_get_str(rec, "path");
	if (!kind || !path)
		die(KTSTR_EXIT_USAGE, "stdin line %zu: source record without kind or path",
		    lineno);
	if (!strcmp(kind, "debian")) {
		do_debian(o, path);
	} else if (!strcmp(kind, "tarball") || !strcmp(kind, "git") ||
		   !strcmp(kind, "path")) {
		struct source s = { .kind = kind };
		const char *v = json_get_str(rec, "version");

		s.path = xstrdup(path);
		s.version = v && *v ? xstrdup(v) : NULL;
		if (json_get_str(rec, "ref"))
			s.ref = xstrdup(json_get_str(rec, "ref"));
		if (json_get_str(rec, "url"))
			s.url = xstrdup(json_get_str(rec, "url"));
		do_source(o, &s);
		free(s.path);
		free(s.version);
		free(s.ref);
		free(s.url);
	} else {
		die(KTSTR_EXIT_USAGE, "stdin line %zu: unknown source kind '%s'", lineno, kind);
	}
	json_decref(rec);
	return true;
}

static void read_stdin(struct opts *o)
{
	struct line_reader lr;
	char buf[8192];
	ssize_t n;
	const char *line;
	size_t len, lineno = 0, kernels = 0;
	bool trunc;

	line_reader_init(&lr, 1 << 20);
	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno(KTSTR_EXIT_USAGE, "reading stdin");
		if (n == 0)
			break;
		line_reader_feed(&lr, buf, (size_t)n);
		while ((line = line_reader_next(&lr, &len, &trunc))) {
			if (trunc)
				die(KTSTR_EXIT_USAGE, "stdin line %zu is too long", lineno + 1);
			kernels += handle_line(o, line, len, ++lineno);
		}
	}
	if ((line = line_reader_rest(&lr, &len)))
		kernels += handle_line(o, line, len, ++lineno);
	line_reader_release(&lr);
	if (!kernels)
		die(KTSTR_EXIT_USAGE, "no {\"type\":\"source\"} records on stdin; pass "
		    "--source DIR or pipe ktstr-fetch into ktstr-build");
}

static const char *status_of(const struct kcache_entry *e)
{
	return e->corrupt ? "corrupt" : e->stale ? "stale-kconfig" : "valid";
}

static int cmd_list(struct opts *o)
{
	struct kcache_entry *v;
	size_t i, n = kcache_list(o->root, kernel_kconfig_hash(), &v);
	bool tty = isatty(1);

	if (tty)
		printf("%-50s %-16s %-8s %-20s %s\n", "KEY", "VERSION", "SOURCE", "BUILT",
		       "STATUS");
	for (i = 0; i < n; i++) {
		const struct kcache_entry *e = &v[i];

		if (tty) {
			printf("%-50s %-16s %-8s %-20s %s\n", e->key, e->version,
			       e->source_type, e->built_at, status_of(e));
			continue;
		}
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
				if (e->kconfig_hash)
					json_set_str(r, "kconfig_hash", e->kconfig_hash);
				else
					json_object_set_new(r, "kconfig_hash", json_null());
				if (e->extra_kconfig_hash)
					json_set_str(r, "extra_kconfig_hash", e->extra_kconfig_hash);
				else
					json_object_set_new(r, "extra_kconfig_hash", json_null());
				if (e->build_ms >= 0)
					json_set_int(r, "build_ms", e->build_ms);
			}
			jsonl_emit(stdout, r);
		}
	}
	fflush(stdout);
	for (i = 0; i < n; i++)
		if (v[i].corrupt)
			diag("%s: corrupt cache entry (%s); remove it with 'ktstr-build clean'",
			     v[i].dir, v[i].error);
	kcache_list_free(v, n);
	return 0;
}

/* Staging and trash dirs left by a killed ktstr-build.  Staging takes
 * seconds (the build itself happens in the source tree), so one untouched
 * for an hour belongs to nobody. */
static void remove_orphans(const char *root)
{
	struct dirent *de;
	DIR *d = opendir(root);
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (strncmp(de->d_name, ".tmp.", 5) && strncmp(de->d_name, ".trash.", 7))
			continue;
		p = path_join(root, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > 3600)
			rm_rf(p);
		free(p);
	}
	closedir(d);
}

static int cmd_clean(struct opts *o)
{
	struct kcache_entry *v;
	unsigned long keep = 0, kept = 0;
	size_t i, n;
	bool tty = isatty(1);
	int rc = 0;

	if (o->keep_arg && parse_ulong(o->keep_arg, 0, ULONG_MAX, &keep))
		usage_error("--keep '%s': expected a whole number, e.g. --keep 2", o->keep_arg);
	n = kcache_list(o->root, kernel_kconfig_hash(), &v);
	for (i = 0; i < n; i++) {
		const struct kcache_entry *e = &v[i];

		if (!e->corrupt && kept < keep) {
			kept++;
			continue;
		}
		if (kcache_remove(o->root, e->key) < 0) {
			diag("cannot remove %s: %s", e->dir, strerror(errno));
			rc = 1;
			continue;
		}
		if (tty) {
			printf("removed %s\n", e->key);
		} else {
			json_t *r = jsonl_record("cache_removed");

			json_set_str(r, "key", e->key);
			json_set_str(r, "status", status_of(e));
			jsonl_emit(stdout, r);
		}
	}
	kcache_list_free(v, n);
	remove_orphans(o->root);
	return rc;
}

/* The cache entry directory of the kernel to build against: --kernel-dir
 * as given, else --kernel or the discovery chain, which must land on a
 * cache entry (its BTF and key are what the build needs). */
static char *sched_kernel_entry(const struct opts *o)
{
	struct kernel_found kf;
	struct strbuf err = STRBUF_INIT;
	char *dir, *meta;

	if (o->kernel_dir)
		return xstrdup(o->kernel_dir);
	if (o->kernel) {
		/* One grammar for kernel ids: the one KTSTR_KERNEL takes. */
		unsetenv("KTSTR_TEST_KERNEL");
		setenv("KTSTR_KERNEL", o->kernel, 1);
	}
	if (kernel_find(NULL, &kf, &err)) {
		/* The chain words it for the variable; the user typed --kernel. */
		struct strbuf m = STRBUF_INIT;
		const char *p = err.buf, *hit;

		while (o->kernel && (hit = strstr(p, "KTSTR_KERNEL"))) {
			strbuf_add(&m, p, (size_t)(hit - p));
			strbuf_addstr(&m, "--kernel");
			p = hit + strlen("KTSTR_KERNEL");
		}
		strbuf_addstr(&m, p);
		die(KTSTR_EXIT_USAGE, "%s", m.buf);
	}
	dir = path_dirname(kf.image);
	meta = path_join(dir, "metadata.json");
	if (!is_regular_file(meta))
		die(KTSTR_EXIT_USAGE, "the kernel %s%s resolved to %s (via %s), which is "
		    "not in the kernel cache; pass --kernel with a cache key or version, "
		    "or build one with ktstr-fetch | ktstr-build",
		    o->kernel ? "--kernel " : "to build against", o->kernel ? o->kernel : "",
		    kf.image, kf.source);
	free(meta);
	kernel_found_release(&kf);
	strbuf_release(&err);
	return dir;
}

/* ktstr-build --sched: resolve the kernel and the output directory, then
 * hand over to share/ktstr/build-sched-tree, which prints the records. */
static int cmd_sched(const struct opts *o)
{
	char *real, *entry, *out, *helper;
	struct strvec argv = STRVEC_INIT;
	char jobs[32];

	if (!is_directory(o->sched))
		die(KTSTR_EXIT_USAGE, "--sched %s: no such directory; pass a scheduler tree "
		    "laid out like the kernel's tools/sched_ext", o->sched);
	entry = sched_kernel_entry(o);
	/* After the kernel, whose errors die: nothing allocated is lost then. */
	real = realpath(o->sched, NULL);
	if (!real)
		die_errno(KTSTR_EXIT_USAGE, "--sched %s", o->sched);
	if (o->out) {
		out = xstrdup(o->out);
	} else {
		char hex[SHA256_HEX_LEN + 1], *root = ktstr_cache_dir("schedulers");
		char *e = xstrdup(entry);
		size_t n = strlen(e);

		if (!root)
			die(KTSTR_EXIT_USAGE, "no cache directory: set KTSTR_CACHE_DIR or HOME, "
			    "or pass --out");
		while (n > 1 && e[n - 1] == '/')
			e[--n] = '\0';
		sha256_buf_hex(real, strlen(real), hex);
		out = xasprintf("%s/%s/custom-%.12s", root, path_basename(e), hex);
		free(root);
		free(e);
	}
	helper = ktstr_share_path("build-sched-tree");
	if (access(helper, X_OK) < 0)
		die(KTSTR_EXIT_USAGE, "%s not found next to ktstr-build; is ktstr installed?",
		    helper);
	snprintf(jobs, sizeof(jobs), "%lu", o->jobs);
	strvec_push(&argv, helper);
	{
		const char *args[] = { "--sched", real, "--kernel-dir", entry, "--out", out,
				       "-j", jobs, "--clang", o->clang };
		size_t i, n = ARRAY_SIZE(args) - (o->clang ? 0 : 2);

		for (i = 0; i < n; i++)
			strvec_push(&argv, args[i]);
	}
	fflush(stdout);
	execv(helper, (char *const *)strvec_argv(&argv));
	die_errno(KTSTR_EXIT_USAGE, "cannot run %s", helper);
}

int main(int argc, char **argv)
{
	struct opts o = { .extra = STRBUF_INIT };
	const char *sub = NULL;
	int c;

	diag_init(argv[0]);
	while ((c = opts_getopt(argc, argv, "s:j:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.source = optarg; break;
		case OPT_EXTRA: o.extra_path = optarg; break;
		case 'j': o.cpu_cap_arg = optarg; break;
		case 'f': o.force = true; break;
		case OPT_KEEP: o.keep_arg = optarg; break;
		case OPT_SCHED: o.sched = optarg; break;
		case OPT_KERNEL: o.kernel = optarg; break;
		case OPT_KERNEL_DIR: o.kernel_dir = optarg; break;
		case OPT_OUT: o.out = optarg; break;
		case OPT_CLANG: o.clang = optarg; break;
		case OPT_HELP: print_help_and_exit(usage_text);
		case OPT_VERSION: print_version_and_exit();
		default: usage_error("unknown option");
		}
	}
	if (optind < argc)
		sub = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (sub && strcmp(sub, "list") && strcmp(sub, "clean"))
		usage_error("unknown command '%s'; expected list or clean", sub);
	if (o.keep_arg && (!sub || strcmp(sub, "clean")))
		usage_error("--keep only goes with 'clean'");
	if (!o.sched && (o.kernel || o.kernel_dir || o.out || o.clang))
		usage_error("--kernel, --kernel-dir, --out and --clang go with --sched DIR");
	if (o.sched && (sub || o.source || o.extra_path || o.force))
		usage_error("--sched builds a scheduler tree; it does not combine with "
			    "list, clean, --source, --extra-kconfig or --force");
	if (o.kernel && o.kernel_dir)
		usage_error("--kernel and --kernel-dir both name the kernel; pass one");
	if (o.sched) {
		resolve_jobs(&o);
		return cmd_sched(&o);
	}
	o.root = ktstr_cache_dir("kernels");
	if (!o.root)
		die(KTSTR_EXIT_USAGE, "no kernel cache directory: set KTSTR_CACHE_DIR or HOME");
	{
		struct strbuf err = STRBUF_INIT;

		if (ktstr_cache_dir_check(o.root, &err))
			die(KTSTR_EXIT_USAGE, "%s", err.buf);
	}
	if (sub) {
		int rc = !strcmp(sub, "list") ? cmd_list(&o) : cmd_clean(&o);

		free(o.root);
		return rc;
	}

	resolve_jobs(&o);
	/* Keep the caller's make and build settings (a parent make's jobserver,
	 * O=, ARCH=) out of the kernel's Makefiles, as build-schedulers does. */
	{
		static const char *const drop[] = {
			"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "O", "KBUILD_OUTPUT",
			"ARCH", "CROSS_COMPILE", "CFLAGS", "LDFLAGS", "CPPFLAGS", "EXTRA_CFLAGS",
			"OUTPUT", "V", "W",
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(drop); i++)
			unsetenv(drop[i]);
	}
	if (o.extra_path) {
		if (strbuf_read_file(&o.extra, o.extra_path) < 0)
			die_errno(KTSTR_EXIT_USAGE, "--extra-kconfig %s", o.extra_path);
		kcache_crc32_hex(o.extra.buf, o.extra.len, o.xkc);
	}
	if (!*kernel_kconfig_hash())
		die(KTSTR_EXIT_USAGE, "ktstr.kconfig not found next to ktstr-build "
		    "(share/ktstr); is ktstr installed?");
	if (o.source) {
		struct source s = { .kind = "path", .path = xstrdup(o.source) };

		do_source(&o, &s);
		free(s.path);
		free(s.version);
	} else {
		if (isatty(0))
			usage_error("no source: pass --source DIR or pipe ktstr-fetch "
				    "output into ktstr-build");
		read_stdin(&o);
	}
	strbuf_release(&o.extra);
	free(o.root);
	return 0;
}
