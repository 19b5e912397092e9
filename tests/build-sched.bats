#!/usr/bin/env bats
# ktstr-build --sched end to end: a scheduler author's own C tree (here a
# copy of the kernel's tools/sched_ext scx_simple and scx_qmap) built
# against the e2e kernel's BTF, then booted in ktstr-vm and judged.
#
# The libbpf/bpftool toolchain is cached per kernel source package in the
# caller's scheduler cache (first run: download + build, about 60 s; later
# runs: nothing), so these tests use that cache, not the per-run one, and
# write their binaries under the test's own directories.

load lib/common

setup_file() {
	export SCHED_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
	unset KTSTR_CACHE_DIR
	export SCHED_KERNEL_DIR
	SCHED_KERNEL_DIR=$(dirname "${KTSTR_E2E_KERNEL:-/nonexistent/bzImage}")
	local tree=$BATS_FILE_TMPDIR/tree out=$BATS_FILE_TMPDIR
	# The pristine tools/sched_ext kept with the toolchain.
	XDG_CACHE_HOME=$SCHED_CACHE_HOME "$BATS_TEST_DIRNAME/../share/ktstr/build-sched-tree" \
		--toolchain-only --kernel-dir "$SCHED_KERNEL_DIR" >"$out/toolchain" 2>"$out/toolchain.err" || true
	local src
	src=$(jq -r .sched_ext "$out/toolchain" 2>/dev/null || true)
	if [ -d "$src" ]; then
		mkdir -p "$tree"
		cp -R "$src/include" "$tree/include"
		cp "$src"/scx_simple.bpf.c "$src"/scx_simple.c "$src"/scx_qmap.bpf.c \
			"$src"/scx_qmap.c "$src"/scx_qmap.h "$tree/"
	fi
	export SCHED_TREE=$tree SCHED_OUT=$out/bin
	local rc=0
	XDG_CACHE_HOME=$SCHED_CACHE_HOME ktstr-build --sched "$tree" --kernel-dir "$SCHED_KERNEL_DIR" \
		--out "$SCHED_OUT" -j 2 >"$out/build.out" 2>"$out/build.err" || rc=$?
	echo "$rc" >"$out/build.rc"
}

setup() { common_setup; }
teardown() { common_teardown; }

@test "build --sched: the tree's schedulers are static stripped binaries, listed with size and sha256" {
	cat "$BATS_FILE_TMPDIR"/toolchain.err "$BATS_FILE_TMPDIR"/build.err
	[ -d "$SCHED_TREE" ]
	[ "$(cat "$BATS_FILE_TMPDIR/build.rc")" -eq 0 ]
	out=$BATS_FILE_TMPDIR/build.out
	cat "$out"
	[ "$(records "$out" scheduler | jq -r .name | sort | tr '\n' ' ')" = "scx_qmap scx_simple " ]
	for s in scx_simple scx_qmap; do
		line=$(records "$out" scheduler | jq -c --arg n "$s" 'select(.name == $n)')
		path=$(jq -r .path <<<"$line")
		[ "$path" = "$SCHED_OUT/$s" ]
		[ "$(stat -c %s "$path")" = "$(jq -r .bytes <<<"$line")" ]
		[ "$(sha256sum "$path" | cut -d' ' -f1)" = "$(jq -r .sha256 <<<"$line")" ]
		file "$path" | grep -q 'statically linked'
		file "$path" | grep -q ', stripped'
	done
	records "$out" sched_build | jq -e --arg dir "$SCHED_TREE" --arg out "$SCHED_OUT" \
		--arg key "$(basename "$SCHED_KERNEL_DIR")" \
		'.dir == $dir and .out == $out and .kernel == $key and .count == 2 and .build_ms > 0'
	# The summary is the last line, and nothing else is on stdout.
	[ "$(tail -n1 "$out" | jq -r .type)" = sched_build ]
	[ "$(wc -l <"$out")" -eq 3 ]
	jq -e '(.binaries | length) == 2 and (.compiler.bpf | test("clang version"))' "$SCHED_OUT/manifest.json"
	# Published with a rename: no work directory left next to it.
	! ls -a "$BATS_FILE_TMPDIR" | grep -q '^\.tmp-' || false
	echo "# build --sched (2 schedulers, warm toolchain): $(records "$out" sched_build | jq .build_ms) ms" >&3
}

@test "build --sched: the built scx_simple passes steady with the scheduler attached" {
	[ -x "$SCHED_OUT/scx_simple" ]
	ktstr-vm --kernel "$KERNEL" --topo 1,1,2,1 --scheduler "$SCHED_OUT/scx_simple" \
		--scenario steady --duration 2s >"$TEST_TMP/rec" 2>"$TEST_TMP/vm.err" || true
	run --separate-stderr ktstr-stats "$TEST_TMP/rec"
	echo "$output"; echo "$stderr"; tail -n 20 "$TEST_TMP/vm.err"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "ktstr 'steady' [topo=1n1l2c1t sched=scx_simple accel="*"] passed" ]]
	jq -e -s 'any(.[]; .type == "scheduler" and .event == "attached" and .ops == "simple")' "$TEST_TMP/rec"
	jq -e -s 'any(.[]; .type == "scheduler" and .event == "detached" and .clean == true)' "$TEST_TMP/rec"
	assert_no_qemu
}

@test "build --sched: --kernel KEY and the default output directory in the scheduler cache" {
	key=$(basename "$SCHED_KERNEL_DIR")
	mkdir "$TEST_TMP/tree"
	cp -R "$SCHED_TREE/include" "$SCHED_TREE"/scx_simple.* "$TEST_TMP/tree/"
	hash=$(printf '%s' "$(cd "$TEST_TMP/tree" && pwd -P)" | sha256sum | cut -c1-12)
	want=$SCHED_CACHE_HOME/ktstr/schedulers/$key/custom-$hash
	XDG_CACHE_HOME=$SCHED_CACHE_HOME run --separate-stderr ktstr-build --sched "$TEST_TMP/tree" --kernel "$key"
	echo "$output $stderr"
	rc=$status
	out=$output
	rm -rf "$want"
	[ "$rc" -eq 0 ]
	[ "$(jq -r 'select(.type == "sched_build") | .out' <<<"$out")" = "$want" ]
	[ "$(jq -r 'select(.type == "scheduler") | .path' <<<"$out")" = "$want/scx_simple" ]
}

@test "build --sched: a scheduler that does not compile exits 1, names it and keeps its log" {
	mkdir "$TEST_TMP/tree"
	cp -R "$SCHED_TREE/include" "$SCHED_TREE"/scx_simple.* "$TEST_TMP/tree/"
	sed 's/scx_simple/scx_broken/g' "$SCHED_TREE/scx_simple.c" >"$TEST_TMP/tree/scx_broken.c"
	{ sed 's/scx_simple/scx_broken/g' "$SCHED_TREE/scx_simple.bpf.c"; echo 'this is not C;'; } \
		>"$TEST_TMP/tree/scx_broken.bpf.c"
	XDG_CACHE_HOME=$SCHED_CACHE_HOME run --separate-stderr ktstr-build --sched "$TEST_TMP/tree" \
		--kernel-dir "$SCHED_KERNEL_DIR" --out "$TEST_TMP/out"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"scx_broken failed to build"*"error:"* ]]
	[[ "$stderr" != *scx_simple* ]]
	log=${stderr##*full log in }
	[ -f "$log" ]
	grep -q 'this is not C' "$log"
	rm -rf "$(dirname "$log")"
	# Nothing published, not even the scheduler that built.
	[ ! -e "$TEST_TMP/out" ]
	! ls -a "$TEST_TMP" | grep -q '^\.tmp-' || false
}

@test "build --sched: a missing tree, a tree without *.bpf.c and a kernel without BTF are one-line setup errors" {
	run --separate-stderr ktstr-build --sched "$TEST_TMP/nope" --kernel-dir "$SCHED_KERNEL_DIR"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"$TEST_TMP/nope"*"no such directory"* ]]

	mkdir "$TEST_TMP/empty"
	touch "$TEST_TMP/empty/scx_simple.c"
	run --separate-stderr ktstr-build --sched "$TEST_TMP/empty" --kernel-dir "$SCHED_KERNEL_DIR"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"has no *.bpf.c"* ]]

	# A cache entry whose image holds no kernel, so no BTF can be found.
	k=$TEST_TMP/kernels/local-0000000-x86_64-kc00000000
	mkdir -p "$k"
	head -c 65536 /dev/urandom >"$k/bzImage"
	echo '{"version":"1.0","image_name":"bzImage","source":{"type":"path"}}' >"$k/metadata.json"
	run --separate-stderr ktstr-build --sched "$SCHED_TREE" --kernel-dir "$k" --out "$TEST_TMP/out"
	echo "$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"has no BTF"*CONFIG_DEBUG_INFO_BTF* ]]
	[ ! -e "$TEST_TMP/out" ]
	[ ! -e "$k/vmlinux" ]

	run --separate-stderr ktstr-build --sched "$SCHED_TREE" --kernel "$TEST_TMP/nokernel"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-build "$stderr"
	[[ "$stderr" == *"--kernel"*"$TEST_TMP/nokernel"* ]]

	run --separate-stderr ktstr-build --kernel-dir "$SCHED_KERNEL_DIR"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"go with --sched"* ]]
}
