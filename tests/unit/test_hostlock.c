/* Unit tests for lib/host/hostlock.c: CPU reservations are exclusive between
 * holders, released on release, bypassable, and LLC-aware (on a fake
 * LLC map of 8 CPUs in LLCs {0-3} {4-5} {6-7}). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "hostlock.h"

static char dir[] = "/tmp/ktstr-test-hostlock.XXXXXX";

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	setenv("KTSTR_LOCK_DIR", dir, 1);
	unsetenv("KTSTR_BYPASS_LLC_LOCKS");
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

static void test_exclusive(void **state)
{
	unsigned cpus = hostlock_usable_cpus();
	struct hostlock a, b, c;
	struct strbuf err = STRBUF_INIT;

	assert_true(cpus >= 1);
	/* Every CPU taken by a: b cannot get even one. */
	assert_int_equal(hostlock_try(&a, cpus, false, &err), 1);
	assert_int_equal(a.n, cpus);
	assert_int_equal(CPU_COUNT(&a.set), (int)cpus);
	assert_int_equal(hostlock_try(&b, 1, false, &err), 0);
	assert_int_equal(b.n, 0);
	/* More than the host has is never granted. */
	hostlock_release(&a);
	assert_int_equal(hostlock_try(&c, cpus + 1, false, &err), 0);
	/* Released: available again, and distinct CPUs for two holders. */
	assert_int_equal(hostlock_try(&a, 1, false, &err), 1);
	if (cpus >= 2) {
		assert_int_equal(hostlock_try(&b, 1, false, &err), 1);
		assert_int_not_equal(a.cpus[0], b.cpus[0]);
		hostlock_release(&b);
	}
	hostlock_release(&a);
	strbuf_release(&err);
}

static void test_bypass(void **state)
{
	unsigned cpus = hostlock_usable_cpus();
	struct hostlock a, b;
	struct strbuf err = STRBUF_INIT;

	setenv("KTSTR_BYPASS_LLC_LOCKS", "1", 1);
	assert_true(hostlock_bypassed());
	assert_int_equal(hostlock_try(&a, cpus, false, &err), 1);
	assert_int_equal(hostlock_try(&b, cpus, false, &err), 1);
	assert_int_equal(CPU_COUNT(&b.set), (int)cpus);
	hostlock_release(&a);
	hostlock_release(&b);
	/* Empty means unset. */
	setenv("KTSTR_BYPASS_LLC_LOCKS", "", 1);
	assert_false(hostlock_bypassed());
	unsetenv("KTSTR_BYPASS_LLC_LOCKS");
	strbuf_release(&err);
}

static void test_bad_dir(void **state)
{
	struct hostlock a;
	struct strbuf err = STRBUF_INIT;
	char *file = path_join(dir, "plainfile");

	assert_int_equal(write_file_atomic(file, "x", 1, 0644), 0);
	setenv("KTSTR_LOCK_DIR", file, 1);
	assert_int_equal(hostlock_try(&a, 1, false, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_LOCK_DIR"));
	setenv("KTSTR_LOCK_DIR", dir, 1);
	free(file);
	strbuf_release(&err);
}

/* KTSTR_LOCK_DIR is made only in a directory that exists: a path whose
 * parent is missing is an error naming the variable, and nothing is
 * created. */
static void test_dir_check(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char *missing = path_join(dir, "nope"), *file = path_join(dir, "plainfile2");
	char *locks = path_join(dir, "ktstr-locks"), *deep = path_join(missing, "locks");

	setenv("KTSTR_LOCK_DIR", deep, 1);
	assert_int_equal(hostlock_dir_check(&err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_LOCK_DIR="));
	assert_non_null(strstr(err.buf, ": its parent directory does not exist; "));
	assert_false(path_exists(missing));
	strbuf_reset(&err);
	/* one level is made, as the test suites' own lock dirs are */
	setenv("KTSTR_LOCK_DIR", missing, 1);
	assert_int_equal(hostlock_dir_check(&err), 0);
	assert_true(is_directory(missing));
	strbuf_reset(&err);
	assert_int_equal(write_file_atomic(file, "x", 1, 0644), 0);
	setenv("KTSTR_LOCK_DIR", file, 1);
	assert_int_equal(hostlock_dir_check(&err), -1);
	assert_non_null(strstr(err.buf, ": not a directory; "));
	/* bypassed: no locks, nothing to check */
	setenv("KTSTR_BYPASS_LLC_LOCKS", "1", 1);
	assert_int_equal(hostlock_dir_check(&err), 0);
	unsetenv("KTSTR_BYPASS_LLC_LOCKS");
	rm_rf(locks);
	setenv("KTSTR_LOCK_DIR", dir, 1);
	assert_int_equal(hostlock_dir_check(&err), 0);
	assert_true(is_directory(locks));
	free(missing);
	free(deep);
	free(file);
	free(locks);
	strbuf_release(&err);
}

/* Eight CPUs in three LLCs, {0-3}, {4,5} and {6,7}, as hostllc_map reads
 * them (test_hostllc.c reads this layout from a fake sysfs). */
static void fake_host(int llc_of[CPU_SETSIZE], cpu_set_t *usable)
{
	int cpu;

	CPU_ZERO(usable);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		llc_of[cpu] = -1;
	for (cpu = 0; cpu < 8; cpu++) {
		llc_of[cpu] = cpu < 4 ? 0 : cpu < 6 ? 4 : 6;
		CPU_SET(cpu, usable);
	}
}

static void test_llc_fit(void **state)
{
	int llc_of[CPU_SETSIZE];
	cpu_set_t usable;
	struct hostlock a, b, c, d;
	struct strbuf err = STRBUF_INIT;

	fake_host(llc_of, &usable);
	/* Two CPUs fit the 2-CPU LLC {4,5} best: the big LLC stays whole. */
	assert_int_equal(hostlock_try_on(&a, 2, false, &usable, llc_of, &err), 1);
	assert_true(CPU_ISSET(4, &a.set) && CPU_ISSET(5, &a.set));
	/* Four fit only {0-3}. */
	assert_int_equal(hostlock_try_on(&b, 4, false, &usable, llc_of, &err), 1);
	assert_int_equal(CPU_COUNT(&b.set), 4);
	assert_true(CPU_ISSET(0, &b.set) && CPU_ISSET(3, &b.set));
	/* A performance-mode run wants a whole LLC: {6,7} is the one left. */
	assert_int_equal(hostlock_try_on(&c, 1, true, &usable, llc_of, &err), 1);
	assert_int_equal(CPU_COUNT(&c.set), 2);
	assert_true(CPU_ISSET(6, &c.set) && CPU_ISSET(7, &c.set));
	/* Nothing left, for anyone. */
	assert_int_equal(hostlock_try_on(&d, 1, false, &usable, llc_of, &err), 0);
	hostlock_release(&b);
	/* {0-3} is free again, but partly used runs keep a whole-LLC run out
	 * of an LLC they share. */
	assert_int_equal(hostlock_try_on(&b, 1, false, &usable, llc_of, &err), 1);
	assert_int_equal(hostlock_try_on(&d, 1, true, &usable, llc_of, &err), 0);
	hostlock_release(&b);
	assert_int_equal(hostlock_try_on(&d, 1, true, &usable, llc_of, &err), 1);
	assert_int_equal(CPU_COUNT(&d.set), 4);
	/* ... and a whole-LLC holder keeps ordinary runs out of its LLC. */
	hostlock_release(&a);
	assert_int_equal(hostlock_try_on(&b, 3, false, &usable, llc_of, &err), 0);
	assert_int_equal(hostlock_try_on(&b, 2, false, &usable, llc_of, &err), 1);
	assert_true(CPU_ISSET(4, &b.set) && CPU_ISSET(5, &b.set));
	hostlock_release(&b);
	hostlock_release(&c);
	hostlock_release(&d);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_bypass),
		cmocka_unit_test(test_bad_dir),
		cmocka_unit_test(test_dir_check),
		cmocka_unit_test(test_llc_fit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
