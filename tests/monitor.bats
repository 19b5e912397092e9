#!/usr/bin/env bats
# The host-side monitor end to end: ktstr-vm reads the guest kernel's
# runqueues from guest memory while real schedulers run, and ktstr-stats'
# machine checks judge what it saw.  Real kernel, real schedulers, TCG.

load lib/common

setup() {
	common_setup
	SCHED_DIR=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
}
teardown() {
	assert_no_qemu
	common_teardown
}

vm() {
	ktstr-vm --kernel "$KERNEL" "$@"
}

# The QEMU this test started (its environment carries the test's mark).
test_qemu_pid() {
	local pid
	for pid in $(pgrep qemu-system || true); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
			grep -qxF "KTSTR_TEST_MARK=$TEST_TMP" && { echo "$pid"; return 0; }
	done
}

# Wait until the run in the background writing $TEST_TMP/rec has started
# its scenario, then a second more: the workers are running.
scenario_under_way() {
	local i
	for i in $(seq 200); do
		grep -q '"type":"scenario_start"' "$TEST_TMP/rec" 2>/dev/null && break
		sleep 0.1
	done
	sleep 1
}

# The failure messages of a verdict, one per line.
failures() {
	jq -r '.failures[] | "\(.check): \(.message)"' "$1"
}

@test "monitor: a steady run under EEVDF samples every CPU and passes every machine check" {
	run vm --topo 1,2,2,1 --scenario steady --duration 3s
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	start=$(records "$TEST_TMP/rec" monitor_start)
	[ -n "$start" ]
	[ "$(jq .cpus <<<"$start")" -eq 4 ]
	jq -e '.paging_levels == 4 or .paging_levels == 5' <<<"$start"
	n=$(records "$TEST_TMP/rec" monitor | wc -l)
	echo "# $n monitor samples over a 3 s steady run" >&3
	[ "$n" -ge 20 ]
	# Every sample has one entry per CPU, and the clocks move.
	records "$TEST_TMP/rec" monitor | jq -e '(.nr_running | length) == 4 and
		(.idle | length) == 4 and (.clock_adv_us | length) == 4' >/dev/null
	records "$TEST_TMP/rec" monitor | tail -n +2 | jq -s -e '
		[.[].clock_adv_us | add] | min > 0' >/dev/null
	# No scheduler attached: no sched_ext-only fields.
	! records "$TEST_TMP/rec" monitor | jq -e 'has("events") or has("max_wait_ms")' |
		grep -q true || false
	# Scenario records carry the host clock the samples use.
	records "$TEST_TMP/rec" scenario_start | jq -e '.host_ms > 0'
	records "$TEST_TMP/rec" monitor_end | jq -e '.samples >= 20 and .sample_us_mean > 0'
	records "$TEST_TMP/rec" monitor_end | jq -r '"# monitor cost: \(.sample_us_mean) us per sample (4 CPUs), max \(.sample_us_max)"' >&3
	run ktstr-stats --json "$TEST_TMP/rec"
	echo "$output"
	[ "$status" -eq 0 ]
	for c in work_conservation imbalance stall; do
		jq -e --arg c "$c" '[.checks[] | select(.check == $c)] | length > 0 and all(.pass)' \
			<<<"$output"
	done
}

@test "monitor: scx_cpu0 fails work conservation, naming CPUs 1-3 idle" {
	[ -x "$SCHED_DIR/scx_cpu0" ] || skip "scx_cpu0 was not built"
	run vm --topo 1,2,2,1 --scheduler "$SCHED_DIR/scx_cpu0" --scenario steady --duration 4s
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	records "$TEST_TMP/rec" monitor | jq -e 'has("events") and .scx_ops == "cpu0"' |
		grep -q true
	run ktstr-stats --json "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	failures <(echo "$output") >"$TEST_TMP/why"
	cat "$TEST_TMP/why"
	grep -E '^work_conservation: .*CPUs? 1-3 idle' "$TEST_TMP/why"
	grep -E '^work_conservation: .*CPU 0' "$TEST_TMP/why"
	# The same stream passes every worker check: only the machine view
	# catches it.
	run ktstr-stats "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	grep -qi 'work conservation' <<<"$output"
}

@test "monitor: under tcg-mt (a thread per vCPU, as KVM) scx_cpu0 fails work conservation too" {
	# A halted vCPU's host thread sleeps, so CPU 1 shows no run time of
	# its own while it idles; the VM still ran (CPU 0's thread), and the
	# failure must name it.  This passed before that was told apart.
	[ -x "$SCHED_DIR/scx_cpu0" ] || skip "scx_cpu0 was not built"
	run vm --accel tcg-mt --topo 1,1,2,1 --scheduler "$SCHED_DIR/scx_cpu0" --scenario steady --duration 3s
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	records "$TEST_TMP/rec" vm_start | jq -e '.tcg_thread == "multi"'
	run ktstr-stats --json "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	failures <(echo "$output") >"$TEST_TMP/why"
	cat "$TEST_TMP/why"
	grep -E '^work_conservation: .*CPU 1 idle for [0-9]+ ms while CPU 0' "$TEST_TMP/why"
}

@test "monitor: workers pinned to CPU 0 by set_affinity leave CPU 1 idle without a failure" {
	run vm --topo 1,1,2,1 --scenario "$BATS_TEST_DIRNAME/fixtures/scenarios/affinity-all-cpu0.json"
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	# The op says where the workers may run now.
	records "$TEST_TMP/rec" stimulus | jq -e 'select(.op == "set_affinity") | .cpus == "0"' >/dev/null
	# CPU 1 sat idle while CPU 0 queued 4 workers ...
	records "$TEST_TMP/rec" monitor | jq -s -e '[.[] | select(.idle[1] == 1 and .nr_running[0] >= 2)] | length >= 5'
	# ... which is what the scenario asked for.
	run ktstr-stats --json "$TEST_TMP/rec"
	echo "$output" | jq -c .failures
	[ "$status" -eq 0 ]
	jq -e '[.checks[] | select(.check == "work_conservation")] | length == 1' <<<"$output"
}

@test "monitor: scx_qmap -t 2 is a stall to the monitor and to the kernel" {
	[ -x "$SCHED_DIR/scx_qmap" ] || skip "scx_qmap was not built"
	run vm --topo 1,1,2,1 --scheduler "$SCHED_DIR/scx_qmap" --sched-arg=-t --sched-arg=2 \
		--scenario steady --duration 10s
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	run ktstr-stats --json "$TEST_TMP/rec"
	[ "$status" -eq 1 ]
	failures <(echo "$output") >"$TEST_TMP/why"
	cat "$TEST_TMP/why"
	# The monitor saw a runnable task waiting for seconds ...
	grep -E '^runnable_wait: .*stalled' "$TEST_TMP/why"
	# ... and the kernel said why it threw the scheduler out.
	grep -E '^scheduler: .*stall' "$TEST_TMP/why"
}

@test "monitor: a VM paused by the host keeps its samples and is not a scheduler stall" {
	vm --topo 1,1,2,1 --scenario steady --duration 6s >"$TEST_TMP/rec" 2>"$TEST_TMP/err" &
	local vmpid=$! qemu=""
	# Once the scenario is under way, freeze QEMU (every vCPU stops)
	# for 2 s.
	scenario_under_way
	qemu=$(test_qemu_pid)
	[ -n "$qemu" ]
	kill -STOP "$qemu"
	sleep 2
	kill -CONT "$qemu"
	wait "$vmpid"
	# Samples kept coming while it was frozen, and they show the vCPUs
	# did not run.
	paused=$(records "$TEST_TMP/rec" monitor | jq -s '[.[] | select(.vcpu_run_us != null
		and (.vcpu_run_us | add) == 0)] | length')
	echo "# $paused samples taken while QEMU was stopped" >&3
	[ "$paused" -ge 10 ]
	# ktstr-vm saw the stop and the continue (waitpid): about 2 s of
	# qemu_stopped_us over the samples.
	stopped=$(records "$TEST_TMP/rec" monitor | jq -s '[.[].qemu_stopped_us] | add')
	echo "# QEMU stopped for $((stopped / 1000)) ms by the samples" >&3
	[ "$stopped" -ge 1800000 ] && [ "$stopped" -le 2600000 ]
	run ktstr-stats --json "$TEST_TMP/rec"
	echo "$output" | jq -c '[.result, .reason, .failures]'
	! jq -e '.failures[] | select(.check == "stall" or .check == "work_conservation")' \
		<<<"$output"
	# Nothing is blamed on EEVDF: a gap the stop made is the host's, so
	# the run passes or is inconclusive, never a failure.
	jq -e '.result == "pass" or .result == "inconclusive"' <<<"$output"
	jq -e '[.failures[] | select(.by_host | not)] == []' <<<"$output"
}

@test "monitor: Ctrl-Z stops QEMU with ktstr-vm, counts the stop as the host's and not against --timeout" {
	# A terminal's SIGTSTP reaches ktstr-vm's process group, not QEMU's
	# (its own): ktstr-vm stops QEMU, then itself, for 5 s.  The run takes
	# 7-8 s without the stop, so a --timeout of 10 s holds only if the
	# stop is not counted against it.
	vm --topo 1,1,2,1 --scenario steady --duration 4s --timeout 10s \
		>"$TEST_TMP/rec" 2>"$TEST_TMP/err" &
	local vmpid=$! qemu=""
	scenario_under_way
	qemu=$(test_qemu_pid)
	[ -n "$qemu" ]
	# ktstr-vm itself: QEMU's parent ($vmpid may be a wrapper's shell).
	local ktstr states
	ktstr=$(awk '{print $4}' "/proc/$qemu/stat")
	kill -TSTP "$ktstr"
	sleep 0.5
	# Both stopped (state T), read before anything can fail.
	states="$(awk '{print $3}' "/proc/$ktstr/stat") $(awk '{print $3}' "/proc/$qemu/stat")"
	sleep 4.5
	# A shell's fg sends SIGCONT to the job.
	kill -CONT "$ktstr"
	wait "$vmpid"
	[ "$states" = "T T" ]
	cat "$TEST_TMP/err" >&2
	[ "$(records "$TEST_TMP/rec" vm_exit | jq -r .reason)" = exited ]
	stopped=$(records "$TEST_TMP/rec" monitor | jq -s '[.[].qemu_stopped_us] | add')
	echo "# QEMU stopped for $((stopped / 1000)) ms by the samples" >&3
	[ "$stopped" -ge 4800000 ] && [ "$stopped" -le 6000000 ]
	run ktstr-stats --json "$TEST_TMP/rec"
	echo "$output" | jq -c '[.result, .reason, .failures, .machine.qemu_stopped_ms]'
	# Inside the workload: the sample that carries the stop is taken
	# before QEMU goes on, so the guest's jump past the workload's end
	# cannot leave it out (CI once saw spreads of 82% blamed on EEVDF).
	jq -e '.machine.qemu_stopped_ms >= 4800' <<<"$output"
	jq -e '.result == "pass" or .result == "inconclusive"' <<<"$output"
	jq -e '[.failures[] | select(.by_host | not)] == []' <<<"$output"
}

@test "monitor: a guest whose agent stops answering still yields samples and a reason" {
	run vm --topo 1,1,2,1 --exec 'sleep 600' --timeout 12s
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	[ "$(records "$TEST_TMP/rec" monitor | wc -l)" -ge 30 ]
	records "$TEST_TMP/rec" vm_exit | jq -e '.reason == "timeout"'
	records "$TEST_TMP/rec" vm_exit | jq -r .message | grep 'still scheduling'
}

@test "monitor: --no-monitor reads nothing; a bad --monitor-interval is one clear line" {
	run vm --topo 1,1,2,1 --no-monitor --exec true
	[ "$status" -eq 0 ]
	! grep -q '"type":"monitor"' <<<"$output" || false
	! grep -q '"type":"monitor_start"' <<<"$output" || false
	# Said once, so a verdict without machine checks says why.
	grep '"type":"monitor_unavailable"' <<<"$output" | jq -e '.reason | test("--no-monitor")'
	run ktstr-vm --no-monitor --monitor-interval 50ms --exec true
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-vm "$output"
	run ktstr-vm --monitor-interval 2ms --exec true
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-vm "$output"
	grep -q -- '--monitor-interval' <<<"$output"
}

@test "monitor: a QEMU that never answers on QMP costs the monitor, not the run" {
	# QEMU without its control monitor: the channel stays silent.
	cat >"$TEST_TMP/qemu" <<'SH'
#!/bin/bash
args=()
while [ $# -gt 0 ]; do
	if [ "$1" = -mon ]; then shift 2; continue; fi
	args+=("$1"); shift
done
exec qemu-system-x86_64 "${args[@]}"
SH
	chmod +x "$TEST_TMP/qemu"
	KTSTR_QEMU=$TEST_TMP/qemu run vm --topo 1,1,2,1 --exec 'echo ran'
	[ "$status" -eq 0 ]
	grep -q '"line":"ran"' <<<"$output"
	grep '"type":"monitor_unavailable"' <<<"$output" | jq -r .reason | tee /dev/stderr |
		grep -q 'QMP: no answer within 3000 ms'
	! grep -q '"type":"monitor_start"' <<<"$output" || false
	grep -q '^ktstr-vm: host-side monitor off: QMP' <<<"$output"
}

# A copy of the kernel image in a directory of its own, so what lies beside
# it (its vmlinux) and its cache key are the test's.
private_kernel() {
	mkdir -p "$TEST_TMP/k"
	cp "$KERNEL" "$TEST_TMP/k/bzImage"
	echo "$TEST_TMP/k/bzImage"
}

@test "monitor: a kernel without BTF gets monitor_unavailable and the run goes on" {
	k=$(private_kernel)
	# An ELF with no .BTF section where the vmlinux should be.
	cp /bin/true "$TEST_TMP/k/vmlinux"
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec 'echo ran'
	[ "$status" -eq 0 ]
	grep -q '"line":"ran"' <<<"$output"
	grep '"type":"monitor_unavailable"' <<<"$output" | jq -e '.reason | test("BTF")'
	! grep -q '"type":"monitor"' <<<"$output" || false
	grep -q '^ktstr-vm: host-side monitor off: ' <<<"$output"
}

# The symbol cache entry ktstr-vm keys on this image (path, size, mtime).
syms_cache_entry() {
	local k=$1 real
	real=$(realpath "$k")
	printf '%s\n%s\n%s' "$real" "$(stat -c %s "$real")" "$(stat -c %.9Y "$real")" |
		sha256sum | cut -d' ' -f1
}

@test "monitor: a kernel without the data symbols (no KALLSYMS_ALL) gets a clear reason" {
	k=$(private_kernel)
	ln -s "$(dirname "$KERNEL")/vmlinux" "$TEST_TMP/k/vmlinux"
	mkdir -p "$XDG_CACHE_HOME/ktstr/ksyms"
	key=$(syms_cache_entry "$k")
	# What such a kernel's kallsyms gives: code symbols only.
	printf '{"type":"kernel_symbols","symbols":{"_text":"0xffffffff81000000"},"missing":["runqueues","__per_cpu_offset","page_offset_base"],"kernel_code_phys":"0x1000000"}\n' \
		>"$XDG_CACHE_HOME/ktstr/ksyms/$key.json"
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec 'echo ran'
	[ "$status" -eq 0 ]
	grep -q '"line":"ran"' <<<"$output"
	grep '"type":"monitor_unavailable"' <<<"$output" | jq -r .reason | tee /dev/stderr |
		grep -E 'runqueues|KALLSYMS'
	# A cached entry that did not work is dropped: the next run asks the
	# guest again.
	[ ! -e "$XDG_CACHE_HOME/ktstr/ksyms/$key.json" ]
}

@test "monitor: a kernel without sched_ext still gets runqueue samples" {
	k=$(private_kernel)
	ln -s "$(dirname "$KERNEL")/vmlinux" "$TEST_TMP/k/vmlinux"
	# Learn the real symbols once, then drop the sched_ext ones as a
	# kernel without CONFIG_SCHED_CLASS_EXT would.
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec true
	[ "$status" -eq 0 ]
	f="$XDG_CACHE_HOME/ktstr/ksyms/$(syms_cache_entry "$k").json"
	[ -f "$f" ]
	jq -c 'del(.symbols.scx_root, .symbols.scx_enable_state_var)' "$f" >"$f.new" && mv "$f.new" "$f"
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec 'sleep 1'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	[ "$(records "$TEST_TMP/rec" monitor | wc -l)" -ge 5 ]
	! records "$TEST_TMP/rec" monitor | jq -e 'has("scx_state")' | grep -q true || false
	records "$TEST_TMP/rec" monitor_start | jq -e '.sched_ext == false'
	grep -q '^ktstr-vm: kernel has no sched_ext' <<<"$output"
}

@test "monitor: the BTF layout is cached per vmlinux, and a damaged entry is read again" {
	k=$(private_kernel)
	ln -s "$(dirname "$KERNEL")/vmlinux" "$TEST_TMP/k/vmlinux"
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec 'sleep 0.5'
	[ "$status" -eq 0 ]
	# Keyed on the vmlinux the BTF comes from (path, size, mtime).
	f="$XDG_CACHE_HOME/ktstr/ksyms/$(syms_cache_entry "$TEST_TMP/k/vmlinux").layout.json"
	jq -e '.version == 1 and .members["rq.nr_running"][1] == 4 and (.events | length) > 10' "$f"
	cp "$f" "$TEST_TMP/good"
	# A damaged entry (nr_running 3 bytes wide) is not used: the BTF is
	# read again, the run is monitored as before and the entry mended.
	echo '{"version":1,"members":{"rq.nr_running":[0,3]},"pcpu_event_stats":-1,"ev_size":0,"events":[],"scx_enabled":-1,"states":[]}' >"$f"
	run ktstr-vm --kernel "$k" --topo 1,1,2,1 --exec 'sleep 0.5'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$TEST_TMP/rec"
	[ "$(records "$TEST_TMP/rec" monitor_start | wc -l)" -eq 1 ]
	[ "$(records "$TEST_TMP/rec" monitor | wc -l)" -ge 2 ]
	[ "$(records "$TEST_TMP/rec" monitor_unavailable | wc -l)" -eq 0 ]
	cmp "$f" "$TEST_TMP/good"
}
