#!/usr/bin/env bats
# ktstr-fetch: usage and ids refused before anything is fetched.  The
# kernel.org URL is a closed local port, so a test that reached the
# network would fail.  Fetching itself, against a local kernel.org
# stand-in: tests/fetch.bats.

load cli
load ../lib/fetch

setup() {
	common_setup
	export XDG_CACHE_HOME="$TEST_TMP/cache"
	# Nothing listens on the discard port.
	export KTSTR_KERNEL_ORG_URL="http://127.0.0.1:9"
	unset KTSTR_KERNEL_RELEASES_URL KTSTR_KERNEL_PARALLELISM
}

teardown() { common_teardown; }

@test "inverted range: swap the endpoints" {
	# (refused before the server is asked: it is not there)
	expect_error 2 "swap the endpoints" 6.14..6.12
}

@test "abbreviated git sha needs the full 40 hex" {
	expect_error 2 "full 40-hex" "git+https://127.0.0.1/linux.git#sha=abc"
}

@test "garbage ids name the id and list the forms" {
	expect_error 2 "kernel id 'foo bar'" "foo bar"
	[[ "$stderr" == *"git+URL#tag=NAME"* ]]
	expect_error 2 "kernel id 'foo': not a kernel id" foo
}

@test "a cache key that is not in the cache" {
	expect_error 2 "no such cache entry" 6.14.2-tarball-x86_64-kc1a2b3c4d
}

@test "bad -j and KTSTR_KERNEL_PARALLELISM" {
	run --separate-stderr ktstr-fetch -j 0 --list 6.14
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--jobs '0'"* ]]
	KTSTR_KERNEL_PARALLELISM=x run --separate-stderr ktstr-fetch --list 6.14
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"KTSTR_KERNEL_PARALLELISM='x'"* ]]
}

@test "--help and --version" {
	run ktstr-fetch --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ ktstr-fetch* ]]
	[[ "$output" == *"--no-extract"* ]]
	run ktstr-fetch --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-fetch (ktstr) "* ]]
	run --separate-stderr ktstr-fetch --bogus
	[ "$status" -eq 2 ]
}

@test "debian:FLAVOUR: --list names the flavour; a malformed flavour is refused" {
	run --separate-stderr ktstr-fetch --list debian:amd64
	[ "$status" -eq 0 ]
	[ "$output" = '{"type":"release","id":"debian:amd64","kind":"debian","flavour":"amd64"}' ]
	expect_error 2 "kernel id 'debian:AMD64': 'AMD64' is not a Debian kernel flavour" debian:AMD64
	[[ "$stderr" == *"use debian:amd64 or debian:cloud-amd64"* ]]
	expect_error 2 "kernel id 'debian:'" debian:
}

@test "debian:amd64 reaches fetch-debian-kernel as --flavour amd64" {
	# A closed mirror: apt's update fails, and says so (apt's own retries,
	# 7 s of back-off, are turned off for the test).
	export KTSTR_CACHE_DIR="$TEST_TMP/kcache" KTSTR_DEBIAN_MIRROR=http://127.0.0.1:9
	printf 'Acquire::Retries "0";\n' >"$TEST_TMP/apt.conf"
	export APT_CONFIG=$TEST_TMP/apt.conf
	run --separate-stderr ktstr-fetch debian:amd64
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"fetch-debian-kernel: apt-get update for trixie-backports failed"*"is http://127.0.0.1:9 reachable?"* ]]
	[[ "$stderr" == *"ktstr-fetch: kernel id 'debian:amd64': "*"fetch-debian-kernel failed (exit 2)"* ]]
	# The failed update is not remembered: the next fetch tries again.
	[ ! -e "$KTSTR_CACHE_DIR/.apt/state/.updated" ]
}

@test "fetch-debian-kernel: --help, a bad flavour, an unknown argument" {
	fdk=$BATS_TEST_DIRNAME/../../share/ktstr/fetch-debian-kernel
	run --separate-stderr "$fdk" --help
	[ "$status" -eq 0 ]
	[[ "$output" == "Usage: fetch-debian-kernel [--flavour FLAVOUR]"* ]]
	for f in "--flavour=x y" "--flavour=Amd64" "--flavour=amd64-" "--flavour="; do
		run --separate-stderr "$fdk" "$f"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		assert_one_line_error fetch-debian-kernel "$stderr"
		[[ "$stderr" == *"is not a Debian kernel flavour name"* ]]
	done
	KTSTR_DEBIAN_FLAVOUR=BAD run --separate-stderr "$fdk"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"flavour 'BAD'"* ]]
	run --separate-stderr "$fdk" --flavour
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--flavour needs a value"* ]]
	run --separate-stderr "$fdk" --bogus
	[ "$status" -eq 2 ]
	assert_one_line_error fetch-debian-kernel "$stderr"
	[[ "$stderr" == *"unknown argument '--bogus'"* ]]
}
