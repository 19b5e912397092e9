/* Kernel tunables (sysctls) as JSON, for the records that say which knobs a
 * run was measured under: the host's in sidecars, the guest's in
 * scenario_start. */
#ifndef KTSTR_SYSCTL_H
#define KTSTR_SYSCTL_H

#include <jansson.h>

/* Every readable file in dir whose name starts with prefix, sorted by
 * name: {name: value}, a number when the value reads as one, else the
 * trimmed text.  Unreadable (write-only, root-only) files are left out; a
 * missing dir gives {}. */
json_t *sysctl_json(const char *dir, const char *prefix);

#endif
