#!/usr/bin/env bash
# Under systemd (NOTIFY_SOCKET set) the daemon reports READY, RELOADING and
# STOPPING, and pings the watchdog at half of WATCHDOG_USEC.
. "$(dirname "$0")/lib.sh"

NOTIFY="$T/notify.sock"
python3 - "$NOTIFY" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 20
with open(sys.argv[2], "a", buffering=1) as log:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.split("\n"):
            log.write(line + "\n")
        if "STOPPING=1" in msg:
            break
PY
LISTENER=$!
wait_for test -S "$NOTIFY"

NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=200000 start_daemon
wait_for grep -q "^READY=1" "$T/notify.log"
wait_for sh -c "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge 3 ]"
vctl reload >/dev/null
wait_for grep -q "^RELOADING=1" "$T/notify.log"
[ "$(grep -c '^READY=1' "$T/notify.log")" -ge 2 ] || fail "no READY=1 after the reload"
stop_daemon
wait "$LISTENER"
grep -q "^STOPPING=1" "$T/notify.log" || fail "no STOPPING=1"
pass
