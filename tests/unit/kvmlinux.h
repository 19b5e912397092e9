/* The cached real kernel's vmlinux (with BTF), for tests that read its
 * struct layouts: $KTSTR_E2E_VMLINUX, else the vmlinux beside
 * $KTSTR_E2E_KERNEL, else the Debian kernel in the default cache.  NULL
 * when none is readable; tests then skip(). */
#ifndef KTSTR_TEST_KVMLINUX_H
#define KTSTR_TEST_KVMLINUX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KVMLINUX_CACHED ".cache/ktstr/kernels/debian-7.3.4+deb13-cloud-amd64-x86_64/vmlinux"

static inline const char *kvmlinux_path(void)
{
	static char buf[512];
	const char *e = getenv("KTSTR_E2E_VMLINUX");

	if (e && *e)
		return access(e, R_OK) == 0 ? e : NULL;
	e = getenv("KTSTR_E2E_KERNEL");
	if (e && *e && strrchr(e, '/')) {
		snprintf(buf, sizeof(buf), "%.*s/vmlinux", (int)(strrchr(e, '/') - e), e);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	e = getenv("HOME");
	snprintf(buf, sizeof(buf), "%s/" KVMLINUX_CACHED, e && *e ? e : "/root");
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, sizeof(buf), "/root/" KVMLINUX_CACHED);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

#endif
