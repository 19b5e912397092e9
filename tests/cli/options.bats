#!/usr/bin/env bats
# Bad options, for every program: exit 2, nothing on stdout, a diagnostic
# on stderr that starts with "<prog>: " and names the option.

load cli

setup() { common_setup; }
teardown() { common_teardown; }

# LEAD: set to 1 once every program's unknown-option message is the one
# line "<prog>: unknown option '--bogus' (see '<prog> --help')" (issue
# #12).  Today getopt's own message and a "Try '<prog> --help'" line come
# along; 1 then asserts exactly one stderr line, so every line prefixed.
ONE_LINE_ERRORS=0

check_bad_option() {
	local prog=$1 opt=$2 nlines
	run --separate-stderr "$prog" "$opt"
	echo "status=$status"
	echo "stdout=$output"
	echo "stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ -n "$stderr" ]
	[[ "$stderr" == "$prog: "* ]]
	nlines=$(printf '%s\n' "$stderr" | wc -l)
	if [ "$ONE_LINE_ERRORS" = 1 ]; then
		[ "$nlines" -eq 1 ]
		[[ "$stderr" == *"'$opt'"* ]]
	else
		# getopt's own message names a short option as "-- 'Z'".
		[[ "$(head -n1 <<<"$stderr")" == *"$opt"* ||
		   "$(head -n1 <<<"$stderr")" == *"-- '${opt#-}'"* ]]
	fi
	# Whatever the count, each line that is not the "Try ... --help" hint
	# names the program.
	! printf '%s\n' "$stderr" | grep -v "^$prog: " | grep -v "^Try '$prog --help'" | grep -q . || false
}

@test "options: ktstr" { check_bad_option ktstr --bogus; }
@test "options: ktstr-fetch" { check_bad_option ktstr-fetch --bogus; }
@test "options: ktstr-build" { check_bad_option ktstr-build --bogus; }
@test "options: ktstr-initramfs" { check_bad_option ktstr-initramfs --bogus; }
@test "options: ktstr-vm" { check_bad_option ktstr-vm --bogus; }
@test "options: ktstr-ctprof" { check_bad_option ktstr-ctprof --bogus; }
@test "options: ktstr-stats" { check_bad_option ktstr-stats --bogus; }
@test "options: ktstr-test" { check_bad_option ktstr-test --bogus; }

@test "options: a short option that does not exist, for every program" {
	local p
	for p in "${PROGRAMS[@]}"; do
		check_bad_option "$p" -Z
	done
}
