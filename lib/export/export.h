/* ktstr-export's work: one self-contained, executable reproducer file.
 *
 * NAME.run is a POSIX sh preamble (export_preamble.c) followed by a
 * tar+gzip archive (export_tar.c) that the preamble extracts into a
 * temporary directory and runs with the static agent in host mode
 * (ktstr-agent --host --bundle DIR).  Archive layout, relative to DIR:
 *
 *   ktstr-agent        the static agent
 *   request.json       the scenario request, as ktstr-vm sends a VM
 *   manifest.json      scenario, expected topology, scheduler, version
 *   sched/NAME         the scheduler binary (request's scheduler.path)
 *   include-files/...  the -i files and the payload programs
 *   lib/...            every dynamic program's libraries and its loader
 *   bin/ktstr-verdict  optional static verdict printer for terminals */
#ifndef KTSTR_EXPORT_H
#define KTSTR_EXPORT_H

#include <jansson.h>
#include "strbuf.h"
#include "strvec.h"

struct export_spec {
	const char *agent;		/* host path of the static agent */
	const char *verdict;		/* static verdict printer, or NULL */
	const char *sched_host;		/* the scheduler binary, or NULL */
	const char *sched_rel;		/* its path in the bundle ("sched/NAME") */
	json_t *request;		/* the scenario request */
	json_t *manifest;		/* manifest.json */
	const struct strvec *includes;	/* host paths under include-files */
	const char *scenario;		/* name, for the preamble */
	const char *topo;		/* expected topology "N,L,C,T" */
};

/* Write the reproducer to out atomically (temp file beside it, fsync,
 * rename, mode 0755).  0, or -1 with one line in err. */
int export_write(const struct export_spec *s, const char *out, struct strbuf *err);

/* The sh preamble for s: ends with the line after which the archive
 * starts.  Caller frees. */
char *export_preamble(const struct export_spec *s);

/* The ktstr version this export is made by (KTSTR_VERSION, compiled
 * into one object that the Makefile rebuilds when it changes). */
const char *export_version(void);

/* A value safe to put between single quotes in sh: true unless it holds
 * a quote or a control character. */
int export_sh_safe(const char *v);

#endif
