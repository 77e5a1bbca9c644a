#!/usr/bin/env bash
# A response rule in a policy file sends matching events to a webhook: a real
# HTTP receiver on loopback gets the event as JSON, and the action is
# recorded as a response.done event. With the receiver gone, the daemon keeps
# answering and counts the failures.
. "$(dirname "$0")/lib.sh"

start_http_receiver
PORT=$RECEIVER_PORT

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'webhooks = { ops = { url = "http://127.0.0.1:%s/hook", timeout_ms = 1000 } }\n' "$PORT" >>"$CONFIG"
cat >"$POLICIES/50-respond.lua" <<'LUA'
vigil.response{ name = "page-ops", on = "test.reloaded", actions = { "webhook:ops" } }
LUA
start_daemon

vctl reload >/dev/null || fail "reload"
wait_for test -s "$T/bodies"
jq -e -s 'any(.[]; .type == "test.reloaded" and .greeting == "hello" and .group == "test")' "$T/bodies" \
    >/dev/null || { cat "$T/bodies"; fail "webhook body is not the event as JSON"; }
wait_for has_event response.done '.rule == "page-ops" and .action == "webhook" and .target == "ops" and .status == "done" and .event_type == "test.reloaded"'

# The receiver is gone: the daemon still answers at once and counts failures.
kill "$RECEIVER"; wait "$RECEIVER" 2>/dev/null || true
vctl reload >/dev/null || fail "reload with the receiver down"
t0=$(date +%s%N)
vctl status >/dev/null || fail "status while webhooks fail"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "the loop was blocked by a dead endpoint"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.webhooks.retries + .webhooks.failed >= 1'"
stop_daemon
pass
