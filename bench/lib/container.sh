# Shared by the benchmarks that run a real vigild and one runc container
# (bench_file.sh, bench_proc_exec.sh). Source it after setting nothing; it
# sets B (the build), SRC, T (a temporary directory, removed at exit), CT (the
# container's name), R (its root file system, to be filled by the caller) and
# ctl (vigilctl on the daemon's socket), and cleans up at exit.
#
#   bench_daemon PLUGIN SETTINGS   vigild with plugin PLUGIN.so, the shipped
#                                  policies and config plus the Lua line
#                                  SETTINGS; waits until it answers
#   bench_container JQ             runs $CT on $R (the jq filter JQ edits the
#                                  runc spec further) and sets G, its group
#   bench_daemon_stop              stops it (its state stays for the next)
#   bench_mode MODE MARKS          puts group $G in MODE and waits until the
#                                  proc plugin has MARKS workloads protected
#   bench_spawn_root               fills $R: busybox (sh, sleep, true) and
#                                  the spawner (bench/lib/spawn.c) as /bin/spawn
#   median                         the median of the numbers on stdin
set -euo pipefail
B=$(realpath "${VIGIL_BUILD:-build}")
SRC=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
T=$(mktemp -d "/tmp/vigil-bench-$(basename "$0" .sh).XXXXXX")
CT="vgbench$$"
R="$T/rootfs"
PID=""
bench_cleanup() {
    runc kill "$CT" KILL >/dev/null 2>&1 || true
    sleep 0.2
    runc delete -f "$CT" >/dev/null 2>&1 || true
    if [ -n "$PID" ]; then
        kill -9 "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap bench_cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
ctl() { "$B/vigilctl" --socket "$T/sock" "$@"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

bench_daemon() {
    mkdir -p "$T/plugins" "$T/policies"
    cp "$B/plugins/$1.so" "$T/plugins/"
    cp "$SRC"/lua/policies/*.lua "$T/policies/"
    cp "$SRC/etc/vigil/vigil.lua" "$T/vigil.lua"
    echo "$2" >>"$T/vigil.lua"
    "$B/vigild" --config "$T/vigil.lua" --state-dir "$T/state" --socket "$T/sock" \
        --plugin-dir "$T/plugins" --policy-dir "$T/policies" --log-level error \
        </dev/null >"$T/log" 2>&1 &
    PID=$!
    until ctl status >/dev/null 2>&1; do sleep 0.05; done
}

bench_container() {
    mkdir -p "$T/bundle"
    runc spec --bundle "$T/bundle"
    jq --arg root "$R" '.root.path = $root | .process.terminal = false
        | .process.args = ["/bin/sleep", "86400"] | .hostname = "bench" | '"$1" \
        <"$T/bundle/config.json" >"$T/bundle/c.json"
    mv "$T/bundle/c.json" "$T/bundle/config.json"
    runc run -d --bundle "$T/bundle" "$CT" </dev/null >/dev/null 2>&1
    G=$(until ctl workloads --json | jq -r --arg id "$CT" 'select(.id == $id) | .group' | grep .; do
        sleep 0.1; done)
}

# bench_daemon_stop: stops the daemon started by bench_daemon (its state
# stays in $T/state for the next bench_daemon).
bench_daemon_stop() {
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

bench_mode() {
    ctl group mode "$G" "$1" >/dev/null
    for _ in $(seq 1 100); do
        [ "$(ctl events --json --limit 1 --type proc.stats 2>/dev/null | jq -r .protected_workloads)" = "$2" ] && return 0
        sleep 0.05
    done
    echo "mode $1 not in effect" >&2
    exit 1
}

bench_spawn_root() {
    mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc}
    gcc -O2 -static -o "$R/bin/spawn" "$SRC/bench/lib/spawn.c"
    cp /bin/busybox "$R/bin/busybox"
    for a in sh sleep true; do ln -s busybox "$R/bin/$a"; done
}
