/* Running other programs, after git's run-command. */
#ifndef KTSTR_RUN_H
#define KTSTR_RUN_H

#include <stdbool.h>
#include <sched.h>
#include <stddef.h>
#include <sys/types.h>
#include "strbuf.h"

#define RUN_FD_INHERIT (-1)
#define RUN_FD_NULL (-2)

struct run_opts {
	int stdin_fd;		/* RUN_FD_INHERIT, RUN_FD_NULL or an fd */
	int stdout_fd;
	int stderr_fd;
	const int *keep_fds;	/* fds to pass through with the same number */
	size_t n_keep;
	bool new_pgrp;		/* own process group (not killed by the tty's ^C) */
	bool die_with_parent;	/* PR_SET_PDEATHSIG(SIGKILL): never outlive us */
	const char *const *env_set;	/* "K=V" entries added to the environment */
	const cpu_set_t *affinity;	/* CPUs the child may run on, or NULL */
};
#define RUN_OPTS_INIT { .stdin_fd = RUN_FD_INHERIT, .stdout_fd = RUN_FD_INHERIT, \
			.stderr_fd = RUN_FD_INHERIT }

/* Fork and exec argv[0] (searched in PATH).  Returns the pid, or -1 with
 * errno set to the exec failure (ENOENT when the program is missing). */
pid_t run_spawn(const char *const argv[], const struct run_opts *o);

/* Wait for pid; returns its exit code, 128+signal if killed, -1 on error. */
int run_wait(pid_t pid);

/* Run to completion collecting stdout/stderr (either may be NULL to
 * inherit).  Returns the exit code as run_wait, or -1 if it could not start. */
int run_capture(const char *const argv[], struct strbuf *out, struct strbuf *err);

/* Absolute path of name found in PATH (or name itself if it has a '/' and is
 * executable); NULL if not found.  Caller frees. */
char *find_program(const char *name);

#endif
