/* Sidecars: one *.ktstr.json file per test case run, the run history that
 * ktstr-stats list/show/compare/clean read.
 *
 * Layout: {runs root}/{kernel}-{run_id}/{file}.ktstr.json, one directory
 * per runner invocation and kernel, where the runs root is
 * KTSTR_RUNS_ROOT, else $XDG_STATE_HOME/ktstr/runs (or
 * ~/.local/state/ktstr/runs).  The run id is new for every invocation, so
 * runs never share a directory and history is kept until
 * 'ktstr-stats clean' prunes it.  KTSTR_SIDECAR_DIR names the directory
 * itself: the operator owns it, and sidecars of other runs already in it
 * are kept (and counted, so the runner can say so).
 *
 * Older runners used {kernel}-{project_commit} and cleared it on every
 * run; readers still list and compare such directories.
 *
 * Locks: {root}/.lock is held exclusively while a runner creates its run
 * directory and sweeps stale temp files, and by clean while it removes
 * runs; {run dir}/.lock is held shared by the runner for as long as it
 * writes, so clean never removes (and the sweep never counts as dead) a
 * run in progress.  Every sidecar is written to a hidden temp file
 * ".{file}.tmp.{pid}.XXXXXX", fsynced and linked into place, so it is
 * either complete or absent; a runner killed in between leaves the temp
 * file, which the next runner's sweep or clean removes.
 *
 * Sidecar document (schema 1), one JSON object:
 *   type "sidecar", schema 1, run_id, label, run_source ("local", or "ci"
 *   when KTSTR_CI is set), timestamp (UTC ISO 8601), suite, test, preset,
 *   case, repeat (1-based), topology {spec, nodes, llcs, cores_per_llc,
 *   threads_per_core, cpus}, scheduler {name ("eevdf" for none), path,
 *   args[]}, scenario {name, duration_ms, features[], work_types[]},
 *   kernel {label, key, image, release}, accel ("kvm", "tcg", null when no
 *   VM ran), project_commit, result, exit_code, wall_ms, reason, verdict
 *   (ktstr-stats' verdict record), metrics {name: number}
 *   (sidecar_metrics), cgroups[] (cgroup_stats records), scenario_end,
 *   stimulus[] (stimulus records), sched_ext_events {}, guest
 *   {kernel_release, cmdline, sysctls{}}, host {cpu_model, cpus,
 *   mem_total_kib, kernel_release, arch, sched_tunables{}}, payloads[]
 *   (sidecar_payloads), bpf_programs[] (sidecar_bpf_programs) and
 *   metric_info {} (sidecar_metric_info).
 *
 * Additions to the first cut of this interface: host.arch (uname machine;
 * readers default it to "x86_64"), struct sidecar.spare, the SCX_EV_
 * prefix dropped from scx_ metric names, the file name's run id part
 * (see sidecar_write), label and accel (readers default the label to the
 * project commit). */
#ifndef KTSTR_SIDECAR_H
#define KTSTR_SIDECAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"
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
 * stand in.  Missing values are left out.  Each payload metric is
 * "payload.NAME.METRIC", the mean over the copies that reported it.
 * Each BPF program of the scheduler gives "bpf.PROG.verified_insns"
 * (bpf_prog), and with bpf_prog_stats "bpf.PROG.run_cnt" and, when it
 * ran, "bpf.PROG.ns_per_run" (run_time_ns / run_cnt over the window). */
json_t *sidecar_metrics(const struct verdict *v);
/* The sidecar's "metric_info": {"payload.NAME.METRIC": {"unit": "us",
 * "better": "lower"|"higher"|"none"}} for the payload and BPF metrics
 * sidecar_metrics names (the others' units and directions are compare's
 * own table). */
json_t *sidecar_metric_info(const struct verdict *v);
/* The sidecar's "bpf_programs": the scheduler's BPF programs as the
 * verdict record's (verdict_bpf_programs_json). */
json_t *sidecar_bpf_programs(const struct verdict *v);
/* The sidecar's "payloads": per payload copy its stop and metrics, as
 * the verdict record's (verdict_payloads_json). */
json_t *sidecar_payloads(const struct verdict *v);

/* The default run label: the project commit when it is one, else the
 * set of schedulers of the cases that will run, sorted, joined with '+'
 * ("eevdf+scx_simple").  Caller frees. */
struct gcase;
char *sidecar_default_label(const char *commit, const struct gcase *cases, size_t n);

/* Temp files older than this are a dead writer's, whatever the name says. */
#define SIDECAR_TEMP_MAX_AGE_SECS 600

/* An open run directory. */
struct sidecar_dir {
	char *path;
	int lock_fd;		/* shared flock on {path}/.lock while open */
	size_t swept;		/* stale temp files removed when it was opened */
	size_t foreign;		/* KTSTR_SIDECAR_DIR: sidecars already in it */
};

/* Open (create) the run directory {kernel_label}-{run_id} under the runs
 * root, or KTSTR_SIDECAR_DIR, under the locks above, sweeping stale temp
 * files of every run directory first.  A directory of that name that
 * already exists is an error: nothing is ever replaced.  0, or -1 with
 * the reason in err. */
int sidecar_dir_open(struct sidecar_dir *d, const char *run_id, const char *kernel_label,
		     struct strbuf *err);
void sidecar_dir_close(struct sidecar_dir *d);

/* Write doc as <dir>/<stem>.<run_id>.ktstr.json atomically, where stem is
 * the case name with '/' and other unsafe characters mapped to '_' and
 * the repeat appended ("steady_fair_tiny-2llc.r1"), so
 * "steady_fair_tiny-2llc.r1.20250102T030405Z-1a2b3c4d.ktstr.json".  The
 * file is written to a temp file, fsynced and linked into place: an
 * existing file is never replaced (an error instead).  Returns the path
 * (caller frees), or NULL with one line in err: "cannot write sidecar
 * PATH: REASON; HINT" (the hint says what to do: free space, or point
 * KTSTR_RUNS_ROOT elsewhere). */
char *sidecar_write(const struct sidecar_dir *d, const char *case_name, unsigned repeat,
		    const char *run_id, const json_t *doc, struct strbuf *err);

/* Remove the stale sidecar temp files directly in dir: hidden
 * "*.ktstr.json.tmp.*" files whose writer (the pid in the name) is dead,
 * or that are SIDECAR_TEMP_MAX_AGE_SECS old.  Each removed path is
 * pushed to removed when not NULL; returns how many went. */
size_t sidecar_sweep_temps(const char *dir, struct strvec *removed);

/* Is name (a basename) a sidecar's: ends in SIDECAR_SUFFIX, not hidden? */
bool sidecar_is_name(const char *name);
/* Is path a sidecar temp file name (the basename)?  *pid set to the
 * writer's pid when the name has one, else 0. */
bool sidecar_is_temp_name(const char *name, long *pid);

/* ---- reading ---- */

struct sidecar {
	char *path;
	json_t *doc;		/* the whole document */
	/* convenience views into doc (never NULL: "" when missing) */
	const char *run_id, *run_source, *timestamp, *suite, *test, *preset,
		   *case_name, *scheduler, *kernel, *commit, *result, *topology,
		   *arch, *label, *accel;	/* label: the commit when absent */
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
/* One sidecar's memory (its path, document and spare). */
void sidecar_release_one(struct sidecar *s);

/* A run as listed by ktstr-stats list: a directory under the runs root. */
struct sidecar_run {
	char *name;		/* directory name: {kernel}-{run_id}, or
				 * {kernel}-{commit} of older runners */
	char *path;
	char *ref;		/* what to call it: the run id when that names
				 * this directory alone, else the name */
	char *id;		/* run id of the newest sidecar; "" without */
	char *label;		/* its label (else commit); "" without */
	char *kernel;		/* its kernel label; "" without */
	char *commit;		/* its project commit; "" without */
	char *schedulers;	/* of all its sidecars, sorted, '+'-joined */
	size_t tests;		/* sidecar files */
	char *date;		/* newest timestamp in it, or its mtime */
	char *arch;		/* of the newest sidecar; "x86_64" default */
	bool live;		/* a runner holds it (its .lock is taken) */
	struct strvec dirs;	/* every directory of the run: path alone, or
				 * with several roots each shard's (path first) */
};

/* Every run directory under root (hidden ones skipped), newest first by
 * date, then by name.  tests counts unreadable sidecar files too.  A root
 * that holds sidecars itself is a run directory: that run alone, its ref
 * the root's path.  Returns count; 0 (and *out NULL) when root is
 * missing. */
size_t sidecar_list_runs(const char *root, struct sidecar_run **out);
void sidecar_runs_free(struct sidecar_run *v, size_t n);
/* One entry's memory, the entry itself left. */
void sidecar_run_release(struct sidecar_run *r);

/* The runs of several roots (the artifact directories of a sharded run's
 * shards) as one history: directories of the same name ({kernel}-{run
 * id}: the shards of one run, which share the run id) are one run, its
 * dirs every root's, tests its distinct sidecar file names (one in two
 * roots is read once), schedulers joined, live when any is,
 * the rest from the newest.  Missing roots add nothing.  Newest first;
 * refs as sidecar_list_runs names them over the merged list. */
/* Shared by the listing of one root and of several: newest first (date,
 * then name) for qsort, and setting each run's ref. */
int sidecar_run_newest_first(const void *a, const void *b);
void sidecar_name_runs(struct sidecar_run *v, size_t n);

size_t sidecar_list_roots(const char *const *roots, size_t nroots, struct sidecar_run **out);

/* Load every directory of a run into set (sidecar_load_dir each), then
 * order the sidecars by file name, as one directory's would be, and drop
 * a file name seen twice (the same shard's artifact in two roots),
 * listing it in dups when not NULL.  0, or -1 (err) when a directory
 * cannot be read. */
int sidecar_load_dirs(const struct strvec *dirs, struct sidecar_set *set,
		      struct strvec *dups, struct strbuf *err);

/* Does dir hold sidecar files directly (is it a run directory itself)? */
bool sidecar_dir_has_sidecars(const char *dir);

/* Find run arg among v (from sidecar_list_runs, newest first): a path
 * (anything with a '/', or "." and ".."), a directory name, a run id
 * (an error when it names several directories: one per kernel), or a
 * label (the newest run with it; *note says when others have it too).
 * Returns the index, -1 for a path (*path set), -2 when not found or
 * ambiguous (err says why).  *note and *path are set to NULL first; the
 * caller frees them. */
long sidecar_find_run(const struct sidecar_run *v, size_t n, const char *arg,
		      char **path, char **note, struct strbuf *err);
/* Can sidecar_find_run find a run by this label?  Not when it reads as a
 * path ('/', "." or ".."), is empty or spans lines.  0, or -1 with why
 * in err. */
int sidecar_label_check(const char *label, struct strbuf *err);

/* clean: remove every run but the keep newest (keep < 0: none by count)
 * and every run directory with no sidecar file, skipping runs a runner
 * holds, plus the stale temp files of the runs kept, all under the root
 * lock.  A run is renamed to {root}/.trash.XXXXXX before it is deleted,
 * so a listing never sees half of one.  Removed runs' names go to runs,
 * temp file paths to temps.  0, or -1 when root cannot be locked (err). */
int sidecar_clean(const char *root, long keep, struct strvec *runs, struct strvec *temps,
		  struct strbuf *err);

#endif
