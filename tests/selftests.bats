#!/usr/bin/env bats
# ktstr-selftests end to end: the kernel's own sched_ext selftests runner
# (built by share/ktstr/build-schedulers into KTSTR_E2E_SCHED_DIR/selftests)
# in real VMs under the e2e kernel.  A subset only, to keep CI short: the
# whole run (33 tests, about 200 s of guest time under TCG) is in the
# README's numbers.

load lib/common

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	RUNNER=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}/selftests/runner
	unset KTSTR_SELFTESTS_RUNNER
	export KTSTR_LOCK_DIR=$TEST_TMP/locks
}
teardown() { common_teardown; }

@test "selftests: three tests, nohz_tick in a VM booted with nohz_full=; records and JUnit; exit 0" {
	[ -x "$RUNNER" ] || { echo "no selftests runner at $RUNNER (share/ktstr/build-schedulers)" >&2; return 1; }
	run --separate-stderr ktstr-selftests -k "$KERNEL" --runner "$RUNNER" \
		-t minimal -t create_dsq -t nohz_tick --junit "$TEST_TMP/st.xml" --json
	echo "status=$status"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	local got
	got=$(jq -sc '[.[] | select(.type == "selftest") | [.name, .result]] | sort' <<<"$output")
	[ "$got" = '[["create_dsq","pass"],["minimal","pass"],["nohz_tick","pass"]]' ]
	jq -se 'map(select(.type == "selftest" and .name == "nohz_tick"))[0] |
		.append == "nohz_full=1-3" and .vm == 1 and .duration_ms > 0' <<<"$output"
	jq -se 'map(select(.type == "selftest" and .name == "minimal"))[0] |
		.append == null and .vm == 0 and .duration_ms > 0 and .reason == null' <<<"$output"
	jq -se 'map(select(.type == "selftests_summary"))[0] |
		.tests == 3 and .passed == 3 and .failed == 0 and .vms == 2 and .wall_ms > 0' <<<"$output"
	python3 - "$TEST_TMP/st.xml" <<'EOF'
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]).documentElement
assert d.getAttribute("tests") == "3" and d.getAttribute("failures") == "0", d.toxml()
names = sorted(c.getAttribute("name") for c in d.getElementsByTagName("testcase"))
assert names == ["create_dsq", "minimal", "nohz_tick"], names
EOF
}

@test "selftests: Ctrl-C stops the VMs and leaves nothing behind; exit 130" {
	[ -x "$RUNNER" ] || return 1
	export TMPDIR=$TEST_TMP/tmp
	mkdir -p "$TMPDIR"
	ktstr-selftests -k "$KERNEL" --runner "$RUNNER" -t reload_loop -t minimal \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	local pid=$! rc=0 i
	# let its VM boot
	for i in $(seq 100); do
		pgrep -P "$pid" >/dev/null && break
		sleep 0.1
	done
	sleep 3
	kill -INT "$pid"
	wait "$pid" || rc=$?
	cat "$TEST_TMP/err"
	[ "$rc" -eq 130 ]
	# our work directory is gone (teardown checks no process is left)
	[ -z "$(ls -d "$TMPDIR"/ktstr-selftests-* 2>/dev/null)" ]
}
