#!/usr/bin/env bats
# ktstr-verify end to end: real VMs under the e2e kernel, the kernel's own
# scx_simple (KTSTR_E2E_SCHED_DIR) beside scx_badloop, a scheduler the
# verifier rejects after walking a loop (tests/fixtures/verifier/sched,
# built here with ktstr-build --sched against the e2e kernel's BTF; the
# toolchain is the caller's cached one, as in build-sched.bats).

load lib/common

setup_file() {
	local kdir out=$BATS_FILE_TMPDIR rc=0
	kdir=$(dirname "${KTSTR_E2E_KERNEL:-/nonexistent/bzImage}")
	XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache} ktstr-build \
		--sched "$BATS_TEST_DIRNAME/fixtures/verifier/sched" --kernel-dir "$kdir" \
		--out "$out/sched" -j 2 >"$out/build.out" 2>"$out/build.err" || rc=$?
	echo "$rc" >"$out/build.rc"
	export BADLOOP=$out/sched/scx_badloop
}

setup() {
	common_setup
	SCHED=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
	unset KTSTR_VERIFIER_SCHEDULER KTSTR_VERIFIER_RAW KTSTR_VERIFIER_RESULT_DIR KTSTR_KERNEL_LIST
	export KTSTR_NO_PROGRESS=1 KTSTR_LOCK_DIR=$TEST_TMP/locks
}
teardown() { common_teardown; }

built() {
	[ "$(cat "$BATS_FILE_TMPDIR/build.rc")" = 0 ] || {
		cat "$BATS_FILE_TMPDIR/build.err" >&2
		return 1
	}
}

@test "verify: scx_simple verifies on two presets, scx_badloop fails with its loop collapsed; exit 1" {
	built
	run --separate-stderr ktstr-verify -k "$KERNEL" --scheduler "$SCHED/scx_simple" \
		--scheduler "$BADLOOP" --preset tiny-1llc --preset tiny-2llc -j 2 \
		--result-dir "$TEST_TMP/res"
	echo "status=$status"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 1 ]
	# every cell has its file; the cells' verdicts
	[ "$(ls "$TEST_TMP/res" | wc -l)" -eq 5 ]
	local good bad
	good=$(cat "$TEST_TMP"/res/scx_simple__*__tiny-2llc.json)
	bad=$(cat "$TEST_TMP"/res/scx_badloop__*__tiny-1llc.json)
	jq -e '.type == "verifier_cell" and .result == "pass" and .accel != null and
		.topology == "1n2l2c1t" and .wall_ms > 0 and .log == null' <<<"$good"
	# scx_simple's callbacks, each verified, each with a figure; the
	# spinners make enqueue and dispatch run
	jq -e '(.programs | map(.name)) as $n |
		(["simple_dispatch", "simple_enqueue", "simple_running", "simple_select_cpu",
		  "simple_stopping"] - $n == []) and
		(.programs | map(select(.name | startswith("simple_"))) |
		 all(.prog_type == "struct_ops" and .verified_insns > 0 and .xlated_bytes > 0)) and
		(.programs | map(select(.name == "simple_enqueue" or .name == "simple_dispatch")) |
		 all(.run_cnt > 0 and .run_time_ns > 0 and .ns_per_run > 0))' <<<"$good"
	# the rejection: the program, libbpf's line, the log with the loop folded
	jq -e '.result == "fail" and .programs == [] and
		(.failed_program | startswith("badloop_")) and
		(.error | test("^libbpf: prog .badloop_[a-z_]+.: failed to load")) and
		.log_lines_raw > 1000 and (.log | length) < 200 and
		any(.log[]; test("^\\.\\.\\. [0-9]+ iterations collapsed \\.\\.\\.$"))' <<<"$bad"
	# the summary: programs lo..hi, the failing cells
	jq -e '.cells == 4 and .passed == 2 and .failed == 2 and .errors == 0 and
		(.failing | map(.scheduler) == ["scx_badloop", "scx_badloop"]) and
		any(.programs[]; .scheduler == "scx_simple" and .program == "simple_enqueue" and
		    .verified_insns_min > 0 and .cells == 2 and .max_pct_of_limit < 1)' \
		"$TEST_TMP/res/summary.json"
	# the human report: a line per cell, the grid, the folded log once
	[ "$(grep -c '^PASS  \[.*\] scx_simple ' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^FAIL  \[.*\] scx_badloop .*: program badloop_' <<<"$output")" -eq 2 ]
	grep -Eq '^  scx_badloop +FAIL +FAIL$' <<<"$output"
	grep -Eq '^  scx_simple +pass +pass$' <<<"$output"
	grep -Eq '^    \| \.\.\. [0-9]+ iterations collapsed \.\.\.$' <<<"$output"
	grep -q '^    verifier log: as for scx_badloop on ' <<<"$output"
}

@test "verify: --raw keeps the whole log; --json prints the records" {
	built
	run --separate-stderr ktstr-verify -k "$KERNEL" --scheduler "$BADLOOP" --preset tiny-1llc \
		--raw --json
	echo "status=$status"
	echo "$stderr"
	[ "$status" -eq 1 ]
	jq -e -s '.[0].type == "verifier_cell" and .[0].result == "fail" and
		(.[0].log | length) == .[0].log_lines_raw and
		all(.[0].log[]; test("iterations collapsed") | not) and
		.[1].type == "verifier_summary" and .[1].failed == 1' <<<"$output"
}

@test "verify: two kernels (Debian's cloud and generic builds): a column each, every program verified on both" {
	local k2=${KTSTR_E2E_KERNEL2:-/nonexistent-e2e-kernel2}
	[ -f "$k2" ] || {
		echo "KTSTR_E2E_KERNEL2=$k2 is missing (tests/run-bats fetches it)" >&2
		return 1
	}
	run --separate-stderr ktstr-verify -k "$KERNEL" -k "$k2" --scheduler "$SCHED/scx_simple" \
		--scheduler "$SCHED/scx_qmap" --preset tiny-2llc -j 2 --json
	echo "status=$status"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	# four cells, two distinct kernel labels, all passing
	jq -e -s 'map(select(.type == "verifier_cell")) as $c |
		($c | length) == 4 and ($c | map(.kernel) | unique | length) == 2 and
		all($c[]; .result == "pass" and (.programs | length) > 0)' <<<"$output"
	# scx_qmap's dispatch is a big program: thousands of verified
	# instructions, the same count on both kernels' verifiers or close
	jq -e -s 'map(select(.type == "verifier_summary"))[0] as $s |
		$s.cells == 4 and $s.passed == 4 and $s.failing == [] and
		any($s.programs[]; .scheduler == "scx_qmap" and .program == "qmap_dispatch" and
		    .cells == 2 and .verified_insns_min > 1000 and
		    .verified_insns_max < 1000000)' <<<"$output"
}
