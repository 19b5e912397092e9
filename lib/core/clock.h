/* Time as ktstr reports it: monotonic milliseconds for durations, UTC
 * ISO 8601 for timestamps in records and metadata. */
#ifndef KTSTR_CLOCK_H
#define KTSTR_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC in milliseconds: for measuring, never for display. */
long long monotonic_ms(void);
/* "YYYY-MM-DDTHH:MM:SSZ" for t; caller frees. */
char *iso8601_utc(time_t t);

#endif
