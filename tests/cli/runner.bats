#!/usr/bin/env bats
# ktstr-test planning without a VM: presets, filters, shards, budgets and
# bad inputs, listed (--list) against a fake kernel image
# (tests/fixtures/fake-kernel).  Suites that run: tests/runner.bats.

load cli
load ../lib/runner

BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}
FIX="$BATS_TEST_DIRNAME/../fixtures"

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	KERNEL=$FAKE_IMAGE
	runner_env
	fake_scx_simple
}

teardown() {
	common_teardown
}

@test "ktstr-test: --help and --version" {
	run "$BIN/ktstr-test" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--shard K/N"* ]]
	run "$BIN/ktstr-test" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-test (ktstr) "* ]]
	run "$BIN/ktstr" test --version
	[ "$status" -eq 0 ]
}

@test "ktstr-test: --list expands tests over presets and honours constraints" {
	run --separate-stderr ktest --list "$FIX/suite" "$FIX/suite-extra"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/list"
	# 4 presets each for the two steady tests; max_llcs=1 turns strict_gap's
	# second (named) preset into a skip; huge fits nothing at all.
	[ "$(grep -c '^suite steady_eevdf/' "$TEST_TMP/list")" -eq 4 ]
	[ "$(grep -c '^suite steady_simple/' "$TEST_TMP/list")" -eq 4 ]
	grep -qx 'suite strict_gap/tiny-1llc' "$TEST_TMP/list"
	grep -q '^suite strict_gap/tiny-2llc (skip: .*max_llcs' "$TEST_TMP/list"
	grep -q '^suite-extra huge/.*(skip: .*min_cpus' "$TEST_TMP/list"
	[ "$(wc -l <"$TEST_TMP/list")" -eq 11 ]
	# No VM was booted for a listing.
	assert_no_qemu
}

@test "ktstr-test: --filter takes globs and substrings" {
	run ktest --list --filter 'steady_*/tiny-*' "$FIX/suite"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq 4 ]
	run ktest --list --filter smt-2llc "$FIX/suite"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq 2 ]
}

@test "ktstr-test: shards 1/3..3/3 cover the suite exactly once" {
	ktest --list "$FIX/suite" "$FIX/suite-extra" | sort >"$TEST_TMP/all"
	for k in 1 2 3; do
		ktest --list --shard "$k/3" "$FIX/suite" "$FIX/suite-extra" >"$TEST_TMP/s$k"
		[ -s "$TEST_TMP/s$k" ]
	done
	sort "$TEST_TMP"/s1 "$TEST_TMP"/s2 "$TEST_TMP"/s3 >"$TEST_TMP/union"
	diff "$TEST_TMP/all" "$TEST_TMP/union"
	# Deterministic: the same shard twice is the same list.
	ktest --list --shard 2/3 "$FIX/suite" "$FIX/suite-extra" | diff - "$TEST_TMP/s2"
}

@test "ktstr-test: a budget smaller than the suite picks a covering subset" {
	run --separate-stderr ktest --list --json --budget 40 "$FIX/suite"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/plan"
	jq -e -s '[.[] | select(.type == "budget")][0] |
		.selected < .total and .selected >= 1 and .selected_secs <= 40 and
		.features_covered >= 1 and .features_covered <= .features_total' "$TEST_TMP/plan"
	sel=$(jq -s '[.[] | select(.type == "case_plan")] | length' "$TEST_TMP/plan")
	[ "$sel" -eq "$(jq -s '[.[] | select(.type == "budget")][0].selected' "$TEST_TMP/plan")" ]
	# Both schedulers are worth covering before a second preset of either.
	jq -e -s '[.[] | select(.type == "case_plan") | .test] | unique | length >= 2' "$TEST_TMP/plan"
	[[ "$stderr" == *"covering"*"features"* ]]
	# The variable does the same; a bad value warns and runs everything.
	run --separate-stderr env KTSTR_BUDGET_SECS=40 "$BIN/ktstr-test" --kernel "$KERNEL" --list "$FIX/suite"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq "$sel" ]
	run --separate-stderr env KTSTR_BUDGET_SECS=soon "$BIN/ktstr-test" --kernel "$KERNEL" --list "$FIX/suite"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq 10 ]
	[[ "$stderr" == *KTSTR_BUDGET_SECS* ]]
}

# History: a sidecar as caserun.c writes it names its case in full, the
# suite first; the case's measured wall time replaces its estimate.
@test "ktstr-test --budget: a sidecar's measured wall time replaces the case's estimate" {
	mkdir -p "$KTSTR_RUNS_ROOT/6.14.2-abc"
	printf '{"type": "sidecar", "case": "%s", "wall_ms": 3500, "timestamp": "%s"}\n' \
		'suite steady_eevdf/tiny-1llc' 2026-01-01T00:00:00Z \
		>"$KTSTR_RUNS_ROOT/6.14.2-abc/steady_eevdf_tiny-1llc.r1.x.ktstr.json"
	run --separate-stderr ktest --list --json --budget 1000 "$FIX/suite"
	[ "$status" -eq 0 ]
	jq -e -s '[.[] | select(.type == "case_plan" and .skip_reason == null)] |
		(map(select(.case == "suite steady_eevdf/tiny-1llc")) | length == 1 and
		 .[0].est_secs == 3.5) and
		(map(select(.case != "suite steady_eevdf/tiny-1llc")) | length == 8 and
		 all(.[]; .est_secs > 3.5))' <<<"$output"
	# --list shows the measured time without a budget too.
	run --separate-stderr ktest --list --json "$FIX/suite"
	jq -e -s '[.[] | select(.case == "suite steady_eevdf/tiny-1llc")] | .[0].est_secs == 3.5' <<<"$output"
	# 5 s buys the measured case alone, beside the skip.
	run --separate-stderr ktest --list --budget 5 "$FIX/suite"
	[ "$status" -eq 0 ]
	[ "$(grep -v '(skip: ' <<<"$output")" = "suite steady_eevdf/tiny-1llc" ]
}

# suite-extra's one case is a skip: no VM boots.
@test "ktstr-test: a skip made a failure names --no-skip-mode or KTSTR_NO_SKIP_MODE, whichever asked" {
	run ktest --no-skip-mode "$FIX/suite-extra"
	[ "$status" -eq 1 ]
	[[ "$output" == *"skipped, and --no-skip-mode turns skips into failures: no preset satisfies min_cpus=4096"* ]]
	[[ "$output" != *KTSTR_NO_SKIP_MODE* ]]
	KTSTR_NO_SKIP_MODE= run ktest "$FIX/suite-extra"
	[ "$status" -eq 1 ]
	[[ "$output" == *"skipped, and KTSTR_NO_SKIP_MODE turns skips into failures: no preset"* ]]
	# Both: the flag, as flags win over the environment.
	KTSTR_NO_SKIP_MODE=1 run ktest --no-skip-mode "$FIX/suite-extra"
	[ "$status" -eq 1 ]
	[[ "$output" == *"skipped, and --no-skip-mode turns skips"* ]]
	assert_no_qemu
}

# The plan on stdout is the answer: a write error is not success (exit 2,
# one line), a reader that went away is 141 and quiet as elsewhere
# (SIGPIPE, or EPIPE when the signal is ignored).
@test "ktstr-test --list: stdout that cannot be written is exit 2; a closed pipe is 141 and quiet" {
	[ -w /dev/full ] || skip "no /dev/full"
	for args in "--list" "--list --json" "--list --json --budget 40" \
		"--list --scheduler eevdf --scheduler scx_simple"; do
		dir=$FIX/suite
		[[ "$args" != *--scheduler* ]] || dir=$FIX/suite-ab
		# shellcheck disable=SC2086
		run --separate-stderr bash -c '"$@" >/dev/full' _ "$BIN/ktstr-test" \
			--kernel "$KERNEL" $args "$dir"
		echo "$args: $stderr"
		[ "$status" -eq 2 ]
		[ "$(grep -c 'cannot write' <<<"$stderr")" -eq 1 ]
		[[ "$stderr" == *"ktstr-test: cannot write the plan to stdout: No space left on device"* ]]
	done
	for pipe in - ''; do
		run bash -c 'set -o pipefail; { sleep 0.3; trap "$1" PIPE; "${@:3}" 2>"$2"; } | true' \
			_ "$pipe" "$TEST_TMP/err" "$BIN/ktstr-test" --kernel "$KERNEL" --list --json "$FIX/suite"
		[ "$status" -eq 141 ]
		[ ! -s "$TEST_TMP/err" ]
	done
}

@test "ktstr-test: bad inputs give one line and exit 2" {
	mkdir -p "$TEST_TMP/bad"
	printf '{ "scenario": "steady", ' >"$TEST_TMP/bad/broken.json"
	run --separate-stderr ktest --list "$TEST_TMP/bad"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *broken.json* ]]

	rm "$TEST_TMP/bad/broken.json"
	echo '{ "scenario": "steady", "presets": ["giant-99llc"] }' >"$TEST_TMP/bad/p.json"
	run --separate-stderr ktest --list "$TEST_TMP/bad"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *giant-99llc* && "$stderr" == *tiny-1llc* ]]

	run --separate-stderr ktest --list "$TEST_TMP/nope"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"

	for bad in 0/3 4/3 x 1/0; do
		run --separate-stderr ktest --list --shard "$bad" "$FIX/suite"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"--shard"* ]]
	done
	run --separate-stderr ktest --list --budget -5 "$FIX/suite"
	[ "$status" -eq 2 ]
	run --separate-stderr "$BIN/ktstr-test" --kernel 9.99 --list "$FIX/suite"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *9.99* ]]
	# The option named once, whether the lookup's message names it or not.
	[[ "$stderr" == "ktstr-test: --kernel: kernel '9.99': "* ]]
	run --separate-stderr "$BIN/ktstr-test" --kernel "$TEST_TMP/nope" --list "$FIX/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-test: --kernel=$TEST_TMP/nope does not exist"* ]]
	# A KTSTR_TSC_KHZ every case's ktstr-vm would refuse: said once, not
	# retried case by case.
	run --separate-stderr env KTSTR_TSC_KHZ=abc "$BIN/ktstr-test" "$FIX/suite"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"KTSTR_TSC_KHZ=abc is not a TSC rate"* ]]
	[ -z "$output" ]
}

@test "ktstr-test --label: a label ktstr-stats would take for a path is exit 2 before any case" {
	for bad in feature/x . ..; do
		run --separate-stderr ktest --label "$bad" "$FIX/suite-extra"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[[ "$stderr" == "ktstr-test: --label '$bad': ktstr-stats takes a name with '/'"* ]]
		[ ! -e "$KTSTR_RUNS_ROOT" ]
	done
	run --separate-stderr ktest --label feature-x "$FIX/suite-extra"
	[ "$status" -eq 0 ]
	run --separate-stderr "$BIN/ktstr-stats" show feature-x --json
	[ "$status" -eq 0 ]
}

@test "ktstr-test: a scheduler that ktstr-vm would not find is exit 2 before any case, --list too" {
	mkdir -p "$TEST_TMP/own"
	echo '{"scenario": "steady", "scheduler": "scx_nothere", "duration": "2s", "presets": ["tiny-1llc"]}' \
		>"$TEST_TMP/own/x.json"
	for mode in --list --json; do
		run --separate-stderr ktest $mode --scheduler scx_nothere "$FIX/suite-ab"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[[ "$stderr" == "ktstr-test: --scheduler scx_nothere: not found in the ktstr scheduler cache or PATH;"* ]]
		run --separate-stderr ktest $mode "$TEST_TMP/own"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[[ "$stderr" == "ktstr-test: $TEST_TMP/own/x.json: \$.scheduler: scx_nothere: not found in"* ]]
		run --separate-stderr ktest $mode --scheduler "$TEST_TMP/own/x.json" "$FIX/suite-ab"
		[ "$status" -eq 2 ]
		[[ "$stderr" == "ktstr-test: --scheduler $TEST_TMP/own/x.json: not an executable file;"* ]]
		[ -z "$output" ]
	done
	[ ! -e "$KTSTR_RUNS_ROOT" ]
	# eevdf and a found name plan as before; a case that will not run
	# (a plan-time skip) needs no scheduler.
	run --separate-stderr ktest --list --scheduler eevdf --scheduler scx_simple "$FIX/suite-ab"
	[ "$status" -eq 0 ]
	printf '%s\n' '{"scenario": "steady", "scheduler": "scx_nothere", "topology": {"min_cpus": 4096}}' \
		>"$TEST_TMP/own/x.json"
	run --separate-stderr ktest --list "$TEST_TMP/own"
	[ "$status" -eq 0 ]
}

@test "ktstr-test: an empty plan: -E matching nothing is 2, a too small budget 3, an empty shard 0" {
	for mode in --list --json; do
		run --separate-stderr ktest $mode -E zzz "$FIX/suite-extra"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[ "$stderr" = "ktstr-test: -E 'zzz': no case matches it; 'ktstr-test --list' names the cases" ]
		run --separate-stderr ktest $mode -E huge -E zzz "$FIX/suite-extra"
		[ "$status" -eq 2 ]
		[[ "$stderr" == "ktstr-test: -E 'zzz': no case left by the -E before it matches it;"* ]]
	done
	mkdir -p "$TEST_TMP/one"
	echo '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"]}' >"$TEST_TMP/one/s.json"
	for mode in --list --json; do
		run --separate-stderr ktest $mode --budget 0.5 "$TEST_TMP/one"
		[ "$status" -eq 3 ]
		[[ "$stderr" == *"budget 0.5s: 0 of 1 cases selected"* ]]
		[[ "$stderr" == *"ktstr-test: budget 0.5s: no case fits in it, so nothing ran; give a larger --budget"* ]]
		run --separate-stderr ktest $mode --shard 2/2 "$TEST_TMP/one"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"ktstr-test: shard 2 of 2: no case falls to this shard"* ]]
	done
	[ ! -e "$KTSTR_RUNS_ROOT" ]
	assert_no_qemu
}

@test "ktstr-test: a KTSTR_LOCK_DIR that is a file or in no directory is one line and exit 2 before any case" {
	mkdir -p "$TEST_TMP/one"
	echo '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"]}' >"$TEST_TMP/one/s.json"
	touch "$TEST_TMP/file"
	for bad in "$TEST_TMP/nope/locks" "$TEST_TMP/file"; do
		KTSTR_LOCK_DIR=$bad run --separate-stderr ktest "$TEST_TMP/one"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[[ "$stderr" == "ktstr-test: KTSTR_LOCK_DIR=$bad: "*"; name a directory that every ktstr run"* ]]
		[ -z "$output" ]
	done
	[ ! -e "$TEST_TMP/nope" ]
	[ ! -e "$KTSTR_RUNS_ROOT" ]
}

# A stand-in ktstr-vm that runs until a signal and says which one it got,
# beside a copy of ktstr-test (which runs the ktstr-vm next to it).
signal_vm() {
	mkdir -p "$TEST_TMP/bin" "$TEST_TMP/t"
	cp "$BIN/ktstr-test" "$TEST_TMP/bin/"
	ln -s "$BATS_TEST_DIRNAME/../../share" "$TEST_TMP/share"
	# python3: a shell cannot trap SIGINT that a background job ignores.
	cat >"$TEST_TMP/bin/ktstr-vm" <<EOF
#!/usr/bin/env python3
import json, signal, sys, time
def bye(sig, _):
    name = signal.Signals(sig).name
    print(json.dumps({"type": "vm_exit", "reason": "interrupted", "message": "got " + name}))
    sys.exit(128 + sig)
signal.signal(signal.SIGINT, bye)
signal.signal(signal.SIGTERM, bye)
print('{"type":"vm_start","topology":"1,1,2,1","scheduler":null}', flush=True)
open("$TEST_TMP/started", "w").close()
while True:
    time.sleep(0.1)
EOF
	chmod +x "$TEST_TMP/bin/ktstr-vm"
	echo '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"]}' >"$TEST_TMP/t/s.json"
}

@test "ktstr-test: Ctrl-C reaches ktstr-vm as SIGINT; the reason, summary and JUnit say interrupted" {
	signal_vm
	for sig in INT TERM; do
		rm -f "$TEST_TMP/started"
		"$TEST_TMP/bin/ktstr-test" --kernel "$KERNEL" --junit "$TEST_TMP/$sig.xml" \
			"$TEST_TMP/t" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
		pid=$!
		for i in $(seq 100); do [ -e "$TEST_TMP/started" ] && break; sleep 0.1; done
		kill -"$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		cat "$TEST_TMP/out" "$TEST_TMP/err" "$TEST_TMP/$sig.xml"
		[ "$rc" -eq "$([ "$sig" = INT ] && echo 130 || echo 143)" ]
		grep -q "^INTR " "$TEST_TMP/out"
		grep -q "0 skipped, 1 interrupted (interrupted)$" "$TEST_TMP/out"
		grep -q "<error message=\"the run was interrupted before scenario_end (got SIG$sig)\" type=\"interrupted\"" \
			"$TEST_TMP/$sig.xml"
	done
}

# The host reservation follows the accelerator's threads: one CPU per VM
# under tcg, a CPU per vCPU (up to all usable) under tcg-mt.
@test "ktstr-test --accel tcg-mt: the same cases as tcg, each reserving a host CPU per vCPU" {
	spelling_suite
	run --separate-stderr ktest --accel tcg --list --json "$TEST_TMP/spell"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/tcg"
	run --separate-stderr ktest --accel tcg-mt --list --json "$TEST_TMP/spell"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_TMP/mt"
	[ "$(jq -c '[.case]' "$TEST_TMP/tcg")" = "$(jq -c '[.case]' "$TEST_TMP/mt")" ]
	jq -e -s 'length > 0 and all(.[]; .host_cpus_reserved == 1)' "$TEST_TMP/tcg"
	cpus=$(nproc)
	jq -e -s --argjson h "$cpus" 'all(.[]; .host_cpus_reserved ==
		([(.topology | capture("(?<l>[0-9]+)l(?<c>[0-9]+)c(?<t>[0-9]+)t") |
		   (.l | tonumber) * (.c | tonumber) * (.t | tonumber)), $h] | min))' "$TEST_TMP/mt"
	run --separate-stderr ktest --accel tcg-mtx --list "$TEST_TMP/spell"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"--accel 'tcg-mtx': expected auto, kvm, tcg or tcg-mt"* ]]
}

@test "ktstr-test: a threshold's old and new spellings load; a misspelt one is one line" {
	spelling_suite
	# TCG: the preset fits a 2-CPU host, whatever KVM would allow
	run --separate-stderr ktest --accel tcg --list "$TEST_TMP/spell"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	grep -qx 'spell new/tiny-1llc' <<<"$output"
	grep -qx 'spell old/tiny-1llc' <<<"$output"
	echo '{"scenario": "steady", "thresholds": {"max_p99_wake": 5}}' >"$TEST_TMP/spell/typo.json"
	run --separate-stderr ktest --list "$TEST_TMP/spell"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *'typo.json: $.thresholds.max_p99_wake: unknown key; expected one of max_spread_pct'* ]]
	[[ "$stderr" == *max_local_dsq_depth* ]]
	echo '{"scenario": "steady", "thresholds": {"min_iter_rate": 1, "min_iterations_per_sec": 1}}' \
		>"$TEST_TMP/spell/typo.json"
	run --separate-stderr ktest --list "$TEST_TMP/spell"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *'$.thresholds.min_iterations_per_sec: the same threshold as min_iter_rate'* ]]
	assert_no_qemu
}

# A suite whose one case is a plan-time skip runs no VM, so the whole
# report path is exercised here: the page, its row, the copied sidecar.
@test "ktstr-test --html: a report of a skip-only run; an unwritable DIR is exit 2 before any case" {
	run --separate-stderr ktest --html "$TEST_TMP/report/new" "$FIX/suite-extra"
	echo "$stderr" >&2
	[ "$status" -eq 0 ]
	run html_rows "$TEST_TMP/report/new"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'SKIP\tsuite-extra huge/-\tno preset satisfies min_cpus=4096')" ]
	ls "$TEST_TMP/report/new/cases/"*huge*.sidecar.json
	jq -e '.result == "skip"' "$TEST_TMP/report/new/cases/"*huge*.sidecar.json
	# no temp file left behind
	[ "$(find "$TEST_TMP/report" -name '*.tmp*' | wc -l)" -eq 0 ]

	# A file where the directory should be: one line, exit 2, nothing run.
	touch "$TEST_TMP/file"
	rm -rf "$KTSTR_RUNS_ROOT"
	run --separate-stderr ktest --html "$TEST_TMP/file/report" "$FIX/suite-extra"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"--html $TEST_TMP/file/report: cannot create it: "* ]]
	[ -z "$output" ]
	[ ! -e "$KTSTR_RUNS_ROOT" ]
	run --separate-stderr ktest --html "$TEST_TMP/file" "$FIX/suite-extra"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"it is not a directory"* ]]
	run --separate-stderr ktest --html '' "$FIX/suite-extra"
	[ "$status" -eq 2 ]
}

# --junit is written after the run: a FILE that cannot be is exit 2 before
# any case (suite-extra's one skip would write a sidecar), and missing
# directories are made.
@test "ktstr-test --junit: an unwritable FILE is exit 2 before any case; missing directories are made" {
	touch "$TEST_TMP/file"
	for bad in "$TEST_TMP/file/j.xml" "$TEST_TMP" /proc/ktstr-j.xml; do
		run --separate-stderr ktest --junit "$bad" "$FIX/suite-extra"
		echo "$stderr"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-test "$stderr"
		[[ "$stderr" == "ktstr-test: --junit $bad: "*"; name a file you can write" ]]
		[ -z "$output" ]
		[ ! -e "$KTSTR_RUNS_ROOT" ]
	done
	[[ "$stderr" == *"--junit /proc/ktstr-j.xml: cannot create anything in /proc: "* ]]
	run --separate-stderr ktest --junit "$TEST_TMP/file/j.xml" "$FIX/suite-extra"
	[[ "$stderr" == *": $TEST_TMP/file is not a directory; "* ]]
	run --separate-stderr ktest --junit '' "$FIX/suite-extra"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--junit '': expected a file"* ]]
	[ ! -e "$KTSTR_RUNS_ROOT" ]

	run --separate-stderr ktest --junit "$TEST_TMP/reports/new/j.xml" "$FIX/suite-extra"
	[ "$status" -eq 0 ]
	python3 - "$TEST_TMP/reports/new/j.xml" <<'PY'
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
assert len(d.getElementsByTagName("testcase")) == 1
assert len(d.getElementsByTagName("skipped")) == 1
PY
	# UTC with its Z, as ktstr-stats junit writes it from the sidecars
	stamp='timestamp="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
	grep -qE "<testsuite .*$stamp" "$TEST_TMP/reports/new/j.xml"
	"$BIN/ktstr-stats" junit --dir "$KTSTR_RUNS_ROOT" -o "$TEST_TMP/reports/stats/j.xml"
	grep -qE "<testsuite .*$stamp" "$TEST_TMP/reports/stats/j.xml"
}
