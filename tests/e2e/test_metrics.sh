#!/usr/bin/env bash
# The Prometheus endpoint: off by default (vigild listens on no TCP port),
# on at the address of `metrics.listen` after a reload; /metrics parses as
# the text exposition format (every sample of a family declared by a TYPE
# line, counters named *_total, label values quoted and escaped) and its
# figures are the daemon's own: events by type and severity, outputs,
# plugin states, group modes, rules per group and plane, webhooks;
# /healthz answers ok; anything else is a 404; a request that never ends
# does not stop the others. The decision-latency histogram counts every
# verdict by plane (buckets cumulative, +Inf = _count) and grows with the
# events the policy decides on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_outputs.sh"

CONFIG="$T/vigil.lua"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
# The proc plugin reports its answer times in proc.stats, here often.
cp "$VIGIL_BUILD/plugins/proc.so" "$PLUGINS/"
echo 'plugins = { proc = { stats_interval_ms = 200 } }' >>"$CONFIG"
# Handlers, so that events get verdicts: test.reloaded (one per reload) and
# every process start the proc plugin reports.
cat >"$POLICIES/10-decide.lua" <<'LUA'
vigil.on("test.reloaded", function(ev) return "allow" end)
vigil.on("proc.exec", function(ev) return nil end)
LUA
start_daemon
# Off by default: no listening TCP socket belongs to vigild.
inodes=$(ls -l "/proc/$DAEMON_PID/fd" | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p')
for ino in $inodes; do
    awk -v ino="$ino" '$4 == "0A" && $10 == ino { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 && fail "vigild listens on TCP without metrics configured"
done

METRICS_PORT=$(free_port)
printf 'metrics = { listen = "127.0.0.1:%s" }\noutputs = { { kind = "file", path = "%s/ev.json" } }\n' \
    "$METRICS_PORT" "$T" >>"$CONFIG"
vctl reload >/dev/null
vctl rules add --group web --plane proc --name curl --path /usr/bin/curl >/dev/null
vctl rules add --group web --plane proc --name sh --path /bin/sh >/dev/null
vctl rules add --group web --plane file --path /etc/passwd --access write --deny >/dev/null
vctl group mode nodes monitor >/dev/null
wait_for scrape /healthz
wait_for sh -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q '^vigil_answer_latency_seconds{plugin=\"proc\",quantile=\"0.99\"} '"
[ "$(scrape /healthz)" = "ok" ] || fail "healthz"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/nope")
[ "$code" = 404 ] || fail "an unknown path answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$METRICS_PORT/metrics")
[ "$code" = 405 ] || fail "POST answered $code"

# A client that sends half a request and waits does not hold the others.
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metr")
time.sleep(3)' "$METRICS_PORT" &
HALF=$!
sleep 0.2
scrape /metrics >"$T/metrics.txt" || fail "scrape while another client stalls"
kill "$HALF" 2>/dev/null || true

python3 - "$T/metrics.txt" <<'PY' || fail "the exposition does not parse or lacks figures"
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n")
types, samples = {}, []
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
        assert name not in types, "family declared twice: " + name
        types[name] = kind
        continue
    if line.startswith("# HELP ") or not line:
        continue
    m = sample_re.match(line)
    assert m, "bad sample line: " + line
    name, labels = m.group(1), {}
    rest = m.group(3) or ""
    pos = 0
    while pos < len(rest):
        lm = label_re.match(rest, pos)
        assert lm, "bad labels: " + line
        labels[lm.group(1)] = lm.group(2)
        pos = lm.end()
    fam = name  # a histogram's samples are FAMILY_bucket, _sum and _count
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) in ("histogram", "summary"):
            fam = name[: -len(suf)]
    assert fam in types, "sample before its TYPE: " + line
    if types[fam] == "histogram" and name.endswith("_bucket"):
        assert "le" in labels, "bucket without le: " + line
    if types[fam] == "counter":
        assert name.endswith("_total"), name
    samples.append((name, labels, float(m.group(4))))
def get(name, **want):
    return [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in want.items())]
assert get("vigil_up") == [1.0]
assert get("vigil_events_total", type="test.started", severity="info")[0] >= 1
assert get("vigil_events_total", type="test.reloaded", severity="info")[0] >= 1
assert get("vigil_bus_queue_capacity")[0] == 65536
assert get("vigil_plugin_state", plugin="testok", state="running") == [1.0]
assert get("vigil_rules", group="web", plane="proc") == [2.0]
assert get("vigil_rules", group="web", plane="file") == [1.0]
assert get("vigil_group_mode", group="nodes", mode="monitor") == [1.0], get("vigil_group_mode")
assert get("vigil_output_events_total", output="file", kind="file", result="written")[0] >= 1
assert get("vigil_output_queue_capacity", output="file") == [4096.0]
assert get("vigil_webhook_deliveries_total", result="failed") == [0.0]
assert get("vigil_events_dropped_total", type="test.started") == [0.0]
q = {l["quantile"]: v for n, l, v in samples if n == "vigil_answer_latency_seconds" and l.get("plugin") == "proc"}
assert set(q) == {"0.5", "0.99", "1"} and 0 <= q["0.5"] <= q["0.99"] <= q["1"], q
PY

# The decision-latency histogram, parsed: per plane, cumulative buckets
# ending in +Inf = _count; the counts grow with the events decided on.
decisions() { # PLANE -> its _count
    scrape /metrics | sed -n "s/^vigil_decision_latency_seconds_count{plane=\"$1\"} //p"
}
check_histogram() {
    scrape /metrics >"$T/hist.txt" || return 1
    python3 - "$T/hist.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert "# TYPE vigil_decision_latency_seconds histogram" in text
planes = {}
for m in re.finditer(r'^vigil_decision_latency_seconds_(bucket|sum|count)\{plane="([^"]+)"(?:,le="([^"]+)")?\} (\S+)$', text, re.M):
    kind, plane, le, v = m.groups()
    p = planes.setdefault(plane, {"b": []})
    if kind == "bucket":
        p["b"].append((float("inf") if le == "+Inf" else float(le), float(v)))
    else:
        p[kind] = float(v)
assert {"test", "proc"} <= set(planes), planes.keys()
for plane, p in planes.items():
    les = [le for le, _ in p["b"]]
    counts = [c for _, c in p["b"]]
    assert les == sorted(les) and les[-1] == float("inf"), (plane, les)
    assert counts == sorted(counts), (plane, counts)
    assert counts[-1] == p["count"] > 0, (plane, counts[-1], p["count"])
    assert p["sum"] >= 0, plane
PY
}
wait_for check_histogram
test0=$(decisions test)
proc0=$(decisions proc)
for _ in 1 2 3; do vctl reload >/dev/null; done
for _ in 1 2 3 4 5; do /bin/true; done
more_decisions() { [ "$(decisions test)" -ge $((test0 + 3)) ] && [ "$(decisions proc)" -ge $((proc0 + 5)) ]; }
wait_for more_decisions
check_histogram || fail "the decision-latency histogram after more events"

# A reload without the setting turns it off again.
sed -i '/^metrics = /d' "$CONFIG"
vctl reload >/dev/null
curl -sf --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null && fail "still listening"
stop_daemon
pass
