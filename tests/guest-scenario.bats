#!/usr/bin/env bats
# The guest's scenario engine through ktstr-vm --scenario FILE, checked on
# its records (scenario.bats judges runs with ktstr-stats; these look at
# what the guest reported).  Real QEMU under TCG, the real kernel; the
# schedulers are the kernel's own, from run-bats (KTSTR_E2E_SCHED_DIR).

load lib/common

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
	PROXY=$BATS_TEST_DIRNAME/lib/qemu-proxy.py
}
teardown() { common_teardown; }

# run_scenario JSON [ktstr-vm ARGS...]: the scenario on 1,2,2,1, records in
# $TEST_TMP/rec.
run_scenario() {
	printf '%s\n' "$1" >"$TEST_TMP/scenario.json"
	shift
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,2,2,1 \
		--scenario "$TEST_TMP/scenario.json" "$@"
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	echo "status=$status"
	echo "$stderr"
	jq -c 'select(.type == "worker" or .type == "cgroup_stats" or .type == "scheduler" or
		.type == "exit" or .type == "scenario_end" or .type == "scenario_error")' "$TEST_TMP/rec"
}

# jq -e over all records as one array.
recq() {
	jq -e -s "$1" "$TEST_TMP/rec" >/dev/null || {
		echo "records check failed: $1" >&2
		return 1
	}
}

# What every clean run shows: exit 0, one start and end, N workers that
# ran on a CPU and did not crash, M cgroups with no isolation violation
# and nobody starved, the first step's adds at 0 ms.
common_ok() {
	local nworkers=$1 ncg=$2
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq '[.[] | select(.type == "scenario_start")] | length == 1'
	recq '[.[] | select(.type == "scenario_end")] | length == 1'
	recq "[.[] | select(.type == \"worker\")] | length == $nworkers and
		all(.iterations > 0 and (.crashed | not) and .cpu_time_us != null and .cpu_time_us > 0)"
	recq "[.[] | select(.type == \"cgroup_stats\")] | length == $ncg and
		all(.isolation_violations == 0 and .starved_workers == 0)"
	recq '[.[] | select(.type == "stimulus" and .step == 0)] | all(.op == "add" and .at_ms == 0)'
}

@test "guest scenario: steady, two cgroups of two spinners, no scheduler" {
	run_scenario '{"name": "steady", "duration": "3s", "cgroups": [
		{"name": "cg_0", "workers": 2, "work": "spin_wait"},
		{"name": "cg_1", "workers": 2, "work": "spin_wait"}]}'
	[ "$status" -eq 0 ]
	common_ok 4 2
	recq 'any(.[]; .type == "scenario_start" and .cpus == 4 and .checks.max_gap_ms == 2000 and
		.scheduler == null)'
	recq 'any(.[]; .type == "scenario_end" and .scheduler_alive == null and
		.elapsed_ms >= 2900 and .elapsed_ms <= 4500)'
}

@test "guest scenario: waking work reports wake latencies per worker and cgroup" {
	run_scenario '{"name": "wake", "duration": "3s", "cgroups": [
		{"name": "bursty", "workers": 2, "work": {"type": "bursty", "burst": "5ms", "sleep": "20ms"}},
		{"name": "futex", "workers": 2, "work": "futex_ping_pong"},
		{"name": "pipe", "workers": 2, "work": "pipe_io"},
		{"name": "fan", "workers": 3, "work": {"type": "futex_fan_out", "fan": 2}}]}'
	[ "$status" -eq 0 ]
	common_ok 9 4
	recq '[.[] | select(.type == "worker")] | all(.wake_samples > 0 and .wake_p50_us != null)'
	recq '[.[] | select(.type == "cgroup_stats")] | all(.p99_wake_latency_us != null)'
}

# cg_0 on LLC 0 and cg_1 pinned to CPUs 2-3, swapped halfway: the CPUs
# used stay inside what each had at the time, across the swap.
@test "guest scenario: cpusets swapped halfway, no isolation violation" {
	run_scenario '{"name": "cpuset", "duration": "3s", "cgroups": [
		{"name": "cg_0", "workers": 2, "work": "spin_wait", "cpuset": {"llc": 0}},
		{"name": "cg_1", "workers": 2, "work": "spin_wait", "cpuset": {"cpus": "2-3"}, "pinned": true}],
		"steps": [{"hold": {"frac": 0.5}},
		 {"ops": [{"op": "swap_cpusets", "cgroup": "cg_0", "with": "cg_1"}], "hold": {"frac": 0.5}}]}'
	[ "$status" -eq 0 ]
	common_ok 4 2
	recq '[.[] | select(.type == "cgroup_stats")] | all(.violating_cpus == null)'
	recq 'any(.[]; .type == "stimulus" and .op == "swap_cpusets" and (.error | not))'
}

@test "guest scenario: every work type at once" {
	run_scenario '{"name": "allwork", "duration": "3s", "cgroups": [
		{"name": "yield", "workers": 1, "work": "yield_heavy"},
		{"name": "mixed", "workers": 1, "work": "mixed"},
		{"name": "io", "workers": 1, "work": {"type": "io_sync", "bytes": 8192}},
		{"name": "cache", "workers": 1, "work": {"type": "cache_pressure", "kib": 256}},
		{"name": "fork", "workers": 1, "work": "fork_exit"},
		{"name": "nice", "workers": 1, "work": "nice_sweep"},
		{"name": "aff", "workers": 2, "work": "affinity_churn", "cpuset": {"cpus": "1-3"}},
		{"name": "policy", "workers": 1, "work": "policy_churn"},
		{"name": "pf", "workers": 1, "work": {"type": "page_fault_churn", "kib": 256}},
		{"name": "mutex", "workers": 3, "work": "mutex_contention"},
		{"name": "seq", "workers": 1, "work": {"type": "sequence", "phases": [{"spin": "2ms"}, {"sleep": "1ms"}, {"yield": 3}, {"io": 1}]}},
		{"name": "rt", "workers": 1, "work": {"type": "bursty", "burst": "1ms", "sleep": "10ms"}, "policy": "fifo", "rt_priority": 5},
		{"name": "bg", "workers": 1, "work": "spin_wait", "nice": 10, "policy": "batch", "background": true}]}'
	[ "$status" -eq 0 ]
	n=$(jq -s '[.[] | select(.type == "worker")] | length' "$TEST_TMP/rec")
	[ "$n" -ge 16 ]
	common_ok "$n" 13
}

@test "guest scenario: every op applied, steps in order, a loop re-applied" {
	run_scenario '{"name": "ops", "duration": "5s", "cgroups": [
		{"name": "cg_0", "workers": 2, "work": "spin_wait"},
		{"name": "outer/a", "workers": 2, "work": "spin_wait", "pinned": true, "cpuset": {"cpus": "0-1"}},
		{"name": "outer/b", "workers": 2, "work": "futex_ping_pong"}],
		"steps": [
		 {"ops": [{"op": "add", "cgroup": {"name": "cg_late", "workers": 1, "work": "yield_heavy"}},
		          {"op": "spawn", "cgroup": "cg_0", "count": 1}], "hold": {"frac": 0.2}},
		 {"ops": [{"op": "move_tasks", "cgroup": "cg_0", "to": "outer/a", "count": 1},
		          {"op": "set_affinity", "cgroup": "cg_0", "cpuset": {"cpus": "3"}}], "hold": {"frac": 0.2}},
		 {"ops": [{"op": "stop", "cgroup": "outer/b"}, {"op": "remove", "cgroup": "cg_late"}], "hold": {"frac": 0.2}},
		 {"ops": [{"op": "set_cpuset", "cgroup": "outer/a", "cpuset": {"disjoint": {"index": 1, "of": 2}}}],
		  "hold": {"loop": {"interval": "200ms", "frac": 0.2}}},
		 {"ops": [{"op": "clear_cpuset", "cgroup": "outer/a"}], "hold": {"frac": 0.2}}]}'
	[ "$status" -eq 0 ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq '[.[] | select(.type == "stimulus")] | all(.error | not)'
	for op in add spawn move_tasks set_affinity set_cpuset stop clear_cpuset remove; do
		recq "any(.[]; .type == \"stimulus\" and .op == \"$op\")"
	done
	recq '[.[] | select(.type == "step") | .index] == [1, 2, 3, 4, 5]'
	recq '[.[] | select(.type == "stimulus" and .op == "set_cpuset")] | length >= 3'
	recq '[.[] | select(.type == "cgroup_stats")] | all(.isolation_violations == 0)'
	# cg_late, removed in step 3, is reported then, not last.
	recq '[.[] | select(.type == "cgroup_stats") | .cgroup] | index("cg_late") < length - 1'
	recq '[.[] | select(.type == "worker")] | all(.iterations > 0)'
}

# ktstr-vm refuses this scenario itself (scenario.bats, "bad scenario:
# negative workers"); the guest's own check is reached by changing the
# request on its way.
@test "guest scenario: the guest's own check names the JSON path and exits 2" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=rewrite KTSTR_PROXY_JQ='.scenario.cgroups[0].workers = -1' \
		run_scenario '{"name": "bad", "duration": "2s", "cgroups": [{"name": "cg_0", "workers": 1}]}'
	recq '[.[] | select(.type == "scenario_error")] | length == 1 and (.[0].message | contains("$.cgroups[0]"))'
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 2}]'
	assert_no_qemu
}

# Two cgroups of two spinners for 4 s, for the scheduler cases.
SCX_SCENARIO='{"name": "scx", "duration": "4s", "cgroups": [
	{"name": "cg_0", "workers": 2, "work": "spin_wait"},
	{"name": "cg_1", "workers": 2, "work": "spin_wait"}]}'

@test "guest scenario: scx_simple started, attached, detached cleanly; alive at the end" {
	run_scenario "$SCX_SCENARIO" --scheduler "$SCHED/scx_simple"
	[ "$status" -eq 0 ]
	common_ok 4 2
	recq '[.[] | select(.type == "scheduler") | .event] == ["started", "attached", "detached"]'
	recq 'any(.[]; .type == "scheduler" and .event == "detached" and .clean == true)'
	recq '[.[] | select(.type == "sched_ext_events")] | length == 1'
	recq 'any(.[]; .type == "scenario_end" and .scheduler_alive == true)'
}

# A "scheduler" that attaches and is then thrown out by the kernel
# (sysrq-S) mid-run: the died path, with the kernel's own reason.  The run
# ends early: --duration 10s, over in less than 8.
@test "guest scenario: a scheduler the kernel ejects is reported died, with the reason and kernel log" {
	cat >"$TEST_TMP/scx-sysrq" <<'EOF'
#!/bin/sh
/include-files/scx_simple &
# Attaching takes seconds under TCG: eject it once it is in.
while [ "$(cat /sys/kernel/sched_ext/state)" != enabled ]; do sleep 0.1; done
sleep 1
echo S >/proc/sysrq-trigger
wait
EOF
	chmod +x "$TEST_TMP/scx-sysrq"
	run_scenario "$SCX_SCENARIO" -i "$SCHED/scx_simple" --scheduler "$TEST_TMP/scx-sysrq" --duration 10s
	recq '[.[] | select(.type == "scheduler") | .event] == ["started", "attached", "died"]'
	# The kernel's own words, in the reason or at least in the kernel log
	# beside it: the agent can see the state change before the kernel has
	# written its reason, and then says "sched_ext state left ...".
	recq 'any(.[]; .type == "scheduler" and .event == "died" and (.kernel_log | length > 0) and
		((.reason + " " + (.kernel_log | join(" "))) | ascii_downcase | contains("sysrq")))'
	recq 'any(.[]; .type == "scenario_end" and .elapsed_ms < 8000 and .scheduler_alive == false)'
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
}

# Attaches, then hurts workers from outside: one crashes (SIGSEGV), one is
# frozen (SIGSTOP) so it cannot obey the stop request.  Passes SIGINT on,
# so the detach is still clean.
@test "guest scenario: a crashed worker and a frozen one are told apart; the detach stays clean" {
	cat >"$TEST_TMP/scx-chaos" <<'EOF'
#!/bin/sh
/include-files/scx_simple &
pid=$!
trap 'kill -INT $pid; wait $pid; exit $?' INT
# (cgroupfs files report size 0: test the contents)
while [ -z "$(cat /sys/fs/cgroup/ktstr/cg_1/cgroup.procs 2>/dev/null)" ]; do sleep 0.1; done
sleep 1
kill -SEGV "$(head -n1 /sys/fs/cgroup/ktstr/cg_0/cgroup.procs)"
kill -STOP "$(head -n1 /sys/fs/cgroup/ktstr/cg_1/cgroup.procs)"
wait $pid
EOF
	chmod +x "$TEST_TMP/scx-chaos"
	run_scenario "$SCX_SCENARIO" -i "$SCHED/scx_simple" --scheduler "$TEST_TMP/scx-chaos"
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq '[.[] | select(.type == "worker")] | length == 4'
	recq '[.[] | select(.type == "worker" and .crashed)] | length == 1 and .[0].signal == 11 and .[0].cgroup == "cg_0"'
	recq '[.[] | select(.type == "worker" and .stop_timeout)] | length == 1 and .[0].cgroup == "cg_1"'
	recq '[.[] | select(.type == "cgroup_stats")] | all(.starved_workers == 0)'
	recq 'any(.[]; .type == "scheduler" and .event == "detached" and .clean == true)'
}

# ktstr-vm refuses a scheduler that is not there; the guest's exec failure
# is reached by changing the path on the request's way.
@test "guest scenario: a scheduler that cannot start: started, attach_failed, no workers, exit 1" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=rewrite \
		KTSTR_PROXY_JQ='.scheduler = {path: "/include-files/no-such-scheduler", args: ["-v"]}' \
		run_scenario "$SCX_SCENARIO" --scheduler "$SCHED/scx_simple"
	recq '[.[] | select(.type == "scheduler") | .event] == ["started", "attach_failed"]'
	recq 'all(.[]; .type != "worker")'
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 1}]'
	assert_no_qemu
}
