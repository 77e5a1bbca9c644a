#!/usr/bin/env bash
# Live capture by the net plugin: small packets pushed through a veth pair
# as fast as a generator can, into a runc container's network namespace
# that vigild captures.
#
# The generator is tcpreplay --topspeed, in namespace G, replaying a file of
# 64-byte UDP frames over FLOWS flows towards the container's address in
# namespace S (the peer of the veth pair). In one run:
#   1. the generator alone (no daemon): its rate, from the frames the
#      receiving interface counted;
#   2. the same with vigild capturing S: the rate, what vigild captured and
#      classified (its net.stats: packets, flows) with the kernel's drops
#      (pcap_stats ps_drop, summed over the rings), and the CPU time (utime
#      + stime from /proc) per 10k packets of the capture threads (named
#      net-capture) and of the whole daemon (which also serves the other
#      workloads of a shared host);
#   (1 and 2 alternated ROUNDS times, the daemon started afresh in each;
#   medians compared)
#   3. if step 2 dropped packets, the generator paced (tcpreplay --pps) at
#      lower rates until a run with zero kernel drops: the highest rate
#      captured without loss.
# Needs root, runc, busybox-static, tcpreplay, iproute2.
#
#   VIGIL_BUILD=build-bench SECONDS_EACH=5 FLOWS=256 bench/bench_net_live.sh
. "$(dirname "$0")/lib/container.sh"
SECONDS_EACH=${SECONDS_EACH:-5}
FLOWS=${FLOWS:-256}
NSG="vgbg$$" NSS="vgbs$$"
NET="10.$((100 + $$ % 100)).$(($$ / 100 % 250))"
net_cleanup() {
    bench_cleanup
    ip netns del "$NSG" 2>/dev/null || true
    ip netns del "$NSS" 2>/dev/null || true
}
trap net_cleanup EXIT
command -v tcpreplay >/dev/null || { echo "tcpreplay is not installed" >&2; exit 1; }

ip netns add "$NSG"
ip netns add "$NSS"
ip link add "vbg$$" type veth peer name "vbs$$"
ip link set "vbg$$" netns "$NSG"
ip link set "vbs$$" netns "$NSS"
ip -n "$NSG" link set "vbg$$" name eth0
ip -n "$NSS" link set "vbs$$" name eth0
ip -n "$NSG" addr add "$NET.1/24" dev eth0
ip -n "$NSS" addr add "$NET.2/24" dev eth0
for n in "$NSG" "$NSS"; do ip -n "$n" link set eth0 up; ip -n "$n" link set lo up; done
MAC=$(ip -n "$NSS" -j link show eth0 | jq -r '.[0].address')

# The frames: Ethernet + IPv4 + UDP with 18 bytes of payload (64 bytes on
# the wire without FCS... 60 + 4), FLOWS source ports.
python3 - "$T/small.pcap" "$MAC" "$NET" "$FLOWS" <<'PY'
import struct, sys
path, mac, net, flows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dst_mac = bytes(int(x, 16) for x in mac.split(":"))
src_mac = bytes([0x02, 0, 0, 0, 0, 1])
src = bytes(int(x) for x in (net + ".1").split("."))
dst = bytes(int(x) for x in (net + ".2").split("."))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(flows * 4):
        payload = b"x" * 18
        udp = struct.pack("!HHHH", 20000 + i % flows, 9999, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = dst_mac + src_mac + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", 0, i, len(frame), len(frame)) + frame)
PY

rx() { ip -n "$NSS" -j -s link show eth0 | jq '.[0].stats64.rx.packets'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
# The capture threads' CPU alone (the daemon's other threads also serve the
# other workloads of a shared host).
capture_ticks() {
    local t v n=0
    for t in /proc/$PID/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = net-capture ] || continue
        v=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null) || continue # a thread just gone
        n=$((n + ${v:-0}))
    done
    echo "$n"
}
TCK=$(getconf CLK_TCK)
# send [PPS]: runs the generator for SECONDS_EACH; prints "frames seconds".
send() {
    local a b t0 t1 rate=(--topspeed)
    [ -n "${1:-}" ] && rate=(--pps="$1")
    a=$(rx)
    t0=$(date +%s%N)
    ip netns exec "$NSG" tcpreplay -q -i eth0 "${rate[@]}" --loop=0 --duration="$SECONDS_EACH" \
        "$T/small.pcap" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    b=$(rx)
    echo "$((b - a)) $(( (t1 - t0) / 1000000 ))"
}
pps() { echo $(( $1 * 1000 / $2 )); }

# The container in namespace S, captured by vigild.
mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sleep"
stats() { ctl net stats --json | jq -c --arg id "$CT" '.captures[] | select(.workload == $id)'; }
daemon_up() {
    bench_daemon net 'plugins = { net = { stats_interval_ms = 0, buffer_kb = 8192, interval_ms = 1000 } }'
    bench_container '.linux.namespaces |= map(if .type == "network" then .path = "/var/run/netns/'"$NSS"'" else . end)'
    until stats | jq -e '.interfaces == 1' >/dev/null 2>&1; do sleep 0.1; done
}
daemon_down() {
    runc kill "$CT" KILL >/dev/null 2>&1 || true
    sleep 0.2
    runc delete -f "$CT" >/dev/null 2>&1 || true
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    rm -rf "$T/state" "$T/bundle" "$T/plugins" "$T/policies"
}

# run_captured [PPS]: one run with the daemon up; sets RATE GOT N DROPS FLOWS CPU_MS.
run_captured() {
    local s0 s1 c0 c1 ms
    s0=$(stats)
    c0=$(cpu_ticks)
    k0=$(capture_ticks)
    read -r N ms < <(send "${1:-}")
    sleep 1.5 # the last blocks reach the thread; its counters are published each second
    c1=$(cpu_ticks)
    k1=$(capture_ticks)
    s1=$(stats)
    GOT=$(( $(jq .packets <<<"$s1") - $(jq .packets <<<"$s0") ))
    DROPS=$(( $(jq .kernel_drops <<<"$s1") - $(jq .kernel_drops <<<"$s0") ))
    FLOWS=$(jq .flows_total <<<"$s1")
    CPU_MS=$(( (c1 - c0) * 1000 / TCK ))
    CAP_MS=$(( (k1 - k0) * 1000 / TCK ))
    RATE=$(pps "$N" "$ms")
}
per10k() { awk -v c="$1" -v p="$2" 'BEGIN { printf "%.2f", p ? c * 10000 / p : 0 }'; }

ROUNDS=${ROUNDS:-3}
echo "generator: tcpreplay --topspeed, 64-byte UDP frames over $FLOWS flows, ${SECONDS_EACH}s per run, $ROUNDS rounds alternated"
alone=() with=() drops_total=0
for r in $(seq 1 "$ROUNDS"); do
    read -r n ms < <(send)
    alone+=("$(pps "$n" "$ms")")
    daemon_up
    run_captured
    daemon_down
    with+=("$RATE")
    drops_total=$((drops_total + DROPS))
    printf 'round %d: alone %8s pps | with vigild %8s pps, captured %s of %s, kernel drops %s, flows %s, CPU per 10k packets: capture threads %s ms, all of vigild %s ms\n' \
        "$r" "${alone[-1]}" "$RATE" "$GOT" "$N" "$DROPS" "$FLOWS" "$(per10k "$CAP_MS" "$GOT")" \
        "$(per10k "$CPU_MS" "$GOT")"
done
A=$(printf '%s\n' "${alone[@]}" | median)
W=$(printf '%s\n' "${with[@]}" | median)
printf 'median: generator alone %s pps, with vigild capturing %s pps (%s x), kernel drops in all rounds: %s\n' \
    "$A" "$W" "$(awk -v a="$W" -v b="$A" 'BEGIN { printf "%.2f", a / b }')" "$drops_total"

# If the full rate dropped packets: paced runs, lower each time, until none.
if [ "$drops_total" -gt 0 ]; then
    daemon_up
    rate=$(( W * 9 / 10 ))
    while [ "$rate" -gt 1000 ]; do
        run_captured "$rate"
        printf 'paced at %s pps: %s pps, captured %s of %s, kernel drops %s\n' "$rate" "$RATE" "$GOT" "$N" "$DROPS"
        [ "$DROPS" -eq 0 ] && break
        rate=$(( rate * 8 / 10 ))
    done
    echo "highest rate captured with zero kernel drops: $RATE pps"
fi
