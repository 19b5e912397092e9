#!/bin/bash
# Smoke test of the guest side of scenarios: boot a real kernel under QEMU
# with a hand-made initramfs (busybox + the agent as /init, plus sched_ext
# schedulers when they are built) and send {"type":"scenario",...}
# requests from python3, checking the records that come back.
#
#   tests/guest-scenario.sh [CASE...]      default: all cases
#
# Cases: steady wake cpuset allwork ops bad scx scx-died scx-fail scx-chaos
# The scx* cases need the schedulers of share/ktstr/build-schedulers
# (skipped when absent).  Needs root (mknod for /dev/console),
# qemu-system-x86_64, busybox, python3.  KTSTR_KERNEL overrides the bzImage;
# KEEP=1 keeps the temp dir (logs, records); APPEND adds kernel command line
# words (e.g. APPEND=KTSTR_VERBOSE=1).  One VM at a time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=${KTSTR_KERNEL:-/root/.cache/ktstr/kernels/debian-7.3.4+deb13-cloud-amd64-x86_64/bzImage}
KCONFIG=$(dirname "$KERNEL")/config
SCHED_DIR=${KTSTR_SCHED_DIR:-$HOME/.cache/ktstr/schedulers/debian-7.3.4+deb13-cloud-amd64-x86_64}
AGENT=$root/build/libexec/ktstr/ktstr-agent
ALL_CASES="steady wake cpuset allwork ops bad scx scx-died scx-fail scx-chaos"

tmp=$(mktemp -d /tmp/ktstr-guest-scenario.XXXXXX)
qemu_pid=

cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

die() { echo "guest-scenario: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mknod /dev/console for the initramfs)"
[ -r "$KERNEL" ] || die "no kernel at $KERNEL (set KTSTR_KERNEL)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"

make -C "$root" --no-print-directory build/libexec/ktstr/ktstr-agent >/dev/null

have_scx=
[ -x "$SCHED_DIR/scx_simple" ] && have_scx=1

build_initrd() {
	local st=$tmp/stage a

	mkdir -p "$st/bin" "$st/dev" "$st/root" "$st/boot" "$st/include-files"
	cp /bin/busybox "$st/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$st/bin/$a"
	done
	cp "$AGENT" "$st/init"
	mknod -m 600 "$st/dev/console" c 5 1
	[ -r "$KCONFIG" ] && cp "$KCONFIG" "$st/boot/config"
	if [ -n "$have_scx" ]; then
		cp "$SCHED_DIR/scx_simple" "$st/include-files/"
		# A "scheduler" that attaches, then is thrown out by the
		# kernel (sysrq-S) mid-run: the died path, with the kernel's
		# own reason.
		cat >"$st/include-files/scx-sysrq" <<'EOF'
#!/bin/sh
/include-files/scx_simple &
sleep 2.5
echo S >/proc/sysrq-trigger
wait
EOF
		# Attaches, then hurts workers from outside: one crashes
		# (SIGSEGV), one is frozen (SIGSTOP) so it cannot obey the stop
		# request.  Passes SIGINT on, so the detach is still clean.
		cat >"$st/include-files/scx-chaos" <<'EOF'
#!/bin/sh
/include-files/scx_simple &
pid=$!
trap 'kill -INT $pid; wait $pid; exit $?' INT
# (cgroupfs files report size 0: test the contents)
while [ -z "$(cat /sys/fs/cgroup/ktstr/cg_1/cgroup.procs 2>/dev/null)" ]; do sleep 0.1; done
sleep 1
kill -SEGV "$(head -n1 /sys/fs/cgroup/ktstr/cg_0/cgroup.procs)"
kill -STOP "$(head -n1 /sys/fs/cgroup/ktstr/cg_1/cgroup.procs)"
wait $pid
EOF
		chmod +x "$st/include-files/scx-sysrq" "$st/include-files/scx-chaos"
	fi
	(cd "$st" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$tmp/initrd"
}

# Python side: argv agent socket, case, request JSON.  Prints the records
# (worker records condensed) and checks the case's expectations.
client() {
	python3 - "$@" <<'PY'
import json, os, socket, sys, time

sock_path, case, request = sys.argv[1], sys.argv[2], sys.argv[3]
# The cases are written over several lines; the protocol is one line.
request = json.dumps(json.loads(request), separators=(",", ":"))
t0 = float(os.environ["T0"])
out_path = os.environ["RECORDS"]
fails = []

def connect(path):
    deadline = time.time() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(240)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)

s = connect(sock_path)
buf = b""
def next_line():
    global buf
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    line, buf = buf.split(b"\n", 1)
    return line

records = []
def read_record():
    raw = next_line()
    while raw == b"":
        raw = next_line()
    if raw is None:
        return None
    rec = json.loads(raw)
    records.append(rec)
    shown = raw.decode()
    if len(shown) > 400:
        shown = shown[:400] + "..."
    print("[+%6.3fs] %s" % (time.time() - t0, shown))
    return rec

read_record(); read_record()            # guest_topology, agent_ready
s.sendall(request.encode() + b"\n")
while True:
    rec = read_record()
    if rec is None or rec["type"] in ("exit", "agent_error"):
        break
if rec and rec["type"] == "exit":
    s.sendall(b'{"type":"ack"}\n')
with open(out_path, "w") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")

def expect(what, cond):
    if not cond:
        fails.append(what)

def of(t):
    return [r for r in records if r["type"] == t]

def cpus(lst):
    out = set()
    if not lst:
        return out
    for part in lst.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out

last = records[-1]
workers, stats = of("worker"), of("cgroup_stats")
ends = of("scenario_end") or [{}]

def common_ok(nworkers, ncg):
    expect("exit 0 (got %r)" % last, last == {"type": "exit", "exit_code": 0})
    expect("one scenario_start", len(of("scenario_start")) == 1)
    expect("one scenario_end", len(ends) == 1)
    expect("%d worker records (got %d)" % (nworkers, len(workers)), len(workers) == nworkers)
    expect("%d cgroup_stats (got %d)" % (ncg, len(stats)), len(stats) == ncg)
    for w in workers:
        expect("worker %s/%d ran" % (w["cgroup"], w["index"]), w["iterations"] > 0)
        expect("worker %s/%d not crashed" % (w["cgroup"], w["index"]), not w.get("crashed"))
        expect("worker %s/%d cpu time" % (w["cgroup"], w["index"]),
               w["cpu_time_us"] is not None and w["cpu_time_us"] > 0)
    for c in stats:
        expect("%s: no isolation violations" % c["cgroup"], c["isolation_violations"] == 0)
        expect("%s: nobody starved" % c["cgroup"], c["starved_workers"] == 0)
    # Stimulus step 0 adds come first, at 0 ms.
    adds = [r for r in of("stimulus") if r["step"] == 0]
    expect("initial adds at 0", all(r["op"] == "add" and r["at_ms"] == 0 for r in adds))

def in_cpuset(w):
    return cpus(w["cpus_used"]) <= cpus(w["cpuset"])

if case == "steady":
    common_ok(4, 2)
    start = of("scenario_start")[0]
    expect("cpus 4", start["cpus"] == 4)
    expect("checks present", start["checks"]["max_gap_ms"] == 2000)
    expect("no scheduler", start["scheduler"] is None and ends[0]["scheduler_alive"] is None)
    expect("elapsed about 3 s", 2900 <= ends[0]["elapsed_ms"] <= 4500)
elif case == "wake":
    common_ok(9, 4)
    for w in workers:
        expect("%s/%d wake samples" % (w["cgroup"], w["index"]),
               w["wake_samples"] > 0 and w["wake_p50_us"] is not None)
    for c in stats:
        expect("%s p99" % c["cgroup"], c["p99_wake_latency_us"] is not None)
elif case == "cpuset":
    common_ok(4, 2)
    for w in workers:
        expect("%s/%d cpus_used %s within %s" % (w["cgroup"], w["index"], w["cpus_used"],
               w["cpuset"]), in_cpuset(w) or w["cgroup"] in ("cg_0", "cg_1"))
    # After the swap, each cgroup has used both halves but never a CPU
    # outside what it had at the time.
    for c in stats:
        expect("%s violating_cpus null" % c["cgroup"], c["violating_cpus"] is None)
    expect("swap stimulus", any(r["op"] == "swap_cpusets" and not r.get("error")
                                for r in of("stimulus")))
elif case == "allwork":
    common_ok(len(workers), 13)
    expect("workers", len(workers) >= 16)
elif case == "ops":
    expect("exit 0", last == {"type": "exit", "exit_code": 0})
    st = of("stimulus")
    for r in st:
        expect("stimulus %s without error (%s)" % (r["op"], r.get("error")), not r.get("error"))
    ops = [r["op"] for r in st]
    for op in ("add", "spawn", "move_tasks", "set_affinity", "set_cpuset", "stop",
               "clear_cpuset", "remove"):
        expect("op %s applied" % op, op in ops)
    expect("steps 1..5", [r["index"] for r in of("step")] == [1, 2, 3, 4, 5])
    expect("loop re-applied set_cpuset", ops.count("set_cpuset") >= 3)
    for c in stats:
        expect("%s: no isolation violations" % c["cgroup"], c["isolation_violations"] == 0)
    expect("cg_late reported before the end",
           [r["cgroup"] for r in stats].index("cg_late") < len(stats) - 1)
    expect("every worker ran", all(w["iterations"] > 0 for w in workers))
elif case == "bad":
    expect("scenario_error", len(of("scenario_error")) == 1)
    expect("names the path", "$.cgroups[0]" in of("scenario_error")[0]["message"])
    expect("exit 2", last == {"type": "exit", "exit_code": 2})
elif case == "scx":
    common_ok(4, 2)
    ev = [r["event"] for r in of("scheduler")]
    expect("started, attached, detached", ev == ["started", "attached", "detached"])
    det = [r for r in of("scheduler") if r["event"] == "detached"]
    expect("clean detach", det and det[0]["clean"] is True)
    expect("events deltas", len(of("sched_ext_events")) == 1)
    expect("alive at end", ends[0]["scheduler_alive"] is True)
elif case == "scx-died":
    ev = [r["event"] for r in of("scheduler")]
    expect("started, attached, died", ev == ["started", "attached", "died"])
    died = [r for r in of("scheduler") if r["event"] == "died"]
    expect("kernel reason", died and "sysrq" in died[0]["reason"].lower())
    expect("kernel log", died and died[0]["kernel_log"])
    expect("ended early", ends and ends[0]["elapsed_ms"] < 8000)
    expect("not alive", ends and ends[0]["scheduler_alive"] is False)
    expect("exit 0", last == {"type": "exit", "exit_code": 0})
elif case == "scx-chaos":
    expect("exit 0", last == {"type": "exit", "exit_code": 0})
    expect("4 workers", len(workers) == 4)
    crashed = [w for w in workers if w.get("crashed")]
    expect("one crashed by SIGSEGV", len(crashed) == 1 and crashed[0]["signal"] == 11
           and crashed[0]["cgroup"] == "cg_0")
    frozen = [w for w in workers if w.get("stop_timeout")]
    expect("one killed after the stop timeout", len(frozen) == 1 and frozen[0]["cgroup"] == "cg_1")
    expect("crashed worker is not starved", all(c["starved_workers"] == 0 for c in stats))
    det = [r for r in of("scheduler") if r["event"] == "detached"]
    expect("detached cleanly", det and det[0]["clean"] is True)
elif case == "scx-fail":
    ev = [r["event"] for r in of("scheduler")]
    expect("started, attach_failed", ev == ["started", "attach_failed"])
    expect("no workers", not workers)
    expect("exit 1", last == {"type": "exit", "exit_code": 1})

for w in workers:
    print("  worker %-10s %d %-16s it=%-9d cpu=%-8s off=%-7s gap=%-7s@%-5s cpu%-2s mig=%-4s used=%-5s wake=%s/%s/%s rd=%s" % (
        w["cgroup"], w["index"], w["work"], w["iterations"], w["cpu_time_us"],
        w["off_cpu_pct"], w["max_gap_ms"], w["max_gap_at_ms"], w["max_gap_cpu"],
        w["migrations"], w["cpus_used"], w["wake_samples"], w["wake_p50_us"],
        w["wake_p99_us"], w["run_delay_us"]))
for f in fails:
    print("FAIL %s: %s" % (case, f))
sys.exit(1 if fails else 0)
PY
}

scenario_request() {	# SCENARIO_JSON [SCHEDULER_JSON]
	printf '{"type":"scenario","scenario":%s,"scheduler":%s,"topo":"1,2,2,1"}' \
		"$1" "${2:-null}"
}

run_case() {	# NAME REQUEST
	local name=$1 request=$2 sock=$tmp/$1.sock log=$tmp/$1.console.log rc=0

	echo "=== $name"
	T0=$(date +%s.%N)
	RECORDS=$tmp/$name.jsonl
	export T0 RECORDS
	qemu-system-x86_64 -accel tcg,thread=single \
		-cpu max,vendor=GenuineIntel,level=0xd \
		-machine q35,smp-cache.0.cache=l3,smp-cache.0.topology=die \
		-smp 4,sockets=1,dies=2,cores=2,threads=1 -m 1024 \
		-display none -nodefaults -no-user-config -no-reboot \
		-serial "file:$log" \
		-device virtio-serial-pci \
		-chardev "socket,id=agent,path=$sock,server=on,wait=off" \
		-device virtserialport,chardev=agent,name=org.ktstr.agent \
		-kernel "$KERNEL" -initrd "$tmp/initrd" \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet nokaslr KTSTR_TOPO=1,2,2,1 ${APPEND:-}" &
	qemu_pid=$!
	client "$sock" "$name" "$request" || rc=1
	for _ in $(seq 600); do
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$qemu_pid" 2>/dev/null; then
		echo "FAIL $name: QEMU still running 60 s after the last record"
		kill "$qemu_pid"
		rc=1
	fi
	wait "$qemu_pid" || true
	qemu_pid=
	echo "QEMU exited at +$(awk -v now="$(date +%s.%N)" -v t0="$T0" \
		'BEGIN { printf "%.3f", now - t0 }')s"
	if [ "$rc" != 0 ]; then
		echo "--- console log"
		tail -50 "$log"
	fi
	return "$rc"
}

case_steady() {
	run_case steady "$(scenario_request '{"name":"steady","duration":"3s","cgroups":[
		{"name":"cg_0","workers":2,"work":"spin_wait"},
		{"name":"cg_1","workers":2,"work":"spin_wait"}]}')"
}

case_wake() {
	run_case wake "$(scenario_request '{"name":"wake","duration":"3s","cgroups":[
		{"name":"bursty","workers":2,"work":{"type":"bursty","burst":"5ms","sleep":"20ms"}},
		{"name":"futex","workers":2,"work":"futex_ping_pong"},
		{"name":"pipe","workers":2,"work":"pipe_io"},
		{"name":"fan","workers":3,"work":{"type":"futex_fan_out","fan":2}}]}')"
}

# cg_0 on LLC 0 and cg_1 on LLC 1, swapped halfway: CPUs used must stay
# inside what each had at the time (no violations), across the swap.
case_cpuset() {
	run_case cpuset "$(scenario_request '{"name":"cpuset","duration":"3s","cgroups":[
		{"name":"cg_0","workers":2,"work":"spin_wait","cpuset":{"llc":0}},
		{"name":"cg_1","workers":2,"work":"spin_wait","cpuset":{"cpus":"2-3"},"pinned":true}],
		"steps":[{"hold":{"frac":0.5}},
		 {"ops":[{"op":"swap_cpusets","cgroup":"cg_0","with":"cg_1"}],"hold":{"frac":0.5}}]}')"
}

case_allwork() {
	run_case allwork "$(scenario_request '{"name":"allwork","duration":"3s","cgroups":[
		{"name":"yield","workers":1,"work":"yield_heavy"},
		{"name":"mixed","workers":1,"work":"mixed"},
		{"name":"io","workers":1,"work":{"type":"io_sync","bytes":8192}},
		{"name":"cache","workers":1,"work":{"type":"cache_pressure","kib":256}},
		{"name":"fork","workers":1,"work":"fork_exit"},
		{"name":"nice","workers":1,"work":"nice_sweep"},
		{"name":"aff","workers":2,"work":"affinity_churn","cpuset":{"cpus":"1-3"}},
		{"name":"policy","workers":1,"work":"policy_churn"},
		{"name":"pf","workers":1,"work":{"type":"page_fault_churn","kib":256}},
		{"name":"mutex","workers":3,"work":"mutex_contention"},
		{"name":"seq","workers":1,"work":{"type":"sequence","phases":[{"spin":"2ms"},{"sleep":"1ms"},{"yield":3},{"io":1}]}},
		{"name":"rt","workers":1,"work":{"type":"bursty","burst":"1ms","sleep":"10ms"},"policy":"fifo","rt_priority":5},
		{"name":"bg","workers":1,"work":"spin_wait","nice":10,"policy":"batch","background":true}]}')"
}

case_ops() {
	run_case ops "$(scenario_request '{"name":"ops","duration":"5s","cgroups":[
		{"name":"cg_0","workers":2,"work":"spin_wait"},
		{"name":"outer/a","workers":2,"work":"spin_wait","pinned":true,"cpuset":{"cpus":"0-1"}},
		{"name":"outer/b","workers":2,"work":"futex_ping_pong"}],
		"steps":[
		 {"ops":[{"op":"add","cgroup":{"name":"cg_late","workers":1,"work":"yield_heavy"}},
		         {"op":"spawn","cgroup":"cg_0","count":1}],"hold":{"frac":0.2}},
		 {"ops":[{"op":"move_tasks","cgroup":"cg_0","to":"outer/a","count":1},
		         {"op":"set_affinity","cgroup":"cg_0","cpuset":{"cpus":"3"}}],"hold":{"frac":0.2}},
		 {"ops":[{"op":"stop","cgroup":"outer/b"},{"op":"remove","cgroup":"cg_late"}],"hold":{"frac":0.2}},
		 {"ops":[{"op":"set_cpuset","cgroup":"outer/a","cpuset":{"disjoint":{"index":1,"of":2}}}],
		  "hold":{"loop":{"interval":"200ms","frac":0.2}}},
		 {"ops":[{"op":"clear_cpuset","cgroup":"outer/a"}],"hold":{"frac":0.2}}]}')"
}

case_bad() {
	run_case bad "$(scenario_request '{"name":"bad","cgroups":[{"name":"cg_0","workers":-1}]}')"
}

scx_case() {	# NAME SCHEDULER_JSON
	if [ -z "$have_scx" ]; then
		echo "=== $1: skipped (no schedulers in $SCHED_DIR)"
		return 0
	fi
	run_case "$1" "$(scenario_request '{"name":"'"$1"'","duration":"4s","cgroups":[
		{"name":"cg_0","workers":2,"work":"spin_wait"},
		{"name":"cg_1","workers":2,"work":"spin_wait"}]}' "$2")"
}

case_scx() { scx_case scx '{"path":"/include-files/scx_simple","args":[]}'; }
case_scx_died() { scx_case scx-died '{"path":"/include-files/scx-sysrq","args":[]}'; }
case_scx_chaos() { scx_case scx-chaos '{"path":"/include-files/scx-chaos","args":[]}'; }
case_scx_fail() { scx_case scx-fail '{"path":"/include-files/no-such-scheduler","args":["-v"]}'; }

build_initrd
failed=0
for c in ${*:-$ALL_CASES}; do
	fn=case_${c//-/_}
	declare -F "$fn" >/dev/null || die "unknown case '$c' (cases: $ALL_CASES)"
	"$fn" || failed=$((failed + 1))
done
if [ "$failed" != 0 ]; then
	echo "guest-scenario: $failed case(s) failed"
	exit 1
fi
echo "guest-scenario: all passed"
