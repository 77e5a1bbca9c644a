# Shared helpers for the end-to-end tests: start a real vigild on temporary
# directories, drive it with the real vigilctl, and clean up on any exit.
# Each test sources this file; VIGIL_BUILD and VIGIL_SRC come from ctest.
# A test that starts something host-wide (a dockerd) has a line
# "# resource-lock: NAME": ctest -j then never runs two such tests at once.
set -euo pipefail

: "${VIGIL_BUILD:?run through ctest}"
: "${VIGIL_SRC:?run through ctest}"
VIGILD="$VIGIL_BUILD/vigild"
VIGILCTL="$VIGIL_BUILD/vigilctl"
T=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
SOCK="$T/vigild.sock"
STATE="$T/state"
PLUGINS="$T/plugins"
POLICIES="$T/policies"
LOG="$T/vigild.log"
DAEMON_PID=""
mkdir -p "$PLUGINS" "$POLICIES"
# vigild refuses a policy set without any file (a typo in a path must not
# leave a host unprotected); most tests mean to run without policies, so
# they get one file that declares nothing.
echo "-- the e2e tests' empty policy set" >"$POLICIES/00-none.lua"
cp "$VIGIL_BUILD"/tests/plugins/plugin_ok.so "$PLUGINS"/

cleanup() {
    local rc=$?
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -9 "$DAEMON_PID" 2>/dev/null || true
    fi
    # Background helpers (receivers, listeners) go too: one left running
    # holds ctest's pipe open until it ends on its own.
    local job
    for job in $(jobs -p); do
        kill "$job" 2>/dev/null || true
    done
    if [ $rc -ne 0 ] && [ -f "$LOG" ]; then
        echo "---- vigild log ----"
        tail -n 50 "$LOG"
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# has [grep options] PATTERN: grep -q that reads its whole input. Under
# pipefail, `producer | grep -q` fails when grep exits at the first match
# and the producer dies of SIGPIPE writing the rest (curl, a long listing).
has() {
    grep "$@" >/dev/null
}

vctl() {
    "$VIGILCTL" --socket "$SOCK" "$@"
}

# start_daemon [extra vigild args...]: starts vigild in the background and
# waits until its socket answers.
start_daemon() {
    "$VIGILD" --config "${CONFIG:-$VIGIL_SRC/etc/vigil/vigil.lua}" --state-dir "$STATE" \
        --socket "$SOCK" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" \
        --log-level debug "$@" >>"$LOG" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 1 100); do
        if vctl status >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DAEMON_PID" 2>/dev/null || fail "vigild exited during start-up"
        sleep 0.05
    done
    fail "vigild did not answer within 5 s"
}

# stop_daemon: SIGTERM, and the exit status must be 0.
stop_daemon() {
    kill -TERM "$DAEMON_PID"
    local rc=0
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=""
    [ $rc -eq 0 ] || fail "vigild exited with $rc after SIGTERM"
}

# wait_for CMD...: retries a command for up to 5 s.
wait_for() {
    for _ in $(seq 1 100); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.05
    done
    fail "timed out waiting for: $*"
}

json() {
    jq -e "$@"
}

# json_any [jq options] PREDICATE [FILE]: true if any of the JSON lines (one
# object per line, as --json prints lists) satisfies PREDICATE.
json_any() {
    local opts=()
    while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do opts+=("$1" "$2" "$3"); shift 3; done
    local pred=$1
    shift
    jq -e -s "${opts[@]}" "any(.[]; $pred)" "$@" >/dev/null
}

# has_event TYPE PREDICATE: a stored event of TYPE satisfies PREDICATE (use
# with wait_for to wait until one does).
has_event() {
    vctl events --json --limit 10000 --type "$1" | json_any "$2"
}

# start_http_receiver: a real HTTP server on loopback, for webhooks. It
# answers every POST with 200 and appends the body as one line to
# $T/bodies; it sets RECEIVER (its pid, to kill) and RECEIVER_PORT, and
# stops by itself after 30 s.
start_http_receiver() {
    python3 - "$T/receiver.port" "$T/bodies" <<'PY' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.timeout = 0.2
end = time.time() + 30
while time.time() < end:
    srv.handle_request()
PY
    RECEIVER=$!
    wait_for test -s "$T/receiver.port"
    RECEIVER_PORT=$(cat "$T/receiver.port")
}

pass() {
    echo "PASS: $(basename "$0" .sh)"
}
