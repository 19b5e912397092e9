#!/usr/bin/env bats
# ktstr-ctprof on this machine: real captures around a real workload, file
# round trips, and bad inputs (one line naming the problem, exit 2, nothing
# left behind).  No VM needed.

load lib/common

setup() {
	common_setup
	burn_pid=
}

teardown() {
	if [ -n "$burn_pid" ]; then
		kill "$burn_pid" 2>/dev/null || true
		wait "$burn_pid" 2>/dev/null || true
	fi
	common_teardown
}

# A CPU-bound loop whose thread is named ktstr_burn: a copy of /bin/sh
# under that name (the kernel names a thread after its executable).  At
# nice -10 it gets most of a CPU even on a machine busy with other work.
start_burn() {
	cp /bin/sh "$TEST_TMP/ktstr_burn"
	nice -n -10 "$TEST_TMP/ktstr_burn" -c 'while :; do :; done' </dev/null >/dev/null 2>&1 3>&- &
	burn_pid=$!
	local i
	for i in $(seq 50); do
		[ "$(cat "/proc/$burn_pid/comm" 2>/dev/null)" = ktstr_burn ] && return 0
		sleep 0.1
	done
	echo "burner did not start" >&2
	return 1
}

# Fields of the ctprof_delta records of one group as {metric: delta}.
deltas_of() {
	printf '%s\n' "$1" | jq -s --arg g "$2" \
		'[.[] | select(.type == "ctprof_delta" and .group == $g) | {(.metric): .delta}] | add'
}

@test "compare around a 1 s CPU burner: its runtime grew by about a second" {
	start_burn
	ktstr-ctprof capture -o "$TEST_TMP/before.ctprof" >/dev/null
	sleep 1
	ktstr-ctprof capture -o "$TEST_TMP/after.ctprof.zst" >/dev/null
	run --separate-stderr ktstr-ctprof compare "$TEST_TMP/before.ctprof" \
		"$TEST_TMP/after.ctprof.zst" --group-by comm --json
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" | head -n1 | jq -e '.type == "ctprof_compare" and .group_by == "comm"'
	printf '%s\n' "$output" | jq -se 'map(select(.type == "ctprof_group" and .group == "ktstr_burn"))
		| length == 1 and .[0].status == "both" and .[0].threads_a == 1 and .[0].threads_b == 1'
	d=$(deltas_of "$output" ktstr_burn)
	echo "ktstr_burn deltas: $d"
	# About a second of CPU: at most 1.2 s, or, when the captures were slow
	# enough to stretch it, the wall time between the two looks at the
	# burner (one thread cannot run longer than that): at most from the
	# start of the first capture to the end of the second.
	gap=$(printf '%s\n' "$output" | head -n1 | jq '.interval_ns')
	dur=$(ktstr-ctprof convert "$TEST_TMP/after.ctprof.zst" - | jq '.capture.duration_ns')
	wall=$(( (gap + dur) * 105 / 100 ))
	max=$(( wall > 1200000000 ? wall : 1200000000 ))
	echo "interval_ns=$gap duration_ns=$dur max=$max"
	rt=$(jq '.sum_exec_runtime_ns' <<<"$d")
	[ "$rt" -ge 500000000 ] && [ "$rt" -le "$max" ]
	# The schedstat view of the same time agrees.
	run_ns=$(jq '.run_time_ns' <<<"$d")
	[ "$run_ns" -ge 500000000 ] && [ "$run_ns" -le "$max" ]
	# Its nice level was captured, unchanged.
	[ "$(jq '.nice' <<<"$d")" = 0 ]
	ktstr-ctprof show "$TEST_TMP/after.ctprof.zst" --metrics nice --json |
		jq -se 'any(.type == "ctprof_value" and .group == "ktstr_burn" and .value == -10)' 
	[ "$(jq '.nr_switches' <<<"$d")" -ge 0 ]
	[ "$(jq '.nr_involuntary_switches' <<<"$d")" -ge 0 ]
	# The table says the same to a human.
	run --separate-stderr ktstr-ctprof compare "$TEST_TMP/before.ctprof" \
		"$TEST_TMP/after.ctprof.zst" --group-by comm --metrics sum_exec_runtime_ns
	[ "$status" -eq 0 ]
	[[ "$output" == *"ktstr_burn (both; threads 1 -> 1)"* ]]
	[[ "$output" == *"groups by comm:"* ]]
}

@test "compare of a capture with itself: every delta is zero, for every grouping" {
	ktstr-ctprof capture -o "$TEST_TMP/a.ctprof" >/dev/null
	for by in all pcomm comm cgroup; do
		run --separate-stderr ktstr-ctprof compare "$TEST_TMP/a.ctprof" "$TEST_TMP/a.ctprof" \
			--group-by "$by" --json
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" | jq -se '
			(map(select(.type == "ctprof_delta")) | length > 0 and all(.delta == 0 and .a == .b))
			and (map(select(.type == "ctprof_group")) | length > 0 and all(.status == "both"))'
	done
	# In the table, every delta column reads +0 (or +0.00 for means).
	run ktstr-ctprof compare "$TEST_TMP/a.ctprof" "$TEST_TMP/a.ctprof" --group-by all
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | awk '/^  [a-z]/ && $1 != "metric" { if ($4 != "+0" && $4 != "+0.00") bad = 1 }
		END { exit bad }'
}

@test "a host capture round-trips through .zst and back unchanged" {
	ktstr-ctprof capture -o "$TEST_TMP/host.ctprof" >/dev/null
	ktstr-ctprof convert "$TEST_TMP/host.ctprof" "$TEST_TMP/host.ctprof.zst"
	# A real zstd frame, and smaller.
	[ "$(head -c4 "$TEST_TMP/host.ctprof.zst" | od -An -tx1 | tr -d ' \n')" = 28b52ffd ]
	[ "$(stat -c %s "$TEST_TMP/host.ctprof.zst")" -lt "$(stat -c %s "$TEST_TMP/host.ctprof")" ]
	ktstr-ctprof convert "$TEST_TMP/host.ctprof.zst" "$TEST_TMP/back.ctprof"
	diff <(jq -S . "$TEST_TMP/host.ctprof") <(jq -S . "$TEST_TMP/back.ctprof")
	# Decompressed by stdout too, and by the zstd tool when there is one.
	diff <(jq -S . "$TEST_TMP/host.ctprof") <(ktstr-ctprof convert "$TEST_TMP/host.ctprof.zst" - | jq -S .)
	if command -v zstd >/dev/null; then
		diff <(jq -S . "$TEST_TMP/host.ctprof") <(zstd -dcq "$TEST_TMP/host.ctprof.zst" | jq -S .)
	fi
	# Captured straight to .zst, loaded by content whatever the name.
	ktstr-ctprof capture -o "$TEST_TMP/direct.ctprof.zst" >/dev/null
	cp "$TEST_TMP/direct.ctprof.zst" "$TEST_TMP/renamed"
	ktstr-ctprof convert "$TEST_TMP/renamed" - | jq -e '.format == "ktstr-ctprof" and .version == 1'
}

@test "capture: one JSON document of this host, with this shell among the threads" {
	run --separate-stderr ktstr-ctprof capture
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" | jq -e --argjson me $$ '
		.format == "ktstr-ctprof" and .version == 1
		and (.host.kernel_release | type == "string")
		and (.host.cpus_online >= 1)
		and (.capture.threads == (.threads | length))
		and (.sched_ext | type == "object")
		and (.cgroups | type == "object")
		and all(.threads[]; (.tid | type == "number") and (.comm | type == "string")
			and (.pcomm | type == "string"))
		and any(.threads[]; .pid == $me and .tid == $me)'
	# Fields the kernel lacks are left out, never written as null.
	[ "$(printf '%s\n' "$output" | jq '[.. | select(. == null)] | length')" -eq 0 ]
	# -o - is stdout too; -o FILE prints one ctprof_capture record.
	ktstr-ctprof capture -o - | jq -e '.format == "ktstr-ctprof"'
	run --separate-stderr ktstr-ctprof capture -o "$TEST_TMP/c.ctprof"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e --arg p "$TEST_TMP/c.ctprof" --argjson size \
		"$(stat -c %s "$TEST_TMP/c.ctprof")" \
		'.type == "ctprof_capture" and .path == $p and .bytes == $size and .threads > 0'
}

@test "show and metric-list: tables and records" {
	ktstr-ctprof capture -o "$TEST_TMP/a.ctprof" >/dev/null
	run --separate-stderr ktstr-ctprof show "$TEST_TMP/a.ctprof" --group-by pcomm --top 2 --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | head -n1 | jq -e '.type == "ctprof_show" and .groups_shown == 2'
	printf '%s\n' "$output" | jq -se '(map(select(.type == "ctprof_group")) | length == 2)
		and (map(select(.type == "ctprof_value")) | length > 0)'
	run ktstr-ctprof show "$TEST_TMP/a.ctprof" --group-by all
	[ "$status" -eq 0 ]
	[[ "$output" == *"all ("*" threads)"* ]]
	[[ "$output" == *"sum_exec_runtime_ns"* ]]

	run --separate-stderr ktstr-ctprof metric-list --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -se '
		length > 20
		and all(.type == "ctprof_metric" and (.name | type == "string") and (.unit | type == "string")
			and (.aggregation | IN("sum", "mean", "max", "cgroup", "none"))
			and has("higher_is_better"))
		and any(.name == "sum_exec_runtime_ns" and .aggregation == "sum" and .unit == "ns")
		and any(.name == "nice" and .aggregation == "mean")
		and any(.name == "cpus_allowed" and .aggregation == "none")
		and any(.name == "run_delay_ns" and .higher_is_better == false)'
	# Every metric compare prints is one metric-list knows.
	known=$(printf '%s\n' "$output" | jq -r .name | sort)
	used=$(ktstr-ctprof compare "$TEST_TMP/a.ctprof" "$TEST_TMP/a.ctprof" --group-by cgroup --json |
		jq -r 'select(.type == "ctprof_delta") | .metric' | sort -u)
	[ -z "$(comm -13 <(printf '%s\n' "$known") <(printf '%s\n' "$used"))" ]
	run ktstr-ctprof metric-list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == metric*unit*agg* ]]
}

@test "--sort orders groups by that metric's change" {
	ktstr-ctprof capture -o "$TEST_TMP/a.ctprof" >/dev/null
	ktstr-ctprof capture -o "$TEST_TMP/b.ctprof" >/dev/null
	run --separate-stderr ktstr-ctprof compare "$TEST_TMP/a.ctprof" "$TEST_TMP/b.ctprof" \
		--group-by pcomm --sort nr_switches --json
	[ "$status" -eq 0 ]
	# Groups come out by |delta of nr_switches|, largest first.
	printf '%s\n' "$output" | jq -se '
		[.[] | select(.type == "ctprof_delta" and .metric == "nr_switches") | (.delta | fabs)]
		| . == (sort | reverse)'
	printf '%s\n' "$output" | head -n1 | jq -e '.sort == "nr_switches"'
	# A metric named without its unit suffix is accepted.
	run --separate-stderr ktstr-ctprof compare "$TEST_TMP/a.ctprof" "$TEST_TMP/b.ctprof" \
		--sort run_delay --top 1 --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | head -n1 | jq -e '.sort == "run_delay_ns" and .groups_shown == 1'
}

# ---- bad inputs ----

# Run ktstr-ctprof expecting exit 2, nothing on stdout, one diagnostic
# line containing $1.
expect_error() {
	local want=$1; shift
	run --separate-stderr ktstr-ctprof "$@"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-ctprof "$stderr"
	[[ "$stderr" == *"$want"* ]]
}

good_capture() {
	[ -f "$TEST_TMP/good.ctprof" ] || ktstr-ctprof capture -o "$TEST_TMP/good.ctprof" >/dev/null
}

@test "missing file" {
	good_capture
	expect_error "$TEST_TMP/nope.ctprof: cannot read: No such file or directory" \
		compare "$TEST_TMP/nope.ctprof" "$TEST_TMP/good.ctprof"
	expect_error "$TEST_TMP/nope.ctprof: cannot read" show "$TEST_TMP/nope.ctprof"
}

@test "truncated capture" {
	good_capture
	head -c 2000 "$TEST_TMP/good.ctprof" >"$TEST_TMP/trunc.ctprof"
	expect_error "$TEST_TMP/trunc.ctprof: truncated JSON" \
		compare "$TEST_TMP/good.ctprof" "$TEST_TMP/trunc.ctprof"
}

@test "JSON that is not a capture" {
	echo '{"a":1}' >"$TEST_TMP/other.json"
	expect_error "$TEST_TMP/other.json: not a ktstr-ctprof capture" show "$TEST_TMP/other.json"
	echo '{"format":"ktstr-ctprof","version":99,"threads":[]}' >"$TEST_TMP/future.ctprof"
	expect_error "format version 99" show "$TEST_TMP/future.ctprof"
}

@test "corrupt and truncated .zst" {
	good_capture
	{ printf '\x28\xb5\x2f\xfd'; head -c 300 /dev/urandom; } >"$TEST_TMP/bad.ctprof.zst"
	expect_error "$TEST_TMP/bad.ctprof.zst: corrupt zstd data" show "$TEST_TMP/bad.ctprof.zst"
	ktstr-ctprof convert "$TEST_TMP/good.ctprof" "$TEST_TMP/good.ctprof.zst"
	head -c "$(( $(stat -c %s "$TEST_TMP/good.ctprof.zst") / 2 ))" "$TEST_TMP/good.ctprof.zst" \
		>"$TEST_TMP/half.ctprof.zst"
	expect_error "$TEST_TMP/half.ctprof.zst: truncated zstd data" show "$TEST_TMP/half.ctprof.zst"
}

@test "unknown --group-by names the value and lists the valid ones" {
	good_capture
	expect_error "--group-by: unknown key 'tid'; valid: all, pcomm, comm, cgroup" \
		compare "$TEST_TMP/good.ctprof" "$TEST_TMP/good.ctprof" --group-by tid
}

@test "unknown --sort metric names the value and lists the valid ones" {
	good_capture
	expect_error "--sort: unknown metric 'bogus_ns'; valid: sum_exec_runtime_ns, nr_switches," \
		compare "$TEST_TMP/good.ctprof" "$TEST_TMP/good.ctprof" --sort bogus_ns
	expect_error "--metrics: unknown metric 'nope'" show "$TEST_TMP/good.ctprof" -m sum_exec_runtime,nope
	expect_error "only with --group-by cgroup" show "$TEST_TMP/good.ctprof" --sort cgroup_cpu_usage_us
	expect_error "not aggregated" show "$TEST_TMP/good.ctprof" --sort cpus_allowed
}

@test "unwritable -o leaves nothing behind" {
	expect_error "$TEST_TMP/nodir/x.ctprof: cannot write: No such file or directory" \
		capture -o "$TEST_TMP/nodir/x.ctprof"
	[ ! -e "$TEST_TMP/nodir" ]
	# A directory in the way: the temp file next to it is cleaned up.
	mkdir "$TEST_TMP/adir"
	expect_error "$TEST_TMP/adir: cannot write" capture -o "$TEST_TMP/adir"
	expect_error "$TEST_TMP/nodir/x.ctprof.zst: cannot write" capture -o "$TEST_TMP/nodir/x.ctprof.zst"
	[ "$(find "$TEST_TMP" -mindepth 1 | wc -l)" -eq 1 ]
	[ -z "$(ls -A "$TEST_TMP/adir")" ]
}

@test "usage errors: commands and arguments" {
	expect_error "missing command"
	expect_error "unknown command 'frob'" frob
	expect_error "compare: expected two captures" compare only-one
	expect_error "show: expected one capture" show
	expect_error "--top '0'" show x --top 0
	expect_error "unknown option" capture --bogus
	expect_error "capture: unexpected argument 'extra'" capture extra
	# Empty values: no metric would print bare groups, no file names none.
	expect_error "--metrics '': expected metric names, comma-separated" show x -m ''
	expect_error "--metrics ',': expected metric names" compare x y --metrics ,
	expect_error "-o '': expected a file name, or - for stdout" capture -o ''
}

@test "--help, --version and the man page" {
	run --separate-stderr ktstr-ctprof --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ ktstr-ctprof\ capture* ]]
	[[ "$output" == *"--group-by KEY"* ]]
	run --separate-stderr ktstr-ctprof compare --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run --separate-stderr ktstr-ctprof --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-ctprof (ktstr) "* ]]
	page=$BATS_TEST_DIRNAME/../man/ktstr-ctprof.1
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS OUTPUT "EXIT STATUS" EXAMPLES; do
		grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}\$" "$page" || { echo "no section $s" >&2; return 1; }
	done
	# Renders without a groff warning.
	run --separate-stderr groff -man -ww -z "$page"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# The records man page documents what --json prints.
	grep -q '^\.SH RECORDS FROM ktstr-ctprof' "$BATS_TEST_DIRNAME/../man/ktstr-records.7"
}
