# Shared bats helpers.  Every test gets a private cache, state and temp dir so
bats_require_minimum_version 1.5.0
# runs never see each other's files; the e2e kernel comes from run-bats.

common_setup() {
	TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ktstr-test.XXXXXX")
	# Inherited by every ktstr-vm and QEMU this test starts, so leftovers
	# can be told apart from other runs' VMs on a shared machine.
	export KTSTR_TEST_MARK="$TEST_TMP"
	export XDG_STATE_HOME="$TEST_TMP/state"
	# Initramfs images are worth sharing between tests: one cache per run.
	export XDG_CACHE_HOME="${BATS_RUN_TMPDIR:-$TEST_TMP}/cache"
	unset KTSTR_CACHE_DIR KTSTR_KERNEL KTSTR_TEST_KERNEL KTSTR_VERBOSE
	KERNEL=${KTSTR_E2E_KERNEL:-}
	asan_setup
}

# For a setup_file that boots a VM its file's tests share: the same
# isolation common_setup gives a test (leftovers marked, state kept in the
# file's directory, no stray KTSTR_* from the caller's shell).  The image
# cache is the file's own business (schedulers.bats picks its own).
common_setup_file() {
	export KTSTR_TEST_MARK="$BATS_FILE_TMPDIR"
	export XDG_STATE_HOME="$BATS_FILE_TMPDIR/state"
	unset KTSTR_CACHE_DIR KTSTR_KERNEL KTSTR_TEST_KERNEL KTSTR_VERBOSE
}

common_teardown() {
	rm -rf "$TEST_TMP"
	asan_check
}

# Under KTSTR_ASAN (tests/run-bats), each test's programs write ASan and
# LeakSanitizer reports into a directory of the test's own, which teardown
# checks (UBSan's go to stderr: see tests/run-bats).
asan_setup() {
	[ -n "${KTSTR_ASAN_LOG_DIR:-}" ] || return 0
	ASAN_TEST_DIR="$KTSTR_ASAN_LOG_DIR/$(basename "$BATS_TEST_FILENAME" .bats)-$BATS_TEST_NUMBER"
	mkdir -p "$ASAN_TEST_DIR"
	export ASAN_OPTIONS="$KTSTR_ASAN_OPTIONS:log_path=$ASAN_TEST_DIR/report"
}

# A sanitizer report fails the test even when the program's exit status
# was what the test expected (a leak at exit after a correct "exit 2").
asan_check() {
	[ -n "${ASAN_TEST_DIR:-}" ] || return 0
	local f found=0
	for f in "$ASAN_TEST_DIR"/report*; do
		[ -e "$f" ] || continue
		found=1
		echo "sanitizer report $f:" >&2
		cat "$f" >&2
	done
	if [ "$found" -eq 1 ]; then
		return 1
	fi
	rmdir "$ASAN_TEST_DIR" 2>/dev/null || true
}

# Records of a given type from a JSON-lines file.
records() {
	jq -c --arg t "$2" 'select(.type == $t)' "$1"
}

# Wait (up to 60 s) for a record of type $2 in the growing file $1, as a
# background ktstr-vm writes it; fail if it never comes.
wait_for_record() {
	local _
	for _ in $(seq 300); do
		grep -q "\"type\":\"$2\"" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "no $2 record in $1 after 60 s" >&2
	return 1
}

# Fail if a QEMU started by this test is still running (after a short grace
# for one that is being reaped).  .ci/run checks for any QEMU at all.
assert_no_qemu() {
	local pid left tries
	for tries in $(seq 20); do
		left=
		for pid in $(pgrep qemu-system || true); do
			tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
				grep -qxF "KTSTR_TEST_MARK=$TEST_TMP" && left="$left $pid"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "QEMU left running:$left" >&2
	ps -o pid,args -p ${left// /,} >&2 || true
	return 1
}

# The output must be exactly one diagnostic line, prefixed with the program.
assert_one_line_error() {
	local prog=$1 text=$2
	[ "$(printf '%s\n' "$text" | grep -c .)" -le 2 ] || {
		echo "expected one diagnostic line, got: $text" >&2; return 1; }
	printf '%s\n' "$text" | head -n1 | grep -q "^$prog: " || {
		echo "diagnostic not prefixed with '$prog: ': $text" >&2; return 1; }
}
