#!/usr/bin/env bash
# Packaging: `cpack -G DEB` builds a .deb of this build; its files are
# unpacked into a DESTDIR and checked as an operator would meet them: the
# unit (verified by systemd-analyze, its Documentation= all installed), the
# tmpfiles entry, a man page for every command and for vigil.lua(5),
# /etc/vigil/policies.d/ and conf.d/, the config marked a conffile; then
# vigild runs from the DESTDIR with a conf.d drop-in of its own and
# vigilctl talks to it. `cmake --install` (make install) twice keeps a
# user's edited /etc/vigil/vigil.lua.
. "$(dirname "$0")/lib.sh"
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP: no cpack"; exit 77; }
[ "$(id -u)" -eq 0 ] || exit 77
grep -q 'CMAKE_INSTALL_PREFIX:PATH=/usr$' "$VIGIL_BUILD/CMakeCache.txt" ||
    { echo "SKIP: the build's prefix is not /usr"; exit 77; }

# Nothing may be written outside the staging directories: the host's
# /etc/vigil is as it was (absent, on a test machine) after every install.
host_etc() { stat -c '%i %Y' /etc/vigil 2>/dev/null || echo absent; }
HOST_ETC=$(host_etc)

(cd "$VIGIL_BUILD" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) ||
    { cat "$T/cpack.log"; fail "cpack"; }
DEB=$(ls "$T"/pkg/vigil_*.deb)
dpkg-deb -f "$DEB" Package | has -x vigil || fail "package name"
dpkg-deb -f "$DEB" Depends | has libcurl4 || fail "libcurl4 (loaded with dlopen) is not a dependency"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | has -x /etc/vigil/vigil.lua ||
    fail "/etc/vigil/vigil.lua is not a conffile"
D="$T/root"
dpkg-deb -x "$DEB" "$D"

for f in usr/sbin/vigild usr/sbin/vigilctl usr/bin/vigil-scan usr/bin/vigil-policy \
    usr/lib/systemd/system/vigild.service usr/lib/tmpfiles.d/vigil.conf etc/vigil/vigil.lua \
    usr/share/vigil/vigil.lua usr/lib/vigil/plugins/proc.so usr/share/man/man5/vigil.lua.5; do
    [ -e "$D/$f" ] || fail "the package lacks /$f"
done
[ -d "$D/etc/vigil/policies.d" ] && [ -d "$D/etc/vigil/conf.d" ] || fail "policies.d or conf.d missing"
# Every command has its man page.
for cmd in "$D"/usr/bin/* "$D"/usr/sbin/*; do
    ls "$D"/usr/share/man/man[18]/"$(basename "$cmd")".[18]* >/dev/null 2>&1 ||
        fail "no man page for $(basename "$cmd")"
done
# The unit's documentation is all installed.
for doc in $(sed -n 's/^Documentation=//p' "$D/usr/lib/systemd/system/vigild.service"); do
    case "$doc" in
    man:*) page=${doc#man:}; name=${page%(*}; sec=${page#*(}; sec=${sec%)}
        [ -e "$D/usr/share/man/man$sec/$name.$sec" ] || fail "Documentation=$doc is not installed" ;;
    file:*) [ -e "$D${doc#file:}" ] || fail "Documentation=$doc is not installed" ;;
    esac
done
# systemd-analyze verify, with the package's /usr/sbin in place (a mount
# namespace of its own: the host's /usr/sbin is untouched).
unshare -m --propagation private sh -c "mount --bind '$D/usr/sbin' /usr/sbin &&
    MANPATH='$D/usr/share/man' systemd-analyze verify '$D/usr/lib/systemd/system/vigild.service'" \
    >"$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify"; }

# vigild from the DESTDIR, its state and socket set by a drop-in.
cat >"$D/etc/vigil/conf.d/10-test.lua" <<LUA
state_dir = "$T/pkgstate"
socket = "$T/pkg.sock"
plugins = { cis = { enabled = false }, secrets = { enabled = false }, net = { enabled = false },
            file = { enabled = false }, proc = { enabled = false } }
outputs = outputs or {}
table.insert(outputs, { kind = "file", path = "$T/pkg-events.json" })
LUA
"$D/usr/sbin/vigild" --check --config "$D/etc/vigil/vigil.lua" \
    --shipped-policy-dir "$D/usr/share/vigil/policies" >"$T/check.out" 2>&1 ||
    { cat "$T/check.out"; fail "vigild --check of the installed config"; }
echo 'outputs = { { kind = "file" } }' >"$D/etc/vigil/conf.d/20-bad.lua"
"$D/usr/sbin/vigild" --check --config "$D/etc/vigil/vigil.lua" \
    --shipped-policy-dir "$D/usr/share/vigil/policies" >"$T/check.out" 2>&1 && fail "a bad drop-in passed"
grep -q "^$D/etc/vigil/conf.d/20-bad.lua:1: outputs\\[1\\].path is required" "$T/check.out" ||
    { cat "$T/check.out"; fail "a bad drop-in is not named with its file and line"; }
rm "$D/etc/vigil/conf.d/20-bad.lua"
"$D/usr/sbin/vigild" --config "$D/etc/vigil/vigil.lua" --plugin-dir "$D/usr/lib/vigil/plugins" \
    --shipped-policy-dir "$D/usr/share/vigil/policies" >>"$LOG" 2>&1 &
DAEMON_PID=$!
SOCK="$T/pkg.sock"
wait_for "$D/usr/sbin/vigilctl" --socket "$SOCK" status
"$D/usr/sbin/vigilctl" --socket "$SOCK" status --json >"$T/status.json"
jq -e --arg s "$T/pkgstate" '.state_dir == $s and .policy.files > 0' "$T/status.json" >/dev/null ||
    { cat "$T/status.json"; fail "the installed daemon did not take the drop-in or the shipped policies"; }
"$D/usr/sbin/vigilctl" --socket "$SOCK" plugins --json |
    jq -e 'any(.[]; .name == "proc" and (.file | startswith("'"$D"'")))' >/dev/null ||
    fail "the plugins are not the installed ones"
wait_for grep -q '"type":"daemon.status"' "$T/pkg-events.json"
stop_daemon

# make install twice: an edited /etc/vigil/vigil.lua stays.
DESTDIR="$T/inst" cmake --install "$VIGIL_BUILD" >/dev/null
echo 'log_level = "debug" -- edited by the operator' >>"$T/inst/etc/vigil/vigil.lua"
DESTDIR="$T/inst" cmake --install "$VIGIL_BUILD" >"$T/install2.log"
grep -q 'edited by the operator' "$T/inst/etc/vigil/vigil.lua" || fail "reinstalling overwrote the config"
grep -q "Kept: $T/inst/etc/vigil/vigil.lua" "$T/install2.log" || fail "the install did not say it kept the config"
cmp -s "$VIGIL_SRC/etc/vigil/vigil.lua" "$T/inst/usr/share/vigil/vigil.lua" || fail "no shipped copy to compare"
# Another prefix (cmake --install --prefix P) keeps the config under P.
cmake --install "$VIGIL_BUILD" --prefix "$T/pfx" >/dev/null
[ -f "$T/pfx/etc/vigil/vigil.lua" ] && [ -d "$T/pfx/etc/vigil/policies.d" ] ||
    fail "--prefix: the config is not under the prefix"
[ "$(host_etc)" = "$HOST_ETC" ] || fail "an install wrote to the host's /etc/vigil"
pass
