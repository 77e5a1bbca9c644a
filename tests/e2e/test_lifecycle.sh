#!/usr/bin/env bash
# A daemon starts, reports its status and plugins, stores and streams events,
# reloads on request and on SIGHUP, and stops cleanly with exit status 0.
. "$(dirname "$0")/lib.sh"

start_daemon

vctl status --json >"$T/status.json"
json '.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+")' "$T/status.json" >/dev/null || fail "no version in status"
json --arg pid "$DAEMON_PID" '.pid == ($pid | tonumber)' "$T/status.json" >/dev/null || fail "wrong pid"
json '.plugins[] | select(.name == "testok" and .state == "running" and .version == "1.2.3")' \
    "$T/status.json" >/dev/null || fail "testok plugin not running in status"
json '.store.map_size > 0' "$T/status.json" >/dev/null || fail "no store size"
vctl status | has "testok" || fail "human status does not list the plugin"

vctl plugins --json | json '.[] | select(.name == "testok") | .description == "test plugin that behaves"' \
    >/dev/null || fail "plugins --json"

# The plugin's start event and the daemon's own are stored and queryable.
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' events --type test.started --json | grep -q hello"
vctl events --json --type daemon.status | json 'select(.status == "started")' >/dev/null \
    || fail "daemon.status started not stored"
vctl events | has "test.started" || fail "human events table lacks test.started"

# Plugin ABI 1.1: the plugin looked up its own process (a host process, so
# group "nodes") and hears of mode changes through its subscription.
wait_for has_event test.started '.self_group == "nodes"'
vctl group mode nodes monitor >/dev/null || fail "group mode"
wait_for has_event test.seen '.seen_group == "nodes"'
vctl group mode nodes learn >/dev/null

# Plugin ABI 1.2: a plugin's own control command, answered and refused.
python3 - "$SOCK" <<'PY' || fail "plugin command"
import socket, struct, sys
def call(req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(struct.pack(">I", len(req)) + req)
    n = struct.unpack(">I", s.recv(4))[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return body
ok = call(b"\x82\xa3cmd\xa6testok\xa4args\x81\xa1k\xa1v")
assert b"\xa6plugin\xa6testok" in ok and b"\xa1k\xa1v" in ok and b"\xc3" in ok, ok
bad = call(b"\x82\xa3cmd\xa6testok\xa4args\x81\xa4fail\xc3")
assert b"asked to fail" in bad and b"\xc2" in bad, bad
PY

# A follower sees new events as they happen.
vctl events --follow --json --type test.reloaded >"$T/follow.out" &
FOLLOW=$!
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.ctl.followers >= 1'"

vctl reload >"$T/reload.out" || fail "reload refused"
grep -q "reloaded" "$T/reload.out" || fail "reload gave no message"
kill -HUP "$DAEMON_PID"
wait_for sh -c "[ \$(grep -c test.reloaded '$T/follow.out') -ge 2 ]"
kill "$FOLLOW" 2>/dev/null || true
wait "$FOLLOW" 2>/dev/null || true
json '.group == "test" and .severity == "info"' "$T/follow.out" >/dev/null || fail "followed event fields"
vctl status --json | json '.reloads.ok == 2' >/dev/null || fail "reload count"

stop_daemon
[ ! -e "$SOCK" ] || fail "socket left behind after stop"
grep -q "stopped" "$LOG" || fail "no clean stop in the log"
pass
