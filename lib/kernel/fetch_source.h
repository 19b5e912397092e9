/* Fetching the source one kernel id names into the ktstr cache (kernel.org
 * tarballs, git, local trees, cache keys, Debian's prebuilt kernel) and
 * describing it as {"type":"source"} records, or only resolving it
 * ({"type":"release"} records).  The transport is lib/kernel/fetch.h.
 *
 * Functions returning int return a ktstr exit code, as fetch.h does:
 * 0 ok, KTSTR_EXIT_FAIL a download failed its sha256 check (or the Debian
 * fetch failed so), KTSTR_EXIT_USAGE a bad id, setup or network error. */
#ifndef KTSTR_FETCH_SOURCE_H
#define KTSTR_FETCH_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include "kernel_id.h"
#include "strbuf.h"

struct fetch_opts {
	bool list;		/* resolve only, download nothing */
	bool no_extract;	/* keep verified tarballs packed */
	unsigned long jobs;	/* releases of a range fetched at once */
	/* Each record, in order, as soon as it is known; takes the reference. */
	void (*emit)(json_t *rec, void *ctx);
	void *ctx;
};

/* Fetch (or list) what id names.  With jobs > 1 a range is fetched by
 * child processes, which report their own errors on stderr (err then
 * stays empty). */
int fetch_source(const struct kernel_id *id, const struct fetch_opts *o,
		 struct strbuf *err);

/* The record a helper script printed as the last line of its stdout;
 * earlier lines are chatter.  0 with *rec (a new reference), or -1. */
int fetch_script_record(const char *out, size_t len, json_t **rec, struct strbuf *err);

#endif
