#!/usr/bin/env bats
# A second kernel: Debian's generic build (flavour amd64) of the release the
# cloud e2e kernel comes from (tests/run-bats fetches it as
# KTSTR_E2E_KERNEL2).  The schedulers were built against the cloud kernel's
# BTF; their BPF programs are CO-RE, so they must load on the generic one.

load lib/common

setup() {
	common_setup
	KERNEL2=${KTSTR_E2E_KERNEL2:-/nonexistent-e2e-kernel2}
	SCHED_DIR=${KTSTR_E2E_SCHED_DIR:-/nonexistent-schedulers}
}
teardown() { common_teardown; }

need_kernel2() {
	[ -f "$KERNEL2" ] || {
		echo "KTSTR_E2E_KERNEL2=$KERNEL2 is missing: share/ktstr/fetch-debian-kernel --flavour amd64 failed" >&2
		return 1
	}
}

@test "kernel2: Debian's generic kernel is a separate cache entry of the same version" {
	need_kernel2
	[ "$(basename "$(dirname "$KERNEL2")")" != "$(basename "$(dirname "$KERNEL")")" ]
	[[ "$(basename "$(dirname "$KERNEL2")")" == debian-*-amd64-x86_64 ]]
	[[ "$(basename "$(dirname "$KERNEL2")")" != *-cloud-amd64-x86_64 ]]
	m1=$(dirname "$KERNEL")/metadata.json m2=$(dirname "$KERNEL2")/metadata.json
	[ "$(jq -r .version "$m1")" = "$(jq -r .version "$m2")" ]
	jq -e '.flavour == "amd64" and .source.type == "debian"' "$m2"
	# What the VM needs is built in: no modules in a ktstr guest.
	for opt in SCHED_CLASS_EXT DEBUG_INFO_BTF VIRTIO_CONSOLE VIRTIO_PCI; do
		grep -qx "CONFIG_$opt=y" "$(dirname "$KERNEL2")/config"
	done
}

@test "kernel2: scx_simple built for the cloud kernel attaches on the generic one and steady passes" {
	need_kernel2
	[ -x "$SCHED_DIR/scx_simple" ]
	ktstr-vm --kernel "$KERNEL2" --topo 1,2,2,1 --scheduler "$SCHED_DIR/scx_simple" \
		--scenario steady --duration 2s >"$TEST_TMP/rec" 2>"$TEST_TMP/vm.err" || true
	run --separate-stderr ktstr-stats "$TEST_TMP/rec"
	echo "$output"; echo "$stderr"; tail -n 20 "$TEST_TMP/vm.err"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "ktstr 'steady' [topo=1n2l2c1t sched=scx_simple accel="*"] passed" ]]
	# It really was the generic kernel that booted.
	release=$(jq -r .release "$(dirname "$KERNEL2")/metadata.json")
	records "$TEST_TMP/rec" vm_start | jq -e --arg k "$KERNEL2" '.kernel == $k'
	jq -e -s 'any(.[]; .type == "scheduler" and .event == "attached" and .ops == "simple")' "$TEST_TMP/rec"
	jq -e -s 'any(.[]; .type == "scheduler" and .event == "detached" and .clean == true)' "$TEST_TMP/rec"
	[[ "$release" == *-amd64 && "$release" != *-cloud-amd64 ]]
	assert_no_qemu
}

# The real cache (where run-bats put both kernels and the schedulers),
# read only: debian:amd64 names the generic entry, plain "debian" still the
# cloud one, and a scheduler named without a path comes from the cloud
# kernel's build (the generic kernel has none of its own).
@test "kernel2: debian:amd64 and scheduler discovery by name on the generic kernel" {
	need_kernel2
	export XDG_CACHE_HOME=${KERNEL2%/ktstr/kernels/*}
	[ "$XDG_CACHE_HOME" != "$KERNEL2" ] || skip "KTSTR_E2E_KERNEL2 is not in a ktstr cache"
	run --separate-stderr ktstr-fetch --list debian:amd64
	[ "$status" -eq 0 ]
	jq -e '.kind == "debian" and .flavour == "amd64" and .id == "debian:amd64"' <<<"$output"
	KTSTR_KERNEL=debian:amd64 run --separate-stderr ktstr-vm --dry-run --topo 1,2,2,1 \
		--scheduler scx_simple --scenario steady
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	records <(printf '%s\n' "$output") kernel_resolved | jq -e --arg k "$KERNEL2" '.image == $k'
	want=$XDG_CACHE_HOME/ktstr/schedulers/$(basename "$(dirname "$KERNEL")")/scx_simple
	records <(printf '%s\n' "$output") scheduler_resolved | jq -e --arg p "$want" '.path == $p'
	KTSTR_KERNEL=debian run --separate-stderr ktstr-vm --dry-run --topo 1,2,2,1 --scenario steady
	[ "$status" -eq 0 ]
	records <(printf '%s\n' "$output") kernel_resolved | jq -e --arg k "$KERNEL" '.image == $k'
	# Two flavours of one version are two kernels with two labels.
	run --separate-stderr ktstr-test --list --kernel debian --kernel debian:amd64 \
		--filter steady_eevdf/tiny-1llc "$BATS_TEST_DIRNAME/fixtures/suite"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	version=$(jq -r .version "$(dirname "$KERNEL2")/metadata.json")
	[ "$output" = "suite steady_eevdf/tiny-1llc/$version"$'\n'"suite steady_eevdf/tiny-1llc/$version-amd64" ]
}
