#!/usr/bin/env bats
# ktstr-vm bad inputs: one line naming the input and the fix, exit 2,
# nothing left behind.  None of these should get as far as booting: the
# kernel is a fake cache entry (tests/fixtures/fake-kernel), never run.

load cli

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	# A cache of the test's own: the check below for half-written files
	# must not see another test's work in progress (run-bats runs tests
	# in parallel).
	export XDG_CACHE_HOME=$TEST_TMP/cache
	KERNEL=$FAKE_IMAGE
	vm_cmd=(ktstr-vm)
}
teardown() { common_teardown; }

# Run ktstr-vm expecting a setup/usage failure mentioning $1.
expect_error() {
	local want=$1; shift
	run --separate-stderr "${vm_cmd[@]}" "$@"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"$want"* ]]
	assert_no_qemu
	# No half-written initramfs or temp files in the cache.
	! find "$XDG_CACHE_HOME" -name '*.tmp*' 2>/dev/null | grep -q . || false
}

@test "--topo 1,0,2,1: zero LLCs" {
	expect_error "--topo '1,0,2,1': LLCs must be at least 1" -k "$KERNEL" --topo 1,0,2,1
}

@test "--topo 1,2,x,1: not a number" {
	expect_error "cores per LLC 'x' is not a whole number" -k "$KERNEL" --topo 1,2,x,1
}

@test "--topo a" {
	expect_error "--topo 'a'" -k "$KERNEL" --topo a
}

@test "--topo 1,2,3: three fields" {
	expect_error "has 3 fields, need 4" -k "$KERNEL" --topo 1,2,3
}

@test "--topo 3,4,1,1: LLCs do not split over nodes" {
	expect_error "cannot be split evenly" -k "$KERNEL" --topo 3,4,1,1
}

@test "--topo beyond ktstr's own sanity limit" {
	expect_error "more than ktstr supports" -k "$KERNEL" --topo 1,4096,4096,1
}

@test "--topo with more vCPUs than the host can run is refused before booting" {
	# 400 vCPUs on a small host once ran into the 10-minute watchdog.
	expect_error "--topo 1,2,200,1: 400 vCPUs is more than this host can run in reasonable time" \
		-k "$KERNEL" --topo 1,2,200,1
	[[ "$stderr" == *"ask for fewer CPUs, or add --force"* ]]
	# The rule follows the accelerator: KVM allows one vCPU per host CPU.
	n=$(( $(nproc) + 1 ))
	expect_error "KVM: one vCPU per usable host CPU" -k "$KERNEL" --accel kvm --topo 1,1,$n,1
	# --accel kvm where the probe says KVM cannot run a guest: refused at
	# once, not after the boot deadline; --force tries it anyway.
	KTSTR_ACCEL_DETECT=tcg expect_error "--accel kvm: " -k "$KERNEL" --accel kvm --exec true
	[[ "$stderr" == *"so KVM cannot run the guest; use --accel tcg"*"or add --force"* ]]
	KTSTR_ACCEL_DETECT=tcg run --separate-stderr ktstr-vm -k "$KERNEL" --accel kvm --force --dry-run
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "qemu_argv") | .accel == "kvm"'
	# --force lets it through (a dry run shows it would boot).
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,2,200,1 --force --dry-run
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e 'select(.type == "qemu_argv") | .argv | index("-smp") != null'
}

@test "--topo with more vCPUs than the q35 machine type supports" {
	# 8192 vCPUs: QEMU itself refuses it; ktstr-vm names --topo and the fix.
	# QEMU was started, so the records say so, ending in a qemu_error vm_exit.
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,64,64,2 --force --accel tcg
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-vm "$stderr"
	[[ "$stderr" == *"--topo 1,64,64,2: Invalid SMP CPUs 8192"*"ask for fewer CPUs"* ]]
	printf '%s\n' "$output" | tail -n1 | jq -e '.type == "vm_exit" and .reason == "qemu_error" and .console_log == null'
	# The empty console log is not left behind.
	! find "$XDG_STATE_HOME" -type f | grep -q . || false
	# Unless the user named it: that one stays, and vm_exit names it.
	run --separate-stderr ktstr-vm -k "$KERNEL" --topo 1,64,64,2 --force --accel tcg \
		--console-log "$TEST_TMP/mine.log"
	[ "$status" -eq 2 ]
	[ -e "$TEST_TMP/mine.log" ]
	printf '%s\n' "$output" | tail -n1 |
		jq -e --arg l "$TEST_TMP/mine.log" '.type == "vm_exit" and .console_log == $l'
	assert_no_qemu
}

@test "missing --kernel path" {
	expect_error "--kernel=/nonexistent/bzImage does not exist" -k /nonexistent/bzImage
}

@test "--kernel that is not a kernel image" {
	echo "not a kernel" >"$TEST_TMP/fake"
	expect_error "is not an x86 kernel image" -k "$TEST_TMP/fake"
}

@test "--kernel pointing at an ELF (vmlinux-like) file" {
	expect_error "ELF vmlinux" -k /bin/busybox
}

@test "KTSTR_TEST_KERNEL set but empty is a hard error" {
	KTSTR_TEST_KERNEL= expect_error "KTSTR_TEST_KERNEL not found"
}

@test "missing include" {
	expect_error "/nonexistent/thing" -k "$KERNEL" -i /nonexistent/thing
}

@test "--dry-run meets the includes' errors a real run would, before any record" {
	expect_error "include /nonexistent/thing does not exist" -k "$KERNEL" \
		-i /nonexistent/thing --dry-run
	mkdir "$TEST_TMP/inc"
	mkfifo "$TEST_TMP/inc/pipe"
	expect_error "$TEST_TMP/inc/pipe (in include $TEST_TMP/inc) is a device, fifo or socket" \
		-k "$KERNEL" -i "$TEST_TMP/inc" --dry-run
	touch "$TEST_TMP/a.txt" "$TEST_TMP/inc/a.txt"
	rm "$TEST_TMP/inc/pipe"
	expect_error "both map to /include-files/a.txt" -k "$KERNEL" -i "$TEST_TMP/a.txt" \
		-i "$TEST_TMP/inc/a.txt" --dry-run
	# Checking wrote nothing: no image in the cache.
	! find "$XDG_CACHE_HOME" -name '*.cpio' 2>/dev/null | grep -q . || false
	run --separate-stderr ktstr-vm -k "$KERNEL" -i "$TEST_TMP/inc" --dry-run
	[ "$status" -eq 0 ]
	! find "$XDG_CACHE_HOME" -name '*.cpio' 2>/dev/null | grep -q . || false
}

@test "unwritable console log path" {
	expect_error "--console-log /proc/nope/x.log: cannot create anything in /proc" \
		-k "$KERNEL" --console-log /proc/nope/x.log
	# --dry-run, which writes nothing, says so too, and the culprit is
	# named: a file where a directory must be, a directory for the file.
	touch "$TEST_TMP/file"
	expect_error "--console-log $TEST_TMP/file/x.log: $TEST_TMP/file is not a directory" \
		-k "$KERNEL" --console-log "$TEST_TMP/file/x.log" --dry-run
	expect_error "$TEST_TMP is a directory" -k "$KERNEL" --console-log "$TEST_TMP" --dry-run
	# The default place, under XDG_STATE_HOME.
	XDG_STATE_HOME=/proc/nope expect_error "the console log under /proc/nope/ktstr/console" \
		-k "$KERNEL" --dry-run
	# A path that can be made is fine, and a dry run leaves it unmade.
	run --separate-stderr ktstr-vm -k "$KERNEL" --console-log "$TEST_TMP/a/b/x.log" --dry-run
	[ "$status" -eq 0 ]
	[ ! -e "$TEST_TMP/a" ]
}

@test "QEMU not installed" {
	expect_error "not found in PATH; install QEMU" -k "$KERNEL" --qemu qemu-system-nonexistent
	# A path is not looked for in PATH, and says so; --dry-run prints no
	# record before the error.
	expect_error "QEMU /nonexistent/qemu is not an executable file; give --qemu" \
		-k "$KERNEL" --qemu /nonexistent/qemu --dry-run
	# No QEMU anywhere in PATH (only ktstr-vm's own PATH is emptied).
	vm_cmd=(env PATH=/nonexistent KTSTR_BUSYBOX_PATH=/bin/busybox "$KTSTR_BIN/ktstr-vm")
	expect_error "qemu-system-x86_64 not found" -k "$KERNEL"
}

@test "bad --memory, --timeout, --accel, stray argument" {
	expect_error "--memory 'lots'" -k "$KERNEL" --memory lots
	expect_error "--timeout 'soon'" -k "$KERNEL" --timeout soon
	expect_error "--boot-timeout 'soon'" -k "$KERNEL" --boot-timeout soon
	KTSTR_BOOT_TIMEOUT=soon expect_error "KTSTR_BOOT_TIMEOUT='soon'" -k "$KERNEL"
	KTSTR_ACCEL_DETECT=xen expect_error "KTSTR_ACCEL_DETECT='xen': expected kvm, tcg or the absolute path of a device to probe in /dev/kvm's place" -k "$KERNEL"
	expect_error "--sched-output needs --scheduler" -k "$KERNEL" --sched-output
	expect_error "--accel 'xen': expected auto, kvm, tcg or tcg-mt" -k "$KERNEL" --accel xen
	# The probe answers KVM or TCG; tcg-mt is only ever asked for.
	KTSTR_ACCEL_DETECT=tcg-mt expect_error "KTSTR_ACCEL_DETECT='tcg-mt': expected kvm, tcg or the absolute path" \
		-k "$KERNEL"
	expect_error "unexpected argument 'ls'" -k "$KERNEL" ls
}

@test "--duration outside 1s..1h is refused as the flag's, not as a scenario field's" {
	expect_error "--duration '500ms': must be at least 1s; a shorter run is too few scheduler slices" \
		-k "$KERNEL" --duration 500ms --dry-run
	expect_error "--duration '2h': must be at most 1h" -k "$KERNEL" --duration 2h --dry-run
	[[ "$stderr" != *'$.duration'* ]]
	# The same floor in a scenario file, named by its field.
	printf '{"duration": "200ms", "cgroups": [{"name": "cg_0"}]}\n' >"$TEST_TMP/short.json"
	expect_error '$.duration: must be at least 1s, got 200ms' -k "$KERNEL" \
		--scenario "$TEST_TMP/short.json" --dry-run
	run --separate-stderr ktstr-vm -k "$KERNEL" --duration 1s --dry-run
	[ "$status" -eq 0 ]
}

@test "--help and --version" {
	run ktstr-vm --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--topo N,L,C,T"* ]]
	# The default run is a scenario, and --help says so.
	[[ "$output" == *'it runs the "steady"'* ]]
	[[ "$output" == *"--boot-timeout"* && "$output" == *"--force"* && "$output" == *"--sched-output"* ]]
	run ktstr-vm --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ktstr-vm (ktstr) "* ]]
}

# ---- payloads: checked before boot ------------------------------------------

@test "a payload whose program is not installed: one line naming it and its Debian package" {
	echo '{"payloads": [{"name": "cyc", "program": "ktstr-no-such-bench"}]}' >"$TEST_TMP/p.json"
	expect_error "payload 'cyc': program 'ktstr-no-such-bench' not found in PATH" \
		-k "$KERNEL" --scenario "$TEST_TMP/p.json"
	# A PATH without rt-tests: the package to install is named.
	mkdir "$TEST_TMP/bin"
	ln -s "$(command -v ktstr-vm)" "$TEST_TMP/bin/ktstr-vm"
	vm_cmd=(env "PATH=$TEST_TMP/bin" ktstr-vm)
	echo '{"payloads": [{"program": "cyclictest"}]}' >"$TEST_TMP/c.json"
	expect_error "program 'cyclictest' not found in PATH; install the Debian package rt-tests" \
		-k "$KERNEL" --scenario "$TEST_TMP/c.json"
}

@test "a payload program given as a path that is missing or not executable" {
	echo '{"payloads": [{"program": "/nonexistent/bench"}]}' >"$TEST_TMP/p.json"
	expect_error "/nonexistent/bench" -k "$KERNEL" --scenario "$TEST_TMP/p.json"
	touch "$TEST_TMP/bench"
	echo "{\"payloads\": [{\"program\": \"$TEST_TMP/bench\"}]}" >"$TEST_TMP/p.json"
	expect_error "$TEST_TMP/bench" -k "$KERNEL" --scenario "$TEST_TMP/p.json"
}

@test "an unknown adapter, a bad pattern, a stop of a payload that never ran: the JSON path" {
	echo '{"payloads": [{"program": "sh", "metrics": "cyclictst"}]}' >"$TEST_TMP/p.json"
	expect_error "\$.payloads[0].metrics: unknown form or adapter 'cyclictst'" \
		-k "$KERNEL" --scenario "$TEST_TMP/p.json"
	echo '{"payloads": [{"program": "sh", "metrics": {"form": "pattern", "patterns": [{"regex": "p99 [0-9]+", "metric": "p99"}]}}]}' >"$TEST_TMP/p.json"
	expect_error "has no group" -k "$KERNEL" --scenario "$TEST_TMP/p.json"
	echo '{"cgroups": [{"name": "a"}], "steps": [{"ops": [{"op": "stop_payload", "payload": "x"}]}]}' >"$TEST_TMP/p.json"
	expect_error "no payload 'x' runs at step 0" -k "$KERNEL" --scenario "$TEST_TMP/p.json"
	expect_error "copies: must be a whole number from 1 to 64, got 0" \
		-k "$KERNEL" --cgroup 'lat:payload=sh,copies=0'
}

@test "--host refuses each option that only shapes or watches a VM, by name, before anything runs" {
	# Each was once accepted and ignored; --raw even dropped every record
	# and exited 0.
	local args
	for args in "--raw" "--dmesg" "--force" "--memory 1024" "--timeout 1s" \
		"--boot-timeout 5s" "--env A=B" "--tools" "--kernel $KERNEL" "--accel tcg" "--dry-run"; do
		# shellcheck disable=SC2086
		expect_error "--host runs on this machine and its running kernel: ${args%% *} is for a VM; drop it" \
			--host $args
	done
	expect_error "--monitor-interval is for a VM's monitor; host mode samples every KTSTR_STALL_POLL_MS" \
		--host --monitor-interval 50ms
	expect_error "--no-monitor is for a VM's monitor" --host --no-monitor
	# The VM's variables, left set in the environment, do not count: the
	# run gets as far as the agent's own checks (a parent outside the
	# cgroup tree, refused before anything is made).
	KTSTR_BOOT_TIMEOUT=5s KTSTR_VERBOSE=1 KTSTR_HOST_CGROUP_PARENT=/tmp/ktstr-nope \
		run --separate-stderr ktstr-vm --host --duration 1s
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 2 ]
	[[ "$stderr" != *"is for a VM"* ]]
	# Said in the name of the program the user ran, not the agent's.
	[[ "$stderr" == "ktstr-vm: "* ]]
	[[ "$stderr" != *"ktstr-agent"* ]]
}

@test "--scheduler with --exec says the scheduler is only put in the guest, not attached" {
	run --separate-stderr ktstr-vm -k "$KERNEL" --scheduler /bin/true --exec true --qemu /bin/false
	echo "$stderr"
	[ "${stderr_lines[0]}" = "ktstr-vm: --scheduler with --exec: /bin/true is put at /usr/bin/true in the guest, not attached; start it in the command, or run a scenario to have it attached" ]
	# A dry run describes; it does not warn.
	run --separate-stderr ktstr-vm -k "$KERNEL" --scheduler /bin/true --exec true --dry-run
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

# --env reaches --exec's command and a scenario's scheduler and payloads;
# with --shell it was accepted and dropped without a word.  A name the
# guest's sh cannot export was dropped the same way.
@test "--env with --shell, or with a name sh cannot export: one line each" {
	expect_error "--shell runs without them" -k "$KERNEL" --env A=1 --shell
	for args in "" "--scenario steady" "--cgroup cg:workers=2"; do
		# shellcheck disable=SC2086
		run --separate-stderr "${vm_cmd[@]}" -k "$KERNEL" --dry-run --env A=1 $args
		[ "$status" -eq 0 ]
	done
	for bad in 1BAD A-B 'A B' "$(printf 'A\nB')" 'A.B'; do
		expect_error "is not a variable name" -k "$KERNEL" --env "$bad=x" --exec true
	done
	# The guest sets KTSTR_TOPO from --topo; an --env value would lie.
	expect_error "--env KTSTR_TOPO: the guest sets it to the VM's topology" \
		-k "$KERNEL" --env KTSTR_TOPO=2,2,2,2 --exec true
	run --separate-stderr "${vm_cmd[@]}" -k "$KERNEL" --dry-run --env _Ok9=x --exec true
	[ "$status" -eq 0 ]
}
