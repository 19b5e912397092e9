/* Unit tests for lib/vm/monitor_layout.c: the monitor's layout read from
 * a real vmlinux's BTF survives its JSON form unchanged, and a cached
 * layout is checked like any untrusted input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kbtf.h"
#include "kvmlinux.h"
#include "monitor_layout.h"

static void test_roundtrip_real_btf(void **state)
{
	const char *vmlinux = kvmlinux_path();
	struct strbuf err = STRBUF_INIT;
	struct monitor_layout l, back;
	struct kbtf kb;
	json_t *j, *j2;

	(void)state;
	if (!vmlinux) {
		print_message("no cached vmlinux (set KTSTR_E2E_VMLINUX): skipped\n");
		skip();
	}
	assert_int_equal(kbtf_open(&kb, vmlinux, &err), 0);
	assert_int_equal(monitor_layout_read(&l, &kb, &err), 0);
	/* What the BTF says, member by member. */
	assert_int_equal(l.rq_nr_running.off, kbtf_member_offset(&kb, "rq", "nr_running"));
	assert_int_equal(l.task_runnable_at.off,
			 kbtf_member_offset(&kb, "task_struct", "scx.runnable_at"));
	assert_true(l.n_ev > 10);
	assert_string_equal(l.ev[0].name, "select_cpu_fallback");
	assert_true(l.n_states >= 4);
	assert_true(l.scx_enabled_value >= 0);
	kbtf_close(&kb);

	j = monitor_layout_json(&l);
	assert_int_equal(monitor_layout_parse(&back, j, &err), 0);
	j2 = monitor_layout_json(&back);
	assert_true(json_equal(j, j2));
	assert_int_equal(back.rq_local_dsq.off, l.rq_local_dsq.off);
	assert_int_equal(back.sched_name.size, l.sched_name.size);
	assert_string_equal(back.states[1].name, l.states[1].name);
	json_decref(j);
	json_decref(j2);
	monitor_layout_release(&l);
	monitor_layout_release(&back);
	strbuf_release(&err);
}

/* A small valid layout, as a cache would hold it. */
static json_t *small(void)
{
	json_t *j = json_loads("{\"version\":1,\"members\":{\"rq.nr_running\":[0,4],"
			       "\"rq.curr\":[24,8],\"rq.idle\":[32,8],\"future.member\":[8,8]},"
			       "\"pcpu_event_stats\":112,\"ev_size\":16,"
			       "\"events\":[[\"a\",0,8],[\"b\",8,8]],\"scx_enabled\":2,"
			       "\"states\":[[0,\"disabled\"],[2,\"enabled\"]]}", 0, NULL);

	assert_non_null(j);
	return j;
}

/* Parse j (stolen) expecting failure with want in the message. */
static void bad(json_t *j, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_layout l;

	assert_int_equal(monitor_layout_parse(&l, j, &err), -1);
	if (!strstr(err.buf, want))
		fail_msg("\"%s\" does not say \"%s\"", err.buf, want);
	/* Nothing half-filled is left to use. */
	assert_int_equal(l.n_ev, 0);
	assert_null(l.ev);
	assert_int_equal(l.rq_nr_running.off, -1);
	json_decref(j);
	strbuf_release(&err);
}

static void set(json_t *j, const char *key, json_t *v)
{
	json_object_set_new(j, key, v);
}

static void member(json_t *j, const char *name, json_t *v)
{
	json_object_set_new(json_object_get(j, "members"), name, v);
}

static void test_parse_checks(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_layout l;
	json_t *j = small();

	(void)state;
	/* A member a newer ktstr reads is not ours to mind. */
	assert_int_equal(monitor_layout_parse(&l, j, &err), 0);
	assert_int_equal(l.rq_curr.off, 24);
	assert_int_equal(l.rq_clock.off, -1);
	assert_int_equal(l.n_ev, 2);
	assert_string_equal(l.states[1].name, "enabled");
	monitor_layout_release(&l);
	json_decref(j);

	bad(json_string("x"), "not a version 1 layout");
	j = small();
	set(j, "version", json_integer(2));
	bad(j, "not a version 1 layout");
	j = small();
	member(j, "rq.nr_running", json_pack("[ii]", -5, 4));
	bad(j, "member rq.nr_running is not [offset, size] in range");
	j = small();
	member(j, "rq.idle", json_pack("[iI]", 32, (json_int_t)1 << 40));
	bad(j, "member rq.idle");
	j = small();
	member(j, "rq.curr", json_string("24"));
	bad(j, "member rq.curr");
	j = small();
	set(j, "members", json_array());
	bad(j, "\"members\" is not an object");
	/* An event past the end of struct scx_event_stats would be read
	 * past the buffer the sampler allocates for it. */
	j = small();
	json_array_append_new(json_object_get(j, "events"), json_pack("[sii]", "c", 12, 8));
	bad(j, "event 2 is not [name, offset, size] inside scx_event_stats");
	j = small();
	json_array_append_new(json_object_get(j, "events"), json_pack("[sii]", "c", 0, 3));
	bad(j, "event 2");
	j = small();
	set(j, "ev_size", json_integer(1 << 20));
	bad(j, "ev_size");
	j = small();
	json_object_del(j, "scx_enabled");
	bad(j, "scx_enabled");
	j = small();
	json_array_append_new(json_object_get(j, "states"),
			      json_pack("[is]", 3, "a_name_far_longer_than_thirty_one_bytes"));
	bad(j, "state 2 is not [value, name]");
	/* The one member the monitor needs, absent or unusable. */
	j = small();
	json_object_del(json_object_get(j, "members"), "rq.nr_running");
	bad(j, "no rq.nr_running");
	j = small();
	member(j, "rq.nr_running", json_pack("[ii]", 0, 3));
	bad(j, "no rq.nr_running");
	strbuf_release(&err);
}

/* The sampler's rules hold for a cached layout as for one from BTF. */
static void test_parse_sanitizes(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct monitor_layout l;
	json_t *j = small();

	(void)state;
	member(j, "rq.curr", json_pack("[ii]", 24, 4));
	member(j, "rq.clock", json_pack("[ii]", 40, 4));
	member(j, "scx_sched.ops.name", json_pack("[ii]", 360, 1));
	assert_int_equal(monitor_layout_parse(&l, j, &err), 0);
	assert_int_equal(l.rq_curr.off, -1);
	assert_int_equal(l.rq_idle.off, -1);	/* read as a pair */
	assert_int_equal(l.rq_clock.off, -1);
	assert_int_equal(l.sched_name.off, -1);
	assert_int_equal(l.rq_nr_running.off, 0);
	monitor_layout_release(&l);
	json_decref(j);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_real_btf),
		cmocka_unit_test(test_parse_checks),
		cmocka_unit_test(test_parse_sanitizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
