#!/usr/bin/env bash
# Protect mode resets connections (plugins/net/reset.c, resets.c): a runc
# container cli-1 on a veth pair talks HTTP to a Python server in the
# test's namespace "srv" over a connection it keeps open. The server
# answers requests, echoes any other line, and writes down how each
# connection ended: "eof" (closed) or "reset" (a RST arrived).
#  - learn: an HTTP request to srv:80 teaches the rule;
#  - monitor: an SQL injection on the open connection gives net.threat
#    with action "report"; the client ends it itself (eof);
#  - protect: the same injection gives net.threat with action "reset"; the
#    client's nc ends at once (its socket aborted) though its input stays
#    open for 60 s, and the server sees a reset;
#  - protect: SSH spoken on the port learned for HTTP (the kernel allows the
#    port, the policy denies the application) is reset too, with a
#    net.violation of action "reset", and the server sees a reset;
#  - ingress: container web-1 serves HTTP on 8080 (it holds a request that
#    carries an injection for 20 s); a Python client in namespace "ext"
#    learns it, then in protect mode its injection is reset by web-1's side
#    (net.threat direction ingress, action reset) and the client gets
#    ECONNRESET at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config
nt_rootfs
nt_pair srv 1 cli 2
nt_pair ext 3 web 4
cat >"$CT_ROOTFS/bin/http-hold" <<'SH'
#!/bin/sh
read -r line
case "$line" in *OR*) sleep 20 ;; esac
printf 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n'
SH
chmod +x "$CT_ROOTFS/bin/http-hold"
cat >"$T/server.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[2], "a", buffering=1)
def serve(conn, n):
    buf = b""
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                log.write("conn %d: eof\n" % n)
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.startswith(b"GET "):
                    continue
                if line.strip() == b"" :
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                elif not line.startswith(b"Host:"):
                    conn.sendall(line + b"\n")
    except ConnectionResetError:
        log.write("conn %d: reset\n" % n)
    finally:
        conn.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(16)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
PY
: >"$T/server.log"
nt_bg srv python3 "$T/server.py" 80 "$T/server.log"
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CLI=$(ct_id cli-1) G="$CT_PREFIX-cli" S_IP="$NT_NET.1"
wait_for eval "vctl net stats --json | jq -e --arg id '$CLI' '.captures[] | select(.workload == \$id and .interfaces == 1)'"

SQLI='GET /item?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\nHost: s\r\n\r\n'
# client SECONDS_OPEN FIRST SECOND: one connection, FIRST then after 1 s
# SECOND, input held open SECONDS_OPEN s; sets CPID (the runc exec).
client() {
    (printf %b "$2"; sleep 1; printf %b "$3"; sleep "$1") 2>/dev/null \
        | runc exec "$CLI" /bin/nc "$S_IP" 80 >"$T/client.out" 2>&1 &
    CPID=$!
}
ended() { ! kill -0 "$CPID" 2>/dev/null; }
wait_long() { # wait_long CMD...: up to 20 s
    for _ in $(seq 1 400); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    fail "timed out waiting for: $*"
}
conns() { grep -c "" "$T/server.log"; }

# ---- learn ----------------------------------------------------------------------
GET='GET / HTTP/1.1\r\nHost: s\r\n\r\n'
client 0 "$GET" ""
wait_long ended
learned() { vctl rules list --plane net --json | json_any "$1"; }
wait_long learned ".group == \"$G\" and .direction == \"egress\" and .port == \"80\" and .app == \"http\""
wait_long eval "[ \$(conns) -ge 1 ]"

# ---- monitor: reported, not reset -----------------------------------------------
vctl group mode "$G" monitor >/dev/null
client 2 "$GET" "$SQLI"
wait_long has_event net.threat ".workload == \"$CLI\" and .threat == \"sql-injection\" and .action == \"report\""
wait_long ended
wait_long eval "[ \$(conns) -ge 2 ]"
tail -1 "$T/server.log" | has "eof" || fail "monitor mode ended the connection: $(cat "$T/server.log")"

# ---- protect: the threat's connection is reset ----------------------------------
vctl group mode "$G" protect >/dev/null
start=$(date +%s)
client 60 "$GET" "$SQLI"
wait_long has_event net.threat ".workload == \"$CLI\" and .threat == \"sql-injection\" and .action == \"reset\"
    and .direction == \"egress\" and .server == \"$S_IP:80\""
wait_long ended
[ $(($(date +%s) - start)) -lt 30 ] || fail "the client's connection outlived the reset"
grep -q "ok" "$T/client.out" || fail "the request before the injection got no answer: $(cat "$T/client.out")"
wait_long eval "[ \$(conns) -ge 3 ]"
tail -1 "$T/server.log" | has "reset" || fail "the server did not see a reset: $(cat "$T/server.log")"

# ---- protect: an application the policy denies on an allowed port ---------------
client 60 "SSH-2.0-OpenSSH_9.2\r\n" "SSH-2.0-OpenSSH_9.2\r\n"
wait_long has_event net.violation ".workload == \"$CLI\" and .action == \"reset\" and .port == \"80\"
    and .app == \"ssh\" and .direction == \"egress\""
has_event net.violation ".workload == \"$CLI\" and .action == \"deny\" and .app == \"ssh\"" \
    || fail "no denial came before the reset"
wait_long ended
wait_long eval "[ \$(conns) -ge 4 ]"
tail -1 "$T/server.log" | has "reset" || fail "the server did not see the SSH connection reset: $(cat "$T/server.log")"
# ---- ingress: the protected workload is the server -----------------------------
CT_NETNS=$(nt_ns web) ct_start web-1 /bin/nc -ll -p 8080 -e /bin/http-hold
WEB=$(ct_id web-1) GW="$CT_PREFIX-web" W_IP="$NT_NET.4"
wait_for eval "vctl net stats --json | jq -e --arg id '$WEB' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
ask() { # ask PATH: one request from namespace ext; prints answered, reset or eof
    ip netns exec "$(nt_ns ext)" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=30)
s.sendall(("GET %s HTTP/1.0\r\nHost: w\r\n\r\n" % sys.argv[2]).encode())
try:
    data = s.recv(100)
    print("answered" if data else "eof")
except ConnectionResetError:
    print("reset")
' "$W_IP" "$1"
}
[ "$(ask /)" = answered ] || fail "web-1 does not answer while learning"
wait_long learned ".group == \"$GW\" and .direction == \"ingress\" and .port == \"8080\""
vctl group mode "$GW" protect >/dev/null
[ "$(ask /)" = answered ] || fail "protect mode stopped the learned client"
start=$(date +%s)
out=$(ask "/item?id=1%27%20OR%20%271%27%3D%271")
[ "$out" = reset ] || fail "the injection into protected web-1 was not reset: $out"
[ $(($(date +%s) - start)) -lt 15 ] || fail "the reset came only after the server's answer"
wait_long has_event net.threat ".workload == \"$WEB\" and .threat == \"sql-injection\"
    and .action == \"reset\" and .direction == \"ingress\""
stop_daemon
pass
