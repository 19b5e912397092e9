#include "vm_monitor.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "monitor.h"
#include "progress.h"
#include "run.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Guest RAM goes on tmpfs: a disk-backed file would make every guest
 * write a page-cache write-back. */
#define SHM_DIR "/dev/shm"
#define MEM_DIR_PREFIX "ktstr-vm-"
/* The user's own choice: recorded for ktstr-stats, not worth a warning. */
#define OFF_BY_FLAG "turned off with --no-monitor"

/* The monitor_unavailable record, with the reason on stderr too. */
static void unavailable(struct vm_monitor *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void unavailable(struct vm_monitor *m, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *rec = jsonl_record("monitor_unavailable");
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	json_set_str(rec, "reason", sb.buf);
	if (strcmp(sb.buf, OFF_BY_FLAG))
		diag("host-side monitor off: %s", sb.buf);
	m->emit(rec, m->ctx);
	strbuf_release(&sb);
}

/* "<image path>\n<size>\n<mtime>": a rebuilt image gets a new key. */
static char *image_key(const char *image)
{
	char hex[SHA256_HEX_LEN + 1];
	struct strbuf sb = STRBUF_INIT;
	char *real = realpath(image, NULL);
	struct stat st;

	if (!real || stat(real, &st) < 0) {
		free(real);
		return NULL;
	}
	strbuf_addf(&sb, "%s\n%lld\n%lld.%09ld", real, (long long)st.st_size,
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	sha256_buf_hex(sb.buf, sb.len, hex);
	strbuf_release(&sb);
	free(real);
	return xstrdup(hex);
}

/* The ELF vmlinux of image, for its BTF: beside the image (the kernel
 * cache keeps one there), at the top of a build tree, or extracted once
 * into the cache.  NULL with the reason in why. */
static char *find_vmlinux(const char *image, const char *key, struct strbuf *why)
{
	char *dir = path_dirname(image), *p = path_join(dir, "vmlinux");
	const char *tail = "/arch/x86/boot/bzImage";
	size_t n = strlen(image), t = strlen(tail);
	char *cache, *script;
	const char *argv[6];
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	free(dir);
	if (is_regular_file(p))
		return p;
	free(p);
	if (n > t && !strcmp(image + n - t, tail)) {
		char *root = xstrndup(image, n - t);

		p = path_join(root, "vmlinux");
		free(root);
		if (is_regular_file(p))
			return p;
		free(p);
	}
	cache = ktstr_cache_dir("vmlinux");
	if (!cache || !key) {
		strbuf_addf(why, "no vmlinux beside %s and no cache directory to extract "
			    "one into", image);
		free(cache);
		return NULL;
	}
	p = xasprintf("%s/%s.vmlinux", cache, key);
	if (is_regular_file(p)) {
		free(cache);
		return p;
	}
	script = ktstr_share_path("extract-vmlinux");
	if (mkdir_p(cache, 0755) < 0) {
		strbuf_addf(why, "cannot create %s: %s", cache, strerror(errno));
		goto fail;
	}
	progress("extracting vmlinux from %s for its BTF", image);
	argv[0] = script;
	argv[1] = "-o";
	argv[2] = p;
	argv[3] = image;
	argv[4] = NULL;
	rc = run_capture(argv, &out, &err);
	progress_clear();
	if (rc == 0 && is_regular_file(p)) {
		free(cache);
		free(script);
		strbuf_release(&out);
		strbuf_release(&err);
		return p;
	}
	strbuf_trim(&err);
	strbuf_addf(why, "kernel has no BTF: no vmlinux beside %s and none with a .BTF "
		    "section inside it (%s); build it with CONFIG_DEBUG_INFO_BTF=y",
		    image, err.len ? err.buf : "extract-vmlinux failed");
fail:
	free(cache);
	free(script);
	free(p);
	strbuf_release(&out);
	strbuf_release(&err);
	return NULL;
}

/* CONFIG_HZ from the kernel config beside the image (the kernel cache
 * keeps one there), or 0: the monitor then works it out from jiffies. */
static int config_hz(const char *image)
{
	char *dir = path_dirname(image), *p = path_join(dir, "config");
	FILE *f = fopen(p, "re");
	char line[256];
	int hz = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CONFIG_HZ=%d", &hz) == 1)
			break;
	if (f)
		fclose(f);
	free(dir);
	free(p);
	return hz > 0 && hz <= 10000 ? hz : 0;
}

/* RAM directories of ktstr-vm processes that died before unlinking them
 * (killed during boot): they hold the guest's whole memory. */
static void sweep_stale(void)
{
	DIR *d = opendir(SHM_DIR);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *end, *path;
		long pid;

		if (strncmp(de->d_name, MEM_DIR_PREFIX, strlen(MEM_DIR_PREFIX)))
			continue;
		pid = strtol(de->d_name + strlen(MEM_DIR_PREFIX), &end, 10);
		if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = path_join(SHM_DIR, de->d_name);
		rm_rf(path);
		free(path);
	}
	if (d)
		closedir(d);
}

static json_t *load_syms(const char *path)
{
	json_t *rec = path ? json_load_file(path, 0, NULL) : NULL;

	if (rec && (!json_is_object(rec) || !json_is_object(json_object_get(rec, "symbols")))) {
		json_decref(rec);
		rec = NULL;
	}
	return rec;
}

void vm_monitor_prepare(struct vm_monitor *m, unsigned interval_ms, const char *kernel,
			struct qemu_spec *s, json_t *request,
			void (*emit)(json_t *, void *), void *ctx)
{
	struct strbuf why = STRBUF_INIT;
	struct statvfs vfs;
	char *key, *prefix, *cache;

	memset(m, 0, sizeof(*m));
	m->emit = emit;
	m->ctx = ctx;
	if (s->shell)
		return;
	if (!interval_ms) {
		unavailable(m, OFF_BY_FLAG);
		return;
	}
	key = image_key(kernel);
	m->btf_path = find_vmlinux(kernel, key, &why);
	if (!m->btf_path) {
		unavailable(m, "%s", why.buf);
		goto out;
	}
	sweep_stale();
	/* tmpfs pages are allocated as the guest touches them: a /dev/shm
	 * too small for the guest would kill QEMU with SIGBUS mid-run. */
	if (statvfs(SHM_DIR, &vfs) < 0 || access(SHM_DIR, W_OK) < 0) {
		unavailable(m, SHM_DIR " is not usable (%s); the monitor needs a tmpfs "
			    "for the guest's RAM", strerror(errno));
		goto out;
	}
	if ((unsigned long long)vfs.f_bavail * vfs.f_frsize < (unsigned long long)s->memory_mib << 20) {
		unavailable(m, SHM_DIR " has %llu MiB free but the guest has %u MiB of RAM; "
			    "enlarge it or lower --memory",
			    (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20, s->memory_mib);
		goto out;
	}
	prefix = xasprintf(MEM_DIR_PREFIX "%d-", (int)getpid());
	m->mem_dir = make_temp_dir(SHM_DIR, prefix);
	free(prefix);
	if (!m->mem_dir) {
		unavailable(m, "cannot create a directory for the guest's RAM files in "
			    SHM_DIR ": %s", strerror(errno));
		goto out;
	}
	cache = key ? ktstr_cache_dir("ksyms") : NULL;
	if (cache) {
		m->syms_cache = xasprintf("%s/%s.json", cache, key);
		m->syms = load_syms(m->syms_cache);
	}
	free(cache);
	if (!m->syms && request)
		json_set_bool(request, "kernel_symbols", true);
	m->interval_ms = interval_ms;
	m->nodes = s->topo.nodes;
	m->node_bytes = (uint64_t)(s->memory_mib / s->topo.nodes) << 20;
	m->ncpus = topo_cpus(&s->topo);
	m->hz = config_hz(kernel);
	s->mem_dir = m->mem_dir;
out:
	free(key);
	strbuf_release(&why);
}

static void remove_mem_dir(struct vm_monitor *m)
{
	if (!m->mem_dir)
		return;
	rm_rf(m->mem_dir);
	free(m->mem_dir);
	m->mem_dir = NULL;
}

/* Map the node files and drop their names at once. */
static int map_ram(struct vm_monitor *m, struct strbuf *err)
{
	int *fds = xcalloc(m->nodes, sizeof(*fds));
	uint64_t *sizes = xcalloc(m->nodes, sizeof(*sizes));
	unsigned i;
	int rc = -1;

	for (i = 0; i < m->nodes; i++)
		fds[i] = -1;
	for (i = 0; i < m->nodes; i++) {
		char *path = qemu_mem_path(m->mem_dir, i);

		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			strbuf_addf(err, "cannot open the guest RAM file %s: %s", path,
				    strerror(errno));
		sizes[i] = m->node_bytes;
		free(path);
		if (fds[i] < 0)
			goto out;
	}
	rc = guestmem_open_fds(&m->gm, fds, sizes, m->nodes, GUESTMEM_BELOW_4G_AUTO, err);
out:
	for (i = 0; i < m->nodes; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(sizes);
	remove_mem_dir(m);
	return rc;
}

static void start(struct vm_monitor *m, const json_t *rec, pid_t qemu_pid, long long t_ms)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_symbols syms;
	struct monitor_config mc = { 0 };

	if (monitor_symbols_parse(rec, &syms, &err) < 0) {
		unavailable(m, "bad kernel_symbols record: %s", err.buf);
		remove_mem_dir(m);
		goto out;
	}
	if (map_ram(m, &err) < 0) {
		unavailable(m, "%s", err.buf);
		goto out;
	}
	vcpu_threads_find(&m->vt, "/proc", qemu_pid, m->ncpus);
	mc.gm = &m->gm;
	mc.btf_path = m->btf_path;
	mc.syms = &syms;
	mc.cpus = (int)m->ncpus;
	mc.interval_ms = (int)m->interval_ms;
	mc.hz = m->hz;
	mc.vcpu_threads = vcpu_threads_kind_name(m->vt.kind);
	m->mon = monitor_open(&mc, &err);
	if (!m->mon) {
		unavailable(m, "%s", err.buf);
		guestmem_close(&m->gm);
		vcpu_threads_release(&m->vt);
		goto out;
	}
	m->vcpu_ns = xcalloc(m->ncpus, sizeof(*m->vcpu_ns));
	m->running = true;
	m->next_ms = t_ms;
	{
		json_t *start_rec = monitor_start_record(m->mon, t_ms);

		/* Runqueues are worth watching without sched_ext too, but the
		 * user should know why the scheduler fields are missing. */
		json_set_bool(start_rec, "sched_ext", syms.scx_root != 0);
		if (!syms.scx_root)
			diag("kernel has no sched_ext (no scx_root in /proc/kallsyms): the "
			     "monitor samples runqueues only");
		m->emit(start_rec, m->ctx);
	}
out:
	strbuf_release(&err);
}

void vm_monitor_agent_ready(struct vm_monitor *m, pid_t qemu_pid, long long t_ms)
{
	if (!m->interval_ms || !m->syms || m->running)
		return;
	start(m, m->syms, qemu_pid, t_ms);
	/* Cached symbols that did not work (a stale or tampered entry) are
	 * dropped, so the next run asks the guest afresh. */
	if (!m->running && m->syms_cache)
		unlink(m->syms_cache);
}

void vm_monitor_symbols(struct vm_monitor *m, const json_t *rec, pid_t qemu_pid,
			long long t_ms)
{
	if (!m->interval_ms || m->running || m->syms)
		return;
	/* Symbols of a kernel image do not change with nokaslr (which ktstr
	 * always boots with); a second copy of a run races harmlessly. */
	if (m->syms_cache) {
		char *text = json_dumps(rec, JSON_COMPACT);
		char *dir = path_dirname(m->syms_cache);

		if (text && mkdir_p(dir, 0755) == 0 &&
		    write_file_atomic(m->syms_cache, text, strlen(text), 0644) < 0)
			diag("cannot cache the kernel symbols in %s: %s", m->syms_cache,
			     strerror(errno));
		free(text);
		free(dir);
	}
	start(m, rec, qemu_pid, t_ms);
}

long long vm_monitor_wait_ms(const struct vm_monitor *m, long long t_ms)
{
	if (!m->running)
		return -1;
	return m->next_ms > t_ms ? m->next_ms - t_ms : 0;
}

void vm_monitor_sample(struct vm_monitor *m, long long t_ms)
{
	bool have_ns;
	json_t *rec;

	if (!m->running)
		return;
	/* Next slot on the grid, skipping the ones a stall of ours missed. */
	while (m->next_ms <= t_ms)
		m->next_ms += m->interval_ms;
	have_ns = vcpu_threads_read(&m->vt, "/proc", m->vcpu_ns);
	rec = monitor_sample(m->mon, t_ms, have_ns ? m->vcpu_ns : NULL);
	if (!rec)
		return;
	m->samples++;
	json_decref(m->last);
	m->last = json_incref(rec);
	m->emit(rec, m->ctx);
}

/* How many CPUs' runqueue clocks moved in the last sample. */
static int clocks_moving(const json_t *last, int *n)
{
	const json_t *adv = json_object_get(last, "clock_adv_us"), *x;
	size_t i;
	int moving = 0;

	*n = (int)json_array_size(adv);
	json_array_foreach(adv, i, x)
		if (json_is_number(x) && json_number_value(x) > 0)
			moving++;
	return moving;
}

void vm_monitor_describe(const struct vm_monitor *m, long long t_ms, struct strbuf *out)
{
	int n, moving;

	if (!m->last)
		return;
	moving = clocks_moving(m->last, &n);
	strbuf_addf(out, "last monitor sample %lld ms ago: ", t_ms -
		    json_get_int(m->last, "t_ms", t_ms));
	if (moving)
		strbuf_addf(out, "the guest kernel was still scheduling (%d of %d runqueue "
			    "clocks advancing)", moving, n);
	else
		strbuf_addf(out, "no runqueue clock was advancing (guest kernel frozen)");
}

void vm_monitor_finish(struct vm_monitor *m, long long t_ms)
{
	if (m->running) {
		json_t *rec = monitor_end_record(m->mon, t_ms);

		m->emit(rec, m->ctx);
		monitor_close(m->mon);
		guestmem_close(&m->gm);
		vcpu_threads_release(&m->vt);
	}
	remove_mem_dir(m);
	json_decref(m->last);
	json_decref(m->syms);
	free(m->vcpu_ns);
	free(m->btf_path);
	free(m->syms_cache);
	memset(m, 0, sizeof(*m));
}
