#!/usr/bin/env bash
# Learn, then monitor, with real runc containers in their own network
# namespaces on a veth pair: busybox httpd (port 80) and `nc` answering HTTP
# on port 8081 in web-1, wget in cli-1.
#  - learn: the connection cli -> web:80 is reported on both sides, as
#    net.connect of cli-1 and net.accept of web-1, each naming the other's
#    group as the peer and "http" as the application (by content: the engine
#    does not name by port) with the request's fields, and both sides learn
#    a net rule;
#  - monitor: the learned connection passes silently (events, no violation);
#    a new one (HTTP on 8081) raises net.violation with both groups, the
#    port and the application, on both sides; a refused connection to a
#    port nothing listens on is one too, with application "unknown";
#  - with web back in learn mode and cli monitoring, the same connection is
#    learned on both sides (the effective mode of two groups is the less
#    restrictive one, as in NeuVector);
#  - `vigilctl net sessions` shows the live session, `vigilctl capture`
#    writes a pcap that tshark reads (with the HTTP request in it), and
#    `vigilctl net graph` shows the learned edge and the violation; its DOT
#    renders with Graphviz.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

command -v tshark >/dev/null || fail "tshark is not installed (scripts/deps.sh)"
command -v dot >/dev/null || fail "graphviz is not installed (scripts/deps.sh)"
nt_config

nt_rootfs
nt_pair web 1 cli 2
WEB_IP="$NT_NET.1"
start_daemon
CT_NETNS=$(nt_ns web) ct_start web-1 /bin/sh -c \
    "httpd -p 80 -h /www && exec nc -ll -p 8081 -e /bin/http-reply"
CT_NETNS=$(nt_ns cli) ct_start cli-1
WEB=$(ct_id web-1) CLI=$(ct_id cli-1)
GWEB="$CT_PREFIX-web" GCLI="$CT_PREFIX-cli"

captured() {
    vctl net stats --json | jq -e --arg id "$1" '.captures[] | select(.workload == $id and .interfaces == 1)'
}
wait_for captured "$WEB"
wait_for captured "$CLI"

get() { # get PORT: an HTTP GET from cli-1 to web-1
    runc exec "$CLI" /bin/wget -q -O - "http://$WEB_IP:$1/" </dev/null >"$T/page" 2>&1 \
        || fail "wget to port $1 failed: $(cat "$T/page")"
}
count() { # count TYPE PREDICATE
    vctl events --json --limit 10000 --type "$1" | jq -s "map(select($2)) | length"
}
CONNECT80=".workload == \"$CLI\" and .group == \"$GCLI\" and .direction == \"egress\"
    and .peer == \"$GWEB\" and .peer_kind == \"group\" and .port == \"80\" and .proto == \"tcp\"
    and .app == \"http\""
ACCEPT80=".workload == \"$WEB\" and .group == \"$GWEB\" and .direction == \"ingress\"
    and .peer == \"$GCLI\" and .port == \"80\" and .app == \"http\""

# ---- learn ------------------------------------------------------------------------
get 80
grep -q "hello from vigil" "$T/page" || fail "httpd did not serve the page"
wait_for has_event net.connect "$CONNECT80"
wait_for has_event net.accept "$ACCEPT80"
has_event net.connect "$CONNECT80 and .[\"http.method\"] == \"GET\" and .[\"http.path\"] == \"/\"
    and .server == \"$WEB_IP:80\"" || fail "net.connect lacks the HTTP fields: $(vctl events --json --type net.connect)"
learned() {
    vctl rules list --plane net --json | json_any "$1"
}
wait_for learned ".group == \"$GCLI\" and .direction == \"egress\" and .peer == \"$GWEB\"
    and .port == \"80\" and .proto == \"tcp\" and .app == \"http\" and .origin == \"learned\""
wait_for learned ".group == \"$GWEB\" and .direction == \"ingress\" and .peer == \"$GCLI\"
    and .port == \"80\" and .app == \"http\""

# Once per key and interval, never per packet: three more GETs within the
# interval add at most one event (the interval may turn over once).
n=$(count net.connect "$CONNECT80")
get 80; get 80; get 80
sleep 1.5
m=$(count net.connect "$CONNECT80")
[ "$m" -le $((n + 2)) ] || fail "$((m - n)) net.connect events for 3 connections of one key"

# ---- monitor -------------------------------------------------------------------------
vctl group mode "$GWEB" monitor >/dev/null
vctl group mode "$GCLI" monitor >/dev/null
n=$(count net.connect "$CONNECT80")
get 80
wait_for eval "[ \$(count net.connect '$CONNECT80') -gt $n ]"
sleep 0.5
[ "$(count net.violation 'true')" -eq 0 ] \
    || fail "the learned connection raised: $(vctl events --json --type net.violation)"

get 8081
grep -q "odd!" "$T/page" || fail "nc on 8081 did not answer"
wait_for has_event net.violation ".group == \"$GCLI\" and .workload == \"$CLI\"
    and .peer == \"$GWEB\" and .port == \"8081\" and .app == \"http\" and .direction == \"egress\"
    and .action == \"alert\" and .event_type == \"net.connect\""
wait_for has_event net.violation ".group == \"$GWEB\" and .peer == \"$GCLI\" and .port == \"8081\"
    and .app == \"http\" and .direction == \"ingress\" and .action == \"alert\""
vctl rules list --plane net --json | json_any '.port == "8081"' \
    && fail "monitor mode learned the connection to 8081"
# A refused connection (nothing listens on 22) carries no data: it is seen
# when it closes, with application "unknown", within the wait (5 s).
runc exec "$CLI" /bin/nc -w 1 "$WEB_IP" 22 </dev/null >/dev/null 2>&1 || true
wait_for has_event net.violation ".group == \"$GCLI\" and .peer == \"$GWEB\" and .port == \"22\"
    and .app == \"unknown\" and .proto == \"tcp\""

# ---- two groups in different modes: the less restrictive one --------------------------
# web back in learn, cli still monitoring: the effective mode of the pair is
# learn, so the same new connection is learned on both sides, not raised.
vctl group mode "$GWEB" learn >/dev/null
sleep 1.2 # a new interval: the key is reported again
v=$(count net.violation 'true')
get 8081
wait_for learned ".group == \"$GCLI\" and .direction == \"egress\" and .peer == \"$GWEB\"
    and .port == \"8081\" and .app == \"http\""
wait_for learned ".group == \"$GWEB\" and .direction == \"ingress\" and .port == \"8081\""
[ "$(count net.violation 'true')" -eq "$v" ] || fail "a violation between a learning and a monitoring group"
vctl group mode "$GWEB" monitor >/dev/null

# ---- sessions ------------------------------------------------------------------------
get 80
vctl net sessions --workload "$CLI" --json >"$T/sessions"
json_any ".workload == \"$CLI\" and .server == \"$WEB_IP:80\" and .app == \"http\"
    and .direction == \"egress\" and .peer == \"$GWEB\"" "$T/sessions" \
    || fail "no live session cli -> web:80: $(cat "$T/sessions")"
vctl net sessions | has "$WEB_IP:80" || fail "the session table has no web:80 row"

# ---- capture -------------------------------------------------------------------------
( for _ in 1 2 3 4 5 6; do sleep 0.3; get 80; done ) &
GETS=$!
vctl capture "$WEB" --seconds 3 --filter "tcp port 80" -w "$T/web.pcap" >"$T/capture.out" \
    || fail "vigilctl capture failed: $(cat "$T/capture.out")"
wait "$GETS"
grep -q "written to $T/web.pcap" "$T/capture.out" || fail "capture summary: $(cat "$T/capture.out")"
[ "$(stat -c %a "$T/web.pcap")" = 600 ] || fail "the capture file is not private"
gets=$(tshark -r "$T/web.pcap" -Y 'http.request.method == "GET"' 2>/dev/null | wc -l)
[ "$gets" -ge 1 ] || fail "tshark finds no HTTP GET in the capture"
tshark -r "$T/web.pcap" -Y "tcp.port != 80" 2>/dev/null | has . \
    && fail "the capture filter let other ports through"
n=$(jq -r .packets <(vctl --json capture "$WEB" --seconds 1 -w "$T/quiet.pcap"))
[ "$(tshark -r "$T/quiet.pcap" 2>/dev/null | wc -l)" -eq "$n" ] \
    || fail "the file does not hold the $n packets reported"
vctl capture "$WEB" --seconds 1 -w "$T/no/such/dir/x.pcap" 2>"$T/nodir.err" \
    && fail "capture into a missing directory"
grep -q "No such file or directory" "$T/nodir.err" || fail "no clear error: $(cat "$T/nodir.err")"
vctl capture nosuch --seconds 1 -w "$T/x.pcap" 2>/dev/null && fail "capture of an unknown workload"
vctl capture "$WEB" --seconds 1 --filter "tcp port" -w "$T/bad.pcap" 2>"$T/bad.err" \
    && fail "capture with a broken filter"
grep -q "filter" "$T/bad.err" || fail "no clear error for a broken filter: $(cat "$T/bad.err")"
[ ! -e "$T/bad.pcap" ] || fail "a broken filter left a file"
vctl capture "$WEB" --seconds 100000 -w "$T/long.pcap" 2>/dev/null && fail "capture beyond the time limit"

# ---- graph ---------------------------------------------------------------------------
vctl net graph --format json >"$T/graph.json"
wait_for eval "vctl net graph --json | jq -e --arg c '$GCLI' --arg w '$GWEB' '.edges | any(.from == \$c and .to == \$w and .port == \"80\" and .bytes > 0)'"
vctl net graph --format json >"$T/graph.json"
jq -e --arg c "$GCLI" --arg w "$GWEB" '.edges | any(.from == $c and .to == $w and .port == "80"
    and .app == "http" and .learned and .observed and .flows >= 1)' "$T/graph.json" >/dev/null \
    || fail "no learned edge cli -> web:80: $(cat "$T/graph.json")"
jq -e --arg c "$GCLI" --arg w "$GWEB" '.edges | any(.from == $c and .to == $w and .port == "8081"
    and .violations > 0 and .action == "alert")' "$T/graph.json" >/dev/null \
    || fail "no violation edge cli -> web:8081: $(cat "$T/graph.json")"
vctl net graph --group "$GWEB" >"$T/graph.dot"
grep -q "\"$GCLI\" -> \"$GWEB\"" "$T/graph.dot" || fail "the DOT has no edge: $(cat "$T/graph.dot")"
dot -Tsvg "$T/graph.dot" >"$T/graph.svg" || fail "Graphviz cannot render the DOT"
grep -q "<svg" "$T/graph.svg" || fail "no SVG from dot"
stop_daemon
pass
