#!/usr/bin/env bash
# The shipped incidents with real runc containers, the proc and kern
# plugins and the shipped policies: each attack, run inside a container
# whose group is in learn, monitor or protect mode, raises its incident
# (a proc.incident event with the container's workload and group, the
# incident's severity and MITRE technique, and evidence naming the process,
# its program, command line and file). Then the benign runs of the same
# programs raise nothing: a reader learned in learn mode reading again in
# monitor mode, a logrotate-style rotation, a package-like install in a
# group whose write incidents are switched off, a web server serving a
# static page, a link to an ordinary file. On the host, a sensitive read and
# a log deleted raise theirs under the group "nodes".
#
# Protect mode stops what no rule allows before it runs, so the protect
# group's policy allows busybox and the copies the attacks run: the point is
# that incidents are raised whatever the rules allow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

[ -f "$VIGIL_BUILD/plugins/kern.so" ] || { echo "SKIP: the kern plugin was not built"; exit 77; }
cp "$VIGIL_BUILD/plugins/proc.so" "$VIGIL_BUILD/plugins/kern.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { kern = { rescan_ms = 300 } }' >>"$CONFIG"

# busybox has no ptrace: a small static program attaches to pid 1 of its
# container (refused there: runc's default capabilities lack SYS_PTRACE;
# the attempt is what counts).
command -v cc >/dev/null || fail "a C compiler is needed for the ptrace program"
cat >"$T/ptr.c" <<'C'
#include <sys/ptrace.h>
int main(void) { return ptrace(PTRACE_ATTACH, 1, 0, 0) == 0 ? 0 : 1; }
C
cc -static -o "$T/ptr" "$T/ptr.c" || fail "cannot build the ptrace program"

G_PRT="$CT_PREFIX-prt"
G_BUILD="$CT_PREFIX-build"
cat >"$POLICIES/50-test.lua" <<LUA
-- Protect mode runs only what rules allow: allow what the attacks run.
for _, path in ipairs({ "/bin/busybox", "/bin/ptr", "/tmp/bb", "/tmp/xmrig", "/www/cgi-bin/x" }) do
  vigil.rule{ group = "$G_PRT", plane = "proc", path = path }
end
-- A group that installs packages.
vigil.incidents{ group = "$G_BUILD", write_below_binary_dir = false, write_below_etc = false }
LUA

# A writable root with the applets and files the attacks need; sets FROOT.
inc_root() {
    ct_writable_root "$1"
    local a
    for a in ln rm cp mv touch mount unshare nsenter chroot insmod ping httpd mkdir printf \
        truncate id; do
        ln -sf busybox "$FROOT/bin/$a"
    done
    mkdir -p "$FROOT"/{var/log,root,mnt,usr/local/bin,etc/cron.d,www/cgi-bin}
    echo "root:*:19000:0:99999:7:::" >"$FROOT/etc/shadow"
    chmod 600 "$FROOT/etc/shadow"
    echo "boot" >"$FROOT/var/log/messages"
    echo "old" >"$FROOT/var/log/messages.4.gz"
    echo "ls" >"$FROOT/root/.ash_history"
    echo "<p>static</p>" >"$FROOT/www/index.html"
    printf '#!/bin/sh\necho "Content-type: text/plain"\necho\nid\n' >"$FROOT/www/cgi-bin/x"
    chmod 755 "$FROOT/www/cgi-bin/x"
    touch "$FROOT/mod.ko"
    cp "$T/ptr" "$FROOT/bin/ptr"
}

start_ct() { # NAME: a container on its own writable root; sets CT
    inc_root "$1"
    CT_ROOT="$FROOT" ct_start "$1"
    CT=$(ct_id "$1")
}

in_ct() { # CMD: a shell command inside $CT; its exit status is not the test's
    runc exec "$CT" /bin/sh -c "$1" </dev/null >/dev/null 2>&1 || true
}

# raised NAME [JQ-PREDICATE]: an incident NAME of $CT in $G with the
# catalogue's fields, and the predicate on it.
raised() {
    has_event proc.incident ".workload == \"$CT\" and .group == \"$G\" and .incident == \"$1\"
        and (.technique | test(\"^T[0-9]{4}\")) and (.severity | length > 0)
        and (.evidence | type == \"object\") and (${2:-true})"
}

# attack NAME CMD [JQ-PREDICATE]: the incident is there (the batch below ran
# CMD already), else CMD is run again until it is (the first runs may come
# before the plugins know the container), for 8 s.
attack() {
    local name=$1 cmd=$2 pred=${3:-true}
    for _ in $(seq 1 40); do
        if raised "$name" "$pred"; then
            return 0
        fi
        in_ct "$cmd"
        sleep 0.2
    done
    vctl events --json --limit 30 --type proc.incident >&2 || true
    vctl events --json --limit 20 --type proc.exec >&2 || true
    fail "$MODE: $name not raised by: $cmd"
}

# The attacks: NAME, CMD and the predicate on the incident, three lines each.
ATTACKS=(
    sensitive_file_link "ln -sf /etc/shadow /tmp/s"
    '.evidence.file == "/tmp/s" and .evidence.target == "/etc/shadow" and .evidence.process == "ln"'
    log_tampering ": > /var/log/messages"
    '.evidence.file == "/var/log/messages" and .technique == "T1070.002"'
    log_tampering "rm -f /root/.ash_history; echo ls > /root/.ash_history"
    '.evidence.file == "/root/.ash_history" and .technique == "T1070.003" and .evidence.process == "rm"'
    container_drift "cp /bin/busybox /tmp/bb; /tmp/bb true"
    '.evidence.file == "/tmp/bb" and .technique == "T1105"'
    write_below_binary_dir "echo x > /usr/local/bin/kit"
    '.evidence.file == "/usr/local/bin/kit"'
    write_below_etc "echo '* * * * * root id' > /etc/cron.d/job"
    '.evidence.file == "/etc/cron.d/job"'
    write_kernel_settings "echo '|/tmp/x' > /proc/sys/kernel/core_pattern"
    '.evidence.file == "/proc/sys/kernel/core_pattern"'
    cgroup_release_agent "mkdir -p /tmp/cgrp; echo /tmp/x > /tmp/cgrp/release_agent"
    '.evidence.file == "/tmp/cgrp/release_agent" and .severity == "critical" and .technique == "T1611"'
    mount_in_container "mount -t tmpfs none /mnt"
    '.evidence.file == "/mnt" and .evidence.fstype == "tmpfs" and .evidence.process == "mount"'
    namespace_change "unshare -m true"
    '.evidence.namespaces == "mnt" and .evidence.process == "unshare"'
    namespace_change "nsenter -t 1 -n true"
    '.evidence.namespaces == "net" and .evidence.process == "nsenter"'
    chroot_in_container "chroot / true"
    '.evidence.file == "/"'
    kernel_module "insmod /mod.ko"
    '.evidence.process == "insmod"'
    raw_socket "ping -c 1 -W 1 127.0.0.1"
    '.evidence.process == "ping"'
    ptrace_attach "/bin/ptr"
    '.evidence.target_pid == 1 and .evidence.process == "ptr"'
    shell_from_service "printf 'GET /cgi-bin/x HTTP/1.0\r\n\r\n' | httpd -i -h /www"
    '.evidence.parent == "httpd" and (.message | test("shell sh "))'
    crypto_miner "cp /bin/busybox /tmp/xmrig; exec -a busybox /tmp/xmrig sleep 0.5"
    '.evidence.program == "/tmp/xmrig" and .technique == "T1496"'
)

start_daemon
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' plugins | grep -E '^kern +[^ ]+ +running'"

for MODE in learn monitor protect; do
    short=${MODE:0:3}
    [ "$short" = pro ] && short=prt
    [ "$short" = lea ] && short=lrn
    start_ct "$short-1"
    G="$CT_PREFIX-$short"
    wait_for vctl group mode "$G" "$MODE"

    # First a read, until the container's files are watched.
    attack sensitive_file_read "cat /etc/shadow" \
        '.evidence.file == "/etc/shadow" and .evidence.process == "cat"
         and .evidence.program == "/bin/busybox" and .evidence.cmdline == "cat /etc/shadow"
         and .technique == "T1003.008" and .severity == "error"'
    # Then every attack in one batch (each in a subshell of its own).
    batch=""
    for ((i = 0; i < ${#ATTACKS[@]}; i += 3)); do
        batch+="(${ATTACKS[i + 1]}) >/dev/null 2>&1"$'\n'
    done
    in_ct "$batch"
    for ((i = 0; i < ${#ATTACKS[@]}; i += 3)); do
        attack "${ATTACKS[i]}" "${ATTACKS[i + 1]}" "${ATTACKS[i + 2]}"
    done
    # An interactive shell: runc exec -t needs a terminal, which script(1)
    # gives it.
    for _ in $(seq 1 20); do
        script -qec "runc exec -t $CT /bin/sh -c 'sleep 0.2'" /dev/null </dev/null >/dev/null 2>&1 \
            || true
        raised terminal_shell '.evidence.process == "sh"' && break
        sleep 0.2
    done
    raised terminal_shell '.evidence.process == "sh"' || fail "$MODE: terminal_shell not raised"
    echo "ok: every incident raised in $MODE mode"
done

# ---- the host, for the incidents that apply there (group "nodes") ----------

# A copy of cat under a name of this test's own, so that other readers of
# /etc/shadow on this host are not taken for it.
HOSTCAT="$T/vgcat$$"
cp "$(command -v cat)" "$HOSTCAT"
host_read() {
    "$HOSTCAT" /etc/shadow >/dev/null
    has_event proc.incident ".group == \"nodes\" and .incident == \"sensitive_file_read\"
        and .evidence.program == \"$HOSTCAT\" and .evidence.file == \"/etc/shadow\""
}
wait_for host_read
HOSTLOG="/var/log/vigil-test-$$.log"
echo x >"$HOSTLOG"
rm -f "$HOSTLOG"
wait_for has_event proc.incident ".group == \"nodes\" and .incident == \"log_tampering\"
    and .evidence.file == \"$HOSTLOG\" and .evidence.process == \"rm\""
echo "ok: host incidents"

# ---- benign runs ------------------------------------------------------------

quiet_since() { # ID NAME...: no incident of $CT named NAME after event ID
    local since=$1 n
    shift
    for n in "$@"; do
        if has_event proc.incident ".workload == \"$CT\" and .id > $since and .incident == \"$n\""; then
            vctl events --json --limit 20 --type proc.incident >&2
            fail "benign run raised $n"
        fi
    done
}
last_id() {
    vctl events --json --limit 1 | jq -r .id
}

# A reader learned in learn mode reads in peace in monitor mode.
start_ct "ben-1"
G="$CT_PREFIX-ben"
wait_for vctl group mode "$G" learn
attack sensitive_file_read "cat /etc/shadow"
learned_reader() {
    vctl --json rules list --group "$G" --plane file \
        | json_any '.path == "/etc/shadow" and .program == "/bin/busybox" and .access == "read"'
}
wait_for learned_reader
vctl group mode "$G" monitor >/dev/null
since=$(last_id)
in_ct "cat /etc/shadow"
# logrotate: rename, a new file, old rotations deleted.
in_ct "mv /var/log/messages /var/log/messages.1; touch /var/log/messages; rm /var/log/messages.4.gz"
# A web server serving a static page starts no shell.
in_ct "printf 'GET /index.html HTTP/1.0\r\n\r\n' | httpd -i -h /www"
# A link to an ordinary file.
in_ct "ln -sf /bin/busybox /tmp/ls"
sleep 1.5
quiet_since "$since" sensitive_file_read log_tampering shell_from_service sensitive_file_link \
    container_drift terminal_shell

# A build group installing a package: writes below /usr/local/bin and /etc
# with those incidents switched off for it.
start_ct "build-1"
G="$G_BUILD"
wait_for vctl group mode "$G" monitor
since=$(last_id)
in_ct "cp /bin/busybox /usr/local/bin/jq; echo conf > /etc/jq.conf; mkdir -p /usr/lib/jq; echo x > /usr/lib/jq/lib.so"
sleep 1.5
quiet_since "$since" write_below_binary_dir write_below_etc
# ...while what is not switched off still is raised there.
attack write_kernel_settings "echo 1 > /proc/sys/kernel/core_pattern"
pass
