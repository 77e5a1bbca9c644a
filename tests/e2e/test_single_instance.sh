#!/usr/bin/env bash
# A second daemon on the same state directory, or on a socket another daemon
# answers on, refuses to start with a clear message; the first runs on.
. "$(dirname "$0")/lib.sh"

start_daemon
rc=0
"$VIGILD" --config "$VIGIL_SRC/etc/vigil/vigil.lua" --state-dir "$STATE" --socket "$T/other.sock" \
    --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" >"$T/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "second instance on the same state directory started"
grep -q "another vigild (pid $DAEMON_PID) is already running on state directory $STATE" "$T/second.log" \
    || { cat "$T/second.log"; fail "unclear refusal message"; }

rc=0
"$VIGILD" --config "$VIGIL_SRC/etc/vigil/vigil.lua" --state-dir "$T/state2" --socket "$SOCK" \
    --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" >"$T/third.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "second instance on the same socket started"
grep -q "another daemon answers there" "$T/third.log" || { cat "$T/third.log"; fail "unclear socket refusal"; }

vctl status >/dev/null || fail "first daemon stopped answering"
[ -S "$SOCK" ] || fail "the first daemon's socket was removed"
stop_daemon
pass
