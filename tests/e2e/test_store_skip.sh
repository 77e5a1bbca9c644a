#!/usr/bin/env bash
# store_skip: the event types it names are not stored (`vigilctl events`
# lacks them) but still streamed live (`--follow`), given to the policies and
# to plugins' subscriptions, and counted in `vigilctl status`; other types are
# stored; a reload changes the list, and a list that would skip every type is
# refused with file:line while the running list stays.
. "$(dirname "$0")/lib.sh"

CONFIG="$T/vigil.lua"
# config SKIP GREETING: the shipped file plus a store_skip list (Lua) and the
# greeting that the test plugin puts in each test.reloaded it publishes.
config() {
    cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
    printf 'store_skip = %s\nplugins = { testok = { greeting = "%s" } }\n' "$1" "$2" >>"$CONFIG"
}
# stored TYPE: how many events of TYPE `vigilctl events` lists.
stored() {
    vctl events --json --limit 10000 --type "$1" | jq -s length
}
# followed TYPE PREDICATE: the live stream showed an event of TYPE with it.
followed() {
    json_any --arg t "$1" "(.type == \$t) and ($2)" "$T/follow.out"
}
# skipped TYPE: the per-type count of events not stored, from status.
skipped() {
    vctl status --json | jq --arg t "$1" '[.events[] | select(.type == $t) | .skipped] | add // 0'
}

# The policy engine sees skipped events too: it answers each test.reloaded
# with an event of its own (stored) carrying the greeting.
cat >"$POLICIES/50-echo.lua" <<'LUA'
vigil.on("test.reloaded", function(ev)
  vigil.alert(ev, { type = "test.policy_saw", severity = "info", message = ev.greeting })
end)
LUA

# A glob and an exact type. group.mode is published by the core; the test
# plugin subscribes to it and answers with test.seen.
config '{ "test.re*", "group.mode" }' one
"$VIGILD" --check --config "$CONFIG" --policy-dir "$POLICIES" --plugin-dir "$PLUGINS" \
    >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "--check on a good store_skip"; }
start_daemon

vctl events --follow --json >"$T/follow.out" &
FOLLOW=$!
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.ctl.followers >= 1'"

# Types not in the list are stored as before.
wait_for has_event test.started '.greeting == "one"'

vctl group mode nodes monitor >/dev/null || fail "group mode"
vctl reload >/dev/null || fail "reload with the same list"
wait_for followed group.mode '.group == "nodes" and .mode == "monitor"'
wait_for followed test.reloaded '.greeting == "one"'
# The plugin's subscription and the policy got the skipped events...
wait_for has_event test.seen '.seen_group == "nodes"'
wait_for has_event test.policy_saw '.message == "one"'
# ...but the history lacks them (the follower saw them, so they were handled).
[ "$(stored test.reloaded)" -eq 0 ] || fail "test.reloaded stored although skipped by 'test.re*'"
[ "$(stored group.mode)" -eq 0 ] || fail "group.mode stored although skipped"
[ "$(skipped test.reloaded)" -eq 1 ] || fail "skipped test.reloaded not counted: $(skipped test.reloaded)"
[ "$(skipped group.mode)" -eq 1 ] || fail "skipped group.mode not counted"
[ "$(skipped test.started)" -eq 0 ] || fail "stored type counted as skipped"
vctl status --json | json '.store.skipped == 2' >/dev/null || fail "store.skipped total"
vctl status | has "2 not stored (store_skip)" || fail "human status lacks the skipped total"
vctl status --json | json '.store.skip == ["test.re*", "group.mode"]' >/dev/null \
    || fail "status lacks the store_skip list: $(vctl status --json | jq -c .store)"
# An empty history of a skipped type says why, on stderr (the JSON stays a
# list); a type that is stored but absent gets no such hint.
vctl events --json --type group.mode >"$T/ev.out" 2>"$T/ev.err" || fail "events --type group.mode"
[ "$(jq -s length "$T/ev.out")" -eq 0 ] || fail "skipped type listed"
grep -q 'events of type group.mode are not stored (store_skip "group.mode")' "$T/ev.err" \
    || fail "no store_skip hint: $(cat "$T/ev.err")"
vctl events --json --type no.such.type >/dev/null 2>"$T/ev.err" || fail "events --type no.such.type"
[ ! -s "$T/ev.err" ] || fail "hint for a type that is not skipped: $(cat "$T/ev.err")"

# A list that would skip everything is refused with file:line; the running
# list stays (group.mode is still not stored).
config $'{ "group.mode",\n  "*" }' bad
# Reported at the line that starts the (last) assignment.
line=$(grep -n '^store_skip =' "$CONFIG" | tail -n 1 | cut -d: -f1)
if vctl reload 2>"$T/reload.err"; then fail "store_skip = { \"*\" } accepted"; fi
grep -q "$CONFIG:$line: setting 'store_skip' item 2 ('\*') would skip every event type" \
    "$T/reload.err" || { cat "$T/reload.err"; fail "no file:line for store_skip '*'"; }
vctl group mode nodes protect >/dev/null || fail "group mode"
wait_for followed group.mode '.mode == "protect"'
[ "$(stored group.mode)" -eq 0 ] || fail "a refused reload changed the list"

# A new list on reload: test.reloaded is stored again, test.seen is not.
config '{ "test.seen" }' two
vctl reload >/dev/null || fail "reload with a new list"
wait_for has_event test.reloaded '.greeting == "two"'
[ "$(stored test.reloaded)" -eq 1 ] || fail "the test.reloaded of the old list was stored"
vctl group mode nodes learn >/dev/null || fail "group mode"
wait_for has_event group.mode '.mode == "learn"'
# Three mode changes, three test.seen live; the last one is not stored.
wait_for sh -c "jq -s -e '[.[] | select(.type == \"test.seen\")] | length == 3' '$T/follow.out'"
[ "$(stored test.seen)" -eq 2 ] || fail "test.seen after the reload stored: $(stored test.seen)"
[ "$(skipped test.seen)" -eq 1 ] || fail "test.seen not counted"
[ "$(skipped test.reloaded)" -eq 1 ] || fail "counts must survive a reload"

kill "$FOLLOW" 2>/dev/null || true
wait "$FOLLOW" 2>/dev/null || true
stop_daemon
pass
