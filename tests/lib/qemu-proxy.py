#!/usr/bin/env python3
"""A KTSTR_QEMU for protocol tests: runs the real QEMU, but stands between
ktstr-vm and the guest agent's port to make things happen that ktstr-vm
itself never does.  The VM, the kernel and the agent are all real; only
the host side of the agent port misbehaves, as a buggy or slow host would.

KTSTR_PROXY_MODE (anything else: plain QEMU, nothing changed):
  rewrite     the first request ktstr-vm sends goes through the jq filter
              KTSTR_PROXY_JQ first (e.g. add "timeout_ms", send a request
              type ktstr-vm has no option for)
  disconnect  forward the first request; 1 s after the agent has both
              announced itself (agent_ready) and been sent the request
              (ktstr-vm queues it before the guest boots), hang up on the
              guest (ktstr-vm's end stays open: the agent must notice by
              itself and power off)
  late        the agent port has no host for KTSTR_PROXY_DELAY seconds
              (default 10): QEMU listens on a socket of its own, and the
              proxy connects to it only then.  With KTSTR_PROXY_LATE_AFTER
              set, the proxy also relays the console and connects as soon
              as that text has gone by on it (the delay is then the most
              it waits), so a test need not guess how long the boot takes
  no-port     QEMU gets no agent port at all

The proxy runs in a child of this process, which then execs QEMU, so QEMU
keeps the pid ktstr-vm started."""

import ctypes
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

AGENT = "socket,id=ktstr-agent,fd="
CONSOLE = "socket,id=ktstr-con,fd="
PR_SET_PDEATHSIG = 1


def die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


def detach_stdio(keep):
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    # KTSTR_PROXY_LOG: where the proxy's own errors go (for debugging).
    log = os.environ.get("KTSTR_PROXY_LOG")
    if log:
        os.close(null)
        null = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 2)
    os.close(null)
    # Hold none of ktstr-vm's other pipes open (its console and QEMU's
    # stderr): it waits for their end.
    for fd in range(3, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def rewrite(line):
    out = subprocess.run(["jq", "-c", os.environ["KTSTR_PROXY_JQ"]],
                         input=line, stdout=subprocess.PIPE, check=True)
    return out.stdout


def hang_up(guest):
    time.sleep(1)
    guest.shutdown(socket.SHUT_RDWR)
    guest.close()
    # Keep ktstr-vm's end open until QEMU is gone (and takes this
    # process with it).
    while True:
        time.sleep(3600)


def pump(host, guest, mode):
    """Copy both ways until either side ends; apply the mode to the
    first host -> guest line."""
    first, pending, ready, seen = True, b"", False, b""
    while True:
        if mode == "disconnect" and ready and not first:
            hang_up(guest)
        r, _, _ = select.select([host, guest], [], [])
        if guest in r:
            data = guest.recv(65536)
            if not data:
                return
            host.sendall(data)
            if not ready:
                seen = (seen + data)[-4096:]
                ready = b'"agent_ready"' in seen
        if host in r:
            data = host.recv(65536)
            if not data:
                return
            if not first:
                guest.sendall(data)
                continue
            pending += data
            if b"\n" not in pending:
                continue
            line, rest = pending.split(b"\n", 1)
            first = False
            if mode == "rewrite":
                line = rewrite(line).rstrip(b"\n")
            guest.sendall(line + b"\n" + rest)


def relay_console(host, qemu, marker, seen):
    """Copy the console both ways; set seen once marker has gone by from
    QEMU, or when the relay ends (either side closed, or an error), so
    the agent's connection never waits on a relay that has stopped."""
    tail = b""
    try:
        while True:
            r, _, _ = select.select([host, qemu], [], [])
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (qemu if s is host else host).sendall(data)
                if s is qemu and not seen.is_set():
                    tail = (tail + data)[-4096:]
                    if marker in tail:
                        seen.set()
    finally:
        seen.set()
        host.close()


def connect_late(path, wait):
    wait()
    deadline = time.time() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                sys.exit(1)
            time.sleep(0.05)


def main():
    real = os.environ.get("KTSTR_PROXY_QEMU", "qemu-system-x86_64")
    mode = os.environ.get("KTSTR_PROXY_MODE", "")
    args = sys.argv[1:]
    idx = next((i for i, a in enumerate(args) if a.startswith(AGENT)), None)
    if idx is None or mode not in ("rewrite", "disconnect", "late", "no-port"):
        os.execvp(real, [real] + args)
    host_fd = int(args[idx][len(AGENT):])

    if mode == "no-port":
        dev = next(i for i, a in enumerate(args) if "chardev=ktstr-agent" in a)
        for i in sorted((idx - 1, idx, dev - 1, dev), reverse=True):
            del args[i]
        os.execvp(real, [real] + args)

    if mode == "late":
        # Under the test's own directory when there is one (bats removes
        # it), so a QEMU that dies first leaves nothing behind.
        top = os.environ.get("KTSTR_TEST_MARK")
        top = top if top and os.path.isdir(top) else None
        path = os.path.join(tempfile.mkdtemp(prefix="proxy.", dir=top), "agent")
        args[idx] = "socket,id=ktstr-agent,path=%s,server=on,wait=off" % path
        delay = float(os.environ.get("KTSTR_PROXY_DELAY", "10"))
        marker = os.environ.get("KTSTR_PROXY_LATE_AFTER", "").encode()
        keep, wait = {host_fd}, (lambda: time.sleep(delay))
        if marker:
            con = next(i for i, a in enumerate(args) if a.startswith(CONSOLE))
            con_host = int(args[con][len(CONSOLE):])
            con_ours, con_qemus = socket.socketpair()
            os.set_inheritable(con_qemus.fileno(), True)
            args[con] = CONSOLE + str(con_qemus.fileno())
            keep |= {con_host, con_ours.fileno()}
        if os.fork() == 0:
            die_with_parent()
            detach_stdio(keep)
            host = socket.socket(fileno=host_fd)
            relay = None
            if marker:
                seen = threading.Event()
                relay = threading.Thread(target=relay_console, daemon=True,
                                         args=(socket.socket(fileno=con_host), con_ours,
                                               marker, seen))
                relay.start()
                wait = (lambda: seen.wait(delay))
            guest = connect_late(path, wait)
            os.unlink(path)
            os.rmdir(os.path.dirname(path))
            pump(host, guest, mode)
            # The agent port closed first: let the console's last bytes
            # (a panic, the power-off) through before going.
            if relay:
                relay.join(5)
            os._exit(0)
        os.close(host_fd)
        if marker:
            os.close(con_host)
            con_ours.close()
        os.execvp(real, [real] + args)

    ours, qemus = socket.socketpair()
    if os.fork() == 0:
        die_with_parent()
        qemus.close()
        detach_stdio({host_fd, ours.fileno()})
        pump(socket.socket(fileno=host_fd), ours, mode)
        os._exit(0)
    ours.close()
    os.close(host_fd)
    os.set_inheritable(qemus.fileno(), True)
    args[idx] = AGENT + str(qemus.fileno())
    os.execvp(real, [real] + args)


main()
