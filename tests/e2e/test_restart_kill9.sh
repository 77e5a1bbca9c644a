#!/usr/bin/env bash
# kill -9 loses nothing that was committed: after a restart the stored events
# are all there, and new events get ids above the old ones.
. "$(dirname "$0")/lib.sh"

start_daemon
for i in 1 2 3; do vctl reload >/dev/null; done
wait_for sh -c "[ \$('$VIGILCTL' --socket '$SOCK' events --type test.reloaded --json | wc -l) -eq 3 ]"
before=$(vctl events --json --limit 10000 | wc -l)
last_id=$(vctl events --json --limit 10000 | tail -n 1 | jq .id)

kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""

start_daemon
[ "$(vctl events --json --type test.reloaded | wc -l)" -eq 3 ] || fail "events lost to kill -9"
# The restarted daemon's first events (daemon.status) may come a moment
# after its socket answers; its status must get an id above every old one.
newer_status() {
    vctl events --json --limit 10000 --type daemon.status |
        jq -e --argjson last "$last_id" 'select(.id > $last) | .id' | has .
}
wait_for newer_status
after=$(vctl events --json --limit 10000 | wc -l)
[ "$after" -gt "$before" ] || fail "no new events after restart ($before -> $after)"
stop_daemon
pass
