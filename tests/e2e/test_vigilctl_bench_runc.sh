#!/usr/bin/env bash
# `vigilctl bench show --workload` and `bench run --workload` on a real runc
# container: the run the daemon makes when the container starts is stored
# under the workload and shown with the container checks' statuses, and a
# run asked for by hand happens (a second summary event for the workload).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

CONFIG="$T/vigil.lua"
cat > "$CONFIG" <<LUA
plugins = { cis = { lua_dir = "$VIGIL_SRC/lua/cis", run_at_start = false } }
LUA
cp "$VIGIL_BUILD"/plugins/cis.so "$PLUGINS"/
start_daemon

ct_start plain
ID=$(ct_id plain)

# report_of ID: the container's stored report, one check per line.
report_of() { vctl bench show --workload "$1" --json; }
wait_for report_of "$ID"
report_of "$ID" >"$T/show.json"
status_of() { jq -r --arg id "$1" 'select(.id == $id and .target == "containers") | .status' "$T/show.json"; }
# runc's default container: not privileged (5.5), read-only root (5.13).
[ "$(status_of 5.5)" = PASS ] || fail "5.5 of $ID: $(status_of 5.5)"
[ "$(status_of 5.13)" = PASS ] || fail "5.13 of $ID: $(status_of 5.13)"
json_any '.target != "containers"' "$T/show.json" && fail "a host check in the container's report"
vctl bench show --workload "$ID" | tail -n1 | has "(container:$ID report of " \
    || fail "table summary: $(vctl bench show --workload "$ID" | tail -n1)"

summaries() {
    vctl events --json --limit 10000 --type bench.result \
        | jq -s --arg w "$ID" '[.[] | select(.workload == $w and .summary == true)] | length'
}
# The summary event of the run at start may reach the store after the report.
has_summaries() { [ "$(summaries)" -ge "$1" ]; }
wait_for has_summaries 1
before=$(summaries)
vctl bench run --workload "$ID" >"$T/run.out" || fail "bench run --workload refused"
grep -q "queued a run (target containers) for $ID" "$T/run.out" || fail "run said: $(cat "$T/run.out")"
wait_for has_summaries $((before + 1))

stop_daemon
pass
