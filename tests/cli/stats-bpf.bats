#!/usr/bin/env bats
# ktstr-stats over the scheduler's BPF program records (ktstr-records(7):
# bpf_prog, bpf_prog_stats), without a VM: tests/fixtures/stats/bpf-*.jsonl
# are pass.jsonl with the records the agent writes for scx_simple's
# programs (bpf-prog: at attach only; bpf-stats: with ktstr-vm
# --bpf-stats), judged as text and --json; then ktstr-test (with a
# stand-in ktstr-vm printing those records) writing sidecars of two runs,
# and compare gating a program's cost between them.

load cli
load ../lib/runner

bats_require_minimum_version 1.5.0

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}/ktstr-stats
	FX=$BATS_TEST_DIRNAME/../fixtures/stats
	unset KTSTR_RUNS_ROOT KTSTR_SIDECAR_DIR KTSTR_CI
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

@test "stats bpf: the report lists the programs with their cost after the cgroups" {
	stats "$FX/bpf-stats.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] passed" ]
	[[ "$output" == *$'p99_wake=162us\nbpf programs (scx_simple, cost over 5002ms):\n'* ]]
	[[ "$output" == *$'\n  simple_enqueue    struct_ops verified_insns=57 run_cnt=18234 ns/run=495.3\n'* ]]
	[[ "$output" == *$'\n  simple_exit       struct_ops verified_insns=14 run_cnt=0 ns/run=-\n'* ]]
	[ "$(grep -c '^  simple_' <<<"$output")" -eq 8 ]
	# the same numbers in the verdict record
	stats --json "$FX/bpf-stats.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.bpf_programs | length' <<<"$output")" -eq 8 ]
	[ "$(jq -r '.bpf_programs[] | select(.name == "simple_enqueue") | [.id, .prog_type, .scheduler, .verified_insns, .xlated_bytes, .jited_bytes, .nr_maps, .run_cnt, .run_time_ns, (.ns_per_run * 10 | round), .window_ms] | @tsv' <<<"$output")" = \
		"$(printf '42\tstruct_ops\tscx_simple\t57\t472\t301\t2\t18234\t9032100\t4953\t5002')" ]
	[ "$(jq -r '.bpf_programs[] | select(.name == "simple_init") | [.run_cnt, .ns_per_run] | @tsv' <<<"$output")" = "$(printf '0\t')" ]
}

@test "stats bpf: without --bpf-stats the programs show their verifier figures only; EEVDF shows none" {
	stats "$FX/bpf-prog.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'bpf programs (scx_simple):\n  simple_dispatch   struct_ops verified_insns=31\n'* ]]
	[[ "$output" != *run_cnt* ]]
	stats --json "$FX/bpf-prog.jsonl"
	[ "$(jq -r '[.bpf_programs[] | .run_cnt] | unique | @json' <<<"$output")" = '[null]' ]
	[ "$(jq -r '.bpf_programs[0].verified_insns' <<<"$output")" = 31 ]
	stats "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" != *"bpf programs"* ]]
	stats --json "$FX/pass.jsonl"
	[ "$(jq -c .bpf_programs <<<"$output")" = '[]' ]
}

@test "stats bpf: a program's cost never fails the run; bad fields are warned once" {
	jq -c 'if .type == "bpf_prog_stats" then .run_time_ns *= 1000 | .ns_per_run |= (if . then . * 1000 else . end) else . end' \
		"$FX/bpf-stats.jsonl" >"$TEST_TMP/slow.jsonl"
	stats "$TEST_TMP/slow.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *"simple_enqueue    struct_ops verified_insns=57 run_cnt=18234 ns/run=495344"* ]]
	jq -c 'if .type == "bpf_prog" then .verified_insns = "lots" else . end' \
		"$FX/bpf-prog.jsonl" >"$TEST_TMP/bad.jsonl"
	stats "$TEST_TMP/bad.jsonl"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"bpf_prog.verified_insns: expected a number >= 0; treated as missing (said once per field)"* ]]
	[[ "$output" == *"simple_enqueue    struct_ops verified_insns=?"* ]]
}

# bpf_records SCALE INSNS: bpf-stats.jsonl with simple_enqueue's run time
# times SCALE and its verified_insns INSNS.
bpf_records() {
	jq -c --argjson s "$1" --argjson i "$2" '
	  if .name == "simple_enqueue" and .type == "bpf_prog_stats" then
	    .run_time_ns = (.run_time_ns * $s | floor)
	    | .ns_per_run = ((.run_time_ns / .run_cnt * 10 | round) / 10)
	  elif .name == "simple_enqueue" and .type == "bpf_prog" then .verified_insns = $i
	  else . end' "$FX/bpf-stats.jsonl"
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
	printf '%s\n' '{"scenario": "steady", "duration": "2s", "presets": ["tiny-2llc"]}' \
		>"$TEST_TMP/suite/bpf.json"
}

# one_run DIR SCALE INSNS [RUNS]: ktstr-test's sidecars for one run into
# $KTSTR_RUNS_ROOT/DIR.
one_run() {
	bpf_records "$2" "$3" >"$TEST_TMP/records.jsonl"
	KTSTR_SIDECAR_DIR=$KTSTR_RUNS_ROOT/$1 KTSTR_CACHE_DIR=$FAKE_CACHE \
		run --separate-stderr "$TEST_TMP/bin/ktstr-test" --kernel "$FAKE_IMAGE" \
		--runs "${4:-1}" "$TEST_TMP/suite"
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 0 ]
}

@test "stats bpf: ktstr-test's sidecar keeps bpf_programs and the bpf.PROG metrics with metric_info" {
	fake_runner
	one_run a 1 57
	f=$(find "$KTSTR_RUNS_ROOT/a" -name '*.ktstr.json')
	[ "$(jq -r '.bpf_programs | length' "$f")" -eq 8 ]
	[ "$(jq -r '.bpf_programs[] | select(.name == "simple_dispatch") | [.id, .verified_insns, .run_cnt] | @tsv' "$f")" = \
		"$(printf '44\t31\t9120')" ]
	[ "$(jq -r '.metrics["bpf.simple_enqueue.ns_per_run"] * 10 | round' "$f")" = 4953 ]
	[ "$(jq -r '.metrics["bpf.simple_enqueue.run_cnt"]' "$f")" = 18234 ]
	[ "$(jq -r '.metrics["bpf.simple_enqueue.verified_insns"]' "$f")" = 57 ]
	# a program that never ran has a count and no cost
	[ "$(jq -r '.metrics["bpf.simple_exit.run_cnt"]' "$f")" = 0 ]
	[ "$(jq -r '.metrics | has("bpf.simple_exit.ns_per_run")' "$f")" = false ]
	[ "$(jq -r '.metric_info["bpf.simple_enqueue.ns_per_run"] | [.unit, .better] | @tsv' "$f")" = "$(printf 'ns\tlower')" ]
	[ "$(jq -r '.metric_info["bpf.simple_enqueue.run_cnt"].better' "$f")" = none ]
}

@test "stats bpf: compare gates a callback 30% dearer from one run a side, and shows verified_insns that moved" {
	fake_runner
	one_run a 1 57
	one_run b 1.3 61
	stats compare a b --dir "$KTSTR_RUNS_ROOT"
	echo "$output"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep -E '^suite bpf/tiny-2llc +bpf\.simple_enqueue\.ns_per_run +495\.3 ns +643\.9 ns +\+148\.6 ns +\+30\.0% +- +REGRESSION$'
	printf '%s\n' "$output" | grep -E '^suite bpf/tiny-2llc +bpf\.simple_enqueue\.verified_insns +57 +61 +\+4 +\+7\.0% +- +changed$'
	# the other programs did not move, and run counts are not gated
	[ "$(grep -c 'bpf\.' <<<"$output")" -eq 2 ]
	# 30 % cheaper: an improvement, exit 0 (b to a is 23 % down: within)
	one_run c 0.7 57
	stats compare a c --dir "$KTSTR_RUNS_ROOT"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -E 'bpf\.simple_enqueue\.ns_per_run .* -30\.0% .*improvement$'
	stats compare b a --dir "$KTSTR_RUNS_ROOT"
	[ "$status" -eq 0 ]
	[[ "$output" != *ns_per_run* ]]
	stats compare a b --dir "$KTSTR_RUNS_ROOT" --json
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "bpf.simple_enqueue.ns_per_run") | [.unit, .direction, .gated, .p_value, .status] | @tsv' <<<"$output")" = \
		"$(printf 'ns\tlower_better\ttrue\t\tregression')" ]
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "bpf.simple_enqueue.verified_insns") | [.gated, .status] | @tsv' <<<"$output")" = \
		"$(printf 'false\tchanged')" ]
}

@test "stats bpf: compare within 25% is no verdict; with repeats Welch must agree" {
	fake_runner
	one_run a 1 57
	one_run b 1.2 57
	stats compare a b --dir "$KTSTR_RUNS_ROOT" --json --all
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "bpf.simple_enqueue.ns_per_run") | .status' <<<"$output")" = within_gate ]
	# three repeats a side: Welch's p decides too (identical repeats: p ~ 0)
	one_run c 1 57 3
	one_run d 1.3 57 3
	stats compare c d --dir "$KTSTR_RUNS_ROOT" --json
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "compare_row" and .metric == "bpf.simple_enqueue.ns_per_run") | [.a_samples, .b_samples, .p_value < 0.05, .status] | @tsv' <<<"$output")" = \
		"$(printf '3\t3\ttrue\tregression')" ]
}
