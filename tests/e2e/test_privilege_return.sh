#!/usr/bin/env bash
# A process that started as root, drops to a user and returns to root is
# not a privilege escalation (apt-get going back from _apt to root raised a
# critical incident on every host): a real program does it with seteuid()
# (the real uid stays root, as apt does). The proc plugin reports each
# change (proc.uid) and the shipped incidents stay quiet; a user's process
# that becomes root through a set-uid program still raises the incident at
# its exec. The saved uid counts too: a program that keeps root only as
# its saved uid (setresuid) and takes it back is returning; a user's
# process that gains root as its saved uid alone (here through an ambient
# CAP_SETUID, as an exploit or a leaked capability would) is escalating.
. "$(dirname "$0")/lib.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
BIN="$T/bin"
mkdir -p "$BIN"
chmod 755 "$T" "$BIN"
cat >"$T/drop.c" <<'C'
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* seteuid: euid 0 -> 65534 -> 0, the real uid stays 0.
 * setresuid: (0,0,0) -> (65534,65534,0) -> (0,0,0), root kept as saved uid. */
int main(int argc, char **argv)
{
    int res = argc > 1 && strcmp(argv[1], "setresuid") == 0;
    usleep(200000);
    if (res ? setresuid(65534, 65534, 0) : seteuid(65534))
        return 2;
    usleep(200000);
    if (res ? setresuid(0, 0, 0) : seteuid(0))
        return 3;
    usleep(200000);
    return geteuid() == 0 ? 0 : 4;
}
C
gcc -O2 -o "$BIN/vgdrop$$" "$T/drop.c" || fail "cannot build the test program"
printf '#include <unistd.h>\nint main(void) { usleep(300000); return geteuid() != 0; }\n' >"$T/esc.c"
gcc -O2 -o "$BIN/vgesc$$" "$T/esc.c" || fail "cannot build the set-uid program"
chmod 4755 "$BIN/vgesc$$"

cat >"$T/gain.c" <<'C'
#define _GNU_SOURCE
#include <unistd.h>
/* (65534,65534,65534) -> (65534,65534,0): root as the saved uid only. */
int main(void)
{
    uid_t r, e, s;
    usleep(200000);
    if (setresuid(-1, -1, 0) || getresuid(&r, &e, &s) || s != 0 || e == 0)
        return 2;
    usleep(200000);
    return 0;
}
C
gcc -O2 -o "$BIN/vggain$$" "$T/gain.c" || fail "cannot build the saved-uid program"

start_daemon
"$BIN/vgdrop$$" seteuid || fail "seteuid run failed ($?)"
N="vgdrop$$"
# The return to root was seen by the plugin and the policy.
wait_for has_event proc.uid ".name == \"$N\" and .euid == 0 and .old_euid == 65534 and .uid == 0 and .old_uid == 0"
"$BIN/vgdrop$$" setresuid || fail "setresuid run failed ($?)"
wait_for has_event proc.uid ".name == \"$N\" and .euid == 0 and .suid == 0 and .old_euid == 65534 and .old_uid == 65534 and .old_suid == 0"
# A user's process gaining root as its saved uid.
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+setuid --ambient-caps=+setuid \
    "$BIN/vggain$$" || fail "the saved-uid program failed ($?)"
wait_for has_event proc.uid ".name == \"vggain$$\" and .uid == 65534 and .euid == 65534 and .suid == 0 and .old_suid == 65534"
wait_for has_event proc.incident ".incident == \"privilege_escalation\" and .name == \"vggain$$\""
# A user's process through a set-uid program: still an incident (at exec).
setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c "$BIN/vgesc$$; exit \$?" ||
    fail "the set-uid program did not run as root"
wait_for has_event proc.incident ".incident == \"privilege_escalation\" and .name == \"vgesc$$\""
has_event proc.incident ".incident == \"privilege_escalation\" and .name == \"$N\"" &&
    { vctl events --type proc.incident; fail "a return to root was reported as an escalation"; }
stop_daemon
pass
