/* Building a kernel source tree into the kernel cache; see kbuild.h. */
#include "kbuild.h"
#include "clock.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "jsonl.h"
#include "kernel.h"
#include "progress.h"
#include "run.h"
#include "strvec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const required_opts[] = {
	"CONFIG_SCHED_CLASS_EXT", "CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF_SYSCALL",
	"CONFIG_KPROBE_EVENTS", "CONFIG_BPF_EVENTS", "CONFIG_FTRACE",
};

int kbuild_init(struct kbuild *b, char *root, const char *extra_path,
		struct strbuf *err)
{
	/* The caller's make and build settings (a parent make's jobserver, O=,
	 * ARCH=) would steer the kernel's Makefiles, as in build-schedulers. */
	static const char *const drop[] = {
		"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "O", "KBUILD_OUTPUT",
		"ARCH", "CROSS_COMPILE", "CFLAGS", "LDFLAGS", "CPPFLAGS", "EXTRA_CFLAGS",
		"OUTPUT", "V", "W",
	};
	size_t i;

	b->root = root;
	strbuf_init(&b->extra, 0);
	b->xkc[0] = '\0';
	b->failed_log = NULL;
	for (i = 0; i < ARRAY_SIZE(drop); i++)
		unsetenv(drop[i]);
	if (extra_path) {
		if (strbuf_read_file(&b->extra, extra_path) < 0) {
			strbuf_addf(err, "--extra-kconfig %s: %s", extra_path, strerror(errno));
			return -1;
		}
		kcache_crc32_hex(b->extra.buf, b->extra.len, b->xkc);
	}
	if (!*kernel_kconfig_hash()) {
		strbuf_addstr(err, "ktstr.kconfig not found next to ktstr-build "
			      "(share/ktstr); is ktstr installed?");
		return -1;
	}
	return 0;
}

void kbuild_release(struct kbuild *b)
{
	strbuf_release(&b->extra);
	free(b->root);
	free(b->failed_log);
	b->root = b->failed_log = NULL;
}

unsigned long kbuild_default_jobs(void)
{
	cpu_set_t set;
	unsigned long n = 1, j;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = (unsigned long)CPU_COUNT(&set);
	j = n * 30 / 100;
	return j ? j : 1;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int kbuild_source_from_record(const json_t *rec, struct kbuild_source *s,
			      struct strbuf *err)
{
	const char *kind = json_get_str(rec, "kind"), *path = json_get_str(rec, "path");
	const char *v = json_get_str(rec, "version");

	memset(s, 0, sizeof(*s));
	if (!kind || !path) {
		strbuf_addstr(err, "source record without kind or path");
		return -1;
	}
	if (strcmp(kind, "debian") && strcmp(kind, "tarball") && strcmp(kind, "git") &&
	    strcmp(kind, "path")) {
		strbuf_addf(err, "unknown source kind '%s'", kind);
		return -1;
	}
	s->kind = xstrdup(kind);
	s->path = xstrdup(path);
	s->version = v && *v ? xstrdup(v) : NULL;
	s->ref = dup_or_null(json_get_str(rec, "ref"));
	s->url = dup_or_null(json_get_str(rec, "url"));
	return 0;
}

void kbuild_source_release(struct kbuild_source *s)
{
	free(s->kind);
	free(s->path);
	free(s->version);
	free(s->ref);
	free(s->url);
	memset(s, 0, sizeof(*s));
}

/* ---- the cache key ------------------------------------------------------ */

/* One trimmed line of a command's stdout; NULL on failure. */
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

/* The tree's HEAD when it is its own git repository (not one it sits
 * inside), with *dirty set for modified tracked files; else the crc32 of
 * its location.  Caller frees. */
static char *tree_hash(const char *path, bool *dirty)
{
	const char *rev[] = { "git", "-C", path, "rev-parse", "--show-toplevel", NULL };
	const char *head[] = { "git", "-C", path, "rev-parse", "HEAD", NULL };
	const char *st[] = { "git", "-C", path, "status", "--porcelain",
			     "--untracked-files=no", NULL };
	char *top = capture_line(rev), *real = realpath(path, NULL), *hash = NULL;

	*dirty = false;
	if (top && real && !strcmp(top, real))
		hash = capture_line(head);
	if (hash) {
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

		if (run_capture(st, &out, &err) != 0 || out.len)
			*dirty = true;
		strbuf_release(&out);
		strbuf_release(&err);
	} else {
		char hex[9];
		const char *p = real ? real : path;

		kcache_crc32_hex(p, strlen(p), hex);
		hash = xstrdup(hex);
	}
	free(top);
	free(real);
	return hash;
}

int kbuild_cache_key(const struct kbuild *b, struct kbuild_source *s, char **key,
		     struct strbuf *err)
{
	const char *kc = kernel_kconfig_hash();
	const char *xkc = b->xkc[0] ? b->xkc : NULL;
	char *hash;

	if (!s->version) {
		const char *argv[] = { "make", "-s", "-C", s->path, "kernelversion", NULL };

		s->version = capture_line(argv);
		if (!s->version) {
			strbuf_addf(err, "%s: 'make kernelversion' failed; is this a kernel "
				    "source tree?", s->path);
			return KTSTR_EXIT_USAGE;
		}
	}
	if (!strcmp(s->kind, "tarball")) {
		*key = kcache_key_tarball(s->version, kc, xkc);
		return 0;
	}
	hash = tree_hash(s->path, &s->dirty);
	if (!strcmp(s->kind, "git"))
		*key = kcache_key_git(s->ref ? s->ref : "HEAD", hash, kc, xkc);
	else
		*key = kcache_key_local(hash, s->dirty, kc, xkc);
	free(hash);
	return 0;
}

/* ---- configure and compile ---------------------------------------------- */

int kbuild_missing_options(const char *config, struct strbuf *missing)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int n = 0;

	/* Framed by newlines so every option is matched as a whole line. */
	strbuf_addch(&sb, '\n');
	if (strbuf_read_file(&sb, config) < 0) {
		strbuf_release(&sb);
		strbuf_addf(missing, "%s unreadable", config);
		return 1;
	}
	strbuf_addch(&sb, '\n');
	for (i = 0; i < ARRAY_SIZE(required_opts); i++) {
		char *want = xasprintf("\n%s=y\n", required_opts[i]);

		if (!strstr(sb.buf, want)) {
			strbuf_addf(missing, "%s%s", missing->len ? ", " : "", required_opts[i]);
			n++;
		}
		free(want);
	}
	strbuf_release(&sb);
	return n;
}

void kbuild_log_tail(const char *log, size_t max, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, lines = 0;

	if (strbuf_read_file(&sb, log) < 0)
		return;
	for (i = sb.len; i > 0; i--)
		if (sb.buf[i - 1] == '\n' && ++lines > max)
			break;
	strbuf_addstr(out, sb.buf + i);
	strbuf_release(&sb);
}

/* One build in progress: its tree, key, log and start time. */
struct job {
	struct kbuild *b;
	const struct kbuild_source *s;
	const char *key;
	char *log;
	int logfd;
	struct timespec t0;
};

/* Run make in the tree with its output appended to the log.  On failure
 * err says what failed and where the log is, and the log is kept for the
 * caller's tail. */
static int run_make(struct job *j, const char *const *args, const char *what,
		    struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	struct run_opts ro = RUN_OPTS_INIT;
	pid_t pid;

	strvec_push(&argv, "make");
	strvec_push(&argv, "-C");
	strvec_push(&argv, j->s->path);
	for (; *args; args++)
		strvec_push(&argv, *args);
	ro.stdin_fd = RUN_FD_NULL;
	ro.stdout_fd = j->logfd;
	ro.stderr_fd = j->logfd;
	ro.die_with_parent = true;
	pid = run_spawn((const char *const *)argv.v, &ro);
	strvec_clear(&argv);
	if (pid < 0) {
		strbuf_addf(err, "cannot run make: %s", strerror(errno));
		return KTSTR_EXIT_USAGE;
	}
	if (run_wait(pid) == 0)
		return 0;
	progress_clear();
	free(j->b->failed_log);
	j->b->failed_log = xstrdup(j->log);
	strbuf_addf(err, "%s: %s failed; full log in %s", j->s->path, what, j->log);
	return KTSTR_EXIT_FAIL;
}

static int open_log(struct job *j, struct strbuf *err)
{
	char *logdir = ktstr_state_dir("build");
	int rc = 0;

	j->log = logdir ? xasprintf("%s/%s.log", logdir, j->key) : NULL;
	if (!j->log || mkdir_p(logdir, 0755) < 0) {
		strbuf_addf(err, "cannot create the build log directory %s: %s",
			    logdir ? logdir : "(no HOME)", strerror(errno));
		rc = KTSTR_EXIT_USAGE;
	} else {
		j->logfd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (j->logfd < 0) {
			strbuf_addf(err, "cannot write %s: %s", j->log, strerror(errno));
			rc = KTSTR_EXIT_USAGE;
		}
	}
	free(logdir);
	return rc;
}

/* ktstr.kconfig, then the extra fragment, appended to .config: kconfig's
 * last occurrence of an option wins. */
static int append_fragments(struct job *j, const char *config, struct strbuf *err)
{
	char *kconfig = ktstr_share_path("ktstr.kconfig");
	struct strbuf frag = STRBUF_INIT;
	int fd, rc = 0;

	if (strbuf_read_file(&frag, kconfig) < 0) {
		strbuf_addf(err, "cannot read %s: %s", kconfig, strerror(errno));
		rc = KTSTR_EXIT_USAGE;
		goto out;
	}
	strbuf_addch(&frag, '\n');
	if (j->b->extra.len) {
		strbuf_add(&frag, j->b->extra.buf, j->b->extra.len);
		strbuf_addch(&frag, '\n');
	}
	fd = open(config, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write_all(fd, frag.buf, frag.len) < 0 || close(fd) < 0) {
		strbuf_addf(err, "cannot append to %s: %s", config, strerror(errno));
		rc = KTSTR_EXIT_USAGE;
	}
out:
	strbuf_release(&frag);
	free(kconfig);
	return rc;
}

/* The options ktstr needs must survive olddefconfig. */
static int check_config(struct job *j, const char *config, struct strbuf *err)
{
	struct strbuf missing = STRBUF_INIT;
	char *pahole;
	bool no_btf;

	if (!kbuild_missing_options(config, &missing)) {
		strbuf_release(&missing);
		return 0;
	}
	pahole = find_program("pahole");
	no_btf = strstr(missing.buf, "DEBUG_INFO_BTF") && !pahole;
	progress_clear();
	strbuf_addf(err, "%s: the configured kernel lacks %s, which ktstr needs%s; %s",
		    j->s->path, missing.buf,
		    j->b->extra.len ? " (check --extra-kconfig)" : "",
		    no_btf ? "CONFIG_DEBUG_INFO_BTF needs pahole: install dwarves and retry"
			   : "fix the config (dependencies?) and retry");
	free(pahole);
	strbuf_release(&missing);
	return KTSTR_EXIT_USAGE;
}

/* defconfig, the fragments, olddefconfig, the check, then bzImage. */
static int configure_and_make(struct job *j, struct strbuf *err)
{
	const char *defconfig[] = { "defconfig", NULL };
	const char *olddef[] = { "olddefconfig", NULL };
	char jobs[32];
	const char *bz[] = { jobs, "bzImage", NULL };
	char *config = path_join(j->s->path, ".config");
	int rc;

	progress("%s: make defconfig", j->key);
	if ((rc = run_make(j, defconfig, "make defconfig", err)) ||
	    (rc = append_fragments(j, config, err)))
		goto out;
	progress("%s: make olddefconfig", j->key);
	if ((rc = run_make(j, olddef, "make olddefconfig", err)) ||
	    (rc = check_config(j, config, err)))
		goto out;
	snprintf(jobs, sizeof(jobs), "-j%lu", j->b->jobs);
	progress("%s: make %s bzImage (log: %s)", j->key, jobs, j->log);
	rc = run_make(j, bz, "kernel build", err);
out:
	free(config);
	return rc;
}

/* ---- store -------------------------------------------------------------- */

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

static long long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static json_t *metadata(const struct job *j)
{
	json_t *meta = json_object(), *src = json_object();
	char *now = iso8601_utc(time(NULL));

	json_set_str(meta, "version", j->s->version);
	json_set_str(src, "type", j->s->kind);
	json_set_str(src, "path", j->s->path);
	if (j->s->url)
		json_set_str(src, "url", j->s->url);
	if (j->s->ref)
		json_set_str(src, "ref", j->s->ref);
	json_object_set_new(meta, "source", src);
	json_set_str(meta, "arch", KCACHE_ARCH);
	json_set_str(meta, "image_name", "bzImage");
	json_set_str(meta, "kconfig_hash", kernel_kconfig_hash());
	if (j->b->xkc[0])
		json_set_str(meta, "extra_kconfig_hash", j->b->xkc);
	else
		json_object_set_new(meta, "extra_kconfig_hash", json_null());
	json_set_str(meta, "built_at", now);
	json_set_int(meta, "build_ms", elapsed_ms(&j->t0));
	free(now);
	return meta;
}

/* Copy the image, config and vmlinux (when built) into staged, then the
 * metadata; on failure *failed names the file that could not be written. */
static int fill_staged(const struct job *j, const char *staged, char **failed)
{
	const char *files[][2] = {
		{ "arch/x86/boot/bzImage", "bzImage" },
		{ ".config", "config" },
		{ "vmlinux", "vmlinux" },
	};
	size_t i;
	json_t *meta;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(files) && !rc; i++) {
		char *from = path_join(j->s->path, files[i][0]);
		char *to = path_join(staged, files[i][1]);

		/* A tree without vmlinux still boots; the others must be there. */
		if ((i < 2 || is_regular_file(from)) && copy_file(from, to) < 0) {
			*failed = to;
			to = NULL;
			rc = -1;
		}
		free(from);
		free(to);
	}
	if (rc)
		return rc;
	meta = metadata(j);
	rc = kcache_write_metadata(staged, meta);
	json_decref(meta);
	return rc;
}

static int store(const struct job *j, struct strbuf *err)
{
	char *staged, *failed = NULL;

	progress("%s: storing in %s", j->key, j->b->root);
	staged = kcache_stage(j->b->root);
	if (!staged) {
		strbuf_addf(err, "cannot create a staging directory in %s: %s",
			    j->b->root, strerror(errno));
		return KTSTR_EXIT_USAGE;
	}
	if (fill_staged(j, staged, &failed) < 0) {
		int e = errno;

		rm_rf(staged);
		strbuf_addf(err, "cannot store the kernel in %s%s%s: %s", j->b->root,
			    failed ? " at " : "", failed ? failed : "", strerror(e));
		free(failed);
		free(staged);
		return KTSTR_EXIT_USAGE;
	}
	if (kcache_publish(j->b->root, staged, j->key, err)) {
		rm_rf(staged);
		free(staged);
		return KTSTR_EXIT_USAGE;
	}
	progress_clear();
	free(staged);
	return 0;
}

/* Configure, build, check the image, stage and publish under key. */
static int build_one(struct kbuild *b, const struct kbuild_source *s, const char *key,
		     struct strbuf *err)
{
	struct job j = { .b = b, .s = s, .key = key, .logfd = -1 };
	char *img = path_join(s->path, "arch/x86/boot/bzImage");
	struct strbuf why = STRBUF_INIT;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &j.t0);
	rc = open_log(&j, err);
	if (!rc)
		rc = configure_and_make(&j, err);
	if (j.logfd >= 0)
		close(j.logfd);
	if (!rc && kernel_image_check(img, &why)) {
		strbuf_addf(err, "build finished but %s", why.buf);
		rc = KTSTR_EXIT_FAIL;
	}
	if (!rc)
		rc = store(&j, err);
	strbuf_release(&why);
	free(img);
	free(j.log);
	return rc;
}

/* ---- the cache ---------------------------------------------------------- */

/* A debian record names a cache entry (<cache>/debian-...) already. */
static int debian_entry(const char *raw, struct kcache_entry *e, struct strbuf *err)
{
	char *path = xstrdup(raw), *dir;
	size_t len = strlen(path);
	int rc = 0;

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	dir = path_dirname(path);
	if (kcache_load(dir, path_basename(path), NULL, e) != 0) {
		strbuf_addf(err, "debian kernel %s is not a usable cache entry%s%s", path,
			    e->error ? ": " : "", e->error ? e->error : "");
		rc = KTSTR_EXIT_USAGE;
	}
	free(dir);
	free(path);
	return rc;
}

/* Build key under its store lock unless another build stored it while
 * we waited for the lock (or it is there and not forced). */
static int build_locked(struct kbuild *b, const struct kbuild_source *s, const char *key,
			bool force, struct kcache_entry *e, bool *cached, struct strbuf *err)
{
	unsigned long long timeout;
	bool waited;
	int lock, rc;

	if (kcache_lock_timeout(&timeout, err))
		return KTSTR_EXIT_USAGE;
	if (mkdir_p(b->root, 0755) < 0) {
		strbuf_addf(err, "cannot create the kernel cache %s: %s", b->root,
			    strerror(errno));
		return KTSTR_EXIT_USAGE;
	}
	progress("%s: taking the cache lock", key);
	lock = kcache_lock(b->root, key, timeout, &waited, err);
	progress_clear();
	if (lock < 0)
		return KTSTR_EXIT_USAGE;
	if ((!force || waited) && kcache_load(b->root, key, kernel_kconfig_hash(), e) == 0) {
		kcache_unlock(lock);
		*cached = true;
		return 0;
	}
	kcache_entry_release(e);
	rc = build_one(b, s, key, err);
	kcache_unlock(lock);
	if (rc)
		return rc;
	if (kcache_load(b->root, key, kernel_kconfig_hash(), e) != 0) {
		strbuf_addf(err, "cache entry %s/%s is not usable after the build%s%s",
			    b->root, key, e->error ? ": " : "", e->error ? e->error : "");
		return KTSTR_EXIT_USAGE;
	}
	return 0;
}

int kbuild_get(struct kbuild *b, struct kbuild_source *s, struct kcache_entry *e,
	       bool *cached, struct strbuf *err)
{
	char *key = NULL;
	bool force;
	int rc;

	memset(e, 0, sizeof(*e));
	*cached = false;
	if (!strcmp(s->kind, "debian")) {
		*cached = true;
		return debian_entry(s->path, e, err);
	}
	if (!is_directory(s->path)) {
		strbuf_addf(err, "source %s is not a directory", s->path);
		return KTSTR_EXIT_USAGE;
	}
	if ((rc = kbuild_cache_key(b, s, &key, err)))
		return rc;
	/* A dirty tree's key does not pin its contents: always rebuild. */
	force = b->force || s->dirty;
	if (!force && kcache_load(b->root, key, kernel_kconfig_hash(), e) == 0) {
		*cached = true;
		free(key);
		return 0;
	}
	kcache_entry_release(e);
	rc = build_locked(b, s, key, force, e, cached, err);
	free(key);
	return rc;
}
