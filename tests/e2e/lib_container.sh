# Helpers for end-to-end tests with real containers: a busybox-static root
# filesystem built by the test, and runc containers started from generated
# bundles (runc's default root, /run/runc, where vigild looks). Every
# container started here is killed and deleted when the test exits, however
# it exits. Containers get runc's default namespaces, network included, so
# nothing they do reaches the host's network. Source after lib.sh; needs root.
: "${T:?source lib.sh first}"

CT_ROOTFS="$T/ct-rootfs"
CT_PREFIX="vgt$$"   # container ids start with this, so parallel runs never clash
CT_IDS=()

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for runc"; exit 77; }
command -v runc >/dev/null || fail "runc is not installed (scripts/deps.sh)"
[ -x /bin/busybox ] || fail "busybox-static is not installed (scripts/deps.sh)"

ct_cleanup() {
    local id
    for id in "${CT_IDS[@]}"; do
        runc kill "$id" KILL >/dev/null 2>&1 || true
        runc delete -f "$id" >/dev/null 2>&1 || true
    done
    CT_IDS=()
}

# Containers go before the daemon and the temporary directory (lib.sh's
# cleanup), with the test's exit status kept.
trap '_ct_rc=$?; set +e; ct_cleanup; (exit $_ct_rc); cleanup' EXIT

# ct_rootfs: a minimal root filesystem: busybox and the applets it needs.
ct_rootfs() {
    [ -d "$CT_ROOTFS/bin" ] && return 0
    mkdir -p "$CT_ROOTFS"/{bin,proc,sys,dev,tmp,etc}
    cp /bin/busybox "$CT_ROOTFS/bin/busybox"
    local a
    for a in sh sleep cat ls ps echo true; do
        ln -s busybox "$CT_ROOTFS/bin/$a"
    done
    echo "root:x:0:0:root:/:/bin/sh" >"$CT_ROOTFS/etc/passwd"
}

# ct_id NAME: the full container id for a short name.
ct_id() {
    echo "$CT_PREFIX-$1"
}

# ct_start NAME [CMD...]: starts a detached container (default: sleep 600)
# and sets CT_PID to its init pid. (Not for $(...): the container must be
# recorded in this shell for the cleanup.)
# (CT_ROOT=DIR ct_start ...: the container runs on DIR, writable, instead
# of the shared read-only root; see ct_writable_root.)
# (CT_NETNS=NAME ct_start ...: the container joins network namespace NAME,
# made with `ip netns add`, instead of a new empty one; see lib_net.sh.)
# (CT_ANNOTATIONS=JSON ct_start ...: the bundle's OCI annotations, as a CRI
# runtime writes them.)
ct_start() {
    local id bundle
    id=$(ct_id "$1")
    shift
    [ $# -gt 0 ] || set -- /bin/sleep 600
    ct_rootfs
    local root=${CT_ROOT:-$CT_ROOTFS} readonly=true
    [ -z "${CT_ROOT:-}" ] || readonly=false
    bundle="$T/ct-bundles/$id"
    rm -rf "$bundle"
    mkdir -p "$bundle"
    runc spec --bundle "$bundle"
    # The arguments become a JSON array first, after "--" so that jq does
    # not take them for its own options (`sh -c`, `httpd -f`).
    local args
    args=$(jq -nc '$ARGS.positional' --args -- "$@")
    jq --arg root "$root" --argjson ro "$readonly" --arg host "$id" \
        --arg netns "${CT_NETNS:-}" --argjson args "$args" \
        --argjson ann "${CT_ANNOTATIONS:-null}" \
        '.root.path = $root | .root.readonly = $ro | .process.terminal = false
         | .process.args = $args | .hostname = $host
         | if $netns != "" then .linux.namespaces |= map(if .type == "network"
             then .path = "/var/run/netns/" + $netns else . end) else . end
         | if $ann then .annotations = $ann else . end' \
        <"$bundle/config.json" >"$bundle/config.json.new"
    mv "$bundle/config.json.new" "$bundle/config.json"
    CT_IDS+=("$id")
    # The container must not hold the test's stdout open: ctest waits for it.
    runc run -d --bundle "$bundle" --pid-file "$bundle/pid" "$id" </dev/null >/dev/null 2>&1 \
        || fail "runc could not start $id"
    CT_PID=$(cat "$bundle/pid")
}

# ct_writable_root NAME: a writable copy of the busybox root file system for
# container NAME, in $FROOT, for tests that change files inside it; start the
# container with CT_ROOT="$FROOT" ct_start NAME.
ct_writable_root() {
    ct_rootfs
    FROOT="$T/froot-$1"
    rm -rf "$FROOT"
    cp -a "$CT_ROOTFS" "$FROOT"
}

# ct_stop NAME: kills and deletes a container.
ct_stop() {
    local id
    id=$(ct_id "$1")
    runc kill "$id" KILL >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
        runc delete "$id" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    runc delete -f "$id" >/dev/null 2>&1 || fail "runc could not delete $id"
}
