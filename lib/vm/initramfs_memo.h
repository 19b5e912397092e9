/* Private to lib/vm/initramfs*.c: what the last builds learnt about their
 * input files, so a boot whose inputs have not changed does not re-read
 * them (busybox's applet list from running it, every packed file's
 * SHA-256: ~80 ms of each ktstr-vm start on a 12 MB image).
 *
 * Kept as one JSON file in the initramfs cache directory, keyed by host
 * path and trusted only while the file's device, inode, size, mtime and
 * ctime are what they were (the rule git's index uses).  A file changed
 * less than two seconds before it was remembered is not remembered: a
 * second change within the same timestamp would go unseen.  Losing the
 * memo (unreadable, concurrent writers) only costs the next build time.
 * A table past INMEMO_MAX entries keeps only what the last build used, so
 * include trees that come and go cannot grow it without bound. */
#ifndef KTSTR_INITRAMFS_MEMO_H
#define KTSTR_INITRAMFS_MEMO_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>
#include "hash.h"

#define INMEMO_MAX 4096
#define INMEMO_SETTLE_NS (2LL * 1000000000LL)

struct inmemo {
	char *path;		/* the memo file; NULL: remember nothing */
	json_t *root;		/* {"files": {path: {...}}, "applets": {path: {...}}} */
	json_t *used;		/* the same tables' keys this build looked up */
	long long settle_ns;	/* files younger than this are not
				 * remembered (INMEMO_SETTLE_NS) */
	bool dirty;
};

/* Load the memo of cache directory dir (NULL: a memo that keeps nothing). */
void inmemo_load(struct inmemo *m, const char *dir);
/* Write it back when something was learnt (atomically; errors ignored). */
void inmemo_save(struct inmemo *m);
void inmemo_release(struct inmemo *m);

/* SHA-256 and size of src as remembered for its current stat st. */
bool inmemo_get_hash(struct inmemo *m, const char *src, const struct stat *st,
		     char sha[SHA256_HEX_LEN + 1], unsigned long long *size);
void inmemo_put_hash(struct inmemo *m, const char *src, const struct stat *st,
		     const char *sha, unsigned long long size);
/* busybox's --list-full output, remembered for the binary at src with
 * stat st (NULL when not known; valid until the next put or release). */
const char *inmemo_get_applets(struct inmemo *m, const char *src, const struct stat *st);
void inmemo_put_applets(struct inmemo *m, const char *src, const struct stat *st,
			const char *list);

#endif
