#!/usr/bin/env bash
# Events are committed in batches (core/daemon/daemon.c: at most 50 ms
# after the first of a batch), not per loop iteration: a batch is written on
# its own, with no read of the events table to force it (the 1 s sync timer
# would too, later: this test does not time it), and what was written
# survives kill -9. A rule written with vigilctl is on disk when the command
# returns, whatever events are waiting.
. "$(dirname "$0")/lib.sh"

# Both read from `vigilctl status`, which reads no event: it leaves the
# batch where it is.
published() { vctl status --json | jq -e '[.events[] | select(.type == "test.reloaded") | .published] | add == 3'; }
pending() { vctl status --json | jq -e '.store.pending == 0'; }

start_daemon
for _ in 1 2 3; do vctl reload >/dev/null; done
wait_for published
wait_for pending
vctl rules add --group batch --plane proc --name tool --path /bin/tool >/dev/null
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""

start_daemon
[ "$(vctl events --json --type test.reloaded | wc -l)" -eq 3 ] || fail "a batch of events was not written before kill -9"
vctl rules list --group batch --json | has '"/bin/tool"' || fail "the written rule was lost to kill -9"
stop_daemon
pass
