#!/usr/bin/env bash
# The container image, built and run for real: a Debian bookworm minbase
# root from mmdebstrap imported as debian:bookworm-slim into a dockerd of
# this script's own (Debian's docker.io, --iptables=false --bridge=none, its
# own data root), the repository's Dockerfile with the .deb that cpack made
# from BUILD_DIR, and the image run as the DaemonSet runs it (its
# capabilities, host PID, network and cgroup namespaces, the runtimes' state
# read-only); it must start vigild, answer vigilctl inside the container
# and discover a runc container started on the host afterwards.
#
#   tests/image/test_image.sh [BUILD_DIR]   (as root; default BUILD_DIR: build)
#
# Not in ctest: it downloads Debian packages (mmdebstrap, and apt-get in the
# image's build) and takes minutes. VIGIL_IMAGE_BASE=FILE reuses a root
# tarball made before (mmdebstrap --variant=minbase bookworm FILE MIRROR).
# Exit 77 (skip) only when docker, dockerd or mmdebstrap is missing, or
# dockerd cannot start on this kernel.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dockerd, runc)"
for c in dockerd docker mmdebstrap runc cpack jq; do
    command -v "$c" >/dev/null || skip "$c is not installed (scripts/deps.sh)"
done
[ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh)"

W=$(mktemp -d /tmp/vigil-image.XXXXXX)
DK="$W/dk"
DOCKER=$(command -v docker)
DOCKERD_PID=""
. "$SRC/tests/e2e/lib_dockerd.sh"
export DOCKER_BUILDKIT=0 # Debian's dockerd 20.10 with the classic builder
NAME="vigil-image-$$"
CT="vgimg$$"

cleanup() {
    set +e
    runc kill "$CT" KILL >/dev/null 2>&1
    runc delete -f "$CT" >/dev/null 2>&1
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        docker rm -f "$NAME" >/dev/null 2>&1
    fi
    dockerd_stop
    rm -rf "$W"
}
trap cleanup EXIT

# wait_for SECONDS CMD...: retries CMD every 0.5 s.
wait_for() {
    local n=$(($1 * 2))
    shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

# The .deb, as `make package` makes it.
(cd "$BUILD" && cpack -G DEB >"$W/cpack.log" 2>&1) || { tail -20 "$W/cpack.log"; fail "cpack"; }
DEB=$(ls -t "$BUILD"/vigil_*.deb | head -1)
echo "package: $(basename "$DEB")"

# The base image: Debian's slim image is a minbase bookworm root.
BASE=${VIGIL_IMAGE_BASE:-}
if [ -z "$BASE" ]; then
    MIRROR=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
    BASE="$W/root.tar"
    echo "mmdebstrap minbase bookworm from $MIRROR..."
    mmdebstrap --variant=minbase bookworm "$BASE" "$MIRROR" >"$W/mmdebstrap.log" 2>&1 ||
        { tail -20 "$W/mmdebstrap.log"; fail "mmdebstrap"; }
fi

dockerd_start || skip "dockerd cannot run here (above)"
docker import "$BASE" debian:bookworm-slim >/dev/null || fail "docker import"

# The Dockerfile's image stage as it is in the repository; its build stage
# (a compile from source in debian:bookworm) is replaced by the .deb built
# here, which is what that stage produces.
CTX="$W/ctx"
mkdir -p "$CTX"
cp "$DEB" "$CTX/vigil.deb"
{
    printf 'FROM scratch AS build\nCOPY vigil.deb /vigil.deb\n\n'
    sed -n '/^FROM debian:bookworm-slim/,$p' "$SRC/Dockerfile"
} >"$CTX/Dockerfile"
grep -q '^FROM debian:bookworm-slim' "$CTX/Dockerfile" || fail "the Dockerfile has no bookworm-slim stage"
echo "docker build..."
docker build --network host -t vigil:test "$CTX" >"$W/build.log" 2>&1 ||
    { tail -30 "$W/build.log"; fail "docker build"; }
echo "image: $(docker image inspect vigil:test --format '{{.Size}}' | awk '{printf "%.1f MB", $1 / 1e6}')"

# Run as the DaemonSet does (deploy/k8s/daemonset.yaml): not privileged,
# its seven capabilities, a read-only root, the node's PID, network and
# cgroup namespaces, the runtimes' state and the cgroup tree read-only, the
# store and the socket on the node, conf.d and policies.d as the ConfigMaps
# would mount them; no seccomp profile (a pod's default). A capability this
# host's bounding set lacks cannot be granted to any container here: it is
# said and left out.
CAPS=()
bnd=$((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)))
for c in SYS_ADMIN:21 SYS_PTRACE:19 DAC_READ_SEARCH:2 DAC_OVERRIDE:1 NET_ADMIN:12 KILL:5 SYS_RESOURCE:24; do
    if (((bnd >> ${c#*:}) & 1)); then
        CAPS+=(--cap-add "${c%:*}")
    else
        echo "note: this host's capability bounding set lacks CAP_${c%:*}; the container runs without it"
    fi
done
mkdir -p "$W/state" "$W/sock" "$W/conf.d" "$W/policies.d"
docker run -d --name "$NAME" --cap-drop ALL "${CAPS[@]}" --read-only \
    --security-opt no-new-privileges --security-opt seccomp=unconfined \
    --pid host --network host --cgroupns host \
    -v /run/runc:/run/runc:ro -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
    -v "$W/state:/var/lib/vigil" -v "$W/sock:/run/vigil" \
    -v "$W/conf.d:/etc/vigil/conf.d:ro" -v "$W/policies.d:/etc/vigil/policies.d:ro" \
    vigil:test >/dev/null || fail "docker run"
if ! wait_for 60 docker exec "$NAME" vigilctl status; then
    docker logs "$NAME" 2>&1 | tail -20
    fail "vigild in the image does not answer vigilctl status"
fi
docker exec "$NAME" vigilctl status

# A runc container on the host, started after vigild: vigild must find it.
ROOT="$W/ctroot"
mkdir -p "$ROOT"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sleep"
ln -s busybox "$ROOT/bin/sh"
mkdir -p "$W/bundle"
runc spec --bundle "$W/bundle"
jq --arg root "$ROOT" '.root.path = $root | .root.readonly = true | .process.terminal = false
    | .process.args = ["/bin/sleep", "600"]' "$W/bundle/config.json" >"$W/bundle/c.json"
mv "$W/bundle/c.json" "$W/bundle/config.json"
runc run -d --bundle "$W/bundle" "$CT" </dev/null >/dev/null 2>&1 || fail "runc run"
seen() { docker exec "$NAME" vigilctl workloads | grep -q "$CT"; }
if ! wait_for 60 seen; then
    docker exec "$NAME" vigilctl workloads || true
    docker logs "$NAME" 2>&1 | tail -20
    fail "vigild in the image did not discover runc container $CT"
fi
docker exec "$NAME" vigilctl workloads | grep "$CT"
docker logs "$NAME" 2>&1 | grep -i "started\|plugin" | head -10 || true
echo "PASS: the image starts vigild and discovers a runc container"
