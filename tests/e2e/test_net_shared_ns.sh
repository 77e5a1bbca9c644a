#!/usr/bin/env bash
# Workloads of different groups sharing one network namespace (containers
# joined like --net=container:): side-1 (a sleeping container, found first,
# so the namespace's default owner) and srv-1 (busybox httpd) in namespace A;
# cli-1 with its own httpd in namespace B. Each connection is reported for
# the workload whose process owns the socket, not for the first one found:
#  - cli-1 -> A:80 is a net.accept of srv-1 (group srv), from group cli;
#  - srv-1 -> B:8081 is a net.connect of srv-1 (group srv);
#  - side-1 -> B:8081 is a net.connect of side-1 (group side).
# With the groups all alike (a Kubernetes pod) this lookup is skipped: the
# namespace's events then go to its first workload, which has the group.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_config

nt_rootfs
nt_pair a 1 b 2
start_daemon
CT_NETNS=$(nt_ns a) ct_start side-1
SIDE=$(ct_id side-1)
members() {
    vctl net stats --json | jq -e --arg id "$1" --argjson n "$2" \
        '.captures[] | select(.workload == $id and (.members | length) == $n and .interfaces == 1)'
}
wait_for members "$SIDE" 1
CT_NETNS=$(nt_ns a) ct_start srv-1 /bin/httpd -f -p 80 -h /www
CT_NETNS=$(nt_ns b) ct_start cli-1 /bin/sh -c \
    "httpd -p 80 -h /www && exec nc -ll -p 8081 -e /bin/http-slow"
SRV=$(ct_id srv-1) CLI=$(ct_id cli-1)
wait_for members "$SIDE" 2
wait_for members "$CLI" 1
sleep 0.7 # the capture thread passes the new member on at once (a rescan, some ms)

get() { # get CONTAINER URL
    runc exec "$1" /bin/wget -q -O /dev/null "$2" </dev/null || fail "wget in $1 of $2 failed"
}
get "$CLI" "http://$NT_NET.1/"
wait_for has_event net.accept ".workload == \"$SRV\" and .group == \"$CT_PREFIX-srv\"
    and .peer == \"$CT_PREFIX-cli\" and .port == \"80\" and .app == \"http\""
# Outgoing: the server answers after 1.5 s, so that the client's socket is
# still there when the capture thread sees the SYN (a connection over
# before that falls back to the first workload, docs/net.md).
get "$SRV" "http://$NT_NET.2:8081/"
wait_for has_event net.connect ".workload == \"$SRV\" and .group == \"$CT_PREFIX-srv\"
    and .peer == \"$CT_PREFIX-cli\" and .port == \"8081\" and .app == \"http\""
get "$SIDE" "http://$NT_NET.2:8081/"
wait_for has_event net.connect ".workload == \"$SIDE\" and .group == \"$CT_PREFIX-side\"
    and .peer == \"$CT_PREFIX-cli\" and .port == \"8081\""
has_event net.accept ".workload == \"$SIDE\" and .port == \"80\"" \
    && fail "srv-1's connection was reported for side-1"
stop_daemon
pass
