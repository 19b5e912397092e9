#include "jsonl.h"
#include "diag.h"
#include "fsutil.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *jsonl_record(const char *type)
{
	json_t *o = json_object();

	if (!o)
		die(KTSTR_EXIT_USAGE, "out of memory");
	json_object_set_new(o, "type", json_string(type));
	return o;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	strbuf_add(data, buf, size);
	return 0;
}

void jsonl_encode(struct strbuf *sb, const json_t *obj)
{
	json_dump_callback(obj, dump_cb, sb,
			   JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	strbuf_addch(sb, '\n');
}

int jsonl_emit_fd(int fd, json_t *obj)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	jsonl_encode(&sb, obj);
	ret = write_all(fd, sb.buf, sb.len);
	strbuf_release(&sb);
	json_decref(obj);
	return ret;
}

int jsonl_emit(FILE *f, json_t *obj)
{
	fflush(f);
	return jsonl_emit_fd(fileno(f), obj);
}

json_t *jsonl_parse(const char *line, size_t len, struct strbuf *err)
{
	json_error_t jerr;
	json_t *o, *type;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		strbuf_addf(err, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		strbuf_addstr(err, "record is not a JSON object");
		json_decref(o);
		return NULL;
	}
	type = json_object_get(o, "type");
	if (!json_is_string(type)) {
		strbuf_addstr(err, "record has no string \"type\" field");
		json_decref(o);
		return NULL;
	}
	return o;
}

void json_set_str(json_t *o, const char *key, const char *val)
{
	json_object_set_new(o, key, val ? json_string(val) : json_null());
}

json_t *json_string_bytes(const char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *s;

	utf8_repair(&sb, buf, len);
	s = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

void json_set_bytes(json_t *o, const char *key, const char *buf, size_t len)
{
	json_object_set_new(o, key, json_string_bytes(buf, len));
}

void json_set_int(json_t *o, const char *key, long long val)
{
	json_object_set_new(o, key, json_integer(val));
}

void json_set_real(json_t *o, const char *key, double val)
{
	json_object_set_new(o, key, json_real(val));
}

void json_set_bool(json_t *o, const char *key, bool val)
{
	json_object_set_new(o, key, json_boolean(val));
}

const char *json_get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long json_get_int(const json_t *o, const char *key, long long def)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

void line_reader_init(struct line_reader *lr, size_t max_line)
{
	strbuf_init(&lr->buf, 0);
	lr->drop = 0;
	lr->max_line = max_line ? max_line : (1u << 20);
}

void line_reader_release(struct line_reader *lr)
{
	strbuf_release(&lr->buf);
}

void line_reader_feed(struct line_reader *lr, const char *data, size_t len)
{
	strbuf_add(&lr->buf, data, len);
}

/* Bytes handed out by the previous call are dropped lazily, so the
 * returned pointer stays valid until the next call. */
static void line_reader_compact(struct line_reader *lr)
{
	if (!lr->drop)
		return;
	memmove(lr->buf.buf, lr->buf.buf + lr->drop, lr->buf.len - lr->drop);
	strbuf_setlen(&lr->buf, lr->buf.len - lr->drop);
	lr->drop = 0;
}

const char *line_reader_next(struct line_reader *lr, size_t *len, bool *truncated)
{
	char *nl;
	size_t n;

	line_reader_compact(lr);
	if (truncated)
		*truncated = false;
	nl = memchr(lr->buf.buf, '\n', lr->buf.len);
	n = nl ? (size_t)(nl - lr->buf.buf) : lr->buf.len;
	if (n > lr->max_line) {
		/* Over-long line: hand out max_line bytes now and keep the rest
		 * as the start of the next line, the same however the bytes
		 * were fed.  The piece is not NUL-terminated. */
		if (truncated)
			*truncated = true;
		*len = lr->max_line;
		lr->drop = lr->max_line;
		return lr->buf.buf;
	}
	if (!nl)
		return NULL;
	*nl = '\0';
	lr->drop = n + 1;
	*len = n;
	return lr->buf.buf;
}

const char *line_reader_rest(struct line_reader *lr, size_t *len)
{
	line_reader_compact(lr);
	if (!lr->buf.len)
		return NULL;
	*len = lr->buf.len;
	lr->drop = lr->buf.len;
	return lr->buf.buf;
}

const char *json_kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

const char *json_brief(const json_t *v, char *buf, size_t size)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	if (!s)
		snprintf(buf, size, "%s", v ? "?" : "nothing");
	else if (strlen(s) > 60)
		snprintf(buf, size, "%.57s...", s);
	else
		snprintf(buf, size, "%s", s);
	free(s);
	return buf;
}

json_t *jsonl_parse_wide(const char *line, size_t len, struct strbuf *err)
{
	size_t err_len = err->len;
	json_error_t jerr;
	json_t *rec = jsonl_parse(line, len, err);

	if (rec)
		return rec;
	/* Only an integer overflow earns the second reading; the message of
	 * the first stands for anything else. */
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (rec) {		/* JSON, just not a record */
		json_decref(rec);
		return NULL;
	}
	if (json_error_code(&jerr) != json_error_numeric_overflow)
		return NULL;
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (rec && (!json_is_object(rec) || !json_is_string(json_object_get(rec, "type")))) {
		json_decref(rec);
		return NULL;
	}
	if (rec)
		strbuf_setlen(err, err_len);
	return rec;
}

/* ---- the record stream reader ---------------------------------------- */

void jsonl_reader_init(struct jsonl_reader *r, size_t max_line,
		       const struct jsonl_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	line_reader_init(&r->lr, max_line);
	r->ops = ops;
	r->ctx = ctx;
}

void jsonl_reader_release(struct jsonl_reader *r)
{
	line_reader_release(&r->lr);
}

static bool blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

static void record_line(struct jsonl_reader *r, const char *line, size_t len)
{
	struct strbuf err = STRBUF_INIT;
	json_t *rec;

	r->lineno++;
	if (blank(line, len))
		return;
	rec = jsonl_parse_wide(line, len, &err);
	if (rec)
		r->ops->record(r->ctx, r->lineno, rec);
	else
		r->ops->bad(r->ctx, r->lineno, err.buf);
	json_decref(rec);
	strbuf_release(&err);
}

static void too_long(struct jsonl_reader *r)
{
	size_t max = r->lr.max_line;
	char why[64];

	r->lineno++;
	if (max % (1u << 20) == 0)
		snprintf(why, sizeof(why), "line longer than %zu MiB", max >> 20);
	else if (max % 1024 == 0)
		snprintf(why, sizeof(why), "line longer than %zu KiB", max >> 10);
	else
		snprintf(why, sizeof(why), "line longer than %zu bytes", max);
	r->ops->bad(r->ctx, r->lineno, why);
}

/* One piece from the line reader: a whole line, or (truncated) the first
 * max_line bytes of a longer one. */
static void one_piece(struct jsonl_reader *r, const char *line, size_t len, bool truncated)
{
	if (r->ops->line) {
		r->lineno++;
		r->ops->line(r->ctx, line, len);
	} else if (truncated) {
		if (!r->in_long)
			too_long(r);
		r->in_long = true;
	} else if (r->in_long) {
		r->in_long = false;	/* the long line's tail */
	} else {
		record_line(r, line, len);
	}
}

void jsonl_reader_feed(struct jsonl_reader *r, const char *buf, size_t len)
{
	const char *line;
	size_t n;
	bool truncated;

	line_reader_feed(&r->lr, buf, len);
	while ((line = line_reader_next(&r->lr, &n, &truncated)))
		one_piece(r, line, n, truncated);
}

void jsonl_reader_finish(struct jsonl_reader *r)
{
	const char *line;
	size_t n;

	if ((line = line_reader_rest(&r->lr, &n)))
		one_piece(r, line, n, false);
	r->in_long = false;
}

int jsonl_reader_read(struct jsonl_reader *r, int fd)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			if (r->ops->chunk)
				r->ops->chunk(r->ctx, NULL, 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if (r->ops->chunk)
			r->ops->chunk(r->ctx, buf, (size_t)n);
		jsonl_reader_feed(r, buf, (size_t)n);
	}
}
