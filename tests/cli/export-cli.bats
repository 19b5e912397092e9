#!/usr/bin/env bats
# ktstr-export without a VM: what goes into NAME.run (read back with
# busybox tar, as a bare target would), the bad inputs it refuses, and the
# run file's own preamble (help, bad arguments, extraction failures, clean
# up).  The run on a target: tests/export.bats.

load cli

setup() {
	common_setup
	cd "$TEST_TMP"
	# A dynamic "scheduler": a copy of true(1), libc only.
	cp /bin/true "$TEST_TMP/scx_fake"
	# busybox stands in for the applets a bare target has.
	BB=$(command -v busybox)
}

teardown() { common_teardown; }

# The archive's entries, extracted the way the preamble does it.
entries() {
	local skip
	skip=$(sed -n 's/.* skip=\([0-9]*\)$/\1/p' "$1" | head -1)
	[ -n "$skip" ]
	tail -n +"$skip" "$1" | "$BB" tar -tzf - | sort
}

# One file of the archive on stdout.
member() {
	local skip
	skip=$(sed -n 's/.* skip=\([0-9]*\)$/\1/p' "$1" | head -1)
	tail -n +"$skip" "$1" | "$BB" tar -xzOf - "$2"
}

@test "export: steady under EEVDF by default, executable, agent, request, manifest, verdict printer" {
	run --separate-stderr ktstr-export
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == "ktstr-export: wrote steady.run (scenario steady, topology 1,1,2,1, scheduler EEVDF)" ]]
	[ -x steady.run ]
	[ "$(stat -c %a steady.run)" = 755 ]
	[ "$(head -1 steady.run)" = "#!/bin/sh" ]
	run entries steady.run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *ktstr-agent* ]]
	[[ "$output" == *request.json* ]]
	[[ "$output" == *manifest.json* ]]
	[[ "$output" == *bin/ktstr-verdict* ]]
	[[ "$output" != *sched/* ]]
	# Exactly the request a VM's agent would get for these options.
	run member steady.run request.json
	[ "$(jq -r .type <<<"$output")" = scenario ]
	[ "$(jq -r .scenario.name <<<"$output")" = steady ]
	[ "$(jq -c .scheduler <<<"$output")" = null ]
	[ "$(jq -r .topo <<<"$output")" = 1,1,2,1 ]
	[ "$(jq -r .checks.max_gap_ms <<<"$output")" != null ]
	run member steady.run manifest.json
	[ "$(jq -r .scenario <<<"$output")" = steady ]
	[ "$(jq -r .topo <<<"$output")" = 1,1,2,1 ]
	[ "$(jq -r .ktstr_version <<<"$output")" = "$(ktstr --version | sed 's/.* //')" ]
	# The bundled agent is the static one, byte for byte.
	member steady.run ktstr-agent | cmp - "$(dirname "$(command -v ktstr-export)")/../libexec/ktstr/ktstr-agent"
}

@test "export: a dynamic scheduler comes with its arguments, its loader and its libraries" {
	run --separate-stderr ktstr export --scheduler "$TEST_TMP/scx_fake" --sched-arg -v \
		--sched-arg '--slice=5' --topo 1n2l2c1t --duration 2s -o "$TEST_TMP/x.run"
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	run entries x.run
	echo "$output"
	[[ "$output" == *sched/scx_fake* ]]
	[[ "$output" == *lib/ld-linux-x86-64.so.2* ]]
	[[ "$output" == *lib/libc.so.6* ]]
	run member x.run request.json
	[ "$(jq -c .scheduler <<<"$output")" = '{"path":"sched/scx_fake","args":["-v","--slice=5"]}' ]
	[ "$(jq -r .topo <<<"$output")" = 1,2,2,1 ]
	[ "$(jq -r .scenario.duration_ms <<<"$output")" = 2000 ]
	run member x.run manifest.json
	[ "$(jq -c .scheduler <<<"$output")" = '{"name":"scx_fake","path":"sched/scx_fake","args":["-v","--slice=5"]}' ]
	[ "$(jq -r .topo <<<"$output")" = 1,2,2,1 ]
	grep -q "^name='steady' topo='1,2,2,1' " x.run
}

@test "export: -i files and directories land under include-files with their libraries" {
	mkdir -p data/sub
	echo hello >data/sub/greeting
	run --separate-stderr ktstr-export -i "$(command -v jq)" -i data --cgroup cg_a:workers=1
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	# A scenario of --cgroup alone is "custom".
	[ -x custom.run ]
	run entries custom.run
	echo "$output"
	[[ "$output" == *include-files/jq* ]]
	[[ "$output" == *include-files/data/sub/greeting* ]]
	[[ "$output" == *lib/libjq.so.1* ]]
	[ "$(member custom.run include-files/data/sub/greeting)" = hello ]
}

@test "export: the same inputs give the same bytes" {
	ktstr-export -o a.run 2>/dev/null
	ktstr-export -o b.run 2>/dev/null
	cmp a.run b.run
}

@test "export: bad inputs are one line and exit 2, and leave no file behind" {
	local args
	for args in "--topo 1,x" "--duration soon" "--sched-arg -v" \
		"--scheduler scx_no_such_thing_here" "--scenario no_such_scenario" \
		"-i $TEST_TMP/missing" "stray" "-o $TEST_TMP/nodir/x.run" "--cgroup bad:workers=zz"; do
		# shellcheck disable=SC2086
		run --separate-stderr ktstr-export $args
		echo "args=$args status=$status stderr=$stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "ktstr-export: "* ]]
	done
	[ -z "$(ls -A "$TEST_TMP" | grep -v '^scx_fake$')" ]
	# EEVDF is what no --scheduler means, not a name to look up.
	run --separate-stderr ktstr-export --scheduler eevdf
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-export: --scheduler 'eevdf': expected a sched_ext scheduler's name or path; EEVDF is the kernel's default, so leave out --scheduler to export under it"* ]]
	# A scheduler whose name the preamble could not quote.
	mkdir q
	cp /bin/true "q/it's"
	run --separate-stderr ktstr-export --scheduler "$TEST_TMP/q/it's"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"quote or control character"* ]]
	[ -z "$(ls -A "$TEST_TMP" | grep -v '^scx_fake$' | grep -v '^q$')" ]
}

@test "export: an empty or non-ELF agent is refused, naming it and make" {
	# A copy of the program beside its own libexec, as a rebuild leaves it
	# for a moment: the agent there exists but is no program.
	local exe
	exe=$(command -v ktstr-export)
	mkdir -p k/bin k/libexec/ktstr
	cp "$exe" k/bin/ktstr-export
	ln -s "$(cd "$(dirname "$exe")/.." && pwd)/share" k/share
	: >k/libexec/ktstr/ktstr-agent
	chmod +x k/libexec/ktstr/ktstr-agent
	for body in "" "#!/bin/sh"; do
		printf '%s' "$body" >k/libexec/ktstr/ktstr-agent
		run --separate-stderr k/bin/ktstr-export -o a.run
		echo "status=$status stderr=$stderr"
		[ "$status" -eq 2 ]
		[[ "$stderr" == "ktstr-export: the static agent "*"k/bin/../libexec/ktstr/ktstr-agent is not an x86-64 ELF program"*"rebuild it (make)" ]]
		[ ! -e a.run ]
	done
}

@test "export: -o a directory, and a scheduler that cannot be exec'd, are named as such" {
	# rename() onto a directory used to fail only after the archive was
	# written, as "Is a directory; check the disk" (or EBUSY for ".").
	mkdir out
	for d in out .; do
		run --separate-stderr ktstr-export -o "$d"
		echo "status=$status stderr=$stderr"
		[ "$status" -eq 2 ]
		[ "$stderr" = "ktstr-export: -o $d: is a directory; name the file to write, e.g. -o $d/steady.run" ]
	done
	[ -z "$(ls -A out)" ]
	# An executable that is neither ELF nor #!: refused here, not on the
	# target as an exec error.  A #! wrapper is a scheduler.
	printf 'scx_simple -v\n' >wrapper
	chmod +x wrapper
	run --separate-stderr ktstr-export --scheduler ./wrapper -o w.run
	[ "$status" -eq 2 ]
	[ "$stderr" = "ktstr-export: --scheduler ./wrapper: neither an ELF binary nor a #! script; pass the path of a built scheduler binary" ]
	[ ! -e w.run ]
	KTSTR_SCHEDULER=$TEST_TMP/wrapper run --separate-stderr ktstr-export --scheduler scx_any -o w.run
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"KTSTR_SCHEDULER=$TEST_TMP/wrapper is not an ELF binary or a #! script; fix or unset it" ]]
	printf '#!/bin/sh\nexec scx_simple -v\n' >wrapper
	run --separate-stderr ktstr-export --scheduler ./wrapper -o w.run
	[ "$status" -eq 0 ]
	[ -x w.run ]
}

@test "export: a failed export keeps the previous file" {
	echo old >keep.run
	run --separate-stderr ktstr-export -i "$TEST_TMP/missing" -o keep.run
	[ "$status" -eq 2 ]
	[ "$(cat keep.run)" = old ]
	[ "$(ls -A | grep -c tmp)" -eq 0 ]
}

@test "run file: --help, --version and bad arguments, under busybox sh" {
	ktstr-export -o s.run 2>/dev/null
	run --separate-stderr "$BB" sh s.run --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: s.run [--duration DUR] [--json] [--keep]" ]]
	[[ "$output" == *"CPU topology"*"1,1,2,1"* ]]
	# sched_ext is needed only for a scheduler (the agent checks it only
	# then); the help once claimed it for an EEVDF export too.
	[[ "$output" == *"any kernel, sched_ext or not"* ]]
	[[ "$output" != *"with sched_ext"* ]]
	[[ "$output" == *KTSTR_CGROUP_WALK_ROOT*KTSTR_HOST_CGROUP_PARENT* ]]
	ktstr-export --scheduler "$TEST_TMP/scx_fake" -o f.run 2>/dev/null
	run --separate-stderr "$BB" sh f.run --help
	[[ "$output" == *"a kernel with sched_ext, no other sched_ext scheduler attached"* ]]
	run --separate-stderr "$BB" sh s.run --version
	[ "$status" -eq 0 ]
	[ "$output" = "s.run (ktstr) $(ktstr --version | sed 's/.* //')" ]
	run --separate-stderr "$BB" sh s.run --bogus
	[ "$status" -eq 2 ]
	[ "$stderr" = "s.run: unknown argument '--bogus' (see 's.run --help')" ]
	run --separate-stderr "$BB" sh s.run --duration
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--duration needs a value"* ]]
	run --separate-stderr "$BB" sh s.run --duration '5s;reboot'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"expected a duration"* ]]
	# An empty value is a mistake, not "the exported duration".
	for a in "--duration=" "--duration ''"; do
		eval "run --separate-stderr \"\$BB\" sh s.run $a"
		[ "$status" -eq 2 ]
		[ "$stderr" = "s.run: --duration '': expected a duration such as 10s or 1500ms" ]
	done
}

@test "run file: no writable temp dir, a truncated file, no tar: one clear line, exit 2" {
	ktstr-export -o s.run 2>/dev/null
	run --separate-stderr env TMPDIR="$TEST_TMP/none" "$BB" sh s.run --json
	echo "$stderr"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"cannot make a directory in $TEST_TMP/none; set TMPDIR"* ]]
	mkdir tmp
	head -c 200000 s.run >t.run
	run --separate-stderr env TMPDIR="$TEST_TMP/tmp" "$BB" sh t.run --json
	echo "$stderr"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"t.run: cannot extract the archive"*"truncated"* ]]
	[ -z "$(ls -A tmp)" ]
	mkdir nobin
	ln -s "$(command -v mktemp)" nobin/mktemp
	ln -s "$(command -v tail)" nobin/tail
	run --separate-stderr env PATH="$TEST_TMP/nobin" /bin/sh s.run --json
	[ "$status" -eq 2 ]
	[ "$stderr" = "s.run: 'tar' not found in PATH; install it (busybox has it)" ]
}

@test "run file: a user who is not root is refused by the agent, and the temp dir goes" {
	local user=()
	ktstr-export -o s.run 2>/dev/null
	mkdir -m 1777 tmp
	chmod 755 "$TEST_TMP"
	[ "$(id -u)" -ne 0 ] || user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run --separate-stderr env TMPDIR="$TEST_TMP/tmp" "${user[@]}" "$BB" sh s.run --json
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 2 ]
	# The agent is what refuses (the host_refused record is its: the
	# preamble got that far), in the name of the file that was run.
	[ "$stderr" = "s.run: host mode needs root (it creates cgroups); run it as root" ]
	jq -e -s 'length == 1 and .[0].type == "host_refused" and .[0].check == "root"' <<<"$output"
	[ -z "$(ls -A tmp)" ]
}

@test "run file: --keep keeps the extracted bundle and says where" {
	local user=()
	ktstr-export --scheduler "$TEST_TMP/scx_fake" -o s.run 2>/dev/null
	mkdir -m 1777 tmp
	chmod 755 "$TEST_TMP"
	# Not as root: the agent must refuse here, never run on this machine.
	[ "$(id -u)" -ne 0 ] || user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run --separate-stderr env TMPDIR="$TEST_TMP/tmp" "${user[@]}" "$BB" sh s.run --json --keep
	echo "status=$status stderr=$stderr"
	dir=$(sed -n 's/^s.run: kept //p' <<<"$stderr")
	[ -d "$dir" ]
	[[ "$dir" == "$TEST_TMP/tmp/ktstr-run."* ]]
	[ -x "$dir/ktstr-agent" ]
	[ -x "$dir/sched/scx_fake" ]
	# The bundled scheduler runs through the bundled loader.
	"$dir/lib/ld-linux-x86-64.so.2" --library-path "$dir/lib" "$dir/sched/scx_fake"
	cmp "$dir/request.json" <(member s.run request.json)
}
