#!/usr/bin/env bats
# ktstr-vm's life cycle end to end (real QEMU under TCG, real kernel): the
# boot deadline, the retry of a failing KVM under TCG, the default
# scenario, signals and a closed stdout, the scheduler's output file and
# the progress line.

load lib/common

setup() { common_setup; }
teardown() { common_teardown; }

# A scheduler that prints 100 numbered lines and one on stderr, then exits 1
# before attaching: enough output to need a head and a tail.
make_chatty_sched() {
	cat >"$TEST_TMP/chatty_sched" <<'SH'
#!/bin/sh
i=1
while [ $i -le 100 ]; do echo "sched line $i"; i=$((i + 1)); done
echo "sched stderr line" >&2
exit 1
SH
	chmod +x "$TEST_TMP/chatty_sched"
}

@test "boot deadline: a guest that cannot reach its agent in time ends as boot_timeout" {
	# 1 s is far too short for any TCG boot (KVM might make it); --dmesg
	# makes the console talk from the first moment, so there is a tail.
	run --separate-stderr ktstr-vm -k "$KERNEL" --accel tcg --boot-timeout 1 --dmesg --exec true
	echo "status=$status"
	[ "$status" -eq 2 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	records "$TEST_TMP/out" vm_exit | jq -e '.reason == "boot_timeout" and .boot_ms == null and
		(.message | test("boot deadline")) and (.console_tail | type == "array")'
	[ "$(jq -r .type "$TEST_TMP/out" | tail -n1)" = vm_exit ]
	! records "$TEST_TMP/out" agent_ready | grep -q . || false
	[[ "$stderr" == *"did not start within the 1 s boot deadline (tcg, 2 vCPUs)"* ]]
	[[ "$stderr" == *"--boot-timeout"* ]]
	# Whatever the console said by then is on stderr too, and in the log.
	tail=$(records "$TEST_TMP/out" vm_exit | jq -r '.console_tail | length')
	if [ "$tail" -gt 0 ]; then
		[[ "$stderr" == *"see the console tail"* ]]
		[[ "$stderr" == *"last kernel console lines"* ]]
		log=$(records "$TEST_TMP/out" vm_exit | jq -r .console_log)
		grep -qF -- "$(records "$TEST_TMP/out" vm_exit | jq -r '.console_tail[-1]')" "$log"
	else
		# Nothing to point at: the message says so instead.
		[[ "$stderr" == *"the kernel printed nothing on the console yet"* ]]
	fi
	assert_no_qemu
}

# A kernel image with a real bzImage header and garbage after it: QEMU
# starts it and the VM stops at once, before the agent and before the
# console says anything.  The empty default log is removed, so the
# message must not send the user to it; a log the user named stays and is
# named.
@test "a VM that dies silently before the agent: no_agent, and the message points at a log only when one is kept" {
	head -c 65536 "$KERNEL" >"$TEST_TMP/bad"
	head -c 1048576 /dev/zero >>"$TEST_TMP/bad"
	run --separate-stderr ktstr-vm -k "$TEST_TMP/bad" --exec true
	echo "status=$status stderr=$stderr"
	# Never set up, as a boot past its deadline: exit 2.
	[ "$status" -eq 2 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "no_agent" and
		.console_log == null and (.message | test("printed nothing on the console"))'
	[[ "$stderr" == *"the kernel printed nothing on the console"* ]]
	[[ "$stderr" != *"see /"* ]]
	run --separate-stderr ktstr-vm -k "$TEST_TMP/bad" --console-log "$TEST_TMP/c.log" --exec true
	printf '%s\n' "$output" | jq -e --arg log "$TEST_TMP/c.log" 'select(.type == "vm_exit") |
		.reason == "no_agent" and .console_log == $log and (.message | contains("see " + $log))'
	[ -f "$TEST_TMP/c.log" ]
	assert_no_qemu
}

@test "boot deadline: KTSTR_BOOT_TIMEOUT sets it, --boot-timeout wins over it" {
	KTSTR_BOOT_TIMEOUT=1 run --separate-stderr ktstr-vm -k "$KERNEL" --accel tcg --exec true
	[ "$status" -eq 2 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "boot_timeout"'
	# A quiet console: the message points at a tail only when there is one.
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") |
		(.console_tail | length > 0) == (.message | test("see the console tail")) and
		(.console_tail | length == 0) == (.message | test("printed nothing on the console yet"))'
	KTSTR_BOOT_TIMEOUT=1 run --separate-stderr ktstr-vm -k "$KERNEL" --boot-timeout 5m --exec true
	echo "$stderr"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "exited"'
	assert_no_qemu
}

@test "--accel auto: a KVM that fails is retried once under TCG" {
	# Needs a host whose KVM does not work: here /dev/kvm exists but the CPU
	# has no vmx/svm, so QEMU really fails under KVM.  KTSTR_ACCEL_DETECT
	# makes auto choose KVM as a working probe would.
	! grep -qwE 'vmx|svm' /proc/cpuinfo || skip "this host's KVM works; nothing to fall back from"
	# How KVM fails depends on the host: QEMU exits with an error, halts
	# the guest with "KVM internal error" (the bzImage's real-mode entry
	# here: ktstr-vm ends the attempt at once), or spins until the boot
	# deadline (the vmlinux's PVH entry here).  A bzImage alone, so the
	# attempt is not the 16 s deadline where KVM says why.
	cp "${KERNEL%/*}/bzImage" "$TEST_TMP/bzImage"
	local k=$TEST_TMP/bzImage
	KTSTR_ACCEL_DETECT=kvm run --separate-stderr ktstr-vm -k "$k" --raw --exec 'echo hi'
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[[ "$stderr" == *"KVM failed before the guest agent started"*"retrying once under TCG"* ]]
	KTSTR_ACCEL_DETECT=kvm run --separate-stderr ktstr-vm -k "$k" --exec 'echo hi'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	[[ "$(jq -r 'select(.type | test("^(vm_start|accel_retry|vm_exit)$")) | .type + ":" + (.accel // .reason // "")' "$TEST_TMP/out" | tr '\n' ' ')" =~ \
		^"vm_start:kvm accel_retry:"(qemu_error|boot_timeout)" vm_start:tcg vm_exit:exited "$ ]]
	records "$TEST_TMP/out" accel_retry | jq -e '.from == "kvm" and .to == "tcg" and (.message | length > 0) and (.console_tail | type == "array")'
	# Exactly one retry, and only under auto: --accel kvm fails for good.
	KTSTR_ACCEL_DETECT=kvm run --separate-stderr ktstr-vm -k "$k" --accel kvm --exec 'echo hi'
	[ "$status" -eq 2 ]
	! printf '%s\n' "$output" | grep -q accel_retry || false
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | (.reason == "qemu_error" or .reason == "boot_timeout") and (.console_tail | type == "array")'
	# Halted by KVM: said at once, in QEMU's words.
	if printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .message | test("KVM internal error")' >/dev/null; then
		printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "qemu_error" and .wall_ms < 10000'
	fi
	assert_no_qemu
}

# Multi-threaded TCG on request: QEMU gets tcg,thread=multi, vm_start says
# so, the monitor finds one host thread per vCPU ("CPU N/TCG"), and a short
# steady runs to its end.  Its verdict is not asserted: on a 2-core host
# four vCPU threads share two CPUs, which is the emulator's noise.
@test "--accel tcg-mt: multi-threaded TCG boots, runs a 2 s steady, and vm_start says so" {
	# The QEMU command line: thread=multi on request, single by default.
	argv_accel() {
		jq -r 'select(.type == "qemu_argv") | (.argv | index("-accel")) as $i | .argv[$i + 1]'
	}
	[ "$(ktstr-vm -k "$KERNEL" --accel tcg-mt --dry-run | argv_accel)" = tcg,thread=multi ]
	[ "$(ktstr-vm -k "$KERNEL" --accel tcg --dry-run | argv_accel)" = tcg,thread=single ]

	run --separate-stderr ktstr-vm -k "$KERNEL" --accel tcg-mt --topo 1,2,2,1 --duration 2s
	echo "$stderr" >&2
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	records "$TEST_TMP/rec" vm_start | jq -e '.accel == "tcg-mt" and .tcg_thread == "multi" and .vcpus == 4'
	records "$TEST_TMP/rec" monitor_start | jq -e '.vcpu_threads == "per_cpu"'
	records "$TEST_TMP/rec" scenario_end | jq -e '.elapsed_ms >= 2000'
	records "$TEST_TMP/rec" vm_exit | jq -e '.reason == "exited" and .exit_code == 0'
	assert_no_qemu
}

@test "no --exec/--shell/--scenario: the steady scenario, judged by ktstr-stats; quiet when piped" {
	env -u KTSTR_NO_PROGRESS ktstr-vm -k "$KERNEL" --topo 1,2,2,1 --duration 3s \
		>"$TEST_TMP/rec" 2>"$TEST_TMP/err"
	cat "$TEST_TMP/err"
	records "$TEST_TMP/rec" scenario_start | jq -e '.name == "steady" and .scheduler == null'
	run ktstr-stats "$TEST_TMP/rec"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not a scenario run"* ]]
	# stderr is a file: no progress line, not even its escape codes.
	! grep -q 's left' "$TEST_TMP/err" || false
	! grep -q $'\r' "$TEST_TMP/err" || false
}

@test "progress on a terminal: scenario step k of n and seconds left; KTSTR_NO_PROGRESS=1 silences it" {
	run env -u KTSTR_NO_PROGRESS python3 "$BATS_TEST_DIRNAME/lib/pty-stderr.py" "$TEST_TMP/rec" \
		ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario cgroup_add --duration 4s
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"booting 1n1l2c1t ("*", 2 vCPUs)"* ]]
	[[ "$output" == *"scenario cgroup_add: "*"s left"* ]]
	[[ "$output" == *"step 1 of 2, "* ]]
	[[ "$output" == *"step 2 of 2, "* ]]
	KTSTR_NO_PROGRESS=1 run python3 "$BATS_TEST_DIRNAME/lib/pty-stderr.py" "$TEST_TMP/rec" \
		ktstr-vm -k "$KERNEL" --topo 1,1,2,1 --scenario cgroup_add --duration 2s
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"s left"* && "$output" != *booting* ]]
	assert_no_qemu
}

@test "^C on ktstr-vm | ktstr-stats: exit 130, no Broken pipe, nothing left behind" {
	run python3 "$BATS_TEST_DIRNAME/lib/sigint-pipe.py" "$TEST_TMP/rec" "$TEST_TMP/err" \
		ktstr-vm -k "$KERNEL" --duration 60s
	echo "status=$status output=$output"
	cat "$TEST_TMP/err"
	[ "$status" -eq 0 ]
	[ "$output" = 130 ]
	! grep -qi 'broken pipe' "$TEST_TMP/err" || false
	grep -q 'interrupted by SIGINT' "$TEST_TMP/err"
	assert_no_qemu
}

@test "^C while the initramfs is written: exit 130, no temp file left in the cache" {
	# A cache of this test's own, so the image is built now.
	export XDG_CACHE_HOME="$TEST_TMP/cache"
	# A 64 MB include keeps the image's temp file there long enough to
	# be seen: the default 3.9 MB image was written, booted and gone
	# between two looks of the loop below.
	head -c 64M /dev/zero >"$TEST_TMP/big"
	# As from a terminal: SIGINT's default action, not the SIG_IGN a
	# non-interactive shell gives background jobs.
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		ktstr-vm -k "$KERNEL" -i "$TEST_TMP/big" --exec true >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	# Aim the signal at the build: as soon as its temp file shows up.
	for _ in $(seq 1000); do
		compgen -G "$XDG_CACHE_HOME/ktstr/initramfs/.*.tmp.*" >/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	cat "$TEST_TMP/err"
	[ "$status" -eq 130 ]
	run compgen -G "$XDG_CACHE_HOME/ktstr/initramfs/.*.tmp.*"
	[ "$status" -ne 0 ]
	assert_no_qemu
}

@test "QEMU crashing after boot is qemu_error (an infrastructure error), not no_agent" {
	ktstr-vm -k "$KERNEL" --exec 'sleep 600' >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for_record "$TEST_TMP/out" agent_ready
	qpid=$(pgrep -P "$pid" qemu-system)
	kill -SEGV "$qpid"
	status=0
	wait "$pid" || status=$?
	cat "$TEST_TMP/err"
	[ "$status" -eq 2 ]
	jq -e 'select(.type == "vm_exit") | .reason == "qemu_error" and (.message | test("^QEMU died of Segmentation fault"))' \
		"$TEST_TMP/out"
	# ktstr-stats calls it an error (exit 2), never a scheduler failure.
	run ktstr-stats "$TEST_TMP/out"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *" error: "* ]]
	assert_no_qemu
}

@test "SIGTERM: exit 143 and a vm_exit record saying interrupted" {
	ktstr-vm -k "$KERNEL" --duration 60s >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for_record "$TEST_TMP/out" agent_ready
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	jq -e 'select(.type == "vm_exit") | .reason == "interrupted"' "$TEST_TMP/out"
	assert_no_qemu
}

@test "a closed stdout (| head -n1) stops the VM quietly with 141" {
	run bash -c 'ktstr-vm -k "$1" --duration 60s 2>"$2" | head -n1 >/dev/null; echo "${PIPESTATUS[0]}"' \
		sh "$KERNEL" "$TEST_TMP/err"
	cat "$TEST_TMP/err"
	[ "$output" = 141 ]
	! grep -qi 'broken pipe' "$TEST_TMP/err" || false
	! grep -q 'stdout was closed' "$TEST_TMP/err" || false
	assert_no_qemu
}

@test "records that cannot be written (a full disk) stop the VM at once with exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	# The first record already fails, before QEMU's loop runs: the VM
	# must still stop, not run its 60 s, and the guest's exit status
	# (here it would be 4) must not pass for the run's.
	run --separate-stderr bash -c 'exec timeout 40 ktstr-vm -k "$1" --exec "sleep 60; exit 4" >/dev/full' \
		sh "$KERNEL"
	echo "$stderr"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-vm: cannot write records to stdout: No space left on device; the VM was stopped" ]
	assert_no_qemu
}

@test "the scheduler's output is kept whole beside the console log; head and tail on failure" {
	make_chatty_sched
	run --separate-stderr ktstr-vm -k "$KERNEL" --scheduler "$TEST_TMP/chatty_sched" --duration 2s
	echo "$stderr"
	printf '%s\n' "$output" >"$TEST_TMP/out"
	log=$(records "$TEST_TMP/out" vm_exit | jq -r .sched_output_log)
	console=$(records "$TEST_TMP/out" vm_exit | jq -r .console_log)
	[ "$log" = "${console%.log}.sched.log" ]
	[ "$(wc -l <"$log")" -eq 101 ]
	grep -qx 'sched line 1' "$log"
	grep -qx 'sched line 50' "$log"
	grep -qx 'sched stderr line' "$log"
	# Every scheduler record names the file; the lines are not records.
	records "$TEST_TMP/out" scheduler | jq -se --arg l "$log" \
		'length >= 2 and all(.[]; .output_log == $l) and any(.[]; .event == "attach_failed")'
	! records "$TEST_TMP/out" sched_output | grep -q . || false
	# stderr: the head and the tail, the middle left out.
	[[ "$stderr" == *"scheduler chatty_sched failed to attach"*"101 lines, all in $log"* ]]
	[[ "$stderr" == *"  | sched line 1"$'\n'* ]]
	[[ "$stderr" == *"  | sched line 20"$'\n'* ]]
	[[ "$stderr" == *"61 lines left out"* ]]
	[[ "$stderr" == *"  | sched line 100"$'\n'* ]]
	[[ "$stderr" == *"  | sched stderr line"* ]]
	[[ "$stderr" != *"sched line 50"* ]]
	assert_no_qemu
}

@test "--sched-output echoes the scheduler's output live to stderr" {
	make_chatty_sched
	run --separate-stderr ktstr-vm -k "$KERNEL" --scheduler "$TEST_TMP/chatty_sched" \
		--sched-output --duration 2s
	echo "$stderr"
	[[ "$stderr" == *$'\n'"sched line 50"$'\n'* ]]
	[[ "$stderr" == *$'\n'"sched stderr line"$'\n'* ]]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .sched_output_log | length > 0'
}
