#!/usr/bin/env bash
# A plugin built against plugin ABI 1.2 (the frozen 1.2 header, whose
# decide slot takes positional fields) still loads into this daemon, runs,
# and gets the same decisions the rules give: the slot that ABI 1.3 renamed
# decide_fields keeps answering the plugins of before.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD"/tests/plugins-abi-1.2/plugin_abi12.so "$PLUGINS"/
start_daemon
vctl plugins --json >"$T/plugins.json"
json '.[] | select(.name == "abi12") | .state == "running" and .abi == "1.2"' "$T/plugins.json" \
    >/dev/null || { cat "$T/plugins.json"; fail "the 1.2 plugin does not run"; }
wait_for has_event abi12.started '.host_abi | test("^1\\.[0-9]+$")'
has_event abi12.started '.host_abi != "1.2"' || fail "the daemon should speak a later minor than 1.2"

G="abi12-$$"
vctl rules add --group "$G" --plane proc --name curl --path /usr/bin/curl --user 0 >/dev/null
vctl rules add --group "$G" --plane file --path /etc/shadow --program /bin/sh --deny >/dev/null
vctl rules add --group "$G" --plane net --direction out --peer 127.0.0.1 --port 443 --proto tcp \
    --app https >/dev/null

decide() {
    vctl call abi12 group="$G" "$@" | jq -r .decision
}
expect() {
    local want=$1
    shift
    local got
    got=$(decide "$@")
    [ "$got" = "$want" ] || fail "decide $*: $got, expected $want"
}
expect allow plane=proc name=curl path=/usr/bin/curl user=0
expect unknown plane=proc name=wget path=/usr/bin/wget user=0
# The pre-exec question: the name and user are not known yet.
expect allow plane=proc path=/usr/bin/curl
expect unknown plane=proc path=/usr/bin/wget
# The deny rule's access is "*": it fits a write and a read.
expect deny plane=file path=/etc/shadow program=/bin/sh access=write
expect deny plane=file path=/etc/shadow program=/bin/sh access=read
expect unknown plane=file path=/etc/shadow program=/bin/cat access=write
expect allow plane=net direction=out peer=127.0.0.1 port=443 proto=tcp app=https
expect unknown plane=net direction=out peer=127.0.0.1 port=80 proto=tcp app=http
# Another group's rules are not this group's.
[ "$(vctl call abi12 group="other-$$" plane=proc name=curl path=/usr/bin/curl user=0 |
    jq -r .decision)" = unknown ] || fail "rules leaked across groups"
# A bad request is an error reply, and the daemon runs on.
if vctl call abi12 group="$G" plane=dns >"$T/bad.out" 2>&1; then fail "bad plane accepted"; fi
grep -q "plane must be proc, file or net" "$T/bad.out" || fail "no error message: $(cat "$T/bad.out")"
vctl status >/dev/null || fail "daemon gone"
stop_daemon
pass
