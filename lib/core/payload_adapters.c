/* The adapters: one per benchmark Debian ships, each with the arguments
 * of a short default run, the options that make the program write what
 * its parser reads, and the parser.  The parsers of text output
 * (hackbench, sysbench, perf bench) are here; cyclictest's and fio's JSON
 * in payload_adapters_json.c, stress-ng's YAML in payload_stressng.c.
 *
 * Each default run is bounded (a few seconds) and fits a small VM whose
 * /tmp is a tmpfs: no direct I/O, small files, a handful of threads. */
#include "payload.h"
#include "payload_int.h"

#include <string.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct payload_adapter cyclictest = {
	.name = "cyclictest",
	.program = "cyclictest",
	.package = "rt-tests",
	.summary = "wake-up latency per thread: min, avg, max and p99 (from its histogram)",
	.default_args = ARGS("-q", "-m", "--duration=5", "--interval=1000", "--threads=2"),
	/* The histogram is what p99 comes from; its text copy on stdout
	 * (a line per microsecond of the bound) is not needed.  50 ms holds
	 * the p99 of TCG guests with every CPU hogged (20-35 ms measured);
	 * a larger bound makes cyclictest's exit, which walks every bucket
	 * even into /dev/null, outlast the 3 s stop grace under TCG. */
	.output_args = ARGS("--json={out}", "--histogram=50000", "--histfile=/dev/null"),
	.output_aliases = ARGS("-h", "--histogram", "-H", "--histogram", "--histofall",
			       "--histogram"),
	.parse = payload_parse_cyclictest,
};

static const struct payload_adapter hackbench = {
	.name = "hackbench",
	.program = "hackbench",
	.package = "rt-tests",
	.summary = "time for groups of tasks to pass messages over sockets",
	.default_args = ARGS("--groups=4", "--loops=500"),
	.parse = payload_parse_hackbench,
};

static const struct payload_adapter stress_ng = {
	.name = "stress-ng",
	.program = "stress-ng",
	.package = "stress-ng",
	.summary = "bogo-ops per second (real and CPU time) of each stressor",
	.default_args = ARGS("--cpu", "2", "--timeout", "5s"),
	.output_args = ARGS("--metrics", "--yaml={out}"),
	.output_aliases = ARGS("-M", "--metrics", "-Y", "--yaml"),
	.parse = payload_parse_stress_ng,
};

static const struct payload_adapter fio = {
	.name = "fio",
	.program = "fio",
	.package = "fio",
	.summary = "IOPS, bandwidth and completion-latency percentiles of each job",
	/* psync on a file beside the output, removed at the end: tmpfs has
	 * no O_DIRECT and little room. */
	.default_args = ARGS("--name=randread", "--filename={out}.data", "--size=16M",
			     "--rw=randread", "--bs=4k", "--ioengine=psync", "--runtime=5",
			     "--time_based", "--unlink=1"),
	.output_args = ARGS("--output-format=json", "--output={out}"),
	.parse = payload_parse_fio,
};

static const struct payload_adapter sysbench = {
	.name = "sysbench",
	.program = "sysbench",
	.package = "sysbench",
	.summary = "events per second and latency (min, avg, max, percentile) of the "
		   "cpu, threads or mutex test",
	.default_args = ARGS("cpu", "--threads=2", "--time=5", "run"),
	.parse = payload_parse_sysbench,
};

static const struct payload_adapter perf_bench = {
	.name = "perf-bench",
	.program = "perf",
	.package = "linux-perf",
	.summary = "perf bench sched pipe or messaging: total time, and for pipe the "
		   "time per operation",
	.default_args = ARGS("bench", "sched", "pipe", "--loop=50000"),
	.parse = payload_parse_perf_bench,
};

static const struct payload_adapter *const adapters[] = {
	&cyclictest, &hackbench, &stress_ng, &fio, &sysbench, &perf_bench, NULL,
};

const struct payload_adapter *const *payload_adapters(void)
{
	return adapters;
}

/* ---- text parsers ---- */

/* The last line of text with label followed by a number. */
static bool last_value(const char *text, size_t len, const char *label, double *v)
{
	const char *p = text, *line;
	bool found = false;
	size_t n;
	double x;

	while ((line = payload_line(&p, text + len, &n)))
		if (payload_value_after(line, n, label, &x)) {
			*v = x;
			found = true;
		}
	return found;
}

/* The last line that is a number followed by label ("21.87 usecs/op"). */
static bool last_value_before(const char *text, size_t len, const char *label, double *v)
{
	const char *p = text, *line;
	size_t n, used, ll = strlen(label);
	bool found = false;
	double x;

	while ((line = payload_line(&p, text + len, &n))) {
		if (!payload_number_prefix(line, n, &x, &used))
			continue;
		while (used < n && (line[used] == ' ' || line[used] == '\t'))
			used++;
		if (n - used >= ll && !memcmp(line + used, label, ll)) {
			*v = x;
			found = true;
		}
	}
	return found;
}

static int expect_some(const char *text, size_t len, const char *what, struct strbuf *err)
{
	if (!payload_blank(text, len))
		return 0;
	strbuf_addf(err, "the output is empty; expected %s", what);
	return -1;
}

int payload_parse_hackbench(const char *text, size_t len, struct pmetrics *m,
			    struct strbuf *err)
{
	static const char what[] = "hackbench's report with a \"Time: SECONDS\" line";
	double v;

	if (expect_some(text, len, what, err))
		return -1;
	if (!last_value(text, len, "Time:", &v)) {
		strbuf_addf(err, "no \"Time:\" line; expected %s", what);
		return -1;
	}
	pmetrics_set(m, "time_s", v, "s", BETTER_LOWER);
	return 0;
}

/* sysbench's "Latency (ms):" block: min, avg, max, the percentile line
 * ("95th percentile:", or what --percentile asked for). */
static void sysbench_latency(const char *text, size_t len, struct pmetrics *m)
{
	const char *p = text, *line;
	bool in_block = false;
	double v, pct;
	size_t n;

	while ((line = payload_line(&p, text + len, &n))) {
		if (memmem(line, n, "Latency (ms):", 13)) {
			in_block = true;
			continue;
		}
		if (!in_block)
			continue;
		if (payload_blank(line, n))
			break;
		if (payload_value_after(line, n, "min:", &v))
			pmetrics_set(m, "latency_min_ms", v, "ms", BETTER_LOWER);
		else if (payload_value_after(line, n, "avg:", &v))
			pmetrics_set(m, "latency_avg_ms", v, "ms", BETTER_LOWER);
		else if (payload_value_after(line, n, "max:", &v))
			pmetrics_set(m, "latency_max_ms", v, "ms", BETTER_LOWER);
		else if (payload_value_after(line, n, "percentile:", &v) &&
			 payload_number_prefix(line, n, &pct, NULL)) {
			char name[48];

			snprintf(name, sizeof(name), "latency_p%g_ms", pct);
			for (char *c = name; *c; c++)
				if (*c == '.')
					*c = '_';
			pmetrics_set(m, name, v, "ms", BETTER_LOWER);
		}
	}
}

/* "events (avg/stddev):           4812.0000/13.00": the stddev. */
static void sysbench_fairness(const char *text, size_t len, const char *label,
			      const char *name, const char *unit, struct pmetrics *m)
{
	const char *p = text, *line, *slash;
	size_t n, ll = strlen(label);
	double v;

	while ((line = payload_line(&p, text + len, &n))) {
		const char *at = memmem(line, n, label, ll);

		if (!at)
			continue;
		at += ll;
		slash = memchr(at, '/', n - (size_t)(at - line));
		if (slash && payload_number_prefix(slash + 1, n - (size_t)(slash + 1 - line), &v,
						   NULL))
			pmetrics_set(m, name, v, unit, BETTER_LOWER);
	}
}

int payload_parse_sysbench(const char *text, size_t len, struct pmetrics *m,
			   struct strbuf *err)
{
	static const char what[] = "the report of `sysbench TEST run` with its "
				   "\"General statistics\"";
	double events, secs = 0, eps;
	bool have_eps;

	if (expect_some(text, len, what, err))
		return -1;
	if (!last_value(text, len, "total number of events:", &events)) {
		strbuf_addf(err, "no \"total number of events:\" line; expected %s", what);
		return -1;
	}
	last_value(text, len, "total time:", &secs);
	/* Only the cpu test prints a rate; the others get it computed. */
	have_eps = last_value(text, len, "events per second:", &eps);
	if (!have_eps && secs > 0) {
		eps = events / secs;
		have_eps = true;
	}
	if (have_eps)
		pmetrics_set(m, "events_per_sec", eps, "events/s", BETTER_HIGHER);
	pmetrics_set(m, "total_events", events, "events", BETTER_HIGHER);
	if (secs > 0)
		pmetrics_set(m, "total_time_s", secs, "s", BETTER_NONE);
	sysbench_latency(text, len, m);
	sysbench_fairness(text, len, "events (avg/stddev):", "fairness_events_stddev", "events",
			  m);
	sysbench_fairness(text, len, "execution time (avg/stddev):", "fairness_time_stddev_s",
			  "s", m);
	return 0;
}

int payload_parse_perf_bench(const char *text, size_t len, struct pmetrics *m,
			     struct strbuf *err)
{
	static const char what[] = "the report of `perf bench sched pipe` or `perf bench "
				   "sched messaging` with a \"Total time:\" line";
	double v;

	if (expect_some(text, len, what, err))
		return -1;
	if (!last_value(text, len, "Total time:", &v)) {
		strbuf_addf(err, "no \"Total time:\" line; expected %s", what);
		return -1;
	}
	pmetrics_set(m, "total_time_s", v, "s", BETTER_LOWER);
	if (last_value_before(text, len, "usecs/op", &v))
		pmetrics_set(m, "usecs_per_op", v, "us", BETTER_LOWER);
	if (last_value_before(text, len, "ops/sec", &v))
		pmetrics_set(m, "ops_per_sec", v, "ops/s", BETTER_HIGHER);
	return 0;
}
