/* The host's TSC rate for a TCG guest (hosttsc.h). */
#include "hosttsc.h"
#include "diag.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "opts.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* A rate outside this is a typo, not a CPU (kHz). */
#define TSC_KHZ_MIN 100000UL
#define TSC_KHZ_MAX 20000000UL
/* The host's TSC is timed against CLOCK_MONOTONIC_RAW over at least
 * MEASURE_NS, each end read between two clock reads at most
 * SAMPLE_SPAN_NS apart (a vDSO clock read takes tens of ns), so each end
 * is off by 1 us at most and the rate by 100 ppm at most; the guest's own
 * quick PIT calibration aims for 500.  Two such measurements must agree
 * within AGREE_PPM, or there is no rate: the guest kernel keeps a rate
 * given this way (its refined calibration discards a result more than 1%
 * away), so a wrong one would skew its clock for the whole run. */
#define MEASURE_NS 20000000ULL
#define SAMPLE_SPAN_NS 2000
#define SAMPLE_TRIES 50
#define MEASURE_TRIES 3
#define AGREE_PPM 100

int host_tsc_env_check(char *msg, size_t size)
{
	const char *v = env_get(HOST_TSC_ENV);
	unsigned long khz;

	if (!v || (parse_ulong(v, 0, TSC_KHZ_MAX, &khz) == 0 &&
		   (khz == 0 || khz >= TSC_KHZ_MIN)))
		return 0;
	snprintf(msg, size, "%s=%s is not a TSC rate: give the host's TSC frequency in kHz "
		 "(%lu-%lu, e.g. 2596100 for 2.5961 GHz), 0 to let a TCG guest calibrate its "
		 "own, or unset it to have ktstr measure it", HOST_TSC_ENV, v, TSC_KHZ_MIN,
		 TSC_KHZ_MAX);
	return -1;
}

/* The first "flags" line (every CPU has the same) must list both words. */
bool host_tsc_invariant(const char *cpuinfo)
{
	const char *p = !strncmp(cpuinfo, "flags", 5) ? cpuinfo : strstr(cpuinfo, "\nflags");
	bool constant = false, nonstop = false;

	if (!p)
		return false;
	p = strchr(p, ':');
	while (p && *p && *p != '\n') {
		size_t n;

		p += strspn(p, ": \t");
		n = strcspn(p, " \t\n");
		constant |= n == 12 && !strncmp(p, "constant_tsc", n);
		nonstop |= n == 11 && !strncmp(p, "nonstop_tsc", n);
		p += n;
	}
	return constant && nonstop;
}

unsigned long host_tsc_rate_khz(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1)
{
	double khz;

	if (tsc1 <= tsc0 || ns1 <= ns0)
		return 0;
	khz = (double)(tsc1 - tsc0) * 1e6 / (double)(ns1 - ns0);
	if (khz < TSC_KHZ_MIN || khz > TSC_KHZ_MAX)
		return 0;
	return (unsigned long)(khz + 0.5);
}

/* Why measure() has no rate: none to give (cached for the boot), or a
 * measurement that did not hold up (tried again by the next run). */
enum measured { MEASURED, NO_RATE, FAILED };

#if defined(__x86_64__)
static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One (tsc, ns) pair read close together: the TSC, with the CPU that read
 * it (rdtscp's TSC_AUX is the CPU number on Linux), between two clock
 * reads no more than SAMPLE_SPAN_NS apart, paired with their middle. */
static bool sample(uint64_t *tsc, uint64_t *ns, unsigned *cpu)
{
	for (int i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t a = raw_ns(), t = __rdtscp(cpu), b = raw_ns();

		if (b - a <= SAMPLE_SPAN_NS) {
			*tsc = t;
			*ns = a + (b - a) / 2;
			return true;
		}
	}
	return false;
}

/* One rate over at least MEASURE_NS with both ends on the same CPU (the
 * TSCs of different CPUs need not agree), or 0. */
static unsigned long measure_once(void)
{
	uint64_t t0, n0, t1, n1;
	unsigned c0, c1;

	for (int i = 0; i < MEASURE_TRIES; i++) {
		if (!sample(&t0, &n0, &c0))
			continue;
		/* A sleep cut short must not shorten the interval. */
		while (raw_ns() - n0 < MEASURE_NS) {
			uint64_t left = MEASURE_NS - (raw_ns() - n0);
			struct timespec nap = { (time_t)(left / 1000000000u),
						(long)(left % 1000000000u) };

			nanosleep(&nap, NULL);
		}
		if (sample(&t1, &n1, &c1) && c0 == c1)
			return host_tsc_rate_khz(t0, n0, t1, n1);
	}
	return 0;
}

static enum measured measure(unsigned long *khz)
{
	struct strbuf cpuinfo = STRBUF_INIT;
	unsigned long a, b;
	bool invariant;

	*khz = 0;
	if (strbuf_read_file(&cpuinfo, "/proc/cpuinfo") < 0) {
		strbuf_release(&cpuinfo);
		return FAILED;
	}
	invariant = host_tsc_invariant(cpuinfo.buf);
	strbuf_release(&cpuinfo);
	/* A TSC that changes rate or stops has no one rate to give. */
	if (!invariant)
		return NO_RATE;
	a = measure_once();
	b = a ? measure_once() : 0;
	if (!a || !b || (a > b ? a - b : b - a) * 1000000.0 / (double)a > AGREE_PPM)
		return FAILED;
	*khz = (a + b + 1) / 2;
	return MEASURED;
}
#else
static enum measured measure(unsigned long *khz)
{
	*khz = 0;
	return NO_RATE;
}
#endif

/* The cache file: one "<boot_id> <khz>\n" line per host boot, this
 * host's first, 0 kHz meaning "measured, none".  Several lines because a
 * home directory (and so the cache) can be shared by several hosts, each
 * with its own boot_id and rate: with one line they took turns measuring
 * over each other's. */
#define CACHE_LINES 8

static char *cache_path(void)
{
	char *dir = ktstr_cache_dir("host");
	char *path;

	if (!dir)
		return NULL;
	path = path_join(dir, "tsc-khz");
	free(dir);
	return path;
}

/* One cache line, exactly "<boot_id> <khz>" as measured_khz writes it,
 * with a rate a CPU can have (or 0): 0 with id and khz set, else -1
 * (anything else is not trusted). */
static int cache_line_parse(const char *line, size_t len, char id[64], unsigned long *khz)
{
	char buf[128], again[sizeof(buf)];

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "%63s %lu", id, khz) != 2 ||
	    !(*khz == 0 || (*khz >= TSC_KHZ_MIN && *khz <= TSC_KHZ_MAX)))
		return -1;
	/* Printed back, it must be the line itself: no other spacing, no
	 * trailing words, no sign or leading zeros. */
	snprintf(again, sizeof(again), "%s %lu", id, *khz);
	return strcmp(again, buf) ? -1 : 0;
}

/* The host's own rate: from the cache when it has this boot's line, else
 * measured (and cached unless the measurement failed), keeping the other
 * hosts' lines. */
static unsigned long measured_khz(void)
{
	struct strbuf boot = STRBUF_INIT, text = STRBUF_INIT, out = STRBUF_INIT;
	char *path = NULL;
	unsigned long khz = 0;
	size_t kept = 0;

	if (strbuf_read_file(&boot, "/proc/sys/kernel/random/boot_id") < 0)
		goto measure;
	strbuf_trim(&boot);
	path = cache_path();
	if (path && strbuf_read_file(&text, path) == 0) {
		const char *p = text.buf, *nl;

		for (; (nl = strchr(p, '\n')); p = nl + 1) {
			char id[64];
			unsigned long k;

			if (cache_line_parse(p, (size_t)(nl - p), id, &k) < 0)
				continue;
			if (!strcmp(id, boot.buf)) {
				khz = k;
				goto out;
			}
			if (kept < CACHE_LINES - 1) {
				strbuf_add(&out, p, (size_t)(nl - p) + 1);
				kept++;
			}
		}
	}
measure:
	/* Best effort: a cache that cannot be written costs 40 ms a boot. */
	if (measure(&khz) != FAILED && path && boot.len) {
		char *dir = path_dirname(path);

		strbuf_reset(&text);
		strbuf_addf(&text, "%s %lu\n", boot.buf, khz);
		strbuf_add(&text, out.buf, out.len);
		if (mkdir_p(dir, 0755) == 0)
			write_file_atomic(path, text.buf, text.len, 0644);
		free(dir);
	}
out:
	free(path);
	strbuf_release(&boot);
	strbuf_release(&text);
	strbuf_release(&out);
	return khz;
}

unsigned long host_tsc_khz(void)
{
	const char *v = env_get(HOST_TSC_ENV);
	unsigned long khz = 0;

	if (v)
		return parse_ulong(v, 0, TSC_KHZ_MAX, &khz) == 0 ? khz : 0;
	return measured_khz();
}

int host_tsc_env_warning(char *msg, size_t size)
{
	const char *v = env_get(HOST_TSC_ENV);
	unsigned long khz, host;
	double off;

	if (!v || parse_ulong(v, 0, TSC_KHZ_MAX, &khz) < 0 || !khz)
		return 0;
	host = measured_khz();
	if (!host)
		return 0;
	off = ((double)khz - (double)host) / (double)host;
	if (off < 0.01 && off > -0.01)
		return 0;
	snprintf(msg, size, "%s=%lu is %.1f%% %s the host's TSC rate (%lu kHz, measured): "
		 "a TCG guest's clock will run %.2f times as fast as real time, and every "
		 "timing it reports with it; unset %s to use the measured rate",
		 HOST_TSC_ENV, khz, off < 0 ? -off * 100 : off * 100, off < 0 ? "below" : "above",
		 host, (double)host / (double)khz, HOST_TSC_ENV);
	return 1;
}
