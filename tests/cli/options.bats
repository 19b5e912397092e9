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
# Today a subcommand's getopt message is prefixed with the subcommand's
# name ("compare: unrecognized option") or the program's full path (ktstr
# vm); only ONE_LINE_ERRORS=1 checks their prefix.
SUBCOMMAND=0

# check_bad_option PROG OPT [CMD...]: run CMD (default PROG) with OPT.
check_bad_option() {
	local prog=$1 opt=$2 nlines
	shift 2
	[ $# -gt 0 ] || set -- "$prog"
	run --separate-stderr "$@" "$opt"
	echo "status=$status"
	echo "stdout=$output"
	echo "stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ -n "$stderr" ]
	nlines=$(printf '%s\n' "$stderr" | wc -l)
	if [ "$ONE_LINE_ERRORS" = 1 ]; then
		[ "$nlines" -eq 1 ]
		[[ "$stderr" == "$prog: "* ]]
		[[ "$stderr" == *"'$opt'"* ]]
		return 0
	fi
	# Until then: getopt's message (naming a short option as "-- 'Z'")
	# and the hint after it.
	[[ "$stderr" == *"$opt"* || "$stderr" == *"-- '${opt#-}'"* ]]
	[ "$SUBCOMMAND" = 1 ] && return 0
	[[ "$stderr" == "$prog: "* ]]
	# Each line that is not the "Try ... --help" hint names the program.
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

@test "options: after a subcommand, and through the dispatcher" {
	local sub
	SUBCOMMAND=1
	for sub in list clean; do check_bad_option ktstr-build --bogus ktstr-build "$sub"; done
	for sub in verdict list show compare clean; do
		check_bad_option ktstr-stats --bogus ktstr-stats "$sub"
	done
	for sub in capture compare show metric-list convert; do
		check_bad_option ktstr-ctprof --bogus ktstr-ctprof "$sub"
	done
	check_bad_option ktstr-vm --bogus ktstr vm
	check_bad_option ktstr-stats --bogus ktstr stats compare
}
