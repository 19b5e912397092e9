#!/usr/bin/env bats
# ktstr-vm end to end: real QEMU (TCG here), real Debian sched_ext kernel.

load lib/common

setup() { common_setup; }
teardown() { common_teardown; }

# One boot shared by the tests of --exec's plumbing (issue 16: e2e tests
# share a boot where they can): an included directory, a dynamically
# linked include, --env, KTSTR_TOPO, the exit status and the two streams,
# each checked by its own test below from this run's output.
setup_file() {
	local d=$BATS_FILE_TMPDIR
	common_setup_file
	export XDG_CACHE_HOME=${BATS_RUN_TMPDIR:-$d}/cache
	mkdir -p "$d/data/sub/deeper"
	echo alpha >"$d/data/a.txt"
	echo beta >"$d/data/sub/deeper/b.txt"
	ln -s a.txt "$d/data/link"
	cat >"$d/shared.sh" <<'SH'
echo "spawn: $(readlink /proc/$$/fd/0) $PWD $(awk '{print ($6 > 1 && $6 == $5) ? "own-session" : "session " $6}' /proc/$$/stat) $(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status)"
echo "state: $(cat /sys/kernel/sched_ext/state)"
echo "env: $FOO $KTSTR_TOPO $HOME"
echo "jq: $(echo '{"a":[1,2,3]}' | /include-files/jq -c '.a | add')"
cd /include-files && find data | sort | sed 's/^/dir: /'
echo "dir: $(cat data/sub/deeper/b.txt) $(readlink data/link)"
echo "big: ${#BIG1} ${#BIG2} ${#BIG3} $(printf %s "$BIG3" | tr -d a | wc -c)"
t=/sys/kernel/tracing/trace
echo "modules: $(grep -c 'module_request:' $t) asked, $(grep -c 'filename=/sbin/modprobe' $t) modprobe runs, file $(test -e /sbin/modprobe && echo yes || echo no)"
echo "damon: $(cat /sys/module/damon_stat/parameters/enabled 2>/dev/null || echo absent), $(cat /proc/[0-9]*/comm | grep -c '^kdamond') kdamond"
echo "rcu: $(cat /sys/kernel/rcu_expedited) $(grep -c 'IO-APIC.*virtio' /proc/interrupts)"
echo "tsc: $(tr ' ' '\n' </proc/cmdline | sed -n 's/^tsc_early_khz=//p') $(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo err >&2
exit 7
SH
	# Three 100 kB variables: a request (about 300 kB) larger than the
	# agent socket's buffer, queued before the guest has its port open.
	local rc=0 big
	big=$(head -c 100000 /dev/zero | tr '\0' a)
	ktstr-vm -k "$KTSTR_E2E_KERNEL" --topo 1,1,2,1 --env FOO=bar --env HOME=/tmp -i "$d/data" -i /usr/bin/jq \
		--env "BIG1=$big" --env "BIG2=$big" --env "BIG3=$big" \
		--append "trace_event=module:module_request,sched:sched_process_exec" \
		-i "$d/shared.sh" --raw --exec 'sh /include-files/shared.sh' \
		>"$d/shared.out" 2>"$d/shared.err" || rc=$?
	echo "$rc" >"$d/shared.rc"
}

# shared_lines PREFIX: the shared boot's stdout lines that start "PREFIX: ",
# without it.
shared_lines() {
	sed -n "s/^$1: //p" "$BATS_FILE_TMPDIR/shared.out"
}

# Boot TOPO and compare what the guest reports with what sysfs says.
# Args: topo cpus nodes llcs smt  (lists space-separated, as the kernel writes them)
check_topology() {
	local topo=$1 cpus=$2 nodes=$3 llcs=$4 smt=$5
	local probe='
		for f in /sys/devices/system/node/node*/cpulist; do cat $f; done | tr "\n" " "; echo
		cat /sys/devices/system/cpu/cpu*/cache/index3/shared_cpu_list | sort -un | tr "\n" " "; echo
		cat /sys/devices/system/cpu/cpu*/topology/thread_siblings_list | sort -un | tr "\n" " "; echo
		nproc'
	run ktstr-vm -k "$KERNEL" --topo "$topo" --raw --exec "$probe"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$nodes " ]
	[ "${lines[1]}" = "$llcs " ]
	[ "${lines[2]}" = "$smt " ]
	[ "${lines[3]}" = "$cpus" ]
}

@test "1,1,2,1: one node, one LLC, no SMT" {
	check_topology 1,1,2,1 2 "0-1" "0-1" "0 1"
}

@test "1,2,2,1: two LLCs of two cores" {
	check_topology 1,2,2,1 4 "0-3" "0-1 2-3" "0 1 2 3"
}

@test "2,2,2,1: two NUMA nodes, one LLC each" {
	check_topology 2,2,2,1 4 "0-1 2-3" "0-1 2-3" "0 1 2 3"
}

@test "1n1l2c2t: SMT pairs in the short form" {
	check_topology 1n1l2c2t 4 "0-3" "0-3" "0-1 2-3"
}

@test "records: vm_start, guest_topology, agent_ready, output, exit, vm_exit" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,2,2,1 --exec 'cat /sys/kernel/sched_ext/state'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	# Every stdout line is a JSON object with a type.
	jq -e 'type == "object" and (.type | type == "string")' "$TEST_TMP/out" >/dev/null
	[ "$(jq -r .type "$TEST_TMP/out" | head -n1)" = vm_start ]
	[ "$(jq -r .type "$TEST_TMP/out" | tail -n1)" = vm_exit ]
	records "$TEST_TMP/out" vm_start | jq -e '.topo == "1,2,2,1" and .topology == "1n2l2c1t" and .vcpus == 4 and (.accel == "tcg" or .accel == "kvm") and (.kernel | length > 0)'
	# The firmware QEMU got: qboot when installed, else its default.
	if [ -r /usr/share/qemu/qboot.rom ]; then fw='"/usr/share/qemu/qboot.rom"'; else fw=null; fi
	records "$TEST_TMP/out" vm_start | jq -e --argjson fw "$fw" '.firmware == $fw'
	records "$TEST_TMP/out" guest_topology | jq -e '.cpus == 4 and .llcs == ["0-1","2-3"]'
	records "$TEST_TMP/out" agent_ready | jq -e '.boot_ms > 0 and .sched_ext_state == "disabled" and
		.init_uptime_ms > 0 and .init_uptime_ms <= .uptime_ms and .uptime_ms < .boot_ms and
		(has("sysctls") | not)'
	records "$TEST_TMP/out" output | jq -e '.stream == "stdout" and .line == "disabled"'
	records "$TEST_TMP/out" exit | jq -e '.exit_code == 0'
	records "$TEST_TMP/out" vm_exit | jq -e '.reason == "exited" and .exit_code == 0 and .wall_ms >= .boot_ms'
	log=$(records "$TEST_TMP/out" vm_exit | jq -r .console_log)
	[ -s "$log" ]
	assert_no_qemu
}

@test "--exec 'cat /sys/kernel/sched_ext/state' prints disabled (raw, shared boot)" {
	[ "$(shared_lines state)" = disabled ]
}

@test "--exec 'exit 7' exits 7; stderr lines stay on stderr (shared boot)" {
	cat "$BATS_FILE_TMPDIR/shared.err"
	[ "$(cat "$BATS_FILE_TMPDIR/shared.rc")" -eq 7 ]
	[ "$(cat "$BATS_FILE_TMPDIR/shared.err")" = err ]
	! grep -qx err "$BATS_FILE_TMPDIR/shared.out" || false
}

@test "an included directory keeps its tree under /include-files (shared boot)" {
	shared_lines dir
	[ "$(shared_lines dir)" = "$(printf 'data\ndata/a.txt\ndata/link\ndata/sub\ndata/sub/deeper\ndata/sub/deeper/b.txt\nbeta a.txt')" ]
}

@test "a dynamically linked include runs in the guest (shared boot)" {
	[ "$(shared_lines jq)" = 6 ]
}

@test "--env reaches the guest command and replaces a guest default (HOME); KTSTR_TOPO is set (shared boot)" {
	[ "$(shared_lines env)" = "bar 1,1,2,1 /tmp" ]
}

@test "a request larger than the agent socket's buffer arrives whole (shared boot)" {
	[ "$(shared_lines big)" = "100000 100000 100000 0" ]
}

@test "no busybox modprobe runs for the kernel's module requests (shared boot)" {
	# The kernel asks at boot (certificates) and on the bpffs mount; with
	# no /sbin/modprobe in the image each request fails at once.
	shared_lines modules
	[[ "$(shared_lines modules)" =~ ^[1-9][0-9]*\ asked,\ 0\ modprobe\ runs,\ file\ no$ ]]
}

@test "kernel housekeeping stays off: no kdamond (shared boot)" {
	# "absent": a kernel built without DAMON_STAT ignores the parameter.
	shared_lines damon
	[[ "$(shared_lines damon)" =~ ^(N|absent),\ 0\ kdamond$ ]]
}

# The agent mounts with expedited RCU grace periods (the cgroup2 mount
# waits one out) and turns them back off before the command runs.  The
# agent's virtio-serial device has no MSI-X vectors: one legacy interrupt.
@test "the agent's expedited-RCU window is closed when the command runs; its port has one legacy IRQ (shared boot)" {
	shared_lines rcu
	[ "$(shared_lines rcu)" = "0 1" ]
}

# Under TCG the guest is told the host's TSC rate rather than timing it
# against the emulated PIT, which fails at random and costs a slow
# fallback; the kernel takes the rate (its cpu MHz agrees).
@test "a TCG guest boots with the host's TSC rate as tsc_early_khz= (shared boot)" {
	shared_lines tsc
	read -r khz mhz <<<"$(shared_lines tsc)"
	if [ "$(ktstr-vm -k "$KTSTR_E2E_KERNEL" --dry-run | jq -r 'select(.type == "qemu_argv") | .accel')" = kvm ] ||
	   ! grep -m1 '^flags' /proc/cpuinfo | grep -qw constant_tsc ||
	   ! grep -m1 '^flags' /proc/cpuinfo | grep -qw nonstop_tsc; then
		skip "KVM, or a host without an invariant TSC: no tsc_early_khz"
	fi
	[ "$khz" -eq "$(cut -d' ' -f2 "$XDG_CACHE_HOME/ktstr/host/tsc-khz")" ]
	awk -v k="$khz" -v m="$mhz" 'BEGIN { d = m * 1000 - k; exit !(d < k / 100 && -d < k / 100) }'
}

@test "the command runs in its own session, stdin /dev/null, cwd /, nothing blocked (shared boot)" {
	shared_lines spawn
	[ "$(shared_lines spawn)" = "/dev/null / own-session 0000000000000000" ]
}

@test "the watchdog kills a guest that overruns --timeout" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --timeout 15s --exec 'sleep 600'
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "timeout"'
	# A quiet boot may leave its console log empty; it booted, so the
	# log stays and vm_exit names it.
	log=$(printf '%s\n' "$output" | jq -r 'select(.type == "vm_exit") | .console_log')
	[ -e "$log" ]
	# Killed while running the command, not while booting.
	[[ "$stderr" == *"overran --timeout"* ]]
	[[ "$stderr" != *"before the guest agent started"* ]]
	assert_no_qemu
}

@test "a guest kernel panic is reported as such" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --exec 'echo c > /proc/sysrq-trigger; sleep 30'
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "vm_exit") | .reason == "panic" and (.panic | test("Kernel panic"))'
	[[ "$stderr" == *"guest kernel panic"* ]]
	assert_no_qemu
}

@test "SIGINT stops the VM and leaves no QEMU behind" {
	ktstr-vm -k "$KERNEL" --exec 'sleep 600' >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for_record "$TEST_TMP/out" agent_ready
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	jq -e 'select(.type == "vm_exit") | .reason == "interrupted"' "$TEST_TMP/out"
	assert_no_qemu
}

@test "SIGKILL of ktstr-vm still takes QEMU down" {
	ktstr-vm -k "$KERNEL" --exec 'sleep 600' >"$TEST_TMP/out" 2>/dev/null &
	pid=$!
	wait_for_record "$TEST_TMP/out" agent_ready
	kill -KILL "$pid"
	wait "$pid" || true
	for _ in $(seq 50); do
		pgrep qemu-system >/dev/null || break
		sleep 0.1
	done
	assert_no_qemu
}

@test "--shell: interactive busybox shell with TERM and window size" {
	run python3 "$BATS_TEST_DIRNAME/lib/pty-shell.py" "$KTSTR_BIN/ktstr-vm" -k "$KERNEL" --shell
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SHELL-OK xterm-256color 33 101"* ]]
	# busybox's cursor-position query is answered in the guest, not shown.
	[[ "$output" != *$'\e[6n'* ]]
	assert_no_qemu
}

# The discovery chain, read from --dry-run: every other test boots this
# same image.
@test "KTSTR_TEST_KERNEL picks the kernel; --kernel wins over it" {
	KTSTR_TEST_KERNEL="$KERNEL" run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	jq -e -s --arg k "$KERNEL" 'any(.[]; .type == "kernel_resolved" and .image == $k and
		.source == "KTSTR_TEST_KERNEL")' <<<"$output"
	KTSTR_TEST_KERNEL=/nonexistent run --separate-stderr ktstr-vm -k "$KERNEL" --dry-run
	[ "$status" -eq 0 ]
	jq -e -s --arg k "$KERNEL" 'any(.[]; .type == "kernel_resolved" and .image == $k and
		.source == "--kernel")' <<<"$output"
}
