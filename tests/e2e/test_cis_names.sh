#!/usr/bin/env bash
# The CIS checks' old names keep working after the bench -> cis rename:
# `cis` is another name for `bench` in vigil-scan and vigilctl (same output),
# the settings under their old name plugins.bench still configure the cis
# plugin (with a warning in the log), and a check of the user's written with
# the old API (bench.stat, vigil_result) decides as one written with cis.*,
# with a warning that names its file and line.
. "$(dirname "$0")/lib.sh"

SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_CIS_DIR="$VIGIL_SRC/lua/cis"

# A root where Docker lets containers talk to each other (2.2 WARN).
R="$T/root"
mkdir -p "$R/etc/docker" "$R/proc/100" "$R/usr/bin"
echo '{"icc": true}' > "$R/etc/docker/daemon.json"
chmod 644 "$R/etc/docker/daemon.json"
printf '/usr/bin/dockerd\0-H\0fd://\0' > "$R/proc/100/cmdline"
echo dockerd > "$R/proc/100/comm"
: > "$R/usr/bin/dockerd"

# The same two checks, once in the old API and once in the new one: each
# warns about a file that is not there and passes on one that is.
mkdir -p "$T/old" "$T/new"
cat > "$T/old/acme.lua" <<'LUA'
local function want(path)
  if not bench.stat(path) then return vigil_result("WARN", path .. " is missing") end
  return vigil_result("PASS", path .. " " .. fmt_mode(bench.stat(path).mode))
end
return {
  { id = "ACME-1", title = "acme.conf", level = 1, automated = true, scored = true,
    target = "host", remediation = "-", run = function() return want("/etc/acme.conf") end },
  { id = "ACME-2", title = "daemon.json", level = 1, automated = true, scored = true,
    target = "host", remediation = "-",
    run = function() return want("/etc/docker/daemon.json") end },
}
LUA
sed -e 's/bench\.stat/cis.stat/g; s/vigil_result("WARN"/cis.result(cis.WARN/; s/vigil_result("PASS"/cis.result(cis.PASS/' \
    -e 's/fmt_mode(/cis.fmt_mode(/' "$T/old/acme.lua" > "$T/new/acme.lua"
grep -q 'bench\|vigil_result' "$T/new/acme.lua" && fail "the new-API copy still has old names"

# vigil-scan: cis and bench print the same report.
rc=0
"$SCAN" bench --root "$R" --checks "$T/old" --json > "$T/bench.json" 2> "$T/bench.err" || rc=$?
[ "$rc" = 1 ] || fail "vigil-scan bench: exit $rc, want 1 (2.2 warns)"
rc=0
"$SCAN" cis --root "$R" --checks "$T/new" --json > "$T/cis.json" 2> "$T/cis.err" || rc=$?
[ "$rc" = 1 ] || fail "vigil-scan cis: exit $rc, want 1"
strip() { jq -S 'del(.ms, .seconds, .time) | .results |= map(del(.file))' "$1"; }
diff <(strip "$T/bench.json" | sed 's#/old/#/X/#g') <(strip "$T/cis.json" | sed 's#/new/#/X/#g') \
    || fail "vigil-scan cis and bench (old and new API) report differently"
json 'any(.results[]; .id == "ACME-1" and .status == "WARN")' "$T/cis.json" >/dev/null \
    || fail "ACME-1 is not WARN: $(cat "$T/cis.json")"
json 'any(.results[]; .id == "ACME-2" and .status == "PASS" and (.evidence | endswith("0644")))' \
    "$T/cis.json" >/dev/null || fail "ACME-2 is not PASS with the file's mode"
# The old names are named, once each, with where they are used.
grep -q "old/acme.lua:2: bench is an old name of the CIS checks' API: use cis$" "$T/bench.err" \
    || fail "no warning for bench: $(cat "$T/bench.err")"
grep -q "old/acme.lua:2: vigil_result is an old name of the CIS checks' API: use cis.result$" \
    "$T/bench.err" || fail "no warning for vigil_result"
[ "$(grep -c 'vigil_result is an old name' "$T/bench.err")" = 1 ] || fail "warned more than once"
grep -q "old name" "$T/cis.err" && fail "the new API warns: $(cat "$T/cis.err")"

# The daemon, configured under the old name.
CONFIG="$T/vigil.lua"
cat > "$CONFIG" <<LUA
plugins = { bench = { root = "$R", lua_dir = "$VIGIL_SRC/lua/cis", checks_dir = "$T/new",
                      run_at_start = false } }
LUA
cp "$VIGIL_BUILD"/plugins/cis.so "$PLUGINS"/
start_daemon
grep -q "plugins.bench is the old name of plugins.cis; rename it" "$LOG" \
    || fail "no warning about plugins.bench"
vctl plugins --json | json 'any(.[]; .name == "cis" and .state == "running")' >/dev/null \
    || fail "cis plugin not running"
vctl cis run --json | json '.queued == true and .report == "host"' >/dev/null \
    || fail "vigilctl cis run"
wait_for vctl bench show --json
# The root and checks_dir of plugins.bench were used: 2.2 warns on the
# fixture, and the user's checks ran.
vctl cis show --json > "$T/cis.show"
vctl bench show --json > "$T/bench.show"
cmp -s "$T/cis.show" "$T/bench.show" || fail "vigilctl cis show and bench show differ"
json_any '.id == "2.2" and .status == "WARN"' "$T/cis.show" \
    || fail "2.2 not WARN: plugins.bench's root was not used"
json_any '.id == "ACME-2" and .status == "PASS"' "$T/cis.show" \
    || fail "ACME-2 missing: plugins.bench's checks_dir was not used"
# `vigilctl cis` is listed, and says what it is.
vctl help | has "^  cis " || fail "vigilctl help does not list cis"
stop_daemon
pass
