#!/usr/bin/env bats
# ktstr-vm's scenario, --ctprof and --kconfig inputs refused before a boot,
# on a fake cache entry (tests/fixtures/fake-kernel).  Scenarios that run:
# tests/scenario.bats.

load cli

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	KERNEL=$FAKE_IMAGE
	FIX=$BATS_TEST_DIRNAME/../fixtures/scenarios
}
teardown() { common_teardown; }

bad_scenario() {
	local file=$1 want=$2
	run --separate-stderr ktstr-vm -k "$KERNEL" --scenario "$FIX/$file"
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"$want"* ]]
	assert_no_qemu
}

@test "bad scenario: unknown work type names its JSON path" {
	bad_scenario bad-work-type.json '$.cgroups[1].work.type'
}

@test "bad scenario: negative workers names its JSON path" {
	bad_scenario negative-workers.json '$.cgroups[0].workers'
}

@test "bad scenario: cpuset beyond the topology names its JSON path" {
	bad_scenario cpuset-beyond.json '$.cgroups[0].cpuset'
}

@test "bad scenario: invalid JSON names the file and position" {
	bad_scenario invalid.json 'invalid JSON'
}

@test "bad scenario: an unknown check key names its JSON path and the keys" {
	bad_scenario unknown-check.json '$.checks.max_p99_wake: unknown key; expected one of max_spread_pct'
	[[ "$stderr" == *max_idle_while_runnable_ms* ]]
}

@test "unknown canned scenario lists the known ones" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --scenario no_such_thing
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"steady"* ]]
}

@test "--ctprof bad inputs: no scenario, unwritable path" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --ctprof "$TEST_TMP/x.ctprof" --exec true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--ctprof needs --scenario"* ]]
	run --separate-stderr ktstr-vm -k "$KERNEL" --scenario steady --ctprof /nonexistent/dir/x.ctprof
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"--ctprof /nonexistent/dir/x.ctprof: cannot write into /nonexistent/dir"* ]]
	assert_no_qemu
}

@test "--bpf-stats needs a scenario; KTSTR_BPF_STATS leaves --exec alone" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --bpf-stats --exec true
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"--bpf-stats needs a scenario, not --exec or --shell"* ]]
	# The variable is a default for scenario runs, not a reason to refuse
	# a command: the dry run gets as far as the QEMU command line.
	KTSTR_BPF_STATS=1 run --separate-stderr ktstr-vm -k "$KERNEL" --exec true --dry-run
	echo "$stderr"
	[ "$status" -eq 0 ]
	assert_no_qemu
}

@test "--kconfig: a missing or non-config file is a one-line usage error" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --kconfig "$TEST_TMP/nope" --dry-run
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"--kconfig: $TEST_TMP/nope does not exist"* ]]
	echo 'not a config' >"$TEST_TMP/bad"
	run --separate-stderr ktstr-vm -k "$KERNEL" --kconfig "$TEST_TMP/bad" --dry-run
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is not a kernel config"* ]]
}

@test "steady_llc on a single-LLC VM is skipped with a reason, not failed" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario steady_llc
	[ "$status" -eq 3 ]
	printf '%s\n' "$output" | jq -e -s 'any(.[]; .type == "scenario_skip" and (.reason | test("LLC")))'
	printf '%s\n' "$output" | ktstr-stats >/dev/null || st=$?
	[ "${st:-0}" -eq 3 ]
	# The skip names the scheduler it was for, as vm_start would.
	printf '%s\n' "$output" | jq -e -s '.[0].scheduler == null'
	[[ "$(printf '%s\n' "$output" | ktstr-stats)" == "ktstr 'steady_llc' [topo=1n1l2c1t sched=eevdf] skipped: "* ]]
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario steady_llc \
		--scheduler "$TEST_TMP/scx_mine"
	[ "$status" -eq 3 ]
	[[ "$(printf '%s\n' "$output" | ktstr-stats)" == "ktstr 'steady_llc' [topo=1n1l2c1t sched=scx_mine] skipped: "* ]]
	assert_no_qemu
}
