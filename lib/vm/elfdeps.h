/* Shared-library closure of an ELF program, as the dynamic loader sees it.
 *
 * The initramfs has no ldconfig and no package manager: anything a packed
 * binary needs at run time must be copied in, at the exact paths the guest's
 * loader will try.  This module answers "which paths", by reading PT_INTERP,
 * DT_NEEDED, DT_RPATH/DT_RUNPATH and DT_SONAME with libelf and replaying
 * glibc's search order on the host filesystem. */
#ifndef KTSTR_ELFDEPS_H
#define KTSTR_ELFDEPS_H

#include <stdbool.h>
#include "strbuf.h"
#include "strvec.h"

/* True when path is an ELF object for this machine that needs the dynamic
 * loader: it names an interpreter or lists DT_NEEDED libraries.  Static and
 * static-pie programs, foreign-architecture ELF files, scripts, data and
 * unreadable files are all false. */
bool elf_is_dynamic(const char *path);
/* True when path is an executable or shared ELF object of this machine's
 * class and architecture: what can run as the guest's init. */
bool elf_is_program(const char *path);

/* Append to out (skipping paths already in it) every file the loader opens
 * to run path: the PT_INTERP interpreter first, then the libraries in the
 * loader's breadth-first order.  Each entry is the path as the loader would
 * open it (e.g. /lib/x86_64-linux-gnu/libc.so.6), which may be a symlink or
 * sit under a symlinked directory; resolving it is the caller's business.
 *
 * Search order per object: its DT_RPATH and its loaders' (only when it has
 * no DT_RUNPATH), LD_LIBRARY_PATH, its DT_RUNPATH, then the default dirs
 * (multiarch lib dirs, /lib64, /usr/lib64, /lib, /usr/lib).  $ORIGIN, $LIB
 * and $PLATFORM are expanded.  Candidates of the wrong ELF class or machine
 * are skipped, as the loader does.
 *
 * A non-ELF or static file yields nothing and returns 0.  Returns -1 with
 * one line in err when path cannot be read or a library cannot be found
 * (naming both the binary and the library); out may then hold a partial
 * list. */
int elf_closure(const char *path, struct strvec *out, struct strbuf *err);

#endif
