#!/usr/bin/env bash
# Unused groups age out, with a real runc container and the real proc
# plugin learning its commands. VIGIL_TEST_HOUR_MS=1000 makes an hour of
# group_aging_hours last one second (a test hook; see core/daemon/daemon_aging.c),
# so group_aging_hours = 3 removes a group three seconds after its last
# member went. While its container runs, the group is kept, however long;
# once it is gone, the group is removed with its learned rules, and
# group.removed says so (unused time, mode, rules removed and kept), also in
# the log. A rule the user added to the group stays; "nodes", a custom group
# declared in the config and a group whose container still runs stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
cat >>"$CONFIG" <<EOF
group_aging_hours = 3
groups = { { name = "pinned", name_glob = "$CT_PREFIX-job*" } }
EOF
export VIGIL_TEST_HOUR_MS=1000

start_daemon
grep -q "VIGIL_TEST_HOUR_MS is set" "$LOG" || fail "the test hook is on without a warning"

ct_start job-1
ct_start keep-1
JOB=$(ct_id job-1)
G="$CT_PREFIX-job"
K="$CT_PREFIX-keep"
wait_for eval "vctl workloads --json | json_any --arg id '$JOB' '.id == \$id'"

# Learn a few commands, and add a rule of the user's own.
learned() { # learned NAME
    vctl rules list --group "$G" --json | json_any --arg n "$1" \
        '.plane == "proc" and .name == $n and .origin == "learned"'
}
for _ in 1 2 3 4 5; do
    runc exec "$JOB" /bin/sh -c 'sleep 0.3 | cat' >/dev/null 2>&1 </dev/null || true
    learned sh && learned cat && learned sleep && break
done
wait_for learned sh
wait_for learned cat
vctl rules add --group "$G" --plane proc --name curl --path /usr/bin/curl >/dev/null

# Members for longer than the limit: kept, never idle.
sleep 4
NLEARNED=$(vctl rules list --group "$G" --json | jq -s '[.[] | select(.origin == "learned")] | length')
[ "$NLEARNED" -ge 2 ] || fail "nothing learned"
vctl groups --json | json_any --arg g "$G" '.name == $g and .members == 1 and .unused_s == 0' \
    || fail "a group with a member is not kept as in use: $(vctl groups --json)"
# (Only this test's groups: the daemon sees the containers of tests running
# beside it too, and their groups may well age out meanwhile.)
has_event group.removed ".group == \"$G\" or .group == \"$K\"" \
    && fail "a group was removed while in use"

# The job ends: its group goes some 3 s later, not before.
STOPPED=$(date +%s%N)
ct_stop job-1
for _ in $(seq 1 200); do
    has_event group.removed ".group == \"$G\"" && break
    sleep 0.05
done
REMOVED=$(date +%s%N)
has_event group.removed ".group == \"$G\"" || fail "no group.removed for $G within 10 s"
# (A check adds the whole time since the one before: up to 0.1 s early.)
[ $(((REMOVED - STOPPED) / 1000000)) -ge 2800 ] || fail "$G removed too early"
has_event group.removed ".group == \"$G\" and .mode == \"learn\" and .unused_s >= 3
    and .rules_removed == $NLEARNED and .rules_kept == 1" \
    || fail "group.removed body: $(vctl events --json --type group.removed)"
grep -q "group $G removed: unused for 0h00m, it was in learn mode; $NLEARNED learned rules removed, 1 rules kept" \
    "$LOG" || fail "no info log line for the removal"

# What is left: the user's rule, nodes, the custom group, the running one.
vctl groups --json | json_any --arg g "$G" '.name == $g' && fail "$G still listed"
vctl groups --json | json_any '.name == "nodes"' || fail "nodes removed"
vctl groups --json | json_any '.name == "pinned" and .kind == "custom" and .members == 0' \
    || fail "the custom group was removed"
vctl groups --json | json_any --arg g "$K" '.name == $g and .members == 1' || fail "$K removed"
vctl groups | grep -E "^pinned +custom +learn +0 +[0-9]+s" >/dev/null \
    || fail "groups table lacks the unused time: $(vctl groups)"
[ "$(vctl rules list --group "$G" --json | jq -sc '[.[] | .origin + ":" + .name]')" = '["written:curl"]' ] \
    || fail "rules left for $G: $(vctl rules list --group "$G" --json)"

# The same job again: a new group, in the default mode, learning afresh.
ct_start job-2
wait_for eval "vctl groups --json | json_any --arg g '$G' '.name == \$g and .members == 1 and .mode == \"learn\"'"

stop_daemon
pass
