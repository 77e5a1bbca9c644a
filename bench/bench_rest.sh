#!/usr/bin/env bash
# What vigild costs at rest, with every plugin loaded: its CPU time over
# WINDOW seconds and its RSS, with no container, then with COUNT idle runc
# containers (busybox sleep) running. The aims (issue #13): at most 0.5 %
# of a core with 100 idle containers; RSS at most 10 MB idle, 32 MB with
# 100 containers. Before each container's state was parsed once, the same
# 100 containers cost 370-410 ms of CPU every 10 s (about 4 % of a core).
#
#   VIGIL_BUILD=build-release COUNT=100 WINDOW=10 [PLUGINS="proc file"] [SETTLE=70] bench/bench_rest.sh
# SETTLE: seconds between the start and the first window (default 2); with
# 70 the idle figures come after the start-up work (the CIS run, the secrets
# rules, freed after 60 s without a scan) and the daemon's trims.
set -euo pipefail
B=$(realpath "${VIGIL_BUILD:-build}")
SRC=$(realpath "$(dirname "$0")/..")
COUNT=${COUNT:-100}
WINDOW=${WINDOW:-10}
T=$(mktemp -d /tmp/vigil-bench-rest.XXXXXX)
PREFIX="vgrest$$"
PID=""
cleanup() {
    local i
    for i in $(seq 1 "$COUNT"); do runc kill "$PREFIX-$i" KILL >/dev/null 2>&1 || true; done
    sleep 0.5
    for i in $(seq 1 "$COUNT"); do runc delete -f "$PREFIX-$i" >/dev/null 2>&1 || true; done
    [ -z "$PID" ] || { kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
ctl() { "$B/vigilctl" --socket "$T/sock" "$@"; }

mkdir -p "$T/plugins" "$T/policies" "$T/root"/{bin,proc,sys,dev,tmp}
# PLUGINS: which plugins (default: every one built), e.g. PLUGINS=proc.
for p in ${PLUGINS:-$(cd "$B/plugins" && ls *.so | sed 's/\.so$//')}; do
    cp "$B/plugins/$p.so" "$T/plugins/"
done
cp "$SRC"/lua/policies/*.lua "$T/policies/"
cp /bin/busybox "$T/root/bin/busybox"
ln -s busybox "$T/root/bin/sleep"
"$B/vigild" --config "$SRC/etc/vigil/vigil.lua" --state-dir "$T/state" --socket "$T/sock" \
    --plugin-dir "$T/plugins" --policy-dir "$T/policies" --log-level error </dev/null >"$T/log" 2>&1 &
PID=$!
until ctl status >/dev/null 2>&1; do sleep 0.05; done

cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$PID/stat"; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }
execs() { ctl status --json | jq '.events[] | select(.type == "proc.exec") | .published'; }
# threads: CPU ms of vigild's threads by name, "name ms count" lines (from
# schedstat, in ns: stat's clock ticks round each thread's share to 0).
threads() {
    local t
    for t in /proc/"$PID"/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
    done | awk 'NF == 2 { ms[$1] += $2 / 1e6; k[$1]++ } END { for (n in ms) print n, ms[n], k[n] }' | sort
}
# rss_parts: where the RSS is, from smaps: malloc's heap and threads'
# arenas, BPF maps (rings mapped twice), packet rings (sockets), the LMDB
# map, the binary and libraries (file pages, shared with other processes).
rss_parts() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6 }
        /^Rss:/ {
            if (n == "" || n == "[heap]") k = "malloc"
            else if (n ~ /bpf-map/) k = "bpf-maps"
            else if (n ~ /^socket:/) k = "packet-rings"
            else if (n ~ /\.mdb$/) k = "lmdb"
            else if (n ~ /^\//) k = "files"
            else k = "other"
            kb[k] += $2
        }
        END { for (k in kb) printf "%s %.1f MB, ", k, kb[k] / 1024 }' "/proc/$PID/smaps" |
        sed 's/, $//'
}
# measure LABEL: vigild's CPU over the window, and its RSS after it; the
# execs it reported meanwhile are this host's other work, which it watches
# too.
measure() {
    local a b e0 e1
    e0=$(execs)
    threads >"$T/threads.0"
    a=$(cpu_ms)
    sleep "$WINDOW"
    b=$(cpu_ms)
    threads >"$T/threads.1"
    e1=$(execs)
    awk -v l="$1" -v a="$a" -v b="$b" -v w="$WINDOW" -v r="$(rss_mb)" -v e="$((e1 - e0))" 'BEGIN {
        printf "%-22s CPU %5.0f ms per %d s (%.2f %% of a core), RSS %s MB; %d execs elsewhere on the host meanwhile\n",
            l, b - a, w, (b - a) / (w * 1000) * 100, r, e }'
    echo "    RSS: $(rss_parts)"
    # Where it went, by thread name (threads that came or went meanwhile
    # are counted from zero).
    join -a 2 -e 0 -o 2.1,1.2,2.2,2.3 "$T/threads.0" "$T/threads.1" |
        awk '$3 - $2 > 0 { printf "    %-16s %3d thread(s) %6.0f ms\n", $1, $4, $3 - $2 }'
}
echo "vigild with plugins: $(ctl plugins --json | jq -r '.[].name' | tr '\n' ' ')"
sleep "${SETTLE:-2}"
measure "no container"

runc spec --bundle "$T"
jq --arg root "$T/root" '.root.path = $root | .root.readonly = true | .process.terminal = false
    | .process.args = ["/bin/sleep", "3600"]' "$T/config.json" >"$T/c.json"
for i in $(seq 1 "$COUNT"); do
    mkdir -p "$T/b$i"
    cp "$T/c.json" "$T/b$i/config.json"
    runc run -d --bundle "$T/b$i" "$PREFIX-$i" </dev/null >/dev/null 2>&1
done
until [ "$(ctl workloads --json | jq -s --arg p "$PREFIX-" '[.[] | select(.id | startswith($p))] | length')" -ge "$COUNT" ]; do
    sleep 0.5
done
sleep 2
PERF_PID=""
if [ -n "${PERF:-}" ]; then
    perf record -F 999 -g -p "$PID" -o "$PERF" -- sleep "$WINDOW" >/dev/null 2>&1 &
    PERF_PID=$!
fi
measure "$COUNT idle containers"
# The profile only: a bare `wait` also waited for the daemon, for ever.
[ -z "$PERF_PID" ] || wait "$PERF_PID"
