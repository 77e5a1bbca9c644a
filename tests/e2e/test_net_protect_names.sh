#!/usr/bin/env bash
# Protect mode for rules that name their peer by DNS name or by named
# network, enforced in the kernel: a runc container cli-1 and a plain
# namespace "ext" (no workload) joined by a veth pair; ext has addresses
# .1 (a DNS server answering api.vigil.test with .5, TTL 1 s, and an HTTP
# server on every address), .4 (in the named network "lab"), .5 and .6.
#  - learned: cli's DNS query to .1:53, its GET to api.vigil.test (.5) and
#    to lab (.4);
#  - protect: the GET to lab still passes (an LPM map of networks); .6,
#    named by no rule, fails with EPERM; .5 is allowed only while the DNS
#    answer that named it lasts (plugins.net.dns_min_ttl_s = 3 here): once
#    it expired the GET fails with EPERM, after a new nslookup (the query
#    and its answer pass protect mode, UDP both ways) it passes again, and
#    expires again; a connect() the moment the answer is in passes at once
#    (the kernel reads the answer before the socket gets it);
#  - the container restarted (new cgroup): connections from it are refused
#    again once the daemon has found it; the window is printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

command -v bpftool >/dev/null || fail "bpftool is not installed (scripts/deps.sh)"
command -v python3 >/dev/null || fail "python3 is not installed"
grep -q cgroup2 /proc/mounts || { echo "SKIP: no cgroup v2 mount"; exit 77; }
nt_config "networks = \"lab=$NT_NET.4/32\", dns_min_ttl_s = 3"
nt_rootfs
nt_pair ext 1 cli 2
EXT=$(nt_ns ext)
for a in 4 5 6; do ip -n "$EXT" addr add "$NT_NET.$a/24" dev eth0; done
mkdir -p "$T/www"
echo "outside" >"$T/www/index.html"
nt_bg ext busybox httpd -f -p 80 -h "$T/www"
nt_dns ext "$NT_NET.1" api.vigil.test "$NT_NET.5" 1
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CLI=$(ct_id cli-1) GCLI="$CT_PREFIX-cli"
wait_for eval "vctl net stats --json | jq -e --arg id '$CLI' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
pid=$(runc state "$CLI" | jq -r .pid)
CG="$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
progs() {
    # (a cgroup that is gone: bpftool prints {"error": ...}, no list)
    bpftool -j cgroup show "$CG" 2>/dev/null | jq -s --arg n "$1" '[.[] | arrays | .[] | select(.name == $n)] | length'
}
resolve() {
    runc exec "$CLI" /bin/nslookup api.vigil.test "$NT_NET.1" </dev/null >"$T/ns" 2>&1 \
        || fail "nslookup failed: $(cat "$T/ns")"
    grep -q "$NT_NET.5" "$T/ns" || fail "the test's DNS server did not answer: $(cat "$T/ns")"
}
get() { runc exec "$CLI" /bin/timeout 3 /bin/wget -q -O - "http://$NT_NET.$1/" </dev/null >"$T/page" 2>&1; }
learned() { vctl rules list --plane net --json | json_any ".group == \"$GCLI\" and .direction == \"egress\" and $1"; }

# ---- learn ------------------------------------------------------------------------------
resolve
get 5 || fail "no page from api.vigil.test while learning: $(cat "$T/page")"
get 4 || fail "no page from lab while learning: $(cat "$T/page")"
wait_for learned '.peer == "api.vigil.test" and .port == "80"'
wait_for learned '.peer == "lab" and .port == "80"'
wait_for learned ".peer == \"$NT_NET.1\" and .port == \"53\" and .proto == \"udp\""

# ---- protect ----------------------------------------------------------------------------
vctl group mode "$GCLI" protect >/dev/null
wait_for eval "[ \$(progs vg_connect4) -eq 1 ]"
get 4 || fail "protect refused lab, a learned named network: $(cat "$T/page")"
grep -q outside "$T/page" || fail "no page from lab"
get 6 && fail "protect let .6 through: no rule names it"
grep -q "Operation not permitted" "$T/page" || fail ".6 not refused with EPERM: $(cat "$T/page")"

# The learned answer has expired (TTL 1 s, kept 3 s): .5 is refused.
expired() { ! get 5 && grep -q "Operation not permitted" "$T/page"; }
wait_for expired
wait_for has_event net.violation ".workload == \"$CLI\" and .action == \"deny\" and .peer_ip == \"$NT_NET.5\"
    and .port == \"80\" and .enforced_by == \"kernel\""
# A new answer opens it again.
resolve
start=$(date +%s%N)
opened() { get 5; }
wait_for opened
echo "answer -> allowed: $((($(date +%s%N) - start) / 1000000)) ms (including wget's own start)" >&2
grep -q outside "$T/page" || fail "no page from api.vigil.test after the answer"
# ... until it expires again.
wait_for expired
# As an application sees it: a process of the container (in its cgroup and
# namespace) asks for the name and connect()s the moment the answer is in:
# it passes at once (the ingress program added the answer's address to the
# map before the socket got it), and it is refused again once the answer
# expired.
cat >"$T/race.py" <<'PY'
import errno, socket, struct, sys, time
dns, want = sys.argv[1], sys.argv[2]
q = struct.pack("!HHHHHH", 0x4242, 0x100, 1, 0, 0, 0) + b"\x03api\x05vigil\x04test\x00" + struct.pack("!HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(q, (dns, 53))
u.recvfrom(512)
t0, refused = time.monotonic(), 0
while time.monotonic() - t0 < 5:
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect((want, 80))
        break
    except OSError as e:
        if e.errno != errno.EPERM:
            raise
        refused += 1
    finally:
        c.close()
print("%d %.1f" % (refused, (time.monotonic() - t0) * 1000))
PY
out=$(bash -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$1" python3 "$2" "$3" "$4"' \
    "$CG" "$(nt_ns cli)" "$T/race.py" "$NT_NET.1" "$NT_NET.5") || fail "race.py: $out"
read -r refused ms <<<"$out"
echo "connect() right after the answer: refused $refused times, allowed after $ms ms" >&2
# The kernel reads the answer before the socket gets it: never refused.
[ "$refused" = 0 ] || fail "connect() right after the answer was refused $refused times ($out)"
wait_for expired
get 4 || fail "lab refused after the name expired"

# ---- a restarted workload: how long it is open --------------------------------------------
# The container restarts under its name (a new init in a new cgroup). A
# process waiting in the container's namespace joins the cgroup the moment
# the new init shows in it, and connect()s to .6 (refused by protect) until
# the daemon has found the workload and attached the programs: the window
# is printed (docs/net.md "Failure semantics"), and it must close.
cat >"$T/window.py" <<'PY'
import ctypes, errno, os, socket, sys, time
cg, old, dest, netns = sys.argv[1:5]
# Enters the namespace itself (ip netns exec would hide the host's /sys/fs/cgroup).
ns = os.open("/var/run/netns/" + netns, os.O_RDONLY)
if ctypes.CDLL(None, use_errno=True).setns(ns, 0x40000000) != 0:
    sys.exit("setns: %s" % os.strerror(ctypes.get_errno()))
open(sys.argv[5], "w").close()
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        pids = open(cg + "/cgroup.procs").read().split()
    except OSError:
        pids = []
    if pids and old not in pids:
        break
    time.sleep(0.001)
open(cg + "/cgroup.procs", "w").write(str(os.getpid()))
# The window is until the start of the last connect() that went through: a
# connect() in flight when the programs attach may stall (its handshake
# retried) before the first EPERM, which is then later than the window.
t0, passed, last = time.monotonic(), 0, None
while time.monotonic() - t0 < 20:
    c = socket.socket()
    c.settimeout(2)
    t = time.monotonic()
    try:
        c.connect((dest, 80))
        passed, last = passed + 1, t
    except OSError as e:
        if e.errno == errno.EPERM:
            print("%d %.0f %.0f" % (passed, ((last or t0) - t0) * 1000, (time.monotonic() - t0) * 1000))
            sys.exit(0)
    finally:
        c.close()
print("%d never never" % passed)
PY
python3 "$T/window.py" "$CG" "$pid" "$NT_NET.6" "$(nt_ns cli)" "$T/polling" >"$T/window" 2>&1 &
WINDOW=$!
NT_PIDS+=($WINDOW)
wait_for test -e "$T/polling"
ct_stop cli-1
# The daemon has seen it stop (and detached its programs) before it starts
# again: the window measured is that of a new start.
gone() { ! vctl workloads --json | json_any ".id == \"$CLI\""; }
wait_for gone
wait_for eval "[ \$(progs vg_connect4) -eq 0 ]"
CT_NETNS=$(nt_ns cli) ct_start cli-1
wait "$WINDOW" || fail "window.py: $(cat "$T/window")"
read -r passed ms eperm <"$T/window"
echo "restarted workload: open for $ms ms after its init appeared ($passed connections passed; first EPERM after $eperm ms)" >&2
[ "$ms" != never ] || fail "the restarted workload was never protected"
stop_daemon
pass
