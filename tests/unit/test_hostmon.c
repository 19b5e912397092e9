/* Unit tests for lib/core/hostmon*.c, the host-mode monitor, on fake
 * trees built from text captured in a ktstr VM of the Debian 7.3.4 cloud
 * kernel (tests/fixtures/hostmon, see its README): the parsers, two
 * samples' fields, the monitor's own CPU, the /proc/stat fallback,
 * sched_ext's files, malformed and cut input, and the records fed
 * through ktstr-stats's machine view (lib/vm/machine.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fsutil.h"
#include "hostmon.h"
#include "hostmon_parse.h"
#include "jsonl.h"
#include "machine.h"
#include "scenario.h"

#define FIXTURES "tests/fixtures/hostmon/"
#define DEBUG_FILE "/sys/kernel/debug/sched/debug"

static char dir[] = "/tmp/ktstr-test-hostmon.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static char *fixture(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf(FIXTURES "%s", name);

	if (strbuf_read_file(&sb, path) < 0)
		fail_msg("cannot read %s", path);
	free(path);
	return strbuf_detach(&sb, NULL);
}

/* root/path := text (directories made). */
static void put(const char *root, const char *path, const char *text)
{
	char *full = xasprintf("%s%s", root, path), *d = path_dirname(full);

	assert_int_equal(mkdir_p(d, 0755), 0);
	assert_int_equal(write_file_atomic(full, text, strlen(text), 0644), 0);
	free(d);
	free(full);
}

static void put_fixture(const char *root, const char *path, const char *name)
{
	char *text = fixture(name);

	put(root, path, text);
	free(text);
}

static void drop(const char *root, const char *path)
{
	char *full = xasprintf("%s%s", root, path);

	unlink(full);
	free(full);
}

/* A fresh tree: four CPUs present and online, the debug file given. */
static char *tree(const char *name, const char *debug_fixture)
{
	char *root = path_join(dir, name);

	rm_rf(root);
	put(root, "/sys/devices/system/cpu/present", "0-3\n");
	put(root, "/sys/devices/system/cpu/online", "0-3\n");
	if (debug_fixture)
		put_fixture(root, DEBUG_FILE, debug_fixture);
	return root;
}

/* text with every line starting with "  .<key> " in cpu#<cpu>'s top block
 * given the value v; the text is replaced. */
static char *set_field(char *text, int cpu, const char *key, const char *v)
{
	char head[32], *line = xasprintf("\n  .%s ", key), *sec, *at, *colon, *eol, *out;

	snprintf(head, sizeof(head), "cpu#%d,", cpu);
	sec = strstr(text, head);
	assert_non_null(sec);
	at = strstr(sec, line);
	assert_non_null(at);
	colon = strchr(at + 1, ':');
	eol = strchr(at + 1, '\n');
	assert_true(colon && eol && colon < eol);
	out = xasprintf("%.*s: %s%s", (int)(colon - text), text, v, eol);
	free(line);
	free(text);
	return out;
}

/* Every CPU's .clock moved on by add_ms. */
static char *shift_clocks(char *text, long add_ms)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = text, *at;

	while ((at = strstr(p, "\n  .clock    "))) {
		const char *colon = strchr(at, ':'), *eol = strchr(at + 1, '\n');
		long long ms;
		long frac;

		assert_int_equal(sscanf(colon + 1, " %lld.%ld", &ms, &frac), 2);
		strbuf_add(&out, p, (size_t)(colon - p));
		strbuf_addf(&out, ": %lld.%06ld", ms + add_ms, frac);
		p = eol;
	}
	strbuf_addstr(&out, p);
	free(text);
	return strbuf_detach(&out, NULL);
}

/* The record's array key as a string "a,b,c", or "-" when absent. */
static const char *arr(const json_t *r, const char *key)
{
	static char buf[4][256];
	static int k;
	const json_t *a = json_object_get(r, key), *v;
	char *b = buf[k++ % 4];
	size_t i, n = 0;

	if (!a)
		return "-";
	b[0] = '\0';
	json_array_foreach(a, i, v)
		n += (size_t)snprintf(b + n, 256 - n, "%s%lld", i ? "," : "",
				      (long long)json_integer_value(v));
	return b;
}

static struct hostmon *must_open(const char *root)
{
	struct strbuf err = STRBUF_INIT;
	struct hostmon *h = hostmon_open(root, 500, &err);

	if (!h)
		fail_msg("hostmon_open: %s", err.buf);
	strbuf_release(&err);
	hostmon_set_self_tid(h, 999999);	/* no fixture task has it */
	return h;
}

/* ---- KTSTR_STALL_POLL_MS ---------------------------------------------------- */

static void test_poll_ms(void **state)
{
	(void)state;
	assert_int_equal(hostmon_poll_ms(NULL), 500);
	assert_int_equal(hostmon_poll_ms(""), 500);
	assert_int_equal(hostmon_poll_ms("0"), 500);
	assert_int_equal(hostmon_poll_ms("000"), 500);
	assert_int_equal(hostmon_poll_ms("abc"), 500);
	assert_int_equal(hostmon_poll_ms("-5"), 500);
	assert_int_equal(hostmon_poll_ms(" 250"), 500);
	assert_int_equal(hostmon_poll_ms("250ms"), 500);
	assert_int_equal(hostmon_poll_ms("1e3"), 500);
	assert_int_equal(hostmon_poll_ms("250"), 250);
	assert_int_equal(hostmon_poll_ms("0250"), 250);
	assert_int_equal(hostmon_poll_ms("1"), HOSTMON_MIN_POLL_MS);
	assert_int_equal(hostmon_poll_ms("60001"), HOSTMON_MAX_POLL_MS);
	assert_int_equal(hostmon_poll_ms("99999999999999999999999"), HOSTMON_MAX_POLL_MS);
}

/* ---- parsers --------------------------------------------------------------- */

static void test_parse_real_debug(void **state)
{
	struct strbuf why = STRBUF_INIT;
	struct hostmon_cpu c[4];
	char *text = fixture("eevdf-2.sched_debug");

	(void)state;
	assert_int_equal(hostmon_parse_sched_debug(text, strlen(text), c, 4, &why), 4);
	assert_int_equal(c[0].nr_running, 2);
	assert_int_equal(c[0].curr_pid, 134);
	assert_true(c[0].clock_ns == 6685152689ULL);
	assert_int_equal(c[3].nr_running, 1);
	assert_int_equal(c[3].curr_pid, 136);
	assert_true(c[3].clock_ns == 6691484862ULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c[i].have, HC_SEEN | HC_NR | HC_PID | HC_CLOCK);
	/* fewer slots than CPUs: the rest are ignored */
	assert_int_equal(hostmon_parse_sched_debug(text, strlen(text), c, 2, &why), 2);
	assert_int_equal(c[1].curr_pid, 138);
	free(text);
	strbuf_release(&why);
}

static void test_parse_odd_debug(void **state)
{
	struct strbuf why = STRBUF_INIT;
	struct hostmon_cpu c[4];
	static const char dup[] = "cpu#0, 1 MHz\n  .nr_running : 1\n\ncpu#0\n  .nr_running : 2\n";
	static const char odd[] =
		"cpu#0\r\n  .nr_running   : 3\r\n  .curr->pid : -1\r\n  .clock : 12.34\r\n"
		"cpu#1, x\n  .nr_running : 4294967296\n  .curr->pid : 7\n  .clock : 1.000001\n"
		"  .clock_task : 9.000000\n\n  .nr_running : 5\n"
		"cpu#2 \n  .nr_running : 1 2\n  .clock:  5.000000  \n  .curr->pid\n"
		"cpu#x\ncpux#3\ncpu#99999999999\ncpu#3\n  .nr_running : 6";
	static const char nul[] = "cpu#0\n  .nr_running : 1\0\n  .curr->pid : 0\n";

	(void)state;
	assert_int_equal(hostmon_parse_sched_debug(dup, strlen(dup), c, 4, &why), -1);
	assert_string_equal(why.buf, "cpu#0 appears twice");
	strbuf_reset(&why);
	assert_int_equal(hostmon_parse_sched_debug("", 0, c, 4, &why), -1);
	assert_string_equal(why.buf, "no \"cpu#N\" section");
	strbuf_reset(&why);
	assert_int_equal(hostmon_parse_sched_debug(odd, strlen(odd), c, 4, &why), 4);
	/* CRLF is fine; a negative pid and a clock without six digits are not */
	assert_int_equal(c[0].have, HC_SEEN | HC_NR);
	assert_int_equal(c[0].nr_running, 3);
	/* past unsigned int: left out; the block ends at the blank line */
	assert_int_equal(c[1].have, HC_SEEN | HC_PID | HC_CLOCK);
	assert_true(c[1].clock_ns == 1000001);
	assert_int_equal(c[2].have, HC_SEEN | HC_CLOCK);
	assert_true(c[2].clock_ns == 5000000);
	/* the last line needs no newline */
	assert_int_equal(c[3].have, HC_SEEN | HC_NR);
	assert_int_equal(c[3].nr_running, 6);
	/* a NUL inside is just a byte that is not a digit */
	assert_int_equal(hostmon_parse_sched_debug(nul, sizeof(nul) - 1, c, 4, &why), 1);
	assert_int_equal(c[0].have, HC_SEEN | HC_PID);
	strbuf_release(&why);
}

static void test_parse_stat_events_word(void **state)
{
	struct strbuf why = STRBUF_INIT;
	struct hostmon_stat st[4];
	static const char stat[] = "cpu  1 2 3 4\ncpu0 1 2 3 4 5 6 7 8 100 100\ncpu1 1 2 3\n"
				   "cpu2 1 2 x 4\ncpu9 1 2 3 4\ncpuX 1 2 3 4\ncpu3 9 9 9 9";
	static const char ev[] = "SCX_EV_SELECT_CPU_FALLBACK 12\nSCX_EV_ONLY\n"
				 "SCX_EV_X 1 2\nbad-name 3\nSCX_EV_HUGE 99999999999999999999\n"
				 "SCX_EV_DISPATCH_KEEP_LAST   7  \nOTHER 5\nSCX_EV_ 4\n";
	char *real = fixture("scx-2.scx_events"), word[65];
	json_t *o;

	(void)state;
	assert_int_equal(hostmon_parse_proc_stat(stat, strlen(stat), st, 4, &why), 2);
	assert_true(st[0].seen && st[0].idle == 9 && st[0].total == 36);
	assert_false(st[1].seen || st[2].seen);
	assert_true(st[3].seen && st[3].idle == 9 && st[3].total == 36);
	assert_int_equal(hostmon_parse_proc_stat("cpu0 1 2 3 4\ncpu0 1 2 3 4\n", 26, st, 4, &why),
			 -1);
	assert_string_equal(why.buf, "cpu0 appears twice");

	o = hostmon_parse_events(ev, strlen(ev), &why);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 4);
	assert_int_equal(json_integer_value(json_object_get(o, "select_cpu_fallback")), 12);
	assert_int_equal(json_integer_value(json_object_get(o, "dispatch_keep_last")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "other")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "scx_ev_")), 4);
	json_decref(o);
	o = hostmon_parse_events(real, strlen(real), &why);
	assert_int_equal(json_object_size(o), 21);
	assert_int_equal(json_integer_value(json_object_get(o, "dispatch_keep_last")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "bypass_duration")), 30810306);
	json_decref(o);
	strbuf_reset(&why);
	assert_null(hostmon_parse_events("garbage\n", 8, &why));
	assert_string_equal(why.buf, "no \"NAME COUNT\" line");

	assert_true(hostmon_parse_word(" simple \nmore", 13, word, sizeof(word)));
	assert_string_equal(word, "simple");
	assert_true(hostmon_parse_word("a\tb\x01", 4, word, sizeof(word)));
	assert_string_equal(word, "a?b?");
	assert_false(hostmon_parse_word("  \n", 3, word, sizeof(word)));
	assert_true(hostmon_parse_word("abcdef", 6, word, 4));
	assert_string_equal(word, "abc");
	free(real);
	strbuf_release(&why);
}

/* ---- samples ---------------------------------------------------------------- */

static void test_two_samples(void **state)
{
	char *root = tree("two", "eevdf-1.sched_debug");
	struct hostmon *h = must_open(root);
	json_t *r;

	(void)state;
	assert_int_equal(hostmon_cpus(h), 4);
	assert_string_equal(hostmon_cpu_source(h), "sched_debug");
	r = hostmon_start_record(h, 0);
	assert_string_equal(json_get_str(r, "source"), "host");
	assert_string_equal(json_get_str(r, "cpu_source"), "sched_debug");
	assert_int_equal(json_get_int(r, "cpus", 0), 4);
	assert_int_equal(json_get_int(r, "interval_ms", 0), 500);
	assert_int_equal(json_array_size(json_object_get(r, "fields")), 4);
	assert_false(json_is_true(json_object_get(r, "sched_ext")));
	json_decref(r);

	/* the same text again: nothing moved; CPUs 0 and 1 run pid 0 */
	r = hostmon_sample(h, 500);
	assert_non_null(r);
	assert_string_equal(arr(r, "nr_running"), "0,0,1,1");
	assert_string_equal(arr(r, "idle"), "1,1,0,0");
	assert_string_equal(arr(r, "clock_adv_us"), "0,0,0,0");
	assert_string_equal(arr(r, "online"), "1,1,1,1");
	assert_null(json_object_get(r, "monitor_cpu"));
	assert_null(json_object_get(r, "scx_state"));
	json_decref(r);

	/* 1.6 s of guest time later, five busy loops started */
	put_fixture(root, DEBUG_FILE, "eevdf-2.sched_debug");
	r = hostmon_sample(h, 1000);
	assert_string_equal(arr(r, "nr_running"), "2,1,2,1");
	assert_string_equal(arr(r, "idle"), "0,0,0,0");
	assert_string_equal(arr(r, "clock_adv_us"), "1620193,1620353,1619488,1620042");
	json_decref(r);
	put_fixture(root, DEBUG_FILE, "eevdf-3.sched_debug");
	r = hostmon_sample(h, 1500);
	assert_string_equal(arr(r, "nr_running"), "4,1,1,3");
	assert_string_equal(arr(r, "clock_adv_us"), "1508985,1538332,1535881,1560180");
	json_decref(r);
	/* an older text: clocks went back, which is no advance */
	put_fixture(root, DEBUG_FILE, "eevdf-1.sched_debug");
	r = hostmon_sample(h, 2000);
	assert_string_equal(arr(r, "clock_adv_us"), "0,0,0,0");
	json_decref(r);

	r = hostmon_end_record(h, 2500);
	assert_int_equal(json_get_int(r, "samples", -1), 4);
	assert_int_equal(json_get_int(r, "skipped", -1), 0);
	assert_null(json_object_get(r, "last_skip_reason"));
	json_decref(r);
	hostmon_close(h);
	free(root);
}

/* The CPU the monitor reads from shows it as current: counted out. */
static void test_own_cpu(void **state)
{
	char *root = tree("self", "eevdf-1.sched_debug");
	struct hostmon *h = must_open(root);
	json_t *r;

	(void)state;
	/* eevdf-1 was printed by cat, pid 129, on CPU 3 */
	hostmon_set_self_tid(h, 129);
	r = hostmon_sample(h, 500);
	assert_string_equal(arr(r, "nr_running"), "0,0,1,0");
	assert_string_equal(arr(r, "idle"), "1,1,0,1");
	assert_int_equal(json_get_int(r, "monitor_cpu", -1), 3);
	json_decref(r);
	/* with another task queued behind it the CPU stays busy */
	hostmon_set_self_tid(h, 134);
	put_fixture(root, DEBUG_FILE, "eevdf-2.sched_debug");
	r = hostmon_sample(h, 1000);
	assert_string_equal(arr(r, "nr_running"), "1,1,2,1");
	assert_string_equal(arr(r, "idle"), "0,0,0,0");
	assert_int_equal(json_get_int(r, "monitor_cpu", -1), 0);
	json_decref(r);
	hostmon_close(h);
	free(root);
}

static void test_sched_ext_files(void **state)
{
	char *root = tree("scx", "scx-1.sched_debug");
	struct hostmon *h;
	json_t *r, *ev;

	(void)state;
	put(root, "/sys/kernel/sched_ext/state", "disabled\n");
	h = must_open(root);
	r = hostmon_start_record(h, 0);
	assert_true(json_is_true(json_object_get(r, "sched_ext")));
	assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
	json_decref(r);
	r = hostmon_sample(h, 500);
	assert_string_equal(json_get_str(r, "scx_state"), "disabled");
	assert_null(json_object_get(r, "scx_ops"));
	assert_null(json_object_get(r, "events"));
	json_decref(r);

	put_fixture(root, "/sys/kernel/sched_ext/state", "scx-2.scx_state");
	put_fixture(root, "/sys/kernel/sched_ext/root/ops", "scx-2.scx_ops");
	put_fixture(root, "/sys/kernel/sched_ext/root/events", "scx-2.scx_events");
	put_fixture(root, DEBUG_FILE, "scx-2.sched_debug");
	r = hostmon_sample(h, 1000);
	assert_string_equal(json_get_str(r, "scx_state"), "enabled");
	assert_string_equal(json_get_str(r, "scx_ops"), "simple");
	ev = json_object_get(r, "events");
	assert_int_equal(json_integer_value(json_object_get(ev, "select_cpu_fallback")), 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "dispatch_keep_last")), 1);
	assert_int_equal(json_integer_value(json_object_get(ev, "refill_slice_dfl")), 4);
	assert_string_equal(arr(r, "nr_running"), "2,3,1,3");
	assert_string_equal(arr(r, "idle"), "0,0,0,0");
	json_decref(r);
	r = hostmon_start_record(h, 1000);
	assert_int_equal(json_array_size(json_object_get(r, "events")), 21);
	json_decref(r);
	/* a scheduler on its way out: events gone, the rest stays */
	drop(root, "/sys/kernel/sched_ext/root/events");
	put(root, "/sys/kernel/sched_ext/root/ops", "\n");
	r = hostmon_sample(h, 1500);
	assert_string_equal(json_get_str(r, "scx_state"), "enabled");
	assert_null(json_object_get(r, "scx_ops"));
	assert_null(json_object_get(r, "events"));
	json_decref(r);
	hostmon_close(h);
	free(root);
}

static void test_proc_stat_fallback(void **state)
{
	char *root = tree("stat", NULL);
	struct hostmon *h;
	const char *why;
	json_t *r;

	(void)state;
	put_fixture(root, "/proc/stat", "eevdf-1.stat");
	h = must_open(root);
	assert_string_equal(hostmon_cpu_source(h), "proc_stat");
	r = hostmon_start_record(h, 0);
	why = json_get_str(r, "fallback_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "sched/debug: No such file or directory (is debugfs mounted?"));
	assert_non_null(strstr(why, "/proc/sched_debug: No such file or directory"));
	assert_int_equal(json_array_size(json_object_get(r, "fields")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "fields"), 0)),
			    "idle");
	json_decref(r);
	/* the same ticks again: no interval to judge, idle left out */
	r = hostmon_sample(h, 500);
	assert_string_equal(arr(r, "idle"), "-");
	assert_string_equal(arr(r, "online"), "1,1,1,1");
	assert_null(json_object_get(r, "nr_running"));
	json_decref(r);
	/* real ticks: every CPU mostly busy */
	put_fixture(root, "/proc/stat", "eevdf-2.stat");
	r = hostmon_sample(h, 1000);
	assert_string_equal(arr(r, "idle"), "0,0,0,0");
	json_decref(r);
	/* CPU 1 idle 60 of 100 ticks, CPU 2 exactly half, CPU 3 offline */
	put(root, "/sys/devices/system/cpu/online", "0-2\n");
	put(root, "/proc/stat", "cpu  1 1 1 1\ncpu0 165 0 143 255 0 0 9 0 0 0\n"
				"cpu1 98 0 141 264 10 0 2 0 0 0\ncpu2 118 0 146 252 0 0 6 0 0 0\n");
	r = hostmon_sample(h, 1500);
	assert_string_equal(arr(r, "idle"), "0,1,1,0");
	assert_string_equal(arr(r, "online"), "1,1,1,0");
	json_decref(r);
	hostmon_close(h);
	free(root);
}

static void test_unavailable(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char *root = tree("none", NULL);

	(void)state;
	assert_null(hostmon_open(root, 500, &err));
	assert_non_null(strstr(err.buf, "no per-CPU scheduler state to read: "));
	assert_non_null(strstr(err.buf, "/proc/stat: No such file or directory"));
	/* files that are there but hold nothing usable */
	strbuf_reset(&err);
	put(root, DEBUG_FILE, "Sched Debug Version: v0.11\n");
	put(root, "/proc/stat", "intr 1 2 3\n");
	assert_null(hostmon_open(root, 500, &err));
	assert_non_null(strstr(err.buf, "sched/debug: no \"cpu#N\" section"));
	assert_non_null(strstr(err.buf, "/proc/stat: no \"cpuN\" line"));
	strbuf_release(&err);
	free(root);
}

/* ---- malformed and cut input ----------------------------------------------- */

static void expect_skip(struct hostmon *h, const char *root, const char *text,
			const char *reason)
{
	json_t *r;

	put(root, DEBUG_FILE, text);
	r = hostmon_sample(h, 100);
	if (r)
		fail_msg("expected a skip (%s), got a sample", reason);
	if (!strstr(hostmon_last_skip_reason(h), reason))
		fail_msg("skip reason \"%s\" lacks \"%s\"", hostmon_last_skip_reason(h), reason);
}

static void test_malformed(void **state)
{
	char *root = tree("bad", "eevdf-2.sched_debug");
	struct hostmon *h = must_open(root);
	char *full = fixture("eevdf-3.sched_debug"), *cut, *t;
	json_t *r;

	(void)state;
	expect_skip(h, root, "", "no \"cpu#N\" section");
	expect_skip(h, root, "\x01\x02garbage\xff\n", "no \"cpu#N\" section");
	expect_skip(h, root, "cpu#0\n  .nr_running : 1\ncpu#0\n", "cpu#0 appears twice");
	t = set_field(xstrdup(full), 2, "nr_running", "-1");
	expect_skip(h, root, t, "CPU 2 has no .nr_running");
	free(t);
	/* cut inside CPU 2's block: CPU 3 is online but missing */
	cut = xstrdup(full);
	cut[strstr(cut, "cpu#2,") - cut + 200] = '\0';
	expect_skip(h, root, cut, "CPU 3 is online but not in ");
	/* without sysfs's online list the cut cannot be seen: CPU 3 shows
	 * offline and CPU 2's missing pid and clock drop those fields */
	drop(root, "/sys/devices/system/cpu/online");
	put(root, DEBUG_FILE, cut);
	r = hostmon_sample(h, 200);
	assert_non_null(r);
	assert_string_equal(arr(r, "nr_running"), "4,1,1,0");
	assert_string_equal(arr(r, "online"), "1,1,1,0");
	assert_string_equal(arr(r, "idle"), "-");
	assert_string_equal(arr(r, "clock_adv_us"), "-");
	json_decref(r);
	/* an odd clock on one CPU drops clock_adv_us only */
	t = set_field(xstrdup(full), 1, "clock", "12x");
	put(root, DEBUG_FILE, t);
	r = hostmon_sample(h, 300);
	assert_string_equal(arr(r, "nr_running"), "4,1,1,3");
	assert_string_equal(arr(r, "idle"), "0,0,0,0");
	assert_string_equal(arr(r, "clock_adv_us"), "-");
	json_decref(r);
	free(t);
	drop(root, DEBUG_FILE);
	r = hostmon_sample(h, 400);
	assert_null(r);
	assert_non_null(strstr(hostmon_last_skip_reason(h), "debug: No such file or directory"));
	r = hostmon_end_record(h, 500);
	assert_int_equal(json_get_int(r, "samples", -1), 2);
	assert_int_equal(json_get_int(r, "skipped", -1), 6);
	assert_non_null(strstr(json_get_str(r, "last_skip_reason"), "No such file"));
	json_decref(r);
	hostmon_close(h);
	free(cut);
	free(full);
	free(root);
}

/* ---- through the machine view ------------------------------------------------ */

static void feed(struct machine *m, json_t *rec)
{
	struct strbuf line = STRBUF_INIT, err = STRBUF_INIT;
	json_t *back;

	assert_non_null(rec);
	jsonl_encode(&line, rec);
	json_decref(rec);
	back = jsonl_parse(line.buf, line.len, &err);
	assert_non_null(back);
	machine_feed(m, back, json_get_str(back, "type"));
	json_decref(back);
	strbuf_release(&line);
	strbuf_release(&err);
}

static void eval(const struct machine *m, struct machine_result *r)
{
	struct checks none, L;

	checks_init(&none);
	checks_effective(&none, &L);
	machine_eval(m, NULL, 0, &L, r);
}

/* n samples 500 ms apart of text, its clocks moved on by step_ms each
 * time (0: the kernel's clocks stood still). */
static void run_samples(struct machine *m, struct hostmon *h, const char *root,
			const char *text, int n, long step_ms)
{
	char *t = xstrdup(text);

	for (int i = 1; i <= n; i++) {
		t = shift_clocks(t, step_ms);
		put(root, DEBUG_FILE, t);
		feed(m, hostmon_sample(h, 500LL * i));
	}
	free(t);
}

static void test_machine_stall(void **state)
{
	char *root = tree("stall", "eevdf-3.sched_debug");
	char *text = fixture("eevdf-3.sched_debug");
	struct machine_result r;
	struct hostmon *h;
	struct machine m;

	(void)state;
	/* clocks moving: evaluated, no stall */
	h = must_open(root);
	machine_init(&m);
	feed(&m, hostmon_start_record(h, 0));
	run_samples(&m, h, root, text, 8, 500);
	feed(&m, hostmon_end_record(h, 4500));
	eval(&m, &r);
	assert_true(m.host);
	assert_true(r.checks[MCHK_STALL].evaluated);
	assert_true(r.checks[MCHK_STALL].value == 0);
	assert_true(r.checks[MCHK_STALL].pass);
	assert_true(r.checks[MCHK_WORK_CONSERVATION].evaluated);
	assert_true(r.checks[MCHK_WORK_CONSERVATION].pass);
	assert_true(r.checks[MCHK_IMBALANCE].evaluated);
	assert_false(r.checks[MCHK_LOCAL_DSQ_DEPTH].evaluated);
	machine_result_release(&r);
	machine_release(&m);
	hostmon_close(h);

	/* every busy CPU's clock stuck for 8 samples: four stalls */
	h = must_open(root);
	machine_init(&m);
	feed(&m, hostmon_start_record(h, 0));
	run_samples(&m, h, root, text, 8, 0);
	eval(&m, &r);
	assert_true(r.checks[MCHK_STALL].evaluated);
	assert_true(r.checks[MCHK_STALL].value == 4);
	assert_false(r.checks[MCHK_STALL].pass);
	assert_string_equal(r.checks[MCHK_STALL].message,
			    "stall: CPU 0's runqueue clock stood still for 4000 ms while a task"
			    " was on it (from 0.0 s into the run); 4 stalls in all");
	machine_result_release(&r);
	machine_release(&m);
	hostmon_close(h);

	/* CPU 3 offline, the rest stuck: an offline CPU is no stall */
	put(root, "/sys/devices/system/cpu/online", "0-2\n");
	*strstr(text, "cpu#3,") = '\0';
	put(root, DEBUG_FILE, text);
	h = must_open(root);
	machine_init(&m);
	feed(&m, hostmon_start_record(h, 0));
	run_samples(&m, h, root, text, 8, 0);
	eval(&m, &r);
	assert_true(r.checks[MCHK_STALL].value == 3);
	machine_result_release(&r);
	machine_release(&m);
	hostmon_close(h);
	free(text);
	free(root);
}

static void test_machine_work_conservation(void **state)
{
	char *root = tree("wc", "eevdf-3.sched_debug");
	char *text = fixture("eevdf-3.sched_debug");
	struct machine_result r;
	struct hostmon *h = must_open(root);
	struct machine m;

	(void)state;
	/* CPU 1 runs its idle task while CPU 0 has 4 runnable, CPU 3 3 */
	text = set_field(text, 1, "nr_running", "0");
	text = set_field(text, 1, "curr->pid", "0");
	machine_init(&m);
	feed(&m, hostmon_start_record(h, 0));
	run_samples(&m, h, root, text, 8, 500);
	eval(&m, &r);
	assert_true(r.checks[MCHK_WORK_CONSERVATION].evaluated);
	assert_true(r.checks[MCHK_WORK_CONSERVATION].value == 4000);
	assert_false(r.checks[MCHK_WORK_CONSERVATION].pass);
	assert_string_equal(r.checks[MCHK_WORK_CONSERVATION].message,
			    "work conservation: CPU 1 idle for 4000 ms while CPUs 0,3 had up to"
			    " 4 runnable tasks each (from 0.0 s into the run; limit 500 ms)");
	/* 4 against an idle CPU counted as 1 */
	assert_true(r.checks[MCHK_IMBALANCE].value == 4);
	assert_true(r.checks[MCHK_STALL].pass);
	machine_result_release(&r);
	machine_release(&m);
	hostmon_close(h);
	free(text);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_ms),
		cmocka_unit_test(test_parse_real_debug),
		cmocka_unit_test(test_parse_odd_debug),
		cmocka_unit_test(test_parse_stat_events_word),
		cmocka_unit_test(test_two_samples),
		cmocka_unit_test(test_own_cpu),
		cmocka_unit_test(test_sched_ext_files),
		cmocka_unit_test(test_proc_stat_fallback),
		cmocka_unit_test(test_unavailable),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_machine_stall),
		cmocka_unit_test(test_machine_work_conservation),
	};

	diag_init("test_hostmon");
	return cmocka_run_group_tests(tests, setup, teardown);
}
