/* The text parsers behind the host-mode monitor (hostmon.h): the
 * scheduler's debug file, /proc/stat's per-CPU lines and sched_ext's
 * event counters.  Pure functions of a buffer, so unit tests and the fuzz
 * target (tests/fuzz/fuzz_hostmon.c) drive them without a kernel.
 *
 * The text is untrusted: a value that does not parse leaves that field
 * unset for that CPU, a line that makes no sense is skipped, and only a
 * file that contradicts itself (a CPU listed twice) or holds no CPU at
 * all is refused as a whole.  Buffers need not be NUL-terminated. */
#ifndef KTSTR_HOSTMON_PARSE_H
#define KTSTR_HOSTMON_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* What one CPU's section of /sys/kernel/debug/sched/debug gave. */
#define HC_SEEN		0x01	/* a "cpu#N" section (the CPU is online) */
#define HC_NR		0x02	/* .nr_running */
#define HC_PID		0x04	/* .curr->pid */
#define HC_CLOCK	0x08	/* .clock */

struct hostmon_cpu {
	unsigned long long clock_ns;	/* rq->clock */
	long long curr_pid;		/* 0: the idle task */
	unsigned nr_running;		/* rq->nr_running, every class */
	unsigned char have;		/* HC_* */
};

/* Fill cpu[0..ncpu) (cleared first) from the sched debug file: only the
 * top block of each "cpu#N" section is read (the cfs_rq, rt_rq and task
 * tables below it are skipped).  Sections of CPUs >= ncpu are ignored.
 * Returns how many CPUs had a section, or -1 with why when a CPU has two
 * sections or no CPU has one. */
int hostmon_parse_sched_debug(const char *text, size_t len, struct hostmon_cpu *cpu,
			      unsigned ncpu, struct strbuf *why);

/* One CPU's line of /proc/stat, in USER_HZ ticks since boot. */
struct hostmon_stat {
	unsigned long long idle;	/* idle + iowait */
	unsigned long long total;	/* user nice system idle iowait irq softirq steal */
	bool seen;
};

/* Fill st[0..ncpu) (cleared first) from /proc/stat's "cpuN" lines; as
 * hostmon_parse_sched_debug for CPUs out of range, twice, or none. */
int hostmon_parse_proc_stat(const char *text, size_t len, struct hostmon_stat *st,
			    unsigned ncpu, struct strbuf *why);

/* /sys/kernel/sched_ext/root/events ("SCX_EV_SELECT_CPU_FALLBACK 12"
 * per line) into an object of running totals named as the VM monitor
 * names them: without SCX_EV_, in lower case ("select_cpu_fallback").
 * A line that is not NAME COUNT is skipped.  NULL (with why) when no
 * line was usable. */
json_t *hostmon_parse_events(const char *text, size_t len, struct strbuf *why);

/* The first line of a one-line sysfs file (state, ops), without blanks
 * around it, cut at 64 bytes: into out (size >= 65).  false when empty. */
bool hostmon_parse_word(const char *text, size_t len, char *out, size_t size);

#endif
