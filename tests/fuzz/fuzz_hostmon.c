/* The host-mode monitor's parsers (lib/core/hostmon_parse.c) and the
 * monitor itself on a scratch tree.  The first byte picks: 0 the sched
 * debug file, 1 /proc/stat, 2 sched_ext's events, 3 a one-line sysfs
 * word, 4 the whole monitor (the rest split at the first NUL: the debug
 * file it opens on, then the one it samples).  What a parser reports must
 * hold together (no field of a CPU it did not see, idle within total) and
 * every record must encode as JSON. */
#include <jansson.h>
#include "fuzz.h"
#include "hostmon.h"
#include "hostmon_parse.h"
#include "jsonl.h"

#define NCPU 8

static void encode(json_t *rec)
{
	struct strbuf out = STRBUF_INIT;

	if (!rec)
		return;
	jsonl_encode(&out, rec);
	json_decref(rec);
	strbuf_release(&out);
}

static void debug_file(const char *s, size_t n)
{
	struct strbuf why = STRBUF_INIT;
	struct hostmon_cpu c[NCPU];
	int seen = hostmon_parse_sched_debug(s, n, c, NCPU, &why), k = 0;

	for (int i = 0; i < NCPU; i++) {
		if ((c[i].have & ~HC_SEEN) && !(c[i].have & HC_SEEN))
			abort();
		k += !!(c[i].have & HC_SEEN);
	}
	if (seen >= 0 && seen != k)
		abort();
	strbuf_release(&why);
}

static void stat_file(const char *s, size_t n)
{
	struct strbuf why = STRBUF_INIT;
	struct hostmon_stat st[NCPU];

	hostmon_parse_proc_stat(s, n, st, NCPU, &why);
	for (int i = 0; i < NCPU; i++)
		if (st[i].seen && st[i].idle > st[i].total)
			abort();
	strbuf_release(&why);
}

static void put(const char *root, const char *path, const void *data, size_t size)
{
	char *full = xasprintf("%s%s", root, path), *d = path_dirname(full);

	if (mkdir_p(d, 0755) < 0)
		die_errno(2, "creating %s", d);
	fuzz_write_file(full, data, size);
	free(d);
	free(full);
}

static void monitor(const uint8_t *data, size_t size)
{
	static const char dbg[] = "/sys/kernel/debug/sched/debug";
	struct strbuf err = STRBUF_INIT;
	const char *root = fuzz_scratch();
	char *first = fuzz_take(&data, &size, '\0');
	struct hostmon *h;

	put(root, "/sys/devices/system/cpu/present", "0-3\n", 4);
	put(root, "/sys/devices/system/cpu/online", "0-2\n", 4);
	put(root, dbg, first, strlen(first));
	h = hostmon_open(root, 500, &err);
	if (h) {
		put(root, dbg, data, size);
		encode(hostmon_start_record(h, 0));
		encode(hostmon_sample(h, 500));
		encode(hostmon_end_record(h, 1000));
		hostmon_close(h);
	}
	free(first);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf why = STRBUF_INIT;
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	char word[65];

	if (!size)
		return 0;
	switch (data[0] % 5) {
	case 0: debug_file(s, n); break;
	case 1: stat_file(s, n); break;
	case 2: encode(hostmon_parse_events(s, n, &why)); break;
	case 3: hostmon_parse_word(s, n, word, sizeof(word)); break;
	case 4: monitor(data + 1, n); break;
	}
	strbuf_release(&why);
	return 0;
}
