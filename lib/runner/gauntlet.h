/* Gauntlet: the topology presets tests are expanded over, and the
 * expansion of tests x presets x kernels into cases.
 *
 * Presets follow upstream ktstr's list (tiny-1llc 1n1l4c1t, tiny-2llc
 * 1n2l2c1t, odd-3llc 1n3l3c1t, smt-2llc 1n2l2c2t, medium-4llc 1n4l4c2t,
 * numa2-4llc 2n4l4c1t, ...).  A host-capacity filter drops presets this
 * host cannot run: the vCPU rule of budget.h (budget_vcpu_cap). */
#ifndef KTSTR_GAUNTLET_H
#define KTSTR_GAUNTLET_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"
#include "testfile.h"
#include "topo.h"

struct preset {
	const char *name;	/* "tiny-2llc" */
	const char *spec;	/* "1n2l2c1t" */
	const char *about;	/* one line */
	struct ktstr_topo topo;
	unsigned memory_mb;	/* guest memory upstream gives this preset */
};

/* The built-in table, in order (small to large). */
const struct preset *preset_table(size_t *n);
const struct preset *preset_find(const char *name);

/* Host CPU slots one VM of topo occupies: the host threads that run its
 * vCPUs.  thread_per_vcpu (KVM, multi-threaded TCG; vm_accel_thread_per_vcpu):
 * its vCPUs, at most host_cpus; else (single-threaded TCG) 1, as one QEMU
 * thread runs every vCPU in turn. */
unsigned gauntlet_vm_slots(const struct ktstr_topo *topo, bool thread_per_vcpu,
			   unsigned host_cpus);

/* 1 when topo satisfies c, 0 when not (reason in why when given). */
int topo_constraints_match(const struct topo_constraints *c,
			   const struct ktstr_topo *topo, struct strbuf *why);

/* One kernel the runner will boot. */
struct gauntlet_kernel {
	char *label;	/* shown in case names and sidecars: "7.3.4" */
	char *image;	/* bzImage path */
	char *key;	/* cache key or NULL */
};

/* One scheduler of an A/B run (ktstr-test --scheduler), for the tests
 * whose "scheduler" is the placeholder. */
struct gauntlet_sched {
	char *label;	/* shown in case names: "scx_simple", "eevdf" */
	char *sched;	/* discover name or absolute path; NULL: EEVDF */
};

/* The --scheduler values, in order, each once: a value with '/' is a path
 * made absolute (it must exist and not be a directory), "eevdf" is the
 * kernel's own (sched NULL), anything else a name for ktstr-vm to find.
 * Labels are base names; paths that share one get their directory's name
 * in front ("old-scx_x", "new-scx_x"), and labels still equal get their
 * position after them ("-2").  0, or -1 with "--scheduler VALUE: why" in
 * err.  *v is never NULL on success. */
int gauntlet_scheds_resolve(const struct strvec *in, struct gauntlet_sched **v, size_t *n,
			    struct strbuf *err);
void gauntlet_scheds_free(struct gauntlet_sched *v, size_t n);

/* One (test, preset, kernel, scheduler) case. */
struct gcase {
	const struct ktest *test;
	const struct preset *preset;
	const struct gauntlet_kernel *kernel;	/* NULL when there is one kernel */
	const struct gauntlet_sched *sched;	/* the placeholder's value; NULL
						 * for a test with its own */
	char *name;		/* "test/preset[/kernel][/scheduler]" */
	char *full_name;	/* "suite test/preset[/kernel][/scheduler]" */
	char *skip_reason;	/* non-NULL: will not run, reported as SKIP */
	double est_secs;	/* estimated wall time (budget) */
	unsigned slots;		/* host CPU slots (gauntlet_vm_slots) */
};

struct gauntlet_opts {
	bool kvm;			/* the vCPU cap (budget_vcpu_cap) */
	bool thread_per_vcpu;		/* the slots (gauntlet_vm_slots) */
	unsigned host_cpus;		/* usable host CPUs */
	bool no_perf_mode;		/* KTSTR_NO_PERF_MODE */
	const struct gauntlet_kernel *kernels;
	size_t n_kernels;		/* >= 1 */
	const struct gauntlet_sched *scheds;
	size_t n_scheds;		/* 0 unless --scheduler */
};

/* The scheduler a case runs: its test's, or the placeholder's value;
 * NULL for EEVDF. */
const char *gcase_scheduler(const struct gcase *c);

/* Expand tests over presets and kernels, and a test whose scheduler is
 * the placeholder over o->scheds too (an error naming the test file when
 * there are none).  The scheduler's label ends the case name only when
 * there are several, as the kernel's does.  A preset fits a test when it
 * satisfies the test's "topology" constraints and scenario_fit() accepts
 * it (the scenario's "requires" and cpusets); presets that do not fit are
 * dropped silently.  A test with no preset that fits gets one case with
 * preset NULL, kernel NULL, name "test/-" and a skip reason saying why;
 * a test naming an unknown preset is an error (-1, err names the test
 * file and lists the valid presets); presets beyond host capacity are
 * dropped (or, when the test named them explicitly, become skips naming
 * the capacity; a named preset that does not fit is a skip too).  Under
 * no_perf_mode every case of a performance_mode test is a skip.  Skips
 * have est_secs 0 and slots 0; the rest get budget_estimate_secs() and
 * gauntlet_vm_slots().  Cases are sorted by full_name. */
int gauntlet_expand(const struct ktest *tests, size_t ntests,
		    const struct gauntlet_opts *o, struct gcase **out, size_t *n,
		    struct strbuf *err);
void gauntlet_free(struct gcase *v, size_t n);
/* Free what one case owns (name, full_name, skip_reason). */
void gcase_release(struct gcase *c);

/* Keep the cases whose name or full_name matches pattern: a shell glob
 * (fnmatch) when it has any of "*?[", a substring otherwise.  Returns the
 * new count (cases compacted in place, dropped ones released). */
size_t gauntlet_filter(struct gcase *v, size_t n, const char *pattern);

/* "K/N" with 1 <= K <= N: 0 or -1 with a message in err. */
int shard_parse(const char *s, unsigned *k, unsigned *n, struct strbuf *err);
/* Keep shard k of n: the cases at sorted index i with i % n == k - 1.
 * Returns the new count (compacted in place, dropped ones released). */
size_t gauntlet_shard(struct gcase *v, size_t n, unsigned k, unsigned of);

#endif
