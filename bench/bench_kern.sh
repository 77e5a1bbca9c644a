#!/usr/bin/env bash
# The cost of the kern plugin's event sources (docs/kern.md) to the rest of
# the host, against no daemon, alternated ROUNDS times in the same run:
#
#   none    no vigild at all
#   kern    vigild with kern.so: BPF on sys_enter and sched_process_exec,
#           permission marks on the sensitive files
#   reads   vigild with kern.so, bpf = false: the permission marks only
#
# Each round times an exec loop (N_EXEC fork+execs of busybox true), a
# file-heavy loop (tar of a tree of N_FILES small files into /tmp, piped
# into a second tar: every file opened for reading and for writing) and
# bench_kern_calls (ns per getppid, open for reading, open for writing in
# /tmp, open of /etc/shadow). Prints each round and the medians, and the
# ratio of each to no daemon. Run as root on a quiet machine.
#
#   VIGIL_BUILD=build-bench ROUNDS=5 N_EXEC=2000 N_FILES=5000 bench/bench_kern.sh
set -euo pipefail
B=$(realpath "${VIGIL_BUILD:-build}")
SRC=$(realpath "$(dirname "$0")/..")
ROUNDS=${ROUNDS:-5}
N_EXEC=${N_EXEC:-2000}
N_FILES=${N_FILES:-5000}
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
[ -f "$B/plugins/kern.so" ] || { echo "SKIP: kern.so not built"; exit 0; }
T=$(mktemp -d /tmp/vigil-bench-kern.XXXXXX)
PID=""
cleanup() {
    [ -z "$PID" ] || { kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$T"
}
trap cleanup EXIT
ctl() { "$B/vigilctl" --socket "$T/sock" "$@"; }
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

mkdir -p "$T/plugins" "$T/policies" "$T/tree"
cp "$B/plugins/kern.so" "$T/plugins/"
cp "$SRC"/lua/policies/*.lua "$T/policies/"
for d in $(seq 1 50); do
    mkdir -p "$T/tree/d$d"
    for f in $(seq 1 $((N_FILES / 50))); do echo "file $d $f" >"$T/tree/d$d/f$f"; done
done

start() { # start SETTINGS
    cp "$SRC/etc/vigil/vigil.lua" "$T/vigil.lua"
    echo "$1" >>"$T/vigil.lua"
    rm -rf "$T/state"
    "$B/vigild" --config "$T/vigil.lua" --state-dir "$T/state" --socket "$T/sock" \
        --plugin-dir "$T/plugins" --policy-dir "$T/policies" --log-level error \
        </dev/null >"$T/log" 2>&1 &
    PID=$!
    until ctl status >/dev/null 2>&1; do sleep 0.05; done
    until ctl events --json --limit 1 --type kern.stats | grep -q .; do sleep 0.05; done
}
stop() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=""
}

run() { # run CONFIG: one round's figures appended to $T/CONFIG.*
    local a b
    a=$(now_ns)
    busybox sh -c "i=0; while [ \$i -lt $N_EXEC ]; do /bin/true; i=\$((i+1)); done"
    b=$(now_ns)
    echo $(((b - a) / N_EXEC)) >>"$T/$1.exec"
    rm -rf "$T/out" && mkdir "$T/out"
    a=$(now_ns)
    tar -C "$T/tree" -cf - . | tar -C "$T/out" -xf -
    b=$(now_ns)
    echo $(((b - a) / 1000000)) >>"$T/$1.tar"
    "$B/bench/bench_kern_calls" 200000 | tr ' ' '\n' >"$T/calls"
    local k
    for k in getppid_ns open_read_ns open_write_tmp_ns open_shadow_ns; do
        grep "^$k=" "$T/calls" | cut -d= -f2 >>"$T/$1.$k"
    done
    printf '%-6s exec %6s ns  tar %5s ms  %s\n' "$1" "$(tail -1 "$T/$1.exec")" \
        "$(tail -1 "$T/$1.tar")" "$(tr '\n' ' ' <"$T/calls")"
}

for r in $(seq 1 "$ROUNDS"); do
    echo "-- round $r"
    run none
    start 'plugins = { kern = { host = true } }'
    run kern
    stop
    start 'plugins = { kern = { host = true, bpf = false } }'
    run reads
    stop
done

echo "-- medians of $ROUNDS rounds (ratio to no daemon)"
for k in exec tar getppid_ns open_read_ns open_write_tmp_ns open_shadow_ns; do
    base=$(median <"$T/none.$k")
    line=$(printf '%-18s none %8s' "$k" "$base")
    for c in kern reads; do
        m=$(median <"$T/$c.$k")
        line+=$(printf '  %s %8s (%s)' "$c" "$m" \
            "$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }')")
    done
    echo "$line"
done
