#!/usr/bin/env bash
# What the proc plugin costs each exec, against no daemon at all: a runc
# container forks and execs a program N times in a loop, with no vigild
# running, with vigild in monitor mode, and in protect mode, for a static
# program (busybox `true`) and a dynamically linked one (the host's
# /usr/bin/true with its libraries), alternated ROUNDS times in the same
# run. Prints the loop's time per exec (median of the rounds) in the three
# columns with the ratios to no daemon (aims: monitor <= 1.05, protect <=
# 1.10), vigild's CPU time per exec (utime + stime of all its threads over
# the loop; aim <= 30 us), then a burst of BURST execs as fast as one
# process can start them, in monitor mode: how many of them were reported
# as proc.exec, how many the probe's ring refused (exec_dropped) and how
# many kernel overflows there were (aim: all seen, none lost).
#
#   VIGIL_BUILD=build-release N=3000 ROUNDS=3 BURST=10000 bench/bench_proc_cost.sh
#   EXTRA='store_skip = { "proc.exit" }' ...   the same without storing exits
. "$(dirname "$0")/lib/container.sh"
N=${N:-3000}
ROUNDS=${ROUNDS:-3}
BURST=${BURST:-10000}

bench_spawn_root
# The dynamic program with what it needs, at the host's paths (resolved).
for f in /usr/bin/true $(ldd /usr/bin/true | grep -o '/[^ ]* (0x' | cut -d' ' -f1); do
    mkdir -p "$R$(dirname "$f")"
    cp -L "$f" "$R$f"
done
mv "$R/usr/bin/true" "$R/usr/bin/dtrue"
PROGS=(/bin/true /usr/bin/dtrue)

# EXTRA: more Lua for vigil.lua, e.g. EXTRA='store_skip = { "proc.exit" }'.
SETTINGS="plugins = { proc = { stats_interval_ms = 200 } }
${EXTRA:-}"
bench_daemon proc "$SETTINGS"
bench_container '.root.readonly = true'
# Learn the spawner and both programs.
for _ in $(seq 1 20); do
    for p in "${PROGS[@]}"; do runc exec "$CT" /bin/spawn "$p" 20 >/dev/null; done
    n=$(ctl rules list --group "$G" --json | jq -s '[.[] | select(.path == "/bin/busybox" or .path == "/usr/bin/dtrue" or .path == "/bin/spawn")] | length')
    [ "$n" -ge 3 ] && break
    sleep 0.2
done
[ "$n" -ge 3 ] || { echo "learning failed" >&2; exit 1; }

# The daemon's CPU time so far (ms) and the execs it reported: every exec
# on the host counts, the loop's and those of whatever else runs here. The
# time is the sum of its threads' schedstat (ns): stat's clock ticks (10 ms)
# would round the figure per exec to 5 us.
cpu_and_execs() {
    [ -n "$PID" ] || { echo "0 0"; return; }
    echo "$(cat /proc/"$PID"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.3f", s / 1e6}')" \
        "$(ctl status --json | jq '.events[] | select(.type == "proc.exec") | .published')"
}
# loop COLUMN: each program's loop once; its time, and vigild's CPU per exec
# it reported, noted.
loop() {
    local p i=0 a b
    for p in "${PROGS[@]}"; do
        a=$(cpu_and_execs)
        runc exec "$CT" /bin/spawn "$p" "$N" >>"$T/$1.$i"
        b=$(cpu_and_execs)
        echo "$a $b" | awk '{print (($4 > $2) ? ($3 - $1) * 1000 / ($4 - $2) : 0), $4 - $2}' >>"$T/$1.$i.cpu"
        i=$((i + 1))
    done
}
for _ in $(seq 1 "$ROUNDS"); do
    bench_mode monitor 0
    loop monitor
    bench_mode protect 1
    loop protect
    # The permission decisions' times, from this daemon: the one started
    # below has answered none yet.
    sleep 0.3 # stats_interval_ms: one more proc.stats after the loop
    ctl events --json --limit 1 --type proc.stats >"$T/stats" 2>/dev/null
    bench_daemon_stop
    loop none
    bench_daemon proc "$SETTINGS"
    until ctl workloads --json | jq -e --arg id "$CT" 'select(.id == $id)' >/dev/null; do sleep 0.1; done
done

printf '%-26s %12s %20s %20s\n' "per exec (median of $ROUNDS)" "no daemon" "monitor" "protect"
i=0
for p in "${PROGS[@]}"; do
    none=$(median <"$T/none.$i")
    mon=$(median <"$T/monitor.$i")
    prot=$(median <"$T/protect.$i")
    awk -v p="$p" -v n="$N" -v a="$none" -v m="$mon" -v q="$prot" 'BEGIN {
        printf "%-26s %9.1f us %11.1f us %5.2fx %11.1f us %5.2fx\n", "exec " p, a / n / 1000,
            m / n / 1000, m / a, q / n / 1000, q / a }'
    mc=$(cut -d' ' -f1 "$T/monitor.$i.cpu" | median)
    pc=$(cut -d' ' -f1 "$T/protect.$i.cpu" | median)
    awk -v p="$p" -v m="$mc" -v q="$pc" 'BEGIN {
        printf "%-26s %12s %17.1f us %17.1f us\n", "vigild CPU " p, "-", m, q }'
    i=$((i + 1))
done
echo "(vigild CPU: its utime + stime over the loop / the execs it reported, $N of the loop's and"
echo " $(cat "$T"/monitor.*.cpu "$T"/protect.*.cpu | awk -v n="$N" '{s += $2 - n; k++} END {printf "%.0f", s / k}') others per loop on average: this host's other work)"
echo "(aims: monitor <= 1.05x, protect <= 1.10x, vigild CPU <= 30 us per exec)"
jq -r '"exec probe: \(.exec_probe), permission decisions p50 \(.answer_p50_ns / 1000) us, p99 \(.answer_p99_ns / 1000) us"' "$T/stats"

# The burst, in monitor mode: every exec must be reported. They are counted
# as they are published (vigilctl events --follow), the stream's own drops
# counted apart.
bench_mode monitor 0
drops0=$(ctl status --json | jq '[.events[] | .dropped] | add')
sdrops0=$(ctl status --json | jq '.ctl.stream_drops')
ctl events --json --follow --type proc.exec --workload "$CT" >"$T/follow" &
FOLLOW=$!
sleep 0.5
runc exec "$CT" /bin/spawn /bin/true "$BURST" >"$T/burst"
sleep 2
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null || true
seen=$(jq -s '[.[] | select(.name == "true")] | length' "$T/follow")
ctl events --json --limit 1 --type proc.stats >"$T/stats"
overflows=$(ctl events --json --limit 10000 --type proc.overflow | jq -s 'length')
drops=$(($(ctl status --json | jq '[.events[] | .dropped] | add') - drops0))
sdrops=$(($(ctl status --json | jq '.ctl.stream_drops') - sdrops0))
awk -v n="$BURST" -v ns="$(cat "$T/burst")" -v s="$seen" 'BEGIN {
    printf "burst: %d execs in %.2f s (%.0f/s): %d reported as proc.exec\n", n, ns / 1e9, n / (ns / 1e9), s }'
jq -r --arg o "$overflows" --arg d "$drops" --arg s "$sdrops" '"burst: exec probe records dropped \(.exec_dropped), kernel overflows \($o), bus drops \($d), follow stream drops \($s)"' "$T/stats"
