#!/usr/bin/env bats
# Scenarios under real schedulers, end to end: ktstr-vm | ktstr-stats.
# The canned loop and the ten repeated runs judge fairness and latency:
# they need the host's CPUs to themselves (tests/run-bats).
# run-bats: alone

load lib/common

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
	FIX=$BATS_TEST_DIRNAME/fixtures/scenarios
}
teardown() { common_teardown; }

# Assert on the run's records as one array: jq 1.6's -e judges only the
# last input, so per-line select() checks would pass or fail at random.
recq() {
	jq -e -s "$1" "$TEST_TMP/rec" >/dev/null || {
		echo "records check failed: $1" >&2
		return 1
	}
}

# Run a scenario and its verdict; leaves records in $TEST_TMP/rec and the
# JSON verdict in $TEST_TMP/verdict.
scenario_verdict() {
	ktstr-vm -k "$KERNEL" "$@" >"$TEST_TMP/rec" 2>"$TEST_TMP/vm.err" || true
	run --separate-stderr ktstr-stats --json "$TEST_TMP/rec"
	printf '%s\n' "$output" >"$TEST_TMP/verdict"
	echo "verdict: $output"
	echo "stats stderr: $stderr"
	cat "$TEST_TMP/vm.err"
}

@test "steady on 1,2,2,1 passes under EEVDF" {
	scenario_verdict --topo 1,2,2,1 --scenario steady
	[ "$status" -eq 0 ]
	jq -e '.result == "pass" and .scheduler == null' "$TEST_TMP/verdict"
	# Four workers did real work on four CPUs.
	[ "$(jq -c 'select(.type == "worker")' "$TEST_TMP/rec" | wc -l)" -eq 4 ]
	recq 'map(select(.type == "worker")) | length == 4 and all(.iterations > 0)'
}

@test "steady on 1,2,2,1 passes under scx_simple" {
	scenario_verdict --topo 1,2,2,1 --scenario steady --scheduler "$SCHED/scx_simple"
	[ "$status" -eq 0 ]
	jq -e '.result == "pass" and .scheduler == "scx_simple"' "$TEST_TMP/verdict"
	recq 'any(.[]; .type == "scheduler" and .event == "attached" and .ops == "simple")'
	recq 'any(.[]; .type == "scheduler" and .event == "detached" and .clean == true)'
}

@test "steady on 1,2,2,1 passes under scx_central" {
	scenario_verdict --topo 1,2,2,1 --scenario steady --scheduler "$SCHED/scx_central"
	[ "$status" -eq 0 ]
	jq -e '.result == "pass" and .scheduler == "scx_central"' "$TEST_TMP/verdict"
}

@test "a scheduler named on the command line resolves through KTSTR_SCHEDULER_BIN_<NAME>" {
	KTSTR_SCHEDULER_BIN_SCX_SIMPLE="$SCHED/scx_simple" \
		scenario_verdict --topo 1,1,2,1 --scenario steady --scheduler scx_simple --duration 3s
	[ "$status" -eq 0 ]
	jq -e '.scheduler == "scx_simple"' "$TEST_TMP/verdict"
}

@test "cpuset scenario: workers never run outside their cpuset" {
	scenario_verdict --topo 1,2,2,1 --scenario cpuset_apply --scheduler "$SCHED/scx_simple"
	[ "$status" -eq 0 ]
	jq -e '.result == "pass"' "$TEST_TMP/verdict"
	# The isolation check was evaluated, per cgroup, and passed.
	jq -e '[.checks[] | select(.check == "isolation")] | length >= 2 and all(.pass)' "$TEST_TMP/verdict"
	recq 'map(select(.type == "cgroup_stats")) | length >= 2 and all(.isolation_violations == 0)'
	# And the cpusets really were applied: each cgroup ran on its own half.
	recq '[.[] | select(.type == "cgroup_stats") | .cpuset] | sort == ["0-1", "2-3"]'
}

@test "a SCHED_FIFO hog sharing a CPU with normal workers fails, naming the CPU" {
	scenario_verdict --topo 1,1,2,1 --scenario "$FIX/fifo-hog.json"
	[ "$status" -eq 1 ]
	jq -e '.result == "fail"' "$TEST_TMP/verdict"
	jq -e '[.failures[] | select(.check == "gap" or .check == "starvation")] | length >= 1' "$TEST_TMP/verdict"
	run ktstr-stats "$TEST_TMP/rec"
	echo "$output"
	[[ "$output" == *"on cpu1"* || "$output" == *"starved"* ]]
}

@test "a scheduler that dies mid-run fails with 'scheduler died' and the kernel's reason" {
	# scx_qmap -e N calls scx_bpf_error() after N enqueues: the kernel ejects
	# it.  Enqueues come from wake-ups, so the workers must block and wake:
	# under steady's spinners they came only from kernel threads, and a
	# quiet guest (no kdamond) did not reach 300 in 8 s.  wakeup's six
	# workers wake many times a second each, so 300 lands early in the run.
	scenario_verdict --topo 1,2,2,1 --scenario wakeup --duration 8s \
		--scheduler "$SCHED/scx_qmap" --sched-arg -e --sched-arg 300
	[ "$status" -eq 1 ]
	jq -e '.result == "fail"' "$TEST_TMP/verdict"
	recq 'any(.[]; .type == "scheduler" and .event == "died" and (.reason | length > 0))'
	run ktstr-stats "$TEST_TMP/rec"
	echo "$output"
	[[ "$output" == *"scheduler died"* ]]
	[[ "$output" == *"scx_bpf_error"* ]]
}


@test "quick scenario from --cgroup flags" {
	scenario_verdict --topo 1,1,2,1 --cgroup cg_0:workers=2 \
		--cgroup cg_1:workers=2,work=bursty:50ms:100ms --duration 4s
	[ "$status" -eq 0 ]
	recq 'any(.[]; .type == "cgroup_stats" and .cgroup == "cg_1" and .p99_wake_latency_us != null)'
}

# A check spelt by its key or by an older alias (max_p99_wake_us,
# min_iter_rate, the test-file names): one table behind both, so the same
# limits reach the guest and come back in scenario_start.
@test "a check under its old or new name in a scenario: the same verdict" {
	local p99 rate
	for sp in "max_p99_wake_us min_iter_rate" "max_p99_wake_latency_us min_iterations_per_sec"; do
		read -r p99 rate <<<"$sp"
		printf '{"name": "spelling", "duration": "2s", "checks": {"%s": 1, "%s": 1e9, "max_gap_ms": "off"}, "cgroups": [{"name": "cg_0", "workers": 2, "work": {"type": "bursty", "burst": "2ms", "sleep": "3ms"}}]}\n' \
			"$p99" "$rate" >"$TEST_TMP/$p99.json"
		scenario_verdict --topo 1,1,2,1 --scenario "$TEST_TMP/$p99.json"
		[ "$status" -eq 1 ]
		recq 'any(.[]; .type == "scenario_start" and .checks.max_p99_wake_latency_us == 1 and
			.checks.min_iterations_per_sec == 1e9 and .checks.max_gap_ms == null and
			.checks.max_imbalance_ratio == 4 and .checks.stall == true and
			(.sysctls.sched_rt_runtime_us | type) == "number")'
		# (only the two checks set here: the others are not this test's)
		jq -c '[.result, ([.failures[].check | select(. == "iteration_rate" or
			. == "p99_wake_latency")] | unique), .thresholds]' "$TEST_TMP/verdict" \
			>"$TEST_TMP/$p99.v"
	done
	cat "$TEST_TMP/max_p99_wake_us.v"
	jq -e '.[0] == "fail" and .[1] == ["iteration_rate", "p99_wake_latency"]' "$TEST_TMP/max_p99_wake_us.v"
	cmp "$TEST_TMP/max_p99_wake_us.v" "$TEST_TMP/max_p99_wake_latency_us.v"
}

@test "ten repeated steady runs under scx_simple: zero false failures" {
	run bash "$BATS_TEST_DIRNAME/soak/repeat" -n 10 -- -k "$KERNEL" --topo 1,2,2,1 \
		--scenario steady --duration 3s --scheduler "$SCHED/scx_simple"
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | tail -n1 | jq -e '.type == "repeat_summary" and .pass == 10'
	assert_no_qemu
}

@test "--ctprof: per-thread profiles from the guest, compared across schedulers" {
	ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario steady --duration 3s \
		--ctprof "$TEST_TMP/eevdf.ctprof" >"$TEST_TMP/a.jsonl"
	ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario steady --duration 3s \
		--scheduler "$SCHED/scx_simple" --ctprof "$TEST_TMP/simple.ctprof.zst" >"$TEST_TMP/b.jsonl"
	# The huge snapshot record is replaced by a note of where it went.
	jq -e -s 'any(.[]; .type == "ctprof_saved" and .threads > 10 and .capture_cpu_ms >= 0) and
		all(.[]; .type != "ctprof")' "$TEST_TMP/a.jsonl"
	# The capture does not change the verdict (issue 16): it is taken
	# after the workload window, so the run passes and the agent's share
	# of the guest's CPU over the window stays small.  Measured on a
	# loaded 2-core TCG host: 0.27-0.29 % here (3 s, 2 CPUs), 0.07-0.27 %
	# for 10 s on 4 CPUs; the capture inside the window cost 1.7-2.3 s
	# of FIFO CPU, tens of percent of this run.  The bound is 5 %, not the
	# 1 % goal: TCG charges the agent for host time its vCPU waits, which
	# triples under load, and 3 s on 2 CPUs leaves too little margin.
	# tests/soak/ctprof-verdict is the 10-run check against 1 %.
	run --separate-stderr ktstr-stats "$TEST_TMP/a.jsonl"
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e -s '[.[] | select(.type == "scenario_end")][0] | .agent_cpu_ms >= 0 and
		.agent_cpu_pct >= 0 and .agent_cpu_pct < 5 and .agent_window_ms >= 3000' "$TEST_TMP/a.jsonl"
	# Captured once the workers had exited, before they were reaped.
	ktstr-ctprof convert "$TEST_TMP/eevdf.ctprof" - |
		jq -e '[.threads[] | select(.comm | startswith("kw:"))] | length == 4 and all(.state == "Z")'
	[ "$(head -c4 "$TEST_TMP/simple.ctprof.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ]
	run --separate-stderr ktstr-ctprof compare "$TEST_TMP/eevdf.ctprof" "$TEST_TMP/simple.ctprof.zst" \
		--group-by comm --json
	[ "$status" -eq 0 ]
	# Workers are named after their cgroup and ran in both captures.
	printf '%s\n' "$output" | jq -e -s 'any(.[]; .type == "ctprof_group" and .group == "kw:cg_0" and .status == "both")'
	printf '%s\n' "$output" | jq -e -s 'any(.[]; .type == "ctprof_delta" and .group == "kw:cg_0" and .metric == "sum_exec_runtime_ns" and .a > 1e9 and .b > 1e9)'
	# Only the scx_simple capture saw sched_ext enabled.
	ktstr-ctprof convert "$TEST_TMP/simple.ctprof.zst" - | jq -e '.sched_ext.state == "enabled"'
	ktstr-ctprof convert "$TEST_TMP/eevdf.ctprof" - | jq -e '.sched_ext.state == "disabled"'
	# slice_ns is EEVDF's slice only where EEVDF runs the thread: the
	# 7.3 guest prints no ext.slice, so sched_ext workers have none.
	ktstr-ctprof convert "$TEST_TMP/eevdf.ctprof" - |
		jq -e '[.threads[] | select(.comm == "kw:cg_0")] | length > 0 and all(.slice_ns > 0)'
	ktstr-ctprof convert "$TEST_TMP/simple.ctprof.zst" - |
		jq -e '[.threads[] | select(.comm == "kw:cg_0")] | length > 0 and
			all(.ext_enabled == 1 and .slice_ns == null)'
}

# The loop below: each scenario's records and stderr in
# $TEST_TMP/NAME.jsonl and .err.
canned_lane() {
	local n dur f
	for n in "$@"; do
		# 2 s is plenty for workers on CPUs of their own; more workers
		# than the 4 vCPUs get 4 s, since fairness under time slicing
		# needs the longer window (oversubscribed under EEVDF: spread
		# 6-15% over 2 s, 1 of 8 over the 15% limit; 3-6% over 4 s).  A
		# payload scenario keeps its own duration, sized for its
		# program's start-up under TCG (fio did no I/O at all in 3 s on
		# a loaded host).
		f=$BATS_TEST_DIRNAME/../share/ktstr/scenarios/$n.json
		dur=(--duration 2s)
		jq -e '[.cgroups[]?.workers // 0] | add > 4' "$f" >/dev/null && dur=(--duration 4s)
		jq -e '.payloads | length > 0' "$f" >/dev/null && dur=()
		ktstr-vm -k "$KERNEL" --topo 1,2,2,1 --scenario "$n" "${dur[@]}" \
			>"$TEST_TMP/$n.jsonl" 2>"$TEST_TMP/$n.err" || true
	done
}

@test "every canned scenario runs and passes under EEVDF on 1,2,2,1" {
	local names failed= n
	names=$(ls "$BATS_TEST_DIRNAME/../share/ktstr/scenarios" | sed 's/\.json$//')
	[ "$(printf '%s\n' "$names" | wc -l)" -ge 15 ]
	# One VM at a time, with the host to itself (this file runs alone,
	# see its head): the loop judges fairness and latency, and guests
	# sharing host cores failed cgroup_remove's fairness and cyclictest's
	# stop on the emulator's starvation, not the scheduler's.
	# shellcheck disable=SC2086
	canned_lane $names
	for n in $names; do
		if ! ktstr-stats "$TEST_TMP/$n.jsonl" >"$TEST_TMP/$n.txt" 2>&1; then
			failed="$failed $n"
			cat "$TEST_TMP/$n.txt" "$TEST_TMP/$n.err"
		fi
		# Every step's ops were applied without errors.
		jq -e -s 'all(.[]; .type != "stimulus" or (.error == null))' "$TEST_TMP/$n.jsonl" >/dev/null ||
			failed="$failed $n(stimulus)"
	done
	echo "failed:$failed"
	[ -z "$failed" ]
}

# A /boot-style directory: the image as vmlinuz-X, its config as config-X
# (links, so nothing large is copied).  scx_central's BPF code reads
# Kconfig externs, which libbpf resolves from /boot/config-$(uname -r).
@test "scx_central attaches with a kernel whose config is config-X beside vmlinuz-X" {
	mkdir "$TEST_TMP/boot"
	ln -s "$KERNEL" "$TEST_TMP/boot/vmlinuz-7.3.4-test"
	ln -s "$(dirname "$KERNEL")/config" "$TEST_TMP/boot/config-7.3.4-test"
	run --separate-stderr ktstr-vm -k "$TEST_TMP/boot/vmlinuz-7.3.4-test" --dry-run
	printf '%s\n' "$output" | jq -e -s --arg c "$TEST_TMP/boot/config-7.3.4-test" \
		'any(.[]; .type == "kernel_resolved" and .config == $c)'
	KERNEL=$TEST_TMP/boot/vmlinuz-7.3.4-test scenario_verdict --topo 1,2,2,1 \
		--scenario steady --duration 2s --scheduler "$SCHED/scx_central"
	[ "$status" -eq 0 ]
	recq 'any(.[]; .type == "scheduler" and .event == "attached" and .ops == "central")'
}

# The Debian kernel has no IKCONFIG, so an image alone in its directory
# brings no config: the failure must say how to give it one, and
# --kconfig must then fix it.
@test "without a kernel config scx_central's failure names --kconfig, and --kconfig fixes it" {
	grep -q '^# CONFIG_IKCONFIG is not set' "$(dirname "$KERNEL")/config"
	mkdir "$TEST_TMP/alone"
	ln -s "$KERNEL" "$TEST_TMP/alone/bzImage"
	run --separate-stderr ktstr-vm -k "$TEST_TMP/alone/bzImage" --dry-run
	printf '%s\n' "$output" | jq -e -s 'any(.[]; .type == "kernel_resolved" and .config == null)'
	KERNEL=$TEST_TMP/alone/bzImage scenario_verdict --topo 1,2,2,1 \
		--scenario steady --duration 2s --scheduler "$SCHED/scx_central"
	[ "$status" -eq 1 ]
	recq 'any(.[]; .type == "scheduler" and .event == "attach_failed" and (.hint | test("--kconfig PATH")))'
	recq 'any(.[]; .type == "scheduler" and any(.output // [] | .[]; test("failed to open system Kconfig")))'
	run ktstr-stats "$TEST_TMP/rec"
	[[ "$output" == *"pass --kconfig PATH"* ]]

	KERNEL=$TEST_TMP/alone/bzImage scenario_verdict --topo 1,2,2,1 --scenario steady \
		--duration 2s --scheduler "$SCHED/scx_central" --kconfig "$(dirname "$KERNEL")/config"
	[ "$status" -eq 0 ]
	recq 'any(.[]; .type == "scheduler" and .event == "attached")'
}

# steady's workers never block, so they have no wake latency; wakeup's
# all do, and its scenario turns the p99_wake_latency check on.
@test "wakeup reports a numeric p99 wake latency per cgroup and judges it" {
	scenario_verdict --topo 1,2,2,1 --scenario wakeup --duration 3s
	[ "$status" -eq 0 ]
	recq '[.[] | select(.type == "cgroup_stats")] | length == 3 and
		all(.p99_wake_latency_us | type == "number" and . > 0)'
	jq -e '[.checks[] | select(.check == "p99_wake_latency")] | length == 3 and
		all(.value | type == "number") and all(.pass)' "$TEST_TMP/verdict"
	run ktstr-stats "$TEST_TMP/rec"
	[[ "$output" =~ cg_futex:.*p99_wake=[0-9]+us ]]

	# The same run against a 1 us limit fails on that check.
	jq '.checks.max_p99_wake_latency_us = 1' \
		"$BATS_TEST_DIRNAME/../share/ktstr/scenarios/wakeup.json" >"$TEST_TMP/tight.json"
	scenario_verdict --topo 1,2,2,1 --scenario "$TEST_TMP/tight.json" --duration 3s
	[ "$status" -eq 1 ]
	jq -e 'any(.failures[]; .check == "p99_wake_latency")' "$TEST_TMP/verdict"
}
