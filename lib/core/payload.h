/* Payloads' output into metrics, and the command lines they run with.
 *
 * The definition of a payload is part of a scenario (scenario.h, struct
 * payload_def, parsed by scenario_payload.c).  This file is what both
 * sides need beyond the definition: the host to check a payload before
 * boot (its program, the Debian package that has it), the guest agent to
 * build the argv of each copy and to turn what the copy wrote into
 * metrics.  It lives in lib/core because the agent links it.
 *
 * Forms (payload_def.form):
 *   exit_code   no metrics; only the exit status is judged
 *   json        the output is one JSON document; every numeric leaf is a
 *               metric named by its dotted path ("jobs.0.read.iops");
 *               array indices are path components
 *   pattern     each line of the output is matched against the def's
 *               patterns; a match's first capture group is the value
 *               (the last matching line wins)
 *   <adapter>   a named parser for a known program (payload_adapters())
 *
 * Where the output is: an argument may contain "{out}", replaced by a
 * per-copy file the agent reads after the copy exits; without "{out}" the
 * output is the copy's stdout.  "{copy}" is replaced by the copy's index
 * (0-based).  An adapter appends the options that make its program write
 * what it parses (cyclictest --json={out}) unless the def's args already
 * give that option. */
#ifndef KTSTR_PAYLOAD_H
#define KTSTR_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"

/* One metric. */
struct pmetric {
	char *name;		/* [a-z0-9_.] by convention, unit suffix
				 * where it has one: "p99_us", "time_s" */
	double value;		/* finite */
	char *unit;		/* "us", "s", "ops/s", "" ... */
	enum payload_better better;
};

struct pmetrics {
	struct pmetric *v;
	size_t n, alloc;
};

/* Add or replace (same name) a metric; non-finite values are ignored. */
void pmetrics_set(struct pmetrics *m, const char *name, double value, const char *unit,
		  enum payload_better better);
const struct pmetric *pmetrics_get(const struct pmetrics *m, const char *name);
void pmetrics_release(struct pmetrics *m);
/* {"NAME": {"value": V, "unit": "us", "better": "lower"}, ...} */
json_t *pmetrics_to_json(const struct pmetrics *m);

/* "lower", "higher", "none"; parse returns -1 for anything else. */
const char *payload_better_name(enum payload_better b);
int payload_better_parse(const char *s, enum payload_better *b);

struct payload_adapter {
	const char *name;		/* form name: "cyclictest" */
	const char *program;		/* what it parses: "cyclictest" */
	const char *package;		/* Debian package: "rt-tests" */
	const char *summary;		/* one line for --help and man */
	const char *const *default_args;	/* when the def gives none */
	const char *const *output_args;	/* appended unless given */
	/* text is the output (stdout or the {out} file), NUL-terminated.
	 * 0 with at least one metric, or -1 with one line in err saying
	 * what was expected and what was found. */
	int (*parse)(const char *text, size_t len, struct pmetrics *m, struct strbuf *err);
	/* Other spellings of output options, in pairs: {"-h",
	 * "--histogram", NULL} means a "-h" in the def's args gives the
	 * output arg "--histogram=..." (which then is not appended).
	 * NULL when there are none. */
	const char *const *output_aliases;
};

/* At most this many metrics from one copy's output (the json form on a
 * big document fails rather than flood the records). */
#define PAYLOAD_MAX_METRICS 4096u

/* Every adapter, NULL-terminated, in a fixed order. */
const struct payload_adapter *const *payload_adapters(void);
/* By form name, NULL when there is none. */
const struct payload_adapter *payload_adapter_find(const char *form);
/* Every valid form name: "exit_code, json, pattern, cyclictest, ...". */
void payload_form_list(struct strbuf *out);
/* The form to use when a def says none: the adapter whose program is the
 * basename of program, else "exit_code". */
const char *payload_default_form(const char *program);
/* The Debian package of a program (by basename), for "install it" hints:
 * adapters' packages and a few more; NULL when unknown. */
const char *payload_package_of(const char *program);

/* The argv of copy `copy` of d (program first), with {out} replaced by
 * outfile and {copy} by the index, the adapter's output args appended
 * when missing.  *uses_out: the output is the file, not stdout. */
void payload_argv(const struct payload_def *d, unsigned copy, const char *outfile,
		  struct strvec *argv, bool *uses_out);

/* Turn a copy's output into metrics by d's form (exit_code: 0, none).
 * The def's describe entries then set units and directions by name.
 * -1 with one line in err when the output does not parse. */
int payload_metrics_parse(const struct payload_def *d, const char *text, size_t len,
			  struct pmetrics *m, struct strbuf *err);

/* The last max_lines lines of text, for a record's output_tail (each line
 * cut at 512 bytes, invalid UTF-8 replaced). */
json_t *payload_output_tail(const char *text, size_t len, unsigned max_lines);

#endif
