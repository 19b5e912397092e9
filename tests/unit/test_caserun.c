/* Unit tests for lib/runner/caserun.c's rule of what is an infrastructure error
 * (retried, reported as ERROR) and what is the scheduler's failure, over
 * the records ktstr-vm really writes for each (see tests/runner.bats for
 * the same on real VMs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caserun.h"

static const char START[] =
	"{\"type\":\"vm_start\",\"kernel\":\"/k\",\"topology\":\"1n1l1c1t\","
	"\"console_log\":\"/c.log\"}\n";
static const char READY[] = "{\"type\":\"agent_ready\",\"kernel_release\":\"7.3\"}\n";
static const char SCEN[] =
	"{\"type\":\"scenario_start\",\"name\":\"steady\",\"duration_ms\":1000,"
	"\"scheduler\":\"scx_x\",\"cpus\":1}\n";
static const char DIED[] =
	"{\"type\":\"scheduler\",\"event\":\"died\",\"name\":\"scx_x\","
	"\"reason\":\"runnable task stall\",\"output\":[\"a\",\"b\"],"
	"\"output_log\":\"/s.log\"}\n";

/* Judge records as caserun_finish does and classify; the reason or NULL
 * (caller frees). */
static char *classify(const char *records, int exit_code, bool interrupted)
{
	struct caserun r;
	struct ktest t;
	const char *p = records;
	char *why;

	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	verdict_init(&r.v);
	while (*p) {
		const char *nl = strchr(p, '\n');
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(verdict_feed_line(&r.v, p, (size_t)(nl - p), 1, &err), 0);
		strbuf_release(&err);
		p = nl + 1;
	}
	verdict_finish(&r.v, NULL);
	r.exit_code = exit_code;
	r.interrupted = interrupted;
	why = caserun_infra_reason(&r);
	verdict_release(&r.v);
	return why;
}

static void expect(const char *records, int exit_code, bool interrupted, const char *want)
{
	char *why = classify(records, exit_code, interrupted);

	if (!want) {
		if (why)
			fail_msg("expected no infrastructure error, got: %s", why);
	} else {
		assert_non_null(why);
		if (!strstr(why, want))
			fail_msg("expected '%s' in: %s", want, why);
	}
	free(why);
}

static char *cat(const char *a, const char *b, const char *c)
{
	char *s = malloc(strlen(a) + strlen(b) + strlen(c) + 1);

	strcpy(s, a);
	strcat(s, b);
	strcat(s, c);
	return s;
}

static void test_before_the_agent(void **state)
{
	char *s;

	(void)state;
	/* A kernel image that does not boot: what ktstr-vm prints for it. */
	s = cat(START, "{\"type\":\"vm_exit\",\"reason\":\"no_agent\",\"exit_code\":-1,"
		"\"message\":\"the VM stopped before the guest agent started\","
		"\"console_log\":null}\n", "");
	expect(s, 1, false, "no_agent: the VM stopped before the guest agent started");
	free(s);
	/* Too slow to boot, by either name of the reason. */
	s = cat(START, "{\"type\":\"vm_exit\",\"reason\":\"timeout\",\"message\":\"killed "
		"before the guest agent started\"}\n", "");
	expect(s, 1, false, "timeout: killed before the guest agent started");
	free(s);
	s = cat(START, "{\"type\":\"vm_exit\",\"reason\":\"boot_timeout\"}\n", "");
	expect(s, 1, false, "the VM never reached the guest agent (boot_timeout)");
	free(s);
	/* QEMU refusing to start. */
	s = cat(START, "{\"type\":\"vm_exit\",\"reason\":\"qemu_error\",\"message\":"
		"\"QEMU failed: could not load kernel\"}\n", "");
	expect(s, 2, false, "QEMU failed: could not load kernel");
	free(s);
	/* A kernel panic while booting is the kernel's failure, not ours. */
	s = cat(START, "{\"type\":\"vm_exit\",\"reason\":\"panic\",\"panic\":\"Kernel panic - "
		"not syncing: VFS\"}\n", "");
	expect(s, 1, false, NULL);
	free(s);
}

static void test_after_the_agent(void **state)
{
	char *s;

	(void)state;
	/* A timeout once the guest is up is a stuck scenario: a failure. */
	s = cat(START, READY, "{\"type\":\"vm_exit\",\"reason\":\"timeout\"}\n");
	expect(s, 1, false, NULL);
	free(s);
	s = cat(START, READY, "{\"type\":\"vm_exit\",\"reason\":\"no_agent\","
		"\"message\":\"the VM stopped before the guest command finished\"}\n");
	expect(s, 1, false, NULL);
	free(s);
	/* QEMU dying mid-run is the machine's. */
	s = cat(START, READY, "{\"type\":\"vm_exit\",\"reason\":\"qemu_error\"}\n");
	expect(s, 1, false, "QEMU failed without a message");
	free(s);
	/* ... unless the scheduler had already failed: that stands. */
	{
		char *t = cat(START, READY, SCEN);

		s = cat(t, DIED, "{\"type\":\"vm_exit\",\"reason\":\"qemu_error\"}\n");
		expect(s, 1, false, NULL);
		free(s);
		free(t);
	}
}

static void test_host_side(void **state)
{
	(void)state;
	/* ktstr-vm gave up before any VM record (a setup error)... */
	expect("", 2, false, "ktstr-vm exited with status 2");
	/* ... or died mid-run without its vm_exit. */
	{
		char *s = cat(START, READY, SCEN);

		expect(s, 128 + 9, false, "killed by signal 9");
		free(s);
	}
	/* An interrupted run is neither. */
	expect(START, 130, true, NULL);
}

/* Real streams (tests/fixtures/stats): a run the host decided is an
 * infrastructure error, retried; the same run's own failure is not. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void test_host_decided(void **state)
{
	char *s;

	(void)state;
	s = slurp("tests/fixtures/stats/monitor-host-starved.jsonl");
	expect(s, 0, false, "work_conservation could not have failed: the host ran the VM for 482 ms");
	free(s);
	s = slurp("tests/fixtures/stats/monitor-qemu-stopped.jsonl");
	expect(s, 0, false, "the host, not the scheduler: stuck 2009.58ms on cpu2");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_the_agent),
		cmocka_unit_test(test_after_the_agent),
		cmocka_unit_test(test_host_side),
		cmocka_unit_test(test_host_decided),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
