#!/usr/bin/env bash
# The boundaries the build promises (README "Layout"):
#  - a core folder's private header does not compile outside that folder;
#  - plugins resolve no vigil symbol from the daemon (they get a host table)
#    and export exactly one (vigil_plugin);
#  - the tools and plugins do not link the daemon's core (no vg_store_*,
#    vg_policy_* ... in vigilctl or a plugin).
# Usage: test_boundaries.sh SRC BUILD CC
set -u
SRC=$1 BUILD=$2 CC=$3
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

incs=()
for d in "$SRC"/core/*/; do incs+=(-I "$d"); done
incs+=(-I "$SRC/lib" -I "$SRC/include" $(pkg-config --cflags lua5.4 msgpack libuv))
for h in policy/policy_int.h rules/rules_int.h groups/groups_int.h groups/groups_custom.h \
         ctl/ctl_int.h daemon/daemon_int.h \
         workloads/runtime.h; do
    printf '#include "%s"\n' "$(basename "$h")" >"$BUILD/boundary_probe.c"
    if "$CC" -fsyntax-only -D_GNU_SOURCE "${incs[@]}" "$BUILD/boundary_probe.c" 2>"$BUILD/boundary_probe.err"; then
        fail "core/$h compiles outside its folder"
    elif ! grep -q "is private to core/" "$BUILD/boundary_probe.err"; then
        fail "core/$h: not refused by its guard: $(head -3 "$BUILD/boundary_probe.err")"
    fi
    # ...and compiles inside it.
    m=$(dirname "$h" | tr a-z A-Z)
    "$CC" -fsyntax-only -D_GNU_SOURCE -DVG_CORE_MODULE_$m "${incs[@]}" "$BUILD/boundary_probe.c" \
        2>/dev/null || fail "core/$h does not compile inside its folder"
done
rm -f "$BUILD/boundary_probe.c" "$BUILD/boundary_probe.err"

n=0
for so in "$BUILD"/plugins/*.so; do
    n=$((n + 1))
    und=$(nm -D --undefined-only "$so" | awk '{print $2}' | grep -E '^(vg_|vg__|vigil)' || true)
    [ -z "$und" ] || fail "$(basename "$so") needs daemon symbols: $und"
    exp=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDB]/ {print $3}' | grep -v -E '^(_init|_fini)$' || true)
    [ "$exp" = "vigil_plugin" ] || fail "$(basename "$so") exports more than vigil_plugin: $exp"
done
[ "$n" -gt 0 ] || fail "no plugins built in $BUILD/plugins"

for bin in vigilctl vigil-scan; do
    core=$(nm "$BUILD/$bin" | awk '{print $NF}' |
           grep -E '^vg_(store|policy|bus|rules|groups|workloads|discovery|ctl_open|daemon|plugins|webhooks)_' | head -5 || true)
    [ -z "$core" ] || fail "$bin links the daemon's core: $core"
done

echo "$((fails == 0 ? 1 : 0)) passed, $((fails == 0 ? 0 : 1)) failed"
[ "$fails" -eq 0 ]
