#!/usr/bin/env bash
# Reviewing what was learned: `vigilctl rules list --origin learned --since
# 10m` shows what learning added lately; `rules export --origin learned`
# writes it as a policy file to commit; `rules reject` deletes the learned
# rules a selection takes and `rules accept` keeps them as imported rules
# (which group aging keeps), in bulk. Real learning: the proc plugin and the
# shipped policy learn the host's programs in the group nodes.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
BIN="$T/bin"
mkdir -p "$BIN"
for p in A B C; do cp /bin/sleep "$BIN/vgrev$$$p"; done
start_daemon

learned_rule() { # learned_rule NAME ORIGIN: a rule of nodes for NAME with that origin
    vctl rules list --group nodes --json | json_any --arg n "$1" --arg o "$2" '.name == $n and .origin == $o'
}
for p in A B; do "$BIN/vgrev$$$p" 0.2; done
wait_for learned_rule "vgrev$$A" learned
wait_for learned_rule "vgrev$$B" learned

# List: by origin and time.
vctl rules list --group nodes --origin learned --since 10m --json >"$T/learned.json"
json_any --arg n "vgrev$$A" '.name == $n' "$T/learned.json" || fail "--origin learned --since 10m lacks A"
json_any '.origin != "learned"' "$T/learned.json" && fail "--origin learned listed other origins"
vctl rules list --group nodes --origin imported --json | json_any --arg n "vgrev$$A" '.name == $n' &&
    fail "--origin imported listed a learned rule"
future=$(( $(date +%s) + 3600 ))
[ -z "$(vctl rules list --group nodes --since "$future" --json)" ] || fail "--since in the future listed rules"
vctl rules list --origin lerned >/dev/null 2>"$T/err" && fail "a bad origin was accepted"
grep -q "origin must be learned, written or imported" "$T/err" || fail "no reason for a bad origin"

# Export of the learned set: a policy file of those rules only.
vctl rules export --group nodes --origin learned --since 10m >"$T/learned.lua"
grep -q "learned rules\? of group \"nodes\"" "$T/learned.lua" || { head -3 "$T/learned.lua"; fail "export header"; }
grep -q "name = \"vgrev$$A\".* } -- learned" "$T/learned.lua" || fail "export lacks the learned rule"
mkdir "$T/export"
cp "$T/learned.lua" "$T/export/50-learned.lua"
"$VIGIL_BUILD/vigil-policy" check "$T/export" >/dev/null || fail "the exported set does not load as a policy"

# Reject in bulk: the learned rules of nodes from the last 10 minutes.
vctl rules reject --group nodes --origin learned --since 10m >"$T/out"
grep -q "^rejected [1-9][0-9]* learned rules" "$T/out" || fail "reject: $(cat "$T/out")"
learned_rule "vgrev$$A" learned && fail "a rejected rule is still there"
learned_rule "vgrev$$B" learned && fail "a rejected rule is still there"

# Accept in bulk: kept, as imported rules.
"$BIN/vgrev$$C" 0.2
wait_for learned_rule "vgrev$$C" learned
vctl rules accept --group nodes --since 10m --json | json '.accepted >= 1' >/dev/null || fail "accept"
learned_rule "vgrev$$C" imported || fail "the accepted rule is not kept as imported"
learned_rule "vgrev$$C" learned && fail "the accepted rule is still listed as learned"
stop_daemon
pass
