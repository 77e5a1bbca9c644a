# A dockerd of the test's own, for tests that need a real Docker host:
# Debian's dockerd with --iptables=false --bridge=none (it touches neither
# the firewall nor the host's interfaces), its roots, socket and pid file
# under $DK, containerd namespaces named after the test's pid. The caller
# sets DK (a directory inside its own temporary directory) and DOCKER (the
# client).
#   dockerd_start  starts it, exports DOCKER_HOST, sets DOCKERD_PID; returns
#                  1, after printing why, when dockerd cannot start here
#   dockerd_stop   stops it and its containerd, and unmounts what is left
#                  under $DK (overlays, netns), and only there

dockerd_start() {
    export DOCKER_HOST="unix://$DK/docker.sock"
    mkdir -p "$DK"
    dockerd --iptables=false --bridge=none --data-root "$DK/data" --exec-root "$DK/exec" \
        -H "$DOCKER_HOST" --pidfile "$DK/dockerd.pid" \
        --containerd-namespace "vigil$$" --containerd-plugins-namespace "vigilp$$" \
        >"$DK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 150); do
        "$DOCKER" version >/dev/null 2>&1 && return 0
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    "$DOCKER" version >/dev/null 2>&1 && return 0
    echo "dockerd could not start on this kernel ($(uname -r)):"
    tail -n 5 "$DK/dockerd.log"
    return 1
}

dockerd_stop() {
    set +e
    if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        kill "$DOCKERD_PID"
        for _ in $(seq 50); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$DOCKERD_PID" 2>/dev/null
    fi
    # The containerd dockerd started, should dockerd have died first.
    local cpid
    cpid=$(cat "$DK/exec/containerd/containerd.pid" 2>/dev/null)
    [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null && kill -9 "$cpid"
    # Never anything outside a test's own temporary directory.
    case "$DK" in
    /tmp/vigil-e2e.*/dk | /tmp/vigil-image.*/dk) ;;
    *) return 0 ;;
    esac
    awk -v d="$DK/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
}
