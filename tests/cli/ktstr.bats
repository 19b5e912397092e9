#!/usr/bin/env bats
# The ktstr dispatcher script.

load cli

setup() { common_setup; }
teardown() { common_teardown; }

@test "ktstr vm --version runs ktstr-vm" {
	run ktstr vm --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-vm (ktstr) "* ]]
}

@test "ktstr initramfs --help runs ktstr-initramfs" {
	run ktstr initramfs --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: ktstr-initramfs"* ]]
}

@test "ktstr help lists the programs it finds" {
	run ktstr help
	[ "$status" -eq 0 ]
	[[ "$output" == *"  vm"* ]]
	[[ "$output" == *"  initramfs"* ]]
}

@test "ktstr --version" {
	run ktstr --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr (ktstr) "* ]]
}

@test "unknown subcommand: one line, exit 2" {
	run --separate-stderr ktstr frobnicate
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "ktstr: unknown command 'frobnicate' (see 'ktstr --help')" ]
}

@test "no subcommand, odd names and unknown options exit 2" {
	run ktstr
	[ "$status" -eq 2 ]
	run --separate-stderr ktstr ../../bin/sh
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is not a command name"* ]]
	run --separate-stderr ktstr --frob
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown option '--frob'"* ]]
}

@test "the dispatcher passes arguments and exit codes through" {
	run --separate-stderr ktstr vm --topo 1,0,1,1
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-vm: --topo '1,0,1,1'"* ]]
}

@test "make install puts programs, agent, share and man pages under DESTDIR" {
	make -s -C "$BATS_TEST_DIRNAME/../.." install DESTDIR="$TEST_TMP/root" PREFIX=/usr >/dev/null
	r=$TEST_TMP/root/usr
	for p in ktstr ktstr-vm ktstr-initramfs; do [ -x "$r/bin/$p" ]; done
	[ -x "$r/libexec/ktstr/ktstr-agent" ]
	[ -x "$r/share/ktstr/fetch-debian-kernel" ]
	[ -f "$r/share/ktstr/ktstr.kconfig" ] && [ ! -L "$r/share/ktstr/ktstr.kconfig" ]
	[ -f "$r/share/man/man1/ktstr-vm.1" ] && [ -f "$r/share/man/man7/ktstr-records.7" ]
	# The installed dispatcher finds its siblings.
	run "$r/bin/ktstr" vm --version
	[ "$status" -eq 0 ]
	# Every program has a man page that man(1) can render.
	for m in "$r"/share/man/man*/*; do
		man -l "$m" >/dev/null 2>&1 || MANWIDTH=80 groff -man -Tutf8 "$m" >/dev/null
	done
}

@test "ktstr(1) lists every program as a command and in SEE ALSO" {
	local c name page
	page=$(MANWIDTH=200 man -l "$BATS_TEST_DIRNAME/../../man/ktstr.1" 2>/dev/null)
	for c in "$BATS_TEST_DIRNAME"/../../cmd/ktstr-*.c; do
		name=$(basename "$c" .c)
		grep -qx "^\.B ${name#ktstr-}" "$BATS_TEST_DIRNAME/../../man/ktstr.1" || {
			echo "ktstr(1) has no command entry for ${name#ktstr-}" >&2; return 1; }
		[[ "$page" == *"$name(1)"* ]] || { echo "ktstr(1) does not name $name(1)" >&2; return 1; }
	done
}
