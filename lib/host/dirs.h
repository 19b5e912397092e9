/* Where ktstr keeps things: cache, state and its own installed helpers. */
#ifndef KTSTR_DIRS_H
#define KTSTR_DIRS_H

/* Cache directory for one kind of artefact ("kernels", "initramfs", ...).
 * KTSTR_CACHE_DIR is the kernel cache verbatim (as the upstream contract
 * says); other kinds then live in hidden siblings inside it ("<dir>/.kind").
 * Otherwise $XDG_CACHE_HOME/ktstr/<kind> or ~/.cache/ktstr/<kind>.
 * Not created; caller frees.  NULL only when neither HOME nor XDG is set. */
char *ktstr_cache_dir(const char *kind);

struct strbuf;

/* Whether the kernel cache root ktstr_cache_dir("kernels") returned is
 * usable: 0 when it is a directory or does not exist yet (the first store
 * creates it); -1 otherwise, with a line in err naming the variable it came
 * from and what is wrong, so a cache set to a regular file is not read as
 * an empty cache. */
int ktstr_cache_dir_check(const char *root, struct strbuf *err);

/* $XDG_STATE_HOME/ktstr/<kind> or ~/.local/state/ktstr/<kind>. */
char *ktstr_state_dir(const char *kind);

/* The directory of the running executable (/proc/self/exe), where its
 * sibling programs are; NULL when that cannot be read.  Caller frees. */
char *ktstr_exe_dir(void);

/* Installed-layout lookups relative to the running executable:
 * <exe>/../libexec/ktstr/<name> and <exe>/../share/ktstr/<name>. */
char *ktstr_libexec_path(const char *name);
char *ktstr_share_path(const char *name);

#endif
