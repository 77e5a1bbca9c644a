#!/usr/bin/env bash
# How the net plugin names a peer that is not a known workload, for a runc
# container cli-1 talking to namespace "ext" (a plain namespace the test
# made, no container in it, so no workload), joined by a veth pair; ext has
# three addresses (.1, .4, .5), an HTTP server and a DNS server on .1:
#  - a name the workload itself resolved (nslookup api.vigil.test, answered
#    with .5): the connection to .5 has peer "api.vigil.test" (peer_kind dns);
#  - an address in a named network of the config (lab = .4/32): peer "lab";
#  - any other address: the address itself;
# and the DNS exchange itself is a connection with application "dns". New
# named networks apply on reload; a broken setting keeps the running ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config "networks = \"lab=$NT_NET.4/32, other=192.0.2.0/24\""

nt_rootfs
nt_pair ext 1 cli 2
EXT=$(nt_ns ext)
ip -n "$EXT" addr add "$NT_NET.4/24" dev eth0
ip -n "$EXT" addr add "$NT_NET.5/24" dev eth0
mkdir -p "$T/www"
echo "outside" >"$T/www/index.html"
nt_bg ext busybox httpd -f -p 80 -h "$T/www"
nt_dns ext "$NT_NET.1" api.vigil.test "$NT_NET.5"
# The plugin declares its settings: a misspelt one is refused before start.
cp "$CONFIG" "$T/bad.lua"
echo 'plugins.net.bufer_kb = 64' >>"$T/bad.lua"
out=$("$VIGILD" --check --config "$T/bad.lua" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" 2>&1) \
    && fail "a misspelt setting of the net plugin accepted: $out"
echo "$out" | has "plugins.net: unknown setting 'bufer_kb'; did you mean buffer_kb?" \
    || fail "no suggestion for the misspelt setting: $out"
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CLI=$(ct_id cli-1) GCLI="$CT_PREFIX-cli"
wait_for eval "vctl net stats --json | jq -e --arg id '$CLI' '.captures[] | select(.workload == \$id and .interfaces == 1)'"

in_cli() {
    runc exec "$CLI" "$@" </dev/null >"$T/out" 2>&1 || fail "$* failed: $(cat "$T/out")"
}
connect() { # connect PEER KIND PEER_IP APP PORT
    has_event net.connect ".workload == \"$CLI\" and .group == \"$GCLI\" and .peer == \"$1\"
        and .peer_kind == \"$2\" and .peer_ip == \"$3\" and .app == \"$4\" and .port == \"$5\""
}

in_cli /bin/nslookup api.vigil.test "$NT_NET.1"
grep -q "$NT_NET.5" "$T/out" || fail "the test's DNS server did not answer: $(cat "$T/out")"
wait_for connect "$NT_NET.1" address "$NT_NET.1" dns 53
in_cli /bin/wget -q -O - "http://$NT_NET.5/"
grep -q outside "$T/out" || fail "no page from ext"
wait_for connect api.vigil.test dns "$NT_NET.5" http 80
in_cli /bin/wget -q -O - "http://$NT_NET.4/"
wait_for connect lab network "$NT_NET.4" http 80
in_cli /bin/wget -q -O - "http://$NT_NET.1/"
wait_for connect "$NT_NET.1" address "$NT_NET.1" http 80
# The learned rules name the peers the same way.
vctl rules list --plane net --json | json_any ".group == \"$GCLI\" and .peer == \"api.vigil.test\"" \
    || fail "no rule learned for api.vigil.test: $(vctl rules list --plane net)"

# ---- new settings on reload ------------------------------------------------------------
sed -i "s|lab=$NT_NET.4/32|lab2=$NT_NET.4/32|" "$CONFIG"
vctl reload >/dev/null || fail "reload refused"
wait_for grep -q "new settings: every capture restarts" "$LOG"
wait_for eval "vctl net stats --json | jq -e --arg id '$CLI' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
in_cli /bin/wget -q -O - "http://$NT_NET.4/"
wait_for connect lab2 network "$NT_NET.4" http 80
# A broken setting keeps the running ones.
sed -i "s|lab2=$NT_NET.4/32|lab3=$NT_NET.4/99|" "$CONFIG"
vctl reload >/dev/null 2>&1 || true
wait_for grep -q "plugins.net.networks" "$LOG"
sleep 1.1 # a new interval: the key is reported again
in_cli /bin/wget -q -O - "http://$NT_NET.4/"
sleep 1
has_event net.connect '.peer == "lab3"' && fail "a broken setting was applied"
n=$(vctl events --json --limit 10000 --type net.connect | jq -s 'map(select(.peer == "lab2")) | length')
[ "$n" -ge 2 ] || fail "the running settings were not kept after a broken reload"
stop_daemon
pass
