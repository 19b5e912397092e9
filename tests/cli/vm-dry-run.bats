#!/usr/bin/env bats
# ktstr-vm --dry-run: the kernel discovery chain, the scheduler and the QEMU
# command line, resolved and printed without building or booting anything.
# The kernel cache holds one fake entry (tests/fixtures/fake-kernel).

load cli

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	# KTSTR_CACHE_DIR is the kernel cache verbatim.
	export KTSTR_CACHE_DIR=$FAKE_CACHE
	KERNEL=$FAKE_IMAGE
	KEY=$FAKE_KEY
}
teardown() { common_teardown; }

initramfs_count() { find "$KTSTR_CACHE_DIR/.initramfs" -type f 2>/dev/null | wc -l; }

@test "--dry-run: the cached kernel is resolved and the QEMU argv printed; nothing built or booted" {
	before=$(initramfs_count)
	run --separate-stderr ktstr-vm --dry-run --topo 1,2,2,1
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 3 ]
	jq -e --arg img "$KERNEL" --arg key "$KEY" \
		'select(.type == "kernel_resolved") | .image == $img and .key == $key and .source == "cache"' \
		<<<"${lines[0]}"
	# No host tools without --tools (they cost boot time under TCG).
	jq -e '.type == "initramfs_resolved" and .tools == false and .missing_tools == []' <<<"${lines[1]}"
	argv=$(jq -c 'select(.type == "qemu_argv") | .argv' <<<"${lines[2]}")
	[[ "$(jq -r '.[0]' <<<"$argv")" == */qemu-system-x86_64 ]]
	jq -e --arg img "$KERNEL" 'index("-kernel") as $i | .[$i + 1] == $img' <<<"$argv"
	jq -e 'index("-initrd") as $i | .[$i + 1] == "<initramfs>"' <<<"$argv"
	jq -e 'index("-smp") as $i | .[$i + 1] == "cpus=4,sockets=1,dies=2,cores=2,threads=1"' <<<"$argv"
	jq -e 'index("-append") as $i | .[$i + 1] | test("KTSTR_TOPO=1,2,2,1")' <<<"$argv"
	# Guest RAM is anonymous memory (huge pages where the host has them),
	# named for QMP, which the host-side monitor asks where it is.
	jq -e 'index("-object") as $i | .[$i + 1] == "memory-backend-ram,id=ktstr-mem0,size=768M"' <<<"$argv"
	jq -e 'map(select(test("mem-path|memory-backend-file"))) == []' <<<"$argv"
	jq -e 'index("-mon") as $i | .[$i + 1] == "chardev=ktstr-qmp,mode=control"' <<<"$argv"
	[ "$(initramfs_count)" -eq "$before" ]
	assert_no_qemu
	# Without the monitor, no QMP channel.
	run --separate-stderr ktstr-vm --dry-run --topo 1,2,2,1 --no-monitor
	[ "$status" -eq 0 ]
	jq -e 'select(.type == "qemu_argv") | .argv | index("-mon") == null' <<<"${lines[2]}"
}

# A reader that goes away ends a dry run as it ends a real one: 141, no
# message (ktstr-vm(1) EXIT STATUS).
@test "--dry-run into a closed pipe: exit 141 and nothing on stderr" {
	# The reader is gone well before ktstr-vm starts writing.
	run bash -c 'set -o pipefail; { sleep 0.3; ktstr-vm --dry-run 2>"$0"; } | true' "$TEST_TMP/err"
	[ "$status" -eq 141 ]
	[ ! -s "$TEST_TMP/err" ]
}

@test "--dry-run --tools: the image would get the host tools; the ones this host lacks are named" {
	run --separate-stderr ktstr-vm --dry-run --tools
	[ "$status" -eq 0 ]
	rec=$(jq -c 'select(.type == "initramfs_resolved")' <<<"$output")
	jq -e '.tools == true' <<<"$rec"
	# A host without them: PATH does not matter, the paths are fixed, so
	# check against what this host really has.
	want=$(for t in /usr/bin/chrt /usr/bin/taskset /usr/bin/pkill /usr/bin/pgrep /usr/sbin/bpftool; do
		[ -x "$t" ] || echo "$t"; done | jq -R . | jq -sc .)
	jq -e --argjson w "$want" '.missing_tools == $w' <<<"$rec"
}

@test "--dry-run: KTSTR_KERNEL as a cache key, and a scheduler path" {
	printf '#!/bin/sh\n' >"$TEST_TMP/scx_fake"
	chmod +x "$TEST_TMP/scx_fake"
	KTSTR_KERNEL=$KEY run --separate-stderr ktstr-vm --dry-run --scheduler "$TEST_TMP/scx_fake"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "kernel_resolved") | .source' <<<"$output")" = KTSTR_KERNEL ]
	[ "$(jq -r 'select(.type == "kernel_resolved") | .key' <<<"$output")" = "$KEY" ]
	jq -e -s --arg p "$TEST_TMP/scx_fake" 'map(select(.type == "scheduler_resolved")) |
		length == 1 and .[0].path == $p and .[0].guest_path == "/usr/bin/scx_fake"' <<<"$output"
}

@test "--dry-run: a bad KTSTR_KERNEL fails with one line naming it" {
	KTSTR_KERNEL=9.9.9 run --separate-stderr ktstr-vm --dry-run
	echo "$output $stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"KTSTR_KERNEL=9.9.9 is not in the kernel cache"* ]]

	KTSTR_KERNEL='6.14..6.12' run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *KTSTR_KERNEL* ]]
}

@test "--dry-run -k IMAGE: the image as given, with the config beside it or none" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --dry-run
	[ "$status" -eq 0 ]
	jq -e --arg img "$KERNEL" --arg c "$(dirname "$KERNEL")/config" \
		'select(.type == "kernel_resolved") | .image == $img and .source == "--kernel" and
		 .key == null and .config == $c' <<<"${lines[0]}"
	# Alone in its directory: no config to offer the guest.
	mkdir "$TEST_TMP/alone"
	cp "$KERNEL" "$TEST_TMP/alone/bzImage"
	run --separate-stderr ktstr-vm -k "$TEST_TMP/alone/bzImage" --dry-run
	[ "$status" -eq 0 ]
	jq -e 'select(.type == "kernel_resolved") | .config == null' <<<"${lines[0]}"
}

@test "--dry-run: a scheduler that is not there is one line naming it" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --dry-run --scheduler "$TEST_TMP/scx_nope"
	echo "$output $stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"--scheduler $TEST_TMP/scx_nope: no such file"* ]]
	assert_no_qemu
}

@test "--dry-run: payload programs are resolved and packed with the includes" {
	run --separate-stderr ktstr-vm --dry-run --topo 1,2,2,1 --scenario cyclictest_under_load
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	jq -e -s 'map(select(.type == "payload_resolved"))[0] |
	          .name == "cyclictest" and (.path | endswith("/cyclictest")) and .package == "rt-tests"' \
		<<<"$output"
	jq -e -s 'map(select(.type == "includes_resolved"))[0].paths | any(endswith("/cyclictest"))' \
		<<<"$output"
	# A --cgroup payload spec: workers 0, the rest of the spec as args.
	run --separate-stderr ktstr-vm --dry-run --topo 1,1,2,1 \
		--cgroup 'lat:payload=hackbench,copies=2,args=-g 1 -l 10'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	jq -e -s 'map(select(.type == "payload_resolved"))[0] |
	          .cgroup == "lat" and .copies == 2 and .args == ["-g", "1", "-l", "10"]' <<<"$output"
}

@test "--dry-run: the firmware is qboot when installed; KTSTR_QEMU_FIRMWARE picks another, or SeaBIOS" {
	bios() { jq -c 'select(.type == "qemu_argv") | .argv | index("-bios") as $i | if $i then .[$i + 1] else null end'; }
	run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	if [ -r /usr/share/qemu/qboot.rom ]; then
		[ "$(bios <<<"$output")" = '"/usr/share/qemu/qboot.rom"' ]
	else
		[ "$(bios <<<"$output")" = null ]
	fi
	[ "$(KTSTR_QEMU_FIRMWARE=seabios ktstr-vm --dry-run | bios)" = null ]
	truncate -s 64K "$TEST_TMP/fw.rom"
	[ "$(KTSTR_QEMU_FIRMWARE=$TEST_TMP/fw.rom ktstr-vm --dry-run | bios)" = "\"$TEST_TMP/fw.rom\"" ]
	# Empty means unset.
	[ "$(KTSTR_QEMU_FIRMWARE= ktstr-vm --dry-run | bios)" = "$(bios <<<"$output")" ]
	# A file that is not there: one line naming it, exit 2, nothing on stdout.
	KTSTR_QEMU_FIRMWARE=/nonexistent/fw.rom run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "ktstr-vm: KTSTR_QEMU_FIRMWARE=/nonexistent/fw.rom: No such file or directory; unset it for qboot when installed (else QEMU's default), or set it to seabios or to a readable firmware image" ]
	# Nor a directory; the keywords in any case.
	KTSTR_QEMU_FIRMWARE=$TEST_TMP run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-vm: KTSTR_QEMU_FIRMWARE=$TEST_TMP: not a regular file; "* ]]
	[ "$(KTSTR_QEMU_FIRMWARE=SeaBIOS ktstr-vm --dry-run | bios)" = null ]
	if [ -r /usr/share/qemu/qboot.rom ]; then
		[ "$(KTSTR_QEMU_FIRMWARE=QBOOT ktstr-vm --dry-run | bios)" = '"/usr/share/qemu/qboot.rom"' ]
	fi
}

@test "KTSTR_QEMU_FIRMWARE: an empty image, or one QEMU cannot load, is one line before anything runs" {
	# QEMU itself would say only "could not load PC BIOS", after the
	# initramfs was built and QEMU started.
	: >"$TEST_TMP/empty.rom"
	for args in "--dry-run" "--exec true"; do
		# shellcheck disable=SC2086
		KTSTR_QEMU_FIRMWARE=$TEST_TMP/empty.rom run --separate-stderr ktstr-vm $args
		echo "$args: $status $output $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		assert_one_line_error ktstr-vm "$stderr"
		[ "$stderr" = "ktstr-vm: KTSTR_QEMU_FIRMWARE=$TEST_TMP/empty.rom: an empty file; unset it for qboot when installed (else QEMU's default), or set it to seabios or to a readable firmware image" ]
	done
	assert_no_qemu
	# QEMU takes whole 64 KiB blocks only.
	truncate -s 68K "$TEST_TMP/odd.rom"
	KTSTR_QEMU_FIRMWARE=$TEST_TMP/odd.rom run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == "ktstr-vm: KTSTR_QEMU_FIRMWARE=$TEST_TMP/odd.rom: 69632 bytes, not a whole number of 64 KiB blocks as QEMU needs for -bios; "* ]]
	truncate -s 128K "$TEST_TMP/odd.rom"
	KTSTR_QEMU_FIRMWARE=$TEST_TMP/odd.rom run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
}

@test "--dry-run: qemu_argv names the firmware, null for QEMU's default" {
	fw() { jq -c 'select(.type == "qemu_argv") | [.firmware, (.argv | index("-bios") as $i | if $i then .[$i + 1] else null end)]'; }
	truncate -s 64K "$TEST_TMP/fw.rom"
	[ "$(KTSTR_QEMU_FIRMWARE=$TEST_TMP/fw.rom ktstr-vm --dry-run | fw)" = "[\"$TEST_TMP/fw.rom\",\"$TEST_TMP/fw.rom\"]" ]
	[ "$(KTSTR_QEMU_FIRMWARE=seabios ktstr-vm --dry-run | fw)" = '[null,null]' ]
	# Unset: qboot when installed, and the field says so.
	KTSTR_QEMU_FIRMWARE= run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	if [ -r /usr/share/qemu/qboot.rom ]; then
		[ "$(fw <<<"$output")" = '["/usr/share/qemu/qboot.rom","/usr/share/qemu/qboot.rom"]' ]
	else
		[ "$(fw <<<"$output")" = '[null,null]' ]
	fi
	# Present even when null: a stable field, not an absent one.
	KTSTR_QEMU_FIRMWARE=seabios ktstr-vm --dry-run | jq -e 'select(.type == "qemu_argv") | has("firmware")'
}

append_of() { jq -r 'select(.type == "qemu_argv") | .argv | .[index("-append") + 1]' <<<"$1"; }

# A TCG guest is told the host's TSC rate (tsc_early_khz=) instead of
# calibrating against the emulated PIT, which fails at random and costs a
# slow fallback; the rate is measured once per host boot and cached.
@test "--dry-run under TCG: tsc_early_khz= is the host's measured TSC rate, cached per host boot" {
	grep -m1 '^flags' /proc/cpuinfo | grep -qw constant_tsc || skip "no constant_tsc here"
	grep -m1 '^flags' /proc/cpuinfo | grep -qw nonstop_tsc || skip "no nonstop_tsc here"
	[ "$(uname -m)" = x86_64 ] || skip "not x86_64"
	export XDG_CACHE_HOME=$TEST_TMP/xdg
	unset KTSTR_TSC_KHZ
	out=$(ktstr-vm --dry-run --accel tcg --topo 1,1,2,1)
	khz=$(append_of "$out" | grep -o 'tsc_early_khz=[0-9]*' | cut -d= -f2)
	echo "measured $khz kHz"
	[ -n "$khz" ] && [ "$khz" -ge 100000 ] && [ "$khz" -le 20000000 ]
	# Where it is kept (KTSTR_CACHE_DIR holds the kernel cache verbatim,
	# the other kinds in hidden siblings), and for which boot.
	read -r id cached <"$KTSTR_CACHE_DIR/.host/tsc-khz"
	[ "$id" = "$(cat /proc/sys/kernel/random/boot_id)" ]
	[ "$cached" = "$khz" ]
	# Kept: a planted rate for this boot is what the next run gives.
	echo "$id 1234567" >"$KTSTR_CACHE_DIR/.host/tsc-khz"
	out=$(ktstr-vm --dry-run --accel tcg --topo 1,1,2,1)
	[[ "$(append_of "$out")" == *" tsc_early_khz=1234567 "* ]]
	# Another boot's line is measured over.
	echo "00000000-0000-0000-0000-000000000000 1234567" >"$KTSTR_CACHE_DIR/.host/tsc-khz"
	out=$(ktstr-vm --dry-run --accel tcg --topo 1,1,2,1)
	[[ "$(append_of "$out")" != *"tsc_early_khz=1234567"* ]]
	read -r id cached <"$KTSTR_CACHE_DIR/.host/tsc-khz"
	[ "$id" = "$(cat /proc/sys/kernel/random/boot_id)" ]
}

@test "KTSTR_TSC_KHZ: a rate wins, 0 or KVM leave tsc_early_khz= out, a bad value is one line" {
	out=$(KTSTR_TSC_KHZ=2000000 ktstr-vm --dry-run --accel tcg)
	[[ "$(append_of "$out")" == *" damon_stat.enabled=0 tsc_early_khz=2000000 quiet "* ]]
	out=$(KTSTR_TSC_KHZ=0 ktstr-vm --dry-run --accel tcg)
	[[ "$(append_of "$out")" != *tsc_early_khz* ]]
	# Empty means unset: measured (or left out on a host without an
	# invariant TSC), never an error.
	run --separate-stderr env KTSTR_TSC_KHZ= ktstr-vm --dry-run --accel tcg
	[ "$status" -eq 0 ]
	# A rate far from the host's own is used as asked, with one line on
	# what it does to the guest's clock.
	echo "$(cat /proc/sys/kernel/random/boot_id) 2596100" >"$TEST_TMP/tsc-khz"
	mkdir -p "$KTSTR_CACHE_DIR/.host" && cp "$TEST_TMP/tsc-khz" "$KTSTR_CACHE_DIR/.host/tsc-khz"
	run --separate-stderr env KTSTR_TSC_KHZ=1300000 ktstr-vm --dry-run --accel tcg
	[ "$status" -eq 0 ]
	[[ "$(append_of "$output")" == *" tsc_early_khz=1300000 "* ]]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"KTSTR_TSC_KHZ=1300000 is 49.9% below the host's TSC rate (2596100 kHz, measured)"*"2.00 times as fast"* ]]
	run --separate-stderr env KTSTR_TSC_KHZ=2600000 ktstr-vm --dry-run --accel tcg
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	# Under KVM the guest has kvmclock's rate.
	out=$(KTSTR_TSC_KHZ=2000000 KTSTR_ACCEL_DETECT=kvm ktstr-vm --dry-run)
	jq -e 'select(.type == "qemu_argv") | .accel == "kvm"' <<<"$out"
	[[ "$(append_of "$out")" != *tsc_early_khz* ]]
	# --append's tsc_early_khz= comes later, and the kernel keeps the last.
	out=$(KTSTR_TSC_KHZ=2000000 ktstr-vm --dry-run --accel tcg --append tsc_early_khz=3000000)
	[[ "$(append_of "$out")" == *"tsc_early_khz=2000000 "*" tsc_early_khz=3000000" ]]
	for bad in 2.5GHz 99999 -1 30000000; do
		run --separate-stderr env KTSTR_TSC_KHZ=$bad ktstr-vm --dry-run --accel tcg
		echo "$bad: $status $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
		[[ "$stderr" == "ktstr-vm: KTSTR_TSC_KHZ=$bad is not a TSC rate: "*kHz* ]]
	done
}
