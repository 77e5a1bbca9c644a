#!/usr/bin/env bash
# `vigilctl events` on a large history (12,000 stored events of about 250
# bytes, from tests/plugins/plugin_flood.c): --limit 10000 gets all 10,000
# (2.5 MB, more than one reply frame: the daemon pages, vigilctl asks for
# each page) in order; stderr says when only the last N of M are shown;
# --type takes globs; --severity a minimum; the table fits the terminal's
# width with a violation's verdict first; --follow says so when the daemon
# goes away.
. "$(dirname "$0")/lib.sh"
cp "$VIGIL_BUILD/tests/flood/plugin_flood.so" "$PLUGINS/"

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { flood = { count = 12000, pad = 200 } }' >>"$CONFIG"
cat >"$POLICIES/alert.lua" <<'LUA'
vigil.on("test.reloaded", function(ev)
    vigil.alert(ev, { type = "proc.violation", message = "reloaded by a test" })
end)
LUA
start_daemon
stored() { vctl status --json | jq -e '.store.events >= 12000 and .store.pending == 0'; }
wait_for stored

# The default: the last 100, and stderr says of how many.
vctl events --json >"$T/default.json" 2>"$T/default.err"
[ "$(wc -l <"$T/default.json")" = 100 ] || fail "the default is not the last 100"
grep -Eq '^vigilctl: showing the last 100 of [0-9]{5} stored events; see more with --limit N' \
    "$T/default.err" || { cat "$T/default.err"; fail "no 'last 100 of M' note"; }

# 10,000 of 12,000: more than a frame holds, all of them, oldest first.
vctl events --json --type flood.event --limit 10000 >"$T/big.json" 2>"$T/big.err" ||
    { cat "$T/big.err"; fail "--limit 10000 failed"; }
[ "$(wc -l <"$T/big.json")" = 10000 ] || fail "got $(wc -l <"$T/big.json") events, not 10000"
[ "$(stat -c %s "$T/big.json")" -gt 1048576 ] || fail "the reply was not larger than a frame"
jq -e -s '[.[].n] == [range(2001; 12001)]' "$T/big.json" >/dev/null ||
    fail "not the last 10000 in order"
jq -e -s '[.[].id] | . == sort and (unique | length) == 10000' "$T/big.json" >/dev/null ||
    fail "ids out of order or repeated"
# (The count of matches stops after 100 ms of reading, as "at least": a
# loaded machine under ASan may get there.)
grep -Eq '^vigilctl: showing the last 10000 of (12000|at least 1[0-9]{4}) matching stored events' \
    "$T/big.err" ||
    { cat "$T/big.err"; fail "no note about the 2000 left"; }

# Globs and a minimum severity; everything shown, so no note.
vctl events --json --type 'flood.*' --severity warning --limit 5000 >"$T/warn.json" 2>"$T/warn.err"
[ "$(wc -l <"$T/warn.json")" = 1200 ] || fail "--severity warning gave $(wc -l <"$T/warn.json")"
jq -e -s 'all(.[]; .severity == "warning" and .n % 10 == 0)' "$T/warn.json" >/dev/null ||
    fail "--severity let lower ones through"
[ ! -s "$T/warn.err" ] || fail "a note although everything was shown: $(cat "$T/warn.err")"
[ -z "$(vctl events --json --type 'nothing.*')" ] || fail "a glob that matches nothing matched"
rc=0; vctl events --severity loud 2>"$T/sev.err" || rc=$?
[ $rc = 2 ] && grep -q "severity wants debug, info" "$T/sev.err" || fail "a bad --severity"

# The table fits 100 columns; a violation's DETAIL starts with its verdict.
vctl reload >/dev/null
wait_for has_event proc.violation '.action == "alert"'
COLUMNS=100 vctl events --type '*.violation' >"$T/table.txt"
awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$T/table.txt" || fail "a row is wider than 100"
grep -q 'proc.violation.*  action=alert message="reloaded by' "$T/table.txt" ||
    { cat "$T/table.txt" >&2; fail "the verdict is not first in DETAIL"; }
COLUMNS=100 vctl events --limit 50 | awk 'length($0) > 100 { bad = 1 } END { exit bad }' ||
    fail "a row of flood events is wider than 100"

# --follow says so when the daemon goes away, and ends with status 1.
vctl events --follow --type 'test.*' >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW=$!
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.ctl.followers >= 1'"
stop_daemon
rc=0; wait "$FOLLOW" || rc=$?
[ $rc = 1 ] || fail "--follow ended with $rc when the daemon stopped"
grep -q "the daemon closed the stream" "$T/follow.err" || fail "--follow did not say the daemon went away"
pass
