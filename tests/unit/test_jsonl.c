/* Unit tests for lib/core/jsonl.c: record framing, parsing, UTF-8 scrubbing and
 * the line reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "jsonl.h"

/* ---- encoding ---------------------------------------------------------- */

static void encode_eq(const json_t *o, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	jsonl_encode(&sb, o);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_record_type_first(void **state)
{
	json_t *o = jsonl_record("exit");

	assert_string_equal(json_get_str(o, "type"), "exit");
	encode_eq(o, "{\"type\":\"exit\"}\n");
	json_set_int(o, "exit_code", 3);
	json_set_str(o, "zeta", "z");
	json_set_str(o, "alpha", "a");
	json_set_bool(o, "ok", false);
	/* Insertion order, "type" first, compact separators. */
	encode_eq(o, "{\"type\":\"exit\",\"exit_code\":3,\"zeta\":\"z\","
		  "\"alpha\":\"a\",\"ok\":false}\n");
	json_decref(o);
}

static void test_encode_one_line(void **state)
{
	json_t *o = jsonl_record("output");
	json_t *nested = json_object();
	struct strbuf sb = STRBUF_INIT;

	json_set_str(o, "line", "a\nb\r\n\tc\"d\\");
	json_set_str(nested, "k", "v\n");
	json_object_set_new(o, "nested", nested);
	json_object_set_new(o, "arr", json_pack("[i,s,n]", 1, "x\ny", NULL));
	jsonl_encode(&sb, o);
	/* Exactly one newline, at the end; no whitespace padding. */
	assert_true(sb.len > 0);
	assert_int_equal(sb.buf[sb.len - 1], '\n');
	assert_ptr_equal(strchr(sb.buf, '\n'), sb.buf + sb.len - 1);
	assert_null(strstr(sb.buf, ": "));
	assert_null(strstr(sb.buf, ", "));
	assert_true(strncmp(sb.buf, "{\"type\":\"output\",", 17) == 0);
	assert_string_equal(sb.buf,
			    "{\"type\":\"output\",\"line\":\"a\\nb\\r\\n\\tc\\\"d\\\\\","
			    "\"nested\":{\"k\":\"v\\n\"},\"arr\":[1,\"x\\ny\",null]}\n");
	strbuf_release(&sb);
	json_decref(o);
}

static void test_encode_appends(void **state)
{
	json_t *o = jsonl_record("a");
	struct strbuf sb = STRBUF_INIT;

	jsonl_encode(&sb, o);
	jsonl_encode(&sb, o);
	assert_string_equal(sb.buf, "{\"type\":\"a\"}\n{\"type\":\"a\"}\n");
	/* Not consumed: still usable. */
	assert_int_equal(o->refcount, 1);
	strbuf_release(&sb);
	json_decref(o);
}

static void test_setters(void **state)
{
	json_t *o = jsonl_record("t");

	json_set_int(o, "neg", -5);
	json_set_int(o, "big", 9007199254740993LL);
	json_set_real(o, "r", 1.5);
	json_set_bool(o, "yes", true);
	json_set_str(o, "nul", NULL);
	json_set_str(o, "s", "str");
	encode_eq(o, "{\"type\":\"t\",\"neg\":-5,\"big\":9007199254740993,"
		  "\"r\":1.5,\"yes\":true,\"nul\":null,\"s\":\"str\"}\n");
	/* Setting an existing key replaces it in place. */
	json_set_int(o, "neg", 7);
	assert_int_equal(json_get_int(o, "neg", 0), 7);
	json_decref(o);
}

static void test_getters(void **state)
{
	json_t *o = jsonl_record("t");

	json_set_int(o, "n", 42);
	json_set_real(o, "r", 2.0);
	json_set_str(o, "s", "v");
	json_set_str(o, "null", NULL);
	assert_string_equal(json_get_str(o, "s"), "v");
	assert_string_equal(json_get_str(o, "type"), "t");
	assert_null(json_get_str(o, "n"));
	assert_null(json_get_str(o, "missing"));
	assert_null(json_get_str(o, "null"));
	assert_int_equal(json_get_int(o, "n", -1), 42);
	assert_int_equal(json_get_int(o, "missing", -1), -1);
	assert_int_equal(json_get_int(o, "s", -2), -2);
	assert_int_equal(json_get_int(o, "r", -3), -3);
	assert_int_equal(json_get_int(o, "null", -4), -4);
	json_decref(o);
}

/* ---- emitting ---------------------------------------------------------- */

static void test_emit_fd(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *o = jsonl_record("agent_ready");
	int p[2];

	json_set_int(o, "uptime_ms", 12);
	assert_int_equal(pipe(p), 0);
	json_incref(o);
	assert_int_equal(jsonl_emit_fd(p[1], o), 0);
	/* The call dropped exactly one reference. */
	assert_int_equal(o->refcount, 1);
	json_decref(o);
	assert_int_equal(jsonl_emit_fd(p[1], jsonl_record("exit")), 0);
	close(p[1]);
	assert_true(strbuf_read_fd(&sb, p[0]) > 0);
	close(p[0]);
	assert_string_equal(sb.buf, "{\"type\":\"agent_ready\",\"uptime_ms\":12}\n"
			    "{\"type\":\"exit\"}\n");
	strbuf_release(&sb);
}

static void test_emit_fd_error(void **state)
{
	/* A bad fd fails but still drops the reference (ASan checks the leak). */
	assert_int_equal(jsonl_emit_fd(-1, jsonl_record("x")), -1);
}

static void test_emit_stdio_order(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs("before\n", f);	/* still in the stdio buffer */
	assert_int_equal(jsonl_emit(f, jsonl_record("mid")), 0);
	fputs("after\n", f);
	fflush(f);
	rewind(f);
	assert_true(strbuf_read_fd(&sb, fileno(f)) > 0);
	assert_string_equal(sb.buf, "before\n{\"type\":\"mid\"}\nafter\n");
	fclose(f);
	strbuf_release(&sb);
}

/* ---- parsing ----------------------------------------------------------- */

static json_t *parse_str(const char *s, struct strbuf *err)
{
	return jsonl_parse(s, strlen(s), err);
}

static void parse_bad(const char *s, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	json_t *o = parse_str(s, &err);

	if (o)
		fail_msg("jsonl_parse(%s) unexpectedly succeeded", s);
	assert_true(err.len > 0);
	if (want && !strstr(err.buf, want))
		fail_msg("error for %s lacks \"%s\": %s", s, want, err.buf);
	strbuf_release(&err);
}

static void test_parse_ok(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *o;

	o = parse_str("{\"type\":\"exit\",\"exit_code\":3}", &err);
	assert_non_null(o);
	assert_int_equal(err.len, 0);
	assert_string_equal(json_get_str(o, "type"), "exit");
	assert_int_equal(json_get_int(o, "exit_code", -1), 3);
	json_decref(o);

	/* Surrounding whitespace and the trailing newline are fine. */
	o = parse_str("  {\"x\":1, \"type\" : \"t\"}\r\n", &err);
	assert_non_null(o);
	assert_string_equal(json_get_str(o, "type"), "t");
	json_decref(o);

	/* Only len bytes are looked at. */
	o = jsonl_parse("{\"type\":\"a\"}garbage", 12, &err);
	assert_non_null(o);
	json_decref(o);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

static void test_parse_roundtrip(void **state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	json_t *o = jsonl_record("output"), *back;

	json_set_str(o, "stream", "stdout");
	json_set_bytes(o, "line", "caf\xc3\xa9 \xff\n", 8);
	json_set_real(o, "r", 0.25);
	jsonl_encode(&sb, o);
	back = jsonl_parse(sb.buf, sb.len, &err);
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	json_decref(o);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void test_parse_not_json(void **state)
{
	parse_bad("", "invalid JSON");
	parse_bad("hello", "invalid JSON");
	parse_bad("{\"type\":\"a\"", "invalid JSON");
	parse_bad("{\"type\":\"a\"} x", "invalid JSON");
	parse_bad("{\"type\":\"a\"}{\"type\":\"b\"}", "invalid JSON");
	parse_bad("{'type':'a'}", "invalid JSON");
	parse_bad("{\"type\":\"a\",}", "invalid JSON");
}

static void test_parse_not_object(void **state)
{
	parse_bad("[1,2]", "not a JSON object");
	parse_bad("[{\"type\":\"a\"}]", "not a JSON object");
	/* Scalars are refused one way or another. */
	parse_bad("42", NULL);
	parse_bad("\"type\"", NULL);
	parse_bad("null", NULL);
	parse_bad("true", NULL);
}

static void test_parse_type(void **state)
{
	parse_bad("{}", "\"type\"");
	parse_bad("{\"Type\":\"a\"}", "\"type\"");
	parse_bad("{\"type\":3}", "\"type\"");
	parse_bad("{\"type\":null}", "\"type\"");
	parse_bad("{\"type\":[\"a\"]}", "\"type\"");
	parse_bad("{\"type\":{\"a\":1}}", "\"type\"");
	parse_bad("{\"type\":true}", "\"type\"");
}

static void test_parse_duplicates(void **state)
{
	parse_bad("{\"type\":\"a\",\"type\":\"b\"}", "duplicate");
	parse_bad("{\"type\":\"a\",\"k\":1,\"k\":2}", "duplicate");
	parse_bad("{\"type\":\"a\",\"o\":{\"k\":1,\"k\":1}}", "duplicate");
}

static void test_parse_embedded_nul(void **state)
{
	struct strbuf err = STRBUF_INIT;
	static const char line[] = "{\"type\":\"a\"}\0{}";
	json_t *o = jsonl_parse(line, sizeof(line) - 1, &err);

	assert_null(o);
	assert_true(err.len > 0);
	strbuf_reset(&err);
	/* A NUL escape inside a string is refused too. */
	o = parse_str("{\"type\":\"a\\u0000b\"}", &err);
	assert_null(o);
	assert_true(err.len > 0);
	strbuf_release(&err);
}

static void test_parse_error_appends(void **state)
{
	struct strbuf err = STRBUF_INIT;

	strbuf_addstr(&err, "line 3: ");
	assert_null(parse_str("{}", &err));
	assert_true(strncmp(err.buf, "line 3: ", 8) == 0);
	assert_true(err.len > 8);
	strbuf_release(&err);
}

/* ---- json_set_bytes ---------------------------------------------------- */

static void bytes_eq(const char *in, size_t len, const char *want)
{
	json_t *o = json_object();
	const char *got;

	json_set_bytes(o, "k", in, len);
	got = json_get_str(o, "k");
	assert_non_null(got);
	assert_int_equal(json_string_length(json_object_get(o, "k")), strlen(want));
	assert_string_equal(got, want);
	json_decref(o);
}

#define FFFD "\xef\xbf\xbd"

static void test_bytes_valid(void **state)
{
	bytes_eq("", 0, "");
	bytes_eq("plain ascii", 11, "plain ascii");
	bytes_eq("caf\xc3\xa9", 5, "caf\xc3\xa9");
	bytes_eq("\xe2\x82\xac", 3, "\xe2\x82\xac");			/* U+20AC */
	bytes_eq("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");		/* U+1F600 */
	bytes_eq("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	bytes_eq("\xef\xbf\xbd", 3, FFFD);
	/* Only len bytes are used. */
	bytes_eq("abcdef", 3, "abc");
}

static void test_bytes_invalid(void **state)
{
	bytes_eq("\xff", 1, FFFD);
	bytes_eq("a\xfe" "b", 3, "a" FFFD "b");
	bytes_eq("\x80", 1, FFFD);				/* lone continuation */
	bytes_eq("\xc3", 1, FFFD);				/* truncated at end */
	bytes_eq("\xe2\x82", 2, FFFD FFFD);
	bytes_eq("\xe2\x82x", 3, FFFD FFFD "x");
	bytes_eq("\xc0\x80", 2, FFFD FFFD);			/* overlong NUL */
	bytes_eq("\xe0\x80\xaf", 3, FFFD FFFD FFFD);		/* overlong '/' */
	bytes_eq("\xed\xa0\x80", 3, FFFD FFFD FFFD);		/* surrogate */
	bytes_eq("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);	/* > U+10FFFF */
	bytes_eq("\xf8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD);
}

static void test_bytes_nul(void **state)
{
	json_t *o = json_object();
	struct strbuf sb = STRBUF_INIT;

	bytes_eq("a\0b", 3, "a" FFFD "b");
	bytes_eq("\0", 1, FFFD);
	/* The result encodes as JSON with no \u0000 in it. */
	json_set_bytes(o, "line", "x\0\xff", 3);
	jsonl_encode(&sb, o);
	assert_null(strstr(sb.buf, "\\u0000"));
	assert_string_equal(sb.buf, "{\"line\":\"x" FFFD FFFD "\"}\n");
	strbuf_release(&sb);
	json_decref(o);
}

/* ---- line_reader ------------------------------------------------------- */

static void expect_line(struct line_reader *lr, const char *want, bool want_trunc)
{
	size_t len = 12345;
	bool trunc = !want_trunc;
	const char *l = line_reader_next(lr, &len, &trunc);

	if (!l)
		fail_msg("expected line \"%s\", got none", want);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(l, want, len);
	assert_int_equal(trunc, want_trunc);
	if (!want_trunc)
		assert_int_equal(l[len], '\0');
}

static void expect_none(struct line_reader *lr)
{
	size_t len;
	bool trunc;

	assert_null(line_reader_next(lr, &len, &trunc));
	assert_false(trunc);
}

static void expect_rest(struct line_reader *lr, const char *want)
{
	size_t len = 12345;
	const char *r = line_reader_rest(lr, &len);

	if (!want) {
		assert_null(r);
		return;
	}
	assert_non_null(r);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(r, want, len);
}

static void feed_str(struct line_reader *lr, const char *s)
{
	line_reader_feed(lr, s, strlen(s));
}

static void test_lr_basic(void **state)
{
	struct line_reader lr;

	line_reader_init(&lr, 0);
	expect_none(&lr);
	expect_rest(&lr, NULL);
	feed_str(&lr, "one\ntwo\n\nfour\r\n");
	expect_line(&lr, "one", false);
	expect_line(&lr, "two", false);
	expect_line(&lr, "", false);
	expect_line(&lr, "four\r", false);
	expect_none(&lr);
	expect_rest(&lr, NULL);
	line_reader_release(&lr);
}

static void test_lr_null_truncated_ok(void **state)
{
	struct line_reader lr;
	const char *l;
	size_t len;

	line_reader_init(&lr, 0);
	feed_str(&lr, "x\n");
	l = line_reader_next(&lr, &len, NULL);
	assert_non_null(l);
	assert_int_equal(len, 1);
	assert_null(line_reader_next(&lr, &len, NULL));
	line_reader_release(&lr);
}

static void test_lr_split_feeds(void **state)
{
	struct line_reader lr;

	line_reader_init(&lr, 0);
	feed_str(&lr, "ab");
	expect_none(&lr);
	feed_str(&lr, "c");
	expect_none(&lr);
	feed_str(&lr, "\nd");
	expect_line(&lr, "abc", false);
	expect_none(&lr);
	feed_str(&lr, "e\n");
	expect_line(&lr, "de", false);
	feed_str(&lr, "\n");
	expect_line(&lr, "", false);
	expect_none(&lr);
	line_reader_feed(&lr, "", 0);
	expect_none(&lr);
	line_reader_release(&lr);
}

static void test_lr_feed_between_lines(void **state)
{
	/* Feeding while complete lines are still queued keeps them intact. */
	struct line_reader lr;

	line_reader_init(&lr, 0);
	feed_str(&lr, "1\n2\n3");
	expect_line(&lr, "1", false);
	feed_str(&lr, "\n4\n");
	expect_line(&lr, "2", false);
	expect_line(&lr, "3", false);
	feed_str(&lr, "5\n");
	expect_line(&lr, "4", false);
	expect_line(&lr, "5", false);
	expect_none(&lr);
	line_reader_release(&lr);
}

/* Split stream into lines with the given max and chunk size; returns the
 * lines joined as "text|T" or "text|-" entries separated by ';', then
 * "rest=<tail>" when there is one. */
static char *lr_transcript(const char *stream, size_t max, size_t chunk)
{
	struct line_reader lr;
	struct strbuf out = STRBUF_INIT;
	size_t off = 0, n = strlen(stream), len;
	const char *l;
	bool trunc;

	line_reader_init(&lr, max);
	while (off < n) {
		size_t c = n - off < chunk ? n - off : chunk;

		line_reader_feed(&lr, stream + off, c);
		off += c;
		while ((l = line_reader_next(&lr, &len, &trunc)))
			strbuf_addf(&out, "%.*s|%c;", (int)len, l, trunc ? 'T' : '-');
	}
	if ((l = line_reader_rest(&lr, &len)))
		strbuf_addf(&out, "rest=%.*s", (int)len, l);
	line_reader_release(&lr);
	return strbuf_detach(&out, NULL);
}

static void test_lr_overlong(void **state)
{
	struct line_reader lr;

	line_reader_init(&lr, 4);
	feed_str(&lr, "abcdefghij\nxy\n");
	expect_line(&lr, "abcd", true);
	expect_line(&lr, "efgh", true);
	expect_line(&lr, "ij", false);
	expect_line(&lr, "xy", false);
	expect_none(&lr);
	line_reader_release(&lr);

	/* Exactly max_line bytes is not over-long, however it arrives. */
	line_reader_init(&lr, 4);
	feed_str(&lr, "abcd");
	expect_none(&lr);
	feed_str(&lr, "\n");
	expect_line(&lr, "abcd", false);
	expect_none(&lr);
	line_reader_release(&lr);

	/* An over-long line with no newline yet is handed out in pieces. */
	line_reader_init(&lr, 4);
	feed_str(&lr, "abcdefghi");
	expect_line(&lr, "abcd", true);
	expect_line(&lr, "efgh", true);
	expect_none(&lr);
	expect_rest(&lr, "i");
	line_reader_release(&lr);
}

static void test_lr_chunking_invariant(void **state)
{
	/* However read() happens to chunk the stream, the lines are the same. */
	static const char *const streams[] = {
		"abcdefghij\nxy\n",
		"abcd\nefgh\n\n",
		"abcdefgh\nabcde\nz",
		"0123456789abcdef\n",
		"a\nbb\nccc\ndddd\neeeee\nffffff\n",
		"abcdefgh",
		"\n\n\n",
	};
	size_t i, chunk;

	for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		char *whole = lr_transcript(streams[i], 4, 1000);

		for (chunk = 1; chunk < 12; chunk++) {
			char *t = lr_transcript(streams[i], 4, chunk);

			if (strcmp(t, whole))
				fail_msg("stream \"%s\" chunk %zu: \"%s\" != whole \"%s\"",
					 streams[i], chunk, t, whole);
			free(t);
		}
		free(whole);
	}
}

static void test_lr_transcripts(void **state)
{
	char *t = lr_transcript("abcdefgh\nabcde\nz", 4, 3);

	assert_string_equal(t, "abcd|T;efgh|-;abcd|T;e|-;rest=z");
	free(t);
	t = lr_transcript("abcd\nefgh\n\n", 4, 1);
	assert_string_equal(t, "abcd|-;efgh|-;|-;");
	free(t);
}

static void test_lr_rest(void **state)
{
	struct line_reader lr;

	line_reader_init(&lr, 0);
	feed_str(&lr, "done\nlast");
	expect_line(&lr, "done", false);
	expect_none(&lr);
	expect_rest(&lr, "last");
	/* The tail is handed out once. */
	expect_rest(&lr, NULL);
	expect_none(&lr);
	line_reader_release(&lr);

	/* rest without calling next first. */
	line_reader_init(&lr, 0);
	feed_str(&lr, "partial");
	expect_rest(&lr, "partial");
	expect_rest(&lr, NULL);
	line_reader_release(&lr);

	/* Complete lines only: no rest. */
	line_reader_init(&lr, 0);
	feed_str(&lr, "a\n");
	expect_line(&lr, "a", false);
	expect_rest(&lr, NULL);
	line_reader_release(&lr);

	/* Rest is NUL-terminated. */
	line_reader_init(&lr, 0);
	feed_str(&lr, "x\nyz");
	expect_line(&lr, "x", false);
	{
		size_t len;
		const char *r = line_reader_rest(&lr, &len);

		assert_non_null(r);
		assert_string_equal(r, "yz");
	}
	line_reader_release(&lr);
}

static void test_lr_interleaved(void **state)
{
	struct line_reader a, b;
	const char *la, *lb;
	size_t na, nb;
	bool ta, tb;

	line_reader_init(&a, 0);
	line_reader_init(&b, 8);
	feed_str(&a, "out1 ");
	feed_str(&b, "err1\ner");
	feed_str(&a, "more\nout2");
	la = line_reader_next(&a, &na, &ta);
	lb = line_reader_next(&b, &nb, &tb);
	/* Both pointers stay valid while the other reader is used. */
	assert_non_null(la);
	assert_non_null(lb);
	assert_string_equal(la, "out1 more");
	assert_string_equal(lb, "err1");
	assert_int_equal(na, 9);
	assert_int_equal(nb, 4);
	expect_none(&a);
	expect_none(&b);
	feed_str(&b, "r2\n");
	feed_str(&a, "\n");
	expect_line(&b, "err2", false);
	expect_line(&a, "out2", false);
	feed_str(&a, "tail-a");
	feed_str(&b, "tail-b");
	expect_rest(&b, "tail-b");
	expect_rest(&a, "tail-a");
	line_reader_release(&a);
	line_reader_release(&b);
}

static void test_lr_large(void **state)
{
	/* Many lines through a small max, fed in odd-sized pieces. */
	struct line_reader lr;
	struct strbuf in = STRBUF_INIT;
	size_t i, off = 0, got = 0, len;
	const char *l;
	bool trunc;

	for (i = 0; i < 5000; i++)
		strbuf_addf(&in, "line-%zu\n", i);
	line_reader_init(&lr, 64);
	while (off < in.len) {
		size_t c = 1 + (off * 7) % 97;

		if (c > in.len - off)
			c = in.len - off;
		line_reader_feed(&lr, in.buf + off, c);
		off += c;
		while ((l = line_reader_next(&lr, &len, &trunc))) {
			char want[32];

			snprintf(want, sizeof(want), "line-%zu", got);
			assert_false(trunc);
			assert_int_equal(len, strlen(want));
			assert_memory_equal(l, want, len);
			got++;
		}
	}
	assert_int_equal(got, 5000);
	expect_rest(&lr, NULL);
	line_reader_release(&lr);
	strbuf_release(&in);
}

/* ---- jsonl_reader ------------------------------------------------------ */

/* What the callbacks saw, one line each: "R<n> <compact record>",
 * "B<n> <why>", "L <text>", and "C<len>" for chunks. */
static void log_record(void *ctx, unsigned long lineno, json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);

	strbuf_addf(ctx, "R%lu %s\n", lineno, s);
	free(s);
}

static void log_bad(void *ctx, unsigned long lineno, const char *why)
{
	/* Up to the colon: what follows is jansson's own wording. */
	strbuf_addf(ctx, "B%lu %.*s\n", lineno, (int)strcspn(why, ":"), why);
}

static void log_line(void *ctx, const char *line, size_t len)
{
	strbuf_addf(ctx, "L %.*s\n", (int)len, line);
}

static void log_chunk(void *ctx, const char *buf, size_t len)
{
	strbuf_addf(ctx, "C%zu\n", len);
}

static const struct jsonl_ops rec_ops = { .record = log_record, .bad = log_bad };
static const struct jsonl_ops text_ops = { .line = log_line };

/* Feed in in pieces of step bytes (0: all at once), finish, compare. */
static void read_eq(const struct jsonl_ops *ops, size_t max, const char *in, size_t step,
		    const char *want)
{
	struct strbuf got = STRBUF_INIT;
	struct jsonl_reader r;
	size_t len = strlen(in), i, n;

	jsonl_reader_init(&r, max, ops, &got);
	for (i = 0; i < len; i += n) {
		n = step && step < len - i ? step : len - i;
		jsonl_reader_feed(&r, in + i, n);
	}
	jsonl_reader_finish(&r);
	jsonl_reader_release(&r);
	assert_string_equal(got.buf, want);
	strbuf_release(&got);
}

static void read_all_steps(const struct jsonl_ops *ops, size_t max, const char *in,
			   const char *want)
{
	size_t step;

	for (step = 0; step <= 7; step++)
		read_eq(ops, max, in, step, want);
}

static void test_reader_records(void **state)
{
	read_all_steps(&rec_ops, 0,
		       "{\"type\":\"a\",\"n\":1}\n"
		       "\n"
		       " \t\r\n"
		       "{\"type\":\"b\"}\r\n"
		       "{\"type\":\"c\"}",
		       "R1 {\"type\":\"a\",\"n\":1}\n"
		       "R4 {\"type\":\"b\"}\n"
		       "R5 {\"type\":\"c\"}\n");
	read_eq(&rec_ops, 0, "", 0, "");
}

static void test_reader_bad_lines(void **state)
{
	read_all_steps(&rec_ops, 0,
		       "not json\n"
		       "[1]\n"
		       "{\"n\":1}\n"
		       "{\"type\":\"a\",\"type\":\"b\"}\n"
		       "{\"type\":\"caf\xff\"}\n"
		       "{\"type\":\"ok\"}\n"
		       "{\"type\":",
		       "B1 invalid JSON at column 3\n"
		       "B2 record is not a JSON object\n"
		       "B3 record has no string \"type\" field\n"
		       "B4 invalid JSON at column 18\n"
		       "B5 invalid JSON at column 12\n"
		       "R6 {\"type\":\"ok\"}\n"
		       "B7 invalid JSON at column 8\n");
}

static void test_reader_big_int(void **state)
{
	/* An integer beyond 64 bits costs precision, not the record. */
	read_eq(&rec_ops, 0, "{\"type\":\"m\",\"n\":123456789012345678901234}\n", 0,
		"R1 {\"type\":\"m\",\"n\":1.2345678901234569e23}\n");
	/* Still a record or nothing. */
	read_eq(&rec_ops, 0, "[123456789012345678901234]\n", 0, "B1 invalid JSON at column 25\n");
}

static void test_reader_long_lines(void **state)
{
	/* One bad line for the whole of a long one, counted once. */
	read_all_steps(&rec_ops, 16,
		       "{\"type\":\"a\"}\n"
		       "{\"type\":\"long long long long long\"}\n"
		       "{\"type\":\"b\"}\n"
		       "{\"type\":\"c\",\"x\":\"yz\"}\n"
		       "{\"type\":\"never ending line",
		       "R1 {\"type\":\"a\"}\n"
		       "B2 line longer than 16 bytes\n"
		       "R3 {\"type\":\"b\"}\n"
		       "B4 line longer than 16 bytes\n"
		       "B5 line longer than 16 bytes\n");
	/* A long last line without a newline is skipped whole too. */
	read_eq(&rec_ops, 16, "{\"type\":\"0123456789abcdef0123", 0,
		"B1 line longer than 16 bytes\n");
}

static void test_reader_long_line_units(void **state)
{
	struct strbuf got = STRBUF_INIT, in = STRBUF_INIT;
	struct jsonl_reader r;

	strbuf_grow(&in, 3u << 20);
	memset(in.buf, 'x', (2u << 20) + 1);
	strbuf_setlen(&in, (2u << 20) + 1);
	strbuf_addstr(&in, "\n");
	jsonl_reader_init(&r, 1u << 20, &rec_ops, &got);
	jsonl_reader_feed(&r, in.buf, in.len);
	jsonl_reader_release(&r);
	jsonl_reader_init(&r, 2048, &rec_ops, &got);
	jsonl_reader_feed(&r, in.buf, in.len);
	jsonl_reader_release(&r);
	assert_string_equal(got.buf, "B1 line longer than 1 MiB\nB1 line longer than 2 KiB\n");
	strbuf_release(&got);
	strbuf_release(&in);
}

static void test_reader_text_mode(void **state)
{
	/* Every line as it came, long ones in pieces, the tail too. */
	read_all_steps(&text_ops, 4, "ab\n\nabcdefghij\nnot {json\ntail",
		       "L ab\nL \nL abcd\nL efgh\nL ij\nL not \nL {jso\nL n\nL tail\n");
}

static void test_reader_read_fd(void **state)
{
	static const struct jsonl_ops ops = {
		.record = log_record, .bad = log_bad, .chunk = log_chunk,
	};
	struct strbuf got = STRBUF_INIT;
	struct jsonl_reader r;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "{\"type\":\"a\"}\n{\"type\"", 20), 20);
	/* Non-blocking and dry: "nothing more for now". */
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	jsonl_reader_init(&r, 0, &ops, &got);
	assert_int_equal(jsonl_reader_read(&r, p[0]), 1);
	assert_string_equal(got.buf, "C20\nR1 {\"type\":\"a\"}\n");
	assert_int_equal(write(p[1], ":\"b\"}", 5), 5);
	close(p[1]);
	assert_int_equal(jsonl_reader_read(&r, p[0]), 0);
	jsonl_reader_finish(&r);
	assert_string_equal(got.buf, "C20\nR1 {\"type\":\"a\"}\nC5\nR2 {\"type\":\"b\"}\n");
	close(p[0]);
	/* A read error is -1 with errno. */
	errno = 0;
	assert_int_equal(jsonl_reader_read(&r, p[0]), -1);
	assert_int_equal(errno, EBADF);
	jsonl_reader_release(&r);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_type_first),
		cmocka_unit_test(test_encode_one_line),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_emit_fd),
		cmocka_unit_test(test_emit_fd_error),
		cmocka_unit_test(test_emit_stdio_order),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_roundtrip),
		cmocka_unit_test(test_parse_not_json),
		cmocka_unit_test(test_parse_not_object),
		cmocka_unit_test(test_parse_type),
		cmocka_unit_test(test_parse_duplicates),
		cmocka_unit_test(test_parse_embedded_nul),
		cmocka_unit_test(test_parse_error_appends),
		cmocka_unit_test(test_bytes_valid),
		cmocka_unit_test(test_bytes_invalid),
		cmocka_unit_test(test_bytes_nul),
		cmocka_unit_test(test_lr_basic),
		cmocka_unit_test(test_lr_null_truncated_ok),
		cmocka_unit_test(test_lr_split_feeds),
		cmocka_unit_test(test_lr_feed_between_lines),
		cmocka_unit_test(test_lr_overlong),
		cmocka_unit_test(test_lr_chunking_invariant),
		cmocka_unit_test(test_lr_transcripts),
		cmocka_unit_test(test_lr_rest),
		cmocka_unit_test(test_lr_interleaved),
		cmocka_unit_test(test_lr_large),
		cmocka_unit_test(test_reader_records),
		cmocka_unit_test(test_reader_bad_lines),
		cmocka_unit_test(test_reader_big_int),
		cmocka_unit_test(test_reader_long_lines),
		cmocka_unit_test(test_reader_long_line_units),
		cmocka_unit_test(test_reader_text_mode),
		cmocka_unit_test(test_reader_read_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
