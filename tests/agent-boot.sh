#!/bin/bash
# Manual smoke test of the guest agent: boot a real kernel under QEMU with a
# hand-made initramfs (busybox + the agent as /init) and talk the
# agent_proto.h protocol to it from python3.
#
#   tests/agent-boot.sh [CASE...]      default: all cases
#
# Cases: llc smt numa setup exec-edge timeout signal flood slow-reader
#        late-connect bad-request disconnect shell no-port
# Needs root (mknod for /dev/console), qemu-system-x86_64, busybox, python3.
# KTSTR_KERNEL overrides the bzImage; KEEP=1 keeps the temp dir (logs);
# APPEND adds kernel command line words (e.g. APPEND=KTSTR_VERBOSE=1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=${KTSTR_KERNEL:-/root/.cache/ktstr/kernels/debian-7.3.4+deb13-cloud-amd64-x86_64/bzImage}
AGENT=$root/build/libexec/ktstr/ktstr-agent
ALL_CASES="llc smt numa setup exec-edge timeout signal flood slow-reader late-connect bad-request disconnect shell no-port"

tmp=$(mktemp -d /tmp/ktstr-agent-boot.XXXXXX)
qemu_pid=

cleanup() {
	# Never leave a VM behind, whatever path got us here.
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

die() { echo "agent-boot: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mknod /dev/console for the initramfs)"
[ -r "$KERNEL" ] || die "no kernel at $KERNEL (set KTSTR_KERNEL)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"

make -C "$root" --no-print-directory build/libexec/ktstr/ktstr-agent >/dev/null

build_initrd() {
	local st=$tmp/stage a

	mkdir -p "$st/bin" "$st/dev" "$st/root"
	cp /bin/busybox "$st/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$st/bin/$a"
	done
	cp "$AGENT" "$st/init"
	# The kernel opens /dev/console for init before anything is mounted.
	mknod -m 600 "$st/dev/console" c 5 1
	(cd "$st" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$tmp/initrd"
}

# Python side of the protocol.  argv: agent socket, case, request JSON,
# [console socket].  Prints every record stamped with seconds since QEMU
# started ($T0) and checks the case's expectations.
client() {
	python3 - "$@" <<'PY'
import json, os, socket, sys, time

sock_path, case, request = sys.argv[1], sys.argv[2], sys.argv[3]
con_path = sys.argv[4] if len(sys.argv) > 4 else None
t0 = float(os.environ["T0"])
fails = []

def stamp():
    return time.time() - t0

def connect(path):
    deadline = time.time() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(180)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)

class Lines:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def next(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

def expect(what, got, want):
    if got != want:
        fails.append("%s: got %r, want %r" % (what, got, want))

if case == "late-connect":
    # The agent must wait for a host that shows up after it is ready.
    time.sleep(10)
agent = connect(sock_path)
con = connect(con_path) if con_path else None
lines = Lines(agent)
records = []

def read_record():
    raw = lines.next()
    # The agent pads its last record with empty lines (see guest/port.c).
    while raw == b"":
        raw = lines.next()
    if raw is None:
        return None
    rec = json.loads(raw)
    records.append(rec)
    shown = raw.decode("utf-8", "replace")
    if len(shown) > 200:
        shown = shown[:200] + "...(%d bytes)" % len(raw)
    # Keep floods readable: the first 20 output records, then a count.
    quiet = rec["type"] == "output" and len(records) > 22
    if not quiet:
        print("[+%6.3fs] %s" % (stamp(), shown))
    elif len(records) % 20000 == 0:
        print("[+%6.3fs] ... %d records" % (stamp(), len(records)))
    return rec

topo = read_record()
ready = read_record()
expect("first record", topo and topo["type"], "guest_topology")
expect("second record", ready and ready["type"], "agent_ready")
ready_at = stamp()
print("[+%6.3fs] -> %s" % (stamp(), request))
agent.sendall(request.encode() + b"\n")

if case == "disconnect":
    time.sleep(1)
    agent.close()
    print("[+%6.3fs] closed the agent socket" % stamp())
    sys.exit(0)

if case == "slow-reader":
    # Let QEMU throttle the port: the agent must neither lose nor reorder
    # anything, the last records included, when it powers off.
    time.sleep(5)

if con:
    # Give ash a moment to print its prompt, then drive it.
    time.sleep(1)
    con.sendall(b"echo TERM=$TERM COLORTERM=$COLORTERM; stty size; tty; exit 3\n")

last, end = None, float("nan")
while True:
    rec = read_record()
    if rec is None:
        break
    last = rec
    if rec["type"] in ("exit", "agent_error"):
        end = stamp()
        break
tail = lines.next()
while tail == b"":
    tail = lines.next()
expect("after the last record", tail, None)

out = [r["line"] for r in records if r["type"] == "output" and r["stream"] == "stdout"]
err = [r["line"] for r in records if r["type"] == "output" and r["stream"] == "stderr"]

if case == "llc":
    expect("cpus", topo["cpus"], 4)
    expect("llcs", topo["llcs"], ["0-1", "2-3"])
    expect("smt", topo["smt"], ["0", "1", "2", "3"])
    expect("stdout", out, ["hi", ready["sched_ext_state"]])
    expect("stderr", err, ["err"])
    expect("exit", last, {"type": "exit", "exit_code": 7})
elif case == "smt":
    expect("smt", topo["smt"], ["0-1", "2-3"])
    expect("cores", topo["cores"], ["0-1", "2-3"])
    expect("llcs", topo["llcs"], ["0-3"])
    expect("stdout", out, ["topo=1,1,2,2", "foo=bar baz", "cwd=/", "host=ktstr",
                           "cgroup=cpuset cpu io memory pids"])
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "setup":
    mounts = sorted(l.split()[2] + ":" + l.split()[1] for l in out if l.count(" ") >= 3)
    for want in ("proc:/proc", "sysfs:/sys", "devtmpfs:/dev", "devpts:/dev/pts",
                 "tmpfs:/dev/shm", "tmpfs:/tmp", "tmpfs:/run", "cgroup2:/sys/fs/cgroup",
                 "debugfs:/sys/kernel/debug", "tracefs:/sys/kernel/tracing",
                 "bpf:/sys/fs/bpf"):
        if want not in mounts:
            fails.append("not mounted: " + want)
    for want in ("SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000",
                 "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "boot", "fd -> /proc/self/fd"):
        if not any(want in l for l in out):
            fails.append("missing %r" % want)
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "numa":
    expect("nodes", topo["nodes"], ["0-1", "2-3"])
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "exec-edge":
    expect("long line split", [len(l) for l in out[:2]], [65536, 34464])
    expect("invalid utf-8", out[2], "a\ufffdb")
    expect("unterminated tail", err, ["no newline"])
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "timeout":
    expect("stdout", out, ["start"])
    expect("exit", last, {"type": "exit", "exit_code": 137, "signal": 9, "timed_out": True})
elif case == "signal":
    expect("exit", last, {"type": "exit", "exit_code": 143, "signal": 15})
elif case == "flood":
    expect("lines", len(out), 100000)
    expect("in order", out == [str(i) for i in range(1, 100001)], True)
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "slow-reader":
    expect("lines", len(out), 30000)
    expect("in order", out == [str(i) for i in range(1, 30001)], True)
    expect("exit", last, {"type": "exit", "exit_code": 0})
elif case == "late-connect":
    expect("exit", last, {"type": "exit", "exit_code": 0})
    expect("stdout", out, ["late"])
elif case == "bad-request":
    expect("type", last and last["type"], "agent_error")
elif case == "shell":
    text = b""
    con.settimeout(2)
    try:
        while True:
            data = con.recv(65536)
            if not data:
                break
            text += data
    except socket.timeout:
        pass
    shown = text.decode("utf-8", "replace")
    print("console: %r" % shown)
    for want in ("TERM=xterm-256color COLORTERM=truecolor", "40 100", "/dev/hvc0"):
        if want not in shown:
            fails.append("console output lacks %r" % want)
    expect("exit", last, {"type": "exit", "exit_code": 3})

print("agent_ready read at +%.3fs (guest uptime then %d ms); last record at +%.3fs"
      % (ready_at, ready["uptime_ms"], end))
for f in fails:
    print("FAIL %s: %s" % (case, f))
sys.exit(1 if fails else 0)
PY
}

# run_case NAME SMP APPEND REQUEST [shell|no-port]
run_case() {
	local name=$1 smp=$2 append=$3 request=$4 mode=${5:-}
	local sock=$tmp/$name.sock con=$tmp/$name.con log=$tmp/$name.console.log
	local extra=() t_exit rc=0

	echo "=== $name (-smp $smp)"
	case $mode in
	shell)
		extra=(-chardev "socket,id=con,path=$con,server=on,wait=off"
		       -device "virtconsole,chardev=con,name=org.ktstr.shell"
		       -chardev "socket,id=agent,path=$sock,server=on,wait=off"
		       -device virtserialport,chardev=agent,name=org.ktstr.agent) ;;
	no-port)
		;;
	*)
		extra=(-chardev "socket,id=agent,path=$sock,server=on,wait=off"
		       -device virtserialport,chardev=agent,name=org.ktstr.agent) ;;
	esac
	T0=$(date +%s.%N)
	export T0
	qemu-system-x86_64 -accel tcg,thread=single \
		-cpu max,vendor=GenuineIntel,level=0xd \
		-machine q35,smp-cache.0.cache=l3,smp-cache.0.topology=die \
		-smp "$smp" -m 1024 -display none -nodefaults -no-user-config -no-reboot \
		-serial "file:$log" \
		-device virtio-serial-pci "${extra[@]}" "${case_qemu[@]}" \
		-kernel "$KERNEL" -initrd "$tmp/initrd" \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet nokaslr $append ${APPEND:-}" &
	qemu_pid=$!

	if [ "$mode" = no-port ]; then
		# The agent has nobody to report to: it must say so on the
		# console and power off.
		wait "$qemu_pid" || true
		qemu_pid=
		grep 'no virtio-serial port named org.ktstr.agent' "$log" || rc=1
	else
		client "$sock" "$name" "$request" ${mode:+"$con"} || rc=1
	fi
	# The agent powers off by itself; give it a generous bound under TCG.
	for _ in $(seq 600); do
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$qemu_pid" 2>/dev/null; then
		echo "FAIL $name: QEMU still running 60 s after the last record"
		kill "$qemu_pid"
		rc=1
	fi
	[ -z "$qemu_pid" ] || wait "$qemu_pid" || true
	qemu_pid=
	t_exit=$(awk -v now="$(date +%s.%N)" -v t0="$T0" 'BEGIN { printf "%.3f", now - t0 }')
	echo "QEMU exited at +${t_exit}s"
	if [ "$rc" != 0 ]; then
		echo "--- console log"
		cat "$log"
	fi
	return "$rc"
}

# Extra QEMU arguments for the next run_case only.
case_qemu=()
topo_llc="4,sockets=1,dies=2,cores=2,threads=1"
topo_smt="4,sockets=1,dies=1,cores=2,threads=2"

case_llc() {
	run_case llc "$topo_llc" "KTSTR_TOPO=1,2,2,1" \
		'{"type":"exec","cmd":"echo hi; echo err >&2; cat /sys/kernel/sched_ext/state; exit 7"}'
}

case_smt() {
	run_case smt "$topo_smt" "KTSTR_TOPO=1,1,2,2" \
		'{"type":"exec","cmd":"echo topo=$KTSTR_TOPO; echo foo=$FOO; echo cwd=$(pwd); echo host=$(hostname); echo cgroup=$(cat /sys/fs/cgroup/cgroup.subtree_control)","env":{"FOO":"bar baz"}}'
}

# A 100000-byte line (split at 65536), an invalid UTF-8 byte, a stderr line
# without newline, and background processes in and out of the command's
# process group that must not hold the run open.
case_numa() {
	local rc=0

	case_qemu=(-object memory-backend-ram,id=m0,size=512M
		   -object memory-backend-ram,id=m1,size=512M
		   -numa node,nodeid=0,cpus=0-1,memdev=m0
		   -numa node,nodeid=1,cpus=2-3,memdev=m1)
	run_case numa "$topo_llc" "KTSTR_TOPO=2,2,2,1" '{"type":"exec","cmd":"true"}' || rc=1
	case_qemu=()
	return "$rc"
}

# Filesystems, environment and a clean signal state for the command.
case_setup() {
	run_case setup "$topo_llc" "" \
		'{"type":"exec","cmd":"cat /proc/mounts; grep -E \"^Sig(Blk|Ign)\" /proc/self/status; env; ls /; ls -l /dev/fd"}'
}

case_exec_edge() {
	run_case exec-edge "$topo_llc" "" \
		'{"type":"exec","cmd":"head -c 100000 /dev/zero | tr \"\\\\0\" x; echo; printf \"a\\\\377b\\\\n\"; printf \"no newline\" >&2; sleep 100 & setsid sleep 100 & exit 0"}'
}

case_timeout() {
	run_case timeout "$topo_llc" "" \
		'{"type":"exec","cmd":"echo start; sleep 100","timeout_ms":2000}'
}

case_signal() {
	run_case signal "$topo_llc" "" '{"type":"exec","cmd":"kill -TERM $$"}'
}

case_flood() {
	run_case flood "$topo_llc" "" '{"type":"exec","cmd":"seq 1 100000"}'
}

case_slow_reader() {
	run_case slow-reader "$topo_llc" "" '{"type":"exec","cmd":"seq 1 30000"}'
}

case_late_connect() {
	run_case late-connect "$topo_llc" "" '{"type":"exec","cmd":"echo late"}'
}

case_no_port() {
	run_case no-port "$topo_llc" "" "" no-port
}

case_bad_request() {
	run_case bad-request "$topo_llc" "" '{"type":"reboot"}'
}

case_disconnect() {
	run_case disconnect "$topo_llc" "" '{"type":"exec","cmd":"sleep 100"}'
}

case_shell() {
	run_case shell "$topo_llc" "" \
		'{"type":"shell","term":"xterm-256color","colorterm":"truecolor","cols":100,"rows":40}' shell
}

build_initrd
failed=0
for c in ${*:-$ALL_CASES}; do
	fn=case_${c//-/_}
	declare -F "$fn" >/dev/null || die "unknown case '$c' (cases: $ALL_CASES)"
	"$fn" || failed=$((failed + 1))
done
if [ "$failed" != 0 ]; then
	echo "agent-boot: $failed case(s) failed"
	exit 1
fi
echo "agent-boot: all passed"
