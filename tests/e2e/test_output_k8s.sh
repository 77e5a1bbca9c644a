#!/usr/bin/env bash
# Kubernetes metadata in what the outputs send: a real runc container whose
# bundle carries the annotations CRI-O writes for a pod (pod, namespace,
# container name, and the pod's labels as JSON in io.kubernetes.cri-o.Labels)
# runs a command; the proc.exec event that the file output writes has
# "k8s": {namespace, pod, container, labels} (Kubernetes' own keys left out
# of labels), and the falco output puts them under Falco's names
# (k8s.ns.name, k8s.pod.name, container.name, k8s.pod.labels). An event of
# the host has no "k8s".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
start_http_receiver

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
cat >>"$CONFIG" <<LUA
outputs = {
    { kind = "file", path = "$T/events.json", types = { "proc.exec" } },
    { kind = "falco", url = "http://127.0.0.1:$RECEIVER_PORT/", types = { "proc.exec" } },
}
LUA
start_daemon

POD="web-7d9f8b6c5d-x2k4q"
CT_ANNOTATIONS=$(jq -n -c --arg pod "$POD" '{
    "io.kubernetes.cri-o.ContainerType": "container",
    "io.kubernetes.pod.name": $pod, "io.kubernetes.pod.namespace": "prod",
    "io.kubernetes.container.name": "nginx",
    "io.kubernetes.cri-o.Labels": ({"app": "web", "tier": "front",
        "io.kubernetes.pod.name": $pod, "io.kubernetes.container.name": "nginx"} | tojson)}')
CT_ANNOTATIONS="$CT_ANNOTATIONS" ct_start web
ID=$(ct_id web)
wait_for eval "vctl workloads --json | json_any --arg id '$ID' '.id == \$id'"
runc exec "$ID" /bin/sh -c 'echo k8s-marker >/dev/null; sleep 0.2'
/bin/sh -c 'echo host-marker >/dev/null; sleep 0.2'

wait_for grep -q "\"workload\":\"$ID\"" "$T/events.json"
jq -e -s --arg id "$ID" --arg pod "$POD" 'any(.[]; .workload == $id and .k8s ==
      {"namespace": "prod", "pod": $pod, "container": "nginx",
       "labels": {"app": "web", "tier": "front"}})' "$T/events.json" >/dev/null ||
    { grep "$ID" "$T/events.json" >&2; fail "no k8s metadata in the container's proc.exec"; }
jq -e -s 'all(.[]; .workload != "" or (has("k8s") | not))' "$T/events.json" >/dev/null ||
    fail "a host event got k8s metadata"
# The store keeps the event as published.
vctl events --json --type proc.exec --workload "$ID" | jq -e -s 'length > 0 and all(.[]; has("k8s") | not)' \
    >/dev/null || fail "the stored event changed"

wait_for grep -q "\"container.id\":\"$ID\"" "$T/bodies"
jq -e -s --arg id "$ID" --arg pod "$POD" 'any(.[]; .output_fields["container.id"] == $id
      and .output_fields["k8s.ns.name"] == "prod" and .output_fields["k8s.pod.name"] == $pod
      and .output_fields["container.name"] == "nginx"
      and .output_fields["k8s.pod.labels"] == {"app": "web", "tier": "front"})' "$T/bodies" >/dev/null ||
    { grep "$ID" "$T/bodies" >&2; fail "falco output_fields lack the Kubernetes names"; }
stop_daemon
kill "$RECEIVER" 2>/dev/null || true
pass
