#!/usr/bin/env bats
# ktstr-initramfs: the CLI front of the initramfs builder.  Archives are
# read back with a small newc parser (python3) so the checks do not depend
# on the cpio tool that wrote them.  No kernel needed but for the last two
# tests (the tools in a real guest); usage and bad inputs are in
# tests/cli/initramfs.bats.

load lib/common

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../build/bin}/ktstr-initramfs
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

# One line per entry: "TYPE MODE NLINK RDEV SIZE PATH[ -> TARGET]".
cpio_list() {
	python3 - "$1" <<'EOF'
import stat, sys
data = open(sys.argv[1], "rb").read()
off = 0
while True:
    h = data[off:off + 110]
    assert h[:6] == b"070701", "bad magic at %d" % off
    f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    mode, nlink, size, rmaj, rmin, namesize = f[1], f[4], f[6], f[9], f[10], f[11]
    name = data[off + 110:off + 110 + namesize - 1].decode()
    off = (off + 110 + namesize + 3) & ~3
    body = data[off:off + size]
    off = (off + size + 3) & ~3
    if name == "TRAILER!!!":
        break
    kind = {stat.S_IFDIR: "d", stat.S_IFREG: "f", stat.S_IFLNK: "l",
            stat.S_IFCHR: "c"}.get(stat.S_IFMT(mode), "?")
    line = "%s %04o %d %d:%d %d %s" % (kind, stat.S_IMODE(mode), nlink, rmaj, rmin, size, name)
    if kind == "l":
        line += " -> " + body.decode()
    print(line)
EOF
}



@test "prints one JSON line describing the image" {
	build
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ -z "$stderr" ]
	line=$output
	[ "$(jq -r .type <<<"$line")" = initramfs ]
	path=$(jq -r .path <<<"$line")
	[ -f "$path" ]
	[[ "$path" == "$KTSTR_CACHE_DIR"/.initramfs/*.cpio ]]
	[ "$(jq -r .bytes <<<"$line")" -eq "$(stat -c %s "$path")" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$path" | cut -d' ' -f1)" ]
	[ "$(jq -r .files <<<"$line")" -eq "$(cpio_list "$path" | wc -l)" ]
	[ "$(jq -r .cached <<<"$line")" = false ]
	# Key order is part of the format.
	[ "$(jq -c 'keys_unsorted' <<<"$line")" = '["type","path","bytes","files","sha256","cached"]' ]

	build
	[ "$status" -eq 0 ]
	[ "$(jq -r .cached <<<"$output")" = true ]
	[ "$(jq -r .path <<<"$output")" = "$path" ]
	[ "$(jq -r .sha256 <<<"$output")" = "$(jq -r .sha256 <<<"$line")" ]
}

@test "base layout: console and null nodes, /init, busybox applets" {
	build -o "$TEST_TMP/img.cpio"
	[ "$status" -eq 0 ]
	cpio_list "$TEST_TMP/img.cpio" >"$TEST_TMP/list"
	grep -qx 'c 0600 1 5:1 0 dev/console' "$TEST_TMP/list"
	grep -qx 'c 0666 1 1:3 0 dev/null' "$TEST_TMP/list"
	grep -q '^f 0755 1 0:0 [0-9]* init$' "$TEST_TMP/list"
	grep -q '^f 0755 1 0:0 [0-9]* bin/busybox$' "$TEST_TMP/list"
	grep -qx 'l 0777 1 0:0 12 bin/sh -> /bin/busybox' "$TEST_TMP/list"
	grep -q '^d 1777 .* tmp$' "$TEST_TMP/list"
	for d in bin sbin usr/bin usr/sbin dev proc sys run root etc lib lib64 include-files; do
		grep -q "^d .* $d\$" "$TEST_TMP/list"
	done
	# Every applet busybox lists is a link to it, bar itself and
	# sbin/modprobe (the kernel would run it for each module request).
	[ "$(grep -c ' -> /bin/busybox$' "$TEST_TMP/list")" -eq \
		"$("$BB" --list-full | grep -vcx -e bin/busybox -e sbin/modprobe)" ]
	! grep -q ' sbin/modprobe' "$TEST_TMP/list"
	# Sorted, so every parent comes before its children.
	cut -d' ' -f6 "$TEST_TMP/list" | LC_ALL=C sort -c
}

@test "deterministic: two caches, byte-identical images" {
	cp -r "$BATS_TEST_DIRNAME/lib" "$TEST_TMP/src"
	KTSTR_CACHE_DIR="$TEST_TMP/c1" build -i "$TEST_TMP/src" -i /bin/true
	[ "$status" -eq 0 ]
	p1=$(jq -r .path <<<"$output")
	# Host timestamps are not part of the image.
	find "$TEST_TMP/src" -exec touch -h -d 2001-02-03 {} +
	KTSTR_CACHE_DIR="$TEST_TMP/c2" build -i "$TEST_TMP/src" -i /bin/true
	[ "$status" -eq 0 ]
	p2=$(jq -r .path <<<"$output")
	[ "$p1" != "$p2" ]
	cmp "$p1" "$p2"
	# Uncompressed: the image starts with the first newc header.
	[ "$(head -c 6 "$p1")" = 070701 ]
}

@test "a directory include keeps its tree, modes and symlinks" {
	mkdir -p "$TEST_TMP/data/sub/deep"
	echo hello >"$TEST_TMP/data/top.txt"
	printf '#!/bin/sh\n' >"$TEST_TMP/data/sub/run.sh"
	chmod 0750 "$TEST_TMP/data/sub/run.sh"
	: >"$TEST_TMP/data/sub/deep/empty"
	ln -s sub/run.sh "$TEST_TMP/data/link"
	ln -s /nonexistent "$TEST_TMP/data/dangling"
	echo single >"$TEST_TMP/single"
	build -i "$TEST_TMP/data/" -i "$TEST_TMP/single" -o "$TEST_TMP/img.cpio"
	[ "$status" -eq 0 ]
	cpio_list "$TEST_TMP/img.cpio" >"$TEST_TMP/list"
	grep -q '^d .* include-files/data$' "$TEST_TMP/list"
	grep -qx 'f 0644 1 0:0 6 include-files/data/top.txt' "$TEST_TMP/list"
	grep -qx 'f 0750 1 0:0 10 include-files/data/sub/run.sh' "$TEST_TMP/list"
	grep -qx 'f 0644 1 0:0 0 include-files/data/sub/deep/empty' "$TEST_TMP/list"
	grep -qx 'l 0777 1 0:0 10 include-files/data/link -> sub/run.sh' "$TEST_TMP/list"
	grep -qx 'l 0777 1 0:0 12 include-files/data/dangling -> /nonexistent' "$TEST_TMP/list"
	grep -qx 'f 0644 1 0:0 7 include-files/single' "$TEST_TMP/list"
	# data has one subdirectory: nlink 3.
	grep -q '^d 0755 3 .* include-files/data$' "$TEST_TMP/list"
}

@test "a dynamic include pulls in its loader and libc" {
	build -i /bin/true -o "$TEST_TMP/img.cpio"
	[ "$status" -eq 0 ]
	cpio_list "$TEST_TMP/img.cpio" >"$TEST_TMP/list"
	grep -q '^f 0755 .* include-files/true$' "$TEST_TMP/list"
	# The loader path from PT_INTERP and libc where the loader looks for it;
	# whichever of those is a symlink has its target packed as a file.
	for p in lib64/ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/libc.so.6; do
		entry=$(grep " $p\( \|$\)" "$TEST_TMP/list")
		echo "$entry"
		if [[ "$entry" == l* ]]; then
			target=${entry##* -> }
			grep -q "^f .* ${target#/}\$" "$TEST_TMP/list"
		else
			[[ "$entry" == f* ]]
		fi
	done
}




@test "-o writes the cached image and reports its own path" {
	build -o "$TEST_TMP/a.cpio"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = "$TEST_TMP/a.cpio" ]
	sha=$(jq -r .sha256 <<<"$output")
	build -o "$TEST_TMP/b.cpio"
	[ "$status" -eq 0 ]
	[ "$(jq -r .cached <<<"$output")" = true ]
	[ "$(jq -r .sha256 <<<"$output")" = "$sha" ]
	cmp "$TEST_TMP/a.cpio" "$TEST_TMP/b.cpio"
	# Only the two images: no temp files beside them.
	[ "$(ls -A "$TEST_TMP" | grep -c cpio)" -eq 2 ]
}


@test "busybox comes from KTSTR_BUSYBOX_PATH, empty meaning unset, then PATH" {
	mkdir "$TEST_TMP/bin"
	ln -s /bin/busybox "$TEST_TMP/bin/busybox"
	# env, not a prefix assignment: bats' own run needs the real PATH.
	run --separate-stderr env KTSTR_BUSYBOX_PATH="$TEST_TMP/bin/busybox" PATH=/nonexistent \
		"$BIN" --agent "$BB"
	[ "$status" -eq 0 ]
	run --separate-stderr env KTSTR_BUSYBOX_PATH="" PATH="$TEST_TMP/bin" "$BIN" --agent "$BB"
	[ "$status" -eq 0 ]
	run --separate-stderr env KTSTR_BUSYBOX_PATH=" " PATH=/nonexistent "$BIN" --agent "$BB"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"busybox not found"* ]]
}

@test "without KTSTR_CACHE_DIR images go under XDG_CACHE_HOME" {
	unset KTSTR_CACHE_DIR
	export XDG_CACHE_HOME="$TEST_TMP/xdg"
	build
	[ "$status" -eq 0 ]
	[[ "$(jq -r .path <<<"$output")" == "$TEST_TMP/xdg/ktstr/initramfs/"*.cpio ]]
}

@test "--tools packs the host tools busybox lacks with their libraries; busybox applets win" {
	# Without --tools: none of them, and no libraries at all (the agent
	# and busybox-static are static).
	build -o "$TEST_TMP/lean.cpio"
	[ "$status" -eq 0 ]
	cpio_list "$TEST_TMP/lean.cpio" >"$TEST_TMP/lean"
	run grep -E ' usr/(s?bin/(chrt|pkill|pgrep|bpftool)|lib/x86_64-linux-gnu/lib)' "$TEST_TMP/lean"
	[ "$status" -eq 1 ]
	build --tools -o "$TEST_TMP/img.cpio"
	[ "$status" -eq 0 ]
	[ "$(jq .bytes <<<"$output")" -gt "$(stat -c %s "$TEST_TMP/lean.cpio")" ]
	cpio_list "$TEST_TMP/img.cpio" >"$TEST_TMP/list"
	for t in usr/bin/chrt usr/bin/pkill usr/sbin/bpftool; do
		grep -q "^f 0755 .* $t\$" "$TEST_TMP/list"
	done
	# Debian's busybox-static has taskset: the applet stays.
	if "$BB" --list | grep -qx taskset; then
		grep -q ' usr/bin/taskset -> /bin/busybox$' "$TEST_TMP/list"
	fi
	# pkill's libproc2 and bpftool's libelf came along.
	grep -q ' lib/x86_64-linux-gnu/libproc2\.so' "$TEST_TMP/list"
	grep -q ' lib/x86_64-linux-gnu/libelf' "$TEST_TMP/list"
}

@test "--kconfig packs the config as /boot/config; a bad one is a usage error" {
	printf 'CONFIG_SCHED_CLASS_EXT=y\n' >"$TEST_TMP/config"
	build --kconfig "$TEST_TMP/config" -o "$TEST_TMP/img.cpio"
	[ "$status" -eq 0 ]
	cpio_list "$TEST_TMP/img.cpio" | grep -q '^f 0644 1 0:0 25 boot/config$'
	echo nothing >"$TEST_TMP/bad"
	build --kconfig "$TEST_TMP/bad"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-initramfs "$stderr"
	[[ "$stderr" == *"$TEST_TMP/bad is not a kernel config"* ]]
	build --kconfig "$TEST_TMP/missing"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$TEST_TMP/missing does not exist"* ]]
}

# The tools run in the guest, not just sit in the image.
@test "ktstr-vm --tools: the guest runs bpftool, chrt, taskset and pkill" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --tools --raw --exec \
		'bpftool version && chrt -p 1 && taskset -p 1 && pkill --version && pkill -0 -x init && echo TOOLS-OK'
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bpftool v"* ]]
	[[ "$output" == *"pid 1's current scheduling policy: SCHED_OTHER"* ]]
	[[ "$output" == *"pid 1's current affinity mask:"* ]]
	[[ "$output" == *"pkill from procps-ng"* ]]
	[[ "$output" == *TOOLS-OK* ]]
	assert_no_qemu
}

# libbpf looks for /boot/config-$(uname -r): the agent links it to the
# packed /boot/config.  The same boot checks the lean default image: no
# host tools without --tools, busybox's process tools still there.
@test "the guest has /boot/config-\$(uname -r) when the kernel's config is known; no tools by default" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --raw --exec \
		'grep -c "^CONFIG_SCHED_CLASS_EXT=y" "/boot/config-$(uname -r)";
		 for t in pkill pgrep chrt bpftool; do command -v $t || echo "no $t"; done;
		 killall -0 init && taskset -p 1 >/dev/null && echo BUSYBOX-OK; pkill -0 init || true'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	# The shell's "not found" for a tool --tools would pack gets a hint.
	[[ "$stderr" == *"sh: pkill: not found"* ]]
	[[ "$stderr" == *"ktstr-vm: the guest has no pkill: it is packed only with --tools (or --shell)"* ]]
	[ "$output" = "1
no pkill
no pgrep
no chrt
no bpftool
BUSYBOX-OK" ]
}
