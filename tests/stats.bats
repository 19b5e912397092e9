#!/usr/bin/env bats
# ktstr-stats: verdicts over hand-written record streams in
# tests/fixtures/stats/.  No VM is booted here.

load lib/common

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../build/bin}/ktstr-stats
	FX=$BATS_TEST_DIRNAME/fixtures/stats
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

# ---- basics --------------------------------------------------------------

@test "--help and --version" {
	run "$BIN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ktstr-stats "* ]]
	[[ "$output" == *--max-spread-pct* ]]
	[[ "$output" == *--pass-through* ]]
	[[ "$output" == *"Exit status"* ]]
	run "$BIN" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-stats (ktstr) "* ]]
	run "$BIN" verdict --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ktstr-stats "* ]]
}

@test "bad options are usage errors" {
	stats --bogus "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-stats: unknown option '--bogus' (see 'ktstr-stats --help')" ]
	stats --max-spread-pct abc "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--max-spread-pct 'abc': expected a number"* ]]
	stats --max-gap-ms -5 "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	stats --min-iter-rate 1e3 "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
}

@test "pass: header, stats block, sched_ext events" {
	stats "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] passed" ]
	[ "${lines[1]}" = "--- stats ---" ]
	[ "${lines[2]}" = "4 workers, 4 cpus, 8 migrations, worst_spread=12.3%, worst_gap=890ms" ]
	[ "${lines[3]}" = "cg_0: workers=2 cpus=2 spread=5.1% gap=410ms migrations=4 iter=15230" ]
	[ "${lines[4]}" = "cg_1: workers=2 cpus=2 spread=12.3% gap=890ms migrations=4 iter=14870 p99_wake=162us" ]
	# Only the non-zero deltas.
	[ "${lines[5]}" = "sched_ext events: SCX_EV_SELECT_CPU_FALLBACK=12 SCX_EV_DISPATCH_KEEP_LAST=3" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "agent CPU: a line in the stats block, a warning above 1 % that does not fail the run" {
	jq -c 'if .type == "scenario_end" then .agent_cpu_ms = 33.2 | .agent_cpu_pct = 0.083
		| .agent_window_ms = 10030 else . end' "$FX/pass.jsonl" >"$TEST_TMP/low.jsonl"
	stats "$TEST_TMP/low.jsonl"
	[ "$status" -eq 0 ]
	[ "${lines[6]}" = "agent: cpu=33ms (0.08% of the guest's CPU over the workload)" ]
	[ "${#lines[@]}" -eq 7 ]
	stats --json "$TEST_TMP/low.jsonl"
	printf '%s\n' "$output" | jq -e '.stats.agent_cpu_pct == 0.083 and .stats.agent_cpu_ms == 33.2'
	jq -c 'if .type == "scenario_end" then .agent_cpu_ms = 1200 | .agent_cpu_pct = 3 else . end' \
		"$FX/pass.jsonl" >"$TEST_TMP/high.jsonl"
	stats "$TEST_TMP/high.jsonl"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] passed" ]
	[ "${lines[6]}" = "agent: cpu=1200ms (3.00% of the guest's CPU over the workload)" ]
	[[ "${lines[7]}" == "warning: the agent used more than 1% of the guest's CPU"*"may have disturbed the run" ]]
	# Exactly 1 % is not above it; a record without the fields has no line.
	jq -c 'if .type == "scenario_end" then .agent_cpu_ms = 400 | .agent_cpu_pct = 1 else . end' \
		"$FX/pass.jsonl" >"$TEST_TMP/edge.jsonl"
	stats "$TEST_TMP/edge.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" != *warning:* ]]
	stats "$FX/pass.jsonl"
	[[ "$output" != *agent:* ]]
}

@test "reads stdin by default and with -; 'verdict' names the default subcommand" {
	run --separate-stderr bash -c "'$BIN' < '$FX/pass.jsonl'"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"passed" ]]
	run --separate-stderr bash -c "cat '$FX/fail-gap.jsonl' | '$BIN' -"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == *"failed:" ]]
	stats verdict "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"passed" ]]
}

@test "EEVDF run; background cgroups are not checked" {
	stats "$FX/pass-background.jsonl"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ktstr 'with_noise' [topo=1n1l4c1t sched=eevdf accel=kvm] passed" ]
	[[ "$output" == *"noise: workers=1 cpus=4 spread=95.0% gap=5000ms"*"(background, not checked)"* ]]
	stats --json "$FX/pass-background.jsonl"
	[ "$(jq '[.checks[] | select(.cgroup == "noise")] | length' <<<"$output")" -eq 0 ]
	# The scenario's own 20% limit applies.
	[ "$(jq -c '.checks[] | select(.check == "spread") | [.value, .limit, .margin_pct]' <<<"$output")" = "[18.5,20,7.5]" ]
}

@test "a stream captured from the real guest engine reads cleanly" {
	# ktstr-vm --scheduler scx_simple --scenario steady --duration 3s, TCG.
	stats "$FX/captured-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n1l2c1t sched=scx_simple accel=tcg] passed" ]
	[[ "$output" == *"sched_ext events: "* ]]
	stats --json "$FX/captured-scx_simple.jsonl"
	[ "$(jq '.warnings | length' <<<"$output")" -eq 0 ]
	[ "$(jq '[.checks[] | select(.check == "spread" or .check == "gap")] | length' <<<"$output")" -eq 4 ]
	[ "$(jq -r '[.checks[] | select(.check == "scheduler")][0].pass' <<<"$output")" = true ]
}

# ---- each failure kind -----------------------------------------------------

@test "gap: the upstream example" {
	stats "$FX/fail-gap.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] failed:" ]
	[ "${lines[1]}" = "  stuck 3500ms on cpu1 at +1200ms (cg_0)" ]
	[ "${lines[2]}" = "--- stats ---" ]
	[ "${lines[3]}" = "4 workers, 4 cpus, 8 migrations, worst_spread=12.3%, worst_gap=3500ms" ]
	[ "${lines[4]}" = "cg_0: workers=2 cpus=2 spread=5.1% gap=3500ms migrations=4 iter=15230" ]
}

@test "spread" {
	stats "$FX/fail-spread.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  unfair: cg_1 spread 23.4% > 15%" ]
}

@test "starvation" {
	stats "$FX/fail-starved.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  starved: cg_0 worker 1 (pid 123) did no work" ]
	# A null spread is shown as unknown, not as zero.
	[[ "$output" == *"cg_0: workers=2 cpus=2 spread=? gap=20ms"* ]]
}

@test "scheduler died: reason, kernel log and scheduler output" {
	stats "$FX/fail-sched-died.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  scheduler died at +3200ms: runnable task stall (kworker/1:2[88] failed to run for 5.02s)" ]
	[ "${lines[2]}" = "    kernel log:" ]
	[ "${lines[3]}" = '      sched_ext: BPF scheduler "simple" disabled (runtime error)' ]
	[[ "$output" == *"    scheduler output:"*"      EXIT: runnable task stall"* ]]
	# scheduler_alive=false at the end is the same death, not a second failure.
	stats --json "$FX/fail-sched-died.jsonl"
	[ "$(jq '.failures | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.failures[0].check' <<<"$output")" = scheduler ]
	[ "$(jq '.failures[0].kernel_log | length' <<<"$output")" -eq 3 ]
	[ "$(jq '.failures[0].output | length' <<<"$output")" -eq 2 ]
}

@test "scheduler attach failure wins over the scenario_error it causes" {
	stats "$FX/fail-attach.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  scheduler failed to attach: BPF program load failed: Permission denied (-13)" ]
	[[ "$output" == *"R1 type=ctx expected=fp"* ]]
}

@test "isolation" {
	stats "$FX/fail-isolation.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  cpuset violated: cg_0 ran on cpu 3 outside 0-1" ]
	stats --no-isolation "$FX/fail-isolation.jsonl"
	[ "$status" -eq 0 ]
}

@test "p99 wake latency, limit from the scenario" {
	stats "$FX/fail-p99.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "ktstr 'wake_chain' [topo=1n2l2c1t sched=eevdf accel=kvm] failed:" ]
	[ "${lines[1]}" = "  slow wakeups: cg_1 p99 wake latency 850us > 500us" ]
	stats --max-p99-wake-us 1000 "$FX/fail-p99.jsonl"
	[ "$status" -eq 0 ]
	stats --max-p99-wake-us off "$FX/fail-p99.jsonl"
	[ "$status" -eq 0 ]
}

@test "iteration rate and migration ratio, from flags" {
	stats "$FX/pass.jsonl" --min-iter-rate 1500
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  too little progress: cg_1 1486.7 iterations/s < 1500" ]
	[ "${#lines[@]}" -gt 2 ]
	stats --max-migration-ratio 0.0002 "$FX/pass.jsonl"
	[ "$status" -eq 1 ]
	[[ "${lines[1]}" == "  migrating too much: cg_0 4 migrations in 15230 iterations"*"> 0.0002" ]]
	stats --max-migration-ratio 0.001 --min-iter-rate 1000 "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
}

@test "a crashed worker fails the run" {
	stats "$FX/fail-crash.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  worker crashed: cg_0 worker 0 (pid 301) killed by SIGSEGV" ]
}

@test "guest kernel panic and VM timeout" {
	stats "$FX/fail-panic.jsonl"
	[ "$status" -eq 1 ]
	[[ "${lines[1]}" == "  guest kernel panic: Kernel panic - not syncing: watchdog: BUG: soft lockup"* ]]
	stats "$FX/fail-timeout.jsonl"
	[ "$status" -eq 1 ]
	[[ "${lines[1]}" == "  VM overran its timeout after 600000ms"* ]]
}

@test "flags win over the scenario's thresholds" {
	stats --max-spread-pct 25 "$FX/fail-spread.jsonl"
	[ "$status" -eq 0 ]
	stats --max-spread-pct off "$FX/fail-spread.jsonl"
	[ "$status" -eq 0 ]
	stats --max-gap-ms 4000 "$FX/fail-gap.jsonl"
	[ "$status" -eq 0 ]
	stats --max-gap-ms 800 "$FX/pass.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  stuck 890ms on cpu3 at +4020ms (cg_1)" ]
	stats --no-starvation "$FX/fail-starved.jsonl"
	[ "$status" -eq 0 ]
	stats --no-starvation --starvation "$FX/fail-starved.jsonl"
	[ "$status" -eq 1 ]
	stats --json --max-gap-ms 800 --max-p99-wake-us 300 "$FX/pass.jsonl"
	[ "$(jq -c '.thresholds | [.max_spread_pct, .max_gap_ms, .max_p99_wake_latency_us]' <<<"$output")" = "[15,800,300]" ]
}

# ---- the check table: one spelling per check, old ones still accepted -----

# The verdict record of each run, for comparing two ways of asking.
verdict_json() {
	"$BIN" --json "$@" 2>/dev/null || true
}

@test "threshold options: the key's spelling and the old one give the same verdict" {
	stats --max-p99-wake-latency-us 1000 "$FX/fail-p99.jsonl"
	[ "$status" -eq 0 ]
	stats --max-p99-wake-latency-us 600 "$FX/fail-p99.jsonl"
	[ "$status" -eq 1 ]
	for n in 600 1000 off; do
		[ "$(verdict_json --max-p99-wake-us $n "$FX/fail-p99.jsonl")" = \
		  "$(verdict_json --max-p99-wake-latency-us $n "$FX/fail-p99.jsonl")" ]
	done
	stats --min-iterations-per-sec 1500 "$FX/pass.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  too little progress: cg_1 1486.7 iterations/s < 1500" ]
	[ "$(verdict_json --min-iter-rate 1500 "$FX/pass.jsonl")" = \
	  "$(verdict_json --min-iterations-per-sec 1500 "$FX/pass.jsonl")" ]
	# an unambiguous abbreviation still works: both spellings are one option
	stats --max-p99 1000 "$FX/fail-p99.jsonl"
	[ "$status" -eq 0 ]
	# limits come from the table: a gap must be more than 0
	stats --max-gap-ms 0 "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--max-gap-ms '0': expected a number greater than 0"* ]]
}

@test "scenario_start checks under an old spelling give the same verdict" {
	sed 's/"max_p99_wake_latency_us"/"max_p99_wake_us"/' "$FX/fail-p99.jsonl" >"$TEST_TMP/old.jsonl"
	grep -q '"max_p99_wake_us":500' "$TEST_TMP/old.jsonl"
	stats "$TEST_TMP/old.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  slow wakeups: cg_1 p99 wake latency 850us > 500us" ]
	[ "$(verdict_json "$TEST_TMP/old.jsonl" | jq -c 'del(.source)')" = \
	  "$(verdict_json "$FX/fail-p99.jsonl" | jq -c 'del(.source)')" ]
}

@test "machine checks: options from the table, defaults in the thresholds" {
	stats --json "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.thresholds | [.max_idle_while_runnable_ms, .max_imbalance_ratio,
		.max_local_dsq_depth, .max_runnable_wait_ms, .max_fallback_per_sec,
		.max_keep_last_per_sec, .stall]' <<<"$output")" = "[500,4,50,2000,200,100,true]" ]
	stats --json --no-stall --max-imbalance-ratio 8 --max-local-dsq-depth off "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.thresholds | [.stall, .max_imbalance_ratio, .max_local_dsq_depth]' <<<"$output")" = \
		"[false,8,null]" ]
	stats --max-imbalance-ratio 0.5 "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--max-imbalance-ratio '0.5': expected a number of at least 1"* ]]
	run "$BIN" --help
	[[ "$output" == *"--max-idle-while-runnable-ms N"* ]]
	[[ "$output" == *"--stall, --no-stall"* ]]
	[[ "$output" == *"also --max-p99-wake-us"* ]]
}

@test "--list-checks: every check, the machine ones too; --json one check_def each" {
	stats --list-checks
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == CHECK*KEY*DEFAULT* ]]
	for c in spread gap p99_wake_latency iteration_rate migration_ratio isolation starvation \
		 work_conservation imbalance local_dsq_depth runnable_wait fallback_rate \
		 keep_last_rate stall crash scheduler vm; do
		printf '%s\n' "${lines[@]}" | grep -qE "^$c "
	done
	printf '%s\n' "${lines[@]}" | grep -E '^p99_wake_latency ' | grep -q max_p99_wake_us
	stats --list-checks --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/defs"
	[ "$(jq -r .type "$TEST_TMP/defs" | sort -u)" = check_def ]
	[ "$(jq -s length "$TEST_TMP/defs")" -eq 17 ]
	jq -e -s 'map(select(.name == "work_conservation"))[0] |
		.key == "max_idle_while_runnable_ms" and .default == 500 and
		.record == "monitor" and .metric == "max_idle_while_runnable_ms" and
		.flags == ["--max-idle-while-runnable-ms"]' "$TEST_TMP/defs"
	jq -e -s 'map(select(.name == "stall"))[0] | .kind == "switch" and .default == true and
		.flags == ["--stall", "--no-stall"]' "$TEST_TMP/defs"
	# every option a row names is accepted
	for f in $(jq -r '.flags[]' "$TEST_TMP/defs"); do
		case $f in
		--no-*|--isolation|--starvation|--stall) stats "$f" "$FX/pass.jsonl" ;;
		*) stats "$f" off "$FX/pass.jsonl" ;;
		esac
		[ "$status" -ne 2 ]
	done
}

# ---- outcomes that are not pass/fail --------------------------------------

@test "skip: exit 3 with the reason" {
	stats "$FX/skip.jsonl"
	[ "$status" -eq 3 ]
	# ktstr-vm prints scenario_skip instead of booting: the only record.
	[ "${lines[0]}" = "ktstr 'llc_spread' [topo=1n2l2c1t sched=?] skipped: needs at least 4 LLCs, topology 1n2l2c1t has 2" ]
	[ "${#lines[@]}" -eq 1 ]
	stats --json "$FX/skip.jsonl"
	[ "$status" -eq 3 ]
	[ "$(jq -r '.result + ": " + .reason' <<<"$output")" = "skip: needs at least 4 LLCs, topology 1n2l2c1t has 2" ]
}

@test "truncated stream: inconclusive, the cut line reported with its number" {
	stats "$FX/truncated.jsonl"
	[ "$status" -eq 3 ]
	[[ "${lines[0]}" == *"inconclusive: the record stream ended before scenario_end"* ]]
	[[ "$stderr" == "ktstr-stats: $FX/truncated.jsonl:7: invalid JSON at column "*"; line ignored" ]]
	# What did arrive is still shown.
	[[ "$output" == *"cg_0: workers=2 cpus=2 spread=5.1%"* ]]
}

@test "truncated after a scheduler death: fail, not inconclusive" {
	stats "$FX/fail-sched-died-truncated.jsonl"
	[ "$status" -eq 1 ]
	[[ "${lines[1]}" == "  scheduler died at +640ms: scx_bpf_error"* ]]
}

@test "interrupted run: inconclusive" {
	stats "$FX/interrupted.jsonl"
	[ "$status" -eq 3 ]
	[[ "${lines[0]}" == *"inconclusive: the run was interrupted before scenario_end"* ]]
}

@test "setup errors: exit 2" {
	stats "$FX/error-scenario.jsonl"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"error: scenario error: cannot create cgroup cg_0: No space left on device" ]]
	[[ "$output" == *"last guest output:"* ]]
	stats "$FX/error-qemu.jsonl"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"error: QEMU failed: qemu-system-x86_64: -smp 4096"* ]]
	stats "$FX/not-a-scenario.jsonl"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"error: not a scenario run"* ]]
}

# ---- bad input ----------------------------------------------------------------

@test "garbage lines and weird values are reported, never fatal" {
	stats "$FX/garbage.jsonl"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n1l2c1t sched=eevdf accel=tcg] passed" ]
	[[ "$stderr" == *"garbage.jsonl:2: invalid JSON at column 20: "*"; line ignored"* ]]
	[[ "$stderr" == *"garbage.jsonl:5: record has no string \"type\" field; line ignored"* ]]
	[[ "$stderr" == *"garbage.jsonl:6: record is not a JSON object; line ignored"* ]]
	[[ "$stderr" == *"garbage.jsonl:7: cgroup_stats.iterations: expected a number below 2^53, got a huge one; treated as missing"* ]]
	# A bad field is mentioned once, though two records have it.
	[ "$(grep -c 'cgroup_stats.spread_pct' <<<"$stderr")" -eq 1 ]
	# The last line has no newline and still counts (vm_exit: not truncated).
	[ "$(tail -c1 "$FX/garbage.jsonl" | od -An -c | tr -d ' ')" = "}" ]
	stats --json "$FX/garbage.jsonl"
	[ "$(jq '.warnings | length' <<<"$output")" -ge 5 ]
}

@test "empty input: exit 2 with one line" {
	stats "$FX/empty.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[ "$stderr" = "ktstr-stats: $FX/empty.jsonl: no records (empty input)" ]
	run --separate-stderr bash -c "'$BIN' </dev/null"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-stats: stdin: no records (empty input)" ]
	# Only garbage: still one line.
	printf 'not json\nnor this\n' >"$TEST_TMP/junk"
	stats "$TEST_TMP/junk"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"junk: no records: none of the 2 input lines is a JSON record" ]]
}

@test "missing or unreadable file: exit 2 naming it" {
	stats "$TEST_TMP/nope.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[ "$stderr" = "ktstr-stats: $TEST_TMP/nope.jsonl: cannot open: No such file or directory" ]
	stats "$TEST_TMP"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-stats: $TEST_TMP: cannot read: Is a directory" ]]
	stats --json "$TEST_TMP/nope.jsonl"
	[ "$status" -eq 2 ]
	[ "$(jq -r '.result + " " + .source' <<<"$output")" = "error $TEST_TMP/nope.jsonl" ]
}

@test "a line over 16 MiB is reported and skipped" {
	{
		head -n 4 "$FX/pass.jsonl"
		python3 -c 'import sys; sys.stdout.write("{\"type\":\"output\",\"line\":\"" + "x" * (17 << 20) + "\"}\n")'
		tail -n +5 "$FX/pass.jsonl"
	} >"$TEST_TMP/long.jsonl"
	stats "$TEST_TMP/long.jsonl"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ktstr-stats: $TEST_TMP/long.jsonl:5: line longer than 16 MiB; line ignored" ]
}

# ---- --json -------------------------------------------------------------------

@test "--json: one verdict record with failures, checks and margins" {
	stats --json "$FX/fail-gap.jsonl"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	j=$output
	[ "$(jq -r .type <<<"$j")" = verdict ]
	[ "$(jq -c '[.scenario, .topology, .scheduler, .result, .reason]' <<<"$j")" = '["steady","1n2l2c1t","scx_simple","fail",null]' ]
	[ "$(jq -c '.failures' <<<"$j")" = '[{"check":"gap","cgroup":"cg_0","message":"stuck 3500ms on cpu1 at +1200ms (cg_0)","secondary":false,"by_host":false,"value":3500,"limit":2000}]' ]
	[ "$(jq -c '.checks[] | select(.check == "spread" and .cgroup == "cg_0")' <<<"$j")" = '{"check":"spread","cgroup":"cg_0","value":5.1,"limit":15,"margin_pct":66,"pass":true}' ]
	grep -q '"margin_pct":66.0' <<<"$j"
	[ "$(jq -c '.checks[] | select(.check == "gap" and .cgroup == "cg_0") | [.margin_pct, .pass]' <<<"$j")" = '[-75,false]' ]
	# Every check carries the same keys.
	[ "$(jq -c '[.checks[] | keys] | unique' <<<"$j")" = '[["cgroup","check","limit","margin_pct","pass","value"]]' ]
	[ "$(jq -c '.stats | [.workers, .cpus, .migrations, .worst_spread_pct, .worst_gap_ms]' <<<"$j")" = '[4,4,8,12.3,3500]' ]
	[ "$(jq -c '.stats.cgroups | map(.cgroup)' <<<"$j")" = '["cg_0","cg_1"]' ]
	[ "$(jq '.stats.cgroups[1].p99_wake_latency_us' <<<"$j")" -eq 162 ]
}

@test "--json: stats.cgroups has every field of cgroup_stats, with its value" {
	# ktstr-records(7): one object per cgroup_stats record, same field
	# names.  A real run's records, compared field by field.
	local f=$BATS_TEST_DIRNAME/fixtures/trace/steady-scx_simple.jsonl
	stats --json "$f"
	[ "$status" -eq 0 ]
	run jq -n --slurpfile recs "$f" --argjson v "$output" '
		[$recs[] | select(.type == "cgroup_stats") | del(.type)] as $cg
		| [range($cg | length) | . as $i | $cg[$i] | keys[]
		   | select(. as $k | $v.stats.cgroups[$i] | has($k) | not)]'
	echo "fields missing: $output"
	[ "$output" = "[]" ]
	# What the wake percentiles rest on, each cgroup its own.
	jq -c 'if .type == "cgroup_stats" then .wake_samples = (if .cgroup == "cg_1" then 150 else 0 end)
		else . end' "$FX/pass.jsonl" >"$TEST_TMP/wakes.jsonl"
	stats --json "$TEST_TMP/wakes.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.stats.cgroups[] | [.cgroup, .wake_samples, .p99_wake_latency_us]]' <<<"$output")" = '[["cg_0",0,null],["cg_1",150,162]]' ]
	# An older stream without the field: null, as any missing number.
	stats --json "$FX/pass.jsonl"
	[ "$(jq -c '[.stats.cgroups[] | .wake_samples]' <<<"$output")" = '[null,null]' ]
}

@test "--json: pass, scheduler null for EEVDF, events" {
	stats --json "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.result, .failures, .reason]' <<<"$output")" = '["pass",[],null]' ]
	[ "$(jq -c '.stats.sched_ext_events' <<<"$output")" = '{"SCX_EV_SELECT_CPU_FALLBACK":12,"SCX_EV_DISPATCH_KEEP_LAST":3}' ]
	[ "$(jq '[.checks[] | select(.pass | not)] | length' <<<"$output")" -eq 0 ]
	stats --json "$FX/pass-background.jsonl"
	[ "$(jq .scheduler <<<"$output")" = null ]
}

@test "--json: inconclusive and error carry a reason" {
	stats --json "$FX/truncated.jsonl"
	[ "$status" -eq 3 ]
	[ "$(jq -r .result <<<"$output")" = inconclusive ]
	[[ "$(jq -r .reason <<<"$output")" == *"before scenario_end"* ]]
	stats --json "$FX/empty.jsonl"
	[ "$status" -eq 2 ]
	[ "$(jq -r '.result + ": " + .reason' <<<"$output")" = "error: no records (empty input)" ]
}

# ---- several inputs ------------------------------------------------------------

@test "several files: one verdict each, the worst exit status" {
	stats "$FX/pass.jsonl" "$FX/fail-gap.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "==> $FX/pass.jsonl <==" ]
	[[ "$output" == *"==> $FX/fail-gap.jsonl <=="* ]]
	stats "$FX/pass.jsonl" "$FX/skip.jsonl"
	[ "$status" -eq 3 ]
	stats "$FX/skip.jsonl" "$FX/fail-gap.jsonl" "$FX/truncated.jsonl"
	[ "$status" -eq 1 ]
	stats "$FX/fail-gap.jsonl" "$FX/error-qemu.jsonl" "$FX/pass.jsonl"
	[ "$status" -eq 2 ]
	stats "$FX/fail-gap.jsonl" "$TEST_TMP/missing"
	[ "$status" -eq 2 ]
	[[ "$output" == *"stuck 3500ms"* ]]
	stats --json "$FX/pass.jsonl" "$FX/skip.jsonl" "$FX/fail-spread.jsonl"
	[ "$status" -eq 1 ]
	[ "$(jq -r .result <<<"$output" | tr '\n' ' ')" = "pass skip fail " ]
}

@test "two runs in one input (appended with >>): exit 2 naming the line, in either order" {
	local TR=$BATS_TEST_DIRNAME/fixtures/trace
	local hint="one input is one run: give each run its own file (ktstr-stats A.jsonl B.jsonl judges each)"
	# two-runs.jsonl: the real steady-scx_simple run (passes), then the
	# real steady-scx_cpu0 one (fails work_conservation) from line 87.
	stats "$FX/two-runs.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[ "$stderr" = "ktstr-stats: $FX/two-runs.jsonl:87: a second run starts here (a vm_start after a vm_exit); $hint" ]
	run --separate-stderr bash -c "cat '$TR/steady-scx_cpu0.jsonl' '$TR/steady-scx_simple.jsonl' | '$BIN'"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "ktstr-stats: stdin:87: a second run starts here (a vm_start after a vm_exit); $hint" ]
	# A passing run and then a failing one was once a pass.
	run --separate-stderr bash -c "cat '$FX/monitor-pass.jsonl' '$TR/steady-scx_cpu0.jsonl' | '$BIN'"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-stats: stdin:77: a second run starts here (a vm_start after a vm_exit); $hint" ]
	# A skip and a run: the skip has no vm_start of its own.
	run --separate-stderr bash -c "cat '$FX/skip.jsonl' '$FX/pass.jsonl' | '$BIN'"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-stats: stdin:2: a second run starts here (a vm_start after a scenario_skip); "* ]]
	stats --json "$FX/two-runs.jsonl"
	[ "$status" -eq 2 ]
	[ "$(jq -r '.result + ": " + .reason' <<<"$output")" = "error: line 87 starts a second run (a vm_start after a vm_exit): one input is one run; give each run its own file" ]
	# An exported reproducer's printer says the same.
	run bash -c "'$(dirname "$BIN")/../libexec/ktstr/ktstr-verdict' <'$FX/two-runs.jsonl'"
	[ "$status" -eq 2 ]
	[[ "$output" == *" error: line 87 starts a second run (a vm_start after a vm_exit)"* ]]
	# Each run in its own file: a verdict each.
	head -n 86 "$FX/two-runs.jsonl" >"$TEST_TMP/a.jsonl"
	tail -n +87 "$FX/two-runs.jsonl" >"$TEST_TMP/b.jsonl"
	stats "$TEST_TMP/a.jsonl" "$TEST_TMP/b.jsonl"
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	[ "${lines[1]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=tcg] passed" ]
	[[ "$output" == *"==> $TEST_TMP/b.jsonl <=="$'\n'"ktstr 'steady' [topo=1n2l2c1t sched=scx_cpu0 accel=tcg] failed:"* ]]
	# Among several files, the one with two runs is an error of its own.
	stats "$TEST_TMP/a.jsonl" "$FX/two-runs.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"sched=scx_simple accel=tcg] passed"* ]]
	[[ "$output" != *two-runs* ]]
	[ "$stderr" = "ktstr-stats: $FX/two-runs.jsonl:87: a second run starts here (a vm_start after a vm_exit); $hint" ]
}

@test "infrastructure failures are errors (exit 2), with the console's last lines" {
	stats "$FX/error-boot-timeout.jsonl"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ktstr '?' [topo=1n2l2c1t sched=? accel=tcg] error: the VM did not boot in time: the guest agent did not report within 60000 ms" ]
	[ "${lines[1]}" = "  console log: /nonexistent/ktstr-console.log" ]
	[ "${lines[2]}" = "    last console lines:" ]
	[ "${lines[4]}" = "      [    1.310] Run /init as init process" ]
	stats --json "$FX/error-boot-timeout.jsonl"
	[ "$status" -eq 2 ]
	[ "$(jq -c '[.result, .accel, .console_log, (.console_tail | length), (.failures | length)]' <<<"$output")" = \
		'["error","tcg","/nonexistent/ktstr-console.log",2,0]' ]
	# A QEMU crash wins over a failing check: the run says nothing of the scheduler.
	{ head -n -1 "$FX/fail-spread.jsonl"
	  echo '{"type":"vm_exit","reason":"qemu_error","exit_code":-1,"wall_ms":40,"message":"qemu-system-x86_64: crashed"}'
	} >"$TEST_TMP/qemu"
	stats "$TEST_TMP/qemu"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *" error: QEMU failed: qemu-system-x86_64: crashed" ]]
	# ktstr-vm's own message already says "QEMU failed": said once.
	{ head -n -1 "$FX/fail-spread.jsonl"
	  echo '{"type":"vm_exit","reason":"qemu_error","exit_code":-1,"wall_ms":40,"message":"QEMU failed: qemu: could not load PC BIOS '"'/tmp/fw.rom'"'"}'
	} >"$TEST_TMP/qemu"
	stats "$TEST_TMP/qemu"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *" error: QEMU failed: qemu: could not load PC BIOS '/tmp/fw.rom'" ]]
	[[ "${lines[0]}" != *"QEMU failed: QEMU failed"* ]]
	# No console_tail in vm_exit: the console log file's last lines.
	printf 'early\nKernel panic? no: just the end\n' >"$TEST_TMP/console.log"
	jq -c --arg log "$TEST_TMP/console.log" 'if .type == "vm_exit" then .console_log = $log else . end' \
		"$FX/error-qemu.jsonl" >"$TEST_TMP/qemu2"
	stats "$TEST_TMP/qemu2"
	[ "$status" -eq 2 ]
	[[ "$output" == *"  console log: $TEST_TMP/console.log"*"      early"*"      Kernel panic? no: just the end"* ]]
	# A scenario run that never booted is still named: vm_start carries
	# its scenario and scheduler (null: the kernel's default).
	jq -c 'if .type == "vm_start" then .mode = "exec" | .scenario = "steady" | .scheduler = null else . end' \
		"$FX/error-boot-timeout.jsonl" >"$TEST_TMP/named"
	stats "$TEST_TMP/named"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ktstr 'steady' [topo=1n2l2c1t sched=eevdf accel=tcg] error: "* ]]
	jq -c 'if .type == "vm_start" then .scenario = "mixed" | .scheduler = "scx_simple" else . end' \
		"$FX/error-boot-timeout.jsonl" >"$TEST_TMP/named"
	stats --json "$TEST_TMP/named"
	[ "$(jq -c '[.scenario, .scheduler, .result]' <<<"$output")" = '["mixed","scx_simple","error"]' ]
}

@test "after a scheduler death, unfairness is reported under it, not on its own" {
	# fail-sched-died with cg_1 made unfair (30% > 15%)
	sed 's/"spread_pct":12.3/"spread_pct":30/' "$FX/fail-sched-died.jsonl" >"$TEST_TMP/died"
	stats "$TEST_TMP/died"
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^  [a-z]')" -eq 2 ]
	[[ "$output" == *"  after the scheduler died (consequences, not failures of their own):"$'\n'"    unfair: cg_1 spread 30.0% > 15%"* ]]
	stats --json "$TEST_TMP/died"
	[ "$(jq -c '[.failures[] | [.check, .secondary]]' <<<"$output")" = '[["scheduler",false],["spread",true]]' ]
}

# ---- --pass-through --------------------------------------------------------------

@test "--pass-through: input copied unchanged, report on stderr" {
	run --separate-stderr bash -c "'$BIN' --pass-through <'$FX/fail-gap.jsonl' >'$TEST_TMP/out'"
	[ "$status" -eq 1 ]
	cmp "$TEST_TMP/out" "$FX/fail-gap.jsonl"
	[[ "$stderr" == *"stuck 3500ms on cpu1 at +1200ms (cg_0)"* ]]
	# Garbage and a missing final newline are copied as they are.
	run --separate-stderr bash -c "'$BIN' --pass-through <'$FX/garbage.jsonl' >'$TEST_TMP/out'"
	[ "$status" -eq 0 ]
	cmp "$TEST_TMP/out" "$FX/garbage.jsonl"
	[[ "$stderr" == *"line ignored"*"passed"* ]]
}

@test "--pass-through --json: the verdict record follows the input" {
	run --separate-stderr bash -c "'$BIN' --pass-through --json <'$FX/garbage.jsonl' >'$TEST_TMP/out'"
	[ "$status" -eq 0 ]
	size=$(wc -c <"$FX/garbage.jsonl")
	head -c "$size" "$TEST_TMP/out" | cmp - "$FX/garbage.jsonl"
	# The input lacked a final newline: one is added before the verdict.
	[ "$(tail -c +$((size + 1)) "$TEST_TMP/out" | head -c 1 | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(tail -n 1 "$TEST_TMP/out" | jq -r '.type + " " + .result')" = "verdict pass" ]
	[ "$(wc -l <"$TEST_TMP/out")" -eq "$(($(wc -l <"$FX/garbage.jsonl") + 2))" ]
}

@test "--pass-through copies records as they arrive" {
	mkfifo "$TEST_TMP/in"
	"$BIN" --pass-through <"$TEST_TMP/in" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	exec 8>"$TEST_TMP/in"	# bats keeps fd 3 for itself
	head -n 3 "$FX/pass.jsonl" >&8
	for _ in $(seq 50); do
		[ "$(wc -l <"$TEST_TMP/out")" -eq 3 ] && break
		sleep 0.1
	done
	[ "$(wc -l <"$TEST_TMP/out")" -eq 3 ]
	tail -n +4 "$FX/pass.jsonl" >&8
	exec 8>&-
	wait "$pid"
	cmp "$TEST_TMP/out" "$FX/pass.jsonl"
	grep -q passed "$TEST_TMP/err"
}

@test "--pass-through keeps judging when the reader goes away" {
	run --separate-stderr bash -c "set -o pipefail; '$BIN' --pass-through <'$FX/fail-spread.jsonl' | true"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unfair: cg_1 spread 23.4% > 15%"* ]]
}

@test "--pass-through on a full disk: exit 2 saying the copy is incomplete" {
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr bash -c "'$BIN' --pass-through <'$FX/pass.jsonl' >/dev/full"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ktstr-stats: writing records to stdout: No space left on device; the copy is incomplete"* ]]
	[[ "$stderr" == *"passed"* ]]
	[[ "$stderr" == *"ktstr-stats: stdout: the copy of the records is incomplete (a write failed)" ]]
	run --separate-stderr bash -c "'$BIN' --pass-through --json <'$FX/pass.jsonl' >/dev/full"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"the copy of the records and the verdict record is incomplete"* ]]
	# Without --pass-through: the verdict record or the report did not get out.
	run --separate-stderr bash -c "'$BIN' --json <'$FX/pass.jsonl' >/dev/full"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-stats: writing the verdict to stdout: No space left on device" ]]
	run --separate-stderr bash -c "'$BIN' <'$FX/pass.jsonl' >/dev/full"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-stats: writing the report to stdout: No space left on device" ]]
}

# ---- SIGINT ----------------------------------------------------------------

# `ktstr-vm ... | ktstr-stats` under ^C: both get SIGINT; ktstr-stats reads on
# until ktstr-vm's vm_exit and judges what the run got to.  The default
# SIGINT action is restored first: a background job starts with it ignored.

# Wait until process $1 catches SIGINT (SigCgt bit 2), so the signal is not
# sent before ktstr-stats is ready for it.
sigint_caught() {
	local m
	for _ in $(seq 100); do
		m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || m=0
		(( 0x${m:-0} & 2 )) && return 0
		sleep 0.05
	done
	return 1
}
@test "SIGINT while reading: the input is read to its end, the run judged inconclusive" {
	mkfifo "$TEST_TMP/in"
	env --default-signal=INT "$BIN" <"$TEST_TMP/in" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	exec 8>"$TEST_TMP/in"
	head -n 5 "$FX/interrupted.jsonl" >&8
	sigint_caught "$pid"
	kill -INT "$pid"
	for _ in $(seq 50); do
		grep -q interrupted "$TEST_TMP/err" && break
		sleep 0.1
	done
	tail -n 1 "$FX/interrupted.jsonl" >&8
	exec 8>&-
	status=0
	wait "$pid" || status=$?
	cat "$TEST_TMP/out" "$TEST_TMP/err"
	[ "$status" -eq 3 ]
	grep -q "^ktstr-stats: stdin: interrupted; reading the rest of the input" "$TEST_TMP/err"
	[ "$(head -n 1 "$TEST_TMP/out")" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] inconclusive: the run was interrupted before scenario_end (interrupted by Interrupt)" ]
}

@test "SIGINT, then the input ends without vm_exit: inconclusive, even after scenario_end" {
	mkfifo "$TEST_TMP/in"
	env --default-signal=INT "$BIN" --json <"$TEST_TMP/in" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	exec 8>"$TEST_TMP/in"
	head -n 3 "$FX/pass.jsonl" >&8
	sigint_caught "$pid"
	kill -INT "$pid"
	for _ in $(seq 50); do
		grep -q interrupted "$TEST_TMP/err" && break
		sleep 0.1
	done
	tail -n +4 "$FX/pass.jsonl" | grep -v '"vm_exit"' >&8
	exec 8>&-
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 3 ]
	[ "$(jq -r '.result + ": " + .reason' "$TEST_TMP/out")" = "inconclusive: interrupted: the input ended without vm_exit, so the run was cut short" ]
}
