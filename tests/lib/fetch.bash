# Shared by the ktstr-fetch suites (tests/fetch.bats against a local
# kernel.org stand-in, tests/cli/fetch.bats without a network).

# expect_error CODE WANT ARGS...: ktstr-fetch ARGS exits CODE with nothing
# on stdout and one line on stderr that contains WANT.
expect_error() {
	local code=$1 want=$2; shift 2
	run --separate-stderr ktstr-fetch "$@"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq "$code" ]
	[ -z "$output" ]
	assert_one_line_error ktstr-fetch "$stderr"
	[[ "$stderr" == *"$want"* ]]
}
