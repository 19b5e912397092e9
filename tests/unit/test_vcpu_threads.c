/* Unit tests for lib/vm/vcpu_threads.c on a fake /proc tree laid out as the
 * kernel lays out the real one: which QEMU threads are vCPUs, and how much
 * host time each got. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

#include "tmpdir.h"
#include "vcpu_threads.h"

/* A thread of fake process 100: its comm and schedstat. */
static void thread(const char *root, int tid, const char *comm, unsigned long long run_ns)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/100/task/%d", root, tid);
	assert_int_equal(mkdir(path, 0755) == 0 || errno == EEXIST, 1);
	snprintf(path, sizeof(path), "%s/100/task/%d/comm", root, tid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", comm);
	fclose(f);
	snprintf(path, sizeof(path), "%s/100/task/%d/schedstat", root, tid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%llu %llu 7\n", run_ns, run_ns / 10 + 5);
	fclose(f);
}

static int setup(void **state)
{
	static char dir[128];
	char path[256];

	if (tmpdir_create(dir, sizeof(dir), "vcpu"))
		return -1;
	snprintf(path, sizeof(path), "%s/100", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/100/task", dir);
	mkdir(path, 0755);
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_remove(*state);
}

static void per_cpu_threads(void **state)
{
	const char *root = *state;
	struct vcpu_threads vt;
	unsigned long long ns[3], wait[3];

	thread(root, 100, "qemu-system-x86", 1);
	thread(root, 101, "call_rcu", 2);
	thread(root, 103, "CPU 1/KVM", 2000);
	thread(root, 102, "CPU 0/KVM", 1000);
	thread(root, 104, "CPU 2/KVM", 3000);
	vcpu_threads_find(&vt, root, 100, 3);
	assert_int_equal(vt.kind, VCPU_THREADS_PER_CPU);
	assert_string_equal(vcpu_threads_kind_name(vt.kind), "per_cpu");
	assert_true(vcpu_threads_read(&vt, root, ns, wait));
	assert_int_equal(ns[0], 1000);
	assert_int_equal(ns[1], 2000);
	assert_int_equal(ns[2], 3000);
	assert_int_equal(wait[0], 105);
	assert_int_equal(wait[2], 305);
	vcpu_threads_release(&vt);
}

static void single_tcg_thread(void **state)
{
	const char *root = *state;
	struct vcpu_threads vt;
	unsigned long long ns[4], wait[4];

	thread(root, 100, "qemu-system-x86", 1);
	thread(root, 105, "ALL CPUs/TCG", 777);
	vcpu_threads_find(&vt, root, 100, 4);
	assert_int_equal(vt.kind, VCPU_THREADS_SINGLE);
	assert_true(vcpu_threads_read(&vt, root, ns, wait));
	assert_int_equal(ns[0], 777);
	assert_int_equal(ns[3], 777);
	assert_int_equal(wait[3], 82);
	vcpu_threads_release(&vt);
}

/* Fewer named threads than vCPUs (QEMU still starting, or no
 * debug-threads): no per-vCPU figures rather than wrong ones. */
static void missing_threads(void **state)
{
	const char *root = *state;
	struct vcpu_threads vt;
	unsigned long long ns[4], wait[4];

	thread(root, 100, "qemu-system-x86", 1);
	thread(root, 102, "CPU 0/KVM", 1000);
	thread(root, 103, "CPU 9/KVM", 1000);	/* beyond the guest */
	vcpu_threads_find(&vt, root, 100, 4);
	assert_int_equal(vt.kind, VCPU_THREADS_NONE);
	assert_false(vcpu_threads_read(&vt, root, ns, wait));
	vcpu_threads_release(&vt);
	vcpu_threads_find(&vt, root, 999, 4);	/* no such process */
	assert_int_equal(vt.kind, VCPU_THREADS_NONE);
	vcpu_threads_release(&vt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(per_cpu_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(single_tcg_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_threads, setup, teardown),
	};

	return cmocka_run_group_tests_name("vcpu_threads", tests, NULL, NULL);
}
