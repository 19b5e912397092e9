/* Unit tests for lib/core/checktab.c, the check table, and for its consumers'
 * use of it: the scenario parser's keys and aliases, checks_effective's
 * defaults, verdict_thresholds, and the limits the verdict reads back
 * from scenario_start. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checktab.h"
#include "compare.h"
#include "scenario.h"
#include "verdict.h"

static json_t *doc(const char *text)
{
	char *t = strdup(text), *p;
	json_error_t je;
	json_t *d;

	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	d = json_loads(t, 0, &je);
	if (!d)
		fail_msg("test JSON does not parse (%s): %s", je.text, t);
	free(t);
	return d;
}

/* Every spelling a row answers to: its key and aliases, and the options
 * derived from them; none may belong to two rows. */
static void test_keys_unique(void **state)
{
	const struct check_def *t;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i, j, n, ki, kj;

	(void)state;
	t = checktab(&n);
	assert_true(n >= 14);
	for (i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_non_null(t[i].help);
		assert_non_null(t[i].record);
		assert_non_null(t[i].field);
		assert_true(t[i].kind == CHECK_ALWAYS ? !t[i].key : t[i].key != NULL);
		for (j = i + 1; j < n; j++) {
			assert_string_not_equal(t[i].name, t[j].name);
			if (t[i].metric && t[j].metric)
				assert_string_not_equal(t[i].metric, t[j].metric);
			if (!t[i].key || !t[j].key)
				continue;
			for (ki = 0; ki <= CHECK_MAX_ALIASES; ki++) {
				const char *x = ki ? t[i].aliases[ki - 1] : t[i].key;

				if (!x)
					break;
				for (kj = 0; kj <= CHECK_MAX_ALIASES; kj++) {
					const char *y = kj ? t[j].aliases[kj - 1] : t[j].key;

					if (!y)
						break;
					assert_string_not_equal(x, y);
					strbuf_reset(&a);
					strbuf_reset(&b);
					check_flag_name(x, &a);
					check_flag_name(y, &b);
					assert_string_not_equal(a.buf, b.buf);
				}
			}
		}
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_aliases_resolve(void **state)
{
	const struct check_def *t, *d;
	struct strbuf sb = STRBUF_INIT;
	size_t i, j, n;

	(void)state;
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (!t[i].key)
			continue;
		assert_ptr_equal(checktab_find(t[i].key), &t[i]);
		for (j = 0; t[i].aliases[j]; j++)
			assert_ptr_equal(checktab_find(t[i].aliases[j]), &t[i]);
		assert_ptr_equal(checktab_by_name(t[i].name), &t[i]);
		if (t[i].metric)
			assert_ptr_equal(checktab_by_metric(t[i].metric), &t[i]);
	}
	/* the two spellings issue 10 ends */
	d = checktab_find("max_p99_wake_us");
	assert_non_null(d);
	assert_string_equal(d->key, "max_p99_wake_latency_us");
	assert_string_equal(checktab_find("min_iter_rate")->key, "min_iterations_per_sec");
	assert_true(checktab_find("min_iter_rate")->dir == CHECK_AT_LEAST);
	assert_true(checktab_find("min_iter_rate")->higher_is_better);
	assert_null(checktab_find("max_spread"));
	assert_null(checktab_find(NULL));
	assert_null(checktab_find("crash"));	/* no threshold: no key */
	check_flag_name("max_p99_wake_us", &sb);
	assert_string_equal(sb.buf, "max-p99-wake-us");
	strbuf_release(&sb);
	/* the machine checks are rows */
	assert_string_equal(checktab_by_name("work_conservation")->key,
			    "max_idle_while_runnable_ms");
	assert_string_equal(checktab_by_name("stall")->metric, "stall_count");
	assert_true(checktab_by_name("stall")->kind == CHECK_SWITCH);
	assert_true(checktab_by_name("imbalance")->scope & CHECK_SCOPE_MACHINE);
}

/* Offsets: inside struct checks, aligned, not shared, and covering every
 * field (only tail padding may be left over), so a field added to struct
 * checks without a row fails here. */
static void test_offsets(void **state)
{
	unsigned char covered[sizeof(struct checks)] = { 0 };
	const struct check_def *t;
	size_t i, k, n, sz, uncovered = 0, last = 0;

	(void)state;
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_ALWAYS)
			continue;
		sz = t[i].kind == CHECK_LIMIT ? sizeof(double) : sizeof(int);
		assert_true(t[i].off + sz <= sizeof(struct checks));
		assert_int_equal(t[i].off % sz, 0);
		for (k = t[i].off; k < t[i].off + sz; k++) {
			assert_int_equal(covered[k], 0);
			covered[k] = 1;
		}
	}
	for (k = 0; k < sizeof(struct checks); k++) {
		if (covered[k])
			last = k + 1;
		else
			uncovered++;
	}
	assert_int_equal(sizeof(struct checks) - last, uncovered);
	assert_true(uncovered < sizeof(double));
}

static void test_defaults(void **state)
{
	const struct check_def *t;
	struct checks in, out, init;
	size_t i, n;

	(void)state;
	t = checktab(&n);
	checks_init(&in);
	checks_effective(&in, &out);
	for (i = 0; i < n; i++) {
		if (t[i].kind == CHECK_LIMIT) {
			assert_true(isnan(check_limit_get(&in, &t[i])));
			if (isnan(t[i].def))
				assert_true(isnan(check_limit_get(&out, &t[i])));
			else
				assert_true(check_limit_get(&out, &t[i]) == t[i].def);
		} else if (t[i].kind == CHECK_SWITCH) {
			assert_int_equal(check_switch_get(&in, &t[i]), -1);
			assert_int_equal(check_switch_get(&out, &t[i]), t[i].def != 0);
		}
	}
	/* the machine checks' documented defaults */
	assert_true(out.max_idle_while_runnable_ms == 500);
	assert_true(out.max_imbalance_ratio == 4);
	assert_true(out.max_local_dsq_depth == 50);
	assert_true(out.max_runnable_wait_ms == 2000);
	assert_true(out.max_fallback_per_sec == 200);
	assert_true(out.max_keep_last_per_sec == 100);
	assert_int_equal(out.stall, 1);
	assert_true(out.max_spread_pct == 15 && out.max_gap_ms == 2000);
	assert_true(isnan(out.max_p99_wake_latency_us));

	/* verdict_thresholds: the same defaults; "off" (INFINITY) in flags
	 * wins over a scenario's value and ends as NAN */
	checks_init(&init);
	in = init;
	in.max_imbalance_ratio = 8;
	in.stall = 0;
	init.max_local_dsq_depth = INFINITY;
	verdict_thresholds(&in, &init, &out);
	assert_true(out.max_imbalance_ratio == 8);
	assert_int_equal(out.stall, 0);
	assert_true(isnan(out.max_local_dsq_depth));
	assert_true(out.max_idle_while_runnable_ms == 500);
	assert_int_equal(out.isolation, 1);
}

static void test_limit_valid(void **state)
{
	const struct check_def *gap = checktab_find("max_gap_ms");
	const struct check_def *spread = checktab_find("max_spread_pct");
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_false(check_limit_valid(gap, 0));
	assert_true(check_limit_valid(gap, 0.5));
	assert_true(check_limit_valid(gap, INFINITY));
	assert_false(check_limit_valid(gap, NAN));
	assert_true(check_limit_valid(spread, 0));
	assert_false(check_limit_valid(spread, -1));
	check_limit_expect(gap, &sb);
	assert_string_equal(sb.buf, "a number greater than 0");
	strbuf_reset(&sb);
	check_limit_expect(spread, &sb);
	assert_string_equal(sb.buf, "a number of at least 0");
	strbuf_release(&sb);
}

/* Old and new spellings in a scenario: the same struct checks. */
static void test_scenario_spellings(void **state)
{
	const char *cg = "'cgroups':[{'name':'a','workers':1,'work':{'type':'spin_wait'}}]";
	struct strbuf err = STRBUF_INIT;
	struct scenario s1, s2;
	char text[512];
	json_t *d;

	(void)state;
	snprintf(text, sizeof(text), "{'checks':{'max_p99_wake_us':900,'min_iter_rate':5,"
		 "'max_imbalance_ratio':3,'stall':false,'max_gap_ms':'off'},%s}", cg);
	d = doc(text);
	assert_int_equal(scenario_parse(d, &s1, &err), 0);
	json_decref(d);
	snprintf(text, sizeof(text), "{'checks':{'max_p99_wake_latency_us':900,"
		 "'min_iterations_per_sec':5,'max_imbalance_ratio':3,'stall':false,"
		 "'max_gap_ms':'off'},%s}", cg);
	d = doc(text);
	assert_int_equal(scenario_parse(d, &s2, &err), 0);
	json_decref(d);
	assert_int_equal(memcmp(&s1.checks, &s2.checks, sizeof(s1.checks)), 0);
	assert_true(s1.checks.max_p99_wake_latency_us == 900);
	assert_true(s1.checks.min_iterations_per_sec == 5);
	assert_true(s1.checks.max_imbalance_ratio == 3);
	assert_int_equal(s1.checks.stall, 0);
	assert_true(isinf(s1.checks.max_gap_ms));
	scenario_release(&s1);
	scenario_release(&s2);

	/* both spellings of one check: which to believe is unclear */
	snprintf(text, sizeof(text), "{'checks':{'max_p99_wake_latency_us':900,"
		 "'max_p99_wake_us':800},%s}", cg);
	d = doc(text);
	assert_int_equal(scenario_parse(d, &s1, &err), -1);
	assert_string_equal(err.buf, "$.checks.max_p99_wake_us: the same check as "
			    "max_p99_wake_latency_us, given before it; give one of them");
	json_decref(d);
	strbuf_reset(&err);

	/* an unknown key lists the keys, machine checks too */
	snprintf(text, sizeof(text), "{'checks':{'max_imbalance':3},%s}", cg);
	d = doc(text);
	assert_int_equal(scenario_parse(d, &s1, &err), -1);
	assert_non_null(strstr(err.buf, "$.checks.max_imbalance: unknown key; expected one "
			       "of max_spread_pct, max_gap_ms"));
	assert_non_null(strstr(err.buf, "max_imbalance_ratio"));
	assert_non_null(strstr(err.buf, ", stall"));
	json_decref(d);
	strbuf_reset(&err);

	snprintf(text, sizeof(text), "{'checks':{'max_imbalance_ratio':0.5},%s}", cg);
	d = doc(text);
	assert_int_equal(scenario_parse(d, &s1, &err), -1);
	assert_string_equal(err.buf, "$.checks.max_imbalance_ratio: must be a number of "
			    "at least 1 or \"off\", got 0.5");
	json_decref(d);
	strbuf_release(&err);
}

/* scenario_start.checks: read under the canonical keys and the aliases;
 * the verdict's "thresholds" object has every row. */
static void test_verdict_reads_checks(void **state)
{
	const struct check_def *t;
	struct verdict v;
	json_t *rec, *out, *th;
	size_t i, n;

	(void)state;
	verdict_init(&v);
	rec = doc("{'type':'scenario_start','name':'s','checks':{'max_p99_wake_us':700,"
		  "'max_imbalance_ratio':6,'stall':false,'max_spread_pct':null}}");
	verdict_feed(&v, rec);
	json_decref(rec);
	verdict_finish(&v, NULL);
	assert_true(v.limits.max_p99_wake_latency_us == 700);
	assert_true(v.limits.max_imbalance_ratio == 6);
	assert_int_equal(v.limits.stall, 0);
	assert_true(isnan(v.limits.max_spread_pct));
	assert_true(v.limits.max_local_dsq_depth == 50);
	out = verdict_to_json(&v, NULL);
	th = json_object_get(out, "thresholds");
	assert_non_null(th);
	t = checktab(&n);
	for (i = 0; i < n; i++)
		if (t[i].key)
			assert_non_null(json_object_get(th, t[i].key));
	assert_true(json_is_false(json_object_get(th, "stall")));
	assert_true(json_is_null(json_object_get(th, "max_spread_pct")));
	json_decref(out);
	verdict_release(&v);
}

/* compare's direction and gate of a check's metric are the table's. */
static void test_compare_gates_from_table(void **state)
{
	const struct check_def *t;
	const struct metric_gate *g;
	size_t i, n;

	(void)state;
	t = checktab(&n);
	for (i = 0; i < n; i++) {
		if (!t[i].metric)
			continue;
		g = compare_gate_find(t[i].metric);
		assert_non_null(g);
		assert_int_equal(g->higher_is_better, t[i].higher_is_better);
		assert_true(g->abs == t[i].gate_abs && g->rel_pct == t[i].gate_rel_pct);
	}
}

static void test_json_and_table(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *o, *flags;

	(void)state;
	o = check_def_json(checktab_find("max_p99_wake_us"));
	assert_string_equal(json_string_value(json_object_get(o, "type")), "check_def");
	assert_string_equal(json_string_value(json_object_get(o, "name")), "p99_wake_latency");
	assert_true(json_is_null(json_object_get(o, "default")));
	flags = json_object_get(o, "flags");
	assert_int_equal(json_array_size(flags), 2);
	assert_string_equal(json_string_value(json_array_get(flags, 0)),
			    "--max-p99-wake-latency-us");
	assert_string_equal(json_string_value(json_array_get(flags, 1)), "--max-p99-wake-us");
	json_decref(o);
	o = check_def_json(checktab_by_name("stall"));
	assert_true(json_is_true(json_object_get(o, "default")));
	flags = json_object_get(o, "flags");
	assert_string_equal(json_string_value(json_array_get(flags, 1)), "--no-stall");
	json_decref(o);

	checktab_format(&sb);
	assert_true(!strncmp(sb.buf, "CHECK ", 6));
	assert_non_null(strstr(sb.buf, "\nwork_conservation "));
	assert_non_null(strstr(sb.buf, "max_p99_wake_us\n"));
	strbuf_release(&sb);
}

/* checks_to_json: everything (the host's resolved thresholds, the
 * verdict's) or only what is given (a guest without the host's). */
static void test_to_json(void **state)
{
	struct checks in, eff;
	json_t *all, *given;
	size_t n;

	(void)state;
	checktab(&n);
	checks_init(&in);
	in.max_gap_ms = 500;
	in.max_spread_pct = INFINITY;
	in.isolation = 0;
	checks_effective(&in, &eff);
	all = checks_to_json(&eff, false);
	given = checks_to_json(&in, true);
	assert_int_equal(json_integer_value(json_object_get(all, "max_gap_ms")), 500);
	assert_true(json_is_null(json_object_get(all, "max_spread_pct")));
	assert_true(json_is_null(json_object_get(all, "max_p99_wake_latency_us")));
	assert_int_equal(json_integer_value(json_object_get(all, "max_imbalance_ratio")), 4);
	assert_true(json_is_false(json_object_get(all, "isolation")));
	assert_true(json_is_true(json_object_get(all, "stall")));
	assert_int_equal(json_object_size(given), 3);
	assert_int_equal(json_integer_value(json_object_get(given, "max_gap_ms")), 500);
	assert_true(json_is_null(json_object_get(given, "max_spread_pct")));
	assert_true(json_is_false(json_object_get(given, "isolation")));
	json_decref(all);
	json_decref(given);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_unique),
		cmocka_unit_test(test_aliases_resolve),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_to_json),
		cmocka_unit_test(test_limit_valid),
		cmocka_unit_test(test_scenario_spellings),
		cmocka_unit_test(test_verdict_reads_checks),
		cmocka_unit_test(test_compare_gates_from_table),
		cmocka_unit_test(test_json_and_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
