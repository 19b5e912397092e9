/* Turning a ktstr VM description into a qemu-system-x86_64 command line.
 *
 * Kept separate from the runner so the exact flags can be unit-tested
 * without booting anything. */
#ifndef KTSTR_QEMU_H
#define KTSTR_QEMU_H

#include <stdbool.h>
#include "strbuf.h"
#include "strvec.h"
#include "topo.h"

/* TCG is single-threaded TCG (one host thread runs every vCPU in turn);
 * TCG_MT is multi-threaded TCG (one host thread per vCPU), only ever by
 * request: it has oopsed guests with `Oops: int3` in sched_tick while
 * static keys were patched (scheduler attach/detach; tests/soak/tcg-mt). */
enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG, VM_ACCEL_TCG_MT };
/* Room for why a run has its accelerator (vm_accel_resolve_why). */
#define VM_ACCEL_REASON_MAX 192

struct qemu_spec {
	const char *qemu;		/* binary */
	const char *kernel;		/* what -kernel boots: the bzImage or
					 * pvh_kernel */
	char *pvh_kernel;		/* owned: the PVH vmlinux booted in
					 * the bzImage's place (pvh.h), or NULL */
	const char *initrd;
	struct ktstr_topo topo;
	unsigned memory_mib;
	enum vm_accel accel;		/* resolved: KVM, TCG or TCG_MT */
	char accel_reason[VM_ACCEL_REASON_MAX];	/* why (vm_accel_resolve_why) */
	const char *cmdline;		/* full kernel command line */
	int console_fd;			/* host end QEMU inherits for ttyS0 */
	int agent_fd;			/* host end QEMU inherits for the agent port */
	bool shell;			/* wire a virtconsole to QEMU's stdio */
	bool qmp;			/* a QMP monitor on qmp_fd: the
					 * host-side monitor asks it where
					 * guest RAM is */
	int qmp_fd;			/* host end QEMU inherits for QMP */
	const char *firmware;		/* -bios image, or NULL: QEMU's own
					 * default (SeaBIOS) */
};

/* Guest RAM is one memory-backend-ram per NUMA node, named this with the
 * node number after it, so QMP's "info ramblock" can find each. */
#define QEMU_RAM_BACKEND_PREFIX "ktstr-mem"

/* KVM when /dev/kvm opens, speaks the API and creates a VM on a CPU with
 * vmx/svm; else TCG (single-threaded: auto never picks TCG_MT).
 * KTSTR_ACCEL_DETECT=kvm|tcg replaces the probe's answer, and an absolute
 * path is probed in /dev/kvm's place (test hooks for the retry of a KVM
 * that fails, and for a device that is not usable; see ktstr-vm(1)). */
#define VM_ACCEL_DETECT_ENV "KTSTR_ACCEL_DETECT"
enum vm_accel vm_accel_detect(void);
/* ... and why, in one phrase for people (vm_start's and qemu_argv's
 * accel_reason): the device's failure ("there is no /dev/kvm", ...), a
 * CPU without vmx or svm, the hook's value. */
enum vm_accel vm_accel_detect_why(char *why, size_t size);
/* The accelerator a run with a would get: AUTO probed, others as is. */
enum vm_accel vm_accel_resolve(enum vm_accel a);
/* ... and why: the probe's reason, or "asked for with --accel MODE". */
enum vm_accel vm_accel_resolve_why(enum vm_accel a, char *why, size_t size);
/* "auto", "kvm", "tcg", "tcg-mt": what --accel takes and vm_start says. */
const char *vm_accel_name(enum vm_accel a);
/* "auto", "kvm", "tcg", "tcg-mt"; -1 on anything else. */
int vm_accel_parse(const char *s, enum vm_accel *out);
/* What vm_accel_parse takes, for the error line of every --accel. */
#define VM_ACCEL_CHOICES "auto, kvm, tcg or tcg-mt"
/* True when QEMU runs each vCPU on its own host thread (KVM, TCG_MT), so a
 * VM keeps up to one host CPU per vCPU busy; false for TCG, whose one
 * thread keeps one host CPU busy whatever the vCPU count. */
bool vm_accel_thread_per_vcpu(enum vm_accel a);
/* The TCG threading of a: "single", "multi", or NULL (KVM, AUTO). */
const char *vm_accel_tcg_thread(enum vm_accel a);

/* Default guest memory: grows with the vCPU count, split evenly by node. */
unsigned qemu_default_memory_mib(const struct ktstr_topo *t);
/* Round m up so every NUMA node gets the same whole number of MiB. */
unsigned qemu_round_memory(const struct ktstr_topo *t, unsigned m);

/* Firmware.  qboot (QEMU's minimal firmware, in Debian's qemu-system-data)
 * starts the kernel without SeaBIOS's device probing: measured under TCG,
 * QEMU start to the guest's clock took ~230 ms against ~520 ms with
 * SeaBIOS (median of 6 pairs), the same ACPI tables (SRAT included) and
 * the same topology.  QEMU_FIRMWARE_ENV: empty or unset, qboot when it is
 * installed, else QEMU's default; "qboot", qboot; "seabios", QEMU's
 * default (keywords in any case); anything else, the path of an image for
 * -bios. */
#define QEMU_QBOOT_PATH "/usr/share/qemu/qboot.rom"
#define QEMU_FIRMWARE_ENV "KTSTR_QEMU_FIRMWARE"
/* The size of QEMU's -bios image is a whole number of these (QEMU 10's
 * x86 firmware loader; anything else is "could not load PC BIOS"). */
#define QEMU_BIOS_BLOCK 65536
/* The -bios image to use (NULL: QEMU's default).  Unset or empty
 * QEMU_FIRMWARE_ENV picks qboot only when it is a usable image. */
const char *qemu_firmware(void);
/* 0, or -1 with a message in msg when QEMU_FIRMWARE_ENV names a path that
 * is not a readable regular file of whole QEMU_BIOS_BLOCKs (an empty one
 * included), or qboot that is not installed as one. */
int qemu_firmware_check(char *msg, size_t size);

/* The -cpu of a TCG guest (qemu_build_argv says why each part; the
 * bench's raw-QEMU floor takes it from ktstr-vm --dry-run). */
#define TCG_CPU_MODEL "max,vendor=GenuineIntel,level=0xd,-erms,-fsrm"

/* Kernel parameters every ktstr guest boots with to skip probing
 * (qemu_kernel_cmdline; the bench's raw-QEMU floor boots with them too). */
#define QEMU_FAST_BOOT_ARGS "i8042.noaux i8042.nokbd i8042.nopnp 8250.nr_uarts=1 " \
	"cryptomgr.notests audit=0 tsc=reliable no_timer_check"
/* ... and to keep kernel housekeeping off the CPUs under test: DAMON_STAT
 * (on by default in Debian's kernels since 6.17) wakes a kdamond every
 * 5-10 ms to sample all of memory, about 1.4% of a vCPU in an idle 4-vCPU
 * guest, landing on whichever CPU a scheduler test is measuring. */
#define QEMU_QUIET_GUEST_ARGS "damon_stat.enabled=0"

/* Kernel command line for a ktstr guest plus the user's extra text;
 * tsc_khz: tsc_early_khz= for a TCG guest (hosttsc.h), 0 for none. */
void qemu_kernel_cmdline(struct strbuf *sb, const struct ktstr_topo *t, bool verbose,
			 unsigned long tsc_khz, const char *extra);

void qemu_build_argv(const struct qemu_spec *s, struct strvec *argv);

#endif
