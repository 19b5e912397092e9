/* Bundle mode: programs shipped in an exported reproducer (ktstr-export(1)).
 *
 * An export carries each dynamic program together with its shared
 * libraries and its own dynamic loader under DIR/lib, because the machine
 * it runs on may lack them (no libbpf, another glibc).  Such a program is
 * started through that loader, never through the one its PT_INTERP names. */
#ifndef KTSTR_GUEST_BUNDLE_H
#define KTSTR_GUEST_BUNDLE_H

#include <stdbool.h>

/* The loader every bundle carries, under DIR/lib. */
#define BUNDLE_LOADER "ld-linux-x86-64.so.2"

/* Set (or with NULL clear) the bundle directory; the string is copied. */
void bundle_set_dir(const char *dir);
/* The bundle directory, or NULL outside bundle mode. */
const char *bundle_dir(void);

/* execv (search false) or execvp (search true) of path with argv; returns
 * only on failure, errno set.  In bundle mode a relative path with no
 * search is taken relative to the bundle directory, and a program that
 * resolves to a dynamic ELF file under it is run as
 * DIR/lib/ld-linux-x86-64.so.2 --library-path DIR/lib --argv0 ARGV0 PROGRAM ARGS. */
int bundle_exec(const char *path, char *const argv[], bool search);

/* True when path is a 64-bit ELF file with a PT_INTERP (needs a loader). */
bool bundle_is_dynamic_elf(const char *path);

#endif
