#!/usr/bin/env bats
# ktstr-fetch against a local kernel.org stand-in (tests/lib/httpd.py on
# 127.0.0.1): id resolution, checksum verification, resume, error reports.

load lib/common
load lib/fetch

# One fixture tree per file; each test gets its own server (the dropped
# connection happens once per server).
setup_file() {
	export WWW="$BATS_FILE_TMPDIR/www"
}

setup() {
	common_setup
	export XDG_CACHE_HOME="$TEST_TMP/cache"
	HTTP_LOG="$TEST_TMP/http.log"
	python3 "$BATS_TEST_DIRNAME/lib/httpd.py" --root "$WWW" --log "$HTTP_LOG" \
		--lifetime 120 >"$TEST_TMP/port" 3>&- &
	HTTPD_PID=$!
	for _ in $(seq 100); do
		[ -s "$TEST_TMP/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$TEST_TMP/port")
	[ -n "$PORT" ]
	export KTSTR_KERNEL_ORG_URL="http://127.0.0.1:$PORT"
	unset KTSTR_KERNEL_RELEASES_URL KTSTR_KERNEL_PARALLELISM
}

teardown() {
	[ -n "${HTTPD_PID:-}" ] && kill "$HTTPD_PID" 2>/dev/null; wait 2>/dev/null || true
	common_teardown
}

# Versions --list resolves ID to, space separated.
list_versions() {
	run --separate-stderr ktstr-fetch --list "$@"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	versions=$(printf '%s\n' "$output" | jq -r .version | tr '\n' ' ')
	versions=${versions% }
}

@test "exact version resolves to itself" {
	list_versions 6.14.2
	[ "$versions" = "6.14.2" ]
	jq -e 'select(.type == "release" and .id == "6.14.2" and (.sha256 | length) == 64)' \
		<<<"$output"
}

@test "x.y.0 is named the kernel.org way" {
	list_versions 6.13.0
	[ "$versions" = "6.13" ]
}

@test "prefix 6.14 resolves to the highest 6.14.y" {
	list_versions 6.14
	[ "$versions" = "6.14.3" ]
}

@test "prefix 6 resolves to the highest 6.x.y" {
	list_versions 6
	[ "$versions" = "6.14.3" ]
}

@test "bare id: the latest series with at least 8 maintenance releases" {
	list_versions
	[ "$versions" = "6.13.8" ]
	list_versions ""
	[ "$versions" = "6.13.8" ]
}

@test "range A..B covers every release of both ends' series" {
	list_versions 6.13..6.14
	[ "$versions" = "6.13 6.13.1 6.13.2 6.13.3 6.13.4 6.13.5 6.13.6 6.13.7 6.13.8 6.14 6.14.1 6.14.2 6.14.3" ]
}

@test "range A..=B across majors" {
	list_versions 5.15.2..=6.12.1
	[ "$versions" = "5.15.2 5.15.3 6.12 6.12.1" ]
}

@test "several ids in one call" {
	list_versions 6.12.3 6.14
	[ "$versions" = "6.12.3 6.14.3" ]
}

@test "fetch downloads, verifies, extracts, then reports cached" {
	run --separate-stderr ktstr-fetch 6.13.2
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	jq -e 'select(.type == "source" and .kind == "tarball" and .version == "6.13.2"
		and .cached == false)' <<<"$output"
	src=$(jq -r .path <<<"$output")
	[ "$src" = "$XDG_CACHE_HOME/ktstr/sources/linux-6.13.2" ]
	grep -qx 'SUBLEVEL = 2' "$src/Makefile"
	[ -f "$XDG_CACHE_HOME/ktstr/tarballs/linux-6.13.2.tar.xz" ]
	[ "$(jq -r .sha256 <<<"$output")" = \
	  "$(sha256sum "$XDG_CACHE_HOME/ktstr/tarballs/linux-6.13.2.tar.xz" | cut -d' ' -f1)" ]
	# No temp or partial files left behind.
	[ -z "$(find "$XDG_CACHE_HOME" -name '*.part' -o -name '.extract-*')" ]
	n=$(grep -c 'linux-6.13.2.tar.xz' "$HTTP_LOG")
	run --separate-stderr ktstr-fetch 6.13.2
	[ "$status" -eq 0 ]
	jq -e 'select(.cached == true)' <<<"$output"
	[ "$(grep -c 'linux-6.13.2.tar.xz' "$HTTP_LOG")" -eq "$n" ]
}

@test "--no-extract keeps only the verified tarball" {
	run --separate-stderr ktstr-fetch --no-extract 6.12.1
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = "$XDG_CACHE_HOME/ktstr/tarballs/linux-6.12.1.tar.xz" ]
	[ ! -e "$XDG_CACHE_HOME/ktstr/sources/linux-6.12.1" ]
}

@test "a range fetches every version in it" {
	run --separate-stderr ktstr-fetch 6.12.9..6.12.10
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r .version <<<"$output" | tr '\n' ' ')" = "6.12.9 6.12.10 " ]
	[ -d "$XDG_CACHE_HOME/ktstr/sources/linux-6.12.9" ]
	[ -d "$XDG_CACHE_HOME/ktstr/sources/linux-6.12.10" ]
}

@test "a range with -j 3 fetches in parallel, records in order" {
	run --separate-stderr ktstr-fetch -j 3 6.12.2..6.12.7
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .version <<<"$output" | tr '\n' ' ')" = "6.12.2 6.12.3 6.12.4 6.12.5 6.12.6 6.12.7 " ]
	for v in 2 3 4 5 6 7; do
		grep -qx "SUBLEVEL = $v" "$XDG_CACHE_HOME/ktstr/sources/linux-6.12.$v/Makefile"
	done
}

@test "KTSTR_KERNEL_PARALLELISM: one bad release fails the run, the rest arrive" {
	KTSTR_KERNEL_PARALLELISM=2 run --separate-stderr ktstr-fetch 6.14..6.14.1
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 1 ]
	assert_one_line_error ktstr-fetch "$stderr"
	[[ "$stderr" == *"linux-6.14.1.tar.xz: sha256 mismatch"* ]]
	[ "$(jq -r .version <<<"$output")" = "6.14" ]
	[ -d "$XDG_CACHE_HOME/ktstr/sources/linux-6.14" ]
	[ -z "$(find "$XDG_CACHE_HOME" -name '*6.14.1*')" ]
}

@test "a corrupted download is rejected and nothing is cached" {
	expect_error 1 "sha256 mismatch" 6.14.1
	[[ "$stderr" == *"linux-6.14.1.tar.xz"* ]]
	[[ "$stderr" == *"nothing cached"* ]]
	[ -z "$(find "$XDG_CACHE_HOME" -name '*6.14.1*')" ]
}

@test "an interrupted download is resumed with a Range request" {
	run --separate-stderr ktstr-fetch 6.14.2
	echo "status=$status stdout=$output stderr=$stderr"
	cat "$HTTP_LOG"
	[ "$status" -eq 0 ]
	grep -q '^GET /v6.x/linux-6.14.2.tar.xz range=-$' "$HTTP_LOG"
	grep -q '^GET /v6.x/linux-6.14.2.tar.xz range=bytes=4096-$' "$HTTP_LOG"
	[ "$(jq -r .sha256 <<<"$output")" = \
	  "$(sha256sum "$WWW/v6.x/linux-6.14.2.tar.xz" | cut -d' ' -f1)" ]
	[ -f "$XDG_CACHE_HOME/ktstr/sources/linux-6.14.2/padding.bin" ]
}

@test "a leftover .part from an earlier run is resumed" {
	mkdir -p "$XDG_CACHE_HOME/ktstr/tarballs"
	half=$(( $(stat -c %s "$WWW/v6.x/linux-6.13.5.tar.xz") / 2 ))
	head -c "$half" "$WWW/v6.x/linux-6.13.5.tar.xz" \
		>"$XDG_CACHE_HOME/ktstr/tarballs/linux-6.13.5.tar.xz.part"
	run --separate-stderr ktstr-fetch --no-extract 6.13.5
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	grep -q "^GET /v6.x/linux-6.13.5.tar.xz range=bytes=$half-\$" "$HTTP_LOG"
	[ ! -e "$XDG_CACHE_HOME/ktstr/tarballs/linux-6.13.5.tar.xz.part" ]
}

@test "an unreachable server is one clear line, exit 2" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	export KTSTR_KERNEL_ORG_URL="http://127.0.0.1:$port"
	expect_error 2 "cannot fetch http://127.0.0.1:$port/v6.x/sha256sums.asc:" --list 6.14
}

@test "a release that does not exist" {
	expect_error 2 "kernel id '6.99': no such release" --list 6.99
}

@test "a major with no index on the server" {
	expect_error 2 "HTTP 404" --list 9.1
}

@test "a path id is used in place" {
	mkdir -p "$TEST_TMP/linux"
	printf 'VERSION = 6\nPATCHLEVEL = 15\nSUBLEVEL = 0\n' >"$TEST_TMP/linux/Makefile"
	run --separate-stderr ktstr-fetch "$TEST_TMP/linux"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	jq -e --arg p "$TEST_TMP/linux" \
		'select(.kind == "path" and .path == $p and .version == "6.15")' <<<"$output"
	expect_error 2 "not a kernel source tree" "$TEST_TMP"
	expect_error 2 "is not a directory" "$TEST_TMP/nope"
}

@test "a git tag id is cloned into the source cache" {
	command -v git >/dev/null || skip "git not installed"
	repo="$TEST_TMP/repo"
	mkdir -p "$repo"
	printf 'VERSION = 6\nPATCHLEVEL = 16\nSUBLEVEL = 1\n' >"$repo/Makefile"
	git -C "$repo" init -q
	git -C "$repo" -c user.name=t -c user.email=t@t add Makefile
	git -C "$repo" -c user.name=t -c user.email=t@t commit -qm init
	git -C "$repo" tag v6.16.1
	sha=$(git -C "$repo" rev-parse HEAD)
	run --separate-stderr ktstr-fetch "git+file://$repo#tag=v6.16.1"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	jq -e 'select(.kind == "git" and .version == "6.16.1" and .cached == false)' <<<"$output"
	[ -f "$(jq -r .path <<<"$output")/Makefile" ]
	run --separate-stderr ktstr-fetch "git+file://$repo#sha=$sha"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	jq -e 'select(.kind == "git" and .version == "6.16.1")' <<<"$output"
	expect_error 2 "git could not fetch" "git+file://$repo#branch=nope"
}

