#!/usr/bin/env bats
# share/ktstr/build-schedulers end to end: the kernel's own sched_ext
# schedulers built from Debian's linux-source, static, cached, and attached
# to the Debian sched_ext kernel in a ktstr-vm guest.
#
# setup_file builds once per run, with two concurrent invocations so the lock
# is exercised for free (about 100 s on an idle 2-core box; the kernel's
# vmlinux is extracted into its cache entry once).
#
# run-bats: alone
# The build's make -j keeps both host cores busy for ~40 s: next to another
# file's VM it starved QEMU (a monitor test saw 20 samples "taken while
# QEMU was stopped" and missed the stall it checks for).

load lib/common

required=(scx_simple scx_central scx_qmap scx_flatcg)
optional=(scx_cpu0 scx_pair scx_sdt scx_userland)

setup_file() {
	common_setup_file
	export BUILD_SCHEDULERS="$BATS_TEST_DIRNAME/../share/ktstr/build-schedulers"
	# Default: build from scratch in this run's private cache, which also
	# exercises the lock.  KTSTR_E2E_SCHED_FRESH=0 uses the caller's cache
	# instead (warm after run-bats has built it: saves the ~100 s build).
	if [ "${KTSTR_E2E_SCHED_FRESH:-1}" = 1 ]; then
		export XDG_CACHE_HOME="$BATS_RUN_TMPDIR/cache"
	fi
	unset KTSTR_CACHE_DIR
	export SCHED_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
	local kdir out=$BATS_FILE_TMPDIR
	kdir=$(dirname "${KTSTR_E2E_KERNEL:-/nonexistent/bzImage}")
	export SCHED_KERNEL_DIR=$kdir
	local t0 t1
	t0=$(date +%s%N)
	XDG_CACHE_HOME=$SCHED_CACHE_HOME "$BUILD_SCHEDULERS" --kernel-dir "$kdir" >"$out/a.out" 2>"$out/a.err" &
	local a=$!
	sleep 0.5
	XDG_CACHE_HOME=$SCHED_CACHE_HOME "$BUILD_SCHEDULERS" --kernel-dir "$kdir" >"$out/b.out" 2>"$out/b.err" &
	local b=$!
	local ra=0 rb=0
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	t1=$(date +%s%N)
	echo "$ra $rb $(((t1 - t0) / 1000000))" >"$out/status"
	# The required schedulers take turns in one boot (issue 16: e2e tests
	# share a boot where they can); each has its own test below.
	KERNEL=${KTSTR_E2E_KERNEL:-} cycle_boot "$out/required" "${required[@]}"
}

setup() { common_setup; }
teardown() { common_teardown; }

# The output of the invocation that built (cached:false), else the first.
built_output() {
	local f
	for f in "$BATS_FILE_TMPDIR"/a.out "$BATS_FILE_TMPDIR"/b.out; do
		jq -e 'select(.type == "schedulers") | .cached == false' "$f" >/dev/null 2>&1 && {
			cat "$f"; return 0; }
	done
	cat "$BATS_FILE_TMPDIR"/a.out
}

@test "build-schedulers: two concurrent first runs both succeed" {
	read -r ra rb ms <"$BATS_FILE_TMPDIR/status"
	cat "$BATS_FILE_TMPDIR"/a.err "$BATS_FILE_TMPDIR"/b.err
	[ "$ra" -eq 0 ]
	[ "$rb" -eq 0 ]
	echo "# two concurrent first runs: ${ms} ms" >&3
	dir=$(built_output | jq -r 'select(.type == "schedulers") | .dir')
	jq -r '"# built \(.built_at): download \(.timings_ms.download) ms, extract \(.timings_ms.extract) ms, make \(.timings_ms.build) ms, selftests \(.timings_ms.selftests) ms; package \(.source.deb_bytes) bytes"' \
		"$dir/manifest.json" >&3
}

@test "build-schedulers: the required schedulers are static stripped files with the listed size and sha256" {
	built_output >"$TEST_TMP/out"
	jq -e 'select(.type == "schedulers") | .count >= 4 and (.dir | length > 0)' "$TEST_TMP/out"
	for s in "${required[@]}"; do
		line=$(jq -c --arg n "$s" 'select(.type == "scheduler" and .name == $n)' "$TEST_TMP/out")
		[ -n "$line" ] || { echo "$s missing from the output"; return 1; }
		path=$(jq -r .path <<<"$line")
		[ -f "$path" ]
		[ "$(stat -c %s "$path")" = "$(jq -r .bytes <<<"$line")" ]
		[ "$(sha256sum "$path" | cut -d' ' -f1)" = "$(jq -r .sha256 <<<"$line")" ]
		file "$path" | grep -q 'statically linked'
		file "$path" | grep -q ', stripped'
	done
	# Every binary is under the summary's directory, which has the manifest.
	dir=$(jq -r 'select(.type == "schedulers") | .dir' "$TEST_TMP/out")
	[ "$dir" = "$SCHED_CACHE_HOME/ktstr/schedulers/$(basename "$SCHED_KERNEL_DIR")" ]
	for p in $(jq -r 'select(.type != "schedulers") | .path' "$TEST_TMP/out"); do
		[[ "$p" == "$dir/"* ]]
	done
	jq -e --argjson n "$(jq -s '[.[] | select(.type != "schedulers")] | length' "$TEST_TMP/out")" \
		'(.binaries | length) == $n and all(.binaries[]; (.sha256 | length) == 64
		 and .bytes > 0 and (.compiler.bpf | test("clang version")))' "$dir/manifest.json"
	# No temp directories left in the cache.
	! find "$SCHED_CACHE_HOME/ktstr/schedulers" -maxdepth 1 -name '.tmp-*' | grep -q . || false
}

@test "build-schedulers: the concurrent run waited for the build and reused it" {
	jq -s -e 'any(.[]; .type == "schedulers" and .cached == false)' "$BATS_FILE_TMPDIR/a.out" "$BATS_FILE_TMPDIR/b.out" >/dev/null ||
		skip "the cache was warm (KTSTR_E2E_SCHED_FRESH=0): nothing was built"
	cat "$BATS_FILE_TMPDIR"/a.err "$BATS_FILE_TMPDIR"/b.err
	grep -q 'waiting for another build-schedulers' "$BATS_FILE_TMPDIR"/a.err "$BATS_FILE_TMPDIR"/b.err
	jq -s -e '[.[] | select(.type == "schedulers") | .cached] | sort == [false, true]' \
		"$BATS_FILE_TMPDIR/a.out" "$BATS_FILE_TMPDIR/b.out"
	# Same binaries, same hashes.
	[ "$(jq -c 'select(.type != "schedulers")' "$BATS_FILE_TMPDIR/a.out")" = \
		"$(jq -c 'select(.type != "schedulers")' "$BATS_FILE_TMPDIR/b.out")" ]
}

@test "build-schedulers: a second run is cached and fast" {
	t0=$(date +%s%N)
	XDG_CACHE_HOME=$SCHED_CACHE_HOME run --separate-stderr "$BUILD_SCHEDULERS" --kernel-dir "$SCHED_KERNEL_DIR"
	t1=$(date +%s%N)
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	ms=$(((t1 - t0) / 1000000))
	echo "# cached re-run: ${ms} ms" >&3
	[ "$ms" -lt 5000 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "schedulers") | .cached == true and .build_ms < 5000'
	[ "$(printf '%s\n' "$output" | jq -c 'select(.type != "schedulers")')" = \
		"$(built_output | jq -c 'select(.type != "schedulers")')" ]
}

@test "build-schedulers: a missing kernel directory is a one-line setup error" {
	run --separate-stderr "$BUILD_SCHEDULERS" --kernel-dir "$TEST_TMP/nope"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error build-schedulers "$stderr"
	[[ "$stderr" == *"$TEST_TMP/nope"* ]]
}

@test "extract-vmlinux: the bzImage gives an ELF vmlinux with .BTF" {
	run --separate-stderr "$BATS_TEST_DIRNAME/../share/ktstr/extract-vmlinux" -o "$TEST_TMP/vmlinux" "$KERNEL"
	echo "$stderr"
	[ "$status" -eq 0 ]
	readelf -S -W "$TEST_TMP/vmlinux" | grep -q ' \.BTF '
	cmp "$TEST_TMP/vmlinux" "$SCHED_KERNEL_DIR/vmlinux"
	head -c 100000 /dev/urandom >"$TEST_TMP/junk"
	run --separate-stderr "$BATS_TEST_DIRNAME/../share/ktstr/extract-vmlinux" -o "$TEST_TMP/out" "$TEST_TMP/junk"
	[ "$status" -eq 1 ]
	[ ! -e "$TEST_TMP/out" ]
	assert_one_line_error extract-vmlinux "$stderr"
}

# Guest side: for each scheduler in $SCHEDS, start it, wait for
# /sys/kernel/sched_ext/state == enabled (20 s at most: scx_qmap takes 4-5 s
# under TCG on a busy 2-core host), read root/ops, SIGINT it and wait for
# state == disabled.  One "RESULT name ops attach_ms
# detach_ms exit" line per scheduler; exits non-zero at the first failure.
# libbpf in scx_central reads /boot/config-$(uname -r); ktstr-vm packs the
# config as /boot/config, so link it here.
guest_cycle='
S=/sys/kernel/sched_ext
[ -e /boot/config-$(uname -r) ] || ln -sf /boot/config /boot/config-$(uname -r)
ms() { read u _ </proc/uptime; c=${u#*.}; c=${c#0}; echo $(( ${u%.*} * 1000 + c * 10 )); }
for name in $SCHEDS; do
	st=$(cat $S/state); [ "$st" = disabled ] || { echo "state before $name: $st"; exit 10; }
	t0=$(ms)
	/include-files/$name >/tmp/$name.log 2>&1 &
	pid=$!
	while st=$(cat $S/state); [ "$st" != enabled ]; do
		kill -0 $pid 2>/dev/null || { echo "$name exited before enabling"; cat /tmp/$name.log; exit 11; }
		[ $(( $(ms) - t0 )) -lt 20000 ] || { echo "$name not enabled after 20 s: $st"; cat /tmp/$name.log; exit 12; }
		sleep 0.05
	done
	t1=$(ms)
	ops=$(cat $S/root/ops)
	kill -INT $pid
	wait $pid
	rc=$?
	while st=$(cat $S/state); [ "$st" != disabled ]; do
		[ $(( $(ms) - t1 )) -lt 20000 ] || { echo "$name: not disabled 20 s after SIGINT: $st"; exit 13; }
		sleep 0.05
	done
	t2=$(ms)
	echo "RESULT $name $ops $((t1 - t0)) $((t2 - t1)) $rc"
done
'

# cycle_boot PREFIX SCHED...: boot once with the schedulers included and
# cycle each of them; PREFIX.out, .err and .rc get the run's stdout,
# stderr and exit status.
cycle_boot() {
	local prefix=$1 dir inc=() s rc=0
	shift
	dir=$(built_output | jq -r 'select(.type == "schedulers") | .dir')
	for s in "$@"; do inc+=(-i "$dir/$s"); done
	ktstr-vm -k "$KERNEL" --topo 1,2,2,1 --timeout 240s "${inc[@]}" \
		--env "SCHEDS=$*" --raw --exec "$guest_cycle" >"$prefix.out" 2>"$prefix.err" || rc=$?
	echo "$rc" >"$prefix.rc"
}

# check_cycle PREFIX SCHED: SCHED's RESULT line in that boot says it
# attached as itself and exited 0 on SIGINT.
check_cycle() {
	local prefix=$1 s=$2 line
	echo "status=$(cat "$prefix.rc")"; cat "$prefix.out"; tail -n 20 "$prefix.err"
	line=$(grep "^RESULT $s " "$prefix.out")
	read -r _ name ops attach detach rc <<<"$line"
	[ "$ops" = "${s#scx_}" ]
	[ "$rc" -eq 0 ]
	echo "# $name: attach ${attach} ms, detach ${detach} ms (guest clock, 10 ms resolution)" >&3
}

# The shared boot of setup_file: it ran all four, and exited 0.
attach_detach_required() {
	check_cycle "$BATS_FILE_TMPDIR/required" "$1"
	[ "$(cat "$BATS_FILE_TMPDIR/required.rc")" -eq 0 ]
	assert_no_qemu
}

@test "scx_simple attaches and detaches in the guest (shared boot)" {
	attach_detach_required scx_simple
}

@test "scx_central attaches and detaches in the guest (shared boot)" {
	attach_detach_required scx_central
}

@test "scx_qmap attaches and detaches in the guest (shared boot)" {
	attach_detach_required scx_qmap
}

@test "scx_flatcg attaches and detaches in the guest (shared boot)" {
	attach_detach_required scx_flatcg
}

@test "the optional schedulers that built attach and detach too (one boot)" {
	built=()
	for s in "${optional[@]}"; do
		built_output | jq -s -e --arg n "$s" 'any(.[]; .type == "scheduler" and .name == $n)' >/dev/null &&
			built+=("$s")
	done
	[ ${#built[@]} -gt 0 ] || skip "none of ${optional[*]} built"
	cycle_boot "$TEST_TMP/optional" "${built[@]}"
	for s in "${built[@]}"; do check_cycle "$TEST_TMP/optional" "$s"; done
	[ "$(cat "$TEST_TMP/optional.rc")" -eq 0 ]
	assert_no_qemu
}
