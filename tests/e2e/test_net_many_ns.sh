#!/usr/bin/env bash
# Many namespaces, few threads. Eight runc containers, each in a network
# namespace of its own on one bridge (as a CNI bridge plugin makes them),
# are each captured (net.stats: one capture per container, on eth0) by the
# plugins.net.capture_threads threads (two here), not by a thread each. A
# ninth container starts in a namespace with lo only and gets its eth0
# afterwards, as a CNI plugin adds it; with rescan_ms at an hour, only the
# kernel's link notification can tell the daemon, and its eth0 is captured
# all the same. An HTTP request from each container to the first is then
# seen as the net.connect of each (app http). A reload with one capture
# thread moves every capture onto it. When the containers stop, every
# capture ends; the thread stays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

COUNT=8
nt_config "rescan_ms = 3600000, capture_threads = 2"
nt_rootfs
names=()
for i in $(seq 1 "$COUNT"); do names+=("c$i"); done
nt_star "${names[@]}"
LATE=$(nt_ns late)
ip netns add "$LATE" && NT_NAMES+=("$LATE")
ip -n "$LATE" link set lo up

start_daemon
CT_NETNS=$(nt_ns c1) ct_start c1 /bin/httpd -f -p 80 -h /www
for i in $(seq 2 "$COUNT"); do
    CT_NETNS=$(nt_ns "c$i") ct_start "c$i"
done
CT_NETNS="$LATE" ct_start late

capture() {
    vctl net stats --json | jq -e --arg id "$1" '.captures[] | select(.workload == $id)'
}
captured() { # captured NAME INTERFACES
    capture "$(ct_id "$1")" | jq -e ".interfaces == $2" >/dev/null
}
for n in "${names[@]}"; do
    wait_for captured "$n" 1
done
wait_for captured late 0
threads() {
    cat /proc/"$DAEMON_PID"/task/*/comm | grep -c '^net-capture$'
}
[ "$(threads)" -eq 2 ] || fail "$(threads) capture threads for $((COUNT + 1)) namespaces, not 2"

# ---- eth0 arrives in the late namespace --------------------------------------------
nt_star_join late 200
wait_for captured late 1
# (Without the socket it is also found, every 2 s, with a warning.)
grep -q "no link notifications" "$LOG" && fail "no link notifications: $(grep "no link" "$LOG")"

# ---- a request from each namespace, seen in each -------------------------------------
for n in "${names[@]:1}" late; do
    runc exec "$(ct_id "$n")" /bin/wget -q -O /dev/null "http://$NT_NET.1/" </dev/null \
        || fail "wget from $n failed"
done
for n in "${names[@]:1}" late; do
    wait_for has_event net.connect ".workload == \"$(ct_id "$n")\" and .peer_ip == \"$NT_NET.1\"
        and .port == \"80\" and .app == \"http\""
done
seen() { # the counters are published once a second
    capture "$(ct_id "$1")" | jq -e '.packets >= 6 and .kernel_drops == 0' >/dev/null
}
for n in "${names[@]:1}" late; do
    wait_for seen "$n"
done

# ---- capture_threads on reload --------------------------------------------------------
sed -i 's/capture_threads = 2/capture_threads = 1/' "$CONFIG"
vctl reload >/dev/null || fail "reload refused"
wait_for grep -q "new settings: every capture restarts" "$LOG"
one_thread() { [ "$(threads)" -eq 1 ]; }
wait_for one_thread
for n in "${names[@]}" late; do
    wait_for captured "$n" 1
done

# ---- the containers go, and their captures -------------------------------------------
for n in "${names[@]}" late; do
    ct_stop "$n"
done
none() {
    ! vctl net stats --json | jq -e --arg p "$CT_PREFIX-" \
        '.captures[] | select(.workload | startswith($p))' >/dev/null
}
wait_for none
[ "$(threads)" -eq 1 ] || fail "$(threads) capture threads after the containers stopped, not 1"
stop_daemon
pass
