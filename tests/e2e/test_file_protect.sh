#!/usr/bin/env bash
# File integrity monitoring, learning and protection in real runc containers
# with writable root file systems. Learn mode: a write to /etc/hosts by
# busybox becomes a file rule of the group. Protect mode: `echo x >>
# /etc/passwd` fails with a permission error, the file is unchanged, reading
# it still works, the learned write to /etc/hosts is still allowed, and a
# file.violation with action "deny" names the workload, group, path and
# program. Monitor mode: the same write succeeds and is a violation with
# action "alert"; a binary dropped into /usr/bin is a file.access "create"
# and an alert. A second container's files are watched under its own root,
# and a restarted container is watched again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/file.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { file = { stats_interval_ms = 300, rescan_ms = 300, host = false } }' >>"$CONFIG"

# fct_start NAME: a container on a writable copy of the busybox root file
# system of its own (lib_container's are read-only and shared), with
# /usr/bin and a few watched files. Sets CT_PID and FROOT (its root on the
# host).
fct_start() {
    ct_writable_root "$1"
    mkdir -p "$FROOT/usr/bin" "$FROOT/root/.ssh"
    echo "ssh-ed25519 AAAA test" >"$FROOT/root/.ssh/authorized_keys"
    ln -sf busybox "$FROOT/bin/cp"
    ln -sf busybox "$FROOT/bin/sha256sum"
    ln -sf busybox "$FROOT/bin/rm"
    echo "127.0.0.1 localhost" >"$FROOT/etc/hosts"
    echo "root:x:0:" >"$FROOT/etc/group"
    CT_ROOT="$FROOT" ct_start "$1"
}

# wait_for with the plugin's events and rules shown when it times out.
wait_file() {
    for _ in $(seq 1 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "---- file events ----"
    vctl events --json --limit 30 --type file.access || true
    vctl events --json --limit 3 --type file.stats || true
    vctl rules list --json | grep '"file"' || true
    grep 'file:' "$LOG" | tail -20 || true
    fail "timed out waiting for: $*"
}

# run CMD...: runs CMD in $CT; its output in $T/out, status in RC.
run() {
    RC=0
    runc exec "$CT" "$@" >"$T/out" 2>&1 </dev/null || RC=$?
}

# in_stats LIST ID: the latest file.stats lists workload ID as watched or
# protected. (Other containers of the machine may be in the counts.)
in_stats() {
    vctl events --json --limit 1 --type file.stats | jq -e --arg id "$2" ".$1 | index(\$id) != null"
}
stat_is() { # stat_is KEY OP VALUE: the latest file.stats
    local v
    v=$(vctl events --json --limit 1 --type file.stats | jq -r ".$1")
    [ "$v" "$2" "$3" ]
}

start_daemon
vctl plugins --json | json '.[] | select(.name == "file") | .state == "running"' >/dev/null \
    || fail "file plugin not running: $(vctl plugins --json)"

fct_start web-1
CT=$(ct_id web-1)
ROOT1="$FROOT"
G="$CT_PREFIX-web"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"
wait_for in_stats watched "$CT"
stat_is watched_dirs -ge 3 || fail "too few watched directories: $(vctl events --json --limit 1 --type file.stats)"

# ---- learn -------------------------------------------------------------
learned() {
    vctl rules list --group "$G" --json |
        json_any '.plane == "file" and .path == "/etc/hosts" and .program == "/bin/busybox" and .access == "write"'
}
# The writer lives on a moment: the program of a process gone before its
# event is read is "?" (docs/file.md).
run /bin/sh -c 'echo "10.0.0.1 db" >> /etc/hosts; sleep 0.5'
[ "$RC" -eq 0 ] || fail "learning write failed: $(cat "$T/out")"
wait_file learned
has_event file.access ".workload == \"$CT\" and .group == \"$G\" and .path == \"/etc/hosts\" and .access == \"write\" and .program == \"/bin/busybox\" and .pid > 0" \
    || fail "file.access lacks workload, group or program: $(vctl events --json --type file.access)"

vctl rules list --group "$G" --json | json_any '.plane == "file" and (.program == "" or .path == "")' \
    && fail "a file rule with an empty field was learned (a wildcard)"

# ---- protect -----------------------------------------------------------
vctl group mode "$G" protect >/dev/null
wait_for in_stats protected "$CT"
stat_is guarded_files -ge 3 || fail "too few guarded files: $(vctl events --json --limit 1 --type file.stats)"
sum_before=$(sha256sum "$ROOT1/etc/passwd")
for i in 1 2; do
    run /bin/sh -c 'echo x >> /etc/passwd'
    [ "$RC" -ne 0 ] || fail "write to /etc/passwd succeeded in protect mode (try $i)"
    grep -qiE 'permission denied|not permitted' "$T/out" || fail "no permission error: $(cat "$T/out")"
done
[ "$(sha256sum "$ROOT1/etc/passwd")" = "$sum_before" ] || fail "/etc/passwd changed in protect mode"
wait_for has_event file.violation \
    ".workload == \"$CT\" and .group == \"$G\" and .path == \"/etc/passwd\" and .program == \"/bin/busybox\" and .action == \"deny\""
# Reading is never refused, nor a learned write.
run /bin/cat /etc/passwd
[ "$RC" -eq 0 ] && grep -q '^root:' "$T/out" || fail "reading /etc/passwd failed in protect mode: $(cat "$T/out")"
run /bin/sh -c 'echo "10.0.0.2 cache" >> /etc/hosts'
[ "$RC" -eq 0 ] || fail "learned write to /etc/hosts denied: $(cat "$T/out")"
# Opens in a burst, from two processes at once, are answered by the
# permission threads (one per CPU): every read passes, every write fails.
run /bin/sh -c '
    i=0; while [ $i -lt 3000 ]; do read l </etc/passwd || exit 1; i=$((i + 1)); done &
    j=0; while [ $j -lt 300 ]; do
        { echo x >>/etc/passwd; } 2>/dev/null && exit 2
        read l </etc/group || exit 3
        j=$((j + 1))
    done
    wait $! || exit 4'
[ "$RC" -eq 0 ] || fail "burst of opens in protect mode: exit $RC (1, 3, 4: a read refused, 2: a write passed)"
[ "$(sha256sum "$ROOT1/etc/passwd")" = "$sum_before" ] || fail "/etc/passwd changed in the burst"
want=$(nproc)
[ "$want" -gt 16 ] && want=16
stat_is guard_threads -eq "$want" || fail "not one permission thread per CPU: $(vctl events --json --limit 1 --type file.stats)"
stat_is perm_failed -eq 0 || fail "answers fell back to the fail verdict: $(vctl events --json --limit 1 --type file.stats)"
grep -q cache "$ROOT1/etc/hosts" || fail "learned write to /etc/hosts lost"
# A truncation is a write too, and so is a write through a new name.
run /bin/sh -c ': > /etc/group'
[ "$RC" -ne 0 ] || fail "truncating /etc/group succeeded in protect mode"
grep -q '^root:' "$ROOT1/etc/group" || fail "/etc/group was truncated"

# A deletion cannot be refused beforehand: it is reported at once, and the
# policy makes it a violation with action "deny".
run /bin/sh -c 'rm /root/.ssh/authorized_keys'
[ "$RC" -eq 0 ] || fail "rm failed: $(cat "$T/out")"
wait_file has_event file.violation \
    ".workload == \"$CT\" and .path == \"/root/.ssh/authorized_keys\" and .access == \"delete\" and .action == \"deny\""

# A guarded file replaced by a rename (as useradd does it) is guarded again.
cp "$ROOT1/etc/passwd" "$ROOT1/etc/passwd.new"
mv "$ROOT1/etc/passwd.new" "$ROOT1/etc/passwd"
sleep 0.5
sum_before=$(sha256sum "$ROOT1/etc/passwd")
run /bin/sh -c 'echo x >> /etc/passwd'
[ "$RC" -ne 0 ] || fail "write to a replaced /etc/passwd succeeded in protect mode"
[ "$(sha256sum "$ROOT1/etc/passwd")" = "$sum_before" ] || fail "replaced /etc/passwd changed in protect mode"

# ---- monitor -----------------------------------------------------------
vctl group mode "$G" monitor >/dev/null
wait_for eval "! in_stats protected '$CT'"
# Out of protect mode the permission marks are gone: opens cost nothing.
sleep 0.4
perm_before=$(vctl events --json --limit 1 --type file.stats | jq .perm_events)
run /bin/cat /etc/passwd /etc/hosts /etc/group
sleep 0.7
[ "$(vctl events --json --limit 1 --type file.stats | jq .perm_events)" = "$perm_before" ] \
    || fail "permission events in monitor mode: the marks were not removed"
run /bin/sh -c 'echo monitored >> /etc/passwd'
[ "$RC" -eq 0 ] || fail "write denied in monitor mode: $(cat "$T/out")"
grep -q monitored "$ROOT1/etc/passwd" || fail "monitored write lost"
wait_for has_event file.violation \
    ".workload == \"$CT\" and .path == \"/etc/passwd\" and .access == \"write\" and .action == \"alert\""
run /bin/cp /bin/busybox /usr/bin/evil
[ "$RC" -eq 0 ] || fail "cp into /usr/bin failed: $(cat "$T/out")"
wait_for has_event file.access ".workload == \"$CT\" and .path == \"/usr/bin/evil\" and .access == \"create\""
wait_for has_event file.violation ".workload == \"$CT\" and .path == \"/usr/bin/evil\" and .action == \"alert\""
run /bin/sh -c 'rm /root/.ssh/authorized_keys 2>/dev/null; echo key > /root/.ssh/authorized_keys'
wait_for has_event file.access ".workload == \"$CT\" and .path == \"/root/.ssh/authorized_keys\" and .access == \"create\""

# ---- another container, and a restart ------------------------------------
fct_start db-1
CT2=$(ct_id db-1)
wait_for eval "vctl workloads --json | json_any --arg id '$CT2' '.id == \$id'"
CT="$CT2"
wait_for in_stats watched "$CT2"
run /bin/sh -c 'echo x >> /etc/shadow'
wait_file has_event file.access ".workload == \"$CT2\" and .path == \"/etc/shadow\" and .access == \"create\""
ct_stop db-1
wait_for eval "! in_stats watched '$CT2'"
fct_start db-1
wait_for in_stats watched "$CT2"
run /bin/sh -c 'echo y >> /etc/hosts'
wait_for has_event file.access ".workload == \"$CT2\" and .path == \"/etc/hosts\" and .access == \"write\" and .pid > 0"

stat_is marks_refused -eq 0 || fail "marks refused: $(vctl events --json --limit 1 --type file.stats)"
vctl plugins --json | json '.[] | select(.name == "file") | .state == "running"' >/dev/null || fail "file plugin not running"
stop_daemon

# ---- the host, and paths from the config ---------------------------------
mkdir -p "$T/hw"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo "plugins = { file = { stats_interval_ms = 300, paths = '/nonexistent/x.conf, $T/hw/' } }" >>"$CONFIG"
start_daemon
wait_for in_stats watched ""
echo "a=1" >"$T/hw/app.conf"
wait_for has_event file.access \
    ".workload == \"\" and .group == \"nodes\" and .path == \"$T/hw/app.conf\" and .access == \"create\""
stop_daemon
pass
