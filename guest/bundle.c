/* Bundle mode exec (bundle.h).  Runs between fork and exec, so it only
 * allocates with the child's own heap and never returns on success. */
#include "bundle.h"
#include "diag.h"
#include "fsutil.h"
#include "strvec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *bundle;

void bundle_set_dir(const char *dir)
{
	free(bundle);
	bundle = dir && *dir ? xstrdup(dir) : NULL;
}

const char *bundle_dir(void)
{
	return bundle;
}

bool bundle_is_dynamic_elf(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool dyn = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned i;

	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph))
		goto out;
	for (i = 0; i < eh.e_phnum && !dyn; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			break;
		dyn = ph.p_type == PT_INTERP;
	}
out:
	close(fd);
	return dyn;
}

/* True when path is dir itself or below it. */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

static int plain_exec(const char *path, char *const argv[], bool search)
{
	return search ? execvp(path, argv) : execv(path, argv);
}

int bundle_exec(const char *path, char *const argv[], bool search)
{
	struct strvec av = STRVEC_INIT;
	char *prog, *loader, *libdir;
	size_t i;

	if (!bundle)
		return plain_exec(path, argv, search);
	if (strchr(path, '/'))
		prog = path[0] == '/' || search ? xstrdup(path) : path_join(bundle, path);
	else
		prog = search ? path_search(path, getenv("PATH")) : path_join(bundle, path);
	if (!prog || !under(prog, bundle) || !bundle_is_dynamic_elf(prog)) {
		int ret = plain_exec(prog ? prog : path, argv, search && !prog);

		free(prog);
		return ret;
	}
	loader = xasprintf("%s/lib/" BUNDLE_LOADER, bundle);
	libdir = xasprintf("%s/lib", bundle);
	strvec_push(&av, loader);
	strvec_push(&av, "--library-path");
	strvec_push(&av, libdir);
	strvec_push(&av, "--argv0");
	strvec_push(&av, argv[0] ? argv[0] : prog);
	strvec_push(&av, prog);
	for (i = 1; argv[0] && argv[i]; i++)
		strvec_push(&av, argv[i]);
	execv(loader, (char *const *)strvec_argv(&av));
	i = (size_t)errno;
	strvec_clear(&av);
	free(loader);
	free(libdir);
	free(prog);
	errno = (int)i;
	return -1;
}
