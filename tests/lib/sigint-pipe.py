#!/usr/bin/env python3
"""^C on `ktstr-vm ... | tee REC | ktstr-stats`, as a terminal does it.

Usage: sigint-pipe.py REC_FILE ERR_FILE KTSTR-VM-ARGV...
Puts ktstr-vm and its readers in one new process group, waits until the
records in REC_FILE show agent_ready, then sends SIGINT to the whole group
at once (the terminal's ^C).  The readers die of it, so ktstr-vm meets a
closed stdout while it tears down.  Prints ktstr-vm's exit status; exits 0
unless the pipeline could not be set up or agent_ready never came.
"""
import os, signal, subprocess, sys, time

rec, err, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(err, "wb") as errf:
    vm = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errf,
                          stdin=subprocess.DEVNULL, preexec_fn=os.setpgrp)
readers = subprocess.Popen(["sh", "-c", 'tee "$1" | ktstr-stats >/dev/null', "sh", rec],
                           stdin=vm.stdout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           preexec_fn=lambda: os.setpgid(0, vm.pid))
vm.stdout.close()
deadline = time.time() + 300
while time.time() < deadline:
    try:
        with open(rec) as f:
            if '"agent_ready"' in f.read():
                break
    except FileNotFoundError:
        pass
    if vm.poll() is not None:
        break
    time.sleep(0.2)
else:
    os.killpg(vm.pid, signal.SIGKILL)
    print("sigint-pipe: no agent_ready", file=sys.stderr)
    sys.exit(1)
os.killpg(vm.pid, signal.SIGINT)
status = vm.wait()
readers.wait()
print(status)
