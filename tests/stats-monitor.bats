#!/usr/bin/env bats
# ktstr-stats: the machine checks over the host-side monitor's records, the
# phase table, and compare --phase.  The streams in
# tests/fixtures/stats/monitor-*.jsonl are pass.jsonl with monitor records
# (every 100 ms from scenario_start.host_ms 3000) and host_ms on the
# timeline records.  No VM is booted here.

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

# The failure lines of the human report (two-space indent).
failures() {
	printf '%s\n' "$output" | sed -n 's/^  \([a-z]\)/\1/p'
}

# ---- checks ----------------------------------------------------------------

@test "a healthy monitored run passes, with the machine line and the phase table" {
	stats "$FX/monitor-pass.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] passed" ]
	[[ "$output" == *"monitor: 52 samples every 100ms max_idle_while_runnable_ms=0 max_imbalance_ratio=1 max_local_dsq_depth=0 stall_count=0"* ]]
	read -r -a head <<<"$(printf '%s\n' "$output" | grep '^PHASE')"
	[ "${head[*]}" = "PHASE FROM_S TO_S SAMPLES IMB_MEAN IMB_HELD DSQ_MAX STALLS IDLE_MS FALLBACK/S KEEP_LAST/S ITER/S" ]
	[ "$(printf '%s\n' "$output" | grep -cE '^[0-9]+ +[0-9]+\.[0-9] ')" -eq 3 ]
	[[ "$output" != *DEGRADED* ]]
	stats --json "$FX/monitor-pass.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.checks[] | select(.cgroup == null and .check != "scheduler" and .check != "vm") | .check]' <<<"$output")" = \
		'["work_conservation","imbalance","local_dsq_depth","stall","runnable_wait","fallback_rate","keep_last_rate"]' ]
	[ "$(jq -c '[.machine.samples, .machine.interval_ms, .machine.max_imbalance_ratio, .machine.stall_count, .machine.unavailable]' <<<"$output")" = '[52,100,1,0,null]' ]
	[ "$(jq -c '[.phases[] | [.phase, .start_ms, .end_ms, .samples]]' <<<"$output")" = '[[0,0,100,1],[1,100,2600,25],[2,2600,5100,26]]' ]
	[ "$(jq -c '.phases[1] | keys_unsorted' <<<"$output")" = \
		'["phase","start_ms","end_ms","samples","mean_imbalance_ratio","max_imbalance_ratio","max_local_dsq_depth","stall_count","idle_while_runnable_ms","fallback_per_sec","keep_last_per_sec","iterations_per_sec","degraded"]' ]
}

@test "work conservation: CPUs 1-3 idle while CPU 0 queues, named in one line" {
	stats "$FX/monitor-work-conservation.jsonl"
	[ "$status" -eq 1 ]
	[ "$(failures)" = "work conservation: CPUs 1-3 idle for 4000 ms while CPU 0 had 4 runnable tasks (from 1.2 s into the run; limit 500 ms)" ]
	stats --json "$FX/monitor-work-conservation.jsonl"
	[ "$(jq -c '[.failures[] | [.check, .value, .limit]]' <<<"$output")" = '[["work_conservation",4000,500]]' ]
	[ "$(jq '.phases[1].idle_while_runnable_ms' <<<"$output")" = 12000 ]
	# a limit from the command line, and off
	stats --max-idle-while-runnable-ms 5000 "$FX/monitor-work-conservation.jsonl"
	[ "$status" -eq 0 ]
	stats --max-idle-while-runnable-ms off --json "$FX/monitor-work-conservation.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq '[.checks[] | select(.check == "work_conservation")] | length' <<<"$output")" = 0 ]
}

@test "work conservation counts idle time only while the host let the VM run" {
	# The same stream with QEMU's thread waiting for a host CPU 70% of
	# each interval (a busy host, single-threaded TCG): 4 s of host time
	# hold 1.2 s of guest progress, and the message gives both.
	sed 's/"vcpu_run_us":\[100000,100000,100000,100000\]/"vcpu_run_us":[30000,30000,30000,30000],"vcpu_wait_us":[70000,70000,70000,70000],"qemu_stopped_us":0/' \
		"$FX/monitor-work-conservation.jsonl" >"$TEST_TMP/starved.jsonl"
	stats "$TEST_TMP/starved.jsonl"
	[ "$status" -eq 1 ]
	[ "$(failures)" = "work conservation: CPUs 1-3 idle for 1200 ms of VM run time (4000 ms of host time, the VM ran 30% of it) while CPU 0 had 4 runnable tasks (from 1.2 s into the run; limit 500 ms)" ]
	stats --json "$TEST_TMP/starved.jsonl"
	[ "$(jq -c '[.machine.max_idle_while_runnable_ms, .phases[1].idle_while_runnable_ms, .machine.vm_run_pct]' <<<"$output")" = '[1200,3600,31.3]' ]
	# An idle vCPU's thread sleeps, neither running nor waiting: low run
	# times alone take nothing off.
	sed 's/"vcpu_run_us":\[100000,100000,100000,100000\]/"vcpu_run_us":[30000,30000,30000,30000],"vcpu_wait_us":[0,0,0,0],"qemu_stopped_us":0/' \
		"$FX/monitor-work-conservation.jsonl" >"$TEST_TMP/idle.jsonl"
	stats --json "$TEST_TMP/idle.jsonl"
	[ "$(jq -c '[.machine.max_idle_while_runnable_ms, .machine.vm_run_pct]' <<<"$output")" = '[4000,100]' ]
}

@test "a host too busy to run the VM makes a pass inconclusive, not a pass" {
	# A real run: scx_simple, 1,1,2,1, 3 s, with twelve CPU hogs on the
	# 2-core host.  The VM ran 16% of the workload, 482 ms: under the
	# 500 ms work_conservation limit, so no scheduler could have failed.
	stats "$FX/monitor-host-starved.jsonl"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n1l2c1t sched=scx_simple accel=tcg] inconclusive: work_conservation could not have failed: the host ran the VM for 482 ms of the workload's 3000 ms (16%), under the check's 500 ms limit; rerun on a less busy host" ]
	grep -q '^monitor: the host ran the VM 16% of the workload' <<<"$output"
	stats --json "$FX/monitor-host-starved.jsonl"
	[ "$(jq -c '[.result, .machine.vm_run_pct, .machine.max_idle_while_runnable_ms, ([.checks[].check] | index("work_conservation"))]' <<<"$output")" = '["inconclusive",16.1,null,null]' ]
	# With a gap limit of 10 ms: cg_1's 165 ms gap is all the host's.
	# cg_0's 120 ms is over it by more than the host took in it, but with
	# the VM run for 16% of the workload every timing check is the
	# host's: the guest's clock ran on through each wait.
	stats --max-gap-ms 10 "$FX/monitor-host-starved.jsonl"
	[ "$status" -eq 3 ]
	[ "${lines[2]}" = "    stuck 119.683ms on cpu1 at +949ms (cg_0); the host ran the VM for only 16% of the workload (the guest's clock ran on while its vCPUs waited for a host CPU)" ]
	[ "${lines[3]}" = "    stuck 165.009ms on cpu0 at +2977ms (cg_1); the host did not run the VM for 165 ms of it" ]
	# So is a spread past its limit, with the time the host took.
	stats --max-spread-pct 0.05 --json "$FX/monitor-host-starved.jsonl"
	[ "$(jq -c '[.result, [.failures[] | [.check, .by_host, .host_lost_ms]]]' <<<"$output")" = '["inconclusive",[["spread",true,2518],["spread",true,2518]]]' ]
}

@test "a host that ran the VM over half the workload leaves the timing checks the scheduler's" {
	# The busy-host run with its vCPU waits halved: the VM ran 58% of
	# the workload.  Gaps over the limit by more than the host took in
	# them fail, each saying how much that was; a spread fails as
	# measured.
	jq -c 'if .type == "monitor" and .vcpu_wait_us then .vcpu_wait_us |= map(. / 2 | floor) else . end' \
		"$FX/monitor-host-starved.jsonl" >"$TEST_TMP/half.jsonl"
	stats --json "$TEST_TMP/half.jsonl"
	[ "$(jq -c '[.result, .machine.vm_run_pct]' <<<"$output")" = '["pass",58]' ]
	stats --max-gap-ms 10 "$TEST_TMP/half.jsonl"
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "  stuck 119.683ms on cpu1 at +949ms (cg_0) (the host did not run the VM for 61 ms of it)" ]
	[ "${lines[2]}" = "  stuck 165.009ms on cpu0 at +2977ms (cg_1) (the host did not run the VM for 96 ms of it)" ]
	stats --max-spread-pct 0.05 --json "$TEST_TMP/half.jsonl"
	[ "$(jq -c '[.result, [.failures[] | .by_host]]' <<<"$output")" = '["fail",[false,false]]' ]
}

@test "a Ctrl-Z's stop counts when the workload ends just before the sample that carries it" {
	# A real run: EEVDF, 1,1,2,1, 4 s, ktstr-vm and QEMU stopped by
	# SIGTSTP 1 s into the workload for 5 s.  One sample, taken as QEMU
	# went on, carries the whole stop; the guest's clock jumped by it and
	# the workload ended 13 ms after that sample.
	stats --json "$FX/monitor-ctrl-z.jsonl"
	[ "$(jq -c '[.result, .machine.qemu_stopped_ms]' <<<"$output")" = '["inconclusive",5001]' ]
	# CI saw it end a little before the sample instead: the stop still
	# counts by its overlap with the workload, and the spreads it made
	# are the host's (the sample's time alone left it out: 0 ms, and
	# spreads of 82% failed EEVDF).
	jq -c 'if .type == "scenario_end" then .elapsed_ms -= 30 else . end' \
		"$FX/monitor-ctrl-z.jsonl" >"$TEST_TMP/early.jsonl"
	stats --json "$TEST_TMP/early.jsonl"
	[ "$(jq -c '[.result, .machine.qemu_stopped_ms >= 4900, ([.failures[] | select(.by_host | not)] | length)]' <<<"$output")" = '["inconclusive",true,0]' ]
}

@test "a QEMU stopped by the host: the workers' gaps are the host's, and the run is inconclusive" {
	# A real run: scx_simple, 1,2,2,1, 5 s, QEMU sent SIGSTOP 1 s into
	# the workload and SIGCONT 2 s later.  ktstr-vm saw both (waitpid)
	# and the samples carry qemu_stopped_us; every worker's worst gap
	# spans the stop.
	[ "$(jq -s '[.[] | select(.type == "monitor") | .qemu_stopped_us] | add' "$FX/monitor-qemu-stopped.jsonl")" -gt 1900000 ]
	stats "$FX/monitor-qemu-stopped.jsonl"
	[ "$status" -eq 3 ]
	[[ "${lines[0]}" == *" inconclusive: the host, not the scheduler: stuck 2009.58ms on cpu2 at +1090ms (cg_0); the host did not run the VM for 2006 ms of it" ]]
	[ "${lines[1]}" = "  the host did not run the VM (not the scheduler's failures):" ]
	stats --json "$FX/monitor-qemu-stopped.jsonl"
	[ "$(jq -c '[.failures[] | [.check, .by_host, .host_lost_ms]]' <<<"$output")" = '[["gap",true,2006],["gap",true,2006]]' ]
	# no machine check blames the frozen samples
	[ "$(jq -c '[.checks[] | select(.cgroup == null) | .pass] | all' <<<"$output")" = true ]
	# A stop disturbs every timing after it (the guest charges the clock
	# jump to what ran): a spread past its limit is the host's too.
	stats --max-spread-pct 0.05 --json "$FX/monitor-qemu-stopped.jsonl"
	[ "$status" -eq 3 ]
	[ "$(jq -r '.failures[] | select(.check == "spread") | .message' <<<"$output" | head -1)" = "unfair: cg_0 spread 0.1% > 0.05%; QEMU was stopped for 2003 ms during the workload (the guest's clock jumped)" ]
	[ "$(jq -c '.machine.qemu_stopped_ms' <<<"$output")" = 2003 ]
	# A failure a stop cannot cause still fails the run, the host's
	# listed apart.
	stats --max-migration-ratio 0.000001 "$FX/monitor-qemu-stopped.jsonl"
	[ "$status" -eq 1 ]
	[[ "${lines[1]}" == "  "*migration* ]]
	printf '%s\n' "$output" | grep -qx "  the host did not run the VM (not the scheduler's failures):"
	# The stream without the host's figures (an older ktstr-vm): the
	# gaps are the scheduler's again.
	jq -c 'del(.vcpu_wait_us, .qemu_stopped_us)' "$FX/monitor-qemu-stopped.jsonl" >"$TEST_TMP/old.jsonl"
	stats "$TEST_TMP/old.jsonl"
	[ "$status" -eq 1 ]
}

@test "work conservation with a thread per vCPU: a halted vCPU's sleeping thread is still idle" {
	# A real tcg-mt run (1,1,2,1, 3 s steady) of scx_cpu0, which sends
	# every task to CPU 0.  CPU 1's thread sleeps in the host while its
	# vCPU halts, so its own vcpu_run_us reads 0 in most samples; the
	# check once took that for a VM the host did not run, and the run
	# passed.  KVM's vCPU threads sleep the same way.
	FX_MT=$FX/monitor-tcg-mt-cpu0.jsonl
	[ "$(jq -s -c '[.[] | select(.type == "monitor" and .idle == [0,1] and .vcpu_run_us[1] == 0)] | length > 20' "$FX_MT")" = true ]
	stats "$FX_MT"
	[ "$status" -eq 1 ]
	[ "$(failures | head -1)" = "work conservation: CPU 1 idle for 3000 ms while CPU 0 had up to 7 runnable tasks (from 0.1 s into the run; limit 500 ms)" ]
}

@test "work conservation is judged within the cgroups' cpusets" {
	# Two cgroups pinned apart: CPU 0's queue is not CPUs 2-3's business,
	# but CPU 1 shares cg_0's cpuset with it.
	sed -e 's/"cgroup":"cg_0","workers":2,"cpuset":"0-3"/"cgroup":"cg_0","workers":2,"cpuset":"0-1"/' \
	    -e 's/"cgroup":"cg_1","workers":2,"cpuset":"0-3"/"cgroup":"cg_1","workers":2,"cpuset":"2-3"/' \
		"$FX/monitor-work-conservation.jsonl" >"$TEST_TMP/pinned.jsonl"
	stats "$TEST_TMP/pinned.jsonl"
	[ "$status" -eq 1 ]
	[[ "$(failures)" == "work conservation: CPU 1 idle for 4000 ms while CPU 0 had 4 runnable tasks "* ]]
}

@test "imbalance: sustained max/min nr_running past the limit" {
	stats "$FX/monitor-imbalance.jsonl"
	[ "$status" -eq 1 ]
	[ "$(failures)" = "imbalance: CPU 0 had 6 runnable tasks while CPU 1 had 1, a ratio of 6 or more held for 500 ms (at 2.0 s into the run; limit 4)" ]
	stats --max-imbalance-ratio 6 "$FX/monitor-imbalance.jsonl"
	[ "$status" -eq 0 ]
}

@test "local DSQ depth and runnable wait" {
	stats "$FX/monitor-dsq.jsonl"
	[ "$status" -eq 1 ]
	[ "$(failures | head -1)" = "local DSQ depth: CPU 2 kept 80 or more tasks queued in its local DSQ for 500 ms (from 1.5 s into the run; limit 50)" ]
	[ "$(failures | tail -1)" = "runnable wait: a sched_ext task stalled, runnable but not run for 3400 ms on CPU 1 (at 1.5 s into the run; limit 2000 ms)" ]
	stats --max-local-dsq-depth 100 --max-runnable-wait-ms 5000 "$FX/monitor-dsq.jsonl"
	[ "$status" -eq 0 ]
}

@test "stall: a busy CPU's clock stands while the host runs its vCPU" {
	stats "$FX/monitor-stall.jsonl"
	[ "$status" -eq 1 ]
	[ "$(failures)" = "stall: CPU 2's runqueue clock stood still for 800 ms while a task was on it and the host ran its vCPU (from 2.0 s into the run)" ]
	stats --no-stall "$FX/monitor-stall.jsonl"
	[ "$status" -eq 0 ]
}

@test "a VM paused by the host is neither a stall nor idle-while-runnable" {
	# 2 s with every clock still, vcpu_run_us 0, and CPU 0 holding 2
	# tasks while CPUs 1-3 look idle.
	stats --json "$FX/monitor-paused.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.result, .machine.stall_count, .machine.max_idle_while_runnable_ms]' <<<"$output")" = '["pass",0,0]' ]
	# The same stream with the host running the vCPUs would fail both.
	sed 's/"vcpu_run_us":\[0,0,0,0\]/"vcpu_run_us":[100000,100000,100000,100000]/' "$FX/monitor-paused.jsonl" >"$TEST_TMP/ran.jsonl"
	stats --json "$TEST_TMP/ran.jsonl"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.failures[].check]' <<<"$output")" = '["work_conservation","stall"]' ]
}

@test "event rates: select_cpu_fallback and dispatch_keep_last per second" {
	stats "$FX/monitor-rates.jsonl"
	[ "$status" -eq 1 ]
	[[ "$(failures | head -1)" == "fallback rate: 500 select_cpu_fallback events per second over 5.1 s (limit 200/s): ops.select_cpu() "* ]]
	[[ "$(failures | tail -1)" == "keep-last rate: 150 dispatch_keep_last events per second over 5.1 s with tasks waiting (limit 100/s): ops.dispatch() "* ]]
	stats --max-fallback-per-sec 600 --max-keep-last-per-sec off "$FX/monitor-rates.jsonl"
	[ "$status" -eq 0 ]
}

@test "phases: the degraded one is marked, the verdict still passes" {
	stats "$FX/monitor-phases.jsonl"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c DEGRADED)" -eq 1 ]
	[[ "$(printf '%s\n' "$output" | grep '^2 ')" == *"DEGRADED: mean_imbalance_ratio 1 -> 3" ]]
	stats --json "$FX/monitor-phases.jsonl"
	[ "$(jq -c '[.phases[] | [.phase, .mean_imbalance_ratio, .degraded]]' <<<"$output")" = \
		'[[0,1,[]],[1,1,[]],[2,3,["mean_imbalance_ratio"]],[3,1,[]]]' ]
}

# ---- no monitor, an unavailable one, garbage -------------------------------

@test "no monitor records: no machine checks, the report as before" {
	stats --json "$FX/pass.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.machine, .phases, [.checks[].check | select(. == "stall")]]' <<<"$output")" = '[null,[],[]]' ]
	stats "$FX/pass.jsonl"
	[[ "$output" != *monitor* ]]
	[[ "$output" != *PHASE* ]]
}

@test "monitor_unavailable is noted, not a failure" {
	stats "$FX/monitor-unavailable.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[-1]}" = "monitor unavailable: kernel has no BTF: /sys/kernel/btf/vmlinux is missing and the cached vmlinux has no .BTF section; machine checks not evaluated" ]
	stats --json "$FX/monitor-unavailable.jsonl"
	[[ "$(jq -r .machine.unavailable <<<"$output")" == "kernel has no BTF: "* ]]
	[ "$(jq -c .phases <<<"$output")" = '[]' ]
}

@test "garbage monitor records are warned about once per field and survived" {
	stats "$FX/monitor-garbage.jsonl"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel=kvm] passed" ]
	[[ "$output" == *"monitor: 51 samples every 100ms"* ]]
	[[ "$stderr" == *"monitor.nr_running: expected an array of counts, one per CPU, got a string; treated as missing (said once per field)"* ]]
	[[ "$stderr" == *"monitor.t_ms: expected a number >= 0, got a negative or huge one"* ]]
	[[ "$stderr" == *"monitor.idle: expected an array of 0 and 1"* ]]
	[[ "$stderr" == *"monitor.events: expected an object, got an array"* ]]
	[[ "$stderr" == *"monitor_start.interval_ms: expected a number >= 0"* ]]
	# one line per field, each naming the line it came from
	[ "$(printf '%s\n' "$stderr" | grep -c 'monitor.nr_running')" -eq 1 ]
	[ "$(printf '%s\n' "$stderr" | grep -vc '^ktstr-stats: .*monitor-garbage.jsonl:[0-9]*: ')" -eq 0 ]
}

@test "a huge per-CPU array is refused past 65536 CPUs, fast" {
	{
		printf '%s\n' '{"type":"scenario_start","name":"steady","host_ms":0}'
		awk 'BEGIN { printf "{\"type\":\"monitor\",\"t_ms\":100,\"nr_running\":[";
			for (i = 0; i < 200000; i++) printf "%s7", (i ? "," : ""); print "]}" }'
		printf '%s\n' '{"type":"scenario_end","elapsed_ms":100,"host_ms":200}'
	} >"$TEST_TMP/huge.jsonl"
	stats --json "$TEST_TMP/huge.jsonl"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"monitor.nr_running: expected an array of at most 65536 values, got a longer one"* ]]
	[ "$(jq -c '[.machine.samples, .phases]' <<<"$output")" = '[0,[]]' ]
}

# ---- sidecars and compare --phase ------------------------------------------

# Case steady/tiny-2llc in dir $1 with metrics $2 (JSON): two repeats, so
# compare's t-test can call a change real (one sample a side is noise).
sidecar() {
	mkdir -p "$1"
	for r in 1 2; do
		jq -c --argjson m "$2" --argjson r $r '.metrics = $m | .repeat = $r' \
			"$BATS_TEST_DIRNAME"/fixtures/runs/6.14.2-aaaaaaaaaaaa/steady_tiny-2llc.r1.*.ktstr.json \
			>"$1/steady_tiny-2llc.r$r.$(basename "$1").ktstr.json"
	done
}

@test "compare --phase gates one phase's metrics" {
	sidecar "$TEST_TMP/a" '{"total_iterations":30000,"max_imbalance_ratio":1.5,"phase1.mean_imbalance_ratio":1.0,"phase1.idle_while_runnable_ms":0,"phase2.mean_imbalance_ratio":1.1,"phase2.idle_while_runnable_ms":0}'
	sidecar "$TEST_TMP/b" '{"total_iterations":20000,"max_imbalance_ratio":1.5,"phase1.mean_imbalance_ratio":1.0,"phase1.idle_while_runnable_ms":0,"phase2.mean_imbalance_ratio":3.5,"phase2.idle_while_runnable_ms":1200}'
	stats compare "$TEST_TMP/a" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "compare: 1 cases, 3 regressions, 0 improvements, 0 noise, 0 errors" ]
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 2 --json
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "compare_row") | select(.regression) | .metric' <<<"$output" | tr '\n' ' ')" = \
		"phase2.idle_while_runnable_ms phase2.mean_imbalance_ratio " ]
	[ "$(jq -r 'select(.type == "compare_row") | .metric' <<<"$output" | grep -vc '^phase2\.')" -eq 0 ]
	[ "$(jq -c 'select(.type == "compare_row" and .metric == "phase2.mean_imbalance_ratio") | [.gated, .higher_is_better]' <<<"$output")" = '[true,false]' ]
	# phase 1 did not change: nothing to report, exit 0 (total_iterations
	# regressed, but it is not a phase metric)
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 1
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "compare: 1 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 1 --phase 2
	[ "$status" -eq 1 ]
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 1,2
	[ "$status" -eq 1 ]
}

@test "compare --phase N that neither run has compares nothing: exit 3, one line" {
	sidecar "$TEST_TMP/a" '{"total_iterations":30000,"phase0.mean_imbalance_ratio":1.0}'
	sidecar "$TEST_TMP/b" '{"total_iterations":20000,"phase0.mean_imbalance_ratio":1.0}'
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 5
	[ "$status" -eq 3 ]
	[ "$stderr" = "ktstr-stats: compare: --phase 5: no sample of '$TEST_TMP/a' or '$TEST_TMP/b' has phase 5 (no phase<N>.* metric), so nothing was compared; 'ktstr-stats show RUN --json' lists a case's metrics" ]
	# one phase of two missing: said, the other compared as before
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 0,5,7
	[ "$status" -eq 0 ]
	[ "$stderr" = "ktstr-stats: compare: --phase 5,7: no sample of '$TEST_TMP/a' or '$TEST_TMP/b' has phases 5,7 (no phase<N>.* metric); 'ktstr-stats show RUN --json' lists a case's metrics" ]
	stats compare "$TEST_TMP/a" "$TEST_TMP/b" --phase 0
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "--phase: bad values and other subcommands are usage errors" {
	sidecar "$TEST_TMP/a" '{"phase1.mean_imbalance_ratio":1.0}'
	for bad in x -1 1, ,1 1.5 12345678; do
		stats compare "$TEST_TMP/a" "$TEST_TMP/a" --phase "$bad"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"--phase '$bad': expected phase numbers"* ]]
	done
	stats show "$TEST_TMP/a" --phase 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"show: --phase applies to compare"* ]]
	run "$BIN" compare --help
	[[ "$output" == *"--phase N[,N...]"* ]]
}
