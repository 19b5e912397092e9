/* Growable NUL-terminated byte buffer, after git's strbuf.
 *
 * buf is always valid and NUL-terminated, even when empty, so callers can
 * pass sb.buf to C string functions without checking. */
#ifndef KTSTR_STRBUF_H
#define KTSTR_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char strbuf_empty[];
#define STRBUF_INIT { .buf = strbuf_empty, .len = 0, .alloc = 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (must free()); sb is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_trim(struct strbuf *sb);

/* Append everything readable from fd; returns bytes read or -1. */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd);
/* Append a whole file; returns 0 or -1 with errno set. */
int strbuf_read_file(struct strbuf *sb, const char *path);

#endif
