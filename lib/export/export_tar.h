/* The archive half of a reproducer: a tar+gzip stream (ustar, which
 * busybox tar reads) written to an open file descriptor. */
#ifndef KTSTR_EXPORT_TAR_H
#define KTSTR_EXPORT_TAR_H

#include <stddef.h>
#include "strbuf.h"
#include "strvec.h"

struct export_tar;

/* Start an archive on fd (already positioned after the preamble). */
struct export_tar *export_tar_open(int fd, struct strbuf *err);
/* A file from memory. */
int export_tar_add_mem(struct export_tar *t, const char *name, const void *buf, size_t len,
		       unsigned mode, struct strbuf *err);
/* A host file (links followed) as name, keeping its executable bits; a
 * dynamic ELF file brings its libraries and loader under lib/. */
int export_tar_add_file(struct export_tar *t, const char *host, const char *name,
			struct strbuf *err);
/* A host file or directory tree as name (directories walked, entries
 * that are neither files nor directories refused). */
int export_tar_add_tree(struct export_tar *t, const char *host, const char *name,
			struct strbuf *err);
/* Finish the stream (on error too: frees t).  0 or -1 with err. */
int export_tar_close(struct export_tar *t, struct strbuf *err);

#endif
