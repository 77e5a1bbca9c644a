#!/usr/bin/env bash
# Protect mode for UDP, quarantine exceptions, `vigilctl workloads` showing
# the quarantine, and enforce / quarantine_allow / on_stop changed by a
# reload; real runc containers S and A and a plain namespace X (no
# workload) on a bridge of veth pairs this test makes. The UDP programs run
# inside the containers' cgroups and namespaces (python3 joined to them:
# busybox has no UDP server), so the kernel judges them as the containers.
#  - learned: A's datagrams to S's UDP echo on 7000, unconnected (sendto)
#    and connected (connect + send), and S's answers;
#  - protect S and A: both still get their echo; A to S:7001 fails at once
#    with EPERM, unconnected and connected, reported (deny, egress, udp,
#    kernel); X's datagrams to S:7000 never reach S's server and are
#    reported (deny, ingress, udp, kernel) at most once per interval;
#  - quarantine S with plugins.net.quarantine_allow = "X:80": X (the
#    "kubelet") still gets S's page on 80, A's datagrams to S stop;
#    `vigilctl workloads` shows S "on" and A "off" (table and --json);
#  - reload: quarantine_allow = "" stops X's probe (a bad value is refused
#    with a clear error); enforce = false detaches A's protect programs (A
#    to X:7001, no workload, is no longer refused); enforce = true attaches
#    them again (refused); on_stop = "open" set by a reload makes SIGTERM
#    remove every program.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

command -v bpftool >/dev/null || fail "bpftool is not installed (scripts/deps.sh)"
command -v python3 >/dev/null || fail "python3 is not installed"
grep -q cgroup2 /proc/mounts || { echo "SKIP: no cgroup v2 mount"; exit 77; }
nt_rootfs

nt_star srv cla ext
S_IP="$NT_NET.1" X_IP="$NT_NET.3"
nt_config "quarantine_allow = \"$X_IP:80\""

# udp.py serve PORT: an echo server; udp.py send sendto|connect HOST PORT:
# one datagram, prints "reply", "timeout" or the error's name.
cat >"$T/udp.py" <<'PY'
import errno, socket, sys
if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    while True:
        d, peer = s.recvfrom(2048)
        print(peer[0], d.decode(errors="replace"), flush=True)
        s.sendto(d, peer)
mode, host, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
try:
    if mode == "connect":
        s.connect((host, port))
        s.send(b"hi")
    else:
        s.sendto(b"hi", (host, port))
    s.recvfrom(2048)
    print("reply")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY

start_daemon
CT_NETNS=$(nt_ns srv) ct_start srv-1 /bin/httpd -f -p 80 -h /www
CT_NETNS=$(nt_ns cla) ct_start cla-1
S=$(ct_id srv-1) A=$(ct_id cla-1)
GS="$CT_PREFIX-srv" GA="$CT_PREFIX-cla"
cgroup_of() {
    local pid
    pid=$(runc state "$1" | jq -r .pid)
    echo "$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
}
CG_S=$(cgroup_of "$S") CG_A=$(cgroup_of "$A")
[ "$CG_S" != "$CG_A" ] || fail "the containers share a cgroup"
inct() { # inct CGROUP NETNS CMD...: CMD inside a container's cgroup and namespace
    bash -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$1" "${@:2}"' "$@"
}
inct "$CG_S" "$(nt_ns srv)" python3 -u "$T/udp.py" serve 7000 </dev/null >"$T/srv.log" 2>&1 &
NT_PIDS+=($!)
udp_a() { inct "$CG_A" "$(nt_ns cla)" python3 "$T/udp.py" send "$@"; }
udp_x() { ip netns exec "$(nt_ns ext)" python3 "$T/udp.py" send "$@"; }
progs() {
    bpftool -j cgroup show "$1" 2>/dev/null | jq -s --arg n "$2" '[.[][]? | select(.name == $n)] | length'
}
captured() {
    vctl net stats --json | jq -e --arg id "$1" '.captures[] | select(.workload == $id and .interfaces == 1)'
}
for w in "$S" "$A"; do wait_for captured "$w"; done
count() { vctl events --json --limit 10000 --type "$1" | jq -s "map(select($2)) | length"; }

# ---- learn ------------------------------------------------------------------------------
wait_for eval "[ \"\$(udp_a sendto $S_IP 7000)\" = reply ]"
[ "$(udp_a connect "$S_IP" 7000)" = reply ] || fail "A's connected UDP got no echo while learning"
learned() { vctl rules list --plane net --json | json_any "$1"; }
wait_for learned ".group == \"$GA\" and .direction == \"egress\" and .peer == \"$GS\" and .port == \"7000\" and .proto == \"udp\""
wait_for learned ".group == \"$GS\" and .direction == \"ingress\" and .peer == \"$GA\" and .port == \"7000\" and .proto == \"udp\""

# ---- protect ----------------------------------------------------------------------------
vctl group mode "$GA" protect >/dev/null
vctl group mode "$GS" protect >/dev/null
wait_for eval "[ \$(progs '$CG_A' vg_sendmsg4) -eq 1 ] && [ \$(progs '$CG_S' vg_in_protect) -eq 1 ]"
r=$(udp_a sendto "$S_IP" 7000)
[ "$r" = reply ] || fail "protect stopped A's learned datagrams (sendto): $r"
r=$(udp_a connect "$S_IP" 7000)
[ "$r" = reply ] || fail "protect stopped A's learned datagrams (connected): $r"
for mode in sendto connect; do
    r=$(udp_a "$mode" "$S_IP" 7001)
    [ "$r" = EPERM ] || fail "A's datagram to S:7001 ($mode), never learned: $r, not EPERM"
done
wait_for has_event net.violation ".workload == \"$A\" and .action == \"deny\" and .direction == \"egress\"
    and .peer == \"$GS\" and .port == \"7001\" and .proto == \"udp\" and .enforced_by == \"kernel\""

# X, no workload and allowed by no rule: its datagrams never reach S's server.
r=$(udp_x sendto "$S_IP" 7000)
[ "$r" = timeout ] || fail "X's datagram to protected S:7000: $r"
XDENY=".workload == \"$S\" and .group == \"$GS\" and .action == \"deny\" and .direction == \"ingress\"
    and .peer == \"$X_IP\" and .port == \"7000\" and .proto == \"udp\" and .enforced_by == \"kernel\""
wait_for has_event net.violation "$XDENY"
grep -q "^$X_IP " "$T/srv.log" && fail "S's server received X's datagram: $(cat "$T/srv.log")"
grep -q "^$NT_NET.2 " "$T/srv.log" || fail "S's server log misses A: $(cat "$T/srv.log")"
n=$(count net.violation "$XDENY")
# Five datagrams from one socket within a few milliseconds.
ip netns exec "$(nt_ns ext)" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    s.sendto(b'x', ('$S_IP', 7000))"
sleep 0.3
m=$(count net.violation "$XDENY")
[ "$m" -le $((n + 1)) ] || fail "$((m - n)) reports for 5 denied datagrams of one key in an interval"

# ---- quarantine with an exception -------------------------------------------------------------
# S back to learning: only quarantine stops its traffic below.
vctl group mode "$GS" learn >/dev/null
wait_for eval "[ \$(progs '$CG_S' vg_in_protect) -eq 0 ]"
xget() { ip netns exec "$(nt_ns ext)" busybox timeout 3 busybox wget -q -O - "http://$S_IP:80/" >"$T/x" 2>&1; }
xget || fail "X cannot reach S:80 before the quarantine: $(cat "$T/x")"
vctl workloads | awk -v s="$S" '$2 == s' | has ' off$' || fail "S is not shown unquarantined: $(vctl workloads)"
vctl quarantine "$S" on >/dev/null || fail "vigilctl quarantine on failed"
[ "$(udp_a sendto "$S_IP" 7000)" = timeout ] || fail "A's datagram reached quarantined S"
xget || fail "X, an exception (quarantine_allow $X_IP:80), lost S:80: $(cat "$T/x")"
grep -q "hello from vigil" "$T/x" || fail "X did not get S's page"
[ "$(udp_x sendto "$S_IP" 7000)" = timeout ] || fail "X reached S:7000, not an excepted port"
vctl workloads >"$T/wl"
awk -v s="$S" '$2 == s' "$T/wl" | has ' on$' || fail "vigilctl workloads does not show S quarantined: $(cat "$T/wl")"
awk -v a="$A" '$2 == a' "$T/wl" | has ' off$' || fail "vigilctl workloads shows A quarantined: $(cat "$T/wl")"
head -1 "$T/wl" | has QUARANTINE || fail "no QUARANTINE column: $(head -1 "$T/wl")"
vctl workloads --json | json_any ".id == \"$S\" and .quarantine == \"on\"" \
    || fail "vigilctl workloads --json: $(vctl workloads --json)"
vctl workloads --json | json_any ".id == \"$A\" and .quarantine == \"off\"" \
    || fail "vigilctl workloads --json shows A quarantined: $(vctl workloads --json)"

# ---- reload ----------------------------------------------------------------------------------
sed -i "s/quarantine_allow = \"$X_IP:80\"/quarantine_allow = \"\"/" "$CONFIG"
grep -q 'quarantine_allow = ""' "$CONFIG" || fail "the test did not change the config"
vctl reload >/dev/null || fail "vigilctl reload failed"
xfails() { ! xget; }
wait_for xfails
# A bad exception is refused at reload with a clear error; the plugin
# keeps its settings.
sed -i 's/quarantine_allow = ""/quarantine_allow = "not-an-address"/' "$CONFIG"
vctl reload >/dev/null 2>&1 || true
refused() { grep -q 'quarantine_allow: "not-an-address": want ADDR' "$LOG"; }
wait_for refused
sed -i 's/quarantine_allow = "not-an-address"/quarantine_allow = ""/' "$CONFIG"
vctl quarantine "$S" off >/dev/null
vctl workloads --json | json_any ".id == \"$S\" and .quarantine == \"off\"" \
    || fail "vigilctl workloads still shows S quarantined after off"

sed -i 's/quarantine_allow = ""/quarantine_allow = "", enforce = false/' "$CONFIG"
vctl reload >/dev/null || fail "vigilctl reload failed"
wait_for eval "[ \$(progs '$CG_A' vg_sendmsg4) -eq 0 ]"
# (S learns now, so A may reach it on any port: X's address is the test.)
r=$(udp_a sendto "$X_IP" 7001)
[ "$r" != EPERM ] || fail "enforce = false by a reload: A is still refused"
sed -i 's/enforce = false/enforce = true, on_stop = "open"/' "$CONFIG"
vctl reload >/dev/null || fail "vigilctl reload failed"
wait_for eval "[ \$(progs '$CG_A' vg_sendmsg4) -eq 1 ]"
r=$(udp_a sendto "$X_IP" 7001)
[ "$r" = EPERM ] || fail "enforce = true by a reload: A is not refused: $r"
stop_daemon
for h in vg_connect4 vg_sendmsg4 vg_in_protect; do
    [ "$(progs "$CG_A" "$h")" -eq 0 ] || fail "on_stop = open (by a reload) left $h attached"
done
pass
