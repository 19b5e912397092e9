#!/usr/bin/env bats
# Why ktstr-vm runs under the accelerator it does: accel_reason in
# qemu_argv (--dry-run) and vm_start, and a note on stderr when --accel
# auto gets no KVM.  KTSTR_ACCEL_DETECT=/path has the probe open that file
# in /dev/kvm's place, so a device that is absent or not KVM is tested on
# any host.  Nothing boots: the kernel is a fake cache entry.

load cli

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	export KTSTR_CACHE_DIR=$FAKE_CACHE
	export XDG_CACHE_HOME=$TEST_TMP/cache
	KERNEL=$FAKE_IMAGE
}
teardown() { common_teardown; }

# qemu_argv's accel and accel_reason, as "accel: reason".
accel_of() {
	jq -r 'select(.type == "qemu_argv") | .accel + ": " + .accel_reason'
}

@test "--dry-run: qemu_argv says which accelerator and why" {
	# This host, whatever it has.
	run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	got=$(accel_of <<<"$output")
	echo "$got"
	argv_accel=$(jq -r 'select(.type == "qemu_argv") | .argv | .[index("-accel") + 1]' <<<"$output")
	if [ ! -e /dev/kvm ]; then
		[ "$got" = "tcg: there is no /dev/kvm" ]
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		[[ "$got" == "tcg: /dev/kvm "* ]]
	else
		[[ "$got" == "kvm: /dev/kvm works and the CPU has vmx or svm" || "$got" == "tcg: /dev/kvm "* ]]
	fi
	[[ "$argv_accel" == "${got%%:*}"* ]]
	# No device at all.
	[ "$(KTSTR_ACCEL_DETECT=/nonexistent/kvm ktstr-vm --dry-run | accel_of)" = \
		"tcg: there is no /nonexistent/kvm" ]
	# A device that is there but is not KVM, and a regular file.
	[[ "$(KTSTR_ACCEL_DETECT=/dev/null ktstr-vm --dry-run | accel_of)" == \
		"tcg: /dev/null is not a KVM device (KVM_GET_API_VERSION: "* ]]
	: >"$TEST_TMP/kvm"
	[[ "$(KTSTR_ACCEL_DETECT=$TEST_TMP/kvm ktstr-vm --dry-run | accel_of)" == \
		"tcg: $TEST_TMP/kvm is not a KVM device (KVM_GET_API_VERSION: "* ]]
	# Asked for, or the hook's answer: said so.
	[ "$(ktstr-vm --dry-run --accel tcg | accel_of)" = "tcg: asked for with --accel tcg" ]
	[ "$(ktstr-vm --dry-run --accel tcg-mt | accel_of)" = "tcg-mt: asked for with --accel tcg-mt" ]
	[ "$(KTSTR_ACCEL_DETECT=kvm ktstr-vm --dry-run | accel_of)" = "kvm: KTSTR_ACCEL_DETECT=kvm" ]
}

@test "--accel auto without KVM: one note on stderr with KTSTR_VERBOSE=1 or on a terminal, none otherwise" {
	note="ktstr-vm: running under TCG, which is slower, since KVM is not usable: there is no /nonexistent/kvm"
	export KTSTR_ACCEL_DETECT=/nonexistent/kvm
	run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	KTSTR_VERBOSE=1 run --separate-stderr ktstr-vm --dry-run
	[ "$status" -eq 0 ]
	[ "$stderr" = "$note" ]
	run --separate-stderr ktstr-vm --dry-run --dmesg
	[ "$stderr" = "$note" ]
	# A person at a terminal sees it without asking.
	run python3 "$BATS_TEST_DIRNAME/../lib/pty-stderr.py" "$TEST_TMP/out" ktstr-vm --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tr -d '\r' <<<"$output")" = "$note" ]
	jq -e 'select(.type == "qemu_argv") | .accel == "tcg"' "$TEST_TMP/out"
	# TCG asked for, or KVM found: nothing to explain.
	KTSTR_VERBOSE=1 run --separate-stderr ktstr-vm --dry-run --accel tcg
	[ -z "$stderr" ]
	KTSTR_ACCEL_DETECT=kvm KTSTR_VERBOSE=1 run --separate-stderr ktstr-vm --dry-run
	[ -z "$stderr" ]
}

@test "vm_start says why; after a KVM that failed, the TCG retry says so" {
	# A QEMU that fails at once (as a KVM that cannot run this guest
	# does): auto chose KVM (the hook), so the run is retried under TCG.
	printf '#!/bin/sh\necho "qemu-system-x86_64: failed to initialize kvm" >&2\nexit 1\n' \
		>"$TEST_TMP/qemu"
	chmod +x "$TEST_TMP/qemu"
	KTSTR_ACCEL_DETECT=kvm run --separate-stderr ktstr-vm -k "$KERNEL" --qemu "$TEST_TMP/qemu" \
		--exec true
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 2 ]
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	[ "$(records "$TEST_TMP/rec" vm_start | jq -r '.accel + ": " + .accel_reason')" = \
		"kvm: KTSTR_ACCEL_DETECT=kvm
tcg: KVM failed before the guest agent started (qemu_error); retried under TCG" ]
	# Without the hook, vm_start gives the probe's reason, as qemu_argv does.
	KTSTR_ACCEL_DETECT=/nonexistent/kvm run --separate-stderr ktstr-vm -k "$KERNEL" \
		--qemu "$TEST_TMP/qemu" --exec true
	[ "$status" -eq 2 ]
	printf '%s\n' "$output" >"$TEST_TMP/rec"
	[ "$(records "$TEST_TMP/rec" vm_start | jq -r '.accel + ": " + .accel_reason')" = \
		"tcg: there is no /nonexistent/kvm" ]
	assert_no_qemu
}
