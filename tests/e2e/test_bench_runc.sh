#!/usr/bin/env bash
# CIS Docker 5.5 on real runc containers: a privileged one (every
# capability, as `docker run --privileged` gives) is reported by
# `vigil-scan bench --target containers` and by the bench plugin when the
# container starts; runc's default container is not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_CIS_DIR="$VIGIL_SRC/lua/cis"
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_SYS_ADMIN","CAP_SYS_MODULE","CAP_SYS_RAWIO","CAP_MAC_ADMIN","CAP_NET_ADMIN","CAP_SYS_PTRACE","CAP_KILL"]'

# ct_start_privileged NAME: like ct_start, with every capability.
ct_start_privileged() {
    local id bundle
    id=$(ct_id "$1")
    ct_rootfs
    bundle="$T/ct-bundles/$id"
    mkdir -p "$bundle"
    runc spec --bundle "$bundle"
    jq --arg root "$CT_ROOTFS" --argjson caps "$CAPS" \
        '.root.path = $root | .root.readonly = true | .process.terminal = false
         | .process.args = ["/bin/sleep", "600"]
         | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}' \
        <"$bundle/config.json" >"$bundle/config.json.new"
    mv "$bundle/config.json.new" "$bundle/config.json"
    CT_IDS+=("$id")
    runc run -d --bundle "$bundle" --pid-file "$bundle/pid" "$id" </dev/null >/dev/null 2>&1 \
        || fail "runc could not start $id"
}

status_of() { # ID CHECK: the status of CHECK for container ID
    local rc=0
    "$SCAN" bench --target containers --container "$1" --json > "$T/out.json" || rc=$?
    [ "$rc" -le 1 ] || fail "vigil-scan bench exited $rc"
    jq -r --arg c "$2" '.results[] | select(.target == "containers" and .id == $c) | .status' "$T/out.json"
}

CONFIG="$T/vigil.lua"
cat > "$CONFIG" <<LUA
plugins = { cis = { lua_dir = "$VIGIL_SRC/lua/cis", run_at_start = false } }
LUA
cp "$VIGIL_BUILD"/plugins/cis.so "$PLUGINS"/
start_daemon

ct_start_privileged priv
PRIV=$(ct_id priv)
ct_start plain
PLAIN=$(ct_id plain)

[ "$(status_of "$PRIV" 5.5)" = WARN ] || fail "privileged container not reported by 5.5: $(cat "$T/out.json")"
jq -e '.results[] | select(.id == "5.5") | .evidence | test("privileged")' "$T/out.json" >/dev/null \
    || fail "5.5 evidence"
[ "$(status_of "$PLAIN" 5.5)" = PASS ] || fail "runc's default container reported by 5.5"
[ "$(status_of "$PLAIN" 5.13)" = PASS ] || fail "read-only rootfs not seen"

# The daemon runs the container checks when it discovers the container.
wait_for has_event bench.result ".workload == \"$PRIV\" and .check == \"5.5\" and .status == \"WARN\""
has_event bench.result ".workload == \"$PLAIN\" and .check == \"5.5\"" && fail "5.5 raised for the plain container"
wait_for has_event bench.result ".workload == \"$PLAIN\" and .summary == true"
stop_daemon
pass
