# Shared helpers for the end-to-end tests: start a real vigild on temporary
# directories, drive it with the real vigilctl, and clean up on any exit.
# Each test sources this file; VIGIL_BUILD and VIGIL_SRC come from ctest.
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
cp "$VIGIL_BUILD"/tests/plugins/plugin_ok.so "$PLUGINS"/

cleanup() {
    local rc=$?
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -9 "$DAEMON_PID" 2>/dev/null || true
    fi
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

pass() {
    echo "PASS: $(basename "$0" .sh)"
}
