#include "diag.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ktstr_prog = "ktstr";

void diag_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	ktstr_prog = slash ? slash + 1 : argv0;
}

void vdiag(const char *fmt, va_list ap)
{
	char buf[4096];

	/* One write per message so concurrent programs do not interleave. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s\n", ktstr_prog, buf);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
	exit(code);
}

void die_errno(int code, const char *fmt, ...)
{
	char buf[3072];
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("%s: %s", buf, strerror(err));
	exit(code);
}

void stdout_write_failed(const char *what)
{
	int err = errno ? errno : EIO;	/* a stdio error flag of long ago */

	if (err == EPIPE)
		exit(KTSTR_EXIT_SIGNAL + SIGPIPE);
	diag("cannot write %s to stdout: %s", what, strerror(err));
	exit(KTSTR_EXIT_USAGE);
}

void stdout_flush(const char *what)
{
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		stdout_write_failed(what);
}

static void *oom(void)
{
	fprintf(stderr, "%s: out of memory\n", ktstr_prog);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	return p ? p : oom();
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	return p ? p : oom();
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? oom() : s;
}
