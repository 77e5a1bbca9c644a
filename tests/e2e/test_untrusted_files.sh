#!/usr/bin/env bash
# Code and settings that anyone but root could have written are refused,
# with the reason: a policy file owned by another user, a policy directory
# writable by everyone, a plugin writable by everyone, a config writable by
# group; the trusted ones next to them still load.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to own files as another user"; exit 77; }

cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES"/

# A policy file owned by nobody.
echo "vigil.on('proc.exec', function() return 'allow' end)" >"$POLICIES/60-nobody.lua"
chown nobody "$POLICIES/60-nobody.lua"
out=$("$VIGILD" --check --config "$VIGIL_SRC/etc/vigil/vigil.lua" --policy-dir "$POLICIES" 2>&1) &&
    fail "--check accepted a policy file owned by nobody: $out"
echo "$out" | has "60-nobody.lua: refused: .*60-nobody.lua is owned by uid $(id -u nobody), not by root" ||
    fail "no reason given: $out"
# ...unless that user is named as trusted.
"$VIGILD" --check --trusted-owner nobody --config "$VIGIL_SRC/etc/vigil/vigil.lua" \
    --policy-dir "$POLICIES" >/dev/null 2>&1 || fail "--trusted-owner nobody did not trust nobody's file"
rm "$POLICIES/60-nobody.lua"

# A policy directory anyone may write to.
chmod 0777 "$POLICIES"
out=$("$VIGILD" --check --config "$VIGIL_SRC/etc/vigil/vigil.lua" --policy-dir "$POLICIES" 2>&1) &&
    fail "--check accepted a world-writable policy directory: $out"
echo "$out" | has "is writable by group or others (mode 0777)" || fail "no reason given: $out"
chmod 0755 "$POLICIES"
"$VIGILD" --check --config "$VIGIL_SRC/etc/vigil/vigil.lua" --policy-dir "$POLICIES" >/dev/null 2>&1 ||
    fail "--check refused the trusted policies"

# A config writable by its group.
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$T/vigil.lua"
chmod 0664 "$T/vigil.lua"
out=$("$VIGILD" --check --config "$T/vigil.lua" --policy-dir "$POLICIES" 2>&1) &&
    fail "--check accepted a group-writable config: $out"
echo "$out" | has "vigil.lua: refused: .*writable by group or others (mode 0664)" ||
    fail "no reason given: $out"

# A world-writable plugin beside a trusted one: refused, the daemon runs on.
cp "$VIGIL_BUILD"/tests/plugins/plugin_initfail.so "$PLUGINS"/
chmod 0666 "$PLUGINS/plugin_initfail.so"
start_daemon
vctl plugins --json >"$T/plugins.json"
json '.[] | select(.file | endswith("plugin_initfail.so")) | .state == "refused" and (.why | test("untrusted: .*writable by group or others \\(mode 0666\\)"))' \
    "$T/plugins.json" >/dev/null || { cat "$T/plugins.json"; fail "world-writable plugin not refused"; }
json '.[] | select(.name == "testok") | .state == "running"' "$T/plugins.json" >/dev/null ||
    fail "the trusted plugin is not running"
stop_daemon
pass
