/* Unit tests for lib/hostlock.c: CPU reservations are exclusive between
 * holders, released on release, and bypassable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
	assert_int_equal(hostlock_try(&a, cpus, &err), 1);
	assert_int_equal(a.n, cpus);
	assert_int_equal(CPU_COUNT(&a.set), (int)cpus);
	assert_int_equal(hostlock_try(&b, 1, &err), 0);
	assert_int_equal(b.n, 0);
	/* More than the host has is never granted. */
	hostlock_release(&a);
	assert_int_equal(hostlock_try(&c, cpus + 1, &err), 0);
	/* Released: available again, and distinct CPUs for two holders. */
	assert_int_equal(hostlock_try(&a, 1, &err), 1);
	if (cpus >= 2) {
		assert_int_equal(hostlock_try(&b, 1, &err), 1);
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
	assert_int_equal(hostlock_try(&a, cpus, &err), 1);
	assert_int_equal(hostlock_try(&b, cpus, &err), 1);
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
	assert_int_equal(hostlock_try(&a, 1, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_LOCK_DIR"));
	setenv("KTSTR_LOCK_DIR", dir, 1);
	free(file);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_bypass),
		cmocka_unit_test(test_bad_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
