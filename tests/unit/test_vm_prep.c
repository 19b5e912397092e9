/* Unit tests for lib/vm/vm_prep.c: the scenario ktstr-vm sends, from
 * --scenario, --cgroup and --duration, fitted to the topology. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "vm_prep.h"
#include "tmpdir.h"

static struct ktstr_topo two_cpus(void)
{
	struct ktstr_topo t;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(topo_parse("1,1,2,1", &t, &err), 0);
	strbuf_release(&err);
	return t;
}

static void test_cgroups_and_duration(void **state)
{
	struct strvec cg = STRVEC_INIT;
	struct ktstr_topo t = two_cpus();
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	json_t *doc;

	(void)state;
	strvec_push(&cg, "cg_0:workers=2");
	assert_int_equal(vm_scenario_prepare(NULL, &cg, 1500, &t, &doc, &s, &err), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "custom");
	assert_int_equal(s.duration_ms, 1500);
	scenario_release(&s);
	json_decref(doc);
	strvec_clear(&cg);
	strbuf_release(&err);
}

static void test_bad_inputs(void **state)
{
	struct strvec cg = STRVEC_INIT;
	struct ktstr_topo t = two_cpus();
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	json_t *doc = (json_t *)1;

	(void)state;
	strvec_push(&cg, "cg_0:bogus=1");
	assert_int_equal(vm_scenario_prepare(NULL, &cg, 0, &t, &doc, &s, &err), -1);
	assert_null(doc);
	assert_true(!strncmp(err.buf, "--cgroup 'cg_0:bogus=1': ", 25));
	strbuf_reset(&err);
	assert_int_equal(vm_scenario_prepare("no-such-scenario", &cg, 0, &t, &doc, &s, &err),
			 -1);
	assert_true(!strncmp(err.buf, "--scenario: ", 12));
	strvec_clear(&cg);
	strbuf_release(&err);
}

static void test_does_not_fit(void **state)
{
	struct strvec none = STRVEC_INIT;
	struct ktstr_topo t = two_cpus();
	struct strbuf err = STRBUF_INIT;
	struct scenario s;
	char dir[64];
	const char *path;
	json_t *doc;
	FILE *f;

	(void)state;
	assert_int_equal(tmpdir_create(dir, sizeof(dir), "vm_prep"), 0);
	path = tmpdir_path(dir, "big.json");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"name\":\"big\",\"requires\":{\"min_cpus\":4},"
	      "\"cgroups\":[{\"name\":\"cg_0\"}]}\n", f);
	fclose(f);
	assert_int_equal(vm_scenario_prepare(path, &none, 0, &t, &doc, &s, &err), 1);
	assert_string_equal(err.buf, "needs at least 4 CPUs, the VM has 2");
	assert_string_equal(s.name, "big");
	scenario_release(&s);
	json_decref(doc);
	strbuf_release(&err);
	assert_int_equal(tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroups_and_duration),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
