#!/usr/bin/env bash
# The cis plugin (the CIS checks) in a real vigild: the host run at start publishes one
# bench.result event per WARN (with its evidence and compliance tags) and a
# summary, reading a fixture root given in the plugin's settings.
. "$(dirname "$0")/lib.sh"

R="$T/root"
mkdir -p "$R/etc/docker" "$R/proc/100" "$R/usr/bin"
echo '{"icc": true}' > "$R/etc/docker/daemon.json"
printf '/usr/bin/dockerd\0-H\0fd://\0' > "$R/proc/100/cmdline"
echo dockerd > "$R/proc/100/comm"
: > "$R/usr/bin/dockerd"

CONFIG="$T/vigil.lua"
cat > "$CONFIG" <<LUA
plugins = { cis = { root = "$R", lua_dir = "$VIGIL_SRC/lua/cis", run_at_start = true } }
LUA
cp "$VIGIL_BUILD"/plugins/cis.so "$PLUGINS"/
start_daemon
wait_for has_event bench.result '.check == "2.2" and .status == "WARN" and (.evidence | test("icc = true"))'
has_event bench.result '.check == "2.2" and (.tags | any(startswith("NIST 800-53")))' || fail "no NIST tag on 2.2"
wait_for has_event bench.result '.summary == true and .warn >= 1'
has_event bench.result '.status == "PASS"' && fail "PASS results are not events"
vctl plugins --json | json '.[] | select(.name == "cis") | .state == "running"' >/dev/null \
    || fail "cis plugin not running"
stop_daemon
# The last report is in the plugin's store table, for `vigilctl bench show`.
mdb_dump -p -s plugin.cis.reports "$STATE" > "$T/reports" || fail "no plugin.cis.reports table"
grep -qx ' host' "$T/reports" || fail "no stored host report: $(head -c 300 "$T/reports")"
grep -q 'results' "$T/reports" || fail "stored report has no results"
pass
