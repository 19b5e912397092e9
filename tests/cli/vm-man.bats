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

# The page as plain text, each paragraph on one line, no hyphenation.
render() { groff -man -Tutf8 -rLL=5000n -rHY=0 -P-cbou "$PAGE" 2>/dev/null; }

# The text of the tagged paragraph whose tag is exactly $1 (an ENVIRONMENT
# or OPTIONS entry).
entry() {
	render | awk -v tag="$1" 'found { sub(/^ +/, ""); print; exit }
		{ t = $0; sub(/^ +/, "", t) } t == tag { found = 1 }'
}

# A #define's string from lib/vm/qemu.h.
qemu_h() { sed -n "s/^#define $1 \"\(.*\)\"\$/\1/p" "$TOP/lib/vm/qemu.h"; }

@test "ktstr-vm(1): KTSTR_QEMU_FIRMWARE reads clearly and says what qemu_firmware does" {
	text=$(entry KTSTR_QEMU_FIRMWARE)
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
