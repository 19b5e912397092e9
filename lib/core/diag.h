/* Diagnostics, exit codes and allocation wrappers shared by every program.
 *
 * Every message goes to stderr prefixed with the program name so a pipeline
 * of ktstr programs still tells the user which stage spoke. */
#ifndef KTSTR_DIAG_H
#define KTSTR_DIAG_H

#include <stdarg.h>
#include <stddef.h>

enum ktstr_exit {
	KTSTR_EXIT_PASS = 0,	/* success / verdict pass */
	KTSTR_EXIT_FAIL = 1,	/* verdict fail, guest command failed */
	KTSTR_EXIT_USAGE = 2,	/* bad usage or setup error */
	KTSTR_EXIT_SKIP = 3,	/* inconclusive or skipped */
	KTSTR_EXIT_SIGNAL = 128,	/* + N: interrupted by signal N */
};

extern const char *ktstr_prog;

/* Set the prefix from argv[0] (its basename). */
void diag_init(const char *argv0);

/* "prog: message" to stderr. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vdiag(const char *fmt, va_list ap);

/* "prog: message" then exit(code); atexit handlers run, so registered
 * cleanups (QEMU, temp dirs) still happen. */
void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* As die(), with ": strerror(errno)" appended. */
void die_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* A program's output on stdout must not be lost in silence: after a
 * failed write to it (errno set; jsonl_emit's, which bypass stdio),
 * stdout_write_failed() says "cannot write WHAT to stdout: why" and
 * exits 2; a reader that went away (EPIPE, SIGPIPE ignored) ends it
 * quietly with 128+SIGPIPE instead, as the signal would have.
 * stdout_flush() flushes stdio's buffer and does the same when anything
 * written through it failed. */
void stdout_write_failed(const char *what) __attribute__((noreturn));
void stdout_flush(const char *what);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
