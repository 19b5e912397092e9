#!/usr/bin/env bats
# ktstr-build: bad inputs and a broken cache, against the fake kernel tree
# (tests/fixtures/fake-kernel).  Building and the cache at work:
# tests/build.bats.

load cli

setup() {
	common_setup
	export KTSTR_CACHE_DIR="$TEST_TMP/kernels"
	SRC="$TEST_TMP/src"
	cp -r "$BATS_TEST_DIRNAME/../fixtures/fake-kernel" "$SRC"
}
teardown() { common_teardown; }

key_of() { jq -r 'select(.type == "kernel") | .key' <<<"$1"; }

@test "a fragment disabling SCHED_CLASS_EXT fails naming it" {
	printf '# CONFIG_SCHED_CLASS_EXT is not set\n' >"$TEST_TMP/off"
	run --separate-stderr ktstr-build --source "$SRC" --extra-kconfig "$TEST_TMP/off"
	echo "$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *CONFIG_SCHED_CLASS_EXT* ]]
	[[ "$stderr" != *CONFIG_FTRACE* ]]
	[ -z "$(ls "$KTSTR_CACHE_DIR" 2>/dev/null | grep -v '^\.')" ]
}

@test "corrupt metadata is reported by list, not fatal" {
	key=$(key_of "$(ktstr-build --source "$SRC")")
	mkdir "$KTSTR_CACHE_DIR/broken"
	echo '{not json' >"$KTSTR_CACHE_DIR/broken/metadata.json"
	run --separate-stderr ktstr-build list
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.key == "broken") | .status' <<<"$output")" = corrupt ]
	[ "$(jq -r 'select(.key == "'"$key"'") | .status' <<<"$output")" = valid ]
	[[ "$stderr" == *broken*corrupt* ]]
}

@test "list to stdout that cannot be written is exit 2; a closed pipe is 141 and quiet" {
	[ -w /dev/full ] || skip "no /dev/full"
	ktstr-build --source "$SRC" >/dev/null
	run --separate-stderr bash -c 'ktstr-build list >/dev/full'
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == "ktstr-build: cannot write the cache list to stdout: No space left on device" ]]
	for pipe in - ''; do
		run bash -c 'set -o pipefail; { sleep 0.3; trap "$0" PIPE; ktstr-build list 2>"$1"; } | true' \
			"$pipe" "$TEST_TMP/err"
		[ "$status" -eq 141 ]
		[ ! -s "$TEST_TMP/err" ]
	done
}

@test "a kernel cache that is not a directory is a one-line setup error, not an empty list" {
	: >"$TEST_TMP/file"
	KTSTR_CACHE_DIR="$TEST_TMP/file" run --separate-stderr ktstr-build list
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"KTSTR_CACHE_DIR=$TEST_TMP/file"*"ot a directory"* ]]
	# The same through XDG_CACHE_HOME, and for clean.
	unset KTSTR_CACHE_DIR
	XDG_CACHE_HOME="$TEST_TMP/file" run --separate-stderr ktstr-build clean
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"$TEST_TMP/file/ktstr/kernels"*"ot a directory"* ]]
	# A cache that does not exist yet is just empty.
	KTSTR_CACHE_DIR="$TEST_TMP/none" run --separate-stderr ktstr-build list
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "bad CPU caps are rejected" {
	run --separate-stderr ktstr-build --cpu-cap 0 --source "$SRC"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--cpu-cap '0'"* ]]
	KTSTR_CPU_CAP=abc run --separate-stderr ktstr-build --source "$SRC"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"KTSTR_CPU_CAP='abc'"* ]]
	KTSTR_CPU_CAP=0 run --separate-stderr ktstr-build --source "$SRC"
	[ "$status" -eq 2 ]
	# --cpu-cap wins over the variable.
	KTSTR_CPU_CAP=abc run --separate-stderr ktstr-build --cpu-cap 1 --source "$SRC"
	[ "$status" -eq 0 ]
}
