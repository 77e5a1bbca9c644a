#!/usr/bin/env bash
# Cost of protect mode (plugins/net, kernel enforcement) against no daemon,
# in one run, on a veth pair between two namespaces this script makes:
#   - throughput: iperf3 (10 s by default) from a runc container's cgroup and
#     namespace C to iperf3 -s in namespace S;
#   - connection setup: short TCP connections (connect, one byte each way,
#     close) from the container's cgroup to a server in S, per second;
#   - the latency from `vigilctl rules add` to the first connect() that
#     passes (a connection refused, then allowed by the rule).
# The clients are host programs (iperf3, python3) moved into the container's
# cgroup v2 and run in its namespace, so the kernel treats them as the
# workload's. Rounds alternate no daemon / vigild with the group in protect
# mode (the two connections learned first, then protect), medians compared.
# Needs root, runc, busybox-static, iperf3, python3, iproute2.
#
#   VIGIL_BUILD=build-bench SECONDS_EACH=10 ROUNDS=3 bench/bench_net_enforce.sh
. "$(dirname "$0")/lib/container.sh"
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
NSC="vgec$$" NSS="vges$$"
NET="10.$((100 + $$ % 100)).$(($$ / 100 % 250))"
SRV=()
net_cleanup() {
    for p in "${SRV[@]}"; do kill "$p" 2>/dev/null || true; done
    bench_cleanup
    ip netns del "$NSC" 2>/dev/null || true
    ip netns del "$NSS" 2>/dev/null || true
}
trap net_cleanup EXIT
command -v iperf3 >/dev/null || { echo "iperf3 is not installed" >&2; exit 1; }

ip netns add "$NSC"
ip netns add "$NSS"
ip link add "vec$$" type veth peer name "ves$$"
ip link set "vec$$" netns "$NSC"
ip link set "ves$$" netns "$NSS"
ip -n "$NSC" link set "vec$$" name eth0
ip -n "$NSS" link set "ves$$" name eth0
ip -n "$NSC" addr add "$NET.1/24" dev eth0
ip -n "$NSS" addr add "$NET.2/24" dev eth0
for n in "$NSC" "$NSS"; do ip -n "$n" link set eth0 up; ip -n "$n" link set lo up; done
# Tens of thousands of short connections per run: the client's ports in
# TIME_WAIT must not run out between rounds (the server closes first, and
# the client may reuse a port in TIME_WAIT).
ip netns exec "$NSC" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"

# Servers in S: iperf3 on 5201, an accept loop on 5300 (one byte back), and
# one on 5301 for the rule-change latency.
ip netns exec "$NSS" iperf3 -s -p 5201 >/dev/null 2>&1 &
SRV+=($!)
for port in 5300 5301; do
    ip netns exec "$NSS" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1024)
while True:
    c, _ = s.accept()
    try:
        c.recv(1); c.sendall(b"y")
    except OSError:
        pass
    c.close()
' "$NET.2" "$port" >/dev/null 2>&1 &
    SRV+=($!)
done

mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$R/bin/busybox"
ln -sf busybox "$R/bin/sleep"
mkdir -p "$T/bundle"
runc spec --bundle "$T/bundle"
jq --arg root "$R" --arg ns "/var/run/netns/$NSC" '.root.path = $root | .process.terminal = false
    | .process.args = ["/bin/sleep", "3600"] | .hostname = "bench"
    | .linux.namespaces |= map(if .type == "network" then .path = $ns else . end)' \
    <"$T/bundle/config.json" >"$T/bundle/c.json"
mv "$T/bundle/c.json" "$T/bundle/config.json"
runc run -d --bundle "$T/bundle" "$CT" </dev/null >/dev/null 2>&1
CPID=$(runc state "$CT" | jq -r .pid)
CG="$(awk '/ - cgroup2 / {print $5; exit}' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$CPID/cgroup")"
[ -d "$CG" ] && [ "$CG" != "$(awk '/ - cgroup2 / {print $5; exit}' /proc/self/mountinfo)/" ] \
    || { echo "the container has no cgroup v2 of its own" >&2; exit 1; }
inct() { # inct CMD...: CMD in the container's cgroup and namespace
    bash -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$1" "${@:2}"' "$CG" "$NSC" "$@"
}
throughput() { # Gbit/s
    inct iperf3 -c "$NET.2" -p 5201 -t "$SECONDS_EACH" -J | jq '.end.sum_received.bits_per_second / 1e9'
}
CONNPY='
import socket, sys, time
addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    s = socket.create_connection((addr, port)); s.sendall(b"x"); s.recv(1); s.recv(1); s.close(); n += 1
print(round(n / secs))
'
connrate() { inct python3 -c "$CONNPY" "$NET.2" 5300 "$((SECONDS_EACH / 2))"; }

LEARN=0
with_daemon() {
    # on_stop = "open": the rounds without a daemon run without its programs
    bench_daemon net 'plugins = { net = { stats_interval_ms = 0, interval_ms = 1000, on_stop = "open" } }'
    G=$(until ctl workloads --json | jq -r --arg id "$CT" 'select(.id == $id) | .group' | grep .; do
        sleep 0.1; done)
    ctl group mode "$G" learn >/dev/null
    until ctl net stats --json | jq -e --arg id "$CT" '.captures[] | select(.workload == $id and .interfaces == 1)' >/dev/null; do sleep 0.1; done
    # learn the two connections, then protect
    inct iperf3 -c "$NET.2" -p 5201 -t 1 >/dev/null
    inct python3 -c "$CONNPY" "$NET.2" 5300 0.2 >/dev/null
    until ctl rules list --plane net --json | jq -s -e --arg g "$G" 'map(select(.group == $g and .port == "5300")) | length > 0' >/dev/null &&
        ctl rules list --plane net --json | jq -s -e --arg g "$G" 'map(select(.group == $g and .port == "5201")) | length > 0' >/dev/null; do
        sleep 0.2
    done
    ctl group mode "$G" protect >/dev/null
    until bpftool -j cgroup show "$CG" 2>/dev/null | jq -e 'any(.[]; .name == "vg_connect4")' >/dev/null; do sleep 0.05; done
}
stop_daemon() {
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

tp0=() tp1=() cr0=() cr1=() lt=()
for r in $(seq 1 "$ROUNDS"); do
    left=$(bpftool -j cgroup show "$CG" 2>/dev/null |
        jq -s '[.[] | arrays | .[] | select(.name | startswith("vg_"))] | length')
    [ "$left" = 0 ] || { echo "programs left on the container's cgroup: the round without a daemon is not one: $(bpftool cgroup show "$CG")" >&2; exit 1; }
    a=$(throughput) c=$(connrate)
    with_daemon
    b=$(throughput) d=$(connrate)
    # rule change to enforcement: 5301 is refused (never learned) until the
    # rule is added; the time from the add to the first connect() that passes
    inct python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 5301))' "$NET.2" 2>/dev/null \
        && { echo "5301 was not refused in protect mode" >&2; exit 1; }
    lat=$(inct python3 -c '
import socket, subprocess, sys, time
addr, ctl, group = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
t0 = time.monotonic()
subprocess.run(ctl + ["rules", "add", "--group", group, "--plane", "net", "--direction", "egress",
                      "--peer", addr, "--port", "5301", "--proto", "tcp"], check=True,
               stdout=subprocess.DEVNULL)
while True:
    try:
        socket.create_connection((addr, 5301)).close()
        break
    except PermissionError:
        time.sleep(0.002)
print(round((time.monotonic() - t0) * 1000))
' "$NET.2" "$B/vigilctl" --socket "$T/sock" "$G")
    stop_daemon
    bpftool -j cgroup show "$CG" 2>/dev/null | jq -e 'any(.[]; .name == "vg_connect4")' >/dev/null && {
        # on_stop = keep: detach what the daemon left, for the next round's baseline
        for id in $(bpftool -j cgroup show "$CG" | jq -r '.[] | select(.name | startswith("vg_")) | "\(.id):\(.attach_type)"'); do
            bpftool cgroup detach "$CG" "${id#*:}" id "${id%%:*}" 2>/dev/null || true
        done
    }
    rm -rf "$T/state"
    printf 'round %d: throughput %s Gbit/s alone, %s protected | connections/s %s alone, %s protected | rule add -> enforced %s ms\n' \
        "$r" "$a" "$b" "$c" "$d" "$lat"
    tp0+=("$a") tp1+=("$b") cr0+=("$c") cr1+=("$d") lt+=("$lat")
done
m() { printf '%s\n' "$@" | median; }
A=$(m "${tp0[@]}") Bp=$(m "${tp1[@]}") C=$(m "${cr0[@]}") D=$(m "${cr1[@]}")
printf 'median: throughput %s Gbit/s without a daemon, %s protected (%s x); connections/s %s without, %s protected (%s x); rule add -> enforced %s ms\n' \
    "$A" "$Bp" "$(awk -v a="$A" -v b="$Bp" 'BEGIN {printf "%.3f", b / a}')" "$C" "$D" \
    "$(awk -v a="$C" -v b="$D" 'BEGIN {printf "%.3f", b / a}')" "$(m "${lt[@]}")"
