/* Unit tests for lib/ctprof*.c: parsers, taskstats decoding, capture
 * against a fake /proc, grouping and delta math, file round trips and
 * load errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctprof.h"
#include "ctprof_compare.h"
#include "ctprof_metrics.h"
#include "ctprof_parse.h"
#include "ctprof_taskstats.h"
#include "fsutil.h"
#include "jsonl.h"

static long long geti(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("field %s missing or not an integer", key);
	return json_integer_value(v);
}

static void assert_absent(const json_t *o, const char *key)
{
	if (json_object_get(o, key))
		fail_msg("field %s should be absent", key);
}

/* ---- parsers ---- */

static const char sched_fixture[] =
	"wo:rk (a) (1234, #threads: 3)\n"
	"-------------------------------------------------------------------\n"
	"se.exec_start                                :       2506457.495405\n"
	"se.vruntime                                  :           687.274980\n"
	"se.sum_exec_runtime                          :             5.285170\n"
	"se.nr_migrations                             :                    7\n"
	"se.statistics.wait_sum                       :             1.000001\n"
	"stats.wait_count                             :                   12\n"
	"sum_sleep_runtime                            :          1000.000000\n"
	"nr_switches                                  :                   42\n"
	"nr_voluntary_switches                        :                   40\n"
	"nr_involuntary_switches                      :                    2\n"
	"se.slice                                     :              3000000\n"
	"ext.enabled                                  :                    1\n"
	"policy                                       :                    0\n"
	"nr_wakeups                                   :                 0.5\n"
	"total_numa_faults                            :                    3\n"
	"current_node=0, numa_group_id=0\n"
	"numa_faults node=0 task_private=0 task_shared=0 group_private=0 group_shared=0\n";

static void test_parse_sched(void **state)
{
	json_t *t = json_object();

	(void)state;
	assert_int_equal(ctprof_parse_sched(sched_fixture, t), 10);
	assert_int_equal(geti(t, "sum_exec_runtime_ns"), 5285170);
	assert_int_equal(geti(t, "nr_migrations"), 7);
	assert_int_equal(geti(t, "wait_sum_ns"), 1000001);
	assert_int_equal(geti(t, "wait_count"), 12);
	assert_int_equal(geti(t, "sleep_sum_ns"), 1000000000LL);
	assert_int_equal(geti(t, "nr_switches"), 42);
	assert_int_equal(geti(t, "nr_voluntary_switches"), 40);
	assert_int_equal(geti(t, "nr_involuntary_switches"), 2);
	assert_int_equal(geti(t, "ext_enabled"), 1);
	/* On sched_ext, se.slice is EEVDF's stale value and this kernel
	 * prints no ext.slice: no slice at all, not a wrong one. */
	assert_absent(t, "slice_ns");
	assert_int_equal(geti(t, "numa_faults"), 3);
	/* Not kept, or not shown by this kernel: absent rather than zero. */
	assert_absent(t, "policy");
	assert_absent(t, "vruntime");
	assert_absent(t, "iowait_sum_ns");
	/* A split (time) value on a counter is malformed and ignored. */
	assert_absent(t, "nr_wakeups");
	json_decref(t);
}

/* The slice a task runs by: EEVDF's se.slice, or on sched_ext the
 * ext.slice a kernel prints (as a 7.3 guest shows them, trimmed). */
static void test_parse_sched_slice(void **state)
{
	static const char eevdf[] =
		"cat (109, #threads: 1)\n"
		"se.slice                                     :              2800000\n"
		"ext.enabled                                  :                    0\n";
	static const char scx[] =
		"cat (109, #threads: 1)\n"
		"se.slice                                     :              1400000\n"
		"ext.enabled                                  :                    1\n"
		"ext.slice                                    :             20000000\n";
	static const char no_ext[] =
		"cat (109, #threads: 1)\n"
		"se.slice                                     :              2800000\n";
	json_t *t = json_object();

	(void)state;
	assert_int_equal(ctprof_parse_sched(eevdf, t), 2);
	assert_int_equal(geti(t, "slice_ns"), 2800000);
	json_decref(t);
	t = json_object();
	assert_int_equal(ctprof_parse_sched(scx, t), 2);
	assert_int_equal(geti(t, "slice_ns"), 20000000);
	json_decref(t);
	/* Kernels without sched_ext print no ext.enabled at all. */
	t = json_object();
	assert_int_equal(ctprof_parse_sched(no_ext, t), 1);
	assert_int_equal(geti(t, "slice_ns"), 2800000);
	json_decref(t);
}

static void test_parse_sched_value(void **state)
{
	long long v;
	bool split;

	(void)state;
	assert_int_equal(ctprof_parse_sched_value("  123 ", &v, &split), 0);
	assert_int_equal(v, 123);
	assert_false(split);
	assert_int_equal(ctprof_parse_sched_value("0.000001", &v, &split), 0);
	assert_int_equal(v, 1);
	assert_true(split);
	assert_int_equal(ctprof_parse_sched_value("-1.500000", &v, &split), 0);
	assert_int_equal(v, -1500000);
	assert_int_equal(ctprof_parse_sched_value("1.5", &v, &split), -1);
	assert_int_equal(ctprof_parse_sched_value("x", &v, &split), -1);
	assert_int_equal(ctprof_parse_sched_value(".000001", &v, &split), -1);
	assert_int_equal(ctprof_parse_sched_value("1.000001x", &v, &split), -1);
}

static void test_parse_stat_odd_comm(void **state)
{
	/* comm "(a) b)": spaces and parentheses; the last ')' ends it.  rsslim
	 * is ULONG_MAX, bigger than a long long. */
	const char *stat =
		"4242 ((a) b)) S 1 4242 4242 0 -1 4194560 100 7 2 0 150 25 0 0 "
		"20 -5 3 0 1234 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 "
		"0 0 0 17 1 0 7 0 0 0\n";
	json_t *t = json_object();

	(void)state;
	assert_int_equal(ctprof_parse_stat(stat, 100, t), 0);
	assert_string_equal(json_get_str(t, "comm"), "(a) b)");
	assert_string_equal(json_get_str(t, "state"), "S");
	assert_int_equal(geti(t, "minflt"), 100);
	assert_int_equal(geti(t, "majflt"), 2);
	assert_int_equal(geti(t, "utime_us"), 1500000);
	assert_int_equal(geti(t, "stime_us"), 250000);
	assert_int_equal(geti(t, "priority"), 20);
	assert_int_equal(geti(t, "nice"), -5);
	assert_int_equal(geti(t, "start_time_ms"), 12340);
	assert_int_equal(geti(t, "last_cpu"), 1);
	assert_int_equal(geti(t, "rt_priority"), 0);
	assert_int_equal(geti(t, "policy"), 7);
	json_decref(t);
}

static void test_parse_stat_short_and_bad(void **state)
{
	json_t *t = json_object();

	(void)state;
	/* An old kernel's shorter line: what is there is kept, the rest absent. */
	assert_int_equal(ctprof_parse_stat("9 (x y) R 1 9 9 0 -1 0 5 0 1 0 3 4\n", 250, t), 0);
	assert_string_equal(json_get_str(t, "comm"), "x y");
	assert_int_equal(geti(t, "utime_us"), 12000);
	assert_int_equal(geti(t, "stime_us"), 16000);
	assert_absent(t, "priority");
	assert_absent(t, "policy");
	json_decref(t);

	t = json_object();
	assert_int_equal(ctprof_parse_stat("9 (noclose R 1", 100, t), -1);
	assert_int_equal(ctprof_parse_stat("garbage", 100, t), -1);
	assert_int_equal(ctprof_parse_stat("9 (x) R 1 zz 3", 100, t), -1);
	assert_int_equal(ctprof_parse_stat("9 (x)", 100, t), -1);
	json_decref(t);
}

static void test_parse_small_files(void **state)
{
	json_t *t = json_object();
	char *cg;

	(void)state;
	assert_int_equal(ctprof_parse_schedstat("3924723 644905 2\n", t), 0);
	assert_int_equal(geti(t, "run_time_ns"), 3924723);
	assert_int_equal(geti(t, "run_delay_ns"), 644905);
	assert_int_equal(geti(t, "timeslices"), 2);
	assert_int_equal(ctprof_parse_schedstat("1 2\n", t), -1);

	assert_int_equal(ctprof_parse_io("rchar: 6976\nwchar: 1\nsyscr: 10\nsyscw: 0\n"
					 "read_bytes: 4096\nwrite_bytes: 0\n"
					 "cancelled_write_bytes: 0\nbogus: 9\n", t), 7);
	assert_int_equal(geti(t, "rchar_bytes"), 6976);
	assert_int_equal(geti(t, "read_bytes"), 4096);

	assert_int_equal(ctprof_parse_status("Name:\tx\nCpus_allowed:\tff\n"
					     "Cpus_allowed_list:\t0-3,8\n"
					     "voluntary_ctxt_switches:\t9\n"
					     "nonvoluntary_ctxt_switches:\t4\n", t), 3);
	assert_string_equal(json_get_str(t, "cpus_allowed"), "0-3,8");
	assert_int_equal(geti(t, "cpus_allowed_count"), 5);
	assert_int_equal(geti(t, "voluntary_ctxt_switches"), 9);
	assert_int_equal(geti(t, "nonvoluntary_ctxt_switches"), 4);
	json_decref(t);

	cg = ctprof_parse_cgroup("4:memory:/x\n0::/user.slice/my app.scope\n");
	assert_string_equal(cg, "/user.slice/my app.scope");
	free(cg);
	assert_null(ctprof_parse_cgroup("4:memory:/x\n1:cpu:/\n"));

	assert_int_equal(ctprof_cpulist_count("0-3,8,10-11\n"), 7);
	assert_int_equal(ctprof_cpulist_count("5"), 1);
	assert_int_equal(ctprof_cpulist_count(""), 0);
	assert_int_equal(ctprof_cpulist_count("3-1"), -1);
	assert_int_equal(ctprof_cpulist_count("a"), -1);
	assert_int_equal(ctprof_cpulist_count("1-"), -1);
}

static void test_parse_cgroup_files(void **state)
{
	json_t *o = json_object();

	(void)state;
	assert_int_equal(ctprof_parse_cpu_stat("usage_usec 100\nuser_usec 60\nsystem_usec 40\n"
					       "nr_periods 5\nnr_throttled 2\n"
					       "throttled_usec 777\nnice_usec 3\n", o), 6);
	assert_int_equal(geti(o, "cpu_usage_us"), 100);
	assert_int_equal(geti(o, "cpu_throttled_us"), 777);
	assert_absent(o, "cpu_nr_bursts");
	assert_int_equal(ctprof_parse_psi("some avg10=3.11 avg60=2.70 avg300=1.10 total=95227162\n"
					  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
					  "cpu", o), 6);
	assert_float_equal(json_real_value(json_object_get(o, "cpu_some_avg10_pct")), 3.11, 1e-9);
	assert_float_equal(json_real_value(json_object_get(o, "cpu_some_avg60_pct")), 2.70, 1e-9);
	assert_int_equal(geti(o, "cpu_some_total_us"), 95227162);
	assert_int_equal(geti(o, "cpu_full_total_us"), 0);
	assert_absent(o, "cpu_some_avg300_pct");
	json_decref(o);
}

/* ---- taskstats reply decoding ---- */

/* Build a TASKSTATS_CMD_NEW reply carrying stats_len bytes of st. */
static size_t ts_reply(char *buf, size_t size, uint32_t pid, const struct taskstats *st,
		       size_t stats_len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *aggr, *a;
	char *p;

	memset(buf, 0, size);
	h->nlmsg_type = 0x20;
	p = buf + NLMSG_LENGTH(GENL_HDRLEN);
	aggr = (struct nlattr *)p;
	aggr->nla_type = TASKSTATS_TYPE_AGGR_PID;
	p += NLA_HDRLEN;
	a = (struct nlattr *)p;
	a->nla_type = TASKSTATS_TYPE_PID;
	a->nla_len = NLA_HDRLEN + 4;
	memcpy(p + NLA_HDRLEN, &pid, 4);
	p += NLA_ALIGN(a->nla_len);
	a = (struct nlattr *)p;
	a->nla_type = TASKSTATS_TYPE_STATS;
	a->nla_len = (uint16_t)(NLA_HDRLEN + stats_len);
	memcpy(p + NLA_HDRLEN, st, stats_len);
	p += NLA_ALIGN(a->nla_len);
	aggr->nla_len = (uint16_t)(p - (char *)aggr);
	h->nlmsg_len = (uint32_t)(p - buf);
	assert_true(h->nlmsg_len <= size);
	return h->nlmsg_len;
}

static void test_taskstats_parse(void **state)
{
	struct taskstats st;
	char buf[2048];
	json_t *t;
	size_t n;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.version = TASKSTATS_VERSION;
	st.cpu_count = 3;
	st.cpu_delay_total = 4000;
	st.blkio_count = 1;
	st.blkio_delay_total = 500;
	st.wpcopy_delay_total = 9;
	n = ts_reply(buf, sizeof(buf), 77, &st, sizeof(st));

	t = json_object();
	assert_int_equal(ctprof_taskstats_parse(buf, n, 77, true, t), 0);
	assert_int_equal(geti(t, "cpu_delay_count"), 3);
	assert_int_equal(geti(t, "cpu_delay_ns"), 4000);
	assert_int_equal(geti(t, "blkio_delay_ns"), 500);
	assert_int_equal(geti(t, "wpcopy_delay_ns"), 9);
	/* Beyond this header's struct: the kernel did not send it. */
	if (sizeof(st) <= offsetof(struct taskstats, wpcopy_delay_total) + 8)
		assert_absent(t, "irq_delay_ns");
	json_decref(t);

	/* Delay accounting off: only the always-valid CPU delay. */
	t = json_object();
	assert_int_equal(ctprof_taskstats_parse(buf, n, 77, false, t), 0);
	assert_int_equal(geti(t, "cpu_delay_ns"), 4000);
	assert_absent(t, "blkio_delay_ns");
	json_decref(t);

	/* An older kernel's shorter struct: later fields absent. */
	n = ts_reply(buf, sizeof(buf), 77, &st, offsetof(struct taskstats, freepages_count));
	t = json_object();
	assert_int_equal(ctprof_taskstats_parse(buf, n, 77, true, t), 0);
	assert_int_equal(geti(t, "swapin_delay_count"), 0);
	assert_absent(t, "freepages_delay_ns");
	assert_absent(t, "wpcopy_delay_ns");
	/* Someone else's reply, or garbage. */
	assert_int_equal(ctprof_taskstats_parse(buf, n, 78, true, t), -1);
	assert_int_equal(ctprof_taskstats_parse(buf, 10, 77, true, t), -1);
	json_decref(t);
}

/* ---- capture against a fake /proc ---- */

struct fx {
	char dir[64];
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || tmpdir_create(fx->dir, sizeof(fx->dir), "ctprof") < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	int rc = tmpdir_remove(fx->dir);

	free(fx);
	return rc;
}

static const char *P(void **state, const char *rel)
{
	return tmpdir_path(((struct fx *)*state)->dir, rel);
}

static void put(void **state, const char *rel, const char *text)
{
	const char *path = P(state, rel);
	char *dir = path_dirname(path);

	assert_int_equal(mkdir_p(dir, 0755), 0);
	free(dir);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static json_t *by_tid(json_t *threads, long long tid)
{
	json_t *t;
	size_t i;

	json_array_foreach(threads, i, t)
		if (geti(t, "tid") == tid)
			return t;
	fail_msg("no thread %lld", tid);
	return NULL;
}

static void test_capture_fake_proc(void **state)
{
	struct ctprof_capture_opts o = { .no_taskstats = true };
	struct strbuf err = STRBUF_INIT;
	char mountinfo[600];
	json_t *doc, *threads, *t, *cg;

	/* Process 10 "srv" with three threads: 10 has everything, 11 only
	 * stat (a kernel without the other files), 12 has vanished (its
	 * directory is there but stat is not). */
	put(state, "proc/10/comm", "srv\n");
	put(state, "proc/10/task/10/stat",
	    "10 (srv) S 1 10 10 0 -1 0 1 0 0 0 100 50 0 0 20 0 3 0 500 0 0 0\n");
	put(state, "proc/10/task/10/sched",
	    "srv (10, #threads: 3)\n---\nse.sum_exec_runtime : 1.000000\nnr_switches : 5\n");
	put(state, "proc/10/task/10/schedstat", "1000000 20 5\n");
	put(state, "proc/10/task/10/status", "Cpus_allowed_list:\t0-1\nvoluntary_ctxt_switches:\t4\n");
	put(state, "proc/10/task/10/cgroup", "0::/app\n");
	put(state, "proc/10/task/11/stat", "11 (srv worker) R 1 10 10 0 -1 0 1 0 0 0 1 1 0 0 20 0 3 0 600\n");
	put(state, "proc/10/task/12/status", "x\n");
	/* Process 30 is in a plain domain cgroup: its threads are too, without
	 * a cgroup file of their own. */
	put(state, "proc/30/comm", "dom\n");
	put(state, "proc/30/cgroup", "0::/app\n");
	put(state, "proc/30/task/30/stat", "30 (dom) S 1 30 30 0 -1 0 1 0 0 0 1 1\n");
	put(state, "proc/30/task/31/stat", "31 (dom2) S 1 30 30 0 -1 0 1 0 0 0 1 1\n");
	put(state, "cg/app/cgroup.type", "domain\n");
	/* A process whose comm is gone is skipped entirely. */
	put(state, "proc/20/task/20/stat", "20 (ghost) S 1 20 20 0 -1 0 1 0 0 0 1 1\n");
	put(state, "proc/uptime", "1.0 1.0\n");
	snprintf(mountinfo, sizeof(mountinfo),
		 "30 1 0:26 / %s rw - cgroup2 cgroup2 rw\n", P(state, "cg"));
	put(state, "proc/self/mountinfo", mountinfo);
	put(state, "cg/app/cpu.stat", "usage_usec 1234\nnr_throttled 2\n");
	put(state, "cg/app/cpu.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=99\n");
	put(state, "sys/kernel/sched_ext/state", "enabled\n");
	put(state, "sys/kernel/sched_ext/root/ops", "simple\n");
	put(state, "sys/kernel/sched_ext/nr_rejected", "0\n");

	o.proc = P(state, "proc");
	o.sys = P(state, "sys");
	assert_int_equal(ctprof_capture_with(&o, &doc, &err), 0);
	assert_int_equal(ctprof_validate(doc, &err), 0);
	threads = json_object_get(doc, "threads");
	assert_int_equal(json_array_size(threads), 4);
	assert_int_equal(geti(json_object_get(doc, "capture"), "vanished_threads"), 1);
	assert_int_equal(geti(json_object_get(doc, "capture"), "processes"), 2);
	assert_string_equal(json_get_str(by_tid(threads, 30), "cgroup"), "/app");
	assert_string_equal(json_get_str(by_tid(threads, 31), "cgroup"), "/app");
	assert_string_equal(json_get_str(by_tid(threads, 31), "pcomm"), "dom");

	/* readdir order of the fake tree is the filesystem's, not numeric. */
	t = by_tid(threads, 10);
	assert_string_equal(json_get_str(t, "pcomm"), "srv");
	assert_string_equal(json_get_str(t, "comm"), "srv");
	assert_string_equal(json_get_str(t, "cgroup"), "/app");
	assert_int_equal(geti(t, "sum_exec_runtime_ns"), 1000000);
	assert_int_equal(geti(t, "run_delay_ns"), 20);
	assert_int_equal(geti(t, "cpus_allowed_count"), 2);

	t = by_tid(threads, 11);
	assert_int_equal(geti(t, "pid"), 10);
	assert_string_equal(json_get_str(t, "comm"), "srv worker");
	assert_string_equal(json_get_str(t, "pcomm"), "srv");
	assert_int_equal(geti(t, "utime_us"), 10000);
	/* The kernel "lacks" these files for this thread: absent, not 0. */
	assert_absent(t, "sum_exec_runtime_ns");
	assert_absent(t, "run_delay_ns");
	assert_absent(t, "cgroup");
	assert_absent(t, "rchar_bytes");
	assert_absent(t, "cpu_delay_ns");

	cg = json_object_get(json_object_get(doc, "cgroups"), "/app");
	assert_non_null(cg);
	assert_int_equal(geti(cg, "cpu_usage_us"), 1234);
	assert_int_equal(geti(cg, "cpu_nr_throttled"), 2);
	assert_int_equal(geti(cg, "cpu_some_total_us"), 99);
	assert_absent(cg, "memory_some_total_us");

	assert_string_equal(json_get_str(json_object_get(doc, "sched_ext"), "state"), "enabled");
	assert_string_equal(json_get_str(json_object_get(doc, "sched_ext"), "root_ops"), "simple");
	assert_int_equal(geti(json_object_get(doc, "sched_ext"), "nr_rejected"), 0);
	json_decref(doc);
	strbuf_release(&err);
}

static void test_capture_host(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *doc, *t;
	size_t i;
	bool self = false;

	(void)state;
	assert_int_equal(ctprof_capture(&doc, &err), 0);
	assert_int_equal(ctprof_validate(doc, &err), 0);
	assert_true(json_array_size(json_object_get(doc, "threads")) > 0);
	json_array_foreach(json_object_get(doc, "threads"), i, t)
		if (geti(t, "pid") == getpid())
			self = true;
	assert_true(self);
	assert_non_null(json_get_str(json_object_get(doc, "host"), "kernel_release"));
	json_decref(doc);
	strbuf_release(&err);
}

/* ---- grouping and deltas ---- */

static json_t *thread(const char *comm, const char *pcomm, const char *cg, long long tid,
		      long long runtime, long long nice, long long wait_max)
{
	json_t *t = json_object();

	json_set_int(t, "pid", tid);
	json_set_int(t, "tid", tid);
	json_set_str(t, "comm", comm);
	json_set_str(t, "pcomm", pcomm);
	if (cg)
		json_set_str(t, "cgroup", cg);
	if (runtime >= 0)
		json_set_int(t, "sum_exec_runtime_ns", runtime);
	json_set_int(t, "nice", nice);
	json_set_int(t, "wait_max_ns", wait_max);
	return t;
}

static json_t *snap(json_t *threads, json_t *cgroups)
{
	json_t *d = json_object();

	json_set_str(d, "format", CTPROF_FORMAT);
	json_set_int(d, "version", CTPROF_VERSION);
	json_object_set_new(d, "cgroups", cgroups ? cgroups : json_object());
	json_object_set_new(d, "threads", threads);
	return d;
}

static const struct ctprof_group *find(const struct ctprof_groups *gs, const char *key)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		if (!strcmp(gs->g[i].key, key))
			return &gs->g[i];
	fail_msg("no group %s", key);
	return NULL;
}

static size_t M(const char *name)
{
	int i = ctprof_metric_find(name);

	assert_true(i >= 0);
	return (size_t)i;
}

static void test_group_aggregate(void **state)
{
	json_t *th = json_array(), *cgs = json_object(), *cg = json_object(), *d;
	struct ctprof_groups gs;
	const struct ctprof_group *g;
	size_t rt = M("sum_exec_runtime_ns"), nice = M("nice"), wmax = M("wait_max_ns");

	(void)state;
	json_array_append_new(th, thread("w", "app", "/a", 1, 100, 0, 5));
	json_array_append_new(th, thread("w", "app", "/a", 2, 200, -10, 9));
	json_array_append_new(th, thread("x", "app", "/b", 3, -1, 5, 1));	/* no runtime */
	json_array_append_new(th, thread("y", "other", NULL, 4, 1000, 0, 0));
	/* One kworker under two workqueue names: one group. */
	json_array_append_new(th, thread("kworker/1:1-events", "kworker/1:1-events", "/", 5, 1, 0, 0));
	json_array_append_new(th, thread("kworker/1:1-mm_percpu_wq", "kworker/1:1-mm_percpu_wq",
					 "/", 6, 2, 0, 0));
	json_set_int(cg, "cpu_usage_us", 4242);
	json_object_set_new(cgs, "/a", cg);
	d = snap(th, cgs);

	ctprof_group(d, CTPROF_BY_COMM, &gs);
	assert_int_equal(gs.n, 4);
	assert_int_equal(gs.threads, 6);
	assert_int_equal(find(&gs, "kworker/1:1")->threads, 2);
	assert_int_equal(find(&gs, "kworker/1:1")->v[rt].i, 3);
	g = find(&gs, "w");
	assert_int_equal(g->threads, 2);
	assert_true(g->v[rt].present && !g->v[rt].real);
	assert_int_equal(g->v[rt].i, 300);
	assert_true(g->v[nice].real);
	assert_float_equal(g->v[nice].r, -5.0, 1e-12);
	assert_int_equal(g->v[wmax].i, 9);
	/* No thread of x has the field: absent, not a zero sum. */
	assert_false(find(&gs, "x")->v[rt].present);
	ctprof_groups_sort(&gs, rt);
	assert_string_equal(gs.g[0].key, "y");
	assert_string_equal(gs.g[1].key, "w");
	assert_string_equal(gs.g[2].key, "kworker/1:1");
	assert_string_equal(gs.g[3].key, "x");
	ctprof_groups_release(&gs);

	ctprof_group(d, CTPROF_BY_ALL, &gs);
	assert_int_equal(gs.n, 1);
	assert_int_equal(gs.g[0].v[rt].i, 1303);
	assert_float_equal(gs.g[0].v[nice].r, -5.0 / 6, 1e-12);
	ctprof_groups_release(&gs);

	ctprof_group(d, CTPROF_BY_PCOMM, &gs);
	assert_int_equal(gs.n, 3);
	assert_int_equal(find(&gs, "app")->threads, 3);
	assert_int_equal(find(&gs, "app")->v[rt].i, 300);
	ctprof_groups_release(&gs);

	/* By cgroup: the cgroup's own numbers join the thread sums. */
	ctprof_group(d, CTPROF_BY_CGROUP, &gs);
	assert_int_equal(gs.n, 4);
	g = find(&gs, "/a");
	assert_int_equal(g->v[M("cgroup_cpu_usage_us")].i, 4242);
	assert_false(find(&gs, "/b")->v[M("cgroup_cpu_usage_us")].present);
	assert_int_equal(find(&gs, "(no cgroup v2)")->threads, 1);
	ctprof_groups_release(&gs);
	json_decref(d);
}

static void test_compare_deltas(void **state)
{
	json_t *ta = json_array(), *tb = json_array(), *a, *b;
	struct ctprof_groups ga, gb;
	struct ctprof_comparison c;
	struct ctprof_delta d;
	size_t rt = M("sum_exec_runtime_ns"), nice = M("nice");

	(void)state;
	json_array_append_new(ta, thread("x", "p", NULL, 1, 100, 0, 0));
	json_array_append_new(ta, thread("gone", "p", NULL, 2, 50, 0, 0));
	json_array_append_new(ta, thread("zero", "p", NULL, 3, 0, 0, 0));
	json_array_append_new(tb, thread("x", "p", NULL, 1, 250, 10, 0));
	json_array_append_new(tb, thread("new", "p", NULL, 4, 70, 0, 0));
	json_array_append_new(tb, thread("zero", "p", NULL, 3, 20, 0, 0));
	a = snap(ta, NULL);
	b = snap(tb, NULL);
	ctprof_group(a, CTPROF_BY_COMM, &ga);
	ctprof_group(b, CTPROF_BY_COMM, &gb);
	ctprof_compare(&ga, &gb, rt, &c);
	assert_int_equal(c.n, 4);
	/* Largest |delta| first: x +150, new +70, gone -50, zero +20. */
	assert_string_equal(c.p[0].key, "x");
	assert_int_equal(c.p[0].status, CTPROF_BOTH);
	assert_string_equal(c.p[1].key, "new");
	assert_int_equal(c.p[1].status, CTPROF_NEW);
	assert_null(c.p[1].a);
	assert_string_equal(c.p[2].key, "gone");
	assert_int_equal(c.p[2].status, CTPROF_GONE);
	assert_string_equal(c.p[3].key, "zero");

	ctprof_delta(rt, c.p[0].a, c.p[0].b, c.p[0].status, &d);
	assert_true(d.d.present);
	assert_int_equal(d.d.i, 150);
	assert_true(d.has_pct);
	assert_float_equal(d.pct, 150.0, 1e-9);
	ctprof_delta(nice, c.p[0].a, c.p[0].b, c.p[0].status, &d);
	assert_true(d.d.real);
	assert_float_equal(d.d.r, 10.0, 1e-12);
	assert_false(d.has_pct);	/* a is 0 */

	/* New: the whole counter is the delta; a itself stays absent. */
	ctprof_delta(rt, c.p[1].a, c.p[1].b, c.p[1].status, &d);
	assert_false(d.a.present);
	assert_int_equal(d.d.i, 70);
	assert_false(d.has_pct);
	/* A mean has no empty-set value: no delta for a new group. */
	ctprof_delta(nice, c.p[1].a, c.p[1].b, c.p[1].status, &d);
	assert_false(d.d.present);
	/* Gone: everything it had is lost. */
	ctprof_delta(rt, c.p[2].a, c.p[2].b, c.p[2].status, &d);
	assert_false(d.b.present);
	assert_int_equal(d.d.i, -50);
	assert_true(d.has_pct);
	assert_float_equal(d.pct, -100.0, 1e-9);
	ctprof_delta(rt, c.p[3].a, c.p[3].b, c.p[3].status, &d);
	assert_int_equal(d.d.i, 20);
	assert_false(d.has_pct);

	ctprof_comparison_release(&c);
	/* Against itself: every delta is zero. */
	ctprof_compare(&ga, &ga, rt, &c);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.p[i].status, CTPROF_BOTH);
		for (size_t m = 0; m < ctprof_n_metrics; m++) {
			ctprof_delta(m, c.p[i].a, c.p[i].b, c.p[i].status, &d);
			if (d.d.present)
				assert_true(ctprof_value_num(&d.d) == 0);
		}
	}
	ctprof_comparison_release(&c);
	ctprof_groups_release(&ga);
	ctprof_groups_release(&gb);
	json_decref(a);
	json_decref(b);
}

static void test_metric_table(void **state)
{
	enum ctprof_group_by by;
	size_t i, j;
	char *names;

	(void)state;
	for (i = 0; i < ctprof_n_metrics; i++)
		for (j = i + 1; j < ctprof_n_metrics; j++)
			assert_string_not_equal(ctprof_metrics[i].name, ctprof_metrics[j].name);
	assert_int_equal(ctprof_metric_find("sum_exec_runtime"), M("sum_exec_runtime_ns"));
	assert_int_equal(ctprof_metric_find("cgroup_cpu_usage"), M("cgroup_cpu_usage_us"));
	assert_int_equal(ctprof_metric_find("nope"), -1);
	assert_int_equal(ctprof_metric_find(""), -1);
	assert_false(ctprof_metric_comparable(&ctprof_metrics[M("cpus_allowed")]));
	names = ctprof_metric_names(false);
	assert_non_null(strstr(names, "sum_exec_runtime_ns"));
	assert_null(strstr(names, "cgroup_"));
	assert_null(strstr(names, "cpus_allowed,"));
	free(names);
	assert_int_equal(ctprof_group_by_parse("cgroup", &by), 0);
	assert_int_equal(by, CTPROF_BY_CGROUP);
	assert_int_equal(ctprof_group_by_parse("tid", &by), -1);
}

/* ---- files ---- */

static json_t *sample_doc(void)
{
	json_t *th = json_array(), *cgs = json_object(), *cg = json_object();

	json_array_append_new(th, thread("a b", "p", "/", 1, 123456789, -3, 7));
	json_array_append_new(th, thread("\xe2\x9c\x93", "p", "/", 2, 1, 0, 0));
	json_set_real(cg, "cpu_some_avg10_pct", 3.11);
	json_object_set_new(cgs, "/", cg);
	return snap(th, cgs);
}

static void test_save_load_roundtrip(void **state)
{
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT;
	json_t *doc = sample_doc(), *back;
	const char *plain = P(state, "x.ctprof"), *zst = P(state, "x.ctprof.zst");
	const char *odd = P(state, "zst-named-plain");

	assert_int_equal(ctprof_save(doc, plain, &err), 0);
	assert_int_equal(ctprof_save(doc, zst, &err), 0);
	/* The .zst file really is zstd (by magic), and smaller. */
	assert_int_equal(strbuf_read_file(&raw, zst), 0);
	assert_true(raw.len > 4 && !memcmp(raw.buf, "\x28\xb5\x2f\xfd", 4));
	strbuf_release(&raw);

	back = ctprof_load(plain, &err);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	json_decref(back);
	back = ctprof_load(zst, &err);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	json_decref(back);

	/* Detection is by content: a compressed file under any name loads. */
	assert_int_equal(rename(zst, odd), 0);
	back = ctprof_load(odd, &err);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	json_decref(back);
	assert_int_equal(err.len, 0);
	json_decref(doc);
}

/* Load expecting failure; the message must name the file and contain want. */
static void expect_load_error(const char *path, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	json_t *doc = ctprof_load(path, &err);

	if (doc)
		fail_msg("%s loaded, expected '%s'", path, want);
	if (!strstr(err.buf, path) || !strstr(err.buf, want))
		fail_msg("error for %s: '%s', expected '%s'", path, err.buf, want);
	assert_null(strchr(err.buf, '\n'));
	strbuf_release(&err);
}

static void test_load_errors(void **state)
{
	struct strbuf enc = STRBUF_INIT, raw = STRBUF_INIT, err = STRBUF_INIT;
	json_t *doc = sample_doc();

	ctprof_encode(doc, &enc);
	expect_load_error(P(state, "missing.ctprof"), "No such file or directory");

	put(state, "empty", "");
	expect_load_error(P(state, "empty"), "empty file");

	assert_int_equal(write_file_atomic(P(state, "trunc"), enc.buf, enc.len / 2, 0644), 0);
	expect_load_error(P(state, "trunc"), "truncated JSON");

	put(state, "other.json", "{\"a\":1}\n");
	expect_load_error(P(state, "other.json"), "not a ktstr-ctprof capture");

	put(state, "junk", "hello\n");
	expect_load_error(P(state, "junk"), "not valid JSON");

	put(state, "v2", "{\"format\":\"ktstr-ctprof\",\"version\":2,\"threads\":[]}");
	expect_load_error(P(state, "v2"), "version 2");

	put(state, "nothreads", "{\"format\":\"ktstr-ctprof\",\"version\":1}");
	expect_load_error(P(state, "nothreads"), "\"threads\"");

	assert_int_equal(write_file_atomic(P(state, "bad.zst"),
					   "\x28\xb5\x2f\xfdgarbage garbage garbage", 27, 0644), 0);
	expect_load_error(P(state, "bad.zst"), "corrupt zstd data");

	/* Half of a real .zst: a frame that stops early. */
	assert_int_equal(ctprof_save(doc, P(state, "whole.zst"), &err), 0);
	assert_int_equal(strbuf_read_file(&raw, P(state, "whole.zst")), 0);
	assert_int_equal(write_file_atomic(P(state, "half.zst"), raw.buf, raw.len / 2, 0644), 0);
	expect_load_error(P(state, "half.zst"), "truncated zstd data");

	strbuf_release(&raw);
	strbuf_release(&enc);
	strbuf_release(&err);
	json_decref(doc);
}

static void test_save_unwritable(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *doc = sample_doc();
	const char *path = P(state, "no/such/dir/x.ctprof.zst");

	assert_int_equal(ctprof_save(doc, path, &err), -1);
	assert_non_null(strstr(err.buf, path));
	assert_non_null(strstr(err.buf, "cannot write"));
	assert_false(path_exists(P(state, "no")));
	strbuf_release(&err);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sched),
		cmocka_unit_test(test_parse_sched_slice),
		cmocka_unit_test(test_parse_sched_value),
		cmocka_unit_test(test_parse_stat_odd_comm),
		cmocka_unit_test(test_parse_stat_short_and_bad),
		cmocka_unit_test(test_parse_small_files),
		cmocka_unit_test(test_parse_cgroup_files),
		cmocka_unit_test(test_taskstats_parse),
		cmocka_unit_test_setup_teardown(test_capture_fake_proc, fx_setup, fx_teardown),
		cmocka_unit_test(test_capture_host),
		cmocka_unit_test(test_group_aggregate),
		cmocka_unit_test(test_compare_deltas),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test_setup_teardown(test_save_load_roundtrip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_save_unwritable, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
