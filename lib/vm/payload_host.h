/* The host side of payloads (ktstr-scenario(5) PAYLOADS): before boot,
 * every program a scenario's payloads run is found on the host and
 * packed into the guest under /include-files, where the agent's PATH
 * reaches it (the initramfs brings its shared libraries along).  A
 * program that is not there fails the run before boot with one line
 * naming the Debian package that has it. */
#ifndef KTSTR_PAYLOAD_HOST_H
#define KTSTR_PAYLOAD_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"

/* One payload of the scenario, as resolved on the host. */
struct payload_host {
	char *name;
	char *program;		/* as the scenario gives it */
	char *path;		/* the host file the guest gets */
	char *guest_path;	/* /include-files/BASENAME */
	const char *package;	/* Debian package with the program, or NULL */
	const char *source;	/* "PATH", "path" (the program is one) or
				 * "include" (a -i file of that name) */
	char *cgroup;
	bool own_cgroup;
	unsigned copies;
	char *form;
	struct strvec args;
	size_t step;		/* 0: started at t=0; k: by step k (1-based) */
};

struct payload_host_plan {
	struct payload_host *v;
	size_t n;
	/* What the initramfs packs under /include-files: the user's -i in
	 * order, then each payload program not already among them. */
	struct strvec includes;
};

/* Resolve the programs of every payload of s (top level and start_payload
 * ops) and build the include list from user_includes (the -i paths).  A
 * bare name is the -i file of that name, else found in PATH; a path must
 * be an executable regular file.  A program that is already included (the
 * same file) is not added twice.  0, or -1 with one line in err naming the
 * payload, what is wrong and the fix; p is filled either way and must be
 * released. */
int payload_host_plan(const struct scenario *s, const struct strvec *user_includes,
		      struct payload_host_plan *p, struct strbuf *err);
void payload_host_plan_release(struct payload_host_plan *p);

/* The --dry-run records (ktstr-records(7)): one payload_resolved per
 * payload, and includes_resolved with the include list. */
json_t *payload_host_record(const struct payload_host *h);
json_t *payload_host_includes_record(const struct payload_host_plan *p);

#endif
