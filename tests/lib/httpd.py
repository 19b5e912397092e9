#!/usr/bin/env python3
"""A tiny kernel.org stand-in for ktstr-fetch tests (127.0.0.1 only).

    httpd.py --root DIR [--log FILE] [--lifetime SECS]

Generates fixtures under DIR (unless DIR/releases.json exists already, so
several servers can share one fixture tree), serves DIR on an ephemeral port of 127.0.0.1
and prints the port on stdout (one line).  Exits after --lifetime seconds
(default 300) or as soon as its parent process dies.

Fixtures (fake tarballs: a linux-<ver>/ tree with a Makefile carrying
VERSION/PATCHLEVEL/SUBLEVEL):
  /releases.json            mainline 7.0, stable 6.14.3, longterm 6.12.10, 5.15.3
  /v5.x/  5.15, 5.15.1 .. 5.15.3
  /v6.x/  6.12, 6.12.1 .. 6.12.10; 6.13, 6.13.1 .. 6.13.8; 6.14, 6.14.1 .. 6.14.3
  /v7.x/  7.0
  each with sha256sums.asc ("<sha256>  linux-<ver>.tar.xz", clearsigned look)

Test knobs:
  linux-6.14.1.tar.xz  served with one byte flipped: its checksum never matches
  linux-6.14.2.tar.xz  (carries 64 KiB of random padding) the first GET drops
                       the connection after 4096 bytes; later GETs are normal
Every request is logged to --log as "METHOD PATH range=<Range header or ->".
HTTP Range requests ("bytes=N-" and "bytes=N-M") get 206 / 416.
"""
import argparse
import hashlib
import http.server
import io
import json
import os
import shutil
import socketserver
import sys
import tarfile
import threading
import time

CORRUPT = "linux-6.14.1.tar.xz"
DROP = "linux-6.14.2.tar.xz"
DROP_AFTER = 4096

SERIES = {
    5: [(15, 3)],
    6: [(12, 10), (13, 8), (14, 3)],
    7: [(0, 0)],
}


def version_name(major, minor, sub):
    return f"{major}.{minor}" if sub == 0 else f"{major}.{minor}.{sub}"


def make_tarball(major, minor, sub, padding):
    name = version_name(major, minor, sub)
    top = f"linux-{name}"
    makefile = (f"# SPDX-License-Identifier: GPL-2.0\nVERSION = {major}\n"
                f"PATCHLEVEL = {minor}\nSUBLEVEL = {sub}\nEXTRAVERSION =\n"
                "NAME = Fake Fixture\n").encode()
    files = [(f"{top}/Makefile", makefile),
             (f"{top}/README", f"fake linux {name}\n".encode()),
             (f"{top}/kernel/sched/ext.c", b"/* sched_ext */\n")]
    if padding:
        files.append((f"{top}/padding.bin", os.urandom(65536)))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for d in (top, f"{top}/kernel", f"{top}/kernel/sched"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 1700000000
            tar.addfile(info)
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def generate(root):
    for major, series in SERIES.items():
        d = os.path.join(root, f"v{major}.x")
        os.makedirs(d, exist_ok=True)
        lines = []
        for minor, top in series:
            for sub in range(0, top + 1):
                fname = f"linux-{version_name(major, minor, sub)}.tar.xz"
                data = make_tarball(major, minor, sub, fname == DROP)
                lines.append(f"{hashlib.sha256(data).hexdigest()}  {fname}")
                if fname == CORRUPT:
                    data = bytearray(data)
                    data[len(data) // 2] ^= 0xFF
                    data = bytes(data)
                with open(os.path.join(d, fname), "wb") as f:
                    f.write(data)
                # Noise real listings carry; the parser must skip it.
                lines.append(f"{'0' * 64}  linux-{version_name(major, minor, sub)}.tar.gz")
        with open(os.path.join(d, "sha256sums.asc"), "w") as f:
            f.write("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n")
            f.write("\n".join(lines) + "\n")
            f.write("-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n")
    rel = {"latest_stable": {"version": "6.14.3"}, "releases": [
        {"moniker": "mainline", "version": "7.0", "iseol": False},
        {"moniker": "stable", "version": "6.14.3", "iseol": False,
         "source": "/v6.x/linux-6.14.3.tar.xz"},
        {"moniker": "longterm", "version": "6.12.10", "iseol": False},
        {"moniker": "longterm", "version": "5.15.3", "iseol": False},
        {"moniker": "linux-next", "version": "next-20250101", "iseol": False},
    ]}
    with open(os.path.join(root, "releases.json"), "w") as f:
        json.dump(rel, f)


class Handler(http.server.BaseHTTPRequestHandler):
    dropped = set()
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.serve(True)

    def do_HEAD(self):
        self.serve(False)

    def serve(self, body):
        rng = self.headers.get("Range")
        if self.server.log_path:
            with self.lock, open(self.server.log_path, "a") as f:
                f.write(f"{self.command} {self.path} range={rng or '-'}\n")
        rel = os.path.normpath(self.path.split("?", 1)[0]).lstrip("/")
        path = os.path.join(self.server.root, rel)
        if rel.startswith("..") or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        start, end, status = 0, len(data) - 1, 200
        if rng:
            try:
                unit, spec = rng.split("=", 1)
                a, b = spec.split("-", 1)
                start = int(a)
                end = int(b) if b else len(data) - 1
                assert unit.strip() == "bytes"
            except Exception:
                self.send_error(400)
                return
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            end = min(end, len(data) - 1)
            status = 206
        part = data[start:end + 1]
        self.send_response(status)
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        if not body:
            return
        name = os.path.basename(path)
        with self.lock:
            drop = name == DROP and name not in self.dropped
            if drop:
                self.dropped.add(name)
        if drop:
            self.wfile.write(part[:DROP_AFTER])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(part)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def watchdog(deadline, ppid):
    while True:
        if time.monotonic() > deadline or os.getppid() != ppid:
            os._exit(0)
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    ppid = os.getppid()
    threading.Thread(target=watchdog, daemon=True,
                     args=(time.monotonic() + args.lifetime, ppid)).start()
    if not os.path.exists(os.path.join(args.root, "releases.json")):
        # Built aside and renamed in, so concurrent servers never see half
        # a tree (the loser of the race drops its copy).
        tmp = f"{args.root}.tmp{os.getpid()}"
        generate(tmp)
        try:
            os.rename(tmp, args.root)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.root = args.root
    srv.log_path = args.log
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
