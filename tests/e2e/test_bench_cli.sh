#!/bin/bash
# `vigil-scan bench` as CI uses it: exit statuses (0 clean, 1 WARN, 2
# error), the docker-bench style text lines, --json, --sarif and --tag, on
# fixture roots made here.
set -euo pipefail
BUILD=${VIGIL_BUILD:?}
SRC=${VIGIL_SRC:?}
SCAN="$BUILD/vigil-scan"
export VIGIL_CIS_DIR="$SRC/lua/cis"
T=$(mktemp -d /tmp/vigil-bench-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A host whose Docker lets containers talk to each other (icc) and whose
# daemon.json is world-writable.
R="$T/root"
mkdir -p "$R/etc/docker" "$R/proc/100" "$R/usr/bin"
echo '{"icc": true}' > "$R/etc/docker/daemon.json"
chmod 666 "$R/etc/docker/daemon.json"
printf '/usr/bin/dockerd\0-H\0fd://\0' > "$R/proc/100/cmdline"
echo dockerd > "$R/proc/100/comm"
: > "$R/usr/bin/dockerd"

set +e
"$SCAN" bench --root "$R" --format text > "$T/text"; rc=$?
set -e
[ "$rc" = 1 ] || fail "WARNs should exit 1, got $rc"
grep -qx '\[WARN\] 2.2 - Ensure network traffic is restricted between containers on the default bridge' "$T/text" \
  || fail "no docker-bench line for 2.2"
grep -qx '\[WARN\] 3.18 - Ensure that daemon.json file permissions are set to 644 or more restrictive' "$T/text" \
  || fail "no line for 3.18"
grep -q '^      \* .*daemon.json has mode 0666' "$T/text" || fail "no evidence under 3.18"

set +e
"$SCAN" bench --root "$R" --json > "$T/json"; rc=$?
set -e
[ "$rc" = 1 ] || fail "--json exit $rc"
[ "$(jq -r '.results[] | select(.id == "2.2" and .target == "host") | .status' "$T/json")" = WARN ] \
  || fail "json 2.2 not WARN"
[ "$(jq -r '.results[] | select(.id == "2.2") | .tags.NIST | length' "$T/json")" -ge 1 ] || fail "no NIST tags"
[ "$(jq '.summary.WARN' "$T/json")" -ge 2 ] || fail "summary"

set +e
"$SCAN" bench --root "$R" --sarif > "$T/sarif"; rc=$?
set -e
[ "$rc" = 1 ] || fail "--sarif exit $rc"
[ "$(jq -r '.version' "$T/sarif")" = 2.1.0 ] || fail "sarif version"
jq -e '.runs[0].results[] | select(.ruleId == "docker/2.2" and .level == "warning")' "$T/sarif" > /dev/null \
  || fail "sarif result for docker/2.2"

# --tag keeps only checks mapped to that framework.
set +e
"$SCAN" bench --root "$R" --json --tag HIPAA > "$T/hipaa"; rc=$?
set -e
[ "$(jq '[.results[] | select(.tags.HIPAA == null)] | length' "$T/hipaa")" = 0 ] || fail "--tag HIPAA leaks"

# Fixed: the same host passes those checks and, with nothing left to warn
# about in the containers target of an empty root, exits 0.
echo '{"icc": false}' > "$R/etc/docker/daemon.json"
chmod 644 "$R/etc/docker/daemon.json"
"$SCAN" bench --root "$R" --format text > "$T/fixed" || true
grep -qx '\[PASS\] 2.2 - .*' "$T/fixed" || fail "2.2 should pass now"
mkdir -p "$T/empty"
"$SCAN" bench --root "$T/empty" --target containers > /dev/null || fail "a clean run should exit 0"

# The default output is a table with a summary line.
set +e
"$SCAN" bench --root "$R" > "$T/table"; rc=$?
set -e
head -1 "$T/table" | grep -q '^STATUS  ID' || fail "table header"
tail -1 "$T/table" | grep -q 'checks: .* PASS, .* WARN' || fail "table summary"

# Errors: usage, a missing root, a custom check that raises.
set +e
"$SCAN" bench --target nonsense > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "bad target exit $rc"
"$SCAN" bench --root "$T/missing" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "missing root exit $rc"
mkdir -p "$T/checks"
cat > "$T/checks/acme.lua" <<'LUA'
return { id = "ACME-1", title = "Custom check that fails to run", level = 1, automated = true,
         scored = true, target = "containers", tags = { PCI = { "12.1" } }, remediation = "",
         run = function(ctx) error("cannot tell") end }
LUA
"$SCAN" bench --root "$T/empty" --target containers --checks "$T/checks" --format text > "$T/custom"; rc=$?
set -e
[ "$rc" = 2 ] || fail "an erroring check should exit 2, got $rc"
grep -q '^\[ERROR\] ACME-1 - Custom check that fails to run' "$T/custom" || fail "custom check not reported"
echo "ok"
