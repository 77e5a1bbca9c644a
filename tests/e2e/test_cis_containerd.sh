#!/usr/bin/env bash
# CIS image checks on a real containerd: Debian's containerd, started by this
# test on its own root, state directory and socket (CRI off), and an OCI
# image the test builds from a busybox-static tree and imports with
# `ctr images import` into a namespace of its own. vigil-scan must find the
# image in containerd's content store and name it as `ctr images ls` does,
# from the metadata store (a bbolt file), with its config's verdicts.
. "$(dirname "$0")/lib.sh" || exit 1
: "${T:?lib.sh sets T}"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run containerd"; exit 77; }
command -v containerd >/dev/null || fail "containerd is not installed (scripts/deps.sh: containerd)"
command -v ctr >/dev/null || fail "ctr is not installed (scripts/deps.sh: containerd)"
[ -x /bin/busybox ] || fail "busybox-static is not installed (scripts/deps.sh)"
SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_CIS_DIR="$VIGIL_SRC/lua/cis"

C="$T/ctrd"
SOCK_C="$C/containerd.sock"
CTRD_PID=""
ctrd_cleanup() {
    set +e
    if [ -n "$CTRD_PID" ] && kill -0 "$CTRD_PID" 2>/dev/null; then
        kill "$CTRD_PID"
        for _ in $(seq 50); do kill -0 "$CTRD_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$CTRD_PID" 2>/dev/null
    fi
    case "$C" in
    /tmp/vigil-e2e.*/ctrd) ;;
    *) return 0 ;;
    esac
    awk -v d="$C/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
}
trap '_rc=$?; ctrd_cleanup; (exit $_rc); cleanup' EXIT

mkdir -p "$C"
cat >"$C/config.toml" <<CONF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
CONF
containerd --config "$C/config.toml" --root "$C/root" --state "$C/state" --address "$SOCK_C" \
    >"$C/containerd.log" 2>&1 &
CTRD_PID=$!
ctr_() { ctr --address "$SOCK_C" --namespace "vigil$$" "$@"; }
for _ in $(seq 100); do
    ctr_ version >/dev/null 2>&1 && break
    kill -0 "$CTRD_PID" 2>/dev/null || break
    sleep 0.2
done
ctr_ version >/dev/null 2>&1 || fail "containerd did not start: $(tail -n 5 "$C/containerd.log")"

# An OCI archive: one layer (the busybox tree), a config that runs as root
# without a HEALTHCHECK, its manifest, and an index naming the image.
O="$C/oci"
mkdir -p "$O/blobs/sha256" "$C/tree/bin"
cp /bin/busybox "$C/tree/bin/"
ln -s busybox "$C/tree/bin/sh"
blob() { # blob FILE: moves FILE into the archive; prints "digest size"
    local d
    d=$(sha256sum "$1" | cut -d' ' -f1)
    mv "$1" "$O/blobs/sha256/$d"
    echo "sha256:$d $(stat -c %s "$O/blobs/sha256/$d")"
}
tar -C "$C/tree" -cf "$C/layer.tar" .
read -r LAYER LAYER_SIZE < <(blob "$C/layer.tar")
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"vigil test"}]}' \
    "$arch" "$LAYER" >"$C/config.json"
read -r CONFIG CONFIG_SIZE < <(blob "$C/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$CONFIG" "$CONFIG_SIZE" "$LAYER" "$LAYER_SIZE" >"$C/manifest.json"
read -r MANIFEST MANIFEST_SIZE < <(blob "$C/manifest.json")
NAME="docker.io/library/vigil-ctr:t$$"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"t%s"}}]}' \
    "$MANIFEST" "$MANIFEST_SIZE" "$NAME" "$$" >"$O/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$O/oci-layout"
tar -C "$O" -cf "$C/image.tar" .
ctr_ images import --no-unpack "$C/image.tar" >/dev/null || fail "ctr images import failed"
ctr_ images ls -q | has -Fx "$NAME" || fail "ctr does not list $NAME: $(ctr_ images ls -q)"

# vigil-scan finds the image in containerd's store (from the running
# containerd's --root) and names it from the metadata store.
rc=0
"$SCAN" bench --target images --json >"$T/images.json" || rc=$?
[ "$rc" -le 1 ] || fail "vigil-scan exited $rc: $(head -c 2000 "$T/images.json")"
for id in 4.1 4.6; do
    jq -e --arg id "$id" --arg n "vigil$$/$NAME" '.results[] | select(.id == $id)
        | .status == "WARN" and (.evidence | contains($n + ": "))' "$T/images.json" >/dev/null \
        || fail "$id does not name the image: $(jq -c --arg id "$id" '.results[] | select(.id == $id)' "$T/images.json")"
done
jq -e --arg c "${CONFIG#sha256:}" '[.results[] | .evidence | tostring | select(contains("sha256:" + $c[0:12]))] | length == 0' \
    "$T/images.json" >/dev/null || fail "the image is still shown by its digest"
pass
