#!/usr/bin/env bash
# The catalogue of event types (`vigild --list-fields`, lib/evcat.c) is what
# policies are checked against and what makes events strict: every field
# that the real proc plugin puts in its events must be listed for its type,
# or a handler reading it would fail. Real processes: ones that run a
# moment, ones that exit at once (reported as "gone"), a uid change.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
start_daemon
BIN="$T/bin"
mkdir -p "$BIN"
cp "$(command -v busybox)" "$BIN/ash"
for _ in 1 2 3 4 5; do "$BIN/ash" -c 'exit 0'; /bin/true; done
"$BIN/ash" -c 'sleep 0.2; exit 3' catalogue-$$ || true
setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/ash" -c 'sleep 0.1'
wait_for has_event proc.exec "(.cmdline // \"\") | test(\"catalogue-$$\")"
wait_for has_event proc.exit '.exit_code == 3'

for type in proc.exec proc.exit proc.uid; do
    fields=" id time type severity workload group $("$VIGILD" --list-fields "$type" | sed -n 's/^  fields: //p') "
    keys=$(vctl events --json --limit 10000 --type "$type" | jq -r 'keys[]' | sort -u)
    [ -n "$keys" ] || fail "no $type event to check"
    for k in $keys; do
        case "$fields" in *" $k "*) ;; *) fail "$type events carry '$k', which --list-fields does not list" ;; esac
    done
done
# A policy that reads every listed field of proc.exec loads and runs
# without a policy.error on the real events.
list=$("$VIGILD" --list-fields proc.exec | sed -n 's/^  fields: //p')
{
    echo 'vigil.on("proc.exec", function(ev)'
    for f in $list; do echo "  local _ = ev.$f"; done
    echo 'end)'
} >"$POLICIES/10-all-fields.lua"
vctl reload >/dev/null || fail "reload of the all-fields policy"
"$BIN/ash" -c 'sleep 0.1' after-reload-$$
wait_for has_event proc.exec "(.cmdline // \"\") | test(\"after-reload-$$\")"
has_event policy.error 'true' && { vctl events --type policy.error; fail "a listed field failed"; }
stop_daemon
pass
