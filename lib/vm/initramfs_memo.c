#include "initramfs_memo.h"
#include "diag.h"
#include "fsutil.h"
#include "jsonl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMO_NAME "inputs.json"

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

void inmemo_load(struct inmemo *m, const char *dir)
{
	memset(m, 0, sizeof(*m));
	/* A file younger than this may still change within its mtime's tick. */
	m->settle_ns = INMEMO_SETTLE_NS;
	if (!dir)
		return;
	m->path = path_join(dir, MEMO_NAME);
	m->root = json_load_file(m->path, 0, NULL);
	if (!json_is_object(m->root)) {
		json_decref(m->root);
		m->root = json_object();
	}
	m->used = json_object();
}

/* Note that this build used kind's entry for src. */
static void mark_used(struct inmemo *m, const char *kind, const char *src)
{
	json_t *t = json_object_get(m->used, kind);

	if (!t) {
		t = json_object();
		json_object_set_new(m->used, kind, t);
	}
	json_object_set_new(t, src, json_true());
}

/* Drop what this build did not use from a table grown past INMEMO_MAX. */
static void prune(struct inmemo *m)
{
	const char *kind, *src;
	json_t *table, *e, *tmp;

	json_object_foreach(m->root, kind, table) {
		const json_t *used = json_object_get(m->used, kind);

		if (!json_is_object(table) || json_object_size(table) <= INMEMO_MAX)
			continue;
		json_object_foreach_safe(table, tmp, src, e)
			if (!json_object_get(used, src))
				json_object_del(table, src);
		m->dirty = true;
	}
}

void inmemo_save(struct inmemo *m)
{
	char *text;

	if (!m->path)
		return;
	prune(m);
	if (!m->dirty)
		return;
	text = json_dumps(m->root, JSON_COMPACT);
	/* A memo that cannot be written costs the next run time, nothing more. */
	if (text)
		(void)write_file_atomic(m->path, text, strlen(text), 0644);
	free(text);
	m->dirty = false;
}

void inmemo_release(struct inmemo *m)
{
	json_decref(m->root);
	json_decref(m->used);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* The entry for src in table kind when st still describes the same file. */
static const json_t *lookup(struct inmemo *m, const char *kind, const char *src,
			    const struct stat *st)
{
	const json_t *e;

	if (!m->root)
		return NULL;
	mark_used(m, kind, src);
	e = json_object_get(json_object_get(m->root, kind), src);
	if (!json_is_object(e) ||
	    json_get_int(e, "dev", -1) != (long long)st->st_dev ||
	    json_get_int(e, "ino", -1) != (long long)st->st_ino ||
	    json_get_int(e, "size", -1) != (long long)st->st_size ||
	    json_get_int(e, "mtime_ns", -1) != ts_ns(&st->st_mtim) ||
	    json_get_int(e, "ctime_ns", -1) != ts_ns(&st->st_ctim))
		return NULL;
	return e;
}

/* A new entry for src (NULL when it is too fresh to trust later). */
static json_t *entry(struct inmemo *m, const char *kind, const char *src,
		     const struct stat *st)
{
	struct timespec now;
	json_t *table, *e;

	if (!m->path || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return NULL;
	if (ts_ns(&now) - ts_ns(&st->st_mtim) < m->settle_ns ||
	    ts_ns(&now) - ts_ns(&st->st_ctim) < m->settle_ns)
		return NULL;
	table = json_object_get(m->root, kind);
	if (!json_is_object(table)) {
		table = json_object();
		json_object_set_new(m->root, kind, table);
	}
	e = json_object();
	json_set_int(e, "dev", (long long)st->st_dev);
	json_set_int(e, "ino", (long long)st->st_ino);
	json_set_int(e, "size", (long long)st->st_size);
	json_set_int(e, "mtime_ns", ts_ns(&st->st_mtim));
	json_set_int(e, "ctime_ns", ts_ns(&st->st_ctim));
	json_object_set_new(table, src, e);
	mark_used(m, kind, src);
	m->dirty = true;
	return e;
}

bool inmemo_get_hash(struct inmemo *m, const char *src, const struct stat *st,
		     char sha[SHA256_HEX_LEN + 1], unsigned long long *size)
{
	const json_t *e = lookup(m, "files", src, st);
	const char *h = e ? json_get_str(e, "sha256") : NULL;

	if (!h || strlen(h) != SHA256_HEX_LEN)
		return false;
	memcpy(sha, h, SHA256_HEX_LEN + 1);
	*size = (unsigned long long)st->st_size;
	return true;
}

void inmemo_put_hash(struct inmemo *m, const char *src, const struct stat *st,
		     const char *sha, unsigned long long size)
{
	json_t *e;

	/* Read while it grew or shrank: not the file st describes. */
	if (size != (unsigned long long)st->st_size || !(e = entry(m, "files", src, st)))
		return;
	json_set_str(e, "sha256", sha);
}

const char *inmemo_get_applets(struct inmemo *m, const char *src, const struct stat *st)
{
	const json_t *e = lookup(m, "applets", src, st);

	return e ? json_get_str(e, "list") : NULL;
}

void inmemo_put_applets(struct inmemo *m, const char *src, const struct stat *st,
			const char *list)
{
	json_t *e = entry(m, "applets", src, st);

	if (e)
		json_set_str(e, "list", list);
}
