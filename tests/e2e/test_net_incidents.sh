#!/usr/bin/env bash
# The network incidents, for real: a runc container reaching the cloud
# metadata address or the Kubernetes API raises metadata_access or
# kubernetes_api_access, in learn, monitor and protect mode. Nothing
# leaves the test's namespaces: each container's namespace is joined by a
# veth pair to a namespace of the test that owns 169.254.169.254 (the
# metadata address), 10.96.0.1 (the default service address of the
# Kubernetes API in a kubeadm cluster, port 443) and an address of its own
# whose port 6443 is the API server's; a small HTTP server answers on all
# of them there.
#  - learn and monitor: the connections succeed and each raises its
#    incident, with the container's workload and group, the address and
#    the port as evidence; a connection to port 80 of the peer's own
#    address (no metadata, no API) raises none;
#  - protect: nothing was learned, so the kernel refuses each connect()
#    with EPERM, and the attempt still raises the incident (denied
#    attempts reach the rules of the behaviour: net.connect);
#  - a learned metadata access is not raised again in monitor mode (the
#    incident is about containers that never did);
#  - priority beyond severity: a response rule with min_priority = 70
#    posts metadata_access (priority 75) to a webhook receiver on loopback
#    and leaves kubernetes_api_access (55) alone, which a rule without the
#    bound posts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

command -v bpftool >/dev/null || fail "bpftool is not installed (scripts/deps.sh)"
command -v python3 >/dev/null || fail "python3 is not installed"
nt_config
nt_rootfs
start_http_receiver
printf 'webhooks = { ops = { url = "http://127.0.0.1:%s/hook", timeout_ms = 1000 } }\n' \
    "$RECEIVER_PORT" >>"$CONFIG"
cat >"$POLICIES/60-urgent.lua" <<'LUA'
vigil.response{ name = "urgent", on = "proc.incident", min_priority = 70,
                actions = { "webhook:ops" } }
vigil.response{ name = "every", on = "proc.incident", actions = { "webhook:ops" } }
LUA
META=169.254.169.254
KSVC=10.96.0.1

# pair MODE N: namespace MODE for the container and MODE-srv for the
# server, with addresses $NT_NET.N and $NT_NET.N+1; the server namespace
# also owns $META and $KSVC, routed from MODE over the veth.
pair() {
    local srv=$(($2 + 1)) ns
    nt_pair "$1" "$2" "$1s" "$srv"
    ns=$(nt_ns "$1s")
    ip -n "$ns" addr add "$META/32" dev eth0
    ip -n "$ns" addr add "$KSVC/32" dev eth0
    ip -n "$(nt_ns "$1")" route add "$META/32" dev eth0
    ip -n "$(nt_ns "$1")" route add "$KSVC/32" dev eth0
    nt_bg "$1s" python3 -c '
import socketserver, sys, threading
class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
for port in (80, 443, 6443):
    threading.Thread(target=S(("0.0.0.0", port), H).serve_forever, daemon=True).start()
threading.Event().wait()
'
    # Python starts slowly on a loaded host: the three ports listen before
    # anything connects (up to 30 s).
    local _
    for _ in $(seq 1 300); do
        listening "$ns" && return 0
        sleep 0.1
    done
    fail "the test's HTTP server in $ns did not listen"
}
listening() { # listening NS: ports 80, 443 and 6443 listen in NS
    local out
    out=$(ip netns exec "$1" ss -Hltn 2>/dev/null) || return 1
    for p in 80 443 6443; do
        grep -q ":$p " <<<"$out" || return 1
    done
}

cgroup_of() { # the cgroup v2 directory of a container's init
    local pid
    pid=$(runc state "$1" | jq -r .pid)
    echo "$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
}
progs() { # progs CGROUP NAME: how many programs NAME are attached there
    bpftool -j cgroup show "$1" 2>/dev/null | jq -s --arg n "$2" '[.[][]? | select(.name == $n)] | length'
}
captured() {
    vctl net stats --json | jq -e --arg id "$1" '.captures[] | select(.workload == $id and .interfaces == 1)'
}
fetch() { # fetch CONTAINER URL: an HTTP GET from the container, output in $T/page
    runc exec "$1" /bin/timeout 5 /bin/wget -q -O - "$2" </dev/null >"$T/page" 2>&1
}
incident() { # incident NAME WORKLOAD GROUP ADDRESS PORT
    has_event proc.incident ".incident == \"$1\" and .workload == \"$2\" and .group == \"$3\"
        and .evidence.peer_ip == \"$4\" and (.evidence.port | tostring) == \"$5\""
}
incidents_of() { # incidents_of WORKLOAD: the network incidents raised for it
    vctl events --json --limit 10000 --type proc.incident |
        jq -c --arg w "$1" 'select(.workload == $w and (.incident == "metadata_access"
            or .incident == "kubernetes_api_access"))'
}

responded() { # responded RULE INCIDENT WORKLOAD: RULE ran for an INCIDENT of WORKLOAD
    local ids
    ids=$(vctl events --json --limit 10000 --type proc.incident |
        jq -s -c --arg w "$3" --arg n "$2" '[.[] | select(.workload == $w and .incident == $n) | .id]')
    vctl events --json --limit 10000 --type response.done |
        jq -s -e --arg r "$1" --argjson ids "$ids" \
            'any(.[]; .rule == $r and .event_type == "proc.incident" and (.event_id as $e | $ids | index($e)))' >/dev/null
}

start_daemon
n=1
for mode in learn monitor protect; do
    short=${mode:0:3}
    pair "$short" "$n"
    API_IP="$NT_NET.$((n + 1))"
    n=$((n + 2))
    CT_NETNS=$(nt_ns "$short") ct_start "$short-1"
    W=$(ct_id "$short-1") G="$CT_PREFIX-$short"
    wait_for captured "$W"
    if [ "$mode" != learn ]; then
        vctl group mode "$G" "$mode" >/dev/null || fail "cannot set $G to $mode"
    fi
    if [ "$mode" = protect ]; then
        CG=$(cgroup_of "$W")
        wait_for eval "[ \$(progs '$CG' vg_connect4) -eq 1 ]"
        for url in "http://$META/latest/meta-data/" "http://$KSVC:443/api" "http://$API_IP:6443/api"; do
            fetch "$W" "$url" && fail "protect: $W reached $url, never learned"
            grep -q "Operation not permitted" "$T/page" || fail "protect: $url failed otherwise: $(cat "$T/page")"
        done
    else
        # The peer's own address on port 80: neither metadata nor API.
        fetch "$W" "http://$API_IP/" || fail "$mode: the plain request failed: $(cat "$T/page")"
        for url in "http://$META/latest/meta-data/" "http://$KSVC:443/api" "http://$API_IP:6443/api"; do
            fetch "$W" "$url" || fail "$mode: $url failed: $(cat "$T/page")"
            grep -q '^ok$' "$T/page" || fail "$mode: $url answered $(cat "$T/page")"
        done
    fi
    wait_for incident metadata_access "$W" "$G" "$META" 80
    wait_for incident kubernetes_api_access "$W" "$G" "$KSVC" 443
    wait_for incident kubernetes_api_access "$W" "$G" "$API_IP" 6443
    has_event proc.incident ".workload == \"$W\" and .incident == \"metadata_access\"
        and .severity == \"error\" and .technique == \"T1552.005\"" ||
        fail "$mode: metadata_access without its severity and technique: $(incidents_of "$W")"
    has_event proc.incident ".workload == \"$W\" and .incident == \"metadata_access\" and .priority == 75" ||
        fail "$mode: metadata_access without its priority: $(incidents_of "$W")"
    wait_for responded urgent metadata_access "$W"
    wait_for responded every kubernetes_api_access "$W"
    responded urgent kubernetes_api_access "$W" &&
        fail "$mode: the min_priority = 70 rule ran for kubernetes_api_access (55)"
    if [ "$mode" = protect ]; then
        has_event net.violation ".workload == \"$W\" and .peer_ip == \"$META\" and .action == \"deny\"" ||
            fail "protect: no kernel denial of the metadata access"
    else
        # Only those three: the plain request raised nothing.
        [ "$(incidents_of "$W" | wc -l)" -eq 3 ] || fail "$mode: incidents $(incidents_of "$W")"
    fi
done

# Learned in learn mode, then monitored: the same access is allowed and
# raises nothing new.
W=$(ct_id lea-1) G="$CT_PREFIX-lea"
wait_for eval "vctl rules list --plane net --json | json_any '.group == \"$G\" and .port == \"80\" and (.peer == \"$META\")'"
vctl group mode "$G" monitor >/dev/null
before=$(incidents_of "$W" | wc -l)
CONN=".workload == \"$W\" and .group == \"$G\" and .peer_ip == \"$META\""
conns=$(vctl events --json --limit 10000 --type net.connect | jq -s "map(select($CONN)) | length")
fetch "$W" "http://$META/latest/meta-data/" || fail "the learned access failed in monitor mode"
# A new event of the connection (the plugin reports it once per interval)
# has been handled before the count below: events reach the handlers in
# order, and the count is read after the event is stored.
wait_for eval "[ \$(vctl events --json --limit 10000 --type net.connect | jq -s 'map(select($CONN)) | length') -gt $conns ]"
[ "$(incidents_of "$W" | wc -l)" -eq "$before" ] || fail "a learned metadata access raised again: $(incidents_of "$W")"
stop_daemon
pass
