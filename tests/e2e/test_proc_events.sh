#!/usr/bin/env bash
# The proc plugin reports real processes from the kernel's proc connector:
# exec with path, command line, uids and parent; exit with the exit code; a
# uid change with the uids before and after; stdio on a socket (the mark of
# a reverse shell).
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
start_daemon
vctl plugins --json | json '.[] | select(.name == "proc") | .state == "running"' >/dev/null \
    || fail "proc plugin not running"

BIN="$T/bin"
mkdir -p "$BIN"
cp "$(command -v busybox)" "$BIN/ash"
# Each process lives a moment: a process that is gone before /proc could be
# read is reported with its pid only ("gone": true), by design.
"$BIN/ash" -c 'sleep 0.3; exit 7' marker-arg || true
setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/ash" -c 'sleep 0.1'
python3 - "$BIN/ash" <<'PY'
import socket, subprocess, sys
# A TCP connection on loopback as the shell's stdin/stdout: a reverse shell.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
a = socket.create_connection(srv.getsockname())
b, _ = srv.accept()
subprocess.run([sys.argv[1], "-c", "sleep 0.3; exit 0", "socket-stdio"], stdin=a, stdout=a, check=True)
# A unix socket is not a network one (services log to journald through one).
u, v = socket.socketpair()
subprocess.run([sys.argv[1], "-c", "sleep 0.3; exit 0", "unix-stdio"], stdin=u, stdout=u, check=True)
PY

q() { vctl events --json --limit 10000 "$@"; }
CMD="$BIN/ash -c sleep 0.3; exit 7 marker-arg"
wait_for has_event proc.exec ".cmdline == \"$CMD\""
q --type proc.exec >"$T/exec.json"
json_any --arg p "$BIN/ash" --arg c "$CMD" \
    '.cmdline == $c and .path == $p and .name == "ash" and .uid == 0 and .ppid > 1 and .parent_name != "" and .stdio_socket == false' \
    "$T/exec.json" || { grep marker "$T/exec.json"; fail "exec event lacks path, name, uid or parent"; }
pid=$(jq -r --arg c "$CMD" 'select(.cmdline == $c) | .pid' "$T/exec.json")
wait_for has_event proc.exit ".pid == $pid and .exit_code == 7 and .name == \"ash\""
wait_for has_event proc.uid '.euid == 65534 and .old_euid == 0'
wait_for has_event proc.gid '.gid == 65534 and .egid == 65534'
wait_for has_event proc.exec "(.cmdline == \"$BIN/ash -c sleep 0.3; exit 0 socket-stdio\") and .stdio_socket == true"
wait_for has_event proc.exec "(.cmdline == \"$BIN/ash -c sleep 0.3; exit 0 unix-stdio\") and .stdio_socket == false"
stop_daemon
pass
