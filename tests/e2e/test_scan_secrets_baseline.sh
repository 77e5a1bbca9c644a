#!/bin/bash
# vigil-scan secrets as a team adopts it in CI: today's findings written to
# a baseline (--write-baseline, exit 0), later scans with --baseline report
# only what is new (exit 1 for a new secret, 0 when nothing is new, even
# after lines moved); findings in test paths listed apart and left out with
# --skip-tests (a private key in a test directory stays); published example
# values (the AWS documentation key) reported only with --example-data.
set -euo pipefail
: "${VIGIL_BUILD:?run through ctest}"
SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"
T=$(mktemp -d /tmp/vigil-e2e-secbase.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
status() { set +e; "$@" >"$T/out" 2>"$T/err"; echo $?; set -e; }
# Random strings in the formats of GitHub tokens, nobody's credentials.
OLD=ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W
NEW=ghp_Pw8HkT3nVb6QzR1mXc9LsJ4yDf2GuA7eKo5N

mkdir -p "$T/repo/conf" "$T/repo/tests/keys"
printf 'name: shop\ntoken: %s\n' "$OLD" >"$T/repo/conf/app.yaml"
printf 'GITHUB_TOKEN=%s\n' "$OLD" >"$T/repo/tests/ci.env"
cat >"$T/repo/tests/keys/deploy.pem" <<'EOF'
-----BEGIN RSA PRIVATE KEY-----
PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1f
jORS/6ilI8ihN5KXSc7Tvo/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xHKas1VOqg6YY
-----END RSA PRIVATE KEY-----
EOF
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n' >"$T/repo/conf/aws.ini"

# The table lists test-path findings apart, after the others.
[ "$(status "$SCAN" secrets "$T/repo")" = 1 ] || fail "scan: want exit 1"
head -1 "$T/out" | grep -q "^conf/app.yaml:2:8: critical github-pat" || fail "first line: $(cat "$T/out")"
grep -q "^2 finding(s) in test paths:" "$T/out" || fail "no test section: $(cat "$T/out")"
sed -n '/in test paths:/,$p' "$T/out" | grep -q "tests/ci.env:1:14: .*\[file, test\]" ||
    fail "test finding not in its section: $(cat "$T/out")"
grep -q "AKIAIOSFODNN7EXAMPLE\|aws-access-key-id" "$T/out" && fail "example key reported by default"
"$SCAN" secrets --json "$T/repo" >"$T/json" || true
jq -e '[.findings[] | select(.context == "test")] | length == 2' "$T/json" >/dev/null ||
    fail "json context: $(cat "$T/json")"
jq -e '.stats.examples >= 1 and all(.findings[]; .fingerprint | test("^[0-9a-f]{64}$"))' \
    "$T/json" >/dev/null || fail "json stats/fingerprint: $(cat "$T/json")"

# --skip-tests: the token under tests/ goes, the private key stays.
[ "$(status "$SCAN" secrets --json --skip-tests "$T/repo")" = 1 ] || fail "--skip-tests: want exit 1"
jq -e '(.findings | map(.path) | sort) == ["conf/app.yaml", "tests/keys/deploy.pem"]
       and .stats.skipped_tests == 1' "$T/out" >/dev/null || fail "--skip-tests: $(cat "$T/out")"

# --example-data: the AWS documentation key, low, as example data.
"$SCAN" secrets --json --example-data "$T/repo" >"$T/out" || true
jq -e 'any(.findings[]; .rule == "aws-access-key-id" and .severity == "low"
                         and .context == "example")' "$T/out" >/dev/null ||
    fail "--example-data: $(cat "$T/out")"

# Accept today's findings.
[ "$(status "$SCAN" secrets --write-baseline "$T/base.json" "$T/repo")" = 0 ] ||
    fail "--write-baseline: want exit 0: $(cat "$T/err")"
jq -e '.version == 1 and (.findings | length == 3)' "$T/base.json" >/dev/null ||
    fail "baseline file: $(cat "$T/base.json")"
grep -q -e "$OLD" -e "ghp_" -e "PtYgjm" "$T/base.json" && fail "a secret is in the baseline file"
[ "$(status "$SCAN" secrets --baseline "$T/base.json" "$T/repo")" = 0 ] ||
    fail "nothing new: want exit 0: $(cat "$T/out")"
grep -q "3 in the baseline" "$T/err" || fail "summary: $(cat "$T/err")"
# Lines move, a new token arrives: only it is reported.
printf '# shop settings\nname: shop\nlog: info\ntoken: %s\nnext: %s\n' "$OLD" "$NEW" >"$T/repo/conf/app.yaml"
[ "$(status "$SCAN" secrets --json --baseline "$T/base.json" "$T/repo")" = 1 ] ||
    fail "new token: want exit 1"
jq -e '(.findings | length == 1) and .findings[0].line == 5 and .stats.baselined == 3' "$T/out" \
    >/dev/null || fail "only the new token: $(cat "$T/out")"
# A broken or missing baseline is an error, not a silent pass.
echo '{"version": 1, "findings": [{"fingerprint": "nope"}]}' >"$T/bad.json"
[ "$(status "$SCAN" secrets --baseline "$T/bad.json" "$T/repo")" = 2 ] || fail "bad baseline: want 2"
grep -q "bad.json" "$T/err" || fail "bad baseline message: $(cat "$T/err")"
[ "$(status "$SCAN" secrets --baseline "$T/missing.json" "$T/repo")" = 2 ] ||
    fail "missing baseline: want 2"
[ "$(status "$SCAN" secrets --baseline "$T/base.json" --write-baseline "$T/b2" "$T/repo")" = 2 ] ||
    fail "both baseline options: want 2"
echo ok
