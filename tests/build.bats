#!/usr/bin/env bats
# ktstr-build against a fake kernel tree (tests/fixtures/fake-kernel) whose
# Makefile builds in well under a second, and the kernel cache it fills.

load lib/common

setup() {
	common_setup
	export KTSTR_CACHE_DIR="$TEST_TMP/kernels"
	SRC="$TEST_TMP/src"
	cp -r "$BATS_TEST_DIRNAME/fixtures/fake-kernel" "$SRC"
}
teardown() { common_teardown; }

key_of() { jq -r 'select(.type == "kernel") | .key' <<<"$1"; }

@test "build: the entry appears in list, complete and valid" {
	run --separate-stderr ktstr-build --source "$SRC"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r .cached <<<"$output")" = false ]
	key=$(key_of "$output")
	[[ "$key" == local-*-x86_64-kc* ]]
	[[ "$key" != *-xkc* ]]
	d="$KTSTR_CACHE_DIR/$key"
	[ "$(jq -r .path <<<"$output")" = "$d" ]
	for f in bzImage config vmlinux metadata.json; do [ -s "$d/$f" ]; done
	[ "$(head -c4 "$d/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]
	jq -e '.version == "6.14.2" and .source.type == "path" and .arch == "x86_64"
	       and .image_name == "bzImage" and (.kconfig_hash | length) == 8
	       and .extra_kconfig_hash == null and (.built_at | test("Z$"))
	       and (.build_ms | type) == "number"' "$d/metadata.json"
	grep -qx CONFIG_SCHED_CLASS_EXT=y "$d/config"
	run --separate-stderr ktstr-build list
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "cache_entry") | .key + " " + .status' <<<"$output")" = "$key valid" ]
	# Nothing half-written left behind.
	! ls -a "$KTSTR_CACHE_DIR" | grep -q '^\.tmp' || false
}

@test "rebuild of the same key is reported cached without building" {
	ktstr-build --source "$SRC" >"$TEST_TMP/1"
	rm "$SRC/vmlinux"
	run --separate-stderr ktstr-build --source "$SRC"
	[ "$status" -eq 0 ]
	[ "$(jq -r .cached <<<"$output")" = true ]
	[ ! -e "$SRC/vmlinux" ]
	[ "$(key_of "$output")" = "$(key_of "$(cat "$TEST_TMP/1")")" ]
	# --force rebuilds.
	run --separate-stderr ktstr-build --force --source "$SRC"
	[ "$status" -eq 0 ]
	[ "$(jq -r .cached <<<"$output")" = false ]
	[ -e "$SRC/vmlinux" ]
}

@test "--extra-kconfig adds an -xkc segment and is applied last" {
	printf 'CONFIG_FAKE_EXTRA=y\n' >"$TEST_TMP/extra"
	k1=$(key_of "$(ktstr-build --source "$SRC")")
	run --separate-stderr ktstr-build --source "$SRC" --extra-kconfig "$TEST_TMP/extra"
	[ "$status" -eq 0 ]
	k2=$(key_of "$output")
	want=$(printf 'CONFIG_FAKE_EXTRA=y\n' | gzip -c | tail -c8 | od -An -tx4 -N4 | tr -d ' ')
	[ "$k2" = "$k1-xkc$want" ]
	grep -qx CONFIG_FAKE_EXTRA=y "$KTSTR_CACHE_DIR/$k2/config"
	[ "$(jq -r .extra_kconfig_hash "$KTSTR_CACHE_DIR/$k2/metadata.json")" = "$want" ]
}


@test "a failed compile exits 1 and stores nothing" {
	FAKE_KERNEL_FAIL=1 run --separate-stderr ktstr-build --source "$SRC"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"kernel build failed"* ]]
	[[ "$stderr" == *"fake: compile error"* ]]
	[ -z "$(ls -A "$KTSTR_CACHE_DIR" 2>/dev/null | grep -v '^\.locks$')" ]
}

@test "two concurrent builds of one key: one builds, the other reuses it" {
	export FAKE_KERNEL_SLEEP=2
	ktstr-build --source "$SRC" >"$TEST_TMP/a" 2>"$TEST_TMP/a.err" &
	a=$!
	sleep 0.5
	ktstr-build --source "$SRC" >"$TEST_TMP/b" 2>"$TEST_TMP/b.err" &
	b=$!
	wait $a
	wait $b
	cat "$TEST_TMP/a" "$TEST_TMP/b"
	# Whichever took the lock first built; the other reused its entry.
	[ "$(jq -r .cached "$TEST_TMP/a" "$TEST_TMP/b" | sort | tr '\n' ' ')" = "false true " ]
	[ "$(key_of "$(cat "$TEST_TMP/a")")" = "$(key_of "$(cat "$TEST_TMP/b")")" ]
	[ "$(ktstr-build list | wc -l)" -eq 1 ]
}

@test "the lock timeout is honoured" {
	export FAKE_KERNEL_SLEEP=3
	ktstr-build --source "$SRC" >/dev/null 2>&1 &
	a=$!
	sleep 0.5
	KTSTR_CACHE_STORE_LOCK_TIMEOUT=500ms run --separate-stderr ktstr-build --source "$SRC"
	wait $a
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"timed out"*KTSTR_CACHE_STORE_LOCK_TIMEOUT* ]]
}

@test "stdin: ktstr-fetch source records are built; debian entries pass through" {
	deb="$KTSTR_CACHE_DIR/debian-1.2.3-x86_64"
	mkdir -p "$deb"
	cp "$SRC/defconfig.in" "$deb/config"
	head -c 1024 /dev/zero >"$deb/bzImage"
	printf '{"version":"1.2.3","image_name":"bzImage","kconfig_hash":null,"built_at":"2020-01-01T00:00:00Z","source":{"type":"debian"}}' >"$deb/metadata.json"
	run --separate-stderr ktstr-build <<SRCS
{"type":"source","id":"6.14.2","version":"6.14.2","kind":"tarball","path":"$SRC"}
{"type":"source","id":"deb","version":"1.2.3","kind":"debian","path":"$deb/"}
SRCS
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.cached == false) | .key' <<<"$output")" = \
	  "$(ls "$KTSTR_CACHE_DIR" | grep tarball)" ]
	[[ "$(ls "$KTSTR_CACHE_DIR" | grep tarball)" == 6.14.2-tarball-x86_64-kc* ]]
	[ "$(jq -r 'select(.key == "debian-1.2.3-x86_64") | .cached' <<<"$output")" = true ]
	run --separate-stderr ktstr-build </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--source"* ]]
}



@test "list marks an entry built with another ktstr.kconfig stale-kconfig" {
	key=$(key_of "$(ktstr-build --source "$SRC")")
	m="$KTSTR_CACHE_DIR/$key/metadata.json"
	jq '.kconfig_hash = "00000000"' "$m" >"$m.new" && mv "$m.new" "$m"
	run --separate-stderr ktstr-build list
	[ "$(jq -r .status <<<"$output")" = stale-kconfig ]
}

@test "clean --keep 1 keeps the newest valid entry and drops corrupt ones" {
	k1=$(key_of "$(ktstr-build --source "$SRC")")
	m="$KTSTR_CACHE_DIR/$k1/metadata.json"
	jq '.built_at = "2000-01-01T00:00:00Z"' "$m" >"$m.new" && mv "$m.new" "$m"
	printf 'CONFIG_FAKE_EXTRA=y\n' >"$TEST_TMP/extra"
	k2=$(key_of "$(ktstr-build --source "$SRC" --extra-kconfig "$TEST_TMP/extra")")
	mkdir "$KTSTR_CACHE_DIR/broken"
	# Orphaned staging dirs of a killed build go too, once an hour old.
	mkdir "$KTSTR_CACHE_DIR/.tmp.old1" "$KTSTR_CACHE_DIR/.tmp.new1"
	touch -d '2 hours ago' "$KTSTR_CACHE_DIR/.tmp.old1"
	run --separate-stderr ktstr-build clean --keep 1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$KTSTR_CACHE_DIR")" = "$k2" ]
	! ls -a "$KTSTR_CACHE_DIR" | grep -q '^\.trash' || false
	[ ! -e "$KTSTR_CACHE_DIR/.tmp.old1" ] && [ -d "$KTSTR_CACHE_DIR/.tmp.new1" ]
	[ "$(jq -r .key <<<"$output" | sort | tr '\n' ' ')" = "$(printf '%s\n' broken "$k1" | sort | tr '\n' ' ')" ]
}


@test "--jobs is the name of -j, as in ktstr-fetch; --cpu-cap stays an alias" {
	run --separate-stderr ktstr-build --jobs 0 --source "$SRC"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"--jobs '0'"* ]]
	run --separate-stderr ktstr-build -j x --source "$SRC"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--jobs 'x'"* ]]
	KTSTR_CPU_CAP=abc run --separate-stderr ktstr-build --jobs 1 --source "$SRC"
	[ "$status" -eq 0 ]
	run ktstr-build --help
	[[ "$output" == *"-j, --jobs N"* ]]
	[[ "$output" == *"--cpu-cap N is the same option"* ]]
}

@test "ktstr-vm boots a cache entry named by KTSTR_KERNEL=<key>" {
	[ -f "$KERNEL" ] || skip "no e2e kernel"
	key=$(key_of "$(ktstr-build --source "$SRC")")
	cp "$KERNEL" "$KTSTR_CACHE_DIR/$key/bzImage"
	KTSTR_KERNEL=$key run --separate-stderr ktstr-vm --exec true
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "vm_start") | .kernel_source' <<<"$output")" = KTSTR_KERNEL ]
}

@test "ktstr-vm with no kernel named boots the newest built cache entry" {
	[ -f "$KERNEL" ] || skip "no e2e kernel"
	key=$(key_of "$(ktstr-build --source "$SRC")")
	cp "$KERNEL" "$KTSTR_CACHE_DIR/$key/bzImage"
	# A corrupt entry, newest by mtime, is skipped.
	mkdir "$KTSTR_CACHE_DIR/zz-broken"
	echo '{' >"$KTSTR_CACHE_DIR/zz-broken/metadata.json"
	run --separate-stderr ktstr-vm --exec true
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "vm_start") | .kernel_source' <<<"$output")" = cache ]
}

@test "a git tree is keyed by its HEAD; a dirty one gets -dirty and is rebuilt" {
	git -C "$SRC" init -q
	git -C "$SRC" add -A
	git -C "$SRC" -c user.name=t -c user.email=t@example.com commit -qm init
	h=$(git -C "$SRC" rev-parse --short=7 HEAD)
	run --separate-stderr ktstr-build --source "$SRC"
	[ "$status" -eq 0 ]
	[[ "$(key_of "$output")" == "local-$h-x86_64-kc"* ]]
	echo "# touched" >>"$SRC/defconfig.in"
	ktstr-build --source "$SRC" >"$TEST_TMP/1"
	ktstr-build --source "$SRC" >"$TEST_TMP/2"
	[[ "$(key_of "$(cat "$TEST_TMP/2")")" == "local-$h-dirty-x86_64-kc"* ]]
	[ "$(jq -r .cached "$TEST_TMP/2")" = false ]
	# A git source record from ktstr-fetch carries its ref.
	run --separate-stderr ktstr-build <<<'{"type":"source","id":"x","version":"6.14.2","kind":"git","ref":"v6.14","path":"'"$SRC"'"}'
	[ "$status" -eq 0 ]
	[[ "$(key_of "$output")" == "v6.14-git-$h-x86_64-kc"* ]]
	[ "$(jq -r .source.ref "$(jq -r .path <<<"$output")/metadata.json")" = v6.14 ]
}

@test "ktstr-fetch DIR | ktstr-build builds the tree" {
	command -v ktstr-fetch >/dev/null || skip "ktstr-fetch not built"
	run --separate-stderr bash -c 'ktstr-fetch "$1" | ktstr-build' _ "$SRC"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "kernel") | .version + " " + (.cached|tostring)' <<<"$output")" = "6.14.2 false" ]
}
