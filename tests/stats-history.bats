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
	stats show "$BAD" --dir "$ROOT" --json --kernel 6.14 --scheduler scx_simple
	[ "${#lines[@]}" -eq 4 ]
	# a filter nothing matches: one line, exit 2
	stats show "$BAD" --dir "$ROOT" --scheduler scx_lavd
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"run '$BAD' has no sidecars matching the filters"* ]]
}

@test "show: without a run, the newest" {
	stats show --dir "$ROOT" --json
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"run":"'$CORRUPT'"'* ]]
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
		"{\"run\":\"$BASE\",\"ids\":[\"20250101T100000Z-0000000a\"],\"labels\":[\"aaaaaaaaaaaa\"],\"schedulers\":[\"scx_simple\"],\"kernels\":[\"6.14.2\"],\"accels\":[],\"cases\":2,\"samples\":4,\"errors\":0,\"error_cases\":[]}" ]
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
	[ "${lines[-1]}" = "compare: 1 cases, 0 regressions, 0 improvements, 0 noise, 0 errors" ]
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
}
