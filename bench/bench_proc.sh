#!/usr/bin/env bash
# Process-event throughput: a burst of short processes while the proc plugin
# watches, against the same burst with no daemon (the baseline, same run).
# Reports the spawn rate with and without the daemon, and whether every
# process reached the bus as proc.exec (dropped events are counted by the
# bus, kernel-side losses by proc.overflow).
set -euo pipefail
B=${VIGIL_BUILD:-build-bench}
N=${N:-10000}
T=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
CTL="$B/vigilctl --socket $T/sock"
mkdir -p "$T/plugins"
cp "$B/plugins/proc.so" "$T/plugins/"

base_rate=$("$B/bench/bench_spawn" "$N" | awk "{print \$5}")
"$B/vigild" --config etc/vigil/vigil.lua --state-dir "$T/state" --socket "$T/sock" \
    --plugin-dir "$T/plugins" --policy-dir "$T/nopolicies" --log-level error </dev/null >/dev/null 2>&1 &
PID=$!
until $CTL status >/dev/null 2>&1; do sleep 0.01; done
before=$($CTL status --json | jq '[.events[] | select(.type == "proc.exec") | .published] | add // 0')
rate=$("$B/bench/bench_spawn" "$N" | awk "{print \$5}")
sleep 1
$CTL status --json >"$T/status.json"
after=$(jq '[.events[] | select(.type == "proc.exec") | .published] | add // 0' "$T/status.json")
dropped=$(jq '[.events[] | select(.type == "proc.exec") | .dropped] | add // 0' "$T/status.json")
overflows=$(jq '[.events[] | select(.type == "proc.overflow") | .published] | add // 0' "$T/status.json")
kill -TERM $PID; wait $PID || true; PID=""
seen=$((after - before))
echo "proc plugin: burst of $N short processes"
printf "  spawn rate without daemon   %8.0f /s (baseline)\n" "$base_rate"
printf "  spawn rate with proc plugin %8.0f /s (%.2fx of baseline)\n" "$rate" "$(awk "BEGIN{print $rate / $base_rate}")"
printf "  proc.exec events            %8d of %d (bus drops %d, kernel overflows %d)\n" \
    "$seen" "$N" "$dropped" "$overflows"
