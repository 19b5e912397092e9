#include "ctprof_parse.h"
#include "diag.h"
#include "jsonl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct key_map {
	const char *kernel;	/* name as the kernel prints it */
	const char *field;	/* our field name (unit suffix included) */
};

/* Known /proc/.../sched keys.  Schedstats keys are matched after dropping
 * the "se.statistics." (before 5.16) or "stats." prefix, so every kernel
 * version maps to the same field. */
static const struct key_map sched_keys[] = {
	{ "se.sum_exec_runtime", "sum_exec_runtime_ns" },
	{ "se.nr_migrations", "nr_migrations" },
	{ "nr_switches", "nr_switches" },
	{ "nr_voluntary_switches", "nr_voluntary_switches" },
	{ "nr_involuntary_switches", "nr_involuntary_switches" },
	/* slice_ns is settled after the loop from these three (see there). */
	{ "se.slice", "slice_ns" },
	{ "ext.slice", "slice_ns" },
	{ "ext.enabled", "ext_enabled" },
	{ "wait_sum", "wait_sum_ns" },
	{ "wait_count", "wait_count" },
	{ "wait_max", "wait_max_ns" },
	{ "sum_sleep_runtime", "sleep_sum_ns" },
	{ "sleep_max", "sleep_max_ns" },
	{ "sum_block_runtime", "block_sum_ns" },
	{ "block_max", "block_max_ns" },
	{ "iowait_sum", "iowait_sum_ns" },
	{ "iowait_count", "iowait_count" },
	{ "exec_max", "exec_max_ns" },
	{ "slice_max", "slice_max_ns" },
	{ "nr_wakeups", "nr_wakeups" },
	{ "nr_wakeups_sync", "nr_wakeups_sync" },
	{ "nr_wakeups_migrate", "nr_wakeups_migrate" },
	{ "nr_wakeups_local", "nr_wakeups_local" },
	{ "nr_wakeups_remote", "nr_wakeups_remote" },
	{ "nr_wakeups_affine", "nr_wakeups_affine" },
	{ "nr_wakeups_affine_attempts", "nr_wakeups_affine_attempts" },
	{ "nr_wakeups_passive", "nr_wakeups_passive" },
	{ "nr_wakeups_idle", "nr_wakeups_idle" },
	{ "nr_migrations_cold", "nr_migrations_cold" },
	{ "nr_failed_migrations_affine", "nr_failed_migrations_affine" },
	{ "nr_failed_migrations_running", "nr_failed_migrations_running" },
	{ "nr_failed_migrations_hot", "nr_failed_migrations_hot" },
	{ "nr_forced_migrations", "nr_forced_migrations" },
	{ "core_forceidle_sum", "core_forceidle_sum_ns" },
	{ "numa_pages_migrated", "numa_pages_migrated" },
	{ "total_numa_faults", "numa_faults" },
};

static const struct key_map io_keys[] = {
	{ "rchar", "rchar_bytes" },
	{ "wchar", "wchar_bytes" },
	{ "syscr", "syscr" },
	{ "syscw", "syscw" },
	{ "read_bytes", "read_bytes" },
	{ "write_bytes", "write_bytes" },
	{ "cancelled_write_bytes", "cancelled_write_bytes" },
};

static const struct key_map cpu_stat_keys[] = {
	{ "usage_usec", "cpu_usage_us" },
	{ "user_usec", "cpu_user_us" },
	{ "system_usec", "cpu_system_us" },
	{ "nr_periods", "cpu_nr_periods" },
	{ "nr_throttled", "cpu_nr_throttled" },
	{ "throttled_usec", "cpu_throttled_us" },
	{ "nr_bursts", "cpu_nr_bursts" },
	{ "burst_usec", "cpu_burst_us" },
};

static const char *map_key(const struct key_map *map, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(map[i].kernel, key))
			return map[i].field;
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int ctprof_parse_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int ctprof_parse_sched_value(const char *s, long long *out, bool *was_split)
{
	const char *dot = strchr(s, '.');
	long long ms, frac = 0;
	bool neg;
	int digits = 0;
	char *end;

	*was_split = false;
	if (!dot)
		return ctprof_parse_ll(s, out);
	/* SPLIT_NS(): "%Ld.%06ld", the part before the dot in ms, the six
	 * digits after it the ns remainder.  The remainder of a negative
	 * value is printed unsigned, so the sign applies to both parts. */
	while (isspace((unsigned char)*s))
		s++;
	neg = *s == '-';
	errno = 0;
	ms = strtoll(s, &end, 10);
	if (errno || end != dot || end == s || (neg && end == s + 1))
		return -1;
	for (s = dot + 1; isdigit((unsigned char)*s); s++, digits++)
		if (digits < 9)
			frac = frac * 10 + (*s - '0');
	while (isspace((unsigned char)*s))
		s++;
	if (*s || digits != 6)
		return -1;
	if (ms < 0)
		ms = -ms;
	if (ms > LLONG_MAX / 1000000 - 1)
		return -1;
	*out = (ms * 1000000 + frac) * (neg ? -1 : 1);
	*was_split = true;
	return 0;
}

/* Next line of *p (NUL-terminated copy in buf, truncated to size); false at
 * the end.  Copies so callers can cut the line into pieces. */
static bool next_line(const char **p, char *buf, size_t size)
{
	const char *s = *p, *nl;
	size_t n;

	if (!*s)
		return false;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	*p = nl ? nl + 1 : s + n;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int ctprof_parse_sched(const char *text, json_t *thread)
{
	char line[512];
	int n = 0;
	long long se_slice = 0, ext_slice = 0, ext = 0;
	bool have_se_slice = false, have_ext_slice = false;

	while (next_line(&text, line, sizeof(line))) {
		char *colon = strchr(line, ':'), *key, *val;
		const char *field;
		long long v;
		bool split;

		if (!colon)
			continue;
		*colon = '\0';
		key = trim(line);
		val = trim(colon + 1);
		if (!strncmp(key, "se.statistics.", 14))
			key += 14;
		else if (!strncmp(key, "stats.", 6))
			key += 6;
		field = map_key(sched_keys, ARRAY_SIZE(sched_keys), key);
		/* The header line ("comm (pid, #threads: n)") has a colon too;
		 * it never maps to a known key, whatever the comm. */
		if (!field || ctprof_parse_sched_value(val, &v, &split) < 0)
			continue;
		/* A split value is a time; only time fields may take one. */
		if (split && !ends_with(field, "_ns"))
			continue;
		if (!strcmp(key, "se.slice")) {
			se_slice = v;
			have_se_slice = true;
			continue;
		}
		if (!strcmp(key, "ext.slice")) {
			ext_slice = v;
			have_ext_slice = true;
			continue;
		}
		if (!strcmp(field, "ext_enabled"))
			ext = v;
		json_set_int(thread, field, v);
		n++;
	}
	/* se.slice is EEVDF's slice.  A task on sched_ext runs by its
	 * p->scx.slice, which the BPF scheduler sets; se.slice is then a
	 * stale leftover.  Kernels that print the sched_ext slice (ext.slice)
	 * give the real one; others (7.3 prints only ext.enabled) give none,
	 * and an absent value beats a wrong one. */
	if (ext == 1 ? have_ext_slice : have_se_slice) {
		json_set_int(thread, "slice_ns", ext == 1 ? ext_slice : se_slice);
		n++;
	}
	return n;
}

/* Ticks to a unit with `per_sec` steps per second, without overflow for
 * any plausible uptime. */
static long long ticks_to(unsigned long long ticks, long clk_tck, long long per_sec)
{
	return (long long)(ticks / (unsigned long long)clk_tck * (unsigned long long)per_sec +
			   ticks % (unsigned long long)clk_tck * (unsigned long long)per_sec /
			   (unsigned long long)clk_tck);
}

/* /proc/<pid>/stat field numbers as in proc(5), counted from 1 (pid). */
enum {
	STAT_STATE = 3, STAT_MINFLT = 10, STAT_MAJFLT = 12, STAT_UTIME = 14, STAT_STIME = 15,
	STAT_PRIORITY = 18, STAT_NICE = 19, STAT_STARTTIME = 22, STAT_PROCESSOR = 39,
	STAT_RT_PRIORITY = 40, STAT_POLICY = 41, STAT_MAX = 41
};

/* The numeric fields kept, in the order they go into the thread object;
 * per_sec > 0: a tick count turned into that unit. */
static const struct {
	int field;
	const char *key;
	long long per_sec;
} stat_keys[] = {
	{ STAT_MINFLT, "minflt", 0 },
	{ STAT_MAJFLT, "majflt", 0 },
	{ STAT_UTIME, "utime_us", 1000000 },
	{ STAT_STIME, "stime_us", 1000000 },
	{ STAT_PRIORITY, "priority", 0 },
	{ STAT_NICE, "nice", 0 },
	{ STAT_STARTTIME, "start_time_ms", 1000 },
	{ STAT_PROCESSOR, "last_cpu", 0 },
	{ STAT_RT_PRIORITY, "rt_priority", 0 },
	{ STAT_POLICY, "policy", 0 },
};

/* The fields after comm's ')': the state letter into *state, numbers into
 * f with have[] set.  A line may end early; -1 when a field is malformed. */
static int scan_stat_fields(const char *s, long long f[STAT_MAX + 1],
			    bool have[STAT_MAX + 1], char *state)
{
	for (int field = STAT_STATE; field <= STAT_MAX; field++) {
		char *end;

		while (*s == ' ')
			s++;
		if (!*s || *s == '\n')
			break;
		if (field == STAT_STATE) {
			*state = *s++;
			if (*s && *s != ' ' && *s != '\n')
				return -1;
			continue;
		}
		/* Fields we do not keep can exceed a long long (rsslim is
		 * often ULONG_MAX); strtoll clamps those, which is harmless. */
		f[field] = strtoll(s, &end, 10);
		if (end == s || (*end && *end != ' ' && *end != '\n'))
			return -1;
		have[field] = true;
		s = end;
	}
	return 0;
}

int ctprof_parse_stat(const char *text, long clk_tck, json_t *thread)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	long long f[STAT_MAX + 1];
	bool have[STAT_MAX + 1] = { false };
	char state[2] = { 0, 0 };

	if (!open || !close || close < open || clk_tck <= 0)
		return -1;
	if (scan_stat_fields(close + 1, f, have, &state[0]) < 0 || !state[0])
		return -1;
	json_set_bytes(thread, "comm", open + 1, (size_t)(close - open - 1));
	json_set_str(thread, "state", state);
	for (size_t i = 0; i < ARRAY_SIZE(stat_keys); i++) {
		long long x = f[stat_keys[i].field];

		if (!have[stat_keys[i].field])
			continue;
		if (stat_keys[i].per_sec)
			x = ticks_to((unsigned long long)x, clk_tck, stat_keys[i].per_sec);
		json_set_int(thread, stat_keys[i].key, x);
	}
	return 0;
}

int ctprof_parse_schedstat(const char *text, json_t *thread)
{
	unsigned long long run, delay, slices;
	char extra;

	if (sscanf(text, "%llu %llu %llu %c", &run, &delay, &slices, &extra) != 3)
		return -1;
	json_set_int(thread, "run_time_ns", (long long)run);
	json_set_int(thread, "run_delay_ns", (long long)delay);
	json_set_int(thread, "timeslices", (long long)slices);
	return 0;
}

/* "key<sep>value" lines mapped through map; values must be whole numbers. */
static int parse_kv(const char *text, char sep, const struct key_map *map, size_t n_map,
		    json_t *obj)
{
	char line[256];
	int n = 0;

	while (next_line(&text, line, sizeof(line))) {
		char *cut = strchr(line, sep);
		const char *field;
		long long v;

		if (!cut)
			continue;
		*cut = '\0';
		field = map_key(map, n_map, trim(line));
		if (field && ctprof_parse_ll(cut + 1, &v) == 0) {
			json_set_int(obj, field, v);
			n++;
		}
	}
	return n;
}

int ctprof_parse_io(const char *text, json_t *thread)
{
	return parse_kv(text, ':', io_keys, ARRAY_SIZE(io_keys), thread);
}

int ctprof_parse_cpu_stat(const char *text, json_t *cgroup)
{
	return parse_kv(text, ' ', cpu_stat_keys, ARRAY_SIZE(cpu_stat_keys), cgroup);
}

int ctprof_parse_status(const char *text, json_t *thread)
{
	char line[4096];	/* Cpus_allowed_list can be long on big machines */
	int n = 0;

	while (next_line(&text, line, sizeof(line))) {
		char *colon = strchr(line, ':'), *val;
		long long v;

		if (!colon)
			continue;
		*colon = '\0';
		val = trim(colon + 1);
		if (!strcmp(line, "Cpus_allowed_list")) {
			int count = ctprof_cpulist_count(val);

			json_set_bytes(thread, "cpus_allowed", val, strlen(val));
			if (count >= 0)
				json_set_int(thread, "cpus_allowed_count", count);
			n++;
		} else if ((!strcmp(line, "voluntary_ctxt_switches") ||
			    !strcmp(line, "nonvoluntary_ctxt_switches")) &&
			   ctprof_parse_ll(val, &v) == 0) {
			json_set_int(thread, line, v);
			n++;
		}
	}
	return n;
}

char *ctprof_parse_cgroup(const char *text)
{
	char line[4096];

	while (next_line(&text, line, sizeof(line)))
		if (!strncmp(line, "0::", 3))
			return xstrdup(line + 3);
	return NULL;
}

int ctprof_cpulist_count(const char *list)
{
	const char *s = list;
	int count = 0;

	while (isspace((unsigned char)*s))
		s++;
	while (*s && !isspace((unsigned char)*s)) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*s))
			return -1;
		a = b = strtoul(s, &end, 10);
		s = end;
		if (*s == '-') {
			if (!isdigit((unsigned char)s[1]))
				return -1;
			b = strtoul(s + 1, &end, 10);
			s = end;
		}
		if (b < a || b - a >= (unsigned long)INT_MAX - (unsigned long)count)
			return -1;
		count += (int)(b - a + 1);
		if (*s == ',')
			s++;
		else if (*s && !isspace((unsigned char)*s))
			return -1;
	}
	return count;
}

int ctprof_parse_psi(const char *text, const char *res, json_t *obj)
{
	char line[256];
	int n = 0;

	while (next_line(&text, line, sizeof(line))) {
		char *tok, *save = NULL;
		const char *kind;

		tok = strtok_r(line, " \t", &save);
		if (!tok || (strcmp(tok, "some") && strcmp(tok, "full")))
			continue;
		kind = tok;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			char *eq = strchr(tok, '='), *end, key[64];

			if (!eq)
				continue;
			*eq = '\0';
			if (!strcmp(tok, "avg10") || !strcmp(tok, "avg60")) {
				double v = strtod(eq + 1, &end);

				if (end == eq + 1 || *end)
					continue;
				snprintf(key, sizeof(key), "%s_%s_%s_pct", res, kind, tok);
				json_set_real(obj, key, v);
				n++;
			} else if (!strcmp(tok, "total")) {
				long long v;

				if (ctprof_parse_ll(eq + 1, &v) < 0)
					continue;
				snprintf(key, sizeof(key), "%s_%s_total_us", res, kind);
				json_set_int(obj, key, v);
				n++;
			}
		}
	}
	return n;
}
