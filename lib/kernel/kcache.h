/* The kernel cache: <cache>/<key>/{bzImage,config,vmlinux,metadata.json}.
 *
 * An entry is a directory published by rename(2) from <cache>/.tmp-XXXXXX,
 * so a half-written entry is never seen; names starting with '.' (temp dirs,
 * trash, locks) are never entries.  Stores of one key are serialised by an
 * exclusive flock on <cache>/.locks/<key>.lock. */
#ifndef KTSTR_KCACHE_H
#define KTSTR_KCACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

#define KCACHE_ARCH "x86_64"

struct kcache_entry {
	char *key;
	char *dir;		/* <cache>/<key> */
	char *image;		/* full path of the image (NULL when corrupt) */
	char *version;		/* "" when missing */
	char *source_type;	/* "" when missing */
	char *built_at;		/* "" when missing */
	char *kconfig_hash;	/* NULL: untracked (distro kernel) */
	char *extra_kconfig_hash;	/* NULL when none */
	long long build_ms;	/* -1 when missing */
	bool corrupt;		/* metadata unreadable or image missing */
	bool stale;		/* kconfig_hash set and differs from the current one */
	char *error;		/* why it is corrupt */
	json_t *meta;		/* the parsed metadata (NULL when corrupt) */
};

/* crc32 of buf as 8 lowercase hex digits. */
void kcache_crc32_hex(const void *buf, size_t len, char hex[9]);

/* Key suffix "kc<kc>" or "kc<kc>-xkc<xkc>" (xkc NULL: no extra kconfig). */
char *kcache_key_suffix(const char *kc, const char *xkc);
char *kcache_key_tarball(const char *version, const char *kc, const char *xkc);
char *kcache_key_git(const char *ref, const char *hash7, const char *kc, const char *xkc);
char *kcache_key_local(const char *hash7, bool dirty, const char *kc, const char *xkc);
/* A key must be one path component without leading '.'; 0 ok, -1 not. */
int kcache_key_valid(const char *key);

/* Load <root>/<key>.  current_kc: the current ktstr.kconfig hash for stale
 * detection (NULL or "": never stale).  Returns 0 for a valid entry, 1 when
 * the entry exists but is corrupt (e->corrupt, e->error set; e must still be
 * released), -1 when there is no such entry (e is left empty). */
int kcache_load(const char *root, const char *key, const char *current_kc,
		struct kcache_entry *e);
void kcache_entry_release(struct kcache_entry *e);

/* Every entry under root, valid and corrupt, newest built_at first (ties:
 * key descending; corrupt entries last), except that a Debian entry of the
 * preferred flavour (kcache_debian_flavour_preferred) moves ahead of the
 * other flavours' entries of its version: fetching Debian's generic build
 * beside the cloud one changes no default choice.  Missing root: 0
 * entries.  Returns the count; *out is malloc'd (free with
 * kcache_list_free). */
size_t kcache_list(const char *root, const char *current_kc, struct kcache_entry **out);
void kcache_list_free(struct kcache_entry *v, size_t n);

/* The flavour of a debian-* entry ("cloud-amd64", "amd64"): metadata's
 * "flavour", else what its release (metadata, else the key
 * debian-<release>-x86_64) has after "<version>-"; "" when unknown.  NULL
 * for an entry that is not Debian's.  Caller frees. */
char *kcache_debian_flavour(const struct kcache_entry *e);
/* KTSTR_DEBIAN_FLAVOUR (empty: unset), else "cloud-amd64". */
const char *kcache_debian_flavour_preferred(void);

/* The newest valid, non-stale entry; 0 found (e filled), -1 none. */
int kcache_newest(const char *root, const char *current_kc, struct kcache_entry *e);

/* Lock timeout from KTSTR_CACHE_STORE_LOCK_TIMEOUT (default 10m);
 * 0, or -1 with the reason in err. */
int kcache_lock_timeout(unsigned long long *ms, struct strbuf *err);
/* Take the store lock for key, waiting up to timeout_ms.  Returns the fd
 * (release with kcache_unlock), or -1 with the reason in err.  *waited is
 * set when another process held it. */
int kcache_lock(const char *root, const char *key, unsigned long long timeout_ms,
		bool *waited, struct strbuf *err);
void kcache_unlock(int fd);

/* A fresh staging directory <root>/.tmp-XXXXXX; NULL with errno. */
char *kcache_stage(const char *root);
/* Write meta as <dir>/metadata.json atomically; 0 or -1. */
int kcache_write_metadata(const char *dir, const json_t *meta);
/* Publish a staged dir as <root>/<key>, replacing an existing entry (which
 * is moved aside and removed).  0, or -1 with the reason in err. */
int kcache_publish(const char *root, const char *staged, const char *key,
		   struct strbuf *err);
/* Remove an entry atomically: rename to <root>/.trash-XXXXXX, then rm -rf.
 * 0 or -1 with errno. */
int kcache_remove(const char *root, const char *key);
/* Remove staging and trash directories (.tmp.*, .trash.*) under root that
 * nobody touched for max_age_s seconds: left by a killed ktstr-build.
 * Returns how many were removed. */
unsigned kcache_remove_orphans(const char *root, long max_age_s);


#endif
