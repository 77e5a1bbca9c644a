#!/usr/bin/env bash
# Protect mode on the image most users run: a Debian root built by
# mmdebstrap (bookworm, minbase), with merged /usr (/bin/ls is
# /usr/bin/ls), programs behind alternatives symlinks (awk is mawk),
# dynamically linked programs and a #!/bin/bash entry script. Learned in
# learn mode, then protected: the learned commands and the script run, an
# unlearned program (perl, tac) fails at its exec with EPERM. Every
# program's path the exec probe gave is the one the exec open names
# (verify_exec_paths).
#
# The root is built once per build tree and kept in $VIGIL_TEST_CACHE
# (default: test-cache/ in the build directory, gone with it); without
# mmdebstrap or the mirror the test is skipped and says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_proc.sh"

CACHE=${VIGIL_TEST_CACHE:-$VIGIL_BUILD/test-cache}
TAR="$CACHE/bookworm-minbase.tar"
if [ ! -s "$TAR" ]; then
    command -v mmdebstrap >/dev/null || { echo "SKIP: mmdebstrap is not installed (scripts/deps.sh)"; exit 77; }
    MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    mkdir -p "$CACHE"
    if ! mmdebstrap --variant=minbase bookworm "$CACHE/bookworm-minbase.new.tar" ${MIRROR:+"$MIRROR"} >"$T/mmdebstrap.log" 2>&1; then
        rm -rf "$CACHE/bookworm-minbase.new.tar"
        echo "SKIP: mmdebstrap could not build a Debian root: $(tail -3 "$T/mmdebstrap.log")"
        exit 77
    fi
    mv "$CACHE/bookworm-minbase.new.tar" "$TAR"
fi
ROOT="$T/debian"
mkdir -p "$ROOT"
tar -xf "$TAR" -C "$ROOT"
mkdir -p "$ROOT/usr/local/bin"
cat >"$ROOT/usr/local/bin/entry.sh" <<'SH'
#!/bin/bash
set -e
cd /tmp
env true
basename /a/b >/dev/null
echo entry-ok
SH
chmod +x "$ROOT/usr/local/bin/entry.sh"

proc_setup
start_daemon
proc_container deb-1 "$ROOT"

LINE='ls / >/dev/null && cat /etc/debian_version >/dev/null && id -u >/dev/null &&
awk "BEGIN { exit 0 }" && sed -n 1p /etc/passwd >/dev/null && dpkg --version >/dev/null &&
/usr/local/bin/entry.sh'
for _ in 1 2 3; do
    run /bin/sh -c "$LINE"
    [ "$RC" -eq 0 ] && grep -q entry-ok "$T/out" || fail "learning run failed ($RC): $(cat "$T/out")"
done
wait_for rule ls /usr/bin/ls
wait_for rule awk /usr/bin/mawk
wait_for rule entry.sh /usr/local/bin/entry.sh
wait_for rule dpkg /usr/bin/dpkg

protect_group
run /bin/sh -c "$LINE"
[ "$RC" -eq 0 ] && grep -q entry-ok "$T/out" || fail "learned commands refused in protect mode ($RC): $(cat "$T/out")"
for prog in /usr/bin/perl /usr/bin/tac; do
    run "$prog" --version
    refused || fail "$prog (never learned) ran in protect mode ($RC): $(head -3 "$T/out")"
done
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/usr/bin/perl\" and .enforcement == \"exec\""

proc_paths_agree
pass
