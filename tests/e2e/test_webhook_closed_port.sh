#!/usr/bin/env bash
# A webhook to a closed port records what is true: the response.done of the
# action says "pending" (the delivery was queued), and once its attempts
# are spent a second response.done says "failed" with why, never "done".
# A delivery that works ends in "done" (test_response_webhook).
. "$(dirname "$0")/lib.sh"

# A port nothing listens on: bound once, then closed.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'webhooks = { dead = { url = "http://127.0.0.1:%s/hook", timeout_ms = 500 } }\n' "$PORT" >>"$CONFIG"
cat >"$POLICIES/50-respond.lua" <<'LUA'
vigil.response{ name = "page-dead", on = "test.reloaded", actions = { "webhook:dead" } }
-- An endpoint named at run time that the config does not have: failed,
-- with why (a response rule naming it would not load).
vigil.on("test.reloaded", function(ev) vigil.respond("webhook:nosuch", ev) end)
LUA
start_daemon
vctl reload >/dev/null || fail "reload"
wait_for has_event response.done '.rule == "page-dead" and .status == "pending"'
wait_for has_event response.done '.target == "nosuch" and .status == "failed" and .error == "webhook has no target '"'nosuch'"'"'
# Five attempts with backoff (1 + 2 + 4 + 8 s): wait up to 30 s.
for _ in $(seq 1 60); do
    has_event response.done '.rule == "page-dead" and .status == "failed"' && break
    sleep 0.5
done
has_event response.done '.rule == "page-dead" and .status == "failed" and .attempts == 5 and .error != "" and .target == "dead" and .event_type == "test.reloaded"' ||
    { vctl events --type response.done; fail "no failed response.done with its attempts and error"; }
has_event response.done '.rule == "page-dead" and .status == "done"' &&
    fail "a delivery to a closed port was recorded as done"
vctl status --json | json '.webhooks.failed >= 1' >/dev/null || fail "the failure is not counted"
stop_daemon
pass
