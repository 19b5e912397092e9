#!/usr/bin/env bats
# ktstr-stats list / show / compare / clean over the hand-written runs in
# tests/fixtures/runs/: a baseline (aaaa), the same again with noise (bbbb),
# a regressed run (cccc: fewer iterations, longer gaps, mixed fails) and a
# run with a corrupt and a future-schema sidecar (dddd).  These are runs of
# the old layout ({kernel}-{commit}, no label); ktstr-test makes new-layout
# ones ({kernel}-{run id}) from a suite whose only case is a plan-time skip,
# so no VM is booted here either.

load lib/common

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../build/bin}/ktstr-stats
	# A private copy: the empty run is made here (git keeps no empty
	# dirs), and nothing a test does can touch the fixtures.
	ROOT=$TEST_TMP/runs
	mkdir -p "$ROOT"
	cp -r "$BATS_TEST_DIRNAME"/fixtures/runs/. "$ROOT"/
	BASE=6.14.2-aaaaaaaaaaaa SAME=6.14.2-bbbbbbbbbbbb BAD=6.14.2-cccccccccccc
	CORRUPT=6.14.2-dddddddddddd
	unset KTSTR_RUNS_ROOT KTSTR_SIDECAR_DIR KTSTR_CI
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

# derive_run FROM TO FILTER [PREFIX]: add to run TO (made if missing) a
# copy of each sidecar of run FROM passed through jq FILTER, its file name
# after PREFIX.
derive_run() {
	local f
	mkdir -p "$ROOT/$2"
	for f in "$ROOT/$1"/*.ktstr.json; do
		jq -c "$3" "$f" >"$ROOT/$2/${4:-}$(basename "$f")"
	done
}

# ---- list ------------------------------------------------------------------

@test "list: a table with RUN LABEL KERNEL SCHEDULERS TESTS DATE ARCH, newest first" {
	stats list --dir "$ROOT" --table
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 5 ]
	read -r -a head <<<"${lines[0]}"
	[ "${head[*]}" = "RUN LABEL KERNEL SCHEDULERS TESTS DATE ARCH" ]
	# old-layout runs: named by their directory, labelled by their commit
	read -r -a row <<<"${lines[1]}"
	[ "${row[*]}" = "$CORRUPT dddddddddddd 6.14.2 scx_simple 3 2025-01-04T10:01:00Z x86_64" ]
	read -r -a row <<<"${lines[4]}"
	[ "${row[*]}" = "$BASE aaaaaaaaaaaa 6.14.2 scx_simple 4 2025-01-01T10:05:00Z x86_64" ]
	[[ "${lines[2]}" == "$BAD "* ]]
	[[ "${lines[3]}" == "$SAME "* ]]
}

@test "list: JSON lines when piped, KTSTR_RUNS_ROOT as the default root" {
	KTSTR_RUNS_ROOT=$ROOT run --separate-stderr "$BIN" list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	echo "$output" >"$TEST_TMP/out"
	[ "$(jq -r .type "$TEST_TMP/out" | sort -u)" = run ]
	[ "$(jq -r .run "$TEST_TMP/out" | head -1)" = "$CORRUPT" ]
	[ "$(jq -r 'select(.run == "'$BASE'") | [.tests, .date, .arch, .path, .dir, .id, .label, .kernel, .commit, .schedulers, .live] | @tsv' \
		"$TEST_TMP/out")" = "$(printf '4\t2025-01-01T10:05:00Z\tx86_64\t%s\t%s\t20250101T100000Z-0000000a\taaaaaaaaaaaa\t6.14.2\taaaaaaaaaaaa\tscx_simple\tfalse' "$ROOT/$BASE" "$BASE")" ]
	# --dir wins over the variable
	KTSTR_RUNS_ROOT=/nonexistent run --separate-stderr "$BIN" list --dir "$ROOT" --json
	[ "${#lines[@]}" -eq 4 ]
}

@test "list: no runs is a message, not an error" {
	mkdir "$TEST_TMP/nothing-here"
	stats list --dir "$TEST_TMP/nothing-here"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"no runs under $TEST_TMP/nothing-here"* ]]
	# the default root follows XDG_STATE_HOME, and may not exist yet
	stats list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"no runs under $XDG_STATE_HOME/ktstr/runs"* ]]
}

# Regression: a mistyped --dir used to be an empty history, exit 0.
@test "list, show, compare, clean: a runs root named but missing is exit 2" {
	for cmd in list show clean; do
		stats $cmd --dir "$TEST_TMP/typo"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		assert_one_line_error ktstr-stats "$stderr"
		[[ "$stderr" == *"$cmd: runs root '$TEST_TMP/typo' (from --dir) does not exist; check the path"* ]]
	done
	stats compare "$BASE" "$SAME" --dir "$TEST_TMP/typo"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-stats "$stderr"
	KTSTR_RUNS_ROOT=$TEST_TMP/typo run --separate-stderr "$BIN" list
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"runs root '$TEST_TMP/typo' (from KTSTR_RUNS_ROOT) does not exist"* ]]
	# a file is not a root either
	: >"$TEST_TMP/file"
	stats list --dir "$TEST_TMP/file"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is not a directory"* ]]
}

# Regression: --dir naming a run directory itself said "no runs".
@test "list, show: --dir may name one run directory" {
	stats show --dir "$ROOT/$BASE" --table
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[1]}" == "demo mixed/tiny-2llc "* ]]
	stats list --dir "$ROOT/$BASE" --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r '[.run, .tests] | @tsv' <<<"${lines[0]}")" = "$(printf '%s\t4' "$ROOT/$BASE")" ]
	# clean refuses it: it prunes runs under a root
	stats clean --dir "$ROOT/$BASE"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is a run directory, not a runs root"* ]]
	[ "$(ls "$ROOT/$BASE" | wc -l)" -eq 4 ]
}

# ---- show ------------------------------------------------------------------

@test "show: one line per sidecar" {
	stats show "$BASE" --dir "$ROOT" --table
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 5 ]
	read -r -a head <<<"${lines[0]}"
	[ "${head[*]}" = "CASE REPEAT RESULT SPREAD_PCT GAP_MS ITERATIONS P99_WAKE_US MIGRATIONS" ]
	read -r -a row <<<"${lines[1]}"
	[ "${row[*]}" = "demo mixed/tiny-2llc 1 pass 6.5 700 12000 120 90" ]
	read -r -a row <<<"${lines[3]}"
	[ "${row[*]}" = "demo steady/tiny-2llc 2 pass 6.5 380 30500 120 40" ]
	# ktstr-test writes case names whole, suite first: shown once.
	for f in "$ROOT/$BASE"/*.ktstr.json; do
		jq '.case = .suite + " " + .case' "$f" >"$f.new" && mv "$f.new" "$f"
	done
	stats show "$BASE" --dir "$ROOT" --table
	[ "$status" -eq 0 ]
	read -r -a row <<<"${lines[3]}"
	[ "${row[*]}" = "demo steady/tiny-2llc 2 pass 6.5 380 30500 120 40" ]
}

@test "show: JSON case records, filters, a run given as a path" {
	stats show "$ROOT/$BAD" --test mixed
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "${lines[0]}" >"$TEST_TMP/out"
	[ "$(jq -r '[.type, .run, .case, .suite, .preset, .kernel, .scheduler, .commit,
		.run_source, .repeat, .result] | @tsv' "$TEST_TMP/out")" = \
		"$(printf 'case\t%s\tmixed/tiny-2llc\tdemo\ttiny-2llc\t6.14.2\tscx_simple\tcccccccccccc\tlocal\t1\tfail' "$ROOT/$BAD")" ]
	[ "$(jq -r .metrics.worst_gap_ms "$TEST_TMP/out")" = 3500 ]
	[[ "$(jq -r .reason "$TEST_TMP/out")" == "gap: "* ]]
	stats show "$BAD" --dir "$ROOT" --json --work-type yield_heavy --topology 1n2l2c1t
	[ "${#lines[@]}" -eq 1 ]
	# The spec in either form, as --topo takes it, and the preset name.
	stats show "$BAD" --dir "$ROOT" --json --topology 1n2l2c1t
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	for t in 1,2,2,1 tiny-2llc; do
		stats show "$BAD" --dir "$ROOT" --json --topology "$t"
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 4 ]
	done
	stats compare "$BASE" "$BAD" --dir "$ROOT" --json --topology 1,2,2,1
	[ "$status" -eq 1 ]
	[ "$(jq -s 'map(select(.type == "compare_row")) | length' <<<"$output")" -gt 0 ]
	stats junit "$BAD" --dir "$ROOT" --topology 1,2,2,1
	[ "$status" -eq 0 ]
	[[ "$output" == *'tests="4"'* ]]
	# Another shape matches nothing, in either form.
	for t in 1,1,4,1 1n1l4c1t; do
		stats show "$BAD" --dir "$ROOT" --json --topology "$t"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"has no sidecars matching the filters"* ]]
	done
	stats show "$BAD" --dir "$ROOT" --json --kernel 6.14 --scheduler scx_simple
	[ "${#lines[@]}" -eq 4 ]
	# a filter nothing matches: one line, exit 2
	stats show "$BAD" --dir "$ROOT" --scheduler scx_lavd
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"run '$BAD' has no sidecars matching the filters"* ]]
}

@test "--test matches the case name test/preset (and /scheduler) as ktstr-test names it, and globs" {
	# As ktstr test writes them: the case is "suite test/preset", and
	# "suite test/preset/scheduler" in a run of several schedulers.
	derive_run "$BASE" 6.14.2-new '.case = "demo " + .case'
	derive_run "$BASE" 6.14.2-ab '.case = "demo " + .case + "/" + .scheduler.name'
	for t in steady steady/tiny-2llc 'steady/*' 'steady/tiny-2llc/scx_simple' \
		'demo steady/*' 'st*/tiny-2llc/scx_*'; do
		for run in 6.14.2-new 6.14.2-ab; do
			stats show "$run" --dir "$ROOT" --json --test "$t"
			[ "$status" -eq 0 ]
			[ "$(jq -r .test <<<"$output" | sort -u)" = steady ]
			[ "${#lines[@]}" -eq 3 ]
		done
	done
	for t in 'st/*' steady/tiny-1llc 'steady/tiny-2llc/eevdf'; do
		stats show 6.14.2-new --dir "$ROOT" --json --test "$t"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"has no sidecars matching the filters"* ]]
	done
	# every subcommand that filters: junit and compare too
	stats junit 6.14.2-ab --dir "$ROOT" --test 'mixed/*'
	[ "$status" -eq 0 ]
	[[ "$output" == *'<testsuites name="ktstr" tests="1" '* ]]
	stats compare 6.14.2-new "$SAME" --dir "$ROOT" --test 'steady/tiny-2llc' --json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "compare_summary") | .cases' <<<"$output")" = 1 ]
}

@test "show: without a run, the newest" {
	stats show --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"run":"'$CORRUPT'"'* ]]
}

@test "show, junit: without a run, the newest with sidecars; the empty newer ones said in one line" {
	# An interrupted run or a failed setup leaves an empty run directory,
	# a runner still at its first case one it holds; both are newer.
	mkdir "$ROOT/6.14.2-interrupted" "$ROOT/6.14.2-running"
	exec 9>"$ROOT/6.14.2-running/.lock"
	flock -s 9
	# one date for both (the lock file moved one's), so name order
	touch -d '2030-01-01 00:00:00' "$ROOT/6.14.2-interrupted" "$ROOT/6.14.2-running"
	stats show --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"run":"'$CORRUPT'"'* ]]
	[ "$(grep -vc '; skipped$' <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"ktstr-stats: show: using '$CORRUPT', the newest run with sidecars; passed over 2 newer runs without any: '6.14.2-interrupted' (empty: interrupted, or its setup failed), '6.14.2-running' (still running, no case finished yet)"* ]]
	stats junit --dir "$ROOT"
	[ "$status" -eq 0 ]
	[[ "$output" == *'<testsuites name="ktstr" tests="1" '* ]]
	[[ "$stderr" == *"ktstr-stats: junit: using '$CORRUPT', the newest run with sidecars; passed over 2 newer runs"* ]]
	exec 9>&-
	# A run named explicitly is still that run, empty or not.
	stats show 6.14.2-interrupted --dir "$ROOT"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run '6.14.2-interrupted' has no sidecars ($ROOT/6.14.2-interrupted is empty); run ktstr test first"* ]]
	# No run with sidecars at all: the newest's emptiness, as before.
	mkdir "$TEST_TMP/empty-root" "$TEST_TMP/empty-root/6.14.2-x"
	stats show --dir "$TEST_TMP/empty-root"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run '6.14.2-x' has no sidecars"* ]]
}

@test "show: a corrupt sidecar is one warning line each, the rest shown" {
	stats show "$CORRUPT" --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == *'"case":"steady/tiny-2llc"'* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ]
	[[ "$stderr" == *"ktstr-stats: $ROOT/$CORRUPT/mixed_tiny-2llc.r1.20250104T100000Z-0000000d.ktstr.json: invalid JSON at line 2"*"; skipped"* ]]
	[[ "$stderr" == *"ktstr-stats: $ROOT/$CORRUPT/future_tiny-2llc.r1.20250104T100000Z-0000000d.ktstr.json: schema 7, this ktstr reads schema 1; skipped"* ]]
	# nothing readable at all: exit 2
	rm "$ROOT/$CORRUPT"/steady_*
	stats show "$CORRUPT" --dir "$ROOT"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"run '$CORRUPT' has no readable sidecars (2 in $ROOT/$CORRUPT, all unreadable)"* ]]
}

# ---- compare ---------------------------------------------------------------

@test "compare: the same run again is quiet" {
	stats compare "$BASE" "$SAME" --dir "$ROOT"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# the header names both runs, then nothing but the summary
	[ "${#lines[@]}" -eq 4 ]
	read -r -a head <<<"${lines[0]}"
	[ "${head[*]}" = "RUN ID LABEL SCHEDULERS KERNEL ACCEL CASES SAMPLES ERRORS" ]
	read -r -a row <<<"${lines[1]}"
	[ "${row[*]}" = "A $BASE 20250101T100000Z-0000000a aaaaaaaaaaaa scx_simple 6.14.2 - 2 4 0" ]
	read -r -a row <<<"${lines[2]}"
	[ "${row[*]}" = "B $SAME 20250102T100000Z-0000000b bbbbbbbbbbbb scx_simple 6.14.2 - 2 4 0" ]
	[ "${lines[3]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	stats compare "$BASE" "$SAME" --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.regression or .improvement)')" = "" ]
	[ "$(records "$TEST_TMP/out" compare_summary | jq -r '[.cases, .regressions, .improvements, .noise, .errors] | @tsv')" = "$(printf '2\t0\t0\t0\t0')" ]
	# JSON has the rows that moved within their gates, which the text leaves out
	[ "$(records "$TEST_TMP/out" compare_row | jq -r .status | sort | uniq -c | tr -s ' \n' ' ')" = " 8 within_gate " ]
	# the steady case has three repeats a side: a t-test ran
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.case == "demo steady/tiny-2llc" and .metric == "total_iterations") | [.a_samples, .b_samples, (.p_value > 0.05)] | @tsv')" = "$(printf '3\t3\ttrue')" ]
}

@test "compare: the regressed run is flagged, exit 1" {
	stats compare "$BASE" "$BAD" --dir "$ROOT"
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	read -r -a head <<<"${lines[3]}"
	[ "${head[*]}" = "CASE METRIC A B DELTA DELTA_PCT P VERDICT" ]
	[[ "$output" == *"demo mixed/tiny-2llc"*result*pass*fail*REGRESSION* ]]
	# numbers carry their units; p to 3 decimals
	printf '%s\n' "$output" | grep -E '^demo steady/tiny-2llc +total_iterations +30166\.7 +18133\.3 +-12033\.3 +-39\.9% +<0\.001 +REGRESSION$'
	printf '%s\n' "$output" | grep -E '^demo steady/tiny-2llc +worst_gap_ms +413\.3 ms +1600 ms +\+1186\.7 ms +\+287\.1% +<0\.001 +REGRESSION$'
	printf '%s\n' "$output" | grep -E '^demo steady/tiny-2llc +min_iterations_per_sec +3016\.7/s +1813\.3/s +-1203\.3/s .*REGRESSION$'
	# one sample a side: past the gates, but noise, not a regression
	printf '%s\n' "$output" | grep -E '^demo mixed/tiny-2llc +worst_gap_ms +700 ms +3500 ms +\+2800 ms +\+400\.0% +- +noise$'
	[ "${lines[-1]}" = "compare: 2 cases, 4 regressions, 0 improvements, 1 noise, 0 errors" ]
	# the other way round, the same changes are improvements
	stats compare "$BAD" "$BASE" --dir "$ROOT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 4 improvements, 1 noise, 0 errors" ]
	[[ "$output" == *improvement* ]]
}

@test "compare --json: rows and a summary" {
	stats compare "$BASE" "$BAD" --dir "$ROOT" --json
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	[ "$(jq -r .type "$TEST_TMP/out" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = "compare_row=9 compare_summary=1 " ]
	[ "$(jq -r .type "$TEST_TMP/out" | tail -1)" = compare_summary ]
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.regression) | .metric' | sort | tr '\n' ' ')" = \
		"min_iterations_per_sec result total_iterations worst_gap_ms " ]
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.metric == "total_iterations" and .case == "demo steady/tiny-2llc") | [.a_mean, .b_mean, .delta, .higher_is_better, .gated, .direction, .significant, .past_gate, .status, .unit] | @tsv' | cut -c1-40)" = "$(printf '30166.66667\t18133.33333\t-12033.33333\ttrue\ttrue' | cut -c1-40)" ]
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.metric == "total_iterations" and .case == "demo steady/tiny-2llc") | [.direction, .significant, .past_gate, .status, .unit, .noise] | @tsv')" = "$(printf 'higher_better\ttrue\ttrue\tregression\t\tfalse')" ]
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.metric == "worst_gap_ms" and .case == "demo mixed/tiny-2llc") | [.direction, .significant, .past_gate, .status, .unit, .noise, .regression, .p_value] | @tsv')" = "$(printf 'lower_better\tfalse\ttrue\tnoise\tms\ttrue\tfalse\t')" ]
	# migrations have no good direction
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.metric == "worst_migration_ratio") | [.direction, .higher_is_better] | @tsv' | sort -u)" = "$(printf 'neutral\t')" ]
	[ "$(records "$TEST_TMP/out" compare_summary | jq -c '[.a, .b, .cases_a, .cases_b, .only_a, .only_b, .regressions, .noise, .errors, .alpha]')" = \
		"[\"$BASE\",\"$BAD\",2,2,[],[],4,1,0,0.05]" ]
	[ "$(records "$TEST_TMP/out" compare_summary | jq -c '.a_run')" = \
		"{\"run\":\"$BASE\",\"ids\":[\"20250101T100000Z-0000000a\"],\"labels\":[\"aaaaaaaaaaaa\"],\"schedulers\":[\"scx_simple\"],\"kernels\":[\"6.14.2\"],\"accels\":[],\"cases\":2,\"samples\":4,\"errors\":0,\"error_cases\":[],\"inconclusive\":0,\"inconclusive_cases\":[]}" ]
	# --format json is --json
	stats compare "$BASE" "$BAD" --dir "$ROOT" --format json
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | sort)" = "$(sort "$TEST_TMP/out")" ]
	# filters narrow both sides; --alpha moves the t-test's bar (the
	# steady case's p-values are 0.00089 and 1.3e-6)
	stats compare "$BASE" "$BAD" --dir "$ROOT" --json --test steady --alpha 0.0000001
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	[ "$(records "$TEST_TMP/out" compare_summary | jq -r '[.cases, .regressions] | @tsv')" = "$(printf '1\t0')" ]
}

@test "compare: two runs with no case in common compare nothing, exit 3, and say why" {
	# The same run as one of two schedulers: each case is then keyed by
	# its scheduler too (suite test/preset/scheduler).
	derive_run "$BASE" 6.14.2-eeeeeeeeeeee '.run_id = "20250105T100000Z-0000000e"'
	derive_run "$BASE" 6.14.2-eeeeeeeeeeee \
		'.run_id = "20250105T100000Z-0000000e" | .scheduler.name = "scx_qmap"' qmap-
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT"
	[ "$status" -eq 3 ]
	[ "${lines[-1]}" = "compare: 0 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	[ "$stderr" = "ktstr-stats: compare: no case is in both runs ('$BASE' has 2, '6.14.2-eeeeeeeeeeee' 4), so nothing was compared; a run of several schedulers names each case .../SCHEDULER: pick one with --scheduler NAME" ]
	# which is the way out
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT" --scheduler scx_simple
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	# with --scheduler given, it is not suggested again
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT" --scheduler scx_qmap
	[ "$status" -eq 2 ]
	stats compare 6.14.2-eeeeeeeeeeee "$BASE" --dir "$ROOT" --test steady
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"so nothing was compared; a run of several"* ]]
}

@test "compare: cases whose samples are all errors compare nothing, exit 3" {
	# Every sample of the second run an error (the VM or the host failed
	# it): the cases match, but nothing was measured.
	derive_run "$SAME" 6.14.2-eeeeeeeeeeee '.run_id = "20250105T100000Z-0000000e" | .result = "error"'
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT"
	[ "$status" -eq 3 ]
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 4 errors" ]
	[ "$stderr" = "ktstr-stats: compare: every sample of the 2 cases in both runs is an error, a skip or inconclusive on one side at least (the VM or the host failed or disturbed the run, or the case did not fit), so nothing was compared" ]
}

# An inconclusive run was cut short or disturbed (the host took the VM's
# CPUs) past what its verdict would judge: its figures are the host's.
@test "compare: inconclusive samples are left out of every metric, counted and named" {
	# The regressed run's samples, all inconclusive: nothing measured.
	derive_run "$BAD" 6.14.2-eeeeeeeeeeee '.run_id = "20250105T100000Z-0000000e" | .result = "inconclusive"'
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT"
	[ "$status" -eq 3 ]
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	[ "${lines[-2]}" = "inconclusive runs in '6.14.2-eeeeeeeeeeee': 4 samples left out (demo mixed/tiny-2llc, demo steady/tiny-2llc)" ]
	[[ "$stderr" == *"is an error, a skip or inconclusive on one side at least"* ]]
	# Beside measured samples they change nothing: the noisy run's own
	# samples compare as they do alone, with no trace of the regression.
	derive_run "$SAME" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f"'
	derive_run "$BAD" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f" | .result = "inconclusive"' late-
	stats compare "$BASE" 6.14.2-ffffffffffff --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/with"
	stats compare "$BASE" "$SAME" --dir "$ROOT" --json
	printf '%s\n' "$output" >"$TEST_TMP/alone"
	[ "$(records "$TEST_TMP/with" compare_row | jq -c '[.case, .metric, .b_mean, .status]')" = \
		"$(records "$TEST_TMP/alone" compare_row | jq -c '[.case, .metric, .b_mean, .status]')" ]
	[ "$(records "$TEST_TMP/with" compare_summary | jq -c '[.regressions, .inconclusive, .a_run.inconclusive, .b_run.inconclusive, .b_run.inconclusive_cases]')" = \
		'[0,4,0,4,["demo mixed/tiny-2llc","demo steady/tiny-2llc"]]' ]
	# Markdown names them on the side table.
	stats compare "$BASE" 6.14.2-ffffffffffff --dir "$ROOT" --format markdown
	[[ "$output" == *"| inconclusive runs | 0 | 4 |"* ]]
}

@test "compare: a run against itself, by any two of its names, is said" {
	stats compare "$BASE" "$BASE" --dir "$ROOT"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ktstr-stats: compare: '$BASE' and '$BASE' are the same run, so every case is compared with itself; name two runs ('ktstr-stats list' shows them)" ]
	stats compare "$BASE" "$ROOT/$BASE" --dir "$ROOT"
	[[ "$stderr" == *"are the same run"* ]]
	stats compare "$BASE" "$SAME" --dir "$ROOT"
	[ -z "$stderr" ]
}

@test "compare: runs of different accelerators are compared with a warning" {
	derive_run "$SAME" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f" | .accel = "tcg"'
	stats compare "$BASE" 6.14.2-ffffffffffff --dir "$ROOT"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ktstr-stats: compare: the runs used different accelerators (see ACCEL): "* ]]
	read -r -a row <<<"${lines[2]}"
	[ "${row[6]}" = tcg ]
	stats compare "$BASE" "$SAME" --dir "$ROOT"
	[ -z "$stderr" ]
}

@test "compare: a run of skipped cases has no accelerator to differ in; a case no preset fits is test/-" {
	derive_run "$SAME" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f" | .accel = "tcg"'
	# As ktstr test writes a plan-time skip: no VM, no accelerator, no preset.
	derive_run "$SAME" 6.14.2-eeeeeeeeeeee '.run_id = "20250105T100000Z-0000000e" | .accel = null
		| .result = "skip" | .reason = "no preset satisfies min_cpus=4096" | .metrics = {}
		| .preset = null | .topology = null | .case = "demo \(.test)/-" | del(.verdict)'
	stats compare 6.14.2-eeeeeeeeeeee 6.14.2-ffffffffffff --dir "$ROOT"
	[ "$status" -eq 3 ]
	read -r -a row <<<"${lines[1]}"
	[ "${row[6]}" = - ]
	[[ "$output" == *"only in '6.14.2-eeeeeeeeeeee': 2 cases (demo mixed/-, demo steady/-)"* ]]
	[[ "$output" == *"only in '6.14.2-ffffffffffff': 2 cases (demo mixed/tiny-2llc, demo steady/tiny-2llc)"* ]]
	[[ "$stderr" != *"different accelerators"* ]]
	[[ "$stderr" == "ktstr-stats: compare: no case is in both runs"* ]]
	# Skipped under the same preset (a scenario_skip): the same cases.
	derive_run "$SAME" 6.14.2-abababababab '.run_id = "20250107T100000Z-000000ab" | .accel = null
		| .result = "skip" | .metrics = {} | del(.verdict)'
	stats compare 6.14.2-ffffffffffff 6.14.2-abababababab --dir "$ROOT"
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	[[ "$stderr" != *"different accelerators"* ]]
	# ... of which nothing was measured on one side: no pass to read.
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"is an error, a skip or inconclusive on one side at least"*"so nothing was compared" ]]
	# A run that ran a VM still warns, skips among its cases or not.
	derive_run "$SAME" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f" | .accel = null
		| .result = "skip" | .metrics = {} | .test = "other" | .case = "demo other/tiny-2llc"' skip-
	stats compare "$BASE" 6.14.2-ffffffffffff --dir "$ROOT"
	[[ "$stderr" == *"compare: the runs used different accelerators (see ACCEL): "* ]]
}

@test "compare: a case no preset fits, from ktstr test, is named test/- as ktstr test names it" {
	skip_suite
	run --separate-stderr ktest
	[ "$status" -eq 0 ]
	[[ "$output" == *"SKIP "*" suite huge/-: no preset satisfies min_cpus=4096"* ]]
	derive_run "$SAME" 6.14.2-ffffffffffff '.run_id = "20250106T100000Z-0000000f" | .accel = "tcg"'
	stats compare "$(ls "$KTSTR_RUNS_ROOT")" "$ROOT/6.14.2-ffffffffffff"
	[ "$status" -eq 3 ]
	[[ "$output" == *"only in '$(ls "$KTSTR_RUNS_ROOT")': 1 case (suite huge/-)"* ]]
	[[ "$stderr" != *"different accelerators"* ]]
}

@test "junit -o: missing directories are made, the file written whole; the timestamp is UTC with Z" {
	stats junit "$BAD" --dir "$ROOT" -o "$TEST_TMP/new/sub/j.xml"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	grep -q '<testsuite name="demo" tests="4" .* timestamp="2025-01-03T10:[0-9:]*Z">' "$TEST_TMP/new/sub/j.xml"
	[ "$(ls -A "$TEST_TMP/new/sub")" = j.xml ]
	# a file where a directory must be: one line, exit 2
	touch "$TEST_TMP/file"
	stats junit "$BAD" --dir "$ROOT" -o "$TEST_TMP/file/j.xml"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == "ktstr-stats: junit: cannot write $TEST_TMP/file/j.xml: "* ]]
}

@test "junit: an error the verdict did not give is type infrastructure, as ktstr-test --junit writes it" {
	mkdir "$ROOT/6.14.2-eeeeeeeeeeee"
	f=$(ls "$ROOT/$SAME"/steady_*.r1.*.ktstr.json)
	# the host decided the run: the verdict inconclusive, the case an error
	jq -c '.run_id = "20250105T100000Z-0000000e" | .result = "error" | .reason = "work_conservation could not have failed" | .verdict.result = "inconclusive"' "$f" \
		>"$ROOT/6.14.2-eeeeeeeeeeee/steady_tiny-2llc.r1.20250105T100000Z-0000000e.ktstr.json"
	# the verdict's own error (a scenario that cannot run)
	f=$(ls "$ROOT/$SAME"/mixed_*.r1.*.ktstr.json)
	jq -c '.run_id = "20250105T100000Z-0000000e" | .result = "error" | .reason = "scenario error: x" | .verdict.result = "error"' "$f" \
		>"$ROOT/6.14.2-eeeeeeeeeeee/mixed_tiny-2llc.r1.20250105T100000Z-0000000e.ktstr.json"
	stats junit 6.14.2-eeeeeeeeeeee --dir "$ROOT"
	[ "$status" -eq 0 ]
	grep -q '<error message="work_conservation could not have failed" type="infrastructure"/>' <<<"$output"
	grep -q '<error message="scenario error: x" type="error"/>' <<<"$output"
}

@test "compare: a run without sidecars is one clear line, exit 2" {
	mkdir "$ROOT/6.14.2-eeeeeeeeeeee"
	stats compare "$BASE" 6.14.2-eeeeeeeeeeee --dir "$ROOT"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[ "$stderr" = "ktstr-stats: compare: run '6.14.2-eeeeeeeeeeee' has no sidecars ($ROOT/6.14.2-eeeeeeeeeeee is empty); run ktstr test first" ]
}

@test "compare: a missing run is one clear line, exit 2" {
	stats compare "$BASE" 6.14.2-nope --dir "$ROOT"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"run '6.14.2-nope' not found (no run directory, run id or label of that name) under $ROOT; 'ktstr-stats list' shows the runs"* ]]
	stats compare "$BASE" "$TEST_TMP/not/there" --dir "$ROOT"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"run '$TEST_TMP/not/there' not found"* ]]
}

@test "compare: corrupt sidecars warn, the readable ones are compared" {
	stats compare "$BASE" "$CORRUPT" --dir "$ROOT"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '; skipped$')" -eq 2 ]
	[[ "$output" == *"only in '$BASE': 1 case (demo mixed/tiny-2llc)"* ]]
	# The summary line keeps its fixed shape; Markdown's prose agrees in number.
	[ "${lines[-1]}" = "compare: 1 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	stats compare "$BASE" "$CORRUPT" --dir "$ROOT" --format markdown
	[[ "$output" == *"| samples | 2 cases, 4 samples | 1 case, 1 sample |"* ]]
	[[ "${lines[-1]}" == "**1 case: 0 regressions, 0 improvements, 0 noise, 0 infrastructure errors** "* ]]
}

@test "compare: usage errors" {
	stats compare "$BASE" --dir "$ROOT"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"compare: expected two runs"* ]]
	stats compare "$BASE" "$SAME" --dir "$ROOT" --alpha 2
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--alpha '2': expected a level between 0 and 1"* ]]
	stats compare "$BASE" "$SAME" --dir "$ROOT" --run-source cloud
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--run-source 'cloud': expected 'local' or 'ci'"* ]]
	stats list --dir "$ROOT" --kernel 6
	[ "$status" -eq 2 ]
	stats compare --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--work-type W"* ]]
	[[ "$output" == *"Exit status"* ]]
	# Exit status 3 is named with the others, here and in the main help.
	stats list --help
	[[ "$(tr '\n' ' ' <<<"$output")" == *"3 compare compared nothing (no case"* ]]
	stats --help
	[[ "$(tr '\n' ' ' <<<"$output")" == *"1 compare found a regression, 3 compare compared nothing, 2 error"* ]]
}

# ---- compare: noise, directions, errors, Markdown -----------------------------

# A copy of run $1 as $2 with jq filter $3 applied to its sidecars of case $4
# (a file name glob).
derive() {
	local f
	cp -r "$ROOT/$1" "$ROOT/$2"
	for f in "$ROOT/$2"/$4; do
		jq "$3" "$f" >"$f.new" && mv "$f.new" "$f"
	done
}

# Regression: a case whose VM never came up (result "error") was counted
# as pass -> fail, and its empty metrics as samples.
@test "compare: infrastructure errors are left out and counted apart" {
	derive "$BASE" infra '.result = "error" | .metrics = {worst_gap_ms: 0}' 'mixed_*'
	stats compare "$BASE" infra --dir "$ROOT"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	read -r -a row <<<"${lines[2]}"
	[ "${row[*]: -3}" = "2 4 1" ]
	[[ "$output" != *result* ]]
	[[ "$output" == *"infrastructure errors in 'infra': 1 sample left out (demo mixed/tiny-2llc)"* ]]
	[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 1 errors" ]
	stats compare "$BASE" infra --dir "$ROOT" --json
	printf '%s\n' "$output" >"$TEST_TMP/out"
	[ "$(records "$TEST_TMP/out" compare_summary | jq -c '[.errors, .b_run.errors, .b_run.error_cases, .a_run.errors]')" = '[1,1,["demo mixed/tiny-2llc"],0]' ]
	[ "$(records "$TEST_TMP/out" compare_row | jq -r 'select(.case == "demo mixed/tiny-2llc") | .metric')" = "" ]
}

# Migrations are neutral: a big, significant drop is "changed", never an
# improvement (nor a regression the other way).
@test "compare: migrations have no good direction" {
	derive "$BASE" fewer '.metrics.total_migrations /= 4 | .metrics.worst_migration_ratio /= 4' 'steady_*'
	for pair in "$BASE fewer" "fewer $BASE"; do
		stats compare $pair --dir "$ROOT"
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" | grep -E '^demo steady/tiny-2llc +total_migrations +[0-9]+ +[0-9]+ +[-+][0-9]+ .* changed$'
		! printf '%s\n' "$output" | grep -E ' (improvement|REGRESSION)$' || false
		[ "${lines[-1]}" = "compare: 2 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	done
	stats compare "$BASE" fewer --dir "$ROOT" --json
	[ "$(jq -r 'select(.metric == "total_migrations") | [.direction, .status, .significant, .higher_is_better] | @tsv' <<<"$output")" = "$(printf 'neutral\tchanged\ttrue\t')" ]
	# the ratio moved too, but within its gate (0.05): not counted
	[ "$(jq -r 'select(.type == "compare_summary") | .changed' <<<"$output")" = 1 ]
}

@test "compare --format markdown: a table to paste into a review" {
	stats compare "$BASE" "$BAD" --dir "$ROOT" --format markdown
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "### ktstr compare" ]
	[ "${lines[1]}" = "| | A (baseline) | B |" ]
	[ "${lines[2]}" = "|---|---|---|" ]
	[ "${lines[3]}" = "| run | $BASE | $BAD |" ]
	[ "${lines[4]}" = '| id | `20250101T100000Z-0000000a` | `20250103T100000Z-0000000c` |' ]
	[ "${lines[5]}" = "| label | aaaaaaaaaaaa | cccccccccccc |" ]
	[ "${lines[6]}" = "| scheduler | scx_simple | scx_simple |" ]
	[ "${lines[7]}" = "| kernel | 6.14.2 | 6.14.2 |" ]
	[ "${lines[8]}" = "| accel | - | - |" ]
	[ "${lines[9]}" = "| samples | 2 cases, 4 samples | 2 cases, 4 samples |" ]
	[ "${lines[10]}" = "| infrastructure errors | 0 | 0 |" ]
	[ "${lines[11]}" = "| case | metric | A | B | delta | delta % | p | verdict |" ]
	[ "${lines[12]}" = "|---|---|--:|--:|--:|--:|--:|---|" ]
	printf '%s\n' "$output" | grep -qxF '| demo steady/tiny-2llc | worst_gap_ms | 413.3 ms | 1600 ms | +1186.7 ms | +287.1% | <0.001 | **regression** |'
	printf '%s\n' "$output" | grep -qxF '| demo mixed/tiny-2llc | worst_gap_ms | 700 ms | 3500 ms | +2800 ms | +400.0% | - | noise |'
	printf '%s\n' "$output" | grep -qxF '| demo mixed/tiny-2llc | result | pass | fail | - | - | - | **regression** |'
	[[ "${lines[-1]}" == "**2 cases: 4 regressions, 0 improvements, 1 noise, 0 infrastructure errors** (Welch t-test, alpha 0.05;"* ]]
	# the same run again: no table, a line saying so
	stats compare "$BASE" "$SAME" --dir "$ROOT" --format md
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -qx 'No change past the gates.'
	# no case in common: not "no change", but nothing compared
	mkdir "$ROOT/other"
	for f in "$ROOT/$SAME"/*.ktstr.json; do
		jq '.test = "other_" + .test' "$f" >"$ROOT/other/$(basename "$f")"
	done
	stats compare "$BASE" other --dir "$ROOT" --format md
	printf '%s\n' "$output" | grep -qx 'No case is in both runs: nothing was compared.'
	! printf '%s\n' "$output" | grep -q 'No change past the gates' || false
	stats compare "$BASE" "$SAME" --dir "$ROOT" --format html
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--format 'html': expected text, markdown or json"* ]]
	stats show "$BASE" --dir "$ROOT" --format markdown
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"show: --format applies to compare"* ]]
}

@test "compare, show: runs by label and by run id" {
	stats compare aaaaaaaaaaaa 20250103T100000Z-0000000c --dir "$ROOT"
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	stats show 20250102T100000Z-0000000b --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .run_id <<<"${lines[0]}")" = 20250102T100000Z-0000000b ]
	# a label two runs share: the newest, and a note saying so
	derive "$SAME" 6.14.2-later '.label = "bbbbbbbbbbbb" | .timestamp = "2025-02-01T00:00:00Z"' '*.ktstr.json'
	stats show bbbbbbbbbbbb --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .run <<<"${lines[0]}")" = bbbbbbbbbbbb ]
	[[ "$(jq -r .path <<<"${lines[0]}")" == "$ROOT/6.14.2-later/"* ]]
	[ "$stderr" = "ktstr-stats: show: label 'bbbbbbbbbbbb' names 2 runs; using the newest, 6.14.2-later (name another by its id)" ]
}

# ---- runs written by ktstr test (a plan-time skip: no VM) --------------------

# A suite outside any git tree whose one case is a plan-time skip, so
# ktstr test writes its sidecar without booting a VM.
skip_suite() {
	mkdir -p "$TEST_TMP/suite"
	cp "$BATS_TEST_DIRNAME"/fixtures/suite-extra/huge.json "$TEST_TMP/suite/"
	export KTSTR_RUNS_ROOT=$TEST_TMP/new KTSTR_LOCK_DIR=$TEST_TMP/locks
}

ktest() {
	"$(dirname "$BIN")/ktstr-test" --kernel "$KERNEL" "$@" "$TEST_TMP/suite"
}

# Regression: outside a git tree every run was {kernel}-nogit, and the
# second ktstr test silently replaced the first.
@test "ktstr test: every run its own directory, labelled, none replaced" {
	skip_suite
	for i in 1 2; do
		run --separate-stderr ktest --json
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
	done
	ktest --label "my try" >/dev/null
	stats list --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "$output" >"$TEST_TMP/out"
	# unique ids, each run's directory {kernel}-{id}, one sidecar each
	[ "$(jq -r .id "$TEST_TMP/out" | sort -u | wc -l)" -eq 3 ]
	jq -e '.id as $id | ($id | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")) and .run == $id and
		(.dir | endswith("-" + $id)) and .tests == 1 and .live == false' "$TEST_TMP/out" >/dev/null
	# the default label outside git: the schedulers (none: eevdf)
	[ "$(jq -r .label "$TEST_TMP/out" | sort | tr '\n' ,)" = "eevdf,eevdf,my try," ]
	[ "$(jq -s -c 'map([.label, .project_commit, .accel]) | sort' "$KTSTR_RUNS_ROOT"/*/*.ktstr.json)" = \
		'[["eevdf","nogit",null],["eevdf","nogit",null],["my try","nogit",null]]' ]
	# by label, by id
	stats show "my try" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"${lines[0]}")" = skip ]
	ids=($(jq -r .id "$TEST_TMP/out"))
	stats compare "${ids[2]}" "${ids[1]}"
	# Both sides' one case was skipped: nothing measured, not a pass.
	[ "$status" -eq 3 ]
	[ "${lines[-1]}" = "compare: 1 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
	# the test_summary record names the run
	run ktest --json --label x
	[ "$(jq -r 'select(.type == "test_summary") | .label' <<<"$output")" = x ]
	run ktest --label ''
	[ "$status" -eq 2 ]
	[[ "$output" == *"--label '': expected a non-empty one-line name"* ]]
}

# KTSTR_SIDECAR_DIR is the operator's: other runs' sidecars stay, and the
# runner says it is adding to them.
@test "ktstr test: KTSTR_SIDECAR_DIR keeps earlier sidecars and says so" {
	skip_suite
	export KTSTR_SIDECAR_DIR=$TEST_TMP/mine
	run --separate-stderr ktest
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr ktest
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ktstr-test: KTSTR_SIDECAR_DIR $TEST_TMP/mine already holds 1 sidecars of earlier runs; adding this run's ("*") beside them" ]]
	[ "$(ls "$TEST_TMP/mine"/*.ktstr.json | wc -l)" -eq 2 ]
}

# Regression: on a full disk the runner only warned and exited 0.  A tiny
# tmpfs, filled up, in a private mount namespace (it goes with it).
@test "ktstr test: a sidecar that cannot be written is exit 2 with a clear line" {
	skip_suite
	full=$TEST_TMP/full
	mkdir -p "$full"
	cat >"$TEST_TMP/full.sh" <<-'SH'
		mount -t tmpfs -o size=16k ktstr-full "$1" || exit 97
		[ "$2" = probe ] && exit 0
		dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
		export KTSTR_RUNS_ROOT=$1
		shift
		exec "$@"
	SH
	if unshare -m sh "$TEST_TMP/full.sh" "$full" probe 2>/dev/null; then
		ns=(unshare -m)
	elif unshare -rm sh "$TEST_TMP/full.sh" "$full" probe 2>/dev/null; then
		ns=(unshare -rm)
	else
		skip "cannot mount a tmpfs in a private mount namespace here (unshare -m and -rm failed)"
	fi
	run --separate-stderr "${ns[@]}" sh "$TEST_TMP/full.sh" "$full" \
		"$(dirname "$BIN")/ktstr-test" --kernel "$KERNEL" "$TEST_TMP/suite"
	echo "$stderr" >&2
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ktstr-test: suite"*" huge/-: cannot write sidecar $full/"*"-"*"/huge_-.r1."*".ktstr.json: No space left on device; free space there, or set KTSTR_RUNS_ROOT (or KTSTR_SIDECAR_DIR) to a directory on another filesystem"* ]]
	[[ "$output" == *"Summary ["*"(sidecars NOT kept: see above)"* ]]
	# the same with the disk not full: exit 0
	run "${ns[@]}" sh -c 'mount -t tmpfs -o size=1m ktstr-roomy "$1" && shift && KTSTR_RUNS_ROOT=$0 exec "$@"' \
		"$full" "$full" "$(dirname "$BIN")/ktstr-test" --kernel "$KERNEL" "$TEST_TMP/suite"
	[ "$status" -eq 0 ]
}

# A pid that is surely dead: a reaped child's.
dead_pid() {
	sh -c 'exit 0' &
	local p=$!
	wait "$p"
	echo "$p"
}

# Regression: a runner killed between write and link left its temp files
# in the run directory for ever.
@test "ktstr test and clean: stale sidecar temp files are removed" {
	skip_suite
	old=$KTSTR_RUNS_ROOT/6.14-OLD
	mkdir -p "$old"
	cp "$ROOT/$BASE"/steady_tiny-2llc.r1.* "$old/"
	d=$(dead_pid)
	stale=(".a.r1.X.ktstr.json.tmp.$d.AbCdEf" ".b.r1.X.ktstr.json.tmp.QwErTy")
	fresh=(".c.r1.X.ktstr.json.tmp.$$.ZxCvBn" ".d.r1.X.ktstr.json.tmp.AsDfGh")
	for f in "${stale[@]}" "${fresh[@]}"; do echo '{' >"$old/$f"; done
	touch -d '11 minutes ago' "$old/${stale[1]}"
	run ktest
	[ "$status" -eq 0 ]
	[ "$(cd "$old" && ls -A | sort | tr '\n' ' ')" = "${fresh[0]} ${fresh[1]} steady_tiny-2llc.r1.20250101T100000Z-0000000a.ktstr.json " ]
	# clean: the same rule, and it says what went
	touch -d '11 minutes ago' "$old/${fresh[1]}"
	stats clean --table
	[ "$status" -eq 0 ]
	[ "$output" = "removed temp file $old/${fresh[1]}" ]
	[ -e "$old/${fresh[0]}" ]
}

@test "clean --keep N: the N newest runs stay, running ones are never removed" {
	mkdir "$ROOT/6.14.2-empty"
	# a runner holds the oldest run: its shared lock, on fd 9 of this shell
	exec 9>"$ROOT/$BASE/.lock"
	flock -s 9
	stats clean --dir "$ROOT" --keep 2 --table
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | sort | tr '\n' ,)" = "removed run $SAME,removed run 6.14.2-empty," ]
	[ "$(ls "$ROOT" | tr '\n' ' ')" = "$BASE $BAD $CORRUPT " ]
	stats list --dir "$ROOT" --table
	[[ "${lines[3]}" == "$BASE "*"(running)"* ]]
	# JSON when piped; the runner done, --keep 0 takes the rest
	exec 9>&-
	stats clean --dir "$ROOT" --keep 0
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.kind, .name] | @tsv' <<<"$output" | sort | tr '\n' ,)" = \
		"$(printf 'run\t%s,run\t%s,run\t%s,' "$BASE" "$BAD" "$CORRUPT")" ]
	[ "$(ls -A "$ROOT")" = .lock ]
	stats clean --dir "$ROOT" --keep x
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--keep 'x': expected a whole number"* ]]
	stats list --dir "$ROOT" --keep 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"list: --keep applies to clean"* ]]
	# the default root not there yet: nothing to clean
	stats clean
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"clean: no runs under $XDG_STATE_HOME/ktstr/runs; nothing to clean"* ]]
}

# Every field of the history's records is named in ktstr-records(7).
@test "records: run, compare_row, compare_summary and clean_removed fields are documented" {
	page=$BATS_TEST_DIRNAME/../man/ktstr-records.7
	stats list --dir "$ROOT" --json
	keys=$(printf '%s\n' "$output" | jq -r 'keys[]')
	stats compare "$BASE" "$BAD" --dir "$ROOT" --json --all
	keys="$keys $(printf '%s\n' "$output" | jq -r '(keys[]), (.a_run // {} | keys[])')"
	stats clean --dir "$ROOT" --keep 0 --json
	keys="$keys $(printf '%s\n' "$output" | jq -r 'keys[]')"
	for k in $(printf '%s\n' $keys | sort -u); do
		grep -qE "^\.(B|BR|IB|IR) (.*[ \"])?$k([ \",]|$)" "$page" || { echo "undocumented: $k" >&2; false; }
	done
}
