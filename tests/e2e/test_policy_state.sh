#!/usr/bin/env bash
# A host left without policies by a mistake does not look healthy: a missing
# or empty policy directory fails `vigild --check` and `vigil-policy check`,
# the daemon runs but `vigilctl status` says first that no policies are
# loaded; a typo'd event type or webhook endpoint is refused with file:line
# and the nearest valid names; and status shows only what is true now (no
# stale error after a later reload worked).
. "$(dirname "$0")/lib.sh"

VPOL="$VIGIL_BUILD/vigil-policy"
EMPTY="$T/empty-policies"
mkdir -p "$EMPTY"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'webhooks = { ops = { url = "http://127.0.0.1:9/hook" }, oncall = { url = "http://127.0.0.1:9/x" } }\n' >>"$CONFIG"

# --check and vigil-policy check: a directory that does not exist, or is empty.
for dir in "$T/nonexistent" "$EMPTY"; do
    if "$VIGILD" --check --config "$CONFIG" --policy-dir "$dir" >"$T/check.out" 2>&1; then
        fail "--check accepted the policy directory $dir"
    fi
    grep -q "no policy file in $dir" "$T/check.out" || { cat "$T/check.out"; fail "--check: no reason for $dir"; }
    if "$VPOL" check "$dir" >"$T/check.out" 2>&1; then fail "vigil-policy check accepted $dir"; fi
    grep -q "no policy file in $dir" "$T/check.out" || { cat "$T/check.out"; fail "vigil-policy: no reason"; }
    grep -q "policies OK" "$T/check.out" && fail "vigil-policy said OK for $dir"
done
grep -q "$T/nonexistent (does not exist)" <("$VPOL" check "$T/nonexistent" 2>&1) ||
    fail "a missing directory is not named as missing"
# Explicitly allowed: the config says so.
cp "$CONFIG" "$T/allow.lua"
echo 'empty_policies = "allow"' >>"$T/allow.lua"
"$VIGILD" --check --config "$T/allow.lua" --policy-dir "$EMPTY" >"$T/check.out" 2>&1 ||
    { cat "$T/check.out"; fail "empty_policies = allow refused"; }

# The daemon on the empty directory: running, and status says so first.
rm -f "$POLICIES"/*.lua
start_daemon --config "$CONFIG"
vctl status >"$T/status.out"
head -1 "$T/status.out" | has "^POLICIES: *NOT LOADED: the host runs without policies; no policy file in $POLICIES" ||
    { cat "$T/status.out"; fail "status does not lead with the missing policies"; }
vctl status --json | json '.policy.loaded == false' >/dev/null || fail "status --json: loaded"
wait_for has_event policy.error '.message | test("no policy file")'

# Mistakes in names: refused on reload with file:line and the nearest names.
printf 'vigil.on("proc.exec", function() end)\nvigil.on("proc.exce", function() end)\n' >"$POLICIES/10-typo.lua"
if vctl reload 2>"$T/reload.err"; then fail "reload accepted vigil.on('proc.exce')"; fi
grep -q "$POLICIES/10-typo.lua:2: vigil.on: 'proc.exce' is not an event type (nearest: proc.exec" "$T/reload.err" ||
    { cat "$T/reload.err"; fail "no file:line and nearest name for proc.exce"; }
cat >"$POLICIES/10-typo.lua" <<'LUA'
vigil.on("proc.exec", function() end)
vigil.response{ name = "page", on = "proc.incident",
                actions = { "webhook:oncal" } }
LUA
if vctl reload 2>"$T/reload.err"; then fail "reload accepted webhook:oncal"; fi
grep -q "10-typo.lua:2: .*webhook endpoint 'oncal' is not in the config's webhooks" "$T/reload.err" ||
    { cat "$T/reload.err"; fail "no file:line for the webhook endpoint"; }
grep -q "oncall" "$T/reload.err" || fail "the configured endpoints are not listed"
vctl status --json | json '.policy.loaded == false and (.policy.last_error | test("oncal"))' >/dev/null ||
    fail "status does not show the refused load"

# Fixed: loaded, and neither status line keeps the old errors.
sed -i 's/webhook:oncal"/webhook:oncall"/' "$POLICIES/10-typo.lua"
vctl reload >/dev/null || fail "reload of the fixed policy"
vctl status >"$T/status.out"
head -1 "$T/status.out" | has "^POLICIES: *loaded (1 files, 1 handlers)$" ||
    { cat "$T/status.out"; fail "status after the fix"; }
grep -q "last error" "$T/status.out" && { cat "$T/status.out"; fail "a stale reload error is shown"; }
vctl status --json | json '.reloads.last_error == null and .policy.last_error == null and .reloads.failed == 2' \
    >/dev/null || fail "status --json keeps a stale error"

# Net rules while no net plugin is loaded: kept, with a warning at add and
# at load.
vctl rules add --group web --plane net --direction egress --peer 10.0.0.7 --port 443 \
    --proto tcp >"$T/add.out" 2>"$T/add.err" || fail "rules add net"
grep -q "^added: group web" "$T/add.out" || fail "the net rule was not added"
grep -q "^warning: no plugin producing net events is loaded" "$T/add.err" ||
    { cat "$T/add.err"; fail "no warning at add"; }
echo 'vigil.rule{ group = "web", plane = "net", direction = "egress", peer = "db", port = 5432 }' \
    >"$POLICIES/30-net.lua"
vctl reload >/dev/null || fail "reload with a net rule"
grep -q "30-net.lua:1: vigil.rule: plane 'net' has no plugin loaded that produces its events" "$LOG" ||
    fail "no warning at load for the net rule"
rm "$POLICIES/30-net.lua"
vctl reload >/dev/null || fail "reload without the net rule"

# A refused reload after that: the running policies stay, and status says both.
echo 'vigil.on("file.acess", function() end)' >"$POLICIES/20-more.lua"
if vctl reload 2>/dev/null; then fail "reload accepted file.acess"; fi
head -1 <(vctl status) | has "^POLICIES: *loaded (1 files, 1 handlers); the last load was refused, the previous policies run: .*nearest: file.access" ||
    { vctl status | head -3; fail "status after a refused reload"; }
stop_daemon
pass
