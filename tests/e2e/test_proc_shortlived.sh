#!/usr/bin/env bash
# Processes that exit at once are learned with the path the kernel exec'd,
# and the pre-exec gate holds after learning them. A runc container whose
# every command is its own copy of busybox (/bin/true is not /bin/ls) runs,
# in learn mode, shell lines full of commands that exit at once; then, in
# protect mode, /bin/nc (never run) fails at its exec with "Operation not
# permitted", every time, and is never started and killed after. Every
# process rule learned names a path: a rule without one would let any file
# pass the pre-exec check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

. "$(dirname "$0")/lib_proc.sh"
proc_setup

ROOT="$T/copies"
mkdir -p "$ROOT"/{bin,proc,sys,dev,tmp,etc}
for a in sh ls cat id true echo basename test sleep nc env; do
    cp /bin/busybox "$ROOT/bin/$a"
done
echo "root:x:0:0:root:/:/bin/sh" >"$ROOT/etc/passwd"
echo "127.0.0.1 localhost" >"$ROOT/etc/hosts"
# A file that opens but is no program (no "#!"): execvp's exec of it fails
# with ENOEXEC after its exec open, and it then runs /bin/sh on it in the
# same process.
printf 'echo from-garbage\n' >"$ROOT/bin/garbage"
chmod +x "$ROOT/bin/garbage"

start_daemon
proc_container short-1 "$ROOT"

# Learning: every command exits at once, most before the daemon could read
# /proc.
for _ in 1 2 3; do
    run /bin/sh -c '/bin/ls /; /bin/cat /etc/hosts; /bin/id; /bin/true; /bin/basename /a/b; /bin/test -e /; /bin/echo x; /bin/true'
    [ "$RC" -eq 0 ] || fail "learning run failed: $(cat "$T/out")"
done
for c in ls cat id true basename test echo; do
    wait_for rule "$c" "/bin/$c"
done
# The exec that failed after its open is not taken for the next exec of
# the same process.
run /bin/env /bin/garbage
[ "$RC" -eq 0 ] && grep -q from-garbage "$T/out" || fail "env /bin/garbage failed: $(cat "$T/out")"
wait_for has_event proc.exec ".workload == \"$CT\" and .cmdline == \"/bin/sh /bin/garbage\""
has_event proc.exec ".workload == \"$CT\" and .cmdline == \"/bin/sh /bin/garbage\" and .path == \"/bin/sh\" and .name == \"sh\"" \
    || fail "sh run by execvp after a failed exec: $(vctl events --json --limit 1000 --type proc.exec | jq -c 'select(.cmdline == "/bin/sh /bin/garbage")')"
# Their exits too are the container's, with their status, however soon
# they came (with the exec probe they are read from its ring, by cgroup).
run /bin/sh -c '/bin/true; /bin/basename /a/b; exit 3'
[ "$RC" -eq 3 ] || fail "sh -c 'exit 3' returned $RC"
wait_for has_event proc.exit ".workload == \"$CT\" and .name == \"sh\" and .exit_code == 3"
wait_for has_event proc.exit ".workload == \"$CT\" and .name == \"basename\" and .exit_code == 0"
# Nothing was learned without the file it ran.
vctl rules list --group "$G" --json | jq -s -e '[.[] | select(.plane == "proc" and (.path == "*" or .path == ""))] | length == 0' >/dev/null \
    || fail "a process rule without a path was learned: $(vctl rules list --group "$G")"

protect_group

# The learned commands run.
run /bin/sh -c '/bin/true && /bin/id -u && /bin/basename /x/y'
[ "$RC" -eq 0 ] || fail "learned commands refused ($RC): $(cat "$T/out")"

# nc is refused at its exec: the shell sees EPERM (status 126), nc never
# starts, so nothing is killed.
killed_before=$(vctl events --json --limit 10000 --type proc.violation |
    jq -s '[.[] | select(.path == "/bin/nc" and .enforcement == "kill")] | length')
for i in 1 2 3; do
    run /bin/sh -c '/bin/nc -h; echo "status $?"'
    grep -q 'status 126' "$T/out" || fail "nc was not refused at its exec (try $i): $(cat "$T/out")"
    grep -qiE 'permission denied|not permitted' "$T/out" || fail "nc try $i: no permission error: $(cat "$T/out")"
done
run /bin/nc -h
refused || fail "nc run directly was not refused at its exec ($RC): $(cat "$T/out")"
wait_for has_event proc.violation \
    ".workload == \"$CT\" and .path == \"/bin/nc\" and .action == \"deny\" and .enforcement == \"exec\""
sleep 0.3
killed_after=$(vctl events --json --limit 10000 --type proc.violation |
    jq -s '[.[] | select(.path == "/bin/nc" and .enforcement == "kill")] | length')
[ "$killed_after" -eq "$killed_before" ] || fail "nc started and was killed after its exec"

proc_paths_agree
stop_daemon
pass
