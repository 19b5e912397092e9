#!/usr/bin/env bats
# ktstr-vm(1) against the code: what the page says ktstr-vm does is what it
# does, checked on the rendered page so the two cannot drift apart.

load cli

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	export KTSTR_CACHE_DIR=$FAKE_CACHE
	TOP=$BATS_TEST_DIRNAME/../..
	PAGE=$TOP/man/ktstr-vm.1
}
teardown() { common_teardown; }


# A #define's string from lib/vm/qemu.h.
qemu_h() { sed -n "s/^#define $1 \"\(.*\)\"\$/\1/p" "$TOP/lib/vm/qemu.h"; }

@test "ktstr-vm(1): KTSTR_QEMU_FIRMWARE reads clearly and says what qemu_firmware does" {
	text=$(man_entry KTSTR_QEMU_FIRMWARE)
	echo "$text"
	[ -n "$text" ]
	# No word said twice in a row ("qboot, qboot" read like a typo).
	! grep -Eiq '\b([[:alnum:]_]+)[,;:]? \1\b' <<<"$text"
	# Where qboot is looked for, the two words, the -bios path and its limits.
	qboot=$(qemu_h QEMU_QBOOT_PATH)
	[ -n "$qboot" ]
	[[ "$text" == *"$qboot"* ]]
	[[ "$text" == *"The word qboot "* ]]
	[[ "$text" == *"the word seabios "* ]]
	[[ "$text" == *"in any case"* ]]
	[[ "$text" == *"-bios"* ]]
	grep -q '^#define QEMU_BIOS_BLOCK 65536$' "$TOP/lib/vm/qemu.h"
	[[ "$text" == *"64 KiB"* ]]
	[[ "$text" == *"an empty file"* ]]
	[[ "$text" == *"--dry-run"* ]]
	[[ "$text" == *"firmware field of vm_start"* ]]
	# What it says of the words, ktstr-vm does.
	KTSTR_QEMU_FIRMWARE=SEABIOS ktstr-vm --dry-run | jq -e 'select(.type == "qemu_argv") | .firmware == null'
	if [ -r "$qboot" ]; then
		KTSTR_QEMU_FIRMWARE=QBoot ktstr-vm --dry-run |
			jq -e --arg q "$qboot" 'select(.type == "qemu_argv") | .firmware == $q'
	fi
}

# The tags of the KERNEL COMMAND LINE section's entries, one a line, as
# they read on the page.
cmdline_tags() {
	awk '/^\.SH / { on = ($0 == ".SH KERNEL COMMAND LINE"); next }
	     on && tp { tp = 0; m = $1; $1 = ""; sub(/^ /, ""); gsub(/"/, "")
	                if (m == ".BI") gsub(/ /, ""); gsub(/\\-/, "-"); print; next }
	     on && /^\.TP/ { tp = 1 }' "$PAGE"
}

# The section's example command line number $1 (1, 2), joined into one.
cmdline_example() {
	awk -v want="$1" '/^\.SH / { on = ($0 == ".SH KERNEL COMMAND LINE"); next }
	     on && /^\.nf/ { n++; inside = 1; next } /^\.fi/ { inside = 0; next }
	     on && inside && n == want { gsub(/\\-/, "-"); print }' "$PAGE" | paste -sd ' '
}

# The kernel command line --dry-run gives QEMU, for ktstr-vm "$@".
# Under TCG, on the examples' host (a TSC at 2.5961 GHz).
dry_cmdline() {
	KTSTR_TSC_KHZ=2596100 ktstr-vm --dry-run --accel tcg "$@" |
		jq -r 'select(.type == "qemu_argv") | .argv | .[index("-append") + 1]'
}

@test "ktstr-vm(1): KERNEL COMMAND LINE lists the whole command line qemu_kernel_cmdline builds" {
	plain=$(dry_cmdline --topo 1,2,2,1)
	loud=$(dry_cmdline --topo 1,2,2,1 --dmesg --append 'foo=1 bar=2')
	echo "dry run:  $plain"
	echo "          $loud"
	echo "examples: $(cmdline_example 1)"
	echo "          $(cmdline_example 2)"
	[ -n "$plain" ] && [ -n "$loud" ]
	# The examples are what ktstr-vm gives QEMU, word for word.
	[ "$(cmdline_example 1)" = "$plain" ]
	[ "$(cmdline_example 2)" = "$loud" ]
	# And every parameter has its entry, in the order of the line: the
	# tags are the plain line with the topology as N,L,C,T, then the two
	# that only --dmesg and --append add.
	tags=$(cmdline_tags | paste -sd ' ')
	echo "tags:     $tags"
	want=${plain/KTSTR_TOPO=1,2,2,1/KTSTR_TOPO=N,L,C,T}
	[ "$tags" = "${want/tsc_early_khz=2596100/tsc_early_khz=KHZ} KTSTR_VERBOSE=1 --append" ]
	# The --dmesg entry names what it swaps in.
	[[ "$loud" == *" loglevel=7 earlyprintk=serial "* ]]
	man_render | grep -qF 'these two are loglevel=7 earlyprintk=serial instead'
}
