#!/usr/bin/env bats
# ktstr-initramfs: usage and bad inputs, each refused before an image is
# written.  What goes into the image: tests/initramfs.bats.

load cli

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}/ktstr-initramfs
	# A private cache per test: cache hits must be the ones the test made.
	export KTSTR_CACHE_DIR="$TEST_TMP/cache"
	unset KTSTR_BUSYBOX_PATH
	BB=/bin/busybox
}

teardown() { common_teardown; }

# Build with busybox standing in for the (static) guest agent.
build() {
	run --separate-stderr "$BIN" --agent "$BB" --busybox "$BB" "$@"
}

@test "--help and --version" {
	run "$BIN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ ktstr-initramfs* ]]
	[[ "$output" == *--include* ]]
	run "$BIN" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-initramfs (ktstr) "* ]]
}

@test "bad option and stray argument are usage errors" {
	run --separate-stderr "$BIN" --frobnicate
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ktstr-initramfs: "*"--frobnicate"* ]]
	run --separate-stderr "$BIN" extra
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unexpected argument 'extra'"* ]]
}

@test "a missing include exits 2 with one line naming it and leaves nothing" {
	mkdir "$TEST_TMP/out"
	run --separate-stderr "$BIN" --agent "$BB" --busybox "$BB" \
		-i "$TEST_TMP/no-such-thing" -o "$TEST_TMP/out/img.cpio.gz"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"include $TEST_TMP/no-such-thing does not exist; check the -i path"* ]]
	[ -z "$(ls -A "$TEST_TMP/out")" ]
	[ -z "$(find "$TEST_TMP/cache" -type f 2>/dev/null)" ]
}

@test "two includes with one basename are refused" {
	mkdir -p "$TEST_TMP/a" "$TEST_TMP/b"
	echo 1 >"$TEST_TMP/a/conf"
	echo 2 >"$TEST_TMP/b/conf"
	build -i "$TEST_TMP/a/conf" -i "$TEST_TMP/b/conf"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"/include-files/conf"* ]]
}

@test "an unwritable -o path exits 2 naming it" {
	build -o "$TEST_TMP/missing-dir/img.cpio.gz"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"$TEST_TMP/missing-dir/img.cpio.gz"* ]]
	[[ "$stderr" == *"writable"* ]]
	# Refused before any work: the cache was not even created.
	[ ! -e "$TEST_TMP/cache" ]
}

@test "missing agent and missing busybox are setup errors" {
	run --separate-stderr "$BIN" --agent "$TEST_TMP/no-agent" --busybox "$BB"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"$TEST_TMP/no-agent"* ]]
	KTSTR_BUSYBOX_PATH="$TEST_TMP/no-busybox" run --separate-stderr "$BIN" --agent "$BB"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"$TEST_TMP/no-busybox"* ]]
}

@test "an agent that is no program for this machine is refused, and nothing is written" {
	# A text file packs fine but leaves a guest with no init to run.
	printf 'not a program\n' >"$TEST_TMP/agent.txt"
	run --separate-stderr "$BIN" --agent "$TEST_TMP/agent.txt" --busybox "$BB" -o "$TEST_TMP/out.cpio"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"guest agent $TEST_TMP/agent.txt is not an x86-64 ELF program"* ]]
	[ ! -e "$TEST_TMP/out.cpio" ]
	! ls "$TEST_TMP"/out.cpio* 2>/dev/null | grep -q . || false
}
