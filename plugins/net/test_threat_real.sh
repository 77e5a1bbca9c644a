#!/usr/bin/env bash
# Threat detection on real traffic made by real tools, which must raise
# nothing with every threat on: in a network namespace of its own (its
# loopback only), dumpcap records curl talking HTTP/1.1 to Python's
# http.server (pages, a search with an apostrophe, a form, JSON, a 404) and
# TLS 1.3 and TLS 1.2 to `openssl s_server`; `vigil-scan pcap` reads the
# pcapng. Needs root (ip netns), dumpcap, openssl, curl, python3.
set -euo pipefail
SCAN=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
for t in dumpcap openssl curl python3 ip; do
    command -v "$t" >/dev/null || { echo "skip: $t missing"; exit 77; }
done
T=$(mktemp -d)
NS=vgthr$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
in_ns ip link set lo up
mkdir -p "$T/www"
echo "hello" >"$T/www/index.html"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
# `ip netns exec` execs the program: $! is the program itself.
ip netns exec "$NS" dumpcap -q -i lo -w "$T/real.pcapng" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$T/real.pcapng" ] && break; sleep 0.1; done
ip netns exec "$NS" python3 -m http.server 8080 --bind 127.0.0.1 --directory "$T/www" >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$NS" openssl s_server -quiet -accept 8443 -cert "$T/cert.pem" -key "$T/key.pem" -www \
    >/dev/null 2>&1 &
PIDS+=($!)
# Both servers listening before the first request (on a loaded host Python
# takes seconds to start; a fixed sleep let curl meet a closed port).
listening() { in_ns ss -ltn | grep ":$1 " >/dev/null; }
for _ in $(seq 1 300); do listening 8080 && listening 8443 && break; sleep 0.05; done
listening 8080 && listening 8443 || { echo "FAIL: the servers did not start"; exit 1; }

c() { in_ns curl -s -o /dev/null --max-time 5 "$@" || true; }
c "http://127.0.0.1:8080/"
c "http://127.0.0.1:8080/?q=O%27Brien+and+sons&page=2&sort=price-desc"
c "http://127.0.0.1:8080/search?q=select+union+join&lang=en-US,en;q=0.9"
c "http://127.0.0.1:8080/missing.html"
c -X POST -d "user=anna&comment=it's 1=1 ok; update pending" "http://127.0.0.1:8080/form"
c -X POST -H "Content-Type: application/json" -d '{"name":"a;b","select":1,"or":"1=1"}' \
    "http://127.0.0.1:8080/api"
c -k --tlsv1.3 "https://127.0.0.1:8443/"
c -k --tlsv1.2 --tls-max 1.2 "https://127.0.0.1:8443/"
sleep 1
kill -INT "${PIDS[0]}" 2>/dev/null || true
wait "${PIDS[0]}" 2>/dev/null || true

set +e
"$SCAN" pcap --json "$T/real.pcapng" >"$T/out" 2>"$T/err"
rc=$?
set -e
grep '"type":"threat"' "$T/out" >&2 && fail "false alarms on real traffic"
[ "$rc" -eq 0 ] || fail "exit status $rc: $(cat "$T/err")"
n_http=$(grep -c '"application":"http"' "$T/out" || true)
n_tls=$(grep -c '"application":"tls"' "$T/out" || true)
[ "$n_http" -ge 6 ] || fail "only $n_http HTTP flows seen: $(cat "$T/out")"
[ "$n_tls" -ge 2 ] || fail "only $n_tls TLS flows seen: $(cat "$T/out")"
grep -q '"tls.version":"tls1.3"' "$T/out" || fail "no TLS 1.3 flow"
echo "threats on real traffic: none in $n_http HTTP and $n_tls TLS flows"
