#!/usr/bin/env bats
# The scheduler's BPF programs as the guest agent reads them (libbpf in the
# static agent): bpf_prog records at every attach, and with ktstr-vm
# --bpf-stats the run count and run time of each over the workload
# (bpf_prog_stats).  Real QEMU under TCG, the real kernel and the kernel's
# own scx_simple from run-bats (KTSTR_E2E_SCHED_DIR).

load lib/common

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
}
teardown() { common_teardown; }

# run_steady [ktstr-vm ARGS...]: 2 s of steady on 1,2,2,1, records in
# $TEST_TMP/rec, the BPF ones echoed for a failure's log.
run_steady() {
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,2,2,1 --duration 2s "$@"
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	echo "status=$status"
	echo "$stderr"
	jq -c 'select(.type == "scheduler" or (.type | startswith("bpf_")) or .type == "exit")' \
		"$TEST_TMP/rec"
}

# jq -e over all records as one array.
recq() {
	jq -e -s "$1" "$TEST_TMP/rec" >/dev/null || {
		echo "records check failed: $1" >&2
		return 1
	}
}

# What scx_simple's programs must look like in bpf_prog records.
simple_progs_ok() {
	recq '[.[] | select(.type == "bpf_probe_error")] == []'
	# Right after the attach, before the workload's first record.
	recq '(map(.type) | index("bpf_prog")) as $p |
		(map(.type == "scheduler" and .event == "attached") | index(true)) as $a |
		(map(.type) | index("worker")) as $w | $a < $p and $p < $w'
	recq '[.[] | select(.type == "bpf_prog")] as $b |
		($b | map(.name)) as $n |
		($n == ($n | sort)) and
		(["simple_dispatch", "simple_enqueue", "simple_init", "simple_running",
		  "simple_select_cpu", "simple_stopping"] - $n == []) and
		($b | all(.scheduler == "scx_simple" and .id > 0 and .t_ms > 0 and
			  .xlated_bytes > 0 and .jited_bytes > 0 and .nr_maps >= 0)) and
		($b | map(select(.name | startswith("simple_"))) |
		 all(.prog_type == "struct_ops" and .verified_insns > 0))'
	# Names longer than the kernel keeps (15) come whole, from BTF.
	recq 'any(.[]; .type == "bpf_prog" and .name == "simple_select_cpu")'
}

@test "bpf: scx_simple with --bpf-stats: its programs, and the cost of each over the workload" {
	run_steady --scheduler "$SCHED/scx_simple" --bpf-stats
	[ "$status" -eq 0 ]
	simple_progs_ok
	# One stats record per program, same IDs and names, after the workload.
	recq '([.[] | select(.type == "bpf_prog") | [.id, .name, .prog_type]] | sort) ==
		([.[] | select(.type == "bpf_prog_stats") | [.id, .name, .prog_type]] | sort)'
	recq '(map(.type) | index("bpf_prog_stats")) as $s |
		(map(.type == "scheduler" and .event == "detached") | index(true)) as $d | $s < $d'
	# enqueue and dispatch ran while 4 spinners competed for 4 CPUs; the
	# window is about the 2 s of workload.
	recq '[.[] | select(.type == "bpf_prog_stats" and
		(.name == "simple_enqueue" or .name == "simple_dispatch"))] |
		length == 2 and all(.run_cnt > 0 and .run_time_ns > 0 and .ns_per_run > 0 and
		(.ns_per_run - .run_time_ns / .run_cnt | fabs) <= 0.05)'
	recq '[.[] | select(.type == "bpf_prog_stats")] |
		all(.window_ms >= 1800 and .window_ms < 10000 and
		    (if .run_cnt == 0 then .ns_per_run == null and .run_time_ns == 0 else true end))'
	# simple_init ran at the attach, before the window: nothing in it.
	recq 'any(.[]; .type == "bpf_prog_stats" and .name == "simple_init" and .run_cnt == 0)'
	jq -r 'select(.type == "bpf_prog_stats") |
		"# \(.name): \(.run_cnt) runs, \(.ns_per_run) ns/run"' "$TEST_TMP/rec" >&3
}

@test "bpf: scx_simple without --bpf-stats: bpf_prog records, no bpf_prog_stats" {
	run_steady --scheduler "$SCHED/scx_simple"
	[ "$status" -eq 0 ]
	simple_progs_ok
	recq '[.[] | select(.type == "bpf_prog_stats")] == []'
}

@test "bpf: EEVDF with --bpf-stats: no scheduler, no BPF records" {
	run_steady --bpf-stats
	[ "$status" -eq 0 ]
	recq '[.[] | select(.type == "exit")] == [{"type": "exit", "exit_code": 0}]'
	recq '[.[] | select(.type | startswith("bpf_"))] == []'
}
