#!/usr/bin/env bats
# ktstr-stats over payload records (ktstr-records(7): payload,
# payload_metrics), without a VM: hand-written streams shaped as the guest
# writes them, judged as text and --json, with --metric-max/--metric-min;
# then compare over two runs of sidecars made from those verdicts, and
# ktstr-test judging a case (with a stand-in ktstr-vm that prints the
# records) under a test file's payload_checks, into its sidecar.

load cli
load ../lib/runner

bats_require_minimum_version 1.5.0

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}/ktstr-stats
	unset KTSTR_RUNS_ROOT KTSTR_SIDECAR_DIR KTSTR_CI
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

# run_records P99 [STOP_FIELDS]: one cyclictest run with no workers; its
# p99_us is P99, and STOP_FIELDS replace the stop record's outcome.
run_records() {
	local p99=$1 stop=${2:-'"stopped_by":"end","exit_code":null,"signal":2,"killed":false'}
	cat <<EOF
{"type":"vm_start","topology":"1,2,2,1","scheduler":null}
{"type":"agent_ready"}
{"type":"scenario_start","name":"cyclictest_alone","duration_ms":5000,"cpus":4,"scheduler":null,"checks":{}}
{"type":"payload","event":"start","name":"cyclictest","copy":0,"copies":1,"pid":80,"at_ms":4,"step":0,"cgroup":"cyclictest","program":"cyclictest","argv":["cyclictest","--json=/tmp/ktstr-payload/cyclictest.0.out"],"metrics":"cyclictest","checks":{"exit_code":0,"max":{"p99_us":1000},"min":{}}}
{"type":"payload","event":"stop","name":"cyclictest","copy":0,"pid":80,"at_ms":5004,"wall_ms":5000,$stop}
{"type":"payload_metrics","name":"cyclictest","copy":0,"form":"cyclictest","metrics":{"p99_us":{"value":$p99,"unit":"us","better":"lower"},"avg_us":{"value":12.5,"unit":"us","better":"lower"},"loops":{"value":50000,"unit":"","better":"higher"}}}
{"type":"scenario_end","elapsed_ms":5010,"workers":0,"cpus":4,"payloads":1,"scheduler_alive":true}
{"type":"vm_exit","reason":"exit","exit_code":0,"wall_ms":7000}
EOF
}

@test "stats payload: a run with a payload and no workers passes, its metrics shown" {
	run_records 345 >"$TEST_TMP/run.jsonl"
	stats "$TEST_TMP/run.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "ktstr 'cyclictest_alone' [topo=1,2,2,1 sched=eevdf] passed" ]
	[[ "$output" == *$'payloads:\n  cyclictest copy 0 (cyclictest): signal 2 (SIGINT), stopped by end after 5000ms\n'* ]]
	[[ "$output" == *$'    p99_us = 345 us \u2193\n'* ]]
	[[ "$output" == *$'    loops = 50000 \u2191'* ]]
	# --json: the payloads summary
	stats --json "$TEST_TMP/run.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.payloads[0] | [.name, .copy, .stopped_by, .exit_code, .signal, .killed, .wall_ms, .metrics.p99_us.value, .metrics.p99_us.unit] | @tsv' <<<"$output")" = \
		"$(printf 'cyclictest\t0\tend\t\t2\tfalse\t5000\t345\tus')" ]
	[ "$(jq -r .result <<<"$output")" = pass ]
}

@test "stats payload: --metric-max fails the verdict naming the metric, value and limit" {
	run_records 345 >"$TEST_TMP/run.jsonl"
	run_records 1500 >"$TEST_TMP/slow.jsonl"
	stats --metric-max cyclictest.p99_us=1 "$TEST_TMP/run.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "ktstr 'cyclictest_alone' [topo=1,2,2,1 sched=eevdf] failed:" ]
	[ "${lines[1]}" = "  payload cyclictest copy 0: p99_us = 345 us, limit at most 1 us" ]
	stats --json --metric-min cyclictest.loops=60000 --metric-max cyclictest.p999_us=10 \
		"$TEST_TMP/run.jsonl"
	[ "$status" -eq 1 ]
	# max bounds first, then min; a missing metric has no unit to show
	[ "$(jq -r '.failures[] | [.check, .payload, .message] | @tsv' <<<"$output")" = "$(printf '%s\n' \
		$'payload_metric\tcyclictest\tpayload cyclictest copy 0: p999_us = missing, limit at most 10' \
		$'payload_metric\tcyclictest\tpayload cyclictest copy 0: loops = 50000, limit at least 60000')" ]
	# a looser flag over the scenario's own limit passes
	stats "$TEST_TMP/slow.jsonl"
	[ "$status" -eq 1 ]
	stats --metric-max cyclictest.p99_us=2000 "$TEST_TMP/slow.jsonl"
	[ "$status" -eq 0 ]
}

@test "stats payload: bad --metric-max/--metric-min is one usage line naming flag, value and form" {
	run_records 1 >"$TEST_TMP/run.jsonl"
	for bad in p99_us=3 cyclictest.p99_us cyclictest.p99_us=fast .p99_us=3; do
		stats --metric-max "$bad" "$TEST_TMP/run.jsonl"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "ktstr-stats: --metric-max '$bad': "* ]]
		[[ "$stderr" == *"PAYLOAD.METRIC=NUMBER"* ]]
	done
	stats --metric-min x "$TEST_TMP/run.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-stats: --metric-min 'x': expected PAYLOAD.METRIC=NUMBER"* ]]
}

@test "stats payload: a crash, a hang and output that did not parse" {
	run_records 1 '"stopped_by":"exit","exit_code":null,"signal":11,"killed":false,"output_tail":["starting","oops"]' \
		>"$TEST_TMP/crash.jsonl"
	stats "$TEST_TMP/crash.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  payload cyclictest copy 0 crashed with signal 11 (SIGSEGV)" ]
	[ "${lines[2]}" = "    payload output:" ]
	[ "${lines[4]}" = "      oops" ]
	run_records 1 '"stopped_by":"end","exit_code":null,"signal":9,"killed":true' >"$TEST_TMP/hang.jsonl"
	stats "$TEST_TMP/hang.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  payload cyclictest copy 0 did not stop within 3000 ms of SIGINT and was killed" ]
	run_records 1 | sed 's/"payload_metrics",\(.*\)"metrics":{.*}}$/"payload_metrics",\1"metrics":{},"error":"cyclictest: expected a JSON document, found \\"garbage\\" at line 1","output_tail":["garbage"]}/' \
		>"$TEST_TMP/parse.jsonl"
	stats "$TEST_TMP/parse.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  payload cyclictest copy 0: output did not parse: cyclictest: expected a JSON document, found \"garbage\" at line 1" ]
	[ "${lines[3]}" = "      garbage" ]
}

# A sidecar as ktstr-test writes it, from the verdict of records file $3:
# metrics payload.NAME.METRIC (mean over copies) and metric_info.
make_sidecar() {
	local dir=$1 repeat=$2 records=$3 commit=$4
	mkdir -p "$dir"
	"$BIN" --json "$records" | jq -c --arg commit "$commit" --argjson repeat "$repeat" '
	  . as $v
	  | [ $v.payloads[] | .name as $n | .metrics | to_entries[]
	      | {key: "payload.\($n).\(.key)", value: .value} ] as $m
	  | {type: "sidecar", schema: 1, run_id: "20250101T100000Z-\($commit[0:8])",
	     run_source: "local", timestamp: "2025-01-01T10:00:00Z", suite: "demo",
	     test: "cyclictest_alone", preset: "tiny-2llc", case: "cyclictest_alone/tiny-2llc",
	     repeat: $repeat, topology: {spec: "1n2l2c1t"}, scheduler: {name: "eevdf"},
	     scenario: {name: "cyclictest_alone", work_types: []},
	     kernel: {label: "6.14.2"}, project_commit: $commit, result: $v.result,
	     verdict: $v, payloads: $v.payloads,
	     metrics: ($m | group_by(.key)
	               | map({key: .[0].key, value: (map(.value.value) | add / length)})
	               | from_entries),
	     metric_info: ($m | map({key: .key, value: {unit: .value.unit, better: .value.better}})
	                   | from_entries)}' \
		>"$dir/cyclictest_alone_tiny-2llc.r$repeat.20250101T100000Z-${commit:0:8}.ktstr.json"
}

@test "stats payload: compare shows a payload metric's means, delta, p-value and verdict" {
	local root=$TEST_TMP/runs i
	local -a a=(100 104 98) b=(160 150 155)
	for i in 0 1 2; do
		run_records "${a[$i]}" >"$TEST_TMP/a$i.jsonl"
		run_records "${b[$i]}" >"$TEST_TMP/b$i.jsonl"
		make_sidecar "$root/6.14.2-aaaaaaaaaaaa" $((i + 1)) "$TEST_TMP/a$i.jsonl" aaaaaaaaaaaa
		make_sidecar "$root/6.14.2-bbbbbbbbbbbb" $((i + 1)) "$TEST_TMP/b$i.jsonl" bbbbbbbbbbbb
	done
	stats compare 6.14.2-aaaaaaaaaaaa 6.14.2-bbbbbbbbbbbb --dir "$root"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep -E '^demo cyclictest_alone/tiny-2llc +payload\.cyclictest\.p99_us +100\.7 us +155 us +\+54\.33 us +\+54\.0% +<0\.001 +REGRESSION$'
	# the same numbers the other way round are an improvement
	stats compare 6.14.2-bbbbbbbbbbbb 6.14.2-aaaaaaaaaaaa --dir "$root"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -E '^demo cyclictest_alone/tiny-2llc +payload\.cyclictest\.p99_us +155 us +100\.7 us .*improvement$'
	stats compare 6.14.2-aaaaaaaaaaaa 6.14.2-bbbbbbbbbbbb --dir "$root" --json
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "payload.cyclictest.p99_us") | [.unit, .direction, .gated, .a_mean > 100, .b_mean, (.p_value < 0.001), .status] | @tsv' <<<"$output")" = \
		"$(printf 'us\tlower_better\ttrue\ttrue\t155\ttrue\tregression')" ]
	# an unchanged metric (avg_us: the same everywhere) shows with --all
	[ -z "$(jq -r 'select(.type == "compare_row" and .metric == "payload.cyclictest.avg_us")' <<<"$output")" ]
	stats compare 6.14.2-aaaaaaaaaaaa 6.14.2-bbbbbbbbbbbb --dir "$root" --json --all
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "payload.cyclictest.avg_us") | [.unit, .status] | @tsv' <<<"$output")" = "$(printf 'us\tunchanged')" ]
}

# ktstr-test runs the ktstr-vm next to it: a copy of ktstr-test beside a
# script that prints the records stands in for a VM.
fake_runner() {
	mkdir -p "$TEST_TMP/bin" "$TEST_TMP/suite"
	cp "$(dirname "$BIN")/ktstr-test" "$TEST_TMP/bin/"
	ln -s "$BATS_TEST_DIRNAME/../../share" "$TEST_TMP/share"
	printf '#!/bin/sh\ncat "%s"\n' "$TEST_TMP/records.jsonl" >"$TEST_TMP/bin/ktstr-vm"
	chmod +x "$TEST_TMP/bin/ktstr-vm"
	runner_env
}

@test "stats payload: ktstr-test applies a test file's payload_checks and keeps payloads in the sidecar" {
	fake_runner
	# the scenario's own limit (1000 us) passes 345 us; the test file's fails it
	run_records 345 >"$TEST_TMP/records.jsonl"
	printf '%s\n' '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"],' \
		' "payload_checks": {"cyclictest": {"max": {"p99_us": 300}, "min": {"loops": 1}}}}' \
		>"$TEST_TMP/suite/cyc.json"
	KTSTR_CACHE_DIR=$FAKE_CACHE run --separate-stderr "$TEST_TMP/bin/ktstr-test" \
		--kernel "$FAKE_IMAGE" "$TEST_TMP/suite"
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 1 ]
	[[ "$output$stderr" == *"payload cyclictest copy 0: p99_us = 345 us, limit at most 300 us"* ]]
	f=$(find "$KTSTR_RUNS_ROOT" -name '*.ktstr.json')
	[ "$(jq -r '.result' "$f")" = fail ]
	[ "$(jq -r '.metrics["payload.cyclictest.p99_us"]' "$f")" = 345 ]
	[ "$(jq -r '.metric_info["payload.cyclictest.p99_us"] | [.unit, .better] | @tsv' "$f")" = "$(printf 'us\tlower')" ]
	[ "$(jq -r '.metric_info["payload.cyclictest.loops"].better' "$f")" = higher ]
	[ "$(jq -r '.payloads[0] | [.name, .copy, .stopped_by, .signal, .metrics.avg_us.value] | @tsv' "$f")" = \
		"$(printf 'cyclictest\t0\tend\t2\t12.5')" ]
	# a bad payload_checks is a load error naming where
	printf '%s\n' '{"scenario": "steady", "payload_checks": {"cyclictest": {"max": {"p99_us": "low"}}}}' \
		>"$TEST_TMP/suite/cyc.json"
	KTSTR_CACHE_DIR=$FAKE_CACHE run --separate-stderr "$TEST_TMP/bin/ktstr-test" \
		--kernel "$FAKE_IMAGE" "$TEST_TMP/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *'$.payload_checks.cyclictest.max.p99_us: expected a number, got a string'* ]]
}
