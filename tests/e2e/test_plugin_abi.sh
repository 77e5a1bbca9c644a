#!/usr/bin/env bash
# A plugin built for another ABI major is refused with both versions logged,
# a plugin whose init fails is skipped, and the daemon runs on with the rest.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD"/tests/plugins/plugin_badabi.so "$VIGIL_BUILD"/tests/plugins/plugin_initfail.so "$PLUGINS"/
start_daemon
vctl plugins --json >"$T/plugins.json"
json '.[] | select(.file | endswith("plugin_badabi.so")) | .state == "refused" and (.why | test("plugin ABI 2.7, daemon ABI 1\\.[0-9]+"))' \
    "$T/plugins.json" >/dev/null || { cat "$T/plugins.json"; fail "wrong-ABI plugin not refused"; }
json '.[] | select(.name == "initfail") | .state == "failed"' "$T/plugins.json" >/dev/null || fail "init failure not shown"
json '.[] | select(.name == "testok") | .state == "running"' "$T/plugins.json" >/dev/null || fail "good plugin not running"
grep -q "built for ABI 2.7, this daemon speaks ABI 1\.[0-9]" "$LOG" || fail "both versions not logged"
vctl plugins | grep plugin_badabi | has refused || fail "human table lacks the refusal"
stop_daemon
pass
