/* CPU topology as ktstr describes it: NUMA nodes, LLCs (total), cores per
 * LLC, threads per core.  Written "1,2,4,1" or "1n2l4c1t". */
#ifndef KTSTR_TOPO_H
#define KTSTR_TOPO_H

#include <stdbool.h>
#include "strbuf.h"

struct ktstr_topo {
	unsigned nodes;		/* NUMA nodes */
	unsigned llcs;		/* last-level caches in total, split evenly over nodes */
	unsigned cores;		/* cores per LLC */
	unsigned threads;	/* SMT threads per core */
};

/* Per-field and total sanity limits; the real vCPU ceiling is the QEMU
 * machine type's, which QEMU itself enforces and ktstr-vm reports. */
#define KTSTR_TOPO_MAX_FIELD 4096u
#define KTSTR_TOPO_MAX_CPUS 65536u

/* Parse either form.  On error returns -1 and appends to err a message that
 * names the bad part and says what is expected (no program prefix). */
int topo_parse(const char *s, struct ktstr_topo *t, struct strbuf *err);
unsigned topo_cpus(const struct ktstr_topo *t);
unsigned topo_llcs_per_node(const struct ktstr_topo *t);
/* "1,2,4,1" */
void topo_format(const struct ktstr_topo *t, struct strbuf *sb);
/* "1n2l4c1t" */
void topo_format_short(const struct ktstr_topo *t, struct strbuf *sb);

/* Index helpers: vCPU i's node, LLC and core, in QEMU's socket/die/core/
 * thread enumeration order (threads innermost). */
unsigned topo_cpu_llc(const struct ktstr_topo *t, unsigned cpu);
unsigned topo_cpu_node(const struct ktstr_topo *t, unsigned cpu);

#endif
