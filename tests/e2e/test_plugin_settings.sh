#!/usr/bin/env bash
# The shipped plugins declare the settings they read (ABI 1.4), so a
# mistake in plugins.<name> is caught by vigild --check, at start and at a
# reload, with the file and line, instead of a plugin failing (or ignoring
# it) later: a bad choice, a misspelt key, a misspelt plugin name, a value
# out of range. A plugin this host does not have may still be configured.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD"/plugins/file.so "$VIGIL_BUILD"/plugins/proc.so "$VIGIL_BUILD"/plugins/secrets.so "$PLUGINS"/
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES"/
CONFIG="$T/vigil.lua"
check() { # check SETTINGS: vigild --check on the shipped config plus SETTINGS
    cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
    printf '%s\n' "$1" >>"$CONFIG"
    "$VIGILD" --check --config "$CONFIG" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" 2>&1
}
line() { wc -l <"$CONFIG"; }

out=$(check 'plugins = { file = { fail_mode = "yolo" } }') && fail "fail_mode yolo accepted: $out"
echo "$out" | has "$CONFIG:$(line): plugins.file.fail_mode: 'yolo' is not one of allow, deny" ||
    fail "no reason for the bad choice: $out"
out=$(check 'plugins = { secrest = { scan_env = false } }') && fail "a misspelt plugin accepted: $out"
echo "$out" | has "plugins.secrest: no such plugin; did you mean 'secrets'?" ||
    fail "no suggestion for the misspelt plugin: $out"
out=$(check 'plugins = { proc = { stats_intervl_ms = 10 } }') && fail "a misspelt key accepted: $out"
echo "$out" | has "plugins.proc: unknown setting 'stats_intervl_ms'; did you mean stats_interval_ms?" ||
    fail "no suggestion for the misspelt key: $out"
out=$(check 'plugins = { file = { guard_threads = 0 } }') && fail "guard_threads 0 accepted: $out"
echo "$out" | has "plugins.file.guard_threads: 0 is out of range \[1, " || fail "no range given: $out"
check 'plugins = { net = { nodes = true }, file = { fail_mode = "deny" } }' >/dev/null ||
    fail "a plugin this host lacks (net) may be configured"

# The daemon refuses to start on such a config, and a reload keeps the
# running settings.
check 'plugins = { file = { fail_mode = "yolo" } }' >/dev/null || true
"$VIGILD" --config "$CONFIG" --state-dir "$STATE" --socket "$SOCK" --plugin-dir "$PLUGINS" \
    --policy-dir "$POLICIES" >"$T/start.log" 2>&1 && fail "vigild started with fail_mode yolo"
grep -q "plugins.file.fail_mode: 'yolo' is not one of allow, deny" "$T/start.log" ||
    fail "the refusal to start does not say why: $(cat "$T/start.log")"
check 'plugins = { file = { fail_mode = "allow" } }' >/dev/null
start_daemon --config "$CONFIG"
check 'plugins = { file = { fail_mode = "yolo" } }' >/dev/null || true
out=$(vctl reload 2>&1) && fail "a reload with fail_mode yolo was accepted"
echo "$out" | has "fail_mode: 'yolo'" || fail "the refused reload does not say why: $out"
vctl plugins --json >"$T/plugins.json"
json '.[] | select(.name == "file") | .state == "running"' "$T/plugins.json" >/dev/null ||
    fail "the file plugin did not keep running"
stop_daemon
pass
