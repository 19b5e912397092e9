# Helpers for the VM-free suites (tests/cli): no kernel, no QEMU boot, no
# network.  tests/run-bats --cli runs them without fetching the e2e kernel.
load ../lib/common

# Every program of the suite, the dispatcher first.
PROGRAMS=(ktstr ktstr-fetch ktstr-build ktstr-initramfs ktstr-vm ktstr-ctprof ktstr-stats ktstr-test ktstr-verify ktstr-selftests ktstr-export)

# A fake kernel built by ktstr-build from tests/fixtures/fake-kernel into
# the kernel cache $1: a real cache entry (bzImage with a boot header,
# config, vmlinux, metadata.json) in well under a second.  Prints the
# entry's JSON line.
make_fake_entry() {
	local cache=$1 src
	src=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/fake-src.XXXXXX")
	cp -r "$BATS_TEST_DIRNAME/../fixtures/fake-kernel/." "$src"
	KTSTR_CACHE_DIR=$cache ktstr-build --source "$src" | jq -c 'select(.type == "kernel")'
}

# setup_file for suites that want one fake cache entry: FAKE_CACHE (a
# kernel cache holding only it), FAKE_KEY and FAKE_IMAGE.
fake_entry_setup_file() {
	local line
	export FAKE_CACHE=$BATS_FILE_TMPDIR/kernels
	line=$(make_fake_entry "$FAKE_CACHE") || return 1
	FAKE_KEY=$(jq -r .key <<<"$line")
	FAKE_IMAGE=$(jq -r .image <<<"$line")
	export FAKE_KEY FAKE_IMAGE
}

# Man-page tests (vm-man.bats, test-man.bats): $PAGE as plain text, each
# paragraph on one line, no hyphenation; and the text of the tagged
# paragraph whose tag is exactly $1 (an OPTIONS or ENVIRONMENT entry).
man_render() { groff -man -Tutf8 -rLL=5000n -rHY=0 -P-cbou "$PAGE" 2>/dev/null; }
man_entry() {
	man_render | awk -v tag="$1" 'found { sub(/^ +/, ""); print; exit }
		{ t = $0; sub(/^ +/, "", t) } t == tag { found = 1 }'
}
