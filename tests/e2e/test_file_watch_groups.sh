#!/usr/bin/env bash
# Paths a policy adds per group (vigil.watch{}) in a real runc container in
# monitor mode: /app/settings.conf is not in the default list, so a write to
# it is not reported; once a policy watches it for the container's group
# and `vigilctl reload` ran, the same write is a file.access event and a
# file.violation with action "alert". A path for another group stays
# unwatched, a broken vigil.watch{} is refused with file:line (the running
# list stays), and a reload without the declaration stops the watching.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/file.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { file = { stats_interval_ms = 300, rescan_ms = 300, host = false } }' >>"$CONFIG"

# A container on a writable copy of the busybox root file system, with
# /app/settings.conf and /app/other.conf. Sets FROOT.
fct_start() {
    ct_writable_root "$1"
    mkdir -p "$FROOT/app"
    echo "a=1" >"$FROOT/app/settings.conf"
    echo "b=1" >"$FROOT/app/other.conf"
    CT_ROOT="$FROOT" ct_start "$1"
}

in_stats() {
    vctl events --json --limit 1 --type file.stats | jq -e --arg id "$1" ".watched | index(\$id) != null"
}
# synced: the plugin has published file.stats after the newest watch list,
# i.e. it has applied that list. (Counts of marks are not compared: other
# tests' containers on this host come and go, and this daemon watches them
# too.)
synced() {
    local w s
    w=$(vctl events --json --limit 1 --type policy.watchlist | jq -r .id)
    s=$(vctl events --json --limit 1 --type file.stats | jq -r .id)
    [ -n "$w" ] && [ -n "$s" ] && [ "$s" -gt "$w" ]
}
# write FILE TEXT: appends inside the container; the writer lives on a moment
# so that its program is known (docs/file.md).
write() {
    runc exec "$CT" /bin/sh -c "echo $2 >> $1; sleep 0.3" </dev/null >/dev/null 2>&1 \
        || fail "write to $1 failed"
}
accessed() {
    has_event file.access ".workload == \"$CT\" and .group == \"$G\" and .path == \"$1\""
}
alerted() {
    has_event file.violation ".workload == \"$CT\" and .path == \"$1\" and .action == \"alert\""
}

start_daemon
fct_start web-1
CT=$(ct_id web-1)
G="$CT_PREFIX-web"
wait_for in_stats "$CT"
wait_for vctl group mode "$G" monitor

# ---- not in the default list: not reported -------------------------------
write /app/settings.conf x1
sleep 1
accessed /app/settings.conf && fail "/app/settings.conf was reported before any policy watched it"

# ---- a policy watches it for the container's group ------------------------
cat >"$POLICIES/50-watch.lua" <<LUA
vigil.watch{ group = "$G", paths = { "/app/settings.conf" } }
vigil.watch{ group = "some-other-group", paths = { "/app/other.conf" } }
LUA
vctl reload >/dev/null || fail "reload with vigil.watch refused"
wait_for has_event policy.watchlist ".watch | length == 2"
wait_for synced
write /app/settings.conf x2
wait_for accessed /app/settings.conf
wait_for alerted /app/settings.conf
has_event file.access ".path == \"/app/settings.conf\" and .access == \"write\"" \
    || fail "file.access of /app/settings.conf is not a write: $(vctl events --json --type file.access)"
write /app/other.conf y1
sleep 1
accessed /app/other.conf && fail "a path of another group was watched in $G"

# ---- a broken declaration is refused, the list stays ---------------------
cat >"$POLICIES/60-broken.lua" <<'LUA'
vigil.watch{ paths = { "app/relative.conf" } }
LUA
if vctl reload 2>"$T/reload.err"; then fail "reload of a broken vigil.watch accepted"; fi
grep -q "60-broken.lua:1: vigil.watch: paths\[1\]" "$T/reload.err" \
    || { cat "$T/reload.err"; fail "no file:line for the broken vigil.watch"; }
rm "$POLICIES/60-broken.lua"
n=$(vctl events --json --limit 10000 --type file.access | jq -s 'map(select(.path == "/app/settings.conf")) | length')
write /app/settings.conf x3
wait_for eval "[ \$(vctl events --json --limit 10000 --type file.access | jq -s 'map(select(.path == \"/app/settings.conf\")) | length') -gt $n ]"

# ---- without the declaration: no longer watched --------------------------
rm "$POLICIES/50-watch.lua"
vctl reload >/dev/null || fail "reload without vigil.watch refused"
wait_for has_event policy.watchlist ".watch | length == 0"
wait_for synced
n=$(vctl events --json --limit 10000 --type file.access | jq -s 'map(select(.path == "/app/settings.conf")) | length')
write /app/settings.conf x4
sleep 1
m=$(vctl events --json --limit 10000 --type file.access | jq -s 'map(select(.path == "/app/settings.conf")) | length')
[ "$m" -eq "$n" ] || fail "/app/settings.conf still reported after vigil.watch was removed"

pass
