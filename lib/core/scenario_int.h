/* Internals shared by the scenario parser's files (scenario*.c), not part
 * of the public scenario.h.  The sp_ prefix marks them: they have external
 * linkage only so the files can share them. */
#ifndef KTSTR_SCENARIO_INT_H
#define KTSTR_SCENARIO_INT_H

#include "scenario.h"
#include "diag.h"

#include <stdarg.h>

#define MAX_CGROUPS 256
#define MAX_STEPS 1000
#define MAX_OPS 256
#define MAX_PHASES 64
#define MAX_NAME 128
#define MAX_SCENARIO_NAME 64
#define MAX_INDEX 4095			/* llc, node, disjoint slices */
#define MAX_PHASE_COUNT 1000000
#define MAX_WORK_US 3600000000ull	/* 1 h */
#define FRAC_EPS 1e-9

/* A cgroup that exists at the current point of the simulated run. */
struct live {
	const char *name;
	const struct cgroup_def *def;
	long stopped_at;		/* step that stopped it, -1 running */
	bool own_payload;		/* a payload's own cgroup: no ops */
};

/* A payload of the simulated run. */
struct plive {
	const char *name, *cgroup;
	bool own;			/* cgroup is its own */
	bool running;			/* started, not stopped by an op */
};

struct gone {
	const char *name;
	size_t step;
};

struct pctx {
	struct strbuf path;		/* JSON path of the value at hand */
	struct strbuf *err;
	char shown[96];
	struct live *live;
	size_t n_live, alloc_live;
	struct gone *gone;
	size_t n_gone, alloc_gone;
	size_t step;			/* step being parsed */
	size_t n_adds;			/* add ops seen */
	struct plive *pl;		/* every payload started so far */
	size_t n_pl, alloc_pl;
};

/* ---- scenario_json.c: paths, errors, typed getters ---- */

/* Index of s in the NULL-terminated list, or -1. */
int sp_list_index(const char *const *list, const char *s);
/* "a, b, c" */
void sp_list_join(const char *const *list, struct strbuf *sb);
/* Extend the path by ".key" / "[i]"; each returns the mark to pop to. */
size_t sp_path_key(struct pctx *c, const char *key);
size_t sp_path_idx(struct pctx *c, size_t i);
void sp_path_pop(struct pctx *c, size_t mark);
/* "PATH: message"; returns -1. */
int sp_perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "PATH.key: message"; returns -1. */
int sp_perr_key(struct pctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A short rendering of v for "got ..." (valid until the next call). */
const char *sp_show(struct pctx *c, const json_t *v);
/* The value at key, treating JSON null as absent. */
const json_t *sp_get(const json_t *obj, const char *key);
/* Every key of obj is in keys; what ends "unknown key" (" for a cgroup"). */
int sp_check_keys(struct pctx *c, const json_t *obj, const char *const *keys,
		  const char *what);
bool sp_as_whole(const json_t *v, long long *out);
/* Whole number in [min, max] at key; def when absent (_req: required). */
int sp_get_whole(struct pctx *c, const json_t *obj, const char *key, long long min,
		 long long max, long long def, long long *out);
int sp_get_whole_req(struct pctx *c, const json_t *obj, const char *key,
		     long long min, long long max, long long *out);
/* A fraction 0 < f <= 1 at key. */
int sp_get_frac(struct pctx *c, const json_t *obj, const char *key, double *out,
		bool *present);
int sp_get_bool(struct pctx *c, const json_t *obj, const char *key, int *out);
int sp_get_string(struct pctx *c, const json_t *obj, const char *key, const char **out);
/* A duration given as base ("50ms", duration.h), base_ms or base_us
 * (numbers), at most one of them, in [min_us, max_us]. */
int sp_get_duration_us(struct pctx *c, const json_t *obj, const char *base,
		       unsigned long long min_us, unsigned long long max_us,
		       unsigned long long *us, bool *present);

/* ---- scenario_work.c ---- */

void sp_work_defaults(enum work_type t, struct work_spec *w);
/* v is the work value at c's path (NULL: the default, spin_wait). */
int sp_parse_work(struct pctx *c, const json_t *v, struct work_spec *w);
/* At c's path (a workers or count field): n must fit w's grouping. */
int sp_check_group(struct pctx *c, const struct work_spec *w, const char *field,
		   long long n);

/* ---- scenario_cpuset.c ---- */

/* v is the cpuset value at c's path (NULL or null: no restriction); with
 * null_hint, null is an error ending in that hint. */
int sp_parse_cpuset(struct pctx *c, const json_t *v, struct cpuset_spec *cs,
		    const char *null_hint);

/* ---- scenario_cgroup.c: definitions and the simulated run ---- */

int sp_parse_cgroup(struct pctx *c, const json_t *v, struct cgroup_def *d);
void sp_cgroup_release(struct cgroup_def *d);
/* At c's path (the name): name can join the live cgroups. */
int sp_sim_check_new(struct pctx *c, const char *name, const char *dup_where);
void sp_sim_add(struct pctx *c, const struct cgroup_def *d);
void sp_sim_remove(struct pctx *c, struct live *l);
/* The value at key names a live cgroup; at c's path. */
int sp_sim_ref(struct pctx *c, const json_t *op, const char *key, struct live **out);

/* ---- scenario_payload.c ---- */

int sp_parse_payload(struct pctx *c, const json_t *v, struct payload_def *d);
void sp_payload_release(struct payload_def *d);
/* At c's path (the payload): d starts; its name is new, its cgroup live
 * (or, for its own, free). */
int sp_sim_payload_start(struct pctx *c, const struct payload_def *d);
/* The value at key of op names a running payload, which stops. */
int sp_sim_payload_stop(struct pctx *c, const json_t *op, const char *key,
			const struct plive **out);
int sp_sim_payload_check_remove(struct pctx *c, const char *name);
int sp_sim_payload_check_empty(struct pctx *c, const struct scenario *s);

/* ---- scenario_step.c ---- */

int sp_parse_step(struct pctx *c, const json_t *v, struct step *st, double def_frac,
		  unsigned long long duration_ms);

#endif
