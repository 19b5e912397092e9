/* Building the request ktstr-vm sends to the guest agent (agent_proto.h). */
#ifndef KTSTR_VM_REQUEST_H
#define KTSTR_VM_REQUEST_H

#include <jansson.h>
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

/* {"type":"exec","cmd":cmd,"env":env} (env may be NULL or empty). */
json_t *vm_request_exec(const char *cmd, json_t *env);
/* {"type":"shell",...} with TERM, COLORTERM and the size of the terminal
 * on stdin, read now. */
json_t *vm_request_shell(void);
/* {"type":"scenario","scenario":doc,"checks":{...},
 *  "scheduler":{"path","args"}|null,"topo":"N,L,C,T"}.  checks are the
 * scenario's effective thresholds (checks_effective: the check table's
 * defaults under the scenario's own), which the guest reports in
 * scenario_start.checks.  guest_path is where the scheduler binary sits
 * in the guest, NULL for the kernel's default scheduler (EEVDF).  The
 * caller adds "ctprof":true, "bpf_stats":true and "env" (--env) when
 * asked for. */
json_t *vm_request_scenario(json_t *doc, const struct checks *checks, const char *guest_path,
			    const struct strvec *args, const struct ktstr_topo *t);

/* Resolve a --scheduler value to a host binary.  A value with a '/' is a
 * path.  A bare name is looked up in order: KTSTR_SCHEDULER_BIN_<NAME>
 * (name upper-cased, other characters as '_'), KTSTR_SCHEDULER, the
 * schedulers built into the ktstr cache (the directory named after
 * kernel_key; else the newest build for a kernel of kernel_key's version,
 * e.g. the cloud build for Debian's generic kernel; else the newest build
 * for any kernel), then PATH.  Returns a malloc'd path, or NULL with one
 * actionable line in err. */
char *scheduler_resolve(const char *spec, const char *kernel_key, struct strbuf *err);
/* KTSTR_SCHEDULER_BIN_<NAME> for a scheduler name. */
char *scheduler_env_name(const char *name);

#endif
