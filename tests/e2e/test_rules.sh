#!/usr/bin/env bash
# vigilctl rules against a real vigild: add shows in list (in words and as
# JSON), survives kill -9 and a restart, delete removes it, export writes a
# Lua policy file that import reads back (also into a fresh state), and a
# broken import is refused with its file and line and changes nothing.
. "$(dirname "$0")/lib.sh"

start_daemon

# ---- add and list ----
vctl rules add --group web --plane proc --name curl --path /usr/bin/curl \
    --comment 'health checks' >"$T/add.out"
grep -q 'added: group web: allow process curl (/usr/bin/curl) as any user' "$T/add.out" ||
    fail "add printed: $(cat "$T/add.out")"
vctl rules add --group web --plane net --direction egress --peer 10.0.0.7 --port 443 \
    --proto tcp --deny >/dev/null
vctl rules add --group db --plane file --path /etc/passwd --program /usr/sbin/useradd \
    --access write >/dev/null

vctl rules list >"$T/list.out"
head -n 1 "$T/list.out" | has '^GROUP  *PLANE  *ACTION  *SUBJECT  *ORIGIN  *CREATED$' ||
    fail "table header: $(head -n 1 "$T/list.out")"
grep -q '^web  *proc  *allow  *process curl (/usr/bin/curl) as any user  *written ' "$T/list.out" ||
    fail "proc rule row missing: $(cat "$T/list.out")"
grep -q 'write of /etc/passwd by /usr/sbin/useradd' "$T/list.out" || fail "file rule row missing"
grep -q 'deny  *egress with 10.0.0.7 on port 443/tcp' "$T/list.out" || fail "net rule row missing"

[ "$(vctl rules list --json | wc -l)" -eq 3 ] || fail "3 rules expected in --json"
[ "$(vctl rules list --group web --json | wc -l)" -eq 2 ] || fail "--group web: 2 rules"
vctl rules list --group web --plane proc --json | json_any \
    '.group == "web" and .plane == "proc" and .name == "curl" and .path == "/usr/bin/curl"
     and .user == "*" and .action == "allow" and .origin == "written"
     and .comment == "health checks" and .created > 0' || fail "proc rule as JSON"

# A field that is not the plane's, a bad plane, no group: usage errors from the daemon.
rc=0; vctl rules add --group web --plane proc --peer 1.2.3.4 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "unknown argument 'peer'" "$T/err" || fail "foreign field accepted ($rc)"
rc=0; vctl rules add --group web --plane disk --name x 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "plane must be proc, file or net" "$T/err" || fail "bad plane ($rc)"
rc=0; vctl rules add --plane proc --name x 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "needs a group" "$T/err" || fail "missing group ($rc)"

# ---- kill -9 and restart: the acknowledged rules are all there ----
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
start_daemon
[ "$(vctl rules list --json | wc -l)" -eq 3 ] || fail "rules lost to kill -9"
vctl status --json | jq -e '.rules.count == 3' >/dev/null || fail "status rules.count"

# ---- delete ----
rc=0; vctl rules delete --group web --plane proc --name curl 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "no such rule" "$T/err" || fail "delete of a non-matching subject ($rc)"
vctl rules delete --group web --plane proc --name curl --path /usr/bin/curl | has deleted
[ "$(vctl rules list --json | wc -l)" -eq 2 ] || fail "delete left the rule"

# ---- export, then import into a fresh daemon ----
vctl rules add --group web --plane proc --name 'odd "name"' --path '/opt/a\b' --user www \
    >/dev/null
vctl rules export >"$T/rules.lua"
head -n 1 "$T/rules.lua" | has '^-- vigil rules, exported .*: 3 rules of every group\.$' ||
    fail "export header: $(head -n 1 "$T/rules.lua")"
grep -q '^vigil.rule{ group = "web", plane = "proc", name = "odd \\"name\\"", path = "/opt/a\\\\b", user = "www", action = "allow" } -- written ' "$T/rules.lua" ||
    fail "export line: $(cat "$T/rules.lua")"
grep -q 'plane = "net", direction = "egress", peer = "10.0.0.7", port = "443", proto = "tcp", app = "\*", action = "deny"' "$T/rules.lua" ||
    fail "net export line"
vctl rules export --group db | grep -c '^vigil.rule' | has -x 1 || fail "export --group db"
stop_daemon

rm -rf "$STATE"
start_daemon
[ "$(vctl rules list --json | wc -l)" -eq 0 ] || fail "fresh state has rules"
vctl rules import "$T/rules.lua" | has "imported 3 rules from $T/rules.lua" || fail "import"
vctl rules list --json >"$T/imported.json"
[ "$(wc -l <"$T/imported.json")" -eq 3 ] || fail "3 rules after import"
json_any '.name == "odd \"name\"" and .path == "/opt/a\\b" and .user == "www"
          and .origin == "imported"' "$T/imported.json" || fail "imported rule differs"
json_any '.plane == "net" and .action == "deny" and .port == "443"' "$T/imported.json" ||
    fail "imported net rule differs"
# Importing again replaces, it does not duplicate.
vctl rules import "$T/rules.lua" >/dev/null
[ "$(vctl rules list --json | wc -l)" -eq 3 ] || fail "re-import duplicated rules"

# ---- broken imports: refused with file and line, nothing changes ----
printf 'vigil.rule{ group = "x", plane = "proc", name = "a" }\nvigil.rule{ group = "x", plane = "proc", nmae = "b" }\n' >"$T/bad.lua"
rc=0; vctl rules import "$T/bad.lua" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "bad import exit status $rc"
grep -q "$T/bad.lua:2: vigil.rule: unknown key 'nmae' for a proc rule" "$T/err" ||
    fail "bad import message: $(cat "$T/err")"
printf 'os.execute("touch %s/pwned")\n' "$T" >"$T/escape.lua"
rc=0; vctl rules import "$T/escape.lua" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/pwned" ] || fail "sandbox escape ($rc)"
grep -q "escape.lua:1:" "$T/err" || fail "escape message: $(cat "$T/err")"
printf 'while true do end\n' >"$T/loop.lua"
rc=0; vctl rules import "$T/loop.lua" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "endless import not cut off ($rc)"
[ "$(vctl rules list --json | wc -l)" -eq 3 ] || fail "a refused import changed the rules"
rc=0; vctl rules import "$T/nonexistent.lua" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc"

# ---- more rules than one reply frame (1 MiB) holds: list and export page ----
long=$(printf 'p%.0s' $(seq 1 240))
for part in 1 2; do
    seq 1 2500 | awk -v part=$part -v long="$long" '{ printf "vigil.rule{ group = \"bulk\", plane = \"proc\", name = \"n%d_%d\", path = \"/%s/%d\" }\n", part, $1, long, $1 }' >"$T/bulk$part.lua"
    vctl rules import "$T/bulk$part.lua" | has "imported 2500 rules" || fail "bulk import $part"
done
vctl rules list --json >"$T/all.json"
[ "$(wc -l <"$T/all.json")" -eq 5003 ] || fail "paged list: $(wc -l <"$T/all.json") rules"
[ "$(wc -c <"$T/all.json")" -gt 1500000 ] || fail "the bulk list is too small to need pages"
[ "$(sort -u "$T/all.json" | wc -l)" -eq 5003 ] || fail "a rule was listed twice"
[ "$(vctl rules list | wc -l)" -eq 5004 ] || fail "paged table"
vctl rules export --group bulk >"$T/bulk.lua"
[ "$(grep -c '^vigil.rule' "$T/bulk.lua")" -eq 5000 ] || fail "paged export"
[ "$(grep -c '^-- vigil rules, exported' "$T/bulk.lua")" -eq 1 ] || fail "export header repeated"

stop_daemon
pass
