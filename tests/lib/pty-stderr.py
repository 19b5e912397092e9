#!/usr/bin/env python3
"""Run a command with its stderr on a real pty and its stdout in a file.

Usage: pty-stderr.py STDOUT_FILE CMD [ARG...]
Prints everything the terminal showed (the command's stderr, escapes
included) and exits with the command's status.  ktstr-vm's progress line
is shown only when stderr is a terminal: this is how a person sees it.
"""
import os, select, subprocess, sys

out_path, argv = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
with open(out_path, "wb") as out:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
os.close(slave)
seen = b""
while True:
    r, _, _ = select.select([master], [], [], 1.0)
    if r:
        try:
            chunk = os.read(master, 4096)
        except OSError:		# EIO: every writer has closed the pty
            break
        if not chunk:
            break
        seen += chunk
    elif p.poll() is not None:
        break
rc = p.wait()
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(rc)
