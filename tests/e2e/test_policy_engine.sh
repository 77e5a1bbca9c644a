#!/usr/bin/env bash
# The policy engine in a real daemon with the real proc plugin: the shipped
# policy raises incidents for real processes; a memory bomb and an endless
# loop in handlers are cut off (policy.error with file and line) while the
# daemon keeps answering; a policy that fails to load (not only a syntax
# error) is refused by `vigilctl reload` and `vigild --check` with file:line.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
# The test plugin publishes test.started when it starts and test.reloaded on
# each reload: a memory bomb for the first, an endless loop for the second.
cat >"$POLICIES/50-bad-handlers.lua" <<'LUA'
vigil.on("test.started", function(ev)
  local t, s = {}, string.rep("x", 1000)
  for i = 1, 1e9 do t[i] = s .. i end
end)
vigil.on("test.reloaded", function(ev)
  local n = 0
  while true do n = n + 1 end
end)
LUA

"$VIGILD" --check --policy-dir "$POLICIES" --plugin-dir "$PLUGINS" >"$T/check.out" 2>&1 \
    || { cat "$T/check.out"; fail "--check on the shipped policy"; }
start_daemon

wait_for has_event policy.error \
    '(.file | endswith("/50-bad-handlers.lua")) and .line == 1 and (.message | test("MiB of memory"))'
vctl status >/dev/null || fail "no answer after the memory bomb"

# Real processes through the proc plugin and the shipped incidents.
BIN="$T/bin"
mkdir -p "$BIN"
# The proc plugin names a process after its argv[0]; a copy of sleep named
# nmap lives long enough to be read from /proc.
cp "$(command -v sleep)" "$BIN/nmap"
cp "$(command -v busybox)" "$BIN/ash"
"$BIN/nmap" 0.3
python3 - "$BIN/ash" <<'PY'
import socket, subprocess, sys
# A TCP connection on loopback as the shell's stdin/stdout: a reverse shell.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
a = socket.create_connection(srv.getsockname())
b, _ = srv.accept()
subprocess.run([sys.argv[1], "-c", "sleep 0.3; exit 0"], stdin=a, stdout=a, check=True)
PY
wait_for has_event proc.incident '.incident == "suspicious_process" and .name == "nmap"'
wait_for has_event proc.incident '.incident == "reverse_shell" and (.path | endswith("/bin/ash")) and .severity == "critical"'

# The endless loop runs on reload; the reload itself succeeds.
vctl reload >/dev/null || fail "reload of good policies"
wait_for has_event policy.error \
    '(.file | endswith("/50-bad-handlers.lua")) and .line == 7 and (.message | test("instructions"))'
vctl status >/dev/null || fail "no answer after the endless loop"

# A policy that compiles but does not load: refused, the old one stays.
printf 'vigil.on("proc.exec", function() end)\nvigil.response{ on = "proc.incident", actions = {} }\n' \
    >"$POLICIES/60-broken.lua"
if vctl reload 2>"$T/reload.err"; then fail "reload of a broken policy accepted"; fi
grep -q "60-broken.lua:2: vigil.response: 'actions' must be a non-empty list" "$T/reload.err" \
    || { cat "$T/reload.err"; fail "no file:line for the broken policy"; }
if "$VIGILD" --check --policy-dir "$POLICIES" --plugin-dir "$PLUGINS" >"$T/check.out" 2>&1; then
    fail "--check accepted a policy that does not load"
fi
grep -q "60-broken.lua:2:" "$T/check.out" || { cat "$T/check.out"; fail "--check lacks file:line"; }
# The running policy still raises incidents.
"$BIN/nmap" 0.31
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' events --json --limit 10000 --type proc.incident \
    | jq -s -e '[.[] | select(.incident == \"suspicious_process\")] | length >= 2'"

rm "$POLICIES/60-broken.lua"
vctl reload >/dev/null || fail "reload after the fix"
stop_daemon
pass
