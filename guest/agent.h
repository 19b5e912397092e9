/* The guest agent: /init inside the ktstr VM.
 *
 * It mounts the usual filesystems, finds the virtio-serial port the host
 * listens on, reports the guest topology, runs exactly one request (exec or
 * shell or scenario) and powers the VM off.  Being PID 1 it must never exit (the kernel
 * would panic) and it inherits every orphan, so all of its waiting is done
 * in poll loops that also reap.  The wire format is lib/core/agent_proto.h. */
#ifndef KTSTR_GUEST_AGENT_H
#define KTSTR_GUEST_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "clock.h"
#include "strbuf.h"
#include "strvec.h"

struct agent {
	int port;		/* the host port (blocking, see port.c) */
	bool host_seen;		/* a write went through: the host is connected */
	int sigfd;		/* signalfd for SIGCHLD */
	struct strbuf outq;	/* encoded records not yet written (port_queue) */
};

/* A child the agent waits for; orphans reaped meanwhile never touch it. */
struct child {
	pid_t pid;
	bool done;
	int status;		/* waitpid status, valid when done */
};

/* log.c */
extern bool agent_verbose;
/* Console message, only with KTSTR_VERBOSE=1; stamped with uptime. */
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* hostmode.c: true in the engine process of `ktstr-agent --host`, where
 * the ways out below exit instead of powering anything off. */
extern bool agent_hosted;
/* `ktstr-agent --host ...`: run a request on this machine (hostmode.c). */
int host_main(int argc, char **argv) __attribute__((noreturn));

/* poweroff.c: the ways out, all ending in a power-off (outside PID 1,
 * i.e. in a unit test, an _exit instead). */
/* sync and power off; never returns. */
void agent_poweroff(void) __attribute__((noreturn));
/* Report an error to the console and (if possible) the host, then power
 * off.  For anything the agent cannot recover from. */
void agent_fail(struct agent *ag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* The host went away: nobody reads our output any more. */
void agent_host_gone(void) __attribute__((noreturn));

/* ksyms.c */
/* The kernel_symbols record (lib/vm/monitor.h) from /proc/kallsyms and
 * /proc/iomem; the _at form reads other files, for tests. */
json_t *ksyms_record(void);
json_t *ksyms_record_at(const char *kallsyms, const char *iomem);

/* mounts.c */
/* /proc, /sys, /dev, and fds 0-2 open: what reading the command line and
 * printing messages need. */
void mounts_early(void);
/* Everything else: devpts, tmpfs, cgroup2, debugfs, tracefs, bpf,
 * hostname, base directories.  Nothing here is fatal. */
void mounts_setup(void);

/* port.c */
/* Find and open the agent port; -1 (message printed) when there is none. */
int port_open(void);
/* Use fd (a socket to host mode's supervisor) as the port. */
int port_use(int fd);
/* Send one record (consumed); waits for the host to connect the first
 * time.  0, or -1 when the host has disconnected. */
int port_send(struct agent *ag, json_t *rec);
/* Send the last record and make sure QEMU has taken everything, so the
 * power-off that follows cannot lose it (see port.c). */
int port_send_final(struct agent *ag, json_t *rec);
/* Encode a record (consumed) for the next port_flush/port_send: output
 * lines read together leave in one write, i.e. one virtqueue kick. */
void port_queue(struct agent *ag, json_t *rec);
/* Write what port_queue collected; 0, or -1 when the host disconnected. */
int port_flush(struct agent *ag);
/* True when poll revents on the port mean the host has disconnected. */
bool port_hung_up(const struct agent *ag, short revents);
/* Read the single request line; returns a parsed record or NULL with err
 * set (bad JSON), and powers off when the host disconnects. */
json_t *port_read_request(struct agent *ag, struct strbuf *err);

/* child.c: process bookkeeping for PID 1. */
/* Block SIGCHLD and return a signalfd for it. */
int child_sigfd_setup(void);
/* Reap every exited child; records c's status if it is among them. */
void child_reap(struct agent *ag, struct child *c);
/* Reap every exited child; claim() says whether a pid was one the caller
 * tracks (orphans are just logged). */
void child_reap_each(struct agent *ag, bool (*claim)(pid_t pid, int status, void *ctx),
		     void *ctx);
/* In a freshly forked or vforked child: clean signal mask, own session,
 * stdin from /dev/null, stdout/stderr to out/err, cwd /.  System calls
 * only (no allocation, no stdio), so a vfork child may call it. */
void child_stdio(int out, int err);
/* "<what><description of err>\n" on fd 2 with one writev: safe in a
 * vfork child (no stdio, no allocation, no locale). */
void child_write_err(const char *what, int err);
/* In a forked child before exec: undo what PID 1 set up (signal mask). */
void child_reset(void);
/* SIGINT, SIGQUIT, SIGTERM, SIGHUP and SIGPIPE back to their defaults,
 * in a child about to exec a program. */
void child_default_signals(void);
/* {"type":"exit","exit_code":N[,"signal":S][,"timed_out":true]} */
json_t *child_exit_record(int status, bool timed_out);

/* cmdwords.c */
/* True, with the words in out, when /bin/sh would run cmd as one program
 * call with these words as its argv; false (out empty) when cmd needs the
 * shell.  out is cleared first. */
bool cmd_plain_words(const char *cmd, struct strvec *out);

/* exec.c / shell.c / scenario.c: run the request, send "exit", return
 * (caller powers off). */
void exec_run(struct agent *ag, const json_t *req);
void shell_run(struct agent *ag, const json_t *req);
/* {"type":"scenario",...}: see scenario.c and engine.h. */
void scenario_run(struct agent *ag, const json_t *req);

/* sysinfo.c */
/* A small file's contents, blanks trimmed, or NULL; caller frees. */
char *sysinfo_read_trimmed(const char *path);
json_t *sysinfo_topology(void);
/* The same with every sysfs path under root ("" is the real one): for
 * the unit tests, which pass a fake tree. */
json_t *sysinfo_topology_at(const char *root);
json_t *sysinfo_ready(long long init_uptime_ms);
/* CLOCK_BOOTTIME (/proc/uptime's clock) in ms; needs no /proc. */
long long sysinfo_uptime_ms(void);

#endif
