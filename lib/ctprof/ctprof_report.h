/* Rendering ctprof results: human tables or JSON lines (ktstr-records(7),
 * "RECORDS FROM ktstr-ctprof"). */
#ifndef KTSTR_CTPROF_REPORT_H
#define KTSTR_CTPROF_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include "ctprof_compare.h"

struct ctprof_report_opts {
	enum ctprof_group_by by;
	size_t sort;		/* metric index to order groups by */
	size_t top;		/* groups to print; 0 for all */
	const bool *metrics;	/* per metric: print it?  NULL: every one */
	bool json;
};

/* Each returns 0, or -1 with errno set when f could not be written. */
int ctprof_report_compare(FILE *f, const char *name_a, const json_t *a,
			  const char *name_b, const json_t *b,
			  const struct ctprof_report_opts *o);
int ctprof_report_show(FILE *f, const char *name, const json_t *snap,
		       const struct ctprof_report_opts *o);
int ctprof_report_metrics(FILE *f, bool json);

#endif
