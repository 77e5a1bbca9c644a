#!/usr/bin/env bash
# The secrets plugin frees its compiled rules when no scan came for
# rules_idle_s (a daemon at rest needs none of them) and loads them again
# for the next scan: a scan on demand after the rules were freed, twice,
# finds what a scan finds with the rules loaded at start.
. "$(dirname "$0")/lib.sh"

# A random string in the format of a GitHub token, nobody's credential.
HOST_TOKEN=ghp_Wd3YbM7nQx1LvK8TcR2ZpH5sDg9JuA4eCf6T
cp "$VIGIL_BUILD/plugins/secrets.so" "$PLUGINS"/
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"
CONFIG="$T/vigil.lua"
echo 'plugins = { secrets = { scan_new = false, rules_idle_s = 1 } }' >"$CONFIG"
HOSTDIR="$T/host-dir"
mkdir -p "$HOSTDIR/conf"
printf '# deploy\n\ntoken: %s\n' "$HOST_TOKEN" >"$HOSTDIR/conf/deploy.yml"

start_daemon
# freed N: the rules were freed at least N times (the daemon logs at debug).
freed() { [ "$(grep -c 'secrets: rules freed after 1 s without a scan' "$LOG")" -ge "$1" ]; }
settle() { # settle CMD...: up to 60 s (a first compile under ASan is slow)
    local _
    for _ in $(seq 1 600); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}
for round in 1 2; do
    settle freed $round || fail "rules not freed ($round): $(grep 'secrets:' "$LOG" | tail -5)"
    vctl secrets scan --path "$HOSTDIR" --wait --json --timeout 60 >"$T/out" ||
        fail "scan after the rules were freed ($round): $(cat "$T/out")"
    jq -se --arg d "$HOSTDIR" 'length == 1 and (.[0] | .target == $d and .rule == "github-pat"
        and .path == "conf/deploy.yml" and .line == 3 and (.secret | length < 16))' "$T/out" \
        >/dev/null || fail "findings after the rules were freed ($round): $(cat "$T/out")"
done
grep -q "secrets: rules:" "$LOG" && fail "rules failed to load again: $(grep 'secrets: rules:' "$LOG")"
grep -q "$HOST_TOKEN" "$LOG" && fail "the whole token is in the log"
stop_daemon
pass
