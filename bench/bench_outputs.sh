#!/usr/bin/env bash
# Outputs (core/output) figures, each against what a user would otherwise
# run, in the same run:
#  - getting every event as JSON lines into a file: the "file" output, vs a
#    `vigilctl events --follow --json > file` left running (the way without
#    outputs): time from the burst until the file has them all, and how many
#    arrived (the control socket drops for a follower that falls behind);
#  - what an idle daemon costs with a kafka or falco output configured, vs
#    none: resident and private memory, shared objects mapped (librdkafka and
#    libcurl are loaded only then).
# Uses the flood test plugin (a burst of N events at each reload).
set -euo pipefail
B=${VIGIL_BUILD:-build-bench}
N=${N:-50000}
T=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PID=""
FOLLOW=""
trap '[ -n "$FOLLOW" ] && kill $FOLLOW 2>/dev/null; [ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
CTL="$B/vigilctl --socket $T/sock"
now() { date +%s%N; }
mkdir -p "$T/plugins" "$T/policies"
cp "$B/tests/flood/plugin_flood.so" "$T/plugins/"

start() { # start CONFIG_LINES...
    rm -rf "$T/state"
    { cat etc/vigil/vigil.lua; printf '%s\n' "$@"; } >"$T/vigil.lua"
    VIGIL_OUTPUT_DIR="$B/outputs" "$B/vigild" --config "$T/vigil.lua" --state-dir "$T/state" \
        --socket "$T/sock" --plugin-dir "$T/plugins" --policy-dir "$T/policies" \
        --log-level error </dev/null >/dev/null 2>&1 &
    PID=$!
    until $CTL status >/dev/null 2>&1; do sleep 0.01; done
}
stop() { kill $PID; wait $PID 2>/dev/null || true; PID=""; }
lines() { [ -e "$1" ] && grep -c '"type":"flood.event"' "$1" || echo 0; }
wait_lines() { # FILE TARGET: until TARGET lines or 20 s without progress; ms since T0
    local last=-1 n stalled=0
    while :; do
        n=$(lines "$1")
        [ "$n" -ge "$2" ] && break
        if [ "$n" = "$last" ]; then stalled=$((stalled + 1)); else stalled=0; fi
        [ $stalled -ge 200 ] && break
        last=$n
        sleep 0.1
    done
    echo $(( ($(now) - T0) / 1000000 ))
}

echo "== JSON lines of a burst of $N events (pad 200 bytes)"
FLOOD="plugins = { flood = { count = $N, pad = 200, on_reload = true } }"
start "$FLOOD" "store_skip = { \"flood.*\" }" \
    "outputs = { { kind = \"file\", path = \"$T/out.json\", types = { \"flood.*\" }, queue = 65536 } }"
sleep 1
base=$(lines "$T/out.json") # the burst at start
$CTL events --follow --json --type 'flood.*' >"$T/follow.json" &
FOLLOW=$!
sleep 0.5
T0=$(now); $CTL reload >/dev/null
ms_file=$(wait_lines "$T/out.json" $((N + base)))
got_file=$(( $(lines "$T/out.json") - base ))
ms_follow=$(wait_lines "$T/follow.json" "$N")
got_follow=$(lines "$T/follow.json")
kill $FOLLOW; FOLLOW=""
stop
printf '%-34s %8s ms  %7s of %s events\n' "file output" "$ms_file" "$got_file" "$N"
# A follower that lost events never completes: its time is when it stalled.
[ "$got_follow" -lt "$N" ] && ms_follow="(stalled)"
printf '%-34s %8s ms  %7s of %s events\n' "vigilctl events --follow --json" "$ms_follow" "$got_follow" "$N"

echo "== an idle daemon, by outputs configured"
mem() { # LABEL CONFIG_LINES...
    local label=$1; shift
    start "$@"
    sleep 1.5
    local rss priv objs
    rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
    priv=$(awk '/^Private_Dirty/ {print $2}' /proc/$PID/smaps_rollup)
    objs=$(awk '$6 ~ /\.so/ {print $6}' /proc/$PID/maps | sort -u | wc -l)
    printf '%-34s RSS %6s kB  private dirty %6s kB  %3s shared objects\n' "$label" "$rss" "$priv" "$objs"
    stop
}
mem "no output"
mem "kafka output (module loaded)" \
    "outputs = { { kind = \"kafka\", brokers = \"127.0.0.1:1\", topic = \"t\" } }"
mem "falco output (libcurl loaded)" \
    "outputs = { { kind = \"falco\", url = \"http://127.0.0.1:1/\" } }"
