#!/usr/bin/env bash
# The secrets plugin in a real daemon: a new runc container whose root file
# system holds a token is scanned (plugins.secrets.scan_new defaults to
# true); the finding is a secret.finding event with the workload, the path
# inside the container and the secret masked, the scan ends with a
# secret.scan event, and the whole token appears in no event and no log. A
# token in the environment of a container's process is a finding of kind
# env.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

# A random string in the format of a GitHub token, nobody's credential.
TOKEN=ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W
ENV_TOKEN=ghp_Pw8HkT3nVb6QzR1mXc9LsJ4yDf2GuA7eKo5N
WEB=$(ct_id web-1)
API=$(ct_id api-1)
cp "$VIGIL_BUILD/plugins/secrets.so" "$PLUGINS"/
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"

ct_rootfs
mkdir -p "$CT_ROOTFS/srv"
printf 'LOG_LEVEL=info\nGITHUB_TOKEN=%s\n' "$TOKEN" >"$CT_ROOTFS/srv/app.env"

start_daemon
vctl plugins --json | jq -se 'flatten | any(.[]; .name == "secrets" and .state == "running")' >/dev/null ||
    fail "secrets plugin not loaded: $(vctl plugins)"
ct_start web-1

found() {
    vctl events --json --type secret.finding | jq -se --arg id "$WEB" '
        any(.[]; .workload == $id and .rule == "github-pat" and .path == "srv/app.env"
                 and .line == 2 and .column == 14 and .kind == "file"
                 and (.secret | startswith("ghp_")) and (.secret | length < 16))' >/dev/null
}
scanned() {
    vctl events --json --type secret.scan |
        jq -se --arg id "$WEB" 'any(.[]; .workload == $id and .findings >= 1 and .error == 0)' \
            >/dev/null
}
for _ in $(seq 1 200); do
    found && scanned && break
    sleep 0.1
done
found || fail "no secret.finding for $WEB: $(vctl events --json --type secret.finding | head -c 2000)"
scanned || fail "no secret.scan for $WEB: $(vctl events --json --type secret.scan | head -c 2000)"
# A token in a process environment (the container's init, after exec).
# (A script, since ct_start's jq would take a "-c" for its own option.)
printf 'export GH_TOKEN=%s\nexec /bin/sleep 600\n' "$ENV_TOKEN" >"$CT_ROOTFS/env-init.sh"
ct_start api-1 /bin/sh /env-init.sh
API_PID=$CT_PID
env_found() {
    vctl events --json --type secret.finding | jq -se --arg id "$API" --arg p "pid:$API_PID" '
        any(.[]; .workload == $id and .kind == "env" and .path == $p and .rule == "github-pat"
                 and .line == 1)' >/dev/null
}
for _ in $(seq 1 200); do
    env_found && break
    sleep 0.1
done
env_found || fail "no env finding for $API: $(vctl events --json --type secret.finding | tail -c 2000)"
if vctl events --json | has -e "$TOKEN" -e "$ENV_TOKEN" || has -e "$TOKEN" -e "$ENV_TOKEN" "$LOG"; then
    fail "the whole token was stored or logged"
fi
stop_daemon
echo ok
