#!/usr/bin/env bash
# The webhook endpoints of the config reach the daemon: `vigilctl status`
# counts them (and the webhook counters start at zero); a reload with a bad
# endpoint is refused with file and line and the old endpoints stay; a good
# reload replaces them.
. "$(dirname "$0")/lib.sh"

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
cat >>"$CONFIG" <<'LUA'
webhooks = {
    ops = { url = "http://127.0.0.1:9/hook", timeout_ms = 500,
            headers = { ["X-Token"] = "t" } },
    chat = { url = "https://hooks.example.invalid/x", slack = true },
}
LUA
"$VIGILD" --check --config "$CONFIG" --policy-dir "$POLICIES" >"$T/check.out" 2>&1 ||
    { cat "$T/check.out"; fail "--check refused good webhooks"; }
start_daemon
vctl status --json | json '.webhooks.endpoints == 2 and .webhooks.delivered == 0
    and .webhooks.failed == 0 and .webhooks.pending == 0' >/dev/null ||
    fail "status: $(vctl status --json | jq -c .webhooks)"
vctl status | has '^webhooks:  *0 delivered, 0 failed, 0 retries, 0 dropped, 0 pending$' ||
    fail "status text: $(vctl status | grep webhooks)"

# A bad endpoint: refused with the line of the assignment, the old ones stay.
printf 'webhooks = {\n    ops = { url = "ftp://x" },\n}\n' >>"$CONFIG"
line=$(grep -n '^webhooks = {$' "$CONFIG" | tail -n 1 | cut -d: -f1)
if vctl reload 2>"$T/reload.err"; then fail "reload with a bad webhook accepted"; fi
grep -q "$CONFIG:$line: webhooks.ops.url must be an http:// or https:// URL" "$T/reload.err" ||
    fail "reload error: $(cat "$T/reload.err")"
vctl status --json | json '.webhooks.endpoints == 2' >/dev/null || fail "endpoints changed"

# A good one replaces them.
sed -i 's|url = "ftp://x"|url = "http://127.0.0.1:9/other"|' "$CONFIG"
vctl reload >/dev/null || fail "good reload refused"
vctl status --json | json '.webhooks.endpoints == 1' >/dev/null || fail "endpoints not replaced"
stop_daemon
pass
