/* What a VM run needs before it boots: the scenario it sends (loaded,
 * completed and checked against the topology) and the initramfs it boots
 * (agent, busybox, includes, kernel config, scheduler). */
#ifndef KTSTR_VM_PREP_H
#define KTSTR_VM_PREP_H

#include <jansson.h>
#include "initramfs.h"
#include "scenario.h"
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

/* The scenario named (canned or a file; NULL: a "custom" one) with the
 * --cgroup specs added and duration_ms (0: its own) applied, parsed into
 * s and fitted to topo.  Returns 0 (doc and s set), 1 when it does not
 * fit the topology (doc and s set, the reason in err), -1 on a bad
 * scenario (err says which).  The caller frees doc and releases s unless
 * -1. */
int vm_scenario_prepare(const char *scenario, const struct strvec *cgroups,
			unsigned long long duration_ms, const struct ktstr_topo *topo,
			json_t **doc, struct scenario *s, struct strbuf *err);

/* Build (or find cached) the initramfs: the agent, busybox
 * (KTSTR_BUSYBOX_PATH, else PATH), the includes, kconfig as the guest's
 * kernel config (NULL: none) and the scheduler binary sched_host as
 * sched_guest (NULL: none); with tools, the host's debugging tools
 * (initramfs_opts.host_tools).  check_only: every input checked as a
 * build would, nothing written (--dry-run).  0, or -1 with err. */
int vm_initramfs_prepare(const struct strvec *includes, const char *kconfig,
			 const char *sched_host, const char *sched_guest, bool tools,
			 bool check_only, struct initramfs_result *res, struct strbuf *err);

/* A new console log path, one per run, under the state dir's "console"
 * (else /tmp/ktstr-console); older ones beyond the most recent few are
 * removed.  Caller frees. */
char *vm_console_log_default(void);

#endif
