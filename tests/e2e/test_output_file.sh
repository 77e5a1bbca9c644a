#!/usr/bin/env bash
# The "file" and "stdout" outputs: every event as one JSON line, the same
# object `vigilctl events --json` prints; filters by type glob and
# severity; the file reopened on SIGUSR1 and on reload (logrotate's
# "move, then signal"); an output that cannot be opened is logged and the
# daemon runs on; bad outputs settings are named with their file and line
# by `vigild --check`.
. "$(dirname "$0")/lib.sh"

# ---- vigild --check names a bad output with its file and line (the
# setting is checked once the file has run, so one file per mistake).
BAD="$T/bad.lua"
check_says() {
    printf 'log_level = "info"\n%s\n' "$1" >"$BAD"
    local out
    out=$("$VIGILD" --check --config "$BAD" --policy-dir "$POLICIES" 2>&1) &&
        fail "--check accepted: $1"
    grep -qF "$BAD:2: $2" <<<"$out" || { echo "$out"; fail "--check did not say: $2"; }
}
check_says 'outputs = { { kind = "file" } }' "outputs[1].path is required for kind file"
check_says 'outputs = { { kind = "email", to = "x" } }' \
    "outputs[1].kind must be one of file, stdout, journal, falco, kafka"
check_says 'outputs = { { kind = "file", path = "relative/events.json" } }' \
    "outputs[1].path must be an absolute path, got 'relative/events.json'"
check_says 'outputs = { { kind = "stdout" }, { kind = "stdout", min_severity = "loud" } }' \
    "outputs[2].min_severity must be one of debug, info, notice, warning, error, critical, got 'loud'"
check_says 'outputs = { { kind = "stdout", types = { "proc exec" } } }' \
    "outputs[1].types item 1 ('proc exec') is not an event type or a glob of one"
check_says 'outputs = { { kind = "stdout", colour = true } }' \
    "outputs[1]: unknown key 'colour' for kind stdout"
check_says 'outputs = { { kind = "stdout" }, { kind = "stdout" } }' \
    "outputs[1] and outputs[2] are both named 'stdout'; give one a 'name'"
check_says 'outputs = { { kind = "falco", url = "ftp://x/" } }' \
    "outputs[1].url must be an http:// or https:// URL"
check_says 'outputs = { { kind = "stdout", queue = 2 } }' \
    "outputs[1].queue must be an integer from 16 to 1048576"
check_says 'outputs = { { kind = "kafka", brokers = "k:9092" } }' \
    "outputs[1].topic is required for kind kafka"
check_says 'outputs = { { kind = "kafka", brokers = "k:9092", topic = "t", properties = { acks = 1 } } }' \
    "outputs[1].properties must map names to strings"
check_says 'metrics = { listen = "localhost:9464" }' "metrics.listen: 'localhost' is not an IP address"
check_says 'metrics = { listen = "127.0.0.1:99999" }' "metrics.listen: the port must be from 1 to 65535"
check_says 'metrics = { port = 9464 }' "metrics: unknown key 'port' (listen)"

# ---- a running daemon with three outputs.
CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
cat >>"$CONFIG" <<LUA
outputs = {
    { kind = "file", path = "$T/events.json" },
    { kind = "file", name = "reloads", path = "$T/reloads.json", types = { "test.re*" } },
    { kind = "file", name = "errors", path = "$T/errors.json", min_severity = "error" },
    { kind = "file", name = "nowhere", path = "$T/no/such/dir/events.json" },
    { kind = "stdout", types = { "test.started" } },
}
LUA
start_daemon
grep -q "output nowhere (file) not started: cannot open $T/no/such/dir/events.json: No such file or directory" "$LOG" ||
    fail "an output that cannot be opened is not named in the log"

# Each line is the event as vigilctl prints it, byte for byte.
wait_for grep -q '"type":"test.started"' "$T/events.json"
vctl events --json --type test.started >"$T/stored.json"
grep -F -x -f "$T/stored.json" "$T/events.json" >/dev/null || fail "the file's line is not the stored event"
# stdout (here the log) has the test.started events and nothing else as JSON.
grep '^{' "$LOG" | jq -e -s 'length >= 1 and all(.[]; .type == "test.started")' >/dev/null ||
    fail "stdout output"

# `vigilctl status` counts per output; the one that could not start is not there.
vctl status --json | jq -e '[.outputs[].name] == ["file", "reloads", "errors", "stdout"]
    and (.outputs[0] | .kind == "file" and .written >= 1 and .dropped == 0 and .capacity == 4096)' \
    >/dev/null || { vctl status --json | jq .outputs; fail "status: outputs"; }
vctl status | has -E '^outputs: +file \(file\): [0-9]+ written, 0 failed, 0 dropped, queue [0-9]+/4096$' ||
    { vctl status; fail "status: the outputs line"; }

# Filters: reloads.json only test.re*, errors.json only error and above.
vctl reload >/dev/null
wait_for grep -q '"type":"test.reloaded"' "$T/reloads.json"
jq -e -s 'all(.[]; .type | startswith("test.re"))' "$T/reloads.json" >/dev/null || fail "type filter"
[ ! -s "$T/errors.json" ] || fail "errors.json has events below error"

# logrotate: move the file away, signal; the next lines go to a new file.
mv "$T/events.json" "$T/events.json.1"
n_old=$(grep -c '"type":"test.reloaded"' "$T/events.json.1" || true)
kill -USR1 "$DAEMON_PID"
wait_for grep -q "reopening the outputs' files" "$LOG"
vctl reload >/dev/null
wait_for grep -q '"type":"test.reloaded"' "$T/events.json"
[ "$(grep -c '"type":"test.reloaded"' "$T/events.json.1" || true)" = "$n_old" ] ||
    fail "lines went on to the moved file after SIGUSR1"
# A reload reopens too: move it again, reload, and the reload's own events
# land in a new file.
mv "$T/events.json" "$T/events.json.2"
vctl reload >/dev/null
wait_for grep -q '"type":"test.reloaded"' "$T/events.json"

# A reload that changes an output's filter applies it; one that removes an
# output stops it.
sed -i 's/name = "errors", path = "[^"]*", min_severity = "error"/name = "errors", path = "'"${T//\//\\/}"'\/errors.json", min_severity = "info", types = { "test.reloaded" }/' "$CONFIG"
vctl reload >/dev/null
wait_for grep -q '"type":"test.reloaded"' "$T/errors.json"
grep -q 'output errors (file) stopped' "$LOG" || fail "the changed output was not restarted"
stop_daemon
pass
