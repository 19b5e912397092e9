/* Sidecars: one *.ktstr.json file per test case run, the run history that
 * ktstr-stats list/show/compare read.
 *
 * Layout: {runs root}/{kernel}-{project_commit}/{file}.ktstr.json, where the
 * runs root is KTSTR_RUNS_ROOT, else $XDG_STATE_HOME/ktstr/runs (or
 * ~/.local/state/ktstr/runs).  KTSTR_SIDECAR_DIR names the directory itself
 * and skips the pre-clear and the lock: the operator owns it.
 *
 * A run directory is pre-cleared (old *.ktstr.json removed) once by the
 * first runner that opens it while no other runner holds it: runners hold a
 * shared flock on {dir}/.lock for as long as they write, and clear only when
 * they can take it exclusively.  Every sidecar is written to a temp file,
 * fsynced and renamed, under a name unique to the runner (run id), so
 * concurrent writers never clobber or tear each other's files.
 *
 * Sidecar document (schema 1), one JSON object:
 *   type "sidecar", schema 1, run_id, run_source ("local", or "ci" when
 *   KTSTR_CI is set), timestamp (UTC ISO 8601), suite, test, preset, case,
 *   repeat (1-based), topology {spec, nodes, llcs, cores_per_llc,
 *   threads_per_core, cpus}, scheduler {name ("eevdf" for none), path,
 *   args[]}, scenario {name, duration_ms, features[], work_types[]},
 *   kernel {label, key, image, release}, project_commit, result, exit_code,
 *   wall_ms, reason, verdict (ktstr-stats' verdict record), metrics
 *   {name: number} (sidecar_metrics), cgroups[] (cgroup_stats records),
 *   scenario_end, stimulus[] (stimulus records), sched_ext_events {},
 *   guest {kernel_release, cmdline, sysctls{}}, host {cpu_model, cpus,
 *   mem_total_kib, kernel_release, arch, sched_tunables{}}.
 *
 * Additions to the first cut of this interface: host.arch (uname machine;
 * readers default it to "x86_64"), struct sidecar.spare, the SCX_EV_
 * prefix dropped from scx_ metric names, and the file name's run id part
 * (see sidecar_write). */
#ifndef KTSTR_SIDECAR_H
#define KTSTR_SIDECAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "verdict.h"

#define SIDECAR_SUFFIX ".ktstr.json"
#define SIDECAR_SCHEMA 1

/* Runs root (see above); caller frees; NULL when no HOME/XDG. */
char *sidecar_runs_root(void);

/* The project commit: KTSTR_PROJECT_COMMIT when set, else `git rev-parse
 * --short=12 HEAD` in dir plus "-dirty" when the tree has changes, else
 * "nogit".  Caller frees. */
char *sidecar_project_commit(const char *dir);

/* A run id: "YYYYMMDDTHHMMSSZ-<8 hex>", unique per runner invocation. */
char *sidecar_new_run_id(void);

/* "local" or "ci" (KTSTR_CI non-empty). */
const char *sidecar_run_source(void);

/* Host context: cpu_model, cpus (usable by this process), mem_total_kib,
 * kernel_release, arch (uname machine: "x86_64", "aarch64"),
 * sched_tunables {name: value} from /proc/sys/kernel/sched_* (numbers as
 * numbers, anything else as the trimmed text; unreadable ones left out).
 * Fields that cannot be read are null. */
json_t *sidecar_host_context(void);

/* Comparable metrics of one judged run, over its non-background cgroups:
 * worst_spread_pct, worst_gap_ms, total_migrations, worst_migration_ratio,
 * worst_p99_wake_latency_us, worst_median_wake_latency_us,
 * total_iterations, min_iterations_per_sec, starved_workers,
 * isolation_violations, and the sched_ext event totals as
 * scx_<event lowercased> without the SCX_EV_ prefix
 * (SCX_EV_SELECT_CPU_FALLBACK: scx_select_cpu_fallback), the machine
 * checks' max_idle_while_runnable_ms, max_imbalance_ratio,
 * max_local_dsq_depth, stall_count, max_runnable_wait_ms,
 * fallback_per_sec, keep_last_per_sec and per phase
 * "phase<N>.<name>" (machine.h: mean_imbalance_ratio,
 * max_imbalance_ratio, max_local_dsq_depth, stall_count,
 * idle_while_runnable_ms, fallback_per_sec, keep_last_per_sec).  Without
 * cgroup_stats, scenario_end's worst spread, worst gap and migrations
 * stand in.  Missing values are left out. */
json_t *sidecar_metrics(const struct verdict *v);

/* An open run directory. */
struct sidecar_dir {
	char *path;
	int lock_fd;		/* -1 when KTSTR_SIDECAR_DIR (no lock) */
	bool cleared;		/* this runner pre-cleared it */
};

/* Open (create) the run directory for kernel_label and commit, honouring
 * KTSTR_SIDECAR_DIR; pre-clear and lock as above.  0, or -1 with the
 * reason in err. */
int sidecar_dir_open(struct sidecar_dir *d, const char *kernel_label,
		     const char *commit, struct strbuf *err);
void sidecar_dir_close(struct sidecar_dir *d);

/* Write doc as <dir>/<stem>.<run_id>.ktstr.json atomically, where stem is
 * the case name with '/' and other unsafe characters mapped to '_' and
 * the repeat appended ("steady_fair_tiny-2llc.r1"), so
 * "steady_fair_tiny-2llc.r1.20250102T030405Z-1a2b3c4d.ktstr.json".  The
 * file is written to a temp file, fsynced and linked into place: an
 * existing file is never replaced (an error instead).  Returns the path
 * (caller frees), or NULL with the reason in err. */
char *sidecar_write(const struct sidecar_dir *d, const char *case_name, unsigned repeat,
		    const char *run_id, const json_t *doc, struct strbuf *err);

/* ---- reading ---- */

struct sidecar {
	char *path;
	json_t *doc;		/* the whole document */
	/* convenience views into doc (never NULL: "" when missing) */
	const char *run_id, *run_source, *timestamp, *suite, *test, *preset,
		   *case_name, *scheduler, *kernel, *commit, *result, *topology,
		   *arch;
	json_t *metrics;	/* object (borrowed; empty when missing) */
	json_t *work_types;	/* array (borrowed; empty when missing) */
	json_t *spare;		/* owns the empty metrics/work_types */
};

struct sidecar_set {
	struct sidecar *v;
	size_t n, alloc;
	struct strvec bad;	/* "path: why" for each file that could not
				 * be read or parsed */
};

/* Load every *.ktstr.json directly in dir (hidden files, such as temp
 * files being written, are skipped), in file name order.  Unreadable or
 * malformed files, documents that are not objects, not of type "sidecar"
 * or of another schema, and a "metrics" that is not an object are listed
 * in set->bad, not fatal.  0, or -1 when dir itself cannot be read (err
 * set).  set starts zeroed ({ 0 }); loading several dirs into one set
 * adds to it. */
int sidecar_load_dir(const char *dir, struct sidecar_set *set, struct strbuf *err);
/* One sidecar document already in memory, checked as sidecar_load_dir
 * checks a file and added to set (or its problem to set->bad) under the
 * name path; no I/O, so the fuzzer (tests/fuzz) reaches the parser. */
void sidecar_load_buf(const char *path, const char *buf, size_t len,
		      struct sidecar_set *set);
void sidecar_set_release(struct sidecar_set *set);

/* A run as listed by ktstr-stats list: a directory under the runs root. */
struct sidecar_run {
	char *name;		/* directory name: {kernel}-{commit} */
	char *path;
	size_t tests;		/* sidecar files */
	char *date;		/* newest timestamp in it, or its mtime */
	char *arch;		/* of the newest sidecar; "x86_64" default */
};

/* Every run directory under root (hidden ones skipped), newest first by
 * date, then by name.  tests counts unreadable sidecar files too.  Returns
 * count; 0 (and *out NULL) when root is missing. */
size_t sidecar_list_runs(const char *root, struct sidecar_run **out);
void sidecar_runs_free(struct sidecar_run *v, size_t n);

#endif
