#!/usr/bin/env bash
# Once its plugins run, vigild keeps only the capabilities its work needs
# (core/daemon/caps.c, docs/hardening.md), in every one of its threads and
# in the bounding set, and it still does that work: the proc and file
# plugins run and the daemon answers.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

cp "$VIGIL_BUILD"/plugins/proc.so "$VIGIL_BUILD"/plugins/file.so "$PLUGINS"/
cp "$VIGIL_SRC"/lua/policies/*.lua "$POLICIES"/
start_daemon
wait_for grep -q "capabilities: kept" "$LOG"

has() { (( (0x$1 >> $2) & 1 )); }
tasks=0
for st in /proc/"$DAEMON_PID"/task/*/status; do
    tasks=$((tasks + 1))
    eff=$(awk '/^CapEff:/ {print $2}' "$st")
    bnd=$(awk '/^CapBnd:/ {print $2}' "$st")
    # 16 sys_module, 17 sys_rawio, 22 sys_boot, 25 sys_time, 6 setgid,
    # 7 setuid, 8 setpcap: gone; 21 sys_admin, 19 sys_ptrace, 5 kill: kept.
    for cap in 16 17 22 25 6 7 8; do
        ! has "$eff" $cap || fail "$st still has capability $cap in CapEff ($eff)"
        ! has "$bnd" $cap || fail "$st still has capability $cap in CapBnd ($bnd)"
    done
    for cap in 21 19 5; do
        has "$eff" $cap || fail "$st lost capability $cap ($eff)"
    done
done
[ "$tasks" -gt 1 ] || fail "expected the plugins' threads too, saw $tasks task(s)"
! grep -q "threads run already" "$LOG" || fail "threads started before the drop"
vctl plugins --json >"$T/plugins.json"
for p in proc file; do
    json ".[] | select(.name == \"$p\") | .state == \"running\"" "$T/plugins.json" >/dev/null ||
        { cat "$T/plugins.json"; fail "$p plugin is not running without the dropped capabilities"; }
done
stop_daemon
pass
