#include "qemu.h"
#include "agent_proto.h"
#include "diag.h"
#include "env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The host CPU advertises hardware virtualisation.  A /dev/kvm can exist
 * and even create VMs on a host without it (seen on sandboxed machines),
 * and QEMU then fails or hangs setting up the vCPUs. */
static bool cpu_has_virt(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *line, *save = NULL;
	bool found = false;

	if (strbuf_read_file(&sb, "/proc/cpuinfo") < 0) {
		strbuf_release(&sb);
		return false;
	}
	for (line = strtok_r(sb.buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	strbuf_release(&sb);
	return found;
}

/* The device the probe opens: /dev/kvm, or the path VM_ACCEL_DETECT_ENV
 * names in its place (the test hook for a device that is not usable). */
static const char *kvm_device(void)
{
	const char *v = env_get(VM_ACCEL_DETECT_ENV);

	return v && v[0] == '/' ? v : "/dev/kvm";
}

/* 0 when dev opens read-write, speaks the API QEMU speaks and creates a
 * VM; else -1 with why it does not. */
static int kvm_device_usable(const char *dev, char *why, size_t size)
{
	int fd, vm, api, err;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			snprintf(why, size, "there is no %s", dev);
		else
			snprintf(why, size, "%s cannot be opened read-write: %s", dev,
				 strerror(err));
		return -1;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	err = errno;
	if (api != KVM_API_VERSION) {
		if (api < 0)
			snprintf(why, size, "%s is not a KVM device (KVM_GET_API_VERSION: %s)",
				 dev, strerror(err));
		else
			snprintf(why, size, "%s speaks KVM API %d, not %d", dev, api,
				 KVM_API_VERSION);
		close(fd);
		return -1;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	err = errno;
	close(fd);
	if (vm < 0) {
		snprintf(why, size, "%s cannot create a VM (KVM_CREATE_VM: %s)", dev,
			 strerror(err));
		return -1;
	}
	close(vm);
	return 0;
}

static enum vm_accel kvm_probe(const char *dev, char *why, size_t size)
{
	if (kvm_device_usable(dev, why, size) < 0)
		return VM_ACCEL_TCG;
	if (!cpu_has_virt()) {
		snprintf(why, size, "%s works, but the CPU has neither vmx nor svm in "
			 "/proc/cpuinfo", dev);
		return VM_ACCEL_TCG;
	}
	snprintf(why, size, "%s works and the CPU has vmx or svm", dev);
	return VM_ACCEL_KVM;
}

/* One probe per device per process: ktstr-vm asks several times a run
 * (the vCPU budget, the QEMU command line, the note on stderr), and each
 * probe creates a VM. */
static enum vm_accel kvm_probe_cached(const char *dev, char *why, size_t size)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char probed_dev[PATH_MAX], probed_why[VM_ACCEL_REASON_MAX];
	static enum vm_accel probed;
	enum vm_accel a;

	pthread_mutex_lock(&lock);
	if (strcmp(probed_dev, dev)) {
		probed = kvm_probe(dev, probed_why, sizeof(probed_why));
		snprintf(probed_dev, sizeof(probed_dev), "%s", dev);
	}
	a = probed;
	snprintf(why, size, "%s", probed_why);
	pthread_mutex_unlock(&lock);
	return a;
}

enum vm_accel vm_accel_detect_why(char *why, size_t size)
{
	const char *forced = env_get(VM_ACCEL_DETECT_ENV);
	const char *dev = kvm_device();
	enum vm_accel a;

	/* The test hook: what auto then does with a KVM that does not work
	 * (the retry under TCG) can be exercised on a host without one. */
	if (forced && !vm_accel_parse(forced, &a) && (a == VM_ACCEL_KVM || a == VM_ACCEL_TCG)) {
		snprintf(why, size, "%s=%s", VM_ACCEL_DETECT_ENV, forced);
		return a;
	}
	return kvm_probe_cached(dev, why, size);
}

enum vm_accel vm_accel_detect(void)
{
	char why[VM_ACCEL_REASON_MAX];

	return vm_accel_detect_why(why, sizeof(why));
}

enum vm_accel vm_accel_resolve_why(enum vm_accel a, char *why, size_t size)
{
	if (a == VM_ACCEL_AUTO)
		return vm_accel_detect_why(why, size);
	snprintf(why, size, "asked for with --accel %s", vm_accel_name(a));
	return a;
}

enum vm_accel vm_accel_resolve(enum vm_accel a)
{
	return a == VM_ACCEL_AUTO ? vm_accel_detect() : a;
}

const char *vm_accel_name(enum vm_accel a)
{
	switch (a) {
	case VM_ACCEL_KVM: return "kvm";
	case VM_ACCEL_TCG: return "tcg";
	case VM_ACCEL_TCG_MT: return "tcg-mt";
	default: return "auto";
	}
}

bool vm_accel_thread_per_vcpu(enum vm_accel a)
{
	return a == VM_ACCEL_KVM || a == VM_ACCEL_TCG_MT;
}

const char *vm_accel_tcg_thread(enum vm_accel a)
{
	return a == VM_ACCEL_TCG ? "single" : a == VM_ACCEL_TCG_MT ? "multi" : NULL;
}

int vm_accel_parse(const char *s, enum vm_accel *out)
{
	if (!strcmp(s, "auto"))
		*out = VM_ACCEL_AUTO;
	else if (!strcmp(s, "kvm"))
		*out = VM_ACCEL_KVM;
	else if (!strcmp(s, "tcg"))
		*out = VM_ACCEL_TCG;
	else if (!strcmp(s, "tcg-mt"))
		*out = VM_ACCEL_TCG_MT;
	else
		return -1;
	return 0;
}

unsigned qemu_round_memory(const struct ktstr_topo *t, unsigned m)
{
	return (m + t->nodes - 1) / t->nodes * t->nodes;
}

unsigned qemu_default_memory_mib(const struct ktstr_topo *t)
{
	/* The kernel and initramfs need ~300 MiB; workers add per-CPU load.
	 * Capped so a huge topology does not ask the host for absurd RAM. */
	unsigned long m = 512 + 64ul * topo_cpus(t);

	return qemu_round_memory(t, m > 16384 ? 16384 : (unsigned)m);
}

/* Every word of it is in ktstr-vm(1)'s KERNEL COMMAND LINE, in this order
 * (tests/cli/vm-man.bats compares the page with --dry-run). */
void qemu_kernel_cmdline(struct strbuf *sb, const struct ktstr_topo *t, bool verbose,
			 unsigned long tsc_khz, const char *extra)
{
	/* panic=-1 reboots at once on panic and -no-reboot turns that into a
	 * QEMU exit, so a panicking guest never hangs until the watchdog. */
	strbuf_addstr(sb, "console=ttyS0 rdinit=/init panic=-1 nokaslr");
	/* Skip probing and checks a ktstr guest has no use for: PS/2 ports,
	 * serial ports past ttyS0, the crypto self-tests, audit, the TSC
	 * watchdog and the timer-IRQ check.  Under TCG together they cut
	 * about 0.8 s of host CPU per boot (measured; tests/bench/run).
	 * And no DAMON_STAT kdamond on the CPUs under test (qemu.h). */
	strbuf_addstr(sb, " " QEMU_FAST_BOOT_ARGS " " QEMU_QUIET_GUEST_ARGS);
	/* The TSC rate, so no slow PIT calibration can follow (hosttsc.h). */
	if (tsc_khz)
		strbuf_addf(sb, " tsc_early_khz=%lu", tsc_khz);
	if (verbose)
		strbuf_addstr(sb, " loglevel=7 earlyprintk=serial");
	else
		strbuf_addstr(sb, " quiet loglevel=4");
	strbuf_addstr(sb, " KTSTR_TOPO=");
	topo_format(t, sb);
	if (verbose)
		strbuf_addstr(sb, " KTSTR_VERBOSE=1");
	if (extra && *extra)
		strbuf_addf(sb, " %s", extra);
}

static void push_smp(const struct qemu_spec *s, struct strvec *argv)
{
	const struct ktstr_topo *t = &s->topo;

	/* One socket per NUMA node, one die per LLC: with the L3 cache bound
	 * to the die level, the guest sees exactly one LLC per die. */
	strvec_push(argv, "-smp");
	strvec_pushf(argv, "cpus=%u,sockets=%u,dies=%u,cores=%u,threads=%u",
		     topo_cpus(t), t->nodes, topo_llcs_per_node(t), t->cores, t->threads);
}

/* One anonymous RAM backend per NUMA node, named for QMP (qemu.h).  QEMU
 * asks for transparent huge pages on it, which a shared tmpfs file never
 * got: that made a TCG boot about half again as slow. */
static void push_backend(unsigned n, unsigned mib, struct strvec *argv)
{
	strvec_push(argv, "-object");
	strvec_pushf(argv, "memory-backend-ram,id=" QEMU_RAM_BACKEND_PREFIX "%u,size=%uM",
		     n, mib);
}

static void push_memory(const struct qemu_spec *s, struct strvec *argv)
{
	const struct ktstr_topo *t = &s->topo;
	unsigned per_node = topo_cpus(t) / t->nodes;
	unsigned mem = s->memory_mib / t->nodes;
	unsigned n;

	if (t->nodes < 2) {
		push_backend(0, s->memory_mib, argv);
		strvec_push(argv, "-machine");
		strvec_push(argv, "memory-backend=" QEMU_RAM_BACKEND_PREFIX "0");
		return;
	}
	for (n = 0; n < t->nodes; n++) {
		push_backend(n, mem, argv);
		strvec_push(argv, "-numa");
		strvec_pushf(argv, "node,nodeid=%u,cpus=%u-%u,memdev=" QEMU_RAM_BACKEND_PREFIX "%u", n,
			     n * per_node, (n + 1) * per_node - 1, n);
	}
}

/* The image a set QEMU_FIRMWARE_ENV value v names: QEMU_QBOOT_PATH for
 * "qboot", NULL (QEMU's default) for "seabios", in any case; else v, a
 * path. */
static const char *named_firmware(const char *v)
{
	if (!strcasecmp(v, "qboot"))
		return QEMU_QBOOT_PATH;
	return strcasecmp(v, "seabios") ? v : NULL;
}

/* NULL when path is an image QEMU can load for -bios, else why not (in
 * buf when it needs the numbers).  QEMU wants a regular file of whole
 * 64 KiB blocks: anything else, an empty file included, ends in its
 * "could not load PC BIOS" after everything else was set up. */
static const char *firmware_unusable(const char *path, char *buf, size_t size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (access(path, R_OK) < 0)
		return strerror(errno);
	if (st.st_size == 0)
		return "an empty file";
	if (st.st_size % QEMU_BIOS_BLOCK) {
		snprintf(buf, size, "%lld bytes, not a whole number of 64 KiB blocks as "
			 "QEMU needs for -bios", (long long)st.st_size);
		return buf;
	}
	return NULL;
}

const char *qemu_firmware(void)
{
	const char *v = env_get(QEMU_FIRMWARE_ENV);
	char buf[128];

	if (v)
		return named_firmware(v);
	return firmware_unusable(QEMU_QBOOT_PATH, buf, sizeof(buf)) ? NULL : QEMU_QBOOT_PATH;
}

int qemu_firmware_check(char *msg, size_t size)
{
	const char *v = env_get(QEMU_FIRMWARE_ENV);
	const char *path = v ? named_firmware(v) : NULL;
	const char *why;
	char buf[128];

	if (!path || !(why = firmware_unusable(path, buf, sizeof(buf))))
		return 0;
	if (path != v)
		snprintf(msg, size, "%s=%s: qboot cannot be used (%s: %s); "
			 "install qemu-system-data, unset it, or set it to seabios",
			 QEMU_FIRMWARE_ENV, v, path, why);
	else
		snprintf(msg, size, "%s=%s: %s; unset it for qboot when installed (else "
			 "QEMU's default), or set it to seabios or to a readable firmware image",
			 QEMU_FIRMWARE_ENV, v, why);
	return -1;
}

void qemu_build_argv(const struct qemu_spec *s, struct strvec *argv)
{
	strvec_push(argv, s->qemu);
	strvec_push(argv, "-name");
	/* Named vCPU threads ("CPU 0/KVM", "ALL CPUs/TCG"): the monitor reads
	 * how much host CPU time each vCPU got (lib/vm/vcpu_threads.h). */
	strvec_push(argv, "ktstr,debug-threads=on");
	strvec_push(argv, "-nodefaults");
	strvec_push(argv, "-no-user-config");
	strvec_push(argv, "-display");
	strvec_push(argv, "none");
	strvec_push(argv, "-no-reboot");
	strvec_push(argv, "-machine");
	strvec_push(argv, "q35,smp-cache.0.cache=l3,smp-cache.0.topology=die");
	if (s->firmware) {
		strvec_push(argv, "-bios");
		strvec_push(argv, s->firmware);
	}
	strvec_push(argv, "-accel");
	if (s->accel == VM_ACCEL_KVM) {
		strvec_push(argv, "kvm");
		strvec_push(argv, "-cpu");
		strvec_push(argv, "host,l3-cache=on");
	} else {
		/* Single-threaded TCG unless asked: multi-threaded TCG can
		 * oops the guest while static keys are patched (scheduler
		 * attach/detach), and on a small host one single-threaded VM
		 * per host CPU runs more cases per minute (ktstr-test(1)). */
		strvec_push(argv, s->accel == VM_ACCEL_TCG_MT ? "tcg,thread=multi"
							      : "tcg,thread=single");
		/* Intel flavour so the LLC follows the die; level 0xd hides
		 * CPUID leaf 0x1f, which makes QEMU 10.0 abort with dies.
		 * No ERMS/FSRM: with them the kernel copies and clears with
		 * "rep movsb"/"rep stosb", which TCG runs a byte per step;
		 * without, its unrolled 8-byte loops run as translated code.
		 * The initramfs unpacks in half the time and a boot takes
		 * ~250 ms less (issue 16); no scheduling behaviour changes. */
		strvec_push(argv, "-cpu");
		strvec_push(argv, TCG_CPU_MODEL);
	}
	push_smp(s, argv);
	strvec_push(argv, "-m");
	strvec_pushf(argv, "%u", s->memory_mib);
	push_memory(s, argv);
	strvec_push(argv, "-kernel");
	strvec_push(argv, s->kernel);
	strvec_push(argv, "-initrd");
	strvec_push(argv, s->initrd);
	strvec_push(argv, "-append");
	strvec_push(argv, s->cmdline);
	strvec_push(argv, "-chardev");
	strvec_pushf(argv, "socket,id=ktstr-con,fd=%d", s->console_fd);
	strvec_push(argv, "-serial");
	strvec_push(argv, "chardev:ktstr-con");
	/* Two ports (the shell's console at 0, the agent's at 1) rather than
	 * the default 31: the driver sets up two virtqueues per port, and
	 * with no MSI-X vectors it takes one legacy interrupt instead of
	 * allocating vectors (a first try with one per queue fails and is
	 * redone shared).  Under TCG the guest's probe of this device took
	 * ~19 ms at the defaults and ~10.5 ms so (initcall_debug, issue 16);
	 * the agent's traffic is a few records a second. */
	strvec_push(argv, "-device");
	strvec_push(argv, "virtio-serial-pci,id=ktstr-vser,max_ports=2,vectors=0");
	if (s->shell) {
		/* First console port: the guest's /dev/hvc0. */
		strvec_push(argv, "-chardev");
		strvec_push(argv, "stdio,id=ktstr-shell,signal=off");
		strvec_push(argv, "-device");
		strvec_push(argv, "virtconsole,bus=ktstr-vser.0,chardev=ktstr-shell,name="
			    KTSTR_SHELL_PORT_NAME);
	}
	strvec_push(argv, "-chardev");
	strvec_pushf(argv, "socket,id=ktstr-agent,fd=%d", s->agent_fd);
	strvec_push(argv, "-device");
	strvec_push(argv, "virtserialport,bus=ktstr-vser.0,chardev=ktstr-agent,name="
		    KTSTR_AGENT_PORT_NAME);
	if (s->qmp) {
		strvec_push(argv, "-chardev");
		strvec_pushf(argv, "socket,id=ktstr-qmp,fd=%d", s->qmp_fd);
		strvec_push(argv, "-mon");
		strvec_push(argv, "chardev=ktstr-qmp,mode=control");
	}
}
