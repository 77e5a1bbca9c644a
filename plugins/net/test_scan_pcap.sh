#!/usr/bin/env bash
# vigil-scan pcap as a user runs it, on captures of the shared corpus (read
# by path): one JSON object per flow with the format the docs give, pcapng
# as well as pcap, the summary on stderr, exit status 2 for a file that
# cannot be read. Needs jq and editcap (tshark's package).
set -euo pipefail
SCAN=$1
CORPUS=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SCAN" pcap --json "$CORPUS/http/get.pcap" >"$T/out" 2>"$T/err"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "one flow expected"
jq -e '.type == "flow" and .l4 == "tcp" and .application == "http"
       and .client == "141.142.228.5:59856" and .server == "192.150.187.43:80"
       and .client_packets == 7 and .server_packets == 7
       and .fields["http.host"] == "bro.org" and .fields["http.method"] == "GET"
       and (.first | test("^2013-03-07T21:42:0[0-9]\\.[0-9]{6}Z$"))' "$T/out" >/dev/null \
    || fail "http/get.pcap: $(cat "$T/out")"
grep -q '^vigil-scan pcap: 1 file(s), 14 packets, 1 flows (1 identified, 0 unknown)' "$T/err" \
    || fail "summary: $(cat "$T/err")"

# IPv6 over DLT_NULL, written [addr]:port
"$SCAN" pcap --json "$CORPUS/redis/pipelining-example.pcap" 2>/dev/null |
    jq -e 'select(.client == "[::1]:51122" and .server == "[::1]:6379" and .application == "redis")' \
    >/dev/null || fail "IPv6 endpoints"

# a repeated field is an array
"$SCAN" pcap --json "$CORPUS/dns/dns-corrupt.pcap" 2>/dev/null |
    jq -e '.application == "dns" and .fields["dns.answer"] == ["192.0.78.212", "192.0.78.150"]' \
    >/dev/null || fail "dns.answer array"

# pcapng, two files at once: each its own source, flows flushed at its end
editcap -F pcapng "$CORPUS/ssh/ssh-on-port-80.pcap" "$T/ssh.pcapng"
"$SCAN" pcap --json "$T/ssh.pcapng" "$CORPUS/tls/tls1_1.pcap" >"$T/out" 2>/dev/null
[ "$(jq -r .application "$T/out" | sort | tr '\n' ' ')" = "ssh tls " ] || fail "pcapng + pcap: $(cat "$T/out")"
jq -e 'select(.application == "tls") | .fields["tls.version"] == "tls1.1"' "$T/out" >/dev/null \
    || fail "tls1.1"

# text output names the application; --quiet only the summary
"$SCAN" pcap "$CORPUS/postgresql/mysql-on-port-5432.pcap" 2>/dev/null | grep -q ':5432 mysql ' \
    || fail "text output"
[ -z "$("$SCAN" pcap --quiet "$CORPUS/http/get.pcap" 2>/dev/null)" ] || fail "--quiet"

# a file that cannot be read: exit 2, a message, the others still reported
set +e
"$SCAN" pcap --json "$T/missing.pcap" "$CORPUS/http/get.pcap" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "exit status $rc for a missing file"
grep -q "missing.pcap" "$T/err" || fail "no message for the missing file"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "the readable file not reported"
echo "vigil-scan pcap: ok"
