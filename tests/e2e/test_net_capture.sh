#!/usr/bin/env bash
# The net plugin captures inside the workloads' own network namespaces: two
# runc containers share namespace A (as the containers of a pod do) and are
# captured once; a third is alone in namespace B, joined to A by a veth
# pair the test made. net.stats lists one capture per namespace, with
# eth0 only (lo is left out by default) and the packets of an HTTP exchange
# between them, with no kernel drops. When a sharing container stops, the
# namespace stays captured for the other; an interface added to a namespace
# later is captured too, and one removed is let go; when the last one stops, its
# capture ends. A capture of several MiB (read from the daemon in 512 KiB
# chunks) reaches its file whole. The host's own interfaces are captured only with
# plugins.net.nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config

nt_rootfs
ct_writable_root a-1
mkdir -p "$FROOT/www"
head -c 4194304 /dev/urandom >"$FROOT/www/big"
nt_pair a 1 b 2
start_daemon
CT_ROOT="$FROOT" CT_NETNS=$(nt_ns a) ct_start a-1 /bin/httpd -f -p 80 -h /www
CT_NETNS=$(nt_ns a) ct_start a-2
CT_NETNS=$(nt_ns b) ct_start b-1
A1=$(ct_id a-1) A2=$(ct_id a-2) B1=$(ct_id b-1)

# capture ID: the capture entry of workload ID in the newest net.stats.
capture() {
    vctl net stats --json | jq -e --arg id "$1" '.captures[] | select(.workload == $id)'
}
captured() {
    capture "$1" | jq -e '.interfaces == 1' >/dev/null
}
wait_for captured "$B1"
wait_for eval 'captured "$A1" || captured "$A2"'
# One capture for the shared namespace, not two.
n=$(vctl net stats --json | jq --arg a "$A1" --arg b "$A2" \
    '[.captures[] | select(.workload == $a or .workload == $b)] | length')
[ "$n" -eq 1 ] || fail "namespace A is captured $n times: $(vctl net stats --json)"
shared() {
    vctl net stats --json | jq -e --arg a "$A1" --arg b "$A2" \
        '.captures[] | select(.members | index($a) and index($b))'
}
wait_for shared

# ---- traffic is seen on both sides -----------------------------------------------
runc exec "$B1" /bin/wget -q -O "/dev/null" "http://$NT_NET.1/" </dev/null \
    || fail "wget from b-1 to a-1 failed"
seen() {
    capture "$1" | jq -e '.packets >= 6 and .kernel_drops == 0' >/dev/null
}
wait_for seen "$B1"
AW=$(vctl net stats --json | jq -r --arg a "$A1" --arg b "$A2" \
    '.captures[] | select(.workload == $a or .workload == $b) | .workload')
wait_for seen "$AW"
vctl net stats | has "^$B1 *1 " || fail "vigilctl net stats has no row for $B1: $(vctl net stats)"
has_event net.stats ".namespaces >= 2" || fail "no net.stats event published"

# ---- a capture larger than one chunk read over the control socket ----------------
( sleep 0.3; runc exec "$B1" /bin/wget -q -O /dev/null "http://$NT_NET.1/big" </dev/null ) &
GET=$!
vctl --json capture "$B1" --seconds 2 -w "$T/big.pcap" >"$T/big.json" || fail "capture failed"
wait "$GET" || fail "the download during the capture failed"
n=$(jq .packets "$T/big.json")
[ "$(stat -c %s "$T/big.pcap")" -gt 1048576 ] || fail "the capture is small: $(cat "$T/big.json")"
[ "$(tshark -r "$T/big.pcap" 2>/dev/null | wc -l)" -eq "$n" ] \
    || fail "tshark does not read the $n packets reported"

# ---- interfaces added and removed after the start (as a CNI plugin does) ----------
B=$(nt_ns b)
ip link add "w$$b" type veth peer name "x$$b" || fail "cannot create a veth pair"
ip link set "w$$b" netns "$B"
ip -n "$B" link set "w$$b" up
ifaces() {
    capture "$B1" | jq -e ".interfaces == $1" >/dev/null
}
wait_for ifaces 2
ip -n "$B" link del "w$$b"
wait_for ifaces 1

# ---- following the workloads -------------------------------------------------------
ct_stop a-1
wait_for captured "$A2"
ct_stop a-2
gone() {
    ! vctl net stats --json | jq -e --arg a "$A1" --arg b "$A2" \
        '.captures[] | select(.workload == $a or .workload == $b)' >/dev/null
}
wait_for gone
captured "$B1" || fail "b-1's capture went with a's"
grep -q "no longer capturing $A2" "$LOG" || fail "the end of a's capture is not logged"
vctl net stats --json | jq -e '.captures | all(.workload != "")' >/dev/null \
    || fail "the host's interfaces are captured without plugins.net.nodes"
stop_daemon

# ---- the host's interfaces, with plugins.net.nodes ---------------------------------------
echo 'plugins.net.nodes = true' >>"$CONFIG"
start_daemon
host() {
    vctl net stats --json | jq -e '.captures[] | select(.workload == "" and .interfaces >= 1)'
}
wait_for host
stop_daemon
pass
