#!/usr/bin/env bash
# The "kafka" output against librdkafka's mock cluster (real Kafka brokers
# on loopback, tests/kafka/kafka_mock.c, whose consumer writes what it
# reads): each event arrives as one message, its JSON the stored event and
# its key the group. A second kafka output whose broker does not exist
# counts its messages as failed once librdkafka gives up on them
# (message.timeout.ms). A daemon without a kafka output never maps
# librdkafka; one with it maps the module and the library.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_outputs.sh"
[ -x "$VIGIL_BUILD/tests/kafka_mock" ] && [ -e "$VIGIL_BUILD/outputs/output_kafka.so" ] || {
    echo "SKIP: built without librdkafka"
    exit 77
}
export VIGIL_OUTPUT_DIR="$VIGIL_BUILD/outputs"

TOPIC="vigil-$$"
"$VIGIL_BUILD/tests/kafka_mock" "$T/bootstrap" "$T/consumed" "$TOPIC" 2>"$T/mock.log" &
MOCK=$!
wait_for test -s "$T/bootstrap"
BOOT=$(cat "$T/bootstrap")
DEAD_PORT=$(free_port)
METRICS_PORT=$(free_port)

# Without a kafka output, librdkafka stays out of the daemon.
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
start_daemon
maps_of "$DAEMON_PID" | grep -E 'rdkafka|output_kafka' && fail "an idle daemon maps librdkafka"

cat >>"$CONFIG" <<LUA
metrics = { listen = "127.0.0.1:$METRICS_PORT" }
outputs = {
    { kind = "kafka", brokers = "$BOOT", topic = "$TOPIC", types = { "test.*" },
      properties = { ["linger.ms"] = "5" } },
    { kind = "kafka", name = "nowhere", brokers = "127.0.0.1:$DEAD_PORT", topic = "$TOPIC",
      properties = { ["message.timeout.ms"] = "1500" } },
}
LUA
vctl reload >/dev/null
maps_of "$DAEMON_PID" | has 'output_kafka.so' || fail "the kafka module is not loaded"
maps_of "$DAEMON_PID" | has 'librdkafka' || fail "librdkafka is not loaded"
vctl reload >/dev/null
vctl reload >/dev/null

# Messages: key = group, value = the stored event's JSON.
wait_for grep -q '"type":"test.reloaded"' "$T/consumed"
vctl events --json --type test.reloaded >"$T/stored.json"
cut -f2- "$T/consumed" | grep -F -x -f "$T/stored.json" >/dev/null ||
    { cat "$T/consumed"; fail "a consumed message is not the stored event"; }
awk -F '\t' '$2 ~ /"type":"test.reloaded"/ && $1 != "test" { bad = 1 } END { exit bad }' "$T/consumed" ||
    fail "the message key is not the group"
cut -f2- "$T/consumed" | jq -e -s 'all(.[]; .type | startswith("test."))' >/dev/null ||
    fail "the type filter let other events through"

# Written and failed, as librdkafka reported them.
wait_for sh -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -E '^vigil_output_events_total\\{output=\"kafka\",kind=\"kafka\",result=\"written\"\\} [1-9]'"
wait_for sh -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -E '^vigil_output_events_total\\{output=\"nowhere\",kind=\"kafka\",result=\"failed\"\\} [1-9]'"
stop_daemon
kill "$MOCK" 2>/dev/null || true
wait "$MOCK" 2>/dev/null || true
pass
