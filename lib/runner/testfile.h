/* Test files: one scheduler test per JSON file, a directory of them a suite.
 *
 *   {
 *     "name": "steady_fair",            optional: default is the file name
 *                                       without ".json"/".ktstr.json"
 *     "description": "...",             optional
 *     "scenario": "steady"              a canned scenario name or a path
 *                 | { ...inline scenario, ktstr-scenario(5) ... },
 *     "scheduler": "scx_simple"         discover name or path (relative
 *                                       paths are against the test file's
 *                                       directory); null or "eevdf": none;
 *                                       "{scheduler}": each of the runner's
 *                                       --scheduler values (an A/B run)
 *     "scheduler_args": ["-v"],         optional
 *     "duration": "3s",                 optional: overrides the scenario's
 *     "topology": {                     optional constraints, all optional
 *       "min_llcs": 1, "max_llcs": 4, "min_cpus": 2, "max_cpus": 16,
 *       "min_numa_nodes": 1, "max_numa_nodes": 1, "smt": true|false
 *     },
 *     "presets": ["tiny-2llc", ...],    optional: only these presets
 *     "thresholds": { "max_spread_pct": 20, "max_gap_ms": 3000,
 *                     "max_p99_wake_latency_us": 5000, "stall": bool, ... },
 *                                       any key of the check table
 *                                       (checktab.h): a number, "off", or
 *                                       for on/off checks a bool
 *     "payload_checks": {"cyclictest": {"max": {"p99_us": 100},
 *                        "min": {...}, "exit_code": 0|null}},
 *                                       optional: over the scenario's
 *                                       payload checks (verdict.h)
 *     "timeout": "2m",                  optional VM timeout
 *     "performance_mode": false,        optional; skipped under
 *                                       KTSTR_NO_PERF_MODE
 *     "bpf_stats": false,               optional: ktstr-vm --bpf-stats
 *                                       (per-program run counts and times)
 *     "append": "...", "env": {"K": "V"} optional, passed to ktstr-vm
 *   }
 *
 * Unknown keys are errors, as in scenario files: a typo must not silently
 * run a different test.  JSON null is the same as leaving a key out (for
 * "scheduler": EEVDF).  Details (man ktstr-test(5)):
 *   - "scenario" is a path when it contains '/' or ends in ".json", else a
 *     canned name; the document is checked with scenario_parse() at load.
 *   - "duration" (and "timeout") take duration strings (duration.h), more
 *     than 0; "duration" (at most 1 h) replaces the document's
 *     duration/duration_us/duration_ms with "duration_ms".
 *   - "scheduler_args" without a scheduler is an error (the placeholder
 *     counts as one).
 *   - "presets" must be known (preset_find), non-empty, without repeats.
 *   - "thresholds" keys are the check table's keys or their aliases
 *     (max_p99_wake_us for max_p99_wake_latency_us, min_iter_rate for
 *     min_iterations_per_sec), one spelling per check; "off" stores
 *     INFINITY, which verdict treats as disabled.
 *   - "env" names are [A-Za-z_][A-Za-z0-9_]*; t->env is sorted. */
#ifndef KTSTR_TESTFILE_H
#define KTSTR_TESTFILE_H

#include <jansson.h>
#include <stdbool.h>
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"

/* The "scheduler" value that takes the runner's --scheduler values. */
#define KTEST_SCHED_PLACEHOLDER "{scheduler}"

struct topo_constraints {
	unsigned min_llcs, max_llcs;	/* 0: no bound */
	unsigned min_cpus, max_cpus;
	unsigned min_nodes, max_nodes;
	int smt;			/* -1 either, 0 without, 1 with */
};

struct ktest {
	char *name;		/* unique within a suite */
	char *suite;		/* the suite directory's base name, or the
				 * file's directory when given one file */
	char *path;		/* the test file */
	unsigned long long dev, ino;	/* its identity (ktest_load_paths) */
	char *description;	/* or NULL */
	char *scenario_ref;	/* canned name or absolute path; NULL when inline */
	json_t *scenario_doc;	/* the scenario JSON (loaded even when
				 * canned, with duration applied) */
	char *scenario_name;	/* its "name" */
	struct scenario scenario;	/* scenario_doc parsed, once: the gauntlet
					 * plans from it */
	char *scheduler;	/* discover name or absolute path; NULL: EEVDF
				 * (or, with sched_param, the runner's) */
	bool sched_param;	/* "scheduler": "{scheduler}" */
	struct strvec sched_args;
	unsigned long long duration_ms;	/* effective duration */
	unsigned long long timeout_ms;	/* 0: runner default */
	struct topo_constraints topo;
	struct strvec presets;	/* empty: every preset that fits */
	struct checks thresholds;	/* NAN / -1 unset, INFINITY off */
	json_t *payload_checks;	/* {NAME: {max, min, exit_code}} over the
				 * scenario's payload checks, or NULL */
	bool performance_mode;
	bool bpf_stats;		/* run ktstr-vm with --bpf-stats */
	char *append;		/* or NULL */
	struct strvec env;	/* "K=V" */
	struct strvec features;	/* coverage features for budget selection:
				 * "scenario:<name>", "op:<kind>",
				 * "work:<type>", "cgroups:<n>", sorted */
};

/* Load one test file.  0, or -1 with one line in err naming the file and
 * the JSON path ("tests/a.json: $.topology.min_llcs: expected ...");
 * after a failure *t is empty (all NULL) and safe to release.
 * suite may be NULL (then the file's directory name). */
int ktest_load(const char *path, const char *suite, struct ktest *t, struct strbuf *err);
/* The same from a document already in memory (a program's own test, as
 * ktstr-verify's probe): path names it in messages and anchors relative
 * paths; suite is required. */
int ktest_from_json(const json_t *root, const char *path, const char *suite, struct ktest *t,
		    struct strbuf *err);
void ktest_release(struct ktest *t);

/* Load every test in paths: a file is one test; a directory is a suite of
 * its "*.json" files (not recursive, sorted by name).  A file reached
 * twice (a path given twice, a suite and one of its files) is loaded
 * once, as a test named twice is meant once.  Duplicate test names of
 * different files within one suite are an error naming both files; so are a
 * directory without any "*.json" and a path that does not exist.  Returns
 * 0 or -1 (err set; tests loaded so far are kept in *out for release). */
int ktest_load_paths(const char *const *paths, size_t npaths,
		     struct ktest **out, size_t *n, struct strbuf *err);
void ktest_free_all(struct ktest *v, size_t n);

#endif
