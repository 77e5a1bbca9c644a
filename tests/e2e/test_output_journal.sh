#!/usr/bin/env bash
# The "journal" output speaks journald's native protocol: this test runs in
# a mount namespace of its own where a real datagram socket at
# /run/systemd/journal/socket (a tmpfs over /run/systemd, seen by nothing
# else on the host) receives what libsystemd's sd_journal_sendv sends, and
# checks the fields an operator filters on (VIGIL_TYPE=, VIGIL_GROUP=, the
# event's own keys, PRIORITY from the severity). Then journald "goes away"
# (the tmpfs is unmounted), SIGUSR1 makes the output look again, and the
# events go to syslog: a datagram socket at /dev/log (on a tmpfs over /dev,
# again only in this namespace) gets them with facility daemon.
if [ -z "${VIGIL_IN_NS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || exit 77
    exec unshare -m --propagation private env VIGIL_IN_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

# receive SOCKET OUT: a datagram receiver; native journal entries (or
# syslog lines) as one JSON object per line in OUT.
receive() {
    python3 - "$1" "$2" <<'PY' &
import json, os, socket, struct, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
s.settimeout(0.2)
end = time.time() + 60
def native(d):
    e, i = {}, 0
    while i < len(d):
        nl = d.index(b"\n", i)
        line = d[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:  # KEY\n<le64 size><data>\n
            k = line
            n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
            v = d[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        e[k.decode()] = v.decode()
    return e
while time.time() < end:
    try:
        d = s.recv(1 << 20)
    except socket.timeout:
        continue
    try:
        e = {"SYSLOG": d.decode(errors="replace")} if d.startswith(b"<") else native(d)
    except Exception as ex:
        e = {"UNPARSED": d.hex(), "ERROR": str(ex)}
    with open(out, "a") as f:
        f.write(json.dumps(e) + "\n")
PY
}

mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/journal
receive /run/systemd/journal/socket "$T/journal.json"
JRX=$!
wait_for test -S /run/systemd/journal/socket

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'outputs = { { kind = "journal", identifier = "vigil-test" } }' >>"$CONFIG"
start_daemon
wait_for grep -q '"VIGIL_TYPE": "test.started"' "$T/journal.json"
jq -e -s 'any(.[]; .VIGIL_TYPE == "test.started" and .VIGIL_GROUP == "test"
          and .VIGIL_SEVERITY == "info" and .PRIORITY == "6" and .VIGIL_GREETING == "hello"
          and .SYSLOG_IDENTIFIER == "vigil-test" and (.VIGIL_ID | tonumber) > 0
          and .MESSAGE == "vigil: info test.started in group test"
          and (.VIGIL_EVENT | fromjson | .type == "test.started" and .greeting == "hello"))' \
    "$T/journal.json" >/dev/null || { cat "$T/journal.json"; fail "journal entry of test.started"; }
# An error (a policy that does not load) has priority 3.
echo 'not lua at all' >"$POLICIES/bad.lua"
vctl reload >/dev/null 2>&1 || true
rm "$POLICIES/bad.lua"
wait_for jq -e -s 'any(.[]; .VIGIL_TYPE == "policy.error" and .PRIORITY == "3")' "$T/journal.json"
grep -q "journald is not running" "$LOG" && fail "journald was taken as absent"

# journald goes away: after SIGUSR1 the output writes to syslog.
kill "$JRX"; wait "$JRX" 2>/dev/null || true
umount -l /run/systemd
mount -t tmpfs tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/urandom c 1 9
ln -s /proc/self/fd /dev/fd
receive /dev/log "$T/syslog.json"
SRX=$!
wait_for test -S /dev/log
kill -USR1 "$DAEMON_PID"
wait_for grep -q "journald is not running" "$LOG"
vctl reload >/dev/null
# <30>: facility daemon (3) * 8 + info (6).
wait_for jq -e -s 'any(.[]; .SYSLOG | test("^<30>.*vigil-test\\[[0-9]+\\]: vigil: info test.reloaded in group test: \\{.*\"type\":\"test.reloaded\""))' "$T/syslog.json"
stop_daemon
kill "$SRX" 2>/dev/null || true
# Every datagram was a well-formed entry (or syslog line) in UTF-8.
! grep -q UNPARSED "$T/journal.json" "$T/syslog.json" || fail "a datagram did not parse"
pass
