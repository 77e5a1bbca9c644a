#!/usr/bin/env bash
# Processes gone before they are read are still attributed to their
# container. A user's handler raises an alert for each exec of a program
# named vgq*: every one of those alerts must name the container's workload
# and group.
# The stored events (`vigilctl events`) name them as well.
#  - first moments: a runc container's entrypoint runs a dozen static
#    programs that exit at once, before discovery knows the container;
#  - gone at once after the plugin's cache of cgroups was renewed (any
#    workload or mode change does it), with no fanotify to name the
#    container from the exec'd file (a daemon without CAP_SYS_ADMIN): each
#    program run alone by `runc exec` right after a mode change. The exec
#    probe's cgroup id, turned into the cgroup's path (the id is the
#    directory's inode in cgroup2), lets the daemon resolve the workload
#    although /proc/<pid> is gone; without it these execs went to no
#    group at all (seen: 8 of 12 unattributed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
cat >"$POLICIES/50-quick.lua" <<'LUA'
vigil.on("proc.exec", function(ev)
  if (ev.name or ""):find("^vgq") then
    vigil.alert(ev, { type = "proc.incident", name = "quick_exec", severity = "warning",
                      message = "quick " .. ev.name })
  end
  return nil
end)
LUA
ct_rootfs
printf 'int main(void) { return 0; }\n' >"$T/quick.c"
gcc -O2 -static -o "$T/quick" "$T/quick.c" || fail "cannot build a static test program"
N=12
entry=""
for i in $(seq 1 $N); do
    cp "$T/quick" "$CT_ROOTFS/bin/vgq$i"
    entry+="/bin/vgq$i"$'\n'
done
printf '%sexec /bin/sleep 600\n' "$entry" >"$CT_ROOTFS/bin/vgentry$$"
start_daemon

alerts() { # alerts WORKLOAD: the quick_exec alerts' process names of WORKLOAD
    vctl events --json --limit 10000 --type proc.incident |
        jq -r --arg w "$1" 'select(.incident == "quick_exec" and .workload == $w) | .name' |
        sort -u | wc -l
}
all_attributed() { # all_attributed WORKLOAD GROUP
    [ "$(alerts "$1")" -eq "$N" ] || return 1
    # none of the alerts went to another workload or to no group
    vctl events --json --limit 10000 --type proc.incident |
        json_any --arg w "$1" --arg g "$2" \
            '.incident == "quick_exec" and (.workload == $w) != (.group == $g)' && return 1
    return 0
}

ct_start early /bin/sh "/bin/vgentry$$"
CT=$(ct_id early)
G="$CT_PREFIX-early"
wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"
settle() { # settle CMD...: waits up to 20 s for CMD to succeed; its status
    local _
    for _ in $(seq 1 200); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}
if ! settle all_attributed "$CT" "$G"; then
    vctl events --json --limit 10000 --type proc.incident | jq -c 'select(.incident == "quick_exec")'
    fail "$(alerts "$CT") of $N execs that exited at once attributed to $CT"
fi
# What a user reads says the same: every stored exec of them names the
# container (`vigilctl events --group` finds them).
stored_attributed() { # stored_attributed WORKLOAD GROUP
    [ "$(vctl events --json --limit 10000 --type proc.exec --group "$2" |
        jq -r --arg w "$1" 'select(.workload == $w and (.name // "" | startswith("vgq"))) | .name' |
        sort -u | wc -l)" -eq "$N" ]
}
stored_attributed "$CT" "$G" || {
    vctl events --json --limit 10000 --type proc.exec | jq -c 'select(.name // "" | startswith("vgq"))'
    fail "stored execs of $CT not all attributed"
}

# The plugin remembers a cgroup's path and workload from the last exec it
# could read there, until workloads or modes change anywhere (on a busy
# host: all the time). With fanotify, the file an exec opened names its
# container's mount; without it (a daemon without CAP_SYS_ADMIN, as the
# proc plugin allows, degraded) an exec after such a change whose process
# is gone at once was the case lost: here each program runs alone with
# `runc exec`, right after a mode change of the group.
stop_daemon
cat >"$T/vigild-nofan" <<SH
#!/bin/sh
exec setpriv --bounding-set -sys_admin "$VIGIL_BUILD/vigild" "\$@"
SH
chmod +x "$T/vigild-nofan"
VIGILD="$T/vigild-nofan" start_daemon
vctl plugins --json | json '.[] | select(.name == "proc") | .state == "degraded"' >/dev/null ||
    fail "the proc plugin has fanotify without CAP_SYS_ADMIN: $(vctl plugins --json)"
ct_start late
CT2=$(ct_id late)
G2="$CT_PREFIX-late"
wait_for eval "vctl workloads --json | json_any --arg id '$CT2' '.id == \$id'"
mode=learn
for i in $(seq 1 $N); do
    [ $mode = learn ] && mode=monitor || mode=learn
    vctl group mode "$G2" $mode >/dev/null
    wait_for has_event group.mode ".group == \"$G2\" and .mode == \"$mode\" and .previous != \"$mode\""
    runc exec "$CT2" "/bin/vgq$i" || fail "runc exec of vgq$i failed"
    # two changes in a row to the same mode would not be seen apart
    n=$(vctl events --json --limit 10000 --type group.mode | jq -s --arg g "$G2" 'map(select(.group == $g)) | length')
    [ "$n" -eq "$i" ] || fail "$n mode changes of $G2 after $i"
done
settle all_attributed "$CT2" "$G2" || {
    vctl events --json --limit 10000 --type proc.exec | jq -c 'select(.name // "" | startswith("vgq"))'
    fail "$(alerts "$CT2") of $N execs of runc exec attributed to $CT2"
}
stored_attributed "$CT2" "$G2" || {
    vctl events --json --limit 10000 --type proc.exec | jq -c 'select(.name // "" | startswith("vgq"))'
    fail "stored execs of $CT2 not all attributed"
}
stop_daemon
pass
