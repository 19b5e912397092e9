#!/usr/bin/env bats
# ktstr-stats --trace FILE.json, without a VM: the trace of a real steady
# run under scx_simple (tests/fixtures/trace, see its README) and of a
# copy failing the gap check, validated against a JSON schema of the
# trace-event format written from its documentation
# (tests/fixtures/trace/trace-event.schema.json) with Debian's
# python3-jsonschema; the schema is shown to reject broken events; the
# rest of ktstr-stats' output stays as it was; bad paths are one line
# and exit status 2.  No Debian package loads such traces (no Perfetto,
# catapult or trace2html in bookworm), so the schema is the consumer.

load cli

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}/ktstr-stats
	FX=$BATS_TEST_DIRNAME/../fixtures/trace
	SCHEMA=$FX/trace-event.schema.json
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

# Validate the traces named against the schema: every error on its own
# line (prefixed with the file when there are several).
validate() {
	python3 - "$SCHEMA" "$@" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
bad = 0
for f in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(f))):
        bad += 1
        where = "/".join(str(p) for p in e.absolute_path)
        print("%s%s: %s" % (f + ": " if len(sys.argv) > 3 else "", where, e.message))
sys.exit(1 if bad else 0)
PY
}

@test "stats trace: a real run's trace is valid and has a track per CPU and per worker" {
	stats --trace "$TEST_TMP/run.json" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run validate "$TEST_TMP/run.json"
	echo "$output"
	[ "$status" -eq 0 ]
	t=$TEST_TMP/run.json
	[ "$(jq -r .displayTimeUnit "$t")" = ms ]
	# CPUs: 4 threads cpu 0..3 with a counter per monitor sample each
	[ "$(jq '[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .pid == 2)] | length' "$t")" -eq 4 ]
	[ "$(jq -r '[.traceEvents[] | select(.ph == "C") | .name] | unique | join(",")' "$t")" = "cpu 0,cpu 1,cpu 2,cpu 3" ]
	[ "$(jq '[.traceEvents[] | select(.ph == "C")] | length' "$t")" -eq $((65 * 4)) ]
	# workers: a process per cgroup, a thread per worker with its run
	[ "$(jq -r '[.traceEvents[] | select(.name == "process_name") | .args.name] | join(",")' "$t")" = "run,CPUs,checks,cgroup cg_0,cgroup cg_1" ]
	[ "$(jq '[.traceEvents[] | select(.ph == "X" and .name == "run")] | length' "$t")" -eq 4 ]
	# the scheduler's lifecycle and the stimuli; no failure
	[ "$(jq -r '[.traceEvents[] | select(.ph == "i") | .name] | join(",")' "$t")" = "scheduler started,scheduler attached,add cg_0,add cg_1,scheduler detached" ]
	[ "$(jq '[.traceEvents[] | select(.pid == 3 and .ph == "X")] | length' "$t")" -eq 0 ]
}

@test "stats trace: a failed check is marked at its time; the report is unchanged" {
	run --separate-stderr "$BIN" "$FX/steady-fail-gap.jsonl"
	want=$output
	stats --trace "$TEST_TMP/fail.json" "$FX/steady-fail-gap.jsonl"
	[ "$status" -eq 1 ]
	[ "$output" = "$want" ]
	[[ "$output" == *"stuck 2500ms on cpu0 at +1000ms (cg_1)"* ]]
	run validate "$TEST_TMP/fail.json"
	echo "$output"
	[ "$status" -eq 0 ]
	# the workload started at host 7503 ms: the gap from 8503 ms for 2500 ms
	run jq -c '[.traceEvents[] | select(.pid == 3 and .ph == "X") | [.name, .ts, .dur, .cname]]' "$TEST_TMP/fail.json"
	[ "$output" = '[["FAIL gap cg_1",8503000,2500000,"terrible"]]' ]
	[ "$(jq -r .otherData.result "$TEST_TMP/fail.json")" = fail ]
}

@test "stats trace: the schema rejects events the format does not allow" {
	stats --trace "$TEST_TMP/run.json" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	# an X without dur, an instant of scope x, a counter with a string,
	# an event without ts, a metadata event of an unknown name
	jq '.traceEvents += [
		{"name": "a", "ph": "X", "ts": 1, "pid": 1, "tid": 1},
		{"name": "b", "ph": "i", "ts": 1, "pid": 1, "tid": 1, "s": "x"},
		{"name": "c", "ph": "C", "ts": 1, "pid": 1, "tid": 1, "args": {"n": "3"}},
		{"name": "d", "ph": "i", "pid": 1, "tid": 1},
		{"name": "thread_title", "ph": "M", "pid": 1, "tid": 1, "args": {}}]' \
		"$TEST_TMP/run.json" > "$TEST_TMP/bad.json"
	run validate "$TEST_TMP/bad.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "$output" == *"'dur' is a required property"* ]]
	[[ "$output" == *"'x' is not one of"* ]]
}

@test "stats trace: --pass-through and --json are as without it" {
	stats --pass-through --trace "$TEST_TMP/t.json" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$FX/steady-scx_simple.jsonl")" ]
	stats --json "$FX/steady-scx_simple.jsonl"
	want=$output
	stats --json --trace "$TEST_TMP/t2.json" "$FX/steady-scx_simple.jsonl"
	[ "$output" = "$want" ]
	cmp "$TEST_TMP/t.json" "$TEST_TMP/t2.json"
}

@test "stats trace: written whole, replacing an old file, no temp file left" {
	echo old > "$TEST_TMP/t.json"
	stats --trace "$TEST_TMP/t.json" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.traceEvents | length > 300' "$TEST_TMP/t.json"
	[ "$(ls -A "$TEST_TMP" | grep -v '^state$')" = t.json ]
}

@test "stats trace: bad paths and several inputs are one line and exit 2" {
	stats --trace "$TEST_TMP/no/such/t.json" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "ktstr-stats: --trace $TEST_TMP/no/such/t.json: directory $TEST_TMP/no/such does not exist; create it first"* ]]
	stats --trace "$TEST_TMP" "$FX/steady-scx_simple.jsonl"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"is a directory; name a file such as run.trace.json"* ]]
	stats --trace "$TEST_TMP/t.json" "$FX/steady-scx_simple.jsonl" "$FX/steady-fail-gap.jsonl"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"one trace is one run; name one input (2 given)"* ]]
	[ ! -e "$TEST_TMP/t.json" ]
	# no records: no trace, exit 2
	stats --trace "$TEST_TMP/t.json" "$BATS_TEST_DIRNAME/../fixtures/stats/empty.jsonl"
	[ "$status" -eq 2 ]
	[ ! -e "$TEST_TMP/t.json" ]
}

@test "stats trace: the traces of every stored run are valid" {
	local n=0
	for f in "$FX"/*.jsonl "$BATS_TEST_DIRNAME"/../fixtures/stats/{monitor-*,fail-*,pass*,truncated}.jsonl; do
		n=$((n + 1))
		run --separate-stderr "$BIN" --trace "$TEST_TMP/t$n.json" "$f"
		[ "$status" -ne 2 ] || { echo "$f: $stderr"; false; }
		[ -s "$TEST_TMP/t$n.json" ]
	done
	[ "$n" -ge 20 ]
	run validate "$TEST_TMP"/t*.json
	echo "$output"
	[ "$status" -eq 0 ]
	# the scx_cpu0 run's two machine failures, each over its own stretch
	run --separate-stderr "$BIN" --trace "$TEST_TMP/cpu0.json" "$FX/steady-scx_cpu0.jsonl"
	[ "$status" -eq 1 ]
	run jq -c '[.traceEvents[] | select(.pid == 3 and .ph == "X") | [.name, .ts, .dur]]' "$TEST_TMP/cpu0.json"
	echo "$output"
	[ "$output" = '[["FAIL work_conservation",8790000,5004000],["FAIL imbalance",13128000,461000]]' ]
}
