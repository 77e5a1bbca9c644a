#!/usr/bin/env bash
# Garbage, oversized, truncated and malformed frames on the control socket get
# an error or a closed connection; the daemon keeps answering everyone else.
. "$(dirname "$0")/lib.sh"

start_daemon
python3 - "$SOCK" <<'PY'
import socket, struct, sys, time
path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    return s

def read_reply(s):
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body

cases = {
    "garbage": b"\x00\x00\x00\x05\xc1\xc1\xc1\xc1\xc1",
    "not a map": b"\x00\x00\x00\x04\x93\x01\x02\x03",
    "oversized": struct.pack(">I", 0x7fffffff) + b"x" * 100,
    "zero length": b"\x00\x00\x00\x00",
    "cmd not a string": b"\x00\x00\x00\x06\x81\xa3cmd\x07",
}
for name, frame in cases.items():
    s = conn()
    s.sendall(frame)
    r = read_reply(s)
    # Either an error reply or a closed connection; never a hang or success.
    assert r is None or b"error" in r, (name, r)
    s.close()

# A truncated frame followed by silence must not stall anybody.
slow = conn()
slow.sendall(b"\x00\x00\x01\x00\x82")
# Random bytes, many connections at once.
import os
many = [conn() for _ in range(40)]
for s in many:
    s.sendall(os.urandom(64))
for s in many:
    s.close()
# An unknown command is an error reply on a connection that stays usable.
s = conn()
req = b"\x81\xa3cmd\xa4nope"
s.sendall(struct.pack(">I", len(req)) + req)
r = read_reply(s)
assert r and b"unknown command" in r, r
req = b"\x81\xa3cmd\xa6status"
s.sendall(struct.pack(">I", len(req)) + req)
r = read_reply(s)
assert r and b"version" in r, r
s.close()
print("python side done")
PY
vctl status --json | json '.ctl.bad_requests >= 5' >/dev/null || fail "bad requests not counted"
# 20 concurrent real clients all get answers.
pids=()
for i in $(seq 1 20); do vctl status --json >"$T/c$i.json" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent client failed"; done
for i in $(seq 1 20); do json .version "$T/c$i.json" >/dev/null || fail "client $i got no status"; done
stop_daemon
pass
