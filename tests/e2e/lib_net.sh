# Helpers for end-to-end tests of the net plugin: network namespaces joined
# by veth pairs, made by the test and removed when it exits, with addresses
# in a private range that exist on those veths only (no route leaves them).
# Containers join a namespace with CT_NETNS=NAME ct_start (lib_container.sh).
# Source after lib_container.sh; needs root and iproute2.
: "${CT_PREFIX:?source lib_container.sh first}"

command -v ip >/dev/null || fail "iproute2 is not installed"
NT_NAMES=()
NT_PIDS=()
# A /24 of 10.0.0.0/8 of this run: other runs' namespaces (and their
# containers, which this daemon also sees) use other addresses.
NT_NET="10.$((100 + $$ % 100)).$(($$ / 100 % 250))"

nt_cleanup() {
    local n
    for n in "${NT_PIDS[@]}"; do
        kill "$n" 2>/dev/null || true
    done
    NT_PIDS=()
    for n in "${NT_NAMES[@]}"; do
        ip netns del "$n" 2>/dev/null || true
    done
    NT_NAMES=()
NT_PIDS=()
}
trap '_nt_rc=$?; set +e; ct_cleanup; nt_cleanup; (exit $_nt_rc); cleanup' EXIT

# nt_config [SETTINGS]: $CONFIG for a daemon with the net plugin and the
# shipped policies, quick intervals (stats and rescans every 300 ms, events
# once per second) and SETTINGS ("key = value, ...") for plugins.net.
nt_config() {
    cp "$VIGIL_BUILD/plugins/net.so" "$PLUGINS/"
    cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
    CONFIG="$T/vigil.lua"
    cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
    echo "plugins = { net = { stats_interval_ms = 300, rescan_ms = 300, interval_ms = 1000${1:+, $1} } }" \
        >>"$CONFIG"
}

# nt_ns NAME: the namespace's full name (unique to this run).
nt_ns() {
    echo "vgn$$-$1"
}

# nt_pair A HOST_A B HOST_B: namespaces A and B joined by a veth pair, with
# addresses $NT_NET.HOST_A and $NT_NET.HOST_B (/24) and lo up in both.
nt_pair() {
    local a b
    a=$(nt_ns "$1")
    b=$(nt_ns "$3")
    ip netns add "$a" && NT_NAMES+=("$a")
    ip netns add "$b" && NT_NAMES+=("$b")
    # Interface names must fit 15 characters and be unique on the host
    # while they are created there.
    ip link add "v$$a$2" type veth peer name "v$$b$4" || fail "cannot create a veth pair"
    ip link set "v$$a$2" netns "$a"
    ip link set "v$$b$4" netns "$b"
    ip -n "$a" link set "v$$a$2" name eth0
    ip -n "$b" link set "v$$b$4" name eth0
    ip -n "$a" addr add "$NT_NET.$2/24" dev eth0
    ip -n "$b" addr add "$NT_NET.$4/24" dev eth0
    local n
    for n in "$a" "$b"; do
        ip -n "$n" link set lo up
        ip -n "$n" link set eth0 up
    done
}

# nt_star NAME...: namespace "br" holding a bridge, and a namespace per
# NAME with eth0 on it: the i-th (from 1) gets $NT_NET.i/24 and, when
# NT_V6NET is set (a /64 prefix ending in "::"), $NT_V6NET$i/64 too.
nt_star() {
    local br n ns host=1
    br=$(nt_ns br)
    ip netns add "$br" && NT_NAMES+=("$br")
    ip -n "$br" link add br0 type bridge
    ip -n "$br" link set br0 up
    for n in "$@"; do
        ns=$(nt_ns "$n")
        ip netns add "$ns" && NT_NAMES+=("$ns")
        ip -n "$ns" link set lo up
        nt_star_join "$n" "$host"
        host=$((host + 1))
    done
}

# nt_star_join NAME HOST: namespace NAME (made already) gets eth0 on the
# bridge of nt_star, with $NT_NET.HOST/24 (and $NT_V6NET$HOST/64), up.
nt_star_join() {
    local ns br
    ns=$(nt_ns "$1")
    br=$(nt_ns br)
    ip link add "v$$$1" type veth peer name "b$$$1" || fail "cannot create a veth pair"
    ip link set "v$$$1" netns "$ns"
    ip link set "b$$$1" netns "$br"
    ip -n "$br" link set "b$$$1" master br0 up
    ip -n "$ns" link set "v$$$1" name eth0
    ip -n "$ns" addr add "$NT_NET.$2/24" dev eth0
    [ -z "${NT_V6NET:-}" ] || ip -n "$ns" addr add "$NT_V6NET$2/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
}

# nt_rootfs: the busybox root of lib_container.sh with the network applets,
# a page for httpd in /www, and /bin/http-reply, a one-shot HTTP answer for
# `nc -ll -e` (an HTTP server on any port, not known as one by its port),
# and /bin/http-slow, the same answer after 1.5 s.
nt_rootfs() {
    ct_rootfs
    local a
    for a in httpd wget nc ip ifconfig nslookup timeout; do
        ln -sf busybox "$CT_ROOTFS/bin/$a"
    done
    mkdir -p "$CT_ROOTFS/www"
    echo "hello from vigil" >"$CT_ROOTFS/www/index.html"
    cat >"$CT_ROOTFS/bin/http-reply" <<'SH'
#!/bin/sh
read -r line
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nodd!\r\n'
SH
    # The same after a pause: the client's socket lives long enough to be
    # looked up (test_net_shared_ns.sh).
    sed 's/^read -r line$/read -r line; sleep 1.5/' "$CT_ROOTFS/bin/http-reply" \
        >"$CT_ROOTFS/bin/http-slow"
    chmod +x "$CT_ROOTFS/bin/http-reply" "$CT_ROOTFS/bin/http-slow"
}

# nt_bg NAME CMD...: runs CMD in namespace NAME (not a container: no
# workload) in the background until the test ends.
nt_bg() {
    local ns
    ns=$(nt_ns "$1")
    shift
    ip netns exec "$ns" "$@" </dev/null >/dev/null 2>&1 &
    NT_PIDS+=($!)
}

# nt_dns NAME ADDR QNAME ANSWER [TTL]: a DNS server on ADDR:53 in namespace
# NAME that answers the A query of QNAME with ANSWER (TTL seconds, 300 by
# default), any other query with no answer.
nt_dns() {
    nt_bg "$1" python3 -c '
import socket, struct, sys
addr, qname, answer, ttl = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
        i += 1 + q[i]
    if i + 5 > len(q):
        continue
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    known = ".".join(labels).lower() == qname
    a = known and qtype == 1
    hdr = q[:2] + struct.pack("!HHHHH", 0x8180 if known else 0x8183, 1, 1 if a else 0, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, int(ttl), 4) + socket.inet_aton(answer) if a else b""
    s.sendto(hdr + q[12:i + 5] + rr, peer)
' "$2" "$3" "$4" "${5:-300}"
}
