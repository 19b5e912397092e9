#!/usr/bin/env bats
# Bad options, for every program: exit 2, nothing on stdout, a diagnostic
# on stderr that starts with "<prog>: " and names the option.

load cli

setup() { common_setup; }
teardown() { common_teardown; }

# check_bad_option PROG OPT [CMD...]: run CMD (default PROG) with OPT and
# expect the one line "PROG: unknown option 'OPT' (see 'PROG --help')".
check_bad_option() {
	local prog=$1 opt=$2
	shift 2
	[ $# -gt 0 ] || set -- "$prog"
	run --separate-stderr "$@" "$opt"
	echo "status=$status"
	echo "stdout=$output"
	echo "stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "$prog: "* ]]
	[[ "$stderr" == *"'$opt'"* ]]
	[[ "$stderr" == *"(see '$prog --help')" ]]
}

@test "options: ktstr" { check_bad_option ktstr --bogus; }
@test "options: ktstr-fetch" { check_bad_option ktstr-fetch --bogus; }
@test "options: ktstr-build" { check_bad_option ktstr-build --bogus; }
@test "options: ktstr-initramfs" { check_bad_option ktstr-initramfs --bogus; }
@test "options: ktstr-vm" { check_bad_option ktstr-vm --bogus; }
@test "options: ktstr-ctprof" { check_bad_option ktstr-ctprof --bogus; }
@test "options: ktstr-stats" { check_bad_option ktstr-stats --bogus; }
@test "options: ktstr-test" { check_bad_option ktstr-test --bogus; }
@test "options: ktstr-verify" { check_bad_option ktstr-verify --bogus; }
@test "options: ktstr-selftests" { check_bad_option ktstr-selftests --bogus; }
@test "options: ktstr-export" { check_bad_option ktstr-export --bogus; }

@test "options: a value given to a switch is named as such, not as an unknown option" {
	local p
	for p in ktstr-vm ktstr-initramfs; do
		run --separate-stderr "$p" --tools=yes
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[ "$stderr" = "$p: option '--tools' takes no value; drop the '=yes' (see '$p --help')" ]
	done
	# Unknown stays unknown, with or without a value.
	run --separate-stderr ktstr-vm --bogus=1
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-vm: unknown option '--bogus' (see 'ktstr-vm --help')" ]
}

@test "options: a short option that does not exist, for every program" {
	local p
	for p in "${PROGRAMS[@]}"; do
		check_bad_option "$p" -Z
	done
}

@test "options: after a subcommand, and through the dispatcher" {
	local sub
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
