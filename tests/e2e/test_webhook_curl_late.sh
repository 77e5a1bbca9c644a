#!/usr/bin/env bash
# vigild does not map libcurl (nor the TLS libraries under it) until it
# delivers its first webhook: a daemon with an endpoint configured but
# nothing sent yet has none of them in /proc/PID/maps, and after the first
# delivery reaches the receiver, libcurl is there.
. "$(dirname "$0")/lib.sh"

readelf -d "$VIGILD" | grep NEEDED | has libcurl && fail "vigild links libcurl"

start_http_receiver

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'webhooks = { ops = { url = "http://127.0.0.1:%s/hook" } }\n' "$RECEIVER_PORT" >>"$CONFIG"
cat >"$POLICIES/50-respond.lua" <<'LUA'
vigil.response{ name = "page-ops", on = "test.reloaded", actions = { "webhook:ops" } }
LUA
start_daemon
vctl status >/dev/null || fail "status"
if grep -qE 'libcurl|libssl|libcrypto|libnghttp2' /proc/"$DAEMON_PID"/maps; then
    fail "libcurl or its TLS stack is mapped before any webhook was sent"
fi

vctl reload >/dev/null || fail "reload"
wait_for test -s "$T/bodies"
grep -q libcurl /proc/"$DAEMON_PID"/maps || fail "libcurl is not mapped after a delivery"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.webhooks.delivered == 1'"
kill "$RECEIVER"; wait "$RECEIVER" 2>/dev/null || true
stop_daemon
pass
