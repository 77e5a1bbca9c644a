#!/usr/bin/env bash
# `vigilctl secrets scan|show` against a real vigild with secrets.so and a
# real runc container (scans of new containers turned off, so that only the
# on-demand scan can find anything): the container's root holds a planted
# token and its init process has another in its environment. A scan on
# demand queues at once; its findings then appear in `secrets show` (table
# and --json, one finding per line), as secret.finding events, and in the
# stored report after a restart, always masked. A host directory scans with
# --path; an unknown workload is an error (exit 1); the whole tokens appear
# in no output, no event and no log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

# Random strings in the format of GitHub tokens, nobody's credentials.
TOKEN=ghp_Hq7VbN2mKx9LcR4TwZ8YpJ3sDf5GuA6eBi1Q
ENV_TOKEN=ghp_Lm4XkT8nVa2QzR6mWc1PsJ9yDf3GuB7eKo2T
HOST_TOKEN=ghp_Rt5YbM1nQx8LvK3TcW7ZpH2sDg4JuA9eCf6N
APP=$(ct_id app-1)
cp "$VIGIL_BUILD/plugins/secrets.so" "$PLUGINS"/
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"
CONFIG="$T/vigil.lua"
echo 'plugins = { secrets = { scan_new = false } }' >"$CONFIG"

ct_rootfs
mkdir -p "$CT_ROOTFS/srv"
printf 'LOG_LEVEL=info\nGITHUB_TOKEN=%s\n' "$TOKEN" >"$CT_ROOTFS/srv/app.env"
# ct_start cannot pass `sh -c` (its jq would take the -c): a script.
printf 'export GH_TOKEN=%s\nexec /bin/sleep 600\n' "$ENV_TOKEN" >"$CT_ROOTFS/init.sh"
HOSTDIR="$T/host-dir"
mkdir -p "$HOSTDIR/conf"
printf '# deploy\n\ntoken: %s\n' "$HOST_TOKEN" >"$HOSTDIR/conf/deploy.yml"

start_daemon
ct_start app-1 /bin/sh /init.sh
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' workloads --json | grep -q '$APP'" ||
    fail "workload $APP not discovered: $(vctl workloads)"

# Usage errors (exit 2) and an unknown workload (exit 1, a clear message).
rc=0; vctl secrets scan >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || fail "scan without a target: exit $rc"
rc=0; vctl secrets scan --workload "$APP" --path "$HOSTDIR" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "scan with two targets: exit $rc"
rc=0; vctl secrets scan --workload nosuch-workload >"$T/out-unknown" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "scan of an unknown workload: exit $rc"
grep -q "no workload nosuch-workload" "$T/err" || fail "unknown workload message: $(cat "$T/err")"
rc=0; vctl secrets show --workload nosuch-workload >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "show of an unknown workload: exit $rc"
rc=0; vctl secrets scan --path "$T/nonexistent" >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "scan of a missing directory: exit $rc"

# No scan yet: no report and no finding for the container.
vctl secrets show --workload "$APP" --json >"$T/out-before"
[ ! -s "$T/out-before" ] || fail "findings before any scan: $(cat "$T/out-before")"
[ "$(vctl events --json --type secret.finding | grep -c "$APP" || true)" -eq 0 ] ||
    fail "scan_new = false still scanned the container"

# The scan is queued at once; its report comes later.
vctl secrets scan --workload "$APP" --json >"$T/out-scan"
jq -e --arg id "$APP" '.queued == true and .workload == $id and .requested > 0' "$T/out-scan" \
    >/dev/null || fail "scan reply: $(cat "$T/out-scan")"
file_found() {
    vctl secrets show --workload "$APP" --json >"$T/out-show" &&
        jq -se --arg id "$APP" 'any(.[]; .workload == $id and .rule == "github-pat"
            and .kind == "file" and .path == "srv/app.env" and .line == 2 and .column == 14
            and (.secret | startswith("ghp_")) and (.secret | length < 16))' "$T/out-show" >/dev/null
}
for _ in $(seq 1 300); do
    file_found && break
    sleep 0.1
done
file_found || fail "no file finding in show: $(cat "$T/out-show")"
jq -se --arg id "$APP" 'any(.[]; .workload == $id and .kind == "env" and .rule == "github-pat")' \
    "$T/out-show" >/dev/null || fail "no env finding in show: $(cat "$T/out-show")"
# One JSON object per line.
while read -r line; do
    echo "$line" | jq -e 'type == "object"' >/dev/null || fail "not one object per line: $line"
done <"$T/out-show"

# The table: a summary line, then RULE SEVERITY FILE:LINE SECRET.
vctl secrets show --workload "$APP" >"$T/out-table"
grep -q "^$APP: scanned .*, [0-9]* files, .*, [0-9]* findings$" "$T/out-table" ||
    fail "summary line: $(cat "$T/out-table")"
grep -q '^TARGET  *RULE  *SEVERITY  *FILE:LINE  *SECRET$' "$T/out-table" ||
    fail "table head: $(cat "$T/out-table")"
grep -q "^${APP:0:12}  *github-pat  *[a-z]*  *srv/app.env:2  *ghp_" "$T/out-table" ||
    fail "table row: $(cat "$T/out-table")"

# The same findings are secret.finding events, masked, and a secret.scan.
vctl events --json --type secret.finding >"$T/out-events"
jq -se --arg id "$APP" 'any(.[]; .workload == $id and .path == "srv/app.env" and .line == 2
    and (.secret | length < 16))' "$T/out-events" >/dev/null ||
    fail "no secret.finding event: $(head -c 2000 "$T/out-events")"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' events --json --type secret.scan | grep -q '$APP'" ||
    fail "no secret.scan event"

# A host directory, waiting for the report.
vctl secrets scan --path "$HOSTDIR" --wait --json --timeout 60 >"$T/out-host" ||
    fail "scan --path --wait failed: $(cat "$T/out-host")"
jq -se --arg d "$HOSTDIR" 'length == 1 and (.[0] | .target == $d and .rule == "github-pat"
    and .path == "conf/deploy.yml" and .line == 3 and (.secret | length < 16))' "$T/out-host" \
    >/dev/null || fail "host directory findings: $(cat "$T/out-host")"

# Without a target: every report (the container's and the directory's).
vctl secrets show >"$T/out-all"
grep -q "^$APP: scanned" "$T/out-all" && grep -q "^$HOSTDIR: scanned" "$T/out-all" ||
    fail "show without a target: $(cat "$T/out-all")"

# The report is stored: a restarted daemon still shows it.
stop_daemon
start_daemon
vctl secrets show --workload "$APP" --json >"$T/out-restart"
jq -se 'any(.[]; .path == "srv/app.env" and .line == 2)' "$T/out-restart" >/dev/null ||
    fail "report lost across a restart: $(cat "$T/out-restart")"
# A new scan, waited for: its report replaces the stored one.
nfind=$(vctl secrets show --workload "$APP" --json | jq -s 'length')
vctl secrets scan --workload "$APP" --wait >"$T/out-wait" || fail "scan --wait: $(cat "$T/out-wait")"
grep -q "^$APP: scanned .* findings$" "$T/out-wait" && grep -q "srv/app.env:2  *ghp_" "$T/out-wait" ||
    fail "scan --wait output: $(cat "$T/out-wait")"
[ "$(vctl secrets show --workload "$APP" --json | jq -s 'length')" -eq "$nfind" ] ||
    fail "a rescan changed the findings"

if cat "$T"/out-* "$T/err" "$LOG" | has -e "$TOKEN" -e "$ENV_TOKEN" -e "$HOST_TOKEN" ||
    vctl events --json | has -e "$TOKEN" -e "$ENV_TOKEN" -e "$HOST_TOKEN"; then
    fail "a whole token was shown, stored or logged"
fi
stop_daemon
echo ok
