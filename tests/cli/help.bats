#!/usr/bin/env bats
# Every program's --help and --version, and its man page (as git's
# t0012-help): --help is usage on stdout, nothing on stderr, exit 0;
# --version is "<prog> (ktstr) <version>", the same version everywhere.

load cli

setup() { common_setup; }
teardown() { common_teardown; }

check_help() {
	local prog=$1 version
	run --separate-stderr "$prog" --help
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == "usage: $prog"* ]]
	[ "${#lines[@]}" -ge 3 ]

	run --separate-stderr "$prog" --version
	echo "status=$status output=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" =~ ^"$prog (ktstr) "[^[:space:]]+$ ]]
	version=${output##* }
	# One version for the whole suite: the dispatcher's.
	[ "$(ktstr --version)" = "ktstr (ktstr) $version" ]

	[ -f "$BATS_TEST_DIRNAME/../../man/$prog.1" ]
	# (the dispatcher lists the others in its own page and help: ktstr.bats)

	# Help or version that did not reach stdout is no success.
	if [ -w /dev/full ]; then
		run --separate-stderr bash -c '"$1" --help >/dev/full' sh "$prog"
		[ "$status" -eq 2 ]
		[ "$stderr" = "$prog: cannot write the help to stdout: No space left on device" ]
		run --separate-stderr bash -c '"$1" --version >/dev/full' sh "$prog"
		[ "$status" -eq 2 ]
		[ "$stderr" = "$prog: cannot write the version to stdout: No space left on device" ]
	fi
}

@test "help: every program is in this table" {
	local c listed
	for c in "$BATS_TEST_DIRNAME"/../../cmd/ktstr-*.c; do
		listed=$(basename "$c" .c)
		[[ " ${PROGRAMS[*]} " == *" $listed "* ]] || { echo "$listed missing from PROGRAMS" >&2; return 1; }
	done
	[ ${#PROGRAMS[@]} -eq 11 ]
}

@test "help: ktstr" { check_help ktstr; }
@test "help: ktstr-fetch" { check_help ktstr-fetch; }
@test "help: ktstr-build" { check_help ktstr-build; }
@test "help: ktstr-initramfs" { check_help ktstr-initramfs; }
@test "help: ktstr-vm" { check_help ktstr-vm; }
@test "help: ktstr-ctprof" { check_help ktstr-ctprof; }
@test "help: ktstr-stats" { check_help ktstr-stats; }
@test "help: ktstr-test" { check_help ktstr-test; }
@test "help: ktstr-verify" { check_help ktstr-verify; }
@test "help: ktstr-selftests" { check_help ktstr-selftests; }
@test "help: ktstr-export" { check_help ktstr-export; }
