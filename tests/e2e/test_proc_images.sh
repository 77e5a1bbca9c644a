#!/usr/bin/env bash
# Protect mode on the shapes real images have, each learned, then protected
# in a runc container of its own:
#  (a) dynamically linked programs copied from the host with their
#      libraries (ldd) on a merged-/usr root, as in a Debian image: the
#      learned ones run (their loader is opened as part of their exec), a
#      program never run is refused at its exec;
#  (b) a "#!/bin/sh" entrypoint script: learned as the script with its
#      interpreter; it runs, a script never run is refused, and the shell
#      on its own (never run so) is not allowed;
#  (c) an Alpine-style root, commands as symlinks to /bin/busybox: the
#      learned commands run, a new program is refused;
#  (d) an unlearned program, and a learned one, run through the dynamic
#      loader (/lib64/ld-linux-x86-64.so.2 PROGRAM): refused at the exec, a
#      proc.incident "loader_exec";
#  (e) a program run from a memfd (memfd_create + fexecve, a static helper
#      compiled here): killed at its exec before it does anything, a
#      proc.incident "fileless_exec".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_proc.sh"
proc_setup

# copy_in ROOT PATH...: copies each path, and the libraries ldd names for
# it, into ROOT at the same place, symlinks kept as symlinks along with
# what they point to.
copy_in() {
    local root=$1 f p
    shift
    for f in "$@" $(for f in "$@"; do ldd "$f"; done | grep -o '/[^ ]* (0x' | cut -d' ' -f1 | sort -u); do
        p=$f
        while :; do
            mkdir -p "$root$(dirname "$p")"
            [ -e "$root$p" ] || [ -L "$root$p" ] || cp -a "$p" "$root$p"
            [ -L "$p" ] || break
            p=$(readlink -f "$p")
        done
    done
}

# A merged-/usr root with busybox-static as sleep (the container's init)
# and sh.
base_root() {
    local root=$1
    mkdir -p "$root"/usr/{bin,lib,lib64} "$root"/{proc,sys,dev,tmp,etc}
    ln -s usr/bin "$root/bin"
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    cp /bin/busybox "$root/usr/bin/sleep"
    echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
}

no_fail_verdicts() {
    vctl events --json --limit 1 --type proc.stats | jq -e '.exec_failed == 0' >/dev/null \
        || fail "permission events answered with fail_mode: $(vctl events --json --limit 1 --type proc.stats)"
}

start_daemon

# ---- (a) dynamically linked programs, and (d) the loader ----------------
DYN="$T/dyn"
base_root "$DYN"
copy_in "$DYN" /usr/bin/id /usr/bin/whoami /usr/bin/ls
proc_container dyn-1 "$DYN"
for _ in 1 2 3; do
    run /usr/bin/id -u
    [ "$RC" -eq 0 ] || fail "id failed in learn mode: $(cat "$T/out")"
    run /usr/bin/ls -d /
    [ "$RC" -eq 0 ] || fail "ls failed in learn mode: $(cat "$T/out")"
done
wait_for rule id /usr/bin/id
wait_for rule ls /usr/bin/ls
# The loader is part of the programs' execs, not a program of its own.
vctl rules list --group "$G" --json | jq -s -e '[.[] | select(.path | test("ld-linux"))] | length == 0' >/dev/null \
    || fail "the loader was learned as a program: $(vctl rules list --group "$G")"
protect_group
run /usr/bin/id -u
[ "$RC" -eq 0 ] && grep -qx 0 "$T/out" || fail "learned dynamic id refused ($RC): $(cat "$T/out")"
run /usr/bin/ls -d /
[ "$RC" -eq 0 ] || fail "learned dynamic ls refused ($RC): $(cat "$T/out")"
run /usr/bin/whoami
refused || fail "whoami, never learned, ran ($RC): $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/usr/bin/whoami\" and .action == \"deny\" and .enforcement == \"exec\""
# (d) Through the loader: the kernel execs the loader only, which would map
# and run whatever file it is given.
for prog in /usr/bin/whoami /usr/bin/id; do
    run /lib64/ld-linux-x86-64.so.2 "$prog"
    refused || fail "the loader ran $prog ($RC): $(cat "$T/out")"
    grep -q '^uid\|^root$' "$T/out" && fail "the loader ran $prog: $(cat "$T/out")"
done
wait_for has_event proc.incident \
    ".workload == \"$CT\" and .incident == \"loader_exec\" and .action == \"deny\" and (.path | test(\"ld-linux\"))"
# The learned programs still run after that (no interpreter left waiting).
run /usr/bin/id -u
[ "$RC" -eq 0 ] || fail "id refused after the loader attempts: $(cat "$T/out")"
no_fail_verdicts

# ---- (b) an entrypoint script -------------------------------------------
SCR="$T/script"
base_root "$SCR"
cp /bin/busybox "$SCR/usr/bin/busybox"
ln -s busybox "$SCR/usr/bin/sh"
ln -s busybox "$SCR/usr/bin/echo"
printf '#!/bin/sh\n/bin/echo "entry ran with $1"\n' >"$SCR/usr/bin/entry.sh"
printf '#!/bin/sh\n/bin/echo other\n' >"$SCR/usr/bin/other.sh"
chmod +x "$SCR/usr/bin/entry.sh" "$SCR/usr/bin/other.sh"
proc_container script-1 "$SCR"
for _ in 1 2 3; do
    run /bin/entry.sh x
    [ "$RC" -eq 0 ] || fail "entry.sh failed in learn mode: $(cat "$T/out")"
done
wait_for rule entry.sh /usr/bin/entry.sh
wait_for rule echo /usr/bin/busybox
has_event proc.exec ".workload == \"$CT\" and .path == \"/usr/bin/entry.sh\" and .interpreter == \"/usr/bin/busybox\"" \
    || fail "the script's proc.exec does not name its interpreter"
protect_group
run /bin/entry.sh protect
[ "$RC" -eq 0 ] && grep -q 'entry ran with protect' "$T/out" || fail "learned script refused ($RC): $(cat "$T/out")"
run /bin/other.sh
refused || fail "other.sh, never learned, ran ($RC): $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/usr/bin/other.sh\" and .enforcement == \"exec\""
# The shell was learned as entry.sh's interpreter only: run on its own (its
# file is allowed for echo) it is killed at its exec.
run /bin/sh -c 'sleep 3; echo shell ran'
[ "$RC" -eq 137 ] && ! grep -q 'shell ran' "$T/out" || fail "sh ran on its own ($RC): $(cat "$T/out")"
no_fail_verdicts

# ---- (c) Alpine-style: commands are symlinks to busybox ------------------
ALP="$T/alpine"
ct_writable_root alpine
mv "$FROOT" "$ALP"
cp /bin/busybox "$ALP/bin/newprog"
proc_container alpine-1 "$ALP"
for _ in 1 2 3; do
    run /bin/sh -c 'sleep 0.1 | cat; cat /etc/passwd; echo done'
    [ "$RC" -eq 0 ] || fail "learning run failed: $(cat "$T/out")"
done
for c in sh sleep cat; do
    wait_for rule "$c" /bin/busybox
done
protect_group
run /bin/sh -c 'sleep 0.1 | cat; cat /etc/passwd; echo done'
[ "$RC" -eq 0 ] && grep -q '^done' "$T/out" || fail "learned commands refused ($RC): $(cat "$T/out")"
run /bin/newprog true
refused || fail "a new program ran ($RC): $(cat "$T/out")"

# ---- (e) a program from a memfd -----------------------------------------
cat >"$T/memexec.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
/* "memexec": copies itself into a memfd and runs that copy, which waits a
 * moment and says it ran. "memexec noop" only says so. */
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        sleep(2);
        puts("fileless child ran");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "noop") == 0) {
        puts("noop");
        return 0;
    }
    int src = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    int m = memfd_create("innocent", MFD_CLOEXEC);
    if (src < 0 || m < 0 || fstat(src, &st) < 0 || sendfile(m, src, NULL, st.st_size) != st.st_size)
        return perror("memfd"), 1;
    char *args[] = {"memexec", "child", NULL}, *env[] = {NULL};
    fexecve(m, args, env);
    perror("fexecve");
    return 1;
}
C
gcc -O2 -static -o "$ALP/bin/memexec" "$T/memexec.c" || fail "cannot build the memfd helper"
vctl group mode "$G" learn >/dev/null
wait_for grep -q "exec protection off for $CT" "$LOG"
run /bin/memexec noop
[ "$RC" -eq 0 ] || fail "memexec noop failed in learn mode: $(cat "$T/out")"
wait_for rule memexec /bin/memexec
protect_group
run /bin/memexec
[ "$RC" -eq 137 ] || fail "the fileless program was not killed (status $RC): $(cat "$T/out")"
grep -q 'fileless child ran' "$T/out" && fail "the fileless program ran: $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and (.path | startswith(\"/memfd:innocent\")) and .enforcement == \"kill\""
wait_for has_event proc.incident ".workload == \"$CT\" and .incident == \"fileless_exec\" and .action == \"deny\""
# Nothing fileless was ever learned.
vctl rules list --json | jq -s -e '[.[] | select(.path | startswith("/memfd:"))] | length == 0' >/dev/null \
    || fail "a fileless program was learned"

proc_paths_agree
stop_daemon
pass
