#!/usr/bin/env bash
# A broken config or policy is refused on reload with file and line; the
# running configuration stays and the daemon keeps answering. --check reports
# every problem and exits non-zero, like nginx -t.
. "$(dirname "$0")/lib.sh"

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'return 1' >"$POLICIES/10-ok.lua"

"$VIGILD" --check --config "$CONFIG" --policy-dir "$POLICIES" --plugin-dir "$PLUGINS" \
    >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "--check on good files"; }

start_daemon

# An unknown setting: refused, with the file and the line.
printf 'log_level = "info"\nbogus_key = 3\nevents_max = "many"\n' >>"$CONFIG"
line=$(grep -n bogus_key "$CONFIG" | cut -d: -f1)
if vctl reload 2>"$T/reload.err"; then fail "reload of a bad config accepted"; fi
grep -q "$CONFIG:$line:.*bogus_key" "$T/reload.err" || { cat "$T/reload.err"; fail "no file:line for bogus_key"; }
grep -q "events_max" "$T/reload.err" || fail "second problem not reported"
vctl status --json | json '.reloads.failed == 1 and (.reloads.last_error | test("bogus_key"))' \
    >/dev/null || fail "failed reload not counted"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' events --type policy.error --json | grep -q bogus_key"

if "$VIGILD" --check --config "$CONFIG" --policy-dir "$POLICIES" >"$T/check.out" 2>&1; then
    fail "--check accepted a bad config"
fi
grep -q "$CONFIG:$line:" "$T/check.out" || fail "--check lacks file:line"
grep -q "2 problems found" "$T/check.out" || { cat "$T/check.out"; fail "--check did not count both problems"; }

# A policy with a syntax error: refused too, naming its file and line.
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'local x = 1\nif x then\n' >"$POLICIES/20-broken.lua"
if vctl reload 2>"$T/reload.err"; then fail "reload of a broken policy accepted"; fi
grep -q "20-broken.lua:[0-9]*:" "$T/reload.err" || { cat "$T/reload.err"; fail "no file:line for the policy"; }

# Fixed: the next reload is accepted, and the daemon was answering all along.
# Settings read only at start are accepted too, with a warning that they
# wait for a restart.
rm "$POLICIES/20-broken.lua"
printf 'events_max = 5000\nbus_queue = 1024\nstore_map_mb = 32\n' >>"$CONFIG"
vctl reload >/dev/null || fail "reload after the fix"
vctl status --json | json '.reloads.ok == 1 and .reloads.failed == 2' >/dev/null || fail "reload counts"
for k in events_max bus_queue store_map_mb; do
    grep -q "reload: $k changed; it takes effect at the next restart" "$LOG" \
        || fail "no restart warning for $k"
done
stop_daemon
pass
