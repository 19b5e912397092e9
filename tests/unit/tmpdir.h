/* A fresh temporary directory per test, for cmocka fixtures.
 *
 * Removed with /bin/rm, not the library's rm_rf: test_fsutil tests rm_rf,
 * and no test should clean up with the code it is checking. */
#ifndef KTSTR_TEST_TMPDIR_H
#define KTSTR_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/* mkdtemp "/tmp/ktstr-test-<name>.XXXXXX" into dir; 0 or -1. */
static inline int tmpdir_create(char *dir, size_t size, const char *name)
{
	if ((size_t)snprintf(dir, size, "/tmp/ktstr-test-%s.XXXXXX", name) >= size)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

/* rm -rf dir; 0 or -1. */
static inline int tmpdir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "<dir>/<rel>" in one of 32 rotating static buffers, so a test can hold
 * a few paths at once. */
static inline const char *tmpdir_path(const char *dir, const char *rel)
{
	static char bufs[32][512];
	static unsigned n;
	char *b = bufs[n++ % 32];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, rel);
	return b;
}

#endif
