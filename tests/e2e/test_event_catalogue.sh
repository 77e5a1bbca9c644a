#!/usr/bin/env bash
# The catalogue of event types (`vigild --list-fields`, lib/evcat.c) is what
# policies are checked against and what makes events strict: every field
# that the real proc plugin puts in its events must be listed for its type,
# or a handler reading it would fail. Real processes: ones that run a
# moment, ones that exit at once (reported as "gone"), a uid change. With
# the kern plugin (when built), its events too: a symbolic link to
# /etc/shadow and an unshare (kern.call), a read of /etc/shadow
# (file.read), its counters (kern.stats).
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
types="proc.exec proc.exit proc.uid"
if [ -f "$VIGIL_BUILD/plugins/kern.so" ]; then
    cp "$VIGIL_BUILD/plugins/kern.so" "$PLUGINS/"
    types="$types kern.call file.read kern.stats"
fi
start_daemon
BIN="$T/bin"
mkdir -p "$BIN"
cp "$(command -v busybox)" "$BIN/ash"
for _ in 1 2 3 4 5; do "$BIN/ash" -c 'exit 0'; /bin/true; done
"$BIN/ash" -c 'sleep 0.2; exit 3' catalogue-$$ || true
setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/ash" -c 'sleep 0.1'
wait_for has_event proc.exec "(.cmdline // \"\") | test(\"catalogue-$$\")"
wait_for has_event proc.exit '.exit_code == 3'
if [ -f "$PLUGINS/kern.so" ]; then
    wait_for eval "vctl plugins --json | json 'any(.[]; .name == \"kern\" and .state == \"running\")'"
    ln -s /etc/shadow "$T/shadow-link-$$"
    unshare --mount true
    cat /etc/shadow >/dev/null
    wait_for has_event kern.call ".call == \"symlink\" and .path == \"$T/shadow-link-$$\""
    wait_for has_event kern.call '.call == "unshare"'
    wait_for has_event file.read '.path == "/etc/shadow" and .name == "cat"'
    wait_for has_event kern.stats 'true'
fi

for type in $types; do
    fields=" id time type severity workload group $("$VIGILD" --list-fields "$type" | sed -n 's/^  fields: //p') "
    keys=$(vctl events --json --limit 10000 --type "$type" | jq -r 'keys[]' | sort -u)
    [ -n "$keys" ] || fail "no $type event to check"
    for k in $keys; do
        case "$fields" in *" $k "*) ;; *) fail "$type events carry '$k', which --list-fields does not list" ;; esac
    done
done
# A policy that reads every listed field of proc.exec (and of kern.call
# and file.read) loads and runs without a policy.error on the real events;
# a field no event has is an error naming the type's fields: the kern
# plugin's events are strict too.
all_fields() { # all_fields TYPE
    local f
    echo "vigil.on(\"$1\", function(ev)"
    for f in $("$VIGILD" --list-fields "$1" | sed -n 's/^  fields: //p'); do echo "  local _ = ev.$f"; done
    echo 'end)'
}
all_fields proc.exec >"$POLICIES/10-all-fields.lua"
if [ -f "$PLUGINS/kern.so" ]; then
    all_fields kern.call >>"$POLICIES/10-all-fields.lua"
    all_fields file.read >>"$POLICIES/10-all-fields.lua"
fi
vctl reload >/dev/null || fail "reload of the all-fields policy"
"$BIN/ash" -c 'sleep 0.1' after-reload-$$
wait_for has_event proc.exec "(.cmdline // \"\") | test(\"after-reload-$$\")"
if [ -f "$PLUGINS/kern.so" ]; then
    ln -s /etc/shadow "$T/shadow-link2-$$"
    cat /etc/shadow >/dev/null
    wait_for has_event kern.call ".call == \"symlink\" and .path == \"$T/shadow-link2-$$\""
    wait_for has_event file.read '.path == "/etc/shadow" and .name == "cat"'
fi
has_event policy.error 'true' && { vctl events --type policy.error; fail "a listed field failed"; }
if [ -f "$PLUGINS/kern.so" ]; then
    printf 'vigil.on("kern.call", function(ev)\n  local _ = ev.calll\nend)\n' >"$POLICIES/20-typo.lua"
    vctl reload >/dev/null || fail "reload of the misspelt policy"
    ln -s /etc/shadow "$T/shadow-link3-$$"
    wait_for has_event policy.error '(.message // "") | test("kern.call has no field .calll. \\(nearest: call\\)")'
fi
stop_daemon
pass
