/* JSON lines: one compact JSON object per line, each with a "type" field.
 *
 * All machine output of ktstr programs goes through here so the framing is
 * identical everywhere: compact encoding, keys in insertion order, one
 * write(2) per record, flushed immediately (records are consumed live by the
 * next stage of a pipeline). */
#ifndef KTSTR_JSONL_H
#define KTSTR_JSONL_H

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include "strbuf.h"

/* New object {"type": type}. */
json_t *jsonl_record(const char *type);
/* Write obj as one line to fd and drop the reference.  Returns 0 or -1. */
int jsonl_emit_fd(int fd, json_t *obj);
/* Same, to a stdio stream (flushed). */
int jsonl_emit(FILE *f, json_t *obj);
/* Encode obj as one line (with trailing '\n') into sb; obj is not consumed. */
void jsonl_encode(struct strbuf *sb, const json_t *obj);

/* Parse one line.  On success returns a new object that has a string
 * "type"; on failure returns NULL and describes the problem in err. */
json_t *jsonl_parse(const char *line, size_t len, struct strbuf *err);

/* Helpers for building records. */
void json_set_str(json_t *o, const char *key, const char *val);
/* A JSON string of buf, invalid UTF-8 (and NUL) replaced with U+FFFD
 * (utf8_repair). */
json_t *json_string_bytes(const char *buf, size_t len);
/* Like json_set_str but replaces invalid UTF-8 with U+FFFD first. */
void json_set_bytes(json_t *o, const char *key, const char *buf, size_t len);
void json_set_int(json_t *o, const char *key, long long val);
void json_set_real(json_t *o, const char *key, double val);
void json_set_bool(json_t *o, const char *key, bool val);

/* Typed getters with defaults, for reading records. */
const char *json_get_str(const json_t *o, const char *key);
/* "an object", "a string", "a number", ... for messages about types. */
const char *json_kind_name(const json_t *v);
/* Compact JSON of v cut to about 60 characters ("nothing" for NULL), for
 * "got ..." in messages; written into buf, which is returned. */
const char *json_brief(const json_t *v, char *buf, size_t size);
long long json_get_int(const json_t *o, const char *key, long long def);

/* Line splitter for a byte stream: feed bytes, get complete lines back. */
struct line_reader {
	struct strbuf buf;
	size_t max_line;	/* longer lines are cut and flagged */
	size_t drop;		/* bytes handed out, removed on next call */
};
void line_reader_init(struct line_reader *lr, size_t max_line);
void line_reader_release(struct line_reader *lr);
void line_reader_feed(struct line_reader *lr, const char *data, size_t len);
/* Next complete line (without '\n', NUL-terminated) or NULL.  A line longer
 * than max_line comes out in max_line pieces with *truncated set (those
 * pieces are not NUL-terminated), then its remainder as the next line; the
 * result does not depend on how the bytes were fed.  The pointer is valid
 * until the next call. */
const char *line_reader_next(struct line_reader *lr, size_t *len, bool *truncated);
/* The unterminated tail at end of stream, or NULL if none. */
const char *line_reader_rest(struct line_reader *lr, size_t *len);

/* As jsonl_parse, but a record with an integer beyond 64 bits (a raw
 * kernel counter, say) is read again with every integer as a real rather
 * than lost; for streams read back from pipes and files. */
json_t *jsonl_parse_wide(const char *line, size_t len, struct strbuf *err);

/* A JSON-lines stream: bytes in, one callback per record out.  The one
 * reader of record streams, so every consumer frames them the same way:
 *  - lines are numbered from 1, blank ones (only spaces, tabs, CRs)
 *    counted but skipped;
 *  - a line longer than max_line is one bad line, its rest skipped;
 *  - a last line without a newline counts (jsonl_reader_finish);
 *  - a line that is not a record (not JSON, invalid UTF-8, no "type")
 *    goes to bad() with why, and the caller decides what that costs.
 * With line() set instead of record(), every line is handed out as text
 * (a long one in max_line pieces): for the plain-text stream beside. */
struct jsonl_ops {
	/* A record, borrowed (json_incref to keep it). */
	void (*record)(void *ctx, unsigned long lineno, json_t *rec);
	/* A line that is not a record. */
	void (*bad)(void *ctx, unsigned long lineno, const char *why);
	/* Text mode: each line, without its newline. */
	void (*line)(void *ctx, const char *line, size_t len);
	/* Optional: the bytes of each read(2) in jsonl_reader_read before
	 * they are split; (NULL, 0) after a read a signal interrupted. */
	void (*chunk)(void *ctx, const char *buf, size_t len);
};

struct jsonl_reader {
	struct line_reader lr;
	const struct jsonl_ops *ops;
	void *ctx;
	unsigned long lineno;
	bool in_long;		/* skipping the rest of an over-long line */
};

void jsonl_reader_init(struct jsonl_reader *r, size_t max_line,
		       const struct jsonl_ops *ops, void *ctx);
void jsonl_reader_release(struct jsonl_reader *r);
/* Split bytes into lines and hand out every complete one. */
void jsonl_reader_feed(struct jsonl_reader *r, const char *buf, size_t len);
/* End of stream: hand out the unterminated last line, if any. */
void jsonl_reader_finish(struct jsonl_reader *r);
/* Read fd and feed what it gives until end of file (returns 0; call
 * jsonl_reader_finish then) or, for a non-blocking fd, until it has
 * nothing more for now (returns 1).  A read error returns -1 with errno
 * set.  Interrupted reads are retried. */
int jsonl_reader_read(struct jsonl_reader *r, int fd);

#endif
