#!/usr/bin/env bash
# The exec probe's pacing (plugins/proc/bpfexec.h): in a group nothing
# protects, execs do not each wake the proc plugin's reader, and none is
# lost; in protect mode each exec wakes it at once, so that the kill of a
# process its group does not allow is not delayed; and a group that goes
# from protect back to monitor is paced again. Seen through proc.stats:
# exec_batches counts the reader's reads that found execs.
#
# A shell in a runc container runs /bin/true N times in each mode. In
# learn and monitor mode, all N are reported and the reads are far fewer
# than the execs; in protect mode there are about as many as execs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_proc.sh"
proc_setup
N=600

start_daemon
wait_for eval "vctl events --json --limit 1 --type proc.stats 2>/dev/null | grep -q exec_probe"
if ! vctl events --json --limit 1 --type proc.stats | jq -e '.exec_probe_full == true' >/dev/null; then
    echo "SKIP: the BPF exec probe's full program did not load here (no pacing to test)"
    exit 77
fi
proc_container pace-1 ""

# The last proc.stats's field, from one published after everything before
# this call was read.
stats_after() {
    local t0
    t0=$(vctl events --json --limit 1 --type proc.stats | jq .time)
    wait_for eval "[ \$(vctl events --json --limit 1 --type proc.stats | jq .time) -gt $t0 ]"
    vctl events --json --limit 1 --type proc.stats | jq ".$1"
}
# How many execs of /bin/true the container's were reported (none stored
# yet: vigilctl says so and fails).
trues() {
    { vctl events --json --limit 10000 --type proc.exec --workload "$CT" 2>/dev/null || true; } |
        jq -s '[.[] | select(.name == "true")] | length'
}
# loop MODE: N execs of /bin/true; sets READS (reads that found execs
# meanwhile) after checking that all N were reported.
loop() {
    local before seen0 after
    seen0=$(trues)
    before=$(stats_after exec_batches)
    run /bin/sh -c "i=0; while [ \$i -lt $N ]; do /bin/true; i=\$((i + 1)); done"
    [ "$RC" -eq 0 ] || fail "$1: the loop failed ($RC): $(cat "$T/out")"
    for _ in $(seq 1 100); do
        [ "$(trues)" -ge $((seen0 + N)) ] && break
        sleep 0.1
    done
    [ "$(trues)" -ge $((seen0 + N)) ] || fail "$1: $(($(trues) - seen0)) of $N execs reported; $(vctl events --json --limit 1 --type proc.stats 2>/dev/null | jq -c .); violations: $(vctl events --json --limit 10 --type proc.violation --workload "$CT" 2>/dev/null | jq -c .)"
    after=$(stats_after exec_batches)
    READS=$((after - before))
    echo "$1: $N execs, $READS reads"
}

loop learn
[ "$READS" -le $((N / 2)) ] || fail "learn mode: $READS reads for $N execs (the reader was woken for each)"
wait_for rule true /bin/busybox

protect_group
loop protect
[ "$READS" -ge $((N / 2)) ] || fail "protect mode: only $READS reads for $N execs (execs waited for the reader)"

vctl group mode "$G" monitor >/dev/null
wait_for eval "[ \$(vctl events --json --limit 1 --type proc.stats | jq .protected_workloads) -eq 0 ]"
loop monitor
[ "$READS" -le $((N / 2)) ] || fail "monitor mode after protect: $READS reads for $N execs"

proc_paths_agree
echo PASS
