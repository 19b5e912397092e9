/* A machine's topology as ktstr describes it (struct ktstr_topo), worked
 * out from a guest_topology record (agent_proto.h): what host mode runs
 * against, and what an exported reproducer compares with the topology it
 * was made for. */
#ifndef KTSTR_TOPO_RECORD_H
#define KTSTR_TOPO_RECORD_H

#include <jansson.h>
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

/* Nodes, LLCs, cores per LLC and threads per core from the record's
 * "cpus", "nodes", "llcs" and "smt" lists.  -1 with err when the record is
 * malformed or the machine is not uniform (LLCs of different sizes, say),
 * which N,L,C,T cannot describe. */
int topo_from_record(const json_t *rec, struct ktstr_topo *t, struct strbuf *err);

/* One line per field that differs ("llcs: expected 2, found 1"), appended
 * to out; returns how many. */
size_t topo_diff(const struct ktstr_topo *want, const struct ktstr_topo *got,
		 struct strvec *out);

#endif
