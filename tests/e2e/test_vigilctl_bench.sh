#!/usr/bin/env bash
# `vigilctl bench run` and `vigilctl bench show` against a real vigild with
# cis.so, on a fixture root made here: a run on demand stores a report
# whose checks have the statuses the fixture calls for, --tag keeps only
# that framework's checks, a fixed fixture changes the next report, and an
# op or target the plugin does not know is an error (exit 1).
. "$(dirname "$0")/lib.sh"

# Docker lets containers talk to each other (2.2 WARN) and daemon.json is
# world-writable (3.18 WARN); the logging level is left alone (2.3 PASS).
R="$T/root"
mkdir -p "$R/etc/docker" "$R/proc/100" "$R/usr/bin"
echo '{"icc": true}' > "$R/etc/docker/daemon.json"
chmod 666 "$R/etc/docker/daemon.json"
printf '/usr/bin/dockerd\0-H\0fd://\0' > "$R/proc/100/cmdline"
echo dockerd > "$R/proc/100/comm"
: > "$R/usr/bin/dockerd"

# A check of the user's own, mapped to HIPAA only: --tag PCI must drop it.
mkdir -p "$T/checks"
cat > "$T/checks/acme.lua" <<'LUA'
return {
  id = "ACME-1", title = "Ensure /etc/acme.conf exists", level = 1, automated = true,
  scored = true, target = "host", tags = { HIPAA = { "164.312(b)" } },
  remediation = "Install acme.",
  run = function(ctx)
    if not bench.stat("/etc/acme.conf") then return "WARN", "/etc/acme.conf is missing" end
    return "PASS", "present"
  end,
}
LUA

# No run at start: the only reports are those asked for here.
CONFIG="$T/vigil.lua"
cat > "$CONFIG" <<LUA
plugins = { cis = { root = "$R", lua_dir = "$VIGIL_SRC/lua/cis",
                      checks_dir = "$T/checks", run_at_start = false } }
LUA
cp "$VIGIL_BUILD"/plugins/cis.so "$PLUGINS"/
start_daemon

# Before any run there is no report to show.
set +e
vctl bench show >"$T/none.out" 2>"$T/none.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "show without a report: exit $rc, want 1"
grep -q "no host report yet" "$T/none.err" || fail "show without a report: $(cat "$T/none.err")"

vctl bench run >"$T/run.out" || fail "bench run refused"
grep -q "queued a run (target host)" "$T/run.out" || fail "bench run said: $(cat "$T/run.out")"
vctl bench run --json | json '.queued == true and .target == "host" and .report == "host"' \
    >/dev/null || fail "bench run --json"

# The report arrives when the run on the thread pool is done.
wait_for vctl bench show --json
vctl bench show --json >"$T/show.json"
status_of() { jq -r --arg id "$1" 'select(.id == $id) | .status' "$2"; }
[ "$(status_of 2.2 "$T/show.json")" = WARN ] || fail "2.2 is not WARN: $(status_of 2.2 "$T/show.json")"
[ "$(status_of 3.18 "$T/show.json")" = WARN ] || fail "3.18 is not WARN"
[ "$(status_of 2.3 "$T/show.json")" = PASS ] || fail "2.3 is not PASS"
[ "$(status_of ACME-1 "$T/show.json")" = WARN ] || fail "the custom check ACME-1 is not WARN"
json_any '.id == "2.2" and (.evidence | test("icc = true")) and (.title | test("default bridge"))
       and (.tags | any(startswith("NIST ")))' "$T/show.json" \
    || fail "2.2 lacks its evidence, title or tags: $(grep '"2.2"' "$T/show.json")"
total=$(wc -l <"$T/show.json")
[ "$total" -ge 40 ] || fail "only $total checks in the report"

# The table: one line per check like docker-bench's, and the counts.
vctl bench show >"$T/show.txt"
head -n1 "$T/show.txt" | has -E '^STATUS +ID +TITLE +EVIDENCE$' || fail "table header: $(head -n1 "$T/show.txt")"
grep -Eq '^WARN +2\.2 +Ensure network traffic is restricted between containers' "$T/show.txt" \
    || fail "no table line for 2.2"
grep -Eq '^PASS +2\.3 +Ensure the logging level' "$T/show.txt" || fail "no table line for 2.3"
warns=$(jq -r 'select(.status == "WARN") | .id' "$T/show.json" | wc -l)
grep -Eq "^$total checks: [0-9]+ pass, $warns warn, .* \(host report of " "$T/show.txt" \
    || fail "summary line: $(tail -n1 "$T/show.txt") (want $total checks, $warns warn)"

# --tag PCI: only checks mapped to PCI DSS (every shipped check is; the
# custom one is not).
vctl bench show --tag PCI --json >"$T/pci.json"
npci=$(wc -l <"$T/pci.json")
[ "$npci" -ge 1 ] && [ "$npci" -lt "$total" ] || fail "--tag PCI kept $npci of $total"
json_any '.tags | any(startswith("PCI ")) | not' "$T/pci.json" \
    && fail "--tag PCI kept a check without a PCI tag"
[ "$(status_of ACME-1 "$T/pci.json")" = "" ] || fail "--tag PCI kept ACME-1"
[ "$(vctl bench show --tag hipaa --json | status_of ACME-1 /dev/stdin)" = WARN ] \
    || fail "--tag hipaa (any case) lost ACME-1"
vctl bench show --tag PCI | tail -n1 | has "^$npci checks:" || fail "--tag PCI summary"

# Fixed: the next run's report says so.
echo '{"icc": false}' > "$R/etc/docker/daemon.json"
chmod 644 "$R/etc/docker/daemon.json"
vctl bench run >/dev/null
# report_has PREDICATE: some check of the host report satisfies PREDICATE.
report_has() { vctl bench show --json | json_any "$1"; }
wait_for report_has '.id == "2.2" and .status == "PASS"'
[ "$(vctl bench show --json | status_of 3.18 /dev/stdin)" = PASS ] || fail "3.18 still not PASS"

# Another target has its own report, and the host's stays.
vctl bench run --target containers >/dev/null
wait_for vctl bench show --target containers --json
vctl bench show | has "host report of" || fail "the host report is gone"

# What the plugin does not know is the daemon's error: exit 1.
expect_err() {
    local want=$1
    shift
    set +e
    vctl "$@" >"$T/err.out" 2>"$T/err.txt"
    local rc=$?
    set -e
    [ "$rc" = 1 ] || fail "vigilctl $*: exit $rc, want 1"
    grep -q "$want" "$T/err.txt" || fail "vigilctl $*: $(cat "$T/err.txt")"
}
expect_err "unknown op 'frob'" bench frob
expect_err "unknown target 'moon'" bench run --target moon
expect_err "containers target only" bench show --target host --workload abc
expect_err "no container:abc report yet" bench show --workload abc
# And a missing op is a usage error (exit 2), caught before the daemon.
set +e
vctl bench >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "bench without an op: exit $rc, want 2"

stop_daemon
pass
