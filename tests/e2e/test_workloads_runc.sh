#!/usr/bin/env bash
# Real runc containers: vigild lists each within a second of its start with
# runtime runc and its service group, drops it within two seconds of its
# end, announces it with workload.start, and a group's mode set with
# vigilctl survives a daemon restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

WEB=$(ct_id web-1)
DB=$(ct_id db-1)

# within MS COMMAND...: runs the command every 50 ms until it succeeds;
# fails after MS milliseconds.
within() {
    local ms=$1
    shift
    local start now
    start=$(date +%s%N)
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        now=$(date +%s%N)
        [ $(((now - start) / 1000000)) -lt "$ms" ] || return 1
        sleep 0.05
    done
}

# any FILTER [jq args]: whether some object of the JSON lines on stdin
# passes FILTER.
any() {
    local f=$1
    shift
    jq -se "$@" "any(.[]; $f)" >/dev/null
}

listed() { # listed ID GROUP
    vctl workloads --json | any '.id == $id and .runtime == "runc" and .group == $g and .pid > 0' \
        --arg id "$1" --arg g "$2"
}

gone() {
    vctl workloads --json | jq -se --arg id "$1" 'all(.[]; .id != $id)' >/dev/null
}

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
start_daemon

ct_start web-1
within 1000 listed "$WEB" "$CT_PREFIX-web" || fail "$WEB not listed within 1 s"
ct_start db-1
DB_PID=$CT_PID
within 1000 listed "$DB" "$CT_PREFIX-db" || fail "$DB not listed within 1 s"
vctl workloads --json | any '.id == $id and .pid == $pid and .name == $id' \
    --arg id "$DB" --argjson pid "$DB_PID" || fail "wrong pid or name for $DB"
vctl workloads | has "$CT_PREFIX-db" || fail "human workloads table lacks $DB"

# workload.start is stored, with the id and group in the header.
vctl events --json --type workload.start |
    any '.workload == $id and .group == $g and .runtime == "runc"' --arg id "$WEB" \
        --arg g "$CT_PREFIX-web" || fail "no workload.start event for $WEB"

# groups: each service group, with one member.
vctl groups --json | any '.name == $g and .kind == "service" and .mode == "learn" and .members == 1' \
    --arg g "$CT_PREFIX-web" || fail "groups --json lacks $CT_PREFIX-web"
vctl groups --json | any '.name == "nodes" and .kind == "nodes"' || fail "groups --json lacks nodes"

# Mode changes: stored, announced, reflected in the members.
vctl group mode "$CT_PREFIX-web" protect | has "mode protect (was learn)" || fail "group mode output"
vctl workloads --json | any '.id == $id and .mode == "protect"' --arg id "$WEB" \
    || fail "$WEB did not take its group's mode"
vctl events --json --type group.mode |
    any '.group == $g and .mode == "protect" and .previous == "learn"' --arg g "$CT_PREFIX-web" \
    || fail "no group.mode event"
vctl group show "$CT_PREFIX-web" --json | jq -e --arg id "$WEB" \
    '.mode == "protect" and .members == 1 and .workloads[0].id == $id' >/dev/null || fail "group show"
rc=0
vctl group mode "$CT_PREFIX-web" strict 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "not one of learn, monitor, protect" "$T/err" || fail "bad mode accepted"
rc=0
vctl group mode no-such-group learn 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "no group" "$T/err" || fail "unknown group accepted"

# A custom group declared in the config joins both at the next reload.
echo "groups = { { name = '$CT_PREFIX-all', name_glob = '$CT_PREFIX-*' } }" >>"$CONFIG"
vctl reload >/dev/null || fail "reload with a custom group refused"
vctl groups --json | any '.name == $g and .kind == "custom" and .members == 2' \
    --arg g "$CT_PREFIX-all" || fail "custom group $CT_PREFIX-all does not have both containers"
vctl workloads --json | any '.id == $id and (.groups | index($g)) != null and .mode == "protect"' \
    --arg id "$WEB" --arg g "$CT_PREFIX-all" || fail "$WEB not in its custom group (or lost its mode)"

# A bad definition is refused with its place named, and the groups stay.
cp "$CONFIG" "$T/good.lua"
echo "groups = { { name = 'typo', imgae = 'nginx' } }" >>"$CONFIG"
rc=0
vctl reload 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "groups\[1\]: unknown field 'imgae'" "$T/err" || fail "bad group definition accepted"
cp "$T/good.lua" "$CONFIG"
vctl groups --json | any '.name == $g and .members == 2' --arg g "$CT_PREFIX-all" \
    || fail "custom group lost after a refused reload"

# A stopped container leaves within 2 s, with workload.stop.
ct_stop db-1
within 2000 gone "$DB" || fail "$DB still listed 2 s after it stopped"
vctl events --json --type workload.stop | any '.workload == $id' --arg id "$DB" \
    || fail "no workload.stop event for $DB"

# The mode survives a restart, and the running container is found again.
stop_daemon
start_daemon
vctl groups --json | any '.name == $g and .mode == "protect"' --arg g "$CT_PREFIX-web" \
    || fail "mode of $CT_PREFIX-web lost across a restart"
within 1000 listed "$WEB" "$CT_PREFIX-web" || fail "$WEB not found after the restart"
vctl workloads --json | any '.id == $id and .mode == "protect"' --arg id "$WEB" \
    || fail "$WEB lost its mode across a restart"

stop_daemon
pass
