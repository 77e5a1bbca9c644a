#!/usr/bin/env bash
# A host without libcurl, made real: a private mount namespace with
# /dev/null bound over the libcurl that the dynamic linker would load.
# There, `vigild --check` of a config with webhook endpoints warns that
# none can be delivered (the config is still valid: exit 0), and a daemon
# runs on, failing each delivery at once, counted and logged. With libcurl
# (or without endpoints) the check says nothing of it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a mount namespace"; exit 77; }
# awk reads to the end: one that left early would fail ldconfig with
# SIGPIPE, and the script with it (pipefail).
CURL_SO=$(ldconfig -p | awk '/libcurl\.so\.4 / && !p {p = $NF} END {print p}')
[ -n "$CURL_SO" ] || fail "libcurl.so.4 is not installed (scripts/deps.sh installs it)"
CURL_REAL=$(readlink -f "$CURL_SO")

# without_curl CMD...: runs CMD where libcurl cannot be loaded (same pid).
without_curl() {
    unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$CURL_REAL" "$@"
}

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
check() {
    "$@" "$VIGILD" --check --config "$CONFIG" --policy-dir "$POLICIES" >"$T/check.out" 2>&1 ||
        { cat "$T/check.out"; fail "--check exited non-zero"; }
    grep -q "policies are valid" "$T/check.out" || fail "--check did not say valid"
}
warned() {
    grep -q "webhooks are configured, but none can be delivered: cannot load libcurl.so.4" \
        "$T/check.out" && grep -q "install libcurl4" "$T/check.out"
}

# No endpoints: nothing to warn about, even without libcurl.
check without_curl
warned && fail "warned without any endpoint"

start_http_receiver
printf 'webhooks = { ops = { url = "http://127.0.0.1:%s/hook" } }\n' "$RECEIVER_PORT" >>"$CONFIG"
check env
warned && fail "warned on a host with libcurl"
check without_curl
warned || { cat "$T/check.out"; fail "no warning on a host without libcurl"; }

# The daemon there: it runs, and a delivery fails at once, counted, logged.
cat >"$POLICIES/50-respond.lua" <<'LUA'
vigil.response{ name = "page-ops", on = "test.reloaded", actions = { "webhook:ops" } }
LUA
VIGILD_REAL=$VIGILD
cat >"$T/vigild-nocurl" <<SH
#!/bin/sh
exec unshare -m sh -c 'mount --bind /dev/null "\$1" && shift && exec "\$@"' sh "$CURL_REAL" "$VIGILD_REAL" "\$@"
SH
chmod +x "$T/vigild-nocurl"
VIGILD="$T/vigild-nocurl"
start_daemon
vctl reload >/dev/null || fail "reload"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.webhooks.failed == 1'"
grep -q "no webhook can be delivered: cannot load libcurl.so.4" "$LOG" || fail "not logged"
[ -s "$T/bodies" ] && fail "a body reached the receiver without libcurl"
kill "$RECEIVER"; wait "$RECEIVER" 2>/dev/null || true
stop_daemon
pass
