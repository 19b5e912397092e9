/* Shared helpers of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Each target feeds arbitrary bytes to one of ktstr's parsers through its
 * real entry point and then drives what a program does with the result
 * (format it, compare it), so a parse that "succeeds" into an inconsistent
 * state is caught too.  ASan and UBSan turn any memory error, leak or
 * undefined behaviour into a crash; the parsers must survive every input. */
#ifndef KTSTR_FUZZ_H
#define KTSTR_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"
#include "fsutil.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (caller frees).  Embedded NULs stay:
 * a C-string parser then sees a prefix, as it would from argv. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the input at the first occurrence of sep: the part before it goes
 * to *a (NUL-terminated, caller frees) and the rest stays in data/size. */
static inline char *fuzz_take(const uint8_t **data, size_t *size, char sep)
{
	const uint8_t *p = memchr(*data, sep, *size);
	size_t n = p ? (size_t)(p - *data) : *size;
	char *s = fuzz_str(*data, n);

	*data += p ? n + 1 : n;
	*size -= p ? n + 1 : n;
	return s;
}

/* A private scratch directory on tmpfs when there is one, made once per
 * process and removed at exit, for the parsers that only read files. */
static char *fuzz_scratch_dir;

static inline void fuzz_scratch_cleanup(void)
{
	if (fuzz_scratch_dir)
		rm_rf(fuzz_scratch_dir);
}

static inline const char *fuzz_scratch(void)
{
	char tmpl[] = "/dev/shm/ktstr-fuzz-XXXXXX", tmpl2[] = "/tmp/ktstr-fuzz-XXXXXX";
	char *d;

	if (fuzz_scratch_dir)
		return fuzz_scratch_dir;
	d = mkdtemp(tmpl);
	if (!d)
		d = mkdtemp(tmpl2);
	if (!d)
		die_errno(2, "creating a scratch directory");
	fuzz_scratch_dir = xstrdup(d);
	atexit(fuzz_scratch_cleanup);
	return fuzz_scratch_dir;
}

/* Replace path's contents with data (plain write: the fuzzer is the only
 * reader). */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write_all(fd, data, size) < 0)
		die_errno(2, "writing %s", path);
	close(fd);
}

#endif
