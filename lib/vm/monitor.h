/* The host-side monitor of a running guest kernel (issue 10;
 * /tmp/monitor-spec.md has the records).
 *
 * No code runs in the guest to take a sample: the monitor reads the
 * kernel's run queues and sched_ext state straight out of guest RAM
 * (lib/vm/guestmem.h), translating kernel addresses itself (lib/kernel/kaddr.h), with
 * every struct layout taken from the kernel's BTF by member name
 * (lib/kernel/kbtf.h).  The guest agent supplies the addresses once, in its
 * kernel_symbols record.
 *
 * Everything read is untrusted: a torn or bogus value makes that read fail
 * (the field is left out) or the whole sample be skipped, never a crash. */
#ifndef KTSTR_MONITOR_H
#define KTSTR_MONITOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "guestmem.h"
#include "kbtf.h"
#include "strbuf.h"

/* Addresses from the kernel_symbols record; 0 = missing. */
struct monitor_symbols {
	uint64_t runqueues;
	uint64_t per_cpu_offset;	/* __per_cpu_offset */
	uint64_t page_offset_base;	/* the variable's address */
	uint64_t init_top_pgt;
	uint64_t text;			/* _text */
	uint64_t scx_root;
	uint64_t scx_enable_state_var;
	uint64_t jiffies;
	uint64_t phys_base;
	uint64_t kernel_code_phys;	/* not a symbol: /proc/iomem "Kernel code" */
	int nr_cpu_ids;			/* 0: unknown */
};

/* Parse a kernel_symbols record.  Symbols absent from it, or listed in its
 * "missing", stay 0; unknown names are ignored.  0, or -1 with err (not an
 * object, no "symbols" object, an address that is not a hex string). */
int monitor_symbols_parse(const json_t *rec, struct monitor_symbols *syms, struct strbuf *err);

struct monitor_config {
	const struct guestmem *gm;	/* open guest RAM; borrowed, must outlive the monitor */
	const char *btf_path;		/* vmlinux ELF, or a raw BTF blob */
	const json_t *layout;		/* its layout as cached (monitor_layout.h):
					 * then the BTF is not read */
	struct kbtf *btf;		/* btf_path already opened (kbtf_open),
					 * or NULL; the monitor takes it over
					 * either way (it is left closed) */
	const struct monitor_symbols *syms;
	int cpus;			/* vCPUs; capped at syms->nr_cpu_ids when known */
	int interval_ms;		/* for monitor_start only */
	int hz;				/* CONFIG_HZ if known; 0: estimate from the samples */
	int paging_levels;		/* 4 or 5 to force; 0: detect */
	const char *vcpu_threads;	/* "per_cpu", "single", "none" or NULL (left out) */
};

struct monitor;

/* NULL with err saying why when the basics are unusable: BTF unreadable,
 * runqueues or __per_cpu_offset missing, no rq.nr_running, page tables not
 * understood.  err's text is meant for a monitor_unavailable reason. */
struct monitor *monitor_open(const struct monitor_config *cfg, struct strbuf *err);
void monitor_close(struct monitor *m);

/* The monitor_start record: fields and events this kernel has, depth, HZ
 * when already known. */
json_t *monitor_start_record(struct monitor *m, long long t_ms);
/* Take one sample: a new monitor record, or NULL when it had to be skipped
 * (counted in monitor_end's "skipped").  vcpu_run_ns, vcpu_wait_ns:
 * cumulative host CPU time and host runqueue wait per vCPU (cpus entries
 * each, vcpu_threads_read), both NULL when unknown. */
json_t *monitor_sample(struct monitor *m, long long t_ms, const unsigned long long *vcpu_run_ns,
		       const unsigned long long *vcpu_wait_ns);
/* The monitor_end record: samples, skipped, sample_us_mean/max; also hz
 * when known and last_skip_reason when something was skipped. */
json_t *monitor_end_record(struct monitor *m, long long t_ms);

/* Accessors, mostly for tests and diagnostics. */
int monitor_hz(const struct monitor *m);		/* 0 until known */
int monitor_paging_levels(const struct monitor *m);
int monitor_cpus(const struct monitor *m);
const char *monitor_last_skip_reason(const struct monitor *m);	/* "" when none */

#endif
