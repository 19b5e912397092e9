/* The check table: every pass/fail check of a run in one place.
 *
 * Each threshold used to be spelled out separately in the scenario parser,
 * the test-file parser, ktstr-stats' options, the verdict, the guest's
 * scenario_start record, the sidecar metrics and compare, under two names
 * in places (max_p99_wake_us in test files, max_p99_wake_latency_us in
 * scenarios).  Now each is one row here, and those consumers loop over the
 * rows, so a new check is added by adding a row (and its field in struct
 * checks, and the code that evaluates it).
 *
 * Spellings: a row's key is the canonical one (the scenario's "checks"
 * key, the key in scenario_start.checks and in the verdict's
 * "thresholds"); its aliases are older spellings, accepted wherever a key
 * is read.  The ktstr-stats option is the key with '-' for '_'
 * (--max-p99-wake-latency-us), each alias giving one more
 * (--max-p99-wake-us); a switch gets --KEY and --no-KEY.
 *
 * This file needs only libc and jansson: the static guest agent links it. */
#ifndef KTSTR_CHECKTAB_H
#define KTSTR_CHECKTAB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "scenario.h"
#include "strbuf.h"

enum check_kind {
	CHECK_LIMIT,		/* a number in a double of struct checks;
				 * NAN not set, INFINITY "off" */
	CHECK_SWITCH,		/* on/off in an int of struct checks; -1 not set */
	CHECK_ALWAYS,		/* no threshold: always evaluated (crash, ...) */
};

enum check_dir {
	CHECK_AT_MOST,		/* fails above the limit */
	CHECK_AT_LEAST,		/* fails below the limit */
};

/* Where a check applies (bits). */
#define CHECK_SCOPE_CGROUP	0x1u	/* each non-background cgroup */
#define CHECK_SCOPE_RUN		0x2u	/* the run as a whole */
#define CHECK_SCOPE_MACHINE	0x4u	/* the machine, from monitor records */
#define CHECK_SCOPE_PHASE	0x8u	/* its metric is also kept per phase */

#define CHECK_MAX_ALIASES 2

struct check_def {
	const char *name;	/* the verdict's check name: "p99_wake_latency" */
	const char *key;	/* canonical threshold key; NULL for CHECK_ALWAYS */
	const char *aliases[CHECK_MAX_ALIASES + 1];	/* NULL-terminated */
	enum check_kind kind;
	const char *unit;	/* of the limit and the value: "ms", "%", ... */
	double def;		/* default: a limit (NAN: off), or 1/0 for a switch */
	double min;		/* the least valid limit ... */
	bool min_strict;	/* ... which must be exceeded, not just reached */
	enum check_dir dir;
	unsigned scope;		/* CHECK_SCOPE_* */
	const char *record;	/* the record type it reads */
	const char *field;	/* ... and its field(s), ","-separated */
	const char *also;	/* other "record.field"s it reads, or NULL */
	const char *metric;	/* the sidecar metric it maps to, or NULL */
	bool higher_is_better;	/* that metric's good direction */
	double gate_abs, gate_rel_pct;	/* compare's regression gate for it */
	size_t off;		/* offsetof(struct checks, ...) */
	const char *help;	/* one line for --help and --list-checks */
};

/* Every row, in a fixed order (struct checks order, then the checks that
 * have no threshold). */
const struct check_def *checktab(size_t *n);

/* The row whose key or one of whose aliases is key; NULL when none. */
const struct check_def *checktab_find(const char *key);
/* The row of a verdict check name ("spread"); NULL when none. */
const struct check_def *checktab_by_name(const char *name);
/* The row whose sidecar metric is metric; NULL when none. */
const struct check_def *checktab_by_metric(const char *metric);

/* The threshold fields of one row in c (only for CHECK_LIMIT /
 * CHECK_SWITCH rows respectively). */
double *check_limit(struct checks *c, const struct check_def *d);
double check_limit_get(const struct checks *c, const struct check_def *d);
int *check_switch(struct checks *c, const struct check_def *d);
int check_switch_get(const struct checks *c, const struct check_def *d);

/* Whether x is a valid limit for d (INFINITY, "off", always is). */
bool check_limit_valid(const struct check_def *d, double x);
/* What a valid limit is, for messages: "a number greater than 0". */
void check_limit_expect(const struct check_def *d, struct strbuf *out);

/* "cgroup", "run", "machine, per phase", ... */
void check_scope_format(unsigned scope, struct strbuf *out);
/* The canonical keys, ", "-separated, for "expected one of" messages. */
void checktab_keys_join(struct strbuf *out);
/* key with '-' for '_': the ktstr-stats option name without "--". */
void check_flag_name(const char *key, struct strbuf *out);

/* What d reads, as "cgroup_stats.spread_pct" or
 * "monitor.{idle,nr_running}, worker.iterations". */
void check_reads_format(const struct check_def *d, struct strbuf *out);
/* The default of d as text: "15", "off", "on", "always". */
void check_default_format(const struct check_def *d, struct strbuf *out);

/* The thresholds of c under the check table's canonical keys, as
 * scenario_start.checks and the verdict's "thresholds" carry them: a
 * limit as a number, or null when off (NAN or INFINITY); a switch as true
 * or false.  given_only: only what c sets (a NAN limit or a -1 switch is
 * left out, so the reader's default applies; INFINITY is null, "off"). */
json_t *checks_to_json(const struct checks *c, bool given_only);

/* One {"type":"check_def", ...} record for d (ktstr-records(7)). */
json_t *check_def_json(const struct check_def *d);
/* The human table of every row, for ktstr-stats --list-checks. */
void checktab_format(struct strbuf *out);

#endif
