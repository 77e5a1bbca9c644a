#!/usr/bin/env bash
# vigil.threat{} in Lua policies sets the net plugin's threat switches and
# thresholds per group, as plugins.net.threats does in the config: runc
# containers cli-1 and quiet-1, each on a veth pair with its own server
# namespace, send the same SYN flood. The policy gives cli's group a
# syn-flood rate of 20 and switches every threat off for quiet's group:
# cli-1 gets net.threat syn-flood, quiet-1 nothing. A misspelt threat id is
# refused by `vigild --check`, `vigil-policy check` and a reload with the
# file and line of the call, and the running declarations stay. A reload with new declarations
# applies them: cli's syn-flood off, quiet's on at rate 20.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config
write_policy() { # write_policy CLI_DECL QUIET_DECL
    cat >"$POLICIES/30-threats.lua" <<LUA
-- thresholds per group (docs/net-threats.md)
$1
$2
LUA
}
write_policy "vigil.threat{ group = \"$CT_PREFIX-cli*\", id = \"syn-flood\", rate = 20 }" \
    "vigil.threat{ group = \"$CT_PREFIX-quiet*\", id = \"all\", enabled = false }"

# A misspelt threat id: refused before start, with the file and line.
cp "$POLICIES/30-threats.lua" "$T/good.lua"
printf '\n\nvigil.threat{ id = "syn-flod", rate = 5 }\n' >>"$POLICIES/30-threats.lua"
out=$("$VIGILD" --check --config "$CONFIG" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" 2>&1) \
    && fail "a misspelt threat id accepted by --check: $out"
echo "$out" | has "30-threats.lua:6: vigil.threat: unknown threat 'syn-flod'" \
    || fail "--check does not say where the bad declaration is: $out"
out=$("$VIGIL_BUILD/vigil-policy" --plugin-dir "$PLUGINS" check "$POLICIES" 2>&1) \
    && fail "vigil-policy check accepted a misspelt threat id: $out"
echo "$out" | has "30-threats.lua:6: vigil.threat: unknown threat 'syn-flod'" \
    || fail "vigil-policy check does not say where the bad declaration is: $out"
cp "$T/good.lua" "$POLICIES/30-threats.lua"
"$VIGIL_BUILD/vigil-policy" --plugin-dir "$PLUGINS" check "$POLICIES" >"$T/check" 2>&1 \
    || fail "vigil-policy check refused good declarations: $(cat "$T/check")"
# vigil-policy test: each case's engine loads the declarations too.
mkdir -p "$T/ptest"
cp "$T/good.lua" "$T/ptest/30-threats.lua"
echo 'test.case("loads", function() test.expect(true, "ran") end)' >"$T/ptest/threats_test.lua"
"$VIGIL_BUILD/vigil-policy" --plugin-dir "$PLUGINS" test "$T/ptest" >"$T/ptest.out" 2>&1 \
    && has "1 passed, 0 failed" "$T/ptest.out" || fail "vigil-policy test: $(cat "$T/ptest.out")"
"$VIGILD" --check --config "$CONFIG" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" >"$T/check" 2>&1 \
    || fail "--check refused good declarations: $(cat "$T/check")"

nt_rootfs
nt_pair srv 1 cli 2
nt_pair srv2 3 quiet 4
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CT_NETNS=$(nt_ns quiet) ct_start quiet-1
CLI=$(ct_id cli-1) GCLI="$CT_PREFIX-cli" QUIET=$(ct_id quiet-1)
for id in "$CLI" "$QUIET"; do
    wait_for eval "vctl net stats --json | jq -e --arg id '$id' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
done
has "2 vigil.threat declarations from the policies" "$LOG" || fail "the plugin did not read the declarations"

# 600 connection attempts to a closed port, as in test_net_threat.sh: well
# above 20 SYNs a second even on a loaded machine.
flood() { # flood CONTAINER ADDRESS
    runc exec "$1" /bin/sh -c "i=0; while [ \$i -lt 600 ]; do nc -w 1 $2 81 </dev/null >/dev/null 2>&1 &
        i=\$((i+1)); done; wait" </dev/null >/dev/null 2>&1 || true
}
floods() { # floods WORKLOAD: how many syn-flood events it has
    vctl events --json --limit 10000 --type net.threat \
        | jq -s --arg w "$1" '[.[] | select(.workload == $w and .threat == "syn-flood")] | length'
}
seen_within() { # seen_within WORKLOAD: a syn-flood event within 10 s
    for _ in $(seq 1 200); do
        [ "$(floods "$1")" -gt 0 ] && return 0
        sleep 0.05
    done
    return 1
}
flood "$CLI" "$NT_NET.1"
flood "$QUIET" "$NT_NET.3"
seen_within "$CLI" || fail "vigil.threat's rate of 20 did not apply to $GCLI"
wait_for has_event net.connect ".workload == \"$QUIET\" and .port == \"81\""
sleep 1
[ "$(floods "$QUIET")" -eq 0 ] || fail "threats switched off by the policy were reported for quiet-1"

# A bad reload is refused with file:line and changes nothing.
printf 'vigil.threat{ group = "x", id = "syn-flood", burst = 5 }\n' >>"$POLICIES/30-threats.lua"
out=$(vctl reload 2>&1) && fail "a reload with a bad declaration accepted: $out"
echo "$out" | has "30-threats.lua:4: vigil.threat: syn-flood has no parameter 'burst'" \
    || fail "the refused reload does not say where: $out"

# A good reload: cli's syn-flood off, quiet's threats on with a rate of 20.
write_policy "vigil.threat{ group = \"$CT_PREFIX-cli*\", id = \"syn-flood\", enabled = false }" \
    "vigil.threat{ group = \"$CT_PREFIX-quiet*\", id = \"syn-flood\", rate = 20 }"
vctl reload >/dev/null || fail "reload refused: $(tail -5 "$LOG")"
before=$(floods "$CLI")
# The captures restart with the new set; wait until both capture again.
for id in "$CLI" "$QUIET"; do
    wait_for eval "vctl net stats --json | jq -e --arg id '$id' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
done
flood "$QUIET" "$NT_NET.3"
flood "$CLI" "$NT_NET.1"
seen_within "$QUIET" || fail "the reloaded declaration did not switch syn-flood on for quiet-1"
sleep 1
[ "$(floods "$CLI")" -eq "$before" ] || fail "syn-flood switched off by the reload still reported for cli-1"
stop_daemon
pass
