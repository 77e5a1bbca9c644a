#!/bin/bash
# vigil-scan secrets as a CI pipeline runs it: exit status 0 / 1 / 2, text,
# JSON and SARIF output (its shape checked with jq against what GitHub code
# scanning requires), masking unless --reveal, user rules, an image tarball.
set -euo pipefail
: "${VIGIL_BUILD:?run through ctest}"
SCAN="$VIGIL_BUILD/vigil-scan"
# The compiled-rules cache in the build tree, not the home directory.
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"
T=$(mktemp -d /tmp/vigil-e2e-secrets.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# A random string in the format of a GitHub token, nobody's credential.
TOKEN=ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W

status() { set +e; "$@" >"$T/out" 2>"$T/err"; echo $?; set -e; }

mkdir -p "$T/clean" "$T/dirty/conf"
echo "nothing here" > "$T/clean/readme.txt"
printf 'name: shop\ntoken: %s\n' "$TOKEN" > "$T/dirty/conf/app.yaml"
ln -s /etc "$T/dirty/etc-link"

[ "$(status "$SCAN" secrets "$T/clean")" = 0 ] || fail "clean tree: want exit 0"
[ "$(status "$SCAN" secrets "$T/dirty")" = 1 ] || fail "dirty tree: want exit 1"
grep -q "conf/app.yaml:2:8: critical github-pat" "$T/out" || fail "text output: $(cat "$T/out")"
grep -q "$TOKEN" "$T/out" "$T/err" && fail "the whole secret was printed without --reveal"
[ "$(status "$SCAN" secrets --reveal "$T/dirty")" = 1 ] || fail "--reveal: want exit 1"
grep -q "$TOKEN" "$T/out" || fail "--reveal does not show the secret"
[ "$(status "$SCAN" secrets "$T/nonexistent")" = 2 ] || fail "missing path: want exit 2"
[ "$(status "$SCAN" secrets --bogus "$T/dirty")" = 2 ] || fail "bad option: want exit 2"
[ "$(status "$SCAN" secrets)" = 2 ] || fail "no operand: want exit 2"
echo 'return { rules = { { id = "broken", regex = "(" } } }' > "$T/bad.lua"
[ "$(status "$SCAN" secrets --rules "$T/bad.lua" "$T/clean")" = 2 ] || fail "bad rules: want exit 2"
grep -q "rule 'broken'" "$T/err" || fail "bad rules: message $(cat "$T/err")"

# JSON.
[ "$(status "$SCAN" secrets --json "$T/dirty")" = 1 ] || fail "--json: want exit 1"
jq -e '.findings | length == 1' "$T/out" >/dev/null || fail "json: $(cat "$T/out")"
jq -e '.findings[0] | .rule == "github-pat" and .path == "conf/app.yaml" and .line == 2
       and .column == 8 and .kind == "file" and (.secret | startswith("ghp_"))
       and (.secret | length < 16)' "$T/out" >/dev/null || fail "json finding: $(cat "$T/out")"
jq -e '.stats.skipped_symlink == 1 and .stats.files == 1' "$T/out" >/dev/null || fail "json stats"

# SARIF 2.1.0 as GitHub code scanning reads it.
[ "$(status "$SCAN" secrets --sarif "$T/dirty")" = 1 ] || fail "--sarif: want exit 1"
jq -e '.version == "2.1.0" and (.["$schema"] | test("sarif-2.1.0"))
       and (.runs | length == 1)
       and .runs[0].tool.driver.name == "vigil-scan"
       and (.runs[0].tool.driver.rules | length >= 100)
       and all(.runs[0].tool.driver.rules[]; (.id | type == "string")
               and (.shortDescription.text | type == "string"))
       and (.runs[0].results | length == 1)
       and (.runs[0].results[0] | .ruleId == "github-pat" and .level == "error"
            and (.message.text | type == "string")
            and .locations[0].physicalLocation.artifactLocation.uri == "conf/app.yaml"
            and .locations[0].physicalLocation.region.startLine == 2
            and .locations[0].physicalLocation.region.startColumn == 8)' \
    "$T/out" >/dev/null || fail "sarif shape: $(head -c 2000 "$T/out")"
# Every result's ruleId names a rule of the driver.
jq -e '[.runs[0].tool.driver.rules[].id] as $ids
       | all(.runs[0].results[]; .ruleId as $r | $ids | index($r))' "$T/out" >/dev/null ||
    fail "sarif ruleId not among the rules"
[ "$(status "$SCAN" secrets --sarif "$T/clean")" = 0 ] || fail "--sarif clean: want exit 0"
jq -e '.runs[0].results == []' "$T/out" >/dev/null || fail "sarif clean results"

# A user rule, and a tarball in docker-save layout.
cat > "$T/corp.lua" <<'LUA'
return { rules = { { id = "corp-token", regex = [[\b(corp_[a-z0-9]{16})\b]],
                     keywords = { "corp_" }, severity = "high" } } }
LUA
echo "T=corp_0a1b2c3d4e5f6a7b" > "$T/clean/x.env"
[ "$(status "$SCAN" secrets --rules "$T/corp.lua" --json "$T/clean")" = 1 ] || fail "user rule"
jq -e '.findings[0].rule == "corp-token"' "$T/out" >/dev/null || fail "user rule finding"
rm "$T/clean/x.env"
mkdir -p "$T/img/l1" "$T/root/app"
printf 'GITHUB_TOKEN=%s\n' "$TOKEN" > "$T/root/app/.env"
tar -C "$T/root" -cf "$T/img/l1/layer.tar" app
echo '[{"Config":"c.json","Layers":["l1/layer.tar"]}]' > "$T/img/manifest.json"
echo '{}' > "$T/img/c.json"
tar -C "$T/img" -cf "$T/image.tar" manifest.json c.json l1
digest="sha256:$(sha256sum "$T/img/l1/layer.tar" | cut -d' ' -f1)"
[ "$(status "$SCAN" secrets --json "$T/image.tar" "$T/clean")" = 1 ] || fail "image: want exit 1"
jq -e --arg d "$digest" '.findings[0] | .path == "app/.env" and .layer == $d' "$T/out" >/dev/null ||
    fail "image finding: $(cat "$T/out")"
echo "ok"
