# A real Docker host for the CIS tests: Debian's dockerd, started by the test
# with its own data root, exec root, socket and containerd namespaces under
# the test's directory (--iptables=false --bridge=none: it touches neither
# the host's firewall nor its interfaces), images made with `docker import`
# from a busybox-static tree, and the two containers the tests compare: a
# hardened one and a risky one (the host's /etc mounted, the host's PID
# namespace, no limits). Source after lib.sh; everything goes at exit.
: "${T:?source lib.sh first}"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run dockerd"; exit 77; }
command -v dockerd >/dev/null || fail "dockerd is not installed (scripts/deps.sh: docker.io)"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || fail "no docker client (scripts/deps.sh: docker.io)"
[ -x /bin/busybox ] || fail "busybox-static is not installed (scripts/deps.sh)"

SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_CIS_DIR="$VIGIL_SRC/lua/cis"
DK="$T/dk" # dockerd's roots and socket, all under the test's dir
export DOCKER_HOST="unix://$DK/docker.sock"
DOCKERD_PID=""

. "$(dirname "${BASH_SOURCE[0]}")/lib_dockerd.sh"

docker_cleanup() {
    set +e
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        "$DOCKER" rm -f risky$$ hard$$ wild$$ >/dev/null 2>&1
        "$DOCKER" swarm leave --force >/dev/null 2>&1
    fi
    dockerd_stop
}
trap '_rc=$?; docker_cleanup; (exit $_rc); cleanup' EXIT

# docker_start: dockerd on the test's roots; skips (77) when it cannot start
# on this kernel, saying why.
docker_start() {
    dockerd_start || { echo "SKIP: dockerd cannot run here (above)"; exit 77; }
}

# docker_images: two images from a busybox-static tree, a plain one (root,
# no health check) and one with a user and a HEALTHCHECK.
docker_images() {
    mkdir -p "$DK/tree/bin" "$DK/tree/etc"
    cp /bin/busybox "$DK/tree/bin/"
    for a in sh sleep true; do ln -s busybox "$DK/tree/bin/$a"; done
    echo "root:x:0:0:root:/:/bin/sh" >"$DK/tree/etc/passwd"
    tar -C "$DK/tree" -c . | "$DOCKER" import -c 'CMD ["/bin/sleep","600"]' - "vigil-plain:$$" >/dev/null
    tar -C "$DK/tree" -c . | "$DOCKER" import -c 'USER 1000' -c 'HEALTHCHECK CMD ["/bin/true"]' \
        -c 'CMD ["/bin/sleep","600"]' - "vigil-hard:$$" >/dev/null
}

# docker_containers: RISKY and HARD, the two containers' ids.
docker_containers() {
    RISKY=$("$DOCKER" run -d --name "risky$$" --network none --pid host -v /etc:/host-etc "vigil-plain:$$")
    HARD=$("$DOCKER" run -d --name "hard$$" --network none --read-only --memory 64m --cpu-shares 512 \
        --pids-limit 32 --ulimit nofile=512:512 --security-opt no-new-privileges --cap-drop ALL --user 1000:1000 \
        --restart on-failure:5 "vigil-hard:$$")
}

# docker_wild_container: WILD, a container with every risk a flag can give
# short of touching the host's cgroups or mounts (--privileged cannot start
# where the host itself runs with a reduced capability set): an added
# capability, the host's network, IPC and UTS namespaces, no seccomp, the
# daemon's own socket mounted, a device, ten restarts.
docker_wild_container() {
    WILD=$("$DOCKER" run -d --name "wild$$" --cap-add SYS_ADMIN --network host --ipc host \
        --uts host --security-opt seccomp=unconfined -v "$DK/docker.sock:/var/run/docker.sock" \
        --device /dev/net/tun --restart on-failure:10 "vigil-plain:$$")
}

# scan OUT ARGS...: vigil-scan bench --json into $T/OUT (exit 1 = a WARN).
scan() {
    local out=$1 rc=0
    shift
    "$SCAN" bench "$@" --json >"$T/$out" || rc=$?
    [ "$rc" -le 1 ] || fail "vigil-scan bench $* exited $rc: $(head -c 2000 "$T/$out")"
}
