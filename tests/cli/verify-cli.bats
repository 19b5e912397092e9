#!/usr/bin/env bats
# ktstr-verify without a VM: bad usage, then whole runs through the test
# runner with a stand-in ktstr-vm that prints, for each scheduler, the
# records a guest would (ktstr-records(7): scheduler, bpf_prog,
# bpf_prog_stats), and the scheduler's output file of a rejected load.

load cli
load ../lib/runner

bats_require_minimum_version 1.5.0

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}
	runner_env
	unset KTSTR_VERIFIER_SCHEDULER KTSTR_VERIFIER_RAW KTSTR_VERIFIER_RESULT_DIR
	export KTSTR_NO_PROGRESS=1
}

teardown() { common_teardown; }

verify() {
	KTSTR_CACHE_DIR=$FAKE_CACHE run --separate-stderr "$VERIFY" "$@"
}

# A copy of ktstr-verify beside a ktstr-vm that prints SCHED.records for
# --scheduler=SCHED (and notes its arguments in vm.args); schedulers are
# executable files in $TEST_TMP/s.
fake_vm() {
	mkdir -p "$TEST_TMP/bin" "$TEST_TMP/s"
	cp "$BIN/ktstr-verify" "$TEST_TMP/bin/"
	ln -s "$BATS_TEST_DIRNAME/../../share" "$TEST_TMP/share"
	cat >"$TEST_TMP/bin/ktstr-vm" <<EOF
#!/bin/sh
echo "\$*" >>"$TEST_TMP/vm.args"
for a; do case \$a in --scheduler=*) s=\${a#--scheduler=} ;; esac; done
case \$s in */*) ;; *) s=\$(ls -d "$FAKE_CACHE"/.schedulers/*/"\$s") ;; esac
cat "\$s.records"
EOF
	chmod +x "$TEST_TMP/bin/ktstr-vm"
	VERIFY=$TEST_TMP/bin/ktstr-verify
}

# good_sched NAME: a scheduler that attaches with two programs.
good_sched() {
	local s=$TEST_TMP/s/$1
	printf '#!/bin/sh\n' >"$s" && chmod +x "$s"
	cat >"$s.records" <<EOF
{"type":"vm_start","accel":"tcg","scheduler":"$1","scenario":"verifier_probe"}
{"type":"agent_ready","kernel_release":"6.14.2"}
{"type":"scheduler","event":"started","name":"$1","pid":50}
{"type":"scheduler","event":"attached","name":"$1","ops":"x","attach_ms":300}
{"type":"bpf_prog","scheduler":"$1","id":41,"name":"x_dispatch","prog_type":"struct_ops","verified_insns":312,"xlated_bytes":900,"jited_bytes":600,"nr_maps":2,"t_ms":812}
{"type":"bpf_prog","scheduler":"$1","id":40,"name":"x_enqueue","prog_type":"struct_ops","verified_insns":27,"xlated_bytes":216,"jited_bytes":139,"nr_maps":2,"t_ms":812}
{"type":"scenario_start","name":"verifier_probe","duration_ms":2000,"cpus":4,"scheduler":"$1","checks":{}}
{"type":"bpf_prog_stats","id":40,"name":"x_enqueue","prog_type":"struct_ops","run_cnt":1000,"run_time_ns":495300,"ns_per_run":495.3,"window_ms":2004}
{"type":"scenario_end","elapsed_ms":2000,"workers":4,"cpus":4,"scheduler_alive":true}
{"type":"vm_exit","reason":"exit","exit_code":0,"wall_ms":7000}
EOF
}

# bad_sched NAME: a scheduler the verifier rejects after walking a loop
# 20 times; its whole output is in NAME.log.
bad_sched() {
	local s=$TEST_TMP/s/$1 i
	printf '#!/bin/sh\n' >"$s" && chmod +x "$s"
	{
		echo "libbpf: prog 'bad_dispatch': -- BEGIN PROG LOAD LOG --"
		echo "0: R1=ctx() R10=fp0"
		for i in $(seq 20); do
			echo "; for (i = 0; i < n; i++) @ bad.bpf.c:20"
			echo "3: (bf) r1 = r6     ; R1_w=scalar(id=$i)"
			echo "4: (07) r1 += 1     ; R1_w=scalar(smin=$i)"
			echo "5: (bf) r6 = r1     ; R6_w=scalar(smin=$i)"
			echo "6: (a5) if r6 < 0x40 goto pc-4     ; R6_w=scalar(smin=$i)"
		done
		echo "R7 invalid mem access 'scalar'"
		echo "-- END PROG LOAD LOG --"
		echo "libbpf: prog 'bad_dispatch': failed to load: -13"
	} >"$s.log"
	cat >"$s.records" <<EOF
{"type":"vm_start","accel":"tcg","scheduler":"$1","scenario":"verifier_probe"}
{"type":"agent_ready","kernel_release":"6.14.2"}
{"type":"scheduler","event":"started","name":"$1","pid":50,"output_log":"$s.log"}
{"type":"scheduler","event":"attach_failed","name":"$1","reason":"exited with status 1 before attaching","output":[],"output_log":"$s.log"}
{"type":"vm_exit","reason":"exit","exit_code":1,"wall_ms":5000}
EOF
}

@test "verify cli: bad usage is exit 2 with one line naming the input" {
	fake_vm
	verify --preset nosuch --scheduler /bin/true --kernel "$FAKE_IMAGE"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--preset nosuch: unknown preset; presets: tiny-1llc, tiny-2llc"* ]]
	verify --scheduler eevdf
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--scheduler 'eevdf': expected a sched_ext scheduler's name or path"* ]]
	verify --duration 0s
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--duration '0s': must be at least 1s"* ]]
	verify --jobs 0
	[ "$status" -eq 2 ]
	verify stray
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unexpected argument 'stray'"* ]]
	# a scheduler that does not exist stops the run before any VM
	verify --kernel "$FAKE_IMAGE" --scheduler scx_no_such_thing
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"scx_no_such_thing: not found"* ]]
	[[ "$stderr" == "ktstr-verify: --scheduler scx_no_such_thing: "* ]]
	# ... and from the variable, the line names the variable
	KTSTR_VERIFIER_SCHEDULER=scx_no_such_thing verify --kernel "$FAKE_IMAGE"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-verify: KTSTR_VERIFIER_SCHEDULER: scx_no_such_thing: not found"* ]]
	# a preset beyond this host's capacity
	verify --kernel "$FAKE_IMAGE" --scheduler /bin/true --preset max-cpu --accel tcg
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--preset max-cpu needs 252 vCPUs, more than this host's capacity"* ]]
	[ ! -e "$TEST_TMP/vm.args" ]
}

@test "verify cli: passing cells: lines, grid, programs lo..hi, --bpf-stats, exit 0" {
	fake_vm
	good_sched scx_good
	verify --kernel "$FAKE_IMAGE" --scheduler "$TEST_TMP/s/scx_good"
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^PASS  \[.*\] scx_good 6.14.2 .*: 2 programs, at most 312 verified instructions$' <<<"$output")" -eq 3 ]
	[[ "$output" == *"  scx_good   x_dispatch             312     0.03%      3       -"* ]]
	[[ "$output" == *"  scx_good   x_enqueue               27     0.00%      3   495.3"* ]]
	[[ "$output" == *$'  SCHEDULER  6.14.2/tiny-1llc  6.14.2/tiny-2llc  6.14.2/smt-2llc\n  scx_good   pass              pass              pass'* ]]
	[[ "$output" == *"3 cells: 3 passed, 0 failed, 0 errors"* ]]
	# every cell asked for the run figures, on its preset's topology
	[ "$(grep -c -- '--bpf-stats' "$TEST_TMP/vm.args")" -eq 3 ]
	grep -q -- '--topo=1,2,2,2 ' "$TEST_TMP/vm.args"
}

@test "verify cli: a rejected scheduler fails with its collapsed log; --json, --result-dir, exit 1" {
	fake_vm
	good_sched scx_good
	bad_sched scx_bad
	verify --kernel "$FAKE_IMAGE" --scheduler "$TEST_TMP/s/scx_good" \
		--scheduler "$TEST_TMP/s/scx_bad" --preset tiny-2llc --json --result-dir "$TEST_TMP/res"
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 1 ]
	[ "$(jq -r .type <<<"$output" | sort | uniq -c | tr -s ' ')" = "$(printf ' 2 verifier_cell\n 1 verifier_summary')" ]
	bad=$(jq -c 'select(.scheduler == "scx_bad")' <<<"$output")
	[ "$(jq -r '[.result, .failed_program, .error, .log_lines_raw] | @tsv' <<<"$bad")" = \
		"$(printf "fail\tbad_dispatch\tlibbpf: prog 'bad_dispatch': failed to load: -13\t102")" ]
	[ "$(jq -r '.log | length' <<<"$bad")" -eq 13 ]
	[ "$(jq -r '.log[6]' <<<"$bad")" = "... 18 iterations collapsed ..." ]
	good=$(jq -c 'select(.scheduler == "scx_good")' <<<"$output")
	[ "$(jq -r '[.result, .topology, .accel, (.programs | length), .programs[1].ns_per_run] | @tsv' <<<"$good")" = \
		"$(printf 'pass\t1n2l2c1t\ttcg\t2\t495.3')" ]
	sum=$(jq -c 'select(.type == "verifier_summary")' <<<"$output")
	[ "$(jq -r '[.cells, .passed, .failed, .errors, .limit_insns] | @tsv' <<<"$sum")" = "$(printf '2\t1\t1\t0\t1000000')" ]
	[ "$(jq -r '.failing[0] | [.scheduler, .kernel, .preset, .failed_program] | @tsv' <<<"$sum")" = \
		"$(printf 'scx_bad\t6.14.2\ttiny-2llc\tbad_dispatch')" ]
	[ "$(jq -r '.programs[] | [.program, .verified_insns_max] | @tsv' <<<"$sum")" = \
		"$(printf 'x_dispatch\t312\nx_enqueue\t27')" ]
	# one file per cell and the summary, the same records
	[ "$(ls "$TEST_TMP/res" | tr '\n' ' ')" = "scx_bad__6.14.2__tiny-2llc.json scx_good__6.14.2__tiny-2llc.json summary.json " ]
	[ "$(jq -c . "$TEST_TMP/res/scx_bad__6.14.2__tiny-2llc.json")" = "$bad" ]
	[ "$(jq -c . "$TEST_TMP/res/summary.json" | jq -c 'del(.wall_ms)')" = "$(jq -c 'del(.wall_ms)' <<<"$sum")" ]
	# percentages as printed on stdout, not json_dumps' 17 digits (0.031199999999999999)
	[ "$(grep -o '"max_pct_of_limit":[^,}]*' "$TEST_TMP/res/summary.json" | tr '\n' ' ')" = \
		'"max_pct_of_limit":0.0312 "max_pct_of_limit":0.0027 ' ]
	# --raw (here as KTSTR_VERIFIER_RAW) keeps every line; the human report shows the log
	KTSTR_VERIFIER_RAW=1 verify --kernel "$FAKE_IMAGE" --scheduler "$TEST_TMP/s/scx_bad" \
		--preset tiny-1llc
	[ "$status" -eq 1 ]
	[[ "$output" == *"FAIL  ["*"] scx_bad 6.14.2 tiny-1llc: program bad_dispatch: libbpf: prog 'bad_dispatch': failed to load: -13"* ]]
	[[ "$output" == *"verifier log (102 lines, 102 before collapsing):"* ]]
	[[ "$output" == *$'  SCHEDULER  6.14.2/tiny-1llc\n  scx_bad    FAIL'* ]]
}

@test "verify cli: KTSTR_VERIFIER_SCHEDULER and KTSTR_VERIFIER_RESULT_DIR; flags win" {
	fake_vm
	good_sched scx_a
	good_sched scx_b
	KTSTR_VERIFIER_SCHEDULER="$TEST_TMP/s/scx_a, $TEST_TMP/s/scx_b" \
	KTSTR_VERIFIER_RESULT_DIR=$TEST_TMP/env-res \
		verify --kernel "$FAKE_IMAGE" --preset tiny-1llc --json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "verifier_cell") | .scheduler' <<<"$output" | sort | tr '\n' ' ')" = "scx_a scx_b " ]
	[ -f "$TEST_TMP/env-res/scx_b__6.14.2__tiny-1llc.json" ]
	KTSTR_VERIFIER_SCHEDULER="$TEST_TMP/s/scx_a" verify --kernel "$FAKE_IMAGE" \
		--preset tiny-1llc --scheduler "$TEST_TMP/s/scx_b" --json
	[ "$(jq -r 'select(.type == "verifier_cell") | .scheduler' <<<"$output")" = scx_b ]
}

@test "verify cli: schedulers default to the cache's build; a VM that never ran is an error, exit 2" {
	fake_vm
	good_sched scx_a
	# a scheduler build for the fake kernel, as build-schedulers leaves it
	d=$FAKE_CACHE/.schedulers/$FAKE_KEY
	mkdir -p "$d"
	cp "$TEST_TMP/s/scx_a" "$d/scx_cached"
	cp "$TEST_TMP/s/scx_a.records" "$d/scx_cached.records"
	printf '{"binaries":[{"kind":"scheduler","name":"scx_cached","file":"scx_cached"},{"kind":"selftests","file":"selftests"}]}\n' >"$d/manifest.json"
	verify --kernel "$FAKE_IMAGE" --preset tiny-1llc --json
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "verifier_cell") | [.scheduler, .result] | @tsv' <<<"$output")" = "$(printf 'scx_cached\tpass')" ]
	# ktstr-vm dies without a vm_exit: an error after one retry, exit 2
	printf '{"type":"vm_start"}\n' >"$TEST_TMP/s/scx_a.records"
	verify --kernel "$FAKE_IMAGE" --preset tiny-1llc --scheduler "$TEST_TMP/s/scx_a"
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	[[ "$output" == *"RETRY ["*"] scx_a 6.14.2 tiny-1llc: ktstr-vm exited with status 0"*"(attempt 1 of 2)"* ]]
	[[ "$output" == *"ERROR ["*"] scx_a 6.14.2 tiny-1llc: ktstr-vm exited with status 0 without running the VM to its end"* ]]
	[[ "$output" == *"cells in error (no verdict on the scheduler):"* ]]
}

@test "verify cli: Ctrl-C stops the cells, exits 130 and leaves no temp files" {
	fake_vm
	good_sched scx_a
	# a VM that takes its time
	printf '#!/bin/sh\nexec sleep 30\n' >"$TEST_TMP/bin/ktstr-vm"
	mkdir -p "$TEST_TMP/tmp"
	TMPDIR=$TEST_TMP/tmp KTSTR_CACHE_DIR=$FAKE_CACHE "$VERIFY" --kernel "$FAKE_IMAGE" \
		--scheduler "$TEST_TMP/s/scx_a" --preset tiny-1llc --json \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	local pid=$! i
	for i in $(seq 50); do
		[ -n "$(ls "$TEST_TMP/tmp")" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	cat "$TEST_TMP/out" "$TEST_TMP/err"
	[ "$rc" -eq 130 ]
	[ -z "$(ls -A "$TEST_TMP/tmp")" ]
	# verify has cells and writes no sidecars
	grep -qx 'ktstr-verify: Interrupt: stopping 1 running cell' "$TEST_TMP/err"
	[ "$(jq -r 'select(.type == "verifier_cell") | [.result, .reason] | @tsv' "$TEST_TMP/out")" = \
		"$(printf 'error\tinterrupted before the cell finished')" ]
	[ "$(jq -r 'select(.type == "verifier_summary") | .errors' "$TEST_TMP/out")" = 1 ]
}
