# Helpers for the proc plugin's end-to-end tests with containers. Source
# after lib.sh and lib_container.sh.
: "${T:?source lib.sh first}"

# proc_setup: the proc plugin, the shipped policies and config, with stats
# every 300 ms, and the exec probe's paths checked against the exec opens'
# (proc_paths_agree).
proc_setup() {
    cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
    cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES/"
    CONFIG="$T/vigil.lua"
    cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
    echo 'plugins = { proc = { stats_interval_ms = 300, verify_exec_paths = true } }' >>"$CONFIG"
}

# proc_paths_agree: with the exec probe, every program path it gave so far
# was the one readlink of its exec open gives, and it gave some (from a
# proc.stats published after this call).
proc_paths_agree() {
    local t0 st
    t0=$(vctl events --json --limit 1 --type proc.stats 2>/dev/null | jq .time)
    wait_for eval "[ \$(vctl events --json --limit 1 --type proc.stats 2>/dev/null | jq .time) -gt $t0 ]"
    st=$(vctl events --json --limit 1 --type proc.stats 2>/dev/null)
    echo "$st" | jq -e '.exec_probe_full' >/dev/null || return 0
    echo "$st" | jq -e '.exec_path_mismatches == 0' >/dev/null ||
        fail "the exec probe's paths differ from the exec opens': $(grep "exec probe's path" "$LOG" | head -5)"
    echo "$st" | jq -e '.exec_paths_from_probe > 0' >/dev/null ||
        fail "the exec probe gave no program's path: $(echo "$st" | jq -c .)"
}

# proc_container NAME ROOT: starts container NAME on ROOT, sets CT (its id)
# and G (its group), and waits until the plugin has been told of it.
proc_container() {
    CT_ROOT="$2" ct_start "$1"
    CT=$(ct_id "$1")
    G="$CT_PREFIX-${1%-*}"
    wait_for eval "vctl workloads --json | json_any --arg id '$CT' '.id == \$id'"
    wait_for has_event workload.start ".workload == \"$CT\""
}

# run CMD...: runs CMD in container $CT; its output in $T/out, status in RC.
run() {
    RC=0
    runc exec "$CT" "$@" >"$T/out" 2>&1 </dev/null || RC=$?
}

# rule NAME PATH: a proc rule of group $G names NAME and PATH.
rule() {
    vctl rules list --group "$G" --json |
        json_any --arg n "$1" --arg p "$2" '.plane == "proc" and .name == $n and .path == $p'
}

# protect_group: puts $G in protect mode and waits until its container is
# marked.
protect_group() {
    local before
    before=$(grep -c "exec protection on for $CT\$" "$LOG" || true)
    vctl group mode "$G" protect >/dev/null
    wait_for eval "[ \$(grep -c 'exec protection on for $CT\$' '$LOG') -gt $before ]"
}

# refused: the last run's exec failed with EPERM, as a shell reports it.
refused() {
    [ "$RC" -ne 0 ] && grep -qiE 'permission denied|not permitted' "$T/out"
}
