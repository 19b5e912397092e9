#!/usr/bin/env bats
# ktstr-stats --svg FILE.svg and ktstr-stats compare --svg FILE.svg,
# without a VM: the pictures of recorded runs (tests/fixtures/trace, the
# runs --trace is tested on, and tests/fixtures/stats/monitor-phases with
# three steps) and of the history fixtures (tests/fixtures/runs), rendered
# to PNG by Debian's rsvg-convert (librsvg2-bin) and checked pixel by
# pixel at the places the geometry in ktstr-stats(1) gives: one lane per
# CPU, the failed gap check red at its time, a step line at each step's
# time, one compare panel per gated metric with the regressions framed
# in red.  Bad paths are one line and exit status 2 with nothing written.

load cli

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}/ktstr-stats
	FX=$BATS_TEST_DIRNAME/../fixtures
	PIX=$BATS_TEST_DIRNAME/../lib/png-pixels
}

teardown() { common_teardown; }

stats() {
	run --separate-stderr "$BIN" "$@"
}

# png FILE.svg: render it to FILE.png at its own size (1 unit = 1 px).
png() {
	rsvg-convert -o "${1%.svg}.png" "$1"
}

# x_of T_MS T0_MS T1_MS: the pixel column of host time T on the timeline
# (x 140..1180 over T0..T1, ktstr-stats(1)); the column a 2-px line
# centred there covers whole.
x_of() {
	awk -v t="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%d", int(140 + (t - a) / (b - a) * 1040) }'
}

# The load colours (ktstr-stats(1)): 0, 1, 2, 3, 4+ runnable.
LOAD=" e3e3e3 9ecae1 4292c6 2171b5 08306b "

@test "stats svg: a failing run's picture: 4 CPU lanes, the gap failure red at its time" {
	run --separate-stderr "$BIN" "$FX/trace/steady-fail-gap.jsonl"
	want=$output
	stats --svg "$TEST_TMP/gap.svg" "$FX/trace/steady-fail-gap.jsonl"
	[ "$status" -eq 1 ]
	[ "$output" = "$want" ]
	[ -z "$stderr" ]
	png "$TEST_TMP/gap.svg"
	# the scenario: host 6348 ms to 12684 ms; the gap 8503 ms + 2500 ms
	t0=6348 t1=12684
	xin=$(x_of 9753 $t0 $t1) xbefore=$(x_of 8203 $t0 $t1) xafter=$(x_of 11303 $t0 $t1)
	xlane=$(x_of 12000 $t0 $t1)
	run "$PIX" "$TEST_TMP/gap.png" "$xin,105" "$xbefore,105" "$xafter,105" \
		"$xlane,130" "$xlane,154" "$xlane,178" "$xlane,202" "$xlane,226" "$xin,16"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1200 ${lines[0]#1200 }" ]
	[ "${lines[1]}" = d62728 ]	# red on the checks row within the gap
	[ "${lines[2]}" = ffffff ]	# and not before it
	[ "${lines[3]}" = ffffff ]	# nor after it
	for l in 4 5 6 7; do		# four lanes shaded by load
		[[ "$LOAD" == *" ${lines[$l]} "* ]]
	done
	[[ "$LOAD" != *" ${lines[8]} "* ]]	# and no fifth
	# the verdict in the title, in red, at the right
	run "$PIX" "$TEST_TMP/gap.png" 1160,10 1161,11 1162,12 1163,13 1164,14 1165,15 \
		1166,16 1167,17 1168,18 1169,19 1170,20
	[[ "$output" == *d62728* ]]
}

@test "stats svg: a passing run's steps are lines at their times, no red" {
	# monitor-phases: scenario 3000..8100 ms, steps 1-3 at 3100, 4700, 6300
	stats --svg "$TEST_TMP/p.svg" "$FX/stats/monitor-phases.jsonl"
	[ "$status" -eq 0 ]
	png "$TEST_TMP/p.svg"
	args=()
	for t in 3100 4700 6300; do
		args+=("$(x_of $t 3000 8100),154" "$(($(x_of $t 3000 8100) + 25)),154")
	done
	run "$PIX" "$TEST_TMP/p.png" "${args[@]}" "$(x_of 5000 3000 8100),105"
	echo "$output"
	[ "${lines[1]}" = 6a3d9a ] && [ "${lines[3]}" = 6a3d9a ] && [ "${lines[5]}" = 6a3d9a ]
	[[ "$LOAD" == *" ${lines[2]} "* ]] && [[ "$LOAD" == *" ${lines[4]} "* ]]
	[[ "$LOAD" == *" ${lines[6]} "* ]]
	[ "${lines[7]}" = ffffff ]	# nothing failed
}

@test "stats svg: from stdin, with --trace, --json and --pass-through as without it" {
	stats --json "$FX/trace/steady-scx_simple.jsonl"
	want=$output
	run --separate-stderr "$BIN" --json --svg "$TEST_TMP/a.svg" --trace "$TEST_TMP/a.json" \
		<"$FX/trace/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	[ "$output" = "${want//\"$FX\/trace\/steady-scx_simple.jsonl\"/\"stdin\"}" ]
	jq -e '.traceEvents | length > 300' "$TEST_TMP/a.json"
	stats --pass-through --svg "$TEST_TMP/b.svg" "$FX/trace/steady-scx_simple.jsonl"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$FX/trace/steady-scx_simple.jsonl")" ]
	cmp "$TEST_TMP/a.svg" "$TEST_TMP/b.svg"
	head -c 300 "$TEST_TMP/a.svg" | grep -q 'width="1200px"'
}

@test "stats svg: written whole, replacing an old file, no temp file left" {
	echo old >"$TEST_TMP/t.svg"
	stats --svg "$TEST_TMP/t.svg" "$FX/trace/steady-scx_cpu0.jsonl"
	[ "$status" -eq 1 ]
	[ "$(tail -c 7 "$TEST_TMP/t.svg")" = "</svg>" ] || [ "$(tail -n 1 "$TEST_TMP/t.svg")" = "</svg>" ]
	[ "$(ls -A "$TEST_TMP" | grep -v '^state$')" = t.svg ]
	png "$TEST_TMP/t.svg"
}

@test "stats svg: bad paths, several inputs and no records are one line and exit 2" {
	stats --svg "$TEST_TMP/no/such/t.svg" "$FX/trace/steady-scx_simple.jsonl"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "ktstr-stats: --svg $TEST_TMP/no/such/t.svg: directory $TEST_TMP/no/such does not exist; create it first"* ]]
	stats --svg "$TEST_TMP" "$FX/trace/steady-scx_simple.jsonl"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"is a directory; name a file such as run.svg"* ]]
	stats --svg "$TEST_TMP/t.svg" "$FX/trace/steady-scx_simple.jsonl" "$FX/trace/steady-fail-gap.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"one picture is one run; name one input (2 given)"* ]]
	stats --svg "$TEST_TMP/t.svg" "$FX/stats/empty.jsonl"
	[ "$status" -eq 2 ]
	[ ! -e "$TEST_TMP/t.svg" ]
	chmod 555 "$TEST_TMP"
	stats --svg "$TEST_TMP/t.svg" "$FX/trace/steady-scx_simple.jsonl"
	chmod 755 "$TEST_TMP"
	[ "$(id -u)" -eq 0 ] || { [ "$status" -eq 2 ] && [[ "$stderr" == *"is not writable"* ]]; }
}

@test "stats svg: every stored run draws" {
	local n=0 f
	for f in "$FX"/trace/*.jsonl "$FX"/stats/{monitor-*,fail-*,pass*,truncated}.jsonl; do
		n=$((n + 1))
		run --separate-stderr "$BIN" --svg "$TEST_TMP/t$n.svg" "$f"
		[ "$status" -ne 2 ] || { echo "$f: $stderr"; false; }
		png "$TEST_TMP/t$n.svg" || { echo "$f: rsvg-convert failed"; false; }
	done
	[ "$n" -ge 20 ]
}

@test "stats compare svg: a panel per gated metric, regressions framed in red" {
	R=$FX/runs
	A=6.14.2-aaaaaaaaaaaa B=6.14.2-cccccccccccc
	run --separate-stderr "$BIN" compare --dir "$R" $A $B --format json --all
	shown=$(jq -s '[.[] | select(.type == "compare_row" and .gated and .a_mean != null and .b_mean != null)]' <<<"$output")
	n=$(jq length <<<"$shown")
	[ "$n" -ge 10 ]
	reg=$(jq -c '[.[] | .regression]' <<<"$shown")
	run --separate-stderr "$BIN" compare --dir "$R" $A $B
	want=$output
	stats compare --dir "$R" $A $B --svg "$TEST_TMP/c.svg"
	[ "$status" -eq 1 ]
	[ "$output" = "$want" ]
	png "$TEST_TMP/c.svg"
	# panel k: its top frame at x 155 + 295 (k % 4), y 70 + 200 (k / 4)
	args=()
	for ((k = 0; k <= n; k++)); do
		args+=("$((155 + 295 * (k % 4))),$((70 + 200 * (k / 4)))")
	done
	run "$PIX" "$TEST_TMP/c.png" "${args[@]}"
	echo "$output"
	rows=$(((n + 3) / 4))
	[ "${lines[0]}" = "1190 $((70 + 200 * rows + 10))" ]
	for ((k = 0; k < n; k++)); do
		c=${lines[$((k + 1))]}
		if [ "$(jq ".[$k]" <<<"$reg")" = true ]; then
			[ "$c" = d62728 ] || { echo "panel $k: $c, want red"; false; }
		else
			[ "$c" = cccccc ] || { echo "panel $k: $c, want grey"; false; }
		fi
	done
	# no panel after the last
	[ "${lines[$((n + 1))]}" = ffffff ] || [ "${lines[$((n + 1))]}" = outside ]
	[ "$(jq '[.[] | select(.)] | length' <<<"$reg")" -eq 4 ]
}

@test "stats compare svg: a bad path is one line and exit 2; --svg is compare's" {
	stats compare --dir "$FX/runs" 6.14.2-aaaaaaaaaaaa 6.14.2-bbbbbbbbbbbb --svg "$TEST_TMP/x/c.svg"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"compare: --svg $TEST_TMP/x/c.svg: directory $TEST_TMP/x does not exist"* ]]
	[ -z "$output" ]
	stats list --dir "$FX/runs" --svg "$TEST_TMP/c.svg"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--svg applies to compare"* ]]
}
