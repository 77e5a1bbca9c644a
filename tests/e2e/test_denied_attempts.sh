#!/usr/bin/env bash
# Denied actions reach the rules: in protect mode, nc tried in a real runc
# container is denied before it runs (only a proc.violation is published),
# and still the shipped suspicious-process incident fires and a user's
# webhook rule written for "nc ran in a container" (on proc.exec) posts to
# a real HTTP receiver on loopback, with denied = true and how it was
# stopped. The rules see the attempt; nothing they decide is carried out
# for it (it was denied already).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

start_http_receiver
cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
printf 'plugins = { proc = { stats_interval_ms = 300 } }\n' >>"$CONFIG"
printf 'webhooks = { ops = { url = "http://127.0.0.1:%s/hook", timeout_ms = 1000 } }\n' \
    "$RECEIVER_PORT" >>"$CONFIG"
cat >"$POLICIES/50-nc.lua" <<'LUA'
vigil.response{ name = "nc-ran", on = "proc.exec", match = { name = "nc" },
                actions = { "webhook:ops" } }
vigil.response{ name = "page-incident", on = "proc.incident",
                match = { incident = "suspicious_process" }, actions = { "webhook:ops" } }
LUA

ct_rootfs
cp /bin/busybox "$CT_ROOTFS/bin/nc"
start_daemon --config "$CONFIG"
ct_start web-1
CT=$(ct_id web-1)
G="$CT_PREFIX-web"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"
run() {
    RC=0
    runc exec "$CT" "$@" >"$T/out" 2>&1 </dev/null || RC=$?
}
learned() {
    vctl rules list --group "$G" --json | json_any --arg n "$1" '.plane == "proc" and .name == $n'
}
for _ in 1 2 3 4 5; do
    run /bin/sh -c 'sleep 0.3; true'
    learned sh && learned sleep && break
done
wait_for learned sh
protected() {
    vctl events --json --limit 1 --type proc.stats | jq -e '.protected_workloads == 1' >/dev/null
}
vctl group mode "$G" protect >/dev/null
wait_for protected

run /bin/nc -h
[ "$RC" -ne 0 ] || fail "nc ran in protect mode"
grep -qiE 'permission denied|not permitted' "$T/out" || fail "nc: no permission error: $(cat "$T/out")"
wait_for has_event proc.violation ".workload == \"$CT\" and .path == \"/bin/nc\" and .action == \"deny\""
# The exec never happened: no proc.exec of nc is stored (of this container:
# the daemon sees the whole host, where other tests run nc too).
has_event proc.exec ".name == \"nc\" and .workload == \"$CT\"" &&
    fail "a proc.exec of the denied nc was published"

# The shipped incident fired for the attempt.
wait_for has_event proc.incident \
    ".workload == \"$CT\" and .group == \"$G\" and .incident == \"suspicious_process\" and .name == \"nc\""
# The user's rule on proc.exec and the one on the incident both posted.
wait_for has_event response.done '.rule == "nc-ran" and .status == "done" and .event_type == "proc.exec"'
wait_for has_event response.done '.rule == "page-incident" and .status == "done"'
wait_for sh -c "jq -e -s 'any(.[]; .type == \"proc.exec\" and .name == \"nc\" and .denied == true and (.enforcement == \"exec\" or .enforcement == \"kill\") and .workload == \"$CT\")' '$T/bodies' >/dev/null"
jq -e -s 'any(.[]; .type == "proc.incident" and .incident == "suspicious_process")' "$T/bodies" >/dev/null ||
    { cat "$T/bodies"; fail "the incident did not reach the webhook"; }
# Nothing was carried out for the attempt: one violation per try, the plugin's.
[ "$(vctl events --json --limit 10000 --type proc.violation | jq -s '[.[] | select(.path == "/bin/nc")] | length')" -eq 1 ] ||
    fail "the attempt raised violations of its own"
vctl rules list --group "$G" --json | json_any '.name == "nc"' && fail "the denied nc was learned"
stop_daemon
pass
