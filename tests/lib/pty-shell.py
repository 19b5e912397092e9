#!/usr/bin/env python3
"""Drive `ktstr-vm --shell` on a real pty, as a person at a terminal would.

Sets TERM and a 101x33 window, waits for the guest prompt, types a command
that echoes TERM and the guest's idea of the window size, then exits the
shell with status 0.  Prints everything the terminal showed.
PTY_SHELL_CMD and PTY_SHELL_EXIT replace the command and the exit status.
"""
import fcntl, os, pty, select, struct, sys, termios, time

argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execvp(argv[0], argv)

fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
seen = b""
deadline = time.time() + 120
sent = False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not sent and (b"# " in seen or b"$ " in seen):
        cmd = os.environ.get("PTY_SHELL_CMD", "echo SHELL-OK $TERM $(stty size)")
        os.write(fd, cmd.encode() + b"\n")
        time.sleep(1)
        os.write(fd, b"exit %s\n" % os.environ.get("PTY_SHELL_EXIT", "0").encode())
        sent = True
sys.stdout.write(seen.decode(errors="replace"))
# Never hang the suite: a ktstr-vm still running past the deadline gets
# SIGTERM, which it must turn into a clean QEMU shutdown.
for _ in range(100):
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    print("\npty-shell: ktstr-vm still running; sending SIGTERM", file=sys.stderr)
    os.kill(pid, 15)
    _, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
