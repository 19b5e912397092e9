/* The host-wide blocks of a ctprof capture: what machine and kernel, the
 * scheduler's tunables, sched_ext's state, and the cgroups the threads
 * live in.  Everything is optional: a file that is missing or unreadable
 * leaves its field out. */
#include "ctprof.h"
#include "ctprof_parse.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Trimmed contents of a file named by a format, or NULL.  Caller frees. */
static char *slurpf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *slurpf(const char *fmt, ...)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	strbuf_vaddf(&path, fmt, ap);
	va_end(ap);
	rc = strbuf_read_file(&sb, path.buf);
	strbuf_release(&path);
	if (rc < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

static void set_owned_str(json_t *o, const char *key, char *val)
{
	if (val)
		json_set_bytes(o, key, val, strlen(val));
	free(val);
}

/* Whole-number content as an integer field; anything else is left out. */
static void set_owned_int(json_t *o, const char *key, char *val)
{
	long long v;

	if (val && ctprof_parse_ll(val, &v) == 0)
		json_set_int(o, key, v);
	free(val);
}

/* First "key : value" line of /proc/cpuinfo with this key. */
static char *cpuinfo_field(const char *proc, const char *key)
{
	char *text = slurpf("%s/cpuinfo", proc), *line, *save = NULL, *res = NULL;
	size_t klen = strlen(key);

	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon;

		if (strncmp(line, key, klen) || !(colon = strchr(line + klen, ':')))
			continue;
		if (strspn(line + klen, " \t") != (size_t)(colon - line - (long)klen))
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		res = xstrdup(colon);
		break;
	}
	free(text);
	return res;
}

static void set_mem_total(json_t *host, const char *proc)
{
	char *text = slurpf("%s/meminfo", proc);
	unsigned long long kib;
	char *p = text ? strstr(text, "MemTotal:") : NULL;

	if (p && sscanf(p, "MemTotal: %llu kB", &kib) == 1)
		json_set_int(host, "mem_total_bytes", (long long)(kib * 1024));
	free(text);
}

static void set_loadavg(json_t *host, const char *proc)
{
	char *text = slurpf("%s/loadavg", proc);
	double a, b, c;

	if (text && sscanf(text, "%lf %lf %lf", &a, &b, &c) == 3) {
		json_set_real(host, "loadavg_1m", a);
		json_set_real(host, "loadavg_5m", b);
		json_set_real(host, "loadavg_15m", c);
	}
	free(text);
}

/* Every regular file in dir whose name starts with prefix and whose
 * content is one whole number, as {name: number}.  NULL if none.  Some
 * files are skipped by name (skip, NULL-terminated) because reading them
 * is expensive and they hold no single number. */
static json_t *numeric_files(const char *dir, const char *prefix, const char *const *skip)
{
	json_t *o = json_object();
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		const char *const *s;
		struct stat st;
		char *path, *val;
		bool skipped = false;

		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		for (s = skip; s && *s; s++)
			skipped |= !strcmp(*s, e->d_name);
		if (skipped)
			continue;
		path = path_join(dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			val = slurpf("%s", path);
			set_owned_int(o, e->d_name, val);
		}
		free(path);
	}
	if (d)
		closedir(d);
	if (!json_object_size(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "none voluntary (full) lazy": the mode in parentheses is the one in use. */
static char *preempt_mode(const char *sys)
{
	char *text = slurpf("%s/kernel/debug/sched/preempt", sys), *open, *close, *res = NULL;

	if (text && (open = strchr(text, '(')) && (close = strchr(open, ')')))
		res = xstrndup(open + 1, (size_t)(close - open - 1));
	free(text);
	return res;
}

static json_t *host_psi(const char *proc)
{
	static const char *const res[] = { "cpu", "memory", "io" };
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(res); i++) {
		char *text = slurpf("%s/pressure/%s", proc, res[i]);

		if (text)
			ctprof_parse_psi(text, res[i], o);
		free(text);
	}
	if (!json_object_size(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ctprof_host_info(const char *proc, const char *sys)
{
	static const char *const debug_skip[] = { "debug", NULL };
	json_t *host = json_object(), *o;
	struct utsname u;
	char *s, *path;
	int n;

	if (uname(&u) == 0) {
		json_set_str(host, "hostname", u.nodename);
		json_set_str(host, "kernel_release", u.release);
		json_set_str(host, "kernel_version", u.version);
		json_set_str(host, "machine", u.machine);
	}
	set_owned_str(host, "boot_id", slurpf("%s/sys/kernel/random/boot_id", proc));
	set_owned_str(host, "cpu_model", cpuinfo_field(proc, "model name"));
	s = slurpf("%s/devices/system/cpu/online", sys);
	if (s && (n = ctprof_cpulist_count(s)) >= 0) {
		json_set_int(host, "cpus_online", n);
		json_set_str(host, "cpus_online_list", s);
	}
	free(s);
	s = slurpf("%s/devices/system/node/online", sys);
	if (s && (n = ctprof_cpulist_count(s)) >= 0)
		json_set_int(host, "numa_nodes", n);
	free(s);
	set_mem_total(host, proc);
	json_set_int(host, "clk_tck", sysconf(_SC_CLK_TCK));
	set_owned_str(host, "cpufreq_governor",
		      slurpf("%s/devices/system/cpu/cpu0/cpufreq/scaling_governor", sys));
	set_owned_str(host, "cmdline", slurpf("%s/cmdline", proc));
	set_loadavg(host, proc);
	set_owned_int(host, "task_delayacct", slurpf("%s/sys/kernel/task_delayacct", proc));
	set_owned_str(host, "preempt", preempt_mode(sys));

	path = xasprintf("%s/sys/kernel", proc);
	if ((o = numeric_files(path, "sched_", NULL)))
		json_object_set_new(host, "sched_tunables", o);
	free(path);
	/* debugfs/sched (base_slice_ns, migration_cost_ns, ...) when mounted
	 * and readable. */
	path = xasprintf("%s/kernel/debug/sched", sys);
	if ((o = numeric_files(path, "", debug_skip)))
		json_object_set_new(host, "sched_debug", o);
	free(path);
	if ((o = host_psi(proc)))
		json_object_set_new(host, "psi", o);
	return host;
}

/* "KEY N" lines (sched_ext root/events) as {KEY: N}. */
static json_t *events(const char *text)
{
	json_t *o = json_object();
	char *copy = xstrdup(text), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128];
		long long v;
		int used = 0;

		if (sscanf(line, "%127s %lld%n", key, &v, &used) == 2 && !line[used])
			json_set_int(o, key, v);
	}
	free(copy);
	return o;
}

json_t *ctprof_sched_ext_info(const char *sys)
{
	static const char *const ints[] = { "switch_all", "nr_rejected", "hotplug_seq", "enable_seq" };
	json_t *o = json_object();
	char *s;
	size_t i;

	set_owned_str(o, "state", slurpf("%s/kernel/sched_ext/state", sys));
	for (i = 0; i < ARRAY_SIZE(ints); i++)
		set_owned_int(o, ints[i], slurpf("%s/kernel/sched_ext/%s", sys, ints[i]));
	set_owned_str(o, "root_ops", slurpf("%s/kernel/sched_ext/root/ops", sys));
	s = slurpf("%s/kernel/sched_ext/root/events", sys);
	if (s)
		json_object_set_new(o, "root_events", events(s));
	free(s);
	return o;
}

char *ctprof_cgroup2_mount(const char *proc)
{
	char *text = slurpf("%s/self/mountinfo", proc), *line, *save = NULL, *res = NULL;

	if (!text)
		return NULL;
	/* "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw":
	 * the mount point is field 5, the type follows the " - ". */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char root[4096], mnt[4096];
		char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		/* The hierarchy's root, not a bind mount of a subtree. */
		if (strcmp(root, "/"))
			continue;
		res = xstrdup(mnt);
		break;
	}
	free(text);
	return res;
}

void ctprof_cgroups_fill(json_t *cgroups, const char *proc)
{
	static const char *const psi[] = { "cpu", "memory", "io" };
	char *mnt = ctprof_cgroup2_mount(proc);
	const char *path;
	json_t *cg;
	size_t i;

	if (!mnt)
		return;
	json_object_foreach(cgroups, path, cg) {
		char *text = slurpf("%s%s/cpu.stat", mnt, strcmp(path, "/") ? path : "");

		if (text)
			ctprof_parse_cpu_stat(text, cg);
		free(text);
		for (i = 0; i < ARRAY_SIZE(psi); i++) {
			text = slurpf("%s%s/%s.pressure", mnt, strcmp(path, "/") ? path : "", psi[i]);
			if (text)
				ctprof_parse_psi(text, psi[i], cg);
			free(text);
		}
	}
	free(mnt);
}
