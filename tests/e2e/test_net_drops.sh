#!/usr/bin/env bash
# Kernel drops are reported: with the smallest ring (plugins.net.buffer_kb =
# 64) and the daemon stopped (SIGSTOP) while a container downloads 8 MiB
# from another, the ring overflows; once the daemon runs again, `vigilctl
# net stats` and net.stats show kernel_drops > 0 for that capture (from
# pcap_stats), the packets that did fit were read, and the capture goes on
# (a later download is seen).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config "buffer_kb = 64"

nt_rootfs
ct_writable_root srv
mkdir -p "$FROOT/www"
head -c 8388608 /dev/urandom >"$FROOT/www/big"
nt_pair srv 1 dl 2
start_daemon
CT_ROOT="$FROOT" CT_NETNS=$(nt_ns srv) ct_start srv-1 /bin/httpd -f -p 80 -h /www
CT_NETNS=$(nt_ns dl) ct_start dl-1
DL=$(ct_id dl-1)
capture() {
    vctl net stats --json | jq -e --arg id "$DL" '.captures[] | select(.workload == $id)'
}
wait_for eval 'capture | jq -e ".interfaces == 1"'

kill -STOP "$DAEMON_PID"
runc exec "$DL" /bin/wget -q -O /dev/null "http://$NT_NET.1/big" </dev/null \
    || { kill -CONT "$DAEMON_PID"; fail "the download failed"; }
kill -CONT "$DAEMON_PID"
dropped() {
    capture | jq -e '.kernel_drops > 0 and .packets > 0' >/dev/null
}
wait_for dropped
wait_for has_event net.stats ".kernel_drops > 0"
before=$(capture | jq .packets)
runc exec "$DL" /bin/wget -q -O /dev/null "http://$NT_NET.1/big" </dev/null || fail "the second download failed"
wait_for eval "[ \$(capture | jq .packets) -gt $before ]"

stop_daemon
pass
