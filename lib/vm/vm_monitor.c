#include "vm_monitor.h"
#include "diag.h"
#include "dirs.h"
#include "fsutil.h"
#include "hash.h"
#include "jsonl.h"
#include "monitor.h"
#include "monitor_layout.h"
#include "progress.h"
#include "qmp.h"
#include "run.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long QEMU may take to answer on QMP: its main loop runs beside the
 * vCPU thread, so this is a bound for a host under heavy load. */
#define QMP_TIMEOUT_MS 3000
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

/* Write a cache entry (a second run writing the same one races
 * harmlessly: each rename is whole).  what: for the warning. */
static void cache_store(const char *path, const json_t *j, const char *what)
{
	char *text = json_dumps(j, JSON_COMPACT);
	char *dir = path_dirname(path);

	if (text && mkdir_p(dir, 0755) == 0 &&
	    write_file_atomic(path, text, strlen(text), 0644) < 0)
		diag("cannot cache the %s in %s: %s", what, path, strerror(errno));
	free(text);
	free(dir);
}

/* A cached layout that does not parse (another ktstr's version, a
 * damaged file) is removed and read from the BTF again. */
static json_t *load_layout(const char *path)
{
	struct monitor_layout l;
	struct strbuf err = STRBUF_INIT;
	json_t *j = json_load_file(path, 0, NULL);

	if (!j)
		return NULL;
	if (monitor_layout_parse(&l, j, &err) < 0) {
		json_decref(j);
		j = NULL;
		unlink(path);
	} else {
		monitor_layout_release(&l);
	}
	strbuf_release(&err);
	return j;
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
			struct qemu_spec *s, const int qmp[2], json_t *request,
			void (*emit)(json_t *, void *), void *ctx)
{
	struct strbuf why = STRBUF_INIT;
	char *key, *cache;

	memset(m, 0, sizeof(*m));
	m->emit = emit;
	m->ctx = ctx;
	m->qmp_fd = -1;
	m->stop_since_ms = -1;
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
	cache = key ? ktstr_cache_dir("ksyms") : NULL;
	if (cache) {
		char *btf_key = image_key(m->btf_path);

		m->syms_cache = xasprintf("%s/%s.json", cache, key);
		m->syms = load_syms(m->syms_cache);
		if (btf_key) {
			m->layout_cache = xasprintf("%s/%s.layout.json", cache, btf_key);
			m->layout = load_layout(m->layout_cache);
		}
		free(btf_key);
	}
	free(cache);
	if (!m->syms && request)
		json_set_bool(request, "kernel_symbols", true);
	m->interval_ms = interval_ms;
	m->nodes = s->topo.nodes;
	m->node_bytes = (uint64_t)(s->memory_mib / s->topo.nodes) << 20;
	m->ncpus = topo_cpus(&s->topo);
	m->hz = config_hz(kernel);
	/* QEMU's end of the QMP channel; ours stays with the caller, which
	 * closes both. */
	m->qmp_fd = qmp[0];
	s->qmp = true;
	s->qmp_fd = qmp[1];
out:
	free(key);
	strbuf_release(&why);
}

/* Where QEMU keeps each node's RAM, asked over QMP, then opened for
 * reading.  The backends are named ktstr-mem<N> (lib/vm/qemu.c). */
static int open_ram(struct vm_monitor *m, pid_t qemu_pid, struct strbuf *err)
{
	uint64_t *hvas = xcalloc(m->nodes, sizeof(*hvas));
	uint64_t *sizes = xcalloc(m->nodes, sizeof(*sizes));
	struct strbuf text = STRBUF_INIT;
	struct qmp q;
	int rc = -1;

	if (qmp_open(&q, m->qmp_fd, QMP_TIMEOUT_MS, err) < 0)
		goto out;
	if (qmp_hmp(&q, "info ramblock", &text, err) < 0)
		goto out_q;
	for (unsigned i = 0; i < m->nodes; i++) {
		struct qmp_ramblock rb;
		char name[32];

		snprintf(name, sizeof(name), QEMU_RAM_BACKEND_PREFIX "%u", i);
		if (qmp_ramblock_find(text.buf, name, &rb, err) < 0)
			goto out_q;
		if (rb.used != m->node_bytes) {
			strbuf_addf(err, "QEMU's RAM block %s has %llu bytes, not the %llu "
				    "asked for", name, (unsigned long long)rb.used,
				    (unsigned long long)m->node_bytes);
			goto out_q;
		}
		hvas[i] = rb.hva;
		sizes[i] = rb.used;
	}
	rc = guestmem_open(&m->gm, qemu_pid, hvas, sizes, m->nodes, GUESTMEM_BELOW_4G_AUTO, err);
out_q:
	qmp_release(&q);
out:
	strbuf_release(&text);
	free(hvas);
	free(sizes);
	return rc;
}

static void start(struct vm_monitor *m, const json_t *rec, pid_t qemu_pid, long long t_ms)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_symbols syms;
	struct monitor_config mc = { 0 };

	if (monitor_symbols_parse(rec, &syms, &err) < 0) {
		unavailable(m, "bad kernel_symbols record: %s", err.buf);
		goto out;
	}
	if (open_ram(m, qemu_pid, &err) < 0) {
		unavailable(m, "%s", err.buf);
		goto out;
	}
	vcpu_threads_find(&m->vt, "/proc", qemu_pid, m->ncpus);
	mc.gm = &m->gm;
	mc.btf_path = m->btf_path;
	mc.layout = m->layout;
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
	m->wait_ns = xcalloc(m->ncpus, sizeof(*m->wait_ns));
	m->stopped_ms = 0;
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

void vm_monitor_preload(struct vm_monitor *m)
{
	struct strbuf why = STRBUF_INIT;
	struct monitor_layout l;
	struct kbtf btf;

	if (!m->interval_ms || m->layout)
		return;
	/* A failure leaves m->layout NULL; monitor_open reads the BTF again
	 * and reports why. */
	if (kbtf_open(&btf, m->btf_path, &why) == 0 && monitor_layout_read(&l, &btf, &why) == 0) {
		m->layout = monitor_layout_json(&l);
		monitor_layout_release(&l);
		if (m->layout_cache)
			cache_store(m->layout_cache, m->layout, "kernel's BTF layout");
	}
	kbtf_close(&btf);
	strbuf_release(&why);
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
	if (m->syms_cache)
		cache_store(m->syms_cache, rec, "kernel symbols");
	start(m, rec, qemu_pid, t_ms);
}

long long vm_monitor_wait_ms(const struct vm_monitor *m, long long t_ms)
{
	if (!m->running)
		return -1;
	return m->next_ms > t_ms ? m->next_ms - t_ms : 0;
}

/* A guest is still scheduling when a runqueue clock advanced this recently
 * before the last sample (vm_monitor_describe). */
#define MOVING_WINDOW_MS 2000

/* How many CPUs' runqueue clocks moved in a sample. */
static int clocks_moving(const json_t *rec, int *n)
{
	const json_t *adv = json_object_get(rec, "clock_adv_us"), *x;
	size_t i;
	int moving = 0;

	*n = (int)json_array_size(adv);
	json_array_foreach(adv, i, x)
		if (json_is_number(x) && json_number_value(x) > 0)
			moving++;
	return moving;
}

static void record_moving(struct vm_monitor *m, const json_t *rec, long long t_ms)
{
	int n, moving = clocks_moving(rec, &n);

	if (moving) {
		m->moving_ms = t_ms;
		m->moving = moving;
		m->moving_of = n;
	}
}

void vm_monitor_qemu_stopped(struct vm_monitor *m, bool stopped, long long t_ms)
{
	if (stopped && m->stop_since_ms < 0) {
		m->stop_since_ms = t_ms;
	} else if (!stopped && m->stop_since_ms >= 0) {
		m->stopped_ms += t_ms - m->stop_since_ms;
		m->stop_since_ms = -1;
	}
}

/* How long QEMU was stopped since the last sample (the vCPU threads'
 * waits for a host CPU are monitor_sample's vcpu_wait_us).  The guest's
 * clock ran on through both. */
static void add_stopped(struct vm_monitor *m, json_t *rec, long long t_ms)
{
	if (m->stop_since_ms >= 0) {
		m->stopped_ms += t_ms - m->stop_since_ms;
		m->stop_since_ms = t_ms;
	}
	json_set_int(rec, "qemu_stopped_us", m->stopped_ms * 1000);
	m->stopped_ms = 0;
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
	have_ns = vcpu_threads_read(&m->vt, "/proc", m->vcpu_ns, m->wait_ns);
	rec = monitor_sample(m->mon, t_ms, have_ns ? m->vcpu_ns : NULL,
			     have_ns ? m->wait_ns : NULL);
	if (!rec)
		return;
	add_stopped(m, rec, t_ms);
	m->samples++;
	json_decref(m->last);
	m->last = json_incref(rec);
	record_moving(m, rec, t_ms);
	m->emit(rec, m->ctx);
}

void vm_monitor_describe(const struct vm_monitor *m, long long t_ms, struct strbuf *out)
{
	long long last_ms;

	if (!m->last)
		return;
	last_ms = json_get_int(m->last, "t_ms", t_ms);
	strbuf_addf(out, "last monitor sample %lld ms ago: ", t_ms - last_ms);
	/* An idle guest (a command sleeping) can pass a sample or two
	 * without a tick on any CPU: judge by the last MOVING_WINDOW_MS. */
	if (m->moving && last_ms - m->moving_ms <= MOVING_WINDOW_MS)
		strbuf_addf(out, "the guest kernel was still scheduling (%d of %d runqueue "
			    "clocks advanced %lld ms before it)", m->moving, m->moving_of,
			    last_ms - m->moving_ms);
	else
		strbuf_addf(out, "no runqueue clock advanced in the last %d ms of samples "
			    "(guest kernel frozen)", MOVING_WINDOW_MS);
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
	json_decref(m->layout);
	free(m->layout_cache);
	json_decref(m->last);
	json_decref(m->syms);
	free(m->vcpu_ns);
	free(m->wait_ns);
	free(m->btf_path);
	free(m->syms_cache);
	memset(m, 0, sizeof(*m));
}
