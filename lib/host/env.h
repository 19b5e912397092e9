/* The KTSTR_* environment contract.
 *
 * Default rule (from the upstream contract): an empty value means unset, and
 * surrounding whitespace is ignored.  A few variables deviate and are read
 * with the raw helpers: KTSTR_TEST_KERNEL (set-but-empty is a hard error),
 * KTSTR_NO_SKIP_MODE (presence-only), KTSTR_VERBOSE (exactly "1"). */
#ifndef KTSTR_ENV_H
#define KTSTR_ENV_H

#include <stdbool.h>

/* Trimmed value, or NULL when unset, empty or all whitespace.
 * The returned string is owned by a small internal cache (valid until exit). */
const char *env_get(const char *name);
/* True when the variable exists at all, even empty. */
bool env_present(const char *name);
/* True only when the value is exactly "1". */
bool env_is_one(const char *name);
/* True for any non-empty value except "0". */
bool env_truthy(const char *name);
/* name is one a shell can export: letters, digits and _, not empty and
 * not starting with a digit (ktstr-vm --env, a test file's "env"). */
bool env_name_valid(const char *name);

#endif
