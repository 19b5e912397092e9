#!/usr/bin/env bats
# ktstr-export end to end: the reproducer runs in a plain ktstr-vm guest
# (busybox and the .run file; nothing of ktstr installed there but the
# VM's own PID 1) and its records, carried back as the guest command's
# output lines, give ktstr-stats the same verdict as a VM run.  A guest
# whose topology is not the exported one is refused with what differs.

load lib/common

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
	cd "$TEST_TMP"
}
teardown() { common_teardown; }

# Run the .run file $1 in a guest of topology $2 with the run file's
# arguments; the guest's stdout lines (the agent's records) in
# $TEST_TMP/rec, ktstr-vm's records in $TEST_TMP/vm.rec.
run_in_vm() {
	local file=$1 topo=$2
	shift 2
	ktstr-vm -k "$KERNEL" --topo "$topo" -i "$file" \
		--exec "/include-files/$(basename "$file") $*" >"$TEST_TMP/vm.rec" 2>"$TEST_TMP/vm.err" || true
	cat "$TEST_TMP/vm.err"
	jq -r 'select(.type == "output" and .stream == "stdout") | .line' "$TEST_TMP/vm.rec" \
		>"$TEST_TMP/rec"
	jq -r 'select(.type == "output" and .stream == "stderr") | .line' "$TEST_TMP/vm.rec"
}

@test "export: steady under scx_simple runs in a plain VM and ktstr-stats passes it" {
	ktstr-export --scenario steady --scheduler "$SCHED/scx_simple" --topo 1,1,2,1 \
		--duration 3s -o steady.run
	run_in_vm steady.run 1,1,2,1 --json
	jq -e -s 'map(select(.type == "exit")) | .[0].exit_code == 0' "$TEST_TMP/vm.rec"
	run --separate-stderr ktstr-stats --json "$TEST_TMP/rec"
	echo "verdict: $output"
	echo "stats stderr: $stderr"
	[ "$status" -eq 0 ]
	jq -e '.result == "pass" and .scheduler == "scx_simple" and .scenario == "steady"' <<<"$output"
	# The host-mode agent said so, and the scheduler it ran was the bundled one.
	jq -e -s 'map(select(.type == "agent_ready")) | .[0].mode == "host"' "$TEST_TMP/rec"
	jq -e -s 'any(.type == "worker")' "$TEST_TMP/rec"
}

@test "export: an export for 1,2,2,1 is refused on a 1,1,2,1 machine, naming what differs" {
	ktstr-export --scenario steady --scheduler "$SCHED/scx_simple" --topo 1,2,2,1 \
		--duration 3s -o wide.run
	run_in_vm wide.run 1,1,2,1 --json
	cat "$TEST_TMP/rec"
	jq -e -s 'map(select(.type == "exit")) | .[0].exit_code == 2' "$TEST_TMP/vm.rec"
	jq -e -s 'map(select(.type == "host_refused")) | length == 1 and
		.[0].check == "topology" and .[0].expected == "1,2,2,1" and
		.[0].found == "1,1,2,1" and
		any(.[0].differs[]; test("llcs: expected 2, found 1"))' "$TEST_TMP/rec"
	# Nothing ran.
	! grep -q '"type":"scenario_start"' "$TEST_TMP/rec"
	# The refusal is said in the name of the script the user ran.
	jq -r 'select(.type == "output" and .stream == "stderr") | .line' "$TEST_TMP/vm.rec" |
		grep -q '^wide\.run: this machine is 1,1,2,1, not the expected 1,2,2,1'
	! grep -q 'ktstr-agent:' "$TEST_TMP/vm.rec" || false
}

@test "export: SIGTERM to the run file stops the agent and removes its directory and cgroups" {
	ktstr-export --scenario steady --scheduler "$SCHED/scx_simple" --topo 1,1,2,1 \
		--duration 60s -o long.run
	ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --tools -i long.run --exec '
		/include-files/long.run --json >/tmp/out &
		pid=$!
		i=0
		until grep -q scenario_start /tmp/out 2>/dev/null || [ $i -ge 300 ]; do
			sleep 0.1; i=$((i + 1)); done
		kill -TERM $pid; wait $pid; echo "rc=$?"
		echo "left:[$(ls -d /tmp/ktstr-run.* /sys/fs/cgroup/ktstr/ktstr-host-* 2>/dev/null)]"
		echo "state: $(cat /sys/kernel/sched_ext/state)"
		echo "agents: $(pgrep -f "[k]tstr-agent --hos[t]" | wc -l) (pgrep: $(command -v pgrep))"' >"$TEST_TMP/vm.rec" 2>"$TEST_TMP/vm.err" || true
	cat "$TEST_TMP/vm.err"
	run jq -r 'select(.type == "output") | .line' "$TEST_TMP/vm.rec"
	echo "$output"
	[[ "$output" == *"rc=143"* ]]
	[[ "$output" == *"left:[]"* ]]
	[[ "$output" == *"state: disabled"* ]]
	[[ "$output" == *"agents: 0 (pgrep: /usr/bin/pgrep)"* ]]
}

@test "export: a dynamic payload program runs through the bundle's loader on a machine without its libraries" {
	# jq needs libjq and libonig, which the VM does not have: only the
	# bundle's lib/ can make it run.
	cat >jqload.json <<'JSON'
{
  "name": "jq_load",
  "duration": "3s",
  "cgroups": [{ "name": "cg_0", "workers": 1 }],
  "payloads": [
    { "program": "jq", "args": ["-n", "\"answer: 42\""],
      "metrics": { "form": "pattern", "patterns": [
        { "regex": "answer: ([0-9]+)", "metric": "answer" }]} }
  ]
}
JSON
	ktstr-export --scenario jqload.json --topo 1,1,2,1 -o jq.run
	run_in_vm jq.run 1,1,2,1 --json
	jq -e -s 'map(select(.type == "payload" and .event == "stop")) | length == 1 and
		.[0].exit_code == 0' "$TEST_TMP/rec"
	jq -e -s 'map(select(.type == "payload_metrics"))[0].metrics.answer.value == 42' \
		"$TEST_TMP/rec"
	run --separate-stderr ktstr-stats --json "$TEST_TMP/rec"
	echo "verdict: $output"
	[ "$status" -eq 0 ]
}

@test "export: on a terminal the run file prints the human verdict with its bundled printer" {
	# script(1) from the host gives the guest command a terminal.
	ktstr-export --scenario steady --scheduler "$SCHED/scx_simple" --topo 1,1,2,1 \
		--duration 3s -o steady.run
	ktstr-vm -k "$KERNEL" --topo 1,1,2,1 -i steady.run -i "$(command -v script)" \
		--exec '/include-files/script -qec /include-files/steady.run /dev/null; echo "rc=$?"' \
		>"$TEST_TMP/vm.rec" 2>"$TEST_TMP/vm.err" || true
	cat "$TEST_TMP/vm.err"
	run jq -r 'select(.type == "output") | .line' "$TEST_TMP/vm.rec"
	echo "$output"
	[[ "$output" == *"ktstr 'steady' [topo=1n1l2c1t sched=scx_simple] passed"* ]]
	[[ "$output" == *"cg_0: workers=2"* ]]
	[[ "$output" != *'"type":'* ]]
	[[ "$output" == *"rc=0"* ]]
}
