/* JUnit XML reports, in the subset GitHub and GitLab render:
 *
 *   <testsuites name= tests= failures= errors= skipped= time=>
 *     <testsuite name=SUITE tests= failures= skipped= time= timestamp=>
 *       <testcase classname=SUITE name=CASE time=SECS>
 *         <failure message=ONE-LINE type=CHECK>DETAIL</failure> | <skipped message=/>
 *         <system-out>...</system-out>
 *       </testcase>
 *
 * Suites appear in the order their first case does; a NULL suite is
 * "ktstr".  Times are seconds with millisecond precision.  JUNIT_ERROR
 * renders as <error message= type=>DETAIL</error>.
 *
 * Written atomically (temp file, fsync, rename). */
#ifndef KTSTR_JUNIT_H
#define KTSTR_JUNIT_H

#include <stddef.h>
#include "strbuf.h"

enum junit_status { JUNIT_PASS, JUNIT_FAIL, JUNIT_SKIP, JUNIT_ERROR };

struct junit_case {
	const char *suite;
	const char *name;
	enum junit_status status;
	double secs;
	const char *message;	/* one line, or NULL */
	const char *detail;	/* multi-line, or NULL */
	const char *out;	/* system-out, or NULL */
	const char *type;	/* failure/error type (the failed check), or
				 * NULL: "failure" / "error" */
};

/* Escape text for XML content or attribute values (&<>"' and control
 * characters other than tab/newline, which XML 1.0 cannot carry, become
 * U+FFFD; invalid UTF-8 is replaced too). */
void junit_escape(struct strbuf *out, const char *s);
/* Render the whole document. */
void junit_render(struct strbuf *out, const char *name, const struct junit_case *c,
		  size_t n, const char *timestamp);
/* Render and write atomically; 0 or -1 with errno. */
int junit_write(const char *path, const char *name, const struct junit_case *c,
		size_t n, const char *timestamp);

#endif
