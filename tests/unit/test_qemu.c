/* Unit tests for lib/vm/qemu.c: the exact QEMU flags each topology gets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu.h"
#include "vm.h"

static struct ktstr_topo topo(const char *s)
{
	struct ktstr_topo t;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(topo_parse(s, &t, &err), 0);
	strbuf_release(&err);
	return t;
}

/* Value following flag number n (0-based) in argv, or NULL. */
static const char *flag(const struct strvec *argv, const char *name, unsigned n)
{
	size_t i;

	for (i = 0; i + 1 < argv->n; i++)
		if (!strcmp(argv->v[i], name) && n-- == 0)
			return argv->v[i + 1];
	return NULL;
}

static void build(const char *t, enum vm_accel accel, bool shell, struct strvec *argv)
{
	struct qemu_spec s = {
		.qemu = "qemu-system-x86_64", .kernel = "K", .initrd = "I",
		.topo = topo(t), .accel = accel, .cmdline = "C",
		.console_fd = 5, .agent_fd = 6, .shell = shell,
	};

	s.memory_mib = qemu_default_memory_mib(&s.topo);
	qemu_build_argv(&s, argv);
}

static void test_smp_layout(void **state)
{
	struct strvec a = STRVEC_INIT;

	build("1,2,4,1", VM_ACCEL_TCG, false, &a);
	assert_string_equal(flag(&a, "-smp", 0), "cpus=8,sockets=1,dies=2,cores=4,threads=1");
	assert_string_equal(flag(&a, "-machine", 0),
			    "q35,smp-cache.0.cache=l3,smp-cache.0.topology=die");
	assert_null(flag(&a, "-numa", 0));
	/* One node still gets a named backend, for QMP's "info ramblock". */
	assert_string_equal(flag(&a, "-object", 0), "memory-backend-ram,id=ktstr-mem0,size=1024M");
	assert_string_equal(flag(&a, "-machine", 1), "memory-backend=ktstr-mem0");
	strvec_clear(&a);

	build("1n1l2c2t", VM_ACCEL_TCG, false, &a);
	assert_string_equal(flag(&a, "-smp", 0), "cpus=4,sockets=1,dies=1,cores=2,threads=2");
	strvec_clear(&a);
}

static void test_numa_nodes(void **state)
{
	struct strvec a = STRVEC_INIT;

	build("2,4,2,1", VM_ACCEL_TCG, false, &a);
	assert_string_equal(flag(&a, "-smp", 0), "cpus=8,sockets=2,dies=2,cores=2,threads=1");
	/* 512 + 64 * 8 = 1024 MiB, split evenly over the two nodes. */
	assert_string_equal(flag(&a, "-m", 0), "1024");
	assert_string_equal(flag(&a, "-object", 0), "memory-backend-ram,id=ktstr-mem0,size=512M");
	assert_string_equal(flag(&a, "-object", 1), "memory-backend-ram,id=ktstr-mem1,size=512M");
	assert_string_equal(flag(&a, "-numa", 0), "node,nodeid=0,cpus=0-3,memdev=ktstr-mem0");
	assert_string_equal(flag(&a, "-numa", 1), "node,nodeid=1,cpus=4-7,memdev=ktstr-mem1");
	assert_null(flag(&a, "-numa", 2));
	strvec_clear(&a);
}

static void test_accel(void **state)
{
	struct strvec a = STRVEC_INIT;

	build("1,1,2,1", VM_ACCEL_TCG, false, &a);
	assert_string_equal(flag(&a, "-accel", 0), "tcg,thread=single");
	assert_string_equal(flag(&a, "-cpu", 0), "max,vendor=GenuineIntel,level=0xd,-erms,-fsrm");
	strvec_clear(&a);
	build("1,1,2,1", VM_ACCEL_KVM, false, &a);
	assert_string_equal(flag(&a, "-accel", 0), "kvm");
	assert_string_equal(flag(&a, "-cpu", 0), "host,l3-cache=on");
	strvec_clear(&a);
	/* tcg-mt: the same emulated CPU, one host thread per vCPU. */
	build("1,2,2,1", VM_ACCEL_TCG_MT, false, &a);
	assert_string_equal(flag(&a, "-accel", 0), "tcg,thread=multi");
	assert_null(flag(&a, "-accel", 1));
	assert_string_equal(flag(&a, "-cpu", 0), "max,vendor=GenuineIntel,level=0xd,-erms,-fsrm");
	assert_string_equal(flag(&a, "-smp", 0), "cpus=4,sockets=1,dies=2,cores=2,threads=1");
	strvec_clear(&a);
}

static void test_channels(void **state)
{
	struct strvec a = STRVEC_INIT;

	build("1,1,2,1", VM_ACCEL_TCG, false, &a);
	assert_string_equal(flag(&a, "-chardev", 0), "socket,id=ktstr-con,fd=5");
	assert_string_equal(flag(&a, "-chardev", 1), "socket,id=ktstr-agent,fd=6");
	assert_null(flag(&a, "-chardev", 2));
	assert_string_equal(flag(&a, "-device", 1),
			    "virtserialport,bus=ktstr-vser.0,chardev=ktstr-agent,name=org.ktstr.agent");
	strvec_clear(&a);

	/* The shell console must be the first console port (hvc0). */
	build("1,1,2,1", VM_ACCEL_TCG, true, &a);
	assert_string_equal(flag(&a, "-chardev", 1), "stdio,id=ktstr-shell,signal=off");
	assert_string_equal(flag(&a, "-device", 1),
			    "virtconsole,bus=ktstr-vser.0,chardev=ktstr-shell,name=org.ktstr.shell");
	strvec_clear(&a);

	/* The monitor's QMP channel, only when asked for. */
	{
		struct qemu_spec s = {
			.qemu = "qemu-system-x86_64", .kernel = "K", .initrd = "I",
			.topo = topo("1,1,2,1"), .accel = VM_ACCEL_TCG, .cmdline = "C",
			.console_fd = 5, .agent_fd = 6, .qmp = true, .qmp_fd = 7,
			.memory_mib = 256,
		};

		qemu_build_argv(&s, &a);
		assert_string_equal(flag(&a, "-chardev", 2), "socket,id=ktstr-qmp,fd=7");
		assert_string_equal(flag(&a, "-mon", 0), "chardev=ktstr-qmp,mode=control");
		strvec_clear(&a);
	}
}

static void test_memory(void **state)
{
	struct ktstr_topo t = topo("3,3,1,1");

	assert_int_equal(qemu_default_memory_mib(&t), 705);	/* 704 rounded to 3 nodes */
	assert_int_equal(qemu_round_memory(&t, 1000), 1002);
	t = topo("1,64,64,2");
	assert_int_equal(qemu_default_memory_mib(&t), 16384);	/* capped */
}

static void test_cmdline(void **state)
{
	struct ktstr_topo t = topo("1,2,2,1");
	struct strbuf sb = STRBUF_INIT;

	qemu_kernel_cmdline(&sb, &t, false, 0, "foo=bar");
	assert_non_null(strstr(sb.buf, "console=ttyS0 rdinit=/init panic=-1"));
	assert_null(strstr(sb.buf, "tsc_early_khz"));
	assert_non_null(strstr(sb.buf, " quiet "));
	assert_non_null(strstr(sb.buf, "KTSTR_TOPO=1,2,2,1"));
	assert_string_equal(sb.buf + sb.len - 8, " foo=bar");
	strbuf_reset(&sb);
	qemu_kernel_cmdline(&sb, &t, true, 2596100, NULL);
	assert_non_null(strstr(sb.buf, " damon_stat.enabled=0 tsc_early_khz=2596100 loglevel=7 "));
	assert_null(strstr(sb.buf, "quiet"));
	assert_non_null(strstr(sb.buf, "loglevel=7 earlyprintk=serial"));
	assert_non_null(strstr(sb.buf, "KTSTR_VERBOSE=1"));
	strbuf_release(&sb);
}

static void test_accel_parse(void **state)
{
	enum vm_accel a;

	assert_int_equal(vm_accel_parse("kvm", &a), 0);
	assert_int_equal(a, VM_ACCEL_KVM);
	assert_int_equal(vm_accel_parse("tcg", &a), 0);
	assert_int_equal(a, VM_ACCEL_TCG);
	assert_int_equal(vm_accel_parse("auto", &a), 0);
	assert_int_equal(vm_accel_parse("tcg-mt", &a), 0);
	assert_int_equal(a, VM_ACCEL_TCG_MT);
	assert_string_equal(vm_accel_name(VM_ACCEL_TCG_MT), "tcg-mt");
	assert_string_equal(vm_accel_name(VM_ACCEL_KVM), "kvm");
	/* Exact words only: no other spellings of the threading. */
	assert_int_equal(vm_accel_parse("tcg,thread=multi", &a), -1);
	assert_int_equal(vm_accel_parse("tcg-MT", &a), -1);
	assert_int_equal(vm_accel_parse("tcg-", &a), -1);
	assert_int_equal(vm_accel_parse("", &a), -1);
	assert_int_equal(vm_accel_parse("xen", &a), -1);
	/* Which threading each runs, for vm_start and the host reservation. */
	assert_string_equal(vm_accel_tcg_thread(VM_ACCEL_TCG), "single");
	assert_string_equal(vm_accel_tcg_thread(VM_ACCEL_TCG_MT), "multi");
	assert_null(vm_accel_tcg_thread(VM_ACCEL_KVM));
	assert_null(vm_accel_tcg_thread(VM_ACCEL_AUTO));
	assert_false(vm_accel_thread_per_vcpu(VM_ACCEL_TCG));
	assert_true(vm_accel_thread_per_vcpu(VM_ACCEL_TCG_MT));
	assert_true(vm_accel_thread_per_vcpu(VM_ACCEL_KVM));
	/* Requested, never probed: resolve keeps it, auto never picks it. */
	assert_int_equal(vm_accel_resolve(VM_ACCEL_TCG_MT), VM_ACCEL_TCG_MT);
	assert_string_equal(vm_accel_name(VM_ACCEL_TCG), "tcg");
	/* A mode given stays; auto is the probe's answer (its test hook). */
	assert_int_equal(vm_accel_resolve(VM_ACCEL_KVM), VM_ACCEL_KVM);
	assert_int_equal(vm_accel_resolve(VM_ACCEL_TCG), VM_ACCEL_TCG);
	setenv(VM_ACCEL_DETECT_ENV, "tcg", 1);
	assert_int_equal(vm_accel_resolve(VM_ACCEL_AUTO), VM_ACCEL_TCG);
	setenv(VM_ACCEL_DETECT_ENV, "kvm", 1);
	assert_int_equal(vm_accel_resolve(VM_ACCEL_AUTO), VM_ACCEL_KVM);
	unsetenv(VM_ACCEL_DETECT_ENV);
}

/* The boot deadline grows with the vCPUs, and TCG gets far more than KVM. */
static void test_boot_timeout(void **state)
{
	(void)state;
	assert_int_equal(vm_boot_timeout_ms(VM_ACCEL_TCG, 4), 42000);
	assert_int_equal(vm_boot_timeout_ms(VM_ACCEL_KVM, 4), 17000);
	assert_int_equal(vm_boot_timeout_ms(VM_ACCEL_TCG, 16), 78000);
	assert_int_equal(vm_boot_timeout_ms(VM_ACCEL_TCG_MT, 4), 42000);
	assert_true(vm_boot_timeout_ms(VM_ACCEL_TCG, 1) > vm_boot_timeout_ms(VM_ACCEL_KVM, 1));
}

/* KTSTR_ACCEL_DETECT replaces the probe's answer; anything else is
 * ignored and the probe runs. */
static void test_accel_detect_override(void **state)
{
	enum vm_accel probed;

	(void)state;
	unsetenv(VM_ACCEL_DETECT_ENV);
	probed = vm_accel_detect();
	assert_true(probed == VM_ACCEL_KVM || probed == VM_ACCEL_TCG);
	setenv(VM_ACCEL_DETECT_ENV, "kvm", 1);
	assert_int_equal(vm_accel_detect(), VM_ACCEL_KVM);
	setenv(VM_ACCEL_DETECT_ENV, "tcg", 1);
	assert_int_equal(vm_accel_detect(), VM_ACCEL_TCG);
	setenv(VM_ACCEL_DETECT_ENV, "auto", 1);
	assert_int_equal(vm_accel_detect(), probed);
	/* The probe answers KVM or TCG; tcg-mt is only for --accel. */
	setenv(VM_ACCEL_DETECT_ENV, "tcg-mt", 1);
	assert_int_equal(vm_accel_detect(), probed);
	setenv(VM_ACCEL_DETECT_ENV, "", 1);
	assert_int_equal(vm_accel_detect(), probed);
	unsetenv(VM_ACCEL_DETECT_ENV);
}

/* Why the accelerator: what the probe found, the hook's value, or the
 * --accel asked for.  An absolute path in KTSTR_ACCEL_DETECT is probed in
 * /dev/kvm's place, so an unusable device is tested on any host. */
static void test_accel_reason(void **state)
{
	char why[VM_ACCEL_REASON_MAX], file[] = "/tmp/ktstr-test-kvm.XXXXXX";
	enum vm_accel probed;
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unsetenv(VM_ACCEL_DETECT_ENV);
	probed = vm_accel_detect_why(why, sizeof(why));
	assert_int_equal(probed, vm_accel_detect());
	if (access("/dev/kvm", F_OK))
		assert_string_equal(why, "there is no /dev/kvm");
	else if (probed == VM_ACCEL_KVM)
		assert_string_equal(why, "/dev/kvm works and the CPU has vmx or svm");
	else
		assert_non_null(strstr(why, "/dev/kvm"));
	/* Asked for: no probe. */
	assert_int_equal(vm_accel_resolve_why(VM_ACCEL_TCG, why, sizeof(why)), VM_ACCEL_TCG);
	assert_string_equal(why, "asked for with --accel tcg");
	assert_int_equal(vm_accel_resolve_why(VM_ACCEL_KVM, why, sizeof(why)), VM_ACCEL_KVM);
	assert_string_equal(why, "asked for with --accel kvm");
	/* The hook's answer. */
	setenv(VM_ACCEL_DETECT_ENV, "kvm", 1);
	assert_int_equal(vm_accel_resolve_why(VM_ACCEL_AUTO, why, sizeof(why)), VM_ACCEL_KVM);
	assert_string_equal(why, "KTSTR_ACCEL_DETECT=kvm");
	/* Absent, not a KVM device (a character device, a regular file), not
	 * openable read-write. */
	setenv(VM_ACCEL_DETECT_ENV, "/nonexistent/kvm", 1);
	assert_int_equal(vm_accel_resolve_why(VM_ACCEL_AUTO, why, sizeof(why)), VM_ACCEL_TCG);
	assert_string_equal(why, "there is no /nonexistent/kvm");
	assert_int_equal(vm_accel_detect(), VM_ACCEL_TCG);
	setenv(VM_ACCEL_DETECT_ENV, "/dev/null", 1);
	assert_int_equal(vm_accel_detect_why(why, sizeof(why)), VM_ACCEL_TCG);
	assert_non_null(strstr(why, "/dev/null is not a KVM device (KVM_GET_API_VERSION: "));
	setenv(VM_ACCEL_DETECT_ENV, file, 1);
	assert_int_equal(vm_accel_detect_why(why, sizeof(why)), VM_ACCEL_TCG);
	assert_non_null(strstr(why, " is not a KVM device (KVM_GET_API_VERSION: "));
	setenv(VM_ACCEL_DETECT_ENV, "/", 1);
	assert_int_equal(vm_accel_detect_why(why, sizeof(why)), VM_ACCEL_TCG);
	assert_string_equal(why, "/ cannot be opened read-write: Is a directory");
	/* A small buffer is cut, not overrun. */
	setenv(VM_ACCEL_DETECT_ENV, "/nonexistent/kvm", 1);
	assert_int_equal(vm_accel_detect_why(why, 9), VM_ACCEL_TCG);
	assert_string_equal(why, "there is");
	unsetenv(VM_ACCEL_DETECT_ENV);
	unlink(file);
}

static void test_firmware(void **state)
{
	struct qemu_spec s = {
		.qemu = "qemu-system-x86_64", .kernel = "K", .initrd = "I",
		.topo = topo("1,1,2,1"), .accel = VM_ACCEL_TCG, .cmdline = "C",
		.console_fd = 5, .agent_fd = 6,
	};
	struct strvec argv = STRVEC_INIT;
	char msg[512] = "", fw[] = "/tmp/ktstr-test-fw.XXXXXX";
	bool have_qboot = access(QEMU_QBOOT_PATH, R_OK) == 0;
	int fd = mkstemp(fw);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * QEMU_BIOS_BLOCK), 0);
	close(fd);
	/* Unset or empty: qboot when installed, else QEMU's default. */
	unsetenv(QEMU_FIRMWARE_ENV);
	assert_true(have_qboot ? qemu_firmware() && !strcmp(qemu_firmware(), QEMU_QBOOT_PATH)
			       : qemu_firmware() == NULL);
	setenv(QEMU_FIRMWARE_ENV, "", 1);
	assert_true(have_qboot == (qemu_firmware() != NULL));
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), 0);
	setenv(QEMU_FIRMWARE_ENV, "seabios", 1);
	assert_null(qemu_firmware());
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), 0);
	/* The keywords in any case. */
	setenv(QEMU_FIRMWARE_ENV, "SeaBIOS", 1);
	assert_null(qemu_firmware());
	setenv(QEMU_FIRMWARE_ENV, "QBoot", 1);
	assert_string_equal(qemu_firmware(), QEMU_QBOOT_PATH);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), have_qboot ? 0 : -1);
	/* A path is used as given; one that is not a readable regular file
	 * of whole 64 KiB blocks is refused, named. */
	setenv(QEMU_FIRMWARE_ENV, fw, 1);
	assert_string_equal(qemu_firmware(), fw);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), 0);
	/* Empty (what QEMU fails on with "could not load PC BIOS"), or a
	 * size QEMU does not take; /proc's files stat as empty too. */
	assert_int_equal(truncate(fw, 0), 0);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, ": an empty file; "));
	assert_int_equal(truncate(fw, QEMU_BIOS_BLOCK + 4096), 0);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, ": 69632 bytes, not a whole number of 64 KiB blocks"));
	setenv(QEMU_FIRMWARE_ENV, "/proc/self/cmdline", 1);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "KTSTR_QEMU_FIRMWARE=/proc/self/cmdline: an empty file; "));
	unlink(fw);
	setenv(QEMU_FIRMWARE_ENV, "/nonexistent/fw.rom", 1);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "KTSTR_QEMU_FIRMWARE=/nonexistent/fw.rom: No such file"));
	setenv(QEMU_FIRMWARE_ENV, "/proc", 1);
	assert_int_equal(qemu_firmware_check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "KTSTR_QEMU_FIRMWARE=/proc: not a regular file"));
	unsetenv(QEMU_FIRMWARE_ENV);
	/* -bios only when there is a firmware to give. */
	s.memory_mib = qemu_default_memory_mib(&s.topo);
	qemu_build_argv(&s, &argv);
	assert_null(flag(&argv, "-bios", 0));
	strvec_clear(&argv);
	s.firmware = "/fw/qboot.rom";
	qemu_build_argv(&s, &argv);
	assert_string_equal(flag(&argv, "-bios", 0), "/fw/qboot.rom");
	strvec_clear(&argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smp_layout),
		cmocka_unit_test(test_numa_nodes),
		cmocka_unit_test(test_accel),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_accel_parse),
		cmocka_unit_test(test_boot_timeout),
		cmocka_unit_test(test_accel_detect_override),
		cmocka_unit_test(test_accel_reason),
		cmocka_unit_test(test_firmware),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
