#!/usr/bin/env bash
# Exec overhead of protection: N fork+execs of busybox `true` inside one runc
# container, in monitor mode (no exec permission marks) and in protect mode
# (every exec answered by the proc plugin's fanotify engine, and checked
# again at its exec event), alternated ROUNDS times in the same run; the
# ratio of the medians, and of the best rounds, is the overhead (aim: at
# most 1.10). Then the
# permission decisions' answer times, p50 and p99, as the plugin measures
# them from reading each event to writing its answer (proc.stats; aim: p99
# under 200 us). Needs root, runc, busybox-static and a static libc.
#
#   VIGIL_BUILD=build-release N=2000 ROUNDS=5 bench/bench_proc_exec.sh
. "$(dirname "$0")/lib/container.sh"
N=${N:-2000}
ROUNDS=${ROUNDS:-5}

bench_spawn_root

bench_daemon proc 'plugins = { proc = { stats_interval_ms = 200 } }'
bench_container '.root.readonly = true'

# Learn the spawner and true (a few rounds: a process gone before /proc was
# read teaches nothing).
for _ in $(seq 1 20); do
    runc exec "$CT" /bin/spawn /bin/true 20 >/dev/null
    n=$(ctl rules list --group "$G" --json | jq -s '[.[] | select(.name == "true" or .name == "spawn")] | length')
    [ "$n" -ge 2 ] && break
    sleep 0.2
done
[ "$n" -ge 2 ] || { echo "learning failed" >&2; exit 1; }

: >"$T/base"
: >"$T/prot"
for _ in $(seq 1 "$ROUNDS"); do
    bench_mode monitor 0
    runc exec "$CT" /bin/spawn /bin/true "$N" >>"$T/base"
    bench_mode protect 1
    runc exec "$CT" /bin/spawn /bin/true "$N" >>"$T/prot"
done
base=$(median <"$T/base")
prot=$(median <"$T/prot")
# The best round of each too: on a shared machine, other load only ever
# adds time, so the minima are the least disturbed pair.
base_min=$(sort -n "$T/base" | head -1)
prot_min=$(sort -n "$T/prot" | head -1)
sleep 0.5
ctl events --json --limit 1 --type proc.stats >"$T/stats"
denied=$(jq .exec_denied "$T/stats")
[ "$denied" -eq 0 ] || { echo "protect mode denied $denied execs of learned programs" >&2; exit 1; }
# Kill at the exec event: sleep, an applet of the allowed busybox never
# learned, is killed; ran_ns is how long it ran (exec event to kill).
for _ in $(seq 1 10); do
    runc exec "$CT" /bin/sleep 5 >/dev/null 2>&1 </dev/null || true
done
sleep 0.5
ctl events --json --limit 10000 --type proc.violation |
    jq -s '[.[] | select(.enforcement == "kill" and .name == "sleep") | .ran_ns] | sort' >"$T/ran"
jq -r 'if length == 0 then "kill at exec: no kill seen" else
    "kill at exec: \(length) applets killed, ran p50 \(.[(length / 2 | floor)] / 1000) us, max \(.[-1] / 1000) us before the kill" end' "$T/ran"
awk -v n="$N" -v b="$base" -v p="$prot" -v r="$ROUNDS" -v bm="$base_min" -v pm="$prot_min" 'BEGIN {
    printf "exec: %d execs x %d rounds: unprotected %.1f us/exec, protected %.1f us/exec (medians), ratio %.3f; best rounds %.1f / %.1f us, ratio %.3f (aim <= 1.10)\n",
        n, r, b / n / 1000, p / n / 1000, p / b, bm / n / 1000, pm / n / 1000, pm / bm }'
jq -r '"permission decisions: \(.exec_checks) answered, p50 \(.answer_p50_ns / 1000) us, p99 \(.answer_p99_ns / 1000) us, max \(.answer_max_ns / 1000) us (aim: p99 < 200 us)"' "$T/stats"
