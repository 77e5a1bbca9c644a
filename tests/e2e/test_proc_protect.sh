#!/usr/bin/env bash
# Process learning and protection in a real runc container. In learn mode the
# commands run in the container become rules; in protect mode they still
# run, a new binary (a copy of busybox as /bin/nc) fails with a permission
# error at every try, a busybox applet that was never learned (usleep,
# through its symlink) is killed at its exec, and each is a proc.violation
# with the workload, group, path and action "deny". In monitor mode the same
# nc runs, with a violation "alert" and the suspicious-process incident; a
# set-uid program started by a user raises the privilege-escalation one. The
# rules survive a kill -9 of the daemon, and protection is back once the
# daemon is up again. Without fanotify (no CAP_SYS_ADMIN) the plugin is
# degraded and protect mode kills at the exec instead; a bad fail_mode fails
# the plugin, not the daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { proc = { stats_interval_ms = 300 } }' >>"$CONFIG"

ct_rootfs
cp /bin/busybox "$CT_ROOTFS/bin/nc"
ln -s busybox "$CT_ROOTFS/bin/usleep"
# A set-uid root program that lives a moment, for the privilege-escalation
# incident.
printf '#include <unistd.h>\nint main(void) { usleep(400000); return geteuid() != 0; }\n' >"$T/esc.c"
gcc -O2 -static -o "$CT_ROOTFS/bin/esc" "$T/esc.c" || fail "cannot build a static test program"
chmod 4755 "$CT_ROOTFS/bin/esc"

start_daemon
vctl plugins --json | json '.[] | select(.name == "proc") | .state == "running"' >/dev/null \
    || fail "proc plugin not running: $(vctl plugins --json)"

ct_start web-1
CT=$(ct_id web-1)
G="$CT_PREFIX-web"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"

# run CMD...: runs CMD in the container; its output in $T/out, status in RC.
run() {
    RC=0
    runc exec "$CT" "$@" >"$T/out" 2>&1 </dev/null || RC=$?
}

# Learn mode: what runs becomes rules of the group, keyed by name and path.
learned() { # learned NAME
    vctl rules list --group "$G" --json |
        json_any --arg n "$1" '.plane == "proc" and .name == $n and .path == "/bin/busybox" and .user == "0"'
}
# Each process lives a moment: one gone before /proc could be read is
# reported with its pid only, and teaches nothing.
for _ in 1 2 3 4 5; do
    run /bin/sh -c 'sleep 0.3 | cat'
    [ "$RC" -eq 0 ] || fail "learning run failed: $(cat "$T/out")"
    learned sh && learned cat && learned sleep && break
done
wait_for learned sh
wait_for learned cat
wait_for learned sleep
has_event proc.exec ".workload == \"$CT\" and .group == \"$G\" and .name == \"cat\" and .user == \"0\"" \
    || fail "proc.exec lacks workload, group or user"

# protected: the plugin's stats count the workload among the protected.
protected() {
    local n
    n=$(vctl events --json --limit 1 --type proc.stats | jq -r '.protected_workloads')
    [ "$n" = "$1" ]
}

vctl group mode "$G" protect >/dev/null
wait_for protected 1
# Answered by one permission thread per CPU (at most 16).
want=$(nproc)
[ "$want" -gt 16 ] && want=16
vctl events --json --limit 1 --type proc.stats | jq -e ".permission_threads == $want" >/dev/null \
    || fail "not one permission thread per CPU: $(vctl events --json --limit 1 --type proc.stats)"

# Learned commands still run.
run /bin/sh -c 'cat /etc/passwd'
[ "$RC" -eq 0 ] && grep -q '^root:' "$T/out" || fail "learned command denied ($RC): $(cat "$T/out")"
run /bin/sleep 0.1
[ "$RC" -eq 0 ] || fail "learned sleep denied: $(cat "$T/out")"

# A new binary never runs, however often it is tried.
for i in 1 2 3; do
    run /bin/nc -h
    [ "$RC" -ne 0 ] || fail "nc ran in protect mode (try $i)"
    grep -qiE 'permission denied|not permitted' "$T/out" || fail "nc try $i: no permission error: $(cat "$T/out")"
done
# Also when started by an allowed shell: the shell reports the error.
run /bin/sh -c '/bin/nc -h; echo "status $?"'
grep -q 'status 126' "$T/out" || fail "nc from a shell was not refused: $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .group == \"$G\" and .path == \"/bin/nc\" and .action == \"deny\" and .enforcement == \"exec\""
[ "$(vctl events --json --limit 10000 --type proc.violation | jq -s '[.[] | select(.path == "/bin/nc")] | length')" -ge 4 ] \
    || fail "not every denied nc was reported"

# An applet of the allowed busybox that was never learned is killed at its
# exec: usleep would sleep 5 s.
start_ns=$(date +%s%N)
run /bin/usleep 5000000
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
[ "$RC" -eq 137 ] || fail "usleep was not killed (status $RC): $(cat "$T/out")"
[ "$elapsed_ms" -lt 3000 ] || fail "usleep was killed only after $elapsed_ms ms"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .group == \"$G\" and .name == \"usleep\" and .path == \"/bin/busybox\" and .action == \"deny\" and .enforcement == \"kill\" and .ran_ns > 0"
echo "usleep ran $(vctl events --json --limit 10000 --type proc.violation | jq -r 'select(.name == "usleep") | .ran_ns') ns before it was killed"

# Monitor mode: the same nc runs, and is an alert and an incident.
vctl group mode "$G" monitor >/dev/null
wait_for protected 0
# nc listens a moment, so that /proc still shows it when its event is read.
run /bin/sh -c '/bin/nc -l -p 5555 & sleep 0.4; kill $!; echo ran'
grep -qiE 'permission denied|not permitted' "$T/out" && fail "nc denied in monitor mode: $(cat "$T/out")"
grep -q '^ran' "$T/out" || fail "nc did not run in monitor mode: $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/bin/nc\" and .name == \"nc\" and .action == \"alert\""
wait_for has_event proc.incident ".workload == \"$CT\" and .incident == \"suspicious_process\""
# A shell of uid 1000 starts the set-uid program (runc's default forbids
# new privileges; this process allows them).
jq '.process | .args = ["/bin/sh", "-c", "/bin/esc; echo status $?"] | .user = {"uid": 1000, "gid": 1000}
    | .noNewPrivileges = false' "$T/ct-bundles/$CT/config.json" >"$T/esc.json"
runc exec --process "$T/esc.json" "$CT" >"$T/out" 2>&1 </dev/null || true
grep -q 'status 0' "$T/out" || fail "the set-uid program did not run as root: $(cat "$T/out")"
wait_for has_event proc.incident ".workload == \"$CT\" and .incident == \"privilege_escalation\""

# Rules survive a kill -9, and protection is back with the daemon.
vctl group mode "$G" protect >/dev/null
wait_for protected 1
nrules=$(vctl rules list --group "$G" --json | jq -s 'length')
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
start_daemon
[ "$(vctl rules list --group "$G" --json | jq -s 'length')" -eq "$nrules" ] \
    || fail "learned rules lost in the restart"
wait_for protected 1
run /bin/nc -h
grep -qiE 'permission denied|not permitted' "$T/out" || fail "nc ran after the restart: $(cat "$T/out")"
run /bin/cat /etc/passwd
[ "$RC" -eq 0 ] || fail "learned cat denied after the restart: $(cat "$T/out")"

vctl plugins --json | json '.[] | select(.name == "proc") | .state == "running"' >/dev/null || fail "proc plugin not running"
stop_daemon

# Without fanotify (no CAP_SYS_ADMIN): the plugin says it is degraded, the
# daemon runs on, and protect mode falls back to the kill at the exec.
cat >"$T/vigild-nofan" <<EOF
#!/bin/sh
exec setpriv --bounding-set -sys_admin "$VIGIL_BUILD/vigild" "\$@"
EOF
chmod +x "$T/vigild-nofan"
VIGILD="$T/vigild-nofan" start_daemon
vctl plugins --json | json '.[] | select(.name == "proc") | .state == "degraded" and (.why | test("fanotify"))' >/dev/null \
    || fail "proc plugin not degraded without CAP_SYS_ADMIN: $(vctl plugins --json)"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id and .mode == \"protect\"'"
run /bin/sh -c '/bin/nc -l -p 5555; echo "status $?"'
grep -q 'status 137' "$T/out" || fail "nc was not killed without fanotify: $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/bin/nc\" and .action == \"deny\" and .enforcement == \"kill\""
run /bin/sh -c 'sleep 0.1 | cat'
[ "$RC" -eq 0 ] || fail "learned commands killed without fanotify: $(cat "$T/out")"
stop_daemon

# A fail_mode that means nothing: refused before the plugin runs (it
# declares its settings), by --check and at start, with the reason.
echo 'plugins = { proc = { fail_mode = "sometimes" } }' >>"$CONFIG"
"$VIGIL_BUILD/vigild" --check --config "$CONFIG" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" \
    >"$T/check.out" 2>&1 && fail "--check accepted a bad fail_mode"
grep -q "plugins.proc.fail_mode: 'sometimes' is not one of allow, deny" "$T/check.out" ||
    fail "a bad fail_mode was not named: $(cat "$T/check.out")"
"$VIGIL_BUILD/vigild" --config "$CONFIG" --state-dir "$STATE" --socket "$SOCK" \
    --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" >"$T/start.out" 2>&1 &&
    fail "vigild started with a bad fail_mode"
pass
