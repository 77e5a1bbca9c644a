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
after=$(vctl events --json --limit 10000 | wc -l)
[ "$after" -gt "$before" ] || fail "no new events after restart ($before -> $after)"
vctl events --json --limit 10000 | jq -e --argjson last "$last_id" \
    'select(.type == "daemon.status") | .id' | tail -n 1 | {
    read -r newest
    [ "$newest" -gt "$last_id" ] || fail "event ids went backwards ($newest <= $last_id)"
}
stop_daemon
pass
