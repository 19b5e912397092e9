/* The host-mode monitor (hostmon.h): the running kernel's per-CPU state
 * from its own text files, as monitor records.  The parsing is in
 * hostmon_parse.c; this file reads the files, keeps the previous reading
 * for the per-interval fields and builds the records. */
#include "hostmon.h"
#include "cpulist.h"
#include "diag.h"
#include "fsutil.h"
#include "hostmon_parse.h"
#include "jsonl.h"
#include "topo.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A file bigger than this is not one of the kernel's (the debug file of a
 * 1024-CPU box with 100k threads is about 30 MiB). */
#define MAX_FILE_BYTES (256u << 20)
#define READ_CHUNK 65536

#define DEBUGFS_FILE	"/sys/kernel/debug/sched/debug"
#define PROCFS_DEBUG	"/proc/sched_debug"	/* before Linux 5.13 */
#define STAT_FILE	"/proc/stat"
#define PRESENT_FILE	"/sys/devices/system/cpu/present"
#define ONLINE_FILE	"/sys/devices/system/cpu/online"
#define SCX_DIR		"/sys/kernel/sched_ext"

enum cpu_source { SRC_SCHED_DEBUG, SRC_PROC_STAT };

struct hostmon {
	char *root;
	int interval_ms;
	unsigned ncpu;
	enum cpu_source src;
	char *cpu_file;		/* root + the file the per-CPU state comes from */
	char *fallback_reason;	/* why not the debug file, for monitor_start */
	bool have_idle, have_clock;	/* the debug file's fields at open */
	bool scx;		/* the kernel has /sys/kernel/sched_ext */
	long self_tid;		/* 0: the calling thread */

	struct strbuf buf;	/* one file's text, reused */
	struct hostmon_cpu *cpu, *prev_cpu;
	struct hostmon_stat *st, *prev_st;
	bool *online;		/* sysfs's online mask, this sample */

	unsigned long long samples, skipped;
	double sum_us, max_us;
	char skip_reason[256];
};

/* ---- files -------------------------------------------------------------- */

static char *rooted(const struct hostmon *h, const char *path)
{
	return xasprintf("%s%s", h->root, path);
}

/* The whole of path into h->buf: open, read to the end, close.  -1 with
 * "path: why" in why and errno set. */
static int read_whole(struct hostmon *h, const char *path, struct strbuf *why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = fd < 0 ? errno : 0;

	strbuf_reset(&h->buf);
	while (fd >= 0) {
		ssize_t n;

		strbuf_grow(&h->buf, READ_CHUNK);
		n = read(fd, h->buf.buf + h->buf.len, h->buf.alloc - h->buf.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		strbuf_setlen(&h->buf, h->buf.len + (size_t)n);
		if (h->buf.len > MAX_FILE_BYTES) {
			err = EFBIG;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	if (err)
		strbuf_addf(why, "%s: %s", path, strerror(err));
	errno = err;
	return err ? -1 : 0;
}

static int read_rooted(struct hostmon *h, const char *path, struct strbuf *why)
{
	char *p = rooted(h, path);
	int rc = read_whole(h, p, why);

	free(p);
	return rc;
}

struct cpumax {
	unsigned max;
	bool *mask;
	unsigned ncpu;
};

static void note_range(unsigned lo, unsigned hi, void *arg)
{
	struct cpumax *c = arg;

	if (hi + 1 > c->max)
		c->max = hi + 1;
	for (unsigned i = lo; c->mask && i <= hi && i < c->ncpu; i++)
		c->mask[i] = true;
}

/* The CPU count from sysfs's present list; 0 when unreadable. */
static unsigned present_cpus(struct hostmon *h)
{
	struct strbuf why = STRBUF_INIT;
	struct cpumax c = { 0 };

	if (read_rooted(h, PRESENT_FILE, &why) == 0 &&
	    cpulist_scan(h->buf.buf, KTSTR_TOPO_MAX_CPUS, CPULIST_KERNEL, note_range, &c,
			 NULL) < 0)
		c.max = 0;
	strbuf_release(&why);
	return c.max;
}

/* sysfs's online list into h->online; false when unreadable. */
static bool read_online(struct hostmon *h)
{
	struct strbuf why = STRBUF_INIT;
	struct cpumax c = { 0, h->online, h->ncpu };
	bool ok;

	memset(h->online, 0, h->ncpu * sizeof(*h->online));
	ok = read_rooted(h, ONLINE_FILE, &why) == 0 &&
	     cpulist_scan(h->buf.buf, KTSTR_TOPO_MAX_CPUS, CPULIST_KERNEL, note_range, &c,
			  NULL) == 0;
	strbuf_release(&why);
	return ok;
}

/* ---- open --------------------------------------------------------------- */

static void alloc_cpus(struct hostmon *h, unsigned ncpu)
{
	h->ncpu = ncpu;
	h->cpu = xcalloc(ncpu, sizeof(*h->cpu));
	h->prev_cpu = xcalloc(ncpu, sizeof(*h->prev_cpu));
	h->st = xcalloc(ncpu, sizeof(*h->st));
	h->prev_st = xcalloc(ncpu, sizeof(*h->prev_st));
	h->online = xcalloc(ncpu, sizeof(*h->online));
}

/* The highest CPU with a section + 1. */
static unsigned highest_seen(const struct hostmon_cpu *c, const struct hostmon_stat *s,
			     unsigned n)
{
	while (n && !(c ? c[n - 1].have & HC_SEEN : s[n - 1].seen))
		n--;
	return n;
}

/* Parse the debug file in h->buf as the baseline; sizes the arrays first
 * when the CPU count is not known yet.  -1 with why. */
static int debug_baseline(struct hostmon *h, unsigned ncpu, struct strbuf *why)
{
	struct hostmon_cpu *tmp;
	unsigned i, n = ncpu ? ncpu : KTSTR_TOPO_MAX_CPUS;

	tmp = xcalloc(n, sizeof(*tmp));
	if (hostmon_parse_sched_debug(h->buf.buf, h->buf.len, tmp, n, why) < 0) {
		free(tmp);
		return -1;
	}
	h->have_idle = h->have_clock = true;
	for (i = 0; i < n; i++) {
		if (!(tmp[i].have & HC_SEEN))
			continue;
		if (!(tmp[i].have & HC_NR)) {
			strbuf_addf(why, "CPU %u has no .nr_running", i);
			free(tmp);
			return -1;
		}
		h->have_idle &= !!(tmp[i].have & HC_PID);
		h->have_clock &= !!(tmp[i].have & HC_CLOCK);
	}
	alloc_cpus(h, ncpu ? ncpu : highest_seen(tmp, NULL, n));
	memcpy(h->prev_cpu, tmp, h->ncpu * sizeof(*tmp));
	free(tmp);
	return 0;
}

static int stat_baseline(struct hostmon *h, unsigned ncpu, struct strbuf *why)
{
	struct hostmon_stat *tmp;
	unsigned n = ncpu ? ncpu : KTSTR_TOPO_MAX_CPUS;

	tmp = xcalloc(n, sizeof(*tmp));
	if (hostmon_parse_proc_stat(h->buf.buf, h->buf.len, tmp, n, why) < 0) {
		free(tmp);
		return -1;
	}
	alloc_cpus(h, ncpu ? ncpu : highest_seen(NULL, tmp, n));
	memcpy(h->prev_st, tmp, h->ncpu * sizeof(*tmp));
	free(tmp);
	return 0;
}

/* Try the debug file where it is now, then where old kernels had it. */
static int open_debug(struct hostmon *h, unsigned ncpu, struct strbuf *why)
{
	static const char *const paths[] = { DEBUGFS_FILE, PROCFS_DEBUG };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *p = rooted(h, paths[i]);

		if (i)
			strbuf_addstr(why, "; ");
		if (read_whole(h, p, why) < 0) {
			if (i == 0 && errno == ENOENT)
				strbuf_addstr(why, " (is debugfs mounted? mount -t debugfs none "
					      "/sys/kernel/debug)");
			free(p);
			continue;
		}
		strbuf_addf(why, "%s: ", p);
		if (debug_baseline(h, ncpu, why) == 0) {
			h->cpu_file = p;
			h->src = SRC_SCHED_DEBUG;
			return 0;
		}
		free(p);
	}
	return -1;
}

/* The fallback: /proc/stat's idle shares.  -1 with why. */
static int open_stat(struct hostmon *h, unsigned ncpu, struct strbuf *why)
{
	h->cpu_file = rooted(h, STAT_FILE);
	h->src = SRC_PROC_STAT;
	if (read_whole(h, h->cpu_file, why) < 0)
		return -1;
	strbuf_addf(why, "%s: ", h->cpu_file);
	return stat_baseline(h, ncpu, why);
}

struct hostmon *hostmon_open(const char *root, int interval_ms, struct strbuf *err)
{
	struct hostmon *h = xcalloc(1, sizeof(*h));
	struct strbuf why = STRBUF_INIT;
	unsigned ncpu;
	char *scx;

	h->root = xstrdup(root ? root : "");
	h->interval_ms = interval_ms;
	strbuf_init(&h->buf, READ_CHUNK);
	ncpu = present_cpus(h);
	if (open_debug(h, ncpu, &why) < 0) {
		h->fallback_reason = xstrdup(why.buf);
		strbuf_addstr(&why, "; ");
		if (open_stat(h, ncpu, &why) < 0) {
			strbuf_addf(err, "no per-CPU scheduler state to read: %s", why.buf);
			strbuf_release(&why);
			hostmon_close(h);
			return NULL;
		}
	}
	strbuf_release(&why);
	scx = rooted(h, SCX_DIR);
	h->scx = is_directory(scx);
	free(scx);
	return h;
}

void hostmon_close(struct hostmon *h)
{
	if (!h)
		return;
	free(h->root);
	free(h->cpu_file);
	free(h->fallback_reason);
	strbuf_release(&h->buf);
	free(h->cpu);
	free(h->prev_cpu);
	free(h->st);
	free(h->prev_st);
	free(h->online);
	free(h);
}

/* ---- small API ---------------------------------------------------------- */

int hostmon_poll_ms(const char *v)
{
	unsigned long long x = 0;
	size_t n = v ? strlen(v) : 0;

	if (!n || strspn(v, "0123456789") != n)
		return HOSTMON_DEFAULT_POLL_MS;
	while (n > 1 && *v == '0')
		v++, n--;
	if (n > 9)
		return HOSTMON_MAX_POLL_MS;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (unsigned)(v[i] - '0');
	if (!x)
		return HOSTMON_DEFAULT_POLL_MS;
	if (x < HOSTMON_MIN_POLL_MS)
		return HOSTMON_MIN_POLL_MS;
	return x > HOSTMON_MAX_POLL_MS ? HOSTMON_MAX_POLL_MS : (int)x;
}

int hostmon_cpus(const struct hostmon *h)
{
	return (int)h->ncpu;
}

const char *hostmon_cpu_source(const struct hostmon *h)
{
	return h->src == SRC_SCHED_DEBUG ? "sched_debug" : "proc_stat";
}

const char *hostmon_last_skip_reason(const struct hostmon *h)
{
	return h->skip_reason;
}

void hostmon_set_self_tid(struct hostmon *h, long tid)
{
	h->self_tid = tid;
}

/* ---- records ------------------------------------------------------------ */

static void add_str(json_t *arr, const char *s)
{
	json_array_append_new(arr, json_string(s));
}

/* The names of the sched_ext event counters readable now. */
static json_t *event_names(struct hostmon *h)
{
	struct strbuf why = STRBUF_INIT;
	json_t *a = json_array(), *ev = NULL, *v;
	const char *k;

	if (h->scx && read_rooted(h, SCX_DIR "/root/events", &why) == 0)
		ev = hostmon_parse_events(h->buf.buf, h->buf.len, &why);
	json_object_foreach(ev, k, v)
		add_str(a, k);
	json_decref(ev);
	strbuf_release(&why);
	return a;
}

json_t *hostmon_start_record(struct hostmon *h, long long t_ms)
{
	json_t *r = jsonl_record("monitor_start"), *f = json_array();

	json_set_int(r, "t_ms", t_ms);
	json_set_int(r, "cpus", h->ncpu);
	json_set_int(r, "interval_ms", h->interval_ms);
	json_set_str(r, "source", "host");
	json_set_str(r, "cpu_source", hostmon_cpu_source(h));
	json_set_str(r, "cpu_file", h->cpu_file);
	if (h->fallback_reason)
		json_set_str(r, "fallback_reason", h->fallback_reason);
	if (h->src == SRC_SCHED_DEBUG)
		add_str(f, "nr_running");
	if (h->src == SRC_PROC_STAT || h->have_idle)
		add_str(f, "idle");
	if (h->src == SRC_SCHED_DEBUG && h->have_clock)
		add_str(f, "clock_adv_us");
	add_str(f, "online");
	json_object_set_new(r, "fields", f);
	json_object_set_new(r, "events", event_names(h));
	json_set_bool(r, "sched_ext", h->scx);
	return r;
}

json_t *hostmon_end_record(struct hostmon *h, long long t_ms)
{
	json_t *r = jsonl_record("monitor_end");
	unsigned long long n = h->samples + h->skipped;

	json_set_int(r, "t_ms", t_ms);
	json_set_int(r, "samples", (long long)h->samples);
	json_set_int(r, "skipped", (long long)h->skipped);
	json_set_real(r, "sample_us_mean", round((n ? h->sum_us / (double)n : 0.0) * 100) / 100);
	json_set_real(r, "sample_us_max", round(h->max_us * 100) / 100);
	if (h->skipped && h->skip_reason[0])
		json_set_str(r, "last_skip_reason", h->skip_reason);
	return r;
}

/* ---- sampling ----------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void skip(struct hostmon *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->skip_reason, sizeof(h->skip_reason), fmt, ap);
	va_end(ap);
}

/* An online CPU (by sysfs) that the per-CPU file did not list: the read
 * was cut short, or a CPU came up between the two reads.  -1 when so. */
static int check_online(struct hostmon *h)
{
	for (unsigned i = 0; i < h->ncpu; i++) {
		bool seen = h->src == SRC_SCHED_DEBUG ? h->cpu[i].have & HC_SEEN : h->st[i].seen;

		if (h->online[i] && !seen) {
			skip(h, "CPU %u is online but not in %s (a cut read?)", i, h->cpu_file);
			return -1;
		}
	}
	return 0;
}

/* Read and parse the per-CPU file into h->cpu or h->st; -1 skips. */
static int read_cpus(struct hostmon *h)
{
	struct strbuf why = STRBUF_INIT;
	bool online_ok = read_online(h);
	int rc;

	rc = read_whole(h, h->cpu_file, &why);
	if (rc == 0) {
		strbuf_addf(&why, "%s: ", h->cpu_file);
		rc = h->src == SRC_SCHED_DEBUG
			? hostmon_parse_sched_debug(h->buf.buf, h->buf.len, h->cpu, h->ncpu, &why)
			: hostmon_parse_proc_stat(h->buf.buf, h->buf.len, h->st, h->ncpu, &why);
	}
	if (rc < 0)
		skip(h, "%s", why.buf);
	strbuf_release(&why);
	if (rc < 0 || (online_ok && check_online(h) < 0))
		return -1;
	return 0;
}

static json_t *ints(const unsigned long long *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* The debug file's arrays.  nr_running is the one a sample needs: an
 * online CPU without it skips the sample; idle and clock_adv_us are left
 * out when some online CPU lacks them. */
static int debug_arrays(struct hostmon *h, json_t *r)
{
	unsigned long long *nr, *idle, *adv;
	bool pid_ok = h->have_idle, clock_ok = h->have_clock;
	long self = h->self_tid ? h->self_tid : (long)gettid();
	long long mon_cpu = -1;
	unsigned i;

	for (i = 0; i < h->ncpu; i++)
		if ((h->cpu[i].have & (HC_SEEN | HC_NR)) == HC_SEEN) {
			skip(h, "%s: CPU %u has no .nr_running", h->cpu_file, i);
			return -1;
		}
	nr = xcalloc(h->ncpu, sizeof(*nr));
	idle = xcalloc(h->ncpu, sizeof(*idle));
	adv = xcalloc(h->ncpu, sizeof(*adv));
	for (i = 0; i < h->ncpu; i++) {
		const struct hostmon_cpu *c = &h->cpu[i], *p = &h->prev_cpu[i];

		if (!(c->have & HC_SEEN))
			continue;
		pid_ok &= !!(c->have & HC_PID);
		clock_ok &= !!(c->have & HC_CLOCK);
		nr[i] = c->nr_running;
		idle[i] = c->curr_pid == 0;
		/* The monitor's own thread on this CPU: as if it were not there. */
		if ((c->have & HC_PID) && c->curr_pid == self) {
			nr[i] -= nr[i] > 0;
			idle[i] = nr[i] == 0;
			mon_cpu = mon_cpu < 0 ? i : mon_cpu;
		}
		if ((p->have & HC_CLOCK) && (c->have & HC_CLOCK) && c->clock_ns > p->clock_ns)
			adv[i] = (c->clock_ns - p->clock_ns) / 1000;
	}
	json_object_set_new(r, "nr_running", ints(nr, h->ncpu));
	if (pid_ok)
		json_object_set_new(r, "idle", ints(idle, h->ncpu));
	if (clock_ok)
		json_object_set_new(r, "clock_adv_us", ints(adv, h->ncpu));
	if (mon_cpu >= 0)
		json_set_int(r, "monitor_cpu", mon_cpu);
	free(nr);
	free(idle);
	free(adv);
	return 0;
}

/* /proc/stat's: idle when the CPU idled at least half the time since the
 * last reading; left out when some online CPU's ticks did not move. */
static void stat_arrays(struct hostmon *h, json_t *r)
{
	unsigned long long *idle = xcalloc(h->ncpu, sizeof(*idle));
	bool ok = true;

	for (unsigned i = 0; i < h->ncpu && ok; i++) {
		const struct hostmon_stat *c = &h->st[i], *p = &h->prev_st[i];

		if (!c->seen)
			continue;
		ok = p->seen && c->total > p->total && c->idle >= p->idle &&
		     c->idle - p->idle <= c->total - p->total;
		if (ok)
			idle[i] = 2 * (c->idle - p->idle) >= c->total - p->total;
	}
	if (ok)
		json_object_set_new(r, "idle", ints(idle, h->ncpu));
	free(idle);
}

static json_t *online_array(const struct hostmon *h)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < h->ncpu; i++)
		json_array_append_new(a, json_integer(h->src == SRC_SCHED_DEBUG
						      ? !!(h->cpu[i].have & HC_SEEN)
						      : h->st[i].seen));
	return a;
}

/* scx_state, scx_ops and events; each left out when unreadable. */
static void scx_fields(struct hostmon *h, json_t *r)
{
	struct strbuf why = STRBUF_INIT;
	char word[65];
	json_t *ev;

	if (!h->scx)
		return;
	if (read_rooted(h, SCX_DIR "/state", &why) == 0 &&
	    hostmon_parse_word(h->buf.buf, h->buf.len, word, sizeof(word))) {
		json_set_bytes(r, "scx_state", word, strlen(word));
		if (!strcmp(word, "disabled"))
			goto out;	/* no root/ without a scheduler */
	}
	if (read_rooted(h, SCX_DIR "/root/ops", &why) == 0 &&
	    hostmon_parse_word(h->buf.buf, h->buf.len, word, sizeof(word)))
		json_set_bytes(r, "scx_ops", word, strlen(word));
	if (read_rooted(h, SCX_DIR "/root/events", &why) == 0 &&
	    (ev = hostmon_parse_events(h->buf.buf, h->buf.len, &why)))
		json_object_set_new(r, "events", ev);
out:
	strbuf_release(&why);
}

static void swap_readings(struct hostmon *h)
{
	struct hostmon_cpu *c = h->cpu;
	struct hostmon_stat *s = h->st;

	h->cpu = h->prev_cpu;
	h->prev_cpu = c;
	h->st = h->prev_st;
	h->prev_st = s;
}

static json_t *sample(struct hostmon *h, long long t_ms)
{
	json_t *r;

	if (read_cpus(h) < 0)
		return NULL;
	r = jsonl_record("monitor");
	json_set_int(r, "t_ms", t_ms);
	if (h->src == SRC_SCHED_DEBUG && debug_arrays(h, r) < 0) {
		json_decref(r);
		return NULL;
	}
	if (h->src == SRC_PROC_STAT)
		stat_arrays(h, r);
	json_object_set_new(r, "online", online_array(h));
	scx_fields(h, r);
	swap_readings(h);
	return r;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

json_t *hostmon_sample(struct hostmon *h, long long t_ms)
{
	double t0 = now_us(), us;
	json_t *r = sample(h, t_ms);

	us = now_us() - t0;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
	if (r)
		h->samples++;
	else
		h->skipped++;
	return r;
}
