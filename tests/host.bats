#!/usr/bin/env bats
# Host mode (ktstr-vm --host, ktstr-agent --host): scenarios on the machine
# the tests run on, in real cgroups, and inside a VM with a real sched_ext
# scheduler.  Needs root and a cgroup2 mount; the VM tests need the e2e
# kernel and schedulers.

load lib/common

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
	AGENT=$(dirname "$(command -v ktstr-vm)")/../libexec/ktstr/ktstr-agent
	[ "$(id -u)" -eq 0 ] || skip "host mode needs root"
	# cgroup v2 may be the whole hierarchy (/sys/fs/cgroup) or, on a
	# hybrid setup like this CI machine's, a mount below it.
	CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$CG2" ] || skip "no cgroup2 mount on this machine"
	case $CG2 in
	/sys/fs/cgroup) ;;
	/sys/fs/cgroup/*) export KTSTR_CGROUP_WALK_ROOT=$CG2 ;;
	*) skip "cgroup2 is mounted at $CG2, outside /sys/fs/cgroup" ;;
	esac
	PARENT=$CG2/ktstr-bats-$$
	export KTSTR_HOST_CGROUP_PARENT=$PARENT
}

teardown() {
	# Only what this test made: its own parent, empty once a run is done.
	[ -z "${PARENT:-}" ] || rmdir "$PARENT"/ktstr-host-* "$PARENT"/foreign-* "$PARENT" 2>/dev/null || true
	common_teardown
}

# The ktstr-host-* run directories under the test's parent.
run_dirs() {
	find "$PARENT" -mindepth 1 -maxdepth 1 -name 'ktstr-host-*' -type d 2>/dev/null
}

@test "host mode: steady under EEVDF on this machine passes, and its cgroups are gone afterwards" {
	ktstr-vm --host --scenario steady --duration 3s >"$TEST_TMP/rec" 2>"$TEST_TMP/err"
	cat "$TEST_TMP/err"
	records "$TEST_TMP/rec" agent_ready | jq -e '.mode == "host" and .init_uptime_ms == null'
	records "$TEST_TMP/rec" scenario_start | jq -e '.host_ms >= 0 and .topo != null and
		(.sysctls.sched_rt_runtime_us | type) == "number"'
	records "$TEST_TMP/rec" host_cleanup | jq -e '.cgroups_removed == true'
	[ "$(records "$TEST_TMP/rec" worker | wc -l)" -eq 4 ]
	run ktstr-stats "$TEST_TMP/rec"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"'steady'"*passed* ]]
	[ -z "$(run_dirs)" ]
	# The workers were killed with their cgroups: no spinner left.
	! pgrep -f "ktstr-agent --host" >/dev/null
}

@test "host mode: Ctrl-C stops the run, exit 130, and leaves no cgroup or process" {
	ktstr-vm --host --scenario steady --duration 60s >"$TEST_TMP/rec" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for_record "$TEST_TMP/rec" stimulus
	[ -n "$(run_dirs)" ]
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	cat "$TEST_TMP/err"
	[ "$status" -eq 130 ]
	records "$TEST_TMP/rec" host_cleanup | jq -e '.signal == 2 and .cgroups_removed'
	[ -z "$(run_dirs)" ]
	! pgrep -f "ktstr-agent --host" >/dev/null
}

@test "host mode: after SIGKILL of the runner the next run removes what it left, by marker only" {
	ktstr-vm --host --scenario steady --duration 60s >"$TEST_TMP/rec" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for_record "$TEST_TMP/rec" stimulus
	sup=$(pgrep -f -P "$pid" "ktstr-agent --host")
	[ -n "$sup" ]
	kill -KILL "$sup"
	wait "$pid" || true
	left=$(run_dirs)
	[ -n "$left" ]
	getfattr --only-values -n user.ktstr.owner "$left" 2>/dev/null ||
		python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.ktstr.owner"))' "$left"
	# Its workers died with the engine (parent-death signal), though.
	for _ in $(seq 50); do
		[ -z "$(cat "$left"/ktstr/*/cgroup.procs "$left"/agent/cgroup.procs 2>/dev/null)" ] && break
		sleep 0.1
	done
	[ -z "$(cat "$left"/ktstr/*/cgroup.procs "$left"/agent/cgroup.procs 2>/dev/null)" ]
	# Directories that are not a dead run's: no marker, and a live owner's.
	mkdir "$PARENT/ktstr-host-999999" "$PARENT/ktstr-host-1"
	sleep 60 &
	holder=$!
	python3 - "$PARENT/ktstr-host-1" "$holder" <<'PY'
import os, sys
d, pid = sys.argv[1], int(sys.argv[2])
start = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[19]
boot = open("/proc/sys/kernel/random/boot_id").read().strip()
os.setxattr(d, "user.ktstr.owner", ("%d %s %s" % (pid, start, boot)).encode())
PY
	ktstr-vm --host --scenario steady --duration 1s >"$TEST_TMP/rec2" 2>"$TEST_TMP/err2"
	cat "$TEST_TMP/err2"
	grep -q "removing $left, left by a run that is gone" "$TEST_TMP/err2"
	[ ! -d "$left" ]
	[ -d "$PARENT/ktstr-host-999999" ]
	[ -d "$PARENT/ktstr-host-1" ]
	kill "$holder" 2>/dev/null || true
	rmdir "$PARENT/ktstr-host-999999" "$PARENT/ktstr-host-1"
}

@test "host mode: each refusal is one line naming the check, exit 2, a host_refused record and no cgroup" {
	run --separate-stderr ktstr-vm --host --topo 2,4,2,1 --duration 1s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"not the expected 2,4,2,1"*"numa nodes: expected 2, found"* ]]
	echo "$output" | jq -e 'select(.type == "host_refused") | .check == "topology" and
		(.differs | length) >= 2 and .expected == "2,4,2,1"'
	KTSTR_HOST_CGROUP_PARENT=/tmp/ktstr-nope run --separate-stderr ktstr-vm --host --duration 1s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"KTSTR_HOST_CGROUP_PARENT=/tmp/ktstr-nope: must be a directory below /sys/fs/cgroup"* ]]
	KTSTR_HOST_CGROUP_PARENT=/sys/fs/cgroup run --separate-stderr ktstr-vm --host --duration 1s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"not the root itself"* ]]
	KTSTR_CGROUP_WALK_ROOT=/sys/fs/cgroup/elsewhere run --separate-stderr ktstr-vm --host --duration 1s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"KTSTR_CGROUP_WALK_ROOT=/sys/fs/cgroup/elsewhere: must be"* ]]
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups ktstr-vm --host --duration 1s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"host mode needs root"* ]]
	# The verdict says so too, exit 2.
	run ktstr-stats < <(ktstr-vm --host --topo 2,4,2,1 --duration 1s 2>/dev/null)
	[ "$status" -eq 2 ]
	[[ "$output" == *"host mode refused to run (topology)"* ]]
	[ -z "$(run_dirs)" ]
}

@test "host mode without the cpuset controller: a scenario that sets cpusets is an error before it runs, one that does not passes" {
	# A hybrid machine binds cpuset to cgroup v1; the steps' set_cpuset
	# ops used to fail one by one while the scenario ran on and passed.
	! grep -qw cpuset "${KTSTR_CGROUP_WALK_ROOT:-/sys/fs/cgroup}/cgroup.controllers" ||
		skip "this machine's cgroup2 has the cpuset controller"
	status=0
	ktstr-vm --host --scenario cpuset_apply --duration 1s >"$TEST_TMP/rec" 2>"$TEST_TMP/err" || status=$?
	cat "$TEST_TMP/err"
	[ "$status" -eq 2 ]
	records "$TEST_TMP/rec" scenario_error | jq -e '.message | test("cpuset controller is not available.*this scenario sets cpusets")'
	[ "$(records "$TEST_TMP/rec" stimulus | wc -l)" -eq 0 ]
	records "$TEST_TMP/rec" host_cleanup | jq -e '.cgroups_removed == true'
	run ktstr-stats "$TEST_TMP/rec"
	[ "$status" -eq 2 ]
	[[ "$output" == *"'cpuset_apply'"*"error: scenario error: the cpuset controller is not available"* ]]
	ktstr-vm --host --scenario steady --duration 1s >"$TEST_TMP/rec" 2>"$TEST_TMP/err"
	records "$TEST_TMP/rec" exit | jq -e '.exit_code == 0'
	[ -z "$(run_dirs)" ]
}

# In a VM: the agent's host mode with scx_simple, as a bare-metal sched_ext
# machine would run it, then a Ctrl-C while the scheduler is attached.
@test "host mode in a VM: steady under scx_simple passes; SIGINT leaves no scheduler attached and no cgroup" {
	[ -n "$KERNEL" ] || skip "no e2e kernel"
	[ -x "$SCHED/scx_simple" ] || skip "no scx_simple in $SCHED"
	unset KTSTR_HOST_CGROUP_PARENT KTSTR_CGROUP_WALK_ROOT
	# The request ktstr-vm would send, with the scheduler where -i puts it.
	jq -c '{type: "scenario", scenario: (. + {duration: "3s"}), checks: {},
		scheduler: {path: "/include-files/scx_simple", args: []}, topo: "1,1,2,1"}' \
		"$BATS_TEST_DIRNAME/../share/ktstr/scenarios/steady.json" >"$TEST_TMP/req.json"
	jq -c '.scenario.duration = "60s"' "$TEST_TMP/req.json" >"$TEST_TMP/long.json"
	cat >"$TEST_TMP/guest.sh" <<'SH'
set -u
cd /include-files
./ktstr-agent --host --request req.json >run.jsonl 2>run.err
echo "rc=$?" >&2
cat run.jsonl
./ktstr-agent --host --request long.json >long.jsonl 2>long.err &
pid=$!
i=0
while ! grep -q '"type":"stimulus"' long.jsonl && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
echo "attached=$(cat /sys/kernel/sched_ext/state)" >&2
kill -INT $pid
wait $pid
echo "sigint_rc=$?" >&2
echo "after=$(cat /sys/kernel/sched_ext/state)" >&2
echo "dirs=$(ls -d /sys/fs/cgroup/ktstr/ktstr-host-* 2>/dev/null | wc -l)" >&2
echo "left=$(pgrep -f -c 'scx_simple|ktstr-agent --host')" >&2
grep -h host_cleanup long.jsonl >&2
SH
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --tools --raw -i "$AGENT" \
		-i "$SCHED/scx_simple" -i "$TEST_TMP/req.json" -i "$TEST_TMP/long.json" \
		-i "$TEST_TMP/guest.sh" --exec 'sh /include-files/guest.sh'
	echo "$stderr"
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	[[ "$stderr" == *"rc=0"* ]]
	records "$TEST_TMP/rec" scheduler | jq -se 'map(.event) | index("attached") != null'
	records "$TEST_TMP/rec" host_cleanup | jq -e '.scheduler_detached == true'
	run ktstr-stats "$TEST_TMP/rec"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"sched=scx_simple"*passed* ]]
	[[ "$stderr" == *"attached=enabled"* ]]
	[[ "$stderr" == *"sigint_rc=130"* ]]
	[[ "$stderr" == *"after=disabled"* ]]
	[[ "$stderr" == *"dirs=0"* ]]
	[[ "$stderr" == *"left=0"* ]]
}
