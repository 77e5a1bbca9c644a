#!/usr/bin/env bash
# Learning without gaps: the processes of a container's first moments,
# before discovery has caught up with it, are attributed to the container
# (its workload resolved from the cgroup that the event carries) and
# learned under its group, not under nodes or nothing. The container's
# entrypoint runs short programs at once, then sleeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
ct_rootfs
# A program that lives a moment (readable in /proc when its event is read).
printf '#include <unistd.h>\nint main(void) { usleep(50000); return 0; }\n' >"$T/moment.c"
gcc -O2 -static -o "$T/moment" "$T/moment.c" || fail "cannot build a static test program"
for p in first second third; do cp "$T/moment" "$CT_ROOTFS/bin/vg$p$$"; done
start_daemon
# They all run before anything else of the container: its entrypoint. (A
# script, since ct_start's jq would take a "-c" for its own option.)
printf '/bin/vgfirst%s\n/bin/vgsecond%s\n/bin/vgthird%s\nexec /bin/sleep 600\n' $$ $$ $$ \
    >"$CT_ROOTFS/bin/vgentry$$"
ct_start early /bin/sh "/bin/vgentry$$"
CT=$(ct_id early)
G="$CT_PREFIX-early"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"
learned() {
    vctl rules list --group "$G" --json | json_any --arg n "$1" '.plane == "proc" and .name == $n'
}
for p in first second third; do
    wait_for learned "vg$p$$"
done
wait_for learned sh
# None of them went to the host's group or to no group.
vctl rules list --group nodes --json | json_any --arg n "vgfirst$$" '.name == $n' &&
    fail "a process of the container was learned under nodes"
stop_daemon
pass
