# Helpers for end-to-end tests of the net plugin: network namespaces joined
# by veth pairs, made by the test and removed when it exits, with addresses
# in a private range that exist on those veths only (no route leaves them).
# Containers join a namespace with CT_NETNS=NAME ct_start (lib_container.sh).
# Source after lib_container.sh; needs root and iproute2.
: "${CT_PREFIX:?source lib_container.sh first}"

command -v ip >/dev/null || fail "iproute2 is not installed"
NT_NAMES=()
# A /24 of 10.0.0.0/8 of this run: other runs' namespaces (and their
# containers, which this daemon also sees) use other addresses.
NT_NET="10.$((100 + $$ % 100)).$(($$ / 100 % 250))"

nt_cleanup() {
    local n
    for n in "${NT_NAMES[@]}"; do
        ip netns del "$n" 2>/dev/null || true
    done
    NT_NAMES=()
}
trap '_nt_rc=$?; set +e; ct_cleanup; nt_cleanup; (exit $_nt_rc); cleanup' EXIT

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

# nt_rootfs: the busybox root of lib_container.sh with the network applets,
# a page for httpd in /www, and /bin/http-reply, a one-shot HTTP answer for
# `nc -ll -e` (an HTTP server on any port, not known as one by its port).
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
    chmod +x "$CT_ROOTFS/bin/http-reply"
}
