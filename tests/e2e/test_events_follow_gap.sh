#!/usr/bin/env bash
# A `vigilctl events --follow` client that reads slowly: the daemon never
# waits for it (status answers throughout), drops what does not fit its
# backlog, and tells the client how many it missed, in its place in the
# stream ({"gap": {"missed": N}} with --json, a line in the table) and on
# stderr. Checked exactly: the events received plus the gaps' counts add
# up to the burst. A real slow reader: the client's stdout is a pipe whose
# reader does not read until the burst is over.
. "$(dirname "$0")/lib.sh"
cp "$VIGIL_BUILD/tests/flood/plugin_flood.so" "$PLUGINS/"
N=20000
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo "plugins = { flood = { count = $N, pad = 200, on_reload = true } }" >>"$CONFIG"

# until SECONDS CMD...: like wait_for, with room for a loaded host.
until_ok() {
    local secs=$1
    shift
    for _ in $(seq 1 $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "timed out after ${secs} s waiting for: $*"
}
status() { timeout 10 "$VIGILCTL" --socket "$SOCK" status --json; }
stored() { status | jq -e --argjson n "$1" '.store.events >= $n and .store.pending == 0'; }

start_daemon
# The burst at start reached no follower; it must be over before one comes.
until_ok 120 stored $N

mkfifo "$T/pipe"
vctl events --follow --json --type 'flood.*' >"$T/pipe" 2>"$T/follow.err" &
sh -c 'while [ ! -e "$1/go" ]; do sleep 0.05; done; exec cat' sh "$T" <"$T/pipe" >"$T/follow.json" &
following() { status | jq -e '.ctl.followers >= 1'; }
until_ok 60 following

# The burst, while the reader reads nothing: the daemon goes on, answering
# status (with a 10 s limit each) until every event went by the follower.
vctl reload >/dev/null
until_ok 120 stored $((2 * N))
drops=$(status | jq '.ctl.stream_drops')
[ "$drops" -gt 0 ] || fail "the stalled follower lost nothing (stream_drops $drops): no test"

# The reader reads: the received events and the gaps account for the burst.
touch "$T/go"
accounted() {
    local got missed
    got=$(grep -c '"type":"flood.event"' "$T/follow.json" || true)
    missed=$(grep -o '^{"gap":{"missed":[0-9]*}}$' "$T/follow.json" | grep -o '[0-9]*' |
        awk '{ s += $1 } END { print s + 0 }')
    echo "received $got, missed $missed" >"$T/acct"
    [ $((got + missed)) -eq $N ]
}
for _ in $(seq 1 1200); do
    accounted && break
    sleep 0.1
done
cat "$T/acct"
accounted || fail "events and gaps do not add up to $N: $(cat "$T/acct")"
missed=$(grep -o '"missed":[0-9]*' "$T/follow.json" | head -1 | grep -o '[0-9]*')
[ "${missed:-0}" -gt 0 ] || fail "no gap marker"
has "events missed: this client read too slowly" <"$T/follow.err" ||
    fail "stderr does not say it: $(cat "$T/follow.err")"
# The events that did arrive are whole and each once.
jq -e -s '[.[] | select(.type == "flood.event") | .n] | (unique | length) == length' \
    "$T/follow.json" >/dev/null || fail "an event came twice"
status >/dev/null || fail "the daemon does not answer after the burst"

# The table says it too, on a line of its own where the events went missing.
rm -f "$T/go"
mkfifo "$T/pipe2"
vctl events --follow --type 'flood.*' >"$T/pipe2" 2>"$T/table.err" &
sh -c 'while [ ! -e "$1/go" ]; do sleep 0.05; done; exec cat' sh "$T" <"$T/pipe2" >"$T/table.txt" &
following2() { status | jq -e '.ctl.followers >= 2'; }
until_ok 60 following2
vctl reload >/dev/null
until_ok 120 stored $((3 * N))
touch "$T/go"
table_gap() { grep -Eq '^-- [0-9]+ events missed here: this client read too slowly --$' "$T/table.txt"; }
until_ok 120 table_gap
pass
