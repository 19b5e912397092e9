#!/usr/bin/env bats
# ktstr-selftests without a VM: bad usage, the runner lookup, --list, and
# whole runs where a stand-in ktstr-vm runs the guest script ktstr-selftests
# wrote with /bin/sh on this host, against a stand-in runner that prints
# the real runner's format (tools/testing/selftests/sched_ext/runner.c:
# START/TEST/OUTPUT, "ok N NAME # [SKIP ]", END, a RESULTS block; stdout
# buffered, so a test's stderr comes before its block).  The real runner
# in real VMs is tests/selftests.bats.

load cli

bats_require_minimum_version 1.5.0

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}
	unset KTSTR_SELFTESTS_RUNNER KTSTR_KERNEL KTSTR_TEST_KERNEL
	export KTSTR_LOCK_DIR=$TEST_TMP/locks
}

teardown() { common_teardown; }

# The stand-in runner: -l lists; -t F runs every name containing F.
# pass_* pass, skip_* skip (with a reason on stderr), fail_* fail (with
# output), crash_* kill the runner.
fake_runner() {
	R=$TEST_TMP/st-runner
	cat >"$R" <<'EOF'
#!/bin/sh
names="pass_a pass_ab skip_nohz fail_b crash_c pass_d"
case $1 in -l) for n in $names; do echo "$n"; done; exit 0 ;; esac
f=$3
i=0 out=
for n in $names; do
	case $n in *"$f"*) ;; *) continue ;; esac
	i=$((i + 1))
	case $n in
	skip_*) echo "Skipping: $n needs nohz_full=" >&2; res="ok $i $n # SKIP " ;;
	fail_*) echo "ERR: $n.c:12" >&2; echo "Expected 0, got 3" >&2; res="not ok $i $n # " ;;
	crash_*) printf '===== START =====\nTEST: %s\nOUTPUT:\n' "$n"; kill -SEGV $$ ;;
	*) res="ok $i $n # " ;;
	esac
	out="$out===== START =====
TEST: $n
OUTPUT:
$res
=====  END  =====
"
done
printf '%s\n\n=============================\n\nRESULTS:\n\nPASSED:  0\n' "$out"
EOF
	chmod +x "$R"
}

# A copy of ktstr-selftests beside a ktstr-vm that runs the --exec script
# here, the file -i names standing in for /include-files/<its base name>, and
# prints what the agent would: output records, exit, vm_exit.  Each run
# adds a line to vm.runs and its arguments to vm.args.
fake_vm() {
	mkdir -p "$TEST_TMP/bin"
	cp "$BIN/ktstr-selftests" "$TEST_TMP/bin/"
	cat >"$TEST_TMP/bin/ktstr-vm" <<EOF
#!/bin/bash
echo run >>"$TEST_TMP/vm.runs"
printf '%s\\n' "\$*" >>"$TEST_TMP/vm.args"
while [ \$# -gt 0 ]; do
	case \$1 in -i) inc=\$2; shift 2 ;; --exec) script=\$2; shift 2 ;; *) shift ;; esac
done
set -o pipefail
sh -c "\${script//\/include-files\/\${inc##*\/}/\$inc}" | jq -Rc '{type:"output",stream:"stdout",line:.}'
echo "{\"type\":\"exit\",\"exit_code\":\$?}"
echo '{"type":"vm_exit","reason":"exited","exit_code":0}'
EOF
	chmod +x "$TEST_TMP/bin/ktstr-vm"
	ST=$TEST_TMP/bin/ktstr-selftests
}

# The record of one test (or the summary) in $output.
rec() {
	jq -c --arg n "$1" 'select(.name == $n or .type == $n)' <<<"$output"
}

st() {
	KTSTR_CACHE_DIR=$FAKE_CACHE run --separate-stderr "$ST" --kernel "$FAKE_KEY" "$@"
}

@test "selftests-cli: bad usage is one line and exit 2" {
	ST=$BIN/ktstr-selftests
	st -j 0
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--jobs '0': expected a number from 1 to 64"* ]]
	st --topo 1,1,0,1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--topo '1,1,0,1'"* ]]
	st extra
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unexpected argument 'extra'; tests are chosen with -t"* ]]
	st --test ''
	[ "$status" -eq 2 ]
}

@test "selftests-cli: no runner for the kernel names the fix; a bad --runner names itself" {
	ST=$BIN/ktstr-selftests
	# the fake kernel is no Debian kernel: nothing to build
	st --list
	echo "$stderr"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"no selftests runner for kernel $FAKE_KEY"*"--runner PATH"* ]]
	st --runner "$TEST_TMP/nope" --list
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--runner $TEST_TMP/nope: no such file; pass the selftests runner"* ]]
	: >"$TEST_TMP/noexec"
	st --runner "$TEST_TMP/noexec" --list
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--runner $TEST_TMP/noexec: not an executable file"* ]]
	export KTSTR_SELFTESTS_RUNNER=$TEST_TMP/nope
	st --list
	unset KTSTR_SELFTESTS_RUNNER
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"KTSTR_SELFTESTS_RUNNER=$TEST_TMP/nope"* ]]
	# a binary that is no runner
	st --runner /bin/false --list
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"/bin/false -l: it failed; is it the sched_ext selftests runner?"* ]]
}

@test "selftests-cli: --list prints the runner's tests; the cache's runner is found" {
	fake_runner
	ST=$BIN/ktstr-selftests
	st --runner "$R" --list
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = pass_a ]
	[ "${#lines[@]}" -eq 6 ]
	# -t chooses, as for a run; --json says where each would run.
	st --runner "$R" --list -t 'pass_*' -t skip_nohz
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'pass_a\npass_ab\nskip_nohz\npass_d')" ]
	st --runner "$R" --list --json -t pass_d -t 'pass_a*'
	[ "$status" -eq 0 ]
	[ "$(jq -sc '[.[] | [.type, .name, .vm, .append]]' <<<"$output")" = \
		'[["selftest_plan","pass_a",0,null],["selftest_plan","pass_ab",0,null],["selftest_plan","pass_d",0,null]]' ]
	st --runner "$R" --list -t nothing_like_it
	[ "$status" -eq 2 ]
	mkdir -p "$FAKE_CACHE/.schedulers/$FAKE_KEY/selftests"
	cp "$R" "$FAKE_CACHE/.schedulers/$FAKE_KEY/selftests/runner"
	st --list
	rm -rf "$FAKE_CACHE/.schedulers/$FAKE_KEY"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "selftests-cli: --list to stdout that cannot be written is exit 2; a closed pipe is 141 and quiet" {
	[ -w /dev/full ] || skip "no /dev/full"
	fake_runner
	export KTSTR_CACHE_DIR=$FAKE_CACHE
	run --separate-stderr bash -c '"$@" >/dev/full' _ "$BIN/ktstr-selftests" \
		--kernel "$FAKE_KEY" --runner "$R" --list
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-selftests "$stderr"
	[[ "$stderr" == "ktstr-selftests: cannot write the test list to stdout: No space left on device" ]]
	for pipe in - ''; do
		run bash -c 'set -o pipefail; { sleep 0.3; trap "$1" PIPE; "${@:3}" 2>"$2"; } | true' \
			_ "$pipe" "$TEST_TMP/err" "$BIN/ktstr-selftests" --kernel "$FAKE_KEY" --runner "$R" --list
		[ "$status" -eq 141 ]
		[ ! -s "$TEST_TMP/err" ]
	done
}

@test "selftests-cli: -t that matches nothing is refused before any VM" {
	fake_runner
	fake_vm
	st --runner "$R" -t pass_a -t 'nomatch*'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-t 'nomatch*': no selftest of this runner matches it"* ]]
	[ ! -e "$TEST_TMP/vm.args" ]
}

# --junit is written after the VMs: a FILE that cannot be is exit 2 before
# the runner is looked for and before any VM; missing directories are made.
@test "selftests-cli: an unwritable --junit FILE is exit 2 before any VM; missing directories are made" {
	fake_runner
	fake_vm
	touch "$TEST_TMP/file"
	for bad in "$TEST_TMP/file/j.xml" "$TEST_TMP" /proc/ktstr-j.xml; do
		st --runner "$R" --junit "$bad"
		echo "$stderr"
		[ "$status" -eq 2 ]
		assert_one_line_error ktstr-selftests "$stderr"
		[[ "$stderr" == "ktstr-selftests: --junit $bad: "*"; name a file you can write" ]]
		[ -z "$output" ]
		[ ! -e "$TEST_TMP/vm.runs" ]
	done
	# before the runner: a missing one is not what is said
	st --runner "$TEST_TMP/nope" --junit "$TEST_TMP/file/j.xml"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--junit $TEST_TMP/file/j.xml: $TEST_TMP/file is not a directory; "* ]]
	# --list writes no report: nothing to check
	st --runner "$R" --list --junit "$TEST_TMP/file/j.xml"
	[ "$status" -eq 0 ]

	st --runner "$R" -t pass_d --junit "$TEST_TMP/reports/new/j.xml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$TEST_TMP/vm.runs")" -eq 1 ]
	python3 - "$TEST_TMP/reports/new/j.xml" <<'EOF'
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]).documentElement
assert d.getAttribute("tests") == "1", d.toxml()
EOF
}

@test "selftests-cli: pass, skip with its reason, fail with its output, a crash; exit 1 and JUnit" {
	fake_runner
	fake_vm
	st --runner "$R" --json --junit "$TEST_TMP/j.xml"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	# one VM with the default topology and the runner included
	[ "$(wc -l <"$TEST_TMP/vm.runs")" -eq 1 ]
	grep -q -- "--topo 1,1,4,1 -i $R" "$TEST_TMP/vm.args"
	got=$(jq -sc '[.[] | select(.type == "selftest") | [.name, .result]]' <<<"$output")
	[ "$got" = '[["pass_a","pass"],["pass_ab","pass"],["skip_nohz","skip"],["fail_b","fail"],["crash_c","fail"],["pass_d","pass"]]' ]
	st --runner "$R" --json
	rec skip_nohz | jq -e '.reason == "Skipping: skip_nohz needs nohz_full="'
	rec fail_b | jq -e '.output == ["ERR: fail_b.c:12", "Expected 0, got 3"]
		and .reason == "Expected 0, got 3" and (.duration_ms | type) == "number"'
	rec crash_c | jq -e '.reason | test("killed by signal 11")'
	# pass_a's invocation ran pass_ab too: no duration of its own
	rec pass_a | jq -e 'has("duration_ms") | not'
	rec selftests_summary | jq -e '.tests == 6 and .passed == 3 and
		.skipped == 1 and .failed == 2 and .vms == 1'
	python3 - "$TEST_TMP/j.xml" <<'EOF'
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]).documentElement
assert d.getAttribute("tests") == "6", d.toxml()
assert d.getAttribute("failures") == "2" and d.getAttribute("skipped") == "1"
cases = {c.getAttribute("name"): c for c in d.getElementsByTagName("testcase")}
f = cases["fail_b"].getElementsByTagName("failure")[0]
assert f.getAttribute("message") == "Expected 0, got 3"
assert "ERR: fail_b.c:12" in f.firstChild.data
assert cases["skip_nohz"].getElementsByTagName("skipped")
EOF
}

@test "selftests-cli: -t picks tests, -j splits them, the human report" {
	fake_runner
	fake_vm
	st --runner "$R" -t 'pass_*' -j 2
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	# pass_a and pass_ab share an invocation, so a VM; pass_d has the other
	[ "$(wc -l <"$TEST_TMP/vm.runs")" -eq 2 ]
	[[ "$output" == *"PASS "*"pass_a"* ]]
	[[ "$output" == *"3 passed, 0 skipped, 0 failed of 3 in 2 VMs"* ]]
	[[ "$output" != *fail_b* ]]
}

@test "selftests-cli: a VM that dies fails its tests with the reason" {
	fake_runner
	fake_vm
	cat >"$TEST_TMP/bin/ktstr-vm" <<'EOF'
#!/bin/sh
echo '{"type":"vm_exit","reason":"boot_timeout","message":"no agent after 42 s"}'
exit 2
EOF
	st --runner "$R" -t pass_d --json
	[ "$status" -eq 1 ]
	rec pass_d | jq -e '.result == "fail" and
		(.reason | test("boot_timeout: no agent after 42 s"))'
}

@test "selftests-cli: Ctrl-C reports what finished, the rest as interrupted, and says so" {
	fake_runner
	fake_vm
	# pass_d finishes, then fail_b's invocation hangs until the signal.
	cat >"$TEST_TMP/bin/ktstr-vm" <<EOF
#!/bin/sh
for l in "@@ktstr-selftest begin pass_d 1.0" "===== START =====" "TEST: pass_d" \
	"OUTPUT:" "ok 1 pass_d # " "=====  END  =====" "@@ktstr-selftest end pass_d 0 2.0" \
	"@@ktstr-selftest begin fail_b 2.0"; do
	printf '{"type":"output","stream":"stdout","line":"%s"}\n' "\$l"
done
touch "$TEST_TMP/vm.started"
exec sleep 30
EOF
	local json pid
	for json in --json ""; do
		rm -f "$TEST_TMP/vm.started"
		KTSTR_CACHE_DIR=$FAKE_CACHE "$ST" --kernel "$FAKE_KEY" --runner "$R" \
			-t pass_d -t fail_b --junit "$TEST_TMP/j.xml" $json \
			>"$TEST_TMP/out" 2>"$TEST_TMP/err" &
		pid=$!
		for _ in $(seq 100); do [ -e "$TEST_TMP/vm.started" ] && break; sleep 0.1; done
		kill -INT "$pid"
		status=0
		wait "$pid" || status=$?
		output=$(cat "$TEST_TMP/out")
		echo "json=$json status=$status"; echo "$output"; cat "$TEST_TMP/err"
		[ "$status" -eq 130 ]
		[ -z "$json" ] || rec fail_b | jq -e '.result == "error" and
			.reason == "interrupted before it finished"'
		[ -z "$json" ] || rec selftests_summary | jq -e '.passed == 1 and .errors == 1 and
			.interrupted'
	done
	[[ "$output" == *"PASS "*"pass_d"* ]]
	[[ "$output" == *"ERROR "*"fail_b: interrupted before it finished"* ]]
	[[ "$output" == *"1 passed, 0 skipped, 0 failed, 1 interrupted of 2 in 1 VM, "*"s (interrupted)" ]]
	python3 - "$TEST_TMP/j.xml" <<'PY'
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]).documentElement
assert d.getAttribute("tests") == "2" and d.getAttribute("errors") == "1", d.toxml()
cases = {c.getAttribute("name"): c for c in d.getElementsByTagName("testcase")}
e = cases["fail_b"].getElementsByTagName("error")[0]
assert e.getAttribute("message") == "interrupted before it finished"
PY
}
