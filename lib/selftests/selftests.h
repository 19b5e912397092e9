/* The kernel's sched_ext selftests (tools/testing/selftests/sched_ext)
 * run in VMs: which tests, how they are split over VMs, the guest shell
 * script that runs them, and the parser that turns the runner's output
 * back into one result per test.
 *
 * The runner's own selector (-t STR) runs every test whose name contains
 * STR, so "dequeue" also runs dequeue_iter and dequeue_remote.  Tests
 * whose names contain one another are a family: a family stays in one
 * VM, where one invocation runs it all, so nothing runs twice.
 *
 * The guest script runs one runner invocation per family (stderr folded
 * into stdout), bracketed by marker lines that carry the guest's uptime:
 *   @@ktstr-selftest begin FILTER UPTIME_S
 *   @@ktstr-selftest end FILTER EXIT_CODE UPTIME_S
 * so an invocation that crashed is told apart from a test that failed,
 * and a test run alone gets its duration. */
#ifndef KTSTR_SELFTESTS_H
#define KTSTR_SELFTESTS_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

#define ST_MARK "@@ktstr-selftest"
/* Output lines kept per failing test (its last ones). */
#define ST_TAIL_LINES 40

/* The runner's list (-l output): one name a line; blank lines dropped.
 * 0, or -1 when it holds no test name. */
int st_list_parse(const char *text, struct strvec *names);

/* The tests of all that match any of pats (fnmatch globs; an exact name
 * is a glob without wildcards), in the runner's order; every test when
 * pats is empty.  A pattern that matches nothing is an error naming it.
 * 0, or -1 with err. */
int st_select(const struct strvec *all, const struct strvec *pats, struct strvec *out,
	      struct strbuf *err);

/* The kernel command line a test needs that a plain VM lacks (nohz_tick:
 * nohz_full= on every CPU but the first), or NULL; cpus is the guest's
 * CPU count.  Caller frees. */
char *st_test_append(const char *name, unsigned cpus);

/* One VM's share. */
struct st_group {
	struct strvec tests;	/* in the runner's order */
	char *append;		/* extra kernel command line, or NULL */
};

/* Split sel (a subset of all, in order) over at most jobs VMs: families
 * together, balanced by test count; a test that needs a kernel command
 * line gets a VM of its own.  Empty groups are dropped.  Returns the
 * number of groups (*out allocated). */
size_t st_plan(const struct strvec *all, const struct strvec *sel, unsigned jobs,
	       unsigned cpus, struct st_group **out);
void st_groups_free(struct st_group *g, size_t n);

/* The /bin/sh script that runs group g with the runner at runner (a guest
 * path): one invocation per family, bracketed by the markers. */
void st_script(const struct st_group *g, const char *runner, struct strbuf *out);

/* ST_ERROR: no result, as the run was stopped (a signal) first. */
enum st_result { ST_PASS, ST_SKIP, ST_FAIL, ST_ERROR };
const char *st_result_name(enum st_result r);

struct st_test {
	char *name;
	bool done;		/* a result was read */
	enum st_result result;
	char *reason;		/* skip/fail reason, or NULL */
	struct strvec output;	/* its output lines (all; tail on report) */
	long long duration_ms;	/* -1: unknown */
};

/* Reads one VM's guest output, line by line. */
struct st_parser {
	struct st_test *tests;	/* the group's tests, in order */
	size_t n;
	/* the invocation being read */
	bool in_inv, in_test, in_summary;
	char *filter;		/* its -t value */
	double t0;		/* guest uptime at its start, seconds */
	struct strvec loose;	/* its lines outside any START..END block */
	int cur;		/* the test whose block is open, or -1 */
	size_t inv_results;	/* result lines read in it (any test) */
	int inv_last;		/* the last wanted test it reported, or -1 */
};

void st_parser_init(struct st_parser *p, const struct strvec *tests);
void st_parser_line(struct st_parser *p, const char *line);
/* No more output: tests without a result fail, with why (the VM's end,
 * or NULL: "the runner reported no result"). */
void st_parser_finish(struct st_parser *p, const char *why);
/* The same when a signal stopped the run: tests without a result are
 * ST_ERROR, "interrupted before it finished"; those read keep theirs. */
void st_parser_finish_interrupted(struct st_parser *p);
void st_parser_release(struct st_parser *p);

#endif
