/* Filesystem helpers: atomic writes, directory trees, temp dirs.
 *
 * The rule everywhere in ktstr: a file a user can see is either complete or
 * absent.  Output is written to a temp file next to its destination, fsynced
 * and renamed into place. */
#ifndef KTSTR_FSUTIL_H
#define KTSTR_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "strbuf.h"

struct atomic_file {
	char *path;	/* final destination */
	char *tmp;	/* temp file in the same directory */
	int fd;
};

/* Create a temp file next to path.  Returns 0, or -1 with errno set. */
int atomic_file_open(struct atomic_file *af, const char *path, mode_t mode);
/* fsync, rename over path, fsync the directory.  Closes fd.  0 or -1. */
int atomic_file_commit(struct atomic_file *af);
/* Close and unlink the temp file (safe to call after commit). */
void atomic_file_abort(struct atomic_file *af);

/* Whole-buffer convenience wrapper around the three calls above. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* write(2) until done, retrying on EINTR and short writes; 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Write s to an existing file in one write(2) (sysfs, cgroupfs and procfs
 * control files); 0, or -1 with errno set. */
int write_control(const char *path, const char *s);

/* mkdir -p; 0 or -1 with errno set. */
int mkdir_p(const char *path, mode_t mode);
/* Whether a file could be written at path, creating its missing
 * directories, without creating anything: for --dry-run and for failing
 * before slow work.  0, or -1 with what is wrong (naming the path part at
 * fault) in err. */
int path_creatable(const char *path, struct strbuf *err);
/* rm -rf; 0 or -1 (best effort, continues past errors). */
int rm_rf(const char *path);
/* mkdtemp under dir (created if missing) with the given prefix; NULL on error. */
char *make_temp_dir(const char *dir, const char *prefix);

/* Delete all but the `keep` most recently modified regular files in dir
 * whose names start with prefix.  Best effort; returns how many went. */
unsigned prune_old_files(const char *dir, const char *prefix, unsigned keep);

/* What execvp would run for name: name itself when it has a '/', else the
 * first entry of path_var (a PATH value; NULL or empty means
 * /usr/local/bin:/usr/bin:/bin) holding it; either way an executable
 * regular file.  NULL when there is none; caller frees. */
char *path_search(const char *name, const char *path_var);

bool path_exists(const char *path);
bool is_regular_file(const char *path);
/* What execve would run: an executable regular file, not a directory. */
bool is_executable_file(const char *path);
bool is_directory(const char *path);
/* "a/b" with exactly one slash between; caller frees. */
char *path_join(const char *a, const char *b);
/* Directory part of path (caller frees); "." when there is none. */
char *path_dirname(const char *path);
/* Pointer to the last component of path (no allocation). */
const char *path_basename(const char *path);
/* Make s, in place, a safe file name and URL path segment: every byte
 * but [-_.A-Za-z0-9] becomes '_'.  Returns s. */
char *file_name_sanitize(char *s);
/* Expand a leading "~/" against $HOME; caller frees. */
char *path_expand_tilde(const char *path);

#endif
