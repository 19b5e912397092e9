/* The guest_topology and agent_ready records.
 *
 * The host compares these with the topology it asked QEMU for, so lists
 * are passed on exactly as the kernel prints them (cpulist strings), in a
 * stable order: nodes by id, everything else by first CPU.
 *
 * The topology is read under a root directory, "" in the guest: unit
 * tests pass a fake sysfs tree (sysinfo_topology_at). */
#include "agent.h"
#include "diag.h"
#include "jsonl.h"
#include "strbuf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CPU_DIR "/sys/devices/system/cpu"
#define NODE_DIR "/sys/devices/system/node"

/* Trimmed contents of a small sysfs file, or NULL; caller frees. */
char *sysinfo_read_trimmed(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

static char *read_trimmedf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *read_trimmedf(const char *fmt, ...)
{
	struct strbuf path = STRBUF_INIT;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	strbuf_vaddf(&path, fmt, ap);
	va_end(ap);
	s = sysinfo_read_trimmed(path.buf);
	strbuf_release(&path);
	return s;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* Numbers N of the entries "<prefix>N" in dir, sorted; *n = count.
 * Returns NULL (and *n = 0) when dir is missing.  Caller frees. */
static unsigned *numbered_entries(const char *dir, const char *prefix, size_t *n)
{
	size_t plen = strlen(prefix), alloc = 0;
	unsigned *v = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		const char *p = de->d_name + plen;
		char *end;
		unsigned long num;

		if (strncmp(de->d_name, prefix, plen) || !isdigit((unsigned char)*p))
			continue;
		num = strtoul(p, &end, 10);
		if (*end)
			continue;
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[(*n)++] = (unsigned)num;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_unsigned);
	return v;
}

static void add_distinct(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (!s)
		return;
	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return;
	json_array_append_new(arr, json_string(s));
}

/* Number of CPUs in a cpulist ("0-3,6"), or -1 if it does not parse. */
static long cpulist_count(const char *s)
{
	long count = 0;

	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		count += (long)(b - a + 1);
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return count;
}

/* The CPUs sharing cpu's last-level cache: index3 (L3) when present,
 * otherwise the highest cache index the CPU has. */
static char *llc_list(const char *root, unsigned cpu)
{
	char *dir, *s;
	unsigned *idx;
	size_t n;

	s = read_trimmedf("%s" CPU_DIR "/cpu%u/cache/index3/shared_cpu_list", root, cpu);
	if (s)
		return s;
	dir = xasprintf("%s" CPU_DIR "/cpu%u/cache", root, cpu);
	idx = numbered_entries(dir, "index", &n);
	s = n ? read_trimmedf("%s/index%u/shared_cpu_list", dir, idx[n - 1]) : NULL;
	free(idx);
	free(dir);
	return s;
}

/* llcs, cores and smt: one pass over the CPUs in id order.  Offline CPUs
 * have no topology or cache directory and drop out by themselves. */
static void add_cpu_groups(json_t *rec, const char *root)
{
	json_t *llcs = json_array(), *cores = json_array(), *smt = json_array();
	char *dir = xasprintf("%s" CPU_DIR, root);
	unsigned *cpus;
	size_t n, i;

	cpus = numbered_entries(dir, "cpu", &n);
	for (i = 0; i < n; i++) {
		char *llc = llc_list(root, cpus[i]);
		/* core_cpus_list is the newer name (5.x) of thread_siblings_list:
		 * the kernel prints the same mask (topology_sibling_cpumask) in
		 * both, so one read gives cores and smt alike; each sysfs read
		 * costs here, before every boot's agent_ready (issue 16). */
		char *thr = read_trimmedf("%s/cpu%u/topology/core_cpus_list", dir, cpus[i]);

		if (!thr)
			thr = read_trimmedf("%s/cpu%u/topology/thread_siblings_list", dir, cpus[i]);
		add_distinct(llcs, llc);
		add_distinct(cores, thr);
		add_distinct(smt, thr);
		free(llc);
		free(thr);
	}
	free(cpus);
	free(dir);
	json_object_set_new(rec, "llcs", llcs);
	json_object_set_new(rec, "cores", cores);
	json_object_set_new(rec, "smt", smt);
}

/* Each node's cpulist by node id; a kernel without NUMA is one node. */
static json_t *node_lists(const char *root, const char *online)
{
	json_t *nodes = json_array();
	char *dir = xasprintf("%s" NODE_DIR, root);
	unsigned *ids;
	size_t n, i;

	ids = numbered_entries(dir, "node", &n);
	for (i = 0; i < n; i++) {
		char *s = read_trimmedf("%s/node%u/cpulist", dir, ids[i]);

		json_array_append_new(nodes, json_string(s ? s : ""));
		free(s);
	}
	free(ids);
	free(dir);
	if (!n && online)
		json_array_append_new(nodes, json_string(online));
	return nodes;
}

json_t *sysinfo_topology_at(const char *root)
{
	json_t *rec = jsonl_record("guest_topology");
	char *online = read_trimmedf("%s" CPU_DIR "/online", root);
	long cpus = online ? cpulist_count(online) : -1;

	if (cpus < 0)
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	json_set_int(rec, "cpus", cpus);
	json_set_str(rec, "online", online);
	json_object_set_new(rec, "nodes", node_lists(root, online));
	add_cpu_groups(rec, root);
	free(online);
	return rec;
}

json_t *sysinfo_topology(void)
{
	return sysinfo_topology_at("");
}

/* /proc/uptime's clock, to the millisecond (the file has centiseconds):
 * the same clock as the agent's init_uptime_ms. */
long long sysinfo_uptime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

json_t *sysinfo_ready(long long init_uptime_ms)
{
	char *cmdline = sysinfo_read_trimmed("/proc/cmdline");

	json_t *rec = jsonl_record("agent_ready");
	struct utsname u;
	char *scx = sysinfo_read_trimmed("/sys/kernel/sched_ext/state");

	json_set_int(rec, "uptime_ms", sysinfo_uptime_ms());
	/* Kernel boot against the agent's own start-up (issue 16); null
	 * when the agent is not the guest's init (host mode). */
	if (init_uptime_ms >= 0)
		json_set_int(rec, "init_uptime_ms", init_uptime_ms);
	else
		json_object_set_new(rec, "init_uptime_ms", json_null());
	json_set_str(rec, "kernel_release", uname(&u) == 0 ? u.release : NULL);
	json_set_str(rec, "sched_ext_state", scx);
	json_set_str(rec, "cmdline", cmdline);
	/* No sysctls here: listing /proc/sys/kernel instantiates all ~150
	 * of its entries, 10-20 ms under TCG on every boot (issue 16).
	 * scenario_start carries the sched_* knobs, where a run is judged. */
	free(scx);
	free(cmdline);
	return rec;
}
