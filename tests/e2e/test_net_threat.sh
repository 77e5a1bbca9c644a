#!/usr/bin/env bash
# Network threats in the daemon: a runc container cli-1 on a veth pair with
# namespace "srv" (an HTTP server, no container) floods it with SYNs and
# sends it an SQL injection; the net plugin captures in cli-1's namespace
# and publishes net.threat events about cli-1 (egress, both ends, severity
# by id, the packet); plugins.net.threats sets cli-1's group's threshold
# (syn-flood.rate=20); a response rule that quarantines the source of
# sql-injection fires on it (the quarantine action belongs to another
# plugin: its status is reported, whatever it is). A group whose threats
# are switched off gets no event for the same traffic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config "threats = \"*: syn-flood.rate=20; $CT_PREFIX-quiet*: all=off\""
cat >"$POLICIES/30-threat-test.lua" <<'LUA'
vigil.response{
  name = "quarantine-sqli-source",
  on = "net.threat",
  match = { threat = "sql-injection", direction = "egress" },
  actions = { "quarantine" },
}
LUA

nt_rootfs
nt_pair srv 1 cli 2
nt_pair srv2 3 quiet 4
mkdir -p "$T/www"
echo "shop" >"$T/www/index.html"
nt_bg srv busybox httpd -f -p 80 -h "$T/www"
nt_bg srv2 busybox httpd -f -p 80 -h "$T/www"
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CT_NETNS=$(nt_ns quiet) ct_start quiet-1
CLI=$(ct_id cli-1) GCLI="$CT_PREFIX-cli" QUIET=$(ct_id quiet-1)
for id in "$CLI" "$QUIET"; do
    wait_for eval "vctl net stats --json | jq -e --arg id '$id' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
done

# 600 connection attempts to a closed port as fast as a shell starts nc:
# well above 20 SYNs a second even on a loaded machine.
flood() { # flood CONTAINER ADDRESS
    runc exec "$1" /bin/sh -c "i=0; while [ \$i -lt 600 ]; do nc -w 1 $2 81 </dev/null >/dev/null 2>&1 &
        i=\$((i+1)); done; wait" </dev/null >/dev/null 2>&1 || true
}
flood "$CLI" "$NT_NET.1"
flood "$QUIET" "$NT_NET.3"
flood_seen() {
    has_event net.threat ".workload == \"$CLI\" and .group == \"$GCLI\" and .threat == \"syn-flood\"
        and .severity == \"critical\" and .direction == \"egress\" and (.server | startswith(\"$NT_NET.1:81\"))
        and .client_workload == \"$CLI\" and (.packet | length) > 40"
}
for _ in $(seq 1 200); do flood_seen && break; sleep 0.05; done
flood_seen || fail "no syn-flood event; threats: $(vctl events --json --limit 100 --type net.threat)
connections: $(vctl events --json --limit 20 --type net.connect | grep -c "\"81\"")
stats: $(vctl net stats --json | jq -c '.captures[]')"

runc exec "$CLI" /bin/wget -q -O /dev/null "http://$NT_NET.1/item?id=1%27%20OR%20%271%27%3D%271" \
    </dev/null >/dev/null 2>&1 || true
wait_for has_event net.threat ".workload == \"$CLI\" and .threat == \"sql-injection\"
    and .direction == \"egress\" and .server == \"$NT_NET.1:80\" and (.detail | contains(\"OR\"))"
# the packet is the request: base64 of an Ethernet frame holding it
vctl events --json --limit 10000 --type net.threat \
    | jq -r "select(.threat == \"sql-injection\") | .packet" | head -1 | base64 -d \
    | has -a "GET /item?id=1%27" || fail "the event's packet is not the request"
wait_for has_event response.done ".action == \"quarantine\" and .rule == \"quarantine-sqli-source\"
    and .event_type == \"net.threat\""

# the quiet group saw the same flood (its connections are there) and raised nothing
wait_for has_event net.connect ".workload == \"$QUIET\" and .port == \"81\""
sleep 1
if has_event net.threat ".workload == \"$QUIET\""; then
    fail "a group with threats off got net.threat: $(vctl events --json --type net.threat | grep "$QUIET")"
fi
stop_daemon
pass
