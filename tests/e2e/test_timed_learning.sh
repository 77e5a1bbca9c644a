#!/usr/bin/env bash
# Timed learning (NeuVector's): `vigilctl group mode G learn --for 2s --then
# monitor` puts the group in learn mode, and when the time is over it moves
# to monitor by itself, with a group.mode event saying why. The schedule is
# stored: a daemon killed with -9 meanwhile still ends it after its restart.
# A mode set by hand ends a timed learning.
. "$(dirname "$0")/lib.sh"

start_daemon
mode_of() { vctl groups --json | json_any --arg m "$1" '.name == "nodes" and .mode == $m'; }

vctl group mode nodes learn --for 2s --then monitor >"$T/out" || fail "group mode --for"
grep -q "^group nodes: mode learn (was learn), until .*, then monitor$" "$T/out" ||
    fail "the reply does not say until when: $(cat "$T/out")"
mode_of learn || fail "not in learn mode"
sleep 1
mode_of learn || fail "left learn mode early"
wait_for mode_of monitor
wait_for has_event group.mode '.group == "nodes" and .mode == "monitor" and .previous == "learn" and .reason == "learning time over"'

# Stored: a restart in the middle keeps the schedule.
vctl group mode nodes learn --for 3s --then protect >/dev/null
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
start_daemon
mode_of learn || fail "the restart lost learn mode"
wait_for mode_of protect

# A mode set by hand ends the timed learning.
vctl group mode nodes learn --for 1s --then protect >/dev/null
vctl group mode nodes learn >/dev/null
sleep 2
mode_of learn || fail "a timed learning ended by hand still moved the group"

# Bad requests are refused with a reason.
vctl group mode nodes monitor --for 1h --then protect 2>"$T/err" && fail "--for with monitor accepted"
grep -q "timed learning is: mode learn" "$T/err" || fail "no reason: $(cat "$T/err")"
vctl group mode nodes learn --for 1h 2>/dev/null && fail "--for without --then accepted"
vctl group mode nodes learn --for soon --then monitor 2>/dev/null && fail "a bad duration accepted"
stop_daemon
pass
