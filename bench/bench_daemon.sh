#!/usr/bin/env bash
# Idle daemon figures: start-up time (exec to first answer on the socket),
# resident memory after start, after 1,000 status requests and after 200
# reloads (growth would be a leak). Baselines measured in the same run: the
# start-up of `vigild --version` (exec + dynamic linking alone).
# Aims (issue #2): idle RSS under 10 MB.
set -euo pipefail
B=${VIGIL_BUILD:-build-bench}
T=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
CTL="$B/vigilctl --socket $T/sock"

now() { date +%s%N; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$1/status; }

# Sets PID and START_US (not in a subshell: the daemon must stay our child).
start() {
    local t0 t1
    t0=$(now)
    "$B/vigild" --config etc/vigil/vigil.lua --state-dir "$T/state" --socket "$T/sock" \
        --plugin-dir "$T/noplugins" --policy-dir "$T/nopolicies" --log-level error \
        </dev/null >/dev/null 2>&1 &
    PID=$!
    until $CTL status >/dev/null 2>&1; do sleep 0.001; done
    t1=$(now)
    START_US=$(( (t1 - t0) / 1000 ))
}

t0=$(now); "$B/vigild" --version >/dev/null; t1=$(now)
base_us=$(( (t1 - t0) / 1000 ))
start
start_us=$START_US
sleep 0.5
rss0=$(rss_kb $PID)
# Of the RSS, what this process alone costs: its private dirty pages (heap,
# stacks, library data written), the rest being shared library text. A vigild
# linked moments ago counts its own text here too (about 250 kB) until the
# kernel has written the new file back; an installed one does not.
priv0=$(awk '/^Private_Dirty/ {print $2}' /proc/$PID/smaps_rollup)
for _ in $(seq 1 1000); do $CTL status >/dev/null; done
rss1=$(rss_kb $PID)
for _ in $(seq 1 200); do $CTL reload >/dev/null; done
rss2=$(rss_kb $PID)
kill -TERM $PID; wait $PID || true; PID=""

echo "daemon (no plugins, shipped config)"
printf "  start-up to first answer   %8d us   (baseline exec of --version: %d us, ratio %.1f)\n" \
    "$start_us" "$base_us" "$(awk "BEGIN{print $start_us / $base_us}")"
printf "  idle RSS after start       %8d kB   aim < 10240 kB: %s (private dirty %d kB)\n" "$rss0" \
    "$([ "$rss0" -lt 10240 ] && echo met || echo NOT met)" "$priv0"
printf "  RSS after 1000 requests    %8d kB   (growth %d kB)\n" "$rss1" $((rss1 - rss0))
printf "  RSS after 200 reloads      %8d kB   (growth %d kB)\n" "$rss2" $((rss2 - rss1))
