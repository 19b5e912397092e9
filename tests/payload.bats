#!/usr/bin/env bats
# Payloads end to end: real benchmarks (rt-tests, stress-ng, fio, sysbench,
# perf) copied into a real guest, run in cgroups beside the workers, their
# output turned into metrics, checks, sidecars and an A/B comparison.
# cyclictest's exit walks its 50 ms histogram within the 3 s stop grace:
# beside another file's guests on the same cores it ran out of it in CI.
# run-bats: alone

load lib/common
load lib/runner

setup() {
	common_setup
	runner_env
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
}
teardown() { common_teardown; }

# Assert on the run's records as one array (see scenario.bats).
recq() {
	jq -e -s "$1" "$TEST_TMP/rec" >/dev/null || {
		echo "records check failed: $1" >&2
		return 1
	}
}

# Run a scenario and its verdict: records in $TEST_TMP/rec, the JSON
# verdict in $TEST_TMP/verdict, ktstr-stats' exit status in $status.
scenario_verdict() {
	ktstr-vm -k "$KERNEL" "$@" >"$TEST_TMP/rec" 2>"$TEST_TMP/vm.err" || true
	run --separate-stderr ktstr-stats --json "$TEST_TMP/rec"
	printf '%s\n' "$output" >"$TEST_TMP/verdict"
	echo "verdict: $output"
	echo "stats stderr: $stderr"
	cat "$TEST_TMP/vm.err"
}

@test "cyclictest_under_load: cyclictest beside CPU hogs on 1,2,2,1 reports its latencies and passes" {
	scenario_verdict --topo 1,2,2,1 --scenario cyclictest_under_load
	[ "$status" -eq 0 ]
	jq -e '.result == "pass"' "$TEST_TMP/verdict"
	recq 'map(select(.type == "payload" and .event == "start")) | length == 1 and
	      (.[0].argv | index("--json=/tmp/ktstr-payload/cyclictest.0.out") != null)'
	recq 'map(select(.type == "payload" and .event == "stop")) | .[0].stopped_by == "end" and .[0].killed == false'
	# The latencies, per thread and overall, in microseconds, lower is better.
	recq 'map(select(.type == "payload_metrics"))[0].metrics as $m |
	      ($m.p99_us.value > 0) and $m.p99_us.unit == "us" and $m.p99_us.better == "lower" and
	      ($m.max_us.value >= $m.p99_us.value) and ($m.avg_us.value > 0) and
	      ($m["thread.0.p99_us"].value > 0)'
	# The hogs ran too: the payload did not run alone.
	recq 'any(.[]; .type == "cgroup_stats" and .cgroup == "hogs" and .iterations > 0)'
	# The human report shows the payload block.
	run ktstr-stats "$TEST_TMP/rec"
	[[ "$output" == *"cyclictest"*"p99_us"* ]]

	# A limit nobody can meet fails the verdict, naming metric, value and limit.
	run --separate-stderr ktstr-stats --json --metric-max cyclictest.p99_us=1 "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	jq -e '.result == "fail"' <<<"$output"
	run ktstr-stats --metric-max cyclictest.p99_us=1 "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	grep -E 'cyclictest.*p99_us = [0-9.]+ us.*at most 1 us' <<<"$output"
	assert_no_qemu
}

@test "hackbench, stress-ng, fio, sysbench and perf bench each give their metrics in one run" {
	cat >"$TEST_TMP/bench.json" <<'JSON'
{
  "name": "bench_mix",
  "duration": "20s",
  "checks": { "max_imbalance_ratio": "off" },
  "cgroups": [{ "name": "bg", "workers": 1, "work": "spin_wait", "background": true }],
  "payloads": [
    { "program": "hackbench", "args": ["-g", "1", "-l", "50"] },
    { "program": "stress-ng", "args": ["--cpu", "1", "--timeout", "2s"] },
    { "program": "fio", "args": ["--name=rr", "--filename=/tmp/fio.dat", "--size=4m",
      "--rw=randread", "--bs=4k", "--ioengine=psync", "--runtime=2", "--time_based"] },
    { "program": "sysbench", "args": ["cpu", "--time=2", "run"] },
    { "program": "perf", "metrics": "perf-bench", "args": ["bench", "sched", "pipe", "-l", "2000"] },
    { "name": "mine", "program": "sh", "args": ["-c", "echo 'requests: 12.5 rps'; echo 'p99: 42 us'"],
      "metrics": { "form": "pattern", "patterns": [
        { "regex": "p99: ([0-9]+) us", "metric": "p99_us", "unit": "us", "better": "lower" },
        { "regex": "requests: ([0-9.]+)", "metric": "rps", "unit": "req/s", "better": "higher" }]},
      "checks": { "max": { "p99_us": 100 }, "min": { "rps": 10 } } }
  ]
}
JSON
	scenario_verdict --topo 1,1,4,1 --scenario "$TEST_TMP/bench.json"
	[ "$status" -eq 0 ]
	jq -e '.result == "pass"' "$TEST_TMP/verdict"
	recq 'map(select(.type == "payload" and .event == "stop")) | length == 6 and
	      all(.exit_code == 0 and .stopped_by == "exit")'
	recq 'map(select(.type == "payload_metrics")) | length == 6 and all(.error == null)'
	# A user's own program, read with patterns, and its checks.
	recq 'map(select(.type == "payload_metrics" and .name == "mine"))[0].metrics |
	      .p99_us.value == 42 and .rps.value == 12.5 and .rps.better == "higher"'
	jq -e '[.checks[] | select(.check == "payload_metric" and .payload == "mine")] |
	       length == 2 and all(.pass)' "$TEST_TMP/verdict"
	recq 'map(select(.type == "payload_metrics" and .name == "hackbench"))[0].metrics.time_s.value > 0'
	recq 'map(select(.type == "payload_metrics" and .name == "stress-ng"))[0].metrics |
	      to_entries | any(.key | test("^cpu\\.bogo_ops")) '
	recq 'map(select(.type == "payload_metrics" and .name == "fio"))[0].metrics |
	      to_entries | any(.key | test("iops")) '
	recq 'map(select(.type == "payload_metrics" and .name == "sysbench"))[0].metrics |
	      to_entries | any(.key | test("events_per_sec")) '
	recq 'map(select(.type == "payload_metrics" and .name == "perf"))[0].metrics |
	      to_entries | any(.key | test("ops_per_sec")) '
	assert_no_qemu
}

@test "a payload whose output does not parse, one that hangs and one that crashes: killed, reported, judged" {
	cat >"$TEST_TMP/bad.json" <<'JSON'
{
  "name": "bad_payloads",
  "duration": "6s",
  "cgroups": [{ "name": "cg_0", "workers": 2 }],
  "payloads": [
    { "name": "garbage", "program": "sh", "metrics": "json",
      "args": ["-c", "echo 'this is not json'; echo 'last line of it'"] },
    { "name": "hang", "program": "sh", "timeout": "1s",
      "args": ["-c", "trap '' INT TERM; while :; do sleep 1; done"] },
    { "name": "crash", "program": "sh", "args": ["-c", "kill -SEGV $$"] }
  ]
}
JSON
	scenario_verdict --topo 1,1,2,1 --scenario "$TEST_TMP/bad.json"
	[ "$status" -eq 1 ]
	jq -e '.result == "fail"' "$TEST_TMP/verdict"
	# The run went on to its end: workers reported, the scenario ended.
	recq 'any(.[]; .type == "scenario_end")'
	recq 'map(select(.type == "worker")) | length == 2'
	recq 'map(select(.type == "payload" and .event == "stop" and .name == "hang"))[0] |
	      .stopped_by == "timeout" and .killed == true'
	recq 'map(select(.type == "payload" and .event == "stop" and .name == "crash"))[0].signal == 11'
	recq 'map(select(.type == "payload_metrics" and .name == "garbage"))[0] |
	      (.error | length > 0) and (.output_tail | index("last line of it") != null)'
	run ktstr-stats "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	[[ "$output" == *"garbage"*"did not parse"* ]]
	[[ "$output" == *"last line of it"* ]]
	[[ "$output" == *"hang"*"killed"* ]]
	[[ "$output" == *"crash"*"signal 11"* ]]
	assert_no_qemu
}

@test "ktstr test --runs 3: cyclictest under EEVDF and scx_simple, compared with p-values" {
	mkdir -p "$TEST_TMP/suite"
	cat >"$TEST_TMP/suite/cyclictest_ab.json" <<'JSON'
{
  "description": "cyclictest latency beside CPU hogs, under whichever scheduler --scheduler names",
  "scenario": "cyclictest_under_load",
  "scheduler": "{scheduler}",
  "presets": ["tiny-2llc"]
}
JSON
	run --separate-stderr ktstr test --kernel "$KERNEL" --jobs 2 --runs 3 \
		--scheduler eevdf --scheduler "$SCHED/scx_simple" "$TEST_TMP/suite"
	echo "$output"
	echo "$stderr" >&2
	grep -qE '^Summary \[ *[0-9.]+s\] 6 passed' <<<"$output"
	[[ "$output" == *"A/B: eevdf vs scx_simple"* ]]
	# Every run's sidecar keeps the payload's metrics with their directions.
	jq -e -s 'length == 6 and all(.metrics["payload.cyclictest.p99_us"] > 0) and
	          all(.metric_info["payload.cyclictest.p99_us"].better == "lower")' \
		"$KTSTR_RUNS_ROOT"/*/*.ktstr.json
	# The comparison shows payload rows with both means (in us) and a
	# p-value; rows within their gate are not listed, so which of them
	# appear depends on the run.
	grep -E '^suite cyclictest_ab/tiny-2llc +payload\.cyclictest\.[a-z0-9_.]+ +[0-9.]+ us +[0-9.]+ us .* (<0\.001|[01]\.[0-9]{3}) +(REGRESSION|improvement|noise|changed)$' <<<"$output"
	assert_no_qemu
}
