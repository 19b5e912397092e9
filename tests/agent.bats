#!/usr/bin/env bats
# The host <-> guest agent protocol (lib/core/agent_proto.h) end to end:
# ktstr-vm, real QEMU under TCG, the real kernel and the static agent.
# What ktstr-vm never does by itself (a request type or field it has no
# option for, a host that hangs up, connects late or gives no port) goes
# through tests/lib/qemu-proxy.py as KTSTR_QEMU: the real QEMU, with the
# host side of the agent port made to misbehave.

load lib/common

setup() {
	common_setup
	PROXY=$BATS_TEST_DIRNAME/lib/qemu-proxy.py
}
teardown() { common_teardown; }

# ktstr-vm ARGS... with its records in $TEST_TMP/rec, its stderr in $stderr.
vm_records() {
	run --separate-stderr ktstr-vm -k "$KERNEL" "$@"
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	echo "status=$status"
	echo "$stderr"
}

# jq -e over all records as one array (see scenario.bats: jq 1.6's -e
# judges only the last input).
recq() {
	jq -e -s "$1" "$TEST_TMP/rec" >/dev/null || {
		echo "records check failed: $1" >&2
		jq -c -s '[.[] | select(.type != "monitor")]' "$TEST_TMP/rec" | head -c 4000 >&2
		return 1
	}
}

# The guest command's lines on one stream, as a JSON array.
lines_of() {
	jq -c -s --arg s "$1" '[.[] | select(.type == "output" and .stream == $s) | .line]' "$TEST_TMP/rec"
}

@test "agent: 1,2,2,1 topology record; stdout, stderr and exit code in order" {
	vm_records --topo 1,2,2,1 --exec 'echo hi; echo err >&2; cat /sys/kernel/sched_ext/state; exit 7'
	[ "$status" -eq 7 ]
	recq 'any(.[]; .type == "guest_topology" and .cpus == 4 and .llcs == ["0-1","2-3"] and
		.smt == ["0","1","2","3"])'
	state=$(jq -r 'select(.type == "agent_ready") | .sched_ext_state' "$TEST_TMP/rec")
	[ "$(lines_of stdout)" = "[\"hi\",\"$state\"]" ]
	[ "$(lines_of stderr)" = '["err"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 7}]'
	assert_no_qemu
}

# rcupdate.rcu_expedited=1: the user's choice outlasts the agent's own
# expedited window around its mounts.
@test "agent: 1,1,2,2 SMT record; env with a space, cwd, hostname, cgroup controllers, a user's rcu_expedited kept" {
	vm_records --topo 1,1,2,2 --env 'FOO=bar baz' --append rcupdate.rcu_expedited=1 --exec 'echo topo=$KTSTR_TOPO; echo foo=$FOO; echo cwd=$(pwd); echo host=$(hostname); echo cgroup=$(cat /sys/fs/cgroup/cgroup.subtree_control); echo rcu=$(cat /sys/kernel/rcu_expedited)'
	[ "$status" -eq 0 ]
	recq 'any(.[]; .type == "guest_topology" and .smt == ["0-1","2-3"] and
		.cores == ["0-1","2-3"] and .llcs == ["0-3"])'
	[ "$(lines_of stdout)" = '["topo=1,1,2,2","foo=bar baz","cwd=/","host=ktstr","cgroup=cpuset cpu io memory pids","rcu=1"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
}

# A line of plain words runs its program without /bin/sh (guest/cmdwords.c):
# the kernel's exec events show cat and no shell.
@test "agent: 2,2,2,1 NUMA record names both nodes; a plain command runs without a shell" {
	vm_records --topo 2,2,2,1 --append trace_event=sched:sched_process_exec \
		--exec 'cat /sys/kernel/tracing/trace'
	[ "$status" -eq 0 ]
	recq 'any(.[]; .type == "guest_topology" and .nodes == ["0-1","2-3"])'
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	jq -r 'select(.type == "output") | .line' "$TEST_TMP/rec" |
		grep -o 'sched_process_exec: filename=[^ ]*' | sort | uniq -c >"$TEST_TMP/execs"
	cat "$TEST_TMP/execs"
	[ "$(awk '$3 != "filename=/init"' "$TEST_TMP/execs" | xargs)" = "1 sched_process_exec: filename=/bin/cat" ]
}

# A plain line whose program is missing, or a builtin in the program's
# place, is the shell's: its message and its exit code.
@test "agent: a plain command that is not found gets the shell's 127 and message" {
	run -127 --separate-stderr ktstr-vm -k "$KERNEL" --exec 'nosuch-program --flag'
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	[ "$(lines_of stderr)" = '["sh: nosuch-program: not found"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 127}]'
}

@test "agent: the command gets its filesystems, PATH and HOME, and a clean signal state" {
	vm_records --exec 'cat /proc/mounts; grep -E "^Sig(Blk|Ign)" /proc/self/status; env; ls /; ls -l /dev/fd'
	[ "$status" -eq 0 ]
	jq -r 'select(.type == "output" and .stream == "stdout") | .line' "$TEST_TMP/rec" >"$TEST_TMP/out"
	awk 'NF >= 4 { print $3 ":" $2 }' "$TEST_TMP/out" >"$TEST_TMP/mounts"
	for want in proc:/proc sysfs:/sys devtmpfs:/dev devpts:/dev/pts tmpfs:/dev/shm \
		tmpfs:/tmp tmpfs:/run cgroup2:/sys/fs/cgroup debugfs:/sys/kernel/debug \
		tracefs:/sys/kernel/tracing bpf:/sys/fs/bpf; do
		grep -qxF "$want" "$TEST_TMP/mounts" || { echo "not mounted: $want"; return 1; }
	done
	for want in $'SigBlk:\t0000000000000000' $'SigIgn:\t0000000000000000' \
		PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root boot 'fd -> /proc/self/fd'; do
		grep -qF "$want" "$TEST_TMP/out" || { echo "missing: $want"; return 1; }
	done
}

@test "agent: a long line is split, invalid UTF-8 replaced, an unterminated tail sent; background jobs do not hold the run" {
	vm_records --timeout 5m --exec 'head -c 100000 /dev/zero | tr "\\0" x; echo; printf "a\\377b\\n"; printf "no newline" >&2; sleep 100 & setsid sleep 100 & exit 0'
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[:2][] | length]' <<<"$(lines_of stdout)")" = '[65536,34464]' ]
	jq -e '.[2] == "a\ufffdb"' <<<"$(lines_of stdout)"
	[ "$(lines_of stderr)" = '["no newline"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq 'any(.[]; .type == "vm_exit" and .reason == "exited")'
	assert_no_qemu
}

# ktstr-vm has no per-command timeout of its own (its --timeout kills the
# VM): the request's timeout_ms is added on the way.
@test "agent: a request's timeout_ms kills the command: 137, SIGKILL, timed_out" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=rewrite KTSTR_PROXY_JQ='.timeout_ms = 2000' \
		vm_records --exec 'echo start; sleep 100'
	[ "$status" -eq 137 ]
	[ "$(lines_of stdout)" = '["start"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 137, "signal": 9, "timed_out": true}]'
	assert_no_qemu
}

@test "agent: a command killed by a signal exits 128+N with the signal named" {
	vm_records --exec 'kill -TERM $$'
	[ "$status" -eq 143 ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 143, "signal": 15}]'
}

# The agent waits at most 10 s for the host to acknowledge its last
# record: a host further behind than that loses the tail (KTSTR_VERBOSE=1
# then shows "no ack from the host" on the console).  Under make check's
# ASan options (fast_unwind_on_malloc=0) ktstr-vm reads about 5000 records
# a second and loses half of this flood, so these two tests unwind fast
# (still every ASan check) and leave out the monitor, whose setup stops
# the reading for seconds; records go straight to a file (bats' run would
# hold all 6 MB in a shell variable).
fast_asan() {
	[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=1"
}

@test "agent: a flood of 100000 lines arrives whole and in order" {
	fast_asan
	status=0
	KTSTR_VERBOSE=1 ktstr-vm -k "$KERNEL" --no-monitor --exec 'seq 1 100000' \
		>"$TEST_TMP/rec" 2>"$TEST_TMP/err" || status=$?
	grep -v '^ktstr-agent: \[' "$TEST_TMP/err" | tail -n 20
	grep 'no ack' "$TEST_TMP/err" || true
	[ "$status" -eq 0 ]
	jq -r 'select(.type == "output" and .stream == "stdout") | .line' "$TEST_TMP/rec" >"$TEST_TMP/out"
	seq 1 100000 | cmp - "$TEST_TMP/out"
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	assert_no_qemu
}

# The reader stops for 5 s at the first output line: ktstr-vm blocks on its
# stdout, stops reading the port, and QEMU throttles the guest.  Nothing may
# be lost or reordered, the last records before power-off included.
@test "agent: a slow reader loses nothing, the last records included" {
	# (fast unwinding, no monitor: see the flood above)
	fast_asan
	KTSTR_VERBOSE=1 ktstr-vm -k "$KERNEL" --no-monitor --exec 'seq 1 30000' 2>"$TEST_TMP/err" | {
		while IFS= read -r l; do
			printf '%s\n' "$l"
			case $l in *'"type":"output"'*) break ;; esac
		done
		sleep 5
		cat
	} >"$TEST_TMP/rec"
	grep -v '^ktstr-agent: \[' "$TEST_TMP/err" | tail -n 20
	grep 'no ack' "$TEST_TMP/err" || true
	jq -r 'select(.type == "output" and .stream == "stdout") | .line' "$TEST_TMP/rec" >"$TEST_TMP/out"
	seq 1 30000 | cmp - "$TEST_TMP/out"
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq '.[-1].type == "vm_exit" and .[-1].reason == "exited"'
	assert_no_qemu
}

# With a socketpair ktstr-vm's end is there from the first moment; a host
# that shows up late needs QEMU listening on a socket nobody has connected
# to yet.  The proxy connects once the agent has said on the console that
# it is waiting (after 10 s of blocked writes), however long the boot
# took; 120 s is only its limit.
@test "agent: a host that connects late is waited for" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=late KTSTR_PROXY_DELAY=120 \
		KTSTR_PROXY_LATE_AFTER='waiting for the host to connect' \
		vm_records --boot-timeout 5m --exec 'echo late'
	[ "$status" -eq 0 ]
	[ "$(lines_of stdout)" = '["late"]' ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	log=$(jq -r 'select(.type == "vm_exit") | .console_log' "$TEST_TMP/rec")
	grep -q 'waiting for the host to connect to org.ktstr.agent' "$log"
	assert_no_qemu
}

@test "agent: a request it cannot do gets an agent_error record" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=rewrite KTSTR_PROXY_JQ='{type: "reboot"}' \
		vm_records --exec true
	[ "$status" -ne 0 ]
	recq '[.[] | select(.type == "agent_error")] | length == 1 and (.[0].message | length > 0)'
	recq 'all(.[]; .type != "exit")'
	assert_no_qemu
}

@test "agent: a host that hangs up mid-command makes it power off" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=disconnect vm_records --exec 'sleep 100'
	[ "$status" -eq 1 ]
	# Well before the command's 100 s are up.
	recq 'any(.[]; .type == "vm_exit" and .reason == "no_agent" and .wall_ms - .boot_ms < 60000)'
	log=$(jq -r 'select(.type == "vm_exit") | .console_log' "$TEST_TMP/rec")
	grep -q 'host disconnected from org.ktstr.agent; powering off' "$log"
	assert_no_qemu
}

@test "agent: with no agent port it says so on the console and powers off" {
	KTSTR_QEMU=$PROXY KTSTR_PROXY_MODE=no-port vm_records --boot-timeout 5m --exec true
	[ "$status" -eq 2 ]
	recq 'all(.[]; .type != "agent_ready")'
	log=$(jq -r 'select(.type == "vm_exit") | .console_log' "$TEST_TMP/rec")
	grep -q 'no virtio-serial port named org.ktstr.agent' "$log"
	assert_no_qemu
}

# The shell runs on a pty the agent relays to /dev/hvc0 (guest/shell.c).
@test "agent: --shell gets TERM, COLORTERM, the window size, a pty and /root; its exit status is the run's" {
	COLORTERM=truecolor PTY_SHELL_CMD='echo SHELL-TTY $TERM $COLORTERM $PWD $(stty size) $(tty)' PTY_SHELL_EXIT=3 \
		run python3 "$BATS_TEST_DIRNAME/lib/pty-shell.py" "$KTSTR_BIN/ktstr-vm" -k "$KERNEL" --shell
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"SHELL-TTY xterm-256color truecolor /root 33 101 /dev/pts/"* ]]
	assert_no_qemu
}
