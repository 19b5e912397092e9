/* Progress lines for long work.  Shown only when stderr is a terminal (and
 * KTSTR_NO_PROGRESS is unset), so pipelines and CI logs stay clean. */
#ifndef KTSTR_PROGRESS_H
#define KTSTR_PROGRESS_H

#include <stdbool.h>

bool progress_enabled(void);
/* Replace the current progress line. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Erase the progress line (before printing anything else to stderr). */
void progress_clear(void);

#endif
